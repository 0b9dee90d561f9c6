//! `iso20k report`: the audit in the formats other people and tools read, written to a file
//! whole or not at all.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{ReportArgs, ReportFormat};

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    // Refused before the audit, which can take a while on a large bundle.
    #[cfg(not(feature = "pdf"))]
    if matches!(args.format, ReportFormat::Pdf) {
        anyhow::bail!(
            "this iso20k was built without PDF support: build it with the `pdf` feature (on by default)"
        );
    }
    let (sms, mut report) = crate::audit(
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
    report.replan(&sms, &deadlines);
    // The PDF has a crate of its own, behind the `pdf` feature, because typst takes minutes to
    // build; every other format is the report crate's.
    let bytes = match args.format {
        #[cfg(feature = "pdf")]
        ReportFormat::Pdf => iso20k_pdf::render(&report, &sms, &deadlines),
        other => iso20k_report::Format::named(&other.name())
            .expect("every format but pdf is the report crate's, and pdf was refused above")
            .render(&report, &sms, &deadlines, &bundle),
    }
    .map_err(anyhow::Error::msg)?;
    write(&args.output, &bytes)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to `path` through a temporary file beside it, so a reader never sees half a
/// report and a failed run leaves an earlier one as it was.
pub(crate) fn write(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
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
        use crate::cli::ReportFormat;
        // The PDF is iso20k-pdf's, not the report crate's.
        let formats: Vec<_> = ReportFormat::value_variants()
            .iter()
            .filter(|f| !matches!(f, ReportFormat::Pdf))
            .collect();
        for f in &formats {
            assert!(
                iso20k_report::Format::named(&f.name()).is_some(),
                "{}",
                f.name()
            );
        }
        assert_eq!(formats.len(), iso20k_report::Format::ALL.len());
    }
}
