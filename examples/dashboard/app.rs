//! The dashboard's web service: an axum [`Router`] over the library, built
//! from a [`Config`] so that `main.rs` serves it and the tests start it
//! in-process on `127.0.0.1:0`.
//!
//! Every store call is blocking (rusqlite, the sync `postgres` client), so
//! each runs on tokio's blocking pool ([`blocking`]); an import runs there
//! too, updating a [`Job`] that the page polls for progress.
//!
//! Authentication is minimal and the service's own: each account has a
//! secret token ([`create_account`]); every `/api` request but `/api/config`
//! carries it as `Authorization: Bearer TOKEN`, and reads and writes only
//! that account's data. A missing or unknown token is 401, another
//! account's upload, job or import is 404, the same answer as one that does
//! not exist.
#![allow(dead_code)] // main.rs and the tests each use a part.

use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::{Body, HttpBody};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::{StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use contact_import::{
    Account, Catalog, ColumnMapping, Contact, ContactScan, ContactStore, Field, FileError, Filter,
    ImportEngine, ImportError, ImportId, ImportRecord, ImportReport, ImportSummary, PlannedRow,
    Progress, RowOutcome, Sheet, SpreadsheetFormat, SqliteStore, Stored, Template, Timestamp,
    WriteBatch,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Where the contacts live.
#[derive(Clone, Debug)]
pub enum Backend {
    /// A SQLite file, created if missing.
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres {
        /// `postgresql://user@host/db`.
        url: String,
        /// Connections an import writes each batch on: 1, or 2 to write a
        /// batch's two halves at once on two server processes
        /// ([`PostgresStore::with_second_client`](contact_import::PostgresStore::with_second_client)).
        /// Every other request uses one.
        import_connections: u8,
    },
}

/// What the service is built from.
#[derive(Clone, Debug)]
pub struct Config {
    /// The database of every account.
    pub backend: Backend,
    /// The largest upload, in bytes; a larger one is refused with 413.
    pub max_upload_bytes: u64,
}

impl Config {
    /// A SQLite file and a 50 MiB upload limit.
    pub fn sqlite(path: impl Into<PathBuf>) -> Config {
        Config {
            backend: Backend::Sqlite(path.into()),
            max_upload_bytes: 50 << 20,
        }
    }
}

// ---------------------------------------------------------------- the store

/// The store of one account, whichever backend: one type for the handlers.
pub enum Store {
    /// A SQLite handle.
    Sqlite(SqliteStore),
    /// A PostgreSQL handle.
    #[cfg(feature = "postgres")]
    Postgres(Box<contact_import::PostgresStore>),
}

/// A store's error, whichever backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite's.
    #[error(transparent)]
    Sqlite(#[from] contact_import::SqliteError),
    /// PostgreSQL's.
    #[cfg(feature = "postgres")]
    #[error(transparent)]
    Postgres(#[from] contact_import::PostgresError),
    /// The dashboard's own tables (tokens, remembered mappings).
    #[error("the dashboard's tables: {0}")]
    Meta(String),
}

/// Calls the same method on whichever store `$store` holds.
macro_rules! each_store {
    ($store:expr, $s:ident => $body:expr) => {
        match $store {
            Store::Sqlite($s) => $body.map_err(StoreError::from),
            #[cfg(feature = "postgres")]
            Store::Postgres($s) => $body.map_err(StoreError::from),
        }
    };
}

impl ContactStore for Store {
    type Error = StoreError;

    fn fetch(
        &mut self,
        phones: &[contact_import::Phone],
        found: &mut Vec<Stored>,
    ) -> Result<(), StoreError> {
        each_store!(self, s => s.fetch(phones, found))
    }
    fn write_batch(&mut self, batch: WriteBatch) -> Result<Vec<contact_import::Phone>, StoreError> {
        each_store!(self, s => s.write_batch(batch))
    }
    fn creates_without_fetch(&self) -> bool {
        match self {
            Store::Sqlite(s) => s.creates_without_fetch(),
            #[cfg(feature = "postgres")]
            Store::Postgres(s) => s.creates_without_fetch(),
        }
    }
    fn preferred_batch_size(&self) -> Option<usize> {
        match self {
            Store::Sqlite(s) => s.preferred_batch_size(),
            #[cfg(feature = "postgres")]
            Store::Postgres(s) => s.preferred_batch_size(),
        }
    }
    fn load_catalog(&mut self) -> Result<Catalog, StoreError> {
        each_store!(self, s => s.load_catalog())
    }
    fn add_to_catalog(&mut self, catalog: &Catalog) -> Result<(), StoreError> {
        each_store!(self, s => s.add_to_catalog(catalog))
    }
    fn record_import(&mut self, record: &ImportRecord) -> Result<Option<ImportId>, StoreError> {
        each_store!(self, s => s.record_import(record))
    }
    fn import_history(&mut self) -> Result<Vec<ImportSummary>, StoreError> {
        each_store!(self, s => s.import_history())
    }
    fn import_record(&mut self, id: ImportId) -> Result<Option<ImportRecord>, StoreError> {
        each_store!(self, s => s.import_record(id))
    }
}

impl ContactScan for Store {
    fn scan(
        &mut self,
        visit: &mut dyn FnMut(&Contact) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        each_store!(self, s => s.scan(visit))
    }
    fn scan_filtered(
        &mut self,
        filter: &Filter,
        visit: &mut dyn FnMut(&Contact) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        each_store!(self, s => s.scan_filtered(filter, visit))
    }
    fn count(&mut self, filter: &Filter) -> Result<u64, StoreError> {
        each_store!(self, s => s.count(filter))
    }
}

/// The dashboard's own tables, beside the library's: the accounts' tokens
/// and the mappings confirmed per header set.
const META_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS dashboard_tokens (token TEXT PRIMARY KEY, account_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dashboard_mappings (
    account_id TEXT NOT NULL, header_set TEXT NOT NULL, mapping TEXT NOT NULL,
    PRIMARY KEY (account_id, header_set));";

impl Backend {
    /// The store of `account`, its schema created or migrated if need be.
    pub fn open(&self, account: Account) -> Result<Store, StoreError> {
        match self {
            Backend::Sqlite(path) => {
                let store = SqliteStore::open_account(path, account)?;
                store
                    .connection()
                    .execute_batch(META_SCHEMA)
                    .map_err(|e| StoreError::Meta(e.to_string()))?;
                Ok(Store::Sqlite(store))
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres { url, .. } => {
                let mut store = contact_import::PostgresStore::connect_account(url, account)?;
                create_pg_meta_schema(store.client()).map_err(|e| pg_meta_error(&e))?;
                Ok(Store::Postgres(Box::new(store)))
            }
        }
    }

    /// The store an import of `account` writes to: with PostgreSQL and
    /// `import_connections: 2`, one that writes each batch on two
    /// connections; otherwise the one [`open`](Self::open) gives.
    pub fn open_for_import(&self, account: Account) -> Result<Store, StoreError> {
        let store = self.open(account)?;
        match (self, store) {
            #[cfg(feature = "postgres")]
            (
                Backend::Postgres {
                    url,
                    import_connections: 2..,
                },
                Store::Postgres(store),
            ) => {
                use contact_import::postgres::{Client, NoTls};
                let second =
                    Client::connect(url, NoTls).map_err(contact_import::PostgresError::from)?;
                Ok(Store::Postgres(Box::new(store.with_second_client(second)?)))
            }
            (_, store) => Ok(store),
        }
    }
}

/// Serializes the dashboard's `CREATE TABLE IF NOT EXISTS` between
/// sessions: PostgreSQL's is not safe when two sessions create the same
/// table at once (the second fails on a unique index of its catalog), as
/// two first requests on a new database would.
#[cfg(feature = "postgres")]
const META_SCHEMA_LOCK: i64 = 0x6461_7368_6d65_7461; // "dashmeta"

/// Creates the dashboard's tables if they are missing, one session at a time.
#[cfg(feature = "postgres")]
fn create_pg_meta_schema(
    client: &mut contact_import::postgres::Client,
) -> Result<(), contact_import::postgres::Error> {
    let mut transaction = client.transaction()?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&META_SCHEMA_LOCK])?;
    transaction.batch_execute(META_SCHEMA)?;
    transaction.commit()
}

/// A PostgreSQL error of the dashboard's tables, with what the server said
/// (the driver's own text is only "db error").
#[cfg(feature = "postgres")]
fn pg_meta_error(error: &contact_import::postgres::Error) -> StoreError {
    StoreError::Meta(match error.as_db_error() {
        Some(db) => db.to_string(),
        None => error.to_string(),
    })
}

impl Store {
    /// Runs one statement of the dashboard's tables with text parameters
    /// (`$1`, `$2`, ... in both SQL dialects), returning the first column
    /// of the first row.
    fn meta(&mut self, sql: &str, params: &[&str]) -> Result<Option<String>, StoreError> {
        let meta = |e: &dyn std::fmt::Display| StoreError::Meta(e.to_string());
        match self {
            Store::Sqlite(s) => {
                let mut statement = s.connection().prepare_cached(sql).map_err(|e| meta(&e))?;
                let mut rows = statement
                    .query(rusqlite_params(params).as_slice())
                    .map_err(|e| meta(&e))?;
                match rows.next().map_err(|e| meta(&e))? {
                    Some(row) if row.as_ref().column_count() > 0 => {
                        row.get::<_, String>(0).map(Some).map_err(|e| meta(&e))
                    }
                    _ => Ok(None),
                }
            }
            #[cfg(feature = "postgres")]
            Store::Postgres(s) => {
                let params: Vec<&(dyn contact_import::postgres::types::ToSql + Sync)> =
                    params.iter().map(|p| p as _).collect();
                let rows = s
                    .client()
                    .query(sql, &params)
                    .map_err(|e| pg_meta_error(&e))?;
                match rows.first() {
                    Some(row) if !row.is_empty() => Ok(Some(row.get::<_, String>(0))),
                    _ => Ok(None),
                }
            }
        }
    }

    fn account_of_token(&mut self, token: &str) -> Result<Option<String>, StoreError> {
        self.meta(
            "SELECT account_id FROM dashboard_tokens WHERE token = $1",
            &[token],
        )
    }

    fn remembered_mapping(
        &mut self,
        account: &str,
        header_set: &str,
    ) -> Result<Option<String>, StoreError> {
        self.meta(
            "SELECT mapping FROM dashboard_mappings WHERE account_id = $1 AND header_set = $2",
            &[account, header_set],
        )
    }

    fn remember_mapping(
        &mut self,
        account: &str,
        header_set: &str,
        mapping: &str,
    ) -> Result<(), StoreError> {
        self.meta(
            "INSERT INTO dashboard_mappings (account_id, header_set, mapping) VALUES ($1, $2, $3)
             ON CONFLICT (account_id, header_set) DO UPDATE SET mapping = excluded.mapping",
            &[account, header_set, mapping],
        )?;
        Ok(())
    }
}

fn rusqlite_params<'a>(params: &'a [&'a str]) -> Vec<&'a dyn contact_import::rusqlite::ToSql> {
    params
        .iter()
        .map(|p| p as &dyn contact_import::rusqlite::ToSql)
        .collect()
}

/// Creates `account`'s token (the example's `create-account` command):
/// 32 random bytes from the operating system, as hex. An account may have
/// several tokens; creating one does not revoke the others.
pub fn create_account(backend: &Backend, account: Account) -> Result<String, anyhow::Error> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut store = backend.open(account.clone())?;
    store.meta(
        "INSERT INTO dashboard_tokens (token, account_id) VALUES ($1, $2)",
        &[&token, account.as_str()],
    )?;
    Ok(token)
}

// ---------------------------------------------------------------- the state

/// The service's state: the configuration, the uploads waiting to be
/// imported and the imports running or done since the process started.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    uploads: Mutex<HashMap<u64, Arc<Upload>>>,
    jobs: Mutex<HashMap<u64, Arc<Mutex<Job>>>>,
    tokens: Mutex<HashMap<String, Account>>,
    next_id: AtomicU64,
}

/// How many uploads an account may have waiting to be imported.
const PENDING_UPLOADS: usize = 20;

/// An uploaded file, kept in a temporary file until it is imported.
struct Upload {
    account: Account,
    file_name: String,
    path: tempfile::TempPath,
    format: Option<SpreadsheetFormat>,
    headers: Vec<String>,
    header_row: u64,
}

/// An import in flight or finished, as the page polls it.
#[derive(Clone, Serialize)]
struct Job {
    #[serde(skip)]
    account: Account,
    state: &'static str,
    file_name: String,
    rows_done: u64,
    total_rows: Option<u64>,
    import_id: Option<ImportId>,
    result: Option<ReportView>,
    error: Option<String>,
}

impl App {
    /// The state of a service built from `config`.
    pub fn new(config: Config) -> App {
        App {
            inner: Arc::new(Inner {
                config,
                uploads: Mutex::default(),
                jobs: Mutex::default(),
                tokens: Mutex::default(),
                next_id: AtomicU64::new(1),
            }),
        }
    }

    fn next_id(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn backend(&self) -> &Backend {
        &self.inner.config.backend
    }

    /// The upload `id` of `account`; another account's is not found.
    fn upload(&self, account: &Account, id: u64) -> Result<Arc<Upload>, ApiError> {
        let uploads = self.inner.uploads.lock().unwrap_or_else(|e| e.into_inner());
        match uploads.get(&id) {
            Some(upload) if &upload.account == account => Ok(upload.clone()),
            _ => Err(ApiError::not_found("no such upload: upload the file again")),
        }
    }
}

/// The router of the whole service: the page and its API.
pub fn router(app: App) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { page("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/app.js",
            get(|| async { page("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/style.css",
            get(|| async { page("text/css; charset=utf-8", STYLE_CSS) }),
        )
        .route("/api/config", get(config))
        .route("/api/account", get(whoami))
        .route("/api/catalog", get(catalog).post(add_to_catalog))
        .route(
            "/api/uploads",
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/uploads/{id}/preview", post(preview))
        .route("/api/uploads/{id}/import", post(start_import))
        .route("/api/jobs/{id}", get(job))
        .route("/api/imports", get(history))
        .route("/api/imports/{id}", get(history_one))
        .route("/api/imports/{id}/{list}", get(history_download))
        .route("/api/contacts", post(contacts))
        .route("/api/contacts/export", post(export_segment))
        .route("/api/contacts/render", post(render_segment))
        .with_state(app)
}

const INDEX_HTML: &str = include_str!("static/index.html");
const APP_JS: &str = include_str!("static/app.js");
const STYLE_CSS: &str = include_str!("static/style.css");

fn page(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

// ---------------------------------------------------------------- errors

/// An error the page shows: a status and a message saying what to do.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
    fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
    fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the database failed: {error}. Nothing written was lost; try again"),
        )
    }
}

impl From<FileError> for ApiError {
    fn from(error: FileError) -> ApiError {
        let next = match error.kind() {
            contact_import::FileErrorKind::MissingColumn { .. } => {
                ". A contact list needs a name and a phone column: map them in the mapping, or upload the contact list itself"
            }
            _ => "",
        };
        ApiError::bad(format!("this file cannot be imported: {error}{next}"))
    }
}

impl From<ImportError<StoreError>> for ApiError {
    fn from(error: ImportError<StoreError>) -> ApiError {
        match error {
            ImportError::File(error) => error.into(),
            other => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        }
    }
}

/// Runs `work` on the blocking pool with the store of `account`.
async fn blocking<T: Send + 'static>(
    app: &App,
    account: Account,
    work: impl FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let backend = app.backend().clone();
    tokio::task::spawn_blocking(move || work(&mut backend.open(account)?))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the request failed: {e}"),
            )
        })?
}

// ---------------------------------------------------------------- tokens

/// The account of the request's token.
pub struct Authed(Account);

impl FromRequestParts<App> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Authed, ApiError> {
        let unauthorized = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "a valid account token is needed: create one with `dashboard create-account NAME` and enter it at the top of the page",
            )
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(unauthorized)?
            .to_owned();
        if let Some(account) = app
            .inner
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&token)
        {
            return Ok(Authed(account.clone()));
        }
        // Any account's store can read the tokens table; `default` is one.
        let found = {
            let token = token.clone();
            blocking(app, Account::default(), move |store| {
                Ok(store.account_of_token(&token)?)
            })
            .await?
        };
        let account: Account = found
            .and_then(|a| a.parse().ok())
            .ok_or_else(unauthorized)?;
        app.inner
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token, account.clone());
        Ok(Authed(account))
    }
}

