//! `POST /api/v1/check`: a JSON request, or an XLIFF or TMX file, checked against the termbase.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::openapi::{
    BadRequest, FileBody, FileForm, PayloadTooLarge, ServiceErrors, Unauthorized, Unprocessable,
    UnsupportedMediaType,
};
use super::routes::read_upload;
use super::{ApiError, AppState};
use crate::auth::Role;
use crate::check::{
    self, CheckError, CheckRequest, InputError, InputFormat, Report, RequestOptions,
};
use crate::model::comma_list;

/// Query parameters of a check (a JSON body's own fields win over them).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct CheckParams {
    /// Source language (overrides the file's).
    source_lang: Option<String>,
    /// Target language (overrides the file's).
    target_lang: Option<String>,
    /// Checks or groups to run, comma-separated (default: all).
    #[param(example = "terminology,numbers")]
    checks: Option<String>,
    /// Severity per check id, `CHECK:LEVEL` comma-separated; LEVEL is `error`, `warning`,
    /// `info` or `off`.
    #[param(example = "term-missing:error,term-variant:off")]
    severity: Option<String>,
    /// Only concepts of these subjects apply, comma-separated.
    subject: Option<String>,
    /// Only concepts of these collections apply, comma-separated, earlier ones first.
    collection: Option<String>,
    /// `true`: list every recognised term occurrence in `terms`.
    #[param(value_type = Option<bool>)]
    include_terms: Option<String>,
}

impl From<CheckError> for ApiError {
    fn from(e: CheckError) -> Self {
        match e {
            CheckError::Invalid(msg) => ApiError::bad_request(msg),
            CheckError::TooManySegments { .. } => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
            }
            CheckError::Store(s) => s.into(),
        }
    }
}

impl From<InputError> for ApiError {
    fn from(e: InputError) -> Self {
        match e {
            InputError::Format(f) => f.into(),
            InputError::Check(c) => c.into(),
            InputError::Json(e) => {
                let mut error = ApiError::bad_request(format!("invalid JSON check request: {e}"));
                error
                    .errors
                    .extend(crate::formats::FormatIssue::from_json(&e));
                error
            }
        }
    }
}

fn outside_options(p: CheckParams) -> Result<RequestOptions, ApiError> {
    let mut severities = std::collections::BTreeMap::new();
    for item in comma_list(p.severity.as_deref()) {
        let (id, level) = item.split_once(':').ok_or_else(|| {
            ApiError::bad_request(format!(
                "severity={item:?}: expected CHECK:LEVEL, e.g. term-missing:error"
            ))
        })?;
        severities.insert(id.trim().to_string(), level.trim().to_string());
    }
    let include_terms = match p.include_terms.as_deref().map(str::to_ascii_lowercase) {
        None => false,
        Some(v) if v.is_empty() || v == "false" || v == "0" => false,
        Some(v) if v == "true" || v == "1" => true,
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "include_terms={v:?}: expected true or false"
            )))
        }
    };
    Ok(RequestOptions {
        source_lang: p.source_lang.filter(|s| !s.is_empty()),
        target_lang: p.target_lang.filter(|s| !s.is_empty()),
        checks: comma_list(p.checks.as_deref()),
        severities,
        subjects: comma_list(p.subject.as_deref()),
        collections: comma_list(p.collection.as_deref()),
        include_terms,
    })
}

/// Check translations
///
/// Bilingual segments (`segments`) or a monolingual text (`lang`, `text`) as JSON, or an XLIFF
/// 1.2 / 2.x or TMX file with its own content type (raw or as the multipart field `file`),
/// checked against the termbase: terminology, consistency, numbers, untranslated segments and,
/// for files, inline tags.
#[utoipa::path(
    tag = "check",
    params(CheckParams),
    request_body(description = "What to check.", content(
        (CheckRequest = "application/json"),
        (inline(FileBody) = "application/xliff+xml"),
        (inline(FileBody) = "application/x-tmx+xml"),
        (inline(FileForm) = "multipart/form-data"),
    )),
    security((), ("api_key" = ["reader"])),
    responses(
        (status = 200, description = "The issues found.", body = Report),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        ServiceErrors
    )
)]
#[post("/check")]
pub(super) async fn check_translations(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: web::Query<CheckParams>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    state.require(&req, Role::Reader)?;
    let outside = outside_options(params.into_inner())?;
    // documents may be large: the import limit applies, not the small JSON one
    let (bytes, filename) = read_upload(&req, payload, state.config.max_import_bytes).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the body is empty"));
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = InputFormat::from_content_type(content_type)
        .or_else(|| {
            filename
                .as_deref()
                .and_then(|n| InputFormat::from_path(n.as_ref()))
        })
        .or_else(|| InputFormat::sniff(&bytes))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "cannot check a {content_type:?} body: send application/json, \
                     application/xliff+xml or application/x-tmx+xml"
                ),
            )
        })?;
    let store = state.store.clone();
    let cache = state.checker.clone();
    let report = super::compute(
        super::Work::Other,
        move || -> Result<check::Report, ApiError> {
            let (input, opts) = check::parse_input(format, &bytes, outside)?;
            if input.segments() > cache.max_segments {
                return Err(CheckError::TooManySegments {
                    got: input.segments(),
                    limit: cache.max_segments,
                }
                .into());
            }
            let recognizer = cache.get(&store)?;
            Ok(check::run(&recognizer, &input, &opts)?)
        },
    )
    .await??;
    Ok(HttpResponse::Ok().json(report))
}
