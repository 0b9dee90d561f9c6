//! The commands that work on the server's database: `serve`, `demo`, `import-bundle`,
//! `export-bundle`, `user add`, `token create` and `check --org`.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use iso20k_server::auth;
use iso20k_store::{Org, Store};

use crate::cli::{
    DatabaseArg, DemoArgs, DigestArgs, ExportBundleArgs, ImportBundleArgs, LogFormat, ServeArgs,
    TokenCreateArgs, UserAddArgs, UserLinkArgs, VerifyArgs,
};

/// Where iso20k keeps its databases unless told otherwise: `$ISO20K_DATA_DIR`, else the
/// platform's data directory (`$XDG_DATA_HOME/iso20k`, `~/.local/share/iso20k`,
/// `%APPDATA%\iso20k`).
fn data_dir() -> anyhow::Result<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let dir = env("ISO20K_DATA_DIR")
        .or_else(|| env("XDG_DATA_HOME").map(|d| d.join("iso20k")))
        .or_else(|| env("HOME").map(|h| h.join(".local/share/iso20k")))
        .or_else(|| env("APPDATA").map(|a| a.join("iso20k")))
        .context(
            "cannot tell where to keep the database: set ISO20K_DATA_DIR or pass --database",
        )?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

fn database_url(arg: Option<String>, file: &str) -> anyhow::Result<String> {
    match arg {
        Some(url) => Ok(url),
        None => Ok(format!("sqlite://{}", data_dir()?.join(file).display())),
    }
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub(crate) async fn open(db: DatabaseArg) -> anyhow::Result<iso20k_store::SqlStore> {
    let url = database_url(db.database, "iso20k.db")?;
    iso20k_store::open(&url)
        .await
        .with_context(|| format!("cannot open the database {}", redact(&url)))
}

/// A database URL fit to print: without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

pub(crate) async fn org(store: &dyn Store, slug: &str) -> anyhow::Result<Org> {
    store
        .org(slug)
        .await?
        .with_context(|| format!("there is no organisation `{slug}` in this database"))
}

pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging(args.log_format);
    let sso = sso_config(&args)?;
    let mailer = mailer(&args.smtp)?;
    if let Some(public) = &args.public_url {
        public_url(public)?;
    }
    runtime()?.block_on(async {
        let store = open(args.db).await?;
        let config = iso20k_server::Config {
            secure_cookies: args.secure_cookies.then_some(true),
            max_upload: args.max_upload_mib * 1024 * 1024,
            behind_proxy: args.behind_proxy,
            request_timeout: std::time::Duration::from_secs(args.request_timeout),
            sso,
            sso_only: args.sso_only,
            break_glass: args
                .break_glass
                .iter()
                .map(|e| e.trim().to_lowercase())
                .collect(),
            public_url: args
                .public_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_owned()),
            ..iso20k_server::Config::default()
        };
        if let Some(sso) = &config.sso {
            tracing::info!(issuer = %sso.issuer, client = %sso.client_id, sso_only = args.sso_only, "single sign-on is on");
        }
        let engine = store.engine();
        let app = iso20k_server::App::new(Arc::new(store), config);
        // A provider that does not answer must not keep the server from starting: checked
        // in the background, and said in the log.
        let checking = app.clone();
        tokio::spawn(async move {
            for problem in checking.check_sso().await {
                tracing::warn!("single sign-on: {problem}");
            }
        });
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        // With port 0 the system picks the port: say which, so scripts can find it.
        let addr = listener.local_addr()?;
        writeln!(
            anstream::stdout(),
            "Serving on http://{addr} ({engine:?}); Ctrl-C stops."
        )?;
        tracing::info!("iso20k serving on http://{addr} ({engine:?})");
        if let Some(mailer) = mailer {
            let base = app
                .config()
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{addr}"));
            tracing::info!(smtp = %mailer.server(), hour = args.digest_hour, "daily digest e-mails are on");
            iso20k_server::digest::schedule(app.clone(), mailer, args.digest_hour, base);
        }
        iso20k_server::serve(app, listener).await?;
        Ok(ExitCode::SUCCESS)
    })
}

fn public_url(u: &str) -> anyhow::Result<()> {
    let ok = (u.starts_with("https://") || u.starts_with("http://")) && u.len() > 8;
    anyhow::ensure!(ok, "--public-url `{u}` is not an http(s) URL");
    Ok(())
}