// ---------------------------------------------------------------- catalog

async fn whoami(Authed(account): Authed) -> Json<serde_json::Value> {
    Json(json!({ "account": account.as_str() }))
}

async fn config(State(app): State<App>) -> Json<serde_json::Value> {
    Json(json!({ "max_upload_bytes": app.inner.config.max_upload_bytes }))
}

#[derive(Deserialize, Serialize, Default)]
struct CatalogView {
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    attributes: Vec<String>,
}

fn catalog_view(catalog: &Catalog) -> CatalogView {
    CatalogView {
        tags: catalog
            .tags()
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect(),
        attributes: catalog
            .attributes()
            .iter()
            .map(|a| a.as_str().to_owned())
            .collect(),
    }
}

async fn catalog(
    State(app): State<App>,
    Authed(account): Authed,
) -> Result<Json<CatalogView>, ApiError> {
    blocking(&app, account, |store| {
        Ok(Json(catalog_view(&store.load_catalog()?)))
    })
    .await
}

async fn add_to_catalog(
    State(app): State<App>,
    Authed(account): Authed,
    Json(added): Json<CatalogView>,
) -> Result<Json<CatalogView>, ApiError> {
    let clean = |names: &[String]| -> Vec<String> {
        names
            .iter()
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect()
    };
    let (tags, attributes) = (clean(&added.tags), clean(&added.attributes));
    if tags.is_empty() && attributes.is_empty() {
        return Err(ApiError::bad("name a tag or an attribute to add"));
    }
    if let Some(long) = tags
        .iter()
        .chain(&attributes)
        .find(|n| n.chars().count() > 100)
    {
        return Err(ApiError::bad(format!(
            "{long:.20}…: a name has at most 100 characters"
        )));
    }
    blocking(&app, account, move |store| {
        store.add_to_catalog(&Catalog::new().with_tags(tags).with_attributes(attributes))?;
        Ok(Json(catalog_view(&store.load_catalog()?)))
    })
    .await
}

