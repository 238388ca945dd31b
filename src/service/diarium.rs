//! The diarium's use cases: open, find, list, close and reopen ärenden; register handlingar.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Actor, Kansli, ServiceError, TextFault, checked_text, optional_text, required_text};
use crate::domain::audit::Action;
use crate::domain::calendar::{local_date, local_year, start_of_local_day};
use crate::domain::case_number::{
    CaseNumberParts, SeriesFormat, document_number, is_class_char, split_document_number,
};
use crate::domain::case_status::CaseStatus;
use crate::domain::document::{Direction, SecrecyMarking};
use crate::domain::file_format::{ACCEPTED, FileFormat, FormatRefusal};
use crate::domain::search::SearchWords;
use crate::store::{
    AuditInput, CaseFilter, CaseRow, DocumentRow, NewCase, NewDocument, NewFile, PersonRow,
    SeriesRow, Tx,
};

/// The largest file a handling may carry.
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;

/// What it takes to open an ärende.
#[derive(Debug, Clone, Default)]
pub struct OpenCase {
    /// The series prefix, e.g. `KS`.
    pub series: String,
    /// The internal title.
    pub title: String,
    /// The title the public sees; the internal title when left out.
    pub public_title: Option<String>,
    /// The KLASSA code; the series' default when left out.
    pub classification: Option<String>,
    /// The handläggare, by person key or email.
    pub handlaggare: Option<String>,
    /// An earlier ärende this one continues, by number.
    pub previous: Option<String>,
}

/// Which ärenden to list.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    /// Series prefix.
    pub series: Option<String>,
    /// Year.
    pub year: Option<i32>,
    /// `open` or `closed`.
    pub status: Option<String>,
    /// Words in the title, public title or number.
    pub text: Option<String>,
    /// Handläggare, by key or email.
    pub handlaggare: Option<String>,
    /// Opened on or after this day (Stockholm).
    pub from: Option<NaiveDate>,
    /// Opened on or before this day (Stockholm).
    pub to: Option<NaiveDate>,
    /// At most this many (default 50).
    pub limit: Option<u64>,
    /// Skip this many.
    pub offset: Option<u64>,
}

/// What it takes to register a handling.
#[derive(Debug, Clone)]
pub struct NewDocumentInput {
    /// Received or drawn up on.
    pub date: NaiveDate,
    /// In, internal or out.
    pub direction: Direction,
    /// Sender (incoming) or recipient (outgoing).
    pub counterpart: Option<String>,
    /// Keep the counterpart out of the postlista (OSL 5:2).
    pub counterpart_protected: bool,
    /// What the handling is about.
    pub description: String,
    /// Keep the description out of the postlista (OSL 5:2).
    pub description_protected: bool,
    /// Sekretessmarkering (OSL 5:5).
    pub secrecy: Option<SecrecyMarking>,
    /// An attached file: its name and content.
    pub file: Option<(String, Vec<u8>)>,
}

/// A handling checked and ready to be registered (see [`Kansli::prepare_document`]).
#[derive(Debug, Clone)]
pub(crate) struct PreparedDocument {
    case: CaseRow,
    case_number: String,
    date: NaiveDate,
    direction: Direction,
    counterpart: Option<String>,
    counterpart_protected: bool,
    description: String,
    description_protected: bool,
    secrecy: Option<(String, NaiveDate, String)>,
    file: Option<(String, String, NewFile)>,
}

impl PreparedDocument {
    /// Registers it under the ärende's next `:N`, with its history entry, in `tx`.
    pub(crate) async fn register_in(
        self,
        tx: &Tx,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<DocumentView, ServiceError> {
        let file_ref = match self.file {
            Some((name, media_type, blob)) => {
                let hash = blob.sha256.clone();
                tx.store_file(blob).await?;
                Some((hash, name, media_type))
            }
            None => None,
        };
        let seq = tx.allocate_document_seq(self.case.id).await?;
        let row = tx
            .insert_document(
                NewDocument {
                    case_id: self.case.id,
                    date: self.date,
                    direction: self.direction.code().to_owned(),
                    counterpart: self.counterpart,
                    counterpart_protected: self.counterpart_protected,
                    description: self.description,
                    description_protected: self.description_protected,
                    secrecy: self.secrecy,
                    file: file_ref,
                    registered_at: now,
                    registered_by: actor.as_str().to_owned(),
                },
                seq,
            )
            .await?;
        let view = document_view(&self.case_number, row)?;
        tx.append_audit(
            Some(self.case.id),
            actor.as_str(),
            Action::DocumentRegistered,
            Some(format!("{} ({})", view.number, view.direction.label())),
            now,
        )
        .await?;
        Ok(view)
    }
}

/// A field of a handling that a refusal names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentField {
    /// What the handling is about.
    Description,
    /// Sender or recipient.
    Counterpart,
    /// The sekretessmarkering's provision.
    SecrecyProvision,
    /// The authority that made the sekretessmarkering.
    SecrecyAuthority,
}

impl DocumentField {
    /// The field as the ärende page labels it (the secrecy fields, which the page does not
    /// have, as the marking calls them).
    pub fn swedish(self) -> &'static str {
        match self {
            DocumentField::Description => "Beskrivning",
            DocumentField::Counterpart => "Avsändare eller mottagare",
            DocumentField::SecrecyProvision => "Sekretessmarkeringens bestämmelse",
            DocumentField::SecrecyAuthority => "Sekretessmarkeringens myndighet",
        }
    }
}

/// The field's English name, as the API and the CLI call it.
impl std::fmt::Display for DocumentField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DocumentField::Description => "description",
            DocumentField::Counterpart => "counterpart",
            DocumentField::SecrecyProvision => "secrecy provision",
            DocumentField::SecrecyAuthority => "secrecy authority",
        })
    }
}

