//! The step runtime: a workflow version loaded for an instance, the pure decision
//! ([`crate::workflow::apply`]), and the writes the decision implies (`persist`: the instance,
//! its audit entry, timers, and every effect), in the caller's transaction.

use super::*;
use crate::domain::audit::Action;

impl Engine {
    pub(super) async fn definition(&self, id: i32) -> Result<Arc<Workflow>, ServiceError> {
        if let Some(found) = self
            .definitions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
        {
            return Ok(found.clone());
        }
        let row = self
            .kansli
            .store
            .definition(id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("stored workflow definition {id} is missing"))?;
        let path = std::path::PathBuf::from(format!("{}.yaml", row.workflow_id));
        let workflow = catalog::parse(&path, &row.source).map_err(|problems| {
            anyhow::anyhow!(
                "stored version {} of {} no longer validates: {}",
                row.version,
                row.workflow_id,
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })?;
        let workflow = Arc::new(self.with_later_declarations(workflow));
        self.definitions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, workflow.clone());
        Ok(workflow)
    }

    /// A stored version written before the format had a declaration the services read
    /// (`questionnaire:`, `deadline:`) takes it from the current file of the same workflow, so
    /// that instances running across an upgrade keep their answer pages and their deadlines.
    fn with_later_declarations(&self, mut stored: Workflow) -> Workflow {
        if let Some(current) = self.catalog.get(&stored.id) {
            let current = &current.workflow;
            if stored.questionnaire.is_none() {
                stored.questionnaire = current.questionnaire.clone();
            }
            if stored.deadline.is_none() {
                stored.deadline = current.deadline.clone();
            }
        }
        stored
    }

    pub(super) async fn load_in(&self, tx: &Tx, row: InstanceRow) -> Result<Loaded, ServiceError> {
        let workflow = self.definition(row.definition_id).await?;
        let children = match workflow.has_children() {
            true => tx.children(row.id).await?,
            false => Vec::new(),
        };
        self.loaded(row, children).await
    }