// ---------------------------------------------------------------- upload

#[derive(Deserialize)]
struct UploadQuery {
    name: Option<String>,
}

/// The body, streamed to a temporary file; over the limit it is read to
/// its end (so that the client reads the answer) but not kept.
async fn upload(
    State(app): State<App>,
    Authed(account): Authed,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    let limit = app.inner.config.max_upload_bytes;
    let file_name = query.name.unwrap_or_else(|| "upload.csv".to_owned());
    let file = tempfile::NamedTempFile::new().map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot keep the upload: {e}"),
        )
    })?;
    let (std_file, path) = file.into_parts();
    let mut out = tokio::fs::File::from_std(std_file);
    let mut body = body;
    let mut size = 0u64;
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let frame = frame.map_err(|e| {
            ApiError::bad(format!("the upload broke off: {e}; upload the file again"))
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        size += data.len() as u64;
        if size <= limit {
            tokio::io::AsyncWriteExt::write_all(&mut out, &data)
                .await
                .map_err(|e| {
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("cannot keep the upload: {e}"),
                    )
                })?;
        } else if size > limit.saturating_mul(4).max(limit + (64 << 20)) {
            break; // Drained enough: the client sends too much to be polite to.
        }
    }
    if size > limit {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "{file_name} is larger than the limit of {}: split it into smaller files and upload each",
                megabytes(limit)
            ),
        ));
    }
    tokio::io::AsyncWriteExt::flush(&mut out).await.ok();
    drop(out);
    let format = std::path::Path::new(&file_name)
        .extension()
        .and_then(|e| e.to_str())
        .and_then(SpreadsheetFormat::from_extension);
    let id = app.next_id();
    let answer = {
        let app = app.clone();
        let file_name = file_name.clone();
        blocking(&app.clone(), account.clone(), move |store| {
            let rows = first_rows(&path, format, &file_name)?;
            let catalog = store.load_catalog()?;
            let (header_row, headers, samples) = find_header(rows, &catalog);
            let suggestions = ColumnMapping::suggest(&headers, &samples, &catalog);
            let remembered = store.remembered_mapping(account.as_str(), &header_set(&headers))?;
            let remembered: Option<Vec<MappedColumn>> =
                remembered.and_then(|m| serde_json::from_str(&m).ok());
            let answer = json!({
                "upload_id": id,
                "file_name": file_name,
                "bytes": size,
                "headers": headers,
                "samples": samples.iter().take(5).collect::<Vec<_>>(),
                "suggestions": suggestions,
                "remembered": remembered,
                "fields": field_choices(&catalog),
            });
            let upload = Upload {
                account,
                file_name,
                path,
                format,
                headers,
                header_row,
            };
            let mut uploads = app.inner.uploads.lock().unwrap_or_else(|e| e.into_inner());
            // Uploads never imported are dropped, oldest first, past a few per account.
            let mut mine: Vec<u64> = uploads
                .iter()
                .filter(|(_, u)| u.account == upload.account)
                .map(|(id, _)| *id)
                .collect();
            mine.sort_unstable();
            for old in mine
                .iter()
                .take((mine.len() + 1).saturating_sub(PENDING_UPLOADS))
            {
                uploads.remove(old);
            }
            uploads.insert(id, Arc::new(upload));
            Ok(answer)
        })
        .await?
    };
    Ok(Json(answer))
}

