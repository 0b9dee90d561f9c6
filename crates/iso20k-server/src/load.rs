//! Moving whole bundles between folders and the store: `iso20k import-bundle`, the export back
//! to a folder, and the model the readiness report is computed from.

use std::path::{Path, PathBuf};

use anyhow::Context;
use futures::StreamExt;
use iso20k_bundle::Bundle;
use iso20k_bundle::records::{KINDS, Kind};
use iso20k_store::{ApplySummary, Org, Store, Write};

/// How many bodies go to the parser at a time: big enough to keep it busy, small enough that a
/// million incidents never sit in memory twice.
const CHUNK: usize = 4096;

/// Every record of `org` of the kinds `wanted` accepts, as a bundle. Records are parsed off the
/// async runtime while the next ones stream from the database.
pub async fn bundle_of(
    store: &dyn Store,
    org: &Org,
    wanted: impl Fn(&Kind) -> bool,
) -> anyhow::Result<Bundle> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(&'static Kind, Vec<String>)>(4);
    let parser = tokio::task::spawn_blocking(move || {
        let mut bundle = Bundle::default();
        while let Some((kind, bodies)) = rx.blocking_recv() {
            for body in bodies {
                bundle.push(kind, &body)?;
            }
        }
        anyhow::Ok(bundle)
    });
    'kinds: for kind in KINDS.iter().filter(|k| wanted(k)) {
        let mut bodies = store.bodies(org.id, kind.name);
        let mut chunk = Vec::with_capacity(CHUNK);
        while let Some(body) = bodies.next().await {
            chunk.push(body?);
            if chunk.len() == CHUNK
                && tx
                    .send((
                        kind,
                        std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)),
                    ))
                    .await
                    .is_err()
            {
                // The parser stopped at a bad record: its error says which.
                break 'kinds;
            }
        }
        if !chunk.is_empty() && tx.send((kind, chunk)).await.is_err() {
            break;
        }
    }
    drop(tx);
    parser
        .await
        .context("the record parser failed")?
        .context("a stored record no longer reads")
}

/// Every record of `org`, as a bundle; an organisation with no `organisation` record gets one
/// with its name, so the bundle is complete.
pub async fn export(store: &dyn Store, org: &Org) -> anyhow::Result<Bundle> {
    let mut bundle = bundle_of(store, org, |_| true).await?;
    if bundle.organisation.is_none() {
        let kind = iso20k_bundle::records::kind("organisation").expect("a kind of its own");
        bundle.push(kind, &serde_json::json!({ "name": org.name }).to_string())?;
    }
    Ok(bundle)
}

/// Writes the records of `org` into the new folder `dir`.
pub async fn export_to(store: &dyn Store, org: &Org, dir: &Path) -> anyhow::Result<()> {
    let bundle = export(store, org).await?;
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || bundle.write(&dir).map_err(anyhow::Error::from))
        .await
        .context("the bundle writer failed")??;
    Ok(())
}

/// Imports a bundle into `org` in one transaction. The bundle replaces every kind of record
/// whose file it holds (records it no longer has are deleted); kinds whose file it lacks are
/// left as they are, so a bundle without ticket tables keeps the tickets imported separately.
pub async fn import(
    store: &dyn Store,
    org: &Org,
    bundle: &Bundle,
    actor: &str,
) -> anyhow::Result<ApplySummary> {
    let writes: Vec<Write> = bundle
        .records()
        .into_iter()
        .map(|r| Write {
            kind: r.kind.name.to_owned(),
            key: r.key,
            body: r.body,
        })
        .collect();
    let replace: Vec<String> = KINDS
        .iter()
        .filter(|k| bundle.files.contains(&k.file))
        .map(|k| k.name.to_owned())
        .collect();
    Ok(store.apply(org.id, actor, writes, &replace).await?)
}

/// Told the bytes of a file read so far and its size, as the import goes.
pub type Progress = Box<dyn FnMut(&Path, u64, u64) + Send>;

/// Merges ticket exports into the tickets of `org` with the importers of `iso20k import`, and
/// stores the tables that changed in one transaction. The outer error is the server's; the
/// inner one is the exports' (unreadable, unrecognised, a bad value), for the caller to report
/// as bad input. Nothing is stored unless every file imports.
pub async fn import_tickets(
    store: &dyn Store,
    org: &Org,
    files: Vec<PathBuf>,
    options: iso20k_import::Options,
    actor: &str,
    mut progress: Progress,
) -> anyhow::Result<Result<iso20k_import::Summary, Box<iso20k_bundle::Error>>> {
    // The importer merges into what the organisation holds, as it merges into a bundle.
    let current = bundle_of(store, org, |k| k.ticket).await?;
    let merged = tokio::task::spawn_blocking(move || {
        let mut bundle = current;
        iso20k_import::merge_into(&mut bundle.tickets, &files, &options, &mut *progress)
            .map(|summary| (summary, bundle))
            .map_err(Box::new)
    })
    .await
    .context("the importer failed")?;
    let (summary, bundle) = match merged {
        Ok(merged) => merged,
        Err(e) => return Ok(Err(e)),
    };
    let changed: Vec<&str> = summary
        .tables
        .iter()
        .filter(|(_, c)| c.added + c.updated > 0)
        .map(|(k, _)| k.as_str())
        .collect();
    if !changed.is_empty() {
        let writes = bundle
            .records()
            .into_iter()
            .filter(|r| changed.contains(&r.kind.name))
            .map(|r| Write {
                kind: r.kind.name.to_owned(),
                key: r.key,
                body: r.body,
            })
            .collect();
        store.apply(org.id, actor, writes, &[]).await?;
    }
    Ok(Ok(summary))
}
