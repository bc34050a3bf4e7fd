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
//!
//! The modules, in the order a run meets them: `args` (the flags), `store`
//! (which store), `history` (the past imports), `preview` (`--suggest`,
//! `--dry-run`), `import` (the import and its report, with `spreadsheet`
//! files), `segment` (the filter flags) and `export` (contacts out of the
//! store).
mod args;
mod export;
mod history;
mod import;
mod preview;
mod segment;
mod spreadsheet;
mod store;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use contact_import::{ContactScan, ImportEngine};

use crate::args::Args;

fn main() -> ExitCode {
    match store::run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// What the flags ask of `store`: a history command, or an import (or its
/// preview) and then the segment.
fn run_on<S: ContactScan>(store: &mut S, args: &Args) -> Result<()> {
    if let Some(request) = history::requested(args) {
        return history::run(store, request, args.json);
    }
    let Some(path) = &args.file else {
        bail!("name the CSV file to import");
    };
    // The store's catalog and the flags' additions, kept in the store only
    // by a real import.
    let added = args::catalog(args);
    let mut catalog = store.load_catalog()?;
    catalog.merge(&added);
    let segment = args.segment.prepare(&catalog)?;
    let engine =
        ImportEngine::new(catalog, jiff::Timestamp::now).with_options(args::options(args)?);
    if args.suggest {
        return preview::suggest(path, engine.catalog(), engine.options().sheet());
    }
    let file = open(path)?;
    if args.dry_run {
        return preview::dry_run(&engine, file, store, path, args);
    }
    store.add_to_catalog(&added)?;
    let recorded = store::keeps_history(args);
    let record = match import::import(&engine, path, file, store, args.json, recorded)? {
        Ok(record) => record,
        Err(error) => return import::stopped(error, path, args),
    };
    if let Some(path) = &args.failures {
        import::write_failures(&record.report, path)?;
    }
    if let Some(path) = &args.dump {
        export::dump(store, path)?;
    }
    import::print(&record, args)?;
    let result = match segment {
        Some(segment) => segment.write(store, engine.catalog(), args.json),
        None => Ok(()),
    };
    // As for the store (see `store::run`): the report's rows are not freed one by one.
    std::mem::forget(record);
    result
}

/// `println!` that returns an error (e.g. a closed pipe) instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}
pub(crate) use out;

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

fn open(path: &Path) -> Result<File> {
    File::open(path).with_context(|| format!("cannot open {}", path.display()))
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(BufWriter::new(file))
}

/// "1 contact", "2 contacts".
fn contacts(n: u64) -> String {
    format!("{n} contact{}", if n == 1 { "" } else { "s" })
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
