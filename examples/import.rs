//! The main job: import a contacts CSV file into a contact book and print
//! what happened.
//!
//! ```text
//! cargo run --release --example import --features sqlite -- examples/contacts.csv \
//!     --db contacts.db --tags "MBA,Finance,Marketing" --attributes "City,email,State"
//! cargo run --release --example import --features sqlite -- --db contacts.db --history
//! cargo run --release --example import --features sqlite -- --db crm.db --account acme leads.csv
//! ```
//!
//! `--account NAME` (default `default`) picks the business whose contact
//! book, catalog and history every other flag works on, in a database that
//! holds many.
//!
//! A `.xlsx`, `.xls` or `.ods` file is read as a spreadsheet (feature
//! `spreadsheet`: add `--features sqlite,spreadsheet`), its first sheet or
//! the one `--sheet NAME` names; any other file as CSV.
//!
//! `--db` needs the `sqlite` feature and `--pg` the `postgres` feature;
//! without either flag the contacts go to a `MemoryStore` and are gone at exit.
//!
//! After the import, `--export PATH` writes a segment of the store (chosen
//! with the filter flags, e.g. `--with-tag MBA --attr City=Delhi`) as CSV,
//! and `--render "Hi $FirstName"` prints the message for each of its contacts.
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use contact_import::{
    Account, Catalog, ColumnMapping, ContactScan, ContactStore, DuplicatePolicy, Field,
    FieldPolicy, Filter, ImportEngine, ImportError, ImportMode, ImportOptions, ImportRecord,
    ImportReport, MemoryStore, OptInPolicy, PlannedRow, Progress, Region, Sheet, State, Status,
    TagPolicy, Template, TimeRange, UpdatePolicy,
};
use indicatif::{ProgressBar, ProgressStyle};

/// `--version`: the crate's and the phone metadata's, e.g.
/// `0.1.0 (libphonenumber metadata 9.0.43)`.
fn version() -> &'static str {
    let text = format!(
        "{} (libphonenumber metadata {})",
        env!("CARGO_PKG_VERSION"),
        contact_import::LIBPHONENUMBER_VERSION
    );
    Box::leak(text.into_boxed_str())
}

