//! Rows of the organisation and the idempotent upserts `kansli org import` is made of.
//!
//! Every upsert bumps the organisation's change counter (`org_generation`) in its transaction,
//! and [`Store::org_snapshot`] reads the organisation again only when the counter has moved.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entity::{municipality, organ, organ_member, person, role_assignment, series, unit};
use super::{Store, StoreError, Tx};

/// The municipality.
pub type MunicipalityRow = municipality::Model;
/// An organ.
pub type OrganRow = organ::Model;
/// A unit.
pub type UnitRow = unit::Model;
/// A person.
pub type PersonRow = person::Model;
/// A role assignment.
pub type RoleRow = role_assignment::Model;
/// A diarieserie.
pub type SeriesRow = series::Model;
/// A ledamot or ersättare of an organ, for a mandatperiod.
pub type OrganMemberRow = organ_member::Model;

/// The whole organisation, as stored.
#[derive(Debug, Clone, Default)]
pub struct OrgSnapshot {
    /// The municipality, once imported.
    pub municipality: Option<MunicipalityRow>,
    /// Organs by code.
    pub organs: Vec<OrganRow>,
    /// Units by code.
    pub units: Vec<UnitRow>,
    /// People by key.
    pub people: Vec<PersonRow>,
    /// Every role held.
    pub roles: Vec<RoleRow>,
    /// Diarieserier by prefix.
    pub series: Vec<SeriesRow>,
    /// The organs' ledamöter and ersättare, by organ, term and their order in the file.
    pub members: Vec<OrganMemberRow>,
}

impl OrgSnapshot {
    /// The members of `organ` whose term covers `day`, in the file's order (ledamöter
    /// first).
    pub fn members_on(&self, organ: &str, day: chrono::NaiveDate) -> Vec<&OrganMemberRow> {
        let mut members: Vec<&OrganMemberRow> = self
            .members
            .iter()
            .filter(|m| m.organ_code == organ && m.term_from <= day && day <= m.term_to)
            .collect();
        members.sort_by_key(|m| (m.seat != "ledamot", m.ordinal));
        members
    }
}

impl Store {
    /// The municipality, once imported: one row, for page headers.
    pub async fn municipality(&self) -> Result<Option<MunicipalityRow>, StoreError> {
        Ok(municipality::Entity::find_by_id(1).one(self.db()).await?)
    }

    /// Reads the whole organisation.
    ///
    /// Kept between calls, and read again only when the change counter has moved: an upsert
    /// bumps it in its own transaction, so a change is seen as soon as it is committed, by
    /// every process on the database. The counter is read before the rows, so a snapshot is
    /// never older than the count it is kept under.
    pub async fn org_snapshot(&self) -> Result<OrgSnapshot, StoreError> {
        let generation = self.org_generation().await?;
        if let Some((kept, org)) = &*self.org_cache.lock().unwrap_or_else(|e| e.into_inner())
            && *kept == generation
        {
            return Ok(org.clone());
        }
        let org = self.read_org().await?;
        *self.org_cache.lock().unwrap_or_else(|e| e.into_inner()) = Some((generation, org.clone()));
        Ok(org)
    }

    /// The organisation's change counter.
    async fn org_generation(&self) -> Result<i64, StoreError> {
        let query = Query::select()
            .column(Alias::new("generation"))
            .from(Alias::new(ORG_GENERATION))
            .to_owned();
        let row = self
            .db()
            .query_one(&query)
            .await?
            .ok_or_else(|| StoreError::NotFound("the organisation's change counter".into()))?;
        Ok(row.try_get("", "generation")?)
    }

    async fn read_org(&self) -> Result<OrgSnapshot, StoreError> {
        let db = self.db();
        Ok(OrgSnapshot {
            municipality: self.municipality().await?,
            organs: organ::Entity::find()
                .order_by_asc(organ::Column::Code)
                .all(db)
                .await?,
            units: unit::Entity::find()
                .order_by_asc(unit::Column::Code)
                .all(db)
                .await?,
            people: person::Entity::find()
                .order_by_asc(person::Column::Key)
                .all(db)
                .await?,
            roles: role_assignment::Entity::find()
                .order_by_asc(role_assignment::Column::Id)
                .all(db)
                .await?,
            series: self.all_series().await?,
            members: organ_member::Entity::find()
                .order_by_asc(organ_member::Column::OrganCode)
                .order_by_asc(organ_member::Column::TermFrom)
                .order_by_asc(organ_member::Column::Ordinal)
                .all(db)
                .await?,
        })
    }

    /// Every diarieserie, by prefix.
    pub async fn all_series(&self) -> Result<Vec<SeriesRow>, StoreError> {
        Ok(series::Entity::find()
            .order_by_asc(series::Column::Prefix)
            .all(self.db())
            .await?)
    }

