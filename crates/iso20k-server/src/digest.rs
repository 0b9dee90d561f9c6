//! The daily digest e-mail: each linked member who has not opted out gets, once a day, what of
//! their work ([`crate::work::of`]) is late and what falls due today, tomorrow, in 7 days or in
//! 30 days, with links. Nobody gets an empty e-mail, and the digests sent are remembered per
//! member and day in the store, so a restart (or a second server) does not send one twice.
//!
//! Mail goes over SMTP with lettre: `smtp://` uses STARTTLS when the server offers it
//! (`?tls=required` insists on it, `?tls=none` never tries), `smtps://` is TLS from the first
//! byte; `user:password@` in the URL signs in.

use std::time::Duration;

use anyhow::Context as _;
use iso20k_core::Date;
use iso20k_store::Org;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::App;
use crate::work::Todo;

/// Where digests are sent from, and how.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    server: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Mailer {
    /// A mailer for the SMTP server at `url` (see the module's notes), sending from `from`
    /// (`iso20k@example.com` or `iso20k <iso20k@example.com>`).
    pub fn new(url: &str, from: &str) -> anyhow::Result<Mailer> {
        let mut parsed = url::Url::parse(url).context("--smtp is not a URL")?;
        let tls = parsed
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        match (parsed.scheme(), tls.as_deref()) {
            // STARTTLS when offered: lettre's own smtp:// never tries it.
            ("smtp", None) => {
                parsed.query_pairs_mut().append_pair("tls", "opportunistic");
            }
            ("smtp", Some("none")) => {
                let port = parsed.port().unwrap_or(587);
                parsed.set_query(None);
                let _ = parsed.set_port(Some(port));
            }
            ("smtp", Some("required" | "opportunistic")) | ("smtps", _) => {}
            ("smtp", Some(tls)) => {
                anyhow::bail!("--smtp: `tls={tls}` is not one of required, opportunistic, none")
            }
            (scheme, _) => anyhow::bail!(
                "--smtp: the URL must start with smtp:// or smtps://, not {scheme}://"
            ),
        }
        let server = format!(
            "{}://{}:{}",
            parsed.scheme(),
            parsed.host_str().unwrap_or_default(),
            parsed
                .port()
                .unwrap_or(if parsed.scheme() == "smtps" { 465 } else { 587 })
        );
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(parsed.as_str())
            .with_context(|| format!("--smtp {server}"))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from: Mailbox = from
            .parse()
            .with_context(|| format!("--smtp-from `{from}` is not an e-mail address"))?;
        Ok(Mailer {
            transport,
            from,
            server,
        })
    }

    /// The server mail goes to, without credentials: `smtp://mail.example.com:587`.
    pub fn server(&self) -> &str {
        &self.server
    }
}

/// One digest, sent or to be sent.
#[derive(Clone, Debug)]
pub struct Digest {
    /// To whom (their account's e-mail).
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The text.
    pub body: String,
    /// How many things are late.
    pub late: usize,
    /// How many fall due today, tomorrow, in 7 or in 30 days.
    pub due: usize,
}

/// What a run for one organisation did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The digests sent.
    pub sent: Vec<Digest>,
    /// Members whose digest of the day had been sent already.
    pub already: Vec<String>,
    /// Members with nothing late or due on a reminder day: no e-mail.
    pub nothing: Vec<String>,
    /// Members who opted out.
    pub opted_out: Vec<String>,
    /// Digests that could not be sent, with why; they are tried again on the next run.
    pub failed: Vec<(String, String)>,
}

/// The days before a due date on which it is mentioned: 30, 7 and 1 days ahead, and the day.
const REMIND_DAYS_LEFT: [i64; 4] = [30, 7, 1, 0];

fn late_or_reminded(todo: &Todo) -> bool {
    todo.overdue || todo.days.is_some_and(|d| REMIND_DAYS_LEFT.contains(&-d))
}

fn when(todo: &Todo) -> String {
    match (todo.due.as_deref(), todo.days) {
        (Some(due), Some(days)) if todo.overdue => {
            format!(
                "due {due}, {days} day{} late",
                if days == 1 { "" } else { "s" }
            )
        }
        (None, _) => "never done".to_owned(),
        (Some(_), Some(0)) => "due today".to_owned(),
        (Some(_), Some(-1)) => "due tomorrow".to_owned(),
        (Some(due), Some(days)) => format!("due {due}, in {} days", -days),
        (Some(due), None) => format!("due {due}"),
    }
}

