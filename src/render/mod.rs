//! Rendering: Handlebars in strict mode over the files in `templates/`. A template that uses a
//! field its context does not have fails to render, and every email template is rendered once
//! with an example of its typed context when the templates are loaded, so such a mistake stops
//! `kansli workflow check` and the server's start instead of a message at three in the morning.
//!
//! Email templates are `templates/email/<id>/{subject,text,html}.hbs`, with shared partials in
//! `templates/partials/` (`{{> sidfot}}`). HTML is escaped in `html.hbs`; subject and text are
//! plain text and are not.

mod context;
#[cfg(feature = "pdf")]
mod pdf;
mod splice;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use serde::Serialize;

pub use context::{
    DeliveryFailureContext, DocumentAnswer, DocumentContext, DocumentSection, KallelseContext,
    MessageContext, Municipality, ProtocolParagraph, Treatment,
};

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
}

/// A template problem, with the file it is in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct TemplateError {
    /// The template file (or folder).
    pub file: PathBuf,
    /// What is wrong.
    pub message: String,
}

/// Which typed context an email template is rendered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextKind {
    /// A workflow step's message: [`MessageContext`].
    Message,
    /// The notice to administrators that a message could not be delivered:
    /// [`DeliveryFailureContext`].
    DeliveryFailure,
    /// A meeting's kallelse with its föredragningslista: [`KallelseContext`].
    Kallelse,
}

/// The template of a meeting's kallelse.
pub const KALLELSE_TEMPLATE: &str = "kallelse";

/// The template of the delivery-failure notice.
pub const DELIVERY_FAILURE_TEMPLATE: &str = "leveransfel";

impl ContextKind {
    /// The context a template id renders with.
    pub fn of(template: &str) -> Self {
        match template {
            DELIVERY_FAILURE_TEMPLATE => ContextKind::DeliveryFailure,
            KALLELSE_TEMPLATE => ContextKind::Kallelse,
            _ => ContextKind::Message,
        }
    }
}

/// The loaded templates.
#[derive(Debug)]
pub struct Renderer {
    html: Handlebars<'static>,
    text: Handlebars<'static>,
    email_ids: Vec<String>,
    documents: BTreeMap<String, PathBuf>,
    /// Typst templates for PDF/A versions of documents, by id: path and source.
    pdf_documents: BTreeMap<String, (PathBuf, String)>,
    pages: Vec<String>,
    /// The pages' stylesheet (`web/stil.css`), served at `/stil.css`; the pages have no inline
    /// style, so their Content-Security-Policy can forbid it.
    stylesheet: String,
}

impl Renderer {
    /// Loads every template under `root` and renders each email template once with an example
    /// of its context; returns every problem found.
    pub fn load(root: &Path) -> Result<Self, Vec<TemplateError>> {
        Self::load_spliced(root, true)
    }

    /// [`Renderer::load`], with the email templates' partials spliced in or not (the tests
    /// compare the two).
    fn load_spliced(root: &Path, splice: bool) -> Result<Self, Vec<TemplateError>> {
        let mut problems = Vec::new();
        let mut html = Handlebars::new();
        let mut text = Handlebars::new();
        html.set_strict_mode(true);
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);

        let partials = root.join("partials");
        for (path, name) in files_with_suffix(&partials, ".hbs") {
            // `sidfot.html.hbs` is the HTML partial `sidfot`; `sidfot.text.hbs` the text one.
            let (registry, name) = match name.rsplit_once('.') {
                Some((n, "html")) => (&mut html, n.to_owned()),
                Some((n, "text")) => (&mut text, n.to_owned()),
                _ => {
                    problems.push(TemplateError {
                        file: path,
                        message: "a partial is named NAME.html.hbs or NAME.text.hbs".into(),
                    });
                    continue;
                }
            };
            match std::fs::read_to_string(&path) {
                Ok(source) => {
                    if let Err(e) = registry.register_partial(&name, source) {
                        problems.push(TemplateError {
                            file: path,
                            message: e.to_string(),
                        });
                    }
                }
                Err(e) => problems.push(TemplateError {
                    file: path,
                    message: e.to_string(),
                }),
            }
        }

