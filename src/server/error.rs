//! Every error the API returns, as `application/problem+json` (RFC 9457), mapped in one place.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::auth::AuthError;
use crate::formats::{FormatError, FormatIssue};
use crate::search::SearchError;
use crate::store::StoreError;

/// An API error: a status, a title and a sentence for people.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong, for people.
    pub detail: String,
    /// Located problems in an input file.
    pub errors: Vec<FormatIssue>,
}

/// An error, as `application/problem+json` (RFC 9457).
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Problem<'a> {
    /// A URI naming the kind of problem (`https://hexaglot.dev/problems/not-found`).
    #[serde(rename = "type")]
    kind: String,
    /// The HTTP status's reason phrase.
    title: &'a str,
    /// The HTTP status.
    status: u16,
    /// What went wrong, for people.
    detail: &'a str,
    /// Located problems in an input file (absent when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<ProblemItem<'a>>,
}

/// One located problem in an input file.
#[derive(Serialize, utoipa::ToSchema)]
struct ProblemItem<'a> {
    /// 1-based line.
    line: u64,
    /// 1-based column (for CSV/TSV: the field number).
    column: u64,
    /// Where in the document: the XML elements open at the problem, outermost first
    /// (`/tbx/text/body/conceptEntry/langSec`); absent for CSV, TSV and spreadsheets.
    #[serde(skip_serializing_if = "str::is_empty")]
    path: &'a str,
    /// What is wrong.
    message: &'a str,
}

impl ApiError {
    /// An error with a status and a detail sentence.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 404 Not Found.
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, detail)
    }

    /// 422 Unprocessable Content.
    pub fn unprocessable(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
    }

    /// 500, logged; the client sees no internals.
    pub fn internal(err: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %err, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; the server log has the details",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        problem_response(self.status, &self.detail, &self.errors)
    }
}

/// A problem+json response.
pub fn problem_response(status: StatusCode, detail: &str, errors: &[FormatIssue]) -> HttpResponse {
    let title = status.canonical_reason().unwrap_or("Error");
    let slug = title.to_ascii_lowercase().replace(' ', "-");
    let body = Problem {
        kind: format!("https://hexaglot.dev/problems/{slug}"),
        title,
        status: status.as_u16(),
        detail,
        errors: errors
            .iter()
            .map(|e| ProblemItem {
                line: e.line,
                column: e.column,
                path: &e.path,
                message: &e.message,
            })
            .collect(),
    };
    HttpResponse::build(status)
        .content_type("application/problem+json")
        .json(body)
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::VersionMismatch { .. } => {
                ApiError::new(StatusCode::PRECONDITION_FAILED, e.to_string())
            }
            StoreError::Rejected(msg) => ApiError::unprocessable(msg),
            StoreError::Locked(_) | StoreError::ReadOnly | StoreError::WriterGone => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::Invalid(msg) => ApiError::bad_request(msg),
            SearchError::TooLong(_) => ApiError::bad_request(e.to_string()),
            SearchError::Store(s) => s.into(),
        }
    }
}

impl From<FormatError> for ApiError {
    fn from(e: FormatError) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            detail: e.to_string(),
            errors: e.issues,
        }
    }
}

impl From<crate::import::ImportError> for ApiError {
    fn from(e: crate::import::ImportError) -> Self {
        match e {
            crate::import::ImportError::Format(e) => e.into(),
            crate::import::ImportError::Store(e) => e.into(),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::internal(e)
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::internal(e)
    }
}
