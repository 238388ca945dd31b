//! Partials spliced into the email templates that include them.
//!
//! Handlebars renders `{{> sidfot}}` by cloning the whole data of the message for the partial
//! (`expand_partial` → `merge_json`), three times per email with the shipped templates: a
//! quarter of an email's rendering, and emails are rendered inside the engine's write batches.
//! A partial included plainly (by name, without parameters, hash, block or indentation, at the
//! template's top level) renders the same as its elements standing in its place, with the same
//! data, so the email templates are registered with those elements spliced in. Inline partials
//! (`{{#*inline}}`) would change that: a name could mean the inline partial rather than the
//! registered one, and one defined in a partial would outlive it. A template or partial with
//! decorators is therefore left whole, as is any other inclusion: Handlebars renders those.

use handlebars::Handlebars;
use handlebars::template::{Template, TemplateElement};

/// How deep partials that include partials are spliced; deeper ones are left to Handlebars,
/// which also reports a partial that includes itself.
const MAX_DEPTH: usize = 8;

/// Splices into the template `name` of `registry` the partials it includes plainly.
pub(super) fn splice_partials(registry: &mut Handlebars<'static>, name: &str) {
    let Some(template) = registry.get_template(name).filter(|t| !has_decorators(t)) else {
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
    registry
        .get_template(d.name.as_name()?)
        .filter(|partial| !has_decorators(partial))
}

/// Whether `template` has decorators (such as inline partials) or partial blocks at its top
/// level, whose scope splicing would change.
fn has_decorators(template: &Template) -> bool {
    template.elements.iter().any(|e| {
        matches!(
            e,
            TemplateElement::DecoratorExpression(_)
                | TemplateElement::DecoratorBlock(_)
                | TemplateElement::PartialBlock(_)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(partials: &[(&str, &str)], template: &str) -> Handlebars<'static> {
        let mut r = Handlebars::new();
        r.set_strict_mode(true);
        for (name, source) in partials {
            r.register_partial(name, *source).unwrap();
        }
        r.register_template_string("t", template).unwrap();
        r
    }

    /// Renders `t` as Handlebars includes its partials and as spliced; both must agree.
    fn both(partials: &[(&str, &str)], template: &str) -> (String, String) {
        let data = serde_json::json!({ "name": "Ada", "items": [1, 2] });
        let included = registry(partials, template).render("t", &data).unwrap();
        let mut spliced = registry(partials, template);
        splice_partials(&mut spliced, "t");
        (included, spliced.render("t", &data).unwrap())
    }

    #[test]
    fn a_plain_partial_renders_the_same_spliced() {
        let (included, spliced) = both(
            &[("head", "<h1>{{name}}</h1>\n")],
            "{{> head}}\n{{#each items}}{{this}} {{/each}}\n{{> head}}",
        );
        assert_eq!(included, spliced);
        assert_eq!(spliced.matches("<h1>Ada</h1>").count(), 2);
    }

    #[test]
    fn templates_and_partials_with_inline_partials_are_left_whole() {
        // The name means the inline partial, not the registered one.
        let (included, spliced) = both(
            &[("p", "registered")],
            r#"{{#*inline "p"}}inline{{/inline}}{{> p}}"#,
        );
        assert_eq!((included.as_str(), spliced.as_str()), ("inline", "inline"));
        // An inline partial defined in a partial does not outlive it.
        let (included, spliced) = both(
            &[
                ("p", r#"{{#*inline "q"}}from p{{/inline}}x"#),
                ("q", "registered q"),
            ],
            "{{> p}}{{> q name}}",
        );
        assert_eq!(included, spliced);
    }
}
