//! Drawing a workflow as a picture: an SVG laid out here, for the ärende page and
//! `kansli workflow graph --format svg`. The page must work without JavaScript and the project
//! takes no graph library for one drawing, so the layout is a small layered one of our own
//! (after Sugiyama, as Graphviz's dot does it), top to bottom:
//!
//! 1. **Ranks.** A depth-first walk from the initial state, in file order, finds the edges that
//!    close a cycle (back edges); turned round, the rest is acyclic, and a state's rank is its
//!    longest distance from the initial state. Every drawn edge so points down the page but the
//!    back edges, which are drawn dashed, pointing up.
//! 2. **Rows.** State rank `r` is row `2r`; row `2r + 1` holds the labels of the edges leaving
//!    rank `r`, so a label takes room of its own and never lies on a box or another label. An
//!    edge that spans more rows passes a placeholder in each, so it goes round the boxes between.
//! 3. **Order.** Within a row, the nodes are sorted a few times by the mean position of their
//!    neighbours above, then below (the barycentre heuristic), to cross few edges.
//! 4. **Position.** Each node is pulled towards its neighbours a number of times, keeping its
//!    order and a gap; the rest is arithmetic.
//!
//! Transitions between the same two states are one arrow with a line of text for each; a
//! state's transitions that stay (no `to`, or `to` itself) are one loop on its right. The
//! current state is filled and has a thick border, and says "(nu)" in words, so it is not told
//! by colour alone (WCAG 1.4.1); final states have a double border. Every text is escaped. The
//! SVG is `role="img"` with a `<title>` and `<desc>`; the page keeps its text of the states as
//! the full text alternative.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::engine::substitute;
use super::model::{Guard, Transition, Workflow};

/// A state box's width.
const BOX_WIDTH: f64 = 200.0;
/// Space inside a box around its text.
const BOX_PADDING: f64 = 10.0;
/// A state's text.
const STATE_FONT: f64 = 13.0;
/// An edge's text.
const LABEL_FONT: f64 = 12.0;
/// Line height of state text.
const STATE_LINE: f64 = 17.0;
/// Line height of edge text.
const LABEL_LINE: f64 = 15.0;
/// The most lines of a state's text; the rest is cut with "…" (the whole is in its tooltip).
const STATE_MAX_LINES: usize = 4;
/// The widest an edge's text may be before it wraps.
const LABEL_WIDTH: f64 = 170.0;
/// Between nodes of a row.
const NODE_GAP: f64 = 18.0;
/// Between rows: where edges bend.
const ROW_GAP: f64 = 26.0;
/// Around the picture.
const MARGIN: f64 = 16.0;
/// Above the first row: the start marker.
const START_SPACE: f64 = 34.0;
/// How far a loop reaches right of its box.
const LOOP_REACH: f64 = 26.0;

const INK: &str = "#1a1a1a";
const MUTED: &str = "#4a4a4a";
const CURRENT_FILL: &str = "#fff3bf";
const FONT: &str = "Arial, Helvetica, sans-serif";

/// A workflow to draw, and what to mark.
#[derive(Debug, Clone)]
pub struct Picture<'a> {
    workflow: &'a Workflow,
    current: Option<&'a str>,
    id: String,
    variables: Option<&'a Map<String, Value>>,
}

impl<'a> Picture<'a> {
    /// The workflow as defined, nothing marked; the SVG's ids start with `graf`.
    pub fn new(workflow: &'a Workflow) -> Self {
        Picture {
            workflow,
            current: None,
            id: "graf".to_owned(),
            variables: None,
        }
    }

    /// Marks the state an instance is in.
    pub fn current(mut self, state: Option<&'a str>) -> Self {
        self.current = state;
        self
    }

    /// The prefix of the ids inside the SVG, which must be unique on a page that shows several.
    pub fn id(mut self, id: &str) -> Self {
        self.id = id.to_owned();
        self
    }

    /// An instance's variables, to fill in the `${name}` in the states' descriptions.
    pub fn variables(mut self, variables: &'a Map<String, Value>) -> Self {
        self.variables = Some(variables);
        self
    }

    /// What a state's box says: its description (filled in), else its name.
    fn state_text(&self, name: &str) -> String {
        let state = &self.workflow.states[name];
        match (&state.description, self.variables) {
            (Some(d), Some(v)) => substitute(d, v),
            (Some(d), None) => d.clone(),
            (None, _) => name.to_owned(),
        }
    }

    /// The picture as a standalone SVG document, also fit to put in an HTML page as it is.
    pub fn svg(&self) -> String {
        let layout = Layout::of(self);
        let mut out = String::new();
        let id = escape(&self.id);
        let wf = self.workflow;
        let current_text = self
            .current
            .filter(|c| wf.states.contains_key(*c))
            .map(|c| format!(" Nu: {} ({c}).", self.state_text(c)))
            .unwrap_or_default();
        let count: usize = wf.states.values().map(|s| s.transitions.len()).sum();
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" role="img" aria-labelledby="{id}-titel" aria-describedby="{id}-beskrivning" font-family="{FONT}" class="tillstandsgraf">"#,
            w = layout.width,
            h = layout.height,
        );
        let _ = write!(
            out,
            "\n<title id=\"{id}-titel\">Tillståndsgraf: {}</title>\n<desc id=\"{id}-beskrivning\">{} tillstånd och {count} övergångar, uppifrån och ned från starttillståndet {}.{} Dubbel ram: sluttillstånd. Streckad pil: tillbaka i flödet. Båge vid en ruta: steg som stannar i tillståndet.</desc>\n",
            escape(&wf.title),
            wf.states.len(),
            escape(&wf.initial),
            escape(&current_text),
        );
        let _ = write!(
            out,
            r#"<defs><marker id="{id}-pil" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{INK}"/></marker></defs>"#
        );
        out.push('\n');

