//! The command line, as clap definitions. Values are validated into core types here, so the
//! commands receive only well-formed input.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use iso20k_core::kb::Grade;
use iso20k_core::{Date, Edition};

/// Find the ISO/IEC 20000-1 audit failures in your service management records before the
/// certification auditor does.
#[derive(Parser)]
#[command(name = "iso20k", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check a bundle of records and report what an auditor would find
    Check(CheckArgs),
    /// Write a starting bundle, with a commented example in every file
    Init {
        /// Folder to create (must not exist, or be empty)
        dir: PathBuf,
    },
    /// Import ticket exports (ServiceNow, Jira, GLPI, iTop, CSV/XLSX) into a bundle's ticket tables
    Import(ImportArgs),
    /// Service-report figures from the ticket tables: SLA attainment, resolution times, changes
    Metrics(MetricsArgs),
    /// Browse the knowledge base of audit-failure patterns
    #[command(subcommand)]
    Kb(KbCommand),
    /// List the clauses of an edition, or map a clause to the other edition
    Clauses(ClausesArgs),
    /// List the checklist questions no record can answer, and what is answered so far
    Checklist(ChecklistArgs),
    /// Write the JSON Schemas of the bundle files (for editors and for `schema/`)
    #[command(hide = true)]
    Schema {
        /// Folder to write the schemas into
        #[arg(long, default_value = "schema")]
        out: PathBuf,
    },
}

#[derive(Args)]
pub struct ImportArgs {
    /// The bundle folder to import into
    pub dir: PathBuf,
    /// Export files: .csv, .tsv, .txt, .csv.gz, .xlsx, .xlsm, .xls, .ods, or Table API .json
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The tool that wrote the exports [default: recognised from the header row]
    #[arg(long, value_parser = parse_source)]
    pub from: Option<iso20k_import::Source>,
    /// The kind of ticket [default: recognised; for mixed exports, only rows of this kind]
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<iso20k_import::Kind>,
    /// A mapping file naming the columns of an export iso20k has no profile for
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
}

fn parse_source(s: &str) -> Result<iso20k_import::Source, String> {
    s.parse()
}

fn parse_kind(s: &str) -> Result<iso20k_import::Kind, String> {
    s.parse()
}

#[derive(Args)]
pub struct MetricsArgs {
    /// The bundle folder
    pub dir: PathBuf,
    /// Count tickets opened (changes: implemented) on or after this day
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub from: Option<Date>,
    /// Count tickets opened (changes: implemented) on or before this day
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub to: Option<Date>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Args)]
pub struct CheckArgs {
    /// The bundle folder
    pub dir: PathBuf,
    /// Edition to audit against [default: the bundle's, else 2018]
    #[arg(long, value_enum)]
    pub edition: Option<EditionArg>,
    /// Judge the records as of this day (YYYY-MM-DD) [default: today]
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit with 1 when a finding of this grade or worse is found
    #[arg(long, value_enum, default_value_t = FailOn::Major)]
    pub fail_on: FailOn,
}

#[derive(Subcommand)]
pub enum KbCommand {
    /// List the patterns
    List {
        /// Only patterns keyed to this edition, shown with its clauses
        #[arg(long, value_enum)]
        edition: Option<EditionArg>,
        /// Only patterns under this clause (e.g. 9.3, or 8.5 for everything below it)
        #[arg(long)]
        clause: Option<String>,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Show one pattern in full
    Show {
        /// Pattern id, e.g. F-035
        id: String,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Find patterns by words in any of their fields
    Search {
        /// Words to look for (all must appear)
        #[arg(required = true)]
        words: Vec<String>,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ClausesArgs {
    #[command(subcommand)]
    pub map: Option<ClausesCommand>,
    /// Edition to list
    #[arg(long, value_enum, default_value_t = EditionArg::Y2018)]
    pub edition: EditionArg,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Subcommand)]
pub enum ClausesCommand {
    /// The clauses of the other edition that carry a clause's content
    Map {
        /// Clause number, e.g. 4.5.4.3 (2011) or 9.3 (2018)
        clause: String,
        /// The edition the clause number belongs to [default: whichever has it; both if both do]
        #[arg(long, value_enum)]
        from: Option<EditionArg>,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Args)]
pub struct ChecklistArgs {
    /// The bundle folder
    pub dir: PathBuf,
    /// Edition whose questions to list [default: the bundle's, else 2018]
    #[arg(long, value_enum)]
    pub edition: Option<EditionArg>,
    /// Count answers given on or before this day (YYYY-MM-DD) [default: today]
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// Also list the questions already answered
    #[arg(long)]
    pub all: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum EditionArg {
    #[value(name = "2018")]
    Y2018,
    #[value(name = "2011")]
    Y2011,
}

impl From<EditionArg> for Edition {
    fn from(e: EditionArg) -> Self {
        match e {
            EditionArg::Y2018 => Edition::Y2018,
            EditionArg::Y2011 => Edition::Y2011,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FailOn {
    Major,
    Minor,
    Observation,
    Never,
}

impl FailOn {
    /// The lowest grade that fails the run, if any does.
    pub fn threshold(self) -> Option<Grade> {
        match self {
            FailOn::Major => Some(Grade::Major),
            FailOn::Minor => Some(Grade::Minor),
            FailOn::Observation => Some(Grade::Observation),
            FailOn::Never => None,
        }
    }
}

fn parse_date(s: &str) -> Result<Date, String> {
    let bad = || format!("`{s}` is not a date; expected YYYY-MM-DD");
    if s.len() != 10 {
        return Err(bad());
    }
    s.parse().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn as_of_must_be_a_plain_date() {
        assert!(parse_date("2026-06-30").is_ok());
        assert!(parse_date("2026-6-30").is_err());
        assert!(parse_date("2026-02-30").is_err());
    }
}
