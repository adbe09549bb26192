//! CSV and TSV glossaries: bytes to concepts.
//!
//! [`read_glossary`] decodes the file (UTF-8 with or without BOM, UTF-16LE/BE with BOM), splits it
//! into rows (CSV: RFC 4180 quoting; TSV: tab separated, quotes are plain text) and lets the header
//! row pick one of three layouts. Header names are matched case-insensitively, ignoring `_`, `-`
//! and spaces (`Concept ID`, `concept_id` and `conceptId` are the same column).
//!
//! 1. **One term per row**: `lang` (or `language`) and `term`, plus optional `concept_id` (`id`,
//!    `concept`), `subject` (`domain`, `subject_field`), `status`, `note` (a note on the *term*),
//!    `concept_note`, `definition` (of the row's language), `pos` (`part_of_speech`), `gender`,
//!    `type` (`term_type`) and `source`. Rows sharing a concept id form one concept, adjacent or
//!    not. Without an id column every row is its own concept, with an id derived from its term.
//! 2. **Source/target pairs** (TICO-19): `id,sourceLang,targetLang,sourceString,targetString`
//!    (`sourceTerm`/`targetTerm` also accepted), optional `status` (of the target term), `note`
//!    (concept note) and `subject`. Each row is a concept with a source and a target term, both
//!    `admitted` unless the status column says otherwise. Rows whose two term cells are empty are
//!    skipped with one warning.
//! 3. **One column per language**: every other header that is a language tag (`en`, `fr-CA`,
//!    `ru_RU`, `zh-Hans`: an ISO 639-1 code or three letters, then at most a script and a region)
//!    or the English name of a UN language (`French`) is a language column, and at least one of
//!    them must be a two-letter language (so `foo,bar` is not a glossary); optional `id` (`concept_id`), `subject`, `note` (concept note), and per
//!    language `status_en`/`en_status` and `definition_en`/`en_definition`. A cell may hold several
//!    synonyms separated by `;` or `|`: the first is `preferred`, the others `admitted`, unless the
//!    language has a status column: one status there applies to every term of the cell, several
//!    (separated the same way) apply one by one. Without an id column the id is derived from the
//!    first term of the first non-empty language cell, so the same file always yields the same ids.
//!
//! In every layout: cells are trimmed, empty term cells are skipped, `subject` may hold several
//! values separated by `;` or `|`, statuses are read with [`TermStatus::from_str`] (empty means
//! `admitted`), the region of a language tag is kept on the term, and unknown columns are ignored
//! with one warning. A row without any term only adds to a concept it names by id (subjects, notes,
//! definitions); rows that name none, and concepts left without any term, are skipped with one
//! warning each. Derived ids are `c-` and the first 16 hex digits of the SHA-256 of
//! `"{primary language subtag}\u{1f}{term in NFC}"`.
//!
//! Problems are collected (up to [`MAX_ISSUES`]) and returned together, each with its 1-based
//! physical line and its column: the field number, except for encoding errors, where it is the
//! character position within the line.

use super::{derived_id, issue};
use std::borrow::Cow;
use std::collections::HashMap;
use std::str::FromStr;

use super::{FormatError, FormatIssue, ParsedGlossary, Warning};
use crate::lang::LangTag;
use crate::model::{check_name, Concept, Term, TermStatus};

/// How many problems are reported before reading stops.
pub const MAX_ISSUES: usize = 100;

/// Field separator of a delimited glossary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// `,` with RFC 4180 quoting (CSV).
    Comma,
    /// Tab, no quoting (TSV).
    Tab,
}

impl Delimiter {
    /// The format name used in errors: `csv` or `tsv`.
    pub fn format_name(self) -> &'static str {
        match self {
            Delimiter::Comma => "csv",
            Delimiter::Tab => "tsv",
        }
    }
}

/// Reads a CSV or TSV glossary into normalised concepts of `collection`, in order of first
/// appearance. Any problem makes the whole file fail, with every problem found listed.
///
/// ```
/// use hexaglot::formats::csv::{read_glossary, Delimiter};
///
/// let file = "id,en,fr\nc1,e-mail,courriel; courrier électronique\n";
/// let glossary = read_glossary(file.as_bytes(), Delimiter::Comma, "default").unwrap();
/// let fr = &glossary.concepts[0].languages["fr"];
/// assert_eq!(fr.terms[0].text, "courriel"); // preferred
/// assert_eq!(fr.terms[1].text, "courrier électronique"); // admitted
/// ```
pub fn read_glossary(
    bytes: &[u8],
    delimiter: Delimiter,
    collection: &str,
) -> Result<ParsedGlossary, FormatError> {
    let format = delimiter.format_name();
    let fail = |issues: Vec<FormatIssue>| FormatError { format, issues };
    if let Err(e) = check_name("collection", collection) {
        return Err(fail(vec![issue(1, 1, e.to_string())]));
    }
    let text = decode(bytes).map_err(|i| fail(vec![i]))?;
    let rows = match delimiter {
        Delimiter::Comma => csv_rows(&text).map_err(|i| fail(vec![i]))?,
        Delimiter::Tab => tsv_rows(&text),
    };
    read_rows(rows, format, collection, Some(delimiter))
}

