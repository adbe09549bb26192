//! Route handlers: parse, call the library off the async runtime, format.

use std::collections::BTreeMap;

use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::openapi::{
    BadRequest, Conflict, FileBody, FileForm, Forbidden, NotFound, PayloadTooLarge,
    PreconditionFailed, ServiceErrors, Unauthorized, Unprocessable, UnsupportedMediaType,
};
use super::{ApiError, AppState};
use crate::auth::Role;
use crate::formats::export::{ExportFilter, ExportFormat};
use crate::import::{self, ImportFormat, ImportMode, ImportOptions, ImportReport};
use crate::lang::LangTag;
use crate::model::{check_name, comma_list, now_rfc3339, Concept, TermStatus, DEFAULT_COLLECTION};
use crate::search::{self, Mode, SearchRequest, SearchResponse};
use crate::store::StoreError;

type Data = web::Data<AppState>;

/// The web page for translators
///
/// Term search, TM lookup and concordance in the browser.
#[utoipa::path(
    tag = "service",
    responses((status = 200, description = "An HTML page.", body = String, content_type = "text/html"))
)]
#[get("/")]
pub(super) async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .body(include_str!("page.html"))
}

/// Liveness
///
/// 200 while the server serves.
#[utoipa::path(
    tag = "service",
    responses((status = 200, description = "Serving.", body = Health, example = json!({"status": "ok"})))
)]
#[get("/healthz")]
pub(super) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Splits `a,b` lists, dropping empty items.
pub(super) fn list(value: &Option<String>) -> Vec<String> {
    comma_list(value.as_deref())
}

/// The body of `/healthz`.
#[derive(Serialize, ToSchema)]
pub(super) struct Health {
    /// `ok`.
    status: &'static str,
}

fn lang_keys(values: &[String]) -> Result<Vec<String>, ApiError> {
    values
        .iter()
        .map(|v| {
            LangTag::parse(v)
                .map(|t| t.primary)
                .map_err(|e| ApiError::bad_request(e.to_string()))
        })
        .collect()
}

/// Query parameters of a term search.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchParams {
    /// The query text.
    q: Option<String>,
    /// Only match terms of this language (BCP 47; default: all).
    lang: Option<String>,
    /// Languages to return besides the matched ones, comma-separated (default: all).
    #[param(example = "en,es")]
    target: Option<String>,
    /// Only concepts with one of these subjects, comma-separated.
    subject: Option<String>,
    /// Only terms with one of these statuses, comma-separated.
    #[param(example = "preferred,admitted")]
    status: Option<String>,
    /// `auto` (analysed, typo-tolerant fallback), `exact`, `prefix` or `fuzzy`.
    #[param(value_type = Option<Mode>, inline)]
    mode: Option<String>,
    /// Page size (default 20).
    limit: Option<usize>,
    /// Hits to skip.
    offset: Option<usize>,
    /// Collections to search, comma-separated, in priority order (default: all).
    collection: Option<String>,
}

/// Term search
///
/// Concepts whose terms match `q`, best first.
#[utoipa::path(
    tag = "termbase",
    params(SearchParams),
    security((), ("api_key" = ["reader"])),
    responses(
        (status = 200, description = "The hits.", body = SearchResponse, headers(("X-Cache" = String, description = "`hit` when the answer comes from the response cache of the current commit, else `miss`."))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        ServiceErrors
    )
)]
#[get("/terms/search")]
pub(super) async fn search_terms(
    state: Data,
    req: HttpRequest,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, ApiError> {
    state.require(&req, Role::Reader)?;
    let request = search_request(params.into_inner())?;
    // the same query on the same commit has the same answer
    let generation = state.store.searcher().generation().generation_id();
    let key = req.query_string().to_string();
    if let Some(body) = state.search_cache.0.get(generation, &key) {
        return Ok(HttpResponse::Ok()
            .content_type("application/json")
            .insert_header(("X-Cache", "hit"))
            .body(body));
    }
    let store = state.store.clone();
    let body = super::compute(super::Work::Search, move || {
        search_body(&store.searcher(), store.fields(), &request)
    })
    .await??;
    state.search_cache.0.put(generation, key, body.clone());
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("X-Cache", "miss"))
        .body(body))
}

