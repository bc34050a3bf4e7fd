//! The import itself, with a progress bar, and the report it prints.
use std::fs::File;
use std::io::{BufReader, IsTerminal};
use std::path::Path;

use anyhow::Result;
use contact_import::{
    ContactStore, ImportEngine, ImportError, ImportRecord, ImportReport, Progress,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::Args;
use crate::{create, out, print_json, spreadsheet};

/// Imports `file` (at `path`) into `store`, with a progress bar on a
/// terminal unless `quiet`, and records it in the store's history when
/// `recorded` (else the record has id 0). The outer error: the file cannot
/// be read at all (a spreadsheet without the `spreadsheet` feature); the
/// inner one: the import's.
pub fn import<S: ContactStore>(
    engine: &ImportEngine,
    path: &Path,
    file: File,
    store: &mut S,
    quiet: bool,
    recorded: bool,
) -> Result<Result<ImportRecord, ImportError<S::Error>>> {
    let bar = progress_bar(quiet);
    let name = path.display().to_string();
    let progress = |p: Progress| {
        if let Some(total) = p.total_rows {
            bar.set_length(total);
        }
        bar.set_position(p.rows_done);
    };
    let record = match spreadsheet::format(path)? {
        Some(format) => spreadsheet::import(engine, &name, file, format, store, recorded, progress),
        None if recorded => engine.import_recorded(&name, BufReader::new(file), store, progress),
        None => unrecorded(&name, || {
            engine.import_with_progress(BufReader::new(file), store, progress)
        }),
    };
    bar.finish_and_clear();
    Ok(record)
}

/// The record of an import that no history keeps (id 0).
pub fn unrecorded<E>(
    name: &str,
    import: impl FnOnce() -> Result<ImportReport, E>,
) -> Result<ImportRecord, E> {
    let started_at = jiff::Timestamp::now();
    let report = import()?;
    Ok(ImportRecord::new(
        name,
        started_at,
        jiff::Timestamp::now(),
        report,
    ))
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

/// The report of a finished import: as JSON with `--json`, else the summary
/// and the import's number in the history.
pub fn print(record: &ImportRecord, args: &Args) -> Result<()> {
    if args.json {
        return print_json(&record.report);
    }
    summary(&record.report, &record.file_name, args)?;
    if record.id > 0 {
        out!(
            "recorded as import #{} (see --history; --history-failures {} PATH writes its failed rows again)",
            record.id,
            record.id
        );
    }
    Ok(())
}

/// An import that stopped part-way: the failure file of the rows read and,
/// with --json, the report so far and the error as one JSON object.
pub fn stopped<E>(error: ImportError<E>, path: &Path, args: &Args) -> Result<()>
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

/// `--failures PATH`: the failed rows with their reasons, to fix and import again.
pub fn write_failures(report: &ImportReport, path: &Path) -> Result<()> {
    report.write_failures(create(path)?)?;
    Ok(())
}

/// The counts, then the first duplicates, warnings and failed rows.
pub fn summary(report: &ImportReport, file_name: &str, args: &Args) -> Result<()> {
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