/// The mailer of the reminder e-mails, when an SMTP server is given.
fn mailer(args: &crate::cli::SmtpArgs) -> anyhow::Result<Option<iso20k_server::digest::Mailer>> {
    let Some(url) = &args.smtp else {
        return Ok(None);
    };
    let from = args
        .smtp_from
        .as_deref()
        .context("--smtp needs --smtp-from ADDRESS, the sender of the e-mails")?;
    iso20k_server::digest::Mailer::new(url, from).map(Some)
}

/// `iso20k digest`: the organisation's digests of the day, sent now.
pub fn digest(args: DigestArgs) -> anyhow::Result<ExitCode> {
    public_url(&args.public_url)?;
    let mailer = mailer(&args.smtp)?.context(
        "say which SMTP server to send through: --smtp smtp://HOST:PORT --smtp-from ADDRESS",
    )?;
    runtime()?.block_on(async {
        let store = open(args.db).await?;
        let org = org(&store, &args.org).await?;
        let app = iso20k_server::App::new(
            Arc::new(store),
            iso20k_server::Config {
                refresh_in_background: false,
                ..iso20k_server::Config::default()
            },
        );
        let today = jiff::ZonedDateTime::now().date();
        let outcome =
            iso20k_server::digest::send(&app, &mailer, &org, &args.public_url, today, args.as_of)
                .await?;
        let mut out = anstream::stdout();
        for d in &outcome.sent {
            writeln!(
                out,
                "Sent to {}: {} ({} late, {} coming due)",
                d.to, d.subject, d.late, d.due
            )?;
        }
        for email in &outcome.already {
            writeln!(out, "Not sent to {email}: today's digest went already")?;
        }
        for email in &outcome.nothing {
            writeln!(out, "Not sent to {email}: nothing late or coming due")?;
        }
        for email in &outcome.opted_out {
            writeln!(out, "Not sent to {email}: opted out")?;
        }
        for (email, why) in &outcome.failed {
            writeln!(anstream::stderr(), "Could not send to {email}: {why}")?;
        }
        writeln!(
            out,
            "{} digest{} sent for `{}` through {}",
            outcome.sent.len(),
            if outcome.sent.len() == 1 { "" } else { "s" },
            org.slug,
            mailer.server()
        )?;
        Ok(if outcome.failed.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}

/// The single sign-on settings, when an issuer is given.
fn sso_config(args: &ServeArgs) -> anyhow::Result<Option<iso20k_server::sso::SsoConfig>> {
    let (Some(issuer), Some(client_id)) = (&args.oidc_issuer, &args.oidc_client_id) else {
        return Ok(None);
    };
    let url = |what: &str, u: &str| -> anyhow::Result<()> {
        let ok = (u.starts_with("https://") || u.starts_with("http://")) && u.len() > 8;
        anyhow::ensure!(ok, "{what} `{u}` is not an http(s) URL");
        Ok(())
    };
    url("--oidc-issuer", issuer)?;
    let secret = std::env::var("ISO20K_OIDC_CLIENT_SECRET")
        .ok()
        .filter(|s| !s.is_empty());
    let mut config = iso20k_server::sso::SsoConfig::new(issuer, client_id, secret);
    config.public_url = args.public_url.clone();
    if !args.oidc_role_claim.is_empty() {
        config.role_claims = args.oidc_role_claim.clone();
    }
    config.roles = args.oidc_role.clone();
    config.scopes.extend(args.oidc_scope.iter().cloned());
    config.trust_unverified_email = args.oidc_trust_unverified_email;
    config.state_key = std::env::var("ISO20K_SSO_STATE_KEY")
        .ok()
        .filter(|s| !s.is_empty());
    Ok(Some(config))
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ISO20K_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => log.try_init(),
        LogFormat::Json => log.json().flatten_event(true).try_init(),
    };
}

pub fn import_bundle(args: ImportBundleArgs) -> anyhow::Result<ExitCode> {
    iso20k_server::check_slug(&args.org).map_err(|m| anyhow::anyhow!("--org: {m}"))?;
    let bundle = iso20k_bundle::Bundle::read(&args.dir)?;
    runtime()?.block_on(async {
        let store = open(args.db).await?;
        let (org, created) = org_or_create(&store, &args.org, bundle_name(&bundle)).await?;
        let summary =
            iso20k_server::load::import(&store, &org, &bundle, "iso20k import-bundle").await?;
        let mut out = anstream::stdout();
        writeln!(
            out,
            "{} `{}` from {}: {} created, {} updated, {} unchanged, {} deleted",
            if created { "Created" } else { "Updated" },
            org.slug,
            args.dir.display(),
            summary.created,
            summary.updated,
            summary.unchanged,
            summary.deleted
        )?;
        Ok(ExitCode::SUCCESS)
    })
}

fn bundle_name(bundle: &iso20k_bundle::Bundle) -> Option<String> {
    bundle.organisation.as_ref().map(|o| o.name.clone())
}

async fn org_or_create(
    store: &dyn Store,
    slug: &str,
    name: Option<String>,
) -> anyhow::Result<(Org, bool)> {
    if let Some(org) = store.org(slug).await? {
        return Ok((org, false));
    }
    let org = store
        .create_org(slug, name.as_deref().unwrap_or(slug))
        .await?;
    Ok((org, true))
}

pub fn export_bundle(args: ExportBundleArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = open(args.db).await?;
        let org = org(&store, &args.org).await?;
        iso20k_server::load::export_to(&store, &org, &args.dir).await?;
        writeln!(
            anstream::stdout(),
            "Exported `{}` to {}",
            org.slug,
            args.dir.display()
        )?;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = open(args.db).await?;
        let org = org(&store, &args.org).await?;
        let check = store.verify_trail(org.id).await?;
        let mut out = anstream::stdout();
        match check.broken {
            None => {
                writeln!(
                    out,
                    "The audit trail of `{}` is intact: {} entr{}, each chained to the one before, \
                     and every record as its last change left it.",
                    org.slug,
                    check.entries,
                    if check.entries == 1 { "y" } else { "ies" }
                )?;
                if !check.head.is_empty() {
                    writeln!(
                        out,
                        "Head: {} (keep it elsewhere: a trail rewritten from an earlier entry on \
                         would no longer hold it)",
                        check.head
                    )?;
                }
                Ok(ExitCode::SUCCESS)
            }
            Some(broken) => {
                let at = match broken.id {
                    Some(id) => format!("is broken at entry {} (id {id})", broken.seq),
                    None => format!("does not hold after entry {}", check.entries),
                };
                writeln!(
                    out,
                    "The audit trail of `{}` {at}: {}.",
                    org.slug, broken.reason
                )?;
                writeln!(
                    out,
                    "The {} entr{} before it verify.",
                    check.entries,
                    if check.entries == 1 { "y" } else { "ies" }
                )?;
                Ok(ExitCode::from(1))
            }
        }
    })
}

