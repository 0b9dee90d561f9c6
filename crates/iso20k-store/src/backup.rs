//! One organisation, whole, out of one database and into another: [`Store::backup`] and
//! [`Store::restore`](crate::Store::restore).
//!
//! A backup is a sequence of [`Item`]s: a header, the members and their accounts, the records,
//! the audit trail entry by entry (with their places and hashes, as they were), the evidence
//! files, the score history, and an end that counts what came before, so a cut-off backup is
//! refused rather than half restored. It is read from one snapshot of the database, so a
//! server may go on writing while it runs, and restored in one transaction: all or nothing.
//! The trail is copied as it is and stays provable: its hashes cover the entries' content, not
//! the database ids or the organisation's slug, so a restore under another name, on another
//! engine, still verifies.

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use crate::trail::Chain;
use crate::{Engine, Result, SqlStore, StoreError, now};

/// The format's name, in every header.
pub const FORMAT: &str = "iso20k-backup";
/// The format's version, bumped when an item changes shape.
pub const VERSION: u32 = 1;

/// One item of a backup. Fields not described are the database columns of the same name.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "item", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Item {
    /// Always first.
    Header {
        format: String,
        version: u32,
        /// When the backup was taken.
        taken_at: String,
        slug: String,
        name: String,
        created_at: String,
        revision: i64,
        trail_seq: i64,
        trail_head: String,
    },
    /// An account of a member, without its sessions or API tokens (secrets stay behind).
    User {
        email: String,
        name: String,
        password_hash: Option<String>,
        created_at: String,
    },
    /// A member's role.
    Membership {
        email: String,
        role: String,
        expires_at: Option<String>,
        created_at: String,
        /// The person of the records the member is linked to (absent in older backups).
        #[serde(default)]
        person: Option<String>,
        /// The member asked for no digest e-mail (absent in older backups, and when not).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        digest_opt_out: bool,
    },
    Record {
        kind: String,
        key: String,
        version: i64,
        body: String,
        updated_at: String,
        updated_by: String,
    },
    /// An audit trail entry, exactly as stored.
    Change {
        seq: i64,
        at: String,
        actor: String,
        action: String,
        kind: String,
        key: String,
        before: Option<String>,
        after: Option<String>,
        diff: Option<String>,
        digest: Option<String>,
        hash: String,
    },
    /// An evidence file; its bytes in standard base64.
    Evidence {
        kind: String,
        key: String,
        name: String,
        media_type: String,
        size: i64,
        sha256: String,
        created_at: String,
        created_by: String,
        data: String,
    },
    /// A day's overall score.
    Score {
        edition: String,
        day: String,
        revision: i64,
        overall: f64,
    },
    /// Always last: how many of each came before.
    End {
        users: u64,
        records: u64,
        changes: u64,
        evidence: u64,
    },
}

/// What a backup or a restore carried: how many of each.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub users: u64,
    pub records: u64,
    pub changes: u64,
    pub evidence: u64,
}

/// What [`Store::restore`](crate::Store::restore) made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    /// The new organisation.
    pub org: crate::Org,
    /// What it held.
    pub counts: Counts,
    /// Accounts that already existed on this database: kept as they were (password included),
    /// given the membership of the backup.
    pub existing_users: Vec<String>,
}

/// Where a backup's items go, one at a time.
pub type Sink<'a> = dyn FnMut(Item) -> std::io::Result<()> + Send + 'a;
/// Where a restore's items come from: an item, or why the next one could not be read.
pub type Source<'a> = dyn Iterator<Item = std::result::Result<Item, String>> + Send + 'a;

fn io(e: std::io::Error) -> StoreError {
    StoreError::Invalid(format!("cannot write the backup: {e}"))
}

