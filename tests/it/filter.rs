//! Segments: contact status, `Filter` and the scans of `ContactScan`.

use std::ops::ControlFlow;

use crate::common::at;
use contact_import::{
    Catalog, Contact, ContactScan, Filter, ImportEngine, MemoryStore, Phone, State, Status,
    TimeRange,
};
use jiff::{SignedDuration, Timestamp};

fn now() -> Timestamp {
    at("2024-06-01T12:00:00Z")
}

fn contact(phone: &str, name: &str) -> Contact {
    Contact::new(
        Phone::parse_e164(phone).unwrap(),
        name.to_owned(),
        at("2024-01-15T10:00:00Z"),
    )
}

/// The guide's contacts, with what the messaging service sets on top.
fn book() -> MemoryStore {
    let catalog = Catalog::new()
        .with_tags(["MBA", "Finance", "Marketing", "Closed"])
        .with_attributes(["City", "email"]);
    let engine = ImportEngine::new(catalog, at("2024-01-15T10:00:00Z"));
    let mut store = MemoryStore::new();
    let file = "\
Name,Mobile Number,Tags,Source,First Message,City,email
Mohit Dua,+919876543452,MBA,Website,MBA,Delhi,mohit@example.com
Priya Sharma,9876543210,MBA | Finance,,Finance,Mumbai,
Arjun Mehta,919812345678,Marketing | Closed,Referral,,Delhi,
राहुल वर्मा,98100-12345,Finance,WhatsApp,,Jaipur,rahul@example.com
";
    let report = engine.import_bytes(file.as_bytes(), &mut store).unwrap();
    assert_eq!(report.added, 4);
    let mut set = |phone: &str, last_active: Option<&str>, state: Option<State>| {
        let mut c = store
            .contact(&Phone::parse_e164(phone).unwrap())
            .unwrap()
            .clone();
        c.last_active = last_active.map(at);
        c.state = state;
        store.insert(c);
    };
    set(
        "+919876543452",
        Some("2024-06-01T08:00:00Z"),
        Some(State::Intervened),
    );
    set("+919876543210", Some("2024-05-20T08:00:00Z"), None);
    set("+919812345678", None, Some(State::Closed));
    let mut late = contact("+15417543010", "John Smith");
    late.created_at = at("2024-05-31T00:00:00Z");
    late.source = Some("ORGANIC".to_owned());
    late.last_active = Some(at("2024-06-01T11:59:59Z"));
    late.state = Some(State::HandledByAssistant);
    store.insert(late);
    store
}

fn names(store: &mut MemoryStore, filter: &Filter) -> Vec<String> {
    let mut names = Vec::new();
    store
        .scan_filtered(filter, &mut |c| {
            names.push(c.name().to_owned());
            ControlFlow::Continue(())
        })
        .unwrap();
    names
}

// Contacts come out in phone order: +1541…, +919810…, +919812…, +9198765432…, +9198765434…
const JOHN: &str = "John Smith";
const ARJUN: &str = "Arjun Mehta";
const RAHUL: &str = "राहुल वर्मा";
const PRIYA: &str = "Priya Sharma";
const MOHIT: &str = "Mohit Dua";

#[test]
fn status_is_active_for_24_hours_after_the_last_activity() {
    let now = now();
    let day = SignedDuration::from_hours(24);
    let nano = SignedDuration::from_nanos(1);
    assert_eq!(Status::at(Some(now), now), Status::Active);
    assert_eq!(Status::at(Some(now - day + nano), now), Status::Active);
    assert_eq!(Status::at(Some(now - day), now), Status::Inactive);
    assert_eq!(Status::at(Some(now - day - nano), now), Status::Inactive);
    assert_eq!(Status::at(None, now), Status::Inactive);
    // A clock a little ahead of the caller's still counts as activity.
    assert_eq!(
        Status::at(Some(now + SignedDuration::from_secs(5)), now),
        Status::Active
    );
    assert_eq!(Status::active_since(now), now - day);
    assert_eq!(
        Status::at(Some(Timestamp::MAX), Timestamp::MIN),
        Status::Active
    );
    assert_eq!(
        Status::at(Some(Timestamp::MIN), Timestamp::MIN),
        Status::Inactive
    );
}

