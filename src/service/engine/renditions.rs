//! Render first, then write. A step's document (the HTML, or the PDF/A through Typst, which
//! takes a good part of a second) is never rendered inside a write transaction, where every
//! other writer would wait for it (on SQLite, all of them).
//!
//! A step that registers a document builds the document's context inside its transaction, as
//! the rest of the step reads its rows there, and looks the context up here. When it has not
//! been rendered, the step leaves the document out and the use case ends with
//! [`ServiceError::Unrendered`], naming every document it missed: its transaction is rolled
//! back, so nothing of it is written. The documents are then rendered outside any transaction
//! (on a blocking thread) and the use case runs again; built from the same rows, the contexts
//! are the same and are found rendered. A context that changed in between (someone registered
//! a handling meanwhile) is rendered again; [`Engine::rendering_first`] gives up only when a
//! round of rendering brings no document the use case had not had rendered before.
//!
//! A rendering that fails ends the use case with the template's error before anything is
//! written.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};

use super::Engine;
use crate::render::DocumentContext;
use crate::service::ServiceError;

/// Renditions kept for the use cases that asked for them, at most this many (oldest dropped,
/// should a use case not forget its own): a justering of a long protocol asks for one
/// protokollsutdrag per ärende at once.
const KEPT: usize = 512;

/// Rounds of rendering that bring nothing new before a use case gives up.
const FRUITLESS_ROUNDS: usize = 2;

/// A document a step needs, not yet rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrendered {
    /// The document template.
    pub template: String,
    /// Its context, as the step built it.
    pub context: DocumentContext,
}

/// A rendered document.
#[derive(Debug, Clone)]
pub(super) struct Rendition {
    pub(super) content: Vec<u8>,
    pub(super) extension: &'static str,
    pub(super) media_type: &'static str,
}

/// Called on the rendering thread with each template before it is rendered: a test's look at
/// the database while a document is being drawn up, or a trace.
#[derive(Clone)]
pub struct RenderObserver(pub Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for RenderObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RenderObserver")
    }
}

/// The documents rendered for use cases about to run again, by template and context.
#[derive(Debug, Default)]
pub(super) struct Renditions {
    kept: Mutex<VecDeque<(Unrendered, Rendition)>>,
}

impl Renditions {
    /// The rendition of `wanted`. It stays until the use case that asked for it forgets it:
    /// an attempt that finds it may still be rolled back and run again.
    pub(super) fn get(&self, wanted: &Unrendered) -> Option<Rendition> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.iter()
            .find(|(k, _)| k == wanted)
            .map(|(_, r)| r.clone())
    }

    /// Drops the renditions of `done`, whose use case has ended.
    pub(super) fn forget(&self, done: &[Unrendered]) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|(k, _)| !done.contains(k));
    }

    fn keep(&self, document: Unrendered, rendition: Rendition) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= KEPT {
            kept.pop_front();
        }
        kept.push_back((document, rendition));
    }
}

impl Engine {
    /// Calls `observer` before each document is rendered (see [`RenderObserver`]).
    pub fn observing_renders(mut self, observer: RenderObserver) -> Self {
        self.render_observer = Some(observer);
        self
    }

    /// Runs `use_case` until it ends other than by asking for documents: each time it does,
    /// they are rendered outside its transaction (which it has rolled back) and it runs again.
    pub(crate) async fn rendering_first<T, F, Fut>(
        &self,
        mut use_case: F,
    ) -> Result<T, ServiceError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ServiceError>>,
    {
        let mut rendered: Vec<Unrendered> = Vec::new();
        let mut fruitless = 0;
        let ended = loop {
            match use_case().await {
                Err(ServiceError::Unrendered(wanted)) => {
                    let new: Vec<Unrendered> = wanted
                        .into_iter()
                        .filter(|w| !rendered.contains(w))
                        .collect();
                    fruitless = if new.is_empty() { fruitless + 1 } else { 0 };
                    if fruitless >= FRUITLESS_ROUNDS {
                        break Err(anyhow::anyhow!(
                            "the documents of the step changed each time they were rendered; nothing was written, try again"
                        )
                        .into());
                    }
                    if let Err(e) = self.render_outside(&new).await {
                        break Err(e);
                    }
                    rendered.extend(new);
                }
                other => break other,
            }
        };
        if !rendered.is_empty() {
            self.renditions.forget(&rendered);
        }
        ended
    }

    /// Renders `documents` on a blocking thread, with no transaction open, and keeps them for
    /// the steps that asked for them.
    pub(super) async fn render_outside(
        &self,
        documents: &[Unrendered],
    ) -> Result<(), ServiceError> {
        let Some(renderer) = self.catalog.shared_renderer() else {
            return Ok(());
        };
        let now = self.now();
        let wanted = documents.to_vec();
        let observer = self.render_observer.clone();
        let rendered = tokio::task::spawn_blocking(move || {
            wanted
                .into_iter()
                .map(|document| {
                    let template = document.template.as_str();
                    if let Some(observe) = &observer {
                        (observe.0)(template);
                    }
                    let failed = |e: crate::render::TemplateError| {
                        ServiceError::Unexpected(anyhow::anyhow!(
                            "document {template} cannot be drawn up, nothing was written: {e}"
                        ))
                    };
                    // The archival PDF/A where the document has a Typst template, else the HTML.
                    let rendition = match renderer
                        .document_pdf(template, &document.context, now)
                        .map_err(failed)?
                    {
                        Some(pdf) => Rendition {
                            content: pdf,
                            extension: "pdf",
                            media_type: "application/pdf",
                        },
                        None => Rendition {
                            content: renderer
                                .document(template, &document.context)
                                .map_err(failed)?
                                .into_bytes(),
                            extension: "html",
                            media_type: "text/html; charset=utf-8",
                        },
                    };
                    Ok((document, rendition))
                })
                .collect::<Result<Vec<_>, ServiceError>>()
        })
        .await
        .map_err(|e| anyhow::anyhow!("rendering documents stopped: {e}"))??;
        for (document, rendition) in rendered {
            self.renditions.keep(document, rendition);
        }
        Ok(())
    }
}
