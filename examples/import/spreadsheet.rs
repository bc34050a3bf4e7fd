//! `.xlsx`, `.xls` and `.ods` files, read with the `spreadsheet` feature;
//! without it, each function says which feature to add, or cannot be
//! called (its format is `Infallible`).
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anyhow::Result;
use contact_import::{
    ContactStore, ImportEngine, ImportError, ImportRecord, ImportReport, PlannedRow, Progress,
    Sheet,
};

#[cfg(feature = "spreadsheet")]
pub use contact_import::SpreadsheetFormat as Format;
#[cfg(not(feature = "spreadsheet"))]
pub use std::convert::Infallible as Format;

fn extension(path: &Path) -> &str {
    path.extension().and_then(|e| e.to_str()).unwrap_or("")
}

/// The spreadsheet format of `path` by its extension; `None` for CSV.
#[cfg(feature = "spreadsheet")]
pub fn format(path: &Path) -> Result<Option<Format>> {
    Ok(Format::from_extension(extension(path)))
}

#[cfg(not(feature = "spreadsheet"))]
pub fn format(path: &Path) -> Result<Option<Format>> {
    let extension = extension(path).to_ascii_lowercase();
    if ["xlsx", "xlsm", "xls", "ods"].contains(&extension.as_str()) {
        anyhow::bail!(
            "{} is a spreadsheet: add the spreadsheet feature (cargo run --release --example import --features sqlite,spreadsheet -- ...)",
            path.display()
        );
    }
    Ok(None)
}

/// The first rows of a spreadsheet (the header and 20 rows), or `None` for CSV.
#[cfg(feature = "spreadsheet")]
pub fn first_rows(path: &Path, sheet: &Sheet) -> Result<Option<Vec<Vec<String>>>> {
    let Some(format) = format(path)? else {
        return Ok(None);
    };
    let file = BufReader::new(crate::open(path)?);
    let rows = contact_import::spreadsheet::read_rows(file, format, sheet, 21)?;
    Ok(Some(rows))
}

#[cfg(not(feature = "spreadsheet"))]
pub fn first_rows(path: &Path, _: &Sheet) -> Result<Option<Vec<Vec<String>>>> {
    format(path)?;
    Ok(None)
}

/// Imports a spreadsheet, recorded in the store's history when `recorded`
/// (see [`crate::import::import`]).
pub fn import<S: ContactStore>(
    engine: &ImportEngine,
    name: &str,
    file: File,
    format: Format,
    store: &mut S,
    recorded: bool,
    progress: impl FnMut(Progress),
) -> Result<ImportRecord, ImportError<S::Error>> {
    #[cfg(feature = "spreadsheet")]
    {
        let file = BufReader::new(file);
        if recorded {
            engine.import_spreadsheet_recorded(name, file, format, store, progress)
        } else {
            crate::import::unrecorded(name, || {
                engine.import_spreadsheet(file, format, store, progress)
            })
        }
    }
    #[cfg(not(feature = "spreadsheet"))]
    {
        let _ = (engine, name, file, store, recorded, progress);
        match format {}
    }
}

/// Plans the import of a spreadsheet (a dry run).
pub fn plan<S: ContactStore>(
    engine: &ImportEngine,
    file: BufReader<File>,
    format: Format,
    store: &mut S,
    each: impl FnMut(PlannedRow),
) -> Result<ImportReport>
where
    S::Error: std::error::Error + Send + Sync + 'static,
{
    #[cfg(feature = "spreadsheet")]
    return Ok(engine.plan_spreadsheet(file, format, store, each)?);
    #[cfg(not(feature = "spreadsheet"))]
    {
        let _ = (engine, file, store, each);
        match format {}
    }
}
