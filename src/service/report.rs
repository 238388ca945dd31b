//! The compiled report (sammanställning) of an ärende's answers, question by question across
//! the förvaltningar, and the exports handläggare work in: CSV and an XLSX workbook with one
//! sheet per section.
//!
//! Counts about people (a question marked `counts_people`) are not shown below a minimum group
//! size: "färre än 5" instead of a 2 that could point out who.

use std::collections::BTreeMap;

use serde::Serialize;

use super::postlista::spreadsheet_safe;
use super::{Engine, ServiceError};
use crate::questionnaire::{Answer, Answers, Kind, Question, Questionnaire};
use crate::render::{DocumentAnswer, DocumentSection};
use crate::store::{InstanceRow, OrgSnapshot, ResponseRow, Tx};

/// A questionnaire as document sections, each question with the text `answer` gives it (one
/// förvaltning's answer, or the compiled report's summary).
pub(crate) fn document_sections(
    questionnaire: &Questionnaire,
    answer: impl Fn(&Question) -> String,
) -> Vec<DocumentSection> {
    questionnaire
        .sections
        .iter()
        .map(|s| DocumentSection {
            id: s.id.clone(),
            title: s.title.clone(),
            answers: s
                .questions
                .iter()
                .map(|q| DocumentAnswer {
                    id: q.id.clone(),
                    question: q.text.clone(),
                    answer: answer(q),
                })
                .collect(),
        })
        .collect()
}

/// One förvaltning's answer, as the report reads it.
#[derive(Debug, Clone, Serialize)]
pub struct UnitAnswer {
    /// Unit code.
    pub code: String,
    /// Unit name.
    pub name: String,
    /// The state of its answer.
    pub state: String,
    /// Its answers (empty when it has not answered).
    pub answers: Answers,
}

/// Every förvaltning's answer to one ärende's questionnaire.
#[derive(Debug, Clone, Serialize)]
pub struct Compilation {
    /// The ärende.
    pub case_number: String,
    /// The questionnaire.
    pub questionnaire: Questionnaire,
    /// The förvaltningar, by code.
    pub units: Vec<UnitAnswer>,
    /// Counts about people below this are not shown.
    pub min_group: i64,
}

impl Engine {
    /// The answers of every förvaltning in an ärende (submitted or approved ones count).
    pub async fn compilation(&self, case_number: &str) -> Result<Compilation, ServiceError> {
        let book = super::diarium::SeriesBook::load(self.kansli()).await?;
        let case = self.kansli().case_row(&book, case_number).await?;
        self.compile(case.id, case_number).await
    }

    pub(crate) async fn compile(
        &self,
        case_id: i32,
        case_number: &str,
    ) -> Result<Compilation, ServiceError> {
        let store = self.kansli().store();
        let org = store.org_snapshot().await?;
        let mut parts = Vec::new();
        for instance in store.instances_of_case(case_id).await? {
            let response = store.response_of(instance.id).await?;
            parts.push((instance, response));
        }
        self.assemble(case_number, &org, parts)
    }

    /// Like `compile`, reading through an open transaction: a step that draws up the report
    /// must not wait for a second connection while it holds one.
    pub(crate) async fn compile_in(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        case_id: i32,
        case_number: &str,
    ) -> Result<Compilation, ServiceError> {
        let mut parts = Vec::new();
        for instance in tx.instances_of_case(case_id).await? {
            let response = tx.response_of(instance.id).await?;
            parts.push((instance, response));
        }
        self.assemble(case_number, org, parts)
    }

    fn assemble(
        &self,
        case_number: &str,
        org: &OrgSnapshot,
        parts: Vec<(InstanceRow, Option<ResponseRow>)>,
    ) -> Result<Compilation, ServiceError> {
        let mut questionnaire = None;
        let mut units = Vec::new();
        for (instance, response) in parts {
            let Some(code) = instance.unit_code.clone() else {
                continue;
            };
            let answers: Answers = match &response {
                // Only answers that were handed in count; a draft is the chef's own.
                Some(r) if r.submitted_at.is_some() => {
                    serde_json::from_str(&r.answers).map_err(anyhow::Error::from)?
                }
                _ => Answers::new(),
            };
            if questionnaire.is_none() {
                questionnaire = self.questionnaire_of(&instance, response.as_ref());
            }
            units.push(UnitAnswer {
                name: org
                    .units
                    .iter()
                    .find(|u| u.code == code)
                    .map(|u| u.name.clone())
                    .unwrap_or_default(),
                code,
                state: instance.state,
                answers,
            });
        }
        units.sort_by(|a, b| a.code.cmp(&b.code));
        let questionnaire = questionnaire.ok_or_else(|| {
            ServiceError::NotFound(format!("no questionnaire for ärende {case_number}"))
        })?;
        Ok(Compilation {
            case_number: case_number.to_owned(),
            questionnaire,
            units,
            min_group: self.min_group,
        })
    }
}

