// The dashboard's page: plain JavaScript over the service's JSON API.
// Every request carries the account token (Authorization: Bearer ...).
"use strict";

const $ = (selector) => document.querySelector(selector);
const state = { token: sessionStorage.getItem("token") || "", upload: null, offset: 0, filter: { all: [] } };
// What the last download fetched, for the browser test to read.
const dashboard = { lastDownload: null };
window.dashboard = dashboard;

function showError(message) {
  const box = $("#error");
  box.textContent = message || "";
  box.hidden = !message;
}

async function api(method, path, body, raw) {
  const headers = { Authorization: "Bearer " + state.token };
  let payload = body;
  if (body !== undefined && !raw) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload });
  } catch (e) {
    throw new Error("the service cannot be reached (" + e.message + "): is it running?");
  }
  const type = response.headers.get("Content-Type") || "";
  if (!response.ok) {
    const answer = type.includes("json") ? await response.json() : { error: await response.text() };
    throw new Error(answer.error || response.statusText);
  }
  return type.includes("json") ? response.json() : response.text();
}

// Runs an action, showing its error instead of throwing.
function guarded(action) {
  return async (event) => {
    if (event) event.preventDefault();
    showError("");
    try { await action(event); } catch (e) { showError(e.message); }
  };
}

function el(tag, text, attributes) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  Object.entries(attributes || {}).forEach(([k, v]) => node.setAttribute(k, v));
  return node;
}

function row(cells) {
  const tr = el("tr");
  cells.forEach((cell) => {
    const td = el("td");
    if (cell instanceof Node) td.append(cell); else td.textContent = cell ?? "";
    tr.append(td);
  });
  return tr;
}

function list(selector, items) {
  const ul = $(selector);
  ul.replaceChildren(...items.map((item) => el("li", item)));
}

function counts(selector, report, prefix) {
  const names = ["rows", "added", "updated", "unchanged", "skipped", "failed", "not_mobile"];
  $(selector).replaceChildren(...names.map((name) => {
    const span = el("span", name.replace("_", " ") + " ");
    span.append(el("b", report[name], { id: prefix + "-" + name }));
    return span;
  }));
}

// A download through fetch (the token is a header, not in the address).
async function download(method, path, name, body) {
  const text = await api(method, path, body);
  dashboard.lastDownload = { name, text };
  const link = el("a", null, { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: name });
  document.body.append(link);
  link.click();
  link.remove();
}

function downloadLinks(id, report) {
  const lists = [["failures", "Failure file", report.failed], ["added", "Contacts added", report.added],
    ["updated", "Contacts updated", report.updated]];
  return lists.map(([list, label, count]) => {
    const a = el("a", label + " (" + count + ")", { href: "#", class: "download", "data-list": list, "data-import": id });
    a.addEventListener("click", guarded(() => download("GET", `/api/imports/${id}/${list}.csv`, `import-${id}-${list}.csv`)));
    return a;
  });
}

// ------------------------------------------------------------ pages

function show(page) {
  document.querySelectorAll("nav button").forEach((b) => b.classList.toggle("current", b.dataset.page === page));
  document.querySelectorAll("main section").forEach((s) => { s.hidden = s.id !== "page-" + page; });
  showError("");
  const load = { catalog: loadCatalog, history: loadHistory, contacts: loadContacts }[page];
  if (load && state.token) guarded(load)();
}

async function signIn() {
  state.token = $("#token").value.trim();
  sessionStorage.setItem("token", state.token);
  const me = await api("GET", "/api/account");
  $("#account-name").textContent = "account " + me.account;
}

async function loadCatalog() {
  const catalog = await api("GET", "/api/catalog");
  list("#tags", catalog.tags);
  list("#attributes", catalog.attributes);
}

async function addCatalog() {
  const split = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);
  const catalog = await api("POST", "/api/catalog", { tags: split($("#new-tags").value), attributes: split($("#new-attributes").value) });
  $("#new-tags").value = $("#new-attributes").value = "";
  list("#tags", catalog.tags);
  list("#attributes", catalog.attributes);
}

