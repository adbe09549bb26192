//! `hexaglot keys add | list | revoke`.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::DataDir;
use crate::auth::{KeyStore, Role};

/// Options of `hexaglot keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(flatten)]
    data: DataDir,
    #[command(subcommand)]
    action: KeysAction,
}

#[derive(Debug, Subcommand)]
enum KeysAction {
    /// Create a key and print it once (it is stored hashed and cannot be shown again).
    Add {
        /// Role: reader, editor or admin.
        #[arg(long, default_value = "reader")]
        role: String,
        /// A name to recognise the key by (unique).
        #[arg(long)]
        name: String,
    },
    /// List keys (id, name, role, creation time; never the secret).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id or name; a running server stops accepting it at once.
    Revoke {
        /// Key id or name.
        key: String,
    },
}

pub fn run(args: KeysArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.data.data_dir)?;
    let keys = KeyStore::open(&args.data.data_dir)?;
    match args.action {
        KeysAction::Add { role, name } => {
            let role: Role = role.parse()?;
            let (info, secret) = keys.add(&name, role)?;
            eprintln!(
                "created {} key {:?} (id {}); store it now, it is not shown again:",
                info.role, info.name, info.id
            );
            println!("{secret}");
        }
        KeysAction::List { json } => {
            let list = keys.list()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                eprintln!("no keys");
            } else {
                let mut table = comfy_table::Table::new();
                table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
                table.set_header(["id", "name", "role", "created"]);
                for k in list {
                    table.add_row([k.id, k.name, k.role.to_string(), k.created_at]);
                }
                println!("{table}");
            }
        }
        KeysAction::Revoke { key } => match keys.revoke(&key)? {
            Some(info) => eprintln!("revoked {} key {:?} (id {})", info.role, info.name, info.id),
            None => {
                eprintln!("error: no key with id or name {key:?}");
                return Ok(ExitCode::from(1));
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