pub(crate) async fn backup(store: &SqlStore, org_id: i64, sink: &mut Sink<'_>) -> Result<Counts> {
    let mut tx = store.pool.begin().await?;
    // One snapshot for the whole backup: SQLite's read transaction is one already; PostgreSQL's
    // default isolation would let each statement see later commits.
    if store.engine() == Engine::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await?;
    }
    let conn: &mut AnyConnection = &mut tx;
    let org = sqlx::query(
        "SELECT slug, name, created_at, revision, trail_seq, trail_head FROM orgs WHERE id = $1",
    )
    .bind(org_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    sink(Item::Header {
        format: FORMAT.into(),
        version: VERSION,
        taken_at: now(),
        slug: org.try_get(0)?,
        name: org.try_get(1)?,
        created_at: org.try_get(2)?,
        revision: org.try_get(3)?,
        trail_seq: org.try_get(4)?,
        trail_head: org.try_get(5)?,
    })
    .map_err(io)?;
    let mut counts = Counts::default();

    let members = sqlx::query(
        "SELECT u.email, u.name, u.password_hash, u.created_at, m.role, m.expires_at, \
         m.created_at, m.person, m.digest_opt_out \
         FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.org_id = $1 ORDER BY u.email",
    )
    .bind(org_id)
    .fetch_all(&mut *conn)
    .await?;
    for row in &members {
        sink(Item::User {
            email: row.try_get(0)?,
            name: row.try_get(1)?,
            password_hash: row.try_get(2)?,
            created_at: row.try_get(3)?,
        })
        .map_err(io)?;
        counts.users += 1;
    }
    for row in &members {
        sink(Item::Membership {
            email: row.try_get(0)?,
            role: row.try_get(4)?,
            expires_at: row.try_get(5)?,
            created_at: row.try_get(6)?,
            person: row.try_get(7)?,
            digest_opt_out: row.try_get::<i64, _>(8)? != 0,
        })
        .map_err(io)?;
    }

    {
        let mut rows = sqlx::query(
            "SELECT kind, key, version, body, updated_at, updated_by FROM records \
             WHERE org_id = $1 ORDER BY kind, key",
        )
        .bind(org_id)
        .fetch(&mut *conn);
        while let Some(row) = rows.try_next().await? {
            sink(Item::Record {
                kind: row.try_get(0)?,
                key: row.try_get(1)?,
                version: row.try_get(2)?,
                body: row.try_get(3)?,
                updated_at: row.try_get(4)?,
                updated_by: row.try_get(5)?,
            })
            .map_err(io)?;
            counts.records += 1;
        }
    }
    {
        let mut rows = sqlx::query(
            "SELECT seq, at, actor, action, kind, key, before_body, after_body, diff, digest, \
             hash FROM changes WHERE org_id = $1 ORDER BY seq",
        )
        .bind(org_id)
        .fetch(&mut *conn);
        while let Some(row) = rows.try_next().await? {
            sink(Item::Change {
                seq: row.try_get(0)?,
                at: row.try_get(1)?,
                actor: row.try_get(2)?,
                action: row.try_get(3)?,
                kind: row.try_get(4)?,
                key: row.try_get(5)?,
                before: row.try_get(6)?,
                after: row.try_get(7)?,
                diff: row.try_get(8)?,
                digest: row.try_get(9)?,
                hash: row.try_get(10)?,
            })
            .map_err(io)?;
            counts.changes += 1;
        }
    }
    {
        use base64::Engine as _;
        let mut rows = sqlx::query(
            "SELECT kind, key, name, media_type, size, sha256, created_at, created_by, data \
             FROM evidence WHERE org_id = $1 ORDER BY id",
        )
        .bind(org_id)
        .fetch(&mut *conn);
        while let Some(row) = rows.try_next().await? {
            let data: Vec<u8> = row.try_get(8)?;
            sink(Item::Evidence {
                kind: row.try_get(0)?,
                key: row.try_get(1)?,
                name: row.try_get(2)?,
                media_type: row.try_get(3)?,
                size: row.try_get(4)?,
                sha256: row.try_get(5)?,
                created_at: row.try_get(6)?,
                created_by: row.try_get(7)?,
                data: base64::engine::general_purpose::STANDARD.encode(data),
            })
            .map_err(io)?;
            counts.evidence += 1;
        }
    }
    {
        let mut rows = sqlx::query(
            "SELECT edition, day, revision, overall FROM score_history WHERE org_id = $1 \
             ORDER BY edition, day",
        )
        .bind(org_id)
        .fetch(&mut *conn);
        while let Some(row) = rows.try_next().await? {
            sink(Item::Score {
                edition: row.try_get(0)?,
                day: row.try_get(1)?,
                revision: row.try_get(2)?,
                overall: row.try_get(3)?,
            })
            .map_err(io)?;
        }
    }
    sink(Item::End {
        users: counts.users,
        records: counts.records,
        changes: counts.changes,
        evidence: counts.evidence,
    })
    .map_err(io)?;
    tx.rollback().await?;
    Ok(counts)
}