/// Import contacts from a CSV file into a contact book.
#[derive(Parser, Debug)]
#[command(version = version(), about)]
struct Args {
    /// The CSV file to import.
    #[arg(required_unless_present_any = ["history", "history_failures", "history_added", "history_updated"])]
    file: Option<PathBuf>,
    /// Import into this SQLite file (created if missing) instead of memory.
    #[arg(long, value_name = "PATH", conflicts_with = "pg")]
    db: Option<PathBuf>,
    /// Import into this PostgreSQL database (postgresql://user@host/db) instead of memory.
    #[arg(long, value_name = "URL")]
    pg: Option<String>,
    /// Rows per batch, each written (and, in a database, committed) at once.
    /// Default: 10,000 with --db or --pg (each commit costs a SQLite file
    /// every page it changed, a PostgreSQL server an fsync; README
    /// "Database stores"), else the engine's 1,000.
    #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(u32).range(1..))]
    batch_size: Option<u32>,
    /// The account (business) of the database to work on: its contacts,
    /// catalog and history only (letters, digits, '-', '_', '.', ':').
    #[arg(long, value_name = "NAME", default_value = Account::DEFAULT)]
    account: String,
    /// List the past imports of the database, newest first, and exit.
    #[arg(long, conflicts_with_all = ["file", "history_failures"])]
    history: bool,
    /// Write the failure file of past import ID to PATH again, and exit.
    #[arg(long, num_args = 2, value_names = ["ID", "PATH"], conflicts_with = "file")]
    history_failures: Option<Vec<String>>,
    /// Write the contacts past import ID added to PATH, as they are now
    /// (CSV in the import format), and exit.
    #[arg(long, num_args = 2, value_names = ["ID", "PATH"], conflicts_with = "file")]
    history_added: Option<Vec<String>>,
    /// Write the contacts past import ID updated to PATH, as they are now
    /// (CSV in the import format), and exit.
    #[arg(long, num_args = 2, value_names = ["ID", "PATH"], conflicts_with = "file")]
    history_updated: Option<Vec<String>>,
    /// Tags to add to the catalog, comma-separated (e.g. "MBA,Finance").
    #[arg(long, default_value = "")]
    tags: String,
    /// Custom attributes to add to the catalog, comma-separated (e.g. "City,email").
    #[arg(long, default_value = "")]
    attributes: String,
    /// Map a column explicitly: HEADER=FIELD, where FIELD is name, phone,
    /// tags, source, first_message, country, opt_in, attr:NAME or ignore. Repeatable.
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
    /// Rows that share a phone: merge them in file order, keep the first or
    /// the last, or reject them all.
    #[arg(long, value_enum, default_value_t = Duplicates::Merge)]
    duplicates: Duplicates,
    /// What Source, First Message and attribute cells do to stored values.
    #[arg(long, value_enum, default_value_t = Cells::KeepWhenEmpty)]
    cells: Cells,
    /// What a Tags cell does to stored tags.
    #[arg(long = "tag-policy", value_enum, default_value_t = Tags::Add)]
    tag_policy: Tags,
    /// The cell text that clears a value with --cells clear-on-token.
    #[arg(long, default_value = "NULL")]
    clear_token: String,
    /// Plan the import without writing: print the counts and the first changes.
    #[arg(long)]
    dry_run: bool,
    /// With --dry-run, write the whole plan to PATH (.jsonl for JSON Lines, else CSV).
    #[arg(long, value_name = "PATH", requires = "dry_run")]
    plan: Option<PathBuf>,
    /// Print the suggested mapping of the file's columns and exit.
    #[arg(long)]
    suggest: bool,
    /// The sheet of a spreadsheet to import (default the first).
    #[arg(long, value_name = "NAME")]
    sheet: Option<String>,
    /// The header's row number (default: the first of the first 10 rows
    /// that has a name and a phone column).
    #[arg(long, value_name = "N")]
    header_row: Option<u64>,
    /// Which rows are written, by whether their phone is stored.
    #[arg(long, value_enum, default_value_t = Mode::AddAndUpdate)]
    mode: Mode,
    /// Whether an opt-in cell may opt in again a contact who opted out
    /// (only for a file of fresh consents, never an old export).
    #[arg(long, value_enum, default_value_t = OptInArg::KeepOptOut)]
    opt_in_policy: OptInArg,
    #[command(flatten)]
    segment: SegmentArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Duplicates {
    Merge,
    FirstWins,
    LastWins,
    Reject,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Mode {
    AddAndUpdate,
    AddOnly,
    UpdateOnly,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum OptInArg {
    KeepOptOut,
    AllowOptInAgain,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum OptInState {
    Yes,
    No,
    Unknown,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Cells {
    KeepWhenEmpty,
    Overwrite,
    ClearOnToken,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Tags {
    Add,
    Replace,
    Remove,
}

/// `println!` that returns an error (e.g. a closed pipe) instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*)?
    };
}

/// Pretty JSON and a newline on stdout, through one buffer: stdout alone
/// is line-buffered and searched each write for a line end, which cost
/// more than writing a 13 MB report.
fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    let account: Account = args.account.parse().context("--account")?;
    if let Some(path) = &args.db {
        return run_on(&mut open_sqlite(path, account)?, &args);
    }
    if let Some(url) = &args.pg {
        return run_on(&mut open_postgres(url, account)?, &args);
    }
    if args.history
        || args.history_failures.is_some()
        || args.history_added.is_some()
        || args.history_updated.is_some()
    {
        bail!("the history is kept in a database: add --db PATH or --pg URL");
    }
    if account.as_str() != Account::DEFAULT {
        bail!("--account {account}: accounts are kept in a database: add --db PATH or --pg URL");
    }
    let mut store = MemoryStore::new();
    let result = run_on(&mut store, &args);
    // The process ends here and the system takes its memory back at once;
    // freeing 200,000 contacts one by one would take a tenth of the run.
    std::mem::forget(store);
    result
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
fn open_postgres(url: &str, account: Account) -> Result<contact_import::PostgresStore> {
    contact_import::PostgresStore::connect_account(url, account)
        .context("cannot use the PostgreSQL database")
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(_: &str, _: Account) -> Result<MemoryStore> {
    bail!(
        "--pg needs the postgres feature: cargo run --release --example import --features postgres -- ..."
    )
}

fn run_on<S: ContactScan>(store: &mut S, args: &Args) -> Result<()> {
    if args.history {
        return history(store, args.json);
    }
    if let Some([id, path]) = args.history_failures.as_deref() {
        return history_failures(store, id, Path::new(path));
    }
    if let Some([id, path]) = args.history_added.as_deref() {
        return history_contacts(store, Listed::Added, id, Path::new(path));
    }
    if let Some([id, path]) = args.history_updated.as_deref() {
        return history_contacts(store, Listed::Updated, id, Path::new(path));
    }
    let Some(path) = &args.file else {
        bail!("name the CSV file to import");
    };
    // The store's catalog and the flags' additions, kept in the store only
    // by a real import.
    let added = catalog(args);
    let mut catalog = store.load_catalog()?;
    catalog.merge(&added);
    let segment = args.segment.prepare(&catalog)?;
    let engine = ImportEngine::new(catalog, jiff::Timestamp::now).with_options(options(args)?);
    if args.suggest {
        return suggest(path, engine.catalog(), engine.options().sheet());
    }
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    if args.dry_run {
        return dry_run(&engine, file, store, path, args);
    }
    store.add_to_catalog(&added)?;
    let bar = progress_bar(args.json);
    let name = path.display().to_string();
    let progress = |p: Progress| {
        if let Some(total) = p.total_rows {
            bar.set_length(total);
        }
        bar.set_position(p.rows_done);
    };
    let record = match spreadsheet_format(path)? {
        Some(format) => import_spreadsheet(&engine, &name, file, format, store, progress),
        None => engine.import_recorded(&name, std::io::BufReader::new(file), store, progress),
    };
    bar.finish_and_clear();
    let record = match record {
        Ok(record) => record,
        Err(error) => return stopped(error, path, args),
    };
    let report = &record.report;
    if let Some(path) = &args.failures {
        write_failures(report, path)?;
    }
    if let Some(path) = &args.dump {
        dump(store, path)?;
    }
    if args.json {
        print_json(report)?;
    } else {
        summary(report, &record.file_name, args)?;
        if record.id > 0 {
            out!(
                "recorded as import #{} (see --history; --history-failures {} PATH writes its failed rows again)",
                record.id,
                record.id
            );
        }
    }
    let result = match segment {
        Some(segment) => segment.write(store, engine.catalog(), args.json),
        None => Ok(()),
    };
    // As for the store (see `run`): the report's rows are not freed one by one.
    std::mem::forget(record);
    result
}

/// An import that stopped part-way: the failure file of the rows read and,
/// with --json, the report so far and the error as one JSON object.
fn stopped<E>(error: ImportError<E>, path: &Path, args: &Args) -> Result<()>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let Some(report) = error.report() else {
        return Err(
            anyhow::Error::new(error).context(format!("{} was not imported", path.display()))
        );
    };
    if let Some(failures) = &args.failures {
        write_failures(report, failures)?;
    }
    if args.json {
        let stopped = serde_json::json!({ "error": error.to_string(), "report": report });
        print_json(&stopped)?;
    } else {
        summary(report, &path.display().to_string(), args)?;
    }
    Err(anyhow::Error::new(error)
        .context(format!("{} was not imported to the end", path.display())))
}

fn history(store: &mut impl ContactStore, json: bool) -> Result<()> {
    let imports = store.import_history()?;
    if json {
        print_json(&imports)?;
        return Ok(());
    }
    if imports.is_empty() {
        out!("no imports recorded yet");
    }
    for i in &imports {
        let started = i.started_at.strftime("%Y-%m-%d %H:%M:%S UTC");
        let stopped = match &i.error {
            Some(error) => format!(" (stopped: {error})"),
            None => String::new(),
        };
        out!(
            "#{} {started} {}: {} rows, {} added, {} updated, {} unchanged, {} failed{stopped}",
            i.id,
            i.file_name,
            i.rows,
            i.added,
            i.updated,
            i.unchanged,
            i.failed
        );
    }
    Ok(())
}

fn history_failures(store: &mut impl ContactStore, id: &str, path: &Path) -> Result<()> {
    let id: u64 = id.parse().with_context(|| {
        format!("--history-failures {id:?}: the import id is a number (see --history)")
    })?;
    let Some(ImportRecord {
        report, file_name, ..
    }) = store.import_record(id)?
    else {
        bail!("no import #{id} in the history (see --history)");
    };
    write_failures(&report, path)?;
    out!(
        "wrote the {} failed rows of import #{id} ({file_name}) to {}",
        report.failed,
        path.display()
    );
    Ok(())
}

/// Which contacts of a past import `--history-added` and `--history-updated` write.
#[derive(Clone, Copy)]
enum Listed {
    Added,
    Updated,
}

fn history_contacts(
    store: &mut impl ContactStore,
    listed: Listed,
    id: &str,
    path: &Path,
) -> Result<()> {
    let (flag, verb) = match listed {
        Listed::Added => ("--history-added", "added"),
        Listed::Updated => ("--history-updated", "updated"),
    };
    let id: u64 = id
        .parse()
        .with_context(|| format!("{flag} {id:?}: the import id is a number (see --history)"))?;
    let Some(ImportRecord {
        report, file_name, ..
    }) = store.import_record(id)?
    else {
        bail!("no import #{id} in the history (see --history)");
    };
    let phones = match listed {
        Listed::Added => &report.phones_added,
        Listed::Updated => &report.phones_updated,
    };
    let catalog = store.load_catalog()?;
    let out = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let now = jiff::Timestamp::now();
    let written = contact_import::export_phones(store, phones, &catalog, now, BufWriter::new(out))
        .with_context(|| format!("writing {}", path.display()))?;
    let s = if written == 1 { "" } else { "s" };
    out!(
        "wrote the {written} contact{s} import #{id} ({file_name}) {verb}, as they are now, to {}",
        path.display()
    );
    let gone = (phones.len() as u64).saturating_sub(written);
    if gone > 0 {
        out!("{gone} of the contacts it {verb} are no longer stored");
    }
    Ok(())
}

fn write_failures(report: &ImportReport, path: &Path) -> Result<()> {
    let out = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    report.write_failures(BufWriter::new(out))?;
    Ok(())
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

fn split_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn catalog(args: &Args) -> Catalog {
    Catalog::new()
        .with_tags(split_list(&args.tags))
        .with_attributes(split_list(&args.attributes))
}

/// Rows per batch into a database (see `--batch-size`).
const DATABASE_BATCH_ROWS: usize = 10_000;

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
    let cells = match args.cells {
        Cells::KeepWhenEmpty => FieldPolicy::KeepWhenEmpty,
        Cells::Overwrite => FieldPolicy::Overwrite,
        Cells::ClearOnToken => FieldPolicy::ClearOnToken,
    };
    let update = UpdatePolicy::new()
        .with_tags(match args.tag_policy {
            Tags::Add => TagPolicy::Add,
            Tags::Replace => TagPolicy::Replace,
            Tags::Remove => TagPolicy::Remove,
        })
        .with_source(cells)
        .with_first_message(cells)
        .with_attributes(cells)
        .with_clear_token(args.clear_token.clone())
        .with_opt_in(match args.opt_in_policy {
            OptInArg::KeepOptOut => OptInPolicy::KeepOptOut,
            OptInArg::AllowOptInAgain => OptInPolicy::AllowOptInAgain,
        });
    let duplicates = match args.duplicates {
        Duplicates::Merge => DuplicatePolicy::Merge,
        Duplicates::FirstWins => DuplicatePolicy::FirstWins,
        Duplicates::LastWins => DuplicatePolicy::LastWins,
        Duplicates::Reject => DuplicatePolicy::Reject,
    };
    let mode = match args.mode {
        Mode::AddAndUpdate => ImportMode::AddAndUpdate,
        Mode::AddOnly => ImportMode::AddOnly,
        Mode::UpdateOnly => ImportMode::UpdateOnly,
    };
    let sheet = args.sheet.clone().map_or(Sheet::First, Sheet::Name);
    Ok(ImportOptions::new()
        .with_region(region)
        .with_mapping(mapping)
        .with_update(update)
        .with_duplicates(duplicates)
        .with_mode(mode)
        .with_sheet(sheet)
        .with_header_row(args.header_row)
        .with_batch_size(match args.batch_size {
            Some(rows) => rows as usize,
            None if args.db.is_some() || args.pg.is_some() => DATABASE_BATCH_ROWS,
            None => ImportOptions::default().batch_size(),
        }))
}

/// The spreadsheet format of `path` by its extension; `None` for CSV.
#[cfg(feature = "spreadsheet")]
fn spreadsheet_format(path: &Path) -> Result<Option<contact_import::SpreadsheetFormat>> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    Ok(contact_import::SpreadsheetFormat::from_extension(extension))
}

#[cfg(not(feature = "spreadsheet"))]
fn spreadsheet_format(path: &Path) -> Result<Option<std::convert::Infallible>> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ["xlsx", "xlsm", "xls", "ods"].contains(&extension.to_ascii_lowercase().as_str()) {
        bail!(
            "{} is a spreadsheet: add the spreadsheet feature (cargo run --release --example import --features sqlite,spreadsheet -- ...)",
            path.display()
        );
    }
    Ok(None)
}

/// The first rows of a spreadsheet (the header and 20 rows), or `None` for CSV.
#[cfg(feature = "spreadsheet")]
fn spreadsheet_rows(path: &Path, sheet: &Sheet) -> Result<Option<Vec<Vec<String>>>> {
    let Some(format) = spreadsheet_format(path)? else {
        return Ok(None);
    };
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let rows =
        contact_import::spreadsheet::read_rows(std::io::BufReader::new(file), format, sheet, 21)?;
    Ok(Some(rows))
}

#[cfg(not(feature = "spreadsheet"))]
fn spreadsheet_rows(path: &Path, _: &Sheet) -> Result<Option<Vec<Vec<String>>>> {
    spreadsheet_format(path)?;
    Ok(None)
}

/// Imports a spreadsheet and records it in the store's history.
#[cfg(feature = "spreadsheet")]
fn import_spreadsheet<S: ContactStore>(
    engine: &ImportEngine,
    name: &str,
    file: File,
    format: contact_import::SpreadsheetFormat,
    store: &mut S,
    progress: impl FnMut(Progress),
) -> Result<ImportRecord, ImportError<S::Error>> {
    let file = std::io::BufReader::new(file);
    engine.import_spreadsheet_recorded(name, file, format, store, progress)
}

#[cfg(not(feature = "spreadsheet"))]
fn import_spreadsheet<S: ContactStore>(
    _: &ImportEngine,
    _: &str,
    _: File,
    format: std::convert::Infallible,
    _: &mut S,
    _: impl FnMut(Progress),
) -> Result<ImportRecord, ImportError<S::Error>> {
    match format {}
}

#[cfg(feature = "spreadsheet")]
fn plan_spreadsheet<S: ContactStore>(
    engine: &ImportEngine,
    file: std::io::BufReader<File>,
    format: contact_import::SpreadsheetFormat,
    store: &mut S,
    each: impl FnMut(PlannedRow),
) -> Result<ImportReport>
where
    S::Error: std::error::Error + Send + Sync + 'static,
{
    Ok(engine.plan_spreadsheet(file, format, store, each)?)
}

#[cfg(not(feature = "spreadsheet"))]
fn plan_spreadsheet<S: ContactStore>(
    _: &ImportEngine,
    _: std::io::BufReader<File>,
    format: std::convert::Infallible,
    _: &mut S,
    _: impl FnMut(PlannedRow),
) -> Result<ImportReport> {
    match format {}
}

fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows ({rate} rows/s, {eta} left)")
    {
        // A whole number of rows a second, not indicatif's fractions.
        let style = style.with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}", state.per_sec());
            },
        );
        bar.set_style(style);
    }
    bar
}