    pub(super) async fn loaded(
        &self,
        row: InstanceRow,
        children: Vec<InstanceRow>,
    ) -> Result<Loaded, ServiceError> {
        let workflow = self.definition(row.definition_id).await?;
        let variables = match serde_json::from_str::<Value>(&row.variables) {
            Ok(Value::Object(map)) => map,
            _ => {
                return Err(anyhow::anyhow!("instance {} has unreadable variables", row.id).into());
            }
        };
        let children = children
            .into_iter()
            .map(|c| ChildView {
                unit_code: c.unit_code.unwrap_or_default(),
                state: c.state,
            })
            .collect();
        Ok(Loaded {
            row,
            workflow,
            variables,
            children,
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn apply_loaded(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        loaded: &Loaded,
        case: Option<&CaseRow>,
        decision: &Decision,
        by: &StepBy<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        tx.update_instance(
            loaded.row.id,
            loaded.row.row_version,
            &decision.to,
            &Value::Object(decision.variables.clone()).to_string(),
            now,
            decision.finished,
        )
        .await?;
        let mut pending = self
            .persist(
                tx,
                org,
                &loaded.row,
                &loaded.workflow,
                case,
                decision,
                by,
                now,
            )
            .await?;
        self.start_children(tx, org, &mut pending, by.actor, now)
            .await
    }

    /// Writes everything a decision implies except the instance row itself: audit, timers,
    /// effects. Returns the child instances to start.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn persist(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        instance: &InstanceRow,
        workflow: &Workflow,
        case: Option<&CaseRow>,
        decision: &Decision,
        by: &StepBy<'_>,
        now: DateTime<Utc>,
    ) -> Result<Vec<ChildStart>, ServiceError> {
        let unit = instance.unit_code.as_deref();
        let rows = step_rows(instance, workflow, decision, by, self.office_hours, now);
        tx.append_step(rows.audit).await?;
        tx.cancel_timer_sets(&rows.cancels).await?;
        if decision.finished {
            // An approved answer cannot be changed through an old link.
            tx.revoke_invitations(&[instance.id], now).await?;
            // Children end with their parent: no reminder goes out for a follow-up that was
            // cancelled or closed, and no answer comes in to it.
            let mut descendants = tx.children(instance.id).await?;
            while let Some(child) = descendants.pop() {
                if child.finished_at.is_none() {
                    tx.cancel_timers(child.id, None, None).await?;
                    tx.revoke_invitations(&[child.id], now).await?;
                    tx.end_instance(child.id, now).await?;
                    tx.append_step(AuditInput {
                        case_id: child.case_id,
                        instance_id: Some(child.id),
                        actor: by.actor.as_str().to_owned(),
                        role: Some(by.sender.to_string()),
                        action: Action::EndedWithParent.text().into(),
                        from_state: Some(child.state.clone()),
                        to_state: Some(child.state.clone()),
                        detail: child.unit_code.clone(),
                        at: now,
                    })
                    .await?;
                }
                descendants.extend(tx.children(child.id).await?);
            }
        }
        tx.insert_timers(rows.timers).await?;
        // The answering deadline is only shown in emails.
        let mut deadline = rows.deadline;
        if let Some(timer) = &workflow.deadline
            && deadline.is_none()
            && sends_email(decision)
        {
            deadline = tx
                .pending_timer(instance.id, timer)
                .await?
                .map(|t| t.due_at);
        }

        let mut children = Vec::new();
        // Documents not yet rendered: the step goes on without them, to find them all, and
        // then ends asking for them (see `renditions`).
        let mut unrendered = Vec::new();
        for effect in &decision.effects {
            match effect {
                Effect::Email { template, to, link } => {
                    let letter = Letter {
                        org,
                        workflow,
                        instance,
                        decision,
                        case,
                        deadline,
                    };
                    self.queue_email(tx, &letter, template, to, *link, now)
                        .await?;
                }
                Effect::Document {
                    template,
                    direction,
                    description,
                } => {
                    let case = case.ok_or_else(|| {
                        anyhow::anyhow!(
                            "{}: effect document {template} needs an ärende",
                            workflow.id
                        )
                    })?;
                    let file = match self
                        .rendered_document(
                            tx,
                            org,
                            instance,
                            &decision.variables,
                            case,
                            template,
                            description,
                            now,
                        )
                        .await?
                    {
                        Ok(file) => file,
                        Err(wanted) => {
                            unrendered.push(wanted);
                            continue;
                        }
                    };
                    let seq = tx.allocate_document_seq(case.id).await?;
                    tx.insert_document(
                        NewDocument {
                            case_id: case.id,
                            date: local_date(now),
                            direction: direction.code().to_owned(),
                            counterpart: unit
                                .and_then(|u| org.units.iter().find(|x| x.code == u))
                                .map(|u| u.name.clone()),
                            counterpart_protected: false,
                            description: description.clone(),
                            description_protected: false,
                            secrecy: None,
                            file,
                            registered_at: now,
                            registered_by: by.actor.as_str().to_owned(),
                        },
                        seq,
                    )
                    .await?;
                    tx.append_audit(
                        Some(case.id),
                        by.actor.as_str(),
                        Action::DocumentRegistered,
                        Some(format!(":{seq} {description} (mall {template})")),
                        now,
                    )
                    .await?;
                }
                Effect::StartChildren {
                    workflow: child,
                    per,
                } => {
                    for u in org.units.iter().filter(|u| u.kind == per.code()) {
                        children.push(ChildStart {
                            workflow: child.clone(),
                            parent_id: instance.id,
                            case_id: instance.case_id,
                            unit_code: u.code.clone(),
                            unit_name: u.name.clone(),
                            inherited: inherited(&decision.variables),
                        });
                    }
                }
                Effect::NotifyParent { event } => {
                    if let Some(notice) = notice_to_parent(instance, event, now) {
                        tx.insert_timer(notice).await?;
                    }
                }
                Effect::NotifyChildren { event } => {
                    for child in tx.children(instance.id).await? {
                        if child.finished_at.is_none() {
                            tx.insert_timer(rows::notice_to_child(&child, event, now))
                                .await?;
                        }
                    }
                }
                Effect::Refer { organ } => {
                    tx.append_step(referral(org, instance, organ, by, now))
                        .await?;
                }
                // The decision goes out with the document drawn up before it.
                Effect::Dispatch { .. } if !unrendered.is_empty() => {}
                Effect::Dispatch { template, attach } => {
                    let case = case.ok_or_else(|| {
                        anyhow::anyhow!("{}: effect dispatch needs an ärende", workflow.id)
                    })?;
                    let letter = Letter {
                        org,
                        workflow,
                        instance,
                        decision,
                        case: Some(case),
                        deadline,
                    };
                    self.dispatch(tx, &letter, case, template, attach, by.actor, now)
                        .await?;
                }
                Effect::CloseCase { reason } => {
                    if let Some(id) = instance.case_id
                        && let Some(current) = tx.case_by_id(id).await?
                        && current.status() == CaseStatus::Open
                    {
                        tx.set_case_status(
                            id,
                            current.row_version,
                            CaseStatus::Closed.code(),
                            Some((now, by.actor.as_str().to_owned())),
                        )
                        .await?;
                        // A closed ärende takes no answers: every link into it dies.
                        tx.revoke_invitations(&tx.instance_ids_of_case(id).await?, now)
                            .await?;
                        tx.append_audit(
                            Some(id),
                            by.actor.as_str(),
                            Action::CaseClosed,
                            Some(reason.clone()),
                            now,
                        )
                        .await?;
                    }
                }
            }
        }
        if !unrendered.is_empty() {
            return Err(ServiceError::Unrendered(unrendered));
        }
        Ok(children)
    }

    pub(super) async fn start_children(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        pending: &mut Vec<ChildStart>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        while let Some(child) = pending.pop() {
            let entry = self.catalog.get(&child.workflow).ok_or_else(|| {
                anyhow::anyhow!("child workflow {} is not in the catalog", child.workflow)
            })?;
            let mut vars = child.inherited.clone();
            vars.insert("unit_code".into(), json!(child.unit_code));
            vars.insert("unit_name".into(), json!(child.unit_name));
            let decision = start(&entry.workflow, vars, now);
            let definition_id = self.definition_id_in(tx, entry, now).await?;
            let row = tx
                .insert_instance(NewInstance {
                    definition_id,
                    workflow_id: entry.workflow.id.clone(),
                    case_id: child.case_id,
                    parent_id: Some(child.parent_id),
                    unit_code: Some(child.unit_code.clone()),
                    state: decision.to.clone(),
                    variables: Value::Object(decision.variables.clone()).to_string(),
                    at: now,
                    finished: decision.finished,
                })
                .await?;
            let case = case_for(tx, child.case_id, &decision).await?;
            let mut more = self
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
            pending.append(&mut more);
        }
        Ok(())
    }

    /// Writes a new instance's first step, the entry into its initial state, as the system's.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn first_step(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        row: &InstanceRow,
        workflow: &Workflow,
        case: Option<&CaseRow>,
        decision: &Decision,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<ChildStart>, ServiceError> {
        let by = StepBy {
            actor,
            sender: Sender::System,
            event: "start",
        };
        self.persist(tx, org, row, workflow, case, decision, &by, now)
            .await
    }
}

/// The ärende, read inside the transaction when the decision's effects need it (an email
/// names it, a document is registered in it, it is closed).
pub(super) async fn case_for(
    tx: &Tx,
    case_id: Option<i32>,
    decision: &Decision,
) -> Result<Option<CaseRow>, ServiceError> {
    let needed = decision.effects.iter().any(|e| {
        matches!(
            e,
            Effect::Email { .. }
                | Effect::Document { .. }
                | Effect::CloseCase { .. }
                | Effect::Dispatch { .. }
        )
    });
    match case_id {
        Some(id) if needed => Ok(tx.case_by_id(id).await?),
        _ => Ok(None),
    }
}

pub(super) fn decide(
    loaded: &Loaded,
    event: &str,
    values: &Map<String, Value>,
    sender: Sender,
    now: DateTime<Utc>,
) -> Result<Decision, ServiceError> {
    if loaded.row.finished_at.is_some() {
        return Err(ServiceError::Refused(TransitionError::Finished {
            state: loaded.row.state.clone(),
        }));
    }
    let view = InstanceView {
        state: &loaded.row.state,
        variables: &loaded.variables,
        children: &loaded.children,
    };
    apply(
        &loaded.workflow,
        view,
        &Event {
            name: event.to_owned(),
            sender,
            values: values.clone(),
        },
        now,
    )
    .map_err(ServiceError::Refused)
}

/// A root instance (no parent, no unit) entering its initial state as `first` decided.
pub(super) fn root_instance(
    definition_id: i32,
    workflow_id: &str,
    case_id: Option<i32>,
    first: &Decision,
    now: DateTime<Utc>,
) -> NewInstance {
    NewInstance {
        definition_id,
        workflow_id: workflow_id.to_owned(),
        case_id,
        parent_id: None,
        unit_code: None,
        state: first.to.clone(),
        variables: Value::Object(first.variables.clone()).to_string(),
        at: now,
        finished: first.finished,
    }
}

/// The variables a child takes over from its parent.
pub(super) fn inherited(parent: &Map<String, Value>) -> Map<String, Value> {
    ["year", "period", "case_number"]
        .iter()
        .filter_map(|k| parent.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .collect()
}
