//! Update policies per field, duplicate policies, and unchanged rows.

use crate::common::*;
use contact_import::{
    Contact, DuplicatePolicy, FailureCode, FieldPolicy, ImportOptions, MemoryStore, NamePolicy,
    TagPolicy, UpdatePolicy,
};

fn stored() -> MemoryStore {
    let mut asha = Contact::new(phone("+919876543210"), "Asha Rao".into(), t0());
    asha.tags.extend(["MBA".into(), "Finance".into()]);
    asha.source = Some("Website".into());
    asha.first_message = Some("MBA".into());
    asha.attributes.set("City".into(), "Pune".into());
    asha.attributes
        .set("email".into(), "asha@example.in".into());
    let mut store = MemoryStore::new();
    store.insert(asha);
    store
}

fn import_with(policy: UpdatePolicy, csv: &str) -> MemoryStore {
    let mut store = stored();
    let engine = engine_with(ImportOptions::new().with_update(policy));
    import_into(&engine, &mut store, csv);
    store
}

fn asha(store: &MemoryStore) -> &Contact {
    contact(store, "+919876543210")
}

const BLANKS: &str = "Name,Phone,Tags,Source,First Message,City,email\nAsha Rao,9876543210,,,,,\n";

#[test]
fn keep_when_empty_is_the_default() {
    let store = import_with(UpdatePolicy::default(), BLANKS);
    assert_eq!(
        asha(&store),
        stored().contact(&phone("+919876543210")).unwrap()
    );
}

#[test]
fn overwrite_clears_on_empty_cells() {
    let store = import_with(UpdatePolicy::overwrite(), BLANKS);
    let a = asha(&store);
    assert!(a.tags.is_empty());
    assert_eq!(a.first_message, None);
    // An empty Source cell gives the source of an imported contact without one.
    assert_eq!(a.source.as_deref(), Some("IMPORT"));
    assert!(a.attributes.is_empty());
}

#[test]
fn clear_on_token_clears_only_on_the_token() {
    let policy = UpdatePolicy::new()
        .with_attributes(FieldPolicy::ClearOnToken)
        .with_source(FieldPolicy::ClearOnToken);
    let store = import_with(
        policy,
        "Name,Phone,Source,City,email\nAsha Rao,9876543210,NULL,,NULL\n",
    );
    let a = asha(&store);
    assert_eq!(a.source, None);
    assert_eq!(a.attributes.get("City"), Some("Pune"), "empty keeps");
    assert_eq!(a.attributes.get("email"), None, "the token clears");
}

#[test]
fn the_clear_token_is_configurable_and_literal_elsewhere() {
    let policy = UpdatePolicy::new()
        .with_clear_token("-")
        .with_attribute("email", FieldPolicy::ClearOnToken);
    let store = import_with(
        policy,
        "Name,Phone,City,email\nAsha Rao,9876543210,NULL,-\n",
    );
    let a = asha(&store);
    assert_eq!(
        a.attributes.get("City"),
        Some("NULL"),
        "City keeps the default policy: NULL is a value"
    );
    assert_eq!(a.attributes.get("email"), None);
}

#[test]
fn tag_policies_add_replace_and_remove() {
    let csv = "Name,Phone,Tags\nAsha Rao,9876543210,Marketing | MBA\n";
    let with = |tags| UpdatePolicy::new().with_tags(tags);
    assert_eq!(
        tags(asha(&import_with(with(TagPolicy::Add), csv))),
        ["MBA", "Finance", "Marketing"]
    );
    assert_eq!(
        tags(asha(&import_with(with(TagPolicy::Replace), csv))),
        ["Marketing", "MBA"]
    );
    assert_eq!(
        tags(asha(&import_with(with(TagPolicy::Remove), csv))),
        ["Finance"]
    );
}

#[test]
fn name_policy_can_keep_stored_names() {
    let policy = UpdatePolicy::new().with_name(NamePolicy::KeepExisting);
    let store = import_with(
        policy,
        "Name,Phone\nASHA R,9876543210\nNew Person,9876543211\n",
    );
    assert_eq!(asha(&store).name(), "Asha Rao");
    assert_eq!(contact(&store, "+919876543211").name(), "New Person");
}

#[test]
fn a_row_that_changes_nothing_is_unchanged_and_not_an_update() {
    let mut store = stored();
    let report = import_into(
        &engine(),
        &mut store,
        "Name,Phone,City\nAsha Rao,9876543210,Pune\nAsha Rao,9876543210,Delhi\n",
    );
    assert_eq!((report.unchanged, report.updated), (1, 1));
    assert_eq!(report.phones_updated, [phone("+919876543210")]);
}

