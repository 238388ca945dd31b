//! Drawing a workflow: Mermaid for Markdown and web pages, Graphviz dot for print.

use super::model::{Sender, Workflow};

/// The state machine as a Mermaid `stateDiagram-v2`; `current` is highlighted.
pub fn mermaid(workflow: &Workflow, current: Option<&str>) -> String {
    let mut out = String::from("stateDiagram-v2\n");
    out.push_str(&format!("    [*] --> {}\n", id(&workflow.initial)));
    for state in workflow.states.values() {
        if let Some(d) = &state.description {
            out.push_str(&format!(
                "    {} : {}\n",
                id(&state.name),
                d.replace(':', " ")
            ));
        }
        for t in &state.transitions {
            let to = t.to.as_deref().unwrap_or(&state.name);
            out.push_str(&format!(
                "    {} --> {} : {} ({})\n",
                id(&state.name),
                id(to),
                t.event,
                senders(&t.by)
            ));
        }
        if state.is_final {
            out.push_str(&format!("    {} --> [*]\n", id(&state.name)));
        }
    }
    if let Some(c) = current {
        out.push_str(&format!("    classDef current fill:#ffd54f,stroke:#333,stroke-width:3px\n    class {} current\n", id(c)));
    }
    out
}

/// The state machine in Graphviz dot; `current` is filled.
pub fn dot(workflow: &Workflow, current: Option<&str>) -> String {
    let mut out = format!(
        "digraph \"{}\" {{\n    rankdir=LR;\n    node [shape=box, style=rounded];\n",
        workflow.id
    );
    out.push_str(&format!(
        "    start [shape=point];\n    start -> \"{}\";\n",
        workflow.initial
    ));
    for state in workflow.states.values() {
        let mut attrs = Vec::new();
        if state.is_final {
            attrs.push("peripheries=2".to_owned());
        }
        if current == Some(state.name.as_str()) {
            attrs.push("style=\"rounded,filled\", fillcolor=\"#ffd54f\"".to_owned());
        }
        out.push_str(&format!("    \"{}\" [{}];\n", state.name, attrs.join(", ")));
        for t in &state.transitions {
            let to = t.to.as_deref().unwrap_or(&state.name);
            out.push_str(&format!(
                "    \"{}\" -> \"{}\" [label=\"{}\\n({})\"];\n",
                state.name,
                to,
                t.event,
                senders(&t.by)
            ));
        }
    }
    out.push_str("}\n");
    out
}

fn id(name: &str) -> String {
    name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_")
}

fn senders(by: &[Sender]) -> String {
    by.iter()
        .map(Sender::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