fn search_request(p: SearchParams) -> Result<SearchRequest, ApiError> {
    let statuses = list(&p.status)
        .iter()
        .map(|s| {
            s.parse::<TermStatus>()
                .map_err(|e| ApiError::bad_request(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SearchRequest {
        q: p.q.unwrap_or_default(),
        lang: p
            .lang
            .as_deref()
            .filter(|l| !l.is_empty())
            .map(LangTag::parse)
            .transpose()
            .map_err(|e| ApiError::bad_request(e.to_string()))?,
        targets: lang_keys(&list(&p.target))?,
        subjects: list(&p.subject),
        statuses,
        mode: p.mode.as_deref().unwrap_or("auto").parse()?,
        limit: p.limit.unwrap_or(search::DEFAULT_LIMIT),
        offset: p.offset.unwrap_or(0),
        collections: list(&p.collection),
    })
}

/// The response body of a search on the commit `searcher` reads.
fn search_body(
    searcher: &tantivy::Searcher,
    fields: &crate::store::Fields,
    request: &SearchRequest,
) -> Result<web::Bytes, ApiError> {
    Ok(web::Bytes::from(search::search_json_in(
        searcher, fields, request,
    )?))
}

/// Answers the cached searches again on each new commit before it is published (see
/// [`super::cache`]), within `budget`, on all cores at the background priority.
pub(super) fn warm_search_cache_on_commit(
    store: &crate::store::Store,
    cache: std::sync::Arc<super::cache::ResponseCache>,
    budget: std::time::Duration,
) {
    let fields = store.fields().clone();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    store.set_warmer(std::sync::Arc::new(move |searcher: &tantivy::Searcher| {
        let started = std::time::Instant::now();
        let generation = searcher.generation().generation_id();
        let warmed = cache.warm(generation, threads, budget, |query_string| {
            let params = web::Query::<SearchParams>::from_query(query_string).ok()?;
            let request = search_request(params.into_inner()).ok()?;
            search_body(searcher, &fields, &request).ok()
        });
        if warmed.held > 0 {
            tracing::info!(
                generation,
                answered = warmed.answered,
                held = warmed.held,
                ms = started.elapsed().as_millis() as u64,
                "search cache warmed for the new commit"
            );
        }
    }));
}

/// The collection an item belongs to.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct CollectionParam {
    /// The collection (default `default`).
    collection: Option<String>,
}

impl CollectionParam {
    pub(super) fn name(&self) -> Result<String, ApiError> {
        let name = self
            .collection
            .clone()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| DEFAULT_COLLECTION.to_string());
        check_name("collection", &name).map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(name)
    }
}

fn concept_response(status: StatusCode, concept: &Concept) -> HttpResponse {
    let location = format!(
        "/api/v1/concepts/{}?collection={}",
        urlencode(&concept.id),
        urlencode(&concept.collection)
    );
    let mut builder = HttpResponse::build(status);
    builder.insert_header((header::ETAG, format!("\"{}\"", concept.version)));
    if status == StatusCode::CREATED {
        builder.insert_header((header::LOCATION, location));
    }
    builder.json(concept)
}

pub(super) fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Get a concept
#[utoipa::path(
    tag = "termbase",
    params(("id" = String, Path, description = "Concept id, unique within its collection."), CollectionParam),
    security((), ("api_key" = ["reader"])),
    responses(
        (status = 200, description = "The concept.", body = Concept, headers(("ETag" = String, description = "The concept's version, quoted."))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        ServiceErrors
    )
)]
#[get("/concepts/{id}")]
pub(super) async fn get_concept(
    state: Data,
    req: HttpRequest,
    id: web::Path<String>,
    param: web::Query<CollectionParam>,
) -> Result<HttpResponse, ApiError> {
    state.require(&req, Role::Reader)?;
    let collection = param.name()?;
    let store = state.store.clone();
    let id = id.into_inner();
    let (c, i) = (collection.clone(), id.clone());
    match web::block(move || store.get(&c, &i)).await?? {
        Some(concept) => Ok(concept_response(StatusCode::OK, &concept)),
        None => Err(ApiError::not_found(format!(
            "no concept {id:?} in collection {collection:?}"
        ))),
    }
}

