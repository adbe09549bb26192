//! Translation-memory routes: units, fuzzy lookup, concordance, and the TMX branch of import.

use actix_web::http::{header, StatusCode};
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::openapi::{
    BadRequest, Forbidden, NotFound, PayloadTooLarge, ServiceErrors, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use super::routes::{list, CollectionParam, CollectionsParam};
use super::{ApiError, AppState};
use crate::auth::Role;
use crate::import::{ImportFormat, ImportOptions, Progress};
use crate::lang::LangTag;
use crate::model::TranslationUnit;
use crate::search::tm::{
    concordance, lookup, ConcordanceRequest, ConcordanceResponse, LookupRequest, LookupResponse,
    DEFAULT_CONCORDANCE_LIMIT, DEFAULT_LOOKUP_LIMIT, DEFAULT_MIN_SCORE,
};
use crate::tm::{add_units, normalize_unit, Stored};

type Data = web::Data<AppState>;

fn parse_lang(value: &str, what: &str) -> Result<LangTag, ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::bad_request(format!("{what} is required")));
    }
    LangTag::parse(value).map_err(|e| ApiError::bad_request(format!("{what}: {e}")))
}

fn unit_location(unit: &TranslationUnit) -> String {
    format!(
        "/api/v1/tm/units/{}?collection={}",
        super::routes::urlencode(&unit.id),
        super::routes::urlencode(&unit.collection)
    )
}

/// The body of `POST /tm/units`: one unit, an array of units, or `{"units": [...]}`.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
enum UnitsBody {
    /// An array of units.
    Many(Vec<TranslationUnit>),
    /// `{"units": [...]}`.
    Wrapped {
        /// The units.
        units: Vec<TranslationUnit>,
    },
    /// One unit.
    One(Box<TranslationUnit>),
}

/// What adding units did.
#[derive(Serialize, ToSchema)]
struct AddResponse {
    /// Units stored.
    added: u64,
    /// Units already stored (same collection and id).
    duplicates: u64,
    /// Every unit of the request as stored, with its id.
    units: Vec<TranslationUnit>,
}

/// Add translation units
///
/// One unit, an array of units, or `{"units": [...]}`; a unit's id is derived from its content
/// when it has none. 201 when some unit is new, 200 when all were stored already.
#[utoipa::path(
    tag = "translation-memory",
    params(CollectionParam),
    request_body = UnitsBody,
    security(("api_key" = ["editor"])),
    responses(
        (status = 201, description = "Some units were added.", body = AddResponse, headers(
            ("Location" = String, description = "The unit's URL, when the request had one unit.")
        )),
        (status = 200, description = "Every unit was stored already.", body = AddResponse),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        ServiceErrors
    )
)]
#[post("/tm/units")]
pub(super) async fn tm_add_units(
    state: Data,
    req: HttpRequest,
    param: web::Query<CollectionParam>,
    body: web::Json<UnitsBody>,
) -> Result<HttpResponse, ApiError> {
    let role = state.require(&req, Role::Editor)?;
    let collection = param.name()?;
    let units = match body.into_inner() {
        UnitsBody::One(u) => vec![*u],
        UnitsBody::Many(units) | UnitsBody::Wrapped { units } => units,
    };
    if units.is_empty() {
        return Err(ApiError::bad_request("no units given"));
    }
    let mut normalized = Vec::with_capacity(units.len());
    for (i, mut unit) in units.into_iter().enumerate() {
        if unit.collection != crate::model::DEFAULT_COLLECTION && unit.collection != collection {
            return Err(ApiError::bad_request(format!(
                "unit {i}: the body's collection {:?} differs from ?collection={collection:?}",
                unit.collection
            )));
        }
        unit.origin.get_or_insert_with(|| format!("api ({role})"));
        normalized.push(
            normalize_unit(unit, &collection)
                .map_err(|e| ApiError::unprocessable(format!("unit {i}: {e}")))?,
        );
    }
    let tm = state.tm.clone();
    let stored = web::block(move || add_units(&tm, normalized)).await??;
    let added = stored
        .iter()
        .filter(|s| matches!(s, Stored::Added(_)))
        .count() as u64;
    let units: Vec<TranslationUnit> = stored
        .into_iter()
        .map(|s| match s {
            Stored::Added(u) | Stored::Duplicate(u) => u,
        })
        .collect();
    let status = if added > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut builder = HttpResponse::build(status);
    if units.len() == 1 {
        builder.insert_header((header::LOCATION, unit_location(&units[0])));
    }
    Ok(builder.json(AddResponse {
        added,
        duplicates: units.len() as u64 - added,
        units,
    }))
}

/// Get a translation unit
#[utoipa::path(
    tag = "translation-memory",
    params(("id" = String, Path, description = "Unit id, unique within its collection."), CollectionParam),
    security((), ("api_key" = ["reader"])),
    responses(
        (status = 200, description = "The unit.", body = TranslationUnit),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        ServiceErrors
    )
)]
#[get("/tm/units/{id}")]
pub(super) async fn tm_get_unit(
    state: Data,
    req: HttpRequest,
    id: web::Path<String>,
    param: web::Query<CollectionParam>,
) -> Result<HttpResponse, ApiError> {
    state.require(&req, Role::Reader)?;
    let collection = param.name()?;
    let tm = state.tm.clone();
    let (c, i) = (collection.clone(), id.clone());
    match web::block(move || tm.get(&c, &i)).await?? {
        Some(unit) => Ok(HttpResponse::Ok().json(unit)),
        None => Err(ApiError::not_found(format!(
            "no unit {:?} in collection {collection:?}",
            id.as_str()
        ))),
    }
}