    /// A person by key or email address.
    pub async fn find_person(&self, key_or_email: &str) -> Result<Option<PersonRow>, StoreError> {
        let needle = key_or_email.trim();
        Ok(person::Entity::find()
            .filter(
                person::Column::Key
                    .eq(needle)
                    .or(person::Column::Email.eq(needle.to_lowercase())),
            )
            .one(self.db())
            .await?)
    }

    /// A person by id.
    pub async fn person(&self, id: i32) -> Result<Option<PersonRow>, StoreError> {
        Ok(person::Entity::find_by_id(id).one(self.db()).await?)
    }

    /// The person with this key and the roles they hold, each with its unit's code: what a
    /// logged-in request needs, in three small reads instead of the whole organisation.
    pub async fn person_with_roles(
        &self,
        key: &str,
    ) -> Result<Option<(PersonRow, Vec<(String, String)>)>, StoreError> {
        let db = self.db();
        let Some(person) = person::Entity::find()
            .filter(person::Column::Key.eq(key))
            .one(db)
            .await?
        else {
            return Ok(None);
        };
        let held = role_assignment::Entity::find()
            .filter(role_assignment::Column::PersonId.eq(person.id))
            .order_by_asc(role_assignment::Column::Id)
            .all(db)
            .await?;
        let units = unit::Entity::find()
            .filter(unit::Column::Id.is_in(held.iter().map(|r| r.unit_id)))
            .all(db)
            .await?;
        let roles = held
            .into_iter()
            .filter_map(|r| {
                let unit = units.iter().find(|u| u.id == r.unit_id)?;
                Some((r.role, unit.code.clone()))
            })
            .collect();
        Ok(Some((person, roles)))
    }
}

/// The table of the organisation's change counter: one row.
const ORG_GENERATION: &str = "org_generation";

impl Tx {
    /// Bumps the organisation's change counter, so that kept snapshots are read again once
    /// this transaction commits.
    async fn org_changed(&self) -> Result<(), StoreError> {
        let bump = Query::update()
            .table(Alias::new(ORG_GENERATION))
            .value(
                Alias::new("generation"),
                Expr::col(Alias::new("generation")).add(1),
            )
            .to_owned();
        self.txn.execute(&bump).await?;
        Ok(())
    }

    /// Sets the municipality's details.
    pub async fn upsert_municipality(&self, row: &MunicipalityRow) -> Result<(), StoreError> {
        self.org_changed().await?;
        let model = municipality::ActiveModel {
            id: Set(1),
            name: Set(row.name.clone()),
            sender_email: Set(row.sender_email.clone()),
            phone: Set(row.phone.clone()),
            website: Set(row.website.clone()),
        };
        municipality::Entity::insert(model)
            .on_conflict(
                OnConflict::column(municipality::Column::Id)
                    .update_columns([
                        municipality::Column::Name,
                        municipality::Column::SenderEmail,
                        municipality::Column::Phone,
                        municipality::Column::Website,
                    ])
                    .to_owned(),
            )
            .exec(&self.txn)
            .await?;
        Ok(())
    }

    /// Creates or updates an organ, by code.
    pub async fn upsert_organ(&self, row: &OrganRow) -> Result<(), StoreError> {
        self.org_changed().await?;
        let model = organ::ActiveModel {
            code: Set(row.code.clone()),
            name: Set(row.name.clone()),
            kind: Set(row.kind.clone()),
            parent_code: Set(row.parent_code.clone()),
            proposes_to_code: Set(row.proposes_to_code.clone()),
            unit_code: Set(row.unit_code.clone()),
            ..Default::default()
        };
        organ::Entity::insert(model)
            .on_conflict(
                OnConflict::column(organ::Column::Code)
                    .update_columns([
                        organ::Column::Name,
                        organ::Column::Kind,
                        organ::Column::ParentCode,
                        organ::Column::ProposesToCode,
                        organ::Column::UnitCode,
                    ])
                    .to_owned(),
            )
            .exec(&self.txn)
            .await?;
        Ok(())
    }

