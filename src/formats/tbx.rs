//! TBX glossaries (ISO 30042): bytes to concepts.
//!
//! [`read_tbx`] reads both generations of the format in one pass over quick-xml events, keeping
//! only the entry being read (memory grows with one entry, not with the file); [`read_tbx_each`]
//! hands each concept on as soon as its entry ends, so an import indexes while the file is read:
//!
//! - ISO 30042:2019 `<tbx>` (TBX-Core, TBX-Basic, TBX-Min): `conceptEntry/langSec/termSec/term`;
//! - TBX v2 `<martif>`: `termEntry/langSet/tig/term` and `termEntry/langSet/ntig/termGrp/term`.
//!
//! Data categories are read from DCA markup (`<descrip type="definition">`,
//! `<termNote type="partOfSpeech">`, `<admin type="source">`, `<note>`, `<ref>`/`<xref>`) and from
//! DCT markup (`<basic:definition>`, `<min:partOfSpeech>`: the local name is the category), the
//! same way:
//!
//! | category                                         | goes to                                 |
//! |--------------------------------------------------|-----------------------------------------|
//! | `subjectField`                                   | the concept's subjects, at any level    |
//! | `definition`                                     | the language's definition; outside a language, the concept note |
//! | `context`, `note`                                | the term note; outside a term, the concept note |
//! | `administrativeStatus`, `usageStatus`, `normativeAuthorization` | the term status ([`TermStatus::from_str`]) |
//! | `partOfSpeech`, `grammaticalGender`, `termType`  | the term's `pos`, `gender`, `term_type` |
//! | `source`, `ref`, `xref`                          | the term source                         |
//!
//! Group elements (`descripGrp`, `adminGrp`, `termGrp`) are looked through. What has no place
//! in the model is kept verbatim in the `tbx_extra` of its concept, language section or term, so
//! that a TBX export writes it back: `transacGrp` silently, any other data category or element
//! and a term-level category outside a term with one warning each kind ("kept as is"); DCT
//! elements are kept in their DCA form (`<basic:source>` as `<admin type="source">`). The header
//! is skipped; the back matter (`<back>`) is skipped with a warning. An unknown status value
//! (read as `admitted`), an empty `<term/>` and an entry without any term are skipped with one
//! warning each kind, counted. Texts are trimmed with runs of whitespace collapsed to one space; several notes are
//! joined with a line break; of several statuses, definitions, parts of speech and so on the first
//! is kept.
//!
//! Entries take their id from the `id` attribute (which must be unique in the file); without one
//! the id is derived from the entry's first term the way the CSV reader does: `c-` and the first
//! 16 hex digits of the SHA-256 of `"{primary language subtag}\u{1f}{term in NFC}"` (with `-2`,
//! `-3`... appended when two entries derive the same id). Language keys come from `xml:lang`
//! through [`LangTag::parse`], the region staying on the term. Concepts go through
//! [`Concept::normalize`].
//!
//! The input is decoded first: a UTF-8 or UTF-16 byte order mark wins, then the `encoding` of
//! the XML declaration (any label encoding_rs knows: `windows-1254`, `iso-8859-1`...), else
//! UTF-8. A document type declaration is ignored and nothing is ever fetched; entities other than
//! the five predefined ones and character references are not expanded but are an error, so an
//! entity bomb fails at its first reference. Problems are collected (up to [`MAX_ISSUES`]; a
//! syntax error ends reading) with their 1-based line and column (in characters).

use super::export::{concept_id, xml};
use super::xml::{
    attributes_borrowed, decode, issue_in, locate, resolve_reference, xml_error_message,
};
use super::{derived_id, issue};
use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::str::FromStr;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::reader::Reader;
use rustc_hash::FxHashMap;

pub use super::Position;
use super::{FormatError, FormatIssue, ParsedGlossary, Warning};
use crate::lang::LangTag;
use crate::model::{check_name, is_collapsed, Concept, Term, TermStatus};

/// Format name used in errors.
const FORMAT: &str = "tbx";

/// How many problems are reported before reading stops.
pub const MAX_ISSUES: usize = 100;

/// Deepest element nesting accepted; real files stay below 20.
const MAX_DEPTH: usize = 256;

