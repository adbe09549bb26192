//! `hexaglot search QUERY`: a table with one row per concept and a column per language.

use std::process::ExitCode;

use clap::Args;
use comfy_table::{ContentArrangement, Table};

use super::DataDir;
use crate::lang::{Lang, LangTag};
use crate::model::TermStatus;
use crate::search::{self, SearchRequest, SearchResponse};
use crate::store::{OpenMode, Store};

/// Options of `hexaglot search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    data: DataDir,
    /// The term to look for, in any language.
    query: String,
    /// Only match terms in this language (en, fr-CA, zh_CN ...).
    #[arg(long)]
    lang: Option<String>,
    /// auto, exact, prefix or fuzzy.
    #[arg(long, default_value = "auto")]
    mode: String,
    /// Collections to search, comma-separated, in priority order.
    #[arg(long)]
    collection: Option<String>,
    /// Largest number of concepts shown.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Print the API's JSON response instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: SearchArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(&args.data.data_dir, OpenMode::ReadOnly)?;
    let request = SearchRequest {
        q: args.query.clone(),
        lang: args.lang.as_deref().map(LangTag::parse).transpose()?,
        mode: args.mode.parse()?,
        limit: args.limit,
        collections: args
            .collection
            .as_deref()
            .map(|c| c.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default(),
        ..SearchRequest::default()
    };
    let response = search::search(&store, &request)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&response)?);
    } else if response.hits.is_empty() {
        eprintln!("no concept matches {:?}", response.query);
        return Ok(ExitCode::from(1));
    } else {
        println!("{}", table(&response));
        eprintln!(
            "{} of {} concept(s); * preferred, [status] for others, ~ marks the matched term",
            response.hits.len(),
            response.total
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn table(response: &SearchResponse) -> Table {
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_content_arrangement(ContentArrangement::Dynamic);
    let mut header = vec!["concept".to_string()];
    header.extend(Lang::UN.iter().map(|l| l.code().to_string()));
    table.set_header(header);
    for hit in &response.hits {
        let mut row = vec![format!("{}\n({})", hit.concept.id, hit.concept.collection)];
        for lang in Lang::UN {
            let cell = hit
                .concept
                .languages
                .get(lang.code())
                .map(|section| {
                    section
                        .terms
                        .iter()
                        .map(|t| {
                            let matched = hit
                                .matched
                                .iter()
                                .any(|m| m.lang == lang.code() && m.text == t.text);
                            let mark = if matched { "~" } else { "" };
                            match t.status {
                                TermStatus::Preferred => format!("{mark}{} *", t.text),
                                other => format!("{mark}{} [{other}]", t.text),
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default();
            row.push(cell);
        }
        table.add_row(row);
    }
    table
}
