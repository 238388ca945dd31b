//! Personal links: a nonce and the SHA-256 of the token made from it. The token needs the
//! server's secret, so a copy of the database gives nobody a working link.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::entity::{invitation, workflow_instance};
use super::sets::one_of;
use super::{Store, StoreError, Tx};

/// A stored link.
pub type InvitationRow = invitation::Model;

/// A link to store.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    /// The instance the link answers.
    pub instance_id: i32,
    /// What the link is for.
    pub purpose: String,
    /// The nonce the token is made from.
    pub nonce: String,
    /// The SHA-256 of the token.
    pub token_sha256: String,
    /// Whom it was sent to.
    pub recipient_email: String,
    /// When.
    pub at: DateTime<Utc>,
}

pub(super) fn invitation_model(new: NewInvitation) -> invitation::ActiveModel {
    invitation::ActiveModel {
        instance_id: Set(new.instance_id),
        purpose: Set(new.purpose),
        nonce: Set(new.nonce),
        token_sha256: Set(new.token_sha256),
        recipient_email: Set(new.recipient_email),
        created_at: Set(new.at),
        revoked_at: Set(None),
        ..Default::default()
    }
}

impl Tx {
    /// Stores a link's hash.
    pub async fn insert_invitation(&self, new: NewInvitation) -> Result<(), StoreError> {
        invitation_model(new).insert(&self.txn).await?;
        Ok(())
    }

    /// Revokes every live link of the given instances.
    pub async fn revoke_invitations(
        &self,
        instance_ids: &[i32],
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if instance_ids.is_empty() {
            return Ok(0);
        }
        Ok(invitation::Entity::update_many()
            .col_expr(invitation::Column::RevokedAt, Expr::value(Some(at)))
            .filter(one_of(
                self.db_backend(),
                invitation::Column::InstanceId,
                instance_ids.iter().copied(),
            ))
            .filter(invitation::Column::RevokedAt.is_null())
            .exec(&self.txn)
            .await?
            .rows_affected)
    }

    /// The ids of an ärende's instances, read inside the transaction.
    pub async fn instance_ids_of_case(&self, case_id: i32) -> Result<Vec<i32>, StoreError> {
        Ok(self
            .instances_of_case(case_id)
            .await?
            .into_iter()
            .map(|i| i.id)
            .collect())
    }

    /// An ärende's instances, read inside the transaction.
    pub async fn instances_of_case(
        &self,
        case_id: i32,
    ) -> Result<Vec<workflow_instance::Model>, StoreError> {
        Ok(workflow_instance::Entity::find()
            .filter(workflow_instance::Column::CaseId.eq(case_id))
            .all(&self.txn)
            .await?)
    }
}

impl Store {
    /// The live link with this token hash.
    pub async fn live_invitation(
        &self,
        token_sha256: &str,
    ) -> Result<Option<InvitationRow>, StoreError> {
        Ok(invitation::Entity::find()
            .filter(invitation::Column::TokenSha256.eq(token_sha256))
            .filter(invitation::Column::RevokedAt.is_null())
            .one(self.db())
            .await?)
    }

    /// A link by its token's hash, revoked or not: to tell the holder of a dead link why.
    pub async fn invitation_by_token(
        &self,
        token_sha256: &str,
    ) -> Result<Option<InvitationRow>, StoreError> {
        Ok(invitation::Entity::find()
            .filter(invitation::Column::TokenSha256.eq(token_sha256))
            .one(self.db())
            .await?)
    }

    /// Every link of an instance.
    pub async fn invitations_of(&self, instance_id: i32) -> Result<Vec<InvitationRow>, StoreError> {
        Ok(invitation::Entity::find()
            .filter(invitation::Column::InstanceId.eq(instance_id))
            .all(self.db())
            .await?)
    }
}