/// Reads a TBX file (v2 `martif` or ISO 30042:2019 `tbx`, DCA or DCT style) into normalised
/// concepts of `collection`, in file order. Any problem makes the whole file fail, with every
/// problem found listed.
///
/// ```
/// use hexaglot::formats::tbx::read_tbx;
/// use hexaglot::model::TermStatus;
///
/// let file = r#"<?xml version="1.0"?>
/// <tbx type="TBX-Basic" style="dca"><text><body>
///   <conceptEntry id="c1">
///     <langSec xml:lang="fr-CA"><termSec>
///       <term>courriel</term>
///       <termNote type="administrativeStatus">preferredTerm-admn-sts</termNote>
///     </termSec></langSec>
///   </conceptEntry>
/// </body></text></tbx>"#;
/// let glossary = read_tbx(file.as_bytes(), "default").unwrap();
/// let term = &glossary.concepts[0].languages["fr"].terms[0];
/// assert_eq!((term.text.as_str(), term.status), ("courriel", TermStatus::Preferred));
/// assert_eq!(term.region.as_deref(), Some("CA"));
/// ```
pub fn read_tbx(bytes: &[u8], collection: &str) -> Result<ParsedGlossary, FormatError> {
    let mut concepts = Vec::new();
    let warnings = read_tbx_each(bytes, collection, |concept, _| {
        concepts.push(concept);
        ControlFlow::Continue(())
    })?;
    Ok(ParsedGlossary { concepts, warnings })
}

/// Reads a TBX file like [`read_tbx`], handing each concept to `each` as soon as its entry is
/// read, with the byte offset reached in the (decoded) file and that file's length, instead of
/// collecting them.
///
/// `each` sees concepts only while the file has no problem so far; the verdict comes at the end:
/// an `Err` means the file is refused whole, and whatever `each` did with the concepts it saw
/// must be undone (an import rolls its transaction back). When `each` returns
/// `ControlFlow::Break`, reading stops and the warnings so far are returned.
///
/// ```
/// use std::ops::ControlFlow;
/// use hexaglot::formats::tbx::read_tbx_each;
///
/// let file = r#"<martif type="TBX"><text><body>
///   <termEntry id="a"><langSet xml:lang="en"><tig><term>one</term></tig></langSet></termEntry>
///   <termEntry id="b"><langSet xml:lang="en"><tig><term>two</term></tig></langSet></termEntry>
/// </body></text></martif>"#;
/// let mut ids = Vec::new();
/// read_tbx_each(file.as_bytes(), "default", |concept, _| {
///     ids.push(concept.id);
///     ControlFlow::Continue(())
/// })
/// .unwrap();
/// assert_eq!(ids, ["a", "b"]);
/// // a problem after the first entry: it was seen, but the verdict refuses the file
/// let broken = file.replace("</martif>", "");
/// assert!(read_tbx_each(broken.as_bytes(), "default", |_, _| ControlFlow::Continue(())).is_err());
/// ```
pub fn read_tbx_each(
    bytes: &[u8],
    collection: &str,
    mut each: impl FnMut(Concept, Position) -> ControlFlow<()>,
) -> Result<Vec<Warning>, FormatError> {
    let fail = |issues: Vec<FormatIssue>| FormatError {
        format: FORMAT,
        issues,
    };
    if let Err(e) = check_name("collection", collection) {
        return Err(fail(vec![issue(1, 1, e.to_string())]));
    }
    let text = decode(bytes).map_err(|i| fail(vec![i]))?;
    TbxReader::new(&text, collection, &mut each)
        .read()
        .map_err(fail)
}

// ---------------------------------------------------------------------------------------------
// Reading

/// What an open element means to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// `<tbx>` or `<martif>`.
    Root,
    /// Outside any entry (header, `back`), or a group looked through.
    Plain,
    /// `conceptEntry` / `termEntry`.
    Entry,
    /// `langSec` / `langSet`.
    Lang,
    /// `termSec` / `tig` / `ntig`.
    TermGroup,
    /// The element whose text is being captured.
    Capture,
    /// An element inside a captured one (`<hi>` in a `<term>`): its text counts.
    Inline,
    /// The first element of a subtree kept verbatim in `tbx_extra`.
    Keep,
    /// The first element of a skipped subtree.
    Skip,
    /// An element inside a skipped subtree.
    Skipped,
}

struct Open<'t> {
    name: Cow<'t, str>,
    offset: usize,
    role: Role,
}

/// Where captured text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Term,
    Subject,
    Definition,
    Note,
    Status,
    Pos,
    Gender,
    TermType,
    Source,
    /// A category without a place in the model, kept in `tbx_extra` (DCA form in
    /// [`Capture::dca`]).
    Extra,
}

