//! Export: a segment of the contact book as a CSV file in the import format.

use std::fmt::Write as _;
use std::io;
use std::ops::ControlFlow;

use jiff::Timestamp;

use crate::catalog::Catalog;
use crate::contact::Contact;
use crate::filter::Filter;
use crate::formula::guard_formula;
use crate::mapping::header_key;
use crate::phone::Phone;
use crate::store::{ContactScan, ContactStore};

/// The columns an import reads, in export order.
const IMPORT_COLUMNS: [&str; 6] = [
    "Name",
    "Mobile Number",
    "Tags",
    "Source",
    "First Message",
    "WhatsApp Opt-in",
];

/// The columns the platform sets, which an import does not read.
const PLATFORM_COLUMNS: [&str; 4] = ["Status", "State", "Last Active", "Created At"];

/// What stopped an export. Match on it: the store's error, or the writer's.
///
/// The message includes the store's or the writer's error, which is
/// therefore not also a [`source`](std::error::Error::source) (a chain
/// prints it once); get it from the variant.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError<E> {
    /// The store failed while listing contacts.
    #[error("the store failed while listing contacts: {0}")]
    Store(E),
    /// Writing the CSV failed.
    #[error("writing the export failed: {0}")]
    Write(io::Error),
}

impl<E> From<io::Error> for ExportError<E> {
    fn from(error: io::Error) -> ExportError<E> {
        ExportError::Write(error)
    }
}

/// The header row of an export for `catalog`: `Name, Mobile Number, Tags,
/// Source, First Message, WhatsApp Opt-in`, each catalog attribute in catalog order, then
/// `Status, State, Last Active, Created At`.
///
/// A platform column whose name an import would confuse with a catalog
/// attribute (the guide's own catalog has a `State` attribute) is written
/// `Contact State`, so that the export imports without a clash.
///
/// ```
/// use contact_import::{Catalog, export_headers};
/// let catalog = Catalog::new().with_attributes(["City", "email", "State"]);
/// assert_eq!(export_headers(&catalog).join(","),
///     "Name,Mobile Number,Tags,Source,First Message,WhatsApp Opt-in,City,email,State,Status,Contact State,Last Active,Created At");
/// ```
pub fn export_headers(catalog: &Catalog) -> Vec<String> {
    let mut headers: Vec<String> = IMPORT_COLUMNS.iter().map(|h| h.to_string()).collect();
    headers.extend(catalog.attributes().iter().map(|a| a.to_string()));
    for column in PLATFORM_COLUMNS {
        let mut header = column.to_owned();
        while headers.iter().any(|h| header_key(h) == header_key(&header)) {
            header.insert_str(0, "Contact ");
        }
        headers.push(header);
    }
    headers
}

/// Writes the contacts of `store` that `filter` matches as CSV in the import
/// format (see [`export_headers`]), in phone order, and returns how many it
/// wrote.
///
/// Tags are joined with ` | `, phones are E.164, `Status` is computed at
/// `now`, and `Last Active` and `Created At` are RFC 3339 instants in UTC,
/// to the second (`2024-06-01T09:30:00Z`; a fraction of a second is cut
/// off, not rounded). Attribute values a contact holds for attributes
/// that are not in `catalog` are not exported. Every cell but the phone is
/// guarded against formula injection ([`guard_formula`]).
///
/// Importing the file into an empty store with the same catalog gives back
/// each contact's name, phone, tags, source, first message, opt-in and
/// attributes;
/// `created_at`, `last_active` and `state` belong to the platform and an
/// import does not read them.
///
/// ```
/// use contact_import::{Catalog, Filter, ImportEngine, MemoryStore, export};
/// use jiff::Timestamp;
///
/// let now: Timestamp = "2024-06-01T12:00:00Z".parse()?;
/// let catalog = Catalog::new().with_tags(["MBA", "Finance"]).with_attributes(["City"]);
/// let engine = ImportEngine::new(catalog.clone(), now);
/// let mut store = MemoryStore::new();
/// let file = "Name,Phone,Tags,City\nMohit Dua,9876543452,MBA | Finance,Delhi\nAsha Rao,9876543210,Finance,=1+1\n";
/// engine.import_bytes(file.as_bytes(), &mut store)?;
///
/// let mut csv = Vec::new();
/// let written = export(&mut store, &Filter::any_tag(["Finance"]), &catalog, now, &mut csv)?;
/// assert_eq!(written, 2);
/// assert_eq!(String::from_utf8(csv)?, "\
/// Name,Mobile Number,Tags,Source,First Message,WhatsApp Opt-in,City,Status,State,Last Active,Created At
/// Asha Rao,+919876543210,Finance,IMPORT,,,'=1+1,INACTIVE,,,2024-06-01T12:00:00Z
/// Mohit Dua,+919876543452,MBA | Finance,IMPORT,,,Delhi,INACTIVE,,,2024-06-01T12:00:00Z
/// ");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn export<S, W>(
    store: &mut S,
    filter: &Filter,
    catalog: &Catalog,
    now: Timestamp,
    writer: W,
) -> Result<u64, ExportError<S::Error>>
where
    S: ContactScan + ?Sized,
    W: io::Write,
{
    let mut rows = RowWriter::start(writer, catalog, now)?;
    let mut failure = None;
    store
        .scan_filtered(filter, &mut |contact| match rows.write(contact) {
            Ok(()) => ControlFlow::Continue(()),
            Err(error) => {
                failure = Some(error);
                ControlFlow::Break(())
            }
        })
        .map_err(ExportError::Store)?;
    if let Some(error) = failure {
        return Err(ExportError::Write(error.into()));
    }
    Ok(rows.finish()?)
}

