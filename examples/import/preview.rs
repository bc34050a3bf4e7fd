//! Looking before importing: `--suggest` (the mapping of the columns) and
//! `--dry-run` (the plan, with `--plan PATH` the whole of it).
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use contact_import::{Catalog, ColumnMapping, ContactStore, ImportEngine, PlannedRow, Sheet};

use crate::args::Args;
use crate::{create, out, print_json, spreadsheet};

/// `--suggest`: the suggested field of each column, from its header and the
/// first 20 rows.
pub fn suggest(path: &Path, catalog: &Catalog, sheet: &Sheet) -> Result<()> {
    if let Some(rows) = spreadsheet::first_rows(path, sheet)? {
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

/// `--dry-run`: the counts and the first changes, nothing written.
pub fn dry_run(
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
    let file = BufReader::new(file);
    let report = match spreadsheet::format(path)? {
        Some(format) => spreadsheet::plan(engine, file, format, store, each),
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
    crate::import::summary(&report, &path.display().to_string(), args)?;
    Ok(())
}

/// The plan as JSON Lines or CSV (one row per planned row, changes joined).
enum PlanWriter {
    Json(BufWriter<File>),
    Csv(Box<csv::Writer<BufWriter<File>>>),
}

impl PlanWriter {
    fn create(path: &Path) -> Result<PlanWriter> {
        let file = create(path)?;
        if path.extension().is_some_and(|e| e == "jsonl") {
            return Ok(PlanWriter::Json(file));
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
