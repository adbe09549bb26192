//! The `hexaglot` command line: argument parsing and one thin function per subcommand.

mod check;
mod export;
mod import;
mod keys;
mod search;
mod serve;
mod tm;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Terminology and translation-memory server for the six official UN languages.
#[derive(Debug, Parser)]
#[command(name = "hexaglot", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The data directory option every subcommand takes.
#[derive(Debug, Clone, Args)]
pub struct DataDir {
    /// Directory holding the index and the API keys.
    #[arg(
        long,
        global = true,
        env = "HEXAGLOT_DATA_DIR",
        default_value = "index",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (API at /api/v1, web page at /).
    Serve(serve::ServeArgs),
    /// Import a glossary (CSV, TSV, TBX, XLSX) or a translation memory (TMX) into a collection.
    Import(import::ImportArgs),
    /// Export collections as TBX (2019 or v2) or CSV, or the translation memory as TMX.
    Export(export::ExportArgs),
    /// Check an XLIFF, TMX or JSON file against the termbase (exit code 1 on errors).
    Check(check::CheckArgs),
    /// Search the termbase from the command line.
    Search(search::SearchArgs),
    /// Manage API keys.
    Keys(keys::KeysArgs),
    /// Translation memory: fuzzy lookup, concordance, adding a unit.
    Tm(tm::TmArgs),
}

/// Runs the parsed command line.
/// `matches` are the parsed arguments `cli` came from, when the caller has them: `serve` uses them
/// to tell settings given on the command line or in the environment from defaults.
pub fn run(cli: Cli, matches: Option<&clap::ArgMatches>) -> anyhow::Result<std::process::ExitCode> {
    match cli.command {
        Command::Serve(args) => {
            serve::run(args, matches.and_then(|m| m.subcommand_matches("serve")))
        }
        Command::Import(args) => import::run(args),
        Command::Export(args) => export::run(args),
        Command::Search(args) => search::run(args),
        Command::Check(args) => check::run(args),
        Command::Keys(args) => keys::run(args),
        Command::Tm(args) => tm::run(args),
    }
}
