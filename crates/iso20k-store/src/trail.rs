//! The audit trail's proof and its compact form.
//!
//! Every entry of an organisation's trail has a place (`seq`: 1, 2, 3…) and a hash: the SHA-256
//! of the previous entry's hash and of everything the entry says. The organisation's row keeps
//! the last place and hash (the head). Editing an entry breaks its own hash; removing or
//! inserting one breaks the places or the next entry's link; cutting entries off the end no
//! longer meets the head. Rewriting the whole chain from the first edit on, head included,
//! is what a hash chain alone cannot see: whoever keeps the head elsewhere (`iso20k verify`
//! prints it) sees that too.
//!
//! Entries are compact. An update stores only the fields that changed, with their values
//! before and after ([`diff`]); a create by a bulk import only the SHA-256 of the body
//! ([`digest`]), since the record holds the body and the later diffs lead back to it. Every
//! create and update stores the digest of the body it left, so the current records can be
//! checked against the trail too: a record edited behind the store's back no longer matches.

use std::collections::HashMap;

use futures::TryStreamExt;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

/// The head of an organisation's trail: its last place and hash (`0` and `""` when empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Chain {
    pub seq: i64,
    pub head: String,
}

/// What an entry says, as it is hashed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Content<'a> {
    pub at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub kind: &'a str,
    pub key: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
    pub diff: Option<&'a str>,
    pub digest: Option<&'a str>,
}

impl Chain {
    /// Reads the head inside a write transaction, which has locked the organisation's row.
    pub async fn load(conn: &mut AnyConnection, org_id: i64) -> Result<Chain> {
        let row = sqlx::query("SELECT trail_seq, trail_head FROM orgs WHERE id = $1")
            .bind(org_id)
            .fetch_optional(conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(Chain {
            seq: row.try_get(0)?,
            head: row.try_get(1)?,
        })
    }

    /// Links the next entry: its place and hash, which become the head.
    pub fn link(&mut self, content: &Content<'_>) -> (i64, String) {
        self.seq += 1;
        self.head = hash(self.seq, &self.head, content);
        (self.seq, self.head.clone())
    }

    /// Writes the head back, in the same transaction as the entries.
    pub async fn save(&self, conn: &mut AnyConnection, org_id: i64) -> Result<()> {
        sqlx::query("UPDATE orgs SET trail_seq = $1, trail_head = $2 WHERE id = $3")
            .bind(self.seq)
            .bind(&self.head)
            .bind(org_id)
            .execute(conn)
            .await?;
        Ok(())
    }
}

/// The hash of the entry at place `seq` after the entry whose hash is `previous`. Every field
/// is length-prefixed and an absent one is told apart from an empty one, so no two different
/// entries hash alike by moving text from one field to the next.
pub(crate) fn hash(seq: i64, previous: &str, content: &Content<'_>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"iso20k trail 1\n");
    let mut field = |value: Option<&str>| match value {
        None => hasher.update([0u8]),
        Some(text) => {
            hasher.update([1u8]);
            hasher.update((text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
        }
    };
    let seq = seq.to_string();
    for value in [
        Some(seq.as_str()),
        Some(previous),
        Some(content.at),
        Some(content.actor),
        Some(content.action),
        Some(content.kind),
        Some(content.key),
        content.before,
        content.after,
        content.diff,
        content.digest,
    ] {
        field(value);
    }
    hex(&hasher.finalize())
}

/// The SHA-256 of a body, hex.
pub(crate) fn digest(body: &str) -> String {
    hex(&Sha256::digest(body.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(text, "{b:02x}");
    }
    text
}

/// The fields that differ between two bodies, as a JSON object: each changed field maps to
/// `{"from": before, "to": after}`, a side left out where the field is absent. A body that is
/// not a JSON object (none is, today) is one field named `""`.
pub fn diff(before: &str, after: &str) -> String {
    let parse = |body: &str| match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(map)) => map,
        Ok(other) => Map::from_iter([(String::new(), other)]),
        Err(_) => Map::from_iter([(String::new(), Value::String(body.to_owned()))]),
    };
    let (before, mut after) = (parse(before), parse(after));
    let mut changed = Map::new();
    for (field, old) in before {
        match after.shift_remove(&field) {
            Some(new) if new == old => {}
            Some(new) => {
                changed.insert(field, serde_json::json!({ "from": old, "to": new }));
            }
            None => {
                changed.insert(field, serde_json::json!({ "from": old }));
            }
        }
    }
    for (field, new) in after {
        changed.insert(field, serde_json::json!({ "to": new }));
    }
    Value::Object(changed).to_string()
}

/// What [`verify`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrailCheck {
    /// Entries read.
    pub entries: i64,
    /// The head: the last entry's hash (empty for an empty trail).
    pub head: String,
    /// The first thing that does not hold, if any.
    pub broken: Option<Broken>,
}

/// The first broken link of a trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    /// The entry's id (the audit trail's `id`), where an entry is to blame.
    pub id: Option<i64>,
    /// Its place in the organisation's trail (1 for the first).
    pub seq: i64,
    /// What is wrong, in words.
    pub reason: String,
}

