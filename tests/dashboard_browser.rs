//! The dashboard example end to end in headless Chromium (Debian's
//! `chromium` and `chromium-driver`), driven over WebDriver: the sample file
//! uploaded, mapped, previewed and imported, its counts, failure file and a
//! segment's export read from the page, and another account's token seeing
//! nothing. It saves a screenshot of the result to
//! `target/dashboard-screenshot.png` (to `$DASHBOARD_SCREENSHOT` when set:
//! the README's is `docs/dashboard.png`).
//!
//! Without Chromium the test prints a note and passes, except under
//! `CI=true`, where it fails: CI installs both packages (`.ci/run`).
//! `CHROMIUM` and `CHROMEDRIVER` name other paths than Debian's.
#[path = "../examples/dashboard/app.rs"]
#[allow(unused)]
mod app;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// Debian's paths; `CHROMIUM` and `CHROMEDRIVER` name others.
fn program(variable: &str, debian: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| debian.to_owned())
}

/// chromedriver in a process group of its own, with the Chromium it
/// starts: the whole group is ended when the test ends, also when it fails
/// before closing the session.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn browser() -> Option<(Driver, Client)> {
    let chromium = program("CHROMIUM", "/usr/bin/chromium");
    let chromedriver = program("CHROMEDRIVER", "/usr/bin/chromedriver");
    if !Path::new(&chromium).exists() || !Path::new(&chromedriver).exists() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "CI=true but {chromium} or {chromedriver} is missing: .ci/run installs the chromium and chromium-driver packages"
            );
        }
        eprintln!(
            "note: dashboard browser test skipped: {chromium} or {chromedriver} is missing (apt-get install chromium chromium-driver)"
        );
        return None;
    }
    let port = free_port();
    let child = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1100"],
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return Some((driver, client)),
            Err(e) if started.elapsed() > Duration::from_secs(30) => {
                panic!("chromedriver did not answer: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Waits until `script` (a JavaScript expression) is truthy, and returns its value.
async fn until(client: &Client, what: &str, script: &str) -> Value {
    let started = Instant::now();
    loop {
        let value = client
            .execute(&format!("return {script};"), vec![])
            .await
            .unwrap();
        if !matches!(value, Value::Null | Value::Bool(false)) && value != json!("") {
            return value;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let error = client
                .execute(
                    "return document.querySelector('#error').textContent",
                    vec![],
                )
                .await;
            panic!("waited a minute for {what} ({script}); the page's error: {error:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn fill(client: &Client, css: &str, value: &str) {
    let input = client.find(Locator::Css(css)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

async fn sign_in(client: &Client, token: &str, account: &str) {
    fill(client, "#token", token).await;
    click(client, "#use-token").await;
    let expected = format!("account {account}");
    until(
        client,
        &expected,
        &format!("document.querySelector('#account-name').textContent === {expected:?}"),
    )
    .await;
}

/// Clicks a download and returns what the page fetched.
async fn download(client: &Client, css: &str, name: &str) -> String {
    client
        .execute("window.dashboard.lastDownload = null; return null;", vec![])
        .await
        .unwrap();
    click(client, css).await;
    let check = format!(
        "window.dashboard.lastDownload && window.dashboard.lastDownload.name === {name:?} && window.dashboard.lastDownload.text"
    );
    until(client, name, &check)
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_flow_in_a_browser() {
    let Some((_driver, client)) = browser().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let backend = app::Backend::Sqlite(dir.path().join("dashboard.db"));
    let acme = app::create_account(&backend, "acme".parse().unwrap()).unwrap();
    let globex = app::create_account(&backend, "globex".parse().unwrap()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(app::serve(
        listener,
        app::App::new(app::Config {
            backend,
            max_upload_bytes: 1 << 20,
        }),
    ));

    client.goto(&format!("http://{address}/")).await.unwrap();
    sign_in(&client, &acme, "acme").await;

    // Catalog.
    click(&client, "nav button[data-page=catalog]").await;
    fill(&client, "#new-tags", "MBA, Finance, Marketing").await;
    fill(&client, "#new-attributes", "City, email, State").await;
    click(&client, "#add-catalog").await;
    until(
        &client,
        "three tags",
        "document.querySelectorAll('#tags li').length === 3",
    )
    .await;
    assert_eq!(text(&client, "#attributes").await, "City\nemail\nState");

    // Bad files end in a message on the page: an empty one, one over the limit.
    click(&client, "nav button[data-page=upload]").await;
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let big = dir.path().join("big.csv");
    std::fs::write(&big, "Name,Phone\n".repeat(100_000)).unwrap();
    for (file, message) in [
        (
            &empty,
            "empty.csv is empty: export your contacts with a header row",
        ),
        (
            &big,
            "big.csv is larger than the limit of 1 MiB: split it into smaller files and upload each",
        ),
    ] {
        client
            .execute(
                "document.querySelector('#error').textContent = ''; return null;",
                vec![],
            )
            .await
            .unwrap();
        let input = client.find(Locator::Css("#file")).await.unwrap();
        input.send_keys(file.to_str().unwrap()).await.unwrap();
        click(&client, "#upload-button").await;
        let error = until(
            &client,
            message,
            "document.querySelector('#error').textContent",
        )
        .await;
        assert!(error.as_str().unwrap().starts_with(message), "{error}");
    }

    // Upload and mapping.
    let sample: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/contacts.csv");
    client
        .find(Locator::Css("#file"))
        .await
        .unwrap()
        .send_keys(sample.to_str().unwrap())
        .await
        .unwrap();
    click(&client, "#upload-button").await;
    until(
        &client,
        "the mapping",
        "document.querySelectorAll('#mapping-table select.field').length === 8",
    )
    .await;
    let fields = client
        .execute("return [...document.querySelectorAll('#mapping-table select.field')].map(s => s.value)", vec![])
        .await
        .unwrap();
    assert_eq!(
        fields,
        json!([
            "name",
            "phone",
            "tags",
            "source",
            "first_message",
            "attr:City",
            "attr:email",
            "attr:State"
        ])
    );
    assert!(text(&client, "#mapping-table").await.contains("% sure"));

    // Preview, then import with live progress.
    click(&client, "#preview-button").await;
    until(
        &client,
        "the preview",
        "document.querySelector('#preview-added')",
    )
    .await;
    assert_eq!(text(&client, "#preview-added").await, "8");
    click(&client, "#import-button").await;
    until(
        &client,
        "the result",
        "document.querySelector('#count-added')",
    )
    .await;
    assert_eq!(text(&client, "#progress-text").await, "12 of 12 rows: done");
    let counts: Vec<String> = result_counts(&client).await;
    assert_eq!(counts, ["12", "8", "1", "0", "0", "3"]);
    assert!(
        text(&client, "#result-warnings")
            .await
            .contains("unknown tag \"mba\" in 1 row (e.g. row 7)")
    );

    let screenshot = client.screenshot().await.unwrap();
    let path = std::env::var("DASHBOARD_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dashboard-screenshot.png")
        });
    std::fs::write(&path, screenshot).unwrap();

    // The failure file: the three failed rows with their cells, row and reason.
    let failures = download(
        &client,
        "#result-downloads a[data-list=failures]",
        "import-1-failures.csv",
    )
    .await;
    let lines: Vec<&str> = failures.lines().collect();
    assert_eq!(
        lines[0],
        "Name,Mobile Number,Tags,Source,First Message,City,email,State,Row,Reason"
    );
    assert_eq!(lines.len(), 4, "{failures}");
    assert!(
        lines[1].starts_with(
            "Ananya Rao,9.19876E+11,Finance,,,Hyderabad,ananya@example.com,Telangana,9,"
        )
    );
    assert!(lines[2].starts_with(",9876501234,MBA,,,Pune,,Maharashtra,10,"));
    assert!(lines[3].starts_with("Vikram Singh,12345,MBA,,,Lucknow,,Uttar Pradesh,11,"));

    // History lists the import with the same downloads.
    click(&client, "nav button[data-page=history]").await;
    until(
        &client,
        "the history",
        "document.querySelectorAll('#history-table tbody tr').length === 1",
    )
    .await;
    assert!(
        text(&client, "#history-table tbody")
            .await
            .starts_with("1 contacts.csv")
    );
    let added = download(
        &client,
        "#history-table a[data-list=added]",
        "import-1-added.csv",
    )
    .await;
    assert_eq!(added.lines().count(), 9, "{added}");

    // A segment: MBA in Delhi is Mohit alone; its export and a message.
    click(&client, "nav button[data-page=contacts]").await;
    until(
        &client,
        "the contacts",
        "document.querySelector('#contacts-total').textContent === '8 contacts (1 to 8)'",
    )
    .await;
    fill(&client, "#f-any-tag", "MBA").await;
    fill(&client, "#f-attr-name", "City").await;
    fill(&client, "#f-attr-value", "Delhi").await;
    click(&client, "#apply-filter").await;
    until(
        &client,
        "the segment",
        "document.querySelector('#contacts-total').textContent === '1 contacts (1 to 1)'",
    )
    .await;
    assert!(
        text(&client, "#contacts-table tbody")
            .await
            .starts_with("+919876543452 Mohit Dua MBA | Finance Website")
    );
    let segment = download(&client, "#export-button", "segment.csv").await;
    let lines: Vec<&str> = segment.lines().collect();
    assert_eq!(lines.len(), 2, "{segment}");
    assert!(
        lines[0].starts_with(
            "Name,Mobile Number,Tags,Source,First Message,WhatsApp Opt-in,City,email,"
        )
    );
    assert!(
        lines[1].starts_with(
            "Mohit Dua,+919876543452,MBA | Finance,Website,,,Delhi,mohit@example.org,"
        )
    );
    fill(&client, "#template", "Hi $FirstName, the fair is in $City").await;
    click(&client, "#render-button").await;
    until(
        &client,
        "the message",
        "document.querySelector('#messages li')",
    )
    .await;
    assert_eq!(
        text(&client, "#messages").await,
        "+919876543452: Hi Mohit, the fair is in Delhi"
    );

    // Another account's token sees none of it.
    sign_in(&client, &globex, "globex").await;
    click(&client, "nav button[data-page=upload]").await;
    click(&client, "nav button[data-page=contacts]").await;
    fill(&client, "#f-any-tag", "").await;
    fill(&client, "#f-attr-name", "").await;
    fill(&client, "#f-attr-value", "").await;
    click(&client, "#apply-filter").await;
    until(
        &client,
        "globex's contacts",
        "document.querySelector('#contacts-total').textContent === '0 contacts'",
    )
    .await;
    click(&client, "nav button[data-page=history]").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(text(&client, "#history-table tbody").await, "");
    click(&client, "nav button[data-page=catalog]").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(text(&client, "#tags").await, "");
    // A made-up token is refused with the message the page shows.
    fill(&client, "#token", "not-a-token").await;
    click(&client, "#use-token").await;
    let error = until(
        &client,
        "the refusal",
        "document.querySelector('#error').textContent",
    )
    .await;
    assert!(
        error
            .as_str()
            .unwrap()
            .starts_with("a valid account token is needed"),
        "{error}"
    );

    client.close().await.unwrap();
}

async fn result_counts(client: &Client) -> Vec<String> {
    let mut counts = Vec::new();
    for name in ["rows", "added", "updated", "unchanged", "skipped", "failed"] {
        counts.push(text(client, &format!("#count-{name}")).await);
    }
    counts
}
