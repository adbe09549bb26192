//! Observability: request ids, Prometheus metrics, readiness, and audit lines from the real binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use actix_web::http::Method;
use actix_web::test::init_service;
use hexaglot::server::app;
use serde_json::json;

use crate::common::{add_key, enc, repo, request, send, Fixture};

/// The value of a metric line `name{labels} value`, if present.
fn metric(text: &str, line_start: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[actix_web::test]
async fn request_ids_metrics_and_readiness() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    // a caller's request id comes back; without one, one is made
    let (status, headers, _) = send(
        &app,
        request(Method::GET, "/healthz", None, None).insert_header(("X-Request-Id", "abc-123")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("x-request-id").unwrap(), "abc-123");
    let (_, headers, _) = send(&app, request(Method::GET, "/healthz", None, None)).await;
    let made = headers.get("x-request-id").unwrap().to_str().unwrap();
    assert_eq!(made.len(), 16, "{made}");

    let before = {
        let (_, _, body) = send(&app, request(Method::GET, "/metrics", None, None)).await;
        body.as_str().unwrap().to_string()
    };
    let line = "hexaglot_http_requests_total{route=\"/api/v1/terms/search\",method=\"GET\",status=\"200\"}";
    let searches = metric(&before, line).unwrap_or(0.0);
    for q in ["Hanoi", "网络犯罪"] {
        let uri = format!("/api/v1/terms/search?q={}", enc(q));
        assert_eq!(
            send(&app, request(Method::GET, &uri, None, None)).await.0,
            200
        );
    }
    let (status, _, _) = send(
        &app,
        request(
            Method::POST,
            "/api/v1/import?format=tbx&collection=x",
            Some(&fx.admin),
            None,
        )
        .set_payload("<tbx><broken"),
    )
    .await;
    assert_eq!(status, 422);
    let resp = actix_web::test::call_service(
        &app,
        request(Method::GET, "/metrics", None, None).to_request(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(resp
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = String::from_utf8(actix_web::test::read_body(resp).await.to_vec()).unwrap();
    assert_eq!(metric(&text, line), Some(searches + 2.0), "{text}");
    // latency histogram per route pattern, cumulative buckets ending with +Inf = count
    let count = metric(
        &text,
        "hexaglot_http_request_duration_seconds_count{route=\"/api/v1/terms/search\"}",
    )
    .unwrap();
    let inf = metric(
        &text,
        "hexaglot_http_request_duration_seconds_bucket{route=\"/api/v1/terms/search\",le=\"+Inf\"}",
    )
    .unwrap();
    assert_eq!(count, inf);
    assert!(count >= 2.0);
    assert!(metric(&text, "hexaglot_imports_total{outcome=\"rejected\"}").unwrap() >= 1.0);
    // index sizes and counts
    assert_eq!(
        metric(
            &text,
            "hexaglot_concepts{collection=\"un-cybercrime-convention\"}"
        ),
        Some(27.0),
        "{text}"
    );
    assert!(metric(&text, "hexaglot_index_bytes{index=\"termbase\"}").unwrap() > 10_000.0);
    assert!(metric(&text, "hexaglot_units").is_some());
    // unknown paths are one series, not one per path
    send(&app, request(Method::GET, "/no/such/path/1", None, None)).await;
    send(&app, request(Method::GET, "/no/such/path/2", None, None)).await;
    let (_, _, body) = send(&app, request(Method::GET, "/metrics", None, None)).await;
    let text = body.as_str().unwrap();
    assert!(!text.contains("/no/such"), "{text}");
    assert!(text.contains("route=\"unmatched\",method=\"GET\",status=\"404\""));

    // not ready until the term recogniser is built (the first probe starts it)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let (status, body) = loop {
        let (status, _, body) = send(&app, request(Method::GET, "/readyz", None, None)).await;
        if status == 200 || std::time::Instant::now() > deadline {
            break (status, body);
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains("warming up"),
            "{body}"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ready");
    assert!(body["concept_docs"].as_u64().unwrap() >= 27);
}

#[test]
fn every_write_leaves_an_audit_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = add_key(dir.path(), "editor", "alice");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hexaglot"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .arg("--glossaries")
        .arg(repo().join("glossaries"))
        .env("HEXAGLOT_LOG", "info")
        .env("HEXAGLOT_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(addr) = line.strip_prefix("listening on ") {
            break addr.to_string();
        }
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let body =
        json!({"languages": {"en": {"terms": [{"text": "audit trail", "status": "preferred"}]}}});
    let resp = agent
        .put(&format!("{base}/api/v1/concepts/audited?collection=notes"))
        .header("Authorization", &format!("Bearer {key}"))
        .header("X-Request-Id", "req-audit-1")
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let resp = agent
        .get(&format!("{base}/api/v1/terms/search?q=audit"))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    child.wait().unwrap();
    let records: Vec<serde_json::Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(!records.is_empty(), "no JSON log lines: {stderr}");
    let audits: Vec<&serde_json::Value> =
        records.iter().filter(|r| r["target"] == "audit").collect();
    assert_eq!(audits.len(), 1, "{stderr}");
    let audit = audits[0];
    assert_eq!(audit["fields"]["who"], "alice (editor)", "{audit}");
    assert_eq!(audit["fields"]["method"], "PUT");
    assert_eq!(audit["fields"]["path"], "/api/v1/concepts/audited");
    assert_eq!(audit["fields"]["status"], 201);
    assert!(audit["timestamp"].is_string());
    assert_eq!(audit["span"]["id"], "req-audit-1", "{audit}");
    // reads are logged as requests, not audited
    assert!(records
        .iter()
        .any(|r| r["target"] == "http" && r["fields"]["path"] == "/api/v1/terms/search"));
}