/// Walks an organisation's trail from its first entry, recomputing every hash, then checks the
/// head and the current records against it.
pub(crate) async fn verify(conn: &mut AnyConnection, org_id: i64) -> Result<TrailCheck> {
    let chain = Chain::load(&mut *conn, org_id).await?;
    let mut check = TrailCheck::default();
    // The digest each record's last create or update left, to hold the records against.
    let mut last: HashMap<(String, String), Option<String>> = HashMap::new();
    let mut previous = String::new();
    {
        let mut rows = sqlx::query(
            "SELECT id, seq, at, actor, action, kind, key, before_body, after_body, diff, \
             digest, hash FROM changes WHERE org_id = $1 ORDER BY seq, id",
        )
        .bind(org_id)
        .fetch(&mut *conn);
        while let Some(row) = rows.try_next().await? {
            let id: i64 = row.try_get(0)?;
            let seq: Option<i64> = row.try_get(1)?;
            let expected = check.entries + 1;
            let broken = |reason: String| Broken {
                id: Some(id),
                seq: expected,
                reason,
            };
            let Some(seq) = seq else {
                check.broken = Some(broken("it has no place in the trail".into()));
                return Ok(check);
            };
            if seq != expected {
                check.broken = Some(broken(if seq == expected + 1 {
                    format!("entry {expected} is missing before it")
                } else if seq > expected {
                    format!("entries {expected} to {} are missing before it", seq - 1)
                } else {
                    format!("it repeats place {seq}")
                }));
                return Ok(check);
            }
            let text = |i: usize| -> Result<Option<String>> { Ok(row.try_get(i)?) };
            let (at, actor, action, kind, key): (String, String, String, String, String) = (
                row.try_get(2)?,
                row.try_get(3)?,
                row.try_get(4)?,
                row.try_get(5)?,
                row.try_get(6)?,
            );
            let (before, after, diff, digest) = (text(7)?, text(8)?, text(9)?, text(10)?);
            let stored: Option<String> = row.try_get(11)?;
            let content = Content {
                at: &at,
                actor: &actor,
                action: &action,
                kind: &kind,
                key: &key,
                before: before.as_deref(),
                after: after.as_deref(),
                diff: diff.as_deref(),
                digest: digest.as_deref(),
            };
            let computed = hash(seq, &previous, &content);
            if stored.as_deref() != Some(computed.as_str()) {
                check.broken = Some(broken(
                    "its content or its link to the entry before no longer matches its hash: \
                     it was edited, or an entry before it was"
                        .into(),
                ));
                return Ok(check);
            }
            match action.as_str() {
                "create" | "update" => {
                    let left = digest.or_else(|| after.as_deref().map(self::digest));
                    last.insert((kind, key), left);
                }
                "delete" => {
                    last.remove(&(kind, key));
                }
                _ => {}
            }
            previous = computed;
            check.entries = seq;
        }
    }
    check.head = previous;
    if check.entries != chain.seq || check.head != chain.head {
        check.broken = Some(Broken {
            id: None,
            seq: check.entries + 1,
            reason: if check.entries < chain.seq {
                format!(
                    "the trail ends at entry {} but the organisation recorded {}: entries were \
                     removed from its end",
                    check.entries, chain.seq
                )
            } else {
                "the organisation's record of the last entry does not match the trail".into()
            },
        });
        return Ok(check);
    }

    let mut rows = sqlx::query("SELECT kind, key, body FROM records WHERE org_id = $1")
        .bind(org_id)
        .fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        let (kind, key, body): (String, String, String) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let reason = match last.remove(&(kind.clone(), key.clone())) {
            None => "it is not in the trail: it was added behind the store's back".to_owned(),
            Some(Some(left)) if left == digest(&body) => continue,
            // A legacy update stored whole bodies; its digest was taken from them above.
            Some(None) => continue,
            Some(Some(_)) => {
                "its body is not the one the trail's last change left: it was edited behind \
                 the store's back"
                    .to_owned()
            }
        };
        check.broken = Some(Broken {
            id: None,
            seq: check.entries,
            reason: format!("record {kind}/{key}: {reason}"),
        });
        return Ok(check);
    }
    if let Some((kind, key)) = last.into_keys().min() {
        check.broken = Some(Broken {
            id: None,
            seq: check.entries,
            reason: format!(
                "record {kind}/{key}: the trail holds it but the records do not: it was \
                 deleted behind the store's back"
            ),
        });
    }
    Ok(check)
}

