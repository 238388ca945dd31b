//! Starts in sets: the root instances a batch starts, with their ärenden, opened with one
//! statement per kind of row where a start taken alone costs a dozen.
//!
//! The ärenden are numbered a series at a time and inserted together
//! (`Kansli::insert_cases`); the instances are inserted together; and their first steps, the
//! entries into their initial states, are written as a round writes steps
//! ([`Engine::write_rows`]), the ärenden's audit entries first. A start whose workflow opens
//! no ärende, or whose first step has effects a round does not take (children, documents), is
//! handed back to be taken alone.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, json};

use super::round::{Call, Planned, takes_in_round};
use super::{Engine, Loaded, PreparedStart, SeriesBook, root_instance};
use crate::service::{Actor, ServiceError};
use crate::store::{OrgSnapshot, Tx};
use crate::workflow::{Sender, start};

/// A start a set is asked to make: its place in the batch, what was prepared, and who asks.
pub(super) struct Opening<'a> {
    pub(super) at: usize,
    pub(super) prepared: PreparedStart,
    pub(super) actor: &'a Actor,
}

impl Engine {
    /// Makes starts (each one that [`Engine::opens_in_set`]) as one set. Returns, by place
    /// in the batch, each start made: its instance id and its ärende's number. An error leaves
    /// the set half-written: the caller runs it under a savepoint and rolls back.
    pub(super) async fn open_set(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        book: &SeriesBook,
        set: Vec<Opening<'_>>,
        now: DateTime<Utc>,
    ) -> Result<Vec<(usize, i32, String)>, ServiceError> {
        if set.is_empty() {
            return Ok(Vec::new());
        }
        // Each workflow's stored definition, looked up once for the set.
        let mut ids: HashMap<&str, i32> = HashMap::new();
        let mut definitions = Vec::with_capacity(set.len());
        for o in &set {
            let id = o.prepared.workflow_id.as_str();
            let entry = self
                .catalog
                .get(id)
                .ok_or_else(|| anyhow::anyhow!("no workflow {id:?} in the catalog"))?;
            let definition_id = match ids.get(id) {
                Some(&known) => known,
                None => {
                    let stored = self.definition_id_in(tx, entry, now).await?;
                    ids.insert(id, stored);
                    stored
                }
            };
            definitions.push((entry, definition_id));
        }
        let mut cases_in = Vec::with_capacity(set.len());
        let mut rest = Vec::with_capacity(set.len());
        for o in set {
            let Opening {
                at,
                prepared,
                actor,
            } = o;
            let Some(case) = prepared.case else {
                return Err(anyhow::anyhow!("a start without an ärende was put in a set").into());
            };
            cases_in.push((case, actor));
            rest.push((at, prepared.variables, actor));
        }
        let (cases, opened) = self.kansli.insert_cases(tx, book, cases_in, now).await?;

        let mut decisions = Vec::with_capacity(cases.len());
        let mut new = Vec::with_capacity(cases.len());
        for ((case, (_, vars, _)), (entry, definition_id)) in
            cases.iter().zip(&mut rest).zip(&definitions)
        {
            let number = book.render(case)?;
            let mut vars = std::mem::take(vars);
            vars.insert("case_number".into(), json!(number));
            let decision = start(&entry.workflow, vars, now);
            new.push(root_instance(
                *definition_id,
                &entry.workflow.id,
                Some(case.id),
                &decision,
                now,
            ));
            decisions.push((number, decision));
        }
        let rows = tx.insert_case_instances(new).await?;

        let no_values = Map::new();
        let calls: Vec<Call> = rows
            .iter()
            .zip(&rest)
            .map(|(row, (_, _, actor))| Call {
                instance_id: row.id,
                event: "start",
                values: &no_values,
                sender: Sender::System,
                actor,
                timer: None,
            })
            .collect();
        let mut made = Vec::with_capacity(rows.len());
        let mut planned = Vec::with_capacity(rows.len());
        for (i, (((row, call), (number, decision)), (entry, _))) in rows
            .into_iter()
            .zip(&calls)
            .zip(decisions)
            .zip(&definitions)
            .enumerate()
        {
            tracing::info!(workflow = %entry.workflow.id, instance = row.id, case = %number, "workflow started");
            made.push((rest[i].0, row.id, number));
            planned.push(Planned {
                at: i,
                call,
                loaded: Loaded {
                    variables: decision.variables.clone(),
                    row,
                    workflow: entry.workflow.clone(),
                    children: Vec::new(),
                },
                decision,
            });
        }
        let by_id: HashMap<i32, _> = cases.into_iter().map(|c| (c.id, c)).collect();
        self.write_rows(tx, org, &planned, &by_id, opened, now)
            .await?;
        self.steps.count(made.len(), 0);
        Ok(made)
    }

    /// Whether a start can be made in a set: it opens an ärende, and its first step writes
    /// only what a round writes.
    pub(super) fn opens_in_set(&self, opening: &Opening<'_>, now: DateTime<Utc>) -> bool {
        if self.alone {
            return false;
        }
        let Some(entry) = self.catalog.get(&opening.prepared.workflow_id) else {
            return false;
        };
        if opening.prepared.case.is_none() {
            return false;
        }
        let first = start(&entry.workflow, opening.prepared.variables.clone(), now);
        !first.finished && first.effects.iter().all(takes_in_round)
    }
}
