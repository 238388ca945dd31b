//! Diarienummer: how a series renders and reads back the number of an ärende and a handling.
//!
//! There is no statutory format, so each series carries a format template (`{prefix} {year}/{seq}`
//! gives `KS 2021/841`, `{prefix}{year}.{seq:4}` gives `KS2022.0435`). The parts of a number are
//! stored apart (series, year, running number, classification) and only ever joined here, which
//! is why a municipality can change how a series reads without renumbering anything.

use std::fmt;

/// A parsed series format template.
///
/// Placeholders: `{prefix}` (the series prefix), `{year}` (four digits), `{seq}` or `{seq:N}`
/// (the running number, zero-padded to N digits), `{class}` (the KLASSA classification code).
/// Everything else is literal text. `{year}` and `{seq}` are required, since a number restarts
/// every year and the year is therefore part of its identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesFormat {
    template: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Prefix,
    Year,
    Seq { width: usize },
    Class,
}

/// Why a format template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// `{` without a matching `}`.
    #[error("unclosed '{{' in format {0:?}")]
    Unclosed(String),
    /// A placeholder the format language does not have.
    #[error(
        "unknown placeholder {{{0}}}: use {{prefix}}, {{year}}, {{seq}}, {{seq:N}} or {{class}}"
    )]
    UnknownPlaceholder(String),
    /// A placeholder that must appear once appears more often, or a required one is missing.
    #[error("the format must contain {{{0}}} exactly once")]
    Count(&'static str),
    /// Two placeholders next to each other cannot be told apart when reading a number back.
    #[error("{{{0}}} and {{{1}}} need literal text between them to be read back")]
    Adjacent(&'static str, &'static str),
    /// A number followed by a digit, or a classification code followed by a character a code
    /// can hold, or either followed by the prefix (which may begin with one), would run into
    /// what follows when a number is read back.
    #[error(
        "{{{0}}} is followed by {1}, which it could run into when a number is read back: put a \
         separator between them that is neither a digit, a letter, '.' nor '-'"
    )]
    RunsOn(&'static str, String),
}

/// Why a typed number does not read as a number of this series.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} does not match the series format {template:?} (e.g. {example:?})")]
pub struct NumberMismatch {
    input: String,
    template: String,
    example: String,
}

/// The parts of a diarienummer, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseNumberParts {
    /// The calendar year the number belongs to.
    pub year: i32,
    /// The running number within the series and year, from 1.
    pub seq: u32,
    /// The classification code, when the format shows one.
    pub classification: Option<String>,
}

impl SeriesFormat {
    /// The conventional `{prefix} {year}/{seq}`, as in `KS 2021/841`.
    pub fn standard() -> Self {
        Self::parse("{prefix} {year}/{seq}").expect("the standard format is valid")
    }