impl Slot {
    /// The slot of a data category name, compared case-insensitively.
    fn of_category(category: &str) -> Option<Slot> {
        const CATEGORIES: [(&str, Slot); 11] = [
            ("subjectField", Slot::Subject),
            ("definition", Slot::Definition),
            ("context", Slot::Note),
            ("note", Slot::Note),
            ("administrativeStatus", Slot::Status),
            ("usageStatus", Slot::Status),
            ("normativeAuthorization", Slot::Status),
            ("partOfSpeech", Slot::Pos),
            ("grammaticalGender", Slot::Gender),
            ("termType", Slot::TermType),
            ("source", Slot::Source),
        ];
        CATEGORIES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(category))
            .map(|&(_, slot)| slot)
    }

    /// True for categories that only describe a term.
    fn term_only(self) -> bool {
        matches!(
            self,
            Slot::Status | Slot::Pos | Slot::Gender | Slot::TermType | Slot::Source
        )
    }
}

struct Capture<'t> {
    slot: Slot,
    text: Cow<'t, str>,
    /// Used when the text is empty (the `target` of a `<ref>`).
    fallback: Option<String>,
    /// For [`Slot::Extra`]: the DCA element to keep the text in.
    dca: Option<DcaForm>,
    offset: usize,
}

/// The DCA form of a DCT data category: `<{element} type="{category}" target="{target}">`.
struct DcaForm {
    element: &'static str,
    category: String,
    target: Option<String>,
}

/// The DCA element of a DCT category (`<basic:source>` is `<admin type="source">`).
fn dca_element(category: &str, in_term: bool, target: Option<String>) -> DcaForm {
    let element = match category {
        "source" | "customerSubset" | "projectSubset" => "admin",
        "crossReference" => "ref",
        _ if target.is_some() => "xref",
        "context" | "definition" | "subjectField" => "descrip",
        _ if in_term => "termNote",
        _ => "descrip",
    };
    DcaForm {
        element,
        category: category.to_string(),
        target,
    }
}

struct EntryDraft {
    concept: Concept,
    offset: usize,
    /// `(primary language, text)` of the first term, for a derived id.
    first_term: Option<(String, String)>,
    /// Issues before this entry started: if more now, the entry is dropped.
    issues_before: usize,
}

struct TermDraft<'t> {
    offset: usize,
    name: Cow<'t, str>,
    /// `None` until the `<term>` element has been read.
    text: Option<String>,
    status: Option<TermStatus>,
    pos: Option<String>,
    gender: Option<String>,
    term_type: Option<String>,
    note: Option<String>,
    source: Option<String>,
    tbx_extra: Vec<String>,
}

/// A kind of skipped content, counted, with its first place.
struct Tally {
    message: String,
    count: u64,
    offset: usize,
}

/// Where finished concepts go.
type Sink<'s> = &'s mut dyn FnMut(Concept, Position) -> ControlFlow<()>;

/// The state machine over quick-xml events.
struct TbxReader<'t, 's> {
    text: &'t str,
    collection: String,
    stack: Vec<Open<'t>>,
    root_closed: bool,
    entry: Option<EntryDraft>,
    /// The current language section; `Some(None)` when its `xml:lang` was unusable.
    lang: Option<Option<LangTag>>,
    term: Option<TermDraft<'t>>,
    capture: Option<Capture<'t>>,
    sink: Sink<'s>,
    /// Byte offset just past the event being handled.
    at: usize,
    ids: FxHashMap<String, usize>,
    issues: Vec<FormatIssue>,
    tallies: Vec<Tally>,
    tally_index: HashMap<String, usize>,
}

/// Reading cannot go on (a syntax error, too many problems).
struct Stop;

impl<'t, 's> TbxReader<'t, 's> {
    fn new(text: &'t str, collection: &str, sink: Sink<'s>) -> TbxReader<'t, 's> {
        TbxReader {
            text,
            collection: collection.to_string(),
            stack: Vec::new(),
            root_closed: false,
            entry: None,
            lang: None,
            term: None,
            capture: None,
            sink,
            at: 0,
            ids: FxHashMap::default(),
            issues: Vec::new(),
            tallies: Vec::new(),
            tally_index: HashMap::new(),
        }
    }