pub(crate) async fn restore(
    store: &SqlStore,
    items: &mut Source<'_>,
    as_slug: Option<&str>,
) -> Result<Restored> {
    let invalid = |n: u64, message: String| StoreError::Invalid(format!("item {n}: {message}"));
    let mut n = 1;
    let Some(first) = items.next() else {
        return Err(StoreError::Invalid("the backup is empty".into()));
    };
    let Item::Header {
        format,
        version,
        slug,
        name,
        created_at,
        revision,
        trail_seq,
        trail_head,
        ..
    } = first.map_err(|e| invalid(n, e))?
    else {
        return Err(invalid(n, "a backup starts with its header".into()));
    };
    if format != FORMAT || version != VERSION {
        return Err(invalid(
            n,
            format!(
                "this is {format} version {version}; this iso20k reads {FORMAT} version {VERSION}"
            ),
        ));
    }
    let slug = as_slug.map_or(slug, str::to_owned);
    let mut tx = store.pool.begin().await?;
    let org_id: i64 = sqlx::query_scalar(
        "INSERT INTO orgs (slug, name, revision, created_at, trail_seq, trail_head) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(&slug)
    .bind(&name)
    .bind(revision)
    .bind(&created_at)
    .bind(trail_seq)
    .bind(&trail_head)
    .fetch_one(&mut *tx)
    .await
    .map_err(crate::sql::conflict(|| {
        format!(
            "an organisation `{slug}` already exists here: restore it under another name with --as"
        )
    }))?;

    let mut counts = Counts::default();
    let mut existing_users = Vec::new();
    let mut chain = Chain::default();
    let mut ended = false;
    for item in items {
        n += 1;
        let item = item.map_err(|e| invalid(n, e))?;
        if ended {
            return Err(invalid(n, "nothing may follow the end of a backup".into()));
        }
        match item {
            Item::Header { .. } => return Err(invalid(n, "a second header".into())),
            Item::User {
                email,
                name,
                password_hash,
                created_at,
            } => {
                counts.users += 1;
                let email = crate::sql::normalize_email(&email);
                let found: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
                        .bind(&email)
                        .fetch_optional(&mut *tx)
                        .await?;
                if found.is_some() {
                    existing_users.push(email);
                    continue;
                }
                sqlx::query(
                    "INSERT INTO users (email, name, password_hash, created_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&email)
                .bind(&name)
                .bind(&password_hash)
                .bind(&created_at)
                .execute(&mut *tx)
                .await?;
            }
            Item::Membership {
                email,
                role,
                expires_at,
                created_at,
                person,
                digest_opt_out,
            } => {
                let email = crate::sql::normalize_email(&email);
                let user: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
                    .bind(&email)
                    .fetch_optional(&mut *tx)
                    .await?;
                let user = user.ok_or_else(|| {
                    invalid(
                        n,
                        format!("a membership of {email}, whose account is not in the backup"),
                    )
                })?;
                sqlx::query(
                    "INSERT INTO memberships (org_id, user_id, role, expires_at, created_at, \
                     person, digest_opt_out) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(org_id)
                .bind(user)
                .bind(&role)
                .bind(&expires_at)
                .bind(&created_at)
                .bind(&person)
                .bind(i64::from(digest_opt_out))
                .execute(&mut *tx)
                .await
                .map_err(crate::sql::conflict(|| {
                    format!("item {n}: {email} is a member twice")
                }))?;
            }
            Item::Record {
                kind,
                key,
                version,
                body,
                updated_at,
                updated_by,
            } => {
                counts.records += 1;
                sqlx::query(
                    "INSERT INTO records (org_id, kind, key, version, body, updated_at, \
                     updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(org_id)
                .bind(&kind)
                .bind(&key)
                .bind(version)
                .bind(&body)
                .bind(&updated_at)
                .bind(&updated_by)
                .execute(&mut *tx)
                .await
                .map_err(crate::sql::conflict(|| {
                    format!("item {n}: record {kind}/{key} comes twice")
                }))?;
            }
            Item::Change {
                seq,
                at,
                actor,
                action,
                kind,
                key,
                before,
                after,
                diff,
                digest,
                hash,
            } => {
                counts.changes += 1;
                if seq != chain.seq + 1 {
                    return Err(invalid(
                        n,
                        format!("trail entry {seq} follows entry {}", chain.seq),
                    ));
                }
                chain.seq = seq;
                sqlx::query(
                    "INSERT INTO changes (org_id, at, actor, action, kind, key, before_body, \
                     after_body, diff, digest, seq, hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(org_id)
                .bind(&at)
                .bind(&actor)
                .bind(&action)
                .bind(&kind)
                .bind(&key)
                .bind(&before)
                .bind(&after)
                .bind(&diff)
                .bind(&digest)
                .bind(seq)
                .bind(&hash)
                .execute(&mut *tx)
                .await?;
            }
            Item::Evidence {
                kind,
                key,
                name,
                media_type,
                size,
                sha256,
                created_at,
                created_by,
                data,
            } => {
                use base64::Engine as _;
                counts.evidence += 1;
                let data = base64::engine::general_purpose::STANDARD
                    .decode(data.as_bytes())
                    .map_err(|e| invalid(n, format!("evidence {name}: its bytes: {e}")))?;
                if i64::try_from(data.len()).ok() != Some(size) {
                    return Err(invalid(
                        n,
                        format!(
                            "evidence {name}: {} bytes where {size} were stored",
                            data.len()
                        ),
                    ));
                }
                sqlx::query(
                    "INSERT INTO evidence (org_id, kind, key, name, media_type, size, sha256, \
                     created_at, created_by, data) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(org_id)
                .bind(&kind)
                .bind(&key)
                .bind(&name)
                .bind(&media_type)
                .bind(size)
                .bind(&sha256)
                .bind(&created_at)
                .bind(&created_by)
                .bind(data)
                .execute(&mut *tx)
                .await?;
            }
            Item::Score {
                edition,
                day,
                revision,
                overall,
            } => {
                sqlx::query(
                    "INSERT INTO score_history (org_id, edition, day, revision, overall) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(org_id)
                .bind(&edition)
                .bind(&day)
                .bind(revision)
                .bind(overall)
                .execute(&mut *tx)
                .await?;
            }
            Item::End {
                users,
                records,
                changes,
                evidence,
            } => {
                let said = Counts {
                    users,
                    records,
                    changes,
                    evidence,
                };
                if said != counts {
                    return Err(invalid(
                        n,
                        format!("the backup's end counts {said:?} but it holds {counts:?}"),
                    ));
                }
                ended = true;
            }
        }
    }
    if !ended {
        return Err(StoreError::Invalid(format!(
            "the backup stops after item {n}, before its end: it was cut off"
        )));
    }
    if chain.seq != trail_seq {
        return Err(StoreError::Invalid(format!(
            "the header says the trail has {trail_seq} entries but the backup holds {}",
            chain.seq
        )));
    }
    let org = sqlx::query("SELECT id, slug, name, revision, created_at FROM orgs WHERE id = $1")
        .bind(org_id)
        .fetch_one(&mut *tx)
        .await?;
    let org = crate::Org {
        id: org.try_get(0)?,
        slug: org.try_get(1)?,
        name: org.try_get(2)?,
        revision: org.try_get(3)?,
        created_at: org.try_get(4)?,
    };
    tx.commit().await?;
    Ok(Restored {
        org,
        counts,
        existing_users,
    })
}
