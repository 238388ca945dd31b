//! Partials spliced into the email templates that include them.
//!
//! Handlebars renders `{{> sidfot}}` by cloning the whole data of the message for the partial
//! (`expand_partial` → `merge_json`), three times per email with the shipped templates: a
//! quarter of an email's rendering, and emails are rendered inside the engine's write batches.
//! A partial included plainly (by name, without parameters, hash, block or indentation) renders
//! the same as its elements standing in its place, with the same data, so the email templates
//! are registered with those elements spliced in. Any other inclusion is left to Handlebars.

use handlebars::Handlebars;
use handlebars::template::{Template, TemplateElement};

/// How deep partials that include partials are spliced; deeper ones are left to Handlebars,
/// which also reports a partial that includes itself.
const MAX_DEPTH: usize = 8;

/// Splices into the template `name` of `registry` the partials it includes plainly.
pub(super) fn splice_partials(registry: &mut Handlebars<'static>, name: &str) {
    let Some(template) = registry.get_template(name) else {
        return;
    };
    let spliced = spliced(registry, template, 0);
    registry.register_template(name, spliced);
}

/// `template` with each plainly included partial replaced by its elements. A spliced element
/// keeps the position of the inclusion, so that an error in it points at the `{{> ...}}`.
fn spliced(registry: &Handlebars<'static>, template: &Template, depth: usize) -> Template {
    let mut out = template.clone();
    out.elements.clear();
    out.mapping.clear();
    for (at, element) in template.elements.iter().enumerate() {
        let mapping = template.mapping.get(at);
        match plain_partial(registry, element).filter(|_| depth < MAX_DEPTH) {
            Some(partial) => {
                let inner = spliced(registry, partial, depth + 1);
                for element in inner.elements {
                    out.elements.push(element);
                    out.mapping.extend(mapping.cloned());
                }
            }
            None => {
                out.elements.push(element.clone());
                out.mapping.extend(mapping.cloned());
            }
        }
    }
    // The mapping is positional: when an element had none, none of them keeps one.
    if out.mapping.len() != out.elements.len() {
        out.mapping.clear();
    }
    out
}

/// The registered partial `element` includes plainly, if it is such an inclusion.
fn plain_partial<'r>(
    registry: &'r Handlebars<'static>,
    element: &TemplateElement,
) -> Option<&'r Template> {
    let TemplateElement::PartialExpression(d) = element else {
        return None;
    };
    let plain = d.params.is_empty()
        && d.hash.is_empty()
        && d.template.is_none()
        && d.indent.as_deref().is_none_or(str::is_empty);
    if !plain {
        return None;
    }
    registry.get_template(d.name.as_name()?)
}