fn dump<S: ContactScan>(store: &mut S, path: &Path) -> Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    let mut failure = None;
    store.scan(&mut |contact| {
        let written = serde_json::to_writer(&mut out, contact)
            .map_err(anyhow::Error::from)
            .and_then(|()| Ok(out.write_all(b"\n")?));
        match written {
            Ok(()) => ControlFlow::Continue(()),
            Err(error) => {
                failure = Some(error);
                ControlFlow::Break(())
            }
        }
    })?;
    if let Some(error) = failure {
        return Err(error);
    }
    out.flush()?;
    Ok(())
}

fn summary(report: &ImportReport, file_name: &str, args: &Args) -> Result<()> {
    out!(
        "{}: {} rows, {} added, {} updated, {} unchanged, {} skipped, {} failed",
        file_name,
        report.rows,
        report.added,
        report.updated,
        report.unchanged,
        report.skipped,
        report.failed
    );
    for dup in report.duplicates.iter().take(5) {
        let rows: Vec<String> = dup.rows.iter().map(u64::to_string).collect();
        out!("rows {} share the phone {}", rows.join(", "), dup.phone);
    }
    // Grouped by kind and value, most frequent first (every one is in --json).
    let groups = report.warning_groups();
    for group in groups.iter().take(20) {
        out!("warning: {group}");
    }
    if groups.len() > 20 {
        out!(
            "... and {} more kinds of warning (see --json)",
            groups.len() - 20
        );
    }
    for failure in report.failures.iter().take(10) {
        out!(
            "row {}: {}: {}",
            failure.position.row,
            failure.code,
            failure.message
        );
    }
    if report.failures.len() > 10 {
        out!("... and {} more failed rows", report.failures.len() - 10);
    }
    if report.failed > 0 && args.failures.is_none() {
        out!(
            "write the failed rows to a file with --failures PATH, fix them and import that file again"
        );
    }
    Ok(())
}

