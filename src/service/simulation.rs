//! `kansli simulate`: a workflow's year on a simulated clock against a scratch database, printed
//! as a dated plan: when the ärende opens, every send-out, reminder, escalation and deadline. A
//! handläggare runs it before the year starts to see what Kansli will do and when; nobody
//! answers in the simulation, so it shows the full chain of reminders and escalations.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::{Engine, Kansli, ServiceError};
use crate::clock::{Clock, ManualClock};
use crate::domain::calendar::start_of_local_day;
use crate::store::Store;
use crate::workflow::Catalog;

/// One dated line of the plan.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PlanLine {
    /// When.
    pub at: DateTime<Utc>,
    /// The ärende.
    pub case: Option<String>,
    /// The unit of a child instance.
    pub unit: Option<String>,
    /// What happens.
    pub what: String,
}

/// Runs `workflow_id`'s schedule and timers from the start of `from` to the end of `to`
/// (Stockholm days) with the organisation in `organisation` (TOML), and returns the plan.
pub async fn simulate(
    catalog: Catalog,
    workflow_id: &str,
    from: NaiveDate,
    to: NaiveDate,
    organisation: &str,
) -> Result<Vec<PlanLine>, ServiceError> {
    let Some(entry) = catalog.get(workflow_id) else {
        return Err(ServiceError::Invalid(format!(
            "no workflow {workflow_id:?} in the catalog"
        )));
    };
    if entry.workflow.schedule.is_none() {
        return Err(ServiceError::Invalid(format!(
            "workflow {workflow_id} has no schedule; nothing would start it"
        )));
    }
    if from > to {
        return Err(ServiceError::Invalid(format!(
            "--from {from} is after --to {to}"
        )));
    }
    let dir = std::env::temp_dir().join(format!(
        "kansli-simulate-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).map_err(anyhow::Error::from)?;
    let result = run(catalog, workflow_id, from, to, organisation, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(
    catalog: Catalog,
    workflow_id: &str,
    from: NaiveDate,
    to: NaiveDate,
    organisation: &str,
    dir: &std::path::Path,
) -> Result<Vec<PlanLine>, ServiceError> {
    let store = Store::connect(
        &format!("sqlite://{}", dir.join("simulation.db").display()),
        2,
    )
    .await?;
    store.migrate().await?;
    let clock = ManualClock::new(start_of_local_day(from));
    let kansli = Kansli::new(store, Arc::new(clock.clone()));
    kansli
        .import_organisation("organisation", organisation)
        .await?;
    let engine =
        Engine::new(kansli.clone(), Arc::new(catalog), "simulation").only_scheduling(workflow_id);
    let end = start_of_local_day(to.succ_opt().unwrap_or(to));

    let mut plan = Vec::new();
    let mut seen = Seen::default();
    engine.tick().await?;
    seen.collect(&kansli, &mut plan).await?;
    for _ in 0..100_000 {
        let now = clock.now();
        let Some(next) = engine.next_due(now).await? else {
            break;
        };
        if next >= end {
            break;
        }
        clock.set(next.max(now + Duration::seconds(1)));
        engine.tick().await?;
        seen.collect(&kansli, &mut plan).await?;
    }
    Ok(plan)
}

#[derive(Default)]
struct Seen {
    audit: i32,
    outbox: i32,
    numbers: HashMap<i32, String>,
    units: HashMap<i32, Option<String>>,
}

impl Seen {
    async fn collect(
        &mut self,
        kansli: &Kansli,
        plan: &mut Vec<PlanLine>,
    ) -> Result<(), ServiceError> {
        let store = kansli.store();
        let mut lines = Vec::new();
        for a in store.audit_since(self.audit).await? {
            self.audit = a.id;
            if a.case_id.is_none() && a.instance_id.is_none() {
                continue;
            }
            let what = match (&a.from_state, &a.to_state) {
                (Some(f), Some(t)) if f != t => format!("{}: {f} → {t}", a.action),
                (Some(f), Some(_)) => format!("{} (i {f})", a.action),
                (None, Some(t)) => format!("startar i {t}"),
                _ => match &a.detail {
                    Some(d) => format!("{}: {d}", a.action),
                    None => a.action.clone(),
                },
            };
            lines.push((a.at, a.case_id, a.instance_id, what));
        }
        let since = self.outbox;
        for o in store
            .outbox(None)
            .await?
            .into_iter()
            .filter(|o| o.id > since)
        {
            self.outbox = o.id;
            let to: Vec<String> = serde_json::from_str::<Vec<serde_json::Value>>(&o.recipients)
                .unwrap_or_default()
                .iter()
                .filter_map(|r| r["email"].as_str().map(str::to_owned))
                .collect();
            let what = if to.is_empty() {
                format!("e-post {} kan inte skickas: ingen mottagare", o.template)
            } else {
                format!("e-post {} till {}", o.template, to.join(", "))
            };
            lines.push((o.created_at, o.case_id, o.instance_id, what));
        }
        lines.sort_by_key(|l| l.0);
        for (at, case_id, instance_id, what) in lines {
            let case = match case_id {
                Some(id) => Some(self.number(kansli, id).await?),
                None => None,
            };
            let unit = match instance_id {
                Some(id) => self.unit(kansli, id).await?,
                None => None,
            };
            plan.push(PlanLine {
                at,
                case,
                unit,
                what,
            });
        }
        Ok(())
    }

    async fn number(&mut self, kansli: &Kansli, case_id: i32) -> Result<String, ServiceError> {
        if let Some(n) = self.numbers.get(&case_id) {
            return Ok(n.clone());
        }
        let n = kansli.case_number(case_id).await?;
        self.numbers.insert(case_id, n.clone());
        Ok(n)
    }

    async fn unit(
        &mut self,
        kansli: &Kansli,
        instance_id: i32,
    ) -> Result<Option<String>, ServiceError> {
        if let Some(u) = self.units.get(&instance_id) {
            return Ok(u.clone());
        }
        let u = kansli
            .store()
            .instance(instance_id)
            .await?
            .and_then(|i| i.unit_code);
        self.units.insert(instance_id, u.clone());
        Ok(u)
    }
}
