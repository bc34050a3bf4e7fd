//! The WhatsApp opt-in: which columns and values set it, and the rule that
//! an import never turns an opt-out into an opt-in unless its policy says so.

use std::io::Cursor;

use crate::common::*;
use contact_import::{
    Catalog, ColumnMapping, Contact, ContactStore, Field, Filter, ImportMode, ImportOptions,
    MemoryStore, OptInPolicy, Phone, RowOutcome, Stored, Template, UpdatePolicy, WarningCode,
    WriteBatch, export,
};

const ASHA: &str = "+919876543210";

/// A file that stores Asha opted out.
const ASHA_OPTED_OUT: &str = "Name,Phone,Opt-in\nAsha Rao,9876543210,no\n";

fn opt_in(store: &MemoryStore, e164: &str) -> Option<bool> {
    contact(store, e164).opt_in
}

fn again() -> ImportOptions {
    ImportOptions::new().with_update(UpdatePolicy::new().with_opt_in(OptInPolicy::AllowOptInAgain))
}

fn codes(report: &contact_import::ImportReport) -> Vec<(Option<u64>, WarningCode)> {
    report.warnings.iter().map(|w| (w.row, w.code)).collect()
}

#[test]
fn the_usual_opt_in_headers_map_to_the_opt_in() {
    let catalog = guide_catalog();
    for header in [
        "WhatsApp Opt-in",
        "Opt-in",
        "Opted In",
        "Consent",
        "Subscribed",
        "opt_in",
        "WHATSAPP OPT IN",
    ] {
        let mapping = ColumnMapping::new();
        assert_eq!(
            mapping.field_for(header, &catalog),
            Some(Field::OptIn),
            "{header}"
        );
        let file = format!("Name,Phone,{header}\nAsha Rao,9876543210,yes\n");
        let (report, store) = import(&file);
        assert_eq!(report.added, 1, "{header}");
        assert_eq!(opt_in(&store, ASHA), Some(true), "{header}");
    }
    let suggested = ColumnMapping::suggest(&["Opted-In"], &[vec!["yes"]], &catalog);
    assert_eq!(suggested[0].field, Field::OptIn);
    let near = ColumnMapping::suggest(&["Opt-ins"], &[vec!["yes"]], &catalog);
    assert_eq!(near[0].field, Field::OptIn, "one edit from an alias");
    assert_eq!("opt_in".parse::<Field>(), Ok(Field::OptIn));
    assert_eq!(Field::OptIn.to_string(), "opt_in");
    // An explicit mapping of another header works too.
    let options =
        ImportOptions::new().with_mapping(ColumnMapping::new().map("Agreed to WA", Field::OptIn));
    let (_, store) = import_with(options, "Name,Phone,Agreed to WA\nAsha Rao,9876543210,no\n");
    assert_eq!(opt_in(&store, ASHA), Some(false));
}

#[test]
fn every_spelling_of_yes_and_no_is_read_ignoring_case() {
    let yes = [
        "yes",
        "YES",
        "Yes",
        "true",
        "TRUE",
        "1",
        "opted in",
        "Opted In",
        "opted-in",
        "subscribed",
        "SUBSCRIBED",
        " yes ",
    ];
    let no = [
        "no",
        "NO",
        "false",
        "False",
        "0",
        "opted out",
        "OPTED OUT",
        "unsubscribed",
        "Unsubscribed",
    ];
    for (cells, expected) in [(&yes[..], true), (&no[..], false)] {
        for cell in cells {
            let (report, store) = import(&format!(
                "Name,Phone,Opt-in\nAsha Rao,9876543210,\"{cell}\"\n"
            ));
            assert!(
                report.warnings.is_empty(),
                "{cell:?}: {:?}",
                report.warnings
            );
            assert_eq!(opt_in(&store, ASHA), Some(expected), "{cell:?}");
        }
    }
}

