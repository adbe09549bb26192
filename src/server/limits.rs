//! Per-request limits: a rate limit per API key (or per client address without a key) and a time
//! limit on every request but imports and exports.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web;

use super::{problem_response, ApiError, AppState};

/// Token buckets by caller: each holds up to a minute's allowance and refills continuously.
#[derive(Clone, Default)]
pub struct RateLimiter {
    buckets: Arc<Mutex<HashMap<u64, (f64, Instant)>>>,
}

impl RateLimiter {
    /// Takes one request from `caller`'s bucket; `Err(seconds)` to wait when it is empty.
    pub fn take(&self, caller: u64, per_minute: u32) -> Result<(), f64> {
        let capacity = f64::from(per_minute);
        let per_second = capacity / 60.0;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            // forget callers whose bucket has refilled: they are as if new
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * per_second < capacity
            });
        }
        let (tokens, at) = buckets.entry(caller).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * per_second).min(capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - *tokens) / per_second)
        }
    }
}

/// Who a request counts against: its key (hashed), else its peer address.
fn caller(req: &ServiceRequest) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    match req.headers().get(actix_web::http::header::AUTHORIZATION) {
        Some(key) => key.as_bytes().hash(&mut h),
        None => req.peer_addr().map(|a| a.ip()).hash(&mut h),
    }
    h.finish()
}

/// The limits middleware (see the module docs).
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let config = &state.config;
    let per_minute = config.rate_limit_per_minute;
    if per_minute > 0 && req.path().starts_with("/api/") {
        if let Err(wait) = state.limiter.take(caller(&req), per_minute) {
            let wait = wait.ceil().max(1.0) as u64;
            let detail =
                format!("rate limit of {per_minute} requests a minute reached; retry in {wait} s");
            let mut resp = problem_response(StatusCode::TOO_MANY_REQUESTS, &detail, &[]);
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                resp.headers_mut().insert(RETRY_AFTER, v);
            }
            return Ok(req.into_response(resp).map_into_right_body());
        }
    }
    let path = req.path();
    if path.starts_with("/api/v1/import") || path.starts_with("/api/v1/export") {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let timeout = config.request_timeout;
    match tokio::time::timeout(timeout, next.call(req)).await {
        Ok(result) => result.map(ServiceResponse::map_into_left_body),
        // the request is gone with the dropped future, so the answer travels as an error, which
        // actix turns into the problem+json response of `ApiError`
        Err(_) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the request took longer than {} s and was abandoned",
                timeout.as_secs_f64()
            ),
        )
        .into()),
    }
}