/// The version an `If-Match` header asks for (`3`, `"3"` or `W/"3"`); `None` for `*` or absent.
fn if_match(req: &HttpRequest) -> Result<Option<u64>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::bad_request("If-Match must be a version number"))?
        .trim();
    if text == "*" {
        return Ok(None);
    }
    let bare = text.trim_start_matches("W/").trim_matches('"');
    bare.parse::<u64>()
        .map(Some)
        .map_err(|_| ApiError::bad_request(format!("If-Match {text:?} is not a version number")))
}

fn prepare(mut concept: Concept, id: &str, collection: &str) -> Result<Concept, ApiError> {
    if !concept.id.is_empty() && concept.id != id {
        return Err(ApiError::bad_request(format!(
            "the body's id {:?} differs from the path's {id:?}",
            concept.id
        )));
    }
    if concept.collection != DEFAULT_COLLECTION && concept.collection != collection {
        return Err(ApiError::bad_request(format!(
            "the body's collection {:?} differs from ?collection={collection:?}",
            concept.collection
        )));
    }
    concept.id = id.to_string();
    concept.collection = collection.to_string();
    concept
        .normalize()
        .map_err(|e| ApiError::unprocessable(e.to_string()))
}

/// Create or replace a concept
///
/// The body's `id` and `collection`, when given, must agree with the path and `?collection=`.
/// An unchanged concept keeps its version.
#[utoipa::path(
    tag = "termbase",
    params(("id" = String, Path, description = "Concept id, unique within its collection."), CollectionParam, ("If-Match" = Option<String>, Header, description = "Version the change expects (`3`, `\"3\"` or `W/\"3\"`); `*` or absent: any.")),
    request_body = Concept,
    security(("api_key" = ["editor"])),
    responses(
        (status = 200, description = "Replaced (or unchanged).", body = Concept, headers(("ETag" = String, description = "The concept's version, quoted."))),
        (status = 201, description = "Created.", body = Concept, headers(("ETag" = String, description = "The concept's version, quoted."))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 412, response = PreconditionFailed),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        ServiceErrors
    )
)]
#[put("/concepts/{id}")]
pub(super) async fn put_concept(
    state: Data,
    req: HttpRequest,
    id: web::Path<String>,
    param: web::Query<CollectionParam>,
    body: web::Json<Concept>,
) -> Result<HttpResponse, ApiError> {
    state.require(&req, Role::Editor)?;
    let collection = param.name()?;
    let expected = if_match(&req)?;
    let concept = prepare(body.into_inner(), &id, &collection)?;
    let store = state.store.clone();
    let (status, saved) = web::block(move || {
        store.write(move |txn| {
            let current = txn.get(&concept.collection, &concept.id)?;
            if let Some(expected) = expected {
                let found = current.as_ref().map_or(0, |c| c.version);
                if found != expected {
                    return Err(StoreError::VersionMismatch {
                        current: found,
                        expected,
                    });
                }
            }
            let (status, version) = match &current {
                Some(c) if c.same_content(&concept) => return Ok((StatusCode::OK, c.clone())),
                Some(c) => (StatusCode::OK, c.version + 1),
                None => (StatusCode::CREATED, 1),
            };
            let saved = Concept {
                version,
                updated_at: now_rfc3339(),
                ..concept
            };
            txn.put(saved.clone())?;
            Ok((status, saved))
        })
    })
    .await??;
    Ok(concept_response(status, &saved))
}

