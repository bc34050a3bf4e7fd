//! The guide's dashboard as a reference web service over the library:
//! catalog, upload, mapping, preview, import with live progress, result,
//! history and contacts, for many businesses (accounts) in one database.
//!
//! ```text
//! cargo run --release --example dashboard --features sqlite,spreadsheet -- create-account acme
//! cargo run --release --example dashboard --features sqlite,spreadsheet
//! ```
//!
//! The first command prints the account's secret token; the second serves
//! the page on http://127.0.0.1:8080, where the token is entered. See the
//! README's "The dashboard", and `app.rs` for the service itself.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

mod app;

/// The guide's dashboard: a web service over contact-import.
#[derive(Parser, Debug)]
#[command(about)]
struct Args {
    /// The SQLite file of every account (created if missing).
    #[arg(
        long,
        value_name = "PATH",
        default_value = "dashboard.db",
        global = true
    )]
    db: PathBuf,
    /// A PostgreSQL database instead (postgresql://user@host/db; feature `postgres`).
    #[arg(long, value_name = "URL", global = true)]
    pg: Option<String>,
    /// Connections to the PostgreSQL database that an import writes each
    /// batch on: 2 writes its two halves at once, on two server processes
    /// (faster on a machine with a core to spare; README "The dashboard").
    #[arg(long, value_name = "N", default_value_t = 1, requires = "pg",
          value_parser = clap::value_parser!(u8).range(1..=2))]
    pg_import_connections: u8,
    /// The address to serve on; loopback only.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The largest upload, in MiB.
    #[arg(long, default_value_t = 50)]
    max_upload_mb: u64,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a token for the account NAME (a new account if it has none)
    /// and print it.
    CreateAccount {
        /// The account: 1 to 64 letters, digits, '-', '_', '.' or ':'.
        name: String,
    },
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn backend(args: &Args) -> Result<app::Backend> {
    match &args.pg {
        None => Ok(app::Backend::Sqlite(args.db.clone())),
        #[cfg(feature = "postgres")]
        Some(url) => Ok(app::Backend::Postgres {
            url: url.clone(),
            import_connections: args.pg_import_connections,
        }),
        #[cfg(not(feature = "postgres"))]
        Some(_) => bail!("--pg needs the postgres feature: --features sqlite,spreadsheet,postgres"),
    }
}

fn run(args: Args) -> Result<()> {
    let backend = backend(&args)?;
    if let Some(Command::CreateAccount { name }) = &args.command {
        let account = name.parse().context("the account name")?;
        let token = app::create_account(&backend, account)?;
        println!("{token}");
        eprintln!("the token of account {name}: enter it on the dashboard's page; keep it secret");
        return Ok(());
    }
    if !args.listen.ip().is_loopback() {
        bail!(
            "--listen {}: the dashboard serves 127.0.0.1 only (its authentication is minimal)",
            args.listen
        );
    }
    let config = app::Config {
        backend: backend.clone(),
        max_upload_bytes: args.max_upload_mb.saturating_mul(1 << 20),
    };
    // Opens (and creates) the database now, so that a bad path fails here.
    backend
        .open(contact_import::Account::default())
        .context("opening the database")?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        println!("the dashboard is on http://{}", listener.local_addr()?);
        app::serve(listener, app::App::new(config)).await?;
        Ok(())
    })
}