        // The start: a dot with an arrow into the initial state.
        if let Some(initial) = layout.state_node(&wf.initial) {
            let n = &layout.nodes[initial];
            let x = n.in_ports.first().copied().unwrap_or(n.left + n.port);
            let top = layout.row_top[n.row];
            let _ = writeln!(
                out,
                r#"<g class="start"><circle cx="{x:.1}" cy="{:.1}" r="6" fill="{INK}"/><path d="M{x:.1},{:.1} L{x:.1},{top:.1}" stroke="{INK}" stroke-width="1.5" fill="none" marker-end="url(#{id}-pil)"/></g>"#,
                top - START_SPACE + 8.0,
                top - START_SPACE + 14.0,
            );
        }

        for (e, edge) in layout.edges.iter().enumerate() {
            let points = layout.route(e);
            let mut d = format!("M{:.1},{:.1}", points[0].0, points[0].1);
            for pair in points.windows(2) {
                let ((x1, y1), (x2, y2)) = (pair[0], pair[1]);
                if (x1 - x2).abs() < 0.05 {
                    let _ = write!(d, " L{x2:.1},{y2:.1}");
                } else {
                    let mid = (y2 - y1) / 2.0;
                    let _ = write!(
                        d,
                        " C{x1:.1},{:.1} {x2:.1},{:.1} {x2:.1},{y2:.1}",
                        y1 + mid,
                        y2 - mid
                    );
                }
            }
            let dash = match edge.back {
                true => r#" stroke-dasharray="6 4""#,
                false => "",
            };
            let _ = write!(
                out,
                r#"<g class="overgang" data-fran="{}" data-till="{}"><title>{}</title><path d="{d}" stroke="{INK}" stroke-width="1.5" fill="none"{dash} marker-end="url(#{id}-pil)"/>"#,
                escape(&edge.from),
                escape(&edge.to),
                escape(&edge_title(&edge.from, &edge.to, &edge.transitions)),
            );
            let label = &layout.nodes[edge.label];
            let top = layout.row_top[label.row];
            text_lines(
                &mut out,
                &edge.lines,
                label.left + label.port + 6.0,
                top + LABEL_FONT,
                "start",
            );
            out.push_str("</g>\n");
        }

        for (name, state) in &wf.states {
            let Some(i) = layout.state_node(name) else {
                continue;
            };
            let n = &layout.nodes[i];
            let (x, y) = (n.left, layout.row_top[n.row]);
            let now = self.current == Some(name.as_str());
            let full = self.state_text(name);
            let _ = write!(
                out,
                r#"<g class="tillstand{}" data-tillstand="{}"><title>{}{}</title>"#,
                if now { " nu" } else { "" },
                escape(name),
                escape(name),
                match &state.description {
                    Some(_) => format!(": {}", escape(&full)),
                    None => String::new(),
                },
            );
            let (fill, stroke) = match now {
                true => (CURRENT_FILL, 3.5),
                false => ("#ffffff", 1.5),
            };
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{BOX_WIDTH:.0}" height="{:.1}" rx="6" fill="{fill}" stroke="{INK}" stroke-width="{stroke}"/>"#,
                layout.box_height
            );
            if state.is_final {
                let _ = write!(
                    out,
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.0}" height="{:.1}" rx="4" fill="none" stroke="{INK}" stroke-width="1.2"/>"#,
                    x + 4.0,
                    y + 4.0,
                    BOX_WIDTH - 8.0,
                    layout.box_height - 8.0
                );
            }
            let mut lines: Vec<Line> = wrap(&full, BOX_WIDTH - 2.0 * BOX_PADDING, STATE_FONT)
                .into_iter()
                .take(STATE_MAX_LINES)
                .map(Line::plain)
                .collect();
            if wrap(&full, BOX_WIDTH - 2.0 * BOX_PADDING, STATE_FONT).len() > STATE_MAX_LINES
                && let Some(last) = lines.last_mut()
            {
                last.text = format!("{}…", last.text.trim_end_matches(['.', ',', ';']));
            }
            if now {
                lines.push(Line {
                    text: "(nu)".into(),
                    style: Style::Bold,
                });
            }
            let block = lines.len() as f64 * STATE_LINE;
            let first = y + (layout.box_height - block) / 2.0 + STATE_LINE - 4.5;
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{first:.1}" font-size="{STATE_FONT}" text-anchor="middle" fill="{INK}">"#,
                x + BOX_WIDTH / 2.0
            );
            for (k, line) in lines.iter().enumerate() {
                let _ = write!(
                    out,
                    r#"<tspan x="{:.1}" dy="{}"{}>{}</tspan>"#,
                    x + BOX_WIDTH / 2.0,
                    if k == 0 { 0.0 } else { STATE_LINE },
                    line.style.attributes(),
                    escape(&line.text)
                );
            }
            out.push_str("</text>");
            if let Some(lp) = layout.loops.iter().find(|l| l.state == *name) {
                let right = x + BOX_WIDTH;
                let (a, b) = (y + layout.box_height * 0.3, y + layout.box_height * 0.7);
                let _ = write!(
                    out,
                    r#"<g class="overgang" data-fran="{n}" data-till="{n}"><title>{}</title><path d="M{right:.1},{a:.1} C{:.1},{:.1} {:.1},{:.1} {right:.1},{b:.1}" stroke="{INK}" stroke-width="1.5" fill="none" marker-end="url(#{id}-pil)"/>"#,
                    escape(&edge_title(name, name, &lp.transitions)),
                    right + LOOP_REACH + 6.0,
                    a - 12.0,
                    right + LOOP_REACH + 6.0,
                    b + 12.0,
                    n = escape(name),
                );
                let block = lp.lines.len() as f64 * LABEL_LINE;
                let first = y + layout.box_height / 2.0 - block / 2.0 + LABEL_FONT;
                text_lines(
                    &mut out,
                    &lp.lines,
                    right + LOOP_REACH + 10.0,
                    first.max(y + LABEL_FONT - 2.0),
                    "start",
                );
                out.push_str("</g>");
            }
            out.push_str("</g>\n");
        }
        out.push_str("</svg>\n");
        out
    }
}

