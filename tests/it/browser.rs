//! The web page in a real browser: headless Chromium driven by playwright-core
//! (`tests/browser/e2e.mjs`) against the real binary. `.ci/run` installs Chromium, fonts and
//! playwright-core; without them this test fails and says what to install. Screenshots of each
//! scenario are kept in `test-artifacts/browser/`.

use std::process::Command;
use std::time::Duration;

use crate::common::{add_key, corpus, repo, start};

fn post_json(url: &str, key: &str, body: serde_json::Value) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut resp = agent
        .post(url)
        .header("Authorization", &format!("Bearer {key}"))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap())
}

#[test]
fn the_page_works_in_headless_chromium() {
    let driver = repo().join("tests/browser/node_modules/playwright-core");
    assert!(
        driver.exists() && std::path::Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Chromium and playwright-core: apt-get install -y chromium \
         chromium-driver fonts-noto-core fonts-noto-cjk; npm ci --prefix tests/browser \
         (bash .ci/run does both)"
    );
    let open_dir = tempfile::tempdir().unwrap();
    let open = start(open_dir.path(), &[]);
    let editor = add_key(open_dir.path(), "editor", "editor");
    let admin = add_key(open_dir.path(), "admin", "admin");
    let unit = serde_json::json!({"variants": {
        "en": "The Convention against Cybercrime was signed in Hanoi in 2024.",
        "fr": "La Convention contre la cybercriminalité a été signée à Hanoï en 2024."}});
    let (status, body) = post_json(&format!("{}/api/v1/tm/units", open.base), &editor, unit);
    assert_eq!(status, 201, "{body}");

    let locked_dir = tempfile::tempdir().unwrap();
    let locked = start(locked_dir.path(), &["--require-auth"]);
    let reader = add_key(locked_dir.path(), "reader", "reader");

    let artefacts = repo().join("test-artifacts/browser");
    let out = Command::new("node")
        .arg(repo().join("tests/browser/e2e.mjs"))
        .arg(&open.base)
        .arg(&artefacts)
        .env("BASE_URL_LOCKED", &locked.base)
        .env("HEXAGLOT_TEST_KEY", &reader)
        .env("HEXAGLOT_ADMIN_KEY", &admin)
        .env("XLIFF_FILE", corpus("xliff/okapi-memoq-12.xlf"))
        .output()
        .expect("node runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("all scenarios passed"), "{report}");
    for shot in [
        "search-hanoi",
        "deprecated-struck-through",
        "tm-lookup",
        "check-missing-term",
        "check-xliff-file",
        "import-glossary",
        "key-required",
    ] {
        let path = artefacts.join(format!("{shot}.png"));
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{}: {size} bytes", path.display());
    }
}