/// Reads glossary rows, the first being the header, into normalised concepts of `collection`:
/// everything [`read_glossary`] does after splitting the file into rows, shared with the XLSX
/// reader. `format` names the format in errors; `delimiter`, when the rows come from a delimited
/// file, lets an unrecognised single-column header suggest another separator.
pub(crate) fn read_rows(
    rows: Vec<Row>,
    format: &'static str,
    collection: &str,
    delimiter: Option<Delimiter>,
) -> Result<ParsedGlossary, FormatError> {
    let fail = |issues: Vec<FormatIssue>| FormatError { format, issues };
    if let Err(e) = check_name("collection", collection) {
        return Err(fail(vec![issue(1, 1, e.to_string())]));
    }
    let Some((header, body)) = rows.split_first() else {
        return Err(fail(vec![issue(1, 1, "empty file")]));
    };
    let (layout, ignored) = Layout::from_header(header, delimiter).map_err(|i| fail(vec![i]))?;
    let mut reader = GlossaryBuilder::new(collection);
    if !ignored.is_empty() {
        reader.warnings.push(Warning {
            line: Some(header.line),
            message: format!("ignored columns: {}", ignored.join(", ")),
        });
    }
    if let Layout::LanguageColumns(l) = &layout {
        let other: Vec<&str> = l
            .langs
            .iter()
            .filter(|c| c.tag.lang == crate::lang::Lang::Other)
            .map(|c| c.name.as_str())
            .collect();
        if !other.is_empty() {
            reader.warnings.push(Warning {
                line: Some(header.line),
                message: format!(
                    "columns read as languages other than the six UN languages: {}",
                    other.join(", ")
                ),
            });
        }
    }
    let width = header.fields.len();
    let mut extra = Tally::default();
    for row in body {
        if row.fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if row.fields.iter().skip(width).any(|f| !f.trim().is_empty()) {
            extra.add(row.line);
        }
        match &layout {
            Layout::TermRows(l) => reader.term_row(l, row),
            Layout::Pairs(l) => reader.pair_row(l, row),
            Layout::LanguageColumns(l) => reader.language_row(l, row),
        }
        if reader.truncated {
            reader.issues.push(issue(
                row.line,
                1,
                format!("stopped after {MAX_ISSUES} problems"),
            ));
            break;
        }
    }
    if let Some(first) = extra.first {
        reader.warnings.push(Warning {
            line: Some(first),
            message: format!(
                "{} rows have more fields than the header; the extra fields were ignored",
                extra.count
            ),
        });
    }
    reader.finish().map_err(fail)
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// The file as text: BOM removed, UTF-16 decoded.
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, FormatIssue> {
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let body = &bytes[bom_len..];
        if encoding == encoding_rs::UTF_8 {
            return utf8(body);
        }
        let big_endian = encoding == encoding_rs::UTF_16BE;
        let text = encoding
            .decode_without_bom_handling_and_without_replacement(body)
            .ok_or_else(|| utf16_error(body, big_endian))?;
        check_nul(&text)?;
        return Ok(text);
    }
    utf8(bytes)
}

fn utf8(bytes: &[u8]) -> Result<Cow<'_, str>, FormatIssue> {
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            check_nul(text)?;
            Ok(Cow::Borrowed(text))
        }
        Err(e) => {
            let valid = e.valid_up_to();
            let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
            let (line, column) = locate(prefix);
            Err(issue(
                line,
                column,
                format!(
                    "invalid UTF-8 byte 0x{:02X}; save the file as UTF-8, or UTF-16 with a byte order mark",
                    bytes[valid]
                ),
            ))
        }
    }
}

/// A NUL character means UTF-16 without a BOM, or not a text file at all.
fn check_nul(text: &str) -> Result<(), FormatIssue> {
    match text.find('\0') {
        None => Ok(()),
        Some(at) => {
            let (line, column) = locate(&text[..at]);
            Err(issue(
                line,
                column,
                "NUL character: not a text file, or UTF-16 without a byte order mark",
            ))
        }
    }
}

