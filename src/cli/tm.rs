//! `hexaglot tm`: fuzzy lookup, concordance and adding units, on the data directory's TM.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use comfy_table::{ContentArrangement, Table};

use super::DataDir;
use crate::lang::LangTag;
use crate::model::{comma_list, TranslationUnit};
use crate::search::tm::{
    concordance, lookup, ConcordanceRequest, DiffKind, LookupRequest, DEFAULT_MIN_SCORE,
};
use crate::store::tm::TmStore;
use crate::store::OpenMode;
use crate::tm::{add_units, normalize_unit, Stored};

/// Options of `hexaglot tm`.
#[derive(Debug, Args)]
pub struct TmArgs {
    #[command(flatten)]
    data: DataDir,
    #[command(subcommand)]
    command: TmCommand,
}

/// What `hexaglot tm` does.
#[derive(Debug, Subcommand)]
enum TmCommand {
    /// Fuzzy match: the stored units whose source is closest to TEXT, with scores.
    Lookup {
        /// The segment to translate.
        text: String,
        /// Its language.
        #[arg(long)]
        from: String,
        /// Target languages, comma-separated (all the unit's others when absent).
        #[arg(long)]
        to: Option<String>,
        /// Lowest score shown.
        #[arg(long, default_value_t = DEFAULT_MIN_SCORE)]
        min_score: u8,
        /// Most matches shown.
        #[arg(long, default_value_t = 5)]
        limit: usize,
        /// Collections, comma-separated, in priority order (all when absent).
        #[arg(long)]
        collection: Option<String>,
        /// Print the API's JSON response.
        #[arg(long)]
        json: bool,
    },
    /// Concordance: units whose text in LANG has every word of QUERY, with their translations.
    Concordance {
        /// Words or phrase to find.
        query: String,
        /// Language of the query.
        #[arg(long)]
        lang: String,
        /// Languages shown beside it, comma-separated (all when absent).
        #[arg(long)]
        to: Option<String>,
        /// Most units shown.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Collections, comma-separated (all when absent).
        #[arg(long)]
        collection: Option<String>,
        /// Print the API's JSON response.
        #[arg(long)]
        json: bool,
    },
    /// Add one unit: `hexaglot tm add en="Hello" fr="Bonjour"`.
    Add {
        /// The unit's texts as LANG=TEXT.
        #[arg(required = true, num_args = 1..)]
        variants: Vec<String>,
        /// Collection.
        #[arg(long, default_value = "default")]
        collection: String,
        /// Unit id (derived from the texts when absent).
        #[arg(long)]
        id: Option<String>,
    },
}

/// Runs `hexaglot tm`.
pub fn run(args: TmArgs) -> anyhow::Result<ExitCode> {
    let dir = &args.data.data_dir;
    match args.command {
        TmCommand::Lookup {
            text,
            from,
            to,
            min_score,
            limit,
            collection,
            json,
        } => {
            let tm = TmStore::open(dir, OpenMode::ReadOnly)?;
            let request = LookupRequest {
                text,
                source_lang: LangTag::parse(&from)?,
                target_langs: comma_list(to.as_deref()),
                min_score,
                limit,
                collections: comma_list(collection.as_deref()),
            };
            let response = lookup(&tm, &request)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&response)?);
                return Ok(ExitCode::SUCCESS);
            }
            if response.matches.is_empty() {
                eprintln!("no match at {min_score} or above");
                return Ok(ExitCode::from(1));
            }
            let mut table = new_table(&["score", "source (-deleted +inserted)", "targets"]);
            for m in &response.matches {
                let diff: String = m
                    .diff
                    .iter()
                    .map(|d| match d.op {
                        DiffKind::Equal => d.text.clone(),
                        DiffKind::Delete => format!("[-{}-]", d.text),
                        DiffKind::Insert => format!("{{+{}+}}", d.text),
                    })
                    .collect();
                let score = if m.number_only {
                    format!("{} (numbers)", m.score)
                } else {
                    m.score.to_string()
                };
                table.add_row(vec![score, diff, lines(&m.targets)]);
            }
            println!("{table}");
        }
        TmCommand::Concordance {
            query,
            lang,
            to,
            limit,
            collection,
            json,
        } => {
            let tm = TmStore::open(dir, OpenMode::ReadOnly)?;
            let request = ConcordanceRequest {
                q: query,
                lang: LangTag::parse(&lang)?,
                targets: comma_list(to.as_deref()),
                limit,
                collections: comma_list(collection.as_deref()),
            };
            let response = concordance(&tm, &request)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&response)?);
                return Ok(ExitCode::SUCCESS);
            }
            if response.hits.is_empty() {
                eprintln!("no unit has {:?}", response.query);
                return Ok(ExitCode::from(1));
            }
            let mut table = new_table(&[lang.as_str(), "targets"]);
            for hit in &response.hits {
                // matched spans in brackets
                let chars: Vec<char> = hit.source.chars().collect();
                let mut marked = String::new();
                let mut at = 0;
                for h in &hit.highlights {
                    marked.extend(&chars[at..h.start]);
                    marked.push('[');
                    marked.extend(&chars[h.start..h.end]);
                    marked.push(']');
                    at = h.end;
                }
                marked.extend(&chars[at..]);
                table.add_row(vec![marked, lines(&hit.targets)]);
            }
            println!("{table}");
            eprintln!("{} of {} unit(s)", response.hits.len(), response.total);
        }
        TmCommand::Add {
            variants,
            collection,
            id,
        } => {
            let mut texts = BTreeMap::new();
            for v in &variants {
                let (lang, text) = v
                    .split_once('=')
                    .with_context(|| format!("{v:?}: write LANG=TEXT"))?;
                texts.insert(lang.trim().to_string(), text.to_string());
            }
            let unit = TranslationUnit {
                id: id.unwrap_or_default(),
                collection: collection.clone(),
                variants: texts,
                origin: Some("cli".into()),
                note: None,
                source_lang: None,
                created_at: String::new(),
                changed_at: None,
                tmx: Default::default(),
            };
            let unit = normalize_unit(unit, &collection).map_err(anyhow::Error::msg)?;
            let tm = TmStore::open(dir, OpenMode::ReadWrite)?;
            let stored = add_units(&tm, vec![unit])?;
            tm.close();
            match &stored[0] {
                Stored::Added(u) => println!("added unit {:?} to {:?}", u.id, u.collection),
                Stored::Duplicate(u) => {
                    println!("already stored as unit {:?} in {:?}", u.id, u.collection)
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_content_arrangement(ContentArrangement::Dynamic);
    table.set_header(header.to_vec());
    table
}

fn lines(targets: &BTreeMap<String, String>) -> String {
    targets
        .iter()
        .map(|(l, t)| format!("{l}: {t}"))
        .collect::<Vec<_>>()
        .join("\n")
}
