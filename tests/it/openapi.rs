//! The OpenAPI document: a valid OpenAPI 3.1 document, every route of the app in it (and nothing
//! the app does not answer), every route of the contract in it; and the `/docs` page, whose files
//! the server serves itself.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::http::{Method, StatusCode};
use actix_web::test::{call_service, init_service, read_body, TestRequest};
use hexaglot::server::app;
use serde_json::Value;

use crate::common::{repo, request, send, Fixture};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// `GET uri` on an app: status, content type and raw body.
async fn fetch<S, B>(app: &S, uri: &str) -> (StatusCode, String, Vec<u8>)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let resp = call_service(app, TestRequest::get().uri(uri).to_request()).await;
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, content_type, read_body(resp).await.to_vec())
}

/// The value a local `$ref` (`#/components/schemas/Concept`) points to.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    doc.pointer(pointer)
}

/// Every `$ref` in `value`, with the JSON path where it is.
fn refs(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "$ref" {
                    out.push((at.to_string(), v.as_str().unwrap_or("").to_string()));
                } else {
                    refs(v, &format!("{at}/{key}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                refs(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// `(method, path)` of every operation of the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                out.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// `(method, path)` of every route the contract names (`GET /api/v1/concepts/{id}`), query strings
/// and optional parts (`[?collection=a,b]`) left off.
fn contract_routes() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(repo().join("../shared/spec/API.md"))
        .expect("the API contract at ../shared/spec/API.md");
    let mut out = BTreeSet::new();
    for method in ["GET", "POST", "PUT", "DELETE"] {
        let needle = format!("{method} /");
        let mut rest = text.as_str();
        while let Some(at) = rest.find(&needle) {
            let after = &rest[at + method.len() + 1..];
            let end = after
                .find(|c: char| c.is_whitespace() || "`?[),".contains(c))
                .unwrap_or(after.len());
            out.insert((method.to_string(), after[..end].to_string()));
            rest = after;
        }
    }
    out
}

#[actix_web::test]
async fn the_document_is_valid_openapi_3() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    let (status, content_type, body) = fetch(&app, "/openapi.json").await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let text = String::from_utf8(body).unwrap();

    // the typed model of an OpenAPI 3.1 document reads it, and the version is one it supports
    let spec = oas3::from_json(&text).expect("the document parses as OpenAPI 3.1");
    let version = spec
        .validate_version()
        .expect("a supported OpenAPI version");
    assert_eq!(version.major, 3);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert!(doc["info"]["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(doc["info"]["version"]
        .as_str()
        .is_some_and(|v| !v.is_empty()));

    // every $ref is local and resolves
    let mut found = Vec::new();
    refs(&doc, "", &mut found);
    assert!(found.len() > 50, "few refs: {}", found.len());
    let dangling: Vec<_> = found
        .iter()
        .filter(|(_, r)| resolve(&doc, r).is_none())
        .collect();
    assert!(dangling.is_empty(), "dangling $refs: {dangling:?}");

    let schemes: BTreeSet<&str> = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes")
        .keys()
        .map(String::as_str)
        .collect();
    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    let roles: BTreeSet<&str> = ["reader", "editor", "admin"].into();
    let mut operation_ids = BTreeSet::new();
    for (method, path) in operations(&doc) {
        let op = &doc["paths"][&path][method.to_ascii_lowercase()];
        let name = format!("{method} {path}");
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no operationId"));
        assert!(
            operation_ids.insert(id.to_string()),
            "{name}: operationId {id} twice"
        );
        assert!(op["summary"].as_str().is_some(), "{name}: no summary");
        let op_tags = op["tags"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: no tag"));
        for tag in op_tags {
            assert!(
                tags.contains(tag.as_str().unwrap()),
                "{name}: undeclared tag {tag}"
            );
        }

        // responses: at least one success; status codes; errors are problem+json
        let responses = op["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{name}: no responses"));
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{name}: no 2xx response"
        );
        for (code, response) in responses {
            assert!(
                code.len() == 3 && code.parse::<u16>().is_ok_and(|c| (100..600).contains(&c)),
                "{name}: status {code}"
            );
            let response = match response["$ref"].as_str() {
                Some(r) => resolve(&doc, r).unwrap(),
                None => response,
            };
            assert!(
                response["description"].is_string(),
                "{name} {code}: no description"
            );
            if code.starts_with('4') || code.starts_with('5') {
                assert!(
                    response["content"]["application/problem+json"].is_object(),
                    "{name} {code}: not problem+json"
                );
            }
        }

        // every {param} of the path is a required path parameter, and no other
        let declared: BTreeSet<String> = op["parameters"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| {
                assert_eq!(p["required"], true, "{name}: optional path parameter {p}");
                p["name"].as_str().unwrap().to_string()
            })
            .collect();
        let in_path: BTreeSet<String> = path
            .split('{')
            .skip(1)
            .map(|s| s.split('}').next().unwrap().to_string())
            .collect();
        assert_eq!(declared, in_path, "{name}: path parameters");

        // security names a declared scheme and a role
        for requirement in op["security"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            for (scheme, scopes) in requirement.as_object().unwrap() {
                assert!(schemes.contains(scheme.as_str()), "{name}: scheme {scheme}");
                for scope in scopes.as_array().unwrap() {
                    assert!(
                        roles.contains(scope.as_str().unwrap()),
                        "{name}: role {scope}"
                    );
                }
            }
        }
    }

    // and the typed model resolves every operation's parameters, body and responses
    for (path, method, op) in spec.operations() {
        op.parameters(&spec)
            .unwrap_or_else(|e| panic!("{method} {path}: parameters: {e}"));
        op.request_body(&spec)
            .unwrap_or_else(|e| panic!("{method} {path}: request body: {e}"));
        let declared = op.responses.as_ref().map_or(0, |r| r.len());
        assert_eq!(op.responses(&spec).len(), declared, "{method} {path}");
    }
}

/// Fills the `{params}` of a path template.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    for (i, part) in path.split(['{', '}']).enumerate() {
        out.push_str(if i % 2 == 1 { "no-such-item" } else { part });
    }
    out
}