/// Locates the first malformed code unit of UTF-16 text that encoding_rs rejected.
fn utf16_error(body: &[u8], big_endian: bool) -> FormatIssue {
    let units = body.chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    });
    let mut decoded = String::new();
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => decoded.push(c),
            Err(e) => {
                let (line, column) = locate(&decoded);
                return issue(
                    line,
                    column,
                    format!(
                        "invalid UTF-16: unpaired surrogate 0x{:04X}",
                        e.unpaired_surrogate()
                    ),
                );
            }
        }
    }
    let (line, column) = locate(&decoded);
    issue(
        line,
        column,
        "invalid UTF-16: odd number of bytes at the end of the file",
    )
}

/// 1-based line and character column of the position just after `prefix`.
fn locate(prefix: &str) -> (u64, u64) {
    let line = prefix.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = prefix.rfind('\n').map_or(0, |i| i + 1);
    let column = prefix[line_start..].chars().count() + 1;
    (line as u64, column as u64)
}

// ---------------------------------------------------------------------------------------------
// Rows

/// One record with the 1-based physical line it starts on (XLSX: the spreadsheet row number).
pub(crate) struct Row {
    /// 1-based line (or spreadsheet row) used in issues and warnings.
    pub(crate) line: u64,
    /// The cells; field `i` is reported as column `i + 1`.
    pub(crate) fields: Vec<String>,
}

impl Row {
    /// The trimmed cell of a column, empty when the row is short or the column absent.
    fn cell(&self, column: Option<usize>) -> &str {
        column
            .and_then(|c| self.fields.get(c))
            .map_or("", |f| f.trim())
    }
}

fn csv_rows(text: &str) -> Result<Vec<Row>, FormatIssue> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(b',')
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut last_start = None;
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(1, |p| p.line());
            issue(line, 1, e.to_string())
        })?;
        let (line, byte) = record
            .position()
            .map_or((1, 0), |p| (p.line(), p.byte() as usize));
        last_start = Some((line, byte));
        rows.push(Row {
            line,
            fields: record.iter().map(str::to_string).collect(),
        });
    }
    // The csv crate reads an unclosed quoted field to the end of the file without complaint; only
    // the last record can have one.
    if let Some((line, byte)) = last_start {
        if let Some((line, column)) = unclosed_quote(text.get(byte..).unwrap_or(""), line) {
            return Err(issue(
                line,
                column,
                "quoted field not closed: the quote opened here runs to the end of the file",
            ));
        }
    }
    Ok(rows)
}

/// Scans one CSV record the way csv-core does and returns the line and field number of a quoted
/// field still open at the end of the input.
fn unclosed_quote(record: &str, mut line: u64) -> Option<(u64, u64)> {
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    let mut field = 1;
    let mut opened = (line, field);
    for b in record.bytes() {
        state = match (state, b) {
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, b) => {
                line += u64::from(b == b'\n');
                State::Quoted
            }
            (State::QuoteInQuoted, b'"') => State::Quoted,
            (State::FieldStart, b'"') => {
                opened = (line, field);
                State::Quoted
            }
            (_, b',') => {
                field += 1;
                State::FieldStart
            }
            (_, b'\n' | b'\r') => return None,
            _ => State::Unquoted,
        };
    }
    matches!(state, State::Quoted).then_some(opened)
}