fn suggest(path: &Path, catalog: &Catalog, sheet: &Sheet) -> Result<()> {
    if let Some(rows) = spreadsheet_rows(path, sheet)? {
        let mut rows = rows
            .into_iter()
            .skip_while(|r| r.iter().all(|c| c.trim().is_empty()));
        let headers = rows.next().unwrap_or_default();
        let samples: Vec<Vec<String>> = rows.collect();
        return print_suggestions(&headers, &samples, catalog);
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let headers: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let samples: Vec<Vec<String>> = reader
        .records()
        .take(20)
        .filter_map(Result::ok)
        .map(|r| r.iter().map(str::to_owned).collect())
        .collect();
    print_suggestions(&headers, &samples, catalog)
}

fn print_suggestions(headers: &[String], samples: &[Vec<String>], catalog: &Catalog) -> Result<()> {
    for s in ColumnMapping::suggest(headers, samples, catalog) {
        out!(
            "{:?} -> {} ({:.0}% sure: {:?})",
            s.header,
            s.field,
            s.confidence * 100.0,
            s.reason
        );
    }
    Ok(())
}

fn dry_run(
    engine: &ImportEngine,
    file: File,
    store: &mut impl ContactStore,
    path: &Path,
    args: &Args,
) -> Result<()> {
    const SHOWN: usize = 20;
    let mut out = match &args.plan {
        Some(path) => Some(PlanWriter::create(path)?),
        None => None,
    };
    let mut shown = Vec::new();
    let mut write_error = None;
    let each = |row: PlannedRow| {
        if shown.len() < SHOWN && !row.changes.is_empty() {
            shown.push(format!(
                "row {} ({:?}): {}",
                row.row,
                row.outcome,
                describe_changes(&row)
            ));
        }
        if let Some(Err(e)) = out.as_mut().map(|out| out.write(&row)) {
            write_error.get_or_insert(e);
        }
    };
    let file = std::io::BufReader::new(file);
    let report = match spreadsheet_format(path)? {
        Some(format) => plan_spreadsheet(engine, file, format, store, each),
        None => engine.plan(file, store, each).map_err(anyhow::Error::from),
    };
    if let Some(e) = write_error {
        return Err(e);
    }
    if let Some(out) = out {
        out.finish()?;
    }
    if !args.json {
        for line in shown {
            out!("{line}");
        }
    }
    let report = report.with_context(|| format!("{} cannot be imported", path.display()))?;
    if args.json {
        print_json(&report)?;
        return Ok(());
    }
    out!("dry run, nothing written:");
    summary(&report, &path.display().to_string(), args)?;
    Ok(())
}

/// The plan as JSON Lines or CSV (one row per planned row, changes joined).
enum PlanWriter {
    Json(BufWriter<File>),
    Csv(Box<csv::Writer<File>>),
}

impl PlanWriter {
    fn create(path: &PathBuf) -> Result<PlanWriter> {
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        if path.extension().is_some_and(|e| e == "jsonl") {
            return Ok(PlanWriter::Json(BufWriter::new(file)));
        }
        let mut csv = csv::Writer::from_writer(file);
        csv.write_record(["Row", "Phone", "Outcome", "Changes", "Reason"])?;
        Ok(PlanWriter::Csv(Box::new(csv)))
    }

    fn write(&mut self, row: &PlannedRow) -> Result<()> {
        match self {
            PlanWriter::Json(out) => {
                serde_json::to_writer(&mut *out, row)?;
                out.write_all(b"\n")?;
            }
            PlanWriter::Csv(out) => {
                let outcome = serde_json::to_value(row.outcome)?;
                out.write_record([
                    row.row.to_string(),
                    row.phone.map(|p| p.to_string()).unwrap_or_default(),
                    outcome.as_str().unwrap_or_default().to_owned(),
                    describe_changes(row),
                    row.failure
                        .as_ref()
                        .map(|f| format!("{}: {}", f.code, f.message))
                        .unwrap_or_default(),
                ])?;
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<()> {
        match self {
            PlanWriter::Json(mut out) => out.flush()?,
            PlanWriter::Csv(mut out) => out.flush()?,
        }
        Ok(())
    }
}

fn describe_changes(row: &PlannedRow) -> String {
    let changes: Vec<String> = row
        .changes
        .iter()
        .map(|c| {
            let value = |v: &Option<String>| v.clone().unwrap_or_default();
            format!(
                "{}: {:?} -> {:?}",
                c.field,
                value(&c.before),
                value(&c.after)
            )
        })
        .collect();
    changes.join("; ")
}

/// Which contacts `--export` and `--render` are about, and what they do.
/// Every filter flag narrows the segment; none means every contact.
#[derive(clap::Args, Debug)]
struct SegmentArgs {
    /// After the import, write the contacts of the segment to this CSV file
    /// (the import format, plus Status, State, Last Active and Created At).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["dry_run", "suggest"])]
    export: Option<PathBuf>,
    /// Print "PHONE<TAB>MESSAGE" for each contact of the segment, with
    /// $Name, $FirstName, $LastName and $<attribute> filled in ($$ is a $).
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["dry_run", "suggest"])]
    render: Option<String>,
    /// With --render, write messages to contacts who opted in only.
    #[arg(long, requires = "render")]
    opted_in_only: bool,
    /// Only contacts who opted in (yes), opted out (no), or neither (unknown).
    #[arg(long, value_enum, value_name = "STATE")]
    opt_in: Option<OptInState>,
    /// Only contacts with this tag. Repeatable: every one of them.
    #[arg(long, value_name = "TAG")]
    with_tag: Vec<String>,
    /// Only contacts with at least one of these tags. Repeatable.
    #[arg(long, value_name = "TAG")]
    with_any_tag: Vec<String>,
    /// Only contacts without this tag. Repeatable.
    #[arg(long, value_name = "TAG")]
    without_tag: Vec<String>,
    /// Only contacts whose first-message tag is this one.
    #[arg(long, value_name = "TAG")]
    first_message: Option<String>,
    /// Only contacts with exactly this source (e.g. IMPORT).
    #[arg(long, value_name = "TEXT")]
    source: Option<String>,
    /// Only contacts whose attribute NAME is exactly VALUE. Repeatable.
    #[arg(long = "attr", value_name = "NAME=VALUE")]
    attrs: Vec<String>,
    /// Only contacts with a value for this attribute. Repeatable.
    #[arg(long, value_name = "NAME")]
    attr_set: Vec<String>,
    /// Only contacts without a value for this attribute. Repeatable.
    #[arg(long, value_name = "NAME")]
    attr_empty: Vec<String>,
    /// Only contacts whose name contains this text, ignoring case.
    #[arg(long, value_name = "TEXT")]
    name_contains: Option<String>,
    /// Only contacts ACTIVE (last active within 24 hours) at WHEN: "now" or
    /// an RFC 3339 time such as 2024-06-01T12:00:00Z.
    #[arg(long, value_name = "WHEN")]
    active_at: Option<String>,
    /// Only contacts INACTIVE at WHEN ("now" or an RFC 3339 time).
    #[arg(long, value_name = "WHEN")]
    inactive_at: Option<String>,
    /// Only contacts in this state (Intervened, Requesting, Closed,
    /// "Handled by Assistant"), or "none" for contacts without one.
    #[arg(long, value_name = "STATE")]
    state: Option<String>,
    /// Only contacts created at or after WHEN.
    #[arg(long, value_name = "WHEN")]
    created_since: Option<String>,
    /// Only contacts created before WHEN.
    #[arg(long, value_name = "WHEN")]
    created_before: Option<String>,
    /// A filter in its JSON form, e.g. '{"any": [{"source": "API"}, {"any_tag": ["MBA"]}]}'.
    #[arg(long, value_name = "JSON")]
    filter: Option<String>,
}

impl SegmentArgs {
    fn filter(&self) -> Result<Filter> {
        let mut filter = Filter::everyone();
        if !self.with_tag.is_empty() {
            filter = filter & Filter::all_tags(&self.with_tag);
        }
        if !self.with_any_tag.is_empty() {
            filter = filter & Filter::any_tag(&self.with_any_tag);
        }
        if !self.without_tag.is_empty() {
            filter = filter & Filter::no_tag(&self.without_tag);
        }
        if let Some(tag) = &self.first_message {
            filter = filter & Filter::first_message(tag);
        }
        if let Some(source) = &self.source {
            filter = filter & Filter::source(source);
        }
        for attr in &self.attrs {
            let Some((name, value)) = attr.split_once('=') else {
                bail!("--attr {attr:?}: expected NAME=VALUE, e.g. \"City=Delhi\"");
            };
            filter = filter & Filter::attribute_equals(name.trim(), value.trim());
        }
        for name in &self.attr_set {
            filter = filter & Filter::attribute_set(name);
        }
        for name in &self.attr_empty {
            filter = filter & Filter::attribute_empty(name);
        }
        if let Some(text) = &self.name_contains {
            filter = filter & Filter::name_contains(text);
        }
        for (when, status) in [
            (&self.active_at, Status::Active),
            (&self.inactive_at, Status::Inactive),
        ] {
            if let Some(when) = when {
                filter = filter & Filter::status(status, parse_when(when)?);
            }
        }
        if let Some(state) = &self.state {
            filter = filter & Filter::state(parse_state(state)?);
        }
        if let Some(opt_in) = self.opt_in {
            filter = filter
                & Filter::opt_in(match opt_in {
                    OptInState::Yes => Some(true),
                    OptInState::No => Some(false),
                    OptInState::Unknown => None,
                });
        }
        let created = TimeRange {
            from: self.created_since.as_deref().map(parse_when).transpose()?,
            to: self.created_before.as_deref().map(parse_when).transpose()?,
        };
        if created != TimeRange::default() {
            filter = filter & Filter::created(created);
        }
        if let Some(json) = &self.filter {
            let parsed: Filter =
                serde_json::from_str(json).with_context(|| format!("--filter {json:?}"))?;
            filter = filter & parsed;
        }
        Ok(filter)
    }
}

/// "now" (this machine's clock) or an RFC 3339 time.
fn parse_when(text: &str) -> Result<jiff::Timestamp> {
    if text.trim().eq_ignore_ascii_case("now") {
        return Ok(jiff::Timestamp::now());
    }
    text.trim().parse().with_context(|| {
        format!("{text:?} is not a time: write \"now\" or e.g. 2024-06-01T12:00:00Z")
    })
}

fn parse_state(text: &str) -> Result<Option<State>> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    match State::parse(text) {
        Some(state) => Ok(Some(state)),
        None => bail!(
            "--state {text:?}: expected Intervened, Requesting, Closed, \"Handled by Assistant\" or none"
        ),
    }
}

/// What `--export` and `--render` do, checked before the import runs.
struct Segment {
    filter: Filter,
    export: Option<PathBuf>,
    template: Option<Template>,
}

impl SegmentArgs {
    /// The segment to write, or `None` without `--export` and `--render`.
    fn prepare(&self, catalog: &Catalog) -> Result<Option<Segment>> {
        if self.export.is_none() && self.render.is_none() {
            return Ok(None);
        }
        let template = match &self.render {
            Some(text) => Some(Template::parse(text, catalog).context("--render")?),
            None => None,
        };
        let template = template.map(|t| match self.opted_in_only {
            true => t.opted_in_only(),
            false => t,
        });
        Ok(Some(Segment {
            filter: self.filter()?,
            export: self.export.clone(),
            template,
        }))
    }
}

impl Segment {
    /// Writes the segment of `store` to the export file, and its messages to stdout.
    fn write<S: ContactScan>(&self, store: &mut S, catalog: &Catalog, quiet: bool) -> Result<()> {
        if let Some(path) = &self.export {
            let out =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let now = jiff::Timestamp::now();
            let written =
                contact_import::export(store, &self.filter, catalog, now, BufWriter::new(out))
                    .with_context(|| format!("exporting to {}", path.display()))?;
            if !quiet {
                let s = if written == 1 { "" } else { "s" };
                out!("exported {written} contact{s} to {}", path.display());
            }
        }
        if let Some(template) = &self.template {
            self.render(store, template)?;
        }
        Ok(())
    }

    /// Prints "PHONE<TAB>MESSAGE" for each contact of the segment.
    fn render<S: ContactScan>(&self, store: &mut S, template: &Template) -> Result<()> {
        let mut out = std::io::stdout().lock();
        let mut message = String::new();
        let mut failure = None;
        store
            .scan_filtered(&template.audience(self.filter.clone()), &mut |contact| {
                message.clear();
                template.render_into(contact, &mut message);
                match writeln!(out, "{}\t{message}", contact.phone) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(error) => {
                        failure = Some(error);
                        ControlFlow::Break(())
                    }
                }
            })
            .context("listing the segment")?;
        match failure {
            Some(error) => Err(error.into()),
            None => Ok(()),
        }
    }
}