#[test]
fn status_depends_on_the_given_now_only() {
    let mut c = contact("+919876543452", "Mohit Dua");
    c.last_active = Some(at("2024-06-01T08:00:00Z"));
    assert_eq!(c.status(at("2024-06-01T09:00:00Z")), Status::Active);
    assert_eq!(c.status(at("2024-06-02T07:59:59Z")), Status::Active);
    assert_eq!(c.status(at("2024-06-02T08:00:00Z")), Status::Inactive);
    // It is not stored: the serde form has no status.
    let json = serde_json::to_value(&c).unwrap();
    assert!(json.get("status").is_none());
}

#[test]
fn status_text_and_serde() {
    assert_eq!(Status::Active.to_string(), "ACTIVE");
    assert_eq!(Status::Inactive.as_str(), "INACTIVE");
    assert_eq!(Status::parse(" active "), Some(Status::Active));
    assert_eq!(Status::parse("Inactive"), Some(Status::Inactive));
    assert_eq!(Status::parse("gone"), None);
    assert_eq!(
        serde_json::to_string(&Status::Active).unwrap(),
        "\"ACTIVE\""
    );
    assert_eq!(
        serde_json::from_str::<Status>("\"INACTIVE\"").unwrap(),
        Status::Inactive
    );
}

#[test]
fn the_empty_filter_is_everyone_in_phone_order() {
    let mut store = book();
    assert_eq!(
        names(&mut store, &Filter::everyone()),
        [JOHN, RAHUL, ARJUN, PRIYA, MOHIT]
    );
    assert_eq!(Filter::default(), Filter::everyone());
    assert!(Filter::everyone().is_everyone());
    assert!(!Filter::source("IMPORT").is_everyone());
    assert_eq!(store.count(&Filter::everyone()).unwrap(), 5);
}

