//! The postlista: the public register of handlingar for a period.
//!
//! OSL 5 kap 2 § lets the sender or recipient and the description be kept out of the public
//! register. Masking happens here, when a row is built, so a protected value never reaches a
//! serializer, a page or a file: what is not in the row cannot leak from it.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::diarium::SeriesBook;
use super::{Kansli, ServiceError};
use crate::domain::case_number::document_number;
use crate::domain::document::{Direction, MASK};

/// The longest period one postlista request may cover.
pub const MAX_DAYS: i64 = 366;

/// One public row of the postlista.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PostlistaRow {
    /// The handling's number, `KS 2021/841:3`.
    pub diarienummer: String,
    /// Received or drawn up on.
    pub datum: NaiveDate,
    /// Inkommande, upprättad or utgående.
    pub riktning: String,
    /// The ärende's public title.
    pub arende: String,
    /// Sender or recipient, or the mask.
    pub avsandare_mottagare: String,
    /// The description, or the mask.
    pub beskrivning: String,
    /// The provision of a sekretessmarkering, if any.
    pub sekretessmarkering: Option<String>,
}

impl Kansli {
    /// The postlista for the days `from` to `to`, both included.
    pub async fn postlista(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<PostlistaRow>, ServiceError> {
        if from > to {
            return Err(ServiceError::Invalid(format!(
                "--from {from} is after --to {to}"
            )));
        }
        if (to - from).num_days() >= MAX_DAYS {
            return Err(ServiceError::Invalid(format!(
                "the period {from}..{to} is longer than {MAX_DAYS} days; ask for a shorter one"
            )));
        }
        let book = SeriesBook::load(self).await?;
        let documents = self.store.documents_dated(from, to).await?;
        let mut case_ids: Vec<i32> = documents.iter().map(|d| d.case_id).collect();
        case_ids.sort_unstable();
        case_ids.dedup();
        let cases: HashMap<i32, _> = self
            .store
            .cases_by_ids(&case_ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let mut rows = Vec::with_capacity(documents.len());
        for doc in documents {
            let case = cases
                .get(&doc.case_id)
                .ok_or_else(|| anyhow::anyhow!("handling {} has no ärende", doc.id))?;
            let direction: Direction = doc
                .direction
                .parse()
                .map_err(|e| anyhow::anyhow!("stored handling {}: {e}", doc.id))?;
            let secret = doc.secrecy_provision.is_some();
            rows.push(PostlistaRow {
                diarienummer: document_number(&book.render(case)?, doc.seq as u32),
                datum: doc.date,
                riktning: direction.label().to_owned(),
                arende: case.public_title.clone(),
                avsandare_mottagare: match doc.counterpart {
                    Some(_) if doc.counterpart_protected => MASK.to_owned(),
                    Some(who) => who,
                    None => String::new(),
                },
                beskrivning: if doc.description_protected || secret {
                    MASK.to_owned()
                } else {
                    doc.description
                },
                sekretessmarkering: doc.secrecy_provision,
            });
        }
        Ok(rows)
    }
}

/// Writes rows as CSV for a spreadsheet: semicolon-separated with a byte-order mark, as Swedish
/// Excel expects, and with cells that a spreadsheet would run as a formula neutralised.
pub fn postlista_csv(rows: &[PostlistaRow]) -> Result<Vec<u8>, ServiceError> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(&mut out);
        writer
            .write_record([
                "Diarienummer",
                "Datum",
                "Riktning",
                "Ärende",
                "Avsändare/mottagare",
                "Beskrivning",
                "Sekretessmarkering",
            ])
            .map_err(anyhow::Error::from)?;
        for row in rows {
            writer
                .write_record([
                    spreadsheet_safe(&row.diarienummer),
                    row.datum.to_string(),
                    row.riktning.clone(),
                    spreadsheet_safe(&row.arende),
                    spreadsheet_safe(&row.avsandare_mottagare),
                    spreadsheet_safe(&row.beskrivning),
                    spreadsheet_safe(row.sekretessmarkering.as_deref().unwrap_or("")),
                ])
                .map_err(anyhow::Error::from)?;
        }
        writer.flush().map_err(anyhow::Error::from)?;
    }
    Ok(out)
}

/// Prefixes a cell that starts like a formula (`=`, `+`, `-`, `@`, tab, carriage return) with
/// an apostrophe, so a spreadsheet shows it as text instead of running it.
pub fn spreadsheet_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_others_left_alone() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("-1+1"), "'-1+1");
        assert_eq!(spreadsheet_safe("Kommunstyrelsen"), "Kommunstyrelsen");
    }
}
