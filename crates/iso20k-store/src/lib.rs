//! The team server's persistent store.
//!
//! One database holds everything the server keeps: organisations, users and their memberships,
//! sessions, API tokens, login failures, each organisation's records as versioned JSON documents,
//! an audit trail of every change to them, evidence files and a cache of readiness reports.
//!
//! The contract is the object-safe [`Store`] trait, so the server holds an `Arc<dyn Store>`.
//! [`SqlStore`] implements it once, over sqlx's `Any` driver, for SQLite (the default, one file)
//! and PostgreSQL (for teams). [`open`] picks the engine from the URL scheme and runs that
//! engine's migrations.
//!
//! Conventions that hold across the API:
//! - Times are fixed-width RFC 3339 UTC text such as `2026-11-26T09:35:07.123Z` (see
//!   [`format_time`]), so that comparing the text compares the times on both engines. Times given
//!   to the store are parsed and rewritten in that form; anything else is [`StoreError::Invalid`].
//! - Several server processes may share one database. Every transaction that changes an
//!   organisation's records or evidence starts by bumping the organisation's revision: on SQLite
//!   that takes the write lock up front, on PostgreSQL it locks the organisation's row, so the
//!   writers of one organisation never interleave.
//! - Record kinds, keys and bodies are opaque text to the store; the server validates them.

mod apply;
pub mod backup;
mod open;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;
mod time;
mod trail;

use async_trait::async_trait;
use futures::stream::BoxStream;

pub use open::{Engine, SqlStore, open};
pub use time::{format_time, now};
pub use trail::{Broken, TrailCheck, diff};

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The organisation, user, membership, record, token or evidence does not exist.
    #[error("not found")]
    NotFound,
    /// A unique key is taken: an organisation's slug, a user's email or a record's key. The
    /// message says which.
    #[error("{0}")]
    Conflict(String),
    /// The record changed since the caller read it: its version is no longer the expected one.
    #[error("stale version: the record is now at version {current}")]
    Stale {
        /// The record's current version.
        current: i64,
    },
    /// An input the store cannot keep: a time that is not RFC 3339, or a record kind or key of
    /// the wrong length. The message says which.
    #[error("{0}")]
    Invalid(String),
    /// The database failed or could not be reached.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// An organisation: the unit that owns records, evidence and memberships.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Org {
    /// Database id.
    pub id: i64,
    /// Unique short name used in URLs.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Bumped by every transaction that changes the organisation's records or evidence.
    pub revision: i64,
    /// When it was created.
    pub created_at: String,
}

/// A person who can sign in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct User {
    /// Database id.
    pub id: i64,
    /// Lower-cased, trimmed and unique.
    pub email: String,
    /// Display name.
    pub name: String,
    /// The password's hash; `None` for users who cannot sign in with a password.
    pub password_hash: Option<String>,
    /// When it was created.
    pub created_at: String,
}

/// A user's role in an organisation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Membership {
    /// The organisation.
    pub org_id: i64,
    /// The user.
    pub user_id: i64,
    /// Plain text (`admin`, `manager`, `auditor`, `viewer`); the server validates it.
    pub role: String,
    /// When the membership lapses, if ever (an external auditor's, say).
    pub expires_at: Option<String>,
    /// When it was first granted; a change of role keeps it.
    pub created_at: String,
    /// The person the member is in the organisation's records (an id of its people
    /// register), once linked: what "My work" and reminders are about.
    pub person: Option<String>,
    /// The member asked not to get the daily digest e-mail.
    pub digest_opt_out: bool,
    /// The member has a calendar feed (its secret is not kept, only its SHA-256).
    pub calendar: bool,
}

/// A signed-in browser session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Session {
    /// A hash of the cookie's value: the value itself is never stored.
    pub id_hash: String,
    /// Whose session it is.
    pub user_id: i64,
    /// The session's CSRF token.
    pub csrf: String,
    /// When it was created.
    pub created_at: String,
    /// When it stops being valid.
    pub expires_at: String,
}

