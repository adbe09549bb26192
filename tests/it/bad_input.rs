//! Every route, fed bad input: each answer is a 4xx problem+json (`common::send` checks the content
//! type of every error), never a 5xx, and the server keeps serving.

use actix_web::http::Method;
use actix_web::test::init_service;
use hexaglot::server::app;
use serde_json::json;

use crate::common::{request, send, Fixture};

/// How a case authenticates.
#[derive(Clone, Copy)]
enum Who {
    Anonymous,
    Reader,
    Admin,
    Bogus,
}

enum Body {
    None,
    Json(serde_json::Value),
    Raw(&'static str, Vec<u8>),
}

#[actix_web::test]
async fn every_route_refuses_bad_input_with_problem_json_and_keeps_serving() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    let long = "a".repeat(5000);
    let long_q = format!("/api/v1/terms/search?q={long}");
    let long_c = format!("/api/v1/tm/concordance?q={long}&lang=en");
    let too_many: Vec<serde_json::Value> = (0..=hexaglot::check::DEFAULT_MAX_SEGMENTS)
        .map(|i| json!({"id": i.to_string(), "source": "a", "target": "b"}))
        .collect();
    let big_check = json!({"source_lang": "en", "target_lang": "fr", "segments": too_many});
    use Body::{Json, Raw};
    use Who::*;
    let cases: Vec<(Method, &str, Who, Body, u16)> = vec![
        // term search
        (
            Method::GET,
            "/api/v1/terms/search",
            Anonymous,
            Body::None,
            400,
        ),
        (
            Method::GET,
            "/api/v1/terms/search?q=x&limit=abc",
            Anonymous,
            Body::None,
            400,
        ),
        (
            Method::GET,
            "/api/v1/terms/search?q=x&limit=100000",
            Anonymous,
            Body::None,
            400,
        ),
        (
            Method::GET,
            "/api/v1/terms/search?q=x&offset=99999999",
            Anonymous,
            Body::None,
            400,
        ),
        (
            Method::GET,
            "/api/v1/terms/search?q=x&mode=sideways",
            Anonymous,
            Body::None,
            400,
        ),
        (
            Method::GET,
            "/api/v1/terms/search?q=x&lang=xx-!!",
            Anonymous,
            Body::None,
            400,
        ),
        (Method::GET, &long_q, Anonymous, Body::None, 400),
        (
            Method::GET,
            "/api/v1/terms/search?q=x",
            Bogus,
            Body::None,
            401,
        ),
        // concepts
        (
            Method::POST,
            "/api/v1/concepts",
            Reader,
            Json(json!({"id": "x"})),
            403,
        ),
        (
            Method::POST,
            "/api/v1/concepts",
            Admin,
            Raw("application/json", b"{not json".to_vec()),
            400,
        ),
        (
            Method::POST,
            "/api/v1/concepts",
            Admin,
            Raw("text/plain", b"{}".to_vec()),
            415,
        ),
        (
            Method::POST,
            "/api/v1/concepts",
            Admin,
            Json(json!({"id": "x", "languages": {}})),
            422,
        ),
        (
            Method::PUT,
            "/api/v1/concepts/x",
            Admin,
            Json(json!({"languages": "nope"})),
            400,
        ),
        (
            Method::PUT,
            "/api/v1/concepts/x",
            Admin,
            Json(json!({"languages": {"not a tag!": {"terms": [{"text": "a"}]}}})),
            422,
        ),
        (
            Method::PUT,
            "/api/v1/concepts/x",
            Admin,
            Json(json!({"languages": {"en": {"terms": [{"text": "a", "status": "maybe"}]}}})),
            400,
        ),
        (
            Method::GET,
            "/api/v1/concepts/nothing-here",
            Anonymous,
            Body::None,
            404,
        ),
        (
            Method::DELETE,
            "/api/v1/concepts/nothing-here",
            Admin,
            Body::None,
            404,
        ),
        (
            Method::DELETE,
            "/api/v1/concepts/x",
            Anonymous,
            Body::None,
            401,
        ),
        // import / export
        (
            Method::POST,
            "/api/v1/import?format=tbx",
            Admin,
            Raw("application/xml", b"<tbx><text>".to_vec()),
            422,
        ),
        (
            Method::POST,
            "/api/v1/import?format=tbx",
            Admin,
            Raw("application/xml", Vec::new()),
            422,
        ),
        (
            Method::POST,
            "/api/v1/import?format=pdf",
            Admin,
            Raw("application/pdf", b"%PDF".to_vec()),
            400,
        ),
        (
            Method::POST,
            "/api/v1/import?format=csv&mode=sometimes",
            Admin,
            Raw("text/csv", b"a,b".to_vec()),
            400,
        ),
        (
            Method::POST,
            "/api/v1/import?format=tmx",
            Admin,
            Raw("application/x-tmx+xml", b"<tmx><body><tu>".to_vec()),
            422,
        ),
        (
            Method::POST,
            "/api/v1/import",
            Reader,
            Raw("text/csv", b"a,b".to_vec()),
            403,
        ),
        (
            Method::GET,
            "/api/v1/export?format=pdf",
            Admin,
            Body::None,
            400,
        ),
        (
            Method::GET,
            "/api/v1/export?format=tbx",
            Reader,
            Body::None,
            403,
        ),
        // check
        (
            Method::POST,
            "/api/v1/check",
            Anonymous,
            Json(json!({"segments": "none"})),
            400,
        ),
        (
            Method::POST,
            "/api/v1/check",
            Anonymous,
            Raw("application/xliff+xml", b"<xliff><file>".to_vec()),
            422,
        ),
        (
            Method::POST,
            "/api/v1/check",
            Anonymous,
            Json(json!({"source_lang": "en", "target_lang": "??", "segments": []})),
            400,
        ),
        (
            Method::POST,
            "/api/v1/check",
            Anonymous,
            Json(big_check),
            413,
        ),
        // translation memory
        (
            Method::POST,
            "/api/v1/tm/units",
            Reader,
            Json(json!({"variants": {"en": "a", "fr": "b"}})),
            403,
        ),
        (
            Method::POST,
            "/api/v1/tm/units",
            Admin,
            Json(json!([])),
            400,
        ),
        (
            Method::POST,
            "/api/v1/tm/units",
            Admin,
            Json(json!({"variants": {"not a tag!": "x", "fr": "y"}})),
            422,
        ),
        (
            Method::GET,
            "/api/v1/tm/units/none",
            Anonymous,
            Body::None,
            404,
        ),
        (
            Method::DELETE,
            "/api/v1/tm/units/none",
            Admin,
            Body::None,
            404,
        ),
        (
            Method::POST,
            "/api/v1/tm/lookup",
            Anonymous,
            Json(json!({"text": "x"})),
            400,
        ),
        (
            Method::POST,
            "/api/v1/tm/lookup",
            Anonymous,
            Json(json!({"text": long, "source_lang": "en"})),
            400,
        ),
        (
            Method::POST,
            "/api/v1/tm/lookup",
            Anonymous,
            Json(json!({"text": "x", "source_lang": "en", "limit": 100000})),
            400,
        ),
        (
            Method::GET,
            "/api/v1/tm/concordance?lang=en",
            Anonymous,
            Body::None,
            400,
        ),
        (Method::GET, &long_c, Anonymous, Body::None, 400),
        // collections, stats, operations
        (
            Method::DELETE,
            "/api/v1/collections/none",
            Reader,
            Body::None,
            403,
        ),
        (Method::GET, "/api/v1/nowhere", Anonymous, Body::None, 404),
        (Method::PATCH, "/api/v1/concepts/x", Admin, Body::None, 404),
    ];
    let (_, _, before) = send(&app, request(Method::GET, "/api/v1/stats", None, None)).await;
    let mut wrong = Vec::new();
    for (method, uri, who, body, expected) in cases {
        let key = match who {
            Anonymous => None,
            Reader => Some(fx.reader.clone()),
            Admin => Some(fx.admin.clone()),
            Bogus => Some("hxk_not_a_key".to_string()),
        };
        let mut req = request(method.clone(), uri, key.as_deref(), None);
        req = match body {
            Body::None => req,
            Json(v) => req.set_json(v),
            Raw(content_type, bytes) => req
                .insert_header(("Content-Type", content_type))
                .set_payload(bytes),
        };
        let (status, _, answer) = send(&app, req).await;
        let shown = &uri[..uri.len().min(80)];
        if status.as_u16() != expected {
            wrong.push(format!(
                "{method} {shown}: {status} (expected {expected}) {answer}"
            ));
        }
        if status.is_client_error() || status.is_server_error() {
            assert!(answer["detail"].is_string(), "{method} {shown}: {answer}");
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // still serving, and nothing was written
    let (status, _, _) = send(&app, request(Method::GET, "/healthz", None, None)).await;
    assert_eq!(status, 200);
    let (_, _, after) = send(&app, request(Method::GET, "/api/v1/stats", None, None)).await;
    assert_eq!(before, after);
}

#[actix_web::test]
async fn malformed_json_bodies_are_located() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    let body = b"{\n\n  oops\n}".to_vec();
    for (path, key) in [
        ("/api/v1/concepts", Some(fx.admin.clone())),
        ("/api/v1/check", None),
        ("/api/v1/tm/lookup", None),
    ] {
        let req = request(Method::POST, path, key.as_deref(), None)
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body.clone());
        let (status, _, answer) = send(&app, req).await;
        assert_eq!(status, 400, "{path}: {answer}");
        let errors = answer["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 1, "{path}: {answer}");
        assert_eq!(errors[0]["line"], 3, "{path}: {answer}");
        assert_eq!(errors[0]["column"], 3, "{path}: {answer}");
        let message = errors[0]["message"].as_str().unwrap();
        assert_eq!(message, "key must be a string", "{path}");
        assert!(!message.contains("line 3"), "{path}: {message}");
    }
}
