#![no_main]
//! Owns: the checking of a posted questionnaire form, `kansli::questionnaire::Questionnaire::
//! check`, on the questionnaires shipped in `workflows/enkater/` (loaded once, with
//! `kansli::questionnaire::parse` and `Questionnaires::load`), and the questionnaire file parser
//! `kansli::questionnaire::parse` itself.
//!
//! The form body is decoded as the `/enkat/{token}` handler does it (src/http/enkat.rs, `post`):
//! axum's `Form<Vec<(String, String)>>`, which is `serde_urlencoded`, then grouped into `Fields`
//! by name in posting order. That grouping is private to the handler, so it is repeated here.
//!
//! Input, by the first byte (mod 3):
//! - 0: the rest is an `application/x-www-form-urlencoded` body;
//! - 1: the rest builds the fields directly: names picked from the questionnaire's own field
//!   names (so the fuzzer reaches every question kind), values from its options or free text;
//! - 2: the rest is a questionnaire YAML file, a NUL byte, then a form body for it.
//!
//! Invariants checked:
//! - nothing panics on any body or any questionnaire file;
//! - a draft and a submission read the same answers, and a submission's problems include every
//!   problem of the draft (submitting only adds the missing required answers);
//! - answers and problems name questions of the questionnaire; an answer the form refuses is not
//!   kept for integer, date and choice questions; integers keep within min/max, choices are
//!   options (one for a single choice), tables have at most `MAX_ROWS` non-empty rows;
//! - a submission without problems has an answer to every required question;
//! - the answers posted again as form fields read back to the same answers, with no problem that
//!   the first reading did not have (a saved draft shown again and saved again is unchanged);
//! - the answers survive the JSON they are stored as.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use kansli::questionnaire::{
    Answer, Answers, ColumnKind, Fields, Kind, MAX_ROWS, Questionnaire, Questionnaires, parse,
};
use libfuzzer_sys::fuzz_target;

/// The shipped questionnaires, every file of `workflows/enkater/`.
fn shipped() -> &'static [Questionnaire] {
    static SHIPPED: OnceLock<Vec<Questionnaire>> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../workflows/enkater");
        let all = Questionnaires::load(&dir)
            .unwrap_or_else(|p| panic!("the shipped questionnaires do not load: {p:?}"));
        let mut list = Vec::new();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        for path in files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        {
            let Ok(source) = std::fs::read_to_string(&path) else {
                continue;
            };
            let q = parse(&path, &source)
                .unwrap_or_else(|p| panic!("{} does not parse: {p:?}", path.display()));
            assert!(
                all.for_year(&q.id, q.version).is_some(),
                "the loader has {}",
                q.id
            );
            list.push(q);
        }
        assert!(!list.is_empty(), "no questionnaire in {}", dir.display());
        list
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            let Some(fields) = decode_body(rest) else {
                return;
            };
            for q in shipped() {
                check(q, &fields);
            }
        }
        1 => {
            let mut u = Unstructured::new(rest);
            let questionnaires = shipped();
            let Ok(pick) = u.choose_index(questionnaires.len()) else {
                return;
            };
            let q = &questionnaires[pick];
            let Ok(fields) = fields_for(q, &mut u) else {
                return;
            };
            check(q, &fields);
        }
        _ => {
            let (source, body) = match rest.iter().position(|&b| b == 0) {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, &[][..]),
            };
            let Ok(source) = std::str::from_utf8(source) else {
                return;
            };
            let Ok(q) = parse(Path::new("enkater/fuzz.yaml"), source) else {
                return;
            };
            let Some(fields) = decode_body(body) else {
                return;
            };
            check(&q, &fields);
        }
    }
});

/// A form body as the handler reads it: pairs in order, grouped by name.
fn decode_body(body: &[u8]) -> Option<Fields> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    let mut fields = Fields::new();
    for (name, value) in pairs {
        fields.entry(name).or_default().push(value);
    }
    Some(fields)
}