/// True when the app's fallback answered: no route matched.
fn unrouted(status: StatusCode, body: &Value) -> bool {
    status == StatusCode::NOT_FOUND
        && body["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("no route for"))
}

#[actix_web::test]
async fn the_document_lists_exactly_the_routes_the_app_answers() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    let (_, _, body) = fetch(&app, "/openapi.json").await;
    let doc: Value = serde_json::from_slice(&body).unwrap();
    let documented = operations(&doc);

    // every route of the contract is in the document
    let contract = contract_routes();
    assert!(contract.len() >= 20, "contract routes: {contract:?}");
    let missing: Vec<_> = contract.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "contract routes not in the document: {missing:?}"
    );

    // every documented operation is routed, and on a documented path every method the
    // document leaves out falls through to the app's fallback: the document has all the methods
    // the app answers there. (Requests use an admin key, ids that do not exist and empty bodies,
    // so nothing changes.)
    let mut by_path: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (method, path) in &documented {
        by_path.entry(path).or_default().insert(method);
    }
    for (path, methods) in by_path {
        let uri = concrete(path);
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let (status, _, answer) = send(&app, request(m, &uri, Some(&fx.admin), None)).await;
            if methods.contains(method) {
                assert!(
                    !unrouted(status, &answer),
                    "{method} {path} is documented but not routed"
                );
                assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            } else {
                assert!(
                    unrouted(status, &answer),
                    "{method} {uri} answers {status} but {method} {path} is not documented: {answer}"
                );
            }
        }
    }
}

/// Routes are registered in one table, through `utoipa_actix_web`, which documents each one as
/// it registers it; a plain actix registration would serve a route the document misses.
#[test]
fn routes_are_registered_only_through_the_documented_table() {
    let bypasses = [
        ".route(",
        "web::resource(",
        "web::scope(",
        "Resource::new(",
        "web::get()",
        "web::post()",
        "web::put()",
        "web::delete()",
    ];
    let dir = repo().join("src");
    let mut stack = vec![dir];
    let mut offenders = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    let code = line.replace("utoipa_actix_web::", "");
                    if code.trim_start().starts_with("//") {
                        continue;
                    }
                    if bypasses.iter().any(|b| code.contains(b)) {
                        offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "register routes with `.service(handler)` in `server::route_table`, not:\n{}",
        offenders.join("\n")
    );
}

#[actix_web::test]
async fn docs_page_renders_the_document_with_files_the_server_serves() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    let (status, content_type, body) = fetch(&app, "/docs").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = String::from_utf8(body).unwrap();
    // the same page with a trailing slash (where relative URLs resolve the same way)
    let (status, _, again) = fetch(&app, "/docs/").await;
    assert_eq!(status, 200);
    assert_eq!(String::from_utf8(again).unwrap(), html);

    assert!(html.contains(r#"<base href="/docs/">"#), "{html}");
    let mut assets = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for part in html.split(attribute).skip(1) {
            let url = part.split('"').next().unwrap();
            if url == "/docs/" {
                continue; // the base
            }
            assert!(
                !url.contains("//"),
                "{url}: the page must not load files from elsewhere"
            );
            let url = url.trim_start_matches("./");
            assets.push(if url.starts_with('/') {
                url.to_string()
            } else {
                format!("/docs/{url}")
            });
        }
    }
    assert!(
        assets.iter().any(|a| a.ends_with(".js")) && assets.iter().any(|a| a.ends_with(".css")),
        "{assets:?}"
    );
    for asset in &assets {
        let (status, content_type, body) = fetch(&app, asset).await;
        assert_eq!(status, 200, "{asset}");
        assert!(!body.is_empty(), "{asset}");
        assert!(!content_type.is_empty(), "{asset}");
    }
    // the page loads this server's document, not an example one
    let (_, _, init) = fetch(&app, "/docs/swagger-initializer.js").await;
    let init = String::from_utf8(init).unwrap();
    assert!(init.contains("/openapi.json"), "{init}");
    assert!(!init.contains("petstore"), "{init}");
    // a file that is not there is a problem+json 404
    let (status, _, body) = send(&app, request(Method::GET, "/docs/nope.js", None, None)).await;
    assert_eq!(status, 404, "{body}");
}