/// Why a handling was not registered: what was wrong, and in which field. Nothing was written.
/// `Display` is the English of the API, the CLI and the logs; a page words it with
/// [`swedish`](Self::swedish).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentRefusal {
    /// The ärende is closed.
    #[error("ärende {case} is closed; reopen it before registering in it")]
    CaseClosed {
        /// Its number.
        case: String,
    },
    /// A required field is blank.
    #[error("{field} must not be empty")]
    Empty {
        /// Which.
        field: DocumentField,
    },
    /// A field is longer than it may be.
    #[error("{field} is {length} characters long; at most {max} are allowed")]
    TooLong {
        /// Which.
        field: DocumentField,
        /// Its length in characters.
        length: usize,
        /// The most it may have.
        max: usize,
    },
    /// A field holds a control character (other than newline and tab).
    #[error("{field} contains a control character")]
    ControlCharacter {
        /// Which.
        field: DocumentField,
    },
    /// The counterpart is to be kept out of the postlista, but there is none.
    #[error("the counterpart is marked protected but none is given")]
    ProtectedWithoutCounterpart,
    /// The file's name is blank, has folders in it, or is `.` or `..`.
    #[error("file name {name:?} must be a plain name without folders")]
    FileName {
        /// The name as given (trimmed).
        name: String,
    },
    /// The file is over [`MAX_FILE_BYTES`].
    #[error("file {name} is {bytes} bytes; at most {max} are allowed", max = MAX_FILE_BYTES)]
    FileTooLarge {
        /// Its name.
        name: String,
        /// Its size.
        bytes: usize,
    },
    /// The file's extension names no accepted format (a web page, a script, a program).
    #[error("file {name}: this type is not accepted; accepted are {ACCEPTED}")]
    FileType {
        /// Its name.
        name: String,
    },
    /// The file's content is not what its extension says (a "PDF" that is a program).
    #[error(
        "file {name}: the content is not what the name says it is; give the file its right extension"
    )]
    FileContent {
        /// Its name.
        name: String,
    },
}

impl DocumentRefusal {
    /// The refusal in Swedish, the field named as the ärende page labels it.
    pub fn swedish(&self) -> String {
        match self {
            DocumentRefusal::CaseClosed { case } => format!(
                "Ärendet {case} är avslutat. Återöppna det innan du registrerar en handling i det."
            ),
            DocumentRefusal::Empty { field } => format!("{} måste fyllas i.", field.swedish()),
            DocumentRefusal::TooLong { field, length, max } => format!(
                "{}: texten har {length} tecken; högst {max} tecken är tillåtna.",
                field.swedish()
            ),
            DocumentRefusal::ControlCharacter { field } => format!(
                "{}: texten innehåller ett styrtecken, som inte är tillåtet; ta bort det.",
                field.swedish()
            ),
            DocumentRefusal::ProtectedWithoutCounterpart => {
                "Avsändare eller mottagare ska skyddas men är inte ifylld.".into()
            }
            DocumentRefusal::FileName { name } if name.is_empty() => {
                "Fil: filen har inget namn.".into()
            }
            DocumentRefusal::FileName { name } => {
                format!("Fil: ”{name}” är inget enkelt filnamn; namnet får inte innehålla mappar.")
            }
            DocumentRefusal::FileTooLarge { name, bytes } => format!(
                "Fil: ”{name}” är {} MB; högst {} MB är tillåtet.",
                megabytes(*bytes),
                megabytes(MAX_FILE_BYTES)
            ),
            DocumentRefusal::FileType { name } => format!(
                "Fil: ”{name}” är inte av en typ som diariet tar emot. Tillåtna är {ACCEPTED}; \
                 webbsidor, SVG-bilder, skript och program tas aldrig emot."
            ),
            DocumentRefusal::FileContent { name } => format!(
                "Fil: innehållet i ”{name}” är inte det som filnamnet säger; ge filen rätt \
                 filändelse."
            ),
        }
    }
}

/// A size in megabytes (MiB, as the limit is counted) for people: whole when it is whole,
/// else rounded up to a tenth with a decimal comma, so a file just over the limit never reads
/// as the limit.
pub(crate) fn megabytes(bytes: usize) -> String {
    const MB: usize = 1024 * 1024;
    let tenths = (bytes * 10).div_ceil(MB);
    if bytes.is_multiple_of(MB) {
        format!("{}", bytes / MB)
    } else {
        format!("{},{}", tenths / 10, tenths % 10)
    }
}

