//! XLSX glossaries: one worksheet to concepts, with the header mapping of the CSV reader.
//!
//! [`read_xlsx`] reads the first worksheet, or the one named, and hands its rows to the CSV/TSV
//! reader's layouts (see [`super::csv`]): the first row with a non-empty cell is the header, the
//! same three layouts apply, and every remark is located by spreadsheet row (`line`) and 1-based
//! column (`A` is 1). Cells become text: strings as they are, integral numbers without a decimal
//! part (`42`, not `42.0`), other numbers in their shortest form, booleans as `TRUE`/`FALSE` (as
//! a spreadsheet shows them), dates and times as their serial number, and empty cells empty. A
//! cell holding an error (`#N/A`, `#REF!`, ...) is a problem of the file. Formula cells give the
//! value last computed by the spreadsheet.
//!
//! Sheets with a cell beyond [`MAX_ROWS`] rows or [`MAX_COLUMNS`] columns are refused before they
//! are held in memory.

use super::issue;
use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx, XlsxError};

use super::csv::{read_rows, Row, MAX_ISSUES};
use super::{FormatError, ParsedGlossary};

/// The most rows a sheet may span.
pub const MAX_ROWS: u32 = 1_000_000;

/// The most columns a sheet may span.
pub const MAX_COLUMNS: u32 = 1_000;

const FORMAT: &str = "xlsx";

/// Reads the first worksheet of an XLSX workbook, or the one called `sheet`, into normalised
/// concepts of `collection`. Any problem makes the whole file fail, with every problem found
/// listed.
pub fn read_xlsx(
    bytes: &[u8],
    sheet: Option<&str>,
    collection: &str,
) -> Result<ParsedGlossary, FormatError> {
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(|e| fail(1, 1, open_error(&e)))?;
    let names = workbook.sheet_names();
    let name = match sheet {
        Some(wanted) => names.iter().find(|n| n.as_str() == wanted).ok_or_else(|| {
            fail(
                1,
                1,
                format!(
                    "no sheet named {wanted:?}; the workbook has: {}",
                    quoted(&names)
                ),
            )
        })?,
        None => names
            .first()
            .ok_or_else(|| fail(1, 1, "the workbook has no worksheet"))?,
    }
    .clone();
    let rows = sheet_rows(&mut workbook, &name)?;
    if rows.is_empty() {
        return Err(fail(1, 1, format!("sheet {name:?} is empty")));
    }
    read_rows(rows, FORMAT, collection, None)
}

/// The non-empty rows of a sheet, each as wide as its last non-empty cell, cells at their
/// spreadsheet column.
fn sheet_rows(workbook: &mut Xlsx<Cursor<&[u8]>>, name: &str) -> Result<Vec<Row>, FormatError> {
    let sheet_error = |e: XlsxError| fail(1, 1, format!("sheet {name:?} cannot be read: {e}"));
    let mut cells = workbook.worksheet_cells_reader(name).map_err(sheet_error)?;
    let mut rows: Vec<Row> = Vec::new();
    let mut issues = Vec::new();
    while let Some(cell) = cells.next_cell().map_err(sheet_error)? {
        let (row, column) = cell.get_position();
        let (line, col) = (u64::from(row) + 1, u64::from(column) + 1);
        if row >= MAX_ROWS || column >= MAX_COLUMNS {
            return Err(fail(
                line,
                col,
                format!(
                    "sheet {name:?} is too large: a cell at row {line}, column {col} is beyond \
                     the limit of {MAX_ROWS} rows and {MAX_COLUMNS} columns"
                ),
            ));
        }
        let text = match cell.get_value() {
            DataRef::Error(e) => {
                if issues.len() < MAX_ISSUES {
                    issues.push(issue(line, col, format!("cell error {e}")));
                }
                continue;
            }
            value => cell_text(value),
        };
        if text.trim().is_empty() {
            continue;
        }
        if rows.last().is_none_or(|r| r.line != line) {
            rows.push(Row {
                line,
                fields: Vec::new(),
            });
        }
        let fields = &mut rows.last_mut().expect("pushed above").fields;
        let index = column as usize;
        if fields.len() <= index {
            fields.resize(index + 1, String::new());
        }
        fields[index] = text;
    }
    if !issues.is_empty() {
        issues.sort_by_key(|i| (i.line, i.column));
        return Err(FormatError {
            format: FORMAT,
            issues,
        });
    }
    Ok(rows)
}

/// The text of a cell as the glossary reads it.
fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => number_text(*f),
        DataRef::DateTime(d) => number_text(d.as_f64()),
        DataRef::Bool(true) => "TRUE".to_string(),
        DataRef::Bool(false) => "FALSE".to_string(),
        DataRef::Error(_) | DataRef::Empty => String::new(),
    }
}

/// A number without a trailing `.0` when it is integral.
fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// Why the bytes could not be opened as a workbook.
fn open_error(e: &XlsxError) -> String {
    match e {
        XlsxError::Zip(_) => format!(
            "not an XLSX workbook: the file is not a valid zip archive ({e}); save the \
             spreadsheet as Excel Workbook (.xlsx)"
        ),
        XlsxError::Password => "the workbook is password protected".to_string(),
        _ => format!("not a readable XLSX workbook: {e}"),
    }
}

fn quoted(names: &[String]) -> String {
    if names.is_empty() {
        return "no worksheet".to_string();
    }
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn fail(line: u64, column: u64, message: impl Into<String>) -> FormatError {
    FormatError {
        format: FORMAT,
        issues: vec![issue(line, column, message)],
    }
}