/// An API token's metadata; its hash is never handed out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Token {
    /// Database id.
    pub id: i64,
    /// Whose token it is.
    pub user_id: i64,
    /// What the user called it.
    pub name: String,
    /// When it was created.
    pub created_at: String,
    /// When it stops being valid, if ever.
    pub expires_at: Option<String>,
}

/// One of an organisation's records: a JSON document of some kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// The kind of record (`slas`, `incidents`…).
    pub kind: String,
    /// The record's id within its kind.
    pub key: String,
    /// 1 when created, plus one for every change.
    pub version: i64,
    /// The document.
    pub body: String,
    /// When it last changed.
    pub updated_at: String,
    /// Who changed it last.
    pub updated_by: String,
}

/// A record to create or update.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Write {
    /// The kind of record.
    pub kind: String,
    /// The record's id within its kind.
    pub key: String,
    /// The document.
    pub body: String,
}

/// What [`Store::apply`] did, record by record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ApplySummary {
    /// Records that did not exist.
    pub created: u64,
    /// Records whose body differed.
    pub updated: u64,
    /// Records whose body was byte for byte the same: left untouched.
    pub unchanged: u64,
    /// Records of a replaced kind that the import no longer holds.
    pub deleted: u64,
}

/// One entry of the audit trail.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Change {
    /// Increases with every change.
    pub id: i64,
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
    /// `create`, `update`, `delete`, `attach` or `detach`.
    pub action: String,
    /// The record's kind.
    pub kind: String,
    /// The record's key.
    pub key: String,
    /// The body before the change, kept for a delete (for evidence, its metadata as JSON).
    pub before: Option<String>,
    /// The body after the change, kept for a create of one record (for evidence, its metadata
    /// as JSON). A bulk import's creates keep only the digest.
    pub after: Option<String>,
    /// For an update, the fields that changed, as a JSON object of
    /// `{"field": {"from": before, "to": after}}` ([`diff`]).
    pub diff: Option<String>,
    /// The SHA-256 (hex) of the body a create or update left.
    pub digest: Option<String>,
    /// Its place in the organisation's trail: 1, 2, 3…
    pub seq: i64,
    /// Its hash, chained to the entry before (see [`TrailCheck`]).
    pub hash: String,
}

impl Change {
    /// The fields an update changed, as [`Change::diff`] has them; worked out from the whole
    /// bodies for an update recorded before the trail kept diffs.
    pub fn changed_fields(&self) -> Option<String> {
        match (&self.diff, &self.before, &self.after) {
            (Some(diff), _, _) => Some(diff.clone()),
            (None, Some(before), Some(after)) => Some(diff(before, after)),
            _ => None,
        }
    }
}

/// Which changes [`Store::changes`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeFilter {
    /// Only changes to records of this kind.
    pub kind: Option<String>,
    /// Only changes to records with this key.
    pub key: Option<String>,
    /// Only changes older than this one: the last id of the previous page.
    pub before_id: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

impl Default for ChangeFilter {
    /// Everything, a hundred at a time: a zero limit would return nothing.
    fn default() -> Self {
        ChangeFilter {
            kind: None,
            key: None,
            before_id: None,
            limit: 100,
        }
    }
}

/// An evidence file's metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Database id.
    pub id: i64,
    /// The kind of the record it supports.
    pub kind: String,
    /// The key of the record it supports.
    pub key: String,
    /// The file's name.
    pub name: String,
    /// The file's media type.
    pub media_type: String,
    /// The file's size in bytes.
    pub size: i64,
    /// The file's SHA-256, as the caller computed it.
    pub sha256: String,
    /// When it was attached.
    pub created_at: String,
    /// Who attached it.
    pub created_by: String,
}

