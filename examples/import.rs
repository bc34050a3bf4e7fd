//! The main job: import a contacts CSV file and print what happened.
//!
//! ```text
//! cargo run --release --example import -- examples/contacts.csv \
//!     --tags "MBA,Finance,Marketing" --attributes "City,email,State"
//! ```
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use contact_import::{
    Catalog, ColumnMapping, DuplicatePolicy, Field, FieldPolicy, ImportEngine, ImportOptions,
    ImportReport, MemoryStore, PlannedRow, Region, TagPolicy, UpdatePolicy,
};
use indicatif::{ProgressBar, ProgressStyle};

/// Import contacts from a CSV file into a contact book.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The CSV file to import.
    file: PathBuf,
    /// Tags that exist in the catalog, comma-separated (e.g. "MBA,Finance").
    #[arg(long, default_value = "")]
    tags: String,
    /// Custom attributes that exist in the catalog, comma-separated (e.g. "City,email").
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
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Duplicates {
    Merge,
    FirstWins,
    LastWins,
    Reject,
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
    let engine =
        ImportEngine::new(catalog(&args), jiff::Timestamp::now).with_options(options(&args)?);
    if args.suggest {
        return suggest(&args, engine.catalog());
    }
    let file =
        File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let mut store = MemoryStore::new();
    if args.dry_run {
        return dry_run(&engine, file, &mut store, &args);
    }
    let bar = progress_bar(args.json);
    let report = engine.import_with_progress(std::io::BufReader::new(file), &mut store, |p| {
        if let Some(total) = p.total_rows {
            bar.set_length(total);
        }
        bar.set_position(p.rows_done);
    });
    bar.finish_and_clear();
    let report = report.with_context(|| format!("{} was not imported", args.file.display()))?;
    if let Some(path) = &args.failures {
        let out =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        report.write_failures(BufWriter::new(out))?;
    }
    if let Some(path) = &args.dump {
        dump(&store, path)?;
    }
    if args.json {
        serde_json::to_writer_pretty(std::io::stdout().lock(), &report)?;
        out!("");
    } else {
        summary(&report, &args)?;
    }
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
    let update = UpdatePolicy {
        tags: match args.tag_policy {
            Tags::Add => TagPolicy::Add,
            Tags::Replace => TagPolicy::Replace,
            Tags::Remove => TagPolicy::Remove,
        },
        source: cells,
        first_message: cells,
        attributes: cells,
        clear_token: args.clear_token.clone(),
        ..UpdatePolicy::default()
    };
    let duplicates = match args.duplicates {
        Duplicates::Merge => DuplicatePolicy::Merge,
        Duplicates::FirstWins => DuplicatePolicy::FirstWins,
        Duplicates::LastWins => DuplicatePolicy::LastWins,
        Duplicates::Reject => DuplicatePolicy::Reject,
    };
    Ok(ImportOptions {
        region,
        mapping,
        update,
        duplicates,
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

fn dump(store: &MemoryStore, path: &PathBuf) -> Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    for contact in store.contacts() {
        serde_json::to_writer(&mut out, contact)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn summary(report: &ImportReport, args: &Args) -> Result<()> {
    out!(
        "{}: {} rows, {} added, {} updated, {} unchanged, {} failed",
        args.file.display(),
        report.rows,
        report.added,
        report.updated,
        report.unchanged,
        report.failed
    );
    for dup in report.duplicates.iter().take(5) {
        let rows: Vec<String> = dup.rows.iter().map(u64::to_string).collect();
        out!("rows {} share the phone {}", rows.join(", "), dup.phone);
    }
    for warning in report.warnings.iter().filter(|w| w.row.is_none()) {
        out!("warning: {}", warning.message);
    }
    let row_warnings = report.warnings.iter().filter(|w| w.row.is_some()).count();
    if row_warnings > 0 {
        out!("{row_warnings} row warnings (see --json)");
    }
    for failure in report.failures.iter().take(10) {
        out!("row {}: {}: {}", failure.row, failure.code, failure.message);
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

fn suggest(args: &Args, catalog: &Catalog) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(&args.file)
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let headers: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let samples: Vec<Vec<String>> = reader
        .records()
        .take(20)
        .filter_map(Result::ok)
        .map(|r| r.iter().map(str::to_owned).collect())
        .collect();
    for s in ColumnMapping::suggest(&headers, &samples, catalog) {
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

fn dry_run(engine: &ImportEngine, file: File, store: &mut MemoryStore, args: &Args) -> Result<()> {
    const SHOWN: usize = 20;
    let mut out = match &args.plan {
        Some(path) => Some(PlanWriter::create(path)?),
        None => None,
    };
    let mut shown = Vec::new();
    let mut write_error = None;
    let report = engine.plan(std::io::BufReader::new(file), store, |row| {
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
    });
    if let Some(e) = write_error {
        return Err(e);
    }
    if let Some(out) = out {
        out.finish()?;
    }
    for line in shown {
        out!("{line}");
    }
    let report = report.with_context(|| format!("{} cannot be imported", args.file.display()))?;
    out!("dry run, nothing written:");
    summary(&report, args)?;
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
