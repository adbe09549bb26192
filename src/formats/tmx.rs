//! TMX 1.4b translation memories: bytes to [`TranslationUnit`]s and back.
//!
//! [`read_tmx`] reads a file in one pass over quick-xml events, holding only the unit being read
//! besides the units already made; [`read_tmx_each`] hands each unit on as soon as it is read
//! instead (an import indexes units while the rest of the file is read). It takes what real
//! tools write:
//!
//! - UTF-8 with or without BOM, UTF-16 with BOM (the LISA kit's files), or the encoding the XML
//!   declaration names — decoded the way the TBX reader does ([`super::tbx`]);
//! - the language of a `<tuv>` from `xml:lang`, or `lang` (TMX 1.1–1.3), attribute names and tag
//!   values in any case (`eN-uS`); keys are the normalised primary subtag (`en`), and a second
//!   variant of the same language in one unit keeps its region (`en-GB`);
//! - header `srclang` (`*all*` means no fixed source) and per-`<tu>` `srclang`;
//! - `<prop>` and `<note>` at `<tu>` and `<tuv>` level, kept verbatim for export; the `<tu>`
//!   notes' text also becomes the unit's `note`;
//! - `tuid`, `creationdate`, `changedate` (ISO 8601 basic, `20020523T091200Z`) kept;
//! - inline codes `bpt ept it ph hi sub ut`: the `<seg>` content is kept verbatim as XML, and the
//!   variant text shows each code as a placeholder — a paired code (`bpt`/`ept` matched by `i`,
//!   `it` by `pos`, `hi` around its text) as `{n}` … `{/n}`, a standalone one (`ph`, `ut`) as
//!   `{n/}`, where `n` is the code's `x` attribute (which TMX uses to match codes across the
//!   languages of a unit), or for codes without one the next free number from 1 in order of
//!   appearance. The native code inside a code element (and its `<sub>` text) is not part of the
//!   text.
//!
//! Segment text keeps its whitespace as written (TMX whitespace is significant) and is put in
//! NFC. A unit holds every language of its `<tu>` (a six-way UN unit is one unit). Its id is the
//! `tuid`, or, without one, `u-` and 16 hex digits of the SHA-256 of its variants
//! ([`unit_content_id`]) so re-importing a file finds the same units.
//!
//! A document type declaration is ignored and never fetched; entities other than the five
//! predefined ones and character references are an error, so there is no entity expansion at all
//! (no billion-laughs). Elements may nest at most [`MAX_DEPTH`] deep. Problems are collected (up
//! to [`MAX_ISSUES`]) with 1-based line and column; a syntax error ends reading.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::ops::ControlFlow;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::reader::Reader;

use super::xml::{attributes, decode, issue_in, locate, resolve_reference, xml_error_message};
use super::{FormatError, FormatIssue, Position, Warning};
use crate::lang::{into_nfc, nfc, LangTag};
use crate::model::{
    check_name, now_rfc3339, TmxUnitExtra, TmxVariantExtra, TranslationUnit, DEFAULT_COLLECTION,
};

/// Format name used in errors.
const FORMAT: &str = "tmx";

/// How many problems are reported before reading stops.
pub const MAX_ISSUES: usize = 100;

/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 128;

/// What [`read_tmx`] produced.
#[derive(Debug, Clone, Default)]
pub struct ParsedTmx {
    /// Units in file order, in the collection `default` (importers set theirs), ids unique.
    pub units: Vec<TranslationUnit>,
    /// The header's source language key, `None` for `*all*` or when absent.
    pub source_lang: Option<String>,
    /// Things the reader passed over, each kind said once with a count.
    pub warnings: Vec<Warning>,
}

/// Reads a TMX file. Any problem makes the whole file fail, with every problem found listed.
///
/// ```
/// use hexaglot::formats::tmx::read_tmx;
///
/// let file = r#"<tmx version="1.4"><header srclang="en-US" segtype="sentence" datatype="html"
///   adminlang="en" o-tmf="x" creationtool="x" creationtoolversion="1"/><body>
///   <tu tuid="7"><tuv xml:lang="en-US"><seg>The <bpt i="1">&lt;b></bpt>black<ept i="1">&lt;/b></ept> cat</seg></tuv>
///   <tuv lang="FR-ca"><seg>Le chat <bpt i="1">&lt;b></bpt>noir<ept i="1">&lt;/b></ept></seg></tuv></tu>
/// </body></tmx>"#;
/// let tmx = read_tmx(file.as_bytes()).unwrap();
/// let unit = &tmx.units[0];
/// assert_eq!(unit.id, "7");
/// assert_eq!(unit.variants["en"], "The {1}black{/1} cat");
/// assert_eq!(unit.variants["fr"], "Le chat {1}noir{/1}");
/// assert_eq!(tmx.source_lang.as_deref(), Some("en"));
/// ```
pub fn read_tmx(bytes: &[u8]) -> Result<ParsedTmx, FormatError> {
    let mut units = Vec::new();
    let parsed = read_tmx_each(bytes, |unit, _| {
        units.push(unit);
        ControlFlow::Continue(())
    })?;
    Ok(ParsedTmx { units, ..parsed })
}