const DUPES: &str = "Name,Phone,City\nFirst,9876543210,Pune\nOther,9876543299,Agra\nSecond,+919876543210,Delhi\nThird,09876543210,Goa\n";

fn import_dupes(policy: DuplicatePolicy) -> (contact_import::ImportReport, MemoryStore) {
    let engine = engine_with(
        ImportOptions::new()
            .with_duplicates(policy)
            .with_batch_size(2),
    );
    let mut store = MemoryStore::new();
    let report = import_into(&engine, &mut store, DUPES);
    (report, store)
}

#[test]
fn every_policy_reports_the_rows_that_share_a_phone() {
    for policy in [
        DuplicatePolicy::Merge,
        DuplicatePolicy::FirstWins,
        DuplicatePolicy::LastWins,
        DuplicatePolicy::Reject,
    ] {
        let (report, _) = import_dupes(policy);
        assert_eq!(report.duplicates.len(), 1, "{policy:?}");
        assert_eq!(report.duplicates[0].phone, phone("+919876543210"));
        assert_eq!(report.duplicates[0].rows, [2, 4, 5], "{policy:?}");
    }
}

#[test]
fn merge_applies_every_row_in_file_order() {
    let (report, store) = import_dupes(DuplicatePolicy::Merge);
    assert_eq!((report.added, report.updated, report.failed), (2, 2, 0));
    let c = contact(&store, "+919876543210");
    assert_eq!((c.name(), c.attributes.get("City")), ("Third", Some("Goa")));
}

#[test]
fn first_wins_keeps_the_first_row() {
    let (report, store) = import_dupes(DuplicatePolicy::FirstWins);
    assert_eq!((report.added, report.failed), (2, 2));
    assert_eq!(contact(&store, "+919876543210").name(), "First");
    let failed: Vec<_> = report
        .failures
        .iter()
        .map(|f| (f.position.row, f.code))
        .collect();
    assert_eq!(
        failed,
        [
            (4, FailureCode::DuplicateInFile),
            (5, FailureCode::DuplicateInFile)
        ]
    );
    assert!(report.failures[0].message.contains("row 2"));
}

#[test]
fn last_wins_keeps_the_last_row() {
    let (report, store) = import_dupes(DuplicatePolicy::LastWins);
    assert_eq!((report.added, report.failed), (2, 2));
    let c = contact(&store, "+919876543210");
    assert_eq!((c.name(), c.attributes.get("City")), ("Third", Some("Goa")));
    assert!(report.failures.iter().all(|f| f.message.contains("row 5")));
}

#[test]
fn reject_fails_every_row_that_shares_a_phone_naming_the_others() {
    let (report, store) = import_dupes(DuplicatePolicy::Reject);
    assert_eq!((report.added, report.failed), (1, 3));
    assert!(store.contact(&phone("+919876543210")).is_none());
    let row4 = report
        .failures
        .iter()
        .find(|f| f.position.row == 4)
        .unwrap();
    assert_eq!(row4.code, FailureCode::DuplicateInFile);
    assert!(row4.message.contains("rows 2, 5"), "{}", row4.message);
}

#[test]
fn an_invalid_row_does_not_count_as_a_duplicate() {
    let engine = engine_with(ImportOptions::new().with_duplicates(DuplicatePolicy::Reject));
    let mut store = MemoryStore::new();
    let report = import_into(
        &engine,
        &mut store,
        "Name,Phone\nAsha,9876543210\n,9876543210\n",
    );
    assert_eq!((report.added, report.failed), (1, 1));
    assert_eq!(report.failures[0].code, FailureCode::MissingName);
    assert!(report.duplicates.is_empty());
}

#[test]
fn policies_round_trip_through_serde() {
    let policy = UpdatePolicy::overwrite().with_attribute("email", FieldPolicy::ClearOnToken);
    let json = serde_json::to_value(&policy).unwrap();
    assert_eq!(json["tags"], "replace");
    assert_eq!(json["attribute"]["email"], "clear_on_token");
    assert_eq!(
        serde_json::from_value::<UpdatePolicy>(json).unwrap(),
        policy
    );
    let dupes: DuplicatePolicy = serde_json::from_str("\"last_wins\"").unwrap();
    assert_eq!(dupes, DuplicatePolicy::LastWins);
}
