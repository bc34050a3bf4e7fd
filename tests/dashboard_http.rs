//! The dashboard example at the HTTP level (no browser): the token rules,
//! the limits, bad files and two uploads at once into one account. The
//! service is the example's own `app.rs`, started in-process on a free
//! loopback port over a SQLite file of its own.
#[path = "../examples/dashboard/app.rs"]
#[allow(unused)]
mod app;

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A running service and its accounts' tokens.
struct Service {
    address: std::net::SocketAddr,
    acme: String,
    globex: String,
    _dir: tempfile::TempDir,
}

async fn start(max_upload_bytes: u64) -> Service {
    let dir = tempfile::tempdir().unwrap();
    let backend = app::Backend::Sqlite(dir.path().join("dashboard.db"));
    start_on(backend, ["acme", "globex"], max_upload_bytes, dir).await
}

/// The service on `backend`, with two accounts of these names.
async fn start_on(
    backend: app::Backend,
    [first, second]: [&str; 2],
    max_upload_bytes: u64,
    dir: tempfile::TempDir,
) -> Service {
    // Off the runtime, as the service does: the PostgreSQL client blocks.
    let (first, second) = (first.to_owned(), second.to_owned());
    let (backend, acme, globex) = tokio::task::spawn_blocking(move || {
        let acme = app::create_account(&backend, first.parse().unwrap()).unwrap();
        let globex = app::create_account(&backend, second.parse().unwrap()).unwrap();
        (backend, acme, globex)
    })
    .await
    .unwrap();
    let config = app::Config {
        backend,
        max_upload_bytes,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(app::serve(listener, app::App::new(config)));
    Service {
        address,
        acme,
        globex,
        _dir: dir,
    }
}

/// An answer: the status and the body.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

impl Service {
    /// One HTTP/1.1 request on its own connection (`Connection: close`).
    async fn request(&self, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> Answer {
        let mut stream = tokio::net::TcpStream::connect(self.address).await.unwrap();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(body).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let chunked = head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        };
        Answer { status, body }
    }

    async fn get(&self, path: &str, token: &str) -> Answer {
        self.request("GET", path, Some(token), b"").await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.request("POST", path, Some(token), body.to_string().as_bytes())
            .await
    }

    async fn upload(&self, token: &str, name: &str, file: &[u8]) -> Answer {
        self.request(
            "POST",
            &format!("/api/uploads?name={name}"),
            Some(token),
            file,
        )
        .await
    }

    /// Sends `mapping` to the upload's `step` (`preview` or `import`).
    async fn map(&self, token: &str, upload: u64, step: &str, mapping: &Value) -> Answer {
        self.post(
            &format!("/api/uploads/{upload}/{step}"),
            token,
            json!({ "mapping": mapping }),
        )
        .await
    }

    /// The number of contacts in the token's account.
    async fn total(&self, token: &str) -> Value {
        self.post("/api/contacts", token, json!({})).await.json()["total"].clone()
    }

    /// The job's last state, once it is no longer running (a minute at most).
    async fn wait(&self, token: &str, job: u64) -> Value {
        for _ in 0..1200 {
            let state = self.get(&format!("/api/jobs/{job}"), token).await.json();
            if state["state"] != "running" {
                return state;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the import did not end within a minute");
    }

    /// Uploads, confirms the suggested mapping and waits for the import's end.
    async fn import(&self, token: &str, name: &str, file: &[u8]) -> Value {
        let upload = self.upload(token, name, file).await;
        assert_eq!(upload.status, 200, "{}", upload.body);
        let upload = upload.json();
        let id = upload["upload_id"].as_u64().unwrap();
        let started = self.map(token, id, "import", &suggested(&upload)).await;
        assert_eq!(started.status, 200, "{}", started.body);
        let job = started.json()["job_id"].as_u64().unwrap();
        let mut state = self.wait(token, job).await;
        state["job_id"] = json!(job);
        state
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

/// The mapping the page would send when the person accepts the suggestions.
fn suggested(upload: &Value) -> Value {
    let columns: Vec<Value> = upload["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let field = match &s["field"] {
                Value::String(name) => name.clone(),
                Value::Object(map) => format!("attr:{}", map["attribute"].as_str().unwrap()),
                other => panic!("a field: {other}"),
            };
            json!({ "header": s["header"], "field": field })
        })
        .collect();
    Value::Array(columns)
}

const SAMPLE: &[u8] = include_bytes!("../examples/contacts.csv");

async fn catalog(service: &Service, token: &str) {
    let added = service
        .post("/api/catalog", token, json!({ "tags": ["MBA", "Finance", "Marketing"], "attributes": ["City", "email", "State"] }))
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_a_wrong_one_is_401_and_another_accounts_data_is_404() {
    let service = start(1 << 20).await;
    catalog(&service, &service.acme).await;
    let done = service.import(&service.acme, "contacts.csv", SAMPLE).await;
    assert_eq!(done["state"], "done", "{done}");
    let id = done["import_id"].as_u64().unwrap();
    let job = done["job_id"].as_u64().unwrap();

    // No token, an empty one, a made-up one: 401, with no data.
    for token in [None, Some(""), Some("0123456789abcdef")] {
        for (method, path) in [
            ("GET", "/api/catalog"),
            ("GET", "/api/imports"),
            ("POST", "/api/contacts"),
        ] {
            let answer = service.request(method, path, token, b"{}").await;
            assert_eq!(
                answer.status, 401,
                "{method} {path} with {token:?}: {}",
                answer.body
            );
            assert!(answer.error().contains("token"), "{}", answer.body);
            assert!(!answer.body.contains("Mohit") && !answer.body.contains("MBA"));
        }
    }
    // The other account: its own empty book, and acme's import is not found.
    let globex = &service.globex;
    assert_eq!(service.get("/api/imports", globex).await.json(), json!([]));
    assert_eq!(service.total(globex).await, 0);
    assert_eq!(
        service.get("/api/catalog", globex).await.json()["tags"],
        json!([])
    );
    for list in ["", "/failures.csv", "/added.csv", "/updated.csv"] {
        let answer = service
            .get(&format!("/api/imports/{id}{list}"), globex)
            .await;
        assert_eq!(answer.status, 404, "{list}: {}", answer.body);
        assert!(!answer.body.contains("Mohit") && !answer.body.contains("contacts.csv"));
        // The same answer as an import that does not exist.
        let none = service
            .get(&format!("/api/imports/{}{list}", id + 1000), globex)
            .await;
        assert_eq!(none.status, 404);
        assert_eq!(
            answer.error().replace(&id.to_string(), "N"),
            none.error().replace(&(id + 1000).to_string(), "N")
        );
    }
    // Nor acme's import job.
    let answer = service.get(&format!("/api/jobs/{job}"), globex).await;
    assert_eq!(
        (answer.status, answer.error().as_str()),
        (404, "no such import")
    );
    assert_eq!(
        service
            .get(&format!("/api/jobs/{job}"), &service.acme)
            .await
            .status,
        200
    );
    // Acme's upload cannot be previewed or imported with globex's token.
    let upload = service
        .upload(&service.acme, "contacts.csv", SAMPLE)
        .await
        .json();
    let upload_id = upload["upload_id"].as_u64().unwrap();
    for step in ["preview", "import"] {
        let answer = service
            .map(globex, upload_id, step, &suggested(&upload))
            .await;
        assert_eq!(answer.status, 404, "{step}: {}", answer.body);
    }
    assert_eq!(service.total(globex).await, 0);
    // And acme still sees its own.
    assert_eq!(
        service
            .get(&format!("/api/imports/{id}"), &service.acme)
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_over_the_limit_is_refused_with_the_limit_and_keeps_nothing() {
    let service = start(1000).await;
    let mut big = b"Name,Phone\n".to_vec();
    while big.len() <= 1000 {
        big.extend_from_slice(b"Asha Rao,9876543210\n");
    }
    let answer = service.upload(&service.acme, "big.csv", &big).await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    assert_eq!(
        answer.error(),
        "big.csv is larger than the limit of 1000 bytes: split it into smaller files and upload each"
    );
    // A file at the limit is taken.
    big.truncate(1000);
    let answer = service.upload(&service.acme, "small.csv", &big).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["bytes"], 1000);

    // Uploads never imported are not kept for ever: 20 an account.
    let first = answer.json()["upload_id"].as_u64().unwrap();
    let file = b"Name,Phone\nAsha,9876543210\n";
    let mut last = 0;
    for _ in 0..20 {
        last = service
            .upload(&service.acme, "again.csv", file)
            .await
            .json()["upload_id"]
            .as_u64()
            .unwrap();
    }
    let mapping =
        json!([{ "header": "Name", "field": "name" }, { "header": "Phone", "field": "phone" }]);
    let gone = service.map(&service.acme, first, "preview", &mapping).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    assert_eq!(gone.error(), "no such upload: upload the file again");
    let kept = service.map(&service.acme, last, "preview", &mapping).await;
    assert_eq!(kept.status, 200, "{}", kept.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_file_and_a_file_that_is_no_contact_list_get_clear_messages() {
    let service = start(1 << 20).await;
    for empty in [&b""[..], b"\n\n", b",,,\n,,\n"] {
        let answer = service.upload(&service.acme, "empty.csv", empty).await;
        assert_eq!(answer.status, 422, "{:?}: {}", empty, answer.body);
        assert!(
            answer
                .error()
                .starts_with("empty.csv is empty: export your contacts with a header row"),
            "{}",
            answer.body
        );
    }
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";
    let answer = service.upload(&service.acme, "photo.csv", png).await;
    assert_eq!(answer.status, 422);
    assert!(
        answer.error().contains("is not a contact list"),
        "{}",
        answer.body
    );
    let answer = service
        .upload(&service.acme, "book.xlsx", b"Name,Phone\nAsha,9876543210\n")
        .await;
    assert_eq!(answer.status, 422);
    assert!(
        answer
            .error()
            .starts_with("book.xlsx cannot be read as a spreadsheet"),
        "{}",
        answer.body
    );

    // A table of something else: it uploads, but neither previews nor imports.
    let answer = service
        .upload(
            &service.acme,
            "prices.csv",
            b"Product,Price\nPen,10\nInk,25\n",
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let upload = answer.json();
    let id = upload["upload_id"].as_u64().unwrap();
    for step in ["preview", "import"] {
        let answer = service
            .map(&service.acme, id, step, &suggested(&upload))
            .await;
        assert_eq!(answer.status, 422, "{step}: {}", answer.body);
        assert!(
            answer.error().starts_with("this file cannot be imported: "),
            "{}",
            answer.body
        );
        assert!(answer.error().ends_with("A contact list needs a name and a phone column: map them in the mapping, or upload the contact list itself"), "{}", answer.body);
    }
    assert_eq!(
        service.get("/api/imports", &service.acme).await.json(),
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_naming_an_unknown_column_or_attribute_is_refused_before_anything_is_written() {
    let service = start(1 << 20).await;
    catalog(&service, &service.acme).await;
    let upload = service
        .upload(&service.acme, "contacts.csv", SAMPLE)
        .await
        .json();
    let id = upload["upload_id"].as_u64().unwrap();
    let mut mapping = suggested(&upload);
    mapping
        .as_array_mut()
        .unwrap()
        .push(json!({ "header": "Pincode", "field": "attr:City" }));
    let answer = service.map(&service.acme, id, "import", &mapping).await;
    assert_eq!(answer.status, 422);
    assert!(
        answer.error().starts_with(
            "column \"Pincode\" is not in contacts.csv (its columns: Name, Mobile Number, Tags"
        ),
        "{}",
        answer.body
    );

    let mut mapping = suggested(&upload);
    mapping[5]["field"] = json!("attr:Pincode");
    let answer = service.map(&service.acme, id, "preview", &mapping).await;
    assert_eq!(answer.status, 422);
    assert!(
        answer.error().contains(
            "the attribute \"Pincode\", which is not in the catalog: add it on the Catalog page"
        ),
        "{}",
        answer.body
    );

    mapping[5]["field"] = json!("postcode");
    let answer = service.map(&service.acme, id, "import", &mapping).await;
    assert_eq!(answer.status, 422);
    assert!(
        answer.error().contains("unknown field \"postcode\""),
        "{}",
        answer.body
    );
    assert_eq!(service.total(&service.acme).await, 0);

    // A column of the file that matches no field is suggested as ignored,
    // and the rest imports.
    let file = b"Name,Phone,Pincode\nAsha,9876543210,110001\n";
    let upload = service.upload(&service.acme, "pins.csv", file).await.json();
    assert_eq!(upload["suggestions"][2]["field"], "ignore");
    assert_eq!(
        upload["suggestions"][2]["reason"],
        json!({ "kind": "no_match" })
    );
    let done = service.import(&service.acme, "pins.csv", file).await;
    assert_eq!(
        (
            done["result"]["added"].as_u64(),
            done["result"]["failed"].as_u64()
        ),
        (Some(1), Some(0)),
        "{done}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_imports_with_its_counts_preview_downloads_and_a_remembered_mapping() {
    let service = start(1 << 20).await;
    let acme = &service.acme;
    catalog(&service, acme).await;
    let upload = service.upload(acme, "contacts.csv", SAMPLE).await.json();
    assert_eq!(upload["remembered"], Value::Null);
    assert_eq!(upload["headers"][1], "Mobile Number");
    assert_eq!(upload["suggestions"][1]["field"], "phone");
    let id = upload["upload_id"].as_u64().unwrap();
    let preview = service.map(acme, id, "preview", &suggested(&upload)).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    let preview = preview.json();
    assert_eq!(
        (
            preview["report"]["added"].as_u64(),
            preview["report"]["failed"].as_u64()
        ),
        (Some(8), Some(3))
    );
    assert_eq!(service.total(acme).await, 0, "a preview writes nothing");

    // The person maps State to ignore; the next file with these headers gets that back.
    let mut mapping = suggested(&upload);
    mapping[7]["field"] = json!("ignore");
    let started = service.map(acme, id, "import", &mapping).await.json();
    let job = started["job_id"].as_u64().unwrap();
    let done = service.wait(acme, job).await;
    let result = &done["result"];
    assert_eq!(
        (done["rows_done"].as_u64(), done["total_rows"].as_u64()),
        (Some(12), Some(12))
    );
    let counts: Vec<u64> = ["rows", "added", "updated", "unchanged", "failed"]
        .iter()
        .map(|k| result[k].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [12, 8, 1, 0, 3]);
    assert!(result["warnings"].as_array().unwrap().iter().any(|w| {
        w.as_str()
            .unwrap()
            .starts_with("unknown tag \"mba\" in 1 row (e.g. row 7)")
    }));
    let again = service.upload(acme, "contacts-2.csv", SAMPLE).await.json();
    assert_eq!(
        again["remembered"][7],
        json!({ "header": "State", "field": "ignore" })
    );
    let other = service
        .upload(&service.globex, "contacts.csv", SAMPLE)
        .await
        .json();
    assert_eq!(other["remembered"], Value::Null, "remembered per account");

    let import = done["import_id"].as_u64().unwrap();
    let failures = service
        .get(&format!("/api/imports/{import}/failures.csv"), acme)
        .await
        .body;
    let rows: Vec<&str> = failures.lines().collect();
    assert_eq!(rows.len(), 4, "{failures}");
    assert!(rows[0].ends_with(",Row,Reason"));
    assert!(
        rows[1].starts_with("Ananya Rao,9.19876E+11,") && rows[1].contains(",9,"),
        "{}",
        rows[1]
    );
    let added = service
        .get(&format!("/api/imports/{import}/added.csv"), acme)
        .await
        .body;
    assert_eq!(added.lines().count(), 9);
    assert!(
        added.contains("Mohit Dua,+919876543452,MBA | Finance,Website"),
        "{added}"
    );
    let segment = json!({ "filter": { "all": [{ "any_tag": ["MBA"] }, { "attribute_equals": { "attribute": "City", "value": "Delhi" } }] } });
    let export = service
        .post("/api/contacts/export", acme, segment.clone())
        .await
        .body;
    assert_eq!(export.lines().count(), 2, "{export}");
    assert!(
        export
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("Mohit Dua,+919876543452,")
    );
    let page = service
        .post("/api/contacts", acme, json!({ "limit": 5, "offset": 5 }))
        .await
        .json();
    assert_eq!(
        (
            page["total"].as_u64(),
            page["contacts"].as_array().unwrap().len()
        ),
        (Some(8), 3)
    );
    let messages = service
        .post(
            "/api/contacts/render",
            acme,
            json!({ "filter": segment["filter"], "template": "Hi $FirstName from $City" }),
        )
        .await
        .json();
    assert_eq!(messages["messages"][0]["text"], "Hi Mohit from Delhi");
    let bad = service
        .post(
            "/api/contacts/render",
            acme,
            json!({ "template": "Hi $Frist" }),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.error().starts_with("the template: "), "{}", bad.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_uploads_into_one_account_at_once_both_land_with_exact_counts() {
    let service = start(16 << 20).await;
    let acme = &service.acme;
    service
        .post("/api/catalog", acme, json!({ "tags": ["Left", "Right"] }))
        .await;
    // 3,000 phones in both files, 1,000 in each alone; each file tags its own.
    let file = |tag: &str, range: std::ops::Range<u64>| {
        let mut csv = String::from("Name,Phone,Tags\n");
        for n in range {
            csv.push_str(&format!("Person {n},98{n:08},{tag}\n"));
        }
        csv.into_bytes()
    };
    let (left, right) = (file("Left", 0..4000), file("Right", 1000..5000));
    let (a, b) = tokio::join!(
        service.import(acme, "left.csv", &left),
        service.import(acme, "right.csv", &right)
    );
    for done in [&a, &b] {
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(done["result"]["rows"], 4000);
        assert_eq!(done["result"]["failed"], 0);
    }
    let added = a["result"]["added"].as_u64().unwrap() + b["result"]["added"].as_u64().unwrap();
    let updated =
        a["result"]["updated"].as_u64().unwrap() + b["result"]["updated"].as_u64().unwrap();
    assert_eq!(
        (added, updated),
        (5000, 3000),
        "every phone added once, the shared ones updated by the later"
    );
    let total = |filter: Value| {
        let service = &service;
        async move {
            service
                .post("/api/contacts", acme, json!({ "filter": filter }))
                .await
                .json()["total"]
                .as_u64()
        }
    };
    assert_eq!(total(json!({ "all": [] })).await, Some(5000));
    assert_eq!(
        total(json!({ "all_tags": ["Left", "Right"] })).await,
        Some(3000),
        "no import lost the other's tag"
    );
    assert_eq!(total(json!({ "any_tag": ["Left"] })).await, Some(4000));
    assert_eq!(total(json!({ "any_tag": ["Right"] })).await, Some(4000));
    assert_eq!(
        service
            .get("/api/imports", acme)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_fails_mid_import_ends_in_a_message_and_keeps_what_was_written() {
    let service = start(1 << 20).await;
    let acme = &service.acme;
    let done = service
        .import(acme, "first.csv", b"Name,Phone\nAsha,9876543210\n")
        .await;
    assert_eq!(done["state"], "done", "{done}");
    // The database starts refusing new contacts (a full disk, say).
    let db = contact_import::rusqlite::Connection::open(service._dir.path().join("dashboard.db"))
        .unwrap();
    db.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON contacts BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
    )
    .unwrap();
    let done = service
        .import(acme, "second.csv", b"Name,Phone\nRavi,9876543211\n")
        .await;
    assert_eq!(done["state"], "failed", "{done}");
    let error = done["error"].as_str().unwrap();
    assert!(error.contains("database or disk is full"), "{error}");
    assert!(
        error.ends_with("What was written before stays; upload the file again to import the rest"),
        "{error}"
    );
    // The first import's contact is there; the stopped import is in the history with its error.
    let page = service.post("/api/contacts", acme, json!({})).await.json();
    assert_eq!(page["total"], 1);
    assert_eq!(page["contacts"][0]["name"], "Asha");
    let history = service.get("/api/imports", acme).await.json();
    assert_eq!(history[0]["file_name"], "second.csv");
    assert!(
        history[0]["error"]
            .as_str()
            .unwrap()
            .contains("database or disk is full")
    );
    // The service still answers.
    assert_eq!(service.get("/api/catalog", acme).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workbook_with_a_title_above_its_header_previews_and_imports() {
    let service = start(1 << 20).await;
    let acme = &service.acme;
    service
        .post("/api/catalog", acme, json!({ "attributes": ["City"] }))
        .await;
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "Leads of March").unwrap();
    for (c, header) in ["Full Name", "Mobile", "City"].into_iter().enumerate() {
        sheet.write_string(2, c as u16, header).unwrap();
    }
    sheet.write_string(3, 0, "Asha Rao").unwrap();
    sheet.write_number(3, 1, 9876543210.0).unwrap(); // a phone stored as a number
    sheet.write_string(3, 2, "Pune").unwrap();
    sheet.write_string(4, 0, "Ravi Kumar").unwrap();
    sheet.write_string(4, 1, "+91 98765 43211").unwrap();
    let xlsx = workbook.save_to_buffer().unwrap();

    let upload = service.upload(acme, "march.xlsx", &xlsx).await.json();
    assert_eq!(
        upload["headers"],
        json!(["Full Name", "Mobile", "City"]),
        "{upload}"
    );
    assert_eq!(
        upload["samples"][0],
        json!(["Asha Rao", "9876543210", "Pune"])
    );
    let fields: Vec<&Value> = upload["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["field"])
        .collect();
    assert_eq!(
        fields,
        [
            &json!("name"),
            &json!("phone"),
            &json!({ "attribute": "City" })
        ]
    );
    let id = upload["upload_id"].as_u64().unwrap();
    let preview = service.map(acme, id, "preview", &suggested(&upload)).await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert_eq!(preview.json()["report"]["added"], 2);

    let done = service.import(acme, "march.xlsx", &xlsx).await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(
        (
            done["result"]["added"].as_u64(),
            done["result"]["failed"].as_u64()
        ),
        (Some(2), Some(0))
    );
    let asha = service
        .post(
            "/api/contacts",
            acme,
            json!({ "filter": { "name_contains": "asha" } }),
        )
        .await
        .json();
    assert_eq!(asha["contacts"][0]["phone"], "+919876543210");
    assert_eq!(asha["contacts"][0]["attributes"], json!({ "City": "Pune" }));
    assert_eq!(
        service.get("/api/imports", acme).await.json()[0]["file_name"],
        "march.xlsx"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opt_in_column_imports_and_the_consent_filter_selects_by_it() {
    let service = start(1 << 20).await;
    let acme = &service.acme;
    let file =
        b"Name,Phone,WhatsApp Opt-in\nAsha,9876543210,yes\nRavi,9876543211,no\nMeera,9876543212,\n";
    let done = service.import(acme, "consent.csv", file).await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["result"]["added"], 3, "{done}");
    let names = |filter: Value| {
        let service = &service;
        async move {
            let page = service
                .post("/api/contacts", acme, json!({ "filter": filter }))
                .await
                .json();
            let contacts = page["contacts"].as_array().cloned().unwrap_or_default();
            contacts
                .iter()
                .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names(json!({ "opt_in": true })).await, ["Asha"]);
    assert_eq!(names(json!({ "opt_in": false })).await, ["Ravi"]);
    assert_eq!(names(json!({ "opt_in": null })).await, ["Meera"]);
}

/// The server of `CONTACT_IMPORT_PG_URL`, or `None` (with a note) when it is
/// not set; CI sets it (.ci/with-postgres).
#[cfg(feature = "postgres")]
fn postgres_url() -> Option<String> {
    let url = std::env::var("CONTACT_IMPORT_PG_URL").ok();
    if url.is_none() {
        eprintln!(
            "note: CONTACT_IMPORT_PG_URL is not set: the dashboard's PostgreSQL test skipped"
        );
    }
    url
}

/// `url` with the connection parameter `param` (`key=value`) added.
#[cfg(feature = "postgres")]
fn with_param(url: &str, param: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{param}")
}

/// A name no other run of the tests has used: the database outlives them.
#[cfg(feature = "postgres")]
fn unique(prefix: &str) -> String {
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}{run}")
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_postgres_the_sample_imports_with_its_counts_and_stays_in_its_account() {
    let Some(url) = postgres_url() else { return };
    imports_the_sample_over_postgres(url, 1).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_postgres_on_two_import_connections_the_sample_imports_the_same() {
    let Some(url) = postgres_url() else { return };
    imports_the_sample_over_postgres(url, 2).await;
}

/// With `import_connections: 2`, an import's store holds two sessions of
/// the server, the other requests' stores one; with 1, every store one.
#[cfg(feature = "postgres")]
#[test]
fn over_postgres_only_an_import_opens_a_second_connection_when_asked() {
    use contact_import::postgres::{Client, NoTls};
    let Some(url) = postgres_url() else { return };
    let mut watcher = Client::connect(&url, NoTls).unwrap();
    let account: contact_import::Account = unique("acme").parse().unwrap();
    for connections in [1, 2] {
        // Named sessions, counted while the stores are open.
        let name = unique("dashboard_test");
        let backend = app::Backend::Postgres {
            url: with_param(&url, &format!("application_name={name}")),
            import_connections: connections,
        };
        let mut sessions = || -> i64 {
            let sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1";
            watcher.query_one(sql, &[&name]).unwrap().get(0)
        };
        let request = backend.open(account.clone()).unwrap();
        assert_eq!(sessions(), 1, "a request's store");
        let import = backend.open_for_import(account.clone()).unwrap();
        assert_eq!(
            sessions(),
            1 + i64::from(connections),
            "an import's store with import_connections: {connections}"
        );
        drop((request, import));
    }
}

/// The first requests on a new database open their stores at once, each
/// creating the dashboard's tables if they are missing: all of them open.
#[cfg(feature = "postgres")]
#[test]
fn over_postgres_first_requests_at_once_on_a_new_schema_all_open() {
    use contact_import::postgres::{Client, NoTls};
    let Some(url) = postgres_url() else { return };
    for _ in 0..3 {
        let schema = unique("dashboard_schema");
        let mut admin = Client::connect(&url, NoTls).unwrap();
        admin
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .unwrap();
        let backend = app::Backend::Postgres {
            url: with_param(&url, &format!("options=-csearch_path%3D{schema}")),
            import_connections: 1,
        };
        let start = std::sync::Barrier::new(4);
        let opened: Vec<Result<(), String>> = std::thread::scope(|scope| {
            let opening: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        let store = backend.open(contact_import::Account::default());
                        store.map(drop).map_err(|e| e.to_string())
                    })
                })
                .collect();
            opening.into_iter().map(|o| o.join().unwrap()).collect()
        });
        assert_eq!(opened, vec![Ok(()); 4], "every first request opens");
    }
}

/// The sample through the dashboard over PostgreSQL, imports on
/// `connections` connections: its counts, and nothing in another account.
#[cfg(feature = "postgres")]
async fn imports_the_sample_over_postgres(url: String, connections: u8) {
    let (acme, globex) = (unique("acme"), unique("globex"));
    let dir = tempfile::tempdir().unwrap();
    let backend = app::Backend::Postgres {
        url,
        import_connections: connections,
    };
    let service = start_on(backend, [&acme, &globex], 1 << 20, dir).await;
    let acme = &service.acme;
    catalog(&service, acme).await;
    let done = service.import(acme, "contacts.csv", SAMPLE).await;
    assert_eq!(done["state"], "done", "{done}");
    let counts: Vec<_> = ["rows", "added", "updated", "failed"]
        .iter()
        .map(|k| done["result"][k].as_u64())
        .collect();
    assert_eq!(counts, [Some(12), Some(8), Some(1), Some(3)], "{done}");
    let total = |token: &str| {
        let service = &service;
        let token = token.to_owned();
        async move { service.total(&token).await.as_u64() }
    };
    assert_eq!(total(acme).await, Some(8));
    assert_eq!(
        total(&service.globex).await,
        Some(0),
        "the other account sees nothing"
    );
    let history = service.get("/api/imports", &service.globex).await.json();
    assert_eq!(history.as_array().map(Vec::len), Some(0));
}
