//! The bulk import behind [`Store::apply`](crate::Store::apply).
//!
//! A million records must load in seconds, so the import reads the existing records of the
//! kinds it touches once, decides in memory what to create, update and delete, and writes in
//! multi-row statements. Everything happens in one transaction, which makes it all or nothing.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use futures::TryStreamExt;
use sqlx::any::Any;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use crate::sql::classify;
use crate::trail::{self, Chain, Content};
use crate::{ApplySummary, Engine, Result, SqlStore, StoreError, Write, now};

/// Records per statement. SQLite allows 32,766 parameters in a statement and PostgreSQL 65,535;
/// at six per row this stays far below both, and larger statements no longer load faster.
const BATCH: usize = 1000;

/// The head of every statement that writes audit trail entries.
const CHANGES: &str = "INSERT INTO changes (org_id, at, actor, action, kind, key, before_body, \
     after_body, diff, digest, seq, hash) VALUES ";

/// What the import does with one of its writes.
enum Plan {
    Create,
    Unchanged,
    /// The body before the update, for the audit trail.
    Update(String),
}

/// An existing record the import no longer holds.
struct Deletion {
    kind: String,
    key: String,
    before: String,
}

pub(crate) async fn apply(
    store: &SqlStore,
    org_id: i64,
    actor: &str,
    mut writes: Vec<Write>,
    replace_kinds: &[String],
) -> Result<ApplySummary> {
    let mut plans: Vec<Plan> = writes.iter().map(|_| Plan::Create).collect();
    let mut deletions = Vec::new();
    let mut tx;
    let mut chain;
    {
        let mut index: HashMap<&str, HashMap<&str, usize>> = HashMap::new();
        for (i, write) in writes.iter().enumerate() {
            let keys = index.entry(&write.kind).or_default();
            if keys.insert(&write.key, i).is_some() {
                return Err(StoreError::Conflict(format!(
                    "record {}/{} is written twice",
                    write.kind, write.key
                )));
            }
        }
        let replaced: HashSet<&str> = replace_kinds.iter().map(String::as_str).collect();
        let kinds: BTreeSet<&str> = index
            .keys()
            .copied()
            .chain(replaced.iter().copied())
            .collect();
        // Reading inside the transaction, after the revision bump has locked out the
        // organisation's other writers, keeps the diff true until the commit.
        (tx, chain) = store.begin_write(org_id).await?;
        for kind in kinds {
            let keys = index.get(kind);
            let mut rows =
                sqlx::query("SELECT key, body FROM records WHERE org_id = $1 AND kind = $2")
                    .bind(org_id)
                    .bind(kind)
                    .fetch(&mut *tx);
            while let Some(row) = rows.try_next().await? {
                let key: &str = row.try_get(0)?;
                let body: &str = row.try_get(1)?;
                match keys.and_then(|keys| keys.get(key)) {
                    Some(&i) if writes[i].body == body => plans[i] = Plan::Unchanged,
                    Some(&i) => plans[i] = Plan::Update(body.to_owned()),
                    None if replaced.contains(kind) => deletions.push(Deletion {
                        kind: kind.to_owned(),
                        key: key.to_owned(),
                        before: body.to_owned(),
                    }),
                    None => {}
                }
            }
        }
    }

    let mut summary = ApplySummary {
        deleted: deletions.len() as u64,
        ..ApplySummary::default()
    };
    let mut creates = Vec::new();
    let mut updates = Vec::new();
    for (i, plan) in plans.into_iter().enumerate() {
        match plan {
            Plan::Create => creates.push(i),
            Plan::Unchanged => summary.unchanged += 1,
            Plan::Update(before) => updates.push((i, before)),
        }
    }
    summary.created = creates.len() as u64;
    summary.updated = updates.len() as u64;
    if creates.is_empty() && updates.is_empty() && deletions.is_empty() {
        // Nothing differs: rolling back also undoes the revision bump.
        tx.rollback().await?;
        return Ok(summary);
    }

    // In key order every B-tree grows at its end, which is much faster than scattered inserts.
    let by_key = |&a: &usize, &b: &usize| {
        (&writes[a].kind, &writes[a].key).cmp(&(&writes[b].kind, &writes[b].key))
    };
    creates.sort_unstable_by(by_key);
    updates.sort_unstable_by(|(a, _), (b, _)| by_key(a, b));

    let batch = Batch {
        engine: store.engine(),
        org_id,
        at: now(),
        actor,
        written: Mutex::default(),
    };
    for group in deletions.chunk_by(|a, b| a.kind == b.kind) {
        for chunk in group.chunks(BATCH) {
            batch.delete(&mut tx, &mut chain, chunk).await?;
        }
    }
    for chunk in updates.chunks_mut(BATCH) {
        batch
            .update(&mut tx, &mut chain, &mut writes, chunk)
            .await?;
    }
    for chunk in creates.chunks(BATCH) {
        batch
            .create(&mut tx, &mut chain, &mut writes, chunk)
            .await?;
    }
    chain.save(&mut tx, org_id).await?;
    tx.commit().await?;
    Ok(summary)
}

