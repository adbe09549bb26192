//! Integration tests: one binary, so the crate links once.

mod api;
mod bad_input;
mod binary;
mod browser;
mod check;
mod common;
mod config;
mod crash;
mod csv_format;
mod fuzz;
mod interop;
mod lang;
mod observe;
mod openapi;
mod store;
mod tbx_export;
mod tbx_format;
mod tbx_import;
mod tm;
mod tmx_format;
mod xliff_format;
mod xlsx_format;
