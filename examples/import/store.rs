//! The store the flags choose: a SQLite file (`--db`), a PostgreSQL
//! database (`--pg`) or memory, for the account `--account` names.
use std::path::Path;

use anyhow::{Context, Result, bail};
use contact_import::{Account, MemoryStore};

use crate::args::Args;

/// Opens the store the flags choose and runs the command on it.
pub fn run(args: &Args) -> Result<()> {
    let account: Account = args.account.parse().context("--account")?;
    if let Some(path) = &args.db {
        return crate::run_on(&mut open_sqlite(path, account)?, args);
    }
    if let Some(url) = &args.pg {
        return crate::run_on(&mut open_postgres(url, account, args.pg_connections)?, args);
    }
    if crate::history::requested(args).is_some() {
        bail!("the history is kept in a database: add --db PATH or --pg URL");
    }
    if account.as_str() != Account::DEFAULT {
        bail!("--account {account}: accounts are kept in a database: add --db PATH or --pg URL");
    }
    let mut store = MemoryStore::new();
    let result = crate::run_on(&mut store, args);
    // The process ends here and the system takes its memory back at once;
    // freeing 200,000 contacts one by one would take a tenth of the run.
    std::mem::forget(store);
    result
}

/// Whether the store the flags choose keeps an import history one can read
/// (`--history`): a database does. A `MemoryStore` is gone at exit, and
/// recording the import there would only hold a second, packed copy of its
/// report at the process's peak (6.8 MB of the realistic 200,000-row file).
pub fn keeps_history(args: &Args) -> bool {
    args.db.is_some() || args.pg.is_some()
}

#[cfg(feature = "sqlite")]
fn open_sqlite(path: &Path, account: Account) -> Result<contact_import::SqliteStore> {
    contact_import::SqliteStore::open_account(path, account)
        .with_context(|| format!("cannot open the database {}", path.display()))
}

#[cfg(not(feature = "sqlite"))]
fn open_sqlite(_: &Path, _: Account) -> Result<MemoryStore> {
    bail!(
        "--db needs the sqlite feature: cargo run --release --example import --features sqlite -- ..."
    )
}

#[cfg(feature = "postgres")]
fn open_postgres(
    url: &str,
    account: Account,
    connections: u8,
) -> Result<contact_import::PostgresStore> {
    use contact_import::postgres::{Client, NoTls};
    let store = contact_import::PostgresStore::connect_account(url, account)
        .context("cannot use the PostgreSQL database")?;
    if connections < 2 {
        return Ok(store);
    }
    let second = Client::connect(url, NoTls).context("cannot open a second connection")?;
    store
        .with_second_client(second)
        .context("cannot use the second connection")
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(_: &str, _: Account, _: u8) -> Result<MemoryStore> {
    bail!(
        "--pg needs the postgres feature: cargo run --release --example import --features postgres -- ..."
    )
}