/// Create a concept
///
/// The id is generated when the body has none.
#[utoipa::path(
    tag = "termbase",
    params(CollectionParam),
    request_body = Concept,
    security(("api_key" = ["editor"])),
    responses(
        (status = 201, description = "Created.", body = Concept, headers(
            ("Location" = String, description = "The concept's URL."),
            ("ETag" = String, description = "The concept's version, quoted.")
        )),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        ServiceErrors
    )
)]
#[post("/concepts")]
pub(super) async fn create_concept(
    state: Data,
    req: HttpRequest,
    param: web::Query<CollectionParam>,
    body: web::Json<Concept>,
) -> Result<HttpResponse, ApiError> {
    state.require(&req, Role::Editor)?;
    let collection = param.name()?;
    let mut concept = body.into_inner();
    if concept.id.is_empty() {
        concept.id = format!("c-{}", hex::encode(rand::random::<[u8; 8]>()));
    }
    let id = concept.id.clone();
    let concept = prepare(concept, &id, &collection)?;
    let store = state.store.clone();
    let saved = web::block(move || {
        store.write(move |txn| {
            if txn.get(&concept.collection, &concept.id)?.is_some() {
                return Err(StoreError::Rejected(format!(
                    "concept {:?} already exists in collection {:?}; use PUT to replace it",
                    concept.id, concept.collection
                )));
            }
            let saved = Concept {
                version: 1,
                updated_at: now_rfc3339(),
                ..concept
            };
            txn.put(saved.clone())?;
            Ok(saved)
        })
    })
    .await?
    .map_err(|e| match e {
        StoreError::Rejected(msg) => ApiError::new(StatusCode::CONFLICT, msg),
        other => other.into(),
    })?;
    Ok(concept_response(StatusCode::CREATED, &saved))
}

/// Delete a concept
#[utoipa::path(
    tag = "termbase",
    params(("id" = String, Path, description = "Concept id, unique within its collection."), CollectionParam, ("If-Match" = Option<String>, Header, description = "Version the change expects (`3`, `\"3\"` or `W/\"3\"`); `*` or absent: any.")),
    security(("api_key" = ["editor"])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        ServiceErrors
    )
)]
#[delete("/concepts/{id}")]
pub(super) async fn delete_concept(
    state: Data,
    req: HttpRequest,
    id: web::Path<String>,
    param: web::Query<CollectionParam>,
) -> Result<HttpResponse, ApiError> {
    state.require(&req, Role::Editor)?;
    let collection = param.name()?;
    let expected = if_match(&req)?;
    let store = state.store.clone();
    let (c, i) = (collection.clone(), id.clone());
    let deleted = web::block(move || {
        store.write(move |txn| {
            if let (Some(expected), Some(current)) = (expected, txn.get(&c, &i)?) {
                if current.version != expected {
                    return Err(StoreError::VersionMismatch {
                        current: current.version,
                        expected,
                    });
                }
            }
            txn.delete(&c, &i)
        })
    })
    .await??;
    match deleted {
        Some(_) => Ok(HttpResponse::NoContent().finish()),
        None => Err(ApiError::not_found(format!(
            "no concept {:?} in collection {collection:?}",
            id.as_str()
        ))),
    }
}

/// Query parameters of an import.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportParams {
    /// `tbx`, `tmx`, `xliff`, `csv`, `tsv` or `xlsx`; guessed from the file name, content type or
    /// content when absent.
    #[param(value_type = Option<ImportFormat>, inline)]
    format: Option<String>,
    /// XLSX: the worksheet to read (default: the first).
    sheet: Option<String>,
    /// `merge` (default) or `replace` (the file becomes the collection).
    #[param(value_type = Option<ImportMode>, inline)]
    mode: Option<String>,
    /// `true`: report what would change, change nothing.
    #[param(value_type = Option<bool>)]
    dry_run: Option<String>,
    /// The collection written (created on first use; default `default`).
    collection: Option<String>,
}

fn truthy(value: &Option<String>) -> Result<bool, ApiError> {
    match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("") | Some("false") | Some("0") | Some("no") => Ok(false),
        Some("true") | Some("1") | Some("yes") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "dry_run={other:?}: expected true or false"
        ))),
    }
}