/// The digest of one person's work, or `None` when nothing is late or due on a reminder day.
pub(crate) fn compose(
    org: &Org,
    name: &str,
    to: &str,
    todos: &[Todo],
    as_of: Date,
    base: &str,
) -> Option<Digest> {
    let (late, due): (Vec<&Todo>, Vec<&Todo>) = todos
        .iter()
        .filter(|t| late_or_reminded(t))
        .partition(|t| t.overdue);
    if late.is_empty() && due.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if !late.is_empty() {
        parts.push(format!("{} late", late.len()));
    }
    if !due.is_empty() {
        parts.push(format!("{} coming due", due.len()));
    }
    let subject = format!("iso20k, {}: {}", org.name, parts.join(", "));
    let mut body = format!(
        "Hello {name},\n\nYour work in {} as of {as_of}.\n",
        org.name
    );
    for (title, items) in [("Late", &late), ("Coming due", &due)] {
        if items.is_empty() {
            continue;
        }
        body.push_str(&format!("\n{title}:\n"));
        for t in items.iter() {
            body.push_str(&format!(
                "- {}: {} ({})\n  {base}{}\n",
                t.what,
                t.title,
                when(t),
                t.link
            ));
        }
    }
    body.push_str(&format!(
        "\nAll your work: {base}/orgs/{}/my\nTo get no more of these e-mails, untick the daily e-mail on that page.\n",
        org.slug
    ));
    Some(Digest {
        to: to.to_owned(),
        subject,
        body,
        late: late.len(),
        due: due.len(),
    })
}

/// Sends the day's digests of `org`: `day` is the calendar day they are remembered under (the
/// server's today), `as_of` the day the work is judged on (the organisation's default day when
/// `None`, as on My work). Links start with `base` (`https://iso20k.example.com`).
pub async fn send(
    app: &App,
    mailer: &Mailer,
    org: &Org,
    base: &str,
    day: Date,
    as_of: Option<Date>,
) -> anyhow::Result<Outcome> {
    let base = base.trim_end_matches('/');
    let store = app.store();
    let as_of = app.day_or_default(org, as_of).await?;
    let sms = app.current_model(org).await?;
    let now = iso20k_store::now();
    let day_text = day.to_string();
    let mut outcome = Outcome::default();
    for (user, membership) in store.members(org.id).await? {
        let Some(person) = &membership.person else {
            continue;
        };
        if membership.expires_at.as_ref().is_some_and(|t| *t <= now) {
            continue;
        }
        if membership.digest_opt_out {
            outcome.opted_out.push(user.email);
            continue;
        }
        let todos = crate::work::of(app, org, person, as_of).await?;
        let name = sms
            .person(person)
            .map(|p| p.name.clone())
            .filter(|n| !n.is_empty())
            .or_else(|| Some(user.name.clone()).filter(|n| !n.is_empty()))
            .unwrap_or_else(|| user.email.clone());
        let Some(digest) = compose(org, &name, &user.email, &todos, as_of, base) else {
            outcome.nothing.push(user.email);
            continue;
        };
        if !store.claim_digest(org.id, user.id, &day_text).await? {
            outcome.already.push(user.email);
            continue;
        }
        match deliver(mailer, &name, &digest).await {
            Ok(()) => {
                tracing::info!(org = %org.slug, to = %digest.to, late = digest.late, due = digest.due, "digest sent");
                outcome.sent.push(digest);
            }
            Err(e) => {
                store.release_digest(org.id, user.id, &day_text).await?;
                tracing::warn!(org = %org.slug, to = %digest.to, "digest not sent: {e:#}");
                outcome.failed.push((digest.to, format!("{e:#}")));
            }
        }
    }
    Ok(outcome)
}

