//! The HTTP API: the actix-web application, its routes, auth, problem+json errors and the
//! OpenAPI document.
//!
//! Only this module knows HTTP. Handlers parse, call one library function off the async runtime
//! (`web::block`), and format. Each handler declares its route with an actix attribute
//! (`#[get("/stats")]`) under its `#[utoipa::path]`, and `route_table` registers them all, which
//! builds the OpenAPI document from the same list.

mod cache;
mod check;
mod error;
mod limits;
mod observe;
mod openapi;
mod routes;
mod tm;

use std::net::SocketAddr;
use std::path::PathBuf;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpServer};
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig as RouteTable;
use utoipa_actix_web::AppExt;

pub use error::{problem_response, ApiError};

use crate::auth::{KeyStore, Role};
use crate::store::tm::TmStore;
use crate::store::{OpenMode, Store};

/// Largest import body by default (64 MiB).
pub const DEFAULT_MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;
/// Largest body of other requests by default (1 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Settings of a running server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// When true, every route needs a key (no anonymous read).
    pub require_auth: bool,
    /// Largest import body in bytes.
    pub max_import_bytes: usize,
    /// Largest body of other requests in bytes.
    pub max_body_bytes: usize,
    /// Origins allowed to call the API from browsers (CORS); empty: CORS off; `*`: any.
    pub cors_origins: Vec<String>,
    /// Requests a minute per key (or client address); 0: unlimited.
    pub rate_limit_per_minute: u32,
    /// Longest time a request may take (imports and exports excepted).
    pub request_timeout: std::time::Duration,
    /// Term-search responses kept for the current commit (0: none).
    pub search_cache_entries: usize,
    /// Longest time a commit spends answering the cached searches again before it is published
    /// (zero: the cache starts empty after each commit).
    pub search_cache_warm: std::time::Duration,
}

/// Term-search responses kept by default.
pub const DEFAULT_SEARCH_CACHE_ENTRIES: usize = 10_000;
/// Longest warm-up of the search cache on a commit by default, in milliseconds.
pub const DEFAULT_SEARCH_CACHE_WARM_MS: u64 = 1_000;

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            require_auth: false,
            max_import_bytes: DEFAULT_MAX_IMPORT_BYTES,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            cors_origins: Vec::new(),
            rate_limit_per_minute: 0,
            request_timeout: std::time::Duration::from_secs(60),
            search_cache_entries: DEFAULT_SEARCH_CACHE_ENTRIES,
            search_cache_warm: std::time::Duration::from_millis(DEFAULT_SEARCH_CACHE_WARM_MS),
        }
    }
}

/// Runs `work` (an import) on a thread of its own at the background priority
/// ([`crate::priority`]), so parsing a large file yields the CPU to requests as indexing does.
pub(crate) async fn in_background<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("import".into())
        .spawn(move || {
            crate::priority::lower_this_thread();
            let _ = done.send(work());
        })
        .map_err(ApiError::internal)?;
    result
        .await
        .map_err(|_| ApiError::internal("the import thread stopped without an answer"))
}

/// What CPU-bound request work is, for [`compute`]: term searches, and the rest (TM lookups,
/// concordance, checks), each kind with its own slots so that a burst of searches after a commit
/// does not queue the lookups and checks behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Work {
    /// A term search the response cache could not answer.
    Search,
    /// A TM lookup or concordance, or a check.
    Other,
}

/// Jobs of one kind of [`Work`] computing at once: one per core. More would not answer sooner
/// (they are CPU-bound) but would crowd out the runtime's threads that answer everything else:
/// after a commit empties part of the search cache, dozens of searches ran at once and even
/// cached answers waited seconds for the CPU.
fn compute_slots(work: Work) -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<[tokio::sync::Semaphore; 2]> = std::sync::OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        [
            tokio::sync::Semaphore::new(cores),
            tokio::sync::Semaphore::new(cores),
        ]
    });
    &slots[work as usize]
}