        let mut email_ids = Vec::new();
        let email = root.join("email");
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&email)
            .map(|r| {
                r.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        dirs.sort();
        for dir in dirs {
            let id = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut complete = true;
            for part in ["subject", "text", "html"] {
                let registry = if part == "html" { &mut html } else { &mut text };
                let path = dir.join(format!("{part}.hbs"));
                let registered = std::fs::read_to_string(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|source| {
                        registry
                            .register_template_string(
                                &format!("{id}/{part}"),
                                source.trim_end_matches('\n'),
                            )
                            .map_err(|e| e.to_string())
                    });
                if let Err(message) = registered {
                    problems.push(TemplateError {
                        file: path,
                        message,
                    });
                    complete = false;
                }
            }
            if complete {
                email_ids.push(id);
            }
        }
        for id in email_ids.iter().filter(|_| splice) {
            splice::splice_partials(&mut text, &format!("{id}/subject"));
            splice::splice_partials(&mut text, &format!("{id}/text"));
            splice::splice_partials(&mut html, &format!("{id}/html"));
        }

        let mut pages = Vec::new();
        for (path, name) in files_with_suffix(&root.join("web"), ".html.hbs") {
            match std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|source| {
                    html.register_template_string(&format!("web/{name}"), source)
                        .map_err(|e| e.to_string())
                }) {
                Ok(()) => pages.push(name),
                Err(message) => problems.push(TemplateError {
                    file: path,
                    message,
                }),
            }
        }

        let stylesheet_path = root.join("web").join("stil.css");
        let stylesheet = match pages.is_empty() {
            true => String::new(),
            false => std::fs::read_to_string(&stylesheet_path).unwrap_or_else(|e| {
                problems.push(TemplateError {
                    file: stylesheet_path,
                    message: format!("the pages' stylesheet: {e}"),
                });
                String::new()
            }),
        };

        let mut documents = BTreeMap::new();
        for (path, name) in files_with_suffix(&root.join("documents"), ".html.hbs") {
            match std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|source| {
                    html.register_template_string(&format!("doc/{name}"), source)
                        .map_err(|e| e.to_string())
                }) {
                Ok(()) => {
                    documents.insert(name, path);
                }
                Err(message) => problems.push(TemplateError {
                    file: path,
                    message,
                }),
            }
        }

        let mut pdf_documents = BTreeMap::new();
        if cfg!(feature = "pdf") {
            for (path, name) in files_with_suffix(&root.join("documents"), ".typ") {
                match std::fs::read_to_string(&path) {
                    Ok(source) => {
                        pdf_documents.insert(name, (path, source));
                    }
                    Err(e) => problems.push(TemplateError {
                        file: path,
                        message: e.to_string(),
                    }),
                }
            }
        }

        let renderer = Self {
            html,
            text,
            email_ids,
            documents,
            pdf_documents,
            pages,
            stylesheet,
        };
        for id in renderer.pdf_documents.keys() {
            let example = DocumentContext::example();
            if let Err(e) = renderer.document_pdf(id, &example, chrono::Utc::now()) {
                problems.push(e);
            }
        }
        for id in renderer.documents.keys() {
            if let Err(e) = renderer.document(id, &DocumentContext::example()) {
                problems.push(e);
            }
        }
        for id in &renderer.email_ids {
            if let Err(e) = renderer.email_example(id) {
                problems.push(e);
            }
        }
        if problems.is_empty() {
            Ok(renderer)
        } else {
            Err(problems)
        }
    }

    /// Renders an email template with the example of the context it takes: how templates are
    /// checked when loaded, and what their snapshots show.
    pub fn email_example(&self, id: &str) -> Result<RenderedEmail, TemplateError> {
        match ContextKind::of(id) {
            ContextKind::Message => self.email(id, &MessageContext::example()),
            ContextKind::DeliveryFailure => self.email(id, &DeliveryFailureContext::example()),
            ContextKind::Kallelse => self.email(id, &KallelseContext::example()),
        }
    }

    /// Whether an email template exists.
    pub fn has_email(&self, id: &str) -> bool {
        self.email_ids.iter().any(|e| e == id)
    }

    /// Whether a document template exists.
    pub fn has_document(&self, id: &str) -> bool {
        self.documents.contains_key(id)
    }

    /// The email templates, by id.
    pub fn email_ids(&self) -> &[String] {
        &self.email_ids
    }

    /// Renders a document, `templates/documents/<id>.html.hbs`.
    pub fn document(&self, id: &str, context: &DocumentContext) -> Result<String, TemplateError> {
        let file = || PathBuf::from(format!("templates/documents/{id}.html.hbs"));
        if !self.documents.contains_key(id) {
            return Err(TemplateError {
                file: file(),
                message: "no such document template".into(),
            });
        }
        self.html
            .render(&format!("doc/{id}"), context)
            .map_err(|e| TemplateError {
                file: file(),
                message: e.to_string(),
            })
    }

    /// Renders a document as PDF/A-2b from `templates/documents/<id>.typ`, dated `at`; `None`
    /// when the document has no Typst template or the binary was built without `pdf`.
    pub fn document_pdf(
        &self,
        id: &str,
        context: &DocumentContext,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Vec<u8>>, TemplateError> {
        let Some((path, source)) = self.pdf_documents.get(id) else {
            return Ok(None);
        };
        let fail = |message: String| TemplateError {
            file: path.clone(),
            message,
        };
        let data = serde_json::to_string(context).map_err(|e| fail(e.to_string()))?;
        #[cfg(feature = "pdf")]
        return pdf::render(source, &data, at).map(Some).map_err(fail);
        #[cfg(not(feature = "pdf"))]
        {
            let _ = (source, data, at);
            Ok(None)
        }
    }

    /// The pages' stylesheet.
    pub fn stylesheet(&self) -> &str {
        &self.stylesheet
    }

    /// Renders a web page, `templates/web/<name>.html.hbs`.
    pub fn page<C: Serialize>(&self, name: &str, context: &C) -> Result<String, TemplateError> {
        if !self.pages.iter().any(|p| p == name) {
            return Err(TemplateError {
                file: PathBuf::from(format!("templates/web/{name}.html.hbs")),
                message: "no such page template".into(),
            });
        }
        self.html
            .render(&format!("web/{name}"), context)
            .map_err(|e| TemplateError {
                file: PathBuf::from(format!("templates/web/{name}.html.hbs")),
                message: e.to_string(),
            })
    }

    /// Renders an email template with a context.
    pub fn email<C: Serialize>(
        &self,
        id: &str,
        context: &C,
    ) -> Result<RenderedEmail, TemplateError> {
        let error = |part: &str, e: handlebars::RenderError| TemplateError {
            file: PathBuf::from(format!("templates/email/{id}/{part}.hbs")),
            message: e.to_string(),
        };
        // The context is turned into data once for the three parts, not once for each.
        let data = handlebars::Context::wraps(context).map_err(|e| TemplateError {
            file: PathBuf::from(format!("templates/email/{id}")),
            message: format!("the message's data could not be prepared: {e}"),
        })?;
        let part = |registry: &Handlebars<'static>, part: &str| {
            registry
                .render_with_context(&format!("{id}/{part}"), &data)
                .map_err(|e| error(part, e))
        };
        Ok(RenderedEmail {
            // A subject is one line, whatever the template or a value put in it.
            subject: part(&self.text, "subject")?
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            text: part(&self.text, "text")?,
            html: part(&self.html, "html")?,
        })
    }
}

fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<(PathBuf, String)> {
    let mut out: Vec<(PathBuf, String)> = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.path())
                .filter_map(|p| {
                    let name = p.file_name()?.to_string_lossy().into_owned();
                    let stem = name.strip_suffix(suffix)?.to_owned();
                    Some((p, stem))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shipped email renders the same, to the byte, with its partials spliced in as with
    /// Handlebars including them.
    #[test]
    fn spliced_partials_render_as_included_ones() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let spliced = Renderer::load_spliced(&root, true).expect("the templates load");
        let included = Renderer::load_spliced(&root, false).expect("the templates load");
        assert!(!spliced.email_ids().is_empty());
        for id in spliced.email_ids() {
            let render = |r: &Renderer| r.email_example(id);
            let (a, b) = (render(&spliced).unwrap(), render(&included).unwrap());
            assert_eq!(a.subject, b.subject, "{id}: subject");
            assert_eq!(a.text, b.text, "{id}: text");
            assert_eq!(a.html, b.html, "{id}: html");
        }
        let html = |r: &Renderer| {
            let t = r.html.get_template("enkat-inbjudan/html").unwrap();
            t.elements
                .iter()
                .filter(|e| {
                    matches!(
                        e,
                        handlebars::template::TemplateElement::PartialExpression(_)
                    )
                })
                .count()
        };
        assert_eq!(html(&spliced), 0, "the partials are spliced in");
        assert_eq!(html(&included), 2, "huvud and sidfot are included");
    }
}