#[test]
fn anything_else_is_a_row_warning_and_assigns_nothing() {
    let file = "\
Name,Phone,WhatsApp Opt-in
Asha Rao,9876543210,maybe
Ravi Kumar,9876543211,y
Meera Nair,9876543212,maybe
John Smith,9876543213,2
Priya Sharma,9876543214,
";
    let (report, store) = import(file);
    assert_eq!(report.added, 5, "the rows import");
    for e164 in [
        ASHA,
        "+919876543211",
        "+919876543212",
        "+919876543213",
        "+919876543214",
    ] {
        assert_eq!(opt_in(&store, e164), None, "{e164}");
    }
    // An empty cell is no warning.
    assert_eq!(
        codes(&report),
        vec![
            (Some(2), WarningCode::InvalidOptIn),
            (Some(3), WarningCode::InvalidOptIn),
            (Some(4), WarningCode::InvalidOptIn),
            (Some(5), WarningCode::InvalidOptIn),
        ]
    );
    assert_eq!(report.warnings[0].value.as_deref(), Some("maybe"));
    assert_eq!(
        report.warnings[0].column.as_deref(),
        Some("WhatsApp Opt-in")
    );
    let groups = report.warning_groups();
    assert_eq!(groups.len(), 3, "grouped by value: {groups:?}");
    assert_eq!((groups[0].count, &groups[0].rows), (2, &vec![2, 4]));
    assert_eq!(
        groups[0].to_string(),
        "opt-in \"maybe\" is not yes or no in 2 rows (e.g. rows 2, 4): the opt-in was left as it was; write yes/no, true/false, 1/0, opted in/opted out or subscribed/unsubscribed"
    );

    // Over a stored opt-out, an unreadable cell keeps it.
    let (_, mut store) = import(ASHA_OPTED_OUT);
    let report = import_into(
        &engine(),
        &mut store,
        "Name,Phone,Opt-in\nAsha Rao,9876543210,yes please\n",
    );
    assert_eq!((report.unchanged, opt_in(&store, ASHA)), (1, Some(false)));
}

#[test]
fn a_new_contact_without_a_cell_or_a_column_is_unknown() {
    let (_, store) = import("Name,Phone\nAsha Rao,9876543210\n");
    assert_eq!(opt_in(&store, ASHA), None);
    let (_, store) = import("Name,Phone,Opt-in\nAsha Rao,9876543210,\n");
    assert_eq!(opt_in(&store, ASHA), None);
    let json = serde_json::to_value(contact(&store, ASHA)).unwrap();
    assert_eq!(json["opt_in"], serde_json::Value::Null);
}

#[test]
fn an_opt_out_is_never_turned_into_an_opt_in_by_default() {
    let (_, mut store) = import(ASHA_OPTED_OUT);
    let old_sheet = "Name,Phone,Opt-in,City\nAsha Rao,9876543210,yes,Pune\n";
    let report = import_into(&engine(), &mut store, old_sheet);
    assert_eq!(opt_in(&store, ASHA), Some(false));
    assert_eq!(
        contact(&store, ASHA).attributes.get("City"),
        Some("Pune"),
        "the row's other cells apply"
    );
    assert_eq!(report.updated, 1);
    assert_eq!(codes(&report), vec![(Some(2), WarningCode::OptOutKept)]);
    let warning = &report.warnings[0];
    assert_eq!(warning.column.as_deref(), Some("Opt-in"));
    assert!(
        warning.message.contains("keep_opt_out") && warning.message.contains("allow_opt_in_again"),
        "the warning names the policy: {}",
        warning.message
    );
    let group = report.warning_groups()[0].to_string();
    assert!(
        group.starts_with("opt-out kept in 1 row (e.g. row 2)"),
        "{group}"
    );

    // A row that only says yes changes nothing.
    let report = import_into(
        &engine(),
        &mut store,
        "Name,Phone,Opt-in\nAsha Rao,9876543210,yes\n",
    );
    assert_eq!((report.updated, report.unchanged), (0, 1));
    assert_eq!(opt_in(&store, ASHA), Some(false));
}