fn megabytes(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// The first rows of the file: the header and samples, or why it is no
/// contact list.
fn first_rows(
    path: &std::path::Path,
    format: Option<SpreadsheetFormat>,
    file_name: &str,
) -> Result<Vec<Vec<String>>, ApiError> {
    const ROWS: usize = 31;
    let mut file = std::fs::File::open(path).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot read the upload: {e}"),
        )
    })?;
    let empty = || {
        ApiError::bad(format!(
            "{file_name} is empty: export your contacts with a header row (Name, Mobile Number, ...) and upload that file"
        ))
    };
    if file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
        return Err(empty());
    }
    let rows = match format {
        Some(format) => contact_import::spreadsheet::read_rows(
            BufReader::new(file),
            format,
            &Sheet::First,
            ROWS,
        )
        .map_err(|e| ApiError::bad(format!("{file_name} cannot be read as a spreadsheet: {e}")))?,
        None => {
            let mut head = Vec::with_capacity(64 << 10);
            (&mut file)
                .take(64 << 10)
                .read_to_end(&mut head)
                .map_err(|e| ApiError::bad(e.to_string()))?;
            let (text, encoding, _) = encoding_of(&head).decode(&head);
            if encoding == contact_import::encoding_rs::UTF_8 && head.contains(&0) {
                return Err(ApiError::bad(format!(
                    "{file_name} is not a contact list: it holds binary data, not text; upload a .csv, .xlsx, .xls or .ods file"
                )));
            }
            let delimiter = [b',', b';', b'\t']
                .into_iter()
                .max_by_key(|d| {
                    text.lines()
                        .next()
                        .unwrap_or("")
                        .bytes()
                        .filter(|b| b == d)
                        .count()
                })
                .unwrap_or(b',');
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(delimiter)
                .from_reader(text.as_bytes());
            let mut rows: Vec<Vec<String>> = reader
                .byte_records()
                .take(ROWS)
                .filter_map(Result::ok)
                .map(|r| {
                    r.iter()
                        .map(|c| {
                            String::from_utf8_lossy(c)
                                .trim_start_matches('\u{feff}')
                                .to_owned()
                        })
                        .collect()
                })
                .collect();
            if head.len() == 64 << 10 && rows.len() > 1 {
                rows.pop(); // It may be cut in the middle.
            }
            rows
        }
    };
    if rows.iter().all(|r| r.iter().all(|c| c.trim().is_empty())) {
        return Err(empty());
    }
    Ok(rows)
}

