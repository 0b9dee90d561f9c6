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
    /// Write the report in a format others read: HTML, Excel, Markdown, OSCAL, JUnit, SARIF, CSV
    Report(ReportArgs),
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
    /// Record the checklist answers filled into a gap-analysis workbook (`report --format xlsx`)
    /// in a bundle's checklist.yaml
    ImportChecklist(ImportChecklistArgs),
    /// Record the action plan edited in a workbook's `Action plan` sheet (`report --format
    /// xlsx`) in a bundle's plan.yaml, all or nothing
    ImportPlan(ImportPlanArgs),
    /// Draw an audit sample from a bundle's records: a kind, a period and filters, its size
    /// from a confidence and a tolerable deviation rate (or given), reproducible by its seed
    Sample(SampleArgs),
    /// Compare the same records judged on two days: findings new, resolved and recurring, and
    /// each clause's score then and now
    Diff(DiffArgs),
    /// Write one audit's report (objectives, scope, criteria, team, method, samples, findings
    /// with evidence, conclusion) as HTML or PDF
    AuditReport(AuditReportArgs),
    /// Serve the demo organisation: load examples/demo into a demo database, create a demo
    /// user, print the readiness summary, the URL and the credentials, and serve
    Demo(DemoArgs),
    /// Run the team server: a JSON API over the database, with accounts and roles
    Serve(ServeArgs),
    /// Import a bundle folder into an organisation on the server's database (created if needed)
    ImportBundle(ImportBundleArgs),
    /// Export an organisation from the server's database into a new bundle folder
    ExportBundle(ExportBundleArgs),
    /// Prove an organisation's audit trail on the server's database: every entry chained to
    /// the one before, and the records as its last changes left them
    Verify(VerifyArgs),
    /// Work on an organisation's nonconformities on the server's database
    #[command(subcommand)]
    Nonconformity(NonconformityCommand),
    /// Back an organisation up into one file: records, evidence, history and audit trail,
    /// members and their roles (taken from one snapshot: the server may keep running)
    Backup(BackupArgs),
    /// Restore a backup as a new organisation, on this database or another engine's
    Restore(RestoreArgs),
    /// Send an organisation's daily digest e-mails now (those not sent today already), and
    /// say what was sent; `serve --smtp` sends them every day by itself
    Digest(DigestArgs),
    /// Manage the server's user accounts
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens for scripts
    #[command(subcommand)]
    Token(TokenCommand),
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
    /// The bundle folder to import into (with --org, the first export file)
    pub dir: PathBuf,
    /// Export files: .csv, .tsv, .txt, .csv.gz, .xlsx, .xlsm, .xls, .ods, or Table API .json
    #[arg(required_unless_present = "org")]
    pub files: Vec<PathBuf>,
    /// Import into this organisation on the server's database instead of a folder
    #[arg(long)]
    pub org: Option<String>,
    /// The database, with --org: a `sqlite://FILE` or `postgres://…` URL [default: iso20k.db in
    /// the data directory]
    #[arg(
        long,
        env = "ISO20K_DATABASE_URL",
        value_name = "URL",
        requires = "org"
    )]
    pub database: Option<String>,
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

