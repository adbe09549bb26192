//! The `hexaglot` binary.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    // HEXAGLOT_LOG: filter (`info`, `hexaglot=debug,audit=info` ...); HEXAGLOT_LOG_FORMAT=json: one
    // JSON object a line (with the request span and its id), for log collectors
    let filter = tracing_subscriber::EnvFilter::try_from_env("HEXAGLOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("HEXAGLOT_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        logs.json().init();
    } else {
        logs.init();
    }
    let matches = hexaglot::cli::Cli::command().get_matches();
    let cli = match hexaglot::cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match hexaglot::cli::run(cli, Some(&matches)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
