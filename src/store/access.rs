//! Who has been given access to an ärende's secret handlingar, beside its handläggare and
//! its organ's registrators: the ärende's access list.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entity::case_access;
use super::{Store, StoreError, Tx};

/// A person on an ärende's access list.
pub type AccessGrantRow = case_access::Model;

impl Tx {
    /// Puts a person on an ärende's access list; false when they are on it already.
    pub async fn grant_case_access(
        &self,
        case_id: i32,
        person_key: &str,
        granted_by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let exists = case_access::Entity::find_by_id((case_id, person_key.to_owned()))
            .one(&self.txn)
            .await?
            .is_some();
        if exists {
            return Ok(false);
        }
        case_access::ActiveModel {
            case_id: Set(case_id),
            person_key: Set(person_key.to_owned()),
            granted_by: Set(granted_by.to_owned()),
            granted_at: Set(at),
        }
        .insert(&self.txn)
        .await?;
        Ok(true)
    }

    /// Takes a person off an ärende's access list; false when they were not on it.
    pub async fn revoke_case_access(
        &self,
        case_id: i32,
        person_key: &str,
    ) -> Result<bool, StoreError> {
        let done = case_access::Entity::delete_by_id((case_id, person_key.to_owned()))
            .exec(&self.txn)
            .await?;
        Ok(done.rows_affected == 1)
    }
}

impl Store {
    /// An ärende's access list, by person.
    pub async fn case_access(&self, case_id: i32) -> Result<Vec<AccessGrantRow>, StoreError> {
        Ok(case_access::Entity::find()
            .filter(case_access::Column::CaseId.eq(case_id))
            .order_by_asc(case_access::Column::PersonKey)
            .all(self.db())
            .await?)
    }
}