/// An edge's tooltip: where it goes and which events, with who sends them.
fn edge_title(from: &str, to: &str, transitions: &[&Transition]) -> String {
    let events: Vec<String> = transitions
        .iter()
        .map(|t| {
            let by: Vec<String> = t.by.iter().map(ToString::to_string).collect();
            format!("{} ({})", t.event, by.join(", "))
        })
        .collect();
    format!("{from} → {to}: {}", events.join("; "))
}

fn text_lines(out: &mut String, lines: &[Line], x: f64, first: f64, anchor: &str) {
    let _ = write!(
        out,
        r#"<text x="{x:.1}" y="{first:.1}" font-size="{LABEL_FONT}" text-anchor="{anchor}" fill="{INK}" stroke="white" stroke-width="3" paint-order="stroke">"#
    );
    for (k, line) in lines.iter().enumerate() {
        let _ = write!(
            out,
            r#"<tspan x="{x:.1}" dy="{}"{}>{}</tspan>"#,
            if k == 0 { 0.0 } else { LABEL_LINE },
            line.style.attributes(),
            escape(&line.text)
        );
    }
    out.push_str("</text>");
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Bold,
    /// A guard: smaller weight of meaning, so set apart.
    Condition,
}

impl Style {
    fn attributes(self) -> String {
        match self {
            Style::Plain => String::new(),
            Style::Bold => r#" font-weight="bold""#.into(),
            Style::Condition => format!(r#" font-style="italic" fill="{MUTED}""#),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Line {
    text: String,
    style: Style,
}

impl Line {
    fn plain(text: String) -> Self {
        Line {
            text,
            style: Style::Plain,
        }
    }
}

/// The lines an arrow says: each transition's label (else its event), and its condition.
fn transition_lines(transitions: &[&Transition]) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    let mut seen = HashSet::new();
    for t in transitions {
        let label = t.label.as_deref().unwrap_or(&t.event);
        let condition = t.guard.as_ref().map(|g| format!("om {}", guard_text(g)));
        if !seen.insert((label.to_owned(), condition.clone())) {
            continue;
        }
        out.extend(
            wrap(label, LABEL_WIDTH, LABEL_FONT)
                .into_iter()
                .map(Line::plain),
        );
        if let Some(c) = condition {
            out.extend(
                wrap(&c, LABEL_WIDTH, LABEL_FONT)
                    .into_iter()
                    .map(|text| Line {
                        text,
                        style: Style::Condition,
                    }),
            );
        }
    }
    out
}

/// A guard in Swedish words, for the picture.
fn guard_text(guard: &Guard) -> String {
    let list = |s: &std::collections::BTreeSet<String>| {
        s.iter().cloned().collect::<Vec<_>>().join(" eller ")
    };
    match guard {
        Guard::AllChildrenIn(s) => format!("alla delflöden är i {}", list(s)),
        Guard::AnyChildIn(s) => format!("något delflöde är i {}", list(s)),
        Guard::Variable(name, value) => format!("{name} = {value}"),
        Guard::Not(inner) => format!("inte ({})", guard_text(inner)),
        Guard::All(all) => all.iter().map(guard_text).collect::<Vec<_>>().join(" och "),
    }
}

/// About how wide `text` is in Arial at `size`: close enough to wrap by, and on the safe side.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' => 0.28,
            'f' | 't' | 'r' | ' ' | '(' | ')' | '[' | ']' | '-' => 0.36,
            'm' | 'w' | 'M' | 'W' | '@' => 0.86,
            c if c.is_uppercase() => 0.68,
            c if c.is_ascii_digit() => 0.56,
            _ => 0.53,
        })
        .sum::<f64>()
        * size
}

/// Greedy word wrap to `width`; a word wider than a line is broken.
fn wrap(text: &str, width: f64, size: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = match line.is_empty() {
            true => word.to_owned(),
            false => format!("{line} {word}"),
        };
        if text_width(&candidate, size) <= width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // A word too long for a line of its own is cut where it fills one.
        let mut piece = String::new();
        for c in word.chars() {
            piece.push(c);
            if text_width(&piece, size) > width {
                piece.pop();
                lines.push(std::mem::replace(&mut piece, c.to_string()));
            }
        }
        line = piece;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Escapes text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newline are not allowed in XML 1.0.
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    State,
    /// The text of an edge, in the row below its upper state.
    Label,
    /// Where an edge crosses a row.
    Through,
}

#[derive(Debug, Clone)]
struct Node {
    kind: Kind,
    /// A state's name; empty for the others.
    state: String,
    row: usize,
    width: f64,
    height: f64,
    /// Where edges meet it, from its left.
    port: f64,
    left: f64,
    /// Its neighbours in the rows above and below, with the weight of the pull.
    above: Vec<(usize, f64)>,
    below: Vec<(usize, f64)>,
    /// Where the edges in and out meet a state's box (x), in the order of `ins`/`outs`.
    in_ports: Vec<f64>,
    out_ports: Vec<f64>,
    /// A label or bend of a back edge: kept to the right of its row, so that the ways back
    /// go round the main line instead of crossing it.
    aside: bool,
}

