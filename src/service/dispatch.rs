//! Expediering: "Beslutet skickas till" read as the people and mailboxes of the organisation.
//!
//! Protocols name recipients the way people speak of them: a title ("HR-chef",
//! "Kommundirektör"), a group ("Sektorchefer", "Samtliga nämnder"), a unit or an organ
//! ("Kommunledningsförvaltningen, HR-avdelningen"), now and then a person or an address. Each
//! entry is looked up in that order; every address gets one message however many entries lead
//! to it, and an entry that leads nowhere is reported, never dropped in silence.

use crate::domain::organisation::{OrganKind, Role, UnitKind};
use crate::mail::Address;
use crate::store::OrgSnapshot;

/// Who an entry of "skickas till" reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressee {
    /// The entry as written on the decision.
    pub entry: String,
    /// The person or mailbox.
    pub address: Address,
}

/// The addressees of a decision's "skickas till", and the entries nobody answers to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// One per address, in the order the entries were written.
    pub addressees: Vec<Addressee>,
    /// Entries that name nobody in the organisation.
    pub unresolved: Vec<String>,
}

/// Reads each entry of "skickas till" against the organisation.
pub fn resolve(org: &OrgSnapshot, entries: &[String]) -> Resolution {
    let mut out = Resolution::default();
    for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
        let found = addresses_of(org, entry);
        if found.is_empty() {
            out.unresolved.push(entry.to_owned());
        }
        for address in found {
            let known = out
                .addressees
                .iter()
                .any(|a| a.address.email.eq_ignore_ascii_case(&address.email));
            if !known {
                out.addressees.push(Addressee {
                    entry: entry.to_owned(),
                    address,
                });
            }
        }
    }
    out
}

fn addresses_of(org: &OrgSnapshot, entry: &str) -> Vec<Address> {
    let lower = entry.to_lowercase();
    let same = |a: &str| a.trim().to_lowercase() == lower;
    if entry.contains('@') && !entry.contains(char::is_whitespace) {
        return vec![Address {
            name: String::new(),
            email: entry.to_owned(),
        }];
    }
    // The groups.
    if matches!(
        lower.as_str(),
        "samtliga nämnder" | "alla nämnder" | "nämnderna"
    ) {
        return org
            .organs
            .iter()
            .filter(|o| o.kind == OrganKind::Namnd.code())
            .filter_map(|o| organ_mailbox(org, &o.name, o.unit_code.as_deref()))
            .collect();
    }
    if matches!(
        lower.as_str(),
        "samtliga förvaltningar" | "alla förvaltningar" | "förvaltningarna"
    ) {
        return org
            .units
            .iter()
            .filter(|u| u.kind == UnitKind::Forvaltning.code())
            .filter_map(|u| unit_mailbox(org, &u.code))
            .collect();
    }
    if matches!(
        lower.as_str(),
        "förvaltningschefer"
            | "sektorchefer"
            | "samtliga förvaltningschefer"
            | "samtliga sektorchefer"
    ) {
        return holders_of(org, Role::Forvaltningschef);
    }
    // A person, by key or name.
    if let Some(p) = org.people.iter().find(|p| same(&p.key) || same(&p.name)) {
        return vec![Address {
            name: p.name.clone(),
            email: p.email.clone(),
        }];
    }
    // Everyone with the title.
    let titled: Vec<Address> = org
        .people
        .iter()
        .filter(|p| same(&p.title))
        .map(|p| Address {
            name: p.name.clone(),
            email: p.email.clone(),
        })
        .collect();
    if !titled.is_empty() {
        return titled;
    }
    // An organ or a unit, by name or code; "Förvaltningen, Avdelningen" is the avdelning.
    for part in std::iter::once(entry).chain(entry.rsplit(',').next().map(str::trim)) {
        let part = part.to_lowercase();
        let is = |a: &str| a.trim().to_lowercase() == part;
        if let Some(o) = org.organs.iter().find(|o| is(&o.name) || is(&o.code))
            && let Some(a) = organ_mailbox(org, &o.name, o.unit_code.as_deref())
        {
            return vec![a];
        }
        if let Some(u) = org.units.iter().find(|u| is(&u.name) || is(&u.code))
            && let Some(a) = unit_mailbox(org, &u.code)
        {
            return vec![a];
        }
    }
    Vec::new()
}

/// An organ is reached through the registratur of the unit that serves it.
fn organ_mailbox(org: &OrgSnapshot, name: &str, unit: Option<&str>) -> Option<Address> {
    let mailbox = unit_mailbox(org, unit?)?;
    Some(Address {
        name: name.to_owned(),
        email: mailbox.email,
    })
}

fn unit_mailbox(org: &OrgSnapshot, code: &str) -> Option<Address> {
    let unit = org.units.iter().find(|u| u.code == code)?;
    let email = unit.email.clone().filter(|e| !e.is_empty())?;
    Some(Address {
        name: unit.name.clone(),
        email,
    })
}

fn holders_of(org: &OrgSnapshot, role: Role) -> Vec<Address> {
    let mut out: Vec<Address> = Vec::new();
    for r in org.roles.iter().filter(|r| r.role == role.code()) {
        if let Some(p) = org.people.iter().find(|p| p.id == r.person_id)
            && !out.iter().any(|a| a.email == p.email)
        {
            out.push(Address {
                name: p.name.clone(),
                email: p.email.clone(),
            });
        }
    }
    out
}