/// Every field name the form of `q` has (the table rows the page shows, and two more).
fn field_names(q: &Questionnaire) -> Vec<String> {
    let mut names = vec!["atgard".to_owned()];
    for question in q.questions() {
        let id = &question.id;
        match &question.kind {
            Kind::Jnd => {
                names.push(id.clone());
                names.push(format!("{id}.kommentar"));
            }
            Kind::Group { fields } => {
                names.extend(fields.iter().map(|f| format!("{id}.{}", f.id)));
            }
            Kind::Table { columns, .. } => {
                for row in [0, 1, 2, 3, MAX_ROWS - 1, MAX_ROWS, MAX_ROWS + 1] {
                    names.extend(columns.iter().map(|c| format!("{id}.{row}.{}", c.id)));
                }
            }
            _ => names.push(id.clone()),
        }
    }
    names
}

/// Values worth trying for `q`: its options, the jnd answers, numbers and dates at the edges.
fn value_pool(q: &Questionnaire) -> Vec<String> {
    let mut pool: Vec<String> = [
        "ja",
        "nej",
        "delvis",
        "0",
        "-1",
        "12",
        "1 000",
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551616",
        "2026-06-30",
        "2026-02-30",
        "+10000-01-01",
        "-0001-12-31",
        "99999-12-31",
        " ",
        "",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut options = |o: &[String]| pool.extend(o.iter().cloned());
    for question in q.questions() {
        match &question.kind {
            Kind::Choice { options: o } | Kind::MultiChoice { options: o } => options(o),
            Kind::Group { fields: cols } | Kind::Table { columns: cols, .. } => {
                for c in cols {
                    if let ColumnKind::Choice { options: o } = &c.kind {
                        options(o);
                    }
                }
            }
            _ => {}
        }
    }
    pool
}

/// Fields built from fuzz bytes: pairs of a name (mostly one of the form's own) and a value
/// (mostly one worth trying, sometimes free text, sometimes long).
fn fields_for(q: &Questionnaire, u: &mut Unstructured<'_>) -> arbitrary::Result<Fields> {
    let names = field_names(q);
    let pool = value_pool(q);
    let mut fields = Fields::new();
    let count = u.int_in_range(0..=64)?;
    for _ in 0..count {
        let name = if u.ratio(7, 8)? {
            u.choose(&names)?.clone()
        } else {
            String::arbitrary(u)?
        };
        let value = match u.int_in_range(0..=7)? {
            0..=4 => u.choose(&pool)?.clone(),
            5 => String::arbitrary(u)?,
            6 => format!(" {} ", u.choose(&pool)?),
            _ => {
                let c = char::arbitrary(u)?;
                let n = u.int_in_range(1..=4002)?;
                std::iter::repeat_n(c, n).collect()
            }
        };
        fields.entry(name).or_default().push(value);
    }
    Ok(fields)
}

fn check(q: &Questionnaire, fields: &Fields) {
    let (draft, draft_errors) = q.check(fields, false);
    let (submitted, submit_errors) = q.check(fields, true);
    assert_eq!(
        draft, submitted,
        "a draft and a submission read the same answers"
    );
    for e in &draft_errors {
        assert!(submit_errors.contains(e), "{e:?} is lost on submitting");
    }
    let ids: Vec<&str> = q.questions().map(|x| x.id.as_str()).collect();
    for e in draft_errors.iter().chain(&submit_errors) {
        assert!(
            ids.contains(&e.question.as_str()),
            "{e:?} names no question"
        );
    }
    for question in q.questions() {
        let answer = draft.get(&question.id);
        if let Some(a) = answer {
            check_answer(question, a);
            let _ = a.display();
        }
        if submit_errors.is_empty() && question.required {
            assert!(
                answer.is_some(),
                "{} is required but has no answer",
                question.id
            );
        }
    }
    for id in draft.keys() {
        assert!(ids.contains(&id.as_str()), "answer {id} names no question");
    }

    // Stored as JSON, read back the same.
    let Ok(json) = serde_json_round_trip(&draft) else {
        return;
    };
    assert_eq!(json, draft, "the answers change in JSON");

    // Shown again as the form and saved again: the same answers, no new problem.
    let again = encode(q, &draft);
    let (reread, reread_errors) = q.check(&again, false);
    assert_eq!(
        reread, draft,
        "answers posted again as {again:?} read differently"
    );
    for e in &reread_errors {
        assert!(
            // Table rows are numbered afresh, so a refused cell may move to another row.
            draft_errors.iter().any(|d| d.question == e.question),
            "answers posted again as {again:?} get a new problem {e:?}"
        );
    }
}

fn serde_json_round_trip(answers: &Answers) -> Result<Answers, String> {
    let json = serde_json::to_string(answers).map_err(|e| e.to_string())?;
    let back: Answers = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("stored answers {json} do not read back: {e}"));
    Ok(back)
}