pub fn user_add(args: UserAddArgs) -> anyhow::Result<ExitCode> {
    iso20k_server::check_slug(&args.org).map_err(|m| anyhow::anyhow!("--org: {m}"))?;
    let email = args.email.trim().to_lowercase();
    if !email.contains('@') {
        bail!("`{}` is not an email address", args.email);
    }
    let expires = args.expires.as_deref().map(normalise_time).transpose()?;
    let password = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the password from standard input")?;
        let password = text.trim_end_matches(['\r', '\n']).to_owned();
        auth::check_password(&password).map_err(|m| anyhow::anyhow!("the password {m}"))?;
        Some(password)
    } else {
        None
    };
    runtime()?.block_on(async {
        let store = open(args.db).await?;
        let (org, created_org) = org_or_create(&store, &args.org, None).await?;
        let mut out = anstream::stdout();
        if created_org {
            writeln!(out, "Created organisation `{}`", org.slug)?;
        }
        let (user, generated) = match store.user_by_email(&email).await? {
            Some(user) => {
                if let Some(password) = password {
                    let hash = hash(password).await?;
                    store.set_password(user.id, &hash).await?;
                    writeln!(out, "Set the password of {email}")?;
                }
                (user, None)
            }
            None => {
                let (password, generated) = match password {
                    Some(p) => (p, None),
                    None => {
                        let p = auth::secret()[..20].to_owned();
                        (p.clone(), Some(p))
                    }
                };
                let hash = hash(password).await?;
                let name = args.name.clone().unwrap_or_default();
                (
                    store.create_user(&email, &name, Some(&hash)).await?,
                    generated,
                )
            }
        };
        if let Some(person) = &args.person {
            check_person(&store, &org, person).await?;
        }
        store
            .set_membership(org.id, user.id, &args.role, expires.as_deref())
            .await?;
        if let Some(person) = &args.person {
            store.set_person(org.id, user.id, Some(person)).await?;
        }
        write!(out, "{email} is {} of `{}`", args.role, org.slug)?;
        if let Some(person) = &args.person {
            write!(out, ", linked to {person}")?;
        }
        match &expires {
            Some(until) => writeln!(out, " (external, read-only, until {until})")?,
            None => writeln!(out)?,
        }
        if let Some(p) = generated {
            writeln!(out, "Password (shown once): {p}")?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password)).await?
}