fn encoding_of(head: &[u8]) -> &'static contact_import::encoding_rs::Encoding {
    contact_import::encoding_rs::Encoding::for_bom(head)
        .map_or(contact_import::encoding_rs::UTF_8, |(e, _)| e)
}

/// The header row as the engine finds it (the first of the first 10 rows
/// that maps to a name and a phone, else the first non-blank row), its
/// row number and the rows under it.
fn find_header(rows: Vec<Vec<String>>, catalog: &Catalog) -> (u64, Vec<String>, Vec<Vec<String>>) {
    let blank = |r: &Vec<String>| r.iter().all(|c| c.trim().is_empty());
    let names = |r: &Vec<String>| {
        let fields: Vec<Field> = ColumnMapping::suggest(r, &[] as &[Vec<String>], catalog)
            .into_iter()
            .map(|s| s.field)
            .collect();
        fields.contains(&Field::Phone)
            && (fields.contains(&Field::Name) || fields.contains(&Field::FirstName))
    };
    let index = rows
        .iter()
        .take(10)
        .position(|r| !blank(r) && names(r))
        .or_else(|| rows.iter().position(|r| !blank(r)))
        .unwrap_or(0);
    let mut rows = rows.into_iter().skip(index);
    let headers = rows.next().unwrap_or_default();
    (
        index as u64 + 1,
        headers,
        rows.filter(|r| !blank(r)).collect(),
    )
}