/// Runs CPU-bound request work off the async runtime, waiting (without a thread) for one of the
/// [`compute_slots`] of its kind, so jobs beyond one per core queue in arrival order.
pub(crate) async fn compute<T: Send + 'static>(
    kind: Work,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let _slot = compute_slots(kind)
        .acquire()
        .await
        .map_err(|_| ApiError::internal("the compute slots are closed"))?;
    Ok(web::block(work).await?)
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The termbase.
    pub store: Store,
    /// The translation memory.
    pub tm: TmStore,
    /// API keys.
    pub keys: KeyStore,
    /// Settings.
    pub config: ServerConfig,
    /// The term recogniser of the termbase's last commit, for checks.
    pub checker: crate::check::RecognizerCache,
    /// Rate-limit buckets (used when `config.rate_limit_per_minute` is set).
    pub limiter: limits::RateLimiter,
    /// Term-search responses of the termbase's current commit.
    pub search_cache: SearchCache,
}

/// The shared [`cache::ResponseCache`] of term searches.
#[derive(Clone)]
pub struct SearchCache(pub std::sync::Arc<cache::ResponseCache>);

impl SearchCache {
    /// A cache of at most `entries` responses (0: off).
    pub fn new(entries: usize) -> SearchCache {
        SearchCache(std::sync::Arc::new(cache::ResponseCache::new(entries)))
    }
}

impl Default for SearchCache {
    fn default() -> Self {
        SearchCache::new(DEFAULT_SEARCH_CACHE_ENTRIES)
    }
}

impl AppState {
    /// From now on, each commit of the termbase answers the cached searches again before it is
    /// published, within `config.search_cache_warm` (see [`cache`]).
    pub fn warm_search_cache_on_commit(&self) {
        if self.config.search_cache_entries > 0 && !self.config.search_cache_warm.is_zero() {
            routes::warm_search_cache_on_commit(
                &self.store,
                self.search_cache.0.clone(),
                self.config.search_cache_warm,
            );
        }
    }

    /// Checks the caller's key against the role a route needs.
    /// No key: allowed to read when anonymous read is on, else 401. Unknown key: 401. A known key
    /// with too small a role: 403.
    pub fn require(&self, req: &HttpRequest, role: Role) -> Result<Role, ApiError> {
        let header = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let caller = match header {
            Some(value) => {
                let secret = value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
                    .map(str::trim)
                    .ok_or_else(|| {
                        ApiError::new(
                            StatusCode::UNAUTHORIZED,
                            "the Authorization header must be `Bearer <api-key>`",
                        )
                    })?;
                let Some(info) = self.keys.authenticate(secret) else {
                    observe::set_caller(req, "unknown key".to_string());
                    return Err(ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "unknown or revoked API key",
                    ));
                };
                observe::set_caller(req, format!("{} ({})", info.name, info.role));
                Some(info.role)
            }
            None => None,
        };
        match caller {
            None if role == Role::Reader && !self.config.require_auth => Ok(Role::Reader),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                format!("this needs an API key with the {role} role: send `Authorization: Bearer <api-key>`"),
            )),
            Some(r) if r < role => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("this needs the {role} role; the key has {r}"),
            )),
            Some(r) => Ok(r),
        }
    }
}

/// The application: every route, with its state and error handlers.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let max_body = state.config.max_body_bytes;
    let cors = cors(&state.config.cors_origins);
    let cors_on = cors.is_some();
    let (app, api) = App::new()
        .into_utoipa_app()
        .openapi(openapi::ApiDoc::openapi())
        .configure(route_table)
        .split_for_parts();
    app.app_data(web::Data::new(state))
        .app_data(web::Data::new(openapi::Document::new(&api)))
        .app_data(
            web::JsonConfig::default()
                .limit(max_body)
                .error_handler(|err, _req| {
                    let status = match &err {
                        actix_web::error::JsonPayloadError::Overflow { .. }
                        | actix_web::error::JsonPayloadError::OverflowKnownLength { .. } => {
                            StatusCode::PAYLOAD_TOO_LARGE
                        }
                        actix_web::error::JsonPayloadError::ContentType => {
                            StatusCode::UNSUPPORTED_MEDIA_TYPE
                        }
                        _ => StatusCode::BAD_REQUEST,
                    };
                    let mut error = ApiError::new(status, format!("invalid JSON body: {err}"));
                    if let actix_web::error::JsonPayloadError::Deserialize(e) = &err {
                        error
                            .errors
                            .extend(crate::formats::FormatIssue::from_json(e));
                    }
                    error.into()
                }),
        )
        .app_data(web::QueryConfig::default().error_handler(|err, _req| {
            ApiError::bad_request(format!("invalid query parameters: {err}")).into()
        }))
        .app_data(web::PathConfig::default().error_handler(|err, _req| {
            ApiError::bad_request(format!("invalid path: {err}")).into()
        }))
        .wrap(actix_web::middleware::NormalizePath::trim())
        .wrap(actix_web::middleware::from_fn(limits::middleware))
        .wrap(actix_web::middleware::Condition::new(
            cors_on,
            cors.unwrap_or_default(),
        ))
        .wrap(actix_web::middleware::from_fn(observe::middleware))
        .default_service(web::to(|req: HttpRequest| async move {
            Err::<actix_web::HttpResponse, ApiError>(ApiError::not_found(format!(
                "no route for {} {}",
                req.method(),
                req.path()
            )))
        }))
}

