//! The main job: import a contacts CSV file into a contact book and print
//! what happened.
//!
//! ```text
//! cargo run --release --example import --features sqlite -- examples/contacts.csv \
//!     --db contacts.db --tags "MBA,Finance,Marketing" --attributes "City,email,State"
//! cargo run --release --example import --features sqlite -- --db contacts.db --history
//! ```
//!
//! `--db` needs the `sqlite` feature and `--pg` the `postgres` feature;
//! without either flag the contacts go to a `MemoryStore` and are gone at exit.
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use contact_import::{
    Catalog, ColumnMapping, Contact, ContactStore, Field, ImportEngine, ImportOptions,
    ImportRecord, ImportReport, MemoryStore, Region,
};
use indicatif::{ProgressBar, ProgressStyle};

/// Import contacts from a CSV file into a contact book.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The CSV file to import.
    #[arg(required_unless_present_any = ["history", "history_failures"])]
    file: Option<PathBuf>,
    /// Import into this SQLite file (created if missing) instead of memory.
    #[arg(long, value_name = "PATH", conflicts_with = "pg")]
    db: Option<PathBuf>,
    /// Import into this PostgreSQL database (postgresql://user@host/db) instead of memory.
    #[arg(long, value_name = "URL")]
    pg: Option<String>,
    /// List the past imports of the database, newest first, and exit.
    #[arg(long, conflicts_with_all = ["file", "history_failures"])]
    history: bool,
    /// Write the failure file of past import ID to PATH again, and exit.
    #[arg(long, num_args = 2, value_names = ["ID", "PATH"], conflicts_with = "file")]
    history_failures: Option<Vec<String>>,
    /// Tags to add to the catalog, comma-separated (e.g. "MBA,Finance").
    #[arg(long, default_value = "")]
    tags: String,
    /// Custom attributes to add to the catalog, comma-separated (e.g. "City,email").
    #[arg(long, default_value = "")]
    attributes: String,
    /// Map a column explicitly: HEADER=FIELD, where FIELD is name, phone,
    /// tags, source, first_message, attr:NAME or ignore. Repeatable.
    #[arg(long = "map", value_name = "HEADER=FIELD")]
    maps: Vec<String>,
    /// Region of numbers written without a country code.
    #[arg(long, default_value = "IN")]
    region: String,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Write the failed rows, with their reasons, to this CSV file.
    #[arg(long, value_name = "PATH")]
    failures: Option<PathBuf>,
    /// Write every contact in the store after the import as JSON Lines, sorted by phone.
    #[arg(long, value_name = "PATH")]
    dump: Option<PathBuf>,
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

fn run(args: Args) -> Result<()> {
    if let Some(path) = &args.db {
        return run_on(&mut open_sqlite(path)?, &args);
    }
    if let Some(url) = &args.pg {
        return run_on(&mut open_postgres(url)?, &args);
    }
    if args.history || args.history_failures.is_some() {
        bail!("the history is kept in a database: add --db PATH or --pg URL");
    }
    run_on(&mut MemoryStore::new(), &args)
}

#[cfg(feature = "sqlite")]
fn open_sqlite(path: &Path) -> Result<contact_import::SqliteStore> {
    contact_import::SqliteStore::open(path)
        .with_context(|| format!("cannot open the database {}", path.display()))
}

#[cfg(not(feature = "sqlite"))]
fn open_sqlite(_: &Path) -> Result<MemoryStore> {
    bail!(
        "--db needs the sqlite feature: cargo run --release --example import --features sqlite -- ..."
    )
}