/// A header set's key: the headers, sorted, one per line.
fn header_set(headers: &[String]) -> String {
    let mut sorted: Vec<&str> = headers.iter().map(|h| h.trim()).collect();
    sorted.sort_unstable();
    sorted.join("\n")
}

/// The fields a column can be mapped to, for the page's menus.
fn field_choices(catalog: &Catalog) -> Vec<String> {
    [
        "name",
        "first_name",
        "last_name",
        "phone",
        "tags",
        "source",
        "first_message",
        "country",
        "ignore",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(catalog.attributes().iter().map(|a| format!("attr:{a}")))
    .collect()
}

// ---------------------------------------------------------------- mapping, preview, import

/// One column's confirmed field, as the page sends it.
#[derive(Clone, Deserialize, Serialize)]
struct MappedColumn {
    header: String,
    field: String,
}

#[derive(Deserialize)]
struct MappingRequest {
    mapping: Vec<MappedColumn>,
}

/// The engine for `upload` under the confirmed `mapping`, which must name
/// the file's columns and the catalog's attributes only.
fn engine_for(
    upload: &Upload,
    mapping: &[MappedColumn],
    catalog: Catalog,
) -> Result<ImportEngine, ApiError> {
    let mut columns = ColumnMapping::new();
    for column in mapping {
        if !upload.headers.contains(&column.header) {
            return Err(ApiError::bad(format!(
                "column {:?} is not in {} (its columns: {}): choose the mapping again",
                column.header,
                upload.file_name,
                upload.headers.join(", ")
            )));
        }
        let field: Field = column
            .field
            .parse()
            .map_err(|e: String| ApiError::bad(format!("column {:?}: {e}", column.header)))?;
        if let Field::Attribute(name) = &field
            && catalog.attribute(name).is_none()
        {
            return Err(ApiError::bad(format!(
                "column {:?} is mapped to the attribute {name:?}, which is not in the catalog: add it on the Catalog page, or map the column to another field",
                column.header
            )));
        }
        columns = columns.map(&column.header, field);
    }
    let options = contact_import::ImportOptions::new()
        .with_mapping(columns)
        .with_header_row(Some(upload.header_row));
    Ok(ImportEngine::new(catalog, Timestamp::now).with_options(options))
}

/// What the page shows of a report.
#[derive(Clone, Serialize)]
struct ReportView {
    rows: u64,
    added: u64,
    updated: u64,
    unchanged: u64,
    skipped: u64,
    failed: u64,
    not_mobile: u64,
    conflicts: u64,
    warnings: Vec<String>,
    failures: Vec<serde_json::Value>,
}

fn report_view(report: &ImportReport) -> ReportView {
    ReportView {
        rows: report.rows,
        added: report.added,
        updated: report.updated,
        unchanged: report.unchanged,
        skipped: report.skipped,
        failed: report.failed,
        not_mobile: report.not_mobile,
        conflicts: report.conflicts,
        warnings: report
            .warning_groups()
            .iter()
            .map(ToString::to_string)
            .collect(),
        failures: report
            .failures
            .iter()
            .take(50)
            .map(
                |f| json!({ "row": f.position.row, "code": f.code.as_str(), "message": f.message }),
            )
            .collect(),
    }
}

async fn preview(
    State(app): State<App>,
    Authed(account): Authed,
    Path(id): Path<u64>,
    Json(request): Json<MappingRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let upload = app.upload(&account, id)?;
    blocking(&app, account, move |store| {
        let engine = engine_for(&upload, &request.mapping, store.load_catalog()?)?;
        let mut changes = Vec::new();
        let each = |row: PlannedRow| {
            if changes.len() < 20 && (row.outcome == RowOutcome::Added || !row.changes.is_empty()) {
                changes.push(json!({
                    "row": row.row,
                    "phone": row.phone.map(|p| p.as_str().to_owned()),
                    "outcome": row.outcome,
                    "changes": row.changes,
                }));
            }
        };
        let file = open_upload(&upload)?;
        let report = match upload.format {
            Some(format) => engine.plan_spreadsheet(file, format, store, each),
            None => engine.plan(file, store, each),
        }?;
        Ok(Json(
            json!({ "report": report_view(&report), "changes": changes }),
        ))
    })
    .await
}

fn open_upload(upload: &Upload) -> Result<BufReader<std::fs::File>, ApiError> {
    std::fs::File::open(&upload.path)
        .map(BufReader::new)
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot read the upload: {e}"),
            )
        })
}