    /// Parses a format template.
    pub fn parse(template: &str) -> Result<Self, FormatError> {
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            match rest.find('{') {
                Some(0) => {
                    let end = rest
                        .find('}')
                        .ok_or_else(|| FormatError::Unclosed(template.to_owned()))?;
                    parts.push(Self::placeholder(&rest[1..end])?);
                    rest = &rest[end + 1..];
                }
                Some(i) => {
                    parts.push(Part::Literal(rest[..i].to_owned()));
                    rest = &rest[i..];
                }
                None => {
                    parts.push(Part::Literal(rest.to_owned()));
                    rest = "";
                }
            }
        }
        let count = |want: fn(&Part) -> bool| parts.iter().filter(|p| want(p)).count();
        if count(|p| matches!(p, Part::Year)) != 1 {
            return Err(FormatError::Count("year"));
        }
        if count(|p| matches!(p, Part::Seq { .. })) != 1 {
            return Err(FormatError::Count("seq"));
        }
        if count(|p| matches!(p, Part::Prefix)) > 1 {
            return Err(FormatError::Count("prefix"));
        }
        if count(|p| matches!(p, Part::Class)) > 1 {
            return Err(FormatError::Count("class"));
        }
        // Digits run into digits, and a class code may hold digits: without a separator the
        // reader could not tell where one part ends.
        for pair in parts.windows(2) {
            let (a, b) = (pair[0].name(), pair[1].name());
            if let (Some(a), Some(b)) = (a, b) {
                let both_numeric = a != "prefix" && b != "prefix";
                if both_numeric {
                    return Err(FormatError::Adjacent(a, b));
                }
            }
        }
        // A number is read as the longest run of digits, and a code up to the literal after it:
        // what follows either must not be able to continue it.
        for pair in parts.windows(2) {
            let (name, continues): (&'static str, fn(char) -> bool) = match &pair[0] {
                Part::Year => ("year", |c| c.is_ascii_digit()),
                Part::Seq { .. } => ("seq", |c| c.is_ascii_digit()),
                Part::Class => ("class", is_class_char),
                _ => continue,
            };
            match &pair[1] {
                Part::Literal(text) if text.starts_with(continues) => {
                    return Err(FormatError::RunsOn(name, format!("{text:?}")));
                }
                Part::Prefix => {
                    return Err(FormatError::RunsOn(name, "{prefix}".to_owned()));
                }
                _ => {}
            }
        }
        Ok(Self {
            template: template.to_owned(),
            parts,
        })
    }

    fn placeholder(name: &str) -> Result<Part, FormatError> {
        match name {
            "prefix" => Ok(Part::Prefix),
            "year" => Ok(Part::Year),
            "seq" => Ok(Part::Seq { width: 0 }),
            "class" => Ok(Part::Class),
            _ => match name.strip_prefix("seq:").map(str::parse::<usize>) {
                Some(Ok(width)) if (1..=9).contains(&width) => Ok(Part::Seq { width }),
                _ => Err(FormatError::UnknownPlaceholder(name.to_owned())),
            },
        }
    }

    /// The template as written.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// Whether numbers in this format show a classification code.
    pub fn shows_classification(&self) -> bool {
        self.parts.contains(&Part::Class)
    }

    /// Renders a number. A format that shows the classification needs one.
    pub fn render(&self, prefix: &str, parts: &CaseNumberParts) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Prefix => out.push_str(prefix),
                Part::Year => out.push_str(&format!("{:04}", parts.year)),
                Part::Seq { width } => out.push_str(&format!("{:0width$}", parts.seq)),
                Part::Class => out.push_str(parts.classification.as_deref().unwrap_or("")),
            }
        }
        out
    }

    /// Reads a number back. The prefix and literal text compare without regard to ASCII case,
    /// and a run of white space in the format accepts any run of white space, because that is
    /// how people type numbers into a search box.
    pub fn read(&self, prefix: &str, input: &str) -> Result<CaseNumberParts, NumberMismatch> {
        self.read_parts(prefix, input.trim())
            .ok_or_else(|| NumberMismatch {
                input: input.to_owned(),
                template: self.template.clone(),
                example: self.render(
                    prefix,
                    &CaseNumberParts {
                        year: 2026,
                        seq: 41,
                        classification: Some("2.4.1".into()),
                    },
                ),
            })
    }

    fn read_parts(&self, prefix: &str, input: &str) -> Option<CaseNumberParts> {
        let mut rest = input;
        let mut year = None;
        let mut seq = None;
        let mut classification = None;
        for (i, part) in self.parts.iter().enumerate() {
            match part {
                Part::Literal(text) => rest = eat_literal(rest, text)?,
                Part::Prefix => rest = eat_literal(rest, prefix)?,
                Part::Year => {
                    let digits = leading(rest, |c| c.is_ascii_digit());
                    if digits.len() != 4 {
                        return None;
                    }
                    year = Some(digits.parse().ok()?);
                    rest = &rest[4..];
                }
                Part::Seq { .. } => {
                    let digits = leading(rest, |c| c.is_ascii_digit());
                    let value: u32 = digits.parse().ok()?;
                    if value == 0 {
                        return None;
                    }
                    seq = Some(value);
                    rest = &rest[digits.len()..];
                }
                Part::Class => {
                    // A code runs to the next literal when that literal could occur inside a
                    // code (`{class}-x`), otherwise as far as code characters go.
                    let code = match self.parts.get(i + 1) {
                        Some(Part::Literal(next)) if !next.trim().is_empty() => {
                            &rest[..rest.find(next.as_str())?]
                        }
                        _ => leading(rest, is_class_char),
                    };
                    if code.is_empty() || !code.chars().all(is_class_char) {
                        return None;
                    }
                    classification = Some(code.to_owned());
                    rest = &rest[code.len()..];
                }
            }
        }
        rest.is_empty().then_some(CaseNumberParts {
            year: year?,
            seq: seq?,
            classification,
        })
    }
}