/// Where the server's database is.
#[derive(Args, Clone)]
pub struct DatabaseArg {
    /// The database: a `sqlite://FILE` or `postgres://…` URL [default: iso20k.db in the data
    /// directory]
    #[arg(long, env = "ISO20K_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DatabaseArg,
    /// The address to listen on
    #[arg(long, default_value = "127.0.0.1:8020", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// Mark session cookies Secure even without `X-Forwarded-Proto: https` (behind a TLS proxy
    /// that does not send it)
    #[arg(long)]
    pub secure_cookies: bool,
    /// A proxy you run is in front: count failed logins by the client address it appends to
    /// X-Forwarded-For, not by the proxy's own address
    #[arg(long)]
    pub behind_proxy: bool,
    /// The largest evidence file or ticket export accepted, in MiB
    #[arg(long, default_value_t = 25, value_name = "MIB")]
    pub max_upload_mib: usize,
    /// Stop a request that has run this long and answer 408 (nothing it would have changed is
    /// saved)
    #[arg(long, default_value_t = 60, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout: u64,
    /// How the log on stderr is written: `text` for people, `json` (one object per line) for a
    /// log collector. ISO20K_LOG sets the level (default info)
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "ISO20K_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// Single sign-on: the OpenID Connect provider's issuer URL (discovery is read from
    /// URL/.well-known/openid-configuration). The client secret, if any, comes from
    /// ISO20K_OIDC_CLIENT_SECRET; register BASE/sso/callback as the redirect URI
    #[arg(
        long,
        value_name = "URL",
        requires = "oidc_client_id",
        help_heading = "Single sign-on"
    )]
    pub oidc_issuer: Option<String>,
    /// The client id iso20k is registered under at the provider
    #[arg(
        long,
        value_name = "ID",
        requires = "oidc_issuer",
        help_heading = "Single sign-on"
    )]
    pub oidc_client_id: Option<String>,
    /// The ID token claim holding group or role values, repeatable; dots reach into nested
    /// claims (realm_access.roles) [default: groups and roles]
    #[arg(long, value_name = "NAME", help_heading = "Single sign-on")]
    pub oidc_role_claim: Vec<String>,
    /// Map a claim value to a role in an organisation, repeatable: VALUE=ORG:ROLE, e.g.
    /// iso20k-acme-admins=acme:admin. On every sign-in the roles in the organisations named
    /// here are set from the claim (the best one wins; none: the role is withdrawn)
    #[arg(long, value_name = "VALUE=ORG:ROLE", value_parser = parse_role_rule, help_heading = "Single sign-on")]
    pub oidc_role: Vec<iso20k_server::sso::RoleRule>,
    /// Extra scopes to ask for besides openid, email and profile, repeatable (Okta: groups)
    #[arg(long, value_name = "SCOPE", help_heading = "Single sign-on")]
    pub oidc_scope: Vec<String>,
    /// Accept an e-mail the ID token does not mark verified (no email_verified claim), for
    /// providers that never send one; only if the provider controls every address it issues
    #[arg(long, help_heading = "Single sign-on")]
    pub oidc_trust_unverified_email: bool,
    /// The server's address as browsers reach it (https://iso20k.example.com), for the links in
    /// calendar feeds and reminder e-mails and the sign-in redirect URIs [default: from each
    /// request's Host header and X-Forwarded-Proto; e-mails: http://LISTEN]
    #[arg(long, value_name = "URL", env = "ISO20K_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Hide the password form and refuse password sign-in, except for --break-glass accounts
    #[arg(long, requires = "oidc_issuer", help_heading = "Single sign-on")]
    pub sso_only: bool,
    /// With --sso-only: an account (e-mail) that may still sign in with its password, for when
    /// the provider is down; repeatable. Keep it to one or two administrators
    #[arg(
        long,
        value_name = "EMAIL",
        requires = "sso_only",
        help_heading = "Single sign-on"
    )]
    pub break_glass: Vec<String>,
    #[command(flatten)]
    pub smtp: SmtpArgs,
    /// The hour (0-23, this machine's local time) at which the daily digest e-mails go out
    #[arg(
        long,
        default_value_t = 7,
        value_name = "HOUR",
        value_parser = clap::value_parser!(i8).range(0..=23),
        help_heading = "Reminders"
    )]
    pub digest_hour: i8,
}

/// Where the reminder e-mails go out through.
#[derive(Args, Clone)]
pub struct SmtpArgs {
    /// Send the daily digest e-mails through this SMTP server: smtp://[USER:PASSWORD@]HOST[:PORT]
    /// (STARTTLS when the server offers it; add ?tls=required to insist on it) or smtps://…
    /// (TLS from the start) [default: no e-mail]
    #[arg(
        long,
        env = "ISO20K_SMTP_URL",
        hide_env_values = true,
        value_name = "URL",
        requires = "smtp_from",
        help_heading = "Reminders"
    )]
    pub smtp: Option<String>,
    /// The sender of the reminder e-mails: ADDRESS or "NAME <ADDRESS>"
    #[arg(
        long,
        env = "ISO20K_SMTP_FROM",
        value_name = "ADDRESS",
        help_heading = "Reminders"
    )]
    pub smtp_from: Option<String>,
}