async fn start_import(
    State(app): State<App>,
    Authed(account): Authed,
    Path(id): Path<u64>,
    Json(request): Json<MappingRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let upload = app.upload(&account, id)?;
    // Checked before the job starts, so that a wrong mapping is an answer
    // to this request; remembered for the next file with these headers.
    let engine = {
        let (upload, mapping) = (upload.clone(), request.mapping.clone());
        blocking(&app, account.clone(), move |store| {
            let engine = engine_for(&upload, &mapping, store.load_catalog()?)?;
            if upload.format.is_none() {
                // The header checks of a CSV file (a spreadsheet's are the job's).
                engine.start(open_upload(&upload)?)?;
            }
            let json = serde_json::to_string(&mapping).unwrap_or_default();
            store.remember_mapping(upload.account.as_str(), &header_set(&upload.headers), &json)?;
            Ok(engine)
        })
        .await?
    };
    app.inner
        .uploads
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
    let job_id = app.next_id();
    let job = Arc::new(Mutex::new(Job {
        account: account.clone(),
        state: "running",
        file_name: upload.file_name.clone(),
        rows_done: 0,
        total_rows: None,
        import_id: None,
        result: None,
        error: None,
    }));
    app.inner
        .jobs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(job_id, job.clone());
    let backend = app.backend().clone();
    tokio::task::spawn_blocking(move || {
        let outcome = run_import(&backend, account, &engine, &upload, &job);
        let mut job = job.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Ok(record) => {
                job.state = "done";
                job.import_id = Some(record.id);
                job.rows_done = record.report.rows;
                job.result = Some(report_view(&record.report));
            }
            Err((message, report)) => {
                job.state = "failed";
                job.error = Some(message);
                job.result = report.as_deref().map(report_view);
            }
        }
    });
    Ok(Json(json!({ "job_id": job_id })))
}

/// The import itself, on the blocking pool; its progress goes to `job`.
fn run_import(
    backend: &Backend,
    account: Account,
    engine: &ImportEngine,
    upload: &Upload,
    job: &Mutex<Job>,
) -> Result<ImportRecord, (String, Option<Box<ImportReport>>)> {
    let failed = |e: ApiError| (e.message, None);
    let mut store = backend
        .open_for_import(account)
        .map_err(|e| failed(e.into()))?;
    let file = open_upload(upload).map_err(failed)?;
    let progress = |p: Progress| {
        let mut job = job.lock().unwrap_or_else(|e| e.into_inner());
        job.rows_done = p.rows_done;
        job.total_rows = p.total_rows;
    };
    let outcome = match upload.format {
        Some(format) => engine.import_spreadsheet_recorded(
            &upload.file_name,
            file,
            format,
            &mut store,
            progress,
        ),
        None => engine.import_recorded(&upload.file_name, file, &mut store, progress),
    };
    outcome.map_err(|error| {
        let report = error.report().map(|r| Box::new(r.clone()));
        let message = match error {
            ImportError::File(e) => ApiError::from(e).message,
            other => format!(
                "{other}. What was written before stays; upload the file again to import the rest"
            ),
        };
        (message, report)
    })
}

async fn job(
    State(app): State<App>,
    Authed(account): Authed,
    Path(id): Path<u64>,
) -> Result<Json<Job>, ApiError> {
    let jobs = app.inner.jobs.lock().unwrap_or_else(|e| e.into_inner());
    match jobs.get(&id) {
        Some(job) => {
            let job = job.lock().unwrap_or_else(|e| e.into_inner()).clone();
            match job.account == account {
                true => Ok(Json(job)),
                false => Err(ApiError::not_found("no such import")),
            }
        }
        None => Err(ApiError::not_found("no such import")),
    }
}