    fn read(mut self) -> Result<Vec<Warning>, Vec<FormatIssue>> {
        let _ = self.events();
        if !self.issues.is_empty() {
            self.issues.sort_by_key(|i| (i.line, i.column));
            return Err(self.issues);
        }
        let text = self.text;
        Ok(self
            .tallies
            .into_iter()
            .map(|t| Warning {
                line: Some(locate(text, t.offset).0),
                message: if t.count == 1 {
                    format!("{} (once)", t.message)
                } else {
                    format!("{} ({} times)", t.message, t.count)
                },
            })
            .collect())
    }

    /// Records a problem; stops once there are too many.
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

    /// Records a problem that ends reading.
    fn fatal(&mut self, offset: usize, message: impl Into<String>) -> Stop {
        let found = self.located(offset, message);
        self.issues.push(found);
        Stop
    }

    /// A problem at `offset`, inside the elements open now.
    fn located(&self, offset: usize, message: impl Into<String>) -> FormatIssue {
        let open = self.stack.iter().map(|o| o.name.as_ref());
        issue_in(self.text, offset, open, message)
    }

    fn tally(&mut self, offset: usize, message: String) {
        match self.tally_index.get(&message) {
            Some(&i) => self.tallies[i].count += 1,
            None => {
                self.tally_index.insert(message.clone(), self.tallies.len());
                self.tallies.push(Tally {
                    message,
                    count: 1,
                    offset,
                });
            }
        }
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
            match event {
                Event::Start(e) => {
                    if self.stack.len() >= MAX_DEPTH {
                        let message = format!("elements nested deeper than {MAX_DEPTH}");
                        return Err(self.fatal(offset, message));
                    }
                    self.start(&e, offset)?;
                }
                Event::Empty(e) => {
                    self.start(&e, offset)?;
                    self.end(reader.buffer_position() as usize)?;
                }
                Event::End(_) => self.end(reader.buffer_position() as usize)?,
                Event::Text(t) => {
                    // between elements (indentation) the text is not looked at
                    if self.stack.is_empty() {
                        let text = t.xml10_content();
                        if !text.trim().is_empty() {
                            let at = offset + (text.len() - text.trim_start().len());
                            return Err(self.fatal(at, "text outside the root element"));
                        }
                    } else if let Some(c) = &mut self.capture {
                        append_text(&mut c.text, t.xml10_content());
                    }
                }
                Event::CData(t) => {
                    if self.stack.is_empty() {
                        return Err(self.fatal(offset, "CDATA outside the root element"));
                    }
                    if let Some(c) = &mut self.capture {
                        append_text(&mut c.text, t.xml10_content());
                    }
                }
                Event::GeneralRef(r) => {
                    let resolved = self.reference(&r, offset)?;
                    if self.stack.is_empty() {
                        return Err(self.fatal(offset, "text outside the root element"));
                    }
                    if let Some(c) = &mut self.capture {
                        c.text.to_mut().push_str(&resolved);
                    }
                }
                Event::Decl(_) | Event::DocType(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
        }
        if let Some(open) = self.stack.last() {
            let (name, at) = (open.name.to_string(), open.offset);
            return Err(self.fatal(at, format!("<{name}> is not closed")));
        }
        if !self.root_closed {
            let message = if self.text.trim().is_empty() {
                "empty file"
            } else {
                "not a TBX file: no root element"
            };
            return Err(self.fatal(0, message));
        }
        Ok(())
    }

    /// The text of an entity or character reference; anything but the five predefined entities
    /// and character references is an error.
    fn reference(&mut self, r: &BytesRef<'_>, offset: usize) -> Result<String, Stop> {
        resolve_reference(r).map_err(|message| self.fatal(offset, message))
    }

    /// Attribute values by qualified name, unescaped; an error stops reading.
    fn attributes<'e>(
        &mut self,
        e: &'e BytesStart<'_>,
        offset: usize,
    ) -> Result<Vec<(&'e str, Cow<'e, str>)>, Stop> {
        attributes_borrowed(e).map_err(|message| self.fatal(offset, message))
    }
}

