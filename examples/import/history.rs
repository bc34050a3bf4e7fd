//! The past imports of a database: `--history`, `--history-failures`,
//! `--history-added` and `--history-updated`.
use std::path::Path;

use anyhow::{Context, Result, bail};
use contact_import::{ContactStore, ImportRecord};

use crate::args::Args;
use crate::{create, out, print_json};

/// What a history flag asks for.
pub enum Request<'a> {
    /// `--history`.
    List,
    /// `--history-failures ID PATH`.
    Failures(&'a str, &'a Path),
    /// `--history-added ID PATH` or `--history-updated ID PATH`.
    Contacts(Listed, &'a str, &'a Path),
}

/// Which contacts of a past import `--history-added` and `--history-updated` write.
#[derive(Clone, Copy)]
pub enum Listed {
    Added,
    Updated,
}

impl Listed {
    fn flag_and_verb(self) -> (&'static str, &'static str) {
        match self {
            Listed::Added => ("--history-added", "added"),
            Listed::Updated => ("--history-updated", "updated"),
        }
    }
}

/// The history flag given, if any (the first, in the order of `--help`).
pub fn requested(args: &Args) -> Option<Request<'_>> {
    if args.history {
        return Some(Request::List);
    }
    if let Some((id, path)) = id_and_path(&args.history_failures) {
        return Some(Request::Failures(id, path));
    }
    for (flag, listed) in [
        (&args.history_added, Listed::Added),
        (&args.history_updated, Listed::Updated),
    ] {
        if let Some((id, path)) = id_and_path(flag) {
            return Some(Request::Contacts(listed, id, path));
        }
    }
    None
}

/// The ID and PATH of a history flag given.
fn id_and_path(flag: &Option<Vec<String>>) -> Option<(&str, &Path)> {
    match flag.as_deref() {
        Some([id, path]) => Some((id, Path::new(path))),
        _ => None,
    }
}

/// Does what `request` asks, as JSON with `--json` for `--history`.
pub fn run(store: &mut impl ContactStore, request: Request, json: bool) -> Result<()> {
    match request {
        Request::List => list(store, json),
        Request::Failures(id, path) => failures(store, id, path),
        Request::Contacts(listed, id, path) => contacts(store, listed, id, path),
    }
}

fn list(store: &mut impl ContactStore, json: bool) -> Result<()> {
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

/// The past import whose id `flag` gave as `id`.
fn past_import(store: &mut impl ContactStore, flag: &str, id: &str) -> Result<ImportRecord> {
    let id: u64 = id
        .parse()
        .with_context(|| format!("{flag} {id:?}: the import id is a number (see --history)"))?;
    match store.import_record(id)? {
        Some(record) => Ok(record),
        None => bail!("no import #{id} in the history (see --history)"),
    }
}

fn failures(store: &mut impl ContactStore, id: &str, path: &Path) -> Result<()> {
    let record = past_import(store, "--history-failures", id)?;
    crate::import::write_failures(&record.report, path)?;
    out!(
        "wrote the {} failed rows of import #{} ({}) to {}",
        record.report.failed,
        record.id,
        record.file_name,
        path.display()
    );
    Ok(())
}

fn contacts(store: &mut impl ContactStore, listed: Listed, id: &str, path: &Path) -> Result<()> {
    let (flag, verb) = listed.flag_and_verb();
    let ImportRecord {
        id,
        report,
        file_name,
        ..
    } = past_import(store, flag, id)?;
    let phones = match listed {
        Listed::Added => &report.phones_added,
        Listed::Updated => &report.phones_updated,
    };
    let catalog = store.load_catalog()?;
    let now = jiff::Timestamp::now();
    let written = contact_import::export_phones(store, phones, &catalog, now, create(path)?)
        .with_context(|| format!("writing {}", path.display()))?;
    out!(
        "wrote the {} import #{id} ({file_name}) {verb}, as they are now, to {}",
        crate::contacts(written),
        path.display()
    );
    let gone = (phones.len() as u64).saturating_sub(written);
    if gone > 0 {
        out!("{gone} of the contacts it {verb} are no longer stored");
    }
    Ok(())
}