// ---------------------------------------------------------------- history

async fn history(
    State(app): State<App>,
    Authed(account): Authed,
) -> Result<Json<Vec<ImportSummary>>, ApiError> {
    blocking(&app, account, |store| Ok(Json(store.import_history()?))).await
}

fn record_of(store: &mut Store, id: ImportId) -> Result<ImportRecord, ApiError> {
    store
        .import_record(id)?
        .ok_or_else(|| ApiError::not_found(format!("no import #{id}")))
}

async fn history_one(
    State(app): State<App>,
    Authed(account): Authed,
    Path(id): Path<ImportId>,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(&app, account, move |store| {
        let record = record_of(store, id)?;
        Ok(Json(
            json!({ "summary": record.summary(), "report": report_view(&record.report) }),
        ))
    })
    .await
}

async fn history_download(
    State(app): State<App>,
    Authed(account): Authed,
    Path((id, list)): Path<(ImportId, String)>,
) -> Result<Response, ApiError> {
    blocking(&app, account, move |store| {
        let record = record_of(store, id)?;
        let mut csv = Vec::new();
        let phones = match list.as_str() {
            "failures.csv" => {
                record
                    .report
                    .write_failures(&mut csv)
                    .map_err(|e| ApiError::bad(e.to_string()))?;
                return Ok(csv_download(&format!("import-{id}-failures.csv"), csv));
            }
            "added.csv" => &record.report.phones_added,
            "updated.csv" => &record.report.phones_updated,
            _ => {
                return Err(ApiError::not_found(
                    "downloads: failures.csv, added.csv or updated.csv",
                ));
            }
        };
        let catalog = store.load_catalog()?;
        contact_import::export_phones(store, phones, &catalog, Timestamp::now(), &mut csv)
            .map_err(export_error)?;
        Ok(csv_download(&format!("import-{id}-{list}"), csv))
    })
    .await
}

fn export_error(error: contact_import::ExportError<StoreError>) -> ApiError {
    match error {
        contact_import::ExportError::Store(e) => e.into(),
        other => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
    }
}

fn csv_download(name: &str, csv: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        csv,
    )
        .into_response()
}

// ---------------------------------------------------------------- contacts

#[derive(Deserialize)]
struct SegmentRequest {
    #[serde(default)]
    filter: Filter,
    #[serde(default)]
    offset: u64,
    #[serde(default)]
    limit: Option<u64>,
    #[serde(default)]
    template: Option<String>,
}

async fn contacts(
    State(app): State<App>,
    Authed(account): Authed,
    Json(request): Json<SegmentRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let limit = request.limit.unwrap_or(50).min(500);
    blocking(&app, account, move |store| {
        let total = store.count(&request.filter)?;
        let (now, mut seen, mut page) = (Timestamp::now(), 0u64, Vec::new());
        store.scan_filtered(&request.filter, &mut |contact| {
            seen += 1;
            if seen > request.offset {
                let mut value = serde_json::to_value(contact).unwrap_or_default();
                value["status"] = json!(contact.status(now));
                page.push(value);
            }
            match page.len() as u64 >= limit {
                true => ControlFlow::Break(()),
                false => ControlFlow::Continue(()),
            }
        })?;
        Ok(Json(
            json!({ "total": total, "offset": request.offset, "contacts": page }),
        ))
    })
    .await
}

async fn export_segment(
    State(app): State<App>,
    Authed(account): Authed,
    Json(request): Json<SegmentRequest>,
) -> Result<Response, ApiError> {
    blocking(&app, account, move |store| {
        let catalog = store.load_catalog()?;
        let mut csv = Vec::new();
        contact_import::export(store, &request.filter, &catalog, Timestamp::now(), &mut csv)
            .map_err(export_error)?;
        Ok(csv_download("segment.csv", csv))
    })
    .await
}

async fn render_segment(
    State(app): State<App>,
    Authed(account): Authed,
    Json(request): Json<SegmentRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(&app, account, move |store| {
        let catalog = store.load_catalog()?;
        let text = request.template.unwrap_or_default();
        let template = Template::parse(&text, &catalog).map_err(|e| ApiError::bad(format!("the template: {e}")))?;
        let mut messages = Vec::new();
        store.scan_filtered(&request.filter, &mut |contact| {
            messages.push(json!({ "phone": contact.phone.as_str(), "name": contact.name(), "text": template.render(contact) }));
            match messages.len() >= 10 {
                true => ControlFlow::Break(()),
                false => ControlFlow::Continue(()),
            }
        })?;
        Ok(Json(json!({ "messages": messages })))
    })
    .await
}

/// Serves `app` on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, app: App) -> std::io::Result<()> {
    axum::serve(listener, router(app)).await
}
