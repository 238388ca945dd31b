//! The workflows in a folder: every file parsed and validated, references between files and to
//! templates checked, and every problem reported with its file, line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::definition::RawWorkflow;
use super::model::{Problem, Workflow, validate};
use crate::questionnaire::Questionnaires;
use crate::render::Renderer;

/// A workflow with the source it was read from.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The validated workflow.
    pub workflow: Arc<Workflow>,
    /// The file's text, stored with each version.
    pub source: String,
    /// Hex SHA-256 of the source.
    pub hash: String,
    /// Where it was read from.
    pub path: PathBuf,
}

/// Every valid workflow of a folder, by id, with the templates they render.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    entries: BTreeMap<String, Entry>,
    renderer: Option<Arc<Renderer>>,
    questionnaires: Arc<Questionnaires>,
}

impl Catalog {
    /// Loads every `*.yaml` file in `dir`, checking templates under `templates`.
    pub fn load(dir: &Path, templates: &Path) -> Result<Self, Vec<Problem>> {
        let mut files = Vec::new();
        let read = std::fs::read_dir(dir).map_err(|e| {
            vec![Problem {
                file: dir.to_owned(),
                line: 0,
                column: 0,
                message: format!("cannot read the folder: {e}"),
            }]
        })?;
        for entry in read.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                match std::fs::read_to_string(&path) {
                    Ok(text) => files.push((path, text)),
                    Err(e) => {
                        return Err(vec![Problem {
                            file: path,
                            line: 0,
                            column: 0,
                            message: format!("cannot read: {e}"),
                        }]);
                    }
                }
            }
        }
        files.sort();
        let folder = dir.join("enkater");
        let questionnaires = Questionnaires::load(&folder);
        match (Self::from_sources(files, Some(templates)), questionnaires) {
            (Ok(catalog), Ok(q)) => {
                let missing = catalog.questionnaires_missing_from(&q, &folder);
                if !missing.is_empty() {
                    return Err(missing);
                }
                Ok(Self {
                    questionnaires: Arc::new(q),
                    ..catalog
                })
            }
            (Ok(_), Err(p)) => Err(p),
            (Err(p), Ok(_)) => Err(p),
            (Err(mut a), Err(b)) => {
                a.extend(b);
                Err(a)
            }
        }
    }

    /// A problem for every `questionnaire:` declaration naming one that `enkater/` lacks.
    fn questionnaires_missing_from(&self, found: &Questionnaires, folder: &Path) -> Vec<Problem> {
        let mut problems = Vec::new();
        for entry in self.entries.values() {
            for (id, line, column) in &entry.workflow.references.questionnaires {
                if !found.contains(id) {
                    problems.push(Problem {
                        file: entry.path.clone(),
                        line: *line,
                        column: *column,
                        message: format!(
                            "questionnaire: id: {id:?} has no version in {}",
                            folder.display()
                        ),
                    });
                }
            }
        }
        problems
    }

    /// The questionnaires in the folder's `enkater/`.
    pub fn questionnaires(&self) -> &Questionnaires {
        &self.questionnaires
    }

    /// Builds a catalog from file names and texts; `templates` (when given) is checked for the
    /// templates the workflows name.
    pub fn from_sources(
        files: Vec<(PathBuf, String)>,
        templates: Option<&Path>,
    ) -> Result<Self, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut entries = BTreeMap::new();
        for (path, source) in files {
            match parse(&path, &source) {
                Ok(workflow) => {
                    let hash = hex::encode(Sha256::digest(source.as_bytes()));
                    entries.insert(
                        workflow.id.clone(),
                        Entry {
                            workflow: Arc::new(workflow),
                            source,
                            hash,
                            path,
                        },
                    );
                }
                Err(mut p) => problems.append(&mut p),
            }
        }
        let renderer = match templates {
            Some(root) => match Renderer::load(root) {
                Ok(r) => Some(Arc::new(r)),
                Err(errors) => {
                    problems.extend(errors.into_iter().map(|e| Problem {
                        file: e.file,
                        line: 0,
                        column: 0,
                        message: e.message,
                    }));
                    None
                }
            },
            None => None,
        };
        for entry in entries.values() {
            let refs = &entry.workflow.references;
            let problem = |line, column, message| Problem {
                file: entry.path.clone(),
                line,
                column,
                message,
            };
            for (child, line, column) in &refs.workflows {
                if !entries.contains_key(child) {
                    problems.push(problem(
                        *line,
                        *column,
                        format!(
                            "start_children names workflow {child:?}, which is not in the folder"
                        ),
                    ));
                }
            }
            let (Some(root), Some(renderer)) = (templates, &renderer) else {
                // Without templates there is nothing to check them against; when they failed
                // to load, their own problems say why.
                continue;
            };
            for (id, line, column) in &refs.email_templates {
                if !renderer.has_email(id) {
                    let folder = root.join("email").join(id);
                    problems.push(problem(*line, *column, format!(
                        "email template {id:?} is missing: {} needs subject.hbs, text.hbs and html.hbs",
                        folder.display()
                    )));
                }
            }
            for (id, line, column) in &refs.document_templates {
                if !renderer.has_document(id) {
                    let path = root.join("documents").join(format!("{id}.html.hbs"));
                    problems.push(problem(
                        *line,
                        *column,
                        format!("document template {id:?} is missing {}", path.display()),
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(Self {
                entries,
                renderer,
                questionnaires: Arc::default(),
            })
        } else {
            Err(problems)
        }
    }

    /// The templates, when the catalog was loaded with them.
    pub fn renderer(&self) -> Option<&Renderer> {
        self.renderer.as_deref()
    }

    /// The templates, shared (the postman renders its failure notices with them).
    pub fn shared_renderer(&self) -> Option<Arc<Renderer>> {
        self.renderer.clone()
    }

    /// A workflow by id.
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.get(id)
    }

    /// Every workflow, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }
}

/// Parses and validates one file's text.
pub fn parse(path: &Path, source: &str) -> Result<Workflow, Vec<Problem>> {
    let raw: RawWorkflow = serde_saphyr::from_str(source).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        // The library's message carries a rendered snippet after the first line; keep the
        // first line, since the position is given separately.
        let message = e.to_string();
        let first = message.lines().next().unwrap_or_default();
        // It also opens with "error: line N column M: ", which the problem says already.
        let message = match first.strip_prefix("error: line ") {
            Some(rest) => rest.split_once(": ").map_or(first, |(_, m)| m).to_owned(),
            None => first.to_owned(),
        };
        vec![Problem {
            file: path.to_owned(),
            line,
            column,
            message,
        }]
    })?;
    validate(&path.to_owned(), raw)
}