impl fmt::Display for SeriesFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.template)
    }
}

impl Part {
    fn name(&self) -> Option<&'static str> {
        match self {
            Part::Literal(_) => None,
            Part::Prefix => Some("prefix"),
            Part::Year => Some("year"),
            Part::Seq { .. } => Some("seq"),
            Part::Class => Some("class"),
        }
    }
}

/// Whether `c` may stand in a classification code (`2.4.1`, `KS-010`, `10`).
pub fn is_class_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '-'
}

fn leading(s: &str, keep: impl Fn(char) -> bool) -> &str {
    let end = s.find(|c| !keep(c)).unwrap_or(s.len());
    &s[..end]
}

fn eat_literal<'a>(input: &'a str, literal: &str) -> Option<&'a str> {
    if literal.chars().all(char::is_whitespace) && !literal.is_empty() {
        let trimmed = input.trim_start();
        return (trimmed.len() < input.len()).then_some(trimmed);
    }
    let head = input.get(..literal.len())?;
    head.eq_ignore_ascii_case(literal)
        .then(|| &input[literal.len()..])
}

/// Splits a handling's number (`KS 2021/841:3`) into the ärende's number and the running number
/// of the handling. Returns `None` when the text does not end in `:N`.
pub fn split_document_number(input: &str) -> Option<(&str, u32)> {
    let (case, seq) = input.trim().rsplit_once(':')?;
    let seq: u32 = seq.trim().parse().ok()?;
    (seq > 0).then_some((case.trim_end(), seq))
}

