//! Glossary and memory files to the model and back. No index, no HTTP.

pub mod csv;
pub mod export;
pub mod tbx;
pub mod tmx;
pub mod xliff;
pub mod xlsx;
mod xml;

use crate::model::Concept;

/// What a file format reader produced: concepts in file order, and what it had to skip or guess.
#[derive(Debug, Clone, Default)]
pub struct ParsedGlossary {
    /// Concepts, normalised (see [`Concept::normalize`]), ids unique within the file.
    pub concepts: Vec<Concept>,
    /// Things the reader passed over, each said once.
    pub warnings: Vec<Warning>,
}

/// How far a streaming reader has got: byte offset reached in the decoded text, and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Bytes read.
    pub offset: usize,
    /// Bytes in all.
    pub len: usize,
}

/// A non-fatal remark on an input file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Warning {
    /// 1-based line the remark is about, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// What was skipped or guessed.
    pub message: String,
}

/// One problem in an input file, located by 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FormatIssue {
    /// 1-based line.
    pub line: u64,
    /// 1-based column (for CSV/TSV: the field number).
    pub column: u64,
    /// Where in the document: in XML files the elements open at the problem, outermost first
    /// (`/tbx/text/body/conceptEntry/langSec`); empty in CSV, TSV and spreadsheets, and before
    /// the root element.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl FormatIssue {
    /// Where and why a JSON body does not parse; `None` when serde_json knows no position (an
    /// I/O error, or a body that ended early, which it places after the last character).
    pub fn from_json(e: &serde_json::Error) -> Option<FormatIssue> {
        if e.line() == 0 {
            return None;
        }
        let text = e.to_string();
        let place = format!(" at line {} column {}", e.line(), e.column());
        Some(FormatIssue {
            line: e.line() as u64,
            column: e.column().max(1) as u64,
            path: String::new(),
            message: text.strip_suffix(&place).unwrap_or(&text).to_string(),
        })
    }
}

/// The id of a concept whose file gives none: `c-` and 16 hex digits of SHA-256 of
/// `lang \u{1f} term`. Every reader derives ids this way, so re-importing a file (in any format)
/// finds the same concepts.
pub(crate) fn derived_id(primary: &str, term: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest =
        Sha256::digest(format!("{primary}\u{1f}{}", crate::lang::nfc(term.trim())).as_bytes());
    format!("c-{}", &hex::encode(digest)[..16])
}

/// A [`FormatIssue`] at a line and column.
pub(crate) fn issue(line: u64, column: u64, message: impl Into<String>) -> FormatIssue {
    FormatIssue {
        line,
        column,
        path: String::new(),
        message: message.into(),
    }
}

/// A file that cannot be imported; nothing of it is used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{format}: {}", summary(.issues))]
pub struct FormatError {
    /// Format name (`csv`, `tsv`).
    pub format: &'static str,
    /// Every problem found (at least one), in file order.
    pub issues: Vec<FormatIssue>,
}

fn summary(issues: &[FormatIssue]) -> String {
    match issues.first() {
        Some(i) if issues.len() == 1 => {
            format!("line {}, column {}: {}", i.line, i.column, i.message)
        }
        Some(i) => format!(
            "line {}, column {}: {} (and {} more problems)",
            i.line,
            i.column,
            i.message,
            issues.len() - 1
        ),
        None => "invalid file".to_string(),
    }
}
