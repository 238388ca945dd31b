//! Starting workflows: by hand (`kansli workflow start`, refused a second time in a period
//! for a scheduled workflow), on schedule (cron, with catch-up after downtime, once per period
//! across processes), and the first step of a new instance with the ärende it opens.

use super::*;

impl Engine {
    /// Starts a root instance of a workflow now, opening its ärende when the workflow says so.
    pub async fn start(
        &self,
        workflow_id: &str,
        variables: Map<String, Value>,
        actor: &Actor,
    ) -> Result<(i32, Option<String>), ServiceError> {
        let request = Request::Start {
            workflow_id: workflow_id.to_owned(),
            variables,
            period: local_year(self.now()).to_string(),
            actor: actor.clone(),
        };
        match self.submit(request).await? {
            Response::Started(id, number) => Ok((id, number)),
            Response::Sent(_) => Err(anyhow::anyhow!("a start was answered as an event").into()),
        }
    }

    /// Starts a workflow by hand (`kansli workflow start`). A workflow with a schedule runs once
    /// a period (the calendar year): a second run is refused unless `again`, since a second
    /// yearly follow-up would send every förvaltning its invitation twice, and the refusal
    /// names the ärende that has the period. One without a schedule (a motion) starts as often
    /// as it is asked to.
    pub async fn start_by_hand(
        &self,
        workflow_id: &str,
        variables: Map<String, Value>,
        again: bool,
        actor: &Actor,
    ) -> Result<(i32, Option<String>), ServiceError> {
        let period = local_year(self.now());
        let periodic = self
            .catalog
            .get(workflow_id)
            .is_some_and(|e| e.workflow.schedule.is_some());
        if periodic && !again {
            for row in self.kansli.store.roots_of(workflow_id).await? {
                let vars: Map<String, Value> =
                    serde_json::from_str(&row.variables).unwrap_or_default();
                let year = vars
                    .get("year")
                    .and_then(Value::as_i64)
                    .map_or_else(|| local_year(row.created_at), |y| y as i32);
                if year != period {
                    continue;
                }
                let number = match row.case_id {
                    Some(case_id) => Some(self.kansli.case_number(case_id).await?),
                    None => None,
                };
                return Err(ServiceError::Invalid(format!(
                    "{workflow_id} has run for {period} already{}; give --again to start it once more",
                    number
                        .map(|n| format!(", in ärende {n}"))
                        .unwrap_or_default()
                )));
            }
        }
        self.start(workflow_id, variables, actor).await
    }

    /// A scheduled start, in a transaction of its own that also records the period.
    pub(super) async fn start_scheduled(
        &self,
        workflow_id: &str,
        variables: Map<String, Value>,
        period: &str,
        cron_period: &str,
        now: DateTime<Utc>,
    ) -> Result<(i32, Option<String>), ServiceError> {
        self.rendering_first(|| async {
            let org = self.kansli.store.org_snapshot().await?;
            let book = SeriesBook::from_rows(org.series.clone())?;
            let prepared = self
                .prepare_start(&book, workflow_id, variables.clone(), period, now)
                .await?;
            let tx = self.kansli.store.begin().await?;
            let started = self
                .start_in(
                    &tx,
                    &org,
                    &book,
                    prepared,
                    Some(cron_period),
                    &Actor::system(),
                    now,
                )
                .await;
            match started {
                Ok(started) => {
                    tx.commit().await?;
                    Ok(started)
                }
                Err(e) => {
                    tx.rollback().await?;
                    Err(e)
                }
            }
        })
        .await
    }

    /// Everything about a start that is read and checked before its transaction: the
    /// workflow, its variables, and the ärende it opens.
    pub(super) async fn prepare_start(
        &self,
        book: &SeriesBook,
        workflow_id: &str,
        variables: Map<String, Value>,
        period: &str,
        now: DateTime<Utc>,
    ) -> Result<PreparedStart, ServiceError> {
        let entry = self.catalog.get(workflow_id).ok_or_else(|| {
            ServiceError::Invalid(format!("no workflow {workflow_id:?} in the catalog"))
        })?;
        let workflow = entry.workflow.clone();
        let mut vars = variables;
        vars.entry("year").or_insert(json!(local_year(now)));
        vars.insert("period".into(), json!(period));
        let case = match &workflow.case {
            Some(spec) => {
                let defaults = start(&workflow, Map::new(), now).variables;
                let text = |t: &str| {
                    let mut all = defaults.clone();
                    all.extend(vars.clone());
                    crate::workflow::engine::substitute(t, &all)
                };
                let previous = match spec.link_previous {
                    true => self.previous_case(book, workflow_id).await?,
                    false => None,
                };
                let handlaggare = spec
                    .handlaggare
                    .as_deref()
                    .map(&text)
                    .filter(|h| !h.is_empty());
                Some(
                    self.kansli
                        .prepare_case(
                            book,
                            OpenCase {
                                series: spec.series.clone(),
                                title: text(&spec.title),
                                public_title: spec.public_title.as_deref().map(&text),
                                classification: spec.classification.clone(),
                                handlaggare,
                                previous,
                            },
                        )
                        .await?,
                )
            }
            None => None,
        };
        Ok(PreparedStart {
            workflow_id: workflow_id.to_owned(),
            variables: vars,
            case,
        })
    }