fn normalise_time(text: &str) -> anyhow::Result<String> {
    let t: jiff::Timestamp = text.parse().with_context(|| {
        format!("`{text}` is not an RFC 3339 time such as 2026-12-31T23:59:59Z")
    })?;
    if t <= jiff::Timestamp::now() {
        bail!("`{text}` is in the past");
    }
    Ok(iso20k_store::format_time(t))
}

pub fn token_create(args: TokenCreateArgs) -> anyhow::Result<ExitCode> {
    let expires = args.expires.as_deref().map(normalise_time).transpose()?;
    runtime()?.block_on(async {
        let store = open(args.db).await?;
        let user = store.user_by_email(&args.email).await?.with_context(|| {
            format!(
                "there is no user {} (add one with `iso20k user add`)",
                args.email
            )
        })?;
        let token = auth::new_token();
        store
            .create_token(
                user.id,
                &args.name,
                &auth::digest(&token),
                expires.as_deref(),
            )
            .await?;
        writeln!(anstream::stdout(), "{token}")?;
        Ok(ExitCode::SUCCESS)
    })
}

/// `iso20k import --org SLUG FILES`: ticket exports into an organisation on the database. The
/// outer error is the database's; the inner one the exports', reported as bad input.
pub fn import_tickets(
    slug: &str,
    database: Option<String>,
    files: Vec<PathBuf>,
    options: iso20k_import::Options,
    progress: iso20k_server::load::Progress,
) -> anyhow::Result<Result<iso20k_import::Summary, Box<iso20k_bundle::Error>>> {
    runtime()?.block_on(async {
        let store = open(DatabaseArg { database }).await?;
        let org = org(&store, slug).await?;
        iso20k_server::load::import_tickets(&store, &org, files, options, "iso20k import", progress)
            .await
    })
}

