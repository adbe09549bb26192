//! Observability: request ids, one log line per request, an audit line per write, Prometheus
//! metrics (`GET /metrics`) and readiness (`GET /readyz`).
//!
//! Every request goes through [`middleware`]: it takes the caller's `X-Request-Id` (or makes one),
//! runs the request inside a `request` tracing span carrying that id, returns the id in the
//! response, counts the request by route pattern, method and status, and records its latency in a
//! histogram per route. Writes (`POST`, `PUT`, `DELETE` other than the read-only `POST`s: lookup,
//! check) also get an audit line (`target: "audit"`) naming the key that made them. Metrics live in
//! one process-wide registry, so every worker's requests add up.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{get, web, HttpResponse};
use tracing::Instrument;

use super::AppState;
use actix_web::HttpMessage as _;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The header carrying the request id.
pub const REQUEST_ID: &str = "x-request-id";

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Registry {
    /// (route, method, status) → requests.
    requests: BTreeMap<(String, String, u16), u64>,
    /// route → latency.
    latency: BTreeMap<String, Histogram>,
    /// import outcome (`ok`, `rejected`, `failed`) → imports.
    imports: BTreeMap<&'static str, u64>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);

fn record(route: &str, method: &str, status: u16, seconds: f64) {
    let mut r = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    *r.requests
        .entry((route.to_string(), method.to_string(), status))
        .or_default() += 1;
    let h = r.latency.entry(route.to_string()).or_default();
    h.count += 1;
    h.sum += seconds;
    for (i, bound) in BUCKETS.iter().enumerate() {
        if seconds <= *bound {
            h.counts[i] += 1;
        }
    }
    if route == "/api/v1/import" && method == "POST" {
        let outcome = match status {
            200..=299 => "ok",
            400..=499 => "rejected",
            _ => "failed",
        };
        *r.imports.entry(outcome).or_default() += 1;
    }
}

/// A request id from the caller when it is short and printable, else a new random one.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| hex::encode(rand::random::<[u8; 8]>()))
}

/// True for requests that change data (and so get an audit line).
fn is_write(method: &str, route: &str) -> bool {
    match method {
        "PUT" | "DELETE" | "PATCH" => true,
        "POST" => !matches!(route, "/api/v1/tm/lookup" | "/api/v1/check"),
        _ => false,
    }
}

/// Who made a request, as the auth check found it (the key's name and role).
struct Caller(String);

/// Records the caller of `req` for its audit line; called by the auth check, so keys are not
/// checked twice.
pub(super) fn set_caller(req: &actix_web::HttpRequest, who: String) {
    req.extensions_mut().insert(Caller(who));
}

/// The middleware every request goes through (see the module docs).
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().to_string();
    let path = req.path().to_string();
    let span = tracing::info_span!("request", id = %id);
    let result = next.call(req).instrument(span.clone()).await;
    let elapsed = started.elapsed().as_secs_f64();
    let _entered = span.enter();
    match result {
        Ok(mut res) => {
            let route = res
                .request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_string());
            let status = res.status().as_u16();
            record(&route, &method, status, elapsed);
            if let Ok(value) = HeaderValue::from_str(&id) {
                res.headers_mut()
                    .insert(HeaderName::from_static(REQUEST_ID), value);
            }
            tracing::info!(target: "http", %method, %path, status, ms = elapsed * 1000.0, "request");
            if is_write(&method, &route) {
                let query = res.request().query_string().to_string();
                let who = res
                    .request()
                    .extensions()
                    .get::<Caller>()
                    .map_or_else(|| "anonymous".to_string(), |c| c.0.clone());
                tracing::info!(target: "audit", %who, %method, %path, %query, status, "write");
            }
            Ok(res)
        }
        Err(err) => {
            let status = err.as_response_error().status_code().as_u16();
            record("unmatched", &method, status, elapsed);
            tracing::warn!(target: "http", %method, %path, error = %err, "request failed");
            Err(err)
        }
    }
}