/// Writes the stored contacts whose phone is in `phones`, as they are now,
/// as CSV in the import format (the same file as [`export`]), in phone order,
/// and returns how many it wrote. Phones the store does not hold (any
/// more) are skipped; a phone listed twice is written once.
///
/// This is the "download the contacts an import added or updated" of the
/// guide: pass a recorded import's [`ImportReport::phones_added`] or
/// [`ImportReport::phones_updated`](crate::ImportReport::phones_updated).
/// It reads through [`ContactStore::fetch`], 1,000 phones at a time, so a
/// store handle opened for one account writes that account's contacts only.
///
/// [`ImportReport::phones_added`]: crate::ImportReport::phones_added
///
/// ```
/// use contact_import::{Catalog, ImportEngine, MemoryStore, export_phones};
/// use jiff::Timestamp;
///
/// let now: Timestamp = "2024-06-01T12:00:00Z".parse()?;
/// let engine = ImportEngine::new(Catalog::new(), now);
/// let mut store = MemoryStore::new();
/// engine.import_bytes(b"Name,Phone\nMohit Dua,9876543452\n", &mut store)?;
/// let report = engine.import_bytes(b"Name,Phone\nAsha Rao,9876543210\nMohit Kumar,9876543452\n", &mut store)?;
///
/// let mut csv = Vec::new();
/// export_phones(&mut store, &report.phones_updated, &Catalog::new(), now, &mut csv)?;
/// assert_eq!(String::from_utf8(csv)?, "\
/// Name,Mobile Number,Tags,Source,First Message,WhatsApp Opt-in,Status,State,Last Active,Created At
/// Mohit Kumar,+919876543452,,IMPORT,,,INACTIVE,,,2024-06-01T12:00:00Z
/// ");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn export_phones<S, W>(
    store: &mut S,
    phones: &[Phone],
    catalog: &Catalog,
    now: Timestamp,
    writer: W,
) -> Result<u64, ExportError<S::Error>>
where
    S: ContactStore + ?Sized,
    W: io::Write,
{
    const CHUNK: usize = 1_000;
    let mut phones = phones.to_vec();
    phones.sort_unstable();
    phones.dedup();
    let mut rows = RowWriter::start(writer, catalog, now)?;
    let mut found = Vec::with_capacity(CHUNK);
    for chunk in phones.chunks(CHUNK) {
        found.clear();
        store.fetch(chunk, &mut found).map_err(ExportError::Store)?;
        found.sort_unstable_by_key(|stored| stored.contact.phone);
        for stored in &found {
            rows.write(&stored.contact).map_err(io::Error::from)?;
        }
    }
    Ok(rows.finish()?)
}

/// Writes the export's CSV: the header row, then one record per contact,
/// reusing one buffer for joined cells.
struct RowWriter<'a, W: io::Write> {
    csv: csv::Writer<W>,
    catalog: &'a Catalog,
    now: Timestamp,
    buffer: String,
    written: u64,
}

impl<'a, W: io::Write> RowWriter<'a, W> {
    /// A writer on `writer` that has written the header row for `catalog`.
    fn start(writer: W, catalog: &'a Catalog, now: Timestamp) -> io::Result<Self> {
        let mut csv = csv::Writer::from_writer(writer);
        for header in export_headers(catalog) {
            csv.write_field(guard_formula(&header).as_bytes())?;
        }
        csv.write_record(None::<&[u8]>)?;
        Ok(RowWriter {
            csv,
            catalog,
            now,
            buffer: String::new(),
            written: 0,
        })
    }

    /// Flushes the file; returns how many contacts it holds.
    fn finish(mut self) -> io::Result<u64> {
        self.csv.flush()?;
        Ok(self.written)
    }

    fn write(&mut self, contact: &Contact) -> csv::Result<()> {
        self.text(contact.name())?;
        self.csv.write_field(contact.phone.as_str())?;
        self.buffer.clear();
        for (i, tag) in contact.tags.iter().enumerate() {
            if i > 0 {
                self.buffer.push_str(" | ");
            }
            self.buffer.push_str(tag.as_str());
        }
        self.buffered()?;
        self.text(contact.source.as_deref().unwrap_or(""))?;
        self.text(contact.first_message.as_ref().map_or("", |t| t.as_str()))?;
        self.text(match contact.opt_in {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        })?;
        for attribute in self.catalog.attributes() {
            let value = contact.attributes.get(attribute.as_str()).unwrap_or("");
            self.text(value)?;
        }
        self.text(contact.status(self.now).as_str())?;
        self.text(contact.state.map_or("", |s| s.as_str()))?;
        self.time(contact.last_active)?;
        self.time(Some(contact.created_at))?;
        self.csv.write_record(None::<&[u8]>)?;
        self.written += 1;
        Ok(())
    }

    fn text(&mut self, text: &str) -> csv::Result<()> {
        self.csv.write_field(guard_formula(text).as_bytes())
    }

    fn buffered(&mut self) -> csv::Result<()> {
        self.csv.write_field(guard_formula(&self.buffer).as_bytes())
    }

    fn time(&mut self, time: Option<Timestamp>) -> csv::Result<()> {
        self.buffer.clear();
        if let Some(time) = time {
            // To the second, for the people reading the sheet; writing to
            // a String cannot fail.
            let _ = write!(self.buffer, "{time:.0}");
        }
        self.buffered()
    }
}