fn check_answer(question: &kansli::questionnaire::Question, answer: &Answer) {
    match (&question.kind, answer) {
        (Kind::Jnd, Answer::Jnd { value, comment }) => {
            assert!(
                value.is_some() || !comment.is_empty(),
                "{answer:?} is empty"
            );
        }
        (Kind::Text { .. }, Answer::Text { value }) => {
            assert!(!value.is_empty(), "{answer:?} is empty");
        }
        (Kind::Integer { min, max }, Answer::Integer { value }) => {
            assert!(min.is_none_or(|m| *value >= m), "{answer:?} under {min:?}");
            assert!(max.is_none_or(|m| *value <= m), "{answer:?} over {max:?}");
        }
        (Kind::Date, Answer::Date { .. }) => {}
        (Kind::Choice { options }, Answer::Choices { values }) => {
            assert!(
                !values.is_empty() && values.iter().all(|v| options.contains(v)),
                "{answer:?}"
            );
            let distinct: std::collections::BTreeSet<&String> = options.iter().collect();
            if distinct.len() == options.len() {
                assert_eq!(
                    values.len(),
                    1,
                    "{} is a single choice: {answer:?}",
                    question.id
                );
            }
        }
        (Kind::MultiChoice { options }, Answer::Choices { values }) => {
            assert!(
                !values.is_empty() && values.iter().all(|v| options.contains(v)),
                "{answer:?}"
            );
        }
        (Kind::Group { fields }, Answer::Group { values }) => {
            assert!(!values.is_empty(), "{answer:?} is empty");
            assert!(
                values.keys().all(|k| fields.iter().any(|f| f.id == *k)),
                "{answer:?}"
            );
        }
        (Kind::Table { columns, .. }, Answer::Table { rows }) => {
            assert!(
                !rows.is_empty() && rows.len() <= MAX_ROWS,
                "{} rows",
                rows.len()
            );
            for row in rows {
                assert!(!row.is_empty(), "an empty row is kept");
                assert!(
                    row.keys().all(|k| columns.iter().any(|c| c.id == *k)),
                    "{row:?}"
                );
            }
        }
        (kind, answer) => panic!("{kind:?} question {} has answer {answer:?}", question.id),
    }
}

/// The answers as the form posts them when it is shown again (src/http/enkat.rs, `sections`):
/// each value in its field, table rows numbered from 0.
fn encode(q: &Questionnaire, answers: &Answers) -> Fields {
    let mut fields = Fields::new();
    let mut put = |name: String, value: String| fields.entry(name).or_default().push(value);
    for question in q.questions() {
        let id = &question.id;
        let Some(answer) = answers.get(id) else {
            continue;
        };
        match answer {
            Answer::Jnd { value, comment } => {
                if let Some(v) = value {
                    put(id.clone(), v.clone());
                }
                put(format!("{id}.kommentar"), comment.clone());
            }
            Answer::Text { value } => put(id.clone(), value.clone()),
            Answer::Integer { value } => put(id.clone(), value.to_string()),
            Answer::Date { value } => put(id.clone(), value.to_string()),
            Answer::Choices { values } => {
                for v in values {
                    put(id.clone(), v.clone());
                }
            }
            Answer::Group { values } => {
                for (part, v) in values {
                    put(format!("{id}.{part}"), v.clone());
                }
            }
            Answer::Table { rows } => {
                for (r, row) in rows.iter().enumerate() {
                    let row: &BTreeMap<String, String> = row;
                    for (column, v) in row {
                        put(format!("{id}.{r}.{column}"), v.clone());
                    }
                }
            }
        }
    }
    fields
}
