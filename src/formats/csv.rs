//! CSV and TSV glossaries.
