//! A batch's columns as PostgreSQL arrays, encoded straight from the
//! contacts into the statement's wire buffer (feature `postgres`).
//!
//! Binding `Vec<String>`s built from the contacts first copied every name,
//! phone, source and JSON text once more, 1,000 contacts and 19 arrays a
//! batch: about 0.2 s of client CPU in a 200,000-row import (INTERNALS.md,
//! "PostgreSQL: arrays straight from the contacts"). The format is
//! PostgreSQL's binary array (`array_recv`): a header, then each element
//! as its length and bytes, -1 for NULL.

use std::error::Error;

use bytes::{BufMut, BytesMut};
use jiff::Timestamp;
use postgres::types::{IsNull, Kind, ToSql, Type, to_sql_checked};

use crate::contact::Contact;
use crate::store::Version;

type EncodeResult = Result<IsNull, Box<dyn Error + Sync + Send>>;

/// One column of a batch's contacts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    Phone,
    Name,
    /// JSON array of tag names, as text (the statement casts it to jsonb).
    Tags,
    Source,
    FirstMessage,
    /// JSON object of attribute names to values, as text.
    Attributes,
    CreatedAt,
    LastActive,
    State,
    OptIn,
}

impl Field {
    /// The type of the array's elements.
    fn element(self) -> Type {
        match self {
            Field::CreatedAt | Field::LastActive => Type::TIMESTAMPTZ,
            Field::OptIn => Type::BOOL,
            _ => Type::TEXT,
        }
    }
}

/// `field` of each of `contacts`, bound as one array parameter.
#[derive(Debug)]
pub(crate) struct ContactArray<'a> {
    pub contacts: &'a [&'a Contact],
    pub field: Field,
}

/// The versions fetched of a batch's updates, as a `bigint[]`.
#[derive(Debug)]
pub(crate) struct VersionArray<'a>(pub &'a [(Contact, Version)]);

/// PostgreSQL's epoch, 2000-01-01T00:00:00Z, in microseconds since Unix's:
/// PostgreSQL counts microseconds from it.
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

fn array_header(
    element: &Type,
    len: usize,
    out: &mut BytesMut,
) -> Result<(), Box<dyn Error + Sync + Send>> {
    let len = i32::try_from(len).map_err(|_| "a batch of more than 2^31 contacts")?;
    out.put_i32(1); // dimensions
    out.put_i32(1); // may hold NULLs (PostgreSQL reads each element's length anyway)
    out.put_u32(element.oid());
    out.put_i32(len);
    out.put_i32(1); // lower bound
    Ok(())
}

/// Writes one element: its length, then what `write` puts in `out`.
fn element(
    out: &mut BytesMut,
    write: impl FnOnce(&mut BytesMut) -> Result<(), Box<dyn Error + Sync + Send>>,
) -> Result<(), Box<dyn Error + Sync + Send>> {
    let at = out.len();
    out.put_i32(0);
    write(out)?;
    let len = i32::try_from(out.len() - at - 4).map_err(|_| "a value of more than 2 GiB")?;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

fn text(out: &mut BytesMut, value: Option<&str>) -> Result<(), Box<dyn Error + Sync + Send>> {
    match value {
        Some(value) => {
            out.put_i32(i32::try_from(value.len()).map_err(|_| "a value of more than 2 GiB")?);
            out.put_slice(value.as_bytes());
        }
        None => out.put_i32(-1),
    }
    Ok(())
}

fn json<T: serde::Serialize>(
    out: &mut BytesMut,
    value: &T,
) -> Result<(), Box<dyn Error + Sync + Send>> {
    element(out, |out| Ok(serde_json::to_writer(out.writer(), value)?))
}

fn time(out: &mut BytesMut, value: Option<Timestamp>) -> Result<(), Box<dyn Error + Sync + Send>> {
    match value {
        Some(value) => {
            // Whole microseconds since Unix's epoch, as SqliteStore keeps them.
            let micros = value.as_microsecond() - POSTGRES_EPOCH_MICROS;
            out.put_i32(8);
            out.put_i64(micros);
        }
        None => out.put_i32(-1),
    }
    Ok(())
}

fn is_array_of(ty: &Type, element: &Type) -> bool {
    matches!(ty.kind(), Kind::Array(of) if of == element)
}

impl ContactArray<'_> {
    fn put(
        &self,
        contact: &Contact,
        out: &mut BytesMut,
    ) -> Result<(), Box<dyn Error + Sync + Send>> {
        match self.field {
            Field::Phone => text(out, Some(contact.phone.as_str()))?,
            Field::Name => text(out, Some(contact.name()))?,
            Field::Tags => json(out, &contact.tags)?,
            Field::Source => text(out, contact.source.as_deref())?,
            Field::FirstMessage => text(out, contact.first_message.as_ref().map(|t| t.as_str()))?,
            Field::Attributes => json(out, &contact.attributes)?,
            Field::CreatedAt => time(out, Some(contact.created_at))?,
            Field::LastActive => time(out, contact.last_active)?,
            Field::State => text(out, contact.state.map(|s| s.as_str()))?,
            Field::OptIn => match contact.opt_in {
                Some(opt_in) => {
                    out.put_i32(1);
                    out.put_u8(u8::from(opt_in));
                }
                None => out.put_i32(-1),
            },
        }
        Ok(())
    }
}

impl ToSql for ContactArray<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> EncodeResult {
        let element = self.field.element();
        if !is_array_of(ty, &element) {
            return Err(
                format!("{:?} bound as {ty}, not an array of {element}", self.field).into(),
            );
        }
        array_header(&element, self.contacts.len(), out)?;
        for contact in self.contacts {
            self.put(contact, out)?;
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        [Type::TEXT, Type::TIMESTAMPTZ, Type::BOOL]
            .iter()
            .any(|element| is_array_of(ty, element))
    }

    to_sql_checked!();
}

impl ToSql for VersionArray<'_> {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> EncodeResult {
        array_header(&Type::INT8, self.0.len(), out)?;
        for (_, version) in self.0 {
            let version = i64::try_from(version.get()).map_err(|_| "a version past i64::MAX")?;
            out.put_i32(8);
            out.put_i64(version);
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        is_array_of(ty, &Type::INT8)
    }

    to_sql_checked!();
}