/// What every statement of one import shares, and how its statements are written.
///
/// A statement's placeholders are written in a small template: `?` stands for the next value of
/// the rows, `@1`, `@2`… for values shared by every row, bound once after the rows' values.
/// PostgreSQL gets `$1`, `$2`… throughout. SQLite gets a bare `?` for each row value: it looks
/// up named parameters such as `$4` in a list, once per parameter on every execution, which
/// makes a statement of thousands of `$n` quadratic (it took half the time of a large import).
/// The shared values keep their numbers, `$n` after the rows' values, and that list stays short.
struct Batch<'a> {
    engine: Engine,
    org_id: i64,
    at: String,
    actor: &'a str,
    /// Statements already written, by template and number of rows.
    written: Mutex<HashMap<(Template, usize), Arc<str>>>,
}

impl Batch<'_> {
    /// `head`, then `row` once per row (comma-separated), then `tail`, with the placeholders of
    /// the template written for the engine. Every full batch has the same text: it is written
    /// once and shared, as is sqlx's prepared statement for it.
    fn sql(
        &self,
        head: &'static str,
        row: &'static str,
        rows: usize,
        tail: &'static str,
    ) -> Arc<str> {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        let sql = written
            .entry(((head, row, tail), rows))
            .or_insert_with(|| self.write_sql(head, row, rows, tail).into());
        Arc::clone(sql)
    }

    fn write_sql(&self, head: &str, row: &str, rows: usize, tail: &str) -> String {
        let row_values = row.matches('?').count() * rows;
        let mut sql = String::with_capacity(head.len() + rows * (row.len() + 16) + tail.len());
        let mut next = 1;
        let mut write = |sql: &mut String, template: &str| {
            let mut chars = template.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '?' if self.engine == Engine::Sqlite => sql.push('?'),
                    '?' => {
                        let _ = write!(sql, "${next}");
                        next += 1;
                    }
                    '@' => {
                        let mut shared = 0;
                        while let Some(digit) = chars.peek().and_then(|d| d.to_digit(10)) {
                            shared = shared * 10 + digit as usize;
                            chars.next();
                        }
                        let _ = write!(sql, "${}", row_values + shared);
                    }
                    c => sql.push(c),
                }
            }
        };
        write(&mut sql, head);
        for i in 0..rows {
            if i > 0 {
                sql.push_str(", ");
            }
            write(&mut sql, row);
        }
        write(&mut sql, tail);
        sql
    }

    async fn delete(
        &self,
        conn: &mut AnyConnection,
        chain: &mut Chain,
        chunk: &[Deletion],
    ) -> Result<()> {
        let sql = self.sql(
            "DELETE FROM records WHERE org_id = @1 AND kind = @2 AND key IN (",
            "?",
            chunk.len(),
            ")",
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for deletion in chunk {
            query = query.bind(deletion.key.as_str());
        }
        query
            .bind(self.org_id)
            .bind(chunk[0].kind.as_str())
            .execute(&mut *conn)
            .await?;

        let sql = self.sql(
            CHANGES,
            "(@1, @2, @3, 'delete', ?, ?, ?, NULL, NULL, NULL, ?, ?)",
            chunk.len(),
            "",
        );
        let mut changes = sqlx::query(AssertSqlSafe(sql));
        for deletion in chunk {
            let (seq, hash) = chain.link(&Content {
                before: Some(&deletion.before),
                ..self.content("delete", &deletion.kind, &deletion.key)
            });
            changes = changes
                .bind(deletion.kind.as_str())
                .bind(deletion.key.as_str())
                .bind(deletion.before.as_str())
                .bind(seq)
                .bind(hash);
        }
        self.shared(changes).execute(&mut *conn).await?;
        Ok(())
    }

    async fn update(
        &self,
        conn: &mut AnyConnection,
        chain: &mut Chain,
        writes: &mut [Write],
        chunk: &mut [(usize, String)],
    ) -> Result<()> {
        // An upsert is the one multi-row UPDATE that both engines accept.
        let sql = self.sql(
            "INSERT INTO records (org_id, kind, key, version, body, updated_at, updated_by) VALUES ",
            "(@1, ?, ?, 1, ?, @2, @3)",
            chunk.len(),
            " ON CONFLICT (org_id, kind, key) DO UPDATE SET version = records.version + 1, \
             body = excluded.body, updated_at = excluded.updated_at, \
             updated_by = excluded.updated_by",
        );
        let mut records = sqlx::query(AssertSqlSafe(sql));
        for (i, _) in chunk.iter() {
            let write = &writes[*i];
            records = records
                .bind(write.kind.as_str())
                .bind(write.key.as_str())
                .bind(write.body.as_str());
        }
        self.shared(records)
            .execute(&mut *conn)
            .await
            .map_err(classify)?;

        let sql = self.sql(
            CHANGES,
            "(@1, @2, @3, 'update', ?, ?, NULL, NULL, ?, ?, ?, ?)",
            chunk.len(),
            "",
        );
        let mut changes = sqlx::query(AssertSqlSafe(sql));
        for (i, before) in chunk.iter() {
            let write = &mut writes[*i];
            let diff = trail::diff(before, &write.body);
            let digest = trail::digest(&write.body);
            let (seq, hash) = chain.link(&Content {
                diff: Some(&diff),
                digest: Some(&digest),
                ..self.content("update", &write.kind, &write.key)
            });
            write.body = String::new();
            changes = changes
                .bind(write.kind.as_str())
                .bind(write.key.as_str())
                .bind(diff)
                .bind(digest)
                .bind(seq)
                .bind(hash);
        }
        self.shared(changes).execute(&mut *conn).await?;
        Ok(())
    }

    async fn create(
        &self,
        conn: &mut AnyConnection,
        chain: &mut Chain,
        writes: &mut [Write],
        chunk: &[usize],
    ) -> Result<()> {
        let sql = self.sql(
            "INSERT INTO records (org_id, kind, key, version, body, updated_at, updated_by) VALUES ",
            "(@1, ?, ?, 1, ?, @2, @3)",
            chunk.len(),
            "",
        );
        let mut records = sqlx::query(AssertSqlSafe(sql));
        for &i in chunk {
            let write = &writes[i];
            records = records
                .bind(write.kind.as_str())
                .bind(write.key.as_str())
                .bind(write.body.as_str());
        }
        self.shared(records)
            .execute(&mut *conn)
            .await
            .map_err(classify)?;

        let sql = self.sql(
            CHANGES,
            "(@1, @2, @3, 'create', ?, ?, NULL, NULL, NULL, ?, ?, ?)",
            chunk.len(),
            "",
        );
        let mut changes = sqlx::query(AssertSqlSafe(sql));
        for &i in chunk {
            let write = &mut writes[i];
            let digest = trail::digest(&write.body);
            let (seq, hash) = chain.link(&Content {
                digest: Some(&digest),
                ..self.content("create", &write.kind, &write.key)
            });
            write.body = String::new();
            changes = changes
                .bind(write.kind.as_str())
                .bind(write.key.as_str())
                .bind(digest)
                .bind(seq)
                .bind(hash);
        }
        self.shared(changes).execute(&mut *conn).await?;
        Ok(())
    }

    /// An audit trail entry of this import, to be completed with what it records.
    fn content<'c>(&'c self, action: &'c str, kind: &'c str, key: &'c str) -> Content<'c> {
        Content {
            at: &self.at,
            actor: self.actor,
            action,
            kind,
            key,
            before: None,
            after: None,
            diff: None,
            digest: None,
        }
    }

    /// Binds the values shared by every row, `@1` to `@3`, after the rows' values.
    fn shared<'q>(&self, query: Query<'q>) -> Query<'q> {
        query
            .bind(self.org_id)
            .bind(self.at.clone())
            .bind(self.actor.to_owned())
    }
}

/// A statement's head, row and tail templates.
type Template = (&'static str, &'static str, &'static str);

type Query<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_suit_each_engine() {
        let sql = |engine| {
            let batch = Batch {
                engine,
                org_id: 1,
                at: String::new(),
                actor: "",
                written: Mutex::default(),
            };
            batch.write_sql(
                "INSERT INTO t VALUES ",
                "(@1, ?, ?, @2)",
                2,
                " WHERE x = @3",
            )
        };
        assert_eq!(
            sql(Engine::Postgres),
            "INSERT INTO t VALUES ($5, $1, $2, $6), ($5, $3, $4, $6) WHERE x = $7"
        );
        assert_eq!(
            sql(Engine::Sqlite),
            "INSERT INTO t VALUES ($5, ?, ?, $6), ($5, ?, ?, $6) WHERE x = $7"
        );
    }
}