/// Renders a handling's number from its ärende's number and its running number.
pub fn document_number(case_number: &str, seq: u32) -> String {
    format!("{case_number}:{seq}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzzing findings F2 and F3 (`fuzz/FINDINGS.md`): a number followed by a digit, or a code
    /// followed by what a code can hold, could not be read back.
    #[test]
    fn a_part_followed_by_what_could_continue_it_is_refused() {
        for template in [
            "{prefix} {year}/{seq}8 :{class}",
            "{prefix} {year}1/{seq}",
            "{year}/{seq}{prefix}",
            "{year}/{class}.{seq}",
            "{year}/{seq}-{class}{prefix}",
            "{year}/{seq} {class}-1",
        ] {
            assert!(
                matches!(SeriesFormat::parse(template), Err(FormatError::RunsOn(..))),
                "{template}"
            );
        }
        for template in [
            "{prefix} {year}/{seq}",
            "{prefix}{year}.{seq:4}",
            "{year}/{prefix} {seq:4} {class}",
            "{prefix}/{year}:{seq}",
        ] {
            assert!(SeriesFormat::parse(template).is_ok(), "{template}");
        }
    }

    fn parts(year: i32, seq: u32, class: Option<&str>) -> CaseNumberParts {
        CaseNumberParts {
            year,
            seq,
            classification: class.map(str::to_owned),
        }
    }

    #[test]
    fn every_format_seen_in_municipal_documents_round_trips() {
        let cases = [
            (
                "{prefix} {year}/{seq}",
                "KS",
                parts(2021, 841, None),
                "KS 2021/841",
            ),
            (
                "{prefix}{year}.{seq:4}",
                "KS",
                parts(2022, 435, None),
                "KS2022.0435",
            ),
            (
                "{prefix} {year}-{seq:5}",
                "KS",
                parts(2023, 123, None),
                "KS 2023-00123",
            ),
            (
                "{prefix} {year}/{seq}",
                "KLF",
                parts(2021, 12, None),
                "KLF 2021/12",
            ),
            (
                "{year}/{prefix} {seq:4}",
                "KS",
                parts(2022, 136, None),
                "2022/KS 0136",
            ),
            (
                "{prefix}/{year}:{seq}",
                "KS",
                parts(2014, 1, None),
                "KS/2014:1",
            ),
            (
                "{year}/{prefix} {seq:4} {class}",
                "KS",
                parts(2022, 136, Some("10")),
                "2022/KS 0136 10",
            ),
            (
                "{prefix}{year}-{seq}.{class}",
                "KSM",
                parts(2022, 397, Some("051")),
                "KSM2022-397.051",
            ),
            (
                "{prefix} {year}/{seq:4} {class}",
                "KS",
                parts(2019, 87, Some("2.4.1")),
                "KS 2019/0087 2.4.1",
            ),
        ];
        for (template, prefix, number, text) in cases {
            let format = SeriesFormat::parse(template).unwrap();
            assert_eq!(format.render(prefix, &number), text, "render {template}");
            assert_eq!(format.read(prefix, text).unwrap(), number, "read {text}");
        }
    }

    #[test]
    fn padding_never_truncates_a_large_number() {
        let format = SeriesFormat::parse("{prefix}{year}.{seq:4}").unwrap();
        let big = parts(2022, 12345, None);
        assert_eq!(format.render("KS", &big), "KS2022.12345");
        assert_eq!(format.read("KS", "KS2022.12345").unwrap(), big);
    }

    #[test]
    fn reading_is_forgiving_about_case_and_spacing_but_not_about_separators() {
        let format = SeriesFormat::standard();
        assert_eq!(format.read("KS", " ks  2021/841 ").unwrap().seq, 841);
        assert!(format.read("KS", "KS 2021-841").is_err());
        assert!(format.read("KS", "KS2021/841").is_err());
        assert!(format.read("KS", "KLF 2021/841").is_err());
        assert!(format.read("KS", "KS 21/841").is_err());
        assert!(format.read("KS", "KS 2021/0").is_err());
        assert!(format.read("KS", "KS 2021/841x").is_err());
    }

    #[test]
    fn a_mismatch_names_the_format_and_shows_an_example() {
        let format = SeriesFormat::parse("{prefix}{year}.{seq:4}").unwrap();
        let message = format.read("KS", "KS 2022/12").unwrap_err().to_string();
        assert!(message.contains("{prefix}{year}.{seq:4}"), "{message}");
        assert!(message.contains("KS2026.0041"), "{message}");
    }

    #[test]
    fn templates_that_cannot_be_read_back_are_refused() {
        use FormatError::*;
        assert_eq!(SeriesFormat::parse("{prefix} {seq}"), Err(Count("year")));
        assert_eq!(
            SeriesFormat::parse("{year}/{year}/{seq}"),
            Err(Count("year"))
        );
        assert_eq!(
            SeriesFormat::parse("{prefix}{year}{seq}"),
            Err(Adjacent("year", "seq"))
        );
        assert_eq!(
            SeriesFormat::parse("{prefix} {yr}/{seq}"),
            Err(UnknownPlaceholder("yr".into()))
        );
        assert_eq!(
            SeriesFormat::parse("{prefix} {year}/{seq:0}"),
            Err(UnknownPlaceholder("seq:0".into()))
        );
        assert!(matches!(
            SeriesFormat::parse("{prefix {year}"),
            Err(UnknownPlaceholder(_))
        ));
        assert!(matches!(
            SeriesFormat::parse("{year}/{seq"),
            Err(Unclosed(_))
        ));
        // A prefix may touch the year: the prefix is known text.
        assert!(SeriesFormat::parse("{prefix}{year}/{seq}").is_ok());
    }

    #[test]
    fn a_document_number_is_the_case_number_and_a_running_number() {
        assert_eq!(document_number("KS 2021/841", 3), "KS 2021/841:3");
        assert_eq!(
            split_document_number("KS 2021/841:3"),
            Some(("KS 2021/841", 3))
        );
        // A format that itself uses ':' still splits at the last one.
        assert_eq!(split_document_number("KS/2014:1:2"), Some(("KS/2014:1", 2)));
        assert_eq!(split_document_number("KS 2021/841"), None);
        assert_eq!(split_document_number("KS 2021/841:0"), None);
    }
}
