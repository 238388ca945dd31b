//! Questionnaires as data: sections and questions read from `workflows/enkater/*.yaml`, one file
//! per questionnaire and year (the law changes, and every answer keeps the version it was given
//! in), and the checking of an answer against its questionnaire.
//!
//! Answers arrive as form fields (name → values) and are checked into typed [`Answer`]s. Type
//! errors are refused on every save; missing required answers only when the answer is submitted,
//! so a half-written draft is never lost.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::workflow::Problem;

/// The seven grounds of discrimination (diskrimineringslagen 1 kap 4 §).
pub const GROUNDS: [&str; 7] = [
    "kön",
    "könsöverskridande identitet eller uttryck",
    "etnisk tillhörighet",
    "religion eller annan trosuppfattning",
    "funktionsnedsättning",
    "sexuell läggning",
    "ålder",
];

/// The five areas of aktiva åtgärder (diskrimineringslagen 3 kap 5 §).
pub const AREAS: [&str; 5] = [
    "arbetsförhållanden",
    "löner och andra anställningsvillkor",
    "rekrytering och befordran",
    "utbildning och övrig kompetensutveckling",
    "möjligheter att förena förvärvsarbete och föräldraskap",
];

/// What a section of the questionnaire follows up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    /// One of the five areas of 3 kap 5 §, 1 to 5.
    Law(u8),
    /// The särskilda uppgifter: guidelines and routines against harassment (3 kap 6 §).
    Sarskild,
    /// Samverkan with the employees' organisations (3 kap 11 §).
    Samverkan,
    /// Follow-up of last year's measures and planning of the coming year's.
    Uppfoljning,
    /// Facts about the answer itself.
    Process,
}

/// A questionnaire, validated.
#[derive(Debug, Clone, Serialize)]
pub struct Questionnaire {
    /// Its id, shared by its versions.
    pub id: String,
    /// The year it is for.
    pub version: i32,
    /// Shown at the top.
    pub title: String,
    /// Shown under the title.
    pub intro: String,
    /// The sections, in order.
    pub sections: Vec<Section>,
}

/// A section.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Its id (A, B, ...).
    pub id: String,
    /// Its heading.
    pub title: String,
    /// What it follows up.
    pub area: Area,
    /// Its questions.
    pub questions: Vec<Question>,
}

/// A question.
#[derive(Debug, Clone, Serialize)]
pub struct Question {
    /// Its id (B1), unique in the questionnaire; also the form field's name.
    pub id: String,
    /// The question.
    pub text: String,
    /// Guidance shown under it.
    pub help: Option<String>,
    /// Must be answered before the answer can be submitted.
    pub required: bool,
    /// Its answer counts people, so small numbers are suppressed in the compiled report.
    pub counts_people: bool,
    /// What kind of answer it takes.
    pub kind: Kind,
}

/// The kind of answer a question takes.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Kind {
    /// Ja, nej or delvis, with a comment.
    Jnd,
    /// Free text up to a length.
    Text {
        /// Characters at most.
        max_length: usize,
    },
    /// A whole number.
    Integer {
        /// Smallest allowed.
        min: Option<i64>,
        /// Largest allowed.
        max: Option<i64>,
    },
    /// A day.
    Date,
    /// One of the options.
    Choice {
        /// The options.
        options: Vec<String>,
    },
    /// Any of the options.
    MultiChoice {
        /// The options.
        options: Vec<String>,
    },
    /// A few named parts, each of a simple kind.
    Group {
        /// The parts.
        fields: Vec<Column>,
    },
    /// Rows of named columns, e.g. planned measures.
    Table {
        /// The columns.
        columns: Vec<Column>,
        /// Last year's answer to this question fills the table in advance.
        prefill_from: Option<String>,
    },
}

/// A part of a group or a column of a table.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    /// Its id, part of the form field's name.
    pub id: String,
    /// Its label.
    pub label: String,
    /// `text`, `integer`, `date` or `choice`.
    pub kind: ColumnKind,
}

/// The kind of a part or column.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ColumnKind {
    /// Text (at most 500 characters).
    Text,
    /// A whole number, 0 or more.
    Integer,
    /// A day.
    Date,
    /// One of the options.
    Choice {
        /// The options.
        options: Vec<String>,
    },
}

