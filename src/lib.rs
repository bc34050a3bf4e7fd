//! Import contact lists from CSV files into a messaging CRM's contact book,
//! and get them out again.
//!
//! A business uploads a spreadsheet of its customers: names, mobile numbers,
//! tags such as `MBA | Finance`, a lead source, a first-message tag and custom
//! attributes such as City. This crate maps the columns to contact fields,
//! normalizes every row (phones to E.164, numbers without a country code taken
//! as Indian; tags split on `|` and kept only when they exist in the
//! [`Catalog`]; the name split into first and last name for message
//! templates), and upserts each contact by phone into a [`ContactStore`]:
//! new phones are added, known ones updated without losing what the store
//! already holds. Every import ends with an [`ImportReport`] of added, updated
//! and failed rows, with reasons a person can act on, and a failure file they
//! can fix and upload again.
//!
//! Getting them out again: a [`Filter`] picks a segment (tags, source,
//! attributes, name, dates, [`Status`] at a given time, [`State`]), a
//! [`ContactScan`] store streams it, [`export()`] writes it as CSV in the
//! import format (guarded against formula injection, and importable again),
//! and a [`Template`] turns `Hi $FirstName` into one message per contact.
//!
//! # Example
//!
//! ```
//! use std::io::Cursor;
//! use contact_import::{Catalog, FailureCode, ImportEngine, MemoryStore, Phone};
//!
//! let catalog = Catalog::new()
//!     .with_tags(["MBA", "Finance", "Marketing"])
//!     .with_attributes(["City", "email", "State"]);
//! let engine = ImportEngine::new(catalog, || jiff::Timestamp::now());
//! let mut store = MemoryStore::new();
//!
//! let file = "\
//! Name,Mobile Number,Tags,Source,First Message,City
//! Mohit Dua,+919876543452,MBA,Website,,Delhi
//! Priya Sharma,9876543210,MBA | Finance,,,Mumbai
//! Broken Row,12345,Marketing,,,Pune
//! ";
//! let report = engine.import(Cursor::new(file), &mut store)?;
//! assert_eq!((report.added, report.updated, report.failed), (2, 0, 1));
//! assert_eq!(report.failures[0].position.row, 4);
//! assert_eq!(report.failures[0].code, FailureCode::InvalidPhone);
//!
//! let priya = store.contact(&Phone::parse_e164("+919876543210").unwrap()).unwrap();
//! assert_eq!((priya.first_name(), priya.last_name()), ("Priya", "Sharma"));
//! assert_eq!(priya.source.as_deref(), Some("IMPORT"));
//! assert_eq!(priya.attributes.get("City"), Some("Mumbai"));
//!
//! // The same file again adds nothing and changes nothing.
//! let again = engine.import(Cursor::new(file), &mut store)?;
//! assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Modules
//!
//! Each concept has its module, re-exported here: [`contact`] (the record),
//! [`phone`] (E.164 normalization), [`catalog`] (tags and attributes that
//! exist), [`mapping`] (columns to fields), [`engine`] (the import and its
//! options), [`plan`] (dry runs), [`report`] (the outcome), [`history`] (past
//! imports), [`store`] (the traits, [`MemoryStore`] and the database stores),
//! [`filter`] (segments), [`export`](mod@export) (a segment as CSV),
//! [`template`] (personalised messages), [`error`], [`generate`]
//! (realistic files for benchmarks and tests), and [`spreadsheet`]
//! (`.xlsx`, `.xls` and `.ods` uploads, with the `spreadsheet` feature).
//!
//! # Cargo features
//!
//! None is on by default: the default build has no I/O dependency.
//! - `sqlite`: `SqliteStore`, a contact book in a SQLite file (SQLite is
//!   compiled in; nothing to install).
//! - `postgres`: `PostgresStore`, a contact book in PostgreSQL.
//! - `testkit`: `contact_import::testkit`, the conformance checks for your
//!   own store.
//! - `spreadsheet`: `ImportEngine::import_spreadsheet` and
//!   `ImportEngine::plan_spreadsheet` read `.xlsx`, `.xls` and `.ods`
//!   uploads directly (with calamine).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// docs.rs (Cargo.toml's `package.metadata.docs.rs`) builds with `--cfg docsrs`
// on nightly: every item then shows the features it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod account;
mod batch;
mod batch_rows;
pub mod catalog;
pub mod contact;
pub mod engine;
pub mod error;
pub mod export;
mod fetch_plan;
pub mod filter;
mod formula;
pub mod generate;
pub mod history;
pub mod mapping;
mod merge;
mod normalize;
mod numbering_plan;
mod options;
pub mod phone;
mod phone_metadata;
mod pipeline;
pub mod plan;
mod reader;
pub mod report;
mod row_cells;
mod row_source;
mod session;
mod splitmix;
pub mod spreadsheet;
pub mod store;
pub mod suggest;
mod tally;
pub mod template;
#[cfg(feature = "testkit")]
pub mod testkit;
mod text;

pub use account::{Account, AccountError};
pub use batch::Batch;
pub use catalog::Catalog;
pub use contact::{Attribute, Attributes, Contact, State, Status, Tag, Tags};
pub use encoding_rs;
pub use engine::{
    Clock, DuplicatePolicy, ImportEngine, ImportMode, ImportOptions, MAX_CONFLICT_ROUNDS, Progress,
};
pub use error::{Contended, FileError, FileErrorKind, ImportError, Position};
pub use export::{ExportError, export, export_headers, export_phones};
pub use filter::{Filter, TimeRange};
pub use formula::guard_formula;
pub use history::{ImportId, ImportRecord, ImportSummary};
pub use jiff::Timestamp;
pub use mapping::{ColumnMapping, Field};
pub use options::{FieldPolicy, NamePolicy, OptInPolicy, TagPolicy, UpdatePolicy};
pub use phone::{LIBPHONENUMBER_VERSION, NumberType, Phone, PhoneError, PhoneNormalizer, Region};
pub use plan::{FieldChange, PlannedRow, RowOutcome};
pub use report::{
    DuplicatePhone, FailureCode, ImportReport, RowFailure, Warning, WarningCode, WarningGroup,
};
pub use session::Import;
pub use spreadsheet::Sheet;
#[cfg(feature = "spreadsheet")]
pub use spreadsheet::SpreadsheetFormat;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use store::DecodeError;
pub use store::{
    ContactScan, ContactStore, MemoryStore, SharedMemoryStore, Stored, Version, WriteBatch,
};
#[cfg(feature = "postgres")]
pub use store::{PostgresError, PostgresStore};
#[cfg(feature = "sqlite")]
pub use store::{SqliteError, SqliteStore};
pub use suggest::Suggestion;
pub use template::{Location, Template, TemplateError, TemplateErrorKind, Variable};

/// The `postgres` client crate the store is built on, for
/// [`PostgresStore::with_client`] and [`PostgresStore::client`].
#[cfg(feature = "postgres")]
pub use postgres;
/// The `rusqlite` crate the store is built on, for
/// [`SqliteStore::with_connection`] and [`SqliteStore::connection`].
#[cfg(feature = "sqlite")]
pub use rusqlite;

/// The README's examples, compiled and run as doctests (they use every
/// feature, so with `--all-features`, as CI runs them).
#[cfg(all(doctest, feature = "sqlite", feature = "postgres", feature = "testkit"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
