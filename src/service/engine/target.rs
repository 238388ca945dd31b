//! Which instance an event is for: an ärende's number and, for a child, its unit. A batch of
//! events finds all its instances with two queries, whatever its size, so that a caller does
//! no reading of its own before it joins the batch.

use super::{Engine, SeriesBook};
use crate::service::ServiceError;
use crate::store::InstanceRow;

/// Which instance of an ärende an event is for.
#[derive(Debug, Clone)]
pub struct Target {
    /// The ärende's number.
    pub case_number: String,
    /// A child instance's unit; the ärende's root instance when `None`.
    pub unit: Option<String>,
}

impl Engine {
    /// The instance `target` names.
    pub(super) async fn target_instance(
        &self,
        target: &Target,
    ) -> Result<InstanceRow, ServiceError> {
        let book = SeriesBook::load(&self.kansli).await?;
        self.target_instances(&book, &[target])
            .await?
            .pop()
            .unwrap_or_else(|| Err(anyhow::anyhow!("no answer for {}", target.case_number).into()))
    }

    /// The instances the targets name, each its own result (an ärende that does not exist, or
    /// runs no such instance). The outer error is the database's.
    pub(super) async fn target_instances(
        &self,
        book: &SeriesBook,
        targets: &[&Target],
    ) -> Result<Vec<Result<InstanceRow, ServiceError>>, ServiceError> {
        let numbers: Vec<&str> = targets.iter().map(|t| t.case_number.as_str()).collect();
        let cases = self.kansli.case_rows(book, &numbers).await?;
        let ids: Vec<i32> = cases.iter().flatten().map(|c| c.id).collect();
        let instances = self.kansli.store.instances_of_cases(&ids).await?;
        Ok(targets
            .iter()
            .zip(cases)
            .map(|(target, case)| {
                let case = case?;
                let mut of_case = instances
                    .iter()
                    .rev()
                    .filter(|i| i.case_id == Some(case.id));
                let found = match &target.unit {
                    None => of_case.find(|i| i.parent_id.is_none()),
                    Some(unit) => of_case.find(|i| {
                        i.unit_code
                            .as_deref()
                            .is_some_and(|u| u.eq_ignore_ascii_case(unit))
                    }),
                };
                found.cloned().ok_or_else(|| {
                    ServiceError::NotFound(match &target.unit {
                        None => format!("ärende {} runs no workflow", target.case_number),
                        Some(u) => format!(
                            "ärende {} has no workflow instance for unit {u}",
                            target.case_number
                        ),
                    })
                })
            })
            .collect())
    }
}