/// Reads the import body: raw bytes, or the multipart field `file` (with its file name).
pub(super) async fn read_upload(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<(Vec<u8>, Option<String>), ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the file is larger than the limit of {limit} bytes"),
        )
    };
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        let mut body = Vec::new();
        while let Some(chunk) = payload.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::bad_request(format!("reading the body: {e}")))?;
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        return Ok((body, None));
    }
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload);
    while let Some(field) = multipart.next().await {
        let mut field =
            field.map_err(|e| ApiError::bad_request(format!("reading the multipart body: {e}")))?;
        let is_file = field
            .content_disposition()
            .and_then(|cd| cd.get_name())
            .is_some_and(|n| n == "file");
        let filename = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_string);
        let mut body = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk
                .map_err(|e| ApiError::bad_request(format!("reading the multipart body: {e}")))?;
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            if is_file {
                body.extend_from_slice(&chunk);
            }
        }
        if is_file {
            return Ok((body, filename));
        }
    }
    Err(ApiError::bad_request(
        "the multipart body has no field named `file`",
    ))
}

/// Import a file
///
/// A TBX, CSV, TSV or XLSX glossary into the termbase, or a TMX file (or an XLIFF file's translated
/// segments) into the translation memory,
/// as the raw body or as the multipart field `file`. Atomic: applied whole or not at all.
#[utoipa::path(
    tag = "files",
    params(ImportParams),
    request_body(description = "The file.", content(
        (inline(FileBody) = "application/x-tbx+xml"),
        (inline(FileBody) = "application/x-tmx+xml"),
        (inline(FileBody) = "application/xliff+xml"),
        (inline(FileBody) = "text/csv"),
        (inline(FileBody) = "text/tab-separated-values"),
        (inline(FileBody) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (inline(FileBody) = "application/octet-stream"),
        (inline(FileForm) = "multipart/form-data"),
    )),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "What the import did (or would do).", body = ImportReport),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = Unprocessable),
        ServiceErrors
    )
)]
#[post("/import")]
pub(super) async fn import_file(
    state: Data,
    req: HttpRequest,
    params: web::Query<ImportParams>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    state.require(&req, Role::Admin)?;
    let p = params.into_inner();
    let collection = CollectionParam {
        collection: p.collection.clone(),
    }
    .name()?;
    let mode: ImportMode = p
        .mode
        .as_deref()
        .unwrap_or("merge")
        .parse()
        .map_err(ApiError::bad_request)?;
    let dry_run = truthy(&p.dry_run)?;
    let (bytes, filename) = read_upload(&req, payload, state.config.max_import_bytes).await?;
    if bytes.is_empty() {
        return Err(ApiError::unprocessable("the file is empty"));
    }
    let format = match p.format.as_deref().filter(|f| !f.is_empty()) {
        Some(name) => ImportFormat::from_name(name).ok_or_else(|| {
            ApiError::bad_request(format!(
                "format {name:?} is not supported (expected csv, tsv, tbx, tmx, xliff or xlsx)"
            ))
        })?,
        None => guess_format(&req, filename.as_deref(), &bytes).ok_or_else(|| {
            ApiError::bad_request(
                "cannot tell the file's format: add ?format=csv, tsv, tbx, tmx, xliff or xlsx",
            )
        })?,
    };
    let opts = ImportOptions {
        collection: collection.clone(),
        mode,
        dry_run,
    };
    if format.is_memory() {
        return super::tm::import_memory(state, format, bytes, opts, filename).await;
    }
    let store = state.store.clone();
    let sheet = p.sheet.filter(|s| !s.is_empty());
    let report = super::in_background(move || -> Result<_, ApiError> {
        let progress: import::Progress = std::sync::Arc::new(move |done, total| {
            if total > 1000 {
                tracing::info!(collection = %collection, done, total, "import progress");
            }
        });
        Ok(import::import(
            &store,
            bytes,
            format,
            sheet.as_deref(),
            &opts,
            Some(progress),
        )?)
    })
    .await??;
    Ok(HttpResponse::Ok().json(report))
}