/// Every route of the application, and so every operation of the OpenAPI document: registering
/// a handler here through `utoipa_actix_web` adds its `#[utoipa::path]` operation to the document.
/// Register routes only here and only with `.service(handler)` (never `.route(...)`, which would
/// serve a route the document does not list; a test checks the document against the app).
fn route_table(table: &mut RouteTable) {
    table
        .service(routes::page)
        .service(routes::healthz)
        .service(observe::readyz)
        .service(observe::metrics)
        .service(openapi::openapi_json)
        .service(openapi::docs_page)
        .service(openapi::docs_asset)
        .service(
            utoipa_actix_web::scope("/api/v1")
                .service(routes::search_terms)
                .service(routes::create_concept)
                .service(routes::get_concept)
                .service(routes::put_concept)
                .service(routes::delete_concept)
                .service(tm::tm_add_units)
                .service(tm::tm_get_unit)
                .service(tm::tm_delete_unit)
                .service(tm::tm_lookup)
                .service(tm::tm_concordance)
                .service(check::check_translations)
                .service(routes::import_file)
                .service(routes::export_file)
                .service(routes::stats)
                .service(routes::list_collections)
                .service(routes::delete_collection),
        );
}

/// The CORS policy of the allowed origins, `None` when CORS is off.
fn cors(origins: &[String]) -> Option<actix_cors::Cors> {
    if origins.is_empty() {
        return None;
    }
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "DELETE"])
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::IF_MATCH,
        ])
        .expose_headers([actix_web::http::header::ETAG])
        .max_age(3600);
    for origin in origins {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    Some(cors)
}

/// Options of `hexaglot serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on.
    pub bind: String,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Glossaries loaded into an empty data directory on first start.
    pub glossaries: Option<PathBuf>,
    /// Server settings.
    pub config: ServerConfig,
}

/// Runs the server until SIGINT/SIGTERM, then finishes in-flight requests and stops the writer.
/// Prints `listening on http://ADDR` once bound (port 0 picks a free port).
pub async fn serve(store: Store, keys: KeyStore, opts: ServeOptions) -> std::io::Result<()> {
    let tm = TmStore::open(&opts.data_dir, OpenMode::ReadWrite).map_err(std::io::Error::other)?;
    let state = AppState {
        store: store.clone(),
        tm: tm.clone(),
        keys,
        config: opts.config.clone(),
        checker: crate::check::RecognizerCache::default(),
        limiter: limits::RateLimiter::default(),
        search_cache: SearchCache::new(opts.config.search_cache_entries),
    };
    crate::priority::keep_background_threads_lowered();
    state.checker.warm(&state.store);
    state.warm_search_cache_on_commit();
    let server = HttpServer::new(move || app(state.clone()))
        .shutdown_timeout(30)
        .bind(&opts.bind)?;
    let addrs: Vec<SocketAddr> = server.addrs();
    for addr in &addrs {
        println!("listening on http://{addr}");
    }
    tracing::info!(?addrs, data_dir = %opts.data_dir.display(), "serving");
    let result = server.run().await;
    web::block(move || {
        store.close();
        tm.close();
    })
    .await
    .ok();
    result
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[actix_web::test]
    async fn compute_runs_at_most_one_job_of_a_kind_per_core() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs = (0..cores * 4).map(|i| {
            let (running, most) = (running.clone(), most.clone());
            super::compute(super::Work::Search, move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(20));
                running.fetch_sub(1, Ordering::SeqCst);
                i
            })
        });
        let done: Vec<usize> = futures_util::future::join_all(jobs)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(done, (0..cores * 4).collect::<Vec<_>>());
        let most = most.load(Ordering::SeqCst);
        assert!(
            most >= 1 && most <= cores,
            "{most} at once on {cores} cores"
        );
    }
}