impl Engine {
    /// The questionnaire an instance answers: the version its answer was given in, or, before
    /// any answer, the version its workflow's declaration gives for the instance's year.
    fn questionnaire_of(
        &self,
        instance: &InstanceRow,
        response: Option<&ResponseRow>,
    ) -> Option<Questionnaire> {
        let questionnaires = self.catalog().questionnaires();
        if let Some(r) = response {
            return questionnaires
                .for_year(&r.questionnaire_id, r.version)
                .cloned();
        }
        let workflow = &self.catalog().get(&instance.workflow_id)?.workflow;
        let flow = workflow.questionnaire.as_ref()?;
        let vars: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&instance.variables).ok()?;
        let year = vars.get("year")?.as_i64()?;
        questionnaires.for_year(&flow.id, year as i32).cloned()
    }
}

impl Compilation {
    /// The förvaltningar that have answered.
    pub fn answered(&self) -> impl Iterator<Item = &UnitAnswer> {
        self.units.iter().filter(|u| !u.answers.is_empty())
    }

    /// The förvaltningar that did not hand in an answer, by name.
    pub fn not_answered(&self) -> Vec<String> {
        self.units
            .iter()
            .filter(|u| u.answers.is_empty())
            .map(|u| u.name.clone())
            .collect()
    }

    /// The response rate as the report states it: "6 av 7 förvaltningar har svarat (86 %)".
    pub fn response_rate(&self) -> String {
        let all = self.units.len();
        let answered = self.answered().count();
        let percent = match all {
            0 => 0,
            _ => (answered * 100 + all / 2) / all,
        };
        format!("{answered} av {all} förvaltningar har svarat ({percent} %)")
    }

    fn count(&self, n: i64, about_people: bool) -> String {
        if about_people && n > 0 && n < self.min_group {
            format!("färre än {}", self.min_group)
        } else {
            n.to_string()
        }
    }

    /// The summary of one question across the förvaltningar, as lines.
    pub fn summary(&self, q: &Question) -> Vec<String> {
        let answered: Vec<(&UnitAnswer, &Answer)> = self
            .answered()
            .filter_map(|u| u.answers.get(&q.id).map(|a| (u, a)))
            .collect();
        if answered.is_empty() {
            return vec!["Inga svar.".into()];
        }
        let mut lines = Vec::new();
        match &q.kind {
            Kind::Jnd => {
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                for (_, a) in &answered {
                    if let Answer::Jnd { value: Some(v), .. } = a {
                        *counts.entry(v.as_str()).or_default() += 1;
                    }
                }
                lines.push(
                    ["ja", "nej", "delvis"]
                        .iter()
                        .map(|k| format!("{k}: {}", counts.get(k).copied().unwrap_or(0)))
                        .collect::<Vec<_>>()
                        .join(", "),
                );
                for (u, a) in &answered {
                    if let Answer::Jnd { comment, .. } = a
                        && !comment.is_empty()
                    {
                        lines.push(format!("{}: {comment}", u.name));
                    }
                }
            }
            Kind::Integer { .. } => {
                let total: i64 = answered
                    .iter()
                    .filter_map(|(_, a)| {
                        if let Answer::Integer { value } = a {
                            Some(*value)
                        } else {
                            None
                        }
                    })
                    .sum();
                lines.push(format!("Summa: {}", self.count(total, q.counts_people)));
                for (u, a) in &answered {
                    if let Answer::Integer { value } = a {
                        lines.push(format!(
                            "{}: {}",
                            u.name,
                            self.count(*value, q.counts_people)
                        ));
                    }
                }
            }
            Kind::Group { fields } => {
                for f in fields {
                    let values: Vec<(&str, i64)> = answered
                        .iter()
                        .filter_map(|(u, a)| match a {
                            Answer::Group { values } => values
                                .get(&f.id)
                                .and_then(|v| v.replace(' ', "").parse().ok())
                                .map(|n| (u.name.as_str(), n)),
                            _ => None,
                        })
                        .collect();
                    let total: i64 = values.iter().map(|(_, n)| n).sum();
                    lines.push(format!(
                        "{}: summa {}",
                        f.label,
                        self.count(total, q.counts_people)
                    ));
                }
            }
            Kind::Choice { options } | Kind::MultiChoice { options } => {
                for o in options {
                    let n = answered
                        .iter()
                        .filter(
                            |(_, a)| matches!(a, Answer::Choices { values } if values.contains(o)),
                        )
                        .count();
                    lines.push(format!("{o}: {n}"));
                }
            }
            Kind::Text { .. } | Kind::Date => {
                for (u, a) in &answered {
                    lines.push(format!("{}: {}", u.name, a.display()));
                }
            }
            Kind::Table { columns, .. } => {
                for (u, a) in &answered {
                    if let Answer::Table { rows } = a {
                        for row in rows {
                            let cells: Vec<String> = columns
                                .iter()
                                .filter_map(|c| row.get(&c.id).cloned())
                                .collect();
                            lines.push(format!("{}: {}", u.name, cells.join(" · ")));
                        }
                    }
                }
            }
        }
        lines
    }