/// An evidence file to attach.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewEvidence {
    /// The kind of the record it supports.
    pub kind: String,
    /// The key of the record it supports.
    pub key: String,
    /// The file's name.
    pub name: String,
    /// The file's media type.
    pub media_type: String,
    /// The file's SHA-256: the store keeps it, it does not check it.
    pub sha256: String,
    /// The file's bytes.
    pub data: Vec<u8>,
}

/// Everything the server keeps, whichever database holds it.
#[async_trait]
pub trait Store: Send + Sync {
    /// Creates an organisation with revision 0; [`StoreError::Conflict`] if the slug is taken.
    async fn create_org(&self, slug: &str, name: &str) -> Result<Org>;
    /// The organisation with this slug.
    async fn org(&self, slug: &str) -> Result<Option<Org>>;
    /// Every organisation, by slug.
    async fn orgs(&self) -> Result<Vec<Org>>;

    /// Creates a user; the email is trimmed and lower-cased. [`StoreError::Conflict`] if a user
    /// has that email.
    async fn create_user(
        &self,
        email: &str,
        name: &str,
        password_hash: Option<&str>,
    ) -> Result<User>;
    /// The user with this id.
    async fn user(&self, id: i64) -> Result<Option<User>>;
    /// The user with this email, compared trimmed and lower-cased.
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;
    /// Replaces a user's password hash; [`StoreError::NotFound`] if there is no such user.
    async fn set_password(&self, user_id: i64, password_hash: &str) -> Result<()>;

    /// Grants a user a role in an organisation, replacing the role and expiry they had there.
    /// [`StoreError::NotFound`] if the organisation or the user does not exist.
    async fn set_membership(
        &self,
        org_id: i64,
        user_id: i64,
        role: &str,
        expires_at: Option<&str>,
    ) -> Result<Membership>;
    /// A user's membership of an organisation, even an expired one: the caller decides.
    async fn membership(&self, org_id: i64, user_id: i64) -> Result<Option<Membership>>;
    /// An organisation's members, by email.
    async fn members(&self, org_id: i64) -> Result<Vec<(User, Membership)>>;
    /// A user's organisations, by slug.
    async fn memberships(&self, user_id: i64) -> Result<Vec<(Org, Membership)>>;
    /// Links a member to a person of the organisation's records, or unlinks them with `None`.
    /// [`StoreError::NotFound`] if they are not a member.
    async fn set_person(&self, org_id: i64, user_id: i64, person: Option<&str>) -> Result<()>;
    /// Opts a member out of the daily digest e-mail, or back in.
    /// [`StoreError::NotFound`] if they are not a member.
    async fn set_digest_opt_out(&self, org_id: i64, user_id: i64, opt_out: bool) -> Result<()>;
    /// Gives a member a calendar feed, opened by the secret whose SHA-256 is `hash`; it
    /// replaces the feed they had. [`StoreError::NotFound`] if they are not a member.
    async fn set_calendar(&self, org_id: i64, user_id: i64, hash: &str) -> Result<()>;
    /// Revokes a member's calendar feed; revoking none is not an error.
    async fn revoke_calendar(&self, org_id: i64, user_id: i64) -> Result<()>;
    /// The organisation and membership whose calendar feed the secret with this SHA-256 opens.
    async fn calendar(&self, hash: &str) -> Result<Option<(Org, Membership)>>;
    /// Claims the sending of a member's digest for `day` (YYYY-MM-DD): `false` if it was
    /// claimed already, by this server or another on the database.
    async fn claim_digest(&self, org_id: i64, user_id: i64, day: &str) -> Result<bool>;
    /// Gives back a claim whose digest could not be sent, so that it is tried again.
    async fn release_digest(&self, org_id: i64, user_id: i64, day: &str) -> Result<()>;
    /// Removes a membership; [`StoreError::NotFound`] if there is none.
    async fn remove_membership(&self, org_id: i64, user_id: i64) -> Result<()>;