#[derive(Args)]
pub struct DigestArgs {
    /// The organisation's slug
    #[arg(long)]
    pub org: String,
    #[command(flatten)]
    pub smtp: SmtpArgs,
    /// The server's address as browsers reach it, for the links in the e-mails
    #[arg(
        long,
        value_name = "URL",
        env = "ISO20K_PUBLIC_URL",
        default_value = "http://127.0.0.1:8020"
    )]
    pub public_url: String,
    /// Judge the work as of this day (YYYY-MM-DD) [default: the organisation's records_as_of,
    /// else today, as on My work]
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<Date>,
    #[command(flatten)]
    pub db: DatabaseArg,
}

fn parse_role_rule(s: &str) -> Result<iso20k_server::sso::RoleRule, String> {
    s.parse()
}

/// How the server's log is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Args)]
pub struct DemoArgs {
    /// The demo database [default: demo.db in the data directory]
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// The address to listen on
    #[arg(long, default_value = "127.0.0.1:8020", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// Judge the demo records as of this day (YYYY-MM-DD) in the printed summary [default:
    /// 2026-06-30, the day the demo data describes]
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// Set everything up and print the summary, but do not serve
    #[arg(long)]
    pub no_serve: bool,
}

#[derive(Args)]
pub struct ImportBundleArgs {
    /// The bundle folder
    pub dir: PathBuf,
    /// The organisation's slug (lower-case letters, digits, dashes)
    #[arg(long)]
    pub org: String,
    #[command(flatten)]
    pub db: DatabaseArg,
}

#[derive(Args)]
pub struct BackupArgs {
    /// The organisation's slug
    #[arg(long)]
    pub org: String,
    /// The file to write (gzip-compressed JSON Lines), e.g. acme-2026-12-03.iso20k.gz
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub db: DatabaseArg,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A file written by `iso20k backup`
    pub file: PathBuf,
    /// Restore under this slug instead of the backup's own (which must not exist yet)
    #[arg(long = "as", value_name = "SLUG")]
    pub as_slug: Option<String>,
    #[command(flatten)]
    pub db: DatabaseArg,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The organisation's slug
    #[arg(long)]
    pub org: String,
    #[command(flatten)]
    pub db: DatabaseArg,
}

#[derive(Subcommand)]
pub enum NonconformityCommand {
    /// Close a nonconformity, if its loop allows: a root cause, every corrective action
    /// implemented, and an effectiveness check that found they worked (an observation closes
    /// at any time). Exits 2 with the reasons when it may not be closed yet
    Close(NcCloseArgs),
}

#[derive(Args)]
pub struct NcCloseArgs {
    /// The organisation's slug
    #[arg(long)]
    pub org: String,
    /// The nonconformity's id, e.g. NC-2026-03
    pub id: String,
    /// The day it is closed [default: today]
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub on: Option<Date>,
    #[command(flatten)]
    pub db: DatabaseArg,
}

