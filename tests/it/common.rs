//! Shared fixtures: an in-process app on a temporary data directory, and request helpers.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use hexaglot::auth::{KeyStore, Role};
use hexaglot::server::{AppState, ServerConfig};
use hexaglot::store::tm::TmStore;
use hexaglot::store::{OpenMode, Store};
use serde_json::Value;

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file of the shared corpora.
pub fn corpus(path: &str) -> PathBuf {
    repo().join("../shared/corpora").join(path)
}

/// A data directory with the sample glossary loaded, and one key per role.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub state: AppState,
    pub reader: String,
    pub editor: String,
    pub admin: String,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture::with_config(ServerConfig::default())
    }

    pub fn with_config(config: ServerConfig) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
        let tm = TmStore::open(dir.path(), OpenMode::ReadWrite).unwrap();
        hexaglot::import::seed(&store, Some(&repo().join("glossaries"))).unwrap();
        let keys = KeyStore::open(dir.path()).unwrap();
        let reader = keys.add("reader", Role::Reader).unwrap().1;
        let editor = keys.add("editor", Role::Editor).unwrap().1;
        let admin = keys.add("admin", Role::Admin).unwrap().1;
        Fixture {
            dir,
            state: AppState {
                store,
                tm,
                keys,
                search_cache: hexaglot::server::SearchCache::new(config.search_cache_entries),
                config,
                checker: Default::default(),
                limiter: Default::default(),
            },
            reader,
            editor,
            admin,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A POST of a file's bytes with an admin key and a content type.
pub fn upload(uri: &str, key: &str, bytes: Vec<u8>, content_type: &str) -> TestRequest {
    TestRequest::default()
        .method(Method::POST)
        .uri(uri)
        .insert_header(("Authorization", format!("Bearer {key}")))
        .insert_header(("content-type", content_type.to_string()))
        .set_payload(bytes)
}

/// A request with an optional key and JSON body.
pub fn request(method: Method, uri: &str, key: Option<&str>, body: Option<Value>) -> TestRequest {
    let mut req = TestRequest::default().method(method).uri(uri);
    if let Some(key) = key {
        req = req.insert_header(("Authorization", format!("Bearer {key}")));
    }
    if let Some(body) = body {
        req = req.set_json(body);
    }
    req
}

/// Sends a request; returns the status, the headers and the body parsed as JSON (Null if empty).
pub async fn send<S, B>(
    app: &S,
    req: TestRequest,
) -> (StatusCode, actix_web::http::header::HeaderMap, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let resp = actix_web::test::call_service(app, req.to_request()).await;
    let status = resp.status();
    let headers = resp.headers().clone();
    if status.is_client_error() || status.is_server_error() {
        let ct = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert_eq!(
            ct, "application/problem+json",
            "error {status} without problem+json"
        );
    }
    let bytes = actix_web::test::read_body(resp).await;
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    (status, headers, value)
}

/// GET with a key; returns status and body.
pub async fn get<S, B>(app: &S, uri: &str, key: Option<&str>) -> (StatusCode, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let (status, _, body) = send(app, request(Method::GET, uri, key, None)).await;
    (status, body)
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Ids of the hits of a search response, in order.
pub fn hit_ids(body: &Value) -> Vec<String> {
    body["hits"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|h| h["concept"]["id"].as_str().unwrap().to_string())
        .collect()
}

/// The concept `id` of a parsed glossary (panics when absent).
pub fn concept<'a>(
    g: &'a hexaglot::formats::ParsedGlossary,
    id: &str,
) -> &'a hexaglot::model::Concept {
    g.concepts
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no concept {id}"))
}

/// `text` as UTF-16 with a byte order mark.
pub fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut bytes = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        let pair = if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        };
        bytes.extend_from_slice(&pair);
    }
    bytes
}

/// A `hexaglot serve` child process on a free port, killed when dropped.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the real binary on `data_dir` with the shipped glossaries and `extra` flags.
pub fn start(data_dir: &std::path::Path, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hexaglot"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .arg("--glossaries")
        .arg(repo().join("glossaries"))
        .args(extra)
        .env("HEXAGLOT_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines.next().expect("server printed its address").unwrap();
        if let Some(addr) = line.strip_prefix("listening on ") {
            break addr.to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server { child, base }
}

/// Adds an API key with `role` named `name` to `data_dir` through the real binary's CLI; returns
/// the secret.
pub fn add_key(data_dir: &std::path::Path, role: &str, name: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hexaglot"))
        .args(["keys", "add", "--role", role, "--name", name, "--data-dir"])
        .arg(data_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