/// Total size of the files under `dir`, in bytes.
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Escapes a Prometheus label value.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The metrics in the Prometheus text format (version 0.0.4).
pub fn render(state: &AppState) -> String {
    let mut out = String::new();
    {
        let r = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str("# HELP hexaglot_http_requests_total HTTP requests by route pattern, method and status.\n");
        out.push_str("# TYPE hexaglot_http_requests_total counter\n");
        for ((route, method, status), n) in &r.requests {
            let _ = writeln!(
                out,
                "hexaglot_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                label(route)
            );
        }
        out.push_str("# HELP hexaglot_http_request_duration_seconds Time from request to response, by route pattern.\n");
        out.push_str("# TYPE hexaglot_http_request_duration_seconds histogram\n");
        for (route, h) in &r.latency {
            let route = label(route);
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "hexaglot_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "hexaglot_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "hexaglot_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "hexaglot_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        out.push_str("# HELP hexaglot_imports_total Imports through the API by outcome (ok, rejected: invalid file or request, failed).\n");
        out.push_str("# TYPE hexaglot_imports_total counter\n");
        for outcome in ["ok", "rejected", "failed"] {
            let n = r.imports.get(outcome).copied().unwrap_or(0);
            let _ = writeln!(out, "hexaglot_imports_total{{outcome=\"{outcome}\"}} {n}");
        }
    }
    let (hits, misses) = state.search_cache.0.counts();
    out.push_str("# HELP hexaglot_search_cache_lookups_total Term searches answered from the response cache (hit) or searched (miss).\n");
    out.push_str("# TYPE hexaglot_search_cache_lookups_total counter\n");
    let _ = writeln!(
        out,
        "hexaglot_search_cache_lookups_total{{result=\"hit\"}} {hits}"
    );
    let _ = writeln!(
        out,
        "hexaglot_search_cache_lookups_total{{result=\"miss\"}} {misses}"
    );
    out.push_str("# HELP hexaglot_search_cache_warmed_total Term searches answered again on a new commit before it was published.\n");
    out.push_str("# TYPE hexaglot_search_cache_warmed_total counter\n");
    let _ = writeln!(
        out,
        "hexaglot_search_cache_warmed_total {}",
        state.search_cache.0.warmed()
    );
    let stats = state.store.payload().stats;
    out.push_str("# HELP hexaglot_concepts Concepts in the termbase, by collection.\n");
    out.push_str("# TYPE hexaglot_concepts gauge\n");
    for (name, c) in &stats.collections {
        let _ = writeln!(
            out,
            "hexaglot_concepts{{collection=\"{}\"}} {}",
            label(name),
            c.concepts
        );
    }
    out.push_str("# HELP hexaglot_terms Terms in the termbase, by language.\n");
    out.push_str("# TYPE hexaglot_terms gauge\n");
    for (lang, n) in stats.total(&[]).languages {
        let _ = writeln!(out, "hexaglot_terms{{lang=\"{}\"}} {n}", label(&lang));
    }
    let tm = state.tm.stats().total(&[]);
    out.push_str("# HELP hexaglot_units Translation units in the memory.\n");
    out.push_str("# TYPE hexaglot_units gauge\n");
    let _ = writeln!(out, "hexaglot_units {}", tm.units);
    out.push_str("# HELP hexaglot_index_bytes Size of each index on disk.\n");
    out.push_str("# TYPE hexaglot_index_bytes gauge\n");
    let _ = writeln!(
        out,
        "hexaglot_index_bytes{{index=\"termbase\"}} {}",
        dir_bytes(state.store.dir())
    );
    let _ = writeln!(
        out,
        "hexaglot_index_bytes{{index=\"tm\"}} {}",
        dir_bytes(state.tm.dir())
    );
    out
}

/// Prometheus metrics
///
/// Request counts and latency histograms per route pattern, index sizes, import counters, in the
/// Prometheus text format.
#[utoipa::path(
    tag = "service",
    security((), ("api_key" = ["reader"])),
    responses(
        (status = 200, description = "The metrics.", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 401, response = super::openapi::Unauthorized),
        (status = 500, response = super::openapi::Internal)
    )
)]
#[get("/metrics")]
pub async fn metrics(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, super::ApiError> {
    state.require(&req, crate::auth::Role::Reader)?;
    let text = web::block(move || render(&state)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}

/// Readiness
///
/// 200 once both indexes answer from a blocking-pool thread (so the pool is not exhausted
/// either), else 503.
#[utoipa::path(
    tag = "service",
    responses(
        (status = 200, description = "Ready.", body = Ready),
        (status = 503, response = super::openapi::Unavailable)
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let probe = web::block(move || {
        let concepts = state.store.searcher().num_docs();
        let units = state.tm.searcher().num_docs();
        (concepts, units, state.checker.warm(&state.store))
    })
    .await;
    match probe {
        Ok((_, _, false)) => super::problem_response(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "warming up: the term recogniser for checks is being built",
            &[],
        ),
        Ok((concepts, units, true)) => HttpResponse::Ok().json(Ready {
            status: "ready",
            concept_docs: concepts,
            unit_docs: units,
        }),
        Err(e) => super::problem_response(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            &format!("not ready: {e}"),
            &[],
        ),
    }
}

/// The body of `/readyz`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Ready {
    /// `ready`.
    status: &'static str,
    /// Documents in the termbase index.
    concept_docs: u64,
    /// Documents in the translation-memory index.
    unit_docs: u64,
}
