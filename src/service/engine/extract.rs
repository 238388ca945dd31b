//! The protokollsutdrag: one paragraph of a protocol as it concerns one ärende, modelled on
//! the municipalities' own (`KSAG § 1/23`, the title, the ärende number, "Behandlat av | Datum
//! | Ärende" with every organ that has dealt with the ärende, Beslut, Bakgrund, Handlingar,
//! Skickas till, and the utdragsbestyrkande with the protocol's justering and anslag).
//!
//! The extract is drawn from the meetings' own rows, so it always says what the protocol says;
//! the workflow registers it when the protocol is justerat, and `kansli extract` prints it.

use chrono::Datelike;
use serde_json::{Map, Value};

use super::{DocumentFormat, Engine};
use crate::domain::document::Direction;
use crate::render::{DocumentContext, Treatment};
use crate::service::ServiceError;
use crate::service::meetings::lines_of;
use crate::store::{OrgSnapshot, ParagraphRow, Tx};

/// The document template of a protokollsutdrag.
pub(crate) const EXTRACT: &str = "protokollsutdrag";

/// Which paragraph an extract is of: `KS § 12/26`, `KS §12/26` or `KS 12/26`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParagraphRef {
    organ: String,
    number: i32,
    year: i32,
}

impl std::str::FromStr for ParagraphRef {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not a paragraph; write it as KS § 12/26");
        let cleaned = text.replace('§', " ");
        let mut words = cleaned.split_whitespace();
        let (Some(organ), Some(numbered), None) = (words.next(), words.next(), words.next()) else {
            return Err(bad());
        };
        let (number, year) = numbered.split_once('/').ok_or_else(bad)?;
        let number: i32 = number.parse().map_err(|_| bad())?;
        let year: i32 = year.parse().map_err(|_| bad())?;
        // Two digits are this century's, as on every protocol.
        let year = if year < 100 { 2000 + year } else { year };
        Ok(Self {
            organ: organ.to_uppercase(),
            number,
            year,
        })
    }
}

impl From<&ParagraphRow> for ParagraphRef {
    fn from(p: &ParagraphRow) -> Self {
        Self {
            organ: p.organ_code.clone(),
            number: p.number,
            year: p.year,
        }
    }
}

impl ParagraphRef {
    fn is(&self, p: &ParagraphRow) -> bool {
        p.organ_code == self.organ && p.number == self.number && p.year == self.year
    }
}

/// The paragraph's number as written in the "Ärende" column: `12/26`.
fn short_label(p: &ParagraphRow) -> String {
    format!("{}/{:02}", p.number, p.year.rem_euclid(100))
}

/// A free text as paragraphs: split at blank lines, each paragraph's lines joined.
pub(super) fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

