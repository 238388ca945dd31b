//! The layers hold: the domain (value types with their rules) and the workflow model and engine
//! (pure decisions) know nothing of the database, the web, mail or rendering, so that they can
//! be read, tested and reused without them. Read from the source, as a reviewer would.

use std::path::{Path, PathBuf};

/// The crates the pure layers must not name.
const OUTSIDE: [&str; 5] = ["sea_orm", "axum", "lettre", "handlebars", "typst"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every line of code (comments left out) in the `layers` of `src/` that `offends`, as
/// `file:line: text`.
fn offending_lines(layers: &[&str], offends: impl Fn(&str) -> bool) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for layer in layers {
        rust_files(&root.join(layer), &mut files);
    }
    assert!(files.len() > 10, "the layers' files are found: {files:?}");
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if offends(code) {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn the_domain_and_the_workflow_engine_use_no_database_web_mail_or_rendering_crate() {
    // A path into the crate (`sea_orm::…`) or a `use` of it.
    let found = offending_lines(&["domain", "workflow"], |code| {
        OUTSIDE.iter().any(|krate| {
            code.contains(&format!("{krate}::")) || code.contains(&format!("use {krate}"))
        })
    });
    assert!(
        found.is_empty(),
        "the pure layers name an outside crate:\n{}",
        found.join("\n")
    );
}

/// Words that are a shipped workflow's state names and also the diarium's or the meetings' own
/// vocabulary, which the code must speak: an ärende's status `avslutat`, a protocol's
/// `justering` and its `anslag` (`../shared/domain.md`). Each is a name of the domain, not of
/// a workflow.
const DOMAIN_WORDS: [&str; 3] = ["avslutat", "justering", "anslag"];

/// Every id, state, event and timer name of the shipped workflows.
fn shipped_names() -> std::collections::BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog = kansli::workflow::Catalog::load(&root.join("workflows"), &root.join("templates"))
        .expect("the shipped workflows load");
    let mut names = std::collections::BTreeSet::new();
    for entry in catalog.iter() {
        let w = &entry.workflow;
        names.insert(w.id.clone());
        for (name, state) in &w.states {
            names.insert(name.clone());
            names.extend(
                state
                    .timers_set()
                    .flat_map(|t| [t.name.clone(), t.event.clone()]),
            );
            names.extend(state.transitions.iter().map(|t| t.event.clone()));
        }
    }
    names
}

/// The quoted strings of a line of Rust.
fn string_literals(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else { break };
        out.push(&after[..end]);
        rest = &after[end + 1..];
    }
    out
}

#[test]
fn no_code_outside_tests_names_a_state_event_timer_or_id_of_a_shipped_workflow() {
    let names = shipped_names();
    for expected in ["aktiva-atgarder", "inbjuden", "svar_inskickat", "svarstid"] {
        assert!(names.contains(expected), "the names are read: {names:?}");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // Unit tests may run the shipped workflows; the code they test may not name them.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (n, line) in code.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for literal in string_literals(line) {
                if names.contains(literal) && !DOMAIN_WORDS.contains(&literal) {
                    found.push(format!(
                        "{}:{}: {literal:?} in {}",
                        file.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "code names a shipped workflow's own names; declare what it needs in the workflow file:\n{}",
        found.join("\n")
    );
}

/// Whether `code` names the identifier `name` itself, not one that begins or ends with it.
fn names(code: &str, name: &str) -> bool {
    let part = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(name).any(|(at, _)| {
        !code[..at].chars().next_back().is_some_and(part)
            && !code[at + name.len()..].chars().next().is_some_and(part)
    })
}

#[test]
fn the_pages_and_the_command_line_reach_the_database_only_through_the_services() {
    // The store itself, a transaction on it, or the way to them.
    let found = offending_lines(&["http", "cli"], |code| {
        code.contains(".store()")
            || (code.contains("store::") && ["Store", "Tx"].iter().any(|t| names(code, t)))
    });
    assert!(
        found.is_empty(),
        "the pages or the command line reach the store; add a service:\n{}",
        found.join("\n")
    );
}