impl<'t> TbxReader<'t, '_> {
    /// The qualified name of the element starting at `offset`, borrowed from the text.
    fn name(&self, e: &BytesStart<'_>, offset: usize) -> Cow<'t, str> {
        let name = e.name();
        let name: &str = name.as_ref();
        let text: &'t str = self.text;
        match text.get(offset + 1..offset + 1 + name.len()) {
            Some(at) if at == name => Cow::Borrowed(at),
            _ => Cow::Owned(name.to_string()),
        }
    }

    fn push(&mut self, name: Cow<'t, str>, offset: usize, role: Role) {
        self.stack.push(Open { name, offset, role });
    }

    fn start(&mut self, e: &BytesStart<'_>, offset: usize) -> Result<(), Stop> {
        let parent = self.stack.last().map(|o| o.role);
        let name = self.name(e, offset);
        match parent {
            Some(Role::Skip | Role::Skipped | Role::Keep) => {
                self.push(name, offset, Role::Skipped);
                return Ok(());
            }
            Some(Role::Capture | Role::Inline) => {
                self.push(name, offset, Role::Inline);
                return Ok(());
            }
            _ => {}
        }
        let attributes = self.attributes(e, offset)?;
        let attr = |key: &str| {
            attributes
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.trim())
        };
        let local_len = e.local_name().as_ref().len();
        let local: Cow<'t, str> = match &name {
            Cow::Borrowed(n) => Cow::Borrowed(&n[n.len() - local_len..]),
            Cow::Owned(n) => Cow::Owned(n[n.len() - local_len..].to_string()),
        };
        if parent.is_none() {
            if self.root_closed {
                return Err(self.fatal(offset, "a second root element"));
            }
            if local != "tbx" && local != "martif" {
                let message = format!(
                    "not a TBX file: the root element is <{name}>, expected <tbx> or <martif>"
                );
                return Err(self.fatal(offset, message));
            }
            self.push(name, offset, Role::Root);
            return Ok(());
        }
        let structural = matches!(
            &*local,
            "conceptEntry" | "termEntry" | "langSec" | "langSet" | "termSec" | "tig" | "ntig"
        ) || local == "term";
        if self.entry.is_none() && !matches!(&*local, "conceptEntry" | "termEntry") {
            if structural {
                self.issue(offset, format!("<{name}> outside an entry"))?;
                self.push(name, offset, Role::Skip);
            } else if local == "back" {
                // shared reference objects (people, sources) that entries point to
                self.tally(offset, "back matter <back> not kept".to_string());
                self.push(name, offset, Role::Skip);
            } else {
                self.push(name, offset, Role::Plain);
            }
            return Ok(());
        }
        let role = match &*local {
            "conceptEntry" | "termEntry" => {
                if self.entry.is_some() {
                    self.issue(offset, format!("<{name}> inside another entry"))?;
                    Role::Skip
                } else {
                    let issues_before = self.issues.len();
                    let id = concept_id(attr("id").unwrap_or_default());
                    if !id.is_empty() {
                        if let Err(err) = check_name("id", &id) {
                            self.issue(offset, err.to_string())?;
                        }
                    }
                    self.entry = Some(EntryDraft {
                        concept: Concept::new(&id, &self.collection),
                        offset,
                        first_term: None,
                        issues_before,
                    });
                    Role::Entry
                }
            }
            "langSec" | "langSet" => {
                if self.lang.is_some() {
                    self.issue(offset, format!("<{name}> inside another language section"))?;
                    Role::Skip
                } else {
                    let tag = match attr("xml:lang") {
                        None => {
                            self.issue(offset, format!("<{name}> without xml:lang"))?;
                            None
                        }
                        Some(value) => match LangTag::parse(value) {
                            Ok(tag) => Some(tag),
                            Err(err) => {
                                self.issue(offset, err.to_string())?;
                                None
                            }
                        },
                    };
                    self.lang = Some(tag);
                    Role::Lang
                }
            }
            "termSec" | "tig" | "ntig" => {
                if self.term.is_some() {
                    self.issue(offset, format!("<{name}> inside another term section"))?;
                    Role::Skip
                } else if self.lang.is_none() {
                    self.issue(offset, format!("<{name}> outside a language section"))?;
                    Role::Skip
                } else {
                    self.term = Some(TermDraft {
                        offset,
                        name: name.clone(),
                        text: None,
                        status: None,
                        pos: None,
                        gender: None,
                        term_type: None,
                        note: None,
                        source: None,
                        tbx_extra: Vec::new(),
                    });
                    Role::TermGroup
                }
            }
            "term" => match &self.term {
                None => {
                    self.issue(offset, "<term> outside a term section")?;
                    Role::Skip
                }
                Some(t) if t.text.is_some() => {
                    let message = format!("a second <term> in one <{}>", t.name);
                    self.issue(offset, message)?;
                    Role::Skip
                }
                Some(_) => self.capture(Slot::Term, offset),
            },
            "termGrp" | "descripGrp" | "adminGrp" => Role::Plain,
            // kept as it is, without a warning: nothing is lost
            "transacGrp" => Role::Keep,
            "descrip" | "termNote" | "admin" => match attr("type") {
                Some(category) => {
                    let what = || format!("{local} type=\"{category}\"");
                    self.category(category, what, offset, None)
                }
                None => {
                    self.tally(offset, format!("<{name}> without a type ignored"));
                    Role::Skip
                }
            },
            "note" => self.category("note", || "note".to_string(), offset, None),
            "ref" | "xref" => {
                let what = || match attr("type") {
                    Some(t) => format!("{local} type=\"{t}\""),
                    None => local.to_string(),
                };
                let role = self.category("source", what, offset, None);
                if let Some(c) = &mut self.capture {
                    // a link without text stands for its target
                    c.fallback = attr("target").map(str::to_string);
                }
                role
            }
            _ if name.contains(':') || Slot::of_category(&local).is_some() => {
                // DCT: the local name is the category; kept in DCA form when it has no place
                let what = || format!("<{name}>");
                let target = attr("target").map(str::to_string);
                self.category(&local, what, offset, Some(target))
            }
            _ => {
                self.tally(offset, format!("unknown element <{name}> kept as is"));
                Role::Keep
            }
        };
        self.push(name, offset, role);
        Ok(())
    }
}