fn guess_format(req: &HttpRequest, filename: Option<&str>, bytes: &[u8]) -> Option<ImportFormat> {
    if let Some(f) = filename.and_then(|n| ImportFormat::from_path(std::path::Path::new(n))) {
        return Some(f);
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("text/csv") {
        return Some(ImportFormat::Csv);
    }
    if content_type.starts_with("text/tab-separated-values") {
        return Some(ImportFormat::Tsv);
    }
    if content_type.starts_with("application/x-tbx") || content_type.starts_with("application/tbx")
    {
        return Some(ImportFormat::Tbx);
    }
    if content_type.starts_with("application/x-tmx") {
        return Some(ImportFormat::Tmx);
    }
    if content_type.starts_with("application/xliff")
        || content_type.starts_with("application/x-xliff")
    {
        return Some(ImportFormat::Xliff);
    }
    ImportFormat::sniff(bytes)
}

/// Counts of one language.
#[derive(Serialize, ToSchema)]
struct LangCounts {
    /// Terms.
    terms: u64,
    /// Translation units with a text in the language.
    units: u64,
}

/// Counts of the termbase and the translation memory.
#[derive(Serialize, ToSchema)]
struct StatsBody {
    /// Concepts.
    concepts: u64,
    /// Terms.
    terms: u64,
    /// Translation units.
    units: u64,
    /// Counts by language key.
    languages: BTreeMap<String, LangCounts>,
}

/// Several collections.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct CollectionsParam {
    /// Collections, comma-separated, earlier ones ranking first (default: all).
    pub(super) collection: Option<String>,
}

/// Counts
#[utoipa::path(
    tag = "collections",
    params(CollectionsParam),
    security((), ("api_key" = ["reader"])),
    responses(
        (status = 200, description = "The counts.", body = StatsBody),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        ServiceErrors
    )
)]
#[get("/stats")]
pub(super) async fn stats(
    state: Data,
    req: HttpRequest,
    param: web::Query<CollectionsParam>,
) -> Result<HttpResponse, ApiError> {
    state.require(&req, Role::Reader)?;
    let collections = list(&param.collection);
    let total = state.store.payload().stats.total(&collections);
    let tm = state.tm.stats().total(&collections);
    let mut languages: BTreeMap<String, LangCounts> = total
        .languages
        .into_iter()
        .map(|(lang, terms)| (lang, LangCounts { terms, units: 0 }))
        .collect();
    for (lang, units) in tm.languages {
        languages
            .entry(lang)
            .or_insert(LangCounts { terms: 0, units: 0 })
            .units = units;
    }
    Ok(HttpResponse::Ok().json(StatsBody {
        concepts: total.concepts,
        terms: total.terms,
        units: tm.units,
        languages,
    }))
}

/// A collection and its counts.
#[derive(Serialize, ToSchema)]
struct CollectionBody {
    /// Name.
    name: String,
    /// Concepts.
    concepts: u64,
    /// Translation units.
    units: u64,
}

/// List collections
#[utoipa::path(
    tag = "collections",
    security((), ("api_key" = ["reader"])),
    responses(
        (status = 200, description = "Every collection with concepts or units.", body = Vec<CollectionBody>),
        (status = 401, response = Unauthorized),
        ServiceErrors
    )
)]
#[get("/collections")]
pub(super) async fn list_collections(
    state: Data,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    state.require(&req, Role::Reader)?;
    let mut by_name: BTreeMap<String, CollectionBody> = BTreeMap::new();
    for (name, c) in state.store.payload().stats.collections {
        let body = CollectionBody {
            name: name.clone(),
            concepts: c.concepts,
            units: 0,
        };
        by_name.insert(name, body);
    }
    for (name, c) in state.tm.stats().collections {
        let entry = by_name.entry(name.clone()).or_insert(CollectionBody {
            name,
            concepts: 0,
            units: 0,
        });
        entry.units = c.units;
    }
    let body: Vec<CollectionBody> = by_name.into_values().collect();
    Ok(HttpResponse::Ok().json(body))
}