#[test]
fn scan_visits_in_phone_order_and_stops_when_told() {
    let mut store = book();
    let mut phones = Vec::new();
    store
        .scan(&mut |c| {
            phones.push(c.phone);
            if phones.len() == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(phones.len(), 2);
    assert!(phones[0] < phones[1]);
    assert_eq!(phones[0].as_str(), "+15417543010");

    let mut seen = 0;
    store
        .scan_filtered(&Filter::any_tag(["MBA"]), &mut |_| {
            seen += 1;
            ControlFlow::Break(())
        })
        .unwrap();
    assert_eq!(seen, 1);
}

#[test]
fn tags_any_all_and_none() {
    let mut store = book();
    let mba_or_finance = Filter::any_tag(["MBA", "Finance"]);
    assert_eq!(names(&mut store, &mba_or_finance), [RAHUL, PRIYA, MOHIT]);
    assert_eq!(
        names(&mut store, &Filter::all_tags(["MBA", "Finance"])),
        [PRIYA]
    );
    assert_eq!(
        names(&mut store, &Filter::no_tag(["MBA", "Closed"])),
        [JOHN, RAHUL]
    );
    // Tags match exactly, as an import assigns them.
    assert!(names(&mut store, &Filter::any_tag(["mba"])).is_empty());
    // Empty lists: any of nothing is no one; all of / none of nothing is everyone.
    assert!(names(&mut store, &Filter::AnyTag(vec![])).is_empty());
    assert_eq!(store.count(&Filter::AllTags(vec![])).unwrap(), 5);
    assert_eq!(store.count(&Filter::NoTag(vec![])).unwrap(), 5);
}

#[test]
fn first_message_source_and_state() {
    let mut store = book();
    assert_eq!(
        names(&mut store, &Filter::first_message("Finance")),
        [PRIYA]
    );
    assert_eq!(names(&mut store, &Filter::source("IMPORT")), [PRIYA]);
    assert_eq!(names(&mut store, &Filter::source("ORGANIC")), [JOHN]);
    assert!(names(&mut store, &Filter::source("import")).is_empty());
    assert_eq!(
        names(&mut store, &Filter::state(Some(State::Closed))),
        [ARJUN]
    );
    assert_eq!(names(&mut store, &Filter::state(None)), [RAHUL, PRIYA]);
}

#[test]
fn attributes_equal_set_and_empty() {
    let mut store = book();
    assert_eq!(
        names(&mut store, &Filter::attribute_equals("City", "Delhi")),
        [ARJUN, MOHIT]
    );
    assert!(names(&mut store, &Filter::attribute_equals("City", "delhi")).is_empty());
    assert_eq!(
        names(&mut store, &Filter::attribute_set("email")),
        [RAHUL, MOHIT]
    );
    assert_eq!(
        names(&mut store, &Filter::attribute_empty("email")),
        [JOHN, ARJUN, PRIYA]
    );
    // An attribute nobody has: set for no one, empty for everyone.
    assert_eq!(store.count(&Filter::attribute_set("Pet")).unwrap(), 0);
    assert_eq!(store.count(&Filter::attribute_empty("Pet")).unwrap(), 5);
    // An empty value counts as empty.
    let mut blank = contact("+919900000001", "Blank Value");
    blank.attributes.set("email".into(), String::new());
    assert!(Filter::attribute_empty("email").matches(&blank));
    assert!(!Filter::attribute_set("email").matches(&blank));
}

#[test]
fn name_contains_ignores_case_the_unicode_way() {
    let mut store = book();
    assert_eq!(names(&mut store, &Filter::name_contains("dua")), [MOHIT]);
    assert_eq!(names(&mut store, &Filter::name_contains("SHARMA")), [PRIYA]);
    assert_eq!(names(&mut store, &Filter::name_contains("n M")), [ARJUN]);
    assert_eq!(names(&mut store, &Filter::name_contains("वर्मा")), [RAHUL]);
    assert_eq!(store.count(&Filter::name_contains("")).unwrap(), 5);
    assert_eq!(store.count(&Filter::name_contains("zz")).unwrap(), 0);

    let greek = contact("+302101234567", "ΟΔΥΣΣΕΑΣ");
    assert!(Filter::name_contains("οδυσσεας").matches(&greek));
    assert!(Filter::name_contains("ς").matches(&greek));
    let german = contact("+4930123456", "Anna Straße");
    assert!(Filter::name_contains("STRASSE").matches(&german));
    let wide = contact("+819012345678", "Ｍｏｈｉｔ");
    assert!(Filter::name_contains("mohit").matches(&wide));
    // Composed and decomposed é are the same name; é is not e.
    let cafe = contact("+33612345678", "Zoe\u{301} Blanc");
    assert!(Filter::name_contains("zoé").matches(&cafe));
    assert!(!Filter::name_contains("zoe ").matches(&cafe));
}

#[test]
fn created_and_last_active_ranges_include_from_and_exclude_to() {
    let mut store = book();
    let may = TimeRange::between(at("2024-05-01T00:00:00Z"), at("2024-06-01T00:00:00Z"));
    assert_eq!(names(&mut store, &Filter::created(may)), [JOHN]);
    assert_eq!(names(&mut store, &Filter::last_active(may)), [PRIYA]);
    let from_john = TimeRange::since(at("2024-05-31T00:00:00Z"));
    assert_eq!(names(&mut store, &Filter::created(from_john)), [JOHN]);
    let before_john = TimeRange::before(at("2024-05-31T00:00:00Z"));
    assert_eq!(store.count(&Filter::created(before_john)).unwrap(), 4);
    // A contact never active is in no range, not even the unbounded one.
    assert_eq!(
        names(&mut store, &Filter::last_active(TimeRange::default())),
        [JOHN, PRIYA, MOHIT]
    );
}

#[test]
fn status_filter_at_a_given_now() {
    let mut store = book();
    let now = now();
    assert_eq!(
        names(&mut store, &Filter::status(Status::Active, now)),
        [JOHN, MOHIT]
    );
    assert_eq!(
        names(&mut store, &Filter::status(Status::Inactive, now)),
        [RAHUL, ARJUN, PRIYA]
    );
    let next_day = at("2024-06-02T11:59:58Z");
    assert_eq!(
        names(&mut store, &Filter::status(Status::Active, next_day)),
        [JOHN]
    );
    // Exactly 24 hours after John's last message, his window has closed.
    let closed = at("2024-06-02T11:59:59Z");
    assert_eq!(
        store
            .count(&Filter::status(Status::Active, closed))
            .unwrap(),
        0
    );
}

#[test]
fn filters_compose_with_and_or_not() {
    let mut store = book();
    let segment = Filter::any_tag(["MBA", "Finance"])
        & !Filter::any_tag(["Closed"])
        & Filter::attribute_equals("City", "Delhi");
    assert_eq!(names(&mut store, &segment), [MOHIT]);
    let either = Filter::source("ORGANIC") | Filter::name_contains("priya");
    assert_eq!(names(&mut store, &either), [JOHN, PRIYA]);
    assert_eq!(names(&mut store, &!either.clone()), [RAHUL, ARJUN, MOHIT]);
    assert_eq!(!!either.clone(), either);
    assert!(names(&mut store, &Filter::Any(vec![])).is_empty());
    let chained = Filter::everyone()
        .and(Filter::source("IMPORT"))
        .or(Filter::source("Website"));
    assert_eq!(names(&mut store, &chained), [PRIYA, MOHIT]);
}

#[test]
fn a_filter_serializes_as_plain_json() {
    let filter = Filter::any_tag(["MBA"])
        & !Filter::all_tags(["Closed"])
        & Filter::attribute_equals("City", "Delhi")
        & Filter::status(Status::Active, now())
        & Filter::created(TimeRange::since(at("2024-01-01T00:00:00Z")))
        & Filter::state(Some(State::HandledByAssistant));
    let json = serde_json::to_value(&filter).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"all": [
            {"any_tag": ["MBA"]},
            {"not": {"all_tags": ["Closed"]}},
            {"attribute_equals": {"attribute": "City", "value": "Delhi"}},
            {"status": {"status": "ACTIVE", "at": "2024-06-01T12:00:00Z"}},
            {"created_at": {"from": "2024-01-01T00:00:00Z", "to": null}},
            {"state": "Handled by Assistant"},
        ]})
    );
    let back: Filter = serde_json::from_value(json).unwrap();
    assert_eq!(back, filter);

    let written = r#"{"any": [{"source": "IMPORT"}, {"name_contains": "dua"}, {"last_active": {"to": "2024-06-01T00:00:00Z"}}]}"#;
    let parsed: Filter = serde_json::from_str(written).unwrap();
    let mut store = book();
    assert_eq!(names(&mut store, &parsed), [PRIYA, MOHIT]);
    assert!(serde_json::from_str::<Filter>(r#"{"colour": "red"}"#).is_err());
}

// ---- Properties, over random contacts and random filters ----

/// The testkit's strategies, the same a store's filtered-scan check uses.
#[cfg(feature = "testkit")]
mod properties {
    use std::ops::ControlFlow;

    use contact_import::testkit::{arb_contact, arb_filter};
    use contact_import::{ContactScan, Filter, MemoryStore};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_filtered_scan_is_the_scan_filtered_in_order(
            contacts in prop::collection::vec(arb_contact(), 0..30),
            filter in arb_filter(),
        ) {
            let mut store = MemoryStore::new();
            for c in contacts {
                store.insert(c);
            }
            let mut expected = Vec::new();
            store.scan(&mut |c| {
                if filter.matches(c) {
                    expected.push(c.clone());
                }
                ControlFlow::Continue(())
            }).unwrap();
            let mut got = Vec::new();
            store.scan_filtered(&filter, &mut |c| {
                got.push(c.clone());
                ControlFlow::Continue(())
            }).unwrap();
            prop_assert!(got.windows(2).all(|w| w[0].phone < w[1].phone));
            prop_assert_eq!(store.count(&filter).unwrap(), got.len() as u64);
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn combinators_mean_and_or_not(
            contact in arb_contact(),
            a in arb_filter(),
            b in arb_filter(),
        ) {
            let (x, y) = (a.matches(&contact), b.matches(&contact));
            prop_assert_eq!((a.clone() & b.clone()).matches(&contact), x && y);
            prop_assert_eq!((a.clone() | b.clone()).matches(&contact), x || y);
            prop_assert_eq!((!a.clone()).matches(&contact), !x);
            let json = serde_json::to_string(&a).unwrap();
            let back: Filter = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, a);
        }
    }
}

#[test]
fn or_and_and_flatten_a_group_on_either_side() {
    let (a, b, c) = (
        Filter::source("A"),
        Filter::source("B"),
        Filter::source("C"),
    );
    assert_eq!(
        a.clone() | (b.clone() | c.clone()),
        Filter::Any(vec![a.clone(), b.clone(), c.clone()])
    );
    assert_eq!(
        (a.clone() | b.clone()) | c.clone(),
        Filter::Any(vec![a.clone(), b.clone(), c.clone()])
    );
    assert_eq!(
        a.clone() & (b.clone() & c.clone()),
        Filter::All(vec![a, b, c])
    );
}
