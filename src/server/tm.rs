//! Translation-memory routes: units, fuzzy lookup, concordance, and the TMX branch of import.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::routes::{list, CollectionParam};
use super::{ApiError, AppState};
use crate::auth::Role;
use crate::formats::tmx::read_tmx;
use crate::import::{ImportOptions, Progress};
use crate::lang::LangTag;
use crate::model::TranslationUnit;
use crate::search::tm::{
    concordance, lookup, ConcordanceRequest, LookupRequest, DEFAULT_CONCORDANCE_LIMIT,
    DEFAULT_LOOKUP_LIMIT, DEFAULT_MIN_SCORE,
};
use crate::tm::{add_units, normalize_unit, Stored};

type Data = web::Data<AppState>;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/tm/units", web::post().to(add))
        .route("/api/v1/tm/units/{id}", web::get().to(get_unit))
        .route("/api/v1/tm/units/{id}", web::delete().to(delete_unit))
        .route("/api/v1/tm/lookup", web::post().to(lookup_route))
        .route("/api/v1/tm/concordance", web::get().to(concordance_route));
}

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
#[derive(Deserialize)]
#[serde(untagged)]
enum UnitsBody {
    Many(Vec<TranslationUnit>),
    Wrapped { units: Vec<TranslationUnit> },
    One(Box<TranslationUnit>),
}

#[derive(Serialize)]
struct AddResponse {
    added: u64,
    duplicates: u64,
    units: Vec<TranslationUnit>,
}

async fn add(
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

async fn get_unit(
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

async fn delete_unit(
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

#[derive(Deserialize)]
struct LookupBody {
    text: String,
    source_lang: String,
    #[serde(default)]
    target_langs: Vec<String>,
    min_score: Option<u8>,
    limit: Option<usize>,
    #[serde(default)]
    collections: Vec<String>,
}

#[derive(Deserialize)]
struct CollectionsParam {
    collection: Option<String>,
}

async fn lookup_route(
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
    let response = web::block(move || lookup(&tm, &request)).await??;
    Ok(HttpResponse::Ok().json(response))
}

#[derive(Deserialize)]
struct ConcordanceParams {
    q: Option<String>,
    lang: Option<String>,
    target: Option<String>,
    limit: Option<usize>,
    collection: Option<String>,
}

async fn concordance_route(
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
    let response = web::block(move || concordance(&tm, &request)).await??;
    Ok(HttpResponse::Ok().json(response))
}

/// `POST /import?format=tmx`: reads the file and applies it to the translation memory.
pub(super) async fn import_tmx(
    state: Data,
    bytes: Vec<u8>,
    opts: ImportOptions,
    filename: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let tm = state.tm.clone();
    let report = web::block(move || -> Result<_, ApiError> {
        let parsed = read_tmx(&bytes)?;
        let collection = opts.collection.clone();
        let progress: Progress = std::sync::Arc::new(move |done, total| {
            if total > 10_000 {
                tracing::info!(collection = %collection, done, total, "tmx import progress");
            }
        });
        let origin = filename.unwrap_or_else(|| "import".to_string());
        Ok(crate::tm::import_tmx(
            &tm,
            parsed,
            &opts,
            Some(&origin),
            Some(progress),
        )?)
    })
    .await??;
    Ok(HttpResponse::Ok().json(report))
}