/// Delete a translation unit
#[utoipa::path(
    tag = "translation-memory",
    params(("id" = String, Path, description = "Unit id, unique within its collection."), CollectionParam),
    security(("api_key" = ["editor"])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        ServiceErrors
    )
)]
#[delete("/tm/units/{id}")]
pub(super) async fn tm_delete_unit(
    state: Data,
    req: HttpRequest,
    id: web::Path<String>,
    param: web::Query<CollectionParam>,
) -> Result<HttpResponse, ApiError> {
    state.require(&req, Role::Editor)?;
    let collection = param.name()?;
    let tm = state.tm.clone();
    let (c, i) = (collection.clone(), id.clone());
    match web::block(move || tm.write(move |txn| txn.delete(&c, &i))).await?? {
        Some(_) => Ok(HttpResponse::NoContent().finish()),
        None => Err(ApiError::not_found(format!(
            "no unit {:?} in collection {collection:?}",
            id.as_str()
        ))),
    }
}

/// A fuzzy-match request.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"text": "The Hanoi Convention", "source_lang": "en", "target_langs": ["fr"], "min_score": 70, "limit": 5}))]
struct LookupBody {
    /// The segment to translate.
    text: String,
    /// Its language (BCP 47).
    source_lang: String,
    /// Languages wanted (default: all the unit's other languages).
    #[serde(default)]
    target_langs: Vec<String>,
    /// Lowest score returned, 0–100 (default 70).
    min_score: Option<u8>,
    /// Most matches returned (default 5).
    limit: Option<usize>,
    /// Collections searched, earlier ones first on equal scores (default: `?collection=`, else
    /// all).
    #[serde(default)]
    collections: Vec<String>,
}

/// Fuzzy match
///
/// Stored units whose source is like `text`, by score (an integer 0–100; 100 only for identical
/// sources after whitespace normalisation), then recency.
#[utoipa::path(
    tag = "translation-memory",
    params(CollectionsParam),
    request_body = LookupBody,
    security((), ("api_key" = ["reader"])),
    responses(
        (status = 200, description = "The matches.", body = LookupResponse),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        ServiceErrors
    )
)]
#[post("/tm/lookup")]
pub(super) async fn tm_lookup(
    state: Data,
    req: HttpRequest,
    param: web::Query<CollectionsParam>,
    body: web::Json<LookupBody>,
) -> Result<HttpResponse, ApiError> {
    state.require(&req, Role::Reader)?;
    let b = body.into_inner();
    let mut collections = b.collections;
    if collections.is_empty() {
        collections = list(&param.collection);
    }
    let request = LookupRequest {
        source_lang: parse_lang(&b.source_lang, "source_lang")?,
        text: b.text,
        target_langs: b.target_langs,
        min_score: b.min_score.unwrap_or(DEFAULT_MIN_SCORE),
        limit: b.limit.unwrap_or(DEFAULT_LOOKUP_LIMIT),
        collections,
    };
    let tm = state.tm.clone();
    let response = super::compute(super::Work::Other, move || lookup(&tm, &request)).await??;
    Ok(HttpResponse::Ok().json(response))
}

/// Query parameters of a concordance search.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ConcordanceParams {
    /// The words or phrase to find (required).
    q: Option<String>,
    /// Language of `q` and of the texts searched (required).
    lang: Option<String>,
    /// Languages returned beside the matched one, comma-separated (default: all).
    target: Option<String>,
    /// Page size (default 20).
    limit: Option<usize>,
    /// Collections searched, comma-separated (default: all).
    collection: Option<String>,
}

/// Concordance
///
/// Units whose `lang` text contains the words of `q` (analysed), with highlights on that side.
#[utoipa::path(
    tag = "translation-memory",
    params(ConcordanceParams),
    security((), ("api_key" = ["reader"])),
    responses(
        (status = 200, description = "The hits.", body = ConcordanceResponse),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        ServiceErrors
    )
)]
#[get("/tm/concordance")]
pub(super) async fn tm_concordance(
    state: Data,
    req: HttpRequest,
    params: web::Query<ConcordanceParams>,
) -> Result<HttpResponse, ApiError> {
    state.require(&req, Role::Reader)?;
    let p = params.into_inner();
    let q = p.q.unwrap_or_default();
    if q.trim().is_empty() {
        return Err(ApiError::bad_request("q is required"));
    }
    let request = ConcordanceRequest {
        q,
        lang: parse_lang(p.lang.as_deref().unwrap_or(""), "lang")?,
        targets: list(&p.target),
        limit: p.limit.unwrap_or(DEFAULT_CONCORDANCE_LIMIT),
        collections: list(&p.collection),
    };
    let tm = state.tm.clone();
    let response = super::compute(super::Work::Other, move || concordance(&tm, &request)).await??;
    Ok(HttpResponse::Ok().json(response))
}

/// `POST /import?format=tmx`: reads the file and applies it to the translation memory.
pub(super) async fn import_memory(
    state: Data,
    format: ImportFormat,
    bytes: Vec<u8>,
    opts: ImportOptions,
    filename: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let tm = state.tm.clone();
    let report = super::in_background(move || -> Result<_, ApiError> {
        let collection = opts.collection.clone();
        let progress: Progress = std::sync::Arc::new(move |done, total| {
            if total > 10_000 {
                tracing::info!(collection = %collection, done, total, "tmx import progress");
            }
        });
        let origin = filename.unwrap_or_else(|| "import".to_string());
        let mut report = if format == ImportFormat::Tmx {
            crate::tm::import_tmx_file(&tm, bytes, &opts, Some(&origin), Some(progress))?
        } else {
            let parsed = format.read_memory(&bytes)?;
            crate::tm::import_tmx(&tm, parsed, &opts, Some(&origin), Some(progress))?
        };
        report.format = format.name();
        Ok(report)
    })
    .await??;
    Ok(HttpResponse::Ok().json(report))
}