/// An arrow: the transitions from one state to another.
#[derive(Debug, Clone)]
struct Edge<'a> {
    from: String,
    to: String,
    transitions: Vec<&'a Transition>,
    /// Closes a cycle: drawn upwards, dashed.
    back: bool,
    lines: Vec<Line>,
    /// The nodes it passes, from the upper state to the lower.
    chain: Vec<usize>,
    label: usize,
}

impl Edge<'_> {
    /// The state it enters going down (its source, for a back edge). Every chain has both
    /// ends and its label, so it is never short.
    fn lower(&self) -> usize {
        self.chain[self.chain.len() - 1]
    }
}

/// A state's transitions that stay in it.
#[derive(Debug, Clone)]
struct Loop<'a> {
    state: String,
    transitions: Vec<&'a Transition>,
    lines: Vec<Line>,
}

/// Where everything goes.
#[derive(Debug, Clone)]
struct Layout<'a> {
    nodes: Vec<Node>,
    row_top: Vec<f64>,
    row_height: Vec<f64>,
    edges: Vec<Edge<'a>>,
    loops: Vec<Loop<'a>>,
    box_height: f64,
    width: f64,
    height: f64,
}

impl<'a> Layout<'a> {
    fn of(picture: &Picture<'a>) -> Layout<'a> {
        let wf = picture.workflow;
        let names: Vec<&str> = wf.states.keys().map(String::as_str).collect();
        let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();

        // Arrows and loops, in file order.
        let mut edges: Vec<Edge<'a>> = Vec::new();
        let mut loops: Vec<Loop<'a>> = Vec::new();
        for (name, state) in &wf.states {
            for t in &state.transitions {
                let to = t.to.as_deref().unwrap_or(name);
                if to == name {
                    match loops.iter_mut().find(|l| l.state == *name) {
                        Some(l) => l.transitions.push(t),
                        None => loops.push(Loop {
                            state: name.clone(),
                            transitions: vec![t],
                            lines: Vec::new(),
                        }),
                    }
                    continue;
                }
                match edges.iter_mut().find(|e| e.from == *name && e.to == to) {
                    Some(e) => e.transitions.push(t),
                    None => edges.push(Edge {
                        from: name.clone(),
                        to: to.to_owned(),
                        transitions: vec![t],
                        back: false,
                        lines: Vec::new(),
                        chain: Vec::new(),
                        label: 0,
                    }),
                }
            }
        }
        for l in &mut loops {
            l.lines = transition_lines(&l.transitions);
        }
        for e in &mut edges {
            e.lines = transition_lines(&e.transitions);
        }

        // 1. Back edges by a depth-first walk from the initial state (then any state left, so
        //    a graph that validation would refuse still draws).
        let successors: Vec<Vec<usize>> = names
            .iter()
            .map(|n| {
                edges
                    .iter()
                    .filter(|e| e.from == *n)
                    .map(|e| index[e.to.as_str()])
                    .collect()
            })
            .collect();
        let mut back: HashSet<(usize, usize)> = HashSet::new();
        let mut mark = vec![0u8; names.len()]; // 0 new, 1 on the path, 2 done
        let roots = std::iter::once(index.get(wf.initial.as_str()).copied().unwrap_or(0))
            .chain(0..names.len())
            .collect::<Vec<_>>();
        for root in roots {
            if mark[root] != 0 {
                continue;
            }
            // An explicit stack, so a long chain of states cannot overflow the real one.
            let mut stack = vec![(root, 0usize)];
            mark[root] = 1;
            while let Some((v, next)) = stack.last_mut() {
                let v = *v;
                if let Some(&w) = successors[v].get(*next) {
                    *next += 1;
                    match mark[w] {
                        0 => {
                            mark[w] = 1;
                            stack.push((w, 0));
                        }
                        1 => {
                            back.insert((v, w));
                        }
                        _ => {}
                    }
                } else {
                    mark[v] = 2;
                    stack.pop();
                }
            }
        }
        // Longest distance from the start, with the back edges turned round: a topological
        // order by Kahn's algorithm, in file order where there is a choice.
        let dag: Vec<(usize, usize)> = edges
            .iter()
            .map(|e| {
                let (a, b) = (index[e.from.as_str()], index[e.to.as_str()]);
                match back.contains(&(a, b)) {
                    true => (b, a),
                    false => (a, b),
                }
            })
            .collect();
        let mut indegree = vec![0usize; names.len()];
        for &(_, b) in &dag {
            indegree[b] += 1;
        }
        let mut rank = vec![0usize; names.len()];
        let mut ready: Vec<usize> = (0..names.len()).filter(|&v| indegree[v] == 0).collect();
        while let Some(v) = (!ready.is_empty()).then(|| ready.remove(0)) {
            for &(a, b) in dag.iter().filter(|(a, _)| *a == v) {
                rank[b] = rank[b].max(rank[a] + 1);
                indegree[b] -= 1;
                if indegree[b] == 0 {
                    ready.push(b);
                }
            }
        }

        // 2. Nodes and rows.
        let box_height = box_height(picture);
        let mut nodes: Vec<Node> = Vec::new();
        let node = |kind, state: String, row, width, height, port| Node {
            kind,
            state,
            row,
            width,
            height,
            port,
            left: 0.0,
            above: Vec::new(),
            below: Vec::new(),
            in_ports: Vec::new(),
            out_ports: Vec::new(),
            aside: false,
        };
        for (i, name) in names.iter().enumerate() {
            let extra = loops
                .iter()
                .find(|l| l.state == *name)
                .map(|l| {
                    let text = l
                        .lines
                        .iter()
                        .map(|t| text_width(&t.text, LABEL_FONT))
                        .fold(0.0, f64::max);
                    let height = l.lines.len() as f64 * LABEL_LINE;
                    (LOOP_REACH + 14.0 + text, height)
                })
                .unwrap_or((0.0, 0.0));
            nodes.push(node(
                Kind::State,
                (*name).to_owned(),
                2 * rank[i],
                BOX_WIDTH + extra.0,
                box_height.max(extra.1),
                BOX_WIDTH / 2.0,
            ));
        }
        for (e, &(upper, lower)) in edges.iter_mut().zip(&dag) {
            e.back = back.contains(&(index[e.from.as_str()], index[e.to.as_str()]));
            let text = e
                .lines
                .iter()
                .map(|t| text_width(&t.text, LABEL_FONT))
                .fold(0.0, f64::max);
            let (top, bottom) = (2 * rank[upper], 2 * rank[lower]);
            e.chain.push(upper);
            e.label = nodes.len();
            e.chain.push(nodes.len());
            nodes.push(node(
                Kind::Label,
                String::new(),
                top + 1,
                text + 12.0,
                e.lines.len() as f64 * LABEL_LINE + 4.0,
                0.0,
            ));
            for row in top + 2..bottom {
                e.chain.push(nodes.len());
                nodes.push(node(Kind::Through, String::new(), row, 8.0, 0.0, 4.0));
            }
            if e.back {
                for &n in &e.chain[1..] {
                    nodes[n].aside = true;
                }
            }
            e.chain.push(lower);
        }
        for e in &edges {
            for pair in e.chain.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                // Long edges pull hardest, so they run straight past the rows they cross; a
                // back edge does not pull its states, so that the ways back (an
                // återremiss from each organ) go round the main line instead of bending it.
                let weight = match (nodes[a].kind, nodes[b].kind, e.back) {
                    (Kind::State, _, true) | (_, Kind::State, true) => 0.0,
                    (Kind::State, _, false) | (_, Kind::State, false) => 1.0,
                    _ => 4.0,
                };
                nodes[a].below.push((b, weight));
                nodes[b].above.push((a, weight));
            }
        }
        let row_count = nodes.iter().map(|n| n.row + 1).max().unwrap_or(1);
        let mut rows: Vec<Vec<usize>> = vec![Vec::new(); row_count];
        for (i, n) in nodes.iter().enumerate() {
            rows[n.row].push(i);
        }

        // 3. Order: barycentres, down then up, a few times.
        let position = |rows: &[Vec<usize>], count: usize| {
            let mut at = vec![0.0; count];
            for row in rows {
                for (k, &n) in row.iter().enumerate() {
                    at[n] = k as f64;
                }
            }
            at
        };
        for sweep in 0..8 {
            let down = sweep % 2 == 0;
            let order: Vec<usize> = match down {
                true => (1..row_count).collect(),
                false => (0..row_count.saturating_sub(1)).rev().collect(),
            };
            for r in order {
                let at = position(&rows, nodes.len());
                let mut keyed: Vec<(f64, usize)> = rows[r]
                    .iter()
                    .map(|&n| {
                        let neighbours = match down {
                            true => &nodes[n].above,
                            false => &nodes[n].below,
                        };
                        let key = match neighbours.is_empty() {
                            true => at[n],
                            false => {
                                neighbours.iter().map(|(m, _)| at[*m]).sum::<f64>()
                                    / neighbours.len() as f64
                            }
                        };
                        (key + if nodes[n].aside { 1e6 } else { 0.0 }, n)
                    })
                    .collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
                rows[r] = keyed.into_iter().map(|(_, n)| n).collect();
            }
        }

        // 4. Position: packed, then pulled towards the neighbours, keeping order and gaps.
        for row in &rows {
            let mut x = 0.0;
            for &n in row {
                nodes[n].left = x;
                x += nodes[n].width + NODE_GAP;
            }
        }
        // Pulled both ways a number of times, then once more from above only: each node then
        // sits under what leads to it, so chains and long edges run straight down (pulling
        // both ways alone leaves the tail of a chain slanting after the rows that crowd).
        for sweep in 0..=40 {
            let (rows_in_order, both): (Vec<usize>, bool) = match sweep {
                40 => ((1..row_count).collect(), false),
                s if s % 2 == 0 => ((0..row_count).collect(), true),
                _ => ((0..row_count).rev().collect(), true),
            };
            for r in rows_in_order {
                let wanted: Vec<f64> = rows[r]
                    .iter()
                    .map(|&n| {
                        let pulls: Vec<(usize, f64)> = match both {
                            true => nodes[n]
                                .above
                                .iter()
                                .chain(&nodes[n].below)
                                .copied()
                                .collect(),
                            false => nodes[n].above.clone(),
                        };
                        let (sum, weight) = pulls.iter().fold((0.0, 0.0), |(s, w), (m, k)| {
                            (s + k * (nodes[*m].left + nodes[*m].port), w + k)
                        });
                        match weight > 0.0 {
                            true => sum / weight - nodes[n].port,
                            false => nodes[n].left,
                        }
                    })
                    .collect();
                let row = &rows[r];
                // Pushed right where needed, and pushed left where needed: the mean of the two
                // keeps the order and the gaps and leans neither way.
                let mut rightwards = wanted.clone();
                for k in 1..row.len() {
                    let min = rightwards[k - 1] + nodes[row[k - 1]].width + NODE_GAP;
                    rightwards[k] = rightwards[k].max(min);
                }
                let mut leftwards = wanted.clone();
                for k in (0..row.len().saturating_sub(1)).rev() {
                    let max = leftwards[k + 1] - NODE_GAP - nodes[row[k]].width;
                    leftwards[k] = leftwards[k].min(max);
                }
                for (k, &n) in row.iter().enumerate() {
                    nodes[n].left = (rightwards[k] + leftwards[k]) / 2.0;
                }
            }
        }
        let min_left = nodes.iter().map(|n| n.left).fold(f64::INFINITY, f64::min);
        for n in &mut nodes {
            n.left += MARGIN - min_left;
        }
        let width = nodes.iter().map(|n| n.left + n.width).fold(0.0, f64::max) + MARGIN;

        let mut row_top = Vec::with_capacity(row_count);
        let mut row_height = Vec::with_capacity(row_count);
        let mut y = MARGIN + START_SPACE;
        for (r, row) in rows.iter().enumerate() {
            let h = row.iter().map(|&n| nodes[n].height).fold(0.0, f64::max);
            let h = match r % 2 {
                0 => h.max(box_height),
                _ => h.max(8.0),
            };
            row_top.push(y);
            row_height.push(h);
            y += h + ROW_GAP;
        }
        let height = y - ROW_GAP + MARGIN;

        // Where edges meet the boxes: spread over the middle of the side, in the order of
        // where they come from, so arrowheads do not pile up.
        for s in 0..names.len() {
            let other_x = |n: usize| nodes[n].left + nodes[n].port;
            let mut ins: Vec<f64> = edges
                .iter()
                .filter(|e| e.lower() == s)
                .map(|e| other_x(e.chain[e.chain.len() - 2]))
                .collect();
            let mut outs: Vec<f64> = edges
                .iter()
                .filter(|e| e.chain[0] == s)
                .map(|e| other_x(e.chain[1]))
                .collect();
            let spread = |xs: &mut Vec<f64>, left: f64| {
                let count = xs.len();
                for (k, x) in xs.iter_mut().enumerate() {
                    *x = match count {
                        1 => left + BOX_WIDTH / 2.0,
                        _ => left + BOX_WIDTH * (0.2 + 0.6 * (k + 1) as f64 / (count + 1) as f64),
                    };
                }
            };
            let left = nodes[s].left;
            spread(&mut ins, left);
            spread(&mut outs, left);
            nodes[s].in_ports = ins;
            nodes[s].out_ports = outs;
        }
        if let Some(&start) = index.get(wf.initial.as_str()) {
            // The start arrow takes the first place on the initial state's top.
            let left = nodes[start].left;
            let count = nodes[start].in_ports.len() + 1;
            nodes[start].in_ports = (0..count)
                .map(|k| match count {
                    1 => left + BOX_WIDTH / 2.0,
                    _ => left + BOX_WIDTH * (0.2 + 0.6 * (k + 1) as f64 / (count + 1) as f64),
                })
                .collect();
        }

        Layout {
            nodes,
            row_top,
            row_height,
            edges,
            loops,
            box_height,
            width,
            height,
        }
    }