/// A handling's text field, checked as every text field is ([`checked_text`]), refused with
/// the field named.
fn document_text(
    field: DocumentField,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, DocumentRefusal> {
    checked_text(value, max).map_err(|fault| match fault {
        TextFault::TooLong { length } => DocumentRefusal::TooLong { field, length, max },
        TextFault::ControlCharacter => DocumentRefusal::ControlCharacter { field },
    })
}

/// Like [`document_text`], for a field that must be filled in.
fn required_document_text(
    field: DocumentField,
    value: &str,
    max: usize,
) -> Result<String, DocumentRefusal> {
    document_text(field, Some(value), max)?.ok_or(DocumentRefusal::Empty { field })
}

/// A person, as shown on an ärende.
#[derive(Debug, Clone, Serialize)]
pub struct PersonRef {
    /// Key.
    pub key: String,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
}

/// An attached file.
#[derive(Debug, Clone, Serialize)]
pub struct FileRef {
    /// Its name.
    pub name: String,
    /// Its media type.
    pub media_type: String,
    /// Hex SHA-256 of its content.
    pub sha256: String,
}

/// A handling, as shown.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentView {
    /// `KS 2021/841:3`.
    pub number: String,
    /// The running number within the ärende.
    pub seq: u32,
    /// Received or drawn up on.
    pub date: NaiveDate,
    /// In, internal or out.
    pub direction: Direction,
    /// Sender or recipient.
    pub counterpart: Option<String>,
    /// Whether the counterpart is kept out of the postlista.
    pub counterpart_protected: bool,
    /// What it is about.
    pub description: String,
    /// Whether the description is kept out of the postlista.
    pub description_protected: bool,
    /// Sekretessmarkering.
    pub secrecy: Option<SecrecyMarking>,
    /// The attached file.
    pub file: Option<FileRef>,
    /// When registered.
    pub registered_at: DateTime<Utc>,
    /// By whom.
    pub registered_by: String,
    /// Whether the entry is masked for the reader, who does not need to know this secret
    /// handling (its description and file withheld; see [`Kansli::show_case_to`]).
    pub withheld: bool,
}

/// An ärende, as shown.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    /// `KS 2021/841`.
    pub number: String,
    /// Series prefix.
    pub series: String,
    /// Year.
    pub year: i32,
    /// Running number.
    pub seq: u32,
    /// KLASSA code.
    pub classification: Option<String>,
    /// Internal title.
    pub title: String,
    /// Public title.
    pub public_title: String,
    /// `open` or `closed`.
    pub status: CaseStatus,
    /// The handläggare.
    pub handlaggare: Option<PersonRef>,
    /// The earlier ärende this continues.
    pub previous: Option<String>,
    /// When opened.
    pub opened_at: DateTime<Utc>,
    /// By whom.
    pub opened_by: String,
    /// When closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// By whom.
    pub closed_by: Option<String>,
    /// The handlingar, in number order.
    pub documents: Vec<DocumentView>,
}

/// A page of ärenden.
#[derive(Debug, Clone, Serialize)]
pub struct CaseList {
    /// The ärenden, newest first, without their handlingar.
    pub cases: Vec<CaseView>,
}

/// One step in an ärende's history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// In which role (workflow steps).
    pub role: Option<String>,
    /// What.
    pub action: String,
    /// The workflow state before (workflow steps).
    pub from_state: Option<String>,
    /// The workflow state after (workflow steps).
    pub to_state: Option<String>,
    /// Details.
    pub detail: Option<String>,
}

/// A new ärende, checked and ready to number.
#[derive(Debug, Clone)]
pub(crate) struct PreparedCase {
    series_id: i32,
    title: String,
    public_title: String,
    classification: Option<String>,
    handlaggare_id: Option<i32>,
    previous_case_id: Option<i32>,
}

/// The series known to the diarium, with their parsed formats.
pub(crate) struct SeriesBook {
    series: Vec<(SeriesRow, SeriesFormat)>,
}

impl SeriesBook {
    pub(crate) async fn load(kansli: &Kansli) -> Result<Self, ServiceError> {
        Self::from_rows(kansli.store.all_series().await?)
    }

    /// The book of series already read (with an organisation snapshot, say).
    pub(crate) fn from_rows(rows: Vec<SeriesRow>) -> Result<Self, ServiceError> {
        let mut series = Vec::with_capacity(rows.len());
        for row in rows {
            let format = SeriesFormat::parse(&row.format).map_err(|e| {
                anyhow::anyhow!(
                    "series {} has a stored format that no longer parses: {e}",
                    row.prefix
                )
            })?;
            series.push((row, format));
        }
        Ok(Self { series })
    }

    fn by_prefix(&self, prefix: &str) -> Result<&(SeriesRow, SeriesFormat), ServiceError> {
        self.series
            .iter()
            .find(|(row, _)| row.prefix.eq_ignore_ascii_case(prefix.trim()))
            .ok_or_else(|| {
                ServiceError::Invalid(format!(
                    "unknown series {prefix:?}; known series: {}",
                    self.known()
                ))
            })
    }

    pub(crate) fn by_id(&self, id: i32) -> Result<&(SeriesRow, SeriesFormat), ServiceError> {
        self.series
            .iter()
            .find(|(row, _)| row.id == id)
            .ok_or_else(|| anyhow::anyhow!("series id {id} is referenced but missing").into())
    }

