//! The command line: its flags, and the catalog and options they make.
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Parser;
use contact_import::{
    Account, Catalog, ColumnMapping, DuplicatePolicy, Field, FieldPolicy, ImportMode,
    ImportOptions, OptInPolicy, Region, Sheet, TagPolicy, UpdatePolicy,
};

use crate::segment::SegmentArgs;

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
pub struct Args {
    /// The CSV file to import.
    #[arg(required_unless_present_any = ["history", "history_failures", "history_added", "history_updated"])]
    pub file: Option<PathBuf>,
    /// Import into this SQLite file (created if missing) instead of memory.
    #[arg(long, value_name = "PATH", conflicts_with = "pg")]
    pub db: Option<PathBuf>,
    /// Import into this PostgreSQL database (postgresql://user@host/db) instead of memory.
    #[arg(long, value_name = "URL")]
    pub pg: Option<String>,
    /// Connections to the PostgreSQL database that write each batch: 2
    /// writes its two halves at once, on two server processes (faster on a
    /// machine with a core to spare; PostgresStore::with_second_client).
    #[arg(long, value_name = "N", default_value_t = 1, requires = "pg",
          value_parser = clap::value_parser!(u8).range(1..=2))]
    pub pg_connections: u8,
    /// Rows per batch, each written (and, in a database, committed) at once.
    /// Default: the store's preferred size, 10,000 with --db (each commit
    /// writes the pages it changed once more; README "Database stores"),
    /// else the engine's 1,000.
    #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: Option<u32>,
    /// The account (business) of the database to work on: its contacts,
    /// catalog and history only (letters, digits, '-', '_', '.', ':').
    #[arg(long, value_name = "NAME", default_value = Account::DEFAULT)]
    pub account: String,
    /// List the past imports of the database, newest first, and exit.
    #[arg(long, conflicts_with_all = ["file", "history_failures"])]
    pub history: bool,
    /// Write the failure file of past import ID to PATH again, and exit.
    #[arg(long, num_args = 2, value_names = ["ID", "PATH"], conflicts_with = "file")]
    pub history_failures: Option<Vec<String>>,
    /// Write the contacts past import ID added to PATH, as they are now
    /// (CSV in the import format), and exit.
    #[arg(long, num_args = 2, value_names = ["ID", "PATH"], conflicts_with = "file")]
    pub history_added: Option<Vec<String>>,
    /// Write the contacts past import ID updated to PATH, as they are now
    /// (CSV in the import format), and exit.
    #[arg(long, num_args = 2, value_names = ["ID", "PATH"], conflicts_with = "file")]
    pub history_updated: Option<Vec<String>>,
    /// Tags to add to the catalog, comma-separated (e.g. "MBA,Finance").
    #[arg(long, default_value = "")]
    pub tags: String,
    /// Custom attributes to add to the catalog, comma-separated (e.g. "City,email").
    #[arg(long, default_value = "")]
    pub attributes: String,
    /// Map a column explicitly: HEADER=FIELD, where FIELD is name, phone,
    /// tags, source, first_message, country, opt_in, attr:NAME or ignore. Repeatable.
    #[arg(long = "map", value_name = "HEADER=FIELD")]
    pub maps: Vec<String>,
    /// Region of numbers written without a country code.
    #[arg(long, default_value = "IN")]
    pub region: String,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write the failed rows, with their reasons, to this CSV file.
    #[arg(long, value_name = "PATH")]
    pub failures: Option<PathBuf>,
    /// Write every contact in the store after the import as JSON Lines, sorted by phone.
    #[arg(long, value_name = "PATH")]
    pub dump: Option<PathBuf>,
    /// Rows that share a phone: merge them in file order, keep the first or
    /// the last, or reject them all.
    #[arg(long, value_enum, default_value_t = Duplicates::Merge)]
    pub duplicates: Duplicates,
    /// What Source, First Message and attribute cells do to stored values.
    #[arg(long, value_enum, default_value_t = Cells::KeepWhenEmpty)]
    pub cells: Cells,
    /// What a Tags cell does to stored tags.
    #[arg(long = "tag-policy", value_enum, default_value_t = Tags::Add)]
    pub tag_policy: Tags,
    /// The cell text that clears a value with --cells clear-on-token.
    #[arg(long, default_value = "NULL")]
    pub clear_token: String,
    /// Plan the import without writing: print the counts and the first changes.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run, write the whole plan to PATH (.jsonl for JSON Lines, else CSV).
    #[arg(long, value_name = "PATH", requires = "dry_run")]
    pub plan: Option<PathBuf>,
    /// Print the suggested mapping of the file's columns and exit.
    #[arg(long)]
    pub suggest: bool,
    /// The sheet of a spreadsheet to import (default the first).
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// The header's row number (default: the first of the first 10 rows
    /// that has a name and a phone column).
    #[arg(long, value_name = "N")]
    pub header_row: Option<u64>,
    /// Which rows are written, by whether their phone is stored.
    #[arg(long, value_enum, default_value_t = Mode::AddAndUpdate)]
    pub mode: Mode,
    /// Whether an opt-in cell may opt in again a contact who opted out
    /// (only for a file of fresh consents, never an old export).
    #[arg(long, value_enum, default_value_t = OptInArg::KeepOptOut)]
    pub opt_in_policy: OptInArg,
    #[command(flatten)]
    pub segment: SegmentArgs,
}

/// A flag's values, one for each variant of the library's enum of the same
/// names (clap cannot derive its parser on another crate's type).
macro_rules! flag_values {
    ($($flag:ident => $policy:ident { $($variant:ident),+ })+) => {$(
        #[derive(clap::ValueEnum, Clone, Copy, Debug)]
        pub enum $flag {
            $($variant),+
        }

        impl From<$flag> for $policy {
            fn from(value: $flag) -> $policy {
                match value {
                    $($flag::$variant => $policy::$variant),+
                }
            }
        }
    )+};
}

flag_values! {
    Duplicates => DuplicatePolicy { Merge, FirstWins, LastWins, Reject }
    Mode => ImportMode { AddAndUpdate, AddOnly, UpdateOnly }
    OptInArg => OptInPolicy { KeepOptOut, AllowOptInAgain }
    Cells => FieldPolicy { KeepWhenEmpty, Overwrite, ClearOnToken }
    Tags => TagPolicy { Add, Replace, Remove }
}

fn split_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// The tags and attributes `--tags` and `--attributes` add to the catalog.
pub fn catalog(args: &Args) -> Catalog {
    Catalog::new()
        .with_tags(split_list(&args.tags))
        .with_attributes(split_list(&args.attributes))
}

/// The import options of the flags.
pub fn options(args: &Args) -> Result<ImportOptions> {
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
    let cells = args.cells.into();
    let update = UpdatePolicy::new()
        .with_tags(args.tag_policy.into())
        .with_source(cells)
        .with_first_message(cells)
        .with_attributes(cells)
        .with_clear_token(args.clear_token.clone())
        .with_opt_in(args.opt_in_policy.into());
    let sheet = args.sheet.clone().map_or(Sheet::First, Sheet::Name);
    let options = ImportOptions::new()
        .with_region(region)
        .with_mapping(mapping)
        .with_update(update)
        .with_duplicates(args.duplicates.into())
        .with_mode(args.mode.into())
        .with_sheet(sheet)
        .with_header_row(args.header_row);
    Ok(match args.batch_size {
        Some(rows) => options.with_batch_size(rows as usize),
        None => options,
    })
}
