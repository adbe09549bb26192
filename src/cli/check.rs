//! `hexaglot check FILE`: consistency checks of an XLIFF, TMX or JSON file against the local
//! termbase or a server, printed for people, as JSON, or as SARIF; exit code 1 on errors.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;
use serde_json::{json, Value};

use super::DataDir;
use crate::check::{self, Input, InputFormat, RequestOptions};
use crate::model::comma_list;
use crate::store::{OpenMode, Store};

/// Options of `hexaglot check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    data: DataDir,
    /// The file to check: XLIFF 1.2/2.x, TMX, or a JSON check request.
    file: PathBuf,
    /// Source language (overrides the file's).
    #[arg(long)]
    source_lang: Option<String>,
    /// Target language (overrides the file's).
    #[arg(long)]
    target_lang: Option<String>,
    /// Output: text (for people), json (the API's report) or sarif (for CI annotations).
    #[arg(long, default_value = "text", value_parser = ["text", "json", "sarif"])]
    format: String,
    /// Checks or groups to run, comma-separated (terminology, consistency, numbers,
    /// untranslated, tags, or check ids); all by default.
    #[arg(long)]
    checks: Option<String>,
    /// Severities, comma-separated CHECK:LEVEL (error, warning, info, off).
    #[arg(long)]
    severity: Option<String>,
    /// Only concepts of these subjects apply (comma-separated).
    #[arg(long)]
    subject: Option<String>,
    /// Only concepts of these collections apply (comma-separated).
    #[arg(long)]
    collection: Option<String>,
    /// Also list every recognised term (json and sarif output).
    #[arg(long)]
    include_terms: bool,
    /// Check through a running server's API instead of opening the data directory.
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// API key (reader) for --server.
    #[arg(long, env = "HEXAGLOT_API_KEY", hide_env_values = true)]
    key: Option<String>,
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let format = InputFormat::from_path(&args.file)
        .or_else(|| InputFormat::sniff(&bytes))
        .with_context(|| {
            format!(
                "{}: not an XLIFF, TMX or JSON file (by its extension or content)",
                args.file.display()
            )
        })?;
    let mut severities = std::collections::BTreeMap::new();
    for item in comma_list(args.severity.as_deref()) {
        let Some((id, level)) = item.split_once(':') else {
            bail!("--severity {item:?}: expected CHECK:LEVEL, e.g. term-missing:error");
        };
        severities.insert(id.trim().to_string(), level.trim().to_string());
    }
    let outside = RequestOptions {
        source_lang: args.source_lang.clone(),
        target_lang: args.target_lang.clone(),
        checks: comma_list(args.checks.as_deref()),
        severities,
        subjects: comma_list(args.subject.as_deref()),
        collections: comma_list(args.collection.as_deref()),
        include_terms: args.include_terms,
    };
    // the input is parsed here in both modes: the text output shows its segments
    let (input, opts) = match check::parse_input(format, &bytes, outside.clone()) {
        Ok(parsed) => parsed,
        Err(check::InputError::Format(e)) => {
            for issue in &e.issues {
                eprintln!(
                    "{}: line {}, column {}: {}",
                    args.file.display(),
                    issue.line,
                    issue.column,
                    issue.message
                );
            }
            eprintln!("error: {} cannot be checked", args.file.display());
            return Ok(ExitCode::from(2));
        }
        Err(e) => bail!("{}: {e}", args.file.display()),
    };
    let report: Value = match &args.server {
        Some(server) => remote(&args, server, format, &bytes, &outside)?,
        None => {
            let store = Store::open(&args.data.data_dir, OpenMode::ReadOnly)?;
            let recognizer = check::build(&store)?;
            serde_json::to_value(check::run(&recognizer, &input, &opts)?)?
        }
    };
    match args.format.as_str() {
        "json" => println!("{}", serde_json::to_string_pretty(&report)?),
        "sarif" => println!(
            "{}",
            serde_json::to_string_pretty(&sarif(&report, &args.file, &input))?
        ),
        _ => print_text(&report, &args.file, &input),
    }
    let errors = report["summary"]["errors"].as_u64().unwrap_or(0);
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn remote(
    args: &CheckArgs,
    server: &str,
    format: InputFormat,
    bytes: &[u8],
    o: &RequestOptions,
) -> anyhow::Result<Value> {
    let mut query = Vec::new();
    let mut param = |k: &str, v: &str| {
        if !v.is_empty() {
            query.push(format!("{k}={}", encode(v)));
        }
    };
    param("source_lang", o.source_lang.as_deref().unwrap_or(""));
    param("target_lang", o.target_lang.as_deref().unwrap_or(""));
    param("checks", &o.checks.join(","));
    param(
        "severity",
        &o.severities
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect::<Vec<_>>()
            .join(","),
    );
    param("subject", &o.subjects.join(","));
    param("collection", &o.collections.join(","));
    if o.include_terms {
        param("include_terms", "true");
    }
    let url = format!(
        "{}/api/v1/check?{}",
        server.trim_end_matches('/'),
        query.join("&")
    );
    let content_type = match format {
        InputFormat::Json => "application/json",
        InputFormat::Xliff => "application/xliff+xml",
        InputFormat::Tmx => "application/x-tmx+xml",
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent.post(&url).header("Content-Type", content_type);
    if let Some(key) = &args.key {
        request = request.header("Authorization", &format!("Bearer {key}"));
    }
    let mut response = request
        .send(bytes)
        .with_context(|| format!("sending {} to {server}", args.file.display()))?;
    let status = response.status();
    let body = response.body_mut().read_to_string()?;
    let value: Value = serde_json::from_str(&body).unwrap_or_default();
    if !status.is_success() {
        for e in value["errors"].as_array().into_iter().flatten() {
            eprintln!(
                "{}: line {}, column {}: {}",
                args.file.display(),
                e["line"],
                e["column"],
                e["message"].as_str().unwrap_or_default()
            );
        }
        bail!(
            "{server} answered {status}: {}",
            value["detail"].as_str().unwrap_or(&body)
        );
    }
    Ok(value)
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~:,".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Segment id → (line in the file, source, target).
fn segments(input: &Input) -> HashMap<String, (u64, String, String)> {
    match input {
        Input::Document(d) => d
            .segments
            .iter()
            .map(|s| {
                let target = s.target.clone().unwrap_or_default();
                (s.id.clone(), (s.line, s.source.clone(), target))
            })
            .collect(),
        Input::Text { text, .. } => {
            HashMap::from([("1".to_string(), (0, String::new(), text.clone()))])
        }
    }
}

/// `text` with the code points `[start, end)` marked.
fn highlight(text: &str, start: usize, end: usize, colour: bool) -> String {
    let (open, close) = if colour {
        ("\x1b[1;31m", "\x1b[0m")
    } else {
        ("[[", "]]")
    };
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == start {
            out.push_str(open);
        }
        out.push(c);
        if i + 1 == end {
            out.push_str(close);
        }
    }
    if start == end || start >= text.chars().count() {
        // an empty span (a missing inline code) or one at the end
        let at: String = text.chars().take(start).collect();
        let rest: String = text.chars().skip(start).collect();
        return format!("{at}{open}^{close}{rest}");
    }
    out
}

fn print_text(report: &Value, file: &std::path::Path, input: &Input) {
    let colour = std::io::stdout().is_terminal();
    let segs = segments(input);
    let empty = Vec::new();
    for issue in report["issues"].as_array().unwrap_or(&empty) {
        let id = issue["segment_id"].as_str().unwrap_or("");
        let side = issue["side"].as_str().unwrap_or("");
        let (line, source, target) = segs.get(id).cloned().unwrap_or_default();
        let location = if line > 0 {
            format!("{}:{line}", file.display())
        } else {
            file.display().to_string()
        };
        println!(
            "{location}: {}[{}] segment {id} ({side}): {}",
            issue["severity"].as_str().unwrap_or(""),
            issue["check"].as_str().unwrap_or(""),
            issue["message"].as_str().unwrap_or("")
        );
        let text = if side == "source" { &source } else { &target };
        let start = issue["start"].as_u64().unwrap_or(0) as usize;
        let end = issue["end"].as_u64().unwrap_or(0) as usize;
        println!(
            "    {}",
            highlight(text, start, end, colour).replace('\n', " ")
        );
    }
    let s = &report["summary"];
    println!(
        "{} segment(s): {} error(s), {} warning(s), {} info",
        s["segments"], s["errors"], s["warnings"], s["info"]
    );
}

/// The report as SARIF 2.1.0: one result per issue, located by line and segment.
fn sarif(report: &Value, file: &std::path::Path, input: &Input) -> Value {
    let segs = segments(input);
    let uri = file.display().to_string();
    let empty = Vec::new();
    let results: Vec<Value> = report["issues"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|i| {
            let id = i["segment_id"].as_str().unwrap_or("");
            let line = segs.get(id).map_or(0, |s| s.0);
            let level = match i["severity"].as_str() {
                Some("error") => "error",
                Some("warning") => "warning",
                _ => "note",
            };
            let mut location = json!({
                "physicalLocation": {"artifactLocation": {"uri": uri}},
                "logicalLocations": [{"name": format!("{id}/{}", i["side"].as_str().unwrap_or("")),
                                      "kind": "segment"}]
            });
            if line > 0 {
                location["physicalLocation"]["region"] = json!({"startLine": line});
            }
            json!({
                "ruleId": i["check"],
                "level": level,
                "message": {"text": i["message"]},
                "locations": [location],
                "properties": {"segment_id": id, "side": i["side"], "start": i["start"],
                               "end": i["end"], "text": i["text"], "concept_id": i["concept_id"],
                               "expected": i["expected"]}
            })
        })
        .collect();
    let rules: Vec<Value> = check::CheckId::ALL
        .iter()
        .map(|c| json!({"id": c.as_str(), "defaultConfiguration": {"level": match c.default_severity() {
            check::Severity::Error => "error", check::Severity::Warning => "warning", check::Severity::Info => "note"}}}))
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "hexaglot", "version": env!("CARGO_PKG_VERSION"),
                                "informationUri": "https://hexaglot.dev", "rules": rules}},
            "results": results
        }]
    })
}
