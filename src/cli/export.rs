//! `hexaglot export`: write collections as TBX, TBX v2 or CSV.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::DataDir;
use crate::formats::export::{ExportFilter, ExportFormat};
use crate::lang::LangTag;
use crate::model::comma_list;
use crate::store::tm::TmStore;
use crate::store::{OpenMode, Store};

/// Options of `hexaglot export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    data: DataDir,
    /// tbx (TBX 2019, TBX-Basic DCA), tbx-v2 (martif, for older tools), csv (one term a row), or
    /// tmx (the translation memory's units, TMX 1.4b).
    #[arg(long, default_value = "tbx", value_parser = ["tbx", "tbx-v2", "csv", "tmx"])]
    format: String,
    /// Only these languages, comma-separated (en,fr,zh-CN ...).
    #[arg(long)]
    lang: Option<String>,
    /// Only concepts with one of these subjects, comma-separated.
    #[arg(long)]
    subject: Option<String>,
    /// Only these collections, comma-separated (all by default).
    #[arg(long)]
    collection: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

fn split(value: &Option<String>) -> Vec<String> {
    comma_list(value.as_deref())
}

pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let langs = split(&args.lang)
        .iter()
        .map(|l| LangTag::parse(l).map(|t| t.primary))
        .collect::<Result<Vec<_>, _>>()?;
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    if args.format == "tmx" {
        let tm = TmStore::open(&args.data.data_dir, OpenMode::ReadOnly)?;
        let collections = split(&args.collection);
        let written = crate::tm::export_tmx(&tm, &collections, &langs, BufWriter::new(out))?;
        eprintln!("exported {written} units as tmx");
        return Ok(ExitCode::SUCCESS);
    }
    let format = ExportFormat::from_name(&args.format).context("unknown export format")?;
    let filter = ExportFilter {
        langs,
        subjects: split(&args.subject),
    };
    let store = Store::open(&args.data.data_dir, OpenMode::ReadOnly)?;
    let written = crate::export::export(
        &store,
        &split(&args.collection),
        format,
        &filter,
        BufWriter::new(out),
    )?;
    eprintln!("exported {written} concepts as {}", args.format);
    Ok(ExitCode::SUCCESS)
}