#[derive(Args)]
pub struct ExportBundleArgs {
    /// The folder to create (must not exist, or be empty)
    pub dir: PathBuf,
    /// The organisation's slug
    #[arg(long)]
    pub org: String,
    #[command(flatten)]
    pub db: DatabaseArg,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user to an organisation with a role (creating the account, and the organisation,
    /// if needed); the first admin is made this way
    Add(UserAddArgs),
    /// Link an existing member's account to the person they are in the organisation's people
    /// register, so My work, the digest and the calendar know what is theirs
    Link(UserLinkArgs),
}

#[derive(Args)]
pub struct UserLinkArgs {
    /// The member's email
    pub email: String,
    /// The organisation's slug
    #[arg(long)]
    pub org: String,
    /// The person's id in the organisation's people register (people.csv)
    #[arg(long, value_name = "PERSON_ID")]
    pub person: String,
    #[command(flatten)]
    pub db: DatabaseArg,
}

#[derive(Args)]
pub struct UserAddArgs {
    /// The user's email
    pub email: String,
    /// The organisation's slug
    #[arg(long)]
    pub org: String,
    /// The role in the organisation
    #[arg(long, value_parser = ["admin", "manager", "auditor", "viewer"])]
    pub role: String,
    /// The user's name
    #[arg(long)]
    pub name: Option<String>,
    /// Make the access external: read-only, ending at this time (RFC 3339, e.g.
    /// 2026-12-31T23:59:59Z)
    #[arg(long, value_name = "TIME")]
    pub expires: Option<String>,
    /// Read the password from standard input [default: a new account gets a generated one,
    /// printed once]
    #[arg(long)]
    pub password_stdin: bool,
    /// Link the account to this person of the organisation's people register (people.csv)
    #[arg(long, value_name = "PERSON_ID")]
    pub person: Option<String>,
    #[command(flatten)]
    pub db: DatabaseArg,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user and print it (once)
    Create(TokenCreateArgs),
}

#[derive(Args)]
pub struct TokenCreateArgs {
    /// The user's email
    pub email: String,
    /// What the token is for
    #[arg(long, default_value = "command line")]
    pub name: String,
    /// When the token stops working (RFC 3339) [default: never]
    #[arg(long, value_name = "TIME")]
    pub expires: Option<String>,
    #[command(flatten)]
    pub db: DatabaseArg,
}

#[derive(Args)]
pub struct CheckArgs {
    /// The bundle folder (or use --org to check an organisation on the server's database)
    #[arg(required_unless_present = "org", conflicts_with = "org")]
    pub dir: Option<PathBuf>,
    /// Check this organisation on the server's database instead of a folder
    #[arg(long)]
    pub org: Option<String>,
    /// The database, with --org: a `sqlite://FILE` or `postgres://…` URL [default: iso20k.db in
    /// the data directory]
    #[arg(long, env = "ISO20K_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,
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

#[derive(Args)]
pub struct ReportArgs {
    /// The bundle folder (or use --org for an organisation on the server's database)
    #[arg(required_unless_present = "org", conflicts_with = "org")]
    pub dir: Option<PathBuf>,
    /// Report on this organisation on the server's database instead of a folder
    #[arg(long)]
    pub org: Option<String>,
    /// The database, with --org: a `sqlite://FILE` or `postgres://…` URL [default: iso20k.db in
    /// the data directory]
    #[arg(long, env = "ISO20K_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,
    /// The format to write
    #[arg(long, value_enum)]
    pub format: ReportFormat,
    /// The file to write (`-` for standard output); written whole or not at all
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Edition to audit against [default: the bundle's, else 2018]
    #[arg(long, value_enum)]
    pub edition: Option<EditionArg>,
    /// Judge the records as of this day (YYYY-MM-DD) [default: today]
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// Days to fix a major, a minor and an observation, for the action plan's target dates
    #[arg(long, value_name = "MAJOR,MINOR,OBS", value_parser = parse_deadlines, default_value = "90,180,365")]
    pub deadlines: [i64; 3],
}

fn parse_deadlines(s: &str) -> Result<[i64; 3], String> {
    let days: Vec<i64> = s
        .split(',')
        .map(|d| {
            d.trim()
                .parse::<i64>()
                .map_err(|_| format!("`{d}` is not a number of days"))
        })
        .collect::<Result<_, _>>()?;
    match days[..] {
        [major, minor, obs] if days.iter().all(|d| (0..=3650).contains(d)) => {
            Ok([major, minor, obs])
        }
        [_, _, _] => Err("days must be between 0 and 3650".to_owned()),
        _ => Err(
            "give three numbers of days: major, minor, observation (e.g. 90,180,365)".to_owned(),
        ),
    }
}

impl ReportFormat {
    /// The name the report crate knows the format by: the same as on the command line.
    pub fn name(self) -> String {
        self.to_possible_value()
            .expect("no format is skipped")
            .get_name()
            .to_owned()
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    /// Markdown, for a repository or a wiki
    Md,
    /// JUnit XML: a test case per check, findings as failures
    Junit,
    /// SARIF 2.1.0, for code-scanning annotations
    Sarif,
    /// The findings register as CSV
    Csv,
    /// The audit-readiness report as one self-contained HTML file that prints well
    Html,
    /// The readiness report as JSON (what `check --format json` prints)
    Json,
    /// The edition's clause catalogue as an OSCAL 1.2.1 catalog, patterns as guidance
    OscalCatalog,
    /// The findings as OSCAL 1.2.1 assessment results
    OscalResults,
    /// The gap analysis as an Excel workbook
    Xlsx,
    // Listed even in a build without the `pdf` feature, so asking for it gets the reason
    // rather than clap's "invalid value"; the help says so.
    #[cfg_attr(feature = "pdf", doc = "The audit-readiness report as PDF")]
    #[cfg_attr(
        not(feature = "pdf"),
        doc = "The audit-readiness report as PDF (not in this build: it needs the `pdf` feature)"
    )]
    Pdf,
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

#[derive(Args)]
pub struct SampleArgs {
    /// The bundle folder
    pub dir: PathBuf,
    /// What to sample: a ticket table (changes, incidents, problems, requests, releases, cis) or
    /// a register (documents, suppliers, nonconformities…)
    #[arg(long)]
    pub kind: String,
    /// First day of the period (YYYY-MM-DD), judged by the kind's date (a change's
    /// requested_at, an incident's opened_at…)
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub from: Option<Date>,
    /// Last day of the period (YYYY-MM-DD), inclusive
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub to: Option<Date>,
    /// Keep only records whose field has this value (`type=emergency`), or not (`field!=value`);
    /// repeat for several
    #[arg(long = "where", value_name = "FIELD=VALUE")]
    pub filters: Vec<String>,
    /// The confidence sought, as a fraction (0.95) [default: 0.95 with --tdr 0.05]
    #[arg(long, requires = "tdr", conflicts_with = "size")]
    pub confidence: Option<f64>,
    /// The tolerable deviation rate, as a fraction (0.05)
    #[arg(long, requires = "confidence", conflicts_with = "size")]
    pub tdr: Option<f64>,
    /// Draw this many at random instead of sizing by confidence
    #[arg(long)]
    pub size: Option<usize>,
    /// The seed of the draw: the same records, arguments and seed draw the same items
    /// [default: from the clock, and printed]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Args)]
pub struct DiffArgs {
    /// The bundle folder
    pub dir: PathBuf,
    /// The earlier day (YYYY-MM-DD), e.g. the start of the last cycle
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub from_date: Date,
    /// The later day (YYYY-MM-DD)
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub to_date: Date,
    /// Edition to judge against [default: the bundle's, else 2018]
    #[arg(long, value_enum)]
    pub edition: Option<EditionArg>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Args)]
pub struct AuditReportArgs {
    /// The bundle folder
    pub dir: PathBuf,
    /// The audit's id in audits.yaml
    pub audit: String,
    /// The file to write: `.html`, or `.pdf`
    #[arg(short, long)]
    pub output: PathBuf,
}

#[derive(Args)]
pub struct ImportChecklistArgs {
    /// The bundle folder whose checklist.yaml receives the answers
    pub dir: PathBuf,
    /// The workbook: a gap analysis written by `iso20k report --format xlsx`, answers filled in
    pub file: PathBuf,
}

#[derive(Args)]
pub struct ImportPlanArgs {
    /// The bundle folder whose plan.yaml receives the plan
    pub dir: PathBuf,
    /// The workbook: one written by `iso20k report --format xlsx`, its action plan edited
    pub file: PathBuf,
    /// Edition the workbook's report was audited against [default: the bundle's, else 2018]
    #[arg(long, value_enum)]
    pub edition: Option<EditionArg>,
    /// The day the workbook's report judged the records as of (YYYY-MM-DD), which dates the
    /// default plan [default: the bundle's records_as_of, else today]
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// The deadlines the workbook's report was written with
    #[arg(long, value_name = "MAJOR,MINOR,OBS", value_parser = parse_deadlines, default_value = "90,180,365")]
    pub deadlines: [i64; 3],
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
    s.parse()
        .map_err(|_| bad())
        .and_then(iso20k_core::check_as_of)
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
        assert!(parse_date("9999-12-31").is_err(), "out of the as-of range");
        assert!(parse_date("1850-01-01").is_err(), "out of the as-of range");
    }
}
