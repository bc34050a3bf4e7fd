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
use crate::store::codec::signed;

type BoxError = Box<dyn Error + Sync + Send>;

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

fn array_header(element: &Type, len: usize, out: &mut BytesMut) -> Result<(), BoxError> {
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
    write: impl FnOnce(&mut BytesMut) -> Result<(), BoxError>,
) -> Result<(), BoxError> {
    let at = out.len();
    out.put_i32(0);
    write(out)?;
    let len = i32::try_from(out.len() - at - 4).map_err(|_| "a value of more than 2 GiB")?;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

fn text(out: &mut BytesMut, value: Option<&str>) -> Result<(), BoxError> {
    match value {
        Some(value) => element(out, |out| {
            out.put_slice(value.as_bytes());
            Ok(())
        }),
        None => {
            out.put_i32(-1);
            Ok(())
        }
    }
}

fn json<T: serde::Serialize>(out: &mut BytesMut, value: &T) -> Result<(), BoxError> {
    element(out, |out| Ok(serde_json::to_writer(out.writer(), value)?))
}

fn time(out: &mut BytesMut, value: Option<Timestamp>) {
    match value {
        Some(value) => {
            // Whole microseconds since Unix's epoch, as SqliteStore keeps them.
            out.put_i32(8);
            out.put_i64(value.as_microsecond() - POSTGRES_EPOCH_MICROS);
        }
        None => out.put_i32(-1),
    }
}

fn is_array_of(ty: &Type, element: &Type) -> bool {
    matches!(ty.kind(), Kind::Array(of) if of == element)
}

impl ContactArray<'_> {
    fn put(&self, contact: &Contact, out: &mut BytesMut) -> Result<(), BoxError> {
        match self.field {
            Field::Phone => text(out, Some(contact.phone.as_str()))?,
            Field::Name => text(out, Some(contact.name()))?,
            Field::Tags => json(out, &contact.tags)?,
            Field::Source => text(out, contact.source.as_deref())?,
            Field::FirstMessage => text(out, contact.first_message.as_ref().map(|t| t.as_str()))?,
            Field::Attributes => json(out, &contact.attributes)?,
            Field::CreatedAt => time(out, Some(contact.created_at)),
            Field::LastActive => time(out, contact.last_active),
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
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
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
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        array_header(&Type::INT8, self.0.len(), out)?;
        for (_, version) in self.0 {
            out.put_i32(8);
            out.put_i64(signed("version", version.get())?);
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        is_array_of(ty, &Type::INT8)
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::contact::{Attributes, State, Tag, Tags};
    use crate::phone::Phone;

    fn contacts() -> Vec<Contact> {
        let phone = |p: &str| Phone::parse_e164(p).unwrap();
        let mut full = Contact::new(
            phone("+919876543210"),
            "Asha \"Q\" Rao".into(),
            Timestamp::constant(1_750_000_000, 123_456_789),
        );
        full.tags = Tags::from([Tag::new("MBA"), Tag::new("Finance")]);
        full.source = Some("IMPORT".into());
        full.first_message = Some(Tag::new("MBA"));
        full.attributes = Attributes::from_iter([("City", "Pune"), ("email", "a\\b@x.in")]);
        full.last_active = Some(Timestamp::constant(1_760_000_000, 5_000));
        full.state = Some(State::Closed);
        full.opt_in = Some(false);
        let bare = Contact::new(
            phone("+14155550123"),
            "Bo".into(),
            Timestamp::constant(1_600_000_000, 0),
        );
        vec![full, bare]
    }

    fn ours(contacts: &[&Contact], field: Field, ty: &Type) -> BytesMut {
        let mut out = BytesMut::new();
        ContactArray { contacts, field }
            .to_sql(ty, &mut out)
            .unwrap();
        out
    }

    /// What postgres itself writes for the same values as a `Vec`.
    fn postgres<T: ToSql>(values: Vec<T>, ty: &Type) -> BytesMut {
        let mut out = BytesMut::new();
        values.to_sql(ty, &mut out).unwrap();
        out
    }

    /// The bytes, but for the header's "holds NULLs" flag, which PostgreSQL
    /// reads past: postgres sets it only when a NULL is there.
    fn without_null_flag(mut bytes: BytesMut) -> BytesMut {
        bytes[4..8].copy_from_slice(&[0; 4]);
        bytes
    }

    #[test]
    fn every_column_is_the_array_postgres_would_write_for_the_same_values() {
        let owned = contacts();
        let batch: Vec<&Contact> = owned.iter().collect();
        let json = |f: fn(&Contact) -> String| batch.iter().map(|c| f(c)).collect::<Vec<_>>();
        let text = |f: fn(&Contact) -> Option<&str>| batch.iter().map(|c| f(c)).collect::<Vec<_>>();
        let time = |f: fn(&Contact) -> Option<Timestamp>| {
            batch
                .iter()
                .map(|c| f(c).map(|t| SystemTime::try_from(t).unwrap()))
                .collect::<Vec<_>>()
        };
        let (text_array, times, bools) =
            (Type::TEXT_ARRAY, Type::TIMESTAMPTZ_ARRAY, Type::BOOL_ARRAY);
        let expected = [
            (
                Field::Phone,
                postgres(text(|c| Some(c.phone.as_str())), &text_array),
            ),
            (Field::Name, postgres(text(|c| Some(c.name())), &text_array)),
            (
                Field::Tags,
                postgres(
                    json(|c| serde_json::to_string(&c.tags).unwrap()),
                    &text_array,
                ),
            ),
            (
                Field::Source,
                postgres(text(|c| c.source.as_deref()), &text_array),
            ),
            (
                Field::FirstMessage,
                postgres(
                    text(|c| c.first_message.as_ref().map(|t| t.as_str())),
                    &text_array,
                ),
            ),
            (
                Field::Attributes,
                postgres(
                    json(|c| serde_json::to_string(&c.attributes).unwrap()),
                    &text_array,
                ),
            ),
            (
                Field::State,
                postgres(text(|c| c.state.map(|s| s.as_str())), &text_array),
            ),
            (
                Field::CreatedAt,
                postgres(time(|c| Some(c.created_at)), &times),
            ),
            (Field::LastActive, postgres(time(|c| c.last_active), &times)),
            (
                Field::OptIn,
                postgres(batch.iter().map(|c| c.opt_in).collect(), &bools),
            ),
        ];
        for (field, postgres) in expected {
            let array = match field.element() {
                Type::TIMESTAMPTZ => &times,
                Type::BOOL => &bools,
                _ => &text_array,
            };
            assert_eq!(
                without_null_flag(ours(&batch, field, array)),
                without_null_flag(postgres),
                "{field:?}"
            );
        }
    }

    #[test]
    fn versions_are_the_bigint_array_postgres_would_write() {
        let owned = contacts();
        let update: Vec<(Contact, Version)> = owned
            .into_iter()
            .zip([Version::new(7), Version::new(u64::from(u32::MAX) + 1)])
            .collect();
        let mut out = BytesMut::new();
        VersionArray(&update)
            .to_sql(&Type::INT8_ARRAY, &mut out)
            .unwrap();
        let expected = postgres(vec![7_i64, i64::from(u32::MAX) + 1], &Type::INT8_ARRAY);
        assert_eq!(without_null_flag(out), without_null_flag(expected));
    }

    #[test]
    fn a_column_bound_to_the_wrong_type_is_an_error_not_garbage() {
        let owned = contacts();
        let batch: Vec<&Contact> = owned.iter().collect();
        let mut out = BytesMut::new();
        let array = ContactArray {
            contacts: &batch,
            field: Field::CreatedAt,
        };
        assert!(array.to_sql(&Type::TEXT_ARRAY, &mut out).is_err());
    }
}
