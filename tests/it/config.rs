//! Serving settings: the TOML configuration file and its precedence, CORS, the rate limit and the
//! request time limit.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use actix_web::http::Method;
use actix_web::test::{init_service, TestRequest};
use hexaglot::server::{app, ServerConfig};

use crate::common::{request, send, Fixture};

/// Starts `hexaglot serve` with `args` and `envs`; returns the child and its base URL.
fn serve(args: &[&str], envs: &[(&str, &str)]) -> (std::process::Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hexaglot"));
    cmd.arg("serve").args(args).env("HEXAGLOT_LOG", "warn");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("the server printed its address")
            .unwrap();
        if let Some(addr) = line.strip_prefix("listening on ") {
            break addr.to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

fn status(url: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    agent.get(url).call().unwrap().status().as_u16()
}

#[test]
fn the_config_file_sets_what_flags_and_environment_leave_unset() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("hexaglot.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nbind = \"127.0.0.1:0\"\nrequire_auth = true\nrate_limit = 1000\n",
            data.to_str().unwrap()
        ),
    )
    .unwrap();
    let config_arg = config.to_str().unwrap();
    let (mut child, base) = serve(&["--config", config_arg], &[]);
    assert_eq!(status(&format!("{base}/api/v1/terms/search?q=Hanoi")), 401);
    assert!(
        data.join("keys.json").exists() || data.is_dir(),
        "data dir from the file"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    // the environment wins over the file
    let (mut child, base) = serve(
        &["--config", config_arg],
        &[("HEXAGLOT_REQUIRE_AUTH", "false")],
    );
    assert_eq!(status(&format!("{base}/api/v1/terms/search?q=Hanoi")), 200);
    child.kill().unwrap();
    child.wait().unwrap();
    // a bad file: a clear error naming the file and the place, exit code not 0
    std::fs::write(&config, "bind = \"127.0.0.1:0\"\nrequire_auth = maybe\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hexaglot"))
        .args(["serve", "--config", config_arg])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("hexaglot.toml") && err.contains("line 2"),
        "{err}"
    );
    std::fs::write(&config, "bnid = \"127.0.0.1:0\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hexaglot"))
        .args(["serve", "--config", config_arg])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("bnid"), "{err}");
}

