//! How results are printed: readable Swedish for people, JSON for scripts.

use clap::ValueEnum;
use serde::Serialize;

use crate::domain::calendar::format_local;
use crate::domain::case_status::CaseStatus;
use crate::service::{CaseList, CaseView, HistoryEntry};
use crate::store::OrgSnapshot;

/// Output format of a command.
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum Format {
    /// For people.
    #[default]
    Text,
    /// For scripts.
    Json,
}

fn json<T: Serialize>(value: &T) {
    // Serializing our own plain structs cannot fail.
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("serializable")
    );
}

pub(super) fn case(case: &CaseView, format: Format) {
    if let Format::Json = format {
        return json(case);
    }
    println!("{}  {}", case.number, case.title);
    if case.public_title != case.title {
        println!("  Offentlig titel: {}", case.public_title);
    }
    let status = if case.status == CaseStatus::Open {
        "pågående"
    } else {
        "avslutat"
    };
    println!("  Status:          {status}");
    if let Some(class) = &case.classification {
        println!("  Klassificering:  {class}");
    }
    if let Some(h) = &case.handlaggare {
        println!("  Handläggare:     {} <{}>", h.name, h.email);
    }
    if let Some(previous) = &case.previous {
        println!("  Tidigare ärende: {previous}");
    }
    println!(
        "  Öppnat:          {} av {}",
        format_local(case.opened_at),
        case.opened_by
    );
    if let (Some(at), Some(by)) = (case.closed_at, &case.closed_by) {
        println!("  Avslutat:        {} av {by}", format_local(at));
    }
    if case.documents.is_empty() {
        println!("  Inga handlingar.");
        return;
    }
    println!("  Handlingar:");
    for d in &case.documents {
        let mut flags = Vec::new();
        if d.counterpart_protected {
            flags.push("skyddad avsändare/mottagare");
        }
        if d.description_protected {
            flags.push("skyddad beskrivning");
        }
        let secrecy = d
            .secrecy
            .as_ref()
            .map(|s| {
                format!(
                    " [sekretessmarkerad: {}, {}, {}]",
                    s.provision, s.date, s.authority
                )
            })
            .unwrap_or_default();
        println!(
            "    {:<18} {} {:<10} {}{}{}",
            d.number,
            d.date,
            d.direction.label(),
            d.description,
            d.counterpart
                .as_ref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default(),
            secrecy
        );
        if !flags.is_empty() {
            println!("    {:<18} ({})", "", flags.join(", "));
        }
        if let Some(file) = &d.file {
            println!("    {:<18} fil: {} ({})", "", file.name, file.media_type);
        }
    }
}

/// An ärende's decisions with their justering and appeal dates (its bevakning).
pub(super) fn decisions(decisions: &[crate::service::DecisionView]) {
    if decisions.is_empty() {
        return;
    }
    println!("  Beslut:");
    for d in decisions {
        let proposal = d
            .proposal_to
            .as_ref()
            .map(|to| format!(" (förslag till {to})"))
            .unwrap_or_default();
        println!(
            "    {:<18} {} {}{proposal}: {}",
            d.label,
            d.meeting_date,
            d.organ,
            d.dates_in_swedish()
        );
    }
}

pub(super) fn case_list(list: &CaseList, format: Format) {
    if let Format::Json = format {
        return json(list);
    }
    if list.cases.is_empty() {
        println!("Inga ärenden.");
        return;
    }
    for case in &list.cases {
        let status = if case.status == CaseStatus::Open {
            "pågående"
        } else {
            "avslutat"
        };
        println!(
            "{:<18} {:<9} {}  {}",
            case.number,
            status,
            format_local(case.opened_at).get(..10).unwrap_or_default(),
            case.title
        );
    }
}

pub(super) fn history(entries: &[HistoryEntry], format: Format) {
    if let Format::Json = format {
        return json(&entries);
    }
    for e in entries {
        println!(
            "{}  {:<22} {}{}",
            format_local(e.at),
            e.action,
            e.actor,
            e.detail
                .as_ref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        );
    }
}

pub(super) fn org(org: &OrgSnapshot, format: Format) {
    #[derive(Serialize)]
    struct Person<'a> {
        key: &'a str,
        name: &'a str,
        title: &'a str,
        email: &'a str,
        roles: Vec<(String, String)>,
    }
    let unit_code = |id: i32| {
        org.units
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.code.clone())
            .unwrap_or_default()
    };
    let people: Vec<Person<'_>> = org
        .people
        .iter()
        .map(|p| Person {
            key: &p.key,
            name: &p.name,
            title: &p.title,
            email: &p.email,
            roles: org
                .roles
                .iter()
                .filter(|r| r.person_id == p.id)
                .map(|r| (r.role.clone(), unit_code(r.unit_id)))
                .collect(),
        })
        .collect();
    if let Format::Json = format {
        #[derive(Serialize)]
        struct Org<'a> {
            municipality: Option<&'a str>,
            organs: Vec<(&'a str, &'a str)>,
            units: Vec<(&'a str, &'a str)>,
            people: &'a [Person<'a>],
            series: Vec<(&'a str, &'a str)>,
        }
        return json(&Org {
            municipality: org.municipality.as_ref().map(|m| m.name.as_str()),
            organs: org
                .organs
                .iter()
                .map(|o| (o.code.as_str(), o.name.as_str()))
                .collect(),
            units: org
                .units
                .iter()
                .map(|u| (u.code.as_str(), u.name.as_str()))
                .collect(),
            people: &people,
            series: org
                .series
                .iter()
                .map(|s| (s.prefix.as_str(), s.format.as_str()))
                .collect(),
        });
    }
    match &org.municipality {
        Some(m) => println!("{} <{}>", m.name, m.sender_email),
        None => println!("Ingen organisation importerad (kansli org import --demo)."),
    }
    println!("\nOrgan:");
    for o in &org.organs {
        let to = o
            .proposes_to_code
            .as_deref()
            .map(|t| format!(" -> {t}"))
            .unwrap_or_default();
        println!("  {:<6} {}{to}", o.code, o.name);
    }
    println!("\nEnheter:");
    for u in &org.units {
        println!("  {:<6} {}", u.code, u.name);
    }
    println!("\nPersoner:");
    for p in &people {
        let roles: Vec<String> = p.roles.iter().map(|(r, u)| format!("{r} {u}")).collect();
        println!(
            "  {:<18} {} ({}), {}",
            p.key,
            p.name,
            p.title,
            roles.join(", ")
        );
    }
    println!("\nDiarieserier:");
    for s in &org.series {
        println!("  {:<6} {:<34} {}", s.prefix, s.name, s.format);
    }
}
