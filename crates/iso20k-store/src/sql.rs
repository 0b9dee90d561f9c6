//! [`Store`] on sqlx's `Any` driver: one set of statements that SQLite and PostgreSQL both
//! accept (`$n` placeholders, `RETURNING`, `ON CONFLICT`), rows decoded by position.

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use sqlx::any::{Any, AnyRow};
use sqlx::error::ErrorKind;
use sqlx::{AnyConnection, AssertSqlSafe, Row, Transaction};

use crate::backup;
use crate::time::{a_day_ago, normalize, normalize_opt};
use crate::trail::{self, Chain, Content};
use crate::{
    ApplySummary, Change, ChangeFilter, Evidence, Membership, NewEvidence, Org, Record, Result,
    Session, SqlStore, Store, StoreError, Token, TrailCheck, User, Write, now,
};

/// The rule the schema's CHECK constraints enforce on records and evidence.
const KEY_RULE: &str = "a record's kind must have 1 to 100 characters and its key 1 to 500";

/// Maps the database errors that mean something to the caller: a missing organisation or user
/// behind a foreign key, and a kind or key the schema rejects.
pub(crate) fn classify(error: sqlx::Error) -> StoreError {
    match database_error_kind(&error) {
        Some(ErrorKind::ForeignKeyViolation) => StoreError::NotFound,
        Some(ErrorKind::CheckViolation) => StoreError::Invalid(KEY_RULE.to_owned()),
        _ => error.into(),
    }
}

/// [`classify`], with a unique key that is taken reported as a conflict.
pub(crate) fn conflict(message: impl FnOnce() -> String) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| match database_error_kind(&error) {
        Some(ErrorKind::UniqueViolation) => StoreError::Conflict(message()),
        _ => classify(error),
    }
}

fn database_error_kind(error: &sqlx::Error) -> Option<ErrorKind> {
    match error {
        sqlx::Error::Database(error) => Some(error.kind()),
        _ => None,
    }
}

pub(crate) fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn org_at(row: &AnyRow, at: usize) -> Result<Org> {
    Ok(Org {
        id: row.try_get(at)?,
        slug: row.try_get(at + 1)?,
        name: row.try_get(at + 2)?,
        revision: row.try_get(at + 3)?,
        created_at: row.try_get(at + 4)?,
    })
}

fn user_at(row: &AnyRow, at: usize) -> Result<User> {
    Ok(User {
        id: row.try_get(at)?,
        email: row.try_get(at + 1)?,
        name: row.try_get(at + 2)?,
        password_hash: row.try_get(at + 3)?,
        created_at: row.try_get(at + 4)?,
    })
}

fn membership_at(row: &AnyRow, at: usize) -> Result<Membership> {
    Ok(Membership {
        org_id: row.try_get(at)?,
        user_id: row.try_get(at + 1)?,
        role: row.try_get(at + 2)?,
        expires_at: row.try_get(at + 3)?,
        created_at: row.try_get(at + 4)?,
        person: row.try_get(at + 5)?,
        digest_opt_out: row.try_get::<i64, _>(at + 6)? != 0,
        calendar: row.try_get::<i64, _>(at + 7)? != 0,
    })
}

/// A membership's columns as [`membership_at`] reads them, from `memberships m`.
const MEMBERSHIP: &str = "m.org_id, m.user_id, m.role, m.expires_at, m.created_at, m.person, \
     m.digest_opt_out, \
     (SELECT COUNT(*) FROM calendars c WHERE c.org_id = m.org_id AND c.user_id = m.user_id)";

fn session_of(row: &AnyRow) -> Result<Session> {
    Ok(Session {
        id_hash: row.try_get(0)?,
        user_id: row.try_get(1)?,
        csrf: row.try_get(2)?,
        created_at: row.try_get(3)?,
        expires_at: row.try_get(4)?,
    })
}

fn token_of(row: &AnyRow) -> Result<Token> {
    Ok(Token {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        name: row.try_get(2)?,
        created_at: row.try_get(3)?,
        expires_at: row.try_get(4)?,
    })
}