impl TbxReader<'_, '_> {
    /// Starts capturing the text of the element being opened.
    fn capture(&mut self, slot: Slot, offset: usize) -> Role {
        self.capture = Some(Capture {
            slot,
            text: Cow::Borrowed(""),
            fallback: None,
            dca: None,
            offset,
        });
        Role::Capture
    }

    /// The role of a data category element: captured if it has a place here, else kept verbatim
    /// (`tbx_extra`) with a warning. `what` names it for the warning. `dct` is `Some(target)` for
    /// a DCT element (`<basic:definition>`), which is kept rewritten in DCA form.
    fn category(
        &mut self,
        category: &str,
        what: impl FnOnce() -> String,
        offset: usize,
        dct: Option<Option<String>>,
    ) -> Role {
        let message = match Slot::of_category(category) {
            None => format!("unknown data category {} kept as is", what()),
            Some(slot) if slot.term_only() && self.term.is_none() => {
                format!("{} outside a term kept as is", what())
            }
            Some(slot) => return self.capture(slot, offset),
        };
        self.tally(offset, message);
        let Some(target) = dct else {
            return Role::Keep;
        };
        let role = self.capture(Slot::Extra, offset);
        if let Some(c) = &mut self.capture {
            c.dca = Some(dca_element(category, self.term.is_some(), target));
        }
        role
    }

    /// Closes the open element; `end_offset` is just past its end tag.
    fn end(&mut self, end_offset: usize) -> Result<(), Stop> {
        self.at = end_offset;
        let Some(open) = self.stack.pop() else {
            return Ok(());
        };
        match open.role {
            Role::Root => self.root_closed = true,
            Role::Keep => {
                let fragment = self.text[open.offset..end_offset].to_string();
                self.keep(fragment, open.offset);
            }
            Role::Plain | Role::Inline | Role::Skip | Role::Skipped => {}
            Role::Capture => {
                if let Some(c) = self.capture.take() {
                    self.captured(c);
                }
            }
            Role::TermGroup => self.end_term()?,
            Role::Lang => self.lang = None,
            Role::Entry => self.end_entry()?,
        }
        Ok(())
    }

