//! The scan check: a store lists its contacts as [`MemoryStore`] does.

use std::ops::ControlFlow;

use crate::catalog::Catalog;
use crate::contact::Contact;
use crate::engine::ImportEngine;
use crate::filter::Filter;
use crate::store::{ContactScan, MemoryStore};
use crate::testkit::{Failure, NOW, call, ensure, same};

const CHECK: &str = "scan";

/// Four contacts (one of them outside India, so the phones sort across
/// country codes) and a failing row.
const FILE: &str = "\
Name,Mobile Number,Tags,City
Mohit Dua,+919876543452,MBA,Delhi
Priya Sharma,9876543210,MBA | Finance,Mumbai
Asha,+1 415 555 2671,Finance,
Ravi,9000012345,,
Broken,12345,MBA,Pune
";

/// Checks, on a fresh `store`, what export and segments rely on in
/// [`ContactScan`]: after one import, `scan` lists exactly the contacts
/// [`MemoryStore`] holds after the same import, in phone order; it stops
/// after the first contact when the visitor says `Break`; and `count` of a
/// tag counts the contacts with it.
pub fn check_scan<S: ContactScan>(store: &mut S) -> Result<(), Failure> {
    let engine = ImportEngine::new(
        Catalog::new()
            .with_tags(["MBA", "Finance"])
            .with_attributes(["City"]),
        NOW,
    );
    let report = call(CHECK, engine.import_bytes(FILE.as_bytes(), store))?;
    same(
        CHECK,
        "(added, failed) of the import",
        &(report.added, report.failed),
        &(4, 1),
    )?;
    let mut reference = MemoryStore::new();
    call(CHECK, engine.import_bytes(FILE.as_bytes(), &mut reference))?;

    let mut listed: Vec<Contact> = Vec::new();
    call(
        CHECK,
        store.scan(&mut |c| {
            listed.push(c.clone());
            ControlFlow::Continue(())
        }),
    )?;
    ensure(
        CHECK,
        listed.windows(2).all(|w| w[0].phone < w[1].phone),
        || {
            let phones: Vec<&str> = listed.iter().map(|c| c.phone.as_str()).collect();
            format!("scan listed the phones out of order: {phones:?}")
        },
    )?;
    let expected: Vec<Contact> = reference.contacts().into_iter().cloned().collect();
    same(CHECK, "the contacts scan listed", &listed, &expected)?;

    let mut first = Vec::new();
    call(
        CHECK,
        store.scan(&mut |c| {
            first.push(c.phone);
            ControlFlow::Break(())
        }),
    )?;
    same(
        CHECK,
        "the phones a scan visited when its visitor broke at the first",
        &first,
        &expected.iter().take(1).map(|c| c.phone).collect(),
    )?;
    for tag in ["MBA", "Finance"] {
        let filter = Filter::any_tag([tag]);
        let count = call(CHECK, store.count(&filter))?;
        same(CHECK, &format!("count of the tag {tag}"), &count, &2)?;
    }
    Ok(())
}