fn record_of(row: &AnyRow) -> Result<Record> {
    Ok(Record {
        kind: row.try_get(0)?,
        key: row.try_get(1)?,
        version: row.try_get(2)?,
        body: row.try_get(3)?,
        updated_at: row.try_get(4)?,
        updated_by: row.try_get(5)?,
    })
}

fn change_of(row: &AnyRow) -> Result<Change> {
    Ok(Change {
        id: row.try_get(0)?,
        at: row.try_get(1)?,
        actor: row.try_get(2)?,
        action: row.try_get(3)?,
        kind: row.try_get(4)?,
        key: row.try_get(5)?,
        before: row.try_get(6)?,
        after: row.try_get(7)?,
        diff: row.try_get(8)?,
        digest: row.try_get(9)?,
        seq: row.try_get::<Option<i64>, _>(10)?.unwrap_or_default(),
        hash: row.try_get::<Option<String>, _>(11)?.unwrap_or_default(),
    })
}

fn evidence_of(row: &AnyRow) -> Result<Evidence> {
    Ok(Evidence {
        id: row.try_get(0)?,
        kind: row.try_get(1)?,
        key: row.try_get(2)?,
        name: row.try_get(3)?,
        media_type: row.try_get(4)?,
        size: row.try_get(5)?,
        sha256: row.try_get(6)?,
        created_at: row.try_get(7)?,
        created_by: row.try_get(8)?,
    })
}

/// What the audit trail records of evidence: everything but the bytes.
fn evidence_json(evidence: &Evidence) -> String {
    serde_json::json!({
        "id": evidence.id,
        "name": evidence.name,
        "media_type": evidence.media_type,
        "size": evidence.size,
        "sha256": evidence.sha256,
    })
    .to_string()
}

const ORG: &str = "SELECT id, slug, name, revision, created_at FROM orgs";
const USER: &str = "SELECT id, email, name, password_hash, created_at FROM users";
const RECORD: &str = "SELECT kind, key, version, body, updated_at, updated_by FROM records";
const EVIDENCE: &str = "SELECT id, kind, key, name, media_type, size, sha256, created_at, \
     created_by FROM evidence";

/// One row of the audit trail, about to be written: what it says, for an organisation.
pub(crate) struct ChangeRow<'a> {
    pub org_id: i64,
    pub content: Content<'a>,
}