    /// Puts a captured text in its place.
    fn captured(&mut self, c: Capture<'_>) {
        let mut value = collapse(c.text);
        if value.is_empty() {
            value = c
                .fallback
                .map(|f| collapse(Cow::Owned(f)))
                .unwrap_or_default();
        }
        if c.slot == Slot::Term {
            if let Some(t) = &mut self.term {
                t.text = Some(value);
            }
            return;
        }
        if value.is_empty() {
            return;
        }
        if c.slot == Slot::Extra {
            if let Some(form) = c.dca {
                let target = match &form.target {
                    Some(t) => format!(" target=\"{}\"", xml(t)),
                    None => String::new(),
                };
                let fragment = format!(
                    "<{el} type=\"{}\"{target}>{}</{el}>",
                    xml(&form.category),
                    xml(&value),
                    el = form.element
                );
                self.keep(fragment, c.offset);
            }
            return;
        }
        let Some(entry) = &mut self.entry else {
            return;
        };
        let concept = &mut entry.concept;
        let lang = self.lang.as_ref().and_then(|l| l.as_ref());
        match (c.slot, &mut self.term) {
            (Slot::Term, _) => {}
            (Slot::Extra, _) => {} // kept above
            (Slot::Subject, _) => concept.subject.push(value),
            (Slot::Definition, _) => match lang {
                Some(tag) => {
                    let section = concept.languages.entry(tag.primary.clone()).or_default();
                    section.definition.get_or_insert(value);
                }
                None if self.lang.is_some() => {} // the language section is already an issue
                None => append(&mut concept.note, value),
            },
            (Slot::Note, Some(t)) => append(&mut t.note, value),
            (Slot::Note, None) => append(&mut concept.note, value),
            (Slot::Status, Some(t)) => {
                let not_recommended = ["notRecommended", "notRecommendedTerm-admn-sts"]
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case(&value));
                let status = match not_recommended {
                    true => Ok(TermStatus::Deprecated),
                    false => TermStatus::from_str(&value),
                };
                match status {
                    Ok(s) => {
                        t.status.get_or_insert(s);
                    }
                    Err(_) => {
                        let message = format!("unknown term status {value:?} read as admitted");
                        self.tally(c.offset, message);
                    }
                }
            }
            (Slot::Pos, Some(t)) => {
                t.pos.get_or_insert(value);
            }
            (Slot::Gender, Some(t)) => {
                t.gender.get_or_insert(value);
            }
            (Slot::TermType, Some(t)) => {
                t.term_type.get_or_insert(value);
            }
            (Slot::Source, Some(t)) => {
                t.source.get_or_insert(value);
            }
            // term-only categories are skipped outside terms when they start
            (Slot::Status | Slot::Pos | Slot::Gender | Slot::TermType | Slot::Source, None) => {}
        }
    }

    /// Puts a fragment kept verbatim on the term, language section or concept being read.
    fn keep(&mut self, fragment: String, offset: usize) {
        if let Err(why) = check_fragment(&fragment) {
            self.tally(offset, format!("markup not kept: {why}"));
            return;
        }
        if let Some(t) = &mut self.term {
            t.tbx_extra.push(fragment);
            return;
        }
        let Some(entry) = &mut self.entry else {
            return;
        };
        match &self.lang {
            Some(Some(tag)) => {
                let section = entry.concept.languages.entry(tag.primary.clone());
                section.or_default().tbx_extra.push(fragment);
            }
            Some(None) => {} // the language section is already an issue
            None => entry.concept.tbx_extra.push(fragment),
        }
    }

    fn end_term(&mut self) -> Result<(), Stop> {
        let Some(draft) = self.term.take() else {
            return Ok(());
        };
        let Some(text) = draft.text else {
            let message = format!("<{}> without <term>", draft.name);
            return self.issue(draft.offset, message);
        };
        if text.is_empty() {
            self.tally(draft.offset, "empty terms skipped".to_string());
            return Ok(());
        }
        let (Some(Some(tag)), Some(entry)) = (&self.lang, &mut self.entry) else {
            return Ok(());
        };
        entry
            .first_term
            .get_or_insert_with(|| (tag.primary.clone(), text.clone()));
        // `Concept::normalize` puts the text in NFC
        let mut term = Term::new("", draft.status.unwrap_or_default());
        term.text = text;
        term.region = tag.region.clone();
        term.pos = draft.pos;
        term.gender = draft.gender;
        term.term_type = draft.term_type;
        term.note = draft.note;
        term.source = draft.source;
        term.tbx_extra = draft.tbx_extra;
        entry
            .concept
            .languages
            .entry(tag.primary.clone())
            .or_default()
            .terms
            .push(term);
        Ok(())
    }

    fn end_entry(&mut self) -> Result<(), Stop> {
        let Some(mut draft) = self.entry.take() else {
            return Ok(());
        };
        if self.issues.len() > draft.issues_before {
            return Ok(());
        }
        let Some((lang, text)) = draft.first_term.take() else {
            self.tally(draft.offset, "entries without any term skipped".to_string());
            return Ok(());
        };
        let explicit = !draft.concept.id.is_empty();
        if !explicit {
            let base = derived_id(&lang, &text);
            let mut id = base.clone();
            let mut n = 1;
            while self.ids.contains_key(&id) {
                n += 1;
                id = format!("{base}-{n}");
            }
            draft.concept.id = id;
        }
        if let Some(&first) = self.ids.get(&draft.concept.id) {
            let (line, column) = locate(self.text, first);
            let message = format!(
                "duplicate entry id {:?} (first used at line {line}, column {column})",
                draft.concept.id
            );
            return self.issue(draft.offset, message);
        }
        self.ids.insert(draft.concept.id.clone(), draft.offset);
        match draft.concept.normalize() {
            // once the file has a problem it is refused whole: nothing more is handed on
            Ok(concept) if self.issues.is_empty() => {
                let position = Position {
                    offset: self.at,
                    len: self.text.len(),
                };
                if (self.sink)(concept, position).is_break() {
                    return Err(Stop);
                }
            }
            Ok(_) => {}
            Err(err) => self.issue(draft.offset, err.to_string())?,
        }
        Ok(())
    }
}