    /// The report as document sections.
    pub fn sections(&self) -> Vec<DocumentSection> {
        document_sections(&self.questionnaire, |q| self.summary(q).join("\n"))
    }

    /// The export columns a question takes: the answer, and for ja/nej/delvis its comment, or
    /// one per part of a group.
    fn headers(q: &Question) -> Vec<String> {
        match &q.kind {
            Kind::Jnd => vec![q.id.clone(), format!("{} kommentar", q.id)],
            Kind::Group { fields } => fields
                .iter()
                .map(|f| format!("{} {}", q.id, f.label))
                .collect(),
            _ => vec![q.id.clone()],
        }
    }

    /// The cells of a question's columns for one answer (empty cells when unanswered).
    fn cells(q: &Question, answer: Option<&Answer>) -> Vec<String> {
        match (&q.kind, answer) {
            (Kind::Jnd, Some(Answer::Jnd { value, comment })) => {
                vec![value.clone().unwrap_or_default(), comment.clone()]
            }
            (Kind::Group { fields }, Some(Answer::Group { values })) => fields
                .iter()
                .map(|f| values.get(&f.id).cloned().unwrap_or_default())
                .collect(),
            (_, Some(a)) if !matches!(q.kind, Kind::Jnd | Kind::Group { .. }) => vec![a.display()],
            _ => vec![String::new(); Self::headers(q).len()],
        }
    }

    /// All answers as CSV, one row per förvaltning: semicolons and a byte-order mark for
    /// Swedish Excel, cells that a spreadsheet would run as a formula neutralised.
    pub fn csv(&self) -> Result<Vec<u8>, ServiceError> {
        let mut out = "\u{feff}".as_bytes().to_vec();
        {
            let mut w = csv::WriterBuilder::new()
                .delimiter(b';')
                .from_writer(&mut out);
            let mut header = vec!["Förvaltning".to_owned(), "Läge".to_owned()];
            header.extend(self.questionnaire.questions().flat_map(Self::headers));
            w.write_record(&header).map_err(anyhow::Error::from)?;
            for u in &self.units {
                let mut row = vec![spreadsheet_safe(&u.name), u.state.clone()];
                for q in self.questionnaire.questions() {
                    row.extend(
                        Self::cells(q, u.answers.get(&q.id))
                            .iter()
                            .map(|c| spreadsheet_safe(c)),
                    );
                }
                w.write_record(&row).map_err(anyhow::Error::from)?;
            }
            w.flush().map_err(anyhow::Error::from)?;
        }
        Ok(out)
    }

    /// All answers as an XLSX workbook, one sheet per section.
    pub fn xlsx(&self) -> Result<Vec<u8>, ServiceError> {
        use rust_xlsxwriter::{Format, Workbook};
        let bold = Format::new().set_bold();
        let mut workbook = Workbook::new();
        let xlsx =
            |e: rust_xlsxwriter::XlsxError| ServiceError::Unexpected(anyhow::anyhow!("XLSX: {e}"));
        for section in &self.questionnaire.sections {
            let sheet = workbook.add_worksheet();
            // Sheet names may hold 31 characters and none of []:*?/\.
            let name: String = format!("{} {}", section.id, section.title)
                .chars()
                .filter(|c| !"[]:*?/\\".contains(*c))
                .take(31)
                .collect();
            sheet.set_name(name.trim()).map_err(xlsx)?;
            let headers: Vec<String> = section.questions.iter().flat_map(Self::headers).collect();
            sheet
                .write_string_with_format(0, 0, "Förvaltning", &bold)
                .map_err(xlsx)?;
            for (i, name) in headers.iter().enumerate() {
                sheet
                    .write_string_with_format(0, (i + 1) as u16, name, &bold)
                    .map_err(xlsx)?;
            }
            for (r, u) in self.units.iter().enumerate() {
                let row = (r + 1) as u32;
                sheet.write_string(row, 0, &u.name).map_err(xlsx)?;
                let mut col = 1u16;
                for q in &section.questions {
                    let answer = u.answers.get(&q.id);
                    let numeric =
                        matches!(answer, Some(Answer::Integer { .. } | Answer::Group { .. }));
                    for text in Self::cells(q, answer) {
                        match text.parse::<f64>() {
                            Ok(n) if numeric => sheet.write_number(row, col, n).map_err(xlsx)?,
                            // Written as text, never as a formula, whatever it starts with.
                            _ => sheet.write_string(row, col, &text).map_err(xlsx)?,
                        };
                        col += 1;
                    }
                }
            }
            sheet.set_column_width(0, 38).map_err(xlsx)?;
        }
        workbook.save_to_buffer().map_err(xlsx)
    }
}
