//! `iso20k backup` and `iso20k restore`: one organisation, whole, to a file and back, on the
//! same engine or the other one. The file is gzip-compressed JSON Lines, one
//! [`iso20k_store::backup::Item`] per line.

use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::process::ExitCode;

use anyhow::Context as _;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use iso20k_store::Store as _;
use iso20k_store::backup::Item;

use crate::cli::{BackupArgs, RestoreArgs};
use crate::server::{open, org, runtime};

pub fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let parent = match args.output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => ".".into(),
    };
    // Written beside the target and renamed into place once whole: a backup that fails
    // half-way leaves nothing that looks like a backup.
    let temp = tempfile::NamedTempFile::new_in(&parent)
        .with_context(|| format!("cannot write into {}", parent.display()))?;
    let counts = runtime()?.block_on(async {
        let store = open(args.db).await?;
        let org = org(&store, &args.org).await?;
        let mut out = GzEncoder::new(BufWriter::new(temp.as_file()), Compression::default());
        let counts = store
            .backup(org.id, &mut |item: Item| {
                serde_json::to_writer(&mut out, &item)?;
                out.write_all(b"\n")
            })
            .await?;
        out.finish()?.flush()?;
        anyhow::Ok((org, counts))
    })?;
    temp.persist(&args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let (org, counts) = counts;
    let size = std::fs::metadata(&args.output).map_or(0, |m| m.len());
    writeln!(
        anstream::stdout(),
        "Backed up `{}` to {} ({:.1} MB): {} records, {} audit trail entries, {} evidence \
         files, {} members.",
        org.slug,
        args.output.display(),
        size as f64 / 1e6,
        counts.records,
        counts.changes,
        counts.evidence,
        counts.users
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    if let Some(slug) = &args.as_slug {
        iso20k_server::check_slug(slug).map_err(|m| anyhow::anyhow!("--as: {m}"))?;
    }
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let name = args.file.display().to_string();
    let mut lines = BufReader::new(GzDecoder::new(file)).lines().enumerate();
    let mut items = std::iter::from_fn(move || {
        let (i, line) = lines.next()?;
        Some(
            line.map_err(|e| {
                format!(
                    "{name} line {}: {e} (is it a backup from iso20k backup?)",
                    i + 1
                )
            })
            .and_then(|line| {
                serde_json::from_str::<Item>(&line)
                    .map_err(|e| format!("{name} line {}: {e}", i + 1))
            }),
        )
    });
    runtime()?.block_on(async {
        let store = open(args.db).await?;
        let restored = store
            .restore(&mut items, args.as_slug.as_deref())
            .await
            .with_context(|| format!("nothing was restored from {}", args.file.display()))?;
        let check = store.verify_trail(restored.org.id).await?;
        let mut out = anstream::stdout();
        let c = restored.counts;
        writeln!(
            out,
            "Restored `{}` from {}: {} records, {} audit trail entries, {} evidence files, {} \
             members.",
            restored.org.slug,
            args.file.display(),
            c.records,
            c.changes,
            c.evidence,
            c.users
        )?;
        for email in &restored.existing_users {
            writeln!(
                out,
                "{email} already had an account here: kept as it was, password included."
            )?;
        }
        match check.broken {
            None => {
                writeln!(
                    out,
                    "Its audit trail verifies: {} entries, head {}.",
                    check.entries,
                    if check.head.is_empty() {
                        "(empty)"
                    } else {
                        &check.head
                    }
                )?;
                Ok(ExitCode::SUCCESS)
            }
            Some(broken) => {
                writeln!(
                    out,
                    "Its audit trail does NOT verify after entry {}: {}. The backup was taken \
                     from a trail that was already broken; `iso20k verify` names the same.",
                    check.entries, broken.reason
                )?;
                Ok(ExitCode::from(1))
            }
        }
    })
}
