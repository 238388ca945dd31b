//! The documents a step registers and the drafts a handläggare reads: their context (the
//! ärende, its handlingar, the decision chain, the paragraph, the answers), rendered outside
//! the step's transaction (`renditions`) and stored with the handling.

use super::*;

/// Asks the engine, mapping its refusal to a service error that says why.
/// What every document of an ärende shows: the municipality, the ärende, the unit, the day.
pub(super) fn document_context(
    org: &OrgSnapshot,
    instance: &InstanceRow,
    vars: &Map<String, Value>,
    case: &CaseRow,
    description: &str,
    now: DateTime<Utc>,
) -> DocumentContext {
    let year = vars.get("year").and_then(Value::as_i64).unwrap_or_default() as i32;
    DocumentContext {
        municipality: municipality_of(org).name,
        case_number: vars
            .get("case_number")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        case_title: case.public_title.clone(),
        year: year.to_string(),
        unit_name: instance
            .unit_code
            .as_deref()
            .and_then(|u| org.units.iter().find(|x| x.code == u))
            .map(|u| u.name.clone())
            .unwrap_or_default(),
        date: local_date(now).to_string(),
        description: description.to_owned(),
        ..Default::default()
    }
}

/// The description a workflow registers a document from `template` under.
pub(super) fn document_description(workflow: &Workflow, template: &str) -> Option<String> {
    use crate::workflow::model::EffectSpec;
    let states = workflow.states.values();
    states
        .flat_map(|s| {
            let effects = s.transitions.iter().flat_map(|t| t.effects.iter());
            s.on_entry.iter().chain(&s.on_exit).chain(effects)
        })
        .find_map(|e| match e {
            EffectSpec::Document {
                template: t,
                description,
                ..
            } if t == template => Some(description.clone()),
            _ => None,
        })
}

impl Engine {
    /// A step's document, rendered before the step's transaction (see `renditions`), stored,
    /// as the file reference for its handling; or the document to render, when it is not.
    /// An instance with an answer gets the answer written out, question by question.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn rendered_document(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        instance: &InstanceRow,
        vars: &Map<String, Value>,
        case: &CaseRow,
        template: &str,
        description: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<Option<(String, String, String)>, Unrendered>, ServiceError> {
        if self.catalog.renderer().is_none() {
            return Ok(Ok(None));
        }
        let wanted = Unrendered {
            template: template.to_owned(),
            context: self
                .full_context(tx, org, instance, vars, case, description, None, now)
                .await?,
        };
        let Some(rendition) = self.renditions.get(&wanted) else {
            return Ok(Err(wanted));
        };
        let sha256 = tx.store_content(rendition.content, now).await?;
        let extension = rendition.extension;
        let name = match &instance.unit_code {
            Some(unit) => format!("{template}-{}.{extension}", unit.to_lowercase()),
            None => format!("{template}.{extension}"),
        };
        Ok(Ok(Some((sha256, name, rendition.media_type.to_owned()))))
    }

