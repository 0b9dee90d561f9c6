//! `iso20k`: find the ISO/IEC 20000-1 audit failures in an IT service provider's records before
//! the certification auditor does.
//!
//! This binary is glue: it parses arguments, reads the bundle, runs the core and prints what
//! the report crate renders. Exit codes: 0 when nothing reaches `--fail-on`, 1 when something
//! does, 2 for usage or input errors.

mod audit;
mod backup;
mod checklist;
mod clauses;
mod cli;
mod import;
mod import_checklist;
mod import_plan;
mod kb;
mod nonconformity;
mod report;
mod server;

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;

use cli::{Cli, Command, Format};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`iso20k kb list | head`) is not an error worth reporting.
            if err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let mut stderr = anstream::stderr();
            let red = anstyle::AnsiColor::Red.on_default().bold();
            match err.downcast_ref::<iso20k_bundle::Errors>() {
                Some(errors) => {
                    for e in &errors.0 {
                        let _ = writeln!(stderr, "{red}error:{red:#} {e}");
                    }
                    let n = errors.0.len();
                    let _ = writeln!(
                        stderr,
                        "{n} problem{} in the bundle; nothing was checked",
                        if n == 1 { "" } else { "s" }
                    );
                }
                None => {
                    let _ = writeln!(stderr, "{red}error:{red:#} {err:#}");
                }
            }
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Init { dir } => {
            let written = iso20k_bundle::init(&dir)?;
            let mut out = anstream::stdout();
            writeln!(
                out,
                "Created {} with {} files. Next:",
                dir.display(),
                written.len()
            )?;
            writeln!(
                out,
                "  1. Fill in organisation.yaml, people.csv and documents.csv with your own records."
            )?;
            writeln!(
                out,
                "  2. Run `iso20k check {}` to see what an auditor would find.",
                dir.display()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(args) => import::run(args),
        Command::Report(args) => report::run(args),
        Command::Metrics(args) => {
            // Only the ticket tables and the organisation's major-priority setting are needed.
            let sms = iso20k_bundle::read(&args.dir)?;
            let period = iso20k_core::metrics::Period {
                from: args.from,
                to: args.to,
            };
            let major = sms.organisation.major_priority.unwrap_or(1);
            let m = iso20k_core::metrics::compute(&sms.tickets, period, major);
            let text = match args.format {
                Format::Json => iso20k_report::metrics::json(&m),
                Format::Text => iso20k_report::metrics::text(&m),
            };
            anstream::stdout().write_all(text.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Kb(kb) => kb::run(kb),
        Command::Clauses(args) => clauses::run(args),
        Command::Checklist(args) => checklist::run(args),
        Command::Sample(args) => audit::sample(args),
        Command::Diff(args) => audit::diff(args),
        Command::AuditReport(args) => audit::report(args),
        Command::ImportChecklist(args) => import_checklist::run(args),
        Command::ImportPlan(args) => import_plan::run(args),
        Command::Demo(args) => server::demo(args),
        Command::Serve(args) => server::serve(args),
        Command::ImportBundle(args) => server::import_bundle(args),
        Command::ExportBundle(args) => server::export_bundle(args),
        Command::Verify(args) => server::verify(args),
        Command::Nonconformity(cli::NonconformityCommand::Close(args)) => {
            nonconformity::close(args)
        }
        Command::Backup(args) => backup::backup(args),
        Command::Restore(args) => backup::restore(args),
        Command::Digest(args) => server::digest(args),
        Command::User(cli::UserCommand::Add(args)) => server::user_add(args),
        Command::User(cli::UserCommand::Link(args)) => server::user_link(args),
        Command::Token(cli::TokenCommand::Create(args)) => server::token_create(args),
        Command::Schema { out } => {
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            for (file, schema) in iso20k_bundle::schema::all() {
                let path = out.join(iso20k_bundle::schema::file_name(file));
                let text = serde_json::to_string_pretty(&schema)? + "\n";
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Today in the local time zone: the default `--as-of`.
fn today() -> iso20k_core::Date {
    jiff::ZonedDateTime::now().date()
}

/// The day to judge as of: the one asked for, else the day a snapshot of records declares,
/// else today.
fn default_day(
    sms: &iso20k_core::model::Sms,
    asked: Option<iso20k_core::Date>,
) -> iso20k_core::Date {
    asked
        .or(sms.organisation.records_as_of)
        .unwrap_or_else(today)
}

/// The records of a folder or of an organisation on the database, audited.
fn audit(
    dir: Option<&std::path::Path>,
    org: Option<&str>,
    database: Option<String>,
    edition: Option<cli::EditionArg>,
    as_of: Option<iso20k_core::Date>,
) -> anyhow::Result<(iso20k_core::model::Sms, iso20k_core::audit::Report)> {
    let sms = match (org, dir) {
        (Some(org), _) => server::load_sms(org, database)?,
        (None, Some(dir)) => iso20k_bundle::read(dir)?,
        (None, None) => anyhow::bail!("name a bundle folder, or an organisation with --org"),
    };
    let edition = edition.map(Into::into).unwrap_or_else(|| sms.edition());
    let as_of = default_day(&sms, as_of);
    let report = iso20k_core::audit::audit(&sms, iso20k_core::audit::Options { edition, as_of });
    Ok((sms, report))
}

fn check(args: cli::CheckArgs) -> anyhow::Result<ExitCode> {
    let (_, report) = audit(
        args.dir.as_deref(),
        args.org.as_deref(),
        args.database.clone(),
        args.edition,
        args.as_of,
    )?;
    let rendered = match args.format {
        Format::Text => iso20k_report::text::render(&report),
        Format::Json => iso20k_report::json::render(&report),
    };
    let mut out = anstream::stdout();
    out.write_all(rendered.as_bytes())?;
    out.flush()?;
    let failed = args
        .fail_on
        .threshold()
        .is_some_and(|t| report.findings.iter().any(|f| f.grade >= t));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
