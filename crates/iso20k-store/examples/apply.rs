//! Times `Store::apply` on a bulk import, as the server's import of a large bundle runs it.
//!
//! `cargo run --release -p iso20k-store --example apply -- [INCIDENTS] [URL]`
//!
//! Without a URL it uses a fresh SQLite file in a temporary folder. Each step prints its time:
//! the first import, the same import again (everything unchanged), an import that changes every
//! record, and streaming the bodies back.

use std::time::Instant;

use futures::TryStreamExt;
use iso20k_store::{Store, Write, open};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(1_000_000), |n| n.parse())?;
    let folder = tempfile::tempdir()?;
    let url = args
        .next()
        .unwrap_or_else(|| format!("sqlite://{}", folder.path().join("store.db").display()));
    let store = open(&url).await?;
    let slug = format!("bench-{}", std::process::id());
    let org = store.create_org(&slug, "Benchmark").await?;

    let writes = |reopened: bool| -> Vec<Write> {
        (0..n)
            .map(|i| Write {
                kind: "incidents".into(),
                key: format!("INC{i:08}"),
                body: format!(
                    "{{\"id\":\"INC{i:08}\",\"opened\":\"2026-03-{:02}T09:{:02}:00Z\",\
                     \"resolved\":\"2026-03-{:02}T17:{:02}:00Z\",\"priority\":\"P{}\",\
                     \"service\":\"svc-{}\",\"category\":\"network\",\"assignee\":\"team-{}\",\
                     \"sla_met\":{},\"reopened\":{reopened},\"summary\":\"User cannot reach the VPN \
                     gateway from site {}\"}}",
                    i % 28 + 1,
                    i % 60,
                    i % 28 + 1,
                    (i * 7) % 60,
                    i % 4 + 1,
                    i % 40,
                    i % 12,
                    i % 9 != 0,
                    i % 100,
                    reopened = reopened,
                ),
            })
            .collect()
    };
    let bytes: usize = writes(false).iter().map(|w| w.body.len()).sum();
    println!(
        "{n} incidents, {} bytes of JSON on average, on {:?}",
        bytes / n.max(1),
        store.engine()
    );

    let replace = ["incidents".to_owned()];
    let steps = [
        ("first import", false),
        ("same import again", false),
        ("every body changed", true),
    ];
    for (step, reopened) in steps {
        let batch = writes(reopened);
        let started = Instant::now();
        let summary = store.apply(org.id, "bench", batch, &replace).await?;
        let seconds = started.elapsed().as_secs_f64();
        println!("{step}: {seconds:.1} s, {summary:?}");
    }

    let started = Instant::now();
    let streamed = store
        .bodies(org.id, "incidents")
        .try_fold(0usize, |count, _| async move { Ok(count + 1) })
        .await?;
    println!(
        "streamed {streamed} bodies: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