/// A variable that lists entries separated by semicolons (`skickas_till`).
pub(super) fn listed(vars: &Map<String, Value>, name: &str) -> Vec<String> {
    vars.get(name)
        .and_then(Value::as_str)
        .map(|s| {
            s.split(';')
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

impl Engine {
    /// The protokollsutdrag of a paragraph on an ärende as HTML, drawn from the protocol as it
    /// stands; nothing is written.
    pub async fn extract(
        &self,
        case_number: &str,
        paragraph: &ParagraphRef,
    ) -> Result<String, ServiceError> {
        let html = self
            .extract_as(case_number, paragraph, DocumentFormat::Html)
            .await?;
        Ok(String::from_utf8(html).map_err(anyhow::Error::from)?)
    }

    /// The protokollsutdrag in `format`: PDF/A-2b to send or file, or HTML. An ärende that
    /// runs no workflow (a nämnd's own) has its extract drawn from the protocol alone.
    pub async fn extract_as(
        &self,
        case_number: &str,
        paragraph: &ParagraphRef,
        format: DocumentFormat,
    ) -> Result<Vec<u8>, ServiceError> {
        let case = self.case(case_number).await?;
        let store = &self.kansli.store;
        if store
            .instances_of_case(case.id)
            .await?
            .iter()
            .any(|i| i.parent_id.is_none())
        {
            return self
                .document_now(case_number, EXTRACT, Some(paragraph), format)
                .await;
        }
        let org = store.org_snapshot().await?;
        let now = self.now();
        let tx = store.begin().await?;
        let context = self
            .extract_context(&tx, &org, &case, paragraph, None, now)
            .await;
        tx.rollback().await?;
        self.render_on_request(EXTRACT, &context?, format, now)
    }

    /// The protokollsutdrag of `which` on an ärende whose extract no workflow draws up, read
    /// through `tx`, with the justering `protocol` (one being recorded) or the stored one.
    pub(crate) async fn extract_context(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        case: &crate::store::CaseRow,
        which: &ParagraphRef,
        protocol: Option<&crate::store::ProtocolRow>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<DocumentContext, ServiceError> {
        let book = crate::service::diarium::SeriesBook::from_rows(org.series.clone())?;
        let mut context = DocumentContext {
            municipality: crate::service::mail::municipality_of(org).name,
            case_number: book.render(case)?,
            case_title: case.public_title.clone(),
            date: crate::domain::calendar::local_date(now).to_string(),
            description: format!("Protokollsutdrag, {}", case.public_title),
            ..Default::default()
        };
        self.paragraph_context(tx, org, case.id, &Map::new(), Some(which), &mut context)
            .await?;
        if let Some(protocol) = protocol {
            crate::service::meetings::justering_into(protocol, &mut context);
        }
        Ok(context)
    }

    /// Fills in the paragraph an extract is of (`which`, or the ärende's latest decision) and
    /// every organ's treatment of the ärende before it, with the protocol's justering.
    pub(super) async fn paragraph_context(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        case_id: i32,
        vars: &Map<String, Value>,
        which: Option<&ParagraphRef>,
        context: &mut DocumentContext,
    ) -> Result<(), ServiceError> {
        let all = tx.paragraphs_of_case(case_id).await?;
        let chosen = match which {
            Some(r) => match all.iter().position(|(p, _)| r.is(p)) {
                Some(found) => Some(found),
                None => {
                    return Err(ServiceError::NotFound(format!(
                        "the ärende has no paragraph {} § {}/{:02}",
                        r.organ,
                        r.number,
                        r.year.rem_euclid(100)
                    )));
                }
            },
            // The latest decision; failing one, the latest proposal.
            None => all
                .iter()
                .rposition(|(p, _)| p.proposal_to.is_none())
                .or_else(|| all.len().checked_sub(1)),
        };
        let Some(chosen) = chosen else {
            return Ok(());
        };
        let organ_name = |code: &str| {
            org.organs
                .iter()
                .find(|o| o.code == code)
                .map_or_else(|| code.to_owned(), |o| o.name.clone())
        };
        context.behandlat_av = all[..=chosen]
            .iter()
            .enumerate()
            .map(|(i, (p, m))| Treatment {
                row: i + 1,
                organ: organ_name(&p.organ_code),
                date: m.date.to_string(),
                paragraph: short_label(p),
            })
            .collect();
        let (paragraph, meeting) = &all[chosen];
        // The handlingar the decision rested on: those registered before it was recorded.
        context.beslutsunderlag = tx
            .documents_of(case_id)
            .await?
            .into_iter()
            .filter(|d| d.direction != Direction::Outgoing.code())
            .filter(|d| d.registered_at <= paragraph.recorded_at)
            .map(|d| format!("{}, {}", d.description, d.date))
            .collect();
        context.paragraph = super::super::meetings::paragraph_label(paragraph);
        context.organ_name = organ_name(&paragraph.organ_code);
        context.meeting_date = meeting.date.to_string();
        context.year = match vars.get("year").and_then(Value::as_i64) {
            Some(y) => y.to_string(),
            None => meeting.date.year().to_string(),
        };
        context.beslut = lines_of(&paragraph.decision);
        context.beslut_lead = crate::service::meetings::beslut_lead(org, paragraph);
        context.secretary = meeting.secretary.clone().unwrap_or_default();
        let recipients = lines_of(&paragraph.recipients);
        if !recipients.is_empty() {
            context.skickas_till = recipients;
        }
        if let Some(protocol) = tx.protocol_of(meeting.id).await? {
            crate::service::meetings::justering_into(&protocol, context);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_are_read_as_written_on_protocols() {
        let want = ParagraphRef {
            organ: "KSAG".into(),
            number: 1,
            year: 2023,
        };
        for text in ["KSAG § 1/23", "ksag §1/23", "KSAG 1/2023"] {
            assert_eq!(text.parse::<ParagraphRef>(), Ok(want.clone()), "{text}");
        }
        for text in [
            "KSAG",
            "KSAG § 1",
            "§ 1/23",
            "KSAG § x/23",
            "KSAG § 1/23 extra",
        ] {
            let err = text.parse::<ParagraphRef>().unwrap_err();
            assert!(err.contains("KS § 12/26"), "{text}: {err}");
        }
    }

    #[test]
    fn free_text_splits_into_paragraphs_at_blank_lines() {
        let text = "Första stycket\nfortsätter här.\n\n\nAndra stycket.\n";
        assert_eq!(
            paragraphs(text),
            vec!["Första stycket fortsätter här.", "Andra stycket."]
        );
        assert!(paragraphs("  \n\n ").is_empty());
    }
}