/// `iso20k check --org SLUG`: the records of an organisation on the database, as a bundle.
pub fn user_link(args: UserLinkArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = open(args.db).await?;
        let org = org(&store, &args.org).await?;
        let email = args.email.trim().to_lowercase();
        let user = store
            .user_by_email(&email)
            .await?
            .with_context(|| format!("there is no account {email} in this database"))?;
        let person = args.person.trim();
        check_person(&store, &org, person).await?;
        match store.set_person(org.id, user.id, Some(person)).await {
            Err(iso20k_store::StoreError::NotFound) => {
                bail!(
                    "{email} is not a member of `{}`: add them with `iso20k user add`",
                    org.slug
                )
            }
            other => other?,
        }
        writeln!(
            anstream::stdout(),
            "{email} is linked to {person} in `{}`",
            org.slug
        )?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Refuses a person id that the organisation's people register does not hold, naming a few
/// that it does.
async fn check_person(store: &dyn Store, org: &Org, person: &str) -> anyhow::Result<()> {
    let bundle = iso20k_server::load::bundle_of(store, org, |k| k.name == "people").await?;
    let sms = bundle.into_sms();
    if sms.person(person).is_some() {
        return Ok(());
    }
    let some: Vec<&str> = sms.people.iter().take(5).map(|p| p.id.as_str()).collect();
    if some.is_empty() {
        bail!(
            "--person: `{}` has no people register yet, so there is no `{person}` to link to",
            org.slug
        );
    }
    bail!(
        "--person: there is no `{person}` in the people register of `{}` (it holds {}{})",
        org.slug,
        some.join(", "),
        if sms.people.len() > some.len() {
            ", …"
        } else {
            ""
        }
    )
}

pub fn load_sms(slug: &str, database: Option<String>) -> anyhow::Result<iso20k_core::model::Sms> {
    runtime()?.block_on(async {
        let store = open(DatabaseArg { database }).await?;
        let org = org(&store, slug).await?;
        let bundle = iso20k_server::load::bundle_of(&store, &org, |_| true).await?;
        Ok(bundle.into_sms())
    })
}

/// The demo bundle, built into the binary so `iso20k demo` works from anywhere.
const DEMO: &[(&str, &str)] = &[
    (
        "organisation.yaml",
        include_str!("../../../examples/demo/organisation.yaml"),
    ),
    (
        "policy.yaml",
        include_str!("../../../examples/demo/policy.yaml"),
    ),
    (
        "objectives.yaml",
        include_str!("../../../examples/demo/objectives.yaml"),
    ),
    (
        "people.csv",
        include_str!("../../../examples/demo/people.csv"),
    ),
    (
        "processes.yaml",
        include_str!("../../../examples/demo/processes.yaml"),
    ),
    ("raci.csv", include_str!("../../../examples/demo/raci.csv")),
    (
        "management-reviews.yaml",
        include_str!("../../../examples/demo/management-reviews.yaml"),
    ),
    (
        "documents.csv",
        include_str!("../../../examples/demo/documents.csv"),
    ),
    (
        "services.yaml",
        include_str!("../../../examples/demo/services.yaml"),
    ),
    (
        "slas.yaml",
        include_str!("../../../examples/demo/slas.yaml"),
    ),
    (
        "suppliers.yaml",
        include_str!("../../../examples/demo/suppliers.yaml"),
    ),
    (
        "risks.csv",
        include_str!("../../../examples/demo/risks.csv"),
    ),
    (
        "audits.yaml",
        include_str!("../../../examples/demo/audits.yaml"),
    ),
    (
        "nonconformities.yaml",
        include_str!("../../../examples/demo/nonconformities.yaml"),
    ),
    (
        "improvements.csv",
        include_str!("../../../examples/demo/improvements.csv"),
    ),
    (
        "continuity.yaml",
        include_str!("../../../examples/demo/continuity.yaml"),
    ),
    (
        "capacity.yaml",
        include_str!("../../../examples/demo/capacity.yaml"),
    ),
    (
        "training.csv",
        include_str!("../../../examples/demo/training.csv"),
    ),
    (
        "customers.yaml",
        include_str!("../../../examples/demo/customers.yaml"),
    ),
    (
        "checklist.yaml",
        include_str!("../../../examples/demo/checklist.yaml"),
    ),
    (
        "plan.yaml",
        include_str!("../../../examples/demo/plan.yaml"),
    ),
    (
        "tickets/incidents.csv",
        include_str!("../../../examples/demo/tickets/incidents.csv"),
    ),
    (
        "tickets/requests.csv",
        include_str!("../../../examples/demo/tickets/requests.csv"),
    ),
    (
        "tickets/problems.csv",
        include_str!("../../../examples/demo/tickets/problems.csv"),
    ),
    (
        "tickets/changes.csv",
        include_str!("../../../examples/demo/tickets/changes.csv"),
    ),
    (
        "tickets/releases.csv",
        include_str!("../../../examples/demo/tickets/releases.csv"),
    ),
    (
        "tickets/cis.csv",
        include_str!("../../../examples/demo/tickets/cis.csv"),
    ),
];

/// The demo login.
pub const DEMO_EMAIL: &str = "demo@iso20k.example";
/// The demo password: printed on every start, as this is a demo.
pub const DEMO_PASSWORD: &str = "iso20k-demo-password";
const DEMO_SLUG: &str = "demo";

fn demo_bundle() -> anyhow::Result<iso20k_bundle::Bundle> {
    let dir = tempfile::tempdir()?;
    for (name, text) in DEMO {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
    }
    Ok(iso20k_bundle::Bundle::read(dir.path())?)
}

pub fn demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    init_logging(LogFormat::Text);
    let url = database_url(args.database, "demo.db")?;
    runtime()?.block_on(async {
        let store = iso20k_store::open(&url)
            .await
            .with_context(|| format!("cannot open the demo database {}", redact(&url)))?;
        let mut out = anstream::stdout();
        let bundle = demo_bundle()?;
        let (org, _) = org_or_create(&store, DEMO_SLUG, bundle_name(&bundle)).await?;
        let held: i64 = store.kinds(org.id).await?.iter().map(|k| k.1).sum();
        if held == 0 {
            let summary =
                iso20k_server::load::import(&store, &org, &bundle, "iso20k demo").await?;
            writeln!(
                out,
                "Loaded the demo organisation: {} records",
                summary.created
            )?;
        } else {
            writeln!(
                out,
                "Opened the demo organisation ({held} records, as you left them; delete {} to start afresh)",
                redact(&url)
            )?;
        }
        let user = match store.user_by_email(DEMO_EMAIL).await? {
            Some(user) => user,
            None => {
                let hash = hash(DEMO_PASSWORD.to_owned()).await?;
                store.create_user(DEMO_EMAIL, "Demo user", Some(&hash)).await?
            }
        };
        store
            .set_membership(org.id, user.id, "admin", None)
            .await?;

        let org = store.org(DEMO_SLUG).await?.context("the demo organisation")?;
        let bundle = iso20k_server::load::bundle_of(&store, &org, |_| true).await?;
        let sms = bundle.into_sms();
        let edition = sms.edition();
        // The day the demo's records declare, as the browser shows it first.
        let as_of = crate::default_day(&sms, args.as_of);
        let report = iso20k_core::audit::audit(
            &sms,
            iso20k_core::audit::Options { edition, as_of },
        );
        let summary = iso20k_report::text::summary(&report);
        out.write_all(summary.as_bytes())?;

        let listener = match args.no_serve {
            true => None,
            false => Some(
                tokio::net::TcpListener::bind(args.listen)
                    .await
                    .with_context(|| format!("cannot listen on {} (pass --listen ADDR)", args.listen))?,
            ),
        };
        let addr = match &listener {
            Some(l) => l.local_addr()?,
            None => args.listen,
        };
        let base = format!("http://{addr}");
        writeln!(out)?;
        writeln!(out, "Database:  {}", redact(&url))?;
        writeln!(out, "Server:    {base}   (API under {base}/api/v1, OpenAPI at {base}/api/openapi.json)")?;
        writeln!(out, "Log in as: {DEMO_EMAIL} / {DEMO_PASSWORD}")?;
        writeln!(out, "Try:       curl -s -c /tmp/iso20k.cookies -H 'content-type: application/json' -d '{{\"email\":\"{DEMO_EMAIL}\",\"password\":\"{DEMO_PASSWORD}\"}}' {base}/api/v1/session")?;
        writeln!(out, "           curl -s -b /tmp/iso20k.cookies '{base}/api/v1/orgs/{DEMO_SLUG}/readiness?as_of={as_of}'")?;
        out.flush()?;
        let Some(listener) = listener else {
            return Ok(ExitCode::SUCCESS);
        };
        let app = iso20k_server::App::new(Arc::new(store), iso20k_server::Config::default());
        writeln!(out, "Serving on {base}; Ctrl-C stops.")?;
        out.flush()?;
        iso20k_server::serve(app, listener).await?;
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_demo_is_the_whole_demo_folder() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo");
        let mut on_disk = Vec::new();
        for sub in ["", "tickets"] {
            for e in std::fs::read_dir(root.join(sub)).unwrap() {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                if name.ends_with(".yaml") || name.ends_with(".csv") {
                    on_disk.push(if sub.is_empty() {
                        name
                    } else {
                        format!("{sub}/{name}")
                    });
                }
            }
        }
        on_disk.sort();
        let mut built_in: Vec<_> = DEMO.iter().map(|d| d.0.to_owned()).collect();
        built_in.sort();
        assert_eq!(on_disk, built_in);
        for (name, text) in DEMO {
            assert_eq!(
                std::fs::read_to_string(root.join(name)).unwrap(),
                *text,
                "{name}"
            );
        }
    }

    #[test]
    fn database_urls_print_without_passwords() {
        assert_eq!(
            redact("postgres://me:secret@db.example/iso20k"),
            "postgres://me:***@db.example/iso20k"
        );
        assert_eq!(redact("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
