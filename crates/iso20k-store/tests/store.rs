//! The store's contract, every test on SQLite and, when `ISO20K_TEST_POSTGRES` holds a URL, on
//! PostgreSQL too (see `iso20k_store::testing`).

use futures::TryStreamExt;
use iso20k_store::testing::TestDb;
use iso20k_store::{
    ApplySummary, Change, ChangeFilter, Engine, NewEvidence, Org, Record, Session, Store,
    StoreError, Write, format_time, open,
};
use jiff::{SignedDuration, Timestamp};

/// Runs each named `async fn(&TestDb)` once per engine, as a test of the same name.
macro_rules! on_every_engine {
    ($($name:ident),* $(,)?) => {
        mod on_every_engine {
            $(
                #[tokio::test]
                async fn $name() {
                    for db in iso20k_store::testing::engines().await {
                        super::$name(&db).await;
                    }
                }
            )*
        }
    };
}

on_every_engine!(
    migrations_run_once_and_reopen,
    orgs_have_unique_slugs,
    emails_are_trimmed_and_case_insensitive,
    passwords_change,
    memberships_upsert_and_keep_expiry,
    members_link_to_a_person_and_keep_the_link_across_role_changes,
    reminders_feeds_opt_outs_and_digests_sent,
    sessions_expire,
    tokens_are_found_by_hash_until_revoked_or_expired,
    login_failures_are_counted_per_key,
    records_are_versioned,
    an_unchanged_update_writes_nothing,
    several_writes_land_together_or_not_at_all,
    records_page_by_key,
    records_belong_to_their_org,
    kinds_and_keys_are_bounded,
    apply_creates_updates_and_deletes,
    apply_again_writes_nothing,
    apply_is_all_or_nothing,
    apply_rejects_a_key_written_twice,
    bodies_stream_in_key_order,
    revision_counts_changing_transactions,
    changes_filter_and_page_newest_first,
    evidence_round_trips_every_byte,
    readiness_never_goes_back,
    score_history_keeps_a_day_each,
    two_stores_share_one_database,
    the_trail_proves_itself,
    a_hand_edited_trail_is_caught,
    records_changed_past_the_store_are_caught,
    an_unchained_trail_is_sealed_on_opening,
);

fn write(kind: &str, key: &str, body: &str) -> Write {
    Write {
        kind: kind.to_owned(),
        key: key.to_owned(),
        body: body.to_owned(),
    }
}

/// A time `hours` from now (negative: in the past), as the store writes times.
fn in_hours(hours: i64) -> String {
    format_time(Timestamp::now() + SignedDuration::from_hours(hours))
}

async fn acme(db: &TestDb) -> Org {
    db.store.create_org("acme", "Acme Ltd").await.unwrap()
}

/// Every change of an organisation, oldest first.
async fn all_changes(db: &TestDb, org_id: i64) -> Vec<Change> {
    let filter = ChangeFilter {
        limit: 1_000_000,
        ..ChangeFilter::default()
    };
    let mut changes = db.store.changes(org_id, &filter).await.unwrap();
    changes.reverse();
    changes
}

/// Every record of a kind, by key.
async fn all_records(db: &TestDb, org_id: i64, kind: &str) -> Vec<Record> {
    db.store
        .records(org_id, kind, None, 1_000_000)
        .await
        .unwrap()
}

async fn migrations_run_once_and_reopen(db: &TestDb) {
    let org = acme(db).await;
    // Opening again runs the migrations again: they find themselves applied.
    for _ in 0..2 {
        let again = open(&db.url).await.unwrap();
        assert_eq!(
            again.org("acme").await.unwrap(),
            Some(org.clone()),
            "{}",
            db.label
        );
        again.close().await;
    }
    let engine = match db.label {
        "sqlite" => Engine::Sqlite,
        _ => Engine::Postgres,
    };
    assert_eq!(db.store.engine(), engine);
    assert_eq!(db.store.url(), db.url);
    if db.store.engine() == Engine::Sqlite {
        let path = db.url.trim_start_matches("sqlite://");
        assert!(
            std::path::Path::new(&format!("{path}-wal")).exists(),
            "the SQLite file is in WAL mode"
        );
    }
}

#[tokio::test]
async fn sqlite_creates_the_file_and_its_folder() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("a/b/store.db");
    let url = format!("sqlite://{}", path.display());
    let store = open(&url).await.unwrap();
    store.create_org("acme", "Acme").await.unwrap();
    assert!(path.exists());
    store.close().await;
}

