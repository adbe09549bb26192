//! Exporting collections: the store's concepts through a filter into a format writer.

use std::io::Write;

use crate::formats::export::{ExportFilter, ExportFormat, ExportWriter};
use crate::store::{Store, StoreError};

/// Errors of an export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the output failed (e.g. the client went away).
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes the concepts of `collections` (all when empty) that pass `filter` to `out`; returns how
/// many concepts were written.
pub fn export<W: Write>(
    store: &Store,
    collections: &[String],
    format: ExportFormat,
    filter: &ExportFilter,
    out: W,
) -> Result<u64, ExportError> {
    let mut writer = ExportWriter::new(out, format)?;
    let mut written = 0u64;
    store.for_each_concept(collections, |concept| -> Result<(), ExportError> {
        if let Some(c) = filter.apply(concept) {
            writer.write(&c)?;
            written += 1;
        }
        Ok(())
    })?;
    writer.finish()?;
    Ok(written)
}
