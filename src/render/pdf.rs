//! PDF/A-2b documents through Typst, for the handlingar that are archived and sent out (the
//! protokollsutdrag). A template `templates/documents/<id>.typ` gets the document's context as
//! JSON in `sys.inputs.data` (`#let d = json(bytes(sys.inputs.data))`), so text from users is
//! data and never Typst markup. The sans-serif font (DejaVu Sans) is built into the binary and
//! embedded in every file, as PDF/A requires; nothing is read from the machine's fonts.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Timelike, Utc};
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Dict, Str, Value};
use typst::layout::PagedDocument;
use typst::syntax::{FileId, Source, VirtualPath};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

/// The fonts every document may use, parsed once.
static FONTS: LazyLock<(Vec<Font>, LazyHash<FontBook>)> = LazyLock::new(|| {
    let files: [&'static [u8]; 2] = [
        include_bytes!("../../templates/fonts/DejaVuSans.ttf"),
        include_bytes!("../../templates/fonts/DejaVuSans-Bold.ttf"),
    ];
    let fonts: Vec<Font> = files
        .into_iter()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    let book = LazyHash::new(FontBook::from_fonts(&fonts));
    (fonts, book)
});

/// One compilation: the template as the only source, the data as its input.
struct Compilation {
    library: LazyHash<Library>,
    source: Source,
    today: Option<Datetime>,
}

impl World for Compilation {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.1
    }

    fn main(&self) -> FileId {
        self.source.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        match id == self.source.id() {
            true => Ok(self.source.clone()),
            false => Err(not_found(id)),
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        // A document template reads no files: its data comes in `sys.inputs`.
        Err(not_found(id))
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.0.get(index).cloned()
    }

    fn today(&self, _offset: Option<i64>) -> Option<Datetime> {
        self.today
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.vpath().as_rootless_path().into())
}

fn datetime(at: DateTime<Utc>) -> Option<Datetime> {
    Datetime::from_ymd_hms(
        at.year(),
        at.month() as u8,
        at.day() as u8,
        at.hour() as u8,
        at.minute() as u8,
        at.second() as u8,
    )
}

/// Compiles `template` (Typst markup) with `data` (JSON) to a PDF/A-2b file dated `at`; the
/// error is Typst's own message.
pub fn render(template: &str, data: &str, at: DateTime<Utc>) -> Result<Vec<u8>, String> {
    let inputs = Dict::from_iter([(Str::from("data"), Value::Str(data.into()))]);
    let world = Compilation {
        library: LazyHash::new(Library::builder().with_inputs(inputs).build()),
        source: Source::new(
            FileId::new(None, VirtualPath::new("document.typ")),
            template.to_owned(),
        ),
        today: datetime(at),
    };
    let document: PagedDocument = typst::compile(&world)
        .output
        .map_err(|errors| messages(&errors))?;
    let standards =
        typst_pdf::PdfStandards::new(&[typst_pdf::PdfStandard::A_2b]).map_err(|e| e.to_string())?;
    let options = typst_pdf::PdfOptions {
        standards,
        timestamp: datetime(at).map(typst_pdf::Timestamp::new_utc),
        ..Default::default()
    };
    typst_pdf::pdf(&document, &options).map_err(|errors| messages(&errors))
}

fn messages(errors: &[typst::diag::SourceDiagnostic]) -> String {
    errors
        .iter()
        .map(|e| e.message.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}
