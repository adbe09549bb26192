//! Hexaglot: a terminology and translation-memory server for the six official UN languages.
//!
//! Modules, each owning one seam:
//! - [`lang`]: language tags and the one analysis pipeline per language (search and check share it);
//! - [`model`]: concepts, terms and statuses as plain serde data;
//! - [`formats`]: bytes to model (CSV/TSV and TBX glossaries); no index, no HTTP;
//! - [`store`]: the tantivy termbase, its single writer thread and its readers;
//! - [`search`]: term search over the store (exact, analysed, prefix, fuzzy) and its ranking;
//! - [`check`]: the term recogniser and the consistency checks (terms, numbers, tags, consistency);
//! - [`import`]: applying a parsed glossary to a collection (merge / replace / dry run);
//! - [`export`]: writing collections out as TBX, TBX v2 or CSV;
//! - [`tm`]: translation-memory import (TMX), unit adds and TMX export over [`store::tm`];
//! - [`auth`]: API keys, hashed in the data directory, and roles;
//! - [`server`]: the actix-web application, routes, problem+json errors, the OpenAPI document;
//! - [`cli`]: the `hexaglot` command line, thin over the library.
#![warn(missing_docs)]

pub mod auth;
pub mod check;
pub mod cli;
pub mod export;
pub mod formats;
pub mod import;
pub mod lang;
pub mod model;
pub mod priority;
pub mod search;
pub mod server;
pub mod store;
pub mod tm;

/// jemalloc serves every allocation of the program (the binary, its tests and benches alike):
/// tantivy's indexing threads and the imports allocate and free on several threads at once,
/// where it takes 14–22 % less CPU than the system allocator (`BENCHMARKS.md`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