#[test]
fn the_policy_allows_an_opt_in_again_and_says_so() {
    let (_, mut store) = import(ASHA_OPTED_OUT);
    let report = import_into(
        &engine_with(again()),
        &mut store,
        "Name,Phone,Consent\nAsha Rao,9876543210,yes\n",
    );
    assert_eq!(opt_in(&store, ASHA), Some(true));
    assert_eq!(report.updated, 1);
    assert_eq!(codes(&report), vec![(Some(2), WarningCode::OptedInAgain)]);
    assert!(report.warnings[0].message.contains("allow_opt_in_again"));
    // Unknown to opted in needs no policy and warns of nothing.
    let report = import_into(
        &engine(),
        &mut store,
        "Name,Phone,Opt-in\nRavi,9876543211,yes\n",
    );
    assert!(report.warnings.is_empty());
}

#[test]
fn an_opt_in_can_always_become_an_opt_out() {
    for options in [ImportOptions::default(), again()] {
        let engine = engine_with(options);
        let mut store = MemoryStore::new();
        import_into(
            &engine,
            &mut store,
            "Name,Phone,Opt-in\nAsha Rao,9876543210,yes\n",
        );
        let report = import_into(
            &engine,
            &mut store,
            "Name,Phone,Opt-in\nAsha Rao,9876543210,unsubscribed\n",
        );
        assert_eq!(report.updated, 1);
        assert!(report.warnings.is_empty());
        assert_eq!(opt_in(&store, ASHA), Some(false));
    }
}

#[test]
fn empty_cells_keep_the_opt_in_even_when_every_other_column_overwrites() {
    let options = ImportOptions::new().with_update(UpdatePolicy::overwrite());
    let mut store = MemoryStore::new();
    for stored in ["yes", "no"] {
        let engine = engine_with(options.clone());
        import_into(
            &engine,
            &mut store,
            &format!("Name,Phone,Opt-in\nAsha Rao,9876543210,{stored}\n"),
        );
        let report = import_into(
            &engine,
            &mut store,
            "Name,Phone,Opt-in\nAsha Rao,9876543210,\n",
        );
        assert_eq!(report.unchanged, 1);
        assert_eq!(opt_in(&store, ASHA), Some(stored == "yes"));
    }
}

#[test]
fn within_one_file_an_earlier_opt_out_is_sticky_too() {
    // Whatever the batch size: the rows apply in file order.
    for batch_size in [1, 2, 1000] {
        let options = ImportOptions::new().with_batch_size(batch_size);
        let file = "\
Name,Phone,Opt-in
Asha Rao,9876543210,no
Ravi Kumar,9876543211,yes
Asha Rao,9876543210,yes
Ravi Kumar,9876543211,no
";
        let (report, store) = import_with(options, file);
        assert_eq!(opt_in(&store, ASHA), Some(false), "batches of {batch_size}");
        assert_eq!(
            opt_in(&store, "+919876543211"),
            Some(false),
            "batches of {batch_size}"
        );
        assert_eq!(
            codes(&report),
            vec![(Some(4), WarningCode::OptOutKept)],
            "batches of {batch_size}"
        );
    }
}

#[test]
fn skipped_rows_warn_of_nothing() {
    let (_, mut store) = import(ASHA_OPTED_OUT);
    let options = ImportOptions::new().with_mode(ImportMode::AddOnly);
    let report = import_into(
        &engine_with(options),
        &mut store,
        "Name,Phone,Opt-in\nAsha Rao,9876543210,yes\n",
    );
    assert_eq!(report.skipped, 1);
    assert!(report.warnings.is_empty());
}

#[test]
fn a_plan_shows_the_opt_in_change_and_the_kept_opt_out() {
    let (_, mut store) =
        import("Name,Phone,Opt-in\nAsha Rao,9876543210,no\nRavi Kumar,9876543211,\n");
    let file = "Name,Phone,Opt-in\nAsha Rao,9876543210,yes\nRavi Kumar,9876543211,yes\n";
    let mut rows = Vec::new();
    let planned = engine()
        .plan(Cursor::new(file), &mut store, |row| rows.push(row))
        .unwrap();
    assert_eq!((planned.updated, planned.unchanged), (1, 1));
    assert_eq!(rows[0].outcome, RowOutcome::Unchanged);
    assert_eq!(
        rows[0].warnings.iter().map(|w| w.code).collect::<Vec<_>>(),
        vec![WarningCode::OptOutKept]
    );
    assert_eq!(rows[1].outcome, RowOutcome::Updated);
    let change = &rows[1].changes[0];
    assert_eq!(
        (
            change.field.as_str(),
            change.before.as_deref(),
            change.after.as_deref()
        ),
        ("opt_in", None, Some("true"))
    );
    assert_eq!(
        planned,
        import_into(&engine(), &mut store, file),
        "the plan is the import"
    );
}