/// One answer, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Answer {
    /// Ja, nej or delvis, with a comment.
    Jnd {
        /// `ja`, `nej` or `delvis`.
        value: Option<String>,
        /// The comment.
        comment: String,
    },
    /// Text.
    Text {
        /// The text.
        value: String,
    },
    /// A number.
    Integer {
        /// The number.
        value: i64,
    },
    /// A day.
    Date {
        /// The day.
        value: NaiveDate,
    },
    /// The chosen options.
    Choices {
        /// The options, in the questionnaire's order.
        values: Vec<String>,
    },
    /// Named parts.
    Group {
        /// Part id → value as written.
        values: BTreeMap<String, String>,
    },
    /// Rows.
    Table {
        /// Each row: column id → value as written.
        rows: Vec<BTreeMap<String, String>>,
    },
}

impl Answer {
    /// The answer as text people read: in the review, the sign-off page and the registered
    /// document.
    pub fn display(&self) -> String {
        match self {
            Answer::Jnd { value, comment } => match (value, comment.is_empty()) {
                (Some(v), true) => v.clone(),
                (Some(v), false) => format!("{v}. {comment}"),
                (None, _) => comment.clone(),
            },
            Answer::Text { value } => value.clone(),
            Answer::Integer { value } => value.to_string(),
            Answer::Date { value } => value.to_string(),
            Answer::Choices { values } => values.join(", "),
            Answer::Group { values } => values
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", "),
            Answer::Table { rows } => rows
                .iter()
                .map(|r| r.values().cloned().collect::<Vec<_>>().join(" · "))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

/// Checked answers, by question id.
pub type Answers = BTreeMap<String, Answer>;

/// A problem with one field of a posted answer: what the error summary lists and links to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The form field's name (and the id of its input, for the link).
    pub field: String,
    /// The question.
    pub question: String,
    /// What is wrong, in Swedish.
    pub message: String,
}

/// The longest answer a free-text question takes unless it says otherwise.
pub const DEFAULT_MAX_LENGTH: usize = 4000;
/// The longest value of a table cell or group part.
pub const CELL_MAX_LENGTH: usize = 500;
/// The most rows a table takes.
pub const MAX_ROWS: usize = 50;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestionnaire {
    id: String,
    version: i32,
    title: String,
    #[serde(default)]
    intro: String,
    sections: Vec<Spanned<RawSection>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    id: String,
    title: String,
    area: String,
    questions: Vec<Spanned<RawQuestion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: String,
    text: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    help: Option<String>,
    #[serde(default)]
    counts_people: bool,
    #[serde(default)]
    max_length: Option<usize>,
    #[serde(default)]
    min: Option<i64>,
    #[serde(default)]
    max: Option<i64>,
    #[serde(default)]
    options: Option<Vec<String>>,
    #[serde(default)]
    options_from: Option<String>,
    #[serde(default)]
    fields: Option<Vec<RawColumn>>,
    #[serde(default)]
    columns: Option<Vec<RawColumn>>,
    #[serde(default)]
    prefill_from: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    id: String,
    label: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    options: Option<Vec<String>>,
    #[serde(default)]
    options_from: Option<String>,
}

fn options(given: &Option<Vec<String>>, from: &Option<String>) -> Result<Vec<String>, String> {
    match (given, from.as_deref()) {
        (Some(list), None) if !list.is_empty() => Ok(list.clone()),
        (None, Some("grounds")) => Ok(GROUNDS.iter().map(|s| (*s).to_owned()).collect()),
        (None, Some("areas")) => Ok(AREAS.iter().map(|s| (*s).to_owned()).collect()),
        (None, Some(other)) => Err(format!(
            "options_from {other:?} is neither grounds nor areas"
        )),
        _ => Err("give the options, or options_from: grounds|areas".into()),
    }
}

fn column(raw: &RawColumn) -> Result<Column, String> {
    let kind = match raw.kind.as_str() {
        "text" => ColumnKind::Text,
        "integer" => ColumnKind::Integer,
        "date" => ColumnKind::Date,
        "choice" => ColumnKind::Choice {
            options: options(&raw.options, &raw.options_from)?,
        },
        other => {
            return Err(format!(
                "column {}: unknown type {other:?}; use text, integer, date or choice",
                raw.id
            ));
        }
    };
    Ok(Column {
        id: raw.id.clone(),
        label: raw.label.clone(),
        kind,
    })
}

/// Parses and validates one questionnaire file; `path` names it in problems.
pub fn parse(path: &Path, source: &str) -> Result<Questionnaire, Vec<Problem>> {
    let problem = |line: u64, column: u64, message: String| Problem {
        file: path.to_owned(),
        line,
        column,
        message,
    };
    let raw: RawQuestionnaire = serde_saphyr::from_str(source).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        let message = e.to_string().lines().next().unwrap_or_default().to_owned();
        vec![problem(line, column, message)]
    })?;
    let mut problems = Vec::new();
    let mut ids = HashSet::new();
    let mut sections = Vec::new();
    for s in &raw.sections {
        let at = |m: String| problem(s.referenced.line(), s.referenced.column(), m);
        let area = match s.value.area.as_str() {
            n @ ("1" | "2" | "3" | "4" | "5") => Area::Law(n.parse().unwrap_or(1)),
            "särskild" | "sarskild" => Area::Sarskild,
            "samverkan" => Area::Samverkan,
            "uppföljning" | "uppfoljning" => Area::Uppfoljning,
            "process" => Area::Process,
            other => {
                problems.push(at(format!("section {}: unknown area {other:?}; use 1-5, särskild, samverkan, uppföljning or process", s.value.id)));
                Area::Process
            }
        };
        let mut questions = Vec::new();
        for q in &s.value.questions {
            let at = |m: String| problem(q.referenced.line(), q.referenced.column(), m);
            let r = &q.value;
            if !ids.insert(r.id.clone()) {
                problems.push(at(format!("question id {} is used twice", r.id)));
            }
            if r.id.is_empty() || !r.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                problems.push(at(format!(
                    "question id {:?} must be letters and digits (it names form fields)",
                    r.id
                )));
            }
            let kind = match r.kind.as_str() {
                "jnd" => Ok(Kind::Jnd),
                "text" => Ok(Kind::Text {
                    max_length: r.max_length.unwrap_or(DEFAULT_MAX_LENGTH),
                }),
                "integer" => Ok(Kind::Integer {
                    min: r.min,
                    max: r.max,
                }),
                "date" => Ok(Kind::Date),
                "choice" => {
                    options(&r.options, &r.options_from).map(|options| Kind::Choice { options })
                }
                "multi_choice" => options(&r.options, &r.options_from)
                    .map(|options| Kind::MultiChoice { options }),
                "group" => match &r.fields {
                    Some(fields) if !fields.is_empty() => fields
                        .iter()
                        .map(column)
                        .collect::<Result<Vec<_>, _>>()
                        .map(|fields| Kind::Group { fields }),
                    _ => Err("a group needs its fields".into()),
                },
                "table" => match &r.columns {
                    Some(columns) if !columns.is_empty() => columns
                        .iter()
                        .map(column)
                        .collect::<Result<Vec<_>, _>>()
                        .map(|columns| Kind::Table {
                            columns,
                            prefill_from: r.prefill_from.clone(),
                        }),
                    _ => Err("a table needs its columns".into()),
                },
                other => Err(format!(
                    "unknown type {other:?}; use jnd, text, integer, date, choice, multi_choice, group or table"
                )),
            };
            match kind {
                Ok(kind) => questions.push(Question {
                    id: r.id.clone(),
                    text: r.text.clone(),
                    help: r.help.clone(),
                    required: r.required,
                    counts_people: r.counts_people,
                    kind,
                }),
                Err(m) => problems.push(at(format!("question {}: {m}", r.id))),
            }
        }
        sections.push(Section {
            id: s.value.id.clone(),
            title: s.value.title.clone(),
            area,
            questions,
        });
    }
    // A table filled from last year's answer takes it from a table of the same columns.
    for q in sections.iter().flat_map(|s| &s.questions) {
        if let Kind::Table {
            prefill_from: Some(from),
            ..
        } = &q.kind
        {
            let source = sections
                .iter()
                .flat_map(|s| &s.questions)
                .find(|x| x.id == *from);
            if !matches!(source.map(|s| &s.kind), Some(Kind::Table { .. })) {
                problems.push(problem(
                    0,
                    0,
                    format!(
                        "question {}: prefill_from {from} is not a table of this questionnaire",
                        q.id
                    ),
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(Questionnaire {
            id: raw.id,
            version: raw.version,
            title: raw.title,
            intro: raw.intro,
            sections,
        })
    } else {
        Err(problems)
    }
}

/// Every questionnaire in a folder, by id and version.
#[derive(Debug, Clone, Default)]
pub struct Questionnaires {
    by_key: BTreeMap<(String, i32), Questionnaire>,
}

impl Questionnaires {
    /// Loads every `*.yaml` in `dir`; a missing folder holds none.
    pub fn load(dir: &Path) -> Result<Self, Vec<Problem>> {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(r) => r
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
                .collect(),
            Err(_) => return Ok(Self::default()),
        };
        files.sort();
        let mut problems = Vec::new();
        let mut by_key = BTreeMap::new();
        for path in files {
            let source = std::fs::read_to_string(&path).map_err(|e| {
                vec![Problem {
                    file: path.clone(),
                    line: 0,
                    column: 0,
                    message: e.to_string(),
                }]
            })?;
            match parse(&path, &source) {
                Ok(q) => {
                    by_key.insert((q.id.clone(), q.version), q);
                }
                Err(mut p) => problems.append(&mut p),
            }
        }
        if problems.is_empty() {
            Ok(Self { by_key })
        } else {
            Err(problems)
        }
    }

    /// How many questionnaire versions there are.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Whether some version of questionnaire `id` exists.
    pub fn contains(&self, id: &str) -> bool {
        self.by_key.keys().any(|(k, _)| k == id)
    }

    /// The version for `year`: the newest one not newer than the year.
    pub fn for_year(&self, id: &str, year: i32) -> Option<&Questionnaire> {
        self.by_key
            .range((id.to_owned(), i32::MIN)..=(id.to_owned(), year))
            .next_back()
            .map(|(_, q)| q)
    }
}

/// Posted form fields: name → values (a multi-choice posts one value per chosen option).
pub type Fields = BTreeMap<String, Vec<String>>;

impl Questionnaire {
    /// Every question, in order.
    pub fn questions(&self) -> impl Iterator<Item = &Question> {
        self.sections.iter().flat_map(|s| &s.questions)
    }

    /// Checks posted fields into answers. `submitting` also requires the required answers.
    /// Returns the answers that could be read, and every problem; the caller keeps the answers
    /// as the draft even when there are problems, so nothing typed is lost.
    pub fn check(&self, fields: &Fields, submitting: bool) -> (Answers, Vec<FieldError>) {
        let mut answers = Answers::new();
        let mut errors = Vec::new();
        let one = |name: &str| {
            fields
                .get(name)
                .and_then(|v| v.first())
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        for q in self.questions() {
            let mut error = |field: String, message: String| {
                errors.push(FieldError {
                    field,
                    question: q.id.clone(),
                    message,
                })
            };
            let missing = |field: &str| format!("{field}: svara på frågan \"{}\"", q.text);
            match &q.kind {
                Kind::Jnd => {
                    let value = one(&q.id);
                    let comment = one(&format!("{}.kommentar", q.id));
                    if !value.is_empty() && !["ja", "nej", "delvis"].contains(&value.as_str()) {
                        error(q.id.clone(), format!("{}: välj ja, nej eller delvis", q.id));
                    } else if value.is_empty() && submitting && q.required {
                        error(q.id.clone(), missing(&q.id));
                    }
                    if comment.chars().count() > DEFAULT_MAX_LENGTH {
                        error(
                            format!("{}.kommentar", q.id),
                            format!(
                                "{}: kommentaren får vara högst {DEFAULT_MAX_LENGTH} tecken",
                                q.id
                            ),
                        );
                    }
                    if !value.is_empty() || !comment.is_empty() {
                        let value = (!value.is_empty()).then_some(value);
                        answers.insert(q.id.clone(), Answer::Jnd { value, comment });
                    }
                }
                Kind::Text { max_length } => {
                    let value = one(&q.id);
                    let length = value.chars().count();
                    if length > *max_length {
                        error(
                            q.id.clone(),
                            format!(
                                "{}: svaret är {length} tecken; högst {max_length} får plats",
                                q.id
                            ),
                        );
                    } else if value.is_empty() && submitting && q.required {
                        error(q.id.clone(), missing(&q.id));
                    }
                    if !value.is_empty() {
                        answers.insert(q.id.clone(), Answer::Text { value });
                    }
                }
                Kind::Integer { min, max } => {
                    let text = one(&q.id);
                    if text.is_empty() {
                        if submitting && q.required {
                            error(q.id.clone(), missing(&q.id));
                        }
                    } else {
                        match text.replace(' ', "").parse::<i64>() {
                            Ok(n) if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) => {
                                error(
                                    q.id.clone(),
                                    format!(
                                        "{}: {n} ligger utanför det tillåtna ({}–{})",
                                        q.id,
                                        min.map(|m| m.to_string()).unwrap_or_default(),
                                        max.map(|m| m.to_string()).unwrap_or_default()
                                    ),
                                )
                            }
                            Ok(n) => {
                                answers.insert(q.id.clone(), Answer::Integer { value: n });
                            }
                            Err(_) => error(
                                q.id.clone(),
                                format!("{}: skriv ett heltal, till exempel 12", q.id),
                            ),
                        }
                    }
                }
                Kind::Date => {
                    let text = one(&q.id);
                    if text.is_empty() {
                        if submitting && q.required {
                            error(q.id.clone(), missing(&q.id));
                        }
                    } else {
                        match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
                            Ok(value) => {
                                answers.insert(q.id.clone(), Answer::Date { value });
                            }
                            Err(_) => error(
                                q.id.clone(),
                                format!("{}: skriv ett datum som finns, ÅÅÅÅ-MM-DD", q.id),
                            ),
                        }
                    }
                }
                Kind::Choice { options } | Kind::MultiChoice { options } => {
                    let multi = matches!(q.kind, Kind::MultiChoice { .. });
                    let chosen: Vec<String> = fields
                        .get(&q.id)
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|v| v.trim().to_owned())
                        .filter(|v| !v.is_empty())
                        .collect();
                    if let Some(bad) = chosen.iter().find(|c| !options.contains(c)) {
                        error(
                            q.id.clone(),
                            format!("{}: {bad:?} finns inte bland alternativen", q.id),
                        );
                    } else if !multi && chosen.len() > 1 {
                        error(q.id.clone(), format!("{}: välj ett alternativ", q.id));
                    } else if chosen.is_empty() {
                        if submitting && q.required {
                            error(q.id.clone(), missing(&q.id));
                        }
                    } else {
                        let values = options
                            .iter()
                            .filter(|o| chosen.contains(o))
                            .cloned()
                            .collect();
                        answers.insert(q.id.clone(), Answer::Choices { values });
                    }
                }
                Kind::Group { fields: parts } => {
                    let mut values = BTreeMap::new();
                    for part in parts {
                        let name = format!("{}.{}", q.id, part.id);
                        let value = one(&name);
                        if let Some(message) = cell_error(&part.kind, &value) {
                            error(name.clone(), format!("{} {}: {message}", q.id, part.label));
                        } else if value.is_empty() && submitting && q.required {
                            error(name.clone(), format!("{} {}: fyll i", q.id, part.label));
                        }
                        if !value.is_empty() {
                            values.insert(part.id.clone(), value);
                        }
                    }
                    if !values.is_empty() {
                        answers.insert(q.id.clone(), Answer::Group { values });
                    }
                }
                Kind::Table { columns, .. } => {
                    let mut rows = Vec::new();
                    for row in 0..MAX_ROWS {
                        let mut cells = BTreeMap::new();
                        for c in columns {
                            let name = format!("{}.{row}.{}", q.id, c.id);
                            let value = one(&name);
                            if let Some(message) = cell_error(&c.kind, &value) {
                                error(
                                    name.clone(),
                                    format!("{} rad {}, {}: {message}", q.id, row + 1, c.label),
                                );
                            }
                            if !value.is_empty() {
                                cells.insert(c.id.clone(), value);
                            }
                        }
                        if !cells.is_empty() {
                            rows.push(cells);
                        }
                    }
                    if rows.is_empty() {
                        if submitting && q.required {
                            error(format!("{}.0.{}", q.id, columns[0].id), missing(&q.id));
                        }
                    } else {
                        answers.insert(q.id.clone(), Answer::Table { rows });
                    }
                }
            }
        }
        (answers, errors)
    }
}