/// Reads a TMX file like [`read_tmx`], handing each unit to `each` as soon as its `<tu>` is read,
/// with the byte offset reached in the (decoded) file and that file's length, instead of
/// collecting them; returns what [`read_tmx`] does without the units.
///
/// `each` sees units only while the file has no problem so far; the verdict comes at the end:
/// an `Err` means the file is refused whole, and whatever `each` did with the units it saw must
/// be undone (an import rolls its transaction back). When `each` returns `ControlFlow::Break`,
/// reading stops and what was found so far is returned.
///
/// ```
/// use std::ops::ControlFlow;
/// use hexaglot::formats::tmx::read_tmx_each;
///
/// let file = r#"<tmx version="1.4"><header srclang="en"/><body>
///   <tu tuid="a"><tuv xml:lang="en"><seg>one</seg></tuv></tu>
///   <tu tuid="b"><tuv xml:lang="en"><seg>two</seg></tuv></tu>
/// </body></tmx>"#;
/// let mut ids = Vec::new();
/// read_tmx_each(file.as_bytes(), |unit, _| {
///     ids.push(unit.id);
///     ControlFlow::Continue(())
/// })
/// .unwrap();
/// assert_eq!(ids, ["a", "b"]);
/// // a problem after the first unit: it was seen, but the verdict refuses the file
/// let broken = file.replace("</tmx>", "");
/// assert!(read_tmx_each(broken.as_bytes(), |_, _| ControlFlow::Continue(())).is_err());
/// ```
pub fn read_tmx_each(
    bytes: &[u8],
    mut each: impl FnMut(TranslationUnit, Position) -> ControlFlow<()>,
) -> Result<ParsedTmx, FormatError> {
    let fail = |issues: Vec<FormatIssue>| FormatError {
        format: FORMAT,
        issues,
    };
    let text = decode(bytes).map_err(|i| fail(vec![i]))?;
    TmxReader::new(&text, &mut each).read().map_err(fail)
}

/// The id of a unit without `tuid`: `u-` and 16 hex digits of the SHA-256 of its variants
/// (key and text, in key order). Also the content key that finds duplicates.
pub fn unit_content_id(variants: &BTreeMap<String, String>) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for (lang, text) in variants {
        hash.update(lang.as_bytes());
        hash.update([0x1f]);
        hash.update(text.as_bytes());
        hash.update([0x1e]);
    }
    format!("u-{}", &hex::encode(hash.finalize())[..16])
}

