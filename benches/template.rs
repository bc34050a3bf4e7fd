//! Rendering a broadcast template for 200,000 contacts, the largest import.
//!
//! `cargo bench --bench template`
use std::hint::black_box;

use contact_import::{Catalog, Contact, Phone, Template};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CONTACTS: u64 = 200_000;

fn contacts(catalog: &Catalog) -> Vec<Contact> {
    let cities = ["Delhi", "Mumbai", "Bengaluru", "Chennai", ""];
    (0..CONTACTS)
        .map(|n| {
            let phone = Phone::parse_e164(&format!("+9198{n:08}")).unwrap();
            let name = if n % 7 == 0 {
                format!("Asha{n}")
            } else {
                format!("Mohit{n} Kumar Dua")
            };
            let mut c = Contact::new(phone, name, jiff::Timestamp::UNIX_EPOCH);
            for (i, attribute) in catalog.attributes().iter().enumerate() {
                let value = cities[(n as usize + i) % cities.len()];
                if !value.is_empty() {
                    c.attributes.set(attribute.clone(), value.to_owned());
                }
            }
            c
        })
        .collect()
}

fn render(c: &mut Criterion) {
    let catalog = Catalog::new().with_attributes(["City", "email", "State", "Course", "Batch"]);
    let contacts = contacts(&catalog);
    let template = Template::parse(
        "Hi $FirstName $LastName! Admissions for $Course in $City are open. \
         Reply YES to talk to a counsellor about the $Batch batch; fees from $$1,200.",
        &catalog,
    )
    .and_then(|t| t.with_fallback("LastName", "there"))
    .unwrap();

    let mut group = c.benchmark_group("template");
    group.sample_size(10);
    group.throughput(Throughput::Elements(CONTACTS));
    group.bench_function("render_into 200k contacts", |b| {
        let mut out = String::with_capacity(256);
        b.iter(|| {
            let mut bytes = 0;
            for contact in &contacts {
                out.clear();
                template.render_into(contact, &mut out);
                bytes += out.len();
            }
            black_box(bytes)
        })
    });
    group.bench_function("render 200k contacts", |b| {
        b.iter(|| {
            contacts
                .iter()
                .map(|c| template.render(c).len())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