    /// Stores a session; [`StoreError::NotFound`] if the user does not exist.
    async fn create_session(&self, session: &Session) -> Result<()>;
    /// The session with this hash, `None` once it has expired.
    async fn session(&self, id_hash: &str) -> Result<Option<Session>>;
    /// Ends a session; ending one that does not exist is not an error.
    async fn delete_session(&self, id_hash: &str) -> Result<()>;
    /// Ends every session of a user (after a password change, say).
    async fn delete_sessions_of(&self, user_id: i64) -> Result<()>;
    /// Deletes expired sessions and login failures older than a day; returns how many rows went.
    async fn purge_expired(&self) -> Result<u64>;

    /// Stores an API token by its hash; [`StoreError::NotFound`] if the user does not exist.
    async fn create_token(
        &self,
        user_id: i64,
        name: &str,
        hash: &str,
        expires_at: Option<&str>,
    ) -> Result<Token>;
    /// The token with this hash, `None` once it has expired.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<Token>>;
    /// A user's tokens, expired ones included, by id.
    async fn tokens(&self, user_id: i64) -> Result<Vec<Token>>;
    /// Deletes one of a user's tokens; [`StoreError::NotFound`] if the user has no such token.
    async fn revoke_token(&self, user_id: i64, token_id: i64) -> Result<()>;

    /// Counts a failed sign-in for a key (an email, an address), shared by every server on the
    /// database.
    async fn login_failure(&self, key: &str) -> Result<()>;
    /// How many sign-ins failed for a key at or after a time.
    async fn login_failures_since(&self, key: &str, since: &str) -> Result<i64>;
    /// Forgets a key's failed sign-ins.
    async fn clear_login_failures(&self, key: &str) -> Result<()>;