    fn state_node(&self, name: &str) -> Option<usize> {
        self.nodes
            .iter()
            .position(|n| n.kind == Kind::State && n.state == name)
    }

    /// The points an edge's path goes through, from its source to the state it enters.
    fn route(&self, e: usize) -> Vec<(f64, f64)> {
        let edge = &self.edges[e];
        let (upper, lower) = (edge.chain[0], edge.lower());
        let port_of = |ports: &[f64], node: usize, mine: &dyn Fn(&Edge) -> bool| {
            // The k-th edge at a side takes the k-th place, the edges sorted as the places are.
            let mut at_side: Vec<(f64, usize)> = self
                .edges
                .iter()
                .enumerate()
                .filter(|(_, o)| mine(o))
                .map(|(i, o)| {
                    let next = match o.chain[0] == node {
                        true => o.chain[1],
                        false => o.chain[o.chain.len() - 2],
                    };
                    (self.nodes[next].left + self.nodes[next].port, i)
                })
                .collect();
            at_side.sort_by(|a, b| a.0.total_cmp(&b.0));
            let k = at_side.iter().position(|(_, i)| *i == e).unwrap_or(0);
            let skip = ports.len() - at_side.len();
            ports
                .get(k + skip)
                .copied()
                .unwrap_or(self.nodes[node].left + BOX_WIDTH / 2.0)
        };
        let start_x = port_of(&self.nodes[upper].out_ports, upper, &|o| {
            o.chain[0] == upper
        });
        let end_x = port_of(&self.nodes[lower].in_ports, lower, &|o| o.lower() == lower);
        let mut points = vec![(
            start_x,
            self.row_top[self.nodes[upper].row] + self.box_height,
        )];
        for &n in &edge.chain[1..edge.chain.len() - 1] {
            let node = &self.nodes[n];
            let x = node.left + node.port;
            let top = self.row_top[node.row];
            points.push((x, top));
            points.push((x, top + self.row_height[node.row]));
        }
        points.push((end_x, self.row_top[self.nodes[lower].row]));
        if edge.back {
            points.reverse();
        }
        points
    }
}