    /// Everything a document of an ärende's instance shows, read through `tx`: the ärende and
    /// its handlingar, the decision chain, the paragraph (`paragraph`, else the latest
    /// decision), and the answers of a förvaltning or the compiled report.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn full_context(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        instance: &InstanceRow,
        vars: &Map<String, Value>,
        case: &CaseRow,
        description: &str,
        paragraph: Option<&ParagraphRef>,
        now: DateTime<Utc>,
    ) -> Result<DocumentContext, ServiceError> {
        let mut context = document_context(org, instance, vars, case, description, now);
        self.decision_context(tx, org, case, vars, &mut context)
            .await?;
        if instance.parent_id.is_none() {
            self.paragraph_context(tx, org, case.id, vars, paragraph, &mut context)
                .await?;
        }
        if instance.parent_id.is_none() && !tx.children(instance.id).await?.is_empty() {
            // The root of a follow-up: the document is the compiled report of its children's
            // answers, read through the step's own transaction.
            let compilation = self
                .compile_in(tx, org, case.id, &context.case_number)
                .await?;
            context.questionnaire_title = compilation.questionnaire.title.clone();
            context.sections = compilation.sections();
            context.response_rate = compilation.response_rate();
            context.not_answered = compilation.not_answered();
        } else if let Some(response) = tx.response_of(instance.id).await?
            && let Some(questionnaire) = self
                .catalog
                .questionnaires()
                .for_year(&response.questionnaire_id, response.version)
        {
            let answers: crate::questionnaire::Answers =
                serde_json::from_str(&response.answers).map_err(anyhow::Error::from)?;
            context.questionnaire_title = questionnaire.title.clone();
            context.sections = crate::service::report::document_sections(questionnaire, |q| {
                answers.get(&q.id).map(|a| a.display()).unwrap_or_default()
            });
        }
        Ok(context)
    }

    /// A document of an ärende's workflow as it would be registered now, for the handläggare to
    /// read before sending the event that registers it. Nothing is written.
    pub async fn draft_document(
        &self,
        case_number: &str,
        template: &str,
    ) -> Result<String, ServiceError> {
        let html = self
            .document_now(case_number, template, None, DocumentFormat::Html)
            .await?;
        Ok(String::from_utf8(html).map_err(anyhow::Error::from)?)
    }

    /// A document drawn up now from the ärende's root instance (of `paragraph`, for an
    /// extract), read through a transaction like the step that registers it, then rolled back.
    pub(super) async fn document_now(
        &self,
        case_number: &str,
        template: &str,
        paragraph: Option<&ParagraphRef>,
        format: DocumentFormat,
    ) -> Result<Vec<u8>, ServiceError> {
        let target = Target {
            case_number: case_number.to_owned(),
            unit: None,
        };
        let instance = self.target_instance(&target).await?;
        let workflow = self.definition(instance.definition_id).await?;
        // Its variables, not its children: a draft is rendered, not judged by guards.
        let Loaded { row, variables, .. } = self.loaded(instance, Vec::new()).await?;
        let case = self.case(case_number).await?;
        let description = match (document_description(&workflow, template), paragraph) {
            (Some(d), _) => crate::workflow::engine::substitute(&d, &variables),
            // An extract can be drawn of any paragraph, registered by the workflow or not.
            (None, Some(_)) => format!("Protokollsutdrag, {}", case.public_title),
            (None, None) => {
                return Err(ServiceError::Invalid(format!(
                    "{} registers no document from template {template:?}",
                    workflow.id
                )));
            }
        };
        let org = self.kansli.store.org_snapshot().await?;
        let tx = self.kansli.store.begin().await?;
        let now = self.now();
        let context = self
            .full_context(
                &tx,
                &org,
                &row,
                &variables,
                &case,
                &description,
                paragraph,
                now,
            )
            .await?;
        tx.rollback().await?;
        self.render_on_request(template, &context, format, now)
    }

    /// A document rendered for someone who asked for it, in the format asked for.
    pub(crate) fn render_on_request(
        &self,
        template: &str,
        context: &DocumentContext,
        format: DocumentFormat,
        now: DateTime<Utc>,
    ) -> Result<Vec<u8>, ServiceError> {
        let renderer = self
            .catalog
            .renderer()
            .ok_or_else(|| anyhow::anyhow!("the engine was loaded without templates"))?;
        let failed = |e: crate::render::TemplateError| anyhow::anyhow!("document {template}: {e}");
        match format {
            DocumentFormat::Html => Ok(renderer
                .document(template, context)
                .map_err(failed)?
                .into_bytes()),
            DocumentFormat::Pdf => renderer
                .document_pdf(template, context, now)
                .map_err(failed)?
                .ok_or_else(|| {
                    ServiceError::Invalid(format!(
                        "document {template} has no PDF: it needs templates/documents/{template}.typ and a build with the pdf feature"
                    ))
                }),
        }
    }

    /// What a document that goes to the politicians needs: the handläggare's header, the
    /// deciding organ, the proposal worded down the organ chain, the handlingar it rests on,
    /// and who the decision goes to. The chain starts at the workflow's `preparing_organ`,
    /// follows each organ's `proposes_to`, and goes on past kommunstyrelsen only when `to_kf`.
    pub(super) async fn decision_context(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        case: &CaseRow,
        vars: &Map<String, Value>,
        context: &mut DocumentContext,
    ) -> Result<(), ServiceError> {
        if let Some(p) = case
            .handlaggare_id
            .and_then(|id| org.people.iter().find(|p| p.id == id))
        {
            context.handlaggare_name = p.name.clone();
            context.handlaggare_title = p.title.clone();
            context.handlaggare_email = p.email.clone();
        }
        let organ = |code: &str| org.organs.iter().find(|o| o.code == code);
        let mut chain = Vec::new();
        let mut next = vars
            .get("preparing_organ")
            .and_then(Value::as_str)
            .and_then(&organ);
        let to_kf = vars.get("to_kf").and_then(Value::as_bool).unwrap_or(false);
        while let Some(o) = next {
            if chain
                .iter()
                .any(|c: &&crate::store::OrganRow| c.code == o.code)
            {
                break;
            }
            chain.push(o);
            let stop = o.kind == crate::domain::organisation::OrganKind::Styrelse.code() && !to_kf;
            next = if stop {
                None
            } else {
                o.proposes_to_code.as_deref().and_then(&organ)
            };
        }
        // "X föreslås besluta att föreslå y besluta att föreslå z besluta"
        let definite = |name: &str| {
            let mut chars = name.chars();
            chars
                .next()
                .map(|c| c.to_lowercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        };
        if let Some((first, rest)) = chain.split_first() {
            let mut proposal = format!("{} föreslås besluta", first.name);
            for o in rest {
                proposal.push_str(&format!(" att föreslå {} besluta", definite(&o.name)));
            }
            context.proposal = proposal;
            context.addressee = chain
                .iter()
                .find(|o| o.kind == crate::domain::organisation::OrganKind::Styrelse.code())
                .unwrap_or(first)
                .name
                .clone();
        }
        let text = |name: &str| {
            vars.get(name)
                .and_then(Value::as_str)
                .map(extract::paragraphs)
        };
        context.sammanfattning = text("sammanfattning").unwrap_or_default();
        context.arendet = text("arendet").unwrap_or_default();
        context.beslutsunderlag = tx
            .documents_of(case.id)
            .await?
            .into_iter()
            .filter(|d| d.direction != Direction::Outgoing.code())
            .map(|d| format!("{}, {}", d.description, d.date))
            .collect();
        context.skickas_till = extract::listed(vars, "skickas_till");
        Ok(())
    }
}
