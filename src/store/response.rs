//! Answers to questionnaires, saved as drafts and guarded by a row version.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use super::entity::response;
use super::{Store, StoreError, Tx};

/// A stored answer.
pub type ResponseRow = response::Model;

impl Tx {
    /// Saves the answers of an instance (creating the row on the first save); `submitted`
    /// stamps the submission.
    pub async fn save_response(
        &self,
        instance_id: i32,
        questionnaire: (&str, i32),
        answers: &str,
        submitted: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let model = response::ActiveModel {
            instance_id: Set(instance_id),
            questionnaire_id: Set(questionnaire.0.to_owned()),
            version: Set(questionnaire.1),
            answers: Set(answers.to_owned()),
            updated_at: Set(at),
            submitted_at: Set(submitted.then_some(at)),
            row_version: Set(1),
            ..Default::default()
        };
        let mut update = vec![response::Column::Answers, response::Column::UpdatedAt];
        if submitted {
            update.push(response::Column::SubmittedAt);
        }
        response::Entity::insert(model)
            .on_conflict(
                OnConflict::column(response::Column::InstanceId)
                    .update_columns(update)
                    .value(
                        response::Column::RowVersion,
                        Expr::col((response::Entity, response::Column::RowVersion)).add(1),
                    )
                    .to_owned(),
            )
            .exec(&self.txn)
            .await?;
        Ok(())
    }
}

impl Tx {
    /// The answer of an instance, read inside the transaction.
    pub async fn response_of(&self, instance_id: i32) -> Result<Option<ResponseRow>, StoreError> {
        Ok(response::Entity::find()
            .filter(response::Column::InstanceId.eq(instance_id))
            .one(&self.txn)
            .await?)
    }
}

impl Store {
    /// The answer of an instance.
    pub async fn response_of(&self, instance_id: i32) -> Result<Option<ResponseRow>, StoreError> {
        Ok(response::Entity::find()
            .filter(response::Column::InstanceId.eq(instance_id))
            .one(self.db())
            .await?)
    }
}
