//! `hexaglot serve`.
//!
//! Settings come from the command line, then the environment, then the TOML file of `--config`
//! (`HEXAGLOT_CONFIG`), then the defaults: a flag or variable given wins over the file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args};
use serde::Deserialize;

use super::DataDir;
use crate::auth::KeyStore;
use crate::server::{self, ServeOptions, ServerConfig};
use crate::store::{OpenMode, Store};

/// Options of `hexaglot serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    data: DataDir,
    /// TOML file with any of the settings below (flags and environment variables win over it).
    #[arg(long, env = "HEXAGLOT_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(long, env = "HEXAGLOT_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// Glossaries loaded into an empty data directory on first start (the embedded sample when
    /// the directory does not exist).
    #[arg(
        long,
        env = "HEXAGLOT_GLOSSARIES",
        default_value = "glossaries",
        value_name = "DIR"
    )]
    glossaries: PathBuf,
    /// Require an API key for every request (no anonymous read).
    #[arg(long, env = "HEXAGLOT_REQUIRE_AUTH")]
    require_auth: bool,
    /// Largest import body, in MiB.
    #[arg(long, env = "HEXAGLOT_MAX_IMPORT_MIB", default_value_t = 64)]
    max_import_mib: usize,
    /// Largest body of other requests, in KiB.
    #[arg(long, env = "HEXAGLOT_MAX_BODY_KIB", default_value_t = 1024)]
    max_body_kib: usize,
    /// Origins allowed to call the API from a browser (CORS), comma-separated; `*` for any. Off
    /// when empty.
    #[arg(
        long,
        env = "HEXAGLOT_CORS_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    cors_origins: Vec<String>,
    /// Requests per minute allowed per API key (and per client address without a key); 0: no
    /// limit.
    #[arg(long, env = "HEXAGLOT_RATE_LIMIT", default_value_t = 0)]
    rate_limit: u32,
    /// Longest time a request may take, in seconds, imports and exports excepted (they are bounded
    /// by their size).
    #[arg(long, env = "HEXAGLOT_REQUEST_TIMEOUT", default_value_t = 60)]
    request_timeout: u64,
    /// Term-search responses kept for the termbase's current commit (a repeated query is
    /// answered from memory until the next write); 0 turns the cache off.
    #[arg(long, env = "HEXAGLOT_SEARCH_CACHE", default_value_t = server::DEFAULT_SEARCH_CACHE_ENTRIES)]
    search_cache: usize,
    /// Longest time, in milliseconds, a commit spends answering the cached term searches again
    /// before readers see it (the write returns after it); 0: the cache starts empty after each
    /// write.
    #[arg(long, env = "HEXAGLOT_SEARCH_CACHE_WARM_MS", default_value_t = server::DEFAULT_SEARCH_CACHE_WARM_MS)]
    search_cache_warm_ms: u64,
    /// Nice value of the threads that import, index, merge and rebuild (0-19): higher lets
    /// requests take the CPU from a running import; 0 gives both the same priority.
    #[arg(long, env = "HEXAGLOT_BACKGROUND_NICE", default_value_t = 10, value_parser = clap::value_parser!(i32).range(0..=19))]
    background_nice: i32,
}

/// The `--config` file: the same settings as the flags, by their long names with `_`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    data_dir: Option<PathBuf>,
    bind: Option<String>,
    glossaries: Option<PathBuf>,
    require_auth: Option<bool>,
    max_import_mib: Option<usize>,
    max_body_kib: Option<usize>,
    cors_origins: Option<Vec<String>>,
    rate_limit: Option<u32>,
    request_timeout: Option<u64>,
    search_cache: Option<usize>,
    search_cache_warm_ms: Option<u64>,
    background_nice: Option<i32>,
}

fn read_config(path: &Path) -> anyhow::Result<ConfigFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the configuration {}", path.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Takes the file's value for each setting the command line and environment left at its default.
fn apply_file(args: &mut ServeArgs, file: ConfigFile, matches: Option<&ArgMatches>) {
    let defaulted = |id: &str| {
        matches.is_none_or(|m| matches!(m.value_source(id), None | Some(ValueSource::DefaultValue)))
    };
    macro_rules! take {
        ($($field:ident),*) => {$(
            if let Some(v) = file.$field {
                if defaulted(stringify!($field)) {
                    args.$field = v;
                }
            }
        )*};
    }
    take!(
        bind,
        glossaries,
        require_auth,
        max_import_mib,
        max_body_kib,
        cors_origins,
        rate_limit,
        request_timeout,
        search_cache,
        search_cache_warm_ms,
        background_nice
    );
    if let Some(dir) = file.data_dir {
        if defaulted("data_dir") {
            args.data.data_dir = dir;
        }
    }
}

/// Runs the server; `matches` (the `serve` subcommand's) tells which settings were given.
pub fn run(mut args: ServeArgs, matches: Option<&ArgMatches>) -> anyhow::Result<ExitCode> {
    if let Some(path) = args.config.clone() {
        let file = read_config(&path)?;
        apply_file(&mut args, file, matches);
    }
    crate::priority::set_background_nice(args.background_nice);
    let store = Store::open(&args.data.data_dir, OpenMode::ReadWrite)?;
    let keys = KeyStore::open(&args.data.data_dir)?;
    let loaded = crate::import::seed(&store, Some(&args.glossaries))
        .context("loading the shipped glossaries")?;
    if loaded > 0 {
        println!("loaded {loaded} concepts from the shipped glossaries");
    }
    let opts = ServeOptions {
        bind: args.bind,
        data_dir: args.data.data_dir,
        glossaries: Some(args.glossaries),
        config: ServerConfig {
            require_auth: args.require_auth,
            max_import_bytes: args.max_import_mib * 1024 * 1024,
            max_body_bytes: args.max_body_kib * 1024,
            cors_origins: args.cors_origins,
            rate_limit_per_minute: args.rate_limit,
            request_timeout: Duration::from_secs(args.request_timeout.max(1)),
            search_cache_entries: args.search_cache,
            search_cache_warm: Duration::from_millis(args.search_cache_warm_ms),
        },
    };
    actix_web::rt::System::new()
        .block_on(server::serve(store, keys, opts))
        .context("running the server")?;
    Ok(ExitCode::SUCCESS)
}