async function upload() {
  const file = $("#file").files[0];
  if (!file) throw new Error("choose a file to upload first");
  if (state.maxUpload && file.size > state.maxUpload) {
    throw new Error(`${file.name} is larger than the limit of ${megabytes(state.maxUpload)}: split it into smaller files and upload each`);
  }
  ["#mapping", "#preview", "#progress", "#result"].forEach((s) => { $(s).hidden = true; });
  const answer = await api("POST", "/api/uploads?name=" + encodeURIComponent(file.name), file, true);
  state.upload = answer;
  const remembered = new Map((answer.remembered || []).map((m) => [m.header, m.field]));
  $("#mapping-source").textContent = answer.remembered ? "(remembered from your last file with these columns)" : "(suggested: check and change)";
  const body = $("#mapping-table tbody");
  body.replaceChildren(...answer.suggestions.map((s, i) => {
    const select = el("select", null, { class: "field", "data-header": s.header });
    answer.fields.forEach((f) => select.append(el("option", f, { value: f })));
    select.value = remembered.get(s.header) || fieldName(s.field);
    const samples = answer.samples.map((r) => r[i]).filter(Boolean).slice(0, 3).join(" · ");
    const why = el("span", `${Math.round(s.confidence * 100)}% sure: ${reason(s.reason)}`, { class: "confidence" });
    return row([s.header, samples, select, why]);
  }));
  $("#mapping").hidden = false;
}

function megabytes(bytes) { return bytes >= 1048576 ? Math.floor(bytes / 1048576) + " MiB" : bytes + " bytes"; }

// A Field's serde form ("name", {"attribute": "City"}) as the menus spell it.
function fieldName(field) {
  if (typeof field === "string") return field;
  if (field.attribute !== undefined) return "attr:" + field.attribute;
  return "ignore";
}

function reason(r) {
  switch (r.kind) {
    case "exact": return "its own name";
    case "alias": return "a known name for it";
    case "fuzzy": return `close to "${r.near}" (${r.distance} edit${r.distance === 1 ? "" : "s"})`;
    case "values": return `the values look like ${r.looks_like}s (${Math.round(r.share * 100)}%)`;
    default: return "no match: ignored";
  }
}

function mapping() {
  return [...document.querySelectorAll("#mapping-table select.field")].map((s) => ({ header: s.dataset.header, field: s.value }));
}

async function preview() {
  const answer = await api("POST", `/api/uploads/${state.upload.upload_id}/preview`, { mapping: mapping() });
  counts("#preview-counts", answer.report, "preview");
  list("#preview-warnings", answer.report.warnings);
  $("#preview-changes tbody").replaceChildren(...answer.changes.map((c) => row([c.row, c.phone, c.outcome,
    c.changes.map((f) => `${f.field}: ${f.before ?? "∅"} → ${f.after ?? "∅"}`).join("; ")])));
  $("#preview").hidden = false;
}

async function startImport() {
  const { job_id } = await api("POST", `/api/uploads/${state.upload.upload_id}/import`, { mapping: mapping() });
  $("#mapping").hidden = $("#preview").hidden = true;
  $("#progress").hidden = false;
  $("#progress-file").textContent = state.upload.file_name;
  for (;;) {
    const job = await api("GET", "/api/jobs/" + job_id);
    const total = job.total_rows ?? 0;
    $("#progress-bar").max = Math.max(total, 1);
    $("#progress-bar").value = job.rows_done;
    $("#progress-text").textContent = `${job.rows_done} of ${job.total_rows ?? "?"} rows`;
    if (job.state !== "running") return showResult(job);
    await new Promise((done) => setTimeout(done, 250));
  }
}

function showResult(job) {
  $("#progress-text").textContent += job.state === "done" ? ": done" : ": stopped";
  $("#result").hidden = false;
  $("#result-id").textContent = job.import_id ? `(import #${job.import_id})` : "";
  const report = job.result || { rows: 0, added: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0, not_mobile: 0, warnings: [], failures: [] };
  counts("#result-counts", report, "count");
  list("#result-warnings", report.warnings);
  $("#result-failures tbody").replaceChildren(...report.failures.map((f) => row([f.row, f.code, f.message])));
  $("#result-downloads").replaceChildren(...(job.import_id ? downloadLinks(job.import_id, report) : []));
  if (job.error) showError(job.error);
}

async function loadHistory() {
  const imports = await api("GET", "/api/imports");
  $("#history-table tbody").replaceChildren(...imports.map((i) => {
    const links = el("span");
    links.append(...downloadLinks(i.id, i));
    return row([i.id, i.file_name + (i.error ? " (stopped: " + i.error + ")" : ""), i.started_at.replace("T", " ").slice(0, 19),
      i.rows, i.added, i.updated, i.unchanged, i.failed, links]);
  }));
}

