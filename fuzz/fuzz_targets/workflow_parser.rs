#![no_main]
//! Owns: `kansli::workflow::catalog::parse` (YAML text to a validated `Workflow`), the
//! durations workflow files are written with (`kansli::workflow::duration::parse_duration` and
//! `format_duration`), and what is done first with a parsed workflow: its drawings
//! (`graph::mermaid`, `graph::dot`, `picture::Picture::svg`) and starting an instance
//! (`engine::start`, which plans the initial state's timers).
//!
//! Input: any UTF-8 text, read as a workflow file. The file name is taken from the text's own
//! `id:` line, so that the id-equals-file-name check passes and validation goes deep.
//!
//! Invariants checked:
//! - nothing panics, overflows or hangs on any text (a broken file is a list of problems);
//! - a workflow that validates has the id of its file name, and its initial state exists;
//! - a duration that parses is positive, and `format_duration` writes it back to text that
//!   parses to the same duration;
//! - a workflow that validates can be drawn and started: the start enters the initial state,
//!   and every `after` timer it plans is due after the start.
//!
//! Findings F4 and F5 of ../FINDINGS.md came from here (fixed: durations are bounded).

use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use kansli::workflow::catalog::parse;
use kansli::workflow::duration::{format_duration, parse_duration};
use kansli::workflow::engine::start;
use kansli::workflow::graph::{dot, mermaid};
use kansli::workflow::model::{EffectSpec, TimerWhen, Workflow};
use kansli::workflow::picture::Picture;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_durations(text);

    let stem = file_stem(text);
    let path = PathBuf::from(format!("workflows/{stem}.yaml"));
    let Ok(workflow) = parse(&path, text) else {
        return;
    };
    assert_eq!(workflow.id, stem, "a valid workflow is named by its file");
    assert!(
        workflow.states.contains_key(&workflow.initial),
        "the initial state {:?} of a valid workflow exists",
        workflow.initial
    );
    let current = workflow.states.keys().last().map(String::as_str);
    let _ = mermaid(&workflow, current);
    let _ = dot(&workflow, None);
    let svg = Picture::new(&workflow).current(current).svg();
    assert!(
        svg.trim_end().ends_with("</svg>"),
        "the picture is a whole SVG"
    );

    let Some(now) = Utc.with_ymd_and_hms(2026, 10, 1, 5, 0, 0).single() else {
        return;
    };
    check_start(&workflow, now);
});

fn check_start(workflow: &Workflow, now: DateTime<Utc>) {
    let decision = start(workflow, serde_json::Map::new(), now);
    assert_eq!(
        decision.to, workflow.initial,
        "a start enters the initial state"
    );
    let initial = &workflow.states[&workflow.initial];
    for plan in &decision.timers {
        let after = initial
            .timers
            .iter()
            .chain(initial.on_entry.iter().filter_map(|e| match e {
                EffectSpec::SetTimer(spec) => Some(spec),
                _ => None,
            }))
            .any(|spec| spec.name == plan.name && matches!(spec.when, TimerWhen::After(_)));
        if after {
            assert!(
                plan.due_at > now,
                "timer {} is due {} for a start at {now}",
                plan.name,
                plan.due_at
            );
        }
    }
}

/// The file stem a text names itself by: the value of its top-level `id:` line, or `fuzz`.
fn file_stem(text: &str) -> String {
    text.lines()
        .find_map(|line| line.strip_prefix("id:"))
        .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'').to_owned())
        .filter(|v| !v.is_empty() && !v.contains(['/', '\\', '\0']) && v != "." && v != "..")
        .unwrap_or_else(|| "fuzz".to_owned())
}

/// Durations: the whole text, when short, and the value after the last `:` of each line.
fn check_durations(text: &str) {
    if text.len() <= 64 {
        check_duration(text);
    }
    for line in text.lines().take(64) {
        if let Some((_, value)) = line.rsplit_once(':') {
            check_duration(value.trim().trim_matches('"'));
        }
    }
}

fn check_duration(text: &str) {
    let Ok(d) = parse_duration(text) else {
        return;
    };
    assert!(
        d > TimeDelta::zero(),
        "{text:?} parsed to {d:?}, not positive"
    );
    let written = format_duration(d);
    assert_eq!(
        parse_duration(&written),
        Ok(d),
        "{text:?} parsed to {d:?}, written back as {written:?}"
    );
}