#[actix_web::test]
async fn cors_is_off_by_default_and_follows_the_allowed_origins() {
    let preflight = || {
        TestRequest::default()
            .method(Method::OPTIONS)
            .uri("/api/v1/terms/search?q=Hanoi")
            .insert_header(("Origin", "https://translators.example"))
            .insert_header(("Access-Control-Request-Method", "GET"))
    };
    let fx = Fixture::new();
    let app_off = init_service(app(fx.state.clone())).await;
    let resp = actix_web::test::call_service(&app_off, preflight().to_request()).await;
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    let fx = Fixture::with_config(ServerConfig {
        cors_origins: vec!["https://translators.example".into()],
        ..ServerConfig::default()
    });
    let app_on = init_service(app(fx.state.clone())).await;
    let resp = actix_web::test::call_service(&app_on, preflight().to_request()).await;
    assert_eq!(
        resp.headers().get("access-control-allow-origin").unwrap(),
        "https://translators.example"
    );
    let other = TestRequest::get()
        .uri("/api/v1/terms/search?q=Hanoi")
        .insert_header(("Origin", "https://elsewhere.example"))
        .to_request();
    let resp = actix_web::test::call_service(&app_on, other).await;
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn the_rate_limit_answers_429_with_retry_after() {
    let fx = Fixture::with_config(ServerConfig {
        rate_limit_per_minute: 3,
        ..ServerConfig::default()
    });
    let app = init_service(app(fx.state.clone())).await;
    let uri = "/api/v1/terms/search?q=Hanoi";
    for _ in 0..3 {
        let (status, _, _) = send(&app, request(Method::GET, uri, Some(&fx.reader), None)).await;
        assert_eq!(status, 200);
    }
    let (status, headers, body) =
        send(&app, request(Method::GET, uri, Some(&fx.reader), None)).await;
    assert_eq!(status, 429, "{body}");
    assert!(headers.get("retry-after").is_some());
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("3 requests a minute"));
    // another key has its own allowance; the page and health checks are not limited
    let (status, _, _) = send(&app, request(Method::GET, uri, Some(&fx.editor), None)).await;
    assert_eq!(status, 200);
    let (status, _, _) = send(
        &app,
        request(Method::GET, "/healthz", Some(&fx.reader), None),
    )
    .await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn a_request_over_the_time_limit_is_abandoned_with_503() {
    let fx = Fixture::with_config(ServerConfig {
        request_timeout: Duration::from_millis(20),
        ..ServerConfig::default()
    });
    let app = init_service(app(fx.state.clone())).await;
    // a check of 5,000 segments takes far longer than 20 ms (about 3 s in a debug build)
    let segments: Vec<serde_json::Value> = (0..5_000)
        .map(|i| {
            serde_json::json!({"id": i.to_string(),
                "source": "The Hanoi Convention fights cybercrime in 2024.",
                "target": "La Convention de Hanoï lutte contre la cybercriminalité en 2024."})
        })
        .collect();
    let body = serde_json::json!({"source_lang": "en", "target_lang": "fr", "segments": segments});
    let req = request(Method::POST, "/api/v1/check", None, Some(body)).to_request();
    let started = std::time::Instant::now();
    // the server turns this error into its response
    let err = match actix_web::test::try_call_service(&app, req).await {
        Ok(resp) => panic!(
            "answered {} in {:?}, over the 20 ms limit",
            resp.status(),
            started.elapsed()
        ),
        Err(err) => err,
    };
    let resp = err.error_response();
    assert_eq!(resp.status(), 503);
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "application/problem+json"
    );
    let body = actix_web::body::to_bytes(resp.into_body()).await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("longer than"),
        "{body}"
    );
}

/// Nice values of the threads of process `pid`, by thread name.
#[cfg(target_os = "linux")]
fn thread_nice(pid: u32) -> Vec<(String, i32)> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // the nice value is field 19, the 17th after the command's closing parenthesis
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let nice = stat[close + 2..]
            .split(' ')
            .nth(16)
            .unwrap()
            .parse()
            .unwrap();
        out.push((comm.trim_end().to_string(), nice));
    }
    out
}

#[cfg(target_os = "linux")]
#[test]
fn imports_and_indexing_run_below_the_priority_of_requests() {
    let dir = tempfile::tempdir().unwrap();
    let server = crate::common::start(dir.path(), &[]);
    assert_eq!(status(&format!("{}/healthz", server.base)), 200);
    // threads tantivy starts after a commit are found within two seconds
    let background = |(name, _): &(String, i32)| {
        ["index-writer", "tm-writer", "thrd-tantivy-"]
            .iter()
            .any(|b| name.starts_with(b))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let threads = loop {
        let threads = thread_nice(server.child.id());
        let settled = threads.iter().filter(|t| background(t)).all(|t| t.1 == 10);
        if settled || std::time::Instant::now() > deadline {
            break threads;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let nice = |prefix: &str| -> Vec<i32> {
        threads
            .iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .map(|(_, n)| *n)
            .collect()
    };
    for background in ["index-writer", "tm-writer", "thrd-tantivy-"] {
        let found = nice(background);
        assert!(!found.is_empty(), "no {background} thread in {threads:?}");
        assert!(found.iter().all(|&n| n == 10), "{background}: {threads:?}");
    }
    let workers = nice("actix-");
    assert!(!workers.is_empty(), "{threads:?}");
    assert!(workers.iter().all(|&n| n == 0), "{threads:?}");
    drop(server);
    // and the same priority for all when asked
    let dir = tempfile::tempdir().unwrap();
    let server = crate::common::start(dir.path(), &["--background-nice", "0"]);
    assert_eq!(status(&format!("{}/healthz", server.base)), 200);
    let threads = thread_nice(server.child.id());
    assert!(threads.iter().all(|(_, n)| *n == 0), "{threads:?}");
}
