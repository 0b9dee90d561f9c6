//! `iso20k report`: the audit in the formats other people and tools read, written to a file
//! whole or not at all.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::ReportArgs;

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let (sms, report) = crate::audit(
        args.dir.as_deref(),
        args.org.as_deref(),
        args.database.clone(),
        args.edition,
        args.as_of,
    )?;
    let bundle = args
        .dir
        .as_deref()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    let deadlines = iso20k_report::Deadlines {
        days: args.deadlines,
    };
    let format = iso20k_report::Format::named(&args.format.name()).expect("every format is known");
    let bytes = format
        .render(&report, &sms, &deadlines, &bundle)
        .map_err(anyhow::Error::msg)?;
    write(&args.output, &bytes)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to `path` through a temporary file beside it, so a reader never sees half a
/// report and a failed run leaves an earlier one as it was.
fn write(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    if path.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        out.flush()?;
        return Ok(());
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    file.write_all(bytes)?;
    // A temporary file is private to its owner; a report is for sharing, as any file written.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum as _;

    #[test]
    fn every_format_of_the_command_line_is_one_the_report_crate_writes() {
        for f in crate::cli::ReportFormat::value_variants() {
            assert!(
                iso20k_report::Format::named(&f.name()).is_some(),
                "{}",
                f.name()
            );
        }
        assert_eq!(
            crate::cli::ReportFormat::value_variants().len(),
            iso20k_report::Format::ALL.len()
        );
    }
}
