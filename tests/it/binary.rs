//! The real `hexaglot` binary: serve on port 0, search, keys added by the CLI while it runs.

use std::process::Command;
use std::time::Duration;

use crate::common::{enc, start};

const BIN: &str = env!("CARGO_BIN_EXE_hexaglot");

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn get_json(url: &str, key: Option<&str>) -> (u16, serde_json::Value) {
    let mut req = agent().get(url);
    if let Some(key) = key {
        req = req.header("Authorization", &format!("Bearer {key}"));
    }
    let mut resp = req.call().unwrap();
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}

fn hexaglot(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("HEXAGLOT_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn serve_search_and_manage_keys_with_the_real_binary() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    let server = start(dir.path(), &["--require-auth"]);
    let (status, _) = get_json(&format!("{}/healthz", server.base), None);
    assert_eq!(status, 200);
    let search = format!("{}/api/v1/terms/search?q={}", server.base, enc("Hanoi"));
    let (status, body) = get_json(&search, None);
    assert_eq!(status, 401, "{body}");

    // a key added by the CLI while the server runs works at once
    let out = hexaglot(&[
        "keys",
        "add",
        "--role",
        "admin",
        "--name",
        "ops",
        "--data-dir",
        &data,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(key.starts_with("hxk_") && key.len() >= 36, "{key}");
    let (status, body) = get_json(&search, Some(&key));
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> = body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["concept"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["hanoi", "hanoi-convention"]);
    let listed = hexaglot(&["keys", "list", "--json", "--data-dir", &data]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["name"], "ops");
    assert!(
        !String::from_utf8_lossy(&std::fs::read(dir.path().join("keys.json")).unwrap())
            .contains(&key)
    );

    // a local import while the server holds the writer says so; --server goes through the API
    let tsv = dir.path().join("extra.tsv");
    std::fs::write(
        &tsv,
        "concept_id\tlang\tterm\tstatus\nbudapest\ten\tBudapest Convention\tpreferred\n",
    )
    .unwrap();
    let tsv = tsv.to_str().unwrap();
    let out = hexaglot(&["import", tsv, "--data-dir", &data]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use") && err.contains("--server"), "{err}");
    let out = hexaglot(&[
        "import",
        tsv,
        "--server",
        &server.base,
        "--key",
        &key,
        "--collection",
        "extra",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 added"));

    // the CLI search reads the same data dir while the server runs
    let out = hexaglot(&["search", "budapest", "--json", "--data-dir", &data]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(found["hits"][0]["concept"]["id"], "budapest");
    let out = hexaglot(&[
        "search",
        "киберпреступности",
        "--lang",
        "ru",
        "--data-dir",
        &data,
    ]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("киберпреступность *") && table.contains("网络犯罪"),
        "{table}"
    );

    // revoking through the CLI takes effect without a restart
    let out = hexaglot(&["keys", "revoke", "ops", "--data-dir", &data]);
    assert!(out.status.success());
    let (status, _) = get_json(&search, Some(&key));
    assert_eq!(status, 401);
}

#[test]
fn restarting_never_loads_the_sample_twice() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let server = start(dir.path(), &[]);
        let (status, body) = get_json(&format!("{}/api/v1/stats", server.base), None);
        assert_eq!(status, 200);
        assert_eq!(body["concepts"], 54, "{body}");
        // SIGTERM: graceful stop
        let _ = Command::new("kill")
            .arg(server.child.id().to_string())
            .status();
        let mut server = server;
        let exit = server.child.wait().unwrap();
        assert!(exit.success(), "graceful shutdown exits 0: {exit:?}");
    }
    // the CLI exports what the server loaded
    let data = dir.path().to_str().unwrap();
    let out = dir.path().join("sample.csv");
    let run = hexaglot(&[
        "export",
        "--format",
        "csv",
        "--data-dir",
        data,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let csv = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + 415,
        "a header and one row per term"
    );
    let tbx = hexaglot(&["export", "--lang", "ar", "--data-dir", data]);
    let tbx = String::from_utf8(tbx.stdout).unwrap();
    assert!(tbx.contains("<langSec xml:lang=\"ar\">") && !tbx.contains("xml:lang=\"fr\""));
    assert_eq!(tbx.matches("<conceptEntry ").count(), 54);
}

#[test]
fn cli_reports_bad_files_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "concept_id,lang,term,status\nc1,en,fine,preferred\nc2,en,broken,superb\n",
    )
    .unwrap();
    let out = hexaglot(&[
        "import",
        bad.to_str().unwrap(),
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv: line 3, column 4"), "{err}");
    let help = hexaglot(&["import", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("--dry-run"));
}

#[test]
fn cli_imports_an_xliff_files_translations_into_the_memory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let file = crate::common::corpus("xliff/oasis-21-everything-core.xlf");
    let import = || {
        hexaglot(&[
            "import",
            file.to_str().unwrap(),
            "--data-dir",
            data,
            "--collection",
            "oasis",
        ])
    };
    let out = import();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("xliff into \"oasis\": 2 units added"),
        "{said}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("3 segments without a target"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = String::from_utf8_lossy(&import().stdout).to_string();
    assert!(again.contains("0 units added, 2 duplicates"), "{again}");
}