    /// Creates or updates a unit, by code; returns its id.
    pub async fn upsert_unit(&self, row: &UnitRow) -> Result<i32, StoreError> {
        self.org_changed().await?;
        let model = unit::ActiveModel {
            code: Set(row.code.clone()),
            name: Set(row.name.clone()),
            kind: Set(row.kind.clone()),
            organ_code: Set(row.organ_code.clone()),
            email: Set(row.email.clone()),
            ..Default::default()
        };
        unit::Entity::insert(model)
            .on_conflict(
                OnConflict::column(unit::Column::Code)
                    .update_columns([
                        unit::Column::Name,
                        unit::Column::Kind,
                        unit::Column::OrganCode,
                        unit::Column::Email,
                    ])
                    .to_owned(),
            )
            .exec(&self.txn)
            .await?;
        let stored = unit::Entity::find()
            .filter(unit::Column::Code.eq(&row.code))
            .one(&self.txn)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("unit {}", row.code)))?;
        Ok(stored.id)
    }

    /// Creates or updates a person, by key; returns the id.
    pub async fn upsert_person(&self, row: &PersonRow) -> Result<i32, StoreError> {
        self.org_changed().await?;
        let model = person::ActiveModel {
            key: Set(row.key.clone()),
            name: Set(row.name.clone()),
            title: Set(row.title.clone()),
            email: Set(row.email.clone()),
            ..Default::default()
        };
        person::Entity::insert(model)
            .on_conflict(
                OnConflict::column(person::Column::Key)
                    .update_columns([
                        person::Column::Name,
                        person::Column::Title,
                        person::Column::Email,
                    ])
                    .to_owned(),
            )
            .exec(&self.txn)
            .await?;
        let stored = person::Entity::find()
            .filter(person::Column::Key.eq(&row.key))
            .one(&self.txn)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("person {}", row.key)))?;
        Ok(stored.id)
    }

    /// Makes the roles a person holds exactly `roles` (role code, unit id): roles no longer
    /// listed are removed, new ones added, and the ones kept stay untouched.
    pub async fn set_roles(
        &self,
        person_id: i32,
        roles: &[(String, i32)],
    ) -> Result<(), StoreError> {
        self.org_changed().await?;
        let held = role_assignment::Entity::find()
            .filter(role_assignment::Column::PersonId.eq(person_id))
            .all(&self.txn)
            .await?;
        let gone: Vec<i32> = held
            .iter()
            .filter(|h| !roles.iter().any(|(r, u)| *r == h.role && *u == h.unit_id))
            .map(|h| h.id)
            .collect();
        if !gone.is_empty() {
            role_assignment::Entity::delete_many()
                .filter(role_assignment::Column::Id.is_in(gone))
                .exec(&self.txn)
                .await?;
        }
        let mut added: Vec<&(String, i32)> = Vec::new();
        for role in roles {
            let already = held.iter().any(|h| h.role == role.0 && h.unit_id == role.1);
            if !already && !added.contains(&role) {
                added.push(role);
            }
        }
        if added.is_empty() {
            return Ok(());
        }
        let models = added
            .into_iter()
            .map(|(role, unit_id)| role_assignment::ActiveModel {
                person_id: Set(person_id),
                role: Set(role.clone()),
                unit_id: Set(*unit_id),
                ..Default::default()
            });
        role_assignment::Entity::insert_many(models)
            .exec(&self.txn)
            .await?;
        Ok(())
    }

    /// Creates or updates a diarieserie, by prefix.
    pub async fn upsert_series(&self, row: &SeriesRow) -> Result<(), StoreError> {
        self.org_changed().await?;
        let model = series::ActiveModel {
            prefix: Set(row.prefix.clone()),
            name: Set(row.name.clone()),
            format: Set(row.format.clone()),
            default_classification: Set(row.default_classification.clone()),
            organ_code: Set(row.organ_code.clone()),
            ..Default::default()
        };
        series::Entity::insert(model)
            .on_conflict(
                OnConflict::column(series::Column::Prefix)
                    .update_columns([
                        series::Column::Name,
                        series::Column::Format,
                        series::Column::DefaultClassification,
                        series::Column::OrganCode,
                    ])
                    .to_owned(),
            )
            .exec(&self.txn)
            .await?;
        Ok(())
    }

    /// Makes an organ's members exactly `rows`: a member is known by name and the first day
    /// of the term, kept (and updated) when listed again, removed when no longer listed.
    pub async fn set_members(
        &self,
        organ: &str,
        rows: &[OrganMemberRow],
    ) -> Result<(), StoreError> {
        self.org_changed().await?;
        let held = organ_member::Entity::find()
            .filter(organ_member::Column::OrganCode.eq(organ))
            .all(&self.txn)
            .await?;
        let gone: Vec<i32> = held
            .iter()
            .filter(|h| {
                !rows
                    .iter()
                    .any(|r| r.name == h.name && r.term_from == h.term_from)
            })
            .map(|h| h.id)
            .collect();
        if !gone.is_empty() {
            organ_member::Entity::delete_many()
                .filter(organ_member::Column::Id.is_in(gone))
                .exec(&self.txn)
                .await?;
        }
        for row in rows {
            let model = organ_member::ActiveModel {
                organ_code: Set(organ.to_owned()),
                name: Set(row.name.clone()),
                party: Set(row.party.clone()),
                seat: Set(row.seat.clone()),
                ordinal: Set(row.ordinal),
                term_from: Set(row.term_from),
                term_to: Set(row.term_to),
                email: Set(row.email.clone()),
                ..Default::default()
            };
            organ_member::Entity::insert(model)
                .on_conflict(
                    OnConflict::columns([
                        organ_member::Column::OrganCode,
                        organ_member::Column::Name,
                        organ_member::Column::TermFrom,
                    ])
                    .update_columns([
                        organ_member::Column::Party,
                        organ_member::Column::Seat,
                        organ_member::Column::Ordinal,
                        organ_member::Column::TermTo,
                        organ_member::Column::Email,
                    ])
                    .to_owned(),
                )
                .exec(&self.txn)
                .await?;
        }
        Ok(())
    }
}