fn cell_error(kind: &ColumnKind, value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    match kind {
        ColumnKind::Text if value.chars().count() > CELL_MAX_LENGTH => {
            Some(format!("högst {CELL_MAX_LENGTH} tecken"))
        }
        ColumnKind::Text => None,
        ColumnKind::Integer => value
            .replace(' ', "")
            .parse::<u64>()
            .err()
            .map(|_| "skriv ett heltal, 0 eller mer".into()),
        ColumnKind::Date => NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .err()
            .map(|_| "skriv ett datum som finns, ÅÅÅÅ-MM-DD".into()),
        ColumnKind::Choice { options } => (!options.iter().any(|o| o == value))
            .then(|| format!("{value:?} finns inte bland alternativen")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Questionnaire {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("workflows/enkater/aktiva-atgarder-2026.yaml");
        parse(&path, &std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        let mut f = Fields::new();
        for (k, v) in pairs {
            f.entry((*k).to_owned()).or_default().push((*v).to_owned());
        }
        f
    }

    #[test]
    fn the_shipped_questionnaire_has_24_questions_covering_the_five_areas() {
        let q = shipped();
        assert_eq!(q.questions().count(), 24);
        for n in 1..=5 {
            assert!(
                q.sections.iter().any(|s| s.area == Area::Law(n)),
                "area {n}"
            );
        }
        assert!(q.sections.iter().any(|s| s.area == Area::Sarskild));
        assert!(
            q.questions()
                .any(|x| matches!(&x.kind, Kind::Table { prefill_from: Some(f), .. } if f == "J1"))
        );
    }

    #[test]
    fn a_draft_keeps_what_was_typed_and_only_a_submission_needs_every_required_answer() {
        let q = shipped();
        let posted = fields(&[
            ("B1", "delvis"),
            ("B1.kommentar", "Medarbetarenkät"),
            ("B3", "2"),
            ("J1.0.atgard", "Utbildning"),
            ("J1.0.klart", "2027-06-30"),
        ]);
        let (answers, errors) = q.check(&posted, false);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            answers["B1"],
            Answer::Jnd {
                value: Some("delvis".into()),
                comment: "Medarbetarenkät".into()
            }
        );
        assert_eq!(answers["B3"], Answer::Integer { value: 2 });
        let (_, errors) = q.check(&posted, true);
        assert!(
            errors
                .iter()
                .any(|e| e.field == "C1" && e.message.contains("svara på frågan")),
            "{errors:?}"
        );
        assert!(!errors.iter().any(|e| e.field == "B1"));
    }

    #[test]
    fn wrong_types_and_over_long_texts_are_refused_with_the_field_named() {
        let q = shipped();
        let long = "x".repeat(DEFAULT_MAX_LENGTH + 1);
        let posted = fields(&[
            ("B1", "kanske"),
            ("B3", "tre"),
            ("E2", "-1"),
            ("H1d", "2026-02-30"),
            ("B4", &long),
            ("B1g", "ålder"),
            ("B1g", "stjärntecken"),
            ("J1.0.omrade", "väder"),
        ]);
        let (answers, errors) = q.check(&posted, false);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in ["B1", "B3", "E2", "H1d", "B4", "B1g", "J1.0.omrade"] {
            assert!(fields.contains(&f), "{f} not refused: {errors:?}");
        }
        assert!(!answers.contains_key("B3") && !answers.contains_key("B1g"));
    }

    #[test]
    fn a_later_year_uses_the_newest_version_not_newer_than_itself() {
        let q = shipped();
        let mut set = Questionnaires::default();
        set.by_key.insert((q.id.clone(), 2026), q.clone());
        assert_eq!(set.for_year("aktiva-atgarder", 2027).unwrap().version, 2026);
        assert!(set.for_year("aktiva-atgarder", 2025).is_none());
    }

    #[test]
    fn a_broken_questionnaire_is_refused_with_its_position() {
        let source = "id: x\nversion: 2026\ntitle: X\nsections:\n  - id: A\n    title: A\n    area: \"9\"\n    questions:\n      - id: A1\n        text: Fråga\n        type: gissning\n";
        let problems = parse(Path::new("x.yaml"), source).unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(
            text.iter().any(|p| p.contains("unknown area \"9\"")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|p| p.starts_with("x.yaml:9:") && p.contains("unknown type \"gissning\"")),
            "{text:?}"
        );
    }
}