    /// The number of the ärende the workflow's latest root instance opened.
    pub(super) async fn previous_case(
        &self,
        book: &SeriesBook,
        workflow_id: &str,
    ) -> Result<Option<String>, ServiceError> {
        let store = &self.kansli.store;
        let Some(id) = store.latest_case_of_workflow(workflow_id).await? else {
            return Ok(None);
        };
        match store.case_by_id(id).await? {
            Some(row) => Ok(Some(book.render(&row)?)),
            None => Ok(None),
        }
    }

    /// Writes a prepared start inside `tx`: the ärende, the instance, its first step and its
    /// children. With `cron_period`, the period is recorded first, so it is started once.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn start_in(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        book: &SeriesBook,
        prepared: PreparedStart,
        cron_period: Option<&str>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(i32, Option<String>), ServiceError> {
        let PreparedStart {
            workflow_id,
            variables: mut vars,
            case,
        } = prepared;
        let entry = self.catalog.get(&workflow_id).ok_or_else(|| {
            ServiceError::Invalid(format!("no workflow {workflow_id:?} in the catalog"))
        })?;
        if let Some(period) = cron_period
            && !tx.record_cron_start(&workflow_id, period, now).await?
        {
            return Err(ServiceError::Conflict(format!(
                "{workflow_id} was already started for {period}"
            )));
        }
        let case = match case {
            Some(p) => Some(self.kansli.insert_case(tx, book, p, actor, now).await?),
            None => None,
        };
        let case_number = match &case {
            Some(row) => Some(book.render(row)?),
            None => None,
        };
        if let Some(number) = &case_number {
            vars.insert("case_number".into(), json!(number));
        }
        let decision = start(&entry.workflow, vars, now);
        let definition_id = self.definition_id_in(tx, entry, now).await?;
        let row = tx
            .insert_instance(root_instance(
                definition_id,
                &workflow_id,
                case.as_ref().map(|c| c.id),
                &decision,
                now,
            ))
            .await?;
        if let Some(period) = cron_period {
            tx.link_cron_start(&workflow_id, period, row.id).await?;
        }
        let mut pending = self
            .first_step(
                tx,
                org,
                &row,
                &entry.workflow,
                case.as_ref(),
                &decision,
                actor,
                now,
            )
            .await?;
        self.start_children(tx, org, &mut pending, actor, now)
            .await?;
        tracing::info!(workflow = %workflow_id, instance = row.id, case = ?case_number, "workflow started");
        Ok((row.id, case_number))
    }

    /// The stored definition's id for a catalog entry, stored on first use. Ids found stored
    /// before are remembered; one that this transaction may have stored is not, since it may
    /// yet roll back (with a set of starts that failed, say).
    pub(super) async fn definition_id_in(
        &self,
        tx: &Tx,
        entry: &catalog::Entry,
        now: DateTime<Utc>,
    ) -> Result<i32, ServiceError> {
        let known = |map: &HashMap<String, i32>| map.get(&entry.hash).copied();
        if let Some(id) = known(&self.stored_ids.lock().unwrap_or_else(|e| e.into_inner())) {
            return Ok(id);
        }
        let (id, fresh) = tx
            .definition_id(&entry.workflow.id, &entry.hash, &entry.source, now)
            .await?;
        if !fresh {
            self.stored_ids
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(entry.hash.clone(), id);
        }
        Ok(id)
    }

    /// Makes the scheduled starts that are due: for each scheduled workflow, the latest
    /// occurrence at or before now within its catch-up window, unless that period was started.
    pub async fn run_schedules(&self) -> Result<Vec<String>, ServiceError> {
        let now = self.now();
        let mut started = Vec::new();
        for (workflow, schedule) in self.schedules() {
            let from = (now - schedule.catch_up).with_timezone(&Stockholm);
            let Some(occurrence) = schedule
                .cron
                .after(&from)
                .take_while(|t| t.with_timezone(&Utc) <= now)
                .last()
            else {
                continue;
            };
            let period = occurrence.format("%Y-%m-%dT%H:%M").to_string();
            let id = &workflow.id;
            if self.kansli.store.cron_started(id, &period).await? {
                continue;
            }
            let vars = Map::from_iter([(
                "year".to_owned(),
                json!(
                    occurrence
                        .date_naive()
                        .format("%Y")
                        .to_string()
                        .parse::<i32>()
                        .unwrap_or_default()
                ),
            )]);
            match self
                .start_scheduled(id, vars, &occurrence.format("%Y").to_string(), &period, now)
                .await
            {
                Ok((_, number)) => {
                    started.push(format!("{id} {period} {}", number.unwrap_or_default()))
                }
                // Another worker made this start first.
                Err(ServiceError::Conflict(_)) => {}
                // One workflow's broken start (a removed person, a renamed series) must not
                // stop the others, nor the timers: it is logged and tried again next tick.
                Err(e) => {
                    tracing::error!(workflow = %id, %period, error.message = %e, "scheduled start failed")
                }
            }
        }
        Ok(started)
    }

    pub(super) fn schedules(
        &self,
    ) -> impl Iterator<Item = (&Arc<Workflow>, &crate::workflow::model::Schedule)> {
        self.catalog
            .iter()
            .filter(|e| {
                self.only_scheduling
                    .as_ref()
                    .is_none_or(|only| *only == e.workflow.id)
            })
            .filter_map(|e| e.workflow.schedule.as_ref().map(|s| (&e.workflow, s)))
    }
}
