//! The file formats a handling may be registered with: archive-suitable and common office
//! formats only, each known by its extension and checked against its content. Web pages,
//! pictures that can carry script (SVG), programs and scripts are never accepted, whatever
//! they are called, so that no file in the diarium can run in a browser that opens it.

/// A format a handling's file may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// PDF and PDF/A.
    Pdf,
    /// Word (Office Open XML).
    Docx,
    /// Excel (Office Open XML).
    Xlsx,
    /// OpenDocument text.
    Odt,
    /// OpenDocument spreadsheet.
    Ods,
    /// Plain text, UTF-8.
    Txt,
    /// Comma- or semicolon-separated values, UTF-8.
    Csv,
    /// PNG picture.
    Png,
    /// JPEG picture.
    Jpeg,
    /// TIFF picture.
    Tiff,
    /// An email as it was received.
    Eml,
    /// XML (not a web page or an SVG picture).
    Xml,
}

/// Why a file may not be a handling's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatRefusal {
    /// The extension names no accepted format.
    NotAccepted,
    /// The content is not what the extension says (or is a web page, a picture with script, a
    /// program).
    ContentDiffers,
}

/// What the accepted formats are called, for messages.
pub const ACCEPTED: &str = "PDF, DOCX, XLSX, ODT, ODS, TXT, CSV, PNG, JPEG, TIFF, EML, XML";

/// Markup that makes a file a web page or a picture with script when a browser reads it.
const ACTIVE_MARKUP: [&[u8]; 7] = [
    b"<html",
    b"<!doctype html",
    b"<script",
    b"<svg",
    b"<iframe",
    b"<body",
    b"javascript:",
];

/// How much of a PDF's beginning is searched for web markup: a browser that sniffs looks at
/// the first kilobyte.
const SNIFFED: usize = 1024;

impl FileFormat {
    /// The format a file's name says it has, by its extension (any letter case).
    pub fn of_name(name: &str) -> Option<Self> {
        let (_, ext) = name.rsplit_once('.')?;
        Some(match ext.to_ascii_lowercase().as_str() {
            "pdf" => Self::Pdf,
            "docx" => Self::Docx,
            "xlsx" => Self::Xlsx,
            "odt" => Self::Odt,
            "ods" => Self::Ods,
            "txt" => Self::Txt,
            "csv" => Self::Csv,
            "png" => Self::Png,
            "jpg" | "jpeg" => Self::Jpeg,
            "tif" | "tiff" => Self::Tiff,
            "eml" => Self::Eml,
            "xml" => Self::Xml,
            _ => return None,
        })
    }

    /// The format of a file named `name` with `content`, or why it is refused.
    pub fn check(name: &str, content: &[u8]) -> Result<Self, FormatRefusal> {
        let format = Self::of_name(name).ok_or(FormatRefusal::NotAccepted)?;
        match format.agrees_with(content) {
            true => Ok(format),
            false => Err(FormatRefusal::ContentDiffers),
        }
    }

    /// The media type the file is stored and served with.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Odt => "application/vnd.oasis.opendocument.text",
            Self::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            Self::Txt => "text/plain; charset=utf-8",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Tiff => "image/tiff",
            Self::Eml => "message/rfc822",
            Self::Xml => "application/xml",
        }
    }

    /// Whether `content` is a file of this format: the binary formats by their signatures (the
    /// office formats by what their archives hold), the text formats as UTF-8 without binary
    /// control characters;
    /// none of them a web page or a picture with script.
    fn agrees_with(self, content: &[u8]) -> bool {
        match self {
            Self::Pdf => {
                content.starts_with(b"%PDF-")
                    && !has_active_markup(&content[..content.len().min(SNIFFED)])
            }
            Self::Docx => infer::doc::is_docx(content),
            Self::Xlsx => infer::doc::is_xlsx(content),
            Self::Odt => infer::odf::is_odt(content),
            Self::Ods => infer::odf::is_ods(content),
            Self::Png => infer::image::is_png(content),
            Self::Jpeg => infer::image::is_jpeg(content),
            Self::Tiff => infer::image::is_tiff(content),
            Self::Txt | Self::Csv | Self::Eml | Self::Xml => {
                std::str::from_utf8(content).is_ok()
                    && !content.iter().any(|&b| is_binary_control(b))
                    && !has_active_markup(content)
            }
        }
    }
}

/// A control character no text file has (NUL, DEL and the like; a program's header has
/// them), as opposed to tab, line feed, form feed and carriage return.
fn is_binary_control(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r')) || b == 0x7f
}

/// Whether `content` holds markup a browser would run or render as a page (any letter case).
fn has_active_markup(content: &[u8]) -> bool {
    ACTIVE_MARKUP.iter().any(|marker| {
        content
            .windows(marker.len())
            .any(|w| w.eq_ignore_ascii_case(marker))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_pages_pictures_with_script_and_programs_are_never_accepted() {
        for name in [
            "a.html", "a.htm", "a.svg", "a.js", "a.bat", "a.hta", "a.exe", "a", "a.json",
        ] {
            assert_eq!(
                FileFormat::check(name, b"hej"),
                Err(FormatRefusal::NotAccepted),
                "{name}"
            );
        }
        for (name, content) in [
            ("a.pdf", &b"%PDF-1.7\n<html><script>alert(1)</script>"[..]),
            ("a.txt", b"<!DOCTYPE HTML><p>hej"),
            ("a.xml", b"<?xml version=\"1.0\"?><svg onload=\"x\"/>"),
            ("a.csv", b"a;b\n<SCRIPT>x</SCRIPT>"),
            ("a.png", b"MZ\x90\0"),
            ("a.txt", b"\x7fELF\x02\0"),
            ("a.docx", b"PK\x03\x04 not an office file"),
        ] {
            assert_eq!(
                FileFormat::check(name, content),
                Err(FormatRefusal::ContentDiffers),
                "{name}"
            );
        }
    }

    #[test]
    fn the_accepted_formats_pass_with_their_own_content() {
        assert_eq!(
            FileFormat::check("Svar.PDF", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n%%EOF\n"),
            Ok(FileFormat::Pdf)
        );
        assert_eq!(
            FileFormat::check("svar.txt", "Svar, åäö\n".as_bytes()),
            Ok(FileFormat::Txt)
        );
        assert_eq!(
            FileFormat::check("bild.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Ok(FileFormat::Png)
        );
        assert_eq!(
            FileFormat::check("foto.jpg", &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Ok(FileFormat::Jpeg)
        );
        assert_eq!(
            FileFormat::check("skanning.tif", b"II*\0\x08\0\0\0\x0e\0\0\x01"),
            Ok(FileFormat::Tiff)
        );
        assert_eq!(FileFormat::Csv.media_type(), "text/csv; charset=utf-8");
    }
}