fn tsv_rows(text: &str) -> Vec<Row> {
    text.split('\n')
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| Row {
            line: i as u64 + 1,
            fields: l
                .strip_suffix('\r')
                .unwrap_or(l)
                .split('\t')
                .map(str::to_string)
                .collect(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Header and layouts

const ID: &[&str] = &["conceptid", "id", "concept"];
const SUBJECT: &[&str] = &["subject", "domain", "subjectfield"];
const LANG: &[&str] = &["lang", "language", "locale"];
const TERM: &[&str] = &["term"];
const STATUS: &[&str] = &["status", "termstatus", "administrativestatus"];
const NOTE: &[&str] = &["note"];
const TERM_NOTE: &[&str] = &["termnote"];
const CONCEPT_NOTE: &[&str] = &["conceptnote"];
const DEFINITION: &[&str] = &["definition"];
const POS: &[&str] = &["pos", "partofspeech"];
const GENDER: &[&str] = &["gender"];
const TERM_TYPE: &[&str] = &["type", "termtype"];
const SOURCE: &[&str] = &["source", "termsource"];
const SOURCE_LANG: &[&str] = &["sourcelang", "sourcelanguage"];
const TARGET_LANG: &[&str] = &["targetlang", "targetlanguage"];
const SOURCE_TERM: &[&str] = &["sourcestring", "sourceterm"];
const TARGET_TERM: &[&str] = &["targetstring", "targetterm"];

/// Every header name with a fixed meaning in some layout; never read as a language tag.
const KNOWN: &[&[&str]] = &[
    ID,
    SUBJECT,
    LANG,
    TERM,
    STATUS,
    NOTE,
    TERM_NOTE,
    CONCEPT_NOTE,
    DEFINITION,
    POS,
    GENDER,
    TERM_TYPE,
    SOURCE,
    SOURCE_LANG,
    TARGET_LANG,
    SOURCE_TERM,
    TARGET_TERM,
];

/// Language names accepted as headers of language columns.
const LANGUAGE_NAMES: &[(&str, &str)] = &[
    ("arabic", "ar"),
    ("chinese", "zh"),
    ("english", "en"),
    ("french", "fr"),
    ("russian", "ru"),
    ("spanish", "es"),
];

/// ISO 639-1 codes: a two-letter header must be one of them to be a language column.
const ISO_639_1: &str = "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch \
    co cr cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he \
    hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv \
    kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny \
    oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su \
    sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu";

/// The header row, with which columns a layout has claimed.
struct Header<'a> {
    names: Vec<&'a str>,
    keys: Vec<String>,
    used: Vec<bool>,
}

impl<'a> Header<'a> {
    fn new(row: &'a Row) -> Header<'a> {
        let names: Vec<&str> = row.fields.iter().map(|f| f.trim()).collect();
        let keys = names.iter().map(|n| key(n)).collect();
        let used = vec![false; names.len()];
        Header { names, keys, used }
    }

    /// The first unclaimed column with one of these names, left unclaimed.
    fn find(&self, aliases: &[&str]) -> Option<usize> {
        (0..self.keys.len()).find(|&i| !self.used[i] && aliases.contains(&self.keys[i].as_str()))
    }

    /// Claims the first unclaimed column with one of these names.
    fn take(&mut self, aliases: &[&str]) -> Option<usize> {
        let i = self.find(aliases)?;
        self.used[i] = true;
        Some(i)
    }

    /// Claims all of these columns, or none when one is missing.
    fn take_all<const N: usize>(&mut self, names: [&[&str]; N]) -> Option<[usize; N]> {
        let mut found = [0; N];
        for (slot, aliases) in found.iter_mut().zip(names) {
            *slot = self.find(aliases)?;
        }
        for &i in &found {
            self.used[i] = true;
        }
        Some(found)
    }

    fn is_known(&self, i: usize) -> bool {
        KNOWN
            .iter()
            .any(|aliases| aliases.contains(&self.keys[i].as_str()))
    }

    /// Names of the columns no layout field claimed (columns without a name are left out).
    fn unused(&self) -> Vec<String> {
        (0..self.names.len())
            .filter(|&i| !self.used[i] && !self.names[i].is_empty())
            .map(|i| self.names[i].to_string())
            .collect()
    }
}

/// A header name for matching: lower case, without `_`, `-` and spaces.
fn key(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The language of a language-column header: a tag with a 2- or 3-letter primary subtag, or the
/// English name of a UN language.
///
/// Stricter than [`LangTag::parse`], so that `en_note` or `xx` are not languages: an ISO 639-1
/// code or a 3-letter primary subtag, then at most a script and a region, and no part that is a
/// column name.
fn header_lang(name: &str) -> Option<LangTag> {
    let lower = name.trim().to_ascii_lowercase();
    if let Some((_, code)) = LANGUAGE_NAMES.iter().find(|(n, _)| *n == lower) {
        return LangTag::parse(code).ok();
    }
    let parts: Vec<&str> = lower.split(['-', '_']).collect();
    if parts
        .iter()
        .any(|p| KNOWN.iter().any(|aliases| aliases.contains(p)))
    {
        return None;
    }
    let alpha = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_alphabetic());
    let (primary, mut rest) = parts.split_first()?;
    let iso_639_1 = alpha(primary, 2) && ISO_639_1.split_ascii_whitespace().any(|c| c == *primary);
    if !(iso_639_1 || alpha(primary, 3)) {
        return None;
    }
    if let Some((_script, tail)) = rest.split_first().filter(|(p, _)| alpha(p, 4)) {
        rest = tail;
    }
    let is_region =
        |p: &str| alpha(p, 2) || (p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit()));
    if let Some((_, tail)) = rest.split_first().filter(|(p, _)| is_region(p)) {
        rest = tail;
    }
    if !rest.is_empty() {
        return None;
    }
    LangTag::parse(name).ok()
}

/// A language cell: a tag, or the English name of a UN language.
fn parse_lang(cell: &str) -> Result<LangTag, crate::lang::LangError> {
    let lower = cell.to_ascii_lowercase();
    match LANGUAGE_NAMES.iter().find(|(n, _)| *n == lower) {
        Some((_, code)) => LangTag::parse(code),
        None => LangTag::parse(cell),
    }
}

/// The language of a header like `status_en`, `en-status` or `definition fr`.
fn affixed_lang(name: &str, word: &str) -> Option<LangTag> {
    let lower = name.trim().to_ascii_lowercase();
    let seps = ['_', '-', ' '];
    let rest = lower
        .strip_prefix(word)
        .and_then(|r| r.strip_prefix(seps))
        .or_else(|| lower.strip_suffix(word).and_then(|r| r.strip_suffix(seps)))?;
    header_lang(rest)
}

enum Layout {
    TermRows(TermRows),
    Pairs(Pairs),
    LanguageColumns(LanguageColumns),
}

/// Layout 1: one term per row.
struct TermRows {
    id: Option<usize>,
    lang: usize,
    term: usize,
    subject: Option<usize>,
    status: Option<usize>,
    note: Option<usize>,
    concept_note: Option<usize>,
    definition: Option<usize>,
    pos: Option<usize>,
    gender: Option<usize>,
    term_type: Option<usize>,
    source: Option<usize>,
}

/// Layout 2: a source and a target term per row.
struct Pairs {
    id: Option<usize>,
    source_lang: usize,
    target_lang: usize,
    source_term: usize,
    target_term: usize,
    status: Option<usize>,
    subject: Option<usize>,
    note: Option<usize>,
}

/// Layout 3: one column per language.
struct LanguageColumns {
    id: Option<usize>,
    subject: Option<usize>,
    note: Option<usize>,
    langs: Vec<LanguageColumn>,
}

struct LanguageColumn {
    index: usize,
    name: String,
    tag: LangTag,
    status: Option<usize>,
    definition: Option<usize>,
}

impl Layout {
    /// Picks the layout from the header row; also returns the names of the ignored columns.
    fn from_header(
        row: &Row,
        delimiter: Option<Delimiter>,
    ) -> Result<(Layout, Vec<String>), FormatIssue> {
        let mut h = Header::new(row);
        let layout = if let Some([lang, term]) = h.take_all([LANG, TERM]) {
            let note = h.take(NOTE).or_else(|| h.take(TERM_NOTE));
            Layout::TermRows(TermRows {
                id: h.take(ID),
                lang,
                term,
                subject: h.take(SUBJECT),
                status: h.take(STATUS),
                note,
                concept_note: h.take(CONCEPT_NOTE),
                definition: h.take(DEFINITION),
                pos: h.take(POS),
                gender: h.take(GENDER),
                term_type: h.take(TERM_TYPE),
                source: h.take(SOURCE),
            })
        } else if let Some([source_lang, target_lang, source_term, target_term]) =
            h.take_all([SOURCE_LANG, TARGET_LANG, SOURCE_TERM, TARGET_TERM])
        {
            Layout::Pairs(Pairs {
                source_lang,
                target_lang,
                source_term,
                target_term,
                id: h.take(ID),
                status: h.take(STATUS),
                subject: h.take(SUBJECT),
                note: h.take(NOTE).or_else(|| h.take(CONCEPT_NOTE)),
            })
        } else {
            let mut langs = Vec::new();
            for i in 0..h.names.len() {
                if h.is_known(i) {
                    continue;
                }
                if let Some(tag) = header_lang(h.names[i]) {
                    h.used[i] = true;
                    langs.push(LanguageColumn {
                        index: i,
                        name: h.names[i].to_string(),
                        tag,
                        status: None,
                        definition: None,
                    });
                }
            }
            // three letters alone (`foo`, `url`) are too weak a sign of a language column
            if !langs.iter().any(|c| c.tag.primary.len() == 2) {
                return Err(unknown_header(&h, row.line, delimiter));
            }
            for i in 0..h.names.len() {
                if h.used[i] {
                    continue;
                }
                for (word, is_status) in [("status", true), ("definition", false)] {
                    let Some(tag) = affixed_lang(h.names[i], word) else {
                        continue;
                    };
                    for col in langs.iter_mut().filter(|c| {
                        c.tag.primary == tag.primary
                            && (tag.region.is_none() || c.tag.region == tag.region)
                    }) {
                        h.used[i] = true;
                        if is_status {
                            col.status.get_or_insert(i);
                        } else {
                            col.definition.get_or_insert(i);
                        }
                    }
                }
            }
            Layout::LanguageColumns(LanguageColumns {
                id: h.take(ID),
                subject: h.take(SUBJECT),
                note: h.take(NOTE).or_else(|| h.take(CONCEPT_NOTE)),
                langs,
            })
        };
        Ok((layout, h.unused()))
    }
}

fn unknown_header(h: &Header, line: u64, delimiter: Option<Delimiter>) -> FormatIssue {
    let found = h.names.join(", ");
    let mut message = format!(
        "unrecognised header ({found}); expected one of: `lang` and `term` columns (one term per \
         row, e.g. concept_id, subject, lang, term, status, note); `id, sourceLang, targetLang, \
         sourceString, targetString` (source/target pairs); or language-tag columns such as \
         `id, en, fr, es` (one column per language)"
    );
    if let (1, Some(delimiter)) = (h.names.len(), delimiter) {
        let other = match delimiter {
            Delimiter::Comma => [';', '\t'].into_iter().find(|&c| h.names[0].contains(c)),
            Delimiter::Tab => [',', ';'].into_iter().find(|&c| h.names[0].contains(c)),
        };
        if let Some(c) = other {
            message.push_str(&format!(
                "; the header is a single column: is the file separated by {c:?} rather than {:?}?",
                match delimiter {
                    Delimiter::Comma => ',',
                    Delimiter::Tab => '\t',
                }
            ));
        }
    }
    issue(line, 1, message)
}

// ---------------------------------------------------------------------------------------------
// Building concepts

/// A concept being assembled, with where it first appeared.
struct Draft {
    concept: Concept,
    line: u64,
    column: u64,
}

/// A count of rows of one kind and the first line it happened on.
#[derive(Default)]
struct Tally {
    count: u64,
    first: Option<u64>,
}

impl Tally {
    fn add(&mut self, line: u64) {
        self.count += 1;
        self.first.get_or_insert(line);
    }
}

struct GlossaryBuilder {
    collection: String,
    drafts: Vec<Draft>,
    by_id: HashMap<String, usize>,
    issues: Vec<FormatIssue>,
    truncated: bool,
    warnings: Vec<Warning>,
    /// Rows with content but no term.
    termless: Tally,
    /// Pair rows whose two term cells are empty.
    empty_pairs: Tally,
    /// Rows disagreeing with an earlier row of the same concept on its note or a definition.
    conflicts: Tally,
}

impl GlossaryBuilder {
    fn new(collection: &str) -> GlossaryBuilder {
        GlossaryBuilder {
            collection: collection.to_string(),
            drafts: Vec::new(),
            by_id: HashMap::new(),
            issues: Vec::new(),
            truncated: false,
            warnings: Vec::new(),
            termless: Tally::default(),
            empty_pairs: Tally::default(),
            conflicts: Tally::default(),
        }
    }

    fn issue(&mut self, line: u64, column: usize, message: impl Into<String>) {
        if self.issues.len() < MAX_ISSUES {
            self.issues.push(issue(line, column as u64 + 1, message));
        } else {
            self.truncated = true;
        }
    }

    /// Reads a language cell; an empty cell or a bad tag is an issue.
    fn lang(&mut self, row: &Row, column: usize) -> Option<LangTag> {
        let cell = row.cell(Some(column));
        if cell.is_empty() {
            self.issue(row.line, column, "missing language tag");
            return None;
        }
        match parse_lang(cell) {
            Ok(tag) => Some(tag),
            Err(e) => {
                self.issue(row.line, column, e.to_string());
                None
            }
        }
    }

    fn status(&mut self, line: u64, column: usize, value: &str) -> Option<TermStatus> {
        match TermStatus::from_str(value) {
            Ok(s) => Some(s),
            Err(e) => {
                self.issue(line, column, e.to_string());
                None
            }
        }
    }

    /// The concept id of a row: the id cell (which must then be a valid, non-empty name), or one
    /// derived from `fallback` when the layout has no id column.
    fn id(
        &mut self,
        row: &Row,
        column: Option<usize>,
        fallback: Option<(&str, &str)>,
    ) -> Option<String> {
        match column {
            Some(c) => {
                let id = row.cell(Some(c));
                if id.is_empty() {
                    self.issue(row.line, c, "empty concept id");
                    return None;
                }
                if let Err(e) = check_name("id", id) {
                    self.issue(row.line, c, e.to_string());
                    return None;
                }
                Some(id.to_string())
            }
            None => fallback.map(|(lang, term)| derived_id(lang, term)),
        }
    }

    /// Index of the draft concept with this id, created at this row if new, with the row's
    /// subjects and concept note added.
    fn concept(
        &mut self,
        id: String,
        row: &Row,
        id_column: Option<usize>,
        subject: Option<usize>,
        note: Option<usize>,
    ) -> usize {
        let next = self.drafts.len();
        let index = *self.by_id.entry(id.clone()).or_insert(next);
        if index == next {
            self.drafts.push(Draft {
                concept: Concept::new(&id, &self.collection),
                line: row.line,
                column: id_column.map_or(1, |c| c as u64 + 1),
            });
        }
        let concept = &mut self.drafts[index].concept;
        concept
            .subject
            .extend(split_values(row.cell(subject)).map(str::to_string));
        set_once(
            &mut concept.note,
            row.cell(note),
            &mut self.conflicts,
            row.line,
        );
        index
    }

    fn term_row(&mut self, l: &TermRows, row: &Row) {
        let before = self.issues.len();
        let text = row.cell(Some(l.term));
        let definition = row.cell(l.definition);
        let status = match l.status {
            Some(c) => self.status(row.line, c, row.cell(Some(c))),
            None => Some(TermStatus::Admitted),
        };
        // without a term, a row can only add to a concept it names
        if text.is_empty() && row.cell(l.id).is_empty() {
            if self.issues.len() == before {
                self.termless.add(row.line);
            }
            return;
        }
        let tag = if text.is_empty() && definition.is_empty() {
            None
        } else {
            self.lang(row, l.lang)
        };
        let fallback = tag
            .as_ref()
            .filter(|_| !text.is_empty())
            .map(|t| (t.primary.as_str(), text));
        let id = self.id(row, l.id, fallback);
        if self.issues.len() > before {
            return;
        }
        let (Some(id), Some(status)) = (id, status) else {
            return;
        };
        let index = self.concept(id, row, l.id, l.subject, l.concept_note);
        let Some(tag) = tag else {
            return;
        };
        let section = self.drafts[index]
            .concept
            .languages
            .entry(tag.primary.clone())
            .or_default();
        set_once(
            &mut section.definition,
            definition,
            &mut self.conflicts,
            row.line,
        );
        if !text.is_empty() {
            let mut term = Term::new(text, status);
            term.region = tag.region.clone();
            term.note = non_empty(row.cell(l.note));
            term.pos = non_empty(row.cell(l.pos));
            term.gender = non_empty(row.cell(l.gender));
            term.term_type = non_empty(row.cell(l.term_type));
            term.source = non_empty(row.cell(l.source));
            section.terms.push(term);
        }
    }

    fn pair_row(&mut self, l: &Pairs, row: &Row) {
        let before = self.issues.len();
        let source = row.cell(Some(l.source_term));
        let target = row.cell(Some(l.target_term));
        if source.is_empty() && target.is_empty() {
            self.empty_pairs.add(row.line);
            return;
        }
        let source_tag = if source.is_empty() {
            None
        } else {
            self.lang(row, l.source_lang)
        };
        let target_tag = if target.is_empty() {
            None
        } else {
            self.lang(row, l.target_lang)
        };
        let status = match l.status {
            Some(c) => self.status(row.line, c, row.cell(Some(c))),
            None => Some(TermStatus::Admitted),
        };
        let fallback = source_tag
            .as_ref()
            .map(|t| (t.primary.as_str(), source))
            .or_else(|| target_tag.as_ref().map(|t| (t.primary.as_str(), target)));
        let id = self.id(row, l.id, fallback);
        if self.issues.len() > before {
            return;
        }
        let (Some(id), Some(status)) = (id, status) else {
            return;
        };
        let index = self.concept(id, row, l.id, l.subject, l.note);
        let concept = &mut self.drafts[index].concept;
        for (tag, text, status) in [
            (source_tag, source, TermStatus::Admitted),
            (target_tag, target, status),
        ] {
            if let Some(tag) = tag {
                add_term(concept, &tag, Term::new(text, status));
            }
        }
    }

    fn language_row(&mut self, l: &LanguageColumns, row: &Row) {
        let before = self.issues.len();
        let mut found: Vec<(&LangTag, Term)> = Vec::new();
        let mut definitions: Vec<(&LangTag, &str)> = Vec::new();
        for col in &l.langs {
            let definition = row.cell(col.definition);
            if !definition.is_empty() {
                definitions.push((&col.tag, definition));
            }
            let values: Vec<&str> = split_values(row.cell(Some(col.index))).collect();
            if values.is_empty() {
                continue;
            }
            let Some(statuses) = self.cell_statuses(row, col, values.len()) else {
                continue;
            };
            for (text, status) in values.into_iter().zip(statuses) {
                found.push((&col.tag, Term::new(text, status)));
            }
        }
        // without a term, a row can only add to a concept it names
        if found.is_empty() && row.cell(l.id).is_empty() {
            if self.issues.len() == before {
                self.termless.add(row.line);
            }
            return;
        }
        let fallback = found
            .first()
            .map(|(t, term)| (t.primary.as_str(), term.text.as_str()));
        let id = self.id(row, l.id, fallback);
        if self.issues.len() > before {
            return;
        }
        let Some(id) = id else {
            return;
        };
        let index = self.concept(id, row, l.id, l.subject, l.note);
        let concept = &mut self.drafts[index].concept;
        for (tag, definition) in definitions {
            let section = concept.languages.entry(tag.primary.clone()).or_default();
            set_once(
                &mut section.definition,
                definition,
                &mut self.conflicts,
                row.line,
            );
        }
        for (tag, term) in found {
            add_term(concept, tag, term);
        }
    }

    /// Statuses of the `count` terms of a language cell: from the language's status column (one
    /// for all, or one each), else the first preferred and the others admitted.
    fn cell_statuses(
        &mut self,
        row: &Row,
        col: &LanguageColumn,
        count: usize,
    ) -> Option<Vec<TermStatus>> {
        let cell = row.cell(col.status);
        let Some(column) = col.status.filter(|_| !cell.is_empty()) else {
            let mut statuses = vec![TermStatus::Admitted; count];
            statuses[0] = TermStatus::Preferred;
            return Some(statuses);
        };
        let mut statuses = Vec::new();
        for value in split_values(cell) {
            statuses.push(self.status(row.line, column, value)?);
        }
        match statuses.len() {
            1 => Some(vec![statuses[0]; count]),
            n if n == count => Some(statuses),
            n => {
                self.issue(
                    row.line,
                    column,
                    format!("{n} statuses for {count} terms: give one status, or one per term"),
                );
                None
            }
        }
    }

    fn finish(mut self) -> Result<ParsedGlossary, Vec<FormatIssue>> {
        if self.issues.is_empty() {
            let mut concepts = Vec::with_capacity(self.drafts.len());
            let mut termless_concepts = Vec::new();
            for draft in self.drafts {
                if draft.concept.languages.values().all(|s| s.terms.is_empty()) {
                    termless_concepts.push((draft.line, draft.concept.id));
                    continue;
                }
                match draft.concept.normalize() {
                    Ok(c) => concepts.push(c),
                    Err(e) => self
                        .issues
                        .push(issue(draft.line, draft.column, e.to_string())),
                }
            }
            if self.issues.is_empty() {
                let mut warnings = self.warnings;
                let tallies = [
                    (self.empty_pairs, "rows without any term were skipped"),
                    (self.termless, "rows without a term were skipped"),
                    (
                        self.conflicts,
                        "rows gave a concept note or definition that differs from an earlier row \
                         of the same concept; the first was kept",
                    ),
                ];
                if let Some((line, _)) = termless_concepts.first() {
                    let ids: Vec<&str> = termless_concepts
                        .iter()
                        .map(|(_, id)| id.as_str())
                        .collect();
                    warnings.push(Warning {
                        line: Some(*line),
                        message: format!(
                            "{} concepts without any term were skipped: {}",
                            ids.len(),
                            list(&ids)
                        ),
                    });
                }
                for (tally, what) in tallies {
                    if let Some(line) = tally.first {
                        warnings.push(Warning {
                            line: Some(line),
                            message: format!("{} {what}", tally.count),
                        });
                    }
                }
                return Ok(ParsedGlossary { concepts, warnings });
            }
        }
        self.issues.sort_by_key(|i| (i.line, i.column));
        Err(self.issues)
    }
}

/// Sets a concept-level text once; a different value later counts as a conflict.
fn set_once(slot: &mut Option<String>, value: &str, conflicts: &mut Tally, line: u64) {
    if value.is_empty() {
        return;
    }
    match slot {
        None => *slot = Some(value.to_string()),
        Some(old) if old != value => conflicts.add(line),
        Some(_) => {}
    }
}

fn add_term(concept: &mut Concept, tag: &LangTag, mut term: Term) {
    term.region = tag.region.clone();
    concept
        .languages
        .entry(tag.primary.clone())
        .or_default()
        .terms
        .push(term);
}

/// Values of a multi-valued cell: split on `;` and `|`, trimmed, empty ones dropped.
fn split_values(cell: &str) -> impl Iterator<Item = &str> {
    cell.split([';', '|'])
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Up to ten names, then how many more.
fn list(names: &[&str]) -> String {
    const SHOWN: usize = 10;
    let mut text = names[..names.len().min(SHOWN)].join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

fn non_empty(cell: &str) -> Option<String> {
    (!cell.is_empty()).then(|| cell.to_string())
}