/// A store on which the service records a STOP for `phone` between the
/// engine's fetch and its first write: the write conflicts, and the engine
/// merges the row again into the opt-out.
struct StopDuringImport {
    inner: MemoryStore,
    phone: Phone,
    stopped: bool,
}

impl ContactStore for StopDuringImport {
    type Error = std::convert::Infallible;

    fn fetch(&mut self, phones: &[Phone], found: &mut Vec<Stored>) -> Result<(), Self::Error> {
        self.inner.fetch(phones, found)
    }

    fn write_batch(&mut self, batch: WriteBatch) -> Result<Vec<Phone>, Self::Error> {
        if !self.stopped {
            self.stopped = true;
            self.inner.update(&self.phone, |c| c.opt_in = Some(false));
        }
        self.inner.write_batch(batch)
    }
}

#[test]
fn a_stop_recorded_while_the_import_runs_is_kept_and_warned_once() {
    let mut inner = MemoryStore::new();
    import_into(&engine(), &mut inner, "Name,Phone\nAsha Rao,9876543210\n");
    let mut store = StopDuringImport {
        inner,
        phone: phone(ASHA),
        stopped: false,
    };
    let report = engine()
        .import_bytes(b"Name,Phone,Opt-in\nAsha Rao,9876543210,yes\n", &mut store)
        .unwrap();
    assert_eq!(report.conflicts, 1);
    assert_eq!(
        store.inner.contact(&phone(ASHA)).unwrap().opt_in,
        Some(false)
    );
    assert_eq!(codes(&report), vec![(Some(2), WarningCode::OptOutKept)]);
    assert_eq!(report.unchanged, 1);
}