async fn deliver(mailer: &Mailer, name: &str, digest: &Digest) -> anyhow::Result<()> {
    let address = digest
        .to
        .parse()
        .with_context(|| format!("`{}` is not an e-mail address", digest.to))?;
    let message = Message::builder()
        .from(mailer.from.clone())
        .to(Mailbox::new(Some(name.to_owned()), address))
        .subject(&digest.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(digest.body.clone())
        .context("cannot write the message")?;
    mailer
        .transport
        .send(message)
        .await
        .with_context(|| format!("{} refused or did not answer", mailer.server))?;
    Ok(())
}

/// Sends every organisation's digests once a day at `hour` (0-23, the server's local time),
/// and at start-up when that hour has passed and today's have not gone yet. Runs until the
/// runtime stops.
pub fn schedule(app: App, mailer: Mailer, hour: i8, base: String) -> tokio::task::JoinHandle<()> {
    app.set_mailing();
    tokio::spawn(async move {
        let mut done: Option<Date> = None;
        loop {
            let now = jiff::ZonedDateTime::now();
            let today = now.date();
            if now.hour() >= hour && done != Some(today) {
                run_all(&app, &mailer, &base, today).await;
                done = Some(today);
            }
            // Checked every few minutes rather than slept through to the hour: a clock that
            // jumps (a suspended laptop, a time-zone change) is caught up with.
            tokio::time::sleep(Duration::from_secs(300)).await;
        }
    })
}

async fn run_all(app: &App, mailer: &Mailer, base: &str, day: Date) {
    let orgs = match app.store().orgs().await {
        Ok(orgs) => orgs,
        Err(e) => {
            tracing::warn!("digest: cannot list the organisations: {e}");
            return;
        }
    };
    for org in orgs {
        match send(app, mailer, &org, base, day, None).await {
            Ok(outcome) => tracing::info!(
                org = %org.slug,
                sent = outcome.sent.len(),
                failed = outcome.failed.len(),
                "daily digest"
            ),
            Err(e) => tracing::warn!(org = %org.slug, "daily digest failed: {e:#}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn todo(title: &str, days: Option<i64>) -> Todo {
        let as_of: Date = "2026-06-30".parse().unwrap();
        let due = days.map(|d| as_of - jiff::Span::new().days(d));
        Todo {
            uid: format!("x/{title}"),
            what: "Review a document".to_owned(),
            grade: None,
            title: title.to_owned(),
            due: due.map(|d| d.to_string()),
            overdue: days.is_none_or(|d| d > 0),
            days,
            link: format!("/orgs/acme/records/documents/{title}"),
        }
    }

    #[test]
    fn a_digest_holds_what_is_late_and_what_falls_due_on_a_reminder_day() {
        let org = Org {
            slug: "acme".to_owned(),
            name: "Acme".to_owned(),
            ..Org::default()
        };
        let as_of = "2026-06-30".parse().unwrap();
        let todos: Vec<Todo> = [
            ("late", Some(3)),
            ("never", None),
            ("today", Some(0)),
            ("tomorrow", Some(-1)),
            ("in-2", Some(-2)),
            ("in-7", Some(-7)),
            ("in-8", Some(-8)),
            ("in-30", Some(-30)),
            ("in-31", Some(-31)),
        ]
        .into_iter()
        .map(|(t, d)| todo(t, d))
        .collect();
        let d = compose(&org, "Cal", "cal@acme.example", &todos, as_of, "https://x").unwrap();
        assert_eq!((d.late, d.due), (2, 4), "{}", d.body);
        assert_eq!(d.subject, "iso20k, Acme: 2 late, 4 coming due");
        for shown in [
            "late (due 2026-06-27, 3 days late)",
            "never (never done)",
            "today (due today)",
            "tomorrow (due tomorrow)",
            "in-7 (due 2026-07-07, in 7 days)",
            "in-30 (due 2026-07-30, in 30 days)",
            "https://x/orgs/acme/records/documents/in-30",
            "https://x/orgs/acme/my",
        ] {
            assert!(d.body.contains(shown), "{shown}: {}", d.body);
        }
        for hidden in ["in-2", "in-8", "in-31"] {
            assert!(!d.body.contains(hidden), "{hidden}: {}", d.body);
        }
        // Nothing on a reminder day: no e-mail at all.
        let quiet = [todo("in-2", Some(-2)), todo("in-31", Some(-31))];
        assert!(compose(&org, "Cal", "c@x", &quiet, as_of, "https://x").is_none());
        assert!(compose(&org, "Cal", "c@x", &[], as_of, "https://x").is_none());
    }

    #[tokio::test]
    async fn smtp_urls_say_how_to_reach_the_server() {
        let from = "iso20k <iso20k@acme.example>";
        for (url, server) in [
            ("smtp://mail.example.com", "smtp://mail.example.com:587"),
            (
                "smtp://u:p%40ss@mail.example.com:25",
                "smtp://mail.example.com:25",
            ),
            (
                "smtp://mail.example.com?tls=required",
                "smtp://mail.example.com:587",
            ),
            ("smtp://127.0.0.1:2525?tls=none", "smtp://127.0.0.1:2525"),
            ("smtps://mail.example.com", "smtps://mail.example.com:465"),
        ] {
            let mailer = Mailer::new(url, from).unwrap_or_else(|e| panic!("{url}: {e:#}"));
            assert_eq!(mailer.server(), server, "{url}");
            assert!(
                !format!("{mailer:?}").contains("p%40ss"),
                "no password shown"
            );
        }
        for (url, said) in [
            ("http://mail.example.com", "smtp:// or smtps://"),
            ("smtp://mail.example.com?tls=maybe", "tls=maybe"),
            ("mail.example.com", "not a URL"),
        ] {
            let e = format!("{:#}", Mailer::new(url, from).unwrap_err());
            assert!(e.contains(said), "{url}: {e}");
        }
        let e = format!(
            "{:#}",
            Mailer::new("smtp://m", "not an address").unwrap_err()
        );
        assert!(e.contains("--smtp-from"), "{e}");
    }
}