/// One height for every box: the most lines a state's text takes (and "(nu)").
fn box_height(picture: &Picture<'_>) -> f64 {
    let lines = picture
        .workflow
        .states
        .keys()
        .map(|name| {
            let text = picture.state_text(name);
            let lines = wrap(&text, BOX_WIDTH - 2.0 * BOX_PADDING, STATE_FONT)
                .len()
                .min(STATE_MAX_LINES);
            lines + usize::from(picture.current == Some(name.as_str()))
        })
        .max()
        .unwrap_or(1);
    lines as f64 * STATE_LINE + 2.0 * BOX_PADDING
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::workflow::catalog::parse;

    fn shipped(id: &str) -> Workflow {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("workflows/{id}.yaml"));
        let source = std::fs::read_to_string(&path).unwrap();
        parse(&path, &source).unwrap_or_else(|p| panic!("{p:?}"))
    }

    /// A small well-formedness check of XML: every tag closed in order, attributes quoted,
    /// `&` only in a character or entity reference, no `<` in text or attribute values.
    fn well_formed(xml: &str) -> Result<(), String> {
        let mut open: Vec<String> = Vec::new();
        let mut rest = xml;
        let references = |text: &str| -> Result<(), String> {
            let mut parts = text.split('&');
            parts.next();
            for part in parts {
                let name = part
                    .split_once(';')
                    .map(|(n, _)| n)
                    .ok_or_else(|| format!("bare & in {text:?}"))?;
                let known = matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
                    || name.strip_prefix('#').is_some_and(|n| {
                        n.parse::<u32>().is_ok()
                            || n.strip_prefix('x')
                                .is_some_and(|h| u32::from_str_radix(h, 16).is_ok())
                    });
                if !known {
                    return Err(format!("unknown reference &{name}; in {text:?}"));
                }
            }
            Ok(())
        };
        while let Some(start) = rest.find('<') {
            let text = &rest[..start];
            if text.contains('>') {
                return Err(format!("> in text {text:?}"));
            }
            references(text)?;
            let end = rest[start..].find('>').ok_or("a tag is not closed")? + start;
            let tag = &rest[start + 1..end];
            rest = &rest[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                match open.pop() {
                    Some(o) if o == name => continue,
                    other => return Err(format!("</{name}> closes {other:?}")),
                }
            }
            let self_closing = tag.ends_with('/');
            let body = tag.trim_end_matches('/');
            let (name, mut attributes) = body.split_once(' ').unwrap_or((body, ""));
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(format!("bad tag name in <{tag}>"));
            }
            let mut seen = HashSet::new();
            loop {
                attributes = attributes.trim_start();
                if attributes.is_empty() {
                    break;
                }
                let (key, after) = attributes
                    .split_once("=\"")
                    .ok_or_else(|| format!("unquoted attribute in <{tag}>"))?;
                if !seen.insert(key) || key.contains([' ', '"']) {
                    return Err(format!("bad or repeated attribute {key:?} in <{tag}>"));
                }
                let (value, after) = after
                    .split_once('"')
                    .ok_or_else(|| format!("attribute {key} not closed in <{tag}>"))?;
                if value.contains('<') {
                    return Err(format!("< in attribute {key}"));
                }
                references(value)?;
                attributes = after;
            }
            if !self_closing {
                open.push(name.to_owned());
            }
        }
        if !rest.trim().is_empty() || !open.is_empty() {
            return Err(format!("left open: {open:?}, after the last tag: {rest:?}"));
        }
        Ok(())
    }

    /// The arrows of an SVG: (from, to, what the arrow's text and tooltip say).
    fn arrows(svg: &str) -> Vec<(String, String, String)> {
        svg.split(r#"<g class="overgang" data-fran=""#)
            .skip(1)
            .map(|chunk| {
                let (from, rest) = chunk.split_once('"').unwrap();
                let to = rest
                    .split("data-till=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap();
                let body = rest.split("</g>").next().unwrap();
                // The text's lines joined again, so a wrapped label reads whole.
                let words: Vec<&str> = body
                    .split("</tspan>")
                    .filter_map(|p| p.rsplit_once('>').map(|(_, t)| t))
                    .collect();
                (
                    from.to_owned(),
                    to.to_owned(),
                    format!("{body}\n{}", words.join(" ")),
                )
            })
            .collect()
    }

    #[test]
    fn the_checker_of_well_formedness_refuses_what_is_not_xml() {
        assert_eq!(well_formed(r#"<a x="1"><b/>t &amp; u</a>"#), Ok(()));
        for bad in [
            "<a><b></a></b>",
            "<a>t & u</a>",
            "<a x=1></a>",
            "<a>",
            r#"<a x="<"></a>"#,
            "<a>&nbsp;</a>",
        ] {
            assert!(well_formed(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_state_is_drawn_once_and_every_transition_on_an_arrow_between_its_states() {
        for id in ["aktiva-atgarder", "aktiva-atgarder-enkat"] {
            let workflow = shipped(id);
            let svg = Picture::new(&workflow).svg();
            well_formed(&svg).unwrap_or_else(|e| panic!("{id}: {e}"));
            for name in workflow.states.keys() {
                let marker = format!("data-tillstand=\"{name}\"");
                assert_eq!(svg.matches(&marker).count(), 1, "{id}: {name}");
            }
            let drawn = arrows(&svg);
            let mut pairs = HashSet::new();
            for (name, state) in &workflow.states {
                for t in &state.transitions {
                    let to = t.to.as_deref().unwrap_or(name);
                    pairs.insert((name.clone(), to.to_owned()));
                    let label = escape(t.label.as_deref().unwrap_or(&t.event));
                    let arrow = drawn
                        .iter()
                        .find(|(f, d, _)| f == name && d == to)
                        .unwrap_or_else(|| panic!("{id}: no arrow {name} → {to}"));
                    assert!(
                        arrow.2.lines().last().unwrap().contains(label.as_str()),
                        "{id}: {label} on {name} → {to}: {}",
                        arrow.2
                    );
                    assert!(
                        arrow.2.contains(&t.event),
                        "{id}: the tooltip names {}",
                        t.event
                    );
                }
            }
            assert_eq!(
                drawn.len(),
                pairs.len(),
                "{id}: one arrow per pair of states"
            );
        }
    }

    #[test]
    fn the_current_state_is_filled_has_a_thick_border_and_says_so_in_words() {
        let workflow = shipped("aktiva-atgarder");
        let plain = Picture::new(&workflow).svg();
        assert!(
            !plain.contains("(nu)") && !plain.contains(CURRENT_FILL),
            "nothing marked"
        );
        let svg = Picture::new(&workflow).current(Some("justering")).svg();
        assert_eq!(svg.matches("(nu)").count(), 1);
        assert_eq!(svg.matches(CURRENT_FILL).count(), 1);
        let state = svg
            .split(r#"<g class="tillstand nu" data-tillstand="justering">"#)
            .nth(1)
            .expect("justering is the current state");
        let state = state.split("</text>").next().unwrap();
        assert!(
            state.contains(&format!(
                r#"fill="{CURRENT_FILL}" stroke="{INK}" stroke-width="3.5""#
            )),
            "{state}"
        );
        assert!(
            state.contains(r#"font-weight="bold">(nu)</tspan>"#),
            "{state}"
        );
        assert!(
            svg.contains("Nu: Protokollet ska justeras inom 14 dagar (justering)."),
            "the description says it too"
        );
    }

    #[test]
    fn the_states_description_is_filled_in_from_the_instances_variables() {
        let workflow = shipped("aktiva-atgarder");
        let variables: Map<String, Value> =
            serde_json::from_str(r#"{"preparing_organ": "KSAG"}"#).unwrap();
        let svg = Picture::new(&workflow).variables(&variables).svg();
        assert!(svg.contains("Anmält till KSAG, som bereder"), "{svg}");
        assert!(Picture::new(&workflow).svg().contains("${preparing_organ}"));
    }

    #[test]
    fn every_text_is_escaped_and_the_svg_stays_well_formed() {
        let source = r#"
id: elak
title: Titel & <b>fet</b>
initial: "a<b"
states:
  "a<b":
    description: 'Beskrivning <script>alert("x")</script> & mer'
    on:
      - event: "e&f"
        by: [handläggare]
        label: "Gå <vidare> \"nu\" & 'sedan'"
        to: slut
  slut:
    final: true
"#;
        let path = Path::new("elak.yaml").to_path_buf();
        let workflow = parse(&path, source).unwrap_or_else(|p| panic!("{p:?}"));
        let svg = Picture::new(&workflow)
            .current(Some("a<b"))
            .id("x\"y")
            .svg();
        well_formed(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
        assert!(
            !svg.contains("<script") && !svg.contains("<b>") && !svg.contains("<vidare>"),
            "{svg}"
        );
        assert!(svg.contains("Titel &amp; &lt;b&gt;fet&lt;/b&gt;"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(&quot;x&quot;)"), "{svg}");
        assert!(
            svg.contains("Gå &lt;vidare&gt; &quot;nu&quot; &amp; &#39;sedan&#39;"),
            "{svg}"
        );
        assert!(
            svg.contains(r#"data-tillstand="a&lt;b""#) && svg.contains(r#"id="x&quot;y-titel""#),
            "{svg}"
        );
    }

    #[test]
    fn boxes_do_not_overlap_and_only_edges_that_close_a_cycle_point_up() {
        for id in ["aktiva-atgarder", "aktiva-atgarder-enkat"] {
            let workflow = shipped(id);
            let picture = Picture::new(&workflow);
            let layout = Layout::of(&picture);
            for (i, a) in layout.nodes.iter().enumerate() {
                for b in &layout.nodes[i + 1..] {
                    if a.row == b.row {
                        let apart =
                            a.left + a.width <= b.left + 0.01 || b.left + b.width <= a.left + 0.01;
                        assert!(apart, "{id}: {a:?} and {b:?} overlap");
                    }
                }
            }
            for e in &layout.edges {
                let (from, to) = (
                    layout.state_node(&e.from).unwrap(),
                    layout.state_node(&e.to).unwrap(),
                );
                let (from_row, to_row) = (layout.nodes[from].row, layout.nodes[to].row);
                assert_eq!(e.back, to_row < from_row, "{id}: {} → {}", e.from, e.to);
                assert_ne!(from_row, to_row, "{id}: {} → {} within a row", e.from, e.to);
            }
        }
        // The returned answer goes back up to inskickad: the one dashed arrow of the enkät.
        let enkat = shipped("aktiva-atgarder-enkat");
        let svg = Picture::new(&enkat).svg();
        let dashed: Vec<_> = arrows(&svg)
            .into_iter()
            .filter(|a| a.2.contains("stroke-dasharray"))
            .map(|a| (a.0, a.1))
            .collect();
        assert_eq!(dashed, [("returnerad".to_owned(), "inskickad".to_owned())]);
        // The main line runs straight down: beredning sits right above ks_behandling.
        let main = shipped("aktiva-atgarder");
        let layout = Layout::of(&Picture::new(&main));
        let x = |s: &str| layout.nodes[layout.state_node(s).unwrap()].left;
        assert!(
            (x("beredning") - x("ks_behandling")).abs() < 1.0
                && (x("anslag") - x("avslutat")).abs() < 1.0
        );
    }

    #[test]
    fn long_text_wraps_within_the_width_and_a_long_word_is_broken() {
        let lines = wrap(
            "Protokollet är anslaget och beslutet expedierat; överklagandetiden löper",
            180.0,
            13.0,
        );
        assert!(
            lines.len() > 1 && lines.iter().all(|l| text_width(l, 13.0) <= 180.0),
            "{lines:?}"
        );
        assert_eq!(
            lines.join(" "),
            "Protokollet är anslaget och beslutet expedierat; överklagandetiden löper"
        );
        let word = "a".repeat(100);
        let broken = wrap(&word, 60.0, 12.0);
        assert!(broken.len() > 1 && broken.concat() == word, "{broken:?}");
        assert_eq!(wrap("", 60.0, 12.0), [""]);
    }
}