/// Whether `text[at..]` starts with a placeholder; returns its length in bytes.
fn placeholder_at(text: &str, at: usize) -> Option<usize> {
    let rest = &text.as_bytes()[at..];
    if rest.first() != Some(&b'{') {
        return None;
    }
    let mut i = 1;
    if rest.get(i) == Some(&b'/') {
        i += 1;
    }
    let digits = rest[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 4 {
        return None;
    }
    i += digits;
    if rest.get(i) == Some(&b'/') && rest[1] != b'/' {
        i += 1;
    }
    (rest.get(i) == Some(&b'}')).then_some(i + 1)
}

/// The placeholders of a variant text (`{1}`, `{/1}`, `{2/}`), with their byte ranges.
pub fn placeholders(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(off) = text[at..].find('{') {
        let start = at + off;
        match placeholder_at(text, start) {
            Some(len) => {
                out.push((start, start + len));
                at = start + len;
            }
            None => at = start + 1,
        }
    }
    out
}

/// A variant text without its inline-code placeholders (what translators read, and what the
/// LISA kit's expected outputs hold).
pub fn strip_codes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in placeholders(text) {
        out.push_str(&text[at..start]);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// The long variant key of a tag: `primary[-Script][-REGION]` (`en-GB`).
fn long_key(tag: &LangTag) -> String {
    let mut key = tag.primary.clone();
    if let Some(script) = &tag.script {
        key.push('-');
        key.push_str(script);
    }
    if let Some(region) = &tag.region {
        key.push('-');
        key.push_str(region);
    }
    key
}

/// `20020523T091200Z` (TMX dates, ISO 8601 basic) as RFC 3339; `None` when it is not one.
pub fn tmx_date_to_rfc3339(value: &str) -> Option<String> {
    let b = value.trim().as_bytes();
    let ok = b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit);
    ok.then(|| {
        let s = |r: std::ops::Range<usize>| std::str::from_utf8(&b[r]).unwrap_or_default();
        format!(
            "{}-{}-{}T{}:{}:{}Z",
            s(0..4),
            s(4..6),
            s(6..8),
            s(9..11),
            s(11..13),
            s(13..15)
        )
    })
}

/// RFC 3339 (`2026-11-22T10:00:00Z`) as a TMX date (`20261122T100000Z`).
pub fn rfc3339_to_tmx_date(value: &str) -> Option<String> {
    let digits: String = value
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect();
    (digits.len() == 14).then(|| format!("{}T{}Z", &digits[..8], &digits[8..]))
}

// ---------------------------------------------------------------------------------------------
// Reading

/// Where the reader is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// `<tmx>`, `<body>`, or an element outside the units whose content is passed over.
    Outside,
    /// Inside `<header>`.
    Header,
    /// `<tu>`.
    Unit,
    /// `<tuv>`.
    Variant,
    /// `<seg>` or a `<hi>` in it: text counts.
    Seg,
    /// Inside an inline code (`bpt`, `ph`, ...) or a passed-over element: nothing counts.
    Opaque,
    /// A `<prop>`/`<note>` being kept verbatim.
    Element,
}

struct Open {
    name: String,
    offset: usize,
    place: Place,
    /// Placeholder number closed by this element's end (`hi`).
    closes: Option<u32>,
}

#[derive(Default)]
struct VariantDraft {
    offset: usize,
    tag: Option<LangTag>,
    extra: TmxVariantExtra,
    text: Option<String>,
    seg_start: usize,
    has_codes: bool,
    next_code: u32,
    used_codes: std::collections::HashSet<u32>,
    open_bpt: HashMap<String, u32>,
    created: Option<String>,
    changed: Option<String>,
}

/// A `<tuv>` read, waiting for its unit to end (keys are given per unit).
struct PendingVariant {
    offset: usize,
    tag: LangTag,
    text: String,
    extra: TmxVariantExtra,
}

#[derive(Default)]
struct UnitDraft {
    offset: usize,
    extra: TmxUnitExtra,
    notes: Vec<String>,
    pending: Vec<PendingVariant>,
    tuid: Option<String>,
    source_tag: Option<LangTag>,
    created: Option<String>,
    changed: Option<String>,
    issues_before: usize,
}

/// A kind of skipped content, counted, with its first place.
struct Tally {
    message: String,
    count: u64,
    offset: usize,
}

/// Where [`TmxReader`] hands its units.
type Sink<'s> = &'s mut dyn FnMut(TranslationUnit, Position) -> ControlFlow<()>;

struct TmxReader<'t, 's> {
    text: &'t str,
    each: Sink<'s>,
    /// `each` asked for no more units.
    stopped: bool,
    /// End of the event being handled.
    at: usize,
    stack: Vec<Open>,
    root_seen: bool,
    source_tag: Option<LangTag>,
    unit: Option<UnitDraft>,
    variant: Option<VariantDraft>,
    /// Start offset and text of a `<prop>`/`<note>` being kept.
    element: Option<(usize, String)>,
    ids: HashMap<String, u32>,
    issues: Vec<FormatIssue>,
    tallies: Vec<Tally>,
    now: String,
}

/// Reading cannot go on (a syntax error, too many problems).
struct Stop;

/// The variants of a unit by key (`fr`, or `fr-CA` where a language has several), and what
/// each keeps beyond its text.
type AssignedKeys = (BTreeMap<String, String>, BTreeMap<String, TmxVariantExtra>);

impl<'t, 's> TmxReader<'t, 's> {
    fn new(text: &'t str, each: Sink<'s>) -> TmxReader<'t, 's> {
        TmxReader {
            text,
            each,
            stopped: false,
            at: 0,
            stack: Vec::new(),
            root_seen: false,
            source_tag: None,
            unit: None,
            variant: None,
            element: None,
            ids: HashMap::new(),
            issues: Vec::new(),
            tallies: Vec::new(),
            now: now_rfc3339(),
        }
    }

