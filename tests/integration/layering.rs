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

#[test]
fn the_domain_and_the_workflow_engine_use_no_database_web_mail_or_rendering_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for layer in ["domain", "workflow"] {
        rust_files(&root.join(layer), &mut files);
    }
    assert!(files.len() > 10, "the layers' files are found: {files:?}");
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for krate in OUTSIDE {
                // A path into the crate (`sea_orm::…`) or a `use` of it.
                if code.contains(&format!("{krate}::")) || code.contains(&format!("use {krate}")) {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "the pure layers name an outside crate:\n{}",
        found.join("\n")
    );
}
