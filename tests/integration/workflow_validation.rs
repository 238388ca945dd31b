//! Broken workflow files, each refused with its own message and position.
//!
//! Every file in `tests/fixtures/broken-workflows/` is a small workflow with exactly one
//! mistake. Its first line says what the validator must report:
//!
//! ```yaml
//! # expect: 14:9: event finish goes to state "nowhere", which is not defined
//! ```
//!
//! that is: exactly one problem, at line 14, column 9, whose message contains the text and
//! fits on one line (`kansli workflow check` prints one `file:line:column: message` a line).
//! Cross-file mistakes (a child workflow or a template that does not exist) live in
//! `tests/fixtures/broken-workflows-refs/` and are checked through [`Catalog::load`].

use std::path::{Path, PathBuf};

use kansli::workflow::catalog::parse;
use kansli::workflow::{Catalog, Problem};

/// At least one fixture per kind of mistake the suite was written for, so that deleting
/// fixtures cannot make the test pass on an empty folder.
const MINIMUM_BROKEN_FIXTURES: usize = 18;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn templates() -> PathBuf {
    root().join("templates")
}

/// The `*.yaml` files of a folder, sorted by name.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// What a fixture's first line promises.
#[derive(Debug)]
struct Expectation {
    line: u64,
    column: u64,
    text: String,
}

/// Reads `# expect: LINE:COL: TEXT` from the first line of a fixture.
fn expectation(source: &str) -> Result<Expectation, String> {
    let first = source.lines().next().unwrap_or_default();
    let rest = first
        .strip_prefix("# expect:")
        .ok_or_else(|| format!("the first line {first:?} is not `# expect: LINE:COL: TEXT`"))?;
    let mut parts = rest.trim_start().splitn(3, ':');
    let mut number = |what: &str| -> Result<u64, String> {
        let part = parts.next().unwrap_or_default().trim();
        part.parse()
            .map_err(|_| format!("the expected {what} {part:?} in {first:?} is not a number"))
    };
    let line = number("line")?;
    let column = number("column")?;
    let text = parts.next().unwrap_or_default().trim().to_owned();
    if text.is_empty() {
        return Err(format!("the first line {first:?} gives no message text"));
    }
    Ok(Expectation { line, column, text })
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| {
            let message = p.message.replace('\n', "\\n");
            format!("\n      {}:{}: {message}", p.line, p.column)
        })
        .collect()
}

/// Checks one fixture; `Err` says how it went wrong.
fn check(path: &Path) -> Result<(), String> {
    let source = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let expected = expectation(&source)?;
    let problems = match parse(path, &source) {
        Ok(_) => {
            return Err(format!(
                "accepted, but expected {}:{}: {}",
                expected.line, expected.column, expected.text
            ));
        }
        Err(problems) => problems,
    };
    let matches = |p: &Problem| {
        p.line == expected.line && p.column == expected.column && p.message.contains(&expected.text)
    };
    if problems.len() == 1 && matches(&problems[0]) {
        if problems[0].message.contains('\n') {
            return Err(format!(
                "the message spans several lines, which breaks the one-problem-a-line report:{}",
                list(&problems)
            ));
        }
        return Ok(());
    }
    Err(format!(
        "expected exactly one problem {}:{}: {}\n    got {}:{}",
        expected.line,
        expected.column,
        expected.text,
        problems.len(),
        list(&problems)
    ))
}

