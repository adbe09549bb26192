//! `hexaglot import FILE`: locally into the data directory, or through a server's API.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;

use super::DataDir;
use crate::import::{self, ImportError, ImportFormat, ImportMode, ImportOptions, ImportReport};
use crate::store::{OpenMode, Store};

/// Options of `hexaglot import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    data: DataDir,
    /// The file: a glossary in CSV, TSV (UTF-8 or UTF-16 with BOM), TBX (2019 or v2 `martif`) or
    /// XLSX, or a translation memory in TMX or XLIFF 1.2/2.x (its translated segments).
    file: PathBuf,
    /// File format; guessed from the extension or the content when absent.
    #[arg(long, value_parser = ["csv", "tsv", "tbx", "xlsx", "tmx", "xliff"])]
    format: Option<String>,
    /// XLSX: the sheet to read (the first one by default).
    #[arg(long)]
    sheet: Option<String>,
    /// Collection to import into.
    #[arg(long, default_value = "default")]
    collection: String,
    /// merge: add to what is there; replace: the file becomes the collection.
    #[arg(long, default_value = "merge", value_parser = ["merge", "replace"])]
    mode: String,
    /// Report what would change without changing anything.
    #[arg(long)]
    dry_run: bool,
    /// Import through a running server's API instead of opening the data directory.
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// API key (admin) for --server.
    #[arg(long, env = "HEXAGLOT_API_KEY", hide_env_values = true)]
    key: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    if args.server.is_none() {
        // opening the data directory analyses sample texts, Chinese among them (the index's
        // analysis fingerprint): the segmenter's dictionary loads while the file is read
        std::thread::spawn(crate::lang::load_segmenter);
    }
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let format = match &args.format {
        Some(name) => ImportFormat::from_name(name),
        None => ImportFormat::from_path(&args.file).or_else(|| ImportFormat::sniff(&bytes)),
    }
    .with_context(|| {
        format!(
            "{}: cannot tell the format; pass --format csv, tsv, tbx, xlsx, tmx or xliff",
            args.file.display()
        )
    })?;
    let mode: ImportMode = args.mode.parse().map_err(anyhow::Error::msg)?;
    if let Some(server) = &args.server {
        return remote(&args, server, format, bytes);
    }
    if format.is_memory() {
        return import_memory(&args, format, mode, bytes);
    }
    let store = Store::open(&args.data.data_dir, OpenMode::ReadWrite)?;
    let opts = ImportOptions {
        collection: args.collection.clone(),
        mode,
        dry_run: args.dry_run,
    };
    // a progress bar on a terminal (hidden when stderr is not one)
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} concepts ({eta})")
            .expect("a valid template"),
    );
    bar.set_message(if args.dry_run {
        "checking"
    } else {
        "importing"
    });
    let shown = bar.clone();
    let progress: import::Progress = std::sync::Arc::new(move |done, total| {
        shown.set_length(total);
        shown.set_position(done);
    });
    let report = import::import(
        &store,
        bytes,
        format,
        args.sheet.as_deref(),
        &opts,
        Some(progress),
    );
    bar.finish_and_clear();
    store.close();
    let report = match report {
        Ok(report) => report,
        Err(ImportError::Format(e)) => return Ok(refused(&args, &e)),
        Err(ImportError::Store(e)) => return Err(e.into()),
    };
    print_report(&report, args.json)?;
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &ImportReport, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    for w in &report.warnings {
        match w.line {
            Some(line) => eprintln!("warning: line {line}: {}", w.message),
            None => eprintln!("warning: {}", w.message),
        }
    }
    if report.format == "tmx" || report.format == "xliff" {
        let u = &report.units;
        println!(
            "{}{} into {:?}: {} units added, {} duplicates",
            if report.dry_run { "dry run: " } else { "" },
            report.format,
            report.collection,
            u.added,
            u.duplicates
        );
        return Ok(());
    }
    let c = &report.concepts;
    println!(
        "{}{} into {:?}: {} added, {} updated, {} unchanged, {} removed",
        if report.dry_run { "dry run: " } else { "" },
        report.format,
        report.collection,
        c.added,
        c.updated,
        c.unchanged,
        c.removed
    );
    Ok(())
}

fn remote(
    args: &ImportArgs,
    server: &str,
    format: ImportFormat,
    bytes: Vec<u8>,
) -> anyhow::Result<ExitCode> {
    let url = format!(
        "{}/api/v1/import?format={}&collection={}&mode={}&dry_run={}{}",
        server.trim_end_matches('/'),
        format.name(),
        args.collection,
        args.mode,
        args.dry_run,
        args.sheet
            .as_deref()
            .map(|s| format!("&sheet={s}"))
            .unwrap_or_default()
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent.post(&url);
    if let Some(key) = &args.key {
        request = request.header("Authorization", &format!("Bearer {key}"));
    }
    let mut response = request
        .send(&bytes[..])
        .with_context(|| format!("sending {} to {server}", args.file.display()))?;
    let status = response.status();
    let body = response.body_mut().read_to_string()?;
    let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
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
    if args.json {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else if format.is_memory() {
        println!(
            "{}{} into {:?} via {server}: {} units added, {} duplicates",
            if args.dry_run { "dry run: " } else { "" },
            format.name(),
            args.collection,
            value["units"]["added"],
            value["units"]["duplicates"]
        );
    } else {
        let c = &value["concepts"];
        println!(
            "{}{} into {:?} via {server}: {} added, {} updated, {} unchanged, {} removed",
            if args.dry_run { "dry run: " } else { "" },
            format.name(),
            args.collection,
            c["added"],
            c["updated"],
            c["unchanged"],
            c["removed"]
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints why a file was refused; exit code 2.
fn refused(args: &ImportArgs, e: &crate::formats::FormatError) -> ExitCode {
    for issue in &e.issues {
        eprintln!(
            "{}: line {}, column {}: {}",
            args.file.display(),
            issue.line,
            issue.column,
            issue.message
        );
    }
    eprintln!(
        "error: {} not imported (nothing was changed)",
        args.file.display()
    );
    ExitCode::from(2)
}

/// A TMX file (or XLIFF's translated segments) into the data directory's translation memory; a
/// TMX file streams into the transaction as it is read.
fn import_memory(
    args: &ImportArgs,
    format: ImportFormat,
    mode: ImportMode,
    bytes: Vec<u8>,
) -> anyhow::Result<ExitCode> {
    let parsed = match format {
        ImportFormat::Tmx => None,
        _ => match format.read_memory(&bytes) {
            Ok(p) => Some(p),
            Err(e) => return Ok(refused(args, &e)),
        },
    };
    let tm = crate::store::tm::TmStore::open(&args.data.data_dir, OpenMode::ReadWrite)?;
    let opts = ImportOptions {
        collection: args.collection.clone(),
        mode,
        dry_run: args.dry_run,
    };
    let origin = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let report = match parsed {
        Some(parsed) => crate::tm::import_tmx(&tm, parsed, &opts, origin.as_deref(), None)
            .map_err(ImportError::Store),
        None => crate::tm::import_tmx_file(&tm, bytes, &opts, origin.as_deref(), None),
    };
    tm.close();
    let mut report = match report {
        Ok(report) => report,
        Err(ImportError::Format(e)) => return Ok(refused(args, &e)),
        Err(ImportError::Store(e)) => return Err(e.into()),
    };
    report.format = format.name();
    print_report(&report, args.json)?;
    Ok(ExitCode::SUCCESS)
}