    /// Up to `limit` records of a kind, ordered by key, whose key comes after `after`: pass the
    /// last key of one page to get the next.
    async fn records(
        &self,
        org_id: i64,
        kind: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Record>>;
    /// The kinds that have records, by kind, with how many each.
    async fn kinds(&self, org_id: i64) -> Result<Vec<(String, i64)>>;
    /// One record.
    async fn record(&self, org_id: i64, kind: &str, key: &str) -> Result<Option<Record>>;
    /// Creates a record at version 1; [`StoreError::Conflict`] if the key exists,
    /// [`StoreError::NotFound`] if the organisation does not.
    async fn create(&self, org_id: i64, actor: &str, write: &Write) -> Result<Record>;
    /// Replaces a record's body if it is still at `expected_version`, and bumps the version.
    /// An identical body changes nothing and returns the record as it is.
    /// [`StoreError::NotFound`] if there is no such record, [`StoreError::Stale`] if its version
    /// moved on.
    async fn update(
        &self,
        org_id: i64,
        actor: &str,
        write: &Write,
        expected_version: i64,
    ) -> Result<Record>;
    /// Creates and replaces several records in one transaction, all or nothing: a write with
    /// `None` creates its record as [`Store::create`] does, one with `Some(version)` replaces
    /// its record as [`Store::update`] does, if still at that version. Each change writes its
    /// own trail entry, as alone. Returns the records as they stand after, in order; when no
    /// body changes, nothing is written and the revision stays. The first failing write's
    /// error ([`StoreError::Conflict`], [`StoreError::NotFound`], [`StoreError::Stale`]) undoes
    /// the others.
    async fn write_all(
        &self,
        org_id: i64,
        actor: &str,
        writes: &[(Write, Option<i64>)],
    ) -> Result<Vec<Record>>;
    /// Deletes a record, if it is still at `expected_version` when one is given.
    /// [`StoreError::NotFound`] if there is no such record, [`StoreError::Stale`] if its version
    /// moved on.
    async fn delete(
        &self,
        org_id: i64,
        actor: &str,
        kind: &str,
        key: &str,
        expected_version: Option<i64>,
    ) -> Result<()>;
    /// Bulk import in one transaction: creates and updates what differs (a byte-equal body is
    /// unchanged and left untouched), and deletes every existing record whose kind is in
    /// `replace_kinds` but whose kind and key are not in `writes`. One change row per created,
    /// updated or deleted record. All or nothing; a key written twice is a
    /// [`StoreError::Conflict`]. When nothing differs, nothing is written and the revision stays.
    async fn apply(
        &self,
        org_id: i64,
        actor: &str,
        writes: Vec<Write>,
        replace_kinds: &[String],
    ) -> Result<ApplySummary>;
    /// Every body of one kind, ordered by key, streamed from the database.
    fn bodies<'a>(&'a self, org_id: i64, kind: &'a str) -> BoxStream<'a, Result<String>>;
    /// The organisation's revision; [`StoreError::NotFound`] if there is no such organisation.
    async fn revision(&self, org_id: i64) -> Result<i64>;

    /// The audit trail, newest first.
    async fn changes(&self, org_id: i64, filter: &ChangeFilter) -> Result<Vec<Change>>;
    /// Proves the organisation's audit trail: every entry's hash recomputed in order, the
    /// head the organisation recorded, and every current record against the last change
    /// the trail holds for it. [`StoreError::NotFound`] if there is no such organisation.
    async fn verify_trail(&self, org_id: i64) -> Result<TrailCheck>;

    /// Writes the organisation whole to `sink`, item by item (see [`backup`]), from one
    /// snapshot of the database: writers may go on meanwhile. [`StoreError::NotFound`] if there
    /// is no such organisation; [`StoreError::Invalid`] if the sink fails.
    async fn backup(&self, org_id: i64, sink: &mut backup::Sink<'_>) -> Result<backup::Counts>;
    /// Restores a backup as a new organisation (under `as_slug`, else its own slug), in one
    /// transaction. Accounts that exist already are kept as they are. [`StoreError::Conflict`]
    /// if the slug is taken; [`StoreError::Invalid`] naming the item for a backup that is
    /// malformed, out of order or cut off.
    async fn restore(
        &self,
        items: &mut backup::Source<'_>,
        as_slug: Option<&str>,
    ) -> Result<backup::Restored>;

    /// Stores an evidence file for a record and writes an `attach` change whose `after` holds
    /// the metadata as JSON. [`StoreError::NotFound`] if the organisation does not exist.
    async fn add_evidence(
        &self,
        org_id: i64,
        actor: &str,
        evidence: NewEvidence,
    ) -> Result<Evidence>;
    /// The evidence of one record, by id.
    async fn evidence(&self, org_id: i64, kind: &str, key: &str) -> Result<Vec<Evidence>>;
    /// One evidence file with its bytes.
    async fn evidence_file(&self, org_id: i64, id: i64) -> Result<Option<(Evidence, Vec<u8>)>>;
    /// Deletes an evidence file and writes a `detach` change whose `before` holds its metadata.
    /// [`StoreError::NotFound`] if the organisation has no such file.
    async fn delete_evidence(&self, org_id: i64, actor: &str, id: i64) -> Result<()>;

    /// The cached readiness report for an edition and date, with the revision it was computed
    /// at.
    async fn cached_readiness(
        &self,
        org_id: i64,
        edition: &str,
        as_of: &str,
    ) -> Result<Option<(i64, String)>>;
    /// Caches a readiness report, unless one computed at a newer revision is already there.
    async fn put_readiness(
        &self,
        org_id: i64,
        edition: &str,
        as_of: &str,
        revision: i64,
        body: &str,
    ) -> Result<()>;

    /// Records the overall score of an edition on `day` (judged as of that day), unless one
    /// computed at a newer revision is already there.
    async fn record_score(
        &self,
        org_id: i64,
        edition: &str,
        day: &str,
        revision: i64,
        overall: f64,
    ) -> Result<()>;
    /// The last `limit` days' scores of an edition, oldest first.
    async fn score_history(
        &self,
        org_id: i64,
        edition: &str,
        limit: i64,
    ) -> Result<Vec<(String, f64)>>;
}