#[test]
fn the_serde_forms() {
    let mut asha = Contact::new(phone(ASHA), "Asha Rao".into(), t0());
    asha.opt_in = Some(false);
    let json = serde_json::to_value(&asha).unwrap();
    assert_eq!(json["opt_in"], serde_json::Value::Bool(false));
    assert_eq!(serde_json::from_value::<Contact>(json).unwrap(), asha);
    // A contact serialized before the field existed reads as unknown.
    let old =
        r#"{"phone": "+919876543210", "name": "Asha Rao", "created_at": "2024-06-01T12:00:00Z"}"#;
    assert_eq!(serde_json::from_str::<Contact>(old).unwrap().opt_in, None);

    let policy: UpdatePolicy = serde_json::from_str(r#"{"opt_in": "allow_opt_in_again"}"#).unwrap();
    assert_eq!(policy.opt_in(), OptInPolicy::AllowOptInAgain);
    assert_eq!(UpdatePolicy::default().opt_in(), OptInPolicy::KeepOptOut);
    assert_eq!(UpdatePolicy::overwrite().opt_in(), OptInPolicy::KeepOptOut);

    for (filter, text) in [
        (Filter::opted_in(), r#"{"opt_in":true}"#),
        (Filter::opt_in(Some(false)), r#"{"opt_in":false}"#),
        (Filter::opt_in(None), r#"{"opt_in":null}"#),
    ] {
        assert_eq!(serde_json::to_string(&filter).unwrap(), text);
        assert_eq!(serde_json::from_str::<Filter>(text).unwrap(), filter);
    }
}

#[test]
fn segments_exports_and_templates_see_the_opt_in() {
    let file = "\
Name,Phone,Opt-in
Asha Rao,9876543210,yes
Ravi Kumar,9876543211,no
Meera Nair,9876543212,
";
    let (_, mut store) = import(file);
    let asha = contact(&store, ASHA).clone();
    assert!(asha.is_opted_in() && Filter::opted_in().matches(&asha));
    assert!(!Filter::opt_in(None).matches(&asha));
    let names = |store: &mut MemoryStore, filter: &Filter| {
        let mut names = Vec::new();
        contact_import::ContactScan::scan_filtered(store, filter, &mut |c| {
            names.push(c.name().to_owned());
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
        names
    };
    assert_eq!(names(&mut store, &Filter::opted_in()), ["Asha Rao"]);
    assert_eq!(
        names(&mut store, &Filter::opt_in(Some(false))),
        ["Ravi Kumar"]
    );
    assert_eq!(names(&mut store, &Filter::opt_in(None)), ["Meera Nair"]);
    assert_eq!(names(&mut store, &!Filter::opted_in()).len(), 2);

    // The export writes yes, no or nothing, and imports back as it was.
    let catalog = Catalog::new();
    let mut csv = Vec::new();
    export(&mut store, &Filter::everyone(), &catalog, t0(), &mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    assert!(
        text.starts_with("Name,Mobile Number,Tags,Source,First Message,WhatsApp Opt-in,"),
        "{text}"
    );
    assert!(
        text.contains("Asha Rao,+919876543210,,IMPORT,,yes,"),
        "{text}"
    );
    assert!(
        text.contains("Ravi Kumar,+919876543211,,IMPORT,,no,"),
        "{text}"
    );
    assert!(
        text.contains("Meera Nair,+919876543212,,IMPORT,,,"),
        "{text}"
    );
    let (report, again) = import(&text);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(snapshot(&again), snapshot(&store));

    // A template for opted-in contacts renders for Asha only.
    let template = Template::parse("Hi $FirstName", &catalog)
        .unwrap()
        .opted_in_only();
    let mut messages = Vec::new();
    let audience = template.audience(Filter::everyone());
    contact_import::ContactScan::scan_filtered(&mut store, &audience, &mut |c| {
        messages.push(template.render(c));
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(messages, ["Hi Asha"]);
    let mut out = String::new();
    for c in store.contacts() {
        template.render_for(c, &mut out);
    }
    assert_eq!(out, "Hi Asha");
    let everyone = Template::parse("Hi $FirstName", &catalog).unwrap();
    assert!(!everyone.is_opted_in_only());
    assert!(everyone.addresses(contact(&store, "+919876543211")));
    assert_eq!(everyone.audience(Filter::everyone()), Filter::everyone());
}

#[test]
fn a_driven_import_merged_again_after_a_conflict_keeps_only_the_warnings_of_what_it_wrote() {
    // Asha and Ravi opted out; while the import runs, Asha opts in through
    // the service (a new consent), so the import's first write of her conflicts.
    let (_, mut store) =
        import("Name,Phone,Opt-in\nAsha Rao,9876543210,no\nRavi Kumar,9876543211,no\n");
    // Asha's row changes her City too, so it is written (an unchanged row is not).
    let file = "Name,Phone,Opt-in,City\nAsha Rao,9876543210,yes,Pune\nRavi Kumar,9876543211,yes,\n";
    let engine = engine();
    let mut import = engine.start(Cursor::new(file)).unwrap();
    let mut rounds = 0;
    while let Some(mut batch) = import.next_batch().unwrap() {
        loop {
            let mut stored = Vec::new();
            store.fetch(batch.phones(), &mut stored).unwrap();
            let writes = import.merge(&mut batch, stored);
            if rounds == 0 {
                store.update(&phone(ASHA), |c| c.opt_in = Some(true));
            }
            rounds += 1;
            let conflicts = store.write_batch(writes).unwrap();
            if import.written(&mut batch, conflicts).unwrap() {
                break;
            }
        }
        import.commit(batch);
    }
    let report = import.finish();
    assert_eq!(rounds, 2);
    assert_eq!(report.conflicts, 1);
    assert_eq!(opt_in(&store, ASHA), Some(true));
    assert_eq!(opt_in(&store, "+919876543211"), Some(false));
    // Asha's first merge kept an opt-out she no longer has: that warning is gone.
    assert_eq!(codes(&report), vec![(Some(3), WarningCode::OptOutKept)]);
    assert_eq!((report.updated, report.unchanged), (1, 1));
    assert_eq!(contact(&store, ASHA).attributes.get("City"), Some("Pune"));
}