/// Delete a collection
///
/// Its concepts and its translation units.
#[utoipa::path(
    tag = "collections",
    params(("name" = String, Path, description = "The collection.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        ServiceErrors
    )
)]
#[delete("/collections/{name}")]
pub(super) async fn delete_collection(
    state: Data,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.require(&req, Role::Admin)?;
    let name = name.into_inner();
    let store = state.store.clone();
    let n = name.clone();
    let tm = state.tm.clone();
    let removed = web::block(move || -> Result<_, StoreError> {
        let n2 = n.clone();
        let units = tm.write(move |txn| txn.delete_collection(&n2))?;
        let concepts = store.write(move |txn| {
            if txn.concepts_in(&n)?.is_empty() {
                return Ok(None);
            }
            txn.delete_collection(&n).map(Some)
        })?;
        Ok(concepts.or((units > 0).then_some(units)))
    })
    .await??;
    match removed {
        Some(_) => Ok(HttpResponse::NoContent().finish()),
        None => Err(ApiError::not_found(format!("no collection {name:?}"))),
    }
}

/// Query parameters of an export.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportParams {
    /// `tbx` (TBX 2019, default), `tbx-v2`, `csv` (the termbase) or `tmx` (the translation memory).
    #[param(value_type = Option<ExportFormatName>, inline)]
    format: Option<String>,
    /// Languages written, comma-separated (default: all).
    lang: Option<String>,
    /// Only concepts with one of these subjects, comma-separated.
    subject: Option<String>,
    /// Collections written, comma-separated (default: all).
    collection: Option<String>,
}

/// Names of `?format=` of an export.
#[derive(ToSchema)]
#[allow(dead_code)] // only described, never built: the handler parses the name
enum ExportFormatName {
    #[schema(rename = "tbx")]
    Tbx,
    #[schema(rename = "tbx-v2")]
    TbxV2,
    #[schema(rename = "csv")]
    Csv,
    #[schema(rename = "tmx")]
    Tmx,
}

/// A `Write` that hands 64 KiB chunks to the response stream; fails once the client is gone.
struct ChunkWriter {
    buf: Vec<u8>,
    tx: tokio::sync::mpsc::Sender<Result<web::Bytes, std::io::Error>>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = web::Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

impl std::io::Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 * 1024 {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Export
///
/// Collections of the termbase as TBX or CSV, or of the translation memory as TMX, streamed.
#[utoipa::path(
    tag = "files",
    params(ExportParams),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The file, as an attachment.", content(
            (inline(FileBody) = "application/x-tbx+xml"),
            (inline(FileBody) = "text/csv"),
            (inline(FileBody) = "application/x-tmx+xml"),
        ), headers(("Content-Disposition" = String, description = "`attachment; filename=\"hexaglot.tbx\"` (or `.csv`, `.tmx`)."))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        ServiceErrors
    )
)]
#[get("/export")]
pub(super) async fn export_file(
    state: Data,
    req: HttpRequest,
    params: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    state.require(&req, Role::Admin)?;
    let p = params.into_inner();
    let name = p.format.as_deref().unwrap_or("tbx");
    // `None`: TMX, the translation memory
    let format = match name.eq_ignore_ascii_case("tmx") {
        true => None,
        false => Some(ExportFormat::from_name(name).ok_or_else(|| {
            ApiError::bad_request(format!(
                "export format {name:?} is not supported (expected tbx, tbx-v2, csv or tmx)"
            ))
        })?),
    };
    let filter = ExportFilter {
        langs: lang_keys(&list(&p.lang))?,
        subjects: list(&p.subject),
    };
    let collections = list(&p.collection);
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let store = state.store.clone();
    let tm = state.tm.clone();
    let errors = tx.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let out = ChunkWriter {
            buf: Vec::new(),
            tx,
        };
        let written = match format {
            Some(format) => crate::export::export(&store, &collections, format, &filter, out),
            None => crate::tm::export_tmx(&tm, &collections, &filter.langs, out),
        };
        if let Err(e) = written {
            tracing::warn!(error = %e, "export stopped");
            let _ = errors.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok(HttpResponse::Ok()
        .content_type(format.map_or("application/x-tmx+xml", |f| f.content_type()))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"hexaglot.{}\"",
                format.map_or("tmx", |f| f.extension())
            ),
        ))
        .streaming(stream))
}
