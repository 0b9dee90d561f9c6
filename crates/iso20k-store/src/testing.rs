//! Test databases on both engines, for this crate's tests and the server's (feature `testing`).
//!
//! ```no_run
//! # async fn example() {
//! use iso20k_store::Store;
//! for db in iso20k_store::testing::engines().await {
//!     let org = db.store.create_org("acme", "Acme").await.unwrap();
//!     assert_eq!(org.revision, 0, "{}", db.label);
//!     // A second store on the same database, as a second server process would open it.
//!     let other = iso20k_store::open(&db.url).await.unwrap();
//!     assert!(other.org("acme").await.unwrap().is_some(), "{}", db.label);
//! }
//! # }
//! ```
//!
//! SQLite always runs, on a file in a temporary folder. PostgreSQL runs when
//! [`POSTGRES_ENV`] holds the URL of a database the tests may connect to and create databases
//! from; each [`TestDb`] then gets a database of its own, dropped with it, so tests can run
//! concurrently.

use std::io::Write as _;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{AnyConnection, AssertSqlSafe, Connection};

use crate::{SqlStore, open};

/// The environment variable holding the PostgreSQL URL, e.g.
/// `postgres://postgres@127.0.0.1:5432/test`.
pub const POSTGRES_ENV: &str = "ISO20K_TEST_POSTGRES";

/// A fresh, migrated database and a store opened on it, removed when dropped.
#[derive(Debug)]
pub struct TestDb {
    /// `sqlite` or `postgres`, for assertion messages.
    pub label: &'static str,
    /// The URL another [`open`] can use to reach the same database.
    pub url: String,
    /// A store opened on it.
    pub store: SqlStore,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    /// The folder holding the SQLite file, removed when dropped.
    Folder(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        database: String,
    },
}

/// A database on each engine available: SQLite always, PostgreSQL when [`POSTGRES_ENV`] is set.
///
/// The first call that finds the variable unset says so once on standard error, past the test
/// harness's capture.
///
/// # Panics
///
/// If a database cannot be created: a test cannot run without one.
pub async fn engines() -> Vec<TestDb> {
    let mut engines = vec![sqlite().await];
    match std::env::var(POSTGRES_ENV) {
        Ok(url) if !url.trim().is_empty() => engines.push(postgres(url.trim()).await),
        _ => {
            static SKIPPED: Once = Once::new();
            SKIPPED.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "iso20k-store: PostgreSQL half skipped; set {POSTGRES_ENV}=postgres://postgres@127.0.0.1:5432/test to run it"
                );
            });
        }
    }
    engines
}

/// A SQLite database in a file of its own.
///
/// # Panics
///
/// If the folder or the database cannot be created.
pub async fn sqlite() -> TestDb {
    let folder = tempfile::tempdir().expect("create a temporary folder");
    let url = format!("sqlite://{}", folder.path().join("store.db").display());
    let store = open(&url).await.expect("open a SQLite test database");
    TestDb {
        label: "sqlite",
        url,
        store,
        cleanup: Cleanup::Folder(folder),
    }
}

/// A PostgreSQL database of its own, created through the server at `admin_url`.
///
/// # Panics
///
/// If the server cannot be reached or the database cannot be created.
pub async fn postgres(admin_url: &str) -> TestDb {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    sqlx::any::install_default_drivers();
    // The process id and the time keep concurrent test binaries, and the leftovers of a killed
    // run, apart; the counter keeps the tests of one binary apart.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let database = format!(
        "iso20k_test_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = AnyConnection::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("connect to {POSTGRES_ENV}={admin_url}: {e}"));
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("create test database {database}: {e}"));
    let _ = admin.close().await;
    let url = with_database(admin_url, &database);
    let store = open(&url).await.expect("open a PostgreSQL test database");
    TestDb {
        label: "postgres",
        url,
        store,
        cleanup: Cleanup::Postgres {
            admin_url: admin_url.to_owned(),
            database,
        },
    }
}

/// The URL with its database replaced: `postgres://u@h:5432/test?x=y` becomes
/// `postgres://u@h:5432/{database}?x=y`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    }
}

impl TestDb {
    /// Runs a statement straight on the database, past the store: how a test plays someone
    /// who edits the tables by hand. Returns the number of rows it touched.
    ///
    /// # Panics
    ///
    /// If the statement fails.
    pub async fn tamper(&self, sql: &str) -> u64 {
        tamper(&self.store, sql).await
    }
}

/// [`TestDb::tamper`] on any store, such as one a test opened on the CLI's database.
///
/// # Panics
///
/// If the statement fails.
pub async fn tamper(store: &SqlStore, sql: &str) -> u64 {
    sqlx::query(AssertSqlSafe(sql.to_owned()))
        .execute(&store.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .rows_affected()
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Cleanup::Postgres {
            admin_url,
            database,
        } = &self.cleanup
        else {
            return;
        };
        // Drop cannot await, and may run inside the test's runtime, where blocking on another
        // future would panic: a thread with a runtime of its own does the work.
        let admin_url = admin_url.clone();
        let database = database.clone();
        let statement = format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = AnyConnection::connect(&admin_url).await?;
                // FORCE ends the connections the store's pool still holds.
                sqlx::query(AssertSqlSafe(statement))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if let Ok(Err(error)) = dropped {
            let _ = writeln!(
                std::io::stderr(),
                "iso20k-store: could not drop test database {database}: {error}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_is_replaced_in_the_url() {
        let cases = [
            (
                "postgres://postgres@127.0.0.1:5432/test",
                "postgres://postgres@127.0.0.1:5432/x",
            ),
            (
                "postgres://u:p@h/test?sslmode=disable",
                "postgres://u:p@h/x?sslmode=disable",
            ),
            ("postgresql://h:5432", "postgresql://h:5432/x"),
            ("postgres://h/", "postgres://h/x"),
        ];
        for (url, expected) in cases {
            assert_eq!(with_database(url, "x"), expected, "{url}");
        }
    }
}