#[tokio::test]
async fn sqlite_in_memory_keeps_one_database() {
    let store = open("sqlite::memory:").await.unwrap();
    store.create_org("acme", "Acme").await.unwrap();
    // A pool of several connections would each see an empty database of their own.
    for _ in 0..3 {
        assert_eq!(store.orgs().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn unknown_schemes_are_refused() {
    for url in ["mysql://localhost/x", "store.db", ""] {
        let error = open(url).await.unwrap_err();
        assert!(matches!(error, StoreError::Database(_)), "{url}: {error:?}");
    }
}

async fn orgs_have_unique_slugs(db: &TestDb) {
    let s = &db.store;
    let zeta = s.create_org("zeta", "Zeta").await.unwrap();
    let acme = acme(db).await;
    assert_eq!(
        (acme.slug.as_str(), acme.name.as_str(), acme.revision),
        ("acme", "Acme Ltd", 0)
    );
    assert_eq!(acme.created_at.len(), 24, "{}", acme.created_at);
    match s.create_org("acme", "Another").await {
        Err(StoreError::Conflict(message)) => assert!(message.contains("acme"), "{message}"),
        other => panic!("{}: {other:?}", db.label),
    }
    assert_eq!(s.org("acme").await.unwrap(), Some(acme.clone()));
    assert_eq!(s.org("nobody").await.unwrap(), None);
    assert_eq!(s.orgs().await.unwrap(), vec![acme, zeta], "by slug");
}

async fn emails_are_trimmed_and_case_insensitive(db: &TestDb) {
    let s = &db.store;
    let user = s
        .create_user("  Alice@Example.COM ", "Alice", Some("hash"))
        .await
        .unwrap();
    assert_eq!(user.email, "alice@example.com");
    assert_eq!(user.password_hash.as_deref(), Some("hash"));
    let bob = s.create_user("bob@example.com", "Bob", None).await.unwrap();
    assert_eq!(bob.password_hash, None);
    assert_eq!(s.user(bob.id).await.unwrap(), Some(bob));
    assert_eq!(s.user(-1).await.unwrap(), None);

    let cases = [
        ("alice@example.com", true),
        ("ALICE@EXAMPLE.COM", true),
        ("\talice@Example.com\n", true),
        ("alice@example.org", false),
        ("", false),
    ];
    for (email, found) in cases {
        let got = s.user_by_email(email).await.unwrap();
        assert_eq!(
            got.as_ref(),
            found.then_some(&user),
            "{}: {email:?}",
            db.label
        );
    }
    for email in ["ALICE@example.com", " alice@example.com"] {
        match s.create_user(email, "Again", None).await {
            Err(StoreError::Conflict(message)) => {
                assert!(message.contains("alice@example.com"), "{message}")
            }
            other => panic!("{}: {email:?}: {other:?}", db.label),
        }
    }
}

async fn passwords_change(db: &TestDb) {
    let s = &db.store;
    let user = s.create_user("a@example.com", "A", None).await.unwrap();
    s.set_password(user.id, "new-hash").await.unwrap();
    let user = s.user(user.id).await.unwrap().unwrap();
    assert_eq!(user.password_hash.as_deref(), Some("new-hash"));
    assert!(matches!(
        s.set_password(user.id + 100, "x").await,
        Err(StoreError::NotFound)
    ));
}

async fn memberships_upsert_and_keep_expiry(db: &TestDb) {
    let s = &db.store;
    let acme = acme(db).await;
    let beta = s.create_org("beta", "Beta").await.unwrap();
    let alice = s
        .create_user("alice@example.com", "Alice", None)
        .await
        .unwrap();
    let carol = s
        .create_user("carol@example.com", "Carol", None)
        .await
        .unwrap();

    let first = s
        .set_membership(acme.id, alice.id, "viewer", None)
        .await
        .unwrap();
    assert_eq!(
        (first.role.as_str(), first.expires_at.as_deref()),
        ("viewer", None)
    );
    // Times come back in the store's form, whatever form they went in.
    let second = s
        .set_membership(
            acme.id,
            alice.id,
            "auditor",
            Some("2030-01-01T01:00:00+01:00"),
        )
        .await
        .unwrap();
    assert_eq!(second.role, "auditor");
    assert_eq!(
        second.expires_at.as_deref(),
        Some("2030-01-01T00:00:00.000Z")
    );
    assert_eq!(
        second.created_at, first.created_at,
        "a new role keeps the grant date"
    );
    assert_eq!(
        s.membership(acme.id, alice.id).await.unwrap(),
        Some(second.clone())
    );

    // Expired memberships are still returned: the server decides what they allow.
    let expired = s
        .set_membership(acme.id, carol.id, "admin", Some(&in_hours(-1)))
        .await
        .unwrap();
    assert_eq!(
        s.membership(acme.id, carol.id).await.unwrap(),
        Some(expired.clone())
    );
    let beta_membership = s
        .set_membership(beta.id, alice.id, "manager", None)
        .await
        .unwrap();

    let members = s.members(acme.id).await.unwrap();
    assert_eq!(
        members,
        vec![(alice.clone(), second.clone()), (carol.clone(), expired)]
    );
    let of_alice = s.memberships(alice.id).await.unwrap();
    assert_eq!(
        of_alice,
        vec![(acme.clone(), second), (beta, beta_membership)]
    );

    s.remove_membership(acme.id, carol.id).await.unwrap();
    assert_eq!(s.membership(acme.id, carol.id).await.unwrap(), None);
    assert!(matches!(
        s.remove_membership(acme.id, carol.id).await,
        Err(StoreError::NotFound)
    ));
    for (org_id, user_id) in [(acme.id, carol.id + 100), (acme.id + 100, carol.id)] {
        let result = s.set_membership(org_id, user_id, "viewer", None).await;
        assert!(
            matches!(result, Err(StoreError::NotFound)),
            "{}: {result:?}",
            db.label
        );
    }
    let result = s
        .set_membership(acme.id, carol.id, "viewer", Some("next week"))
        .await;
    assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");
}

async fn sessions_expire(db: &TestDb) {
    let s = &db.store;
    let alice = s
        .create_user("alice@example.com", "Alice", None)
        .await
        .unwrap();
    let bob = s.create_user("bob@example.com", "Bob", None).await.unwrap();
    let session = |id: &str, user_id, hours| Session {
        id_hash: id.to_owned(),
        user_id,
        csrf: format!("csrf-{id}"),
        created_at: in_hours(-2),
        expires_at: in_hours(hours),
    };
    let live = session("live", alice.id, 1);
    for s_ in [
        &live,
        &session("old", alice.id, -1),
        &session("bob", bob.id, 1),
    ] {
        s.create_session(s_).await.unwrap();
    }
    assert_eq!(s.session("live").await.unwrap(), Some(live.clone()));
    assert_eq!(s.session("old").await.unwrap(), None, "expired");
    assert_eq!(s.session("none").await.unwrap(), None);
    assert!(matches!(
        s.create_session(&live).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.create_session(&session("ghost", bob.id + 100, 1)).await,
        Err(StoreError::NotFound)
    ));

    assert_eq!(s.purge_expired().await.unwrap(), 1, "the expired session");
    assert_eq!(s.purge_expired().await.unwrap(), 0);
    s.delete_session("live").await.unwrap();
    s.delete_session("live").await.unwrap();
    assert_eq!(s.session("live").await.unwrap(), None);
    s.delete_sessions_of(bob.id).await.unwrap();
    assert_eq!(s.session("bob").await.unwrap(), None);
}

async fn tokens_are_found_by_hash_until_revoked_or_expired(db: &TestDb) {
    let s = &db.store;
    let alice = s
        .create_user("alice@example.com", "Alice", None)
        .await
        .unwrap();
    let bob = s.create_user("bob@example.com", "Bob", None).await.unwrap();
    let ci = s.create_token(alice.id, "ci", "h1", None).await.unwrap();
    let expiring = s
        .create_token(alice.id, "laptop", "h2", Some(&in_hours(24)))
        .await
        .unwrap();
    let expired = s
        .create_token(alice.id, "old", "h3", Some(&in_hours(-1)))
        .await
        .unwrap();
    let bobs = s.create_token(bob.id, "ci", "h4", None).await.unwrap();
    assert_eq!(
        (ci.user_id, ci.name.as_str(), ci.expires_at.as_deref()),
        (alice.id, "ci", None)
    );

    let cases = [
        ("h1", Some(&ci)),
        ("h2", Some(&expiring)),
        ("h3", None),
        ("h4", Some(&bobs)),
        ("nope", None),
    ];
    for (hash, expected) in cases {
        let got = s.token_by_hash(hash).await.unwrap();
        assert_eq!(got.as_ref(), expected, "{}: {hash}", db.label);
    }
    assert_eq!(
        s.tokens(alice.id).await.unwrap(),
        vec![ci.clone(), expiring.clone(), expired.clone()]
    );
    assert!(matches!(
        s.create_token(bob.id, "dup", "h1", None).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.create_token(bob.id + 100, "ghost", "h9", None).await,
        Err(StoreError::NotFound)
    ));

    // Only the owner revokes a token.
    assert!(matches!(
        s.revoke_token(bob.id, ci.id).await,
        Err(StoreError::NotFound)
    ));
    s.revoke_token(alice.id, ci.id).await.unwrap();
    assert_eq!(s.token_by_hash("h1").await.unwrap(), None);
    assert!(matches!(
        s.revoke_token(alice.id, ci.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.tokens(alice.id).await.unwrap(), vec![expiring, expired]);
}

async fn login_failures_are_counted_per_key(db: &TestDb) {
    let s = &db.store;
    for key in [
        "alice@example.com",
        "alice@example.com",
        "alice@example.com",
        "10.0.0.1",
    ] {
        s.login_failure(key).await.unwrap();
    }
    let cases = [
        ("alice@example.com", in_hours(-1), 3),
        ("alice@example.com", in_hours(1), 0),
        ("10.0.0.1", in_hours(-1), 1),
        ("bob@example.com", in_hours(-1), 0),
    ];
    for (key, since, expected) in &cases {
        let count = s.login_failures_since(key, since).await.unwrap();
        assert_eq!(count, *expected, "{}: {key} since {since}", db.label);
    }
    assert_eq!(
        s.purge_expired().await.unwrap(),
        0,
        "failures within the day stay"
    );
    s.clear_login_failures("alice@example.com").await.unwrap();
    assert_eq!(
        s.login_failures_since("alice@example.com", &in_hours(-1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.login_failures_since("10.0.0.1", &in_hours(-1))
            .await
            .unwrap(),
        1
    );
    assert!(matches!(
        s.login_failures_since("10.0.0.1", "an hour ago").await,
        Err(StoreError::Invalid(_))
    ));
}

async fn records_are_versioned(db: &TestDb) {
    let s = &db.store;
    let org = acme(db).await;
    let sla = |body: &str| write("slas", "SLA-1", body);

    let created = s.create(org.id, "alice", &sla("{\"v\":1}")).await.unwrap();
    assert_eq!(
        (
            created.kind.as_str(),
            created.key.as_str(),
            created.version,
            created.updated_by.as_str()
        ),
        ("slas", "SLA-1", 1, "alice")
    );
    assert_eq!(
        s.record(org.id, "slas", "SLA-1").await.unwrap(),
        Some(created.clone())
    );
    match s.create(org.id, "bob", &sla("{}")).await {
        Err(StoreError::Conflict(message)) => assert!(message.contains("slas/SLA-1"), "{message}"),
        other => panic!("{}: {other:?}", db.label),
    }

    let updated = s.update(org.id, "bob", &sla("{\"v\":2}"), 1).await.unwrap();
    assert_eq!((updated.version, updated.body.as_str()), (2, "{\"v\":2}"));
    assert_eq!(updated.updated_by, "bob");
    // The caller read version 1, but the record moved on.
    let stale = s.update(org.id, "carol", &sla("{\"v\":3}"), 1).await;
    assert!(
        matches!(stale, Err(StoreError::Stale { current: 2 })),
        "{stale:?}"
    );
    let stale = s.delete(org.id, "carol", "slas", "SLA-1", Some(1)).await;
    assert!(
        matches!(stale, Err(StoreError::Stale { current: 2 })),
        "{stale:?}"
    );
    assert_eq!(
        s.record(org.id, "slas", "SLA-1").await.unwrap(),
        Some(updated)
    );

    s.delete(org.id, "carol", "slas", "SLA-1", Some(2))
        .await
        .unwrap();
    assert_eq!(s.record(org.id, "slas", "SLA-1").await.unwrap(), None);
    for result in [
        s.delete(org.id, "carol", "slas", "SLA-1", None).await,
        s.update(org.id, "carol", &sla("{}"), 2).await.map(drop),
        s.create(org.id + 100, "carol", &sla("{}")).await.map(drop),
    ] {
        assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    }
    s.create(org.id, "dave", &sla("{\"v\":1}")).await.unwrap();
    s.delete(org.id, "dave", "slas", "SLA-1", None)
        .await
        .unwrap();

    let trail: Vec<_> = all_changes(db, org.id)
        .await
        .into_iter()
        .map(|c| (c.actor, c.action, c.before, c.after, c.diff))
        .collect();
    let some = |s: &str| Some(s.to_owned());
    // An update keeps what changed; a delete the body it removed.
    assert_eq!(
        trail,
        vec![
            (
                "alice".into(),
                "create".into(),
                None,
                some("{\"v\":1}"),
                None
            ),
            (
                "bob".into(),
                "update".into(),
                None,
                None,
                some("{\"v\":{\"from\":1,\"to\":2}}")
            ),
            (
                "carol".into(),
                "delete".into(),
                some("{\"v\":2}"),
                None,
                None
            ),
            (
                "dave".into(),
                "create".into(),
                None,
                some("{\"v\":1}"),
                None
            ),
            (
                "dave".into(),
                "delete".into(),
                some("{\"v\":1}"),
                None,
                None
            ),
        ],
        "{}",
        db.label
    );
}

async fn an_unchanged_update_writes_nothing(db: &TestDb) {
    let s = &db.store;
    let org = acme(db).await;
    let record = s
        .create(org.id, "alice", &write("slas", "SLA-1", "{}"))
        .await
        .unwrap();
    let revision = s.revision(org.id).await.unwrap();
    let same = s
        .update(org.id, "bob", &write("slas", "SLA-1", "{}"), 1)
        .await
        .unwrap();
    assert_eq!(same, record, "no new version, still by alice");
    assert_eq!(s.revision(org.id).await.unwrap(), revision);
    assert_eq!(all_changes(db, org.id).await.len(), 1);
    // A stale caller is told so even when its body happens to match.
    let s2 = s
        .update(org.id, "bob", &write("slas", "SLA-1", "{}"), 7)
        .await;
    assert!(
        matches!(s2, Err(StoreError::Stale { current: 1 })),
        "{s2:?}"
    );
}

async fn several_writes_land_together_or_not_at_all(db: &TestDb) {
    let s = &db.store;
    let org = acme(db).await;
    let audit = s
        .create(org.id, "alice", &write("audits", "IA-1", "{\"f\":1}"))
        .await
        .unwrap();
    let revision = s.revision(org.id).await.unwrap();
    // A create and an update at once: one revision, one trail entry each.
    let done = s
        .write_all(
            org.id,
            "bob",
            &[
                (write("nonconformities", "NC-1", "{\"n\":1}"), None),
                (write("audits", "IA-1", "{\"f\":2}"), Some(audit.version)),
            ],
        )
        .await
        .unwrap();
    assert_eq!(done.len(), 2, "{}", db.label);
    assert_eq!((done[0].version, done[1].version), (1, 2));
    assert_eq!(s.revision(org.id).await.unwrap(), revision + 1);
    assert_eq!(all_changes(db, org.id).await.len(), 3);
    // A stale update undoes the create before it.
    let stale = s
        .write_all(
            org.id,
            "bob",
            &[
                (write("nonconformities", "NC-2", "{}"), None),
                (write("audits", "IA-1", "{\"f\":3}"), Some(1)),
            ],
        )
        .await;
    assert!(
        matches!(stale, Err(StoreError::Stale { current: 2 })),
        "{stale:?}"
    );
    assert!(
        s.record(org.id, "nonconformities", "NC-2")
            .await
            .unwrap()
            .is_none()
    );
    // So does a key that is taken.
    let taken = s
        .write_all(
            org.id,
            "bob",
            &[
                (write("audits", "IA-1", "{\"f\":4}"), Some(2)),
                (write("nonconformities", "NC-1", "{}"), None),
            ],
        )
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert_eq!(
        s.record(org.id, "audits", "IA-1")
            .await
            .unwrap()
            .unwrap()
            .body,
        "{\"f\":2}"
    );
    assert_eq!(s.revision(org.id).await.unwrap(), revision + 1);
    assert_eq!(all_changes(db, org.id).await.len(), 3);
    // Nothing different: nothing written.
    let same = s
        .write_all(
            org.id,
            "carol",
            &[(write("audits", "IA-1", "{\"f\":2}"), Some(2))],
        )
        .await
        .unwrap();
    assert_eq!(same[0].updated_by, "bob");
    assert_eq!(s.revision(org.id).await.unwrap(), revision + 1);
    assert!(s.verify_trail(org.id).await.unwrap().broken.is_none());
}

async fn records_page_by_key(db: &TestDb) {
    let s = &db.store;
    let org = acme(db).await;
    // Keys that sort differently by bytes and by a natural-language collation.
    let keys = [
        "b", "B", "a-2", "a10", "a2", "_x", "Z", "é", "e", "a 1", "0", "9",
    ];
    let writes = keys
        .iter()
        .map(|k| write("incidents", k, &format!("{{\"id\":\"{k}\"}}")));
    s.apply(org.id, "import", writes.collect(), &[])
        .await
        .unwrap();
    let mut expected: Vec<&str> = keys.to_vec();
    expected.sort_unstable();

    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = s
            .records(org.id, "incidents", after.as_deref(), 5)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|r| r.key.clone());
        pages.push(page.into_iter().map(|r| r.key).collect::<Vec<_>>());
    }
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![5, 5, 2],
        "{}",
        db.label
    );
    assert_eq!(pages.concat(), expected, "{}: byte order", db.label);
    assert_eq!(
        s.kinds(org.id).await.unwrap(),
        [("incidents".to_owned(), 12)]
    );
    assert!(
        s.records(org.id, "incidents", None, 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.records(org.id, "incidents", None, -1)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn records_belong_to_their_org(db: &TestDb) {
    let s = &db.store;
    let acme = acme(db).await;
    let beta = s.create_org("beta", "Beta").await.unwrap();
    s.create(acme.id, "a", &write("slas", "SLA-1", "acme"))
        .await
        .unwrap();
    s.create(beta.id, "b", &write("slas", "SLA-1", "beta"))
        .await
        .unwrap();
    s.create(beta.id, "b", &write("incidents", "I-1", "beta"))
        .await
        .unwrap();
    assert_eq!(
        s.record(acme.id, "slas", "SLA-1")
            .await
            .unwrap()
            .unwrap()
            .body,
        "acme"
    );
    assert_eq!(
        s.record(beta.id, "slas", "SLA-1")
            .await
            .unwrap()
            .unwrap()
            .body,
        "beta"
    );
    assert_eq!(
        s.kinds(acme.id).await.unwrap(),
        vec![("slas".to_owned(), 1)]
    );
    assert_eq!(
        s.kinds(beta.id).await.unwrap(),
        vec![("incidents".to_owned(), 1), ("slas".to_owned(), 1)]
    );
    assert_eq!(all_changes(db, acme.id).await.len(), 1);
    // Replacing acme's slas leaves beta's alone.
    s.apply(acme.id, "a", vec![], &["slas".to_owned()])
        .await
        .unwrap();
    assert_eq!(s.kinds(acme.id).await.unwrap(), []);
    assert_eq!(count(s, beta.id, "slas").await, 1);
}

async fn kinds_and_keys_are_bounded(db: &TestDb) {
    let s = &db.store;
    let org = acme(db).await;
    let long = "k".repeat(501);
    let kind = "k".repeat(101);
    let cases = [
        (write("slas", "", "{}"), false),
        (write("", "SLA-1", "{}"), false),
        (write("slas", &long, "{}"), false),
        (write(&kind, "SLA-1", "{}"), false),
        (write("slas", &long[..500], "{}"), true),
        (write(&kind[..100], "SLA-1", "{}"), true),
        (write("slas", "ü".repeat(500).as_str(), "{}"), true),
    ];
    for (w, valid) in cases {
        let result = s.create(org.id, "a", &w).await;
        assert_eq!(
            result.is_ok(),
            valid,
            "{}: {}/{}: {result:?}",
            db.label,
            w.kind.len(),
            w.key.len()
        );
        if !valid {
            assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");
        }
    }
}

async fn apply_creates_updates_and_deletes(db: &TestDb) {
    let s = &db.store;
    let org = acme(db).await;
    let first = vec![
        write("incidents", "I-1", "{\"p\":1}"),
        write("incidents", "I-2", "{\"p\":2}"),
        write("incidents", "I-3", "{\"p\":3}"),
        write("slas", "SLA-1", "{}"),
        write("services", "S-1", "{}"),
    ];
    let summary = s.apply(org.id, "import", first, &[]).await.unwrap();
    assert_eq!(
        summary,
        ApplySummary {
            created: 5,
            ..ApplySummary::default()
        }
    );

    struct Case {
        writes: Vec<Write>,
        replace: &'static [&'static str],
        expected: ApplySummary,
        incidents: &'static [(&'static str, i64, &'static str)],
    }
    let cases = [
        Case {
            // I-1 unchanged, I-2 updated, I-4 created; nothing replaced, so I-3 stays.
            writes: vec![
                write("incidents", "I-1", "{\"p\":1}"),
                write("incidents", "I-2", "{\"p\":1}"),
                write("incidents", "I-4", "{\"p\":4}"),
            ],
            replace: &[],
            expected: ApplySummary {
                created: 1,
                updated: 1,
                unchanged: 1,
                deleted: 0,
            },
            incidents: &[
                ("I-1", 1, "{\"p\":1}"),
                ("I-2", 2, "{\"p\":1}"),
                ("I-3", 1, "{\"p\":3}"),
                ("I-4", 1, "{\"p\":4}"),
            ],
        },
        Case {
            // Replacing incidents deletes those not written; slas are replaced by nothing.
            writes: vec![
                write("incidents", "I-2", "{\"p\":2}"),
                write("incidents", "I-4", "{\"p\":4}"),
                write("incidents", "I-5", "{\"p\":5}"),
            ],
            replace: &["incidents", "slas"],
            expected: ApplySummary {
                created: 1,
                updated: 1,
                unchanged: 1,
                deleted: 3,
            },
            incidents: &[
                ("I-2", 3, "{\"p\":2}"),
                ("I-4", 1, "{\"p\":4}"),
                ("I-5", 1, "{\"p\":5}"),
            ],
        },
        Case {
            writes: vec![],
            replace: &["incidents"],
            expected: ApplySummary {
                deleted: 3,
                ..ApplySummary::default()
            },
            incidents: &[],
        },
    ];
    for (i, case) in cases.into_iter().enumerate() {
        let replace: Vec<String> = case.replace.iter().map(|k| k.to_string()).collect();
        let summary = s
            .apply(org.id, "import", case.writes, &replace)
            .await
            .unwrap();
        assert_eq!(summary, case.expected, "{}: case {i}", db.label);
        let incidents: Vec<_> = all_records(db, org.id, "incidents")
            .await
            .into_iter()
            .map(|r| (r.key, r.version, r.body))
            .collect();
        let expected: Vec<_> = case
            .incidents
            .iter()
            .map(|(k, v, b)| (k.to_string(), *v, b.to_string()))
            .collect();
        assert_eq!(incidents, expected, "{}: case {i}", db.label);
    }
    assert_eq!(
        s.kinds(org.id).await.unwrap(),
        vec![("services".to_owned(), 1)]
    );

    // One change per record touched: a create keeps the body's digest (the record holds the
    // body), an update what changed, a delete the body it removed.
    let trail = all_changes(db, org.id).await;
    let count = |action: &str| trail.iter().filter(|c| c.action == action).count();
    assert_eq!(
        (count("create"), count("update"), count("delete")),
        (7, 2, 6)
    );
    let i2: Vec<_> = trail
        .iter()
        .filter(|c| c.key == "I-2")
        .map(|c| {
            (
                c.action.as_str(),
                c.before.as_deref(),
                c.after.as_deref(),
                c.diff.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        i2,
        vec![
            ("create", None, None, None),
            ("update", None, None, Some("{\"p\":{\"from\":2,\"to\":1}}")),
            ("update", None, None, Some("{\"p\":{\"from\":1,\"to\":2}}")),
            ("delete", Some("{\"p\":2}"), None, None),
        ]
    );
    let created = trail.iter().find(|c| c.key == "I-2").unwrap();
    // SHA-256, hex.
    assert_eq!(created.digest.as_ref().map(String::len), Some(64));
    assert!(trail.iter().all(|c| c.actor == "import"));
}

/// `n` incidents with bodies that depend on `seed`.
fn incidents(n: usize, seed: &str) -> Vec<Write> {
    (0..n)
        .map(|i| {
            write(
                "incidents",
                &format!("INC{i:07}"),
                &format!("{{\"n\":{i},\"s\":\"{seed}\"}}"),
            )
        })
        .collect()
}

async fn apply_again_writes_nothing(db: &TestDb) {
    let s = &db.store;
    let org = acme(db).await;
    let writes = incidents(2_500, "a");
    let replace = ["incidents".to_owned()];
    let summary = s
        .apply(org.id, "import", writes.clone(), &replace)
        .await
        .unwrap();
    assert_eq!(summary.created, 2_500);
    let revision = s.revision(org.id).await.unwrap();
    let changes = all_changes(db, org.id).await.len();
    let summary = s.apply(org.id, "again", writes, &replace).await.unwrap();
    assert_eq!(
        summary,
        ApplySummary {
            unchanged: 2_500,
            ..ApplySummary::default()
        }
    );
    assert_eq!(s.revision(org.id).await.unwrap(), revision);
    assert_eq!(all_changes(db, org.id).await.len(), changes);
    assert!(
        all_records(db, org.id, "incidents")
            .await
            .iter()
            .all(|r| r.version == 1)
    );
}

async fn apply_is_all_or_nothing(db: &TestDb) {
    let s = &db.store;
    let org = acme(db).await;
    s.apply(org.id, "import", incidents(3_000, "a"), &[])
        .await
        .unwrap();
    s.create(org.id, "alice", &write("slas", "SLA-1", "{}"))
        .await
        .unwrap();
    let before = (
        all_records(db, org.id, "incidents").await,
        all_records(db, org.id, "slas").await,
        all_changes(db, org.id).await,
        s.revision(org.id).await.unwrap(),
    );

    // 1,001 deletions, 2,000 updates and 2,500 creations succeed, in batches, before the
    // last creation, whose key sorts last and is too long, fails in the database.
    let mut writes = incidents(2_000, "b");
    writes.extend((0..2_500).map(|i| write("incidents", &format!("NEW{i:05}"), "{}")));
    writes.push(write("incidents", &"z".repeat(501), "{}"));
    let result = s
        .apply(
            org.id,
            "import",
            writes,
            &["incidents".to_owned(), "slas".to_owned()],
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::Invalid(_))),
        "{}: {result:?}",
        db.label
    );

    let after = (
        all_records(db, org.id, "incidents").await,
        all_records(db, org.id, "slas").await,
        all_changes(db, org.id).await,
        s.revision(org.id).await.unwrap(),
    );
    assert!(
        before == after,
        "{}: the failed import left traces",
        db.label
    );
}

async fn apply_rejects_a_key_written_twice(db: &TestDb) {
    let s = &db.store;
    let org = acme(db).await;
    let writes = vec![
        write("incidents", "I-1", "{}"),
        write("incidents", "I-2", "{}"),
        write("incidents", "I-1", "{\"again\":true}"),
    ];
    match s.apply(org.id, "import", writes, &[]).await {
        Err(StoreError::Conflict(message)) => {
            assert!(message.contains("incidents/I-1"), "{message}")
        }
        other => panic!("{}: {other:?}", db.label),
    }
    assert_eq!(count(s, org.id, "incidents").await, 0);
    assert_eq!(s.revision(org.id).await.unwrap(), 0);
    assert!(matches!(
        s.apply(org.id + 100, "import", vec![write("slas", "S", "{}")], &[])
            .await,
        Err(StoreError::NotFound)
    ));
}

async fn bodies_stream_in_key_order(db: &TestDb) {
    let s = &db.store;
    let org = acme(db).await;
    let mut writes = incidents(1_500, "a");
    writes.reverse();
    writes.push(write("slas", "SLA-1", "not an incident"));
    s.apply(org.id, "import", writes, &[]).await.unwrap();
    let bodies: Vec<String> = s.bodies(org.id, "incidents").try_collect().await.unwrap();
    let expected: Vec<String> = incidents(1_500, "a").into_iter().map(|w| w.body).collect();
    assert_eq!(bodies, expected, "{}", db.label);
    let none: Vec<String> = s.bodies(org.id, "problems").try_collect().await.unwrap();
    assert!(none.is_empty());
}

async fn revision_counts_changing_transactions(db: &TestDb) {
    let s = &db.store;
    let org = acme(db).await;
    assert_eq!(s.revision(org.id).await.unwrap(), 0);
    let w = write("slas", "SLA-1", "{}");
    let evidence = NewEvidence {
        kind: "slas".into(),
        key: "SLA-1".into(),
        name: "sla.pdf".into(),
        media_type: "application/pdf".into(),
        sha256: "00".into(),
        data: vec![1, 2, 3],
    };
    // Each step and by how much it moves the revision.
    s.create(org.id, "a", &w).await.unwrap();
    assert_eq!(s.revision(org.id).await.unwrap(), 1);
    let _ = s.create(org.id, "a", &w).await.unwrap_err();
    assert_eq!(
        s.revision(org.id).await.unwrap(),
        1,
        "a conflict changes nothing"
    );
    s.update(org.id, "a", &write("slas", "SLA-1", "{\"x\":1}"), 1)
        .await
        .unwrap();
    assert_eq!(s.revision(org.id).await.unwrap(), 2);
    let _ = s.update(org.id, "a", &w, 1).await.unwrap_err();
    assert_eq!(
        s.revision(org.id).await.unwrap(),
        2,
        "a stale update changes nothing"
    );
    let attached = s.add_evidence(org.id, "a", evidence).await.unwrap();
    assert_eq!(s.revision(org.id).await.unwrap(), 3);
    s.delete_evidence(org.id, "a", attached.id).await.unwrap();
    assert_eq!(s.revision(org.id).await.unwrap(), 4);
    s.apply(org.id, "a", incidents(10, "a"), &[]).await.unwrap();
    assert_eq!(
        s.revision(org.id).await.unwrap(),
        5,
        "one import, one revision"
    );
    s.put_readiness(org.id, "2018", "2026-11-26", 5, "{}")
        .await
        .unwrap();
    s.delete(org.id, "a", "slas", "SLA-1", None).await.unwrap();
    assert_eq!(s.revision(org.id).await.unwrap(), 6);
    assert_eq!(s.org("acme").await.unwrap().unwrap().revision, 6);
    assert!(matches!(
        s.revision(org.id + 100).await,
        Err(StoreError::NotFound)
    ));
}

async fn changes_filter_and_page_newest_first(db: &TestDb) {
    let s = &db.store;
    let org = acme(db).await;
    let other = s.create_org("beta", "Beta").await.unwrap();
    for (kind, key) in [
        ("slas", "A"),
        ("slas", "B"),
        ("incidents", "A"),
        ("slas", "A"),
    ] {
        match s.record(org.id, kind, key).await.unwrap() {
            None => drop(s.create(org.id, "x", &write(kind, key, "1")).await.unwrap()),
            Some(r) => drop(
                s.update(org.id, "x", &write(kind, key, "2"), r.version)
                    .await
                    .unwrap(),
            ),
        }
    }
    s.create(other.id, "y", &write("slas", "A", "other org"))
        .await
        .unwrap();
    let all = s.changes(org.id, &ChangeFilter::default()).await.unwrap();
    let ids: Vec<i64> = all.iter().map(|c| c.id).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let summary = |changes: &[Change]| -> Vec<String> {
        changes
            .iter()
            .map(|c| format!("{} {}/{}", c.action, c.kind, c.key))
            .collect()
    };
    assert_eq!(
        summary(&all),
        [
            "update slas/A",
            "create incidents/A",
            "create slas/B",
            "create slas/A"
        ]
    );
    assert!(all.iter().all(|c| c.at.len() == 24 && c.actor == "x"));

    let filter =
        |kind: Option<&str>, key: Option<&str>, before_id: Option<i64>, limit| ChangeFilter {
            kind: kind.map(str::to_owned),
            key: key.map(str::to_owned),
            before_id,
            limit,
        };
    let cases: Vec<(ChangeFilter, Vec<&str>)> = vec![
        (
            filter(Some("slas"), None, None, 10),
            vec!["update slas/A", "create slas/B", "create slas/A"],
        ),
        (
            filter(None, Some("A"), None, 10),
            vec!["update slas/A", "create incidents/A", "create slas/A"],
        ),
        (
            filter(Some("slas"), Some("A"), None, 10),
            vec!["update slas/A", "create slas/A"],
        ),
        (
            filter(None, None, None, 2),
            vec!["update slas/A", "create incidents/A"],
        ),
        (
            filter(None, None, Some(all[1].id), 2),
            vec!["create slas/B", "create slas/A"],
        ),
        (
            filter(Some("slas"), None, Some(all[0].id), 1),
            vec!["create slas/B"],
        ),
        (filter(None, None, Some(all[3].id), 10), vec![]),
        (filter(Some("problems"), None, None, 10), vec![]),
        (filter(None, None, None, 0), vec![]),
    ];
    for (f, expected) in cases {
        let got = s.changes(org.id, &f).await.unwrap();
        assert_eq!(summary(&got), expected, "{}: {f:?}", db.label);
    }
    assert_eq!(all[0].diff.as_deref(), Some("{\"\":{\"from\":1,\"to\":2}}"));
}

async fn evidence_round_trips_every_byte(db: &TestDb) {
    let s = &db.store;
    let org = acme(db).await;
    let other = s.create_org("beta", "Beta").await.unwrap();
    let data: Vec<u8> = (0..=255u8).cycle().take(256 * 40 + 7).collect();
    let new = |name: &str, data: Vec<u8>| NewEvidence {
        kind: "slas".into(),
        key: "SLA-1".into(),
        name: name.into(),
        media_type: "application/octet-stream".into(),
        sha256: format!("sha-of-{name}"),
        data,
    };
    let first = s
        .add_evidence(org.id, "alice", new("all-bytes.bin", data.clone()))
        .await
        .unwrap();
    let empty = s
        .add_evidence(org.id, "alice", new("empty.txt", vec![]))
        .await
        .unwrap();
    assert_eq!((first.size, empty.size), (data.len() as i64, 0));
    assert_eq!(
        (
            first.kind.as_str(),
            first.key.as_str(),
            first.created_by.as_str()
        ),
        ("slas", "SLA-1", "alice")
    );
    assert_eq!(
        s.evidence(org.id, "slas", "SLA-1").await.unwrap(),
        vec![first.clone(), empty.clone()]
    );
    assert!(
        s.evidence(org.id, "slas", "SLA-2")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.evidence(other.id, "slas", "SLA-1")
            .await
            .unwrap()
            .is_empty()
    );

    let (meta, bytes) = s.evidence_file(org.id, first.id).await.unwrap().unwrap();
    assert_eq!(meta, first);
    assert!(bytes == data, "{}: the blob changed on the way", db.label);
    assert_eq!(
        s.evidence_file(org.id, empty.id).await.unwrap().unwrap().1,
        Vec::<u8>::new()
    );
    assert_eq!(
        s.evidence_file(other.id, first.id).await.unwrap(),
        None,
        "another org's file"
    );
    assert!(matches!(
        s.delete_evidence(other.id, "mallory", first.id).await,
        Err(StoreError::NotFound)
    ));

    s.delete_evidence(org.id, "bob", first.id).await.unwrap();
    assert_eq!(
        s.evidence(org.id, "slas", "SLA-1").await.unwrap(),
        vec![empty]
    );
    assert_eq!(s.evidence_file(org.id, first.id).await.unwrap(), None);
    assert!(matches!(
        s.delete_evidence(org.id, "bob", first.id).await,
        Err(StoreError::NotFound)
    ));

    let trail = all_changes(db, org.id).await;
    let actions: Vec<_> = trail
        .iter()
        .map(|c| (c.action.as_str(), c.actor.as_str()))
        .collect();
    assert_eq!(
        actions,
        [("attach", "alice"), ("attach", "alice"), ("detach", "bob")]
    );
    let attached: serde_json::Value =
        serde_json::from_str(trail[0].after.as_deref().unwrap()).unwrap();
    let expected = serde_json::json!({
        "id": first.id,
        "name": "all-bytes.bin",
        "media_type": "application/octet-stream",
        "size": data.len(),
        "sha256": "sha-of-all-bytes.bin",
    });
    assert_eq!(attached, expected);
    assert_eq!(trail[0].before, None);
    assert_eq!(
        trail[2].before, trail[0].after,
        "detach keeps what was attached"
    );
    assert_eq!(trail[2].after, None);
}

async fn score_history_keeps_a_day_each(db: &TestDb) {
    let s = &db.store;
    let org = acme(db).await;
    assert_eq!(s.score_history(org.id, "2018", 30).await.unwrap(), []);
    for (day, revision, overall) in [
        ("2026-11-20", 1, 40.5),
        ("2026-11-21", 2, 42.0),
        ("2026-11-21", 4, 47.5),
        ("2026-11-21", 3, 45.0),
        ("2026-11-23", 5, 61.0),
    ] {
        s.record_score(org.id, "2018", day, revision, overall)
            .await
            .unwrap();
    }
    s.record_score(org.id, "2011", "2026-11-23", 5, 12.0)
        .await
        .unwrap();
    assert_eq!(
        s.score_history(org.id, "2018", 30).await.unwrap(),
        [
            ("2026-11-20".to_owned(), 40.5),
            ("2026-11-21".to_owned(), 47.5),
            ("2026-11-23".to_owned(), 61.0)
        ],
        "{}: the newest revision wins a day",
        db.label
    );
    assert_eq!(
        s.score_history(org.id, "2018", 2).await.unwrap(),
        [
            ("2026-11-21".to_owned(), 47.5),
            ("2026-11-23".to_owned(), 61.0)
        ],
        "{}: the last days, oldest first",
        db.label
    );
}

async fn readiness_never_goes_back(db: &TestDb) {
    let s = &db.store;
    let org = acme(db).await;
    let day = "2026-11-26";
    assert_eq!(s.cached_readiness(org.id, "2018", day).await.unwrap(), None);
    // Each report put in turn, and the one cached afterwards.
    let cases = [
        (3, "r3", (3, "r3")),
        (2, "r2", (3, "r3")),
        (5, "r5", (5, "r5")),
        (5, "r5 again", (5, "r5 again")),
        (4, "r4", (5, "r5 again")),
    ];
    for (revision, body, expected) in cases {
        s.put_readiness(org.id, "2018", day, revision, body)
            .await
            .unwrap();
        let cached = s.cached_readiness(org.id, "2018", day).await.unwrap();
        assert_eq!(
            cached,
            Some((expected.0, expected.1.to_owned())),
            "{}: after r{revision}",
            db.label
        );
    }
    s.put_readiness(org.id, "2011", day, 1, "old edition")
        .await
        .unwrap();
    s.put_readiness(org.id, "2018", "2026-11-27", 1, "next day")
        .await
        .unwrap();
    assert_eq!(
        s.cached_readiness(org.id, "2011", day).await.unwrap(),
        Some((1, "old edition".to_owned()))
    );
    assert_eq!(
        s.cached_readiness(org.id, "2018", day).await.unwrap(),
        Some((5, "r5 again".to_owned()))
    );
    assert!(matches!(
        s.put_readiness(org.id + 100, "2018", day, 1, "{}").await,
        Err(StoreError::NotFound)
    ));
}

async fn two_stores_share_one_database(db: &TestDb) {
    let one = &db.store;
    let two = open(&db.url).await.unwrap();
    let org = acme(db).await;
    assert_eq!(two.org("acme").await.unwrap(), Some(org.clone()));
    let user = two
        .create_user("alice@example.com", "Alice", None)
        .await
        .unwrap();
    assert_eq!(
        one.user_by_email("alice@example.com").await.unwrap(),
        Some(user.clone())
    );
    two.login_failure("alice@example.com").await.unwrap();
    assert_eq!(
        one.login_failures_since("alice@example.com", &in_hours(-1))
            .await
            .unwrap(),
        1
    );

    // Both write to the same organisation at once: every write lands, none is lost to a lock.
    let writes = (0..20).map(|i| {
        let store: &dyn Store = if i % 2 == 0 { one } else { &two };
        let w = write("incidents", &format!("I-{i:02}"), "{}");
        async move { store.create(org.id, "x", &w).await }
    });
    let imports = (0..2).map(|i| {
        let store: &dyn Store = if i == 0 { one } else { &two };
        let writes = (0..500)
            .map(|n| write("problems", &format!("P-{i}-{n:03}"), "{}"))
            .collect();
        async move { store.apply(org.id, "y", writes, &[]).await }
    });
    let (created, imported) = futures::future::join(
        futures::future::join_all(writes),
        futures::future::join_all(imports),
    )
    .await;
    for result in created {
        result.unwrap();
    }
    for result in imported {
        assert_eq!(result.unwrap().created, 500);
    }
    assert_eq!(count(&two, org.id, "incidents").await, 20);
    assert_eq!(count(one, org.id, "problems").await, 1_000);
    assert_eq!(one.revision(org.id).await.unwrap(), 22);
    assert_eq!(two.revision(org.id).await.unwrap(), 22);
    two.close().await;
}

/// How many records of `kind` the organisation holds.
async fn count(store: &dyn Store, org_id: i64, kind: &str) -> i64 {
    store
        .kinds(org_id)
        .await
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == kind)
        .map_or(0, |(_, n)| n)
}

/// An organisation with a little of everything in its trail: single writes, an import that
/// creates, updates and deletes, evidence attached and detached.
async fn busy(db: &TestDb) -> Org {
    let s = &db.store;
    let org = acme(db).await;
    s.create(
        org.id,
        "alice",
        &write("slas", "S1", r#"{"id":"S1","target":99.5}"#),
    )
    .await
    .unwrap();
    s.update(
        org.id,
        "bob",
        &write("slas", "S1", r#"{"id":"S1","target":99.9}"#),
        1,
    )
    .await
    .unwrap();
    s.apply(org.id, "import", incidents(30, "a"), &[])
        .await
        .unwrap();
    s.apply(
        org.id,
        "import",
        incidents(20, "b"),
        &["incidents".to_owned()],
    )
    .await
    .unwrap();
    let evidence = s
        .add_evidence(
            org.id,
            "carol",
            NewEvidence {
                kind: "slas".into(),
                key: "S1".into(),
                name: "signed.pdf".into(),
                media_type: "application/pdf".into(),
                sha256: "00".into(),
                data: vec![1, 2, 3],
            },
        )
        .await
        .unwrap();
    s.delete_evidence(org.id, "carol", evidence.id)
        .await
        .unwrap();
    s.create(org.id, "dave", &write("risks", "R1", r#"{"id":"R1"}"#))
        .await
        .unwrap();
    s.delete(org.id, "dave", "risks", "R1", Some(1))
        .await
        .unwrap();
    org
}

async fn the_trail_proves_itself(db: &TestDb) {
    let s = &db.store;
    let empty = s.create_org("empty", "Empty").await.unwrap();
    let check = s.verify_trail(empty.id).await.unwrap();
    assert_eq!(
        (check.entries, check.head.as_str()),
        (0, ""),
        "{}",
        db.label
    );
    assert_eq!(check.broken, None);

    let org = busy(db).await;
    let trail = all_changes(db, org.id).await;
    let check = s.verify_trail(org.id).await.unwrap();
    assert_eq!(check.broken, None, "{}", db.label);
    assert_eq!(check.entries, trail.len() as i64);
    assert_eq!(check.head, trail.last().unwrap().hash);
    // Places run 1, 2, 3… and every hash differs.
    let places: Vec<i64> = trail.iter().map(|c| c.seq).collect();
    assert_eq!(places, (1..=trail.len() as i64).collect::<Vec<_>>());
    let hashes: std::collections::HashSet<&str> = trail.iter().map(|c| c.hash.as_str()).collect();
    assert_eq!(hashes.len(), trail.len());
    // Another organisation's writes do not touch this trail.
    s.create(empty.id, "eve", &write("slas", "X", "{}"))
        .await
        .unwrap();
    assert_eq!(s.verify_trail(org.id).await.unwrap(), check);
    assert_eq!(s.verify_trail(empty.id).await.unwrap().entries, 1);
    assert!(matches!(
        s.verify_trail(org.id + 1000).await,
        Err(StoreError::NotFound)
    ));
}

async fn a_hand_edited_trail_is_caught(db: &TestDb) {
    let s = &db.store;
    let org = busy(db).await;
    let trail = all_changes(db, org.id).await;
    let third = &trail[2];
    let broken = |check: iso20k_store::TrailCheck| check.broken.expect(db.label);

    // An entry edited: that entry is named.
    db.tamper(&format!(
        "UPDATE changes SET actor = 'mallory' WHERE id = {}",
        third.id
    ))
    .await;
    let found = broken(s.verify_trail(org.id).await.unwrap());
    assert_eq!((found.id, found.seq), (Some(third.id), 3), "{}", db.label);
    assert!(found.reason.contains("edited"), "{}", found.reason);
    db.tamper(&format!(
        "UPDATE changes SET actor = '{}' WHERE id = {}",
        third.actor, third.id
    ))
    .await;
    assert_eq!(s.verify_trail(org.id).await.unwrap().broken, None);

    // An entry removed from the middle: the next one says what is missing.
    db.tamper(&format!("DELETE FROM changes WHERE id = {}", trail[4].id))
        .await;
    let found = broken(s.verify_trail(org.id).await.unwrap());
    assert_eq!(
        (found.id, found.seq),
        (Some(trail[5].id), 5),
        "{}",
        db.label
    );
    assert!(found.reason.contains("missing"), "{}", found.reason);

    // Entries cut off the end: the organisation's head no longer meets the trail.
    let other = s.create_org("other", "Other").await.unwrap();
    s.create(other.id, "a", &write("slas", "A", "{}"))
        .await
        .unwrap();
    s.create(other.id, "a", &write("slas", "B", "{}"))
        .await
        .unwrap();
    db.tamper(&format!(
        "DELETE FROM changes WHERE org_id = {} AND seq = 2",
        other.id
    ))
    .await;
    db.tamper(&format!(
        "DELETE FROM records WHERE org_id = {} AND key = 'B'",
        other.id
    ))
    .await;
    let found = broken(s.verify_trail(other.id).await.unwrap());
    assert_eq!((found.id, found.seq), (None, 2), "{}", db.label);
    assert!(
        found.reason.contains("removed from its end"),
        "{}",
        found.reason
    );
}

async fn records_changed_past_the_store_are_caught(db: &TestDb) {
    let s = &db.store;
    let org = busy(db).await;
    let reason = |check: iso20k_store::TrailCheck| check.broken.expect(db.label).reason;

    db.tamper(&format!(
        "UPDATE records SET body = '{{\"id\":\"S1\",\"target\":50}}' WHERE org_id = {} \
         AND key = 'S1'",
        org.id
    ))
    .await;
    let found = reason(s.verify_trail(org.id).await.unwrap());
    assert!(
        found.contains("slas/S1") && found.contains("edited"),
        "{found}"
    );
    db.tamper(&format!(
        "UPDATE records SET body = '{{\"id\":\"S1\",\"target\":99.9}}' WHERE org_id = {} \
         AND key = 'S1'",
        org.id
    ))
    .await;
    assert_eq!(s.verify_trail(org.id).await.unwrap().broken, None);

    // A record the trail never saw, and one it saw that is gone.
    db.tamper(&format!(
        "INSERT INTO records (org_id, kind, key, version, body, updated_at, updated_by) \
         VALUES ({}, 'risks', 'R9', 1, '{{}}', '2026-01-01T00:00:00.000Z', 'x')",
        org.id
    ))
    .await;
    let found = reason(s.verify_trail(org.id).await.unwrap());
    assert!(
        found.contains("risks/R9") && found.contains("not in the trail"),
        "{found}"
    );
    db.tamper(&format!(
        "DELETE FROM records WHERE org_id = {} AND kind IN ('risks', 'slas')",
        org.id
    ))
    .await;
    let found = reason(s.verify_trail(org.id).await.unwrap());
    assert!(
        found.contains("slas/S1") && found.contains("deleted"),
        "{found}"
    );
}

async fn an_unchained_trail_is_sealed_on_opening(db: &TestDb) {
    let org = busy(db).await;
    let before = all_changes(db, org.id).await;
    // As a trail written before the chain existed: no places, no hashes, whole bodies.
    db.tamper("UPDATE changes SET seq = NULL, hash = NULL")
        .await;
    db.tamper(&format!(
        "UPDATE orgs SET trail_seq = 0, trail_head = '' WHERE id = {}",
        org.id
    ))
    .await;
    let reopened = open(&db.url).await.unwrap();
    let check = reopened.verify_trail(org.id).await.unwrap();
    assert_eq!(check.broken, None, "{}", db.label);
    assert_eq!(check.entries, before.len() as i64);
    // Writing goes on from the sealed head.
    reopened
        .create(org.id, "x", &write("slas", "S2", "{}"))
        .await
        .unwrap();
    let check = reopened.verify_trail(org.id).await.unwrap();
    assert_eq!(
        (check.entries, check.broken),
        (before.len() as i64 + 1, None)
    );
}

/// Everything a backup should carry, as comparable values: records, trail (without database
/// ids), evidence with its bytes, members and scores.
async fn contents(store: &dyn Store, org_id: i64) -> Vec<String> {
    let mut out = Vec::new();
    for (kind, _) in store.kinds(org_id).await.unwrap() {
        for r in store.records(org_id, &kind, None, 1_000_000).await.unwrap() {
            out.push(format!(
                "record {} {} v{} {} {} {}",
                r.kind, r.key, r.version, r.body, r.updated_at, r.updated_by
            ));
        }
    }
    let filter = ChangeFilter {
        limit: 1_000_000,
        ..ChangeFilter::default()
    };
    for c in store.changes(org_id, &filter).await.unwrap() {
        out.push(format!(
            "change {} {} {} {} {}/{} {:?} {:?} {:?} {:?} {}",
            c.seq,
            c.at,
            c.actor,
            c.action,
            c.kind,
            c.key,
            c.before,
            c.after,
            c.diff,
            c.digest,
            c.hash
        ));
    }
    for (kind, key) in [("slas", "S1"), ("risks", "R1")] {
        for e in store.evidence(org_id, kind, key).await.unwrap() {
            let (_, bytes) = store.evidence_file(org_id, e.id).await.unwrap().unwrap();
            out.push(format!(
                "evidence {} {} {} {:?}",
                e.name, e.sha256, e.created_by, bytes
            ));
        }
    }
    for (user, m) in store.members(org_id).await.unwrap() {
        out.push(format!(
            "member {} {} {:?} {:?} {:?}",
            user.email, m.role, m.expires_at, user.password_hash, m.person
        ));
    }
    out.push(format!(
        "{:?}",
        store.score_history(org_id, "2018", 100).await.unwrap()
    ));
    out
}

#[tokio::test]
async fn a_backup_restores_whole_on_either_engine_and_its_trail_still_verifies() {
    use iso20k_store::backup::Item;
    let sources = iso20k_store::testing::engines().await;
    for source in &sources {
        let s = &source.store;
        let org = busy(source).await;
        s.add_evidence(
            org.id,
            "carol",
            NewEvidence {
                kind: "slas".into(),
                key: "S1".into(),
                name: "kept.pdf".into(),
                media_type: "application/pdf".into(),
                sha256: "ab".into(),
                data: (0..=255).collect(),
            },
        )
        .await
        .unwrap();
        let ada = s
            .create_user("ada@acme.example", "Ada", Some("$argon2id$hash"))
            .await
            .unwrap();
        s.set_membership(org.id, ada.id, "auditor", Some(&in_hours(48)))
            .await
            .unwrap();
        s.set_person(org.id, ada.id, Some("a.lovelace"))
            .await
            .unwrap();
        s.record_score(org.id, "2018", "2026-11-30", 3, 0.42)
            .await
            .unwrap();
        let mut items = Vec::new();
        let counts = s
            .backup(org.id, &mut |item| {
                items.push(item);
                Ok(())
            })
            .await
            .unwrap();
        assert!(matches!(items[0], Item::Header { .. }));
        assert!(matches!(items.last(), Some(Item::End { .. })));
        assert_eq!((counts.users, counts.evidence), (1, 1), "{}", source.label);
        let original = contents(s, org.id).await;

        for target in iso20k_store::testing::engines().await {
            let t = &target.store;
            let restored = t
                .restore(&mut items.clone().into_iter().map(Ok), None)
                .await
                .unwrap();
            let from_to = format!("{} to {}", source.label, target.label);
            assert_eq!(restored.org.slug, "acme");
            assert_eq!(restored.counts, counts, "{from_to}");
            assert_eq!(contents(t, restored.org.id).await, original, "{from_to}");
            let check = t.verify_trail(restored.org.id).await.unwrap();
            assert_eq!(check.broken, None, "{from_to}");
            assert_eq!(check.head, s.verify_trail(org.id).await.unwrap().head);
            // Writing goes on from the restored head.
            t.create(restored.org.id, "x", &write("slas", "S9", "{}"))
                .await
                .unwrap();
            assert_eq!(t.verify_trail(restored.org.id).await.unwrap().broken, None);

            // Once more under another name: the accounts exist now and are kept as they are.
            match t
                .restore(&mut items.clone().into_iter().map(Ok), None)
                .await
            {
                Err(StoreError::Conflict(m)) => assert!(m.contains("--as"), "{m}"),
                other => panic!("{from_to}: {other:?}"),
            }
            let again = t
                .restore(&mut items.clone().into_iter().map(Ok), Some("acme-copy"))
                .await
                .unwrap();
            assert_eq!(again.existing_users, ["ada@acme.example"]);
            assert_eq!(t.verify_trail(again.org.id).await.unwrap().broken, None);

            // A backup cut off, out of order or unreadable restores nothing.
            let before = t.orgs().await.unwrap().len();
            let cut = items[..items.len() - 1].to_vec();
            let mut swapped = items.clone();
            let changes: Vec<usize> = (0..swapped.len())
                .filter(|&i| matches!(swapped[i], Item::Change { .. }))
                .collect();
            swapped.swap(changes[1], changes[2]);
            for (case, broken, expected) in [
                (
                    "cut off",
                    cut.into_iter().map(Ok).collect::<Vec<_>>(),
                    "cut off",
                ),
                (
                    "out of order",
                    swapped.into_iter().map(Ok).collect(),
                    "follows entry",
                ),
                (
                    "unreadable",
                    vec![Ok(items[0].clone()), Err("line 2: not JSON".to_owned())],
                    "item 2: line 2: not JSON",
                ),
            ] {
                match t.restore(&mut broken.into_iter(), Some("broken")).await {
                    Err(StoreError::Invalid(m)) => {
                        assert!(m.contains(expected), "{from_to} {case}: {m}")
                    }
                    other => panic!("{from_to} {case}: {other:?}"),
                }
            }
            assert_eq!(
                t.orgs().await.unwrap().len(),
                before,
                "{from_to}: all or nothing"
            );
        }
    }
}

async fn members_link_to_a_person_and_keep_the_link_across_role_changes(db: &TestDb) {
    let s = &db.store;
    let org = acme(db).await;
    let pat = s.create_user("pat@example.com", "Pat", None).await.unwrap();
    s.set_membership(org.id, pat.id, "manager", None)
        .await
        .unwrap();
    let person =
        |_: &TestDb| async move { s.membership(org.id, pat.id).await.unwrap().unwrap().person };
    assert_eq!(person(db).await, None, "{}", db.label);
    s.set_person(org.id, pat.id, Some(" p.owner "))
        .await
        .unwrap();
    assert_eq!(person(db).await.as_deref(), Some("p.owner"));
    // A new role keeps the link; so do the lists of members and of memberships.
    s.set_membership(org.id, pat.id, "admin", None)
        .await
        .unwrap();
    assert_eq!(person(db).await.as_deref(), Some("p.owner"));
    let members = s.members(org.id).await.unwrap();
    assert_eq!(members[0].1.person.as_deref(), Some("p.owner"));
    let memberships = s.memberships(pat.id).await.unwrap();
    assert_eq!(memberships[0].1.person.as_deref(), Some("p.owner"));
    s.set_person(org.id, pat.id, None).await.unwrap();
    assert_eq!(person(db).await, None);
    let other = s.create_org("other", "Other").await.unwrap();
    assert!(matches!(
        s.set_person(other.id, pat.id, Some("p.owner")).await,
        Err(StoreError::NotFound)
    ));
}

async fn reminders_feeds_opt_outs_and_digests_sent(db: &TestDb) {
    let s = &db.store;
    let org = acme(db).await;
    let pat = s.create_user("pat@example.com", "Pat", None).await.unwrap();
    s.set_membership(org.id, pat.id, "manager", None)
        .await
        .unwrap();
    let member = || async { s.membership(org.id, pat.id).await.unwrap().unwrap() };
    let fresh = member().await;
    assert!(!fresh.calendar && !fresh.digest_opt_out, "{}", db.label);

    // One feed per membership, found by its hash; a new one replaces it, revoking ends it.
    s.set_calendar(org.id, pat.id, "hash-1").await.unwrap();
    let (found_org, found) = s.calendar("hash-1").await.unwrap().unwrap();
    assert_eq!((found_org.slug.as_str(), found.user_id), ("acme", pat.id));
    assert!(found.calendar && member().await.calendar);
    s.set_calendar(org.id, pat.id, "hash-2").await.unwrap();
    assert!(s.calendar("hash-1").await.unwrap().is_none());
    assert!(s.calendar("hash-2").await.unwrap().is_some());
    assert!(s.members(org.id).await.unwrap()[0].1.calendar);
    s.revoke_calendar(org.id, pat.id).await.unwrap();
    s.revoke_calendar(org.id, pat.id).await.unwrap();
    assert!(s.calendar("hash-2").await.unwrap().is_none());
    assert!(!member().await.calendar);
    let other = s.create_org("other", "Other").await.unwrap();
    assert!(matches!(
        s.set_calendar(other.id, pat.id, "hash-3").await,
        Err(StoreError::NotFound)
    ));

    // The opt-out, kept across a change of role and through a backup.
    s.set_digest_opt_out(org.id, pat.id, true).await.unwrap();
    assert!(member().await.digest_opt_out);
    s.set_membership(org.id, pat.id, "viewer", None)
        .await
        .unwrap();
    assert!(member().await.digest_opt_out);
    assert!(matches!(
        s.set_digest_opt_out(other.id, pat.id, true).await,
        Err(StoreError::NotFound)
    ));
    let mut items = Vec::new();
    s.backup(org.id, &mut |item| {
        items.push(item);
        Ok(())
    })
    .await
    .unwrap();
    let restored = s
        .restore(&mut items.into_iter().map(Ok), Some("acme-copy"))
        .await
        .unwrap();
    let copy = s
        .membership(restored.org.id, pat.id)
        .await
        .unwrap()
        .unwrap();
    assert!(copy.digest_opt_out, "{}", db.label);
    assert!(!copy.calendar, "a feed's secret stays behind");
    s.set_digest_opt_out(org.id, pat.id, false).await.unwrap();
    assert!(!member().await.digest_opt_out);

    // A day's digest is claimed once; a claim given back can be made again.
    assert!(s.claim_digest(org.id, pat.id, "2026-12-03").await.unwrap());
    assert!(!s.claim_digest(org.id, pat.id, "2026-12-03").await.unwrap());
    assert!(s.claim_digest(org.id, pat.id, "2026-12-04").await.unwrap());
    s.release_digest(org.id, pat.id, "2026-12-03")
        .await
        .unwrap();
    assert!(s.claim_digest(org.id, pat.id, "2026-12-03").await.unwrap());

    // Leaving the organisation takes the feed and the memory of digests with it.
    s.set_calendar(org.id, pat.id, "hash-4").await.unwrap();
    s.remove_membership(org.id, pat.id).await.unwrap();
    assert!(s.calendar("hash-4").await.unwrap().is_none());
    s.set_membership(org.id, pat.id, "viewer", None)
        .await
        .unwrap();
    assert!(s.claim_digest(org.id, pat.id, "2026-12-03").await.unwrap());
}
