//! `kansli org import`: the organisation from a TOML file, validated whole before anything is
//! written, then upserted in one transaction so that importing the same file twice changes
//! nothing and a file with one bad row imports nothing.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{Kansli, ServiceError};
use crate::domain::audit::Action;
use crate::domain::calendar::parse_date;
use crate::domain::case_number::{SeriesFormat, is_class_char};
use crate::domain::email::EmailAddress;
use crate::domain::organisation::{OrganKind, Role, UnitKind};
use crate::domain::protocol::Seat;
use crate::store::{MunicipalityRow, OrganMemberRow, OrganRow, PersonRow, SeriesRow, UnitRow};

/// The fictional demo municipality, as shipped in `config/demo-organisation.toml`.
pub const DEMO_ORGANISATION: &str = include_str!("../../config/demo-organisation.toml");

/// What an import wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    /// Organs in the file.
    pub organs: usize,
    /// Units in the file.
    pub units: usize,
    /// People in the file.
    pub people: usize,
    /// Role assignments in the file.
    pub roles: usize,
    /// Diarieserier in the file.
    pub series: usize,
    /// Organ members (ledamöter and ersättare, per term) in the file.
    pub members: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrganisation {
    municipality: Option<Spanned<RawMunicipality>>,
    #[serde(default)]
    organs: Vec<Spanned<RawOrgan>>,
    #[serde(default)]
    units: Vec<Spanned<RawUnit>>,
    #[serde(default)]
    people: Vec<Spanned<RawPerson>>,
    #[serde(default)]
    series: Vec<Spanned<RawSeries>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMunicipality {
    name: String,
    sender_email: String,
    phone: Option<String>,
    website: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrgan {
    code: String,
    name: String,
    kind: String,
    parent: Option<String>,
    proposes_to: Option<String>,
    unit: Option<String>,
    /// The ledamöter and ersättare; when given, the organ's members become exactly these.
    members: Option<Vec<RawMember>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMember {
    name: String,
    party: String,
    seat: String,
    from: String,
    to: String,
    email: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnit {
    code: String,
    name: String,
    kind: String,
    organ: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerson {
    key: String,
    name: String,
    title: String,
    email: String,
    #[serde(default)]
    roles: Vec<RawRole>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    role: String,
    unit: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeries {
    prefix: String,
    name: String,
    #[serde(default = "standard_format")]
    format: String,
    default_classification: Option<String>,
    organ: Option<String>,
}

fn standard_format() -> String {
    SeriesFormat::standard().template().to_owned()
}

/// A validated organisation, ready to write.
struct Plan {
    municipality: Option<MunicipalityRow>,
    organs: Vec<OrganRow>,
    members: Vec<(String, Vec<OrganMemberRow>)>,
    units: Vec<UnitRow>,
    people: Vec<(PersonRow, Vec<(Role, String)>)>,
    series: Vec<SeriesRow>,
}

/// Collects problems with their line, so that every one is reported at once.
struct Problems<'a> {
    file: &'a str,
    text: &'a str,
    list: Vec<String>,
}

impl Problems<'_> {
    fn at(&mut self, offset: usize, message: impl std::fmt::Display) {
        let line = self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1;
        self.list.push(format!("{}:{line}: {message}", self.file));
    }
}

impl Kansli {
    /// Imports an organisation file. Every problem is reported with its line, and nothing is
    /// written unless the whole file is valid.
    pub async fn import_organisation_file(
        &self,
        path: &Path,
    ) -> Result<ImportSummary, ServiceError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ServiceError::Invalid(format!("cannot read {}: {e}", path.display())))?;
        self.import_organisation(&path.display().to_string(), &text)
            .await
    }

    /// Imports an organisation from TOML text; `file` names it in messages.
    pub async fn import_organisation(
        &self,
        file: &str,
        text: &str,
    ) -> Result<ImportSummary, ServiceError> {
        self.import_organisation_by(file, text, "system").await
    }

    /// Like [`Kansli::import_organisation`], recorded in the audit trail as done by `actor`.
    pub(crate) async fn import_organisation_by(
        &self,
        file: &str,
        text: &str,
        actor: &str,
    ) -> Result<ImportSummary, ServiceError> {
        let plan = self.plan(file, text).await?;
        let summary = ImportSummary {
            organs: plan.organs.len(),
            units: plan.units.len(),
            people: plan.people.len(),
            roles: plan.people.iter().map(|(_, r)| r.len()).sum(),
            series: plan.series.len(),
            members: plan.members.iter().map(|(_, m)| m.len()).sum(),
        };
        let existing = self.store.org_snapshot().await?;
        let tx = self.store.begin().await?;
        if let Some(m) = &plan.municipality {
            tx.upsert_municipality(m).await?;
        }
        for organ in &plan.organs {
            tx.upsert_organ(organ).await?;
        }
        for (organ, members) in &plan.members {
            tx.set_members(organ, members).await?;
        }
        let mut unit_ids: HashMap<String, i32> = existing
            .units
            .iter()
            .map(|u| (u.code.clone(), u.id))
            .collect();
        for unit in &plan.units {
            unit_ids.insert(unit.code.clone(), tx.upsert_unit(unit).await?);
        }
        for (person, roles) in &plan.people {
            let id = tx.upsert_person(person).await?;
            let roles: Vec<(String, i32)> = roles
                .iter()
                .map(|(role, unit)| (role.code().to_owned(), unit_ids[unit]))
                .collect();
            tx.set_roles(id, &roles).await?;
        }
        for series in &plan.series {
            tx.upsert_series(series).await?;
        }
        tx.append_audit(
            None,
            actor,
            Action::OrganisationImported,
            Some(format!(
                "{file}: {} organ, {} ledamöter och ersättare, {} enheter, {} personer, {} serier",
                summary.organs, summary.members, summary.units, summary.people, summary.series
            )),
            self.clock.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }

    async fn plan(&self, file: &str, text: &str) -> Result<Plan, ServiceError> {
        let raw: RawOrganisation = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(1);
            ServiceError::Invalid(format!("{file}:{line}: {}", e.message()))
        })?;
        let existing = self.store.org_snapshot().await?;
        let mut problems = Problems {
            file,
            text,
            list: Vec::new(),
        };

        let organ_codes: HashSet<String> = existing
            .organs
            .iter()
            .map(|o| o.code.clone())
            .chain(
                raw.organs
                    .iter()
                    .map(|o| o.get_ref().code.trim().to_owned()),
            )
            .collect();
        let unit_codes: HashSet<String> = existing
            .units
            .iter()
            .map(|u| u.code.clone())
            .chain(raw.units.iter().map(|u| u.get_ref().code.trim().to_owned()))
            .collect();

        let municipality = raw.municipality.map(|m| {
            let at = m.span().start;
            let m = m.into_inner();
            if m.name.trim().is_empty() {
                problems.at(at, "municipality: name must not be empty");
            }
            let email = EmailAddress::parse(&m.sender_email)
                .map_err(|e| problems.at(at, format!("municipality: sender_email: {e}")))
                .ok();
            // The website stands as a link in every email's footer: only a web address may.
            let website = m
                .website
                .map(|w| w.trim().to_owned())
                .filter(|w| !w.is_empty());
            if let Some(w) = &website
                && !is_web_address(w)
            {
                problems.at(
                    at,
                    format!(
                        "municipality: website {w:?} must be a web address starting with https:// \
                         (or http://), with no spaces or quotes"
                    ),
                );
            }
            MunicipalityRow {
                id: 1,
                name: m.name.trim().to_owned(),
                sender_email: email.map(|e| e.to_string()).unwrap_or_default(),
                phone: m.phone,
                website,
            }
        });

        let mut seen = HashSet::new();
        let mut organs = Vec::new();
        let mut members = Vec::new();
        for organ in raw.organs {
            let at = organ.span().start;
            let o = organ.into_inner();
            let code = o.code.trim().to_owned();
            let what = format!("organ {code:?}");
            check_code(&mut problems, at, &what, &code);
            if !seen.insert(code.clone()) {
                problems.at(at, format!("{what} appears twice"));
            }
            let kind = o
                .kind
                .parse::<OrganKind>()
                .map_err(|e| problems.at(at, format!("{what}: {e}")))
                .ok();
            for (field, target) in [("parent", &o.parent), ("proposes_to", &o.proposes_to)] {
                if let Some(t) = target
                    && !organ_codes.contains(t.trim())
                {
                    problems.at(at, format!("{what}: {field} {t:?} is not an organ"));
                }
            }
            if let Some(u) = &o.unit
                && !unit_codes.contains(u.trim())
            {
                problems.at(at, format!("{what}: unit {u:?} is not a unit"));
            }
            if o.name.trim().is_empty() {
                problems.at(at, format!("{what}: name must not be empty"));
            }
            if let Some(listed) = o.members {
                members.push((code.clone(), members_of(&mut problems, at, &code, listed)));
            }
            organs.push(OrganRow {
                id: 0,
                code,
                name: o.name.trim().to_owned(),
                kind: kind.map(|k| k.code().to_owned()).unwrap_or_default(),
                parent_code: o.parent.map(|s| s.trim().to_owned()),
                proposes_to_code: o.proposes_to.map(|s| s.trim().to_owned()),
                unit_code: o.unit.map(|s| s.trim().to_owned()),
            });
        }

        let mut seen = HashSet::new();
        let mut units = Vec::new();
        for unit in raw.units {
            let at = unit.span().start;
            let u = unit.into_inner();
            let code = u.code.trim().to_owned();
            let what = format!("unit {code:?}");
            check_code(&mut problems, at, &what, &code);
            if !seen.insert(code.clone()) {
                problems.at(at, format!("{what} appears twice"));
            }
            let kind = u
                .kind
                .parse::<UnitKind>()
                .map_err(|e| problems.at(at, format!("{what}: {e}")))
                .ok();
            if let Some(o) = &u.organ
                && !organ_codes.contains(o.trim())
            {
                problems.at(at, format!("{what}: organ {o:?} is not an organ"));
            }
            let email = match &u.email {
                Some(e) => EmailAddress::parse(e)
                    .map_err(|e| problems.at(at, format!("{what}: email: {e}")))
                    .ok()
                    .map(|e| e.to_string()),
                None => None,
            };
            if u.name.trim().is_empty() {
                problems.at(at, format!("{what}: name must not be empty"));
            }
            units.push(UnitRow {
                id: 0,
                code,
                name: u.name.trim().to_owned(),
                kind: kind.map(|k| k.code().to_owned()).unwrap_or_default(),
                organ_code: u.organ.map(|s| s.trim().to_owned()),
                email,
            });
        }

        let mut seen = HashSet::new();
        let mut people = Vec::new();
        for person in raw.people {
            let at = person.span().start;
            let p = person.into_inner();
            let key = p.key.trim().to_owned();
            let what = format!("person {key:?}");
            if key.is_empty() || key.chars().any(char::is_whitespace) {
                problems.at(at, format!("{what}: key must be one word without spaces"));
            }
            if !seen.insert(key.clone()) {
                problems.at(at, format!("{what} appears twice"));
            }
            for (field, value) in [("name", &p.name), ("title", &p.title)] {
                if value.trim().is_empty() {
                    problems.at(at, format!("{what}: {field} must not be empty"));
                }
            }
            let email = EmailAddress::parse(&p.email)
                .map_err(|e| problems.at(at, format!("{what}: email: {e}")))
                .ok();
            let mut roles = Vec::new();
            for r in p.roles {
                match r.role.parse::<Role>() {
                    Ok(role) if unit_codes.contains(r.unit.trim()) => {
                        roles.push((role, r.unit.trim().to_owned()))
                    }
                    Ok(_) => problems.at(at, format!("{what}: unit {:?} is not a unit", r.unit)),
                    Err(e) => problems.at(at, format!("{what}: {e}")),
                }
            }
            people.push((
                PersonRow {
                    id: 0,
                    key,
                    name: p.name.trim().to_owned(),
                    title: p.title.trim().to_owned(),
                    email: email.map(|e| e.to_string()).unwrap_or_default(),
                },
                roles,
            ));
        }

        let mut seen = HashSet::new();
        let mut series = Vec::new();
        for s in raw.series {
            let at = s.span().start;
            let s = s.into_inner();
            let prefix = s.prefix.trim().to_owned();
            let what = format!("series {prefix:?}");
            check_code(&mut problems, at, &what, &prefix);
            if !seen.insert(prefix.to_uppercase()) {
                problems.at(at, format!("{what} appears twice"));
            }
            if let Err(e) = SeriesFormat::parse(s.format.trim()) {
                problems.at(at, format!("{what}: format: {e}"));
            }
            if let Some(code) = &s.default_classification
                && (code.trim().is_empty() || !code.trim().chars().all(is_class_char))
            {
                problems.at(
                        at,
                        format!("{what}: default_classification {code:?} may hold only letters, digits, '.' and '-'"),
                    );
            }
            if let Some(o) = &s.organ
                && !organ_codes.contains(o.trim())
            {
                problems.at(at, format!("{what}: organ {o:?} is not an organ"));
            }
            series.push(SeriesRow {
                id: 0,
                prefix,
                name: s.name.trim().to_owned(),
                format: s.format.trim().to_owned(),
                default_classification: s.default_classification.map(|c| c.trim().to_owned()),
                organ_code: s.organ.map(|o| o.trim().to_owned()),
            });
        }

        // Names end up in mail headers and documents: a line break or other control character
        // in one would break them, so it is refused here, where it can be fixed.
        let texts = municipality
            .iter()
            .map(|m| ("municipality", m.name.as_str(), 0))
            .chain(organs.iter().map(|o| ("organ", o.name.as_str(), 0)))
            .chain(members.iter().flat_map(|(_, m)| m.iter()).flat_map(|m| {
                [
                    ("member", m.name.as_str(), 0),
                    ("member", m.party.as_str(), 0),
                ]
            }))
            .chain(units.iter().map(|u| ("unit", u.name.as_str(), 0)))
            .chain(people.iter().flat_map(|(p, _)| {
                [
                    ("person", p.name.as_str(), 0),
                    ("person", p.title.as_str(), 0),
                ]
            }))
            .chain(series.iter().map(|s| ("series", s.name.as_str(), 0)));
        let bad: Vec<String> = texts
            .filter(|(_, text, _)| text.chars().any(char::is_control))
            .map(|(what, text, _)| format!("{file}: {what} name {text:?} contains a line break or another control character"))
            .collect();
        problems.list.extend(bad);
        if !problems.list.is_empty() {
            return Err(ServiceError::Invalid(format!(
                "nothing was imported; fix these and import again:\n{}",
                problems.list.join("\n")
            )));
        }
        Ok(Plan {
            municipality,
            organs,
            members,
            units,
            people,
            series,
        })
    }
}

/// An organ's ledamöter and ersättare, checked: a known seat, a term whose first day is not
/// after its last, a name and a party, no one listed twice for overlapping terms.
fn members_of(
    problems: &mut Problems<'_>,
    at: usize,
    organ: &str,
    listed: Vec<RawMember>,
) -> Vec<OrganMemberRow> {
    let mut rows: Vec<OrganMemberRow> = Vec::new();
    for (i, m) in listed.into_iter().enumerate() {
        let name = m.name.trim().to_owned();
        let what = format!("organ {organ:?}: member {name:?}");
        if name.is_empty() {
            problems.at(
                at,
                format!("organ {organ:?}: member {}: name must not be empty", i + 1),
            );
        }
        if m.party.trim().is_empty() {
            problems.at(at, format!("{what}: party must not be empty"));
        }
        let seat = m
            .seat
            .parse::<Seat>()
            .map_err(|e| problems.at(at, format!("{what}: {e}")))
            .ok();
        let from = parse_date("from", &m.from)
            .map_err(|e| problems.at(at, format!("{what}: {e}")))
            .ok();
        let to = parse_date("to", &m.to)
            .map_err(|e| problems.at(at, format!("{what}: {e}")))
            .ok();
        let email = match &m.email {
            Some(e) => EmailAddress::parse(e)
                .map_err(|e| problems.at(at, format!("{what}: email: {e}")))
                .ok()
                .map(|e| e.to_string()),
            None => None,
        };
        let (Some(seat), Some(from), Some(to)) = (seat, from, to) else {
            continue;
        };
        if from > to {
            problems.at(
                at,
                format!("{what}: the term's first day {from} is after its last {to}"),
            );
            continue;
        }
        if rows
            .iter()
            .any(|r| r.name == name && r.term_from <= to && from <= r.term_to)
        {
            problems.at(at, format!("{what} is listed twice for the same time"));
            continue;
        }
        rows.push(OrganMemberRow {
            id: 0,
            organ_code: organ.to_owned(),
            name,
            party: m.party.trim().to_owned(),
            seat: seat.code().to_owned(),
            ordinal: i as i32 + 1,
            term_from: from,
            term_to: to,
            email,
        });
    }
    rows
}

/// Codes (organs, units, series prefixes) are one word of letters and digits, as they appear
/// in numbers and protocols.
/// Whether `text` is an `https:` or `http:` address with a host, and nothing a link or a
/// header could be broken out of with (spaces, quotes, angle brackets, control characters).
fn is_web_address(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && text
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\'))
}

fn check_code(problems: &mut Problems<'_>, at: usize, what: &str, code: &str) {
    if code.is_empty() || !code.chars().all(|c| c.is_alphanumeric() || c == '-') {
        problems.at(
            at,
            format!("{what}: the code must be one word of letters and digits"),
        );
    }
}
