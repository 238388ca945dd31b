#![no_main]
//! Owns: `kansli::domain::case_number`: `SeriesFormat::parse` (format templates),
//! `SeriesFormat::render` and `SeriesFormat::read` (diarienummer to text and back), and
//! `split_document_number` / `document_number` (a handling's `KS 2021/841:3`).
//!
//! Input: six bytes of numbers (year as u16 LE, running number as u32 LE), then UTF-8 text whose
//! lines are: the format template, the series prefix, a classification code, and a typed number.
//!
//! Invariants checked:
//! - nothing panics on any template, prefix or typed text;
//! - a typed number that reads gives parts in range (year 0..=9999, running number from 1, a
//!   classification exactly when the format shows one), and rendering those parts reads back to
//!   the same parts;
//! - round trip: for a template the series import and the admin page accept (trimmed, parses),
//!   a prefix they accept (one word of letters, digits and '-'), a classification they accept
//!   (letters, digits, '.', '-', at most 40) and parts in range, `read(prefix, render(prefix,
//!   parts)) == parts`: the parser refuses templates that cannot be read back, so every format
//!   it accepts must read its own numbers;
//! - `split_document_number(document_number(n, k)) == (n, k)` for a rendered number, and any
//!   split it makes of typed text is a positive number that writes back and splits the same way.
//!
//! Findings F2 and F3 of ../FINDINGS.md came from here (fixed: `parse` refuses such templates).

use kansli::domain::case_number::{
    CaseNumberParts, SeriesFormat, document_number, is_class_char, split_document_number,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((header, rest)) = data.split_first_chunk::<6>() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let year = i32::from(u16::from_le_bytes([header[0], header[1]]) % 10_000);
    let seq = u32::from_le_bytes([header[2], header[3], header[4], header[5]]).max(1);
    let mut lines = text.split('\n');
    let template = lines.next().unwrap_or_default();
    let prefix = lines.next().unwrap_or_default();
    let class = lines.next().unwrap_or_default();
    let typed = lines.next().unwrap_or_default();

    check_document_number(typed);

    let Ok(format) = SeriesFormat::parse(template) else {
        return;
    };
    assert_eq!(format.template(), template);
    assert_eq!(format.to_string(), template);

    // Whatever is typed: what reads is in range and reads back from its own rendering.
    if let Ok(parts) = format.read(prefix, typed) {
        assert!((0..=9999).contains(&parts.year), "{parts:?} from {typed:?}");
        assert!(parts.seq >= 1, "{parts:?} from {typed:?}");
        assert_eq!(
            parts.classification.is_some(),
            format.shows_classification(),
            "{parts:?} from {typed:?}"
        );
        if accepted(template, prefix, &parts) {
            let again = format.render(prefix, &parts);
            assert_eq!(
                format.read(prefix, &again).ok(),
                Some(parts.clone()),
                "{typed:?} read as {parts:?}, rendered {again:?} with {template:?} and prefix {prefix:?}"
            );
        }
    }

    // Render and read back, in the domain the series validation admits.
    let parts = CaseNumberParts {
        year,
        seq,
        classification: format.shows_classification().then(|| class.to_owned()),
    };
    if !accepted(template, prefix, &parts) {
        return;
    }
    let rendered = format.render(prefix, &parts);
    assert_eq!(
        format.read(prefix, &rendered).ok(),
        Some(parts.clone()),
        "{template:?} with prefix {prefix:?} rendered {parts:?} as {rendered:?}, which does not read back"
    );
    let handling = document_number(&rendered, seq);
    assert_eq!(
        split_document_number(&handling),
        Some((rendered.as_str(), seq)),
        "{handling:?}"
    );
});

/// Whether the series validation (organisation import and the admin page) accepts this template
/// and prefix, and whether the parts are in the documented range for it.
fn accepted(template: &str, prefix: &str, parts: &CaseNumberParts) -> bool {
    let prefix_ok = !prefix.is_empty() && prefix.chars().all(|c| c.is_alphanumeric() || c == '-');
    let class_ok = parts
        .classification
        .as_deref()
        .is_none_or(|c| !c.is_empty() && c.chars().count() <= 40 && c.chars().all(is_class_char));
    template == template.trim()
        && prefix_ok
        && class_ok
        && (0..=9999).contains(&parts.year)
        && parts.seq >= 1
}

fn check_document_number(typed: &str) {
    let Some((case, seq)) = split_document_number(typed) else {
        return;
    };
    assert!(seq > 0, "{typed:?}");
    let written = document_number(case, seq);
    assert_eq!(
        split_document_number(&written),
        Some((case, seq)),
        "{typed:?} split as ({case:?}, {seq}), written back as {written:?}"
    );
}