impl ChangeRow<'_> {
    /// Writes the entry as the next link of `chain`.
    async fn insert(&self, conn: &mut AnyConnection, chain: &mut Chain) -> Result<()> {
        let c = &self.content;
        let (seq, hash) = chain.link(c);
        sqlx::query(
            "INSERT INTO changes (org_id, at, actor, action, kind, key, before_body, after_body, \
             diff, digest, seq, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(self.org_id)
        .bind(c.at)
        .bind(c.actor)
        .bind(c.action)
        .bind(c.kind)
        .bind(c.key)
        .bind(c.before)
        .bind(c.after)
        .bind(c.diff)
        .bind(c.digest)
        .bind(seq)
        .bind(hash)
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// Creates a record at version 1 inside a write transaction, with its trail entry.
async fn insert_record(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    org_id: i64,
    actor: &str,
    at: &str,
    write: &Write,
) -> Result<Record> {
    let row = sqlx::query(
        "INSERT INTO records (org_id, kind, key, version, body, updated_at, updated_by) \
         VALUES ($1, $2, $3, 1, $4, $5, $6) \
         RETURNING kind, key, version, body, updated_at, updated_by",
    )
    .bind(org_id)
    .bind(&write.kind)
    .bind(&write.key)
    .bind(&write.body)
    .bind(at)
    .bind(actor)
    .fetch_one(&mut *conn)
    .await
    .map_err(conflict(|| {
        format!("record {}/{} already exists", write.kind, write.key)
    }))?;
    let record = record_of(&row)?;
    ChangeRow {
        org_id,
        content: Content {
            at,
            actor,
            action: "create",
            kind: &write.kind,
            key: &write.key,
            before: None,
            after: Some(&write.body),
            diff: None,
            digest: Some(&trail::digest(&write.body)),
        },
    }
    .insert(conn, chain)
    .await?;
    Ok(record)
}

/// Replaces a record's body inside a write transaction if it is still at `expected_version`,
/// with its trail entry: the record as it stands after, and whether it changed (an identical
/// body is left as it is and writes nothing).
async fn replace_record(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    org_id: i64,
    actor: &str,
    at: &str,
    write: &Write,
    expected_version: i64,
) -> Result<(Record, bool)> {
    let current = sqlx::query(AssertSqlSafe(format!(
        "{RECORD} WHERE org_id = $1 AND kind = $2 AND key = $3"
    )))
    .bind(org_id)
    .bind(&write.kind)
    .bind(&write.key)
    .fetch_optional(&mut *conn)
    .await?
    .map(|row| record_of(&row))
    .transpose()?;
    let Some(current) = current else {
        return Err(StoreError::NotFound);
    };
    if current.version != expected_version {
        return Err(StoreError::Stale {
            current: current.version,
        });
    }
    if current.body == write.body {
        return Ok((current, false));
    }
    let row = sqlx::query(
        "UPDATE records SET version = version + 1, body = $4, updated_at = $5, \
         updated_by = $6 WHERE org_id = $1 AND kind = $2 AND key = $3 \
         RETURNING kind, key, version, body, updated_at, updated_by",
    )
    .bind(org_id)
    .bind(&write.kind)
    .bind(&write.key)
    .bind(&write.body)
    .bind(at)
    .bind(actor)
    .fetch_one(&mut *conn)
    .await?;
    let record = record_of(&row)?;
    ChangeRow {
        org_id,
        content: Content {
            at,
            actor,
            action: "update",
            kind: &write.kind,
            key: &write.key,
            before: None,
            after: None,
            diff: Some(&trail::diff(&current.body, &write.body)),
            digest: Some(&trail::digest(&write.body)),
        },
    }
    .insert(conn, chain)
    .await?;
    Ok((record, true))
}

impl SqlStore {
    /// Starts a transaction that changes an organisation's records or evidence. Its first
    /// statement is a write, so SQLite takes the write lock now (waiting for another writer if
    /// need be) rather than failing later on upgrading a read lock, and PostgreSQL locks the
    /// organisation's row, which serialises the writers of one organisation. Comes with the
    /// head of the organisation's audit trail, read under that lock, to link entries onto;
    /// the caller saves it before committing.
    pub(crate) async fn begin_write(
        &self,
        org_id: i64,
    ) -> Result<(Transaction<'static, Any>, Chain)> {
        let mut tx = self.pool.begin().await?;
        let head = sqlx::query(
            "UPDATE orgs SET revision = revision + 1 WHERE id = $1 \
             RETURNING trail_seq, trail_head",
        )
        .bind(org_id)
        .fetch_optional(&mut *tx)
        .await?;
        match head {
            Some(row) => Ok((
                tx,
                Chain {
                    seq: row.try_get(0)?,
                    head: row.try_get(1)?,
                },
            )),
            None => {
                tx.rollback().await?;
                Err(StoreError::NotFound)
            }
        }
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn create_org(&self, slug: &str, name: &str) -> Result<Org> {
        let row = sqlx::query(
            "INSERT INTO orgs (slug, name, revision, created_at) VALUES ($1, $2, 0, $3) \
             RETURNING id, slug, name, revision, created_at",
        )
        .bind(slug)
        .bind(name)
        .bind(now())
        .fetch_one(&self.pool)
        .await
        .map_err(conflict(|| {
            format!("an organisation with slug {slug:?} already exists")
        }))?;
        org_at(&row, 0)
    }

    async fn org(&self, slug: &str) -> Result<Option<Org>> {
        sqlx::query(AssertSqlSafe(format!("{ORG} WHERE slug = $1")))
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| org_at(&row, 0))
            .transpose()
    }

    async fn orgs(&self) -> Result<Vec<Org>> {
        sqlx::query(AssertSqlSafe(format!("{ORG} ORDER BY slug")))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| org_at(row, 0))
            .collect()
    }

    async fn create_user(
        &self,
        email: &str,
        name: &str,
        password_hash: Option<&str>,
    ) -> Result<User> {
        let email = normalize_email(email);
        let row = sqlx::query(
            "INSERT INTO users (email, name, password_hash, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, email, name, password_hash, created_at",
        )
        .bind(&email)
        .bind(name)
        .bind(password_hash)
        .bind(now())
        .fetch_one(&self.pool)
        .await
        .map_err(conflict(|| {
            format!("a user with email {email:?} already exists")
        }))?;
        user_at(&row, 0)
    }

    async fn user(&self, id: i64) -> Result<Option<User>> {
        sqlx::query(AssertSqlSafe(format!("{USER} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| user_at(&row, 0))
            .transpose()
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        sqlx::query(AssertSqlSafe(format!("{USER} WHERE email = $1")))
            .bind(normalize_email(email))
            .fetch_optional(&self.pool)
            .await?
            .map(|row| user_at(&row, 0))
            .transpose()
    }

    async fn set_password(&self, user_id: i64, password_hash: &str) -> Result<()> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn set_membership(
        &self,
        org_id: i64,
        user_id: i64,
        role: &str,
        expires_at: Option<&str>,
    ) -> Result<Membership> {
        sqlx::query(
            "INSERT INTO memberships (org_id, user_id, role, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org_id, user_id) \
             DO UPDATE SET role = excluded.role, expires_at = excluded.expires_at",
        )
        .bind(org_id)
        .bind(user_id)
        .bind(role)
        .bind(normalize_opt(expires_at)?)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        self.membership(org_id, user_id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn membership(&self, org_id: i64, user_id: i64) -> Result<Option<Membership>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT {MEMBERSHIP} FROM memberships m WHERE m.org_id = $1 AND m.user_id = $2"
        )))
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| membership_at(&row, 0))
        .transpose()
    }

    async fn members(&self, org_id: i64) -> Result<Vec<(User, Membership)>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT u.id, u.email, u.name, u.password_hash, u.created_at, {MEMBERSHIP} \
             FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.org_id = $1 ORDER BY u.email"
        )))
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((user_at(row, 0)?, membership_at(row, 5)?)))
        .collect()
    }

    async fn memberships(&self, user_id: i64) -> Result<Vec<(Org, Membership)>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT o.id, o.slug, o.name, o.revision, o.created_at, {MEMBERSHIP} \
             FROM memberships m JOIN orgs o ON o.id = m.org_id \
             WHERE m.user_id = $1 ORDER BY o.slug"
        )))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((org_at(row, 0)?, membership_at(row, 5)?)))
        .collect()
    }

    async fn set_person(&self, org_id: i64, user_id: i64, person: Option<&str>) -> Result<()> {
        let person = person.map(str::trim).filter(|p| !p.is_empty());
        let done =
            sqlx::query("UPDATE memberships SET person = $3 WHERE org_id = $1 AND user_id = $2")
                .bind(org_id)
                .bind(user_id)
                .bind(person)
                .execute(&self.pool)
                .await
                .map_err(classify)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn set_digest_opt_out(&self, org_id: i64, user_id: i64, opt_out: bool) -> Result<()> {
        let done = sqlx::query(
            "UPDATE memberships SET digest_opt_out = $3 WHERE org_id = $1 AND user_id = $2",
        )
        .bind(org_id)
        .bind(user_id)
        .bind(i64::from(opt_out))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn set_calendar(&self, org_id: i64, user_id: i64, hash: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM calendars WHERE org_id = $1 AND user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO calendars (hash, org_id, user_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(hash)
        .bind(org_id)
        .bind(user_id)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(conflict(|| {
            "a calendar feed with this hash already exists".to_owned()
        }))?;
        tx.commit().await?;
        Ok(())
    }

    async fn revoke_calendar(&self, org_id: i64, user_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM calendars WHERE org_id = $1 AND user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn calendar(&self, hash: &str) -> Result<Option<(Org, Membership)>> {
        sqlx::query(AssertSqlSafe(format!(
            "SELECT o.id, o.slug, o.name, o.revision, o.created_at, {MEMBERSHIP} \
             FROM calendars k JOIN memberships m \
               ON m.org_id = k.org_id AND m.user_id = k.user_id \
             JOIN orgs o ON o.id = m.org_id WHERE k.hash = $1"
        )))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| Ok((org_at(&row, 0)?, membership_at(&row, 5)?)))
        .transpose()
    }

    async fn claim_digest(&self, org_id: i64, user_id: i64, day: &str) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO digests_sent (org_id, user_id, day, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id, user_id, day) DO NOTHING",
        )
        .bind(org_id)
        .bind(user_id)
        .bind(day)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    async fn release_digest(&self, org_id: i64, user_id: i64, day: &str) -> Result<()> {
        sqlx::query("DELETE FROM digests_sent WHERE org_id = $1 AND user_id = $2 AND day = $3")
            .bind(org_id)
            .bind(user_id)
            .bind(day)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn remove_membership(&self, org_id: i64, user_id: i64) -> Result<()> {
        let done = sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn create_session(&self, session: &Session) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&session.id_hash)
        .bind(session.user_id)
        .bind(&session.csrf)
        .bind(normalize(&session.created_at)?)
        .bind(normalize(&session.expires_at)?)
        .execute(&self.pool)
        .await
        .map_err(conflict(|| {
            "a session with this id already exists".to_owned()
        }))?;
        Ok(())
    }

    async fn session(&self, id_hash: &str) -> Result<Option<Session>> {
        sqlx::query(
            "SELECT id_hash, user_id, csrf, created_at, expires_at FROM sessions \
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| session_of(&row))
        .transpose()
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_sessions_of(&self, user_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn purge_expired(&self) -> Result<u64> {
        let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now())
            .execute(&self.pool)
            .await?;
        let failures = sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(a_day_ago())
            .execute(&self.pool)
            .await?;
        Ok(sessions.rows_affected() + failures.rows_affected())
    }

    async fn create_token(
        &self,
        user_id: i64,
        name: &str,
        hash: &str,
        expires_at: Option<&str>,
    ) -> Result<Token> {
        let row = sqlx::query(
            "INSERT INTO tokens (user_id, name, hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, user_id, name, created_at, expires_at",
        )
        .bind(user_id)
        .bind(name)
        .bind(hash)
        .bind(now())
        .bind(normalize_opt(expires_at)?)
        .fetch_one(&self.pool)
        .await
        .map_err(conflict(|| {
            "a token with this hash already exists".to_owned()
        }))?;
        token_of(&row)
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<Token>> {
        sqlx::query(
            "SELECT id, user_id, name, created_at, expires_at FROM tokens \
             WHERE hash = $1 AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(hash)
        .bind(now())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| token_of(&row))
        .transpose()
    }

    async fn tokens(&self, user_id: i64) -> Result<Vec<Token>> {
        sqlx::query(
            "SELECT id, user_id, name, created_at, expires_at FROM tokens \
             WHERE user_id = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(token_of)
        .collect()
    }

    async fn revoke_token(&self, user_id: i64, token_id: i64) -> Result<()> {
        let done = sqlx::query("DELETE FROM tokens WHERE id = $1 AND user_id = $2")
            .bind(token_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn login_failure(&self, key: &str) -> Result<()> {
        sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
            .bind(key)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn login_failures_since(&self, key: &str, since: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at >= $2")
                .bind(key)
                .bind(normalize(since)?)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn clear_login_failures(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn records(
        &self,
        org_id: i64,
        kind: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Record>> {
        let query = match after {
            Some(after) => sqlx::query(AssertSqlSafe(format!(
                "{RECORD} WHERE org_id = $1 AND kind = $2 AND key > $3 ORDER BY key LIMIT $4"
            )))
            .bind(org_id)
            .bind(kind)
            .bind(after),
            None => sqlx::query(AssertSqlSafe(format!(
                "{RECORD} WHERE org_id = $1 AND kind = $2 ORDER BY key LIMIT $3"
            )))
            .bind(org_id)
            .bind(kind),
        };
        query
            .bind(limit.max(0))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(record_of)
            .collect()
    }

    async fn kinds(&self, org_id: i64) -> Result<Vec<(String, i64)>> {
        sqlx::query(
            "SELECT kind, COUNT(*) FROM records WHERE org_id = $1 GROUP BY kind ORDER BY kind",
        )
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
    }

    async fn record(&self, org_id: i64, kind: &str, key: &str) -> Result<Option<Record>> {
        sqlx::query(AssertSqlSafe(format!(
            "{RECORD} WHERE org_id = $1 AND kind = $2 AND key = $3"
        )))
        .bind(org_id)
        .bind(kind)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| record_of(&row))
        .transpose()
    }

    async fn create(&self, org_id: i64, actor: &str, write: &Write) -> Result<Record> {
        let (mut tx, mut chain) = self.begin_write(org_id).await?;
        let record = insert_record(&mut tx, &mut chain, org_id, actor, &now(), write).await?;
        chain.save(&mut tx, org_id).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn update(
        &self,
        org_id: i64,
        actor: &str,
        write: &Write,
        expected_version: i64,
    ) -> Result<Record> {
        let (mut tx, mut chain) = self.begin_write(org_id).await?;
        let (record, changed) = replace_record(
            &mut tx,
            &mut chain,
            org_id,
            actor,
            &now(),
            write,
            expected_version,
        )
        .await?;
        if !changed {
            // Rolling back also undoes the revision bump: nothing changed.
            tx.rollback().await?;
            return Ok(record);
        }
        chain.save(&mut tx, org_id).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn write_all(
        &self,
        org_id: i64,
        actor: &str,
        writes: &[(Write, Option<i64>)],
    ) -> Result<Vec<Record>> {
        let (mut tx, mut chain) = self.begin_write(org_id).await?;
        let at = now();
        let mut records = Vec::with_capacity(writes.len());
        let mut changed = false;
        for (write, expected) in writes {
            let record = match expected {
                None => {
                    changed = true;
                    insert_record(&mut tx, &mut chain, org_id, actor, &at, write).await?
                }
                Some(version) => {
                    let (record, did) =
                        replace_record(&mut tx, &mut chain, org_id, actor, &at, write, *version)
                            .await?;
                    changed |= did;
                    record
                }
            };
            records.push(record);
        }
        if changed {
            chain.save(&mut tx, org_id).await?;
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(records)
    }

    async fn delete(
        &self,
        org_id: i64,
        actor: &str,
        kind: &str,
        key: &str,
        expected_version: Option<i64>,
    ) -> Result<()> {
        let (mut tx, mut chain) = self.begin_write(org_id).await?;
        let current = sqlx::query(
            "SELECT version, body FROM records WHERE org_id = $1 AND kind = $2 AND key = $3",
        )
        .bind(org_id)
        .bind(kind)
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(current) = current else {
            tx.rollback().await?;
            return Err(StoreError::NotFound);
        };
        let version: i64 = current.try_get(0)?;
        let body: String = current.try_get(1)?;
        if expected_version.is_some_and(|expected| expected != version) {
            tx.rollback().await?;
            return Err(StoreError::Stale { current: version });
        }
        sqlx::query("DELETE FROM records WHERE org_id = $1 AND kind = $2 AND key = $3")
            .bind(org_id)
            .bind(kind)
            .bind(key)
            .execute(&mut *tx)
            .await?;
        ChangeRow {
            org_id,
            content: Content {
                at: &now(),
                actor,
                action: "delete",
                kind,
                key,
                before: Some(&body),
                after: None,
                diff: None,
                digest: None,
            },
        }
        .insert(&mut tx, &mut chain)
        .await?;
        chain.save(&mut tx, org_id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn apply(
        &self,
        org_id: i64,
        actor: &str,
        writes: Vec<Write>,
        replace_kinds: &[String],
    ) -> Result<ApplySummary> {
        crate::apply::apply(self, org_id, actor, writes, replace_kinds).await
    }

    fn bodies<'a>(&'a self, org_id: i64, kind: &'a str) -> BoxStream<'a, Result<String>> {
        sqlx::query("SELECT body FROM records WHERE org_id = $1 AND kind = $2 ORDER BY key")
            .bind(org_id)
            .bind(kind)
            .fetch(&self.pool)
            .map(|row| Ok(row?.try_get(0)?))
            .boxed()
    }

    async fn revision(&self, org_id: i64) -> Result<i64> {
        sqlx::query_scalar("SELECT revision FROM orgs WHERE id = $1")
            .bind(org_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn changes(&self, org_id: i64, filter: &ChangeFilter) -> Result<Vec<Change>> {
        let mut sql = String::from(
            "SELECT id, at, actor, action, kind, key, before_body, after_body, diff, digest, seq, \
             hash FROM changes WHERE org_id = $1",
        );
        let mut next = 2;
        let mut condition = |sql: &mut String, column: &str, operator: &str| {
            sql.push_str(&format!(" AND {column} {operator} ${next}"));
            next += 1;
        };
        if filter.kind.is_some() {
            condition(&mut sql, "kind", "=");
        }
        if filter.key.is_some() {
            condition(&mut sql, "key", "=");
        }
        if filter.before_id.is_some() {
            condition(&mut sql, "id", "<");
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${next}"));
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(org_id);
        if let Some(kind) = &filter.kind {
            query = query.bind(kind);
        }
        if let Some(key) = &filter.key {
            query = query.bind(key);
        }
        if let Some(before_id) = filter.before_id {
            query = query.bind(before_id);
        }
        query
            .bind(filter.limit.max(0))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(change_of)
            .collect()
    }

    async fn backup(&self, org_id: i64, sink: &mut backup::Sink<'_>) -> Result<backup::Counts> {
        backup::backup(self, org_id, sink).await
    }

    async fn restore(
        &self,
        items: &mut backup::Source<'_>,
        as_slug: Option<&str>,
    ) -> Result<backup::Restored> {
        backup::restore(self, items, as_slug).await
    }

    async fn verify_trail(&self, org_id: i64) -> Result<TrailCheck> {
        let mut conn = self.pool.acquire().await?;
        trail::verify(&mut conn, org_id).await
    }

    async fn add_evidence(
        &self,
        org_id: i64,
        actor: &str,
        evidence: NewEvidence,
    ) -> Result<Evidence> {
        let (mut tx, mut chain) = self.begin_write(org_id).await?;
        let at = now();
        let size = i64::try_from(evidence.data.len()).unwrap_or(i64::MAX);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO evidence (org_id, kind, key, name, media_type, size, sha256, \
             created_at, created_by, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             RETURNING id",
        )
        .bind(org_id)
        .bind(&evidence.kind)
        .bind(&evidence.key)
        .bind(&evidence.name)
        .bind(&evidence.media_type)
        .bind(size)
        .bind(&evidence.sha256)
        .bind(&at)
        .bind(actor)
        .bind(evidence.data)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        let stored = Evidence {
            id,
            kind: evidence.kind,
            key: evidence.key,
            name: evidence.name,
            media_type: evidence.media_type,
            size,
            sha256: evidence.sha256,
            created_at: at,
            created_by: actor.to_owned(),
        };
        ChangeRow {
            org_id,
            content: Content {
                at: &stored.created_at,
                actor,
                action: "attach",
                kind: &stored.kind,
                key: &stored.key,
                before: None,
                after: Some(&evidence_json(&stored)),
                diff: None,
                digest: None,
            },
        }
        .insert(&mut tx, &mut chain)
        .await?;
        chain.save(&mut tx, org_id).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn evidence(&self, org_id: i64, kind: &str, key: &str) -> Result<Vec<Evidence>> {
        sqlx::query(AssertSqlSafe(format!(
            "{EVIDENCE} WHERE org_id = $1 AND kind = $2 AND key = $3 ORDER BY id"
        )))
        .bind(org_id)
        .bind(kind)
        .bind(key)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(evidence_of)
        .collect()
    }

    async fn evidence_file(&self, org_id: i64, id: i64) -> Result<Option<(Evidence, Vec<u8>)>> {
        sqlx::query(
            "SELECT id, kind, key, name, media_type, size, sha256, created_at, created_by, data \
             FROM evidence WHERE org_id = $1 AND id = $2",
        )
        .bind(org_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| Ok((evidence_of(&row)?, row.try_get(9)?)))
        .transpose()
    }

    async fn delete_evidence(&self, org_id: i64, actor: &str, id: i64) -> Result<()> {
        let (mut tx, mut chain) = self.begin_write(org_id).await?;
        let found = sqlx::query(AssertSqlSafe(format!(
            "{EVIDENCE} WHERE org_id = $1 AND id = $2"
        )))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(found) = found else {
            tx.rollback().await?;
            return Err(StoreError::NotFound);
        };
        let evidence = evidence_of(&found)?;
        sqlx::query("DELETE FROM evidence WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        ChangeRow {
            org_id,
            content: Content {
                at: &now(),
                actor,
                action: "detach",
                kind: &evidence.kind,
                key: &evidence.key,
                before: Some(&evidence_json(&evidence)),
                after: None,
                diff: None,
                digest: None,
            },
        }
        .insert(&mut tx, &mut chain)
        .await?;
        chain.save(&mut tx, org_id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn cached_readiness(
        &self,
        org_id: i64,
        edition: &str,
        as_of: &str,
    ) -> Result<Option<(i64, String)>> {
        sqlx::query(
            "SELECT revision, body FROM readiness \
             WHERE org_id = $1 AND edition = $2 AND as_of = $3",
        )
        .bind(org_id)
        .bind(edition)
        .bind(as_of)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .transpose()
    }

    async fn put_readiness(
        &self,
        org_id: i64,
        edition: &str,
        as_of: &str,
        revision: i64,
        body: &str,
    ) -> Result<()> {
        // Two servers may compute the same report at different revisions and finish in either
        // order: the condition keeps the newer one.
        sqlx::query(
            "INSERT INTO readiness (org_id, edition, as_of, revision, body) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org_id, edition, as_of) \
             DO UPDATE SET revision = excluded.revision, body = excluded.body \
             WHERE readiness.revision <= excluded.revision",
        )
        .bind(org_id)
        .bind(edition)
        .bind(as_of)
        .bind(revision)
        .bind(body)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn record_score(
        &self,
        org_id: i64,
        edition: &str,
        day: &str,
        revision: i64,
        overall: f64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO score_history (org_id, edition, day, revision, overall) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (org_id, edition, day) \
             DO UPDATE SET revision = excluded.revision, overall = excluded.overall \
             WHERE score_history.revision <= excluded.revision",
        )
        .bind(org_id)
        .bind(edition)
        .bind(day)
        .bind(revision)
        .bind(overall)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn score_history(
        &self,
        org_id: i64,
        edition: &str,
        limit: i64,
    ) -> Result<Vec<(String, f64)>> {
        let rows = sqlx::query(
            "SELECT day, overall FROM score_history WHERE org_id = $1 AND edition = $2 \
             ORDER BY day DESC LIMIT $3",
        )
        .bind(org_id)
        .bind(edition)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut days = rows
            .iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<f64, _>(1)?)))
            .collect::<std::result::Result<Vec<_>, sqlx::Error>>()?;
        days.reverse();
        Ok(days)
    }
}