// ------------------------------------------------------------ contacts

function splitTags(selector) { return $(selector).value.split(",").map((s) => s.trim()).filter(Boolean); }

// The form as a Filter in its serde form (README "Export and segments").
function filterOfForm() {
  const all = [];
  const value = (s) => $(s).value.trim();
  if (splitTags("#f-any-tag").length) all.push({ any_tag: splitTags("#f-any-tag") });
  if (splitTags("#f-all-tags").length) all.push({ all_tags: splitTags("#f-all-tags") });
  if (splitTags("#f-no-tag").length) all.push({ no_tag: splitTags("#f-no-tag") });
  if (value("#f-first-message")) all.push({ first_message: value("#f-first-message") });
  if (value("#f-source")) all.push({ source: value("#f-source") });
  if (value("#f-attr-name")) {
    all.push(value("#f-attr-value") ? { attribute_equals: { attribute: value("#f-attr-name"), value: value("#f-attr-value") } }
      : { attribute_set: value("#f-attr-name") });
  }
  if (value("#f-name")) all.push({ name_contains: value("#f-name") });
  if (value("#f-status")) all.push({ status: { status: value("#f-status"), at: new Date().toISOString() } });
  const optIn = { yes: true, no: false, unknown: null };
  if (value("#f-opt-in")) all.push({ opt_in: optIn[value("#f-opt-in")] });
  if (value("#f-state")) all.push({ state: value("#f-state") === "none" ? null : value("#f-state") });
  const since = value("#f-created-since"), before = value("#f-created-before");
  if (since || before) all.push({ created_at: { from: since ? since + "T00:00:00Z" : null, to: before ? before + "T00:00:00Z" : null } });
  return all.length ? { all } : { all: [] };
}

async function loadContacts() {
  const page = await api("POST", "/api/contacts", { filter: state.filter, offset: state.offset, limit: 50 });
  $("#filter-json").textContent = JSON.stringify(state.filter);
  const last = Math.min(page.offset + page.contacts.length, page.total);
  $("#contacts-total").textContent = `${page.total} contacts` + (page.total ? ` (${page.offset + 1} to ${last})` : "");
  $("#prev-page").disabled = page.offset === 0;
  $("#next-page").disabled = last >= page.total;
  $("#contacts-table tbody").replaceChildren(...page.contacts.map((c) => row([c.phone, c.name, (c.tags || []).join(" | "),
    c.source, c.first_message, Object.entries(c.attributes || {}).map(([k, v]) => `${k}: ${v}`).join(", "),
    c.opt_in === true ? "yes" : c.opt_in === false ? "no" : "", c.status, c.state, (c.created_at || "").slice(0, 10)])));
}

async function applyFilter() {
  state.filter = filterOfForm();
  state.offset = 0;
  await loadContacts();
}

async function renderTemplate() {
  const answer = await api("POST", "/api/contacts/render", { filter: filterOfForm(), template: $("#template").value });
  list("#messages", answer.messages.map((m) => `${m.phone}: ${m.text}`));
}

async function init() {
  document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => show(b.dataset.page)));
  $("#token-form").addEventListener("submit", guarded(signIn));
  $("#catalog-form").addEventListener("submit", guarded(addCatalog));
  $("#upload-form").addEventListener("submit", guarded(upload));
  $("#preview-button").addEventListener("click", guarded(preview));
  $("#import-button").addEventListener("click", guarded(startImport));
  $("#filter-form").addEventListener("submit", guarded(applyFilter));
  $("#export-button").addEventListener("click", guarded(() => download("POST", "/api/contacts/export", "segment.csv", { filter: filterOfForm() })));
  $("#prev-page").addEventListener("click", guarded(() => { state.offset = Math.max(0, state.offset - 50); return loadContacts(); }));
  $("#next-page").addEventListener("click", guarded(() => { state.offset += 50; return loadContacts(); }));
  $("#template-form").addEventListener("submit", guarded(renderTemplate));
  try {
    const config = await (await fetch("/api/config")).json();
    state.maxUpload = config.max_upload_bytes;
    $("#limit").textContent = `CSV, .xlsx, .xls or .ods, up to ${megabytes(state.maxUpload)}`;
  } catch (e) { showError("the service cannot be reached: " + e.message); }
  if (state.token) { $("#token").value = state.token; guarded(signIn)(); }
}

init();