    fn read(mut self) -> Result<ParsedTmx, Vec<FormatIssue>> {
        let _ = self.events();
        if !self.issues.is_empty() {
            self.issues.sort_by_key(|i| (i.line, i.column));
            return Err(self.issues);
        }
        let text = self.text;
        let warnings = self
            .tallies
            .into_iter()
            .map(|t| Warning {
                line: Some(locate(text, t.offset).0),
                message: format!(
                    "{} ({} time{})",
                    t.message,
                    t.count,
                    if t.count == 1 { "" } else { "s" }
                ),
            })
            .collect();
        Ok(ParsedTmx {
            units: Vec::new(),
            source_lang: self.source_tag.map(|t| t.primary),
            warnings,
        })
    }

    fn issue(&mut self, offset: usize, message: impl Into<String>) -> Result<(), Stop> {
        if self.issues.len() >= MAX_ISSUES {
            let stop = self.located(offset, format!("stopped after {MAX_ISSUES} problems"));
            self.issues.push(stop);
            return Err(Stop);
        }
        let found = self.located(offset, message);
        self.issues.push(found);
        Ok(())
    }

    fn fatal(&mut self, offset: usize, message: impl Into<String>) -> Stop {
        let found = self.located(offset, message);
        self.issues.push(found);
        Stop
    }

    /// A problem at `offset`, inside the elements open now.
    fn located(&self, offset: usize, message: impl Into<String>) -> FormatIssue {
        let open = self.stack.iter().map(|o| o.name.as_str());
        issue_in(self.text, offset, open, message)
    }

    fn tally(&mut self, offset: usize, message: String) {
        match self.tallies.iter_mut().find(|t| t.message == message) {
            Some(t) => t.count += 1,
            None => self.tallies.push(Tally {
                message,
                count: 1,
                offset,
            }),
        }
    }

    fn place(&self) -> Option<Place> {
        self.stack.last().map(|o| o.place)
    }