#[test]
fn every_broken_workflow_is_refused_with_its_own_message_and_position() {
    let dir = root().join("tests/fixtures/broken-workflows");
    let files = yaml_files(&dir);
    assert!(
        files.len() >= MINIMUM_BROKEN_FIXTURES,
        "{} holds {} workflow files; expected at least {MINIMUM_BROKEN_FIXTURES}",
        dir.display(),
        files.len()
    );
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            check(path).err().map(|why| {
                let name = path.file_name().unwrap().to_string_lossy();
                format!("  {name}: {why}")
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} broken workflows were not refused as their first line says:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn the_expectation_line_is_read_as_line_column_and_message() {
    let e = expectation("# expect: 14:9: event finish: unknown role \"kung\"\nid: x\n").unwrap();
    assert_eq!((e.line, e.column), (14, 9));
    assert_eq!(e.text, "event finish: unknown role \"kung\"");
    assert!(expectation("id: x\n").is_err());
    assert!(expectation("# expect: 14: no column\n").is_err());
    assert!(expectation("# expect: 14:9:\n").is_err());
}

#[test]
fn a_missing_child_workflow_and_a_missing_email_template_are_both_reported_at_their_lines() {
    let dir = root().join("tests/fixtures/broken-workflows-refs");
    let problems = Catalog::load(&dir, &templates())
        .expect_err("a folder naming a missing workflow and a missing template must be refused");
    let file = dir.join("missing-references.yaml");
    let child = (
        13,
        9,
        "start_children names workflow \"no-such-child\", which is not in the folder",
    );
    let email = (21, 13, "email template \"no-such-template\" is missing");
    let at = |(line, column, text): (u64, u64, &str)| {
        problems
            .iter()
            .filter(|p| p.line == line && p.column == column && p.message.contains(text))
            .count()
    };
    assert_eq!(
        at(child),
        1,
        "the missing child workflow:{}",
        list(&problems)
    );
    assert!(
        at(email) >= 1,
        "the missing email template:{}",
        list(&problems)
    );
    assert_eq!(
        at(child) + at(email),
        problems.len(),
        "nothing but these two mistakes:{}",
        list(&problems)
    );
    assert!(
        problems.iter().all(|p| p.file == file),
        "every problem names the file:{}",
        list(&problems)
    );
}

#[test]
fn the_shipped_workflows_load_against_the_shipped_templates_without_problems() {
    let dir = root().join("workflows");
    let catalog = Catalog::load(&dir, &templates()).unwrap_or_else(|problems| {
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        panic!("the shipped workflows have problems:\n{}", text.join("\n"))
    });
    for file in yaml_files(&dir) {
        let id = file.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(catalog.get(&id).is_some(), "{id} is not in the catalog");
    }
}

#[test]
fn a_questionnaire_declaration_naming_a_questionnaire_enkater_lacks_is_reported_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string(
        root().join("tests/fixtures/broken-workflows/questionnaire-submit-not-taken.yaml"),
    )
    .unwrap()
    // The fixture's own mistake mended: only the missing questionnaire is left.
    .replace("answering: [inbjuden, utkast]", "answering: [inbjuden]")
    .replace("id: questionnaire-submit-not-taken", "id: enkat-flow");
    std::fs::write(dir.path().join("enkat-flow.yaml"), source).unwrap();
    let problems = Catalog::load(dir.path(), &templates())
        .expect_err("a questionnaire that does not exist must be refused");
    assert_eq!(problems.len(), 1, "{}", list(&problems));
    let p = &problems[0];
    assert_eq!((p.line, p.column), (6, 7), "{}", list(&problems));
    assert!(
        p.message
            .contains("questionnaire: id: \"enkat\" has no version in")
            && p.file.ends_with("enkat-flow.yaml"),
        "{}",
        list(&problems)
    );

    // With the questionnaire in enkater/, the same folder loads.
    let enkater = dir.path().join("enkater");
    std::fs::create_dir(&enkater).unwrap();
    let shipped = root().join("workflows/enkater/aktiva-atgarder-2026.yaml");
    let text = std::fs::read_to_string(shipped)
        .unwrap()
        .replace("id: aktiva-atgarder", "id: enkat");
    std::fs::write(enkater.join("enkat-2026.yaml"), text).unwrap();
    Catalog::load(dir.path(), &templates()).unwrap_or_else(|p| panic!("{}", list(&p)));
}