/// Seals entries written before the trail was chained (after the migration that added the
/// chain), in their order, onto each organisation's head. Runs when the store is opened.
pub(crate) async fn seal(store: &crate::SqlStore) -> Result<()> {
    // Asked per organisation so that the `(org_id, seq)` index answers it: this runs at every
    // start, and a scan of the whole trail there would cost a large database seconds.
    let orgs: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM orgs WHERE EXISTS \
         (SELECT 1 FROM changes c WHERE c.org_id = orgs.id AND c.seq IS NULL)",
    )
    .fetch_all(&store.pool)
    .await?;
    for org_id in orgs {
        let mut tx = store.pool.begin().await?;
        // Locks the organisation's writers out, as every write does.
        sqlx::query("UPDATE orgs SET trail_seq = trail_seq WHERE id = $1")
            .bind(org_id)
            .execute(&mut *tx)
            .await?;
        let mut chain = Chain::load(&mut tx, org_id).await?;
        let rows = sqlx::query(
            "SELECT id, at, actor, action, kind, key, before_body, after_body, diff, digest \
             FROM changes WHERE org_id = $1 AND seq IS NULL ORDER BY id",
        )
        .bind(org_id)
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            let id: i64 = row.try_get(0)?;
            let fields: Vec<Option<String>> = (1..10)
                .map(|i| row.try_get(i))
                .collect::<std::result::Result<_, _>>()?;
            let text = |i: usize| fields[i].as_deref();
            let content = Content {
                at: text(0).unwrap_or_default(),
                actor: text(1).unwrap_or_default(),
                action: text(2).unwrap_or_default(),
                kind: text(3).unwrap_or_default(),
                key: text(4).unwrap_or_default(),
                before: text(5),
                after: text(6),
                diff: text(7),
                digest: text(8),
            };
            let (seq, hash) = chain.link(&content);
            sqlx::query("UPDATE changes SET seq = $1, hash = $2 WHERE id = $3")
                .bind(seq)
                .bind(hash)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        chain.save(&mut tx, org_id).await?;
        tx.commit().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_holds_only_what_changed() {
        assert_eq!(
            diff(
                r#"{"id":"D1","title":"Policy","version":"1.0","owner":"p1"}"#,
                r#"{"id":"D1","title":"Policy","version":"1.1","approved":"2026-01-05"}"#
            ),
            r#"{"version":{"from":"1.0","to":"1.1"},"owner":{"from":"p1"},"approved":{"to":"2026-01-05"}}"#
        );
        assert_eq!(diff(r#"{"a":1}"#, r#"{"a":1}"#), "{}");
    }

    #[test]
    fn no_two_different_entries_hash_alike() {
        let content = Content {
            at: "2026-01-01T00:00:00.000Z",
            actor: "a@example.org",
            action: "update",
            kind: "documents",
            key: "D1",
            before: None,
            after: None,
            diff: Some("{}"),
            digest: Some("ab"),
        };
        let base = hash(1, "", &content);
        assert_eq!(base, hash(1, "", &content));
        assert_ne!(base, hash(2, "", &content));
        assert_ne!(base, hash(1, "x", &content));
        // Text moved from one field to its neighbour.
        let moved = Content {
            kind: "documentsD",
            key: "1",
            ..content
        };
        assert_ne!(base, hash(1, "", &moved));
        // Absent is not empty.
        let empty = Content {
            before: Some(""),
            ..content
        };
        assert_ne!(base, hash(1, "", &empty));
    }
}
