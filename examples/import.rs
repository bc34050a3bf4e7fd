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
    Catalog, ColumnMapping, Field, ImportEngine, ImportOptions, ImportReport, MemoryStore, Region,
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
    let engine =
        ImportEngine::new(catalog(&args), jiff::Timestamp::now).with_options(options(&args)?);
    let file =
        File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let mut store = MemoryStore::new();
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
        println!();
    } else {
        summary(&report, &args);
    }
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

fn summary(report: &ImportReport, args: &Args) {
    println!(
        "{}: {} rows, {} added, {} updated, {} failed",
        args.file.display(),
        report.rows,
        report.added,
        report.updated,
        report.failed
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
}