#[cfg(feature = "postgres")]
fn open_postgres(url: &str) -> Result<contact_import::PostgresStore> {
    contact_import::PostgresStore::connect(url).context("cannot use the PostgreSQL database")
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(_: &str) -> Result<MemoryStore> {
    bail!(
        "--pg needs the postgres feature: cargo run --release --example import --features postgres -- ..."
    )
}

/// A store whose contacts can be listed, for --dump.
trait ListContacts: ContactStore {
    fn all_contacts(&mut self) -> Result<Vec<Contact>>;
}

impl ListContacts for MemoryStore {
    fn all_contacts(&mut self) -> Result<Vec<Contact>> {
        Ok(self.contacts().into_iter().cloned().collect())
    }
}

#[cfg(feature = "sqlite")]
impl ListContacts for contact_import::SqliteStore {
    fn all_contacts(&mut self) -> Result<Vec<Contact>> {
        Ok(self.contacts()?)
    }
}

#[cfg(feature = "postgres")]
impl ListContacts for contact_import::PostgresStore {
    fn all_contacts(&mut self) -> Result<Vec<Contact>> {
        Ok(self.contacts()?)
    }
}

fn run_on<S: ListContacts>(store: &mut S, args: &Args) -> Result<()> {
    if args.history {
        return history(store, args.json);
    }
    if let Some([id, path]) = args.history_failures.as_deref() {
        return history_failures(store, id, Path::new(path));
    }
    let Some(path) = &args.file else {
        bail!("name the CSV file to import");
    };
    let added = catalog(args);
    store.add_to_catalog(&added)?;
    let mut catalog = store.load_catalog()?;
    catalog.merge(&added);
    let engine = ImportEngine::new(catalog, jiff::Timestamp::now).with_options(options(args)?);
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let bar = progress_bar(args.json);
    let name = path.display().to_string();
    let record = engine.import_recorded(&name, std::io::BufReader::new(file), store, |p| {
        if let Some(total) = p.total_rows {
            bar.set_length(total);
        }
        bar.set_position(p.rows_done);
    });
    bar.finish_and_clear();
    let record = record.with_context(|| format!("{} was not imported", path.display()))?;
    let report = &record.report;
    if let Some(path) = &args.failures {
        write_failures(report, path)?;
    }
    if let Some(path) = &args.dump {
        dump(&store.all_contacts()?, path)?;
    }
    if args.json {
        serde_json::to_writer_pretty(std::io::stdout().lock(), report)?;
        println!();
    } else {
        summary(&record, args);
    }
    Ok(())
}

fn history(store: &mut impl ContactStore, json: bool) -> Result<()> {
    let imports = store.imports()?;
    if json {
        serde_json::to_writer_pretty(std::io::stdout().lock(), &imports)?;
        println!();
        return Ok(());
    }
    if imports.is_empty() {
        println!("no imports recorded yet");
    }
    for i in &imports {
        let started = i.started_at.strftime("%Y-%m-%d %H:%M:%S UTC");
        print!(
            "#{} {started} {}: {} rows, {} added, {} updated, {} failed",
            i.id, i.file_name, i.rows, i.added, i.updated, i.failed
        );
        match &i.error {
            Some(error) => println!(" (stopped: {error})"),
            None => println!(),
        }
    }
    Ok(())
}

fn history_failures(store: &mut impl ContactStore, id: &str, path: &Path) -> Result<()> {
    let id: u64 = id.parse().with_context(|| {
        format!("--history-failures {id:?}: the import id is a number (see --history)")
    })?;
    let Some(record) = store.import(id)? else {
        bail!("no import #{id} in the history (see --history)");
    };
    write_failures(&record.report, path)?;
    println!(
        "wrote the {} failed rows of import #{id} ({}) to {}",
        record.report.failed,
        record.file_name,
        path.display()
    );
    Ok(())
}

fn write_failures(report: &ImportReport, path: &Path) -> Result<()> {
    let out = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    report.write_failures(BufWriter::new(out))?;
    Ok(())
}

fn split_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn catalog(args: &Args) -> Catalog {
    Catalog::new()
        .with_tags(split_list(&args.tags))
        .with_attributes(split_list(&args.attributes))
}

fn options(args: &Args) -> Result<ImportOptions> {
    let region: Region = args.region.parse().map_err(anyhow::Error::msg)?;
    let mut mapping = ColumnMapping::new();
    for map in &args.maps {
        let Some((header, field)) = map.rsplit_once('=') else {
            bail!("--map {map:?}: expected HEADER=FIELD, e.g. \"Cell=phone\"");
        };
        let field: Field = field
            .parse()
            .map_err(|e| anyhow::anyhow!("--map {map:?}: {e}"))?;
        mapping = mapping.map(header, field);
    }
    Ok(ImportOptions {
        region,
        mapping,
        ..ImportOptions::default()
    })
}

fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows ({per_sec}, {eta} left)")
    {
        bar.set_style(style);
    }
    bar
}

fn dump(contacts: &[Contact], path: &Path) -> Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    for contact in contacts {
        serde_json::to_writer(&mut out, contact)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn summary(record: &ImportRecord, args: &Args) {
    let report = &record.report;
    println!(
        "{}: {} rows, {} added, {} updated, {} failed",
        record.file_name, report.rows, report.added, report.updated, report.failed
    );
    for warning in report.warnings.iter().filter(|w| w.row.is_none()) {
        println!("warning: {}", warning.message);
    }
    let row_warnings = report.warnings.iter().filter(|w| w.row.is_some()).count();
    if row_warnings > 0 {
        println!("{row_warnings} row warnings (see --json)");
    }
    for failure in report.failures.iter().take(10) {
        println!("row {}: {}: {}", failure.row, failure.code, failure.message);
    }
    if report.failures.len() > 10 {
        println!("... and {} more failed rows", report.failures.len() - 10);
    }
    if report.failed > 0 && args.failures.is_none() {
        println!(
            "write the failed rows to a file with --failures PATH, fix them and import that file again"
        );
    }
    if record.id > 0 {
        println!(
            "recorded as import #{} (see --history; --history-failures {} PATH writes its failed rows again)",
            record.id, record.id
        );
    }
}
