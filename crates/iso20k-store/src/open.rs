//! Connecting: the engine from the URL, the pool, the per-connection settings and migrations.

use std::path::Path;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;

use crate::Result;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Settings every SQLite connection needs. `foreign_keys` makes the cascades work; WAL lets
/// readers run beside the one writer; the busy timeout makes a second writer (another server
/// process on the same file) wait instead of failing; `synchronous = NORMAL` is safe in WAL mode
/// and spares an fsync per commit. A large import grows the WAL to the size of its data: the
/// limit truncates it again once checkpointed.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
     PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA journal_size_limit = 67108864;";

/// The database engine behind a [`SqlStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    /// SQLite: one file, the default.
    Sqlite,
    /// PostgreSQL: for teams running several servers.
    Postgres,
}

impl Engine {
    fn of(url: &str) -> Option<Engine> {
        if url.starts_with("sqlite:") {
            Some(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Engine::Postgres)
        } else {
            None
        }
    }
}

/// The [`Store`](crate::Store) on SQLite or PostgreSQL. Cloning it is cheap and shares the pool.
#[derive(Clone)]
pub struct SqlStore {
    pub(crate) pool: AnyPool,
    engine: Engine,
    url: String,
}

impl std::fmt::Debug for SqlStore {
    // The URL may carry a password: leave it out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl SqlStore {
    /// Which engine this store runs on.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The URL the store was opened with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Opens the store at a URL and brings its schema up to date.
///
/// `sqlite://path/to/file.db` (the file and its folder are created if missing),
/// `sqlite::memory:` (one connection, gone when the store is dropped) or
/// `postgres://user@host/database`.
pub async fn open(url: &str) -> Result<SqlStore> {
    sqlx::any::install_default_drivers();
    let engine = Engine::of(url).ok_or_else(|| {
        sqlx::Error::Configuration(
            format!("unsupported database url {url:?}: expected sqlite: or postgres://").into(),
        )
    })?;
    let pool = match engine {
        Engine::Sqlite => connect_sqlite(url).await?,
        Engine::Postgres => {
            AnyPoolOptions::new()
                .max_connections(8)
                .connect(url)
                .await?
        }
    };
    let store = SqlStore {
        pool,
        engine,
        url: url.to_owned(),
    };
    store.migrate().await?;
    crate::trail::seal(&store).await?;
    Ok(store)
}

async fn connect_sqlite(url: &str) -> Result<AnyPool> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, params) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = path.is_empty() || path == ":memory:" || params.contains("mode=memory");
    let options = AnyPoolOptions::new().after_connect(|conn, _| {
        Box::pin(async move {
            sqlx::raw_sql(SQLITE_PRAGMAS).execute(conn).await?;
            Ok(())
        })
    });
    if in_memory {
        // Each connection to `:memory:` is a database of its own: keep exactly one, forever.
        return Ok(options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect(url)
            .await?);
    }
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(sqlx::Error::Io)?;
    }
    let url = if params.split('&').any(|p| p.starts_with("mode=")) {
        url.to_owned()
    } else if params.is_empty() {
        format!("{}?mode=rwc", url.trim_end_matches('?'))
    } else {
        format!("{url}&mode=rwc")
    };
    Ok(options
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(30))
        .connect(&url)
        .await?)
}

impl SqlStore {
    async fn migrate(&self) -> Result<()> {
        let migrator = match self.engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        match migrator.run(&self.pool).await {
            Ok(()) => Ok(()),
            // sqlx takes no lock while migrating SQLite (it does on PostgreSQL), so two servers
            // starting on a fresh file can race: the loser fails on a table the winner just
            // created. Running again finds the migration applied.
            Err(_) if self.engine == Engine::Sqlite => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                Ok(migrator.run(&self.pool).await?)
            }
            Err(error) => Err(error.into()),
        }
    }
}