    fn known(&self) -> String {
        if self.series.is_empty() {
            return "none yet (import an organisation with `kansli org import`)".into();
        }
        self.series
            .iter()
            .map(|(row, _)| row.prefix.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Reads a typed number against every series' format.
    fn read(&self, text: &str) -> Result<(&SeriesRow, CaseNumberParts), ServiceError> {
        let mut matches = self
            .series
            .iter()
            .filter_map(|(row, format)| format.read(&row.prefix, text).ok().map(|p| (row, p)));
        match (matches.next(), matches.next()) {
            (Some(found), None) => Ok(found),
            (Some((a, _)), Some((b, _))) => Err(ServiceError::Invalid(format!(
                "{text:?} reads as a number in both series {} and {}; include the prefix",
                a.prefix, b.prefix
            ))),
            (None, _) => {
                let examples = self
                    .series
                    .iter()
                    .map(|(row, format)| {
                        let example = CaseNumberParts {
                            year: 2026,
                            seq: 41,
                            classification: row.default_classification.clone(),
                        };
                        format!("{} ({})", format.render(&row.prefix, &example), format)
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                Err(ServiceError::Invalid(format!(
                    "{text:?} is not a diarienummer in any series; numbers read like: {examples}"
                )))
            }
        }
    }

    pub(crate) fn render(&self, case: &CaseRow) -> Result<String, ServiceError> {
        let (row, format) = self.by_id(case.series_id)?;
        Ok(format.render(
            &row.prefix,
            &CaseNumberParts {
                year: case.year,
                seq: case.seq as u32,
                classification: case.classification.clone(),
            },
        ))
    }
}

/// What a diarium search may be narrowed to: the series, and the people who are handläggare.
#[derive(Debug, Clone, Serialize)]
pub struct SearchChoices {
    /// Series prefix and name, by prefix.
    pub series: Vec<(String, String)>,
    /// Person key and name of every handläggare, by name.
    pub handlaggare: Vec<(String, String)>,
}

impl Kansli {
    /// The series and handläggare a search may be narrowed to.
    pub async fn search_choices(&self) -> Result<SearchChoices, ServiceError> {
        let org = self.store.org_snapshot().await?;
        let mut series: Vec<(String, String)> = org
            .series
            .iter()
            .map(|s| (s.prefix.clone(), s.name.clone()))
            .collect();
        series.sort();
        let handlaggare_role = crate::domain::organisation::Role::Handlaggare.code();
        let mut handlaggare: Vec<(String, String)> = org
            .people
            .iter()
            .filter(|p| {
                org.roles
                    .iter()
                    .any(|r| r.person_id == p.id && r.role == handlaggare_role)
            })
            .map(|p| (p.key.clone(), p.name.clone()))
            .collect();
        handlaggare.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(SearchChoices {
            series,
            handlaggare,
        })
    }

    /// Opens an ärende and gives it the next number in its series and year.
    #[tracing::instrument(skip_all, fields(series = %input.series, number))]
    pub async fn open_case(
        &self,
        input: OpenCase,
        actor: &Actor,
    ) -> Result<CaseView, ServiceError> {
        let book = SeriesBook::load(self).await?;
        let prepared = self.prepare_case(&book, input).await?;
        let tx = self.store.begin().await?;
        let row = self
            .insert_case(&tx, &book, prepared, actor, self.clock.now())
            .await?;
        tx.commit().await?;
        let number = book.render(&row)?;
        tracing::Span::current().record("number", number.as_str());
        tracing::info!("ärende opened");
        self.view(&book, row, false).await
    }

    /// Checks everything about a new ärende that can be checked before a transaction.
    pub(crate) async fn prepare_case(
        &self,
        book: &SeriesBook,
        input: OpenCase,
    ) -> Result<PreparedCase, ServiceError> {
        let (series, format) = book.by_prefix(&input.series)?;
        let title = required_text("title", &input.title, 500)?;
        let public_title = optional_text("public title", input.public_title.as_deref(), 500)?
            .unwrap_or_else(|| title.clone());
        let classification = optional_text("classification", input.classification.as_deref(), 40)?
            .or_else(|| series.default_classification.clone());
        if let Some(code) = &classification
            && !code.chars().all(is_class_char)
        {
            return Err(ServiceError::Invalid(format!(
                "classification {code:?} may hold only letters, digits, '.' and '-'"
            )));
        }
        if format.shows_classification() && classification.is_none() {
            return Err(ServiceError::Invalid(format!(
                "series {}'s numbers show a classification code ({}); give one with the classification",
                series.prefix, format
            )));
        }
        let handlaggare = match &input.handlaggare {
            Some(who) => Some(self.person(who, "handläggare").await?),
            None => None,
        };
        let previous = match &input.previous {
            Some(number) => Some(self.case_row(book, number).await?),
            None => None,
        };
        Ok(PreparedCase {
            series_id: series.id,
            title,
            public_title,
            classification,
            handlaggare_id: handlaggare.map(|p| p.id),
            previous_case_id: previous.map(|c| c.id),
        })
    }

    /// Numbers and registers a prepared ärende inside `tx`, with its audit entry.
    pub(crate) async fn insert_case(
        &self,
        tx: &Tx,
        book: &SeriesBook,
        prepared: PreparedCase,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<CaseRow, ServiceError> {
        let (mut rows, opened) = self
            .insert_cases(tx, book, vec![(prepared, actor)], now)
            .await?;
        tx.append_steps(opened).await?;
        rows.pop()
            .ok_or_else(|| anyhow::anyhow!("the new ärende was not returned").into())
    }

    /// Numbers and registers prepared ärenden inside `tx`, with one statement per kind of row:
    /// a series' numbers are taken at once, in the order given. Returns the ärenden and their
    /// audit entries ("ärende öppnat"), which the caller appends, before any of its own, so
    /// that a batch writes its whole trail with one statement.
    pub(crate) async fn insert_cases(
        &self,
        tx: &Tx,
        book: &SeriesBook,
        prepared: Vec<(PreparedCase, &Actor)>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<CaseRow>, Vec<AuditInput>), ServiceError> {
        let year = local_year(now);
        // Series in a fixed order, so that two writers taking numbers in the same two series
        // lock their counters in the same order and never wait for each other in a circle.
        let mut next: std::collections::BTreeMap<i32, u32> = Default::default();
        for (p, _) in &prepared {
            *next.entry(p.series_id).or_default() += 1;
        }
        for (series, n) in next.iter_mut() {
            *n = tx.allocate_case_seqs(*series, year, *n).await?;
        }
        let mut new = Vec::with_capacity(prepared.len());
        let mut opened = Vec::with_capacity(prepared.len());
        for (p, actor) in prepared {
            let (series, format) = book.by_id(p.series_id)?;
            let seq = next.get_mut(&series.id).map_or(0, |n| {
                *n += 1;
                *n - 1
            });
            let number = format.render(
                &series.prefix,
                &CaseNumberParts {
                    year,
                    seq,
                    classification: p.classification.clone(),
                },
            );
            let search = search_text(&[
                &p.title,
                &p.public_title,
                p.classification.as_deref().unwrap_or(""),
                &number,
            ]);
            opened.push((number, actor.as_str().to_owned()));
            new.push((
                NewCase {
                    series_id: series.id,
                    year,
                    classification: p.classification,
                    search_text: search,
                    title: p.title,
                    public_title: p.public_title,
                    handlaggare_id: p.handlaggare_id,
                    previous_case_id: p.previous_case_id,
                    opened_at: now,
                    opened_by: actor.as_str().to_owned(),
                },
                seq,
            ));
        }
        let rows = tx.insert_cases(new).await?;
        let entries = rows
            .iter()
            .zip(opened)
            .map(|(row, (number, actor))| AuditInput {
                case_id: Some(row.id),
                actor,
                action: Action::CaseOpened.text().into(),
                detail: Some(format!("{number}: {}", row.title)),
                at: now,
                ..Default::default()
            })
            .collect();
        Ok((rows, entries))
    }

    /// Finds an ärende by its number as the series renders it, with its handlingar.
    pub async fn show_case(&self, number: &str) -> Result<CaseView, ServiceError> {
        let book = SeriesBook::load(self).await?;
        let row = self.case_row(&book, number).await?;
        self.view(&book, row, true).await
    }

    /// Lists ärenden, newest first.
    pub async fn list_cases(&self, query: CaseQuery) -> Result<CaseList, ServiceError> {
        let book = SeriesBook::load(self).await?;
        let series_id = match &query.series {
            Some(prefix) => Some(book.by_prefix(prefix)?.0.id),
            None => None,
        };
        let handlaggare_id = match &query.handlaggare {
            Some(who) => Some(self.person(who, "handläggare").await?.id),
            None => None,
        };
        let status = match query.status.as_deref().map(str::trim) {
            None => None,
            Some(word) => match word.parse::<CaseStatus>() {
                Ok(status) => Some(status.code().to_owned()),
                Err(_) => {
                    return Err(ServiceError::Invalid(format!(
                        "status {word:?} is neither open nor closed"
                    )));
                }
            },
        };
        if let (Some(from), Some(to)) = (query.from, query.to)
            && from > to
        {
            return Err(ServiceError::Invalid(format!(
                "--from {from} is after --to {to}"
            )));
        }
        let filter = CaseFilter {
            series_id,
            year: query.year,
            status,
            words: match query.text.as_deref().map(SearchWords::parse) {
                Some(Ok(Some(words))) => words.words().to_vec(),
                Some(Ok(None)) | None => Vec::new(),
                Some(Err(e)) => return Err(ServiceError::Invalid(e.to_string())),
            },
            handlaggare_id,
            opened_from: query.from.map(start_of_local_day),
            opened_before: query.to.and_then(|d| d.succ_opt()).map(start_of_local_day),
            limit: query.limit.unwrap_or(50).clamp(1, 1000),
            offset: query.offset.unwrap_or(0),
        };
        let rows = self.store.list_cases(&filter).await?;
        let mut cases = Vec::with_capacity(rows.len());
        let mut people: HashMap<i32, Option<PersonRef>> = HashMap::new();
        for row in rows {
            let handlaggare = match row.handlaggare_id {
                Some(id) => match people.get(&id) {
                    Some(p) => p.clone(),
                    None => {
                        let p = self.store.person(id).await?.map(person_ref);
                        people.insert(id, p.clone());
                        p
                    }
                },
                None => None,
            };
            cases.push(CaseView {
                handlaggare,
                ..self.view_without_people(&book, row)?
            });
        }
        Ok(CaseList { cases })
    }

    /// Closes an ärende.
    pub async fn close_case(
        &self,
        number: &str,
        reason: Option<&str>,
        actor: &Actor,
    ) -> Result<CaseView, ServiceError> {
        self.set_status(number, CaseStatus::Closed, reason, actor)
            .await
    }

    /// Reopens a closed ärende.
    pub async fn reopen_case(
        &self,
        number: &str,
        reason: Option<&str>,
        actor: &Actor,
    ) -> Result<CaseView, ServiceError> {
        self.set_status(number, CaseStatus::Open, reason, actor)
            .await
    }

    async fn set_status(
        &self,
        number: &str,
        status: CaseStatus,
        reason: Option<&str>,
        actor: &Actor,
    ) -> Result<CaseView, ServiceError> {
        let reason = optional_text("reason", reason, 1000)?;
        let book = SeriesBook::load(self).await?;
        let row = self.case_row(&book, number).await?;
        let rendered = book.render(&row)?;
        if row.status() == status {
            return Err(ServiceError::Invalid(format!(
                "ärende {rendered} is already {}",
                status.code()
            )));
        }
        let now = self.clock.now();
        let closed = (status == CaseStatus::Closed).then(|| (now, actor.as_str().to_owned()));
        let action = match status {
            CaseStatus::Closed => Action::CaseClosed,
            CaseStatus::Open => Action::CaseReopened,
        };
        let tx = self.store.begin().await?;
        tx.set_case_status(row.id, row.row_version, status.code(), closed)
            .await?;
        tx.append_audit(Some(row.id), actor.as_str(), action, reason, now)
            .await?;
        tx.commit().await?;
        self.show_case(&rendered).await
    }

    /// Registers a handling in an open ärende under the next `:N`.
    #[tracing::instrument(skip_all, fields(case = %number, document))]
    pub async fn add_document(
        &self,
        number: &str,
        input: NewDocumentInput,
        actor: &Actor,
    ) -> Result<DocumentView, ServiceError> {
        let now = self.clock.now();
        let prepared = self.prepare_document(number, input, now).await?;
        let tx = self.store.begin().await?;
        let view = prepared.register_in(&tx, actor, now).await?;
        tx.commit().await?;
        tracing::Span::current().record("document", view.number.as_str());
        tracing::info!("handling registered");
        Ok(view)
    }

    /// A handling checked, field by field and its file by its content, ready to be registered
    /// in a transaction: refused here, before anything is written.
    pub(crate) async fn prepare_document(
        &self,
        number: &str,
        input: NewDocumentInput,
        now: DateTime<Utc>,
    ) -> Result<PreparedDocument, ServiceError> {
        let book = SeriesBook::load(self).await?;
        let case = self.case_row(&book, number).await?;
        let case_number = book.render(&case)?;
        if case.status() != CaseStatus::Open {
            return Err(DocumentRefusal::CaseClosed { case: case_number }.into());
        }
        let description =
            required_document_text(DocumentField::Description, &input.description, 1000)?;
        let counterpart = document_text(
            DocumentField::Counterpart,
            input.counterpart.as_deref(),
            500,
        )?;
        if input.counterpart_protected && counterpart.is_none() {
            return Err(DocumentRefusal::ProtectedWithoutCounterpart.into());
        }
        let secrecy = match input.secrecy {
            Some(mark) => Some((
                required_document_text(DocumentField::SecrecyProvision, &mark.provision, 200)?,
                mark.date,
                required_document_text(DocumentField::SecrecyAuthority, &mark.authority, 200)?,
            )),
            None => None,
        };
        let file = match input.file {
            Some((name, content)) => Some(checked_file(&name, content, now)?),
            None => None,
        };
        Ok(PreparedDocument {
            case,
            case_number,
            date: input.date,
            direction: input.direction,
            counterpart,
            counterpart_protected: input.counterpart_protected,
            description,
            description_protected: input.description_protected,
            secrecy,
            file,
        })
    }

    /// A handling's attached file: its name, media type and content.
    pub async fn document_file(&self, number: &str) -> Result<(FileRef, Vec<u8>), ServiceError> {
        let (_, document) = self.document_entry(number).await?;
        self.file_of(number, &document).await
    }

    /// A handling's ärende row and register entry, by the handling's number.
    pub(crate) async fn document_entry(
        &self,
        number: &str,
    ) -> Result<(CaseRow, DocumentView), ServiceError> {
        let (case_number, seq) = split_document_number(number).ok_or_else(|| {
            ServiceError::Invalid(format!(
                "{number:?} is not a handling's number (an ärende's number, ':' and a number)"
            ))
        })?;
        let book = SeriesBook::load(self).await?;
        let row = self.case_row(&book, case_number).await?;
        let case = self.view(&book, row.clone(), true).await?;
        let document = case
            .documents
            .into_iter()
            .find(|d| d.seq == seq)
            .ok_or_else(|| ServiceError::NotFound(format!("handling {number} does not exist")))?;
        Ok((row, document))
    }

    /// The file of the handling `number` (its entry `document`) and its content.
    pub(crate) async fn file_of(
        &self,
        number: &str,
        document: &DocumentView,
    ) -> Result<(FileRef, Vec<u8>), ServiceError> {
        let file = document
            .file
            .clone()
            .ok_or_else(|| ServiceError::NotFound(format!("handling {number} has no file")))?;
        let content = self
            .store
            .file(&file.sha256)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the file of {number} is missing from the store"))?;
        Ok((file, content))
    }

    /// An ärende's number, by its id.
    pub async fn case_number(&self, id: i32) -> Result<String, ServiceError> {
        let book = SeriesBook::load(self).await?;
        let row = self
            .store
            .case_by_id(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("ärende id {id} not found")))?;
        book.render(&row)
    }

    /// The history of an ärende, oldest first: every audited step, and every message its steps
    /// queued (when it was queued, and when it was sent).
    pub async fn case_history(&self, number: &str) -> Result<Vec<HistoryEntry>, ServiceError> {
        let book = SeriesBook::load(self).await?;
        let row = self.case_row(&book, number).await?;
        let mut entries: Vec<HistoryEntry> = self
            .store
            .audit_of(row.id)
            .await?
            .into_iter()
            .map(|a| HistoryEntry {
                at: a.at,
                actor: a.actor,
                role: a.role,
                action: a.action,
                from_state: a.from_state,
                to_state: a.to_state,
                detail: a.detail,
            })
            .collect();
        for m in self.store.outbox(Some(row.id)).await? {
            let what = format!(
                "meddelande {} ({}) till {}: {}",
                m.id,
                m.template,
                m.recipient_email.as_deref().unwrap_or("ingen mottagare"),
                m.subject.as_deref().unwrap_or("")
            );
            entries.push(HistoryEntry {
                at: m.created_at,
                actor: "system".into(),
                role: None,
                action: Action::EmailQueued.text().into(),
                from_state: None,
                to_state: None,
                detail: Some(what.clone()),
            });
            if let Some(sent) = m.sent_at {
                entries.push(HistoryEntry {
                    at: sent,
                    actor: "system".into(),
                    role: None,
                    action: Action::EmailSent.text().into(),
                    from_state: None,
                    to_state: None,
                    detail: Some(what),
                });
            }
        }
        // Stable: steps and the messages they queued keep their order within a moment.
        entries.sort_by_key(|e| e.at);
        Ok(entries)
    }

    pub(crate) async fn case_row(
        &self,
        book: &SeriesBook,
        number: &str,
    ) -> Result<CaseRow, ServiceError> {
        self.case_rows(book, &[number])
            .await?
            .pop()
            .unwrap_or_else(|| Err(anyhow::anyhow!("no answer for ärende {number}").into()))
    }

    /// The ärenden with these numbers, each its own result, read with one query. The outer
    /// error is the database's.
    pub(crate) async fn case_rows(
        &self,
        book: &SeriesBook,
        numbers: &[&str],
    ) -> Result<Vec<Result<CaseRow, ServiceError>>, ServiceError> {
        let keys: Vec<Result<(i32, i32, u32), ServiceError>> = numbers
            .iter()
            .map(|n| book.read(n).map(|(s, p)| (s.id, p.year, p.seq)))
            .collect();
        let wanted: Vec<(i32, i32, u32)> = keys
            .iter()
            .filter_map(|k| k.as_ref().ok())
            .copied()
            .collect();
        let found = self.store.find_cases(&wanted).await?;
        Ok(keys
            .into_iter()
            .zip(numbers)
            .map(|(key, number)| {
                let (series, year, seq) = key?;
                found
                    .iter()
                    .find(|c| c.series_id == series && c.year == year && c.seq == seq as i32)
                    .cloned()
                    .ok_or_else(|| {
                        ServiceError::NotFound(format!("ärende {} does not exist", number.trim()))
                    })
            })
            .collect())
    }

    async fn person(&self, who: &str, field: &str) -> Result<PersonRow, ServiceError> {
        self.store.find_person(who).await?.ok_or_else(|| {
            ServiceError::Invalid(format!(
                "{field} {who:?} is not a person in the organisation (give a person key or email)"
            ))
        })
    }

    pub(crate) async fn view(
        &self,
        book: &SeriesBook,
        row: CaseRow,
        with_documents: bool,
    ) -> Result<CaseView, ServiceError> {
        let handlaggare = match row.handlaggare_id {
            Some(id) => self.store.person(id).await?.map(person_ref),
            None => None,
        };
        let previous = match row.previous_case_id {
            Some(id) => match self.store.case_by_id(id).await? {
                Some(prev) => Some(book.render(&prev)?),
                None => None,
            },
            None => None,
        };
        let documents = if with_documents {
            let number = book.render(&row)?;
            self.store
                .documents_of(row.id)
                .await?
                .into_iter()
                .map(|d| document_view(&number, d))
                .collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        Ok(CaseView {
            handlaggare,
            previous,
            documents,
            ..self.view_without_people(book, row)?
        })
    }

    fn view_without_people(
        &self,
        book: &SeriesBook,
        row: CaseRow,
    ) -> Result<CaseView, ServiceError> {
        let number = book.render(&row)?;
        let (series, _) = book.by_id(row.series_id)?;
        let status = row.status();
        Ok(CaseView {
            number,
            series: series.prefix.clone(),
            year: row.year,
            seq: row.seq as u32,
            classification: row.classification,
            title: row.title,
            public_title: row.public_title,
            status,
            handlaggare: None,
            previous: None,
            opened_at: row.opened_at,
            opened_by: row.opened_by,
            closed_at: row.closed_at,
            closed_by: row.closed_by,
            documents: Vec::new(),
        })
    }
}

fn person_ref(p: PersonRow) -> PersonRef {
    PersonRef {
        key: p.key,
        name: p.name,
        email: p.email,
    }
}

pub(crate) fn document_view(
    case_number: &str,
    row: DocumentRow,
) -> Result<DocumentView, ServiceError> {
    let direction = row
        .direction
        .parse::<Direction>()
        .map_err(|e| anyhow::anyhow!("stored handling {}: {e}", row.id))?;
    let secrecy = match (
        row.secrecy_provision,
        row.secrecy_date,
        row.secrecy_authority,
    ) {
        (Some(provision), Some(date), Some(authority)) => Some(SecrecyMarking {
            provision,
            date,
            authority,
        }),
        _ => None,
    };
    let file = match (row.file_sha256, row.file_name, row.media_type) {
        (Some(sha256), Some(name), Some(media_type)) => Some(FileRef {
            name,
            media_type,
            sha256,
        }),
        _ => None,
    };
    Ok(DocumentView {
        number: document_number(case_number, row.seq as u32),
        seq: row.seq as u32,
        date: row.date,
        direction,
        counterpart: row.counterpart,
        counterpart_protected: row.counterpart_protected,
        description: row.description,
        description_protected: row.description_protected,
        secrecy,
        file,
        registered_at: row.registered_at,
        registered_by: row.registered_by,
        withheld: false,
    })
}

/// Lower-cased words to match searches against; Rust lower-cases å, ä and ö, which SQLite's
/// `lower()` would not.
pub(super) fn search_text(parts: &[&str]) -> String {
    parts.join(" ").to_lowercase()
}

/// Checks an attached file: a plain name (no folders), a size within the limit, an accepted
/// format ([`FileFormat`]) known from its extension, and content that agrees with it.
fn checked_file(
    name: &str,
    content: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<(String, String, NewFile), DocumentRefusal> {
    let name = name.trim();
    if name.is_empty() || name.contains(['/', '\\', '\0']) || name == "." || name == ".." {
        return Err(DocumentRefusal::FileName { name: name.into() });
    }
    if content.len() > MAX_FILE_BYTES {
        return Err(DocumentRefusal::FileTooLarge {
            name: name.into(),
            bytes: content.len(),
        });
    }
    let format = match FileFormat::check(name, &content) {
        Ok(format) => format,
        Err(FormatRefusal::NotAccepted) => {
            return Err(DocumentRefusal::FileType { name: name.into() });
        }
        Err(FormatRefusal::ContentDiffers) => {
            return Err(DocumentRefusal::FileContent { name: name.into() });
        }
    };
    let sha256 = hex::encode(Sha256::digest(&content));
    Ok((
        name.to_owned(),
        format.media_type().to_owned(),
        NewFile {
            sha256,
            content,
            stored_at: now,
        },
    ))
}

/// Today's date in Stockholm by the service's clock.
impl Kansli {
    /// Today, in Stockholm.
    pub fn today(&self) -> NaiveDate {
        local_date(self.clock.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_refusal() -> Vec<DocumentRefusal> {
        vec![
            DocumentRefusal::CaseClosed {
                case: "KS 2026/1".into(),
            },
            DocumentRefusal::Empty {
                field: DocumentField::Description,
            },
            DocumentRefusal::TooLong {
                field: DocumentField::Counterpart,
                length: 501,
                max: 500,
            },
            DocumentRefusal::ControlCharacter {
                field: DocumentField::SecrecyProvision,
            },
            DocumentRefusal::Empty {
                field: DocumentField::SecrecyAuthority,
            },
            DocumentRefusal::ProtectedWithoutCounterpart,
            DocumentRefusal::FileName {
                name: "../etc/passwd".into(),
            },
            DocumentRefusal::FileName { name: "".into() },
            DocumentRefusal::FileTooLarge {
                name: "stor.pdf".into(),
                bytes: MAX_FILE_BYTES + 1,
            },
            DocumentRefusal::FileType {
                name: "sida.html".into(),
            },
            DocumentRefusal::FileContent {
                name: "svar.pdf".into(),
            },
        ]
    }

    #[test]
    fn every_refusal_is_worded_in_swedish_with_the_forms_labels() {
        let worded: Vec<String> = every_refusal().iter().map(|r| r.swedish()).collect();
        assert_eq!(
            worded,
            [
                "Ärendet KS 2026/1 är avslutat. Återöppna det innan du registrerar en handling i det.",
                "Beskrivning måste fyllas i.",
                "Avsändare eller mottagare: texten har 501 tecken; högst 500 tecken är tillåtna.",
                "Sekretessmarkeringens bestämmelse: texten innehåller ett styrtecken, som inte är \
                 tillåtet; ta bort det.",
                "Sekretessmarkeringens myndighet måste fyllas i.",
                "Avsändare eller mottagare ska skyddas men är inte ifylld.",
                "Fil: ”../etc/passwd” är inget enkelt filnamn; namnet får inte innehålla mappar.",
                "Fil: filen har inget namn.",
                "Fil: ”stor.pdf” är 50,1 MB; högst 50 MB är tillåtet.",
                "Fil: ”sida.html” är inte av en typ som diariet tar emot. Tillåtna är PDF, DOCX, \
                 XLSX, ODT, ODS, TXT, CSV, PNG, JPEG, TIFF, EML, XML; webbsidor, SVG-bilder, \
                 skript och program tas aldrig emot.",
                "Fil: innehållet i ”svar.pdf” är inte det som filnamnet säger; ge filen rätt \
                 filändelse.",
            ]
        );
        for (refusal, text) in every_refusal().iter().zip(&worded) {
            let english = refusal.to_string();
            assert_ne!(&english, text);
            for word in [
                " must ",
                " is ",
                "file ",
                "characters",
                "allowed",
                "without",
                "counterpart",
                "description",
                "secrecy",
                "the ",
                "closed",
                "reopen",
            ] {
                assert!(!text.contains(word), "{word:?} in {text:?}");
            }
        }
    }

    #[test]
    fn the_english_stays_as_the_api_and_the_cli_say_it() {
        let english: Vec<String> = every_refusal().iter().map(|r| r.to_string()).collect();
        assert_eq!(english[1], "description must not be empty");
        assert_eq!(
            english[2],
            "counterpart is 501 characters long; at most 500 are allowed"
        );
        assert_eq!(english[3], "secrecy provision contains a control character");
        assert_eq!(
            english[6],
            "file name \"../etc/passwd\" must be a plain name without folders"
        );
        assert_eq!(
            english[8],
            format!(
                "file stor.pdf is {} bytes; at most {MAX_FILE_BYTES} are allowed",
                MAX_FILE_BYTES + 1
            )
        );
        assert!(english[9].contains("not accepted"), "{}", english[9]);
        assert!(
            english[10].contains("not what the name says"),
            "{}",
            english[10]
        );
    }

    #[test]
    fn sizes_read_in_megabytes_and_never_round_down_to_the_limit() {
        assert_eq!(megabytes(MAX_FILE_BYTES), "50");
        assert_eq!(megabytes(MAX_FILE_BYTES + 1), "50,1");
        assert_eq!(megabytes(3 * 1024 * 1024 / 2), "1,5");
        assert_eq!(megabytes(1), "0,1");
    }

    #[test]
    fn a_text_field_is_trimmed_and_checked_like_the_other_fields() {
        let field = DocumentField::Description;
        assert_eq!(document_text(field, Some("  "), 5), Ok(None));
        assert_eq!(
            required_document_text(field, " \t", 5),
            Err(DocumentRefusal::Empty { field })
        );
        assert_eq!(
            required_document_text(field, " å\näö\t ", 5).as_deref(),
            Ok("å\näö")
        );
        assert_eq!(
            document_text(field, Some("åäöåäö"), 5),
            Err(DocumentRefusal::TooLong {
                field,
                length: 6,
                max: 5
            })
        );
        assert_eq!(
            document_text(field, Some("a\u{7}b"), 5),
            Err(DocumentRefusal::ControlCharacter { field })
        );
    }
}