/// Longest `tbx_extra` fragment accepted.
pub const MAX_FRAGMENT_BYTES: usize = 64 * 1024;

/// Checks that `fragment` is one well-formed XML element in DCA form, as `tbx_extra` items must
/// be to be written back into an export: no namespace prefixes (but `xml:`), no declaration,
/// DTD or processing instruction, only the predefined entities and character references.
///
/// ```
/// use hexaglot::formats::tbx::check_fragment;
/// assert!(check_fragment(r#"<descrip type="relatedConcept">orbit</descrip>"#).is_ok());
/// assert!(check_fragment("<descrip>unclosed").is_err());
/// assert!(check_fragment("<a/><b/>").is_err());
/// ```
pub fn check_fragment(fragment: &str) -> Result<(), String> {
    if fragment.len() > MAX_FRAGMENT_BYTES {
        return Err(format!("longer than {MAX_FRAGMENT_BYTES} bytes"));
    }
    let mut reader = Reader::from_str(fragment);
    let mut depth = 0usize;
    let mut seen_root = false;
    let check_start = |e: &BytesStart<'_>| -> Result<(), String> {
        let name = e.name().as_ref().to_string();
        if name.contains(':') {
            return Err(format!("element <{name}> has a namespace prefix"));
        }
        for (key, _) in attributes_borrowed(e)? {
            if key.contains(':') && !key.starts_with("xml:") {
                return Err(format!("attribute {key} has a namespace prefix"));
            }
        }
        Ok(())
    };
    loop {
        let event = reader.read_event().map_err(|e| xml_error_message(&e))?;
        match event {
            Event::Start(e) | Event::Empty(e) if depth == 0 && seen_root => {
                let name = e.name().as_ref().to_string();
                return Err(format!("a second element <{name}> after the first"));
            }
            Event::Start(e) => {
                check_start(&e)?;
                seen_root = true;
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!("elements nested deeper than {MAX_DEPTH}"));
                }
            }
            Event::Empty(e) => {
                check_start(&e)?;
                seen_root = true;
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(t) if depth == 0 => {
                if !t.xml10_content().trim().is_empty() {
                    return Err("text outside the element".to_string());
                }
            }
            Event::Text(_) | Event::CData(_) | Event::Comment(_) => {}
            Event::GeneralRef(r) => {
                resolve_reference(&r)?;
                if depth == 0 {
                    return Err("text outside the element".to_string());
                }
            }
            Event::Decl(_) | Event::DocType(_) | Event::PI(_) => {
                return Err("declarations and processing instructions are not allowed".into())
            }
            Event::Eof => break,
        }
    }
    if depth != 0 {
        return Err("an element is not closed".to_string());
    }
    if !seen_root {
        return Err("no element".to_string());
    }
    Ok(())
}

/// Trims and collapses runs of whitespace to one space.
fn collapse(text: Cow<'_, str>) -> String {
    if is_collapsed(&text) {
        return text.into_owned();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Adds the text of an event to a captured text, borrowing it while it is the only piece.
fn append_text<'t>(captured: &mut Cow<'t, str>, text: Cow<'t, str>) {
    if captured.is_empty() {
        *captured = text;
    } else {
        captured.to_mut().push_str(&text);
    }
}

/// Adds a paragraph to a note.
fn append(note: &mut Option<String>, value: String) {
    match note {
        Some(n) => {
            n.push('\n');
            n.push_str(&value);
        }
        None => *note = Some(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapse_is_split_and_join() {
        for text in [
            "",
            " ",
            "a",
            "a b",
            " a",
            "a ",
            "a  b",
            "a\tb",
            "a\nb",
            "a\u{a0}b",
            "a\u{3000}b",
            "\u{2003}",
            "l'État de  droit",
        ] {
            let slow = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(collapse(Cow::Borrowed(text)), slow, "{text:?}");
        }
    }
}
