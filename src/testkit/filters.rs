//! The filtered-scan check: a store's segments against [`MemoryStore`]'s.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::ControlFlow;

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

use crate::contact::{Contact, State, Status, Tag};
use crate::filter::{Filter, TimeRange};
use crate::phone::Phone;
use crate::store::{ContactScan, MemoryStore, WriteBatch};
use crate::testkit::Failure;

const CHECK: &str = "filtered_scan";
const TAGS: [&str; 3] = ["MBA", "Finance", "Closed"];

/// Checks that `scan_filtered` and `count` of stores made by `fresh` give
/// exactly what [`MemoryStore`] gives on the same data, in the same order,
/// for `cases` random contact books (up to 30 contacts) and random filters
/// of every kind, nested (shrunk to a minimal case on failure).
///
/// Each case writes the contacts to a fresh store, reads them back with
/// `scan` (so a store that keeps times to the microsecond is compared on
/// what it keeps), and loads those into the [`MemoryStore`] reference.
///
/// ```
/// use contact_import::{MemoryStore, testkit};
/// testkit::check_filtered_scan(MemoryStore::new, 16)?;
/// # Ok::<(), testkit::Failure>(())
/// ```
pub fn check_filtered_scan<S, F>(fresh: F, cases: u32) -> Result<(), Failure>
where
    S: ContactScan,
    F: FnMut() -> S,
{
    let fresh = RefCell::new(fresh);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let books = prop::collection::vec(arb_contact(), 0..30);
    let outcome = runner.run(&(books, arb_filter()), |(contacts, filter)| {
        let mut store = (fresh.borrow_mut())();
        same_segment(&mut store, contacts, &filter).map_err(TestCaseError::fail)
    });
    match outcome {
        Ok(()) => Ok(()),
        Err(TestError::Fail(reason, (contacts, filter))) => Err(Failure {
            check: CHECK,
            message: format!("{reason}\nfilter: {filter:?}\ncontacts: {contacts:#?}"),
        }),
        Err(TestError::Abort(reason)) => Err(Failure {
            check: CHECK,
            message: reason.to_string(),
        }),
    }
}

fn same_segment<S: ContactScan>(
    store: &mut S,
    contacts: Vec<Contact>,
    filter: &Filter,
) -> Result<(), String> {
    let unique: BTreeMap<Phone, Contact> = contacts.into_iter().map(|c| (c.phone, c)).collect();
    let failed = |e: S::Error| format!("the store failed: {e}");
    let batch = WriteBatch {
        create: unique.into_values().collect(),
        update: Vec::new(),
    };
    store.write_batch(batch).map_err(failed)?;
    let stored = collect(store, &Filter::everyone()).map_err(failed)?;
    let mut reference = MemoryStore::new();
    for contact in stored {
        reference.insert(contact);
    }
    let expected = collect(&mut reference, filter).map_err(|e| e.to_string())?;
    let got = collect(store, filter).map_err(failed)?;
    if got != expected {
        return Err(format!(
            "scan_filtered gave {:?}, MemoryStore gives {:?}",
            phones(&got),
            phones(&expected)
        ));
    }
    let count = store.count(filter).map_err(failed)?;
    if count != expected.len() as u64 {
        return Err(format!(
            "count gave {count}, MemoryStore gives {}",
            expected.len()
        ));
    }
    Ok(())
}

fn collect<S: ContactScan + ?Sized>(
    store: &mut S,
    filter: &Filter,
) -> Result<Vec<Contact>, S::Error> {
    let mut found = Vec::new();
    store.scan_filtered(filter, &mut |c| {
        found.push(c.clone());
        ControlFlow::Continue(())
    })?;
    Ok(found)
}

fn phones(contacts: &[Contact]) -> Vec<&str> {
    contacts.iter().map(|c| c.phone.as_str()).collect()
}

fn day(n: i64) -> Timestamp {
    Timestamp::constant(1_717_200_000, 0) + SignedDuration::from_hours(n * 12)
}

/// Random contacts over a few phones, names (ASCII and not), tags,
/// sources, a `City` attribute (sometimes empty), times on a 12-hour grid
/// states and opt-ins: the data of [`check_filtered_scan`].
pub fn arb_contact() -> impl Strategy<Value = Contact> {
    (
        0u32..100,
        prop::sample::select(vec!["Mohit Dua", "PRIYA", "Straße", "राहुल", "Zoë"]),
        prop::sample::subsequence(TAGS.to_vec(), 0..=3),
        prop::option::of(prop::sample::select(vec!["IMPORT", "API"])),
        prop::option::of(prop::sample::select(vec!["Delhi", "", "Pune"])),
        0i64..6,
        prop::option::of(0i64..6),
        prop::option::of(prop::sample::select(vec![State::Closed, State::Requesting])),
        prop::option::of(any::<bool>()),
    )
        .prop_filter_map(
            "a valid phone",
            |(n, name, tags, source, city, created, active, state, opt_in)| {
                let phone = Phone::parse_e164(&format!("+91981{n:07}"))?;
                let mut c = Contact::new(phone, name.to_owned(), day(created));
                c.tags = tags.into_iter().map(Tag::new).collect();
                c.first_message = c.tags.first().cloned();
                c.source = source.map(str::to_owned);
                if let Some(city) = city {
                    c.attributes.set("City".into(), city.to_owned());
                }
                c.last_active = active.map(day);
                c.state = state;
                c.opt_in = opt_in;
                Some(c)
            },
        )
}

/// Random filters of every kind, nested up to three levels, over the
/// values [`arb_contact`] draws from.
pub fn arb_filter() -> impl Strategy<Value = Filter> {
    let tags = || prop::sample::subsequence(TAGS.to_vec(), 0..=2);
    let range = || {
        (prop::option::of(0i64..6), prop::option::of(0i64..6)).prop_map(|(from, to)| TimeRange {
            from: from.map(day),
            to: to.map(day),
        })
    };
    let leaf = prop_oneof![
        tags().prop_map(Filter::any_tag),
        tags().prop_map(Filter::all_tags),
        tags().prop_map(Filter::no_tag),
        prop::sample::select(TAGS.to_vec()).prop_map(Filter::first_message),
        prop::sample::select(vec!["IMPORT", "API"]).prop_map(Filter::source),
        prop::sample::select(vec!["Delhi", "", "Pune"])
            .prop_map(|v| Filter::attribute_equals("City", v)),
        Just(Filter::attribute_set("City")),
        Just(Filter::attribute_empty("City")),
        prop::sample::select(vec!["", "dua", "PRI", "STRASSE", "ह", "ë"])
            .prop_map(Filter::name_contains),
        range().prop_map(Filter::created),
        range().prop_map(Filter::last_active),
        (0i64..6).prop_map(|n| Filter::status(Status::Active, day(n))),
        (0i64..6).prop_map(|n| Filter::status(Status::Inactive, day(n))),
        prop::option::of(Just(State::Closed)).prop_map(Filter::state),
        prop::option::of(any::<bool>()).prop_map(Filter::opt_in),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Filter::All),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Filter::Any),
            inner.prop_map(|f| !f),
        ]
    })
}