    fn events(&mut self) -> Result<(), Stop> {
        let mut reader = Reader::from_str(self.text);
        loop {
            let offset = reader.buffer_position() as usize;
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(e) => {
                    let at = reader.error_position() as usize;
                    return Err(self.fatal(at, xml_error_message(&e)));
                }
            };
            let end = reader.buffer_position() as usize;
            self.at = end;
            match event {
                Event::Start(e) => {
                    if self.stack.len() >= MAX_DEPTH {
                        let message = format!("elements nested deeper than {MAX_DEPTH}");
                        return Err(self.fatal(offset, message));
                    }
                    self.start(&e, offset, end)?;
                }
                Event::Empty(e) => {
                    self.start(&e, offset, end)?;
                    self.end(offset, end)?;
                }
                Event::End(_) => self.end(offset, end)?,
                Event::Text(t) => {
                    let text = t.xml10_content();
                    self.text_event(&text, offset)?;
                }
                Event::CData(t) => {
                    let text = t.xml10_content();
                    self.text_event(&text, offset)?;
                }
                Event::GeneralRef(r) => {
                    let resolved = self.reference(&r, offset)?;
                    self.text_event(&resolved, offset)?;
                }
                Event::Decl(_) | Event::DocType(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
            if self.stopped {
                return Ok(());
            }
        }
        if let Some(open) = self.stack.last() {
            let (name, at) = (open.name.clone(), open.offset);
            return Err(self.fatal(at, format!("<{name}> is not closed")));
        }
        if !self.root_seen {
            let message = if self.text.trim().is_empty() {
                "empty file"
            } else {
                "not a TMX file: no <tmx> root element"
            };
            return Err(self.fatal(0, message));
        }
        Ok(())
    }

    fn text_event(&mut self, text: &str, offset: usize) -> Result<(), Stop> {
        match self.place() {
            None if !text.trim().is_empty() => {
                let at = offset + (text.len() - text.trim_start().len());
                Err(self.fatal(at, "text outside the root element"))
            }
            Some(Place::Seg) => {
                if let Some(v) = &mut self.variant {
                    v.text.get_or_insert_with(String::new).push_str(text);
                }
                Ok(())
            }
            Some(Place::Element) => {
                if let Some((_, t)) = &mut self.element {
                    t.push_str(text);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The text of a predefined entity or a character reference; any other entity is an error
    /// (DTD entities are never expanded).
    fn reference(&mut self, r: &BytesRef<'_>, offset: usize) -> Result<String, Stop> {
        resolve_reference(r).map_err(|message| self.fatal(offset, message))
    }

    fn attributes(
        &mut self,
        e: &BytesStart<'_>,
        offset: usize,
    ) -> Result<Vec<(String, String)>, Stop> {
        attributes(e).map_err(|message| self.fatal(offset, message))
    }

    fn push(&mut self, name: &str, offset: usize, place: Place, closes: Option<u32>) {
        self.stack.push(Open {
            name: name.to_string(),
            offset,
            place,
            closes,
        });
    }

    fn start(&mut self, e: &BytesStart<'_>, offset: usize, end: usize) -> Result<(), Stop> {
        let name = e.name().as_ref().to_string();
        let parent = self.place();
        match (parent, name.as_str()) {
            (None, "tmx") if !self.root_seen => {
                self.root_seen = true;
                self.push(&name, offset, Place::Outside, None);
            }
            (None, _) => {
                let message = if self.root_seen {
                    "a second root element".to_string()
                } else {
                    format!("not a TMX file: the root element is <{name}>, not <tmx>")
                };
                return Err(self.fatal(offset, message));
            }
            (Some(Place::Outside), "header") => {
                let attrs = self.attributes(e, offset)?;
                if let Some((_, v)) = attrs
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("srclang"))
                {
                    self.source_tag = self.source_tag(v, offset)?;
                }
                self.push(&name, offset, Place::Header, None);
            }
            (Some(Place::Outside), "body") => self.push(&name, offset, Place::Outside, None),
            (Some(Place::Outside), "tu") => self.start_unit(e, &name, offset)?,
            (Some(Place::Unit), "tuv") => self.start_variant(e, &name, offset)?,
            (Some(Place::Unit | Place::Variant), "prop" | "note") => {
                self.element = Some((offset, String::new()));
                self.push(&name, offset, Place::Element, None);
            }
            (Some(Place::Variant), "seg") => {
                if self.variant.as_ref().is_some_and(|v| v.text.is_some()) {
                    self.issue(offset, "a <tuv> with more than one <seg>")?;
                }
                if let Some(v) = &mut self.variant {
                    v.text = Some(String::new());
                    v.seg_start = end;
                }
                self.push(&name, offset, Place::Seg, None);
            }
            (Some(Place::Seg), _) => self.start_code(e, &name, offset)?,
            (Some(Place::Unit | Place::Variant), _) => {
                self.tally(
                    offset,
                    format!("unknown element <{name}> in a unit skipped"),
                );
                self.push(&name, offset, Place::Opaque, None);
            }
            (Some(Place::Outside), _) => {
                self.tally(offset, format!("unknown element <{name}> skipped"));
                self.push(&name, offset, Place::Opaque, None);
            }
            (Some(Place::Header | Place::Opaque | Place::Element), _) => {
                self.push(&name, offset, Place::Opaque, None);
            }
        }
        Ok(())
    }

    /// The tag of a `srclang` value; `None` for `*all*`.
    fn source_tag(&mut self, value: &str, offset: usize) -> Result<Option<LangTag>, Stop> {
        if value.trim() == "*all*" {
            return Ok(None);
        }
        match LangTag::parse(value) {
            Ok(tag) => Ok(Some(tag)),
            Err(err) => {
                self.issue(offset, format!("srclang: {err}"))?;
                Ok(None)
            }
        }
    }

    fn start_unit(&mut self, e: &BytesStart<'_>, name: &str, offset: usize) -> Result<(), Stop> {
        let attrs = self.attributes(e, offset)?;
        let mut unit = UnitDraft {
            offset,
            source_tag: self.source_tag.clone(),
            issues_before: self.issues.len(),
            ..UnitDraft::default()
        };
        for (k, v) in &attrs {
            match k.to_ascii_lowercase().as_str() {
                "tuid" => unit.tuid = Some(v.trim().to_string()),
                "srclang" => unit.source_tag = self.source_tag(v, offset)?,
                "creationdate" => unit.created = tmx_date_to_rfc3339(v),
                "changedate" => unit.changed = tmx_date_to_rfc3339(v),
                _ => {}
            }
        }
        unit.extra.attrs = attrs;
        self.unit = Some(unit);
        self.push(name, offset, Place::Unit, None);
        Ok(())
    }

    fn start_variant(&mut self, e: &BytesStart<'_>, name: &str, offset: usize) -> Result<(), Stop> {
        let attrs = self.attributes(e, offset)?;
        let mut variant = VariantDraft {
            offset,
            ..VariantDraft::default()
        };
        let lang = attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("xml:lang"))
            .or_else(|| attrs.iter().find(|(k, _)| k.eq_ignore_ascii_case("lang")));
        match lang {
            None => self.issue(offset, "<tuv> without xml:lang")?,
            Some((_, v)) => match LangTag::parse(v) {
                Ok(tag) => variant.tag = Some(tag),
                Err(err) => self.issue(offset, format!("<tuv> xml:lang: {err}"))?,
            },
        }
        for (k, v) in &attrs {
            match k.to_ascii_lowercase().as_str() {
                "creationdate" => variant.created = tmx_date_to_rfc3339(v),
                "changedate" => variant.changed = tmx_date_to_rfc3339(v),
                _ => {}
            }
        }
        variant.extra.attrs = attrs;
        self.variant = Some(variant);
        self.push(name, offset, Place::Variant, None);
        Ok(())
    }

    /// An element inside `<seg>`: an inline code becomes a placeholder.
    fn start_code(&mut self, e: &BytesStart<'_>, name: &str, offset: usize) -> Result<(), Stop> {
        let attrs = self.attributes(e, offset)?;
        let attr = |key: &str| {
            attrs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim().to_string())
        };
        let Some(v) = self.variant.as_mut() else {
            self.push(name, offset, Place::Opaque, None);
            return Ok(());
        };
        v.has_codes = true;
        // the code's `x` (which matches codes across the unit's languages) when it has one not
        // used yet in this segment, else the next free number
        let x = attr("x").and_then(|x| x.parse::<u32>().ok());
        let mut next = || {
            let n = match x {
                Some(x) if !v.used_codes.contains(&x) => x,
                _ => {
                    while v.used_codes.contains(&(v.next_code + 1)) {
                        v.next_code += 1;
                    }
                    v.next_code += 1;
                    v.next_code
                }
            };
            v.used_codes.insert(n);
            n
        };
        let (placeholder, place, closes) = match name {
            "bpt" => {
                let n = next();
                if let Some(i) = attr("i") {
                    v.open_bpt.insert(i, n);
                }
                (format!("{{{n}}}"), Place::Opaque, None)
            }
            "ept" => {
                let paired = attr("i").and_then(|i| v.open_bpt.remove(&i));
                let n = paired.unwrap_or_else(&mut next);
                (format!("{{/{n}}}"), Place::Opaque, None)
            }
            "it" => {
                let n = next();
                let end = attr("pos").is_some_and(|p| p.eq_ignore_ascii_case("end"));
                let text = if end {
                    format!("{{/{n}}}")
                } else {
                    format!("{{{n}}}")
                };
                (text, Place::Opaque, None)
            }
            "ph" | "ut" => (format!("{{{}/}}", next()), Place::Opaque, None),
            "hi" => {
                let n = next();
                (format!("{{{n}}}"), Place::Seg, Some(n))
            }
            other => {
                let message = format!(
                    "<{other}> is not an inline element of TMX 1.4 (bpt, ept, it, ph, hi, ut)"
                );
                self.issue(offset, message)?;
                self.push(name, offset, Place::Opaque, None);
                return Ok(());
            }
        };
        v.text
            .get_or_insert_with(String::new)
            .push_str(&placeholder);
        self.push(name, offset, place, closes);
        Ok(())
    }

    fn end(&mut self, offset: usize, end: usize) -> Result<(), Stop> {
        let Some(open) = self.stack.pop() else {
            return Ok(());
        };
        match (open.place, open.name.as_str()) {
            (Place::Unit, _) => self.finish_unit()?,
            (Place::Variant, _) => self.finish_variant()?,
            (Place::Element, kind) => {
                let (start, text) = self.element.take().unwrap_or_default();
                let fragment = self.text[start..end].to_string();
                match (&mut self.variant, &mut self.unit) {
                    (Some(v), _) => v.extra.elements.push(fragment),
                    (None, Some(u)) => {
                        if kind == "note" && !text.trim().is_empty() {
                            u.notes.push(nfc(text.trim()));
                        }
                        u.extra.elements.push(fragment);
                    }
                    (None, None) => {}
                }
            }
            (Place::Seg, "seg") => {
                if let Some(v) = &mut self.variant {
                    if v.has_codes {
                        v.extra.seg = Some(self.text[v.seg_start..offset].to_string());
                    }
                }
            }
            (Place::Seg, _) => {
                if let (Some(n), Some(v)) = (open.closes, &mut self.variant) {
                    v.text
                        .get_or_insert_with(String::new)
                        .push_str(&format!("{{/{n}}}"));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish_variant(&mut self) -> Result<(), Stop> {
        let Some(v) = self.variant.take() else {
            return Ok(());
        };
        let Some(text) = v.text else {
            return self.issue(v.offset, "<tuv> without <seg>");
        };
        let (Some(tag), Some(unit)) = (v.tag, self.unit.as_mut()) else {
            return Ok(());
        };
        unit.created = unit.created.take().or(v.created);
        unit.changed = unit.changed.take().or(v.changed);
        unit.pending.push(PendingVariant {
            offset: v.offset,
            tag,
            text: into_nfc(text),
            extra: v.extra,
        });
        Ok(())
    }

    /// Gives each variant of a unit its key: the primary subtag; when a language comes twice, the
    /// variant of the source tag (else the first) keeps it and the others get the long key.
    fn assign_keys(
        &mut self,
        source: Option<&LangTag>,
        pending: Vec<PendingVariant>,
    ) -> Result<AssignedKeys, Stop> {
        let mut count: HashMap<String, usize> = HashMap::new();
        for p in &pending {
            *count.entry(p.tag.primary.clone()).or_default() += 1;
        }
        let is_source = |t: &LangTag| {
            source.is_some_and(|s| {
                s.primary == t.primary && s.region == t.region && s.script == t.script
            })
        };
        let mut bare_taken: Vec<String> = pending
            .iter()
            .filter(|p| count[&p.tag.primary] > 1 && is_source(&p.tag))
            .map(|p| p.tag.primary.clone())
            .collect();
        let mut texts = BTreeMap::new();
        let mut extras = BTreeMap::new();
        for p in pending {
            let primary = &p.tag.primary;
            let key = if count[primary] == 1 || is_source(&p.tag) {
                primary.clone()
            } else if !bare_taken.contains(primary) {
                bare_taken.push(primary.clone());
                primary.clone()
            } else {
                long_key(&p.tag)
            };
            if texts.contains_key(&key) {
                self.issue(p.offset, format!("a second <tuv> in language {key}"))?;
                continue;
            }
            texts.insert(key.clone(), p.text);
            extras.insert(key, p.extra);
        }
        Ok((texts, extras))
    }

    fn finish_unit(&mut self) -> Result<(), Stop> {
        let Some(draft) = self.unit.take() else {
            return Ok(());
        };
        if self.issues.len() > draft.issues_before {
            return Ok(());
        }
        let (variants, extras) = self.assign_keys(draft.source_tag.as_ref(), draft.pending)?;
        if self.issues.len() > draft.issues_before {
            return Ok(());
        }
        if variants.is_empty() {
            self.tally(draft.offset, "<tu> without any <tuv> skipped".to_string());
            return Ok(());
        }
        let base = match draft.tuid.filter(|t| !t.is_empty()) {
            Some(tuid) => {
                if let Err(err) = check_name("tuid", &tuid) {
                    return self.issue(draft.offset, err.to_string());
                }
                tuid
            }
            None => unit_content_id(&variants),
        };
        let seen = self.ids.entry(base.clone()).or_insert(0);
        *seen += 1;
        let id = if *seen == 1 {
            base
        } else {
            let n = *seen;
            self.tally(
                draft.offset,
                "a tuid used twice: the later unit's id gets -2, -3...".to_string(),
            );
            format!("{base}-{n}")
        };
        let source_lang = draft
            .source_tag
            .map(|t| t.primary)
            .filter(|s| variants.contains_key(s));
        let mut tmx = draft.extra;
        tmx.variants = extras;
        if !self.issues.is_empty() || self.stopped {
            // the file is refused already, or nobody wants more units
            return Ok(());
        }
        let unit = TranslationUnit {
            id,
            collection: DEFAULT_COLLECTION.to_string(),
            variants,
            origin: None,
            note: (!draft.notes.is_empty()).then(|| draft.notes.join("\n")),
            source_lang,
            created_at: draft.created.unwrap_or_else(|| self.now.clone()),
            changed_at: draft.changed,
            tmx,
        };
        let at = Position {
            offset: self.at,
            len: self.text.len(),
        };
        self.stopped = (self.each)(unit, at).is_break();
        Ok(())
    }
}

/// The placeholder text of a `<seg>`'s XML content (what [`read_tmx`] makes of it), or `None`
/// when it is not well-formed seg content.
pub fn seg_text(seg_xml: &str) -> Option<String> {
    let file = format!(
        "<tmx><body><tu><tuv xml:lang=\"und\"><seg>{seg_xml}</seg></tuv></tu></body></tmx>"
    );
    let mut first = None;
    TmxReader::new(&file, &mut |unit, _| {
        // read to the end all the same: the content must be well-formed throughout
        first.get_or_insert(unit);
        ControlFlow::Continue(())
    })
    .read()
    .ok()?;
    first?.variants.into_values().next()
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Writes units as a TMX 1.4b document (UTF-8), one `<tu>` at a time.
///
/// A unit read from TMX is written back as it was read: its `<tu>`/`<tuv>` attributes, its
/// `<prop>`/`<note>` elements and the `<seg>` content with its inline codes, as long as the
/// variant text still is what that content shows (an edited text is written as plain text).
/// Other units get `tuid`, `creationdate`/`changedate`, `srclang` and a `<note>` from their fields.
pub struct TmxWriter<W: Write> {
    out: W,
}

impl<W: Write> TmxWriter<W> {
    /// Starts a document; `srclang` is the header's source language (`*all*` when `None`).
    pub fn new(mut out: W, srclang: Option<&str>) -> io::Result<Self> {
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(out, r#"<tmx version="1.4">"#)?;
        writeln!(
            out,
            r#"<header creationtool="hexaglot" creationtoolversion="{}" segtype="sentence" o-tmf="hexaglot" adminlang="en" srclang="{}" datatype="plaintext"/>"#,
            env!("CARGO_PKG_VERSION"),
            xml(srclang.unwrap_or("*all*"))
        )?;
        writeln!(out, "<body>")?;
        Ok(TmxWriter { out })
    }

    /// Writes one unit.
    pub fn write(&mut self, unit: &TranslationUnit) -> io::Result<()> {
        let out = &mut self.out;
        write!(out, "<tu")?;
        let attrs = &unit.tmx.attrs;
        let has = |name: &str| attrs.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
        if !has("tuid") && unit.id != unit_content_id(&unit.variants) {
            write!(out, r#" tuid="{}""#, xml(&unit.id))?;
        }
        if unit.tmx.is_empty() {
            if let Some(date) = rfc3339_to_tmx_date(&unit.created_at) {
                write!(out, r#" creationdate="{date}""#)?;
            }
            if let Some(date) = unit.changed_at.as_deref().and_then(rfc3339_to_tmx_date) {
                write!(out, r#" changedate="{date}""#)?;
            }
            if let Some(src) = &unit.source_lang {
                write!(out, r#" srclang="{}""#, xml(src))?;
            }
        }
        for (k, v) in attrs {
            write!(out, r#" {k}="{}""#, xml(v))?;
        }
        writeln!(out, ">")?;
        for element in &unit.tmx.elements {
            writeln!(out, "{element}")?;
        }
        if unit.tmx.elements.is_empty() {
            if let Some(note) = &unit.note {
                writeln!(out, "<note>{}</note>", xml(note))?;
            }
        }
        for (key, text) in &unit.variants {
            let extra = unit.tmx.variants.get(key);
            write!(out, "<tuv")?;
            match extra.filter(|e| !e.attrs.is_empty()) {
                Some(e) => {
                    for (k, v) in &e.attrs {
                        write!(out, r#" {k}="{}""#, xml(v))?;
                    }
                }
                None => write!(out, r#" xml:lang="{}""#, xml(key))?,
            }
            write!(out, ">")?;
            for element in extra.iter().flat_map(|e| &e.elements) {
                write!(out, "{element}")?;
            }
            let raw = extra
                .and_then(|e| e.seg.as_deref())
                .filter(|seg| seg_text(seg).as_deref() == Some(text.as_str()));
            match raw {
                Some(seg) => writeln!(out, "<seg>{seg}</seg></tuv>")?,
                None => writeln!(out, "<seg>{}</seg></tuv>", xml(text))?,
            }
        }
        writeln!(out, "</tu>")
    }

    /// Closes the document; returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        writeln!(self.out, "</body>")?;
        writeln!(self.out, "</tmx>")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// [`super::export::xml`] with tabs and line breaks as character references, so that they survive
/// attribute-value and line-end normalisation (TMX whitespace is significant).
fn xml(text: &str) -> String {
    let escaped = super::export::xml(text);
    if !escaped.contains(['\t', '\n', '\r']) {
        return escaped;
    }
    escaped
        .replace('\t', "&#9;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
}
