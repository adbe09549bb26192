//! `hexaglot serve`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::DataDir;
use crate::auth::KeyStore;
use crate::server::{self, ServeOptions, ServerConfig};
use crate::store::{OpenMode, Store};

/// Options of `hexaglot serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    data: DataDir,
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
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
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
        },
    };
    actix_web::rt::System::new()
        .block_on(server::serve(store, keys, opts))
        .context("running the server")?;
    Ok(ExitCode::SUCCESS)
}
