//! XLIFF 1.2 and 2.x bilingual files: bytes to segments with their inline codes.
//!
//! [`read_xliff`] reads, in one pass over quick-xml events:
//!
//! - XLIFF 1.2: `file/body/(group/)trans-unit` with `source` and `target`; when a `seg-source`
//!   splits the source into `<mrk mtype="seg" mid="…">` segments (Trados, memoQ), each becomes a
//!   segment `UNIT:MID`, paired with the target's `mrk` of the same `mid`. Languages from
//!   `file/@source-language` and `@target-language`.
//! - XLIFF 2.x: `file/(group/)unit/segment` with `source` and `target` (`ignorable` is skipped);
//!   segment ids are `UNIT:SEGMENT` (`UNIT:N` for the N-th segment without an id). Languages from
//!   `xliff/@srcLang` and `@trgLang`.
//!
//! A segment's text is the text content of `source`/`target` with inline codes taken out and
//! kept aside as [`InlineCode`]s at their code-point position: 1.2 `x bx ex bpt ept ph it` (their
//! content is native code, not text) and the two ends of `g`; 2.x `ph sc ec` and the two ends of
//! `pc`. `mrk` (other than segment markers), `sm`, `em` and unknown inline elements are looked
//! through; `cp` stands for its character. Offsets in check reports are into this text.
//!
//! Units marked `translate="no"` are left out. Elsewhere than in segments (notes, `alt-trans`, `mtc:match`, glossary and metadata modules,
//! skeletons) nothing is read. The input is decoded and checked like TBX (BOM, declared encoding,
//! no custom entities, no DTD fetched); problems carry their 1-based line and column.

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::reader::Reader;

use super::export::xml;
use super::xml::{attributes, decode, issue_in, locate, resolve_reference, xml_error_message};
use super::{issue, FormatError, FormatIssue};

const FORMAT: &str = "xliff";

/// Deepest element nesting accepted.
const MAX_DEPTH: usize = 256;

/// The value of attribute `name`, trimmed.
fn attr(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.trim().to_string())
}

/// An inline code (tag) of a segment's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineCode {
    /// Code-point offset in the segment text where the code stands.
    pub position: usize,
    /// Element name (`ph`, `bpt`, `g`, `/g` for the end of a `g`, `pc`, `/pc`, `sc` ...).
    pub kind: String,
    /// The code's `id` (or `rid`/`startRef` when that pairs it); empty when it has none.
    pub id: String,
}

impl InlineCode {
    /// The code as a short tag for messages: `<ph id="2"/>`, `</g id="1">`.
    pub fn display(&self) -> String {
        match (self.kind.strip_prefix('/'), self.id.is_empty()) {
            (Some(k), true) => format!("</{k}>"),
            (Some(k), false) => format!("</{k} id=\"{}\">", self.id),
            (None, true) => format!("<{}/>", self.kind),
            (None, false) => format!("<{} id=\"{}\"/>", self.kind, self.id),
        }
    }
}

/// One source/target pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Segment {
    /// Id, unique in the file (`tu1`, `tu1:2`).
    pub id: String,
    /// Source text without its inline codes.
    pub source: String,
    /// Target text without its inline codes; `None` when the file has no target.
    pub target: Option<String>,
    /// Inline codes of the source.
    pub source_codes: Vec<InlineCode>,
    /// Inline codes of the target.
    pub target_codes: Vec<InlineCode>,
    /// 1-based line of the segment in the file (0 when it comes from elsewhere).
    pub line: u64,
}

/// A bilingual file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BilingualFile {
    /// Source language tag as the file writes it.
    pub source_lang: Option<String>,
    /// Target language tag.
    pub target_lang: Option<String>,
    /// Segments in file order.
    pub segments: Vec<Segment>,
}

/// Reads an XLIFF 1.2 or 2.x file.
///
/// ```
/// use hexaglot::formats::xliff::read_xliff;
/// let file = r#"<xliff version="2.0" xmlns="urn:oasis:names:tc:xliff:document:2.0" srcLang="en" trgLang="fr">
///  <file id="f"><unit id="u1"><segment>
///   <source>Press <ph id="1"/> now</source><target>Appuyez <ph id="1"/> maintenant</target>
///  </segment></unit></file></xliff>"#;
/// let f = read_xliff(file.as_bytes()).unwrap();
/// assert_eq!(f.target_lang.as_deref(), Some("fr"));
/// let s = &f.segments[0];
/// assert_eq!((s.id.as_str(), s.source.as_str()), ("u1:1", "Press  now"));
/// assert_eq!(s.source_codes[0].position, 6);
/// ```
pub fn read_xliff(bytes: &[u8]) -> Result<BilingualFile, FormatError> {
    let fail = |issues: Vec<FormatIssue>| FormatError {
        format: FORMAT,
        issues,
    };
    let text = decode(bytes).map_err(|i| fail(vec![i]))?;
    let mut reader = XliffReader {
        text: &text,
        version: 0,
        stack: Vec::new(),
        file: BilingualFile::default(),
        unit: None,
        capture: None,
        issues: Vec::new(),
    };
    match reader.events() {
        Ok(()) if reader.issues.is_empty() => Ok(reader.file),
        _ => Err(fail(reader.issues)),
    }
}

/// What an open element is to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Root,
    File,
    Unit,
    Segment,
    /// `source`, `target` or `seg-source` being captured.
    Content,
    /// A 1.2 `<mrk mtype="seg">` inside captured content.
    SegMarker,
    /// An inline element whose text counts.
    Inline,
    /// An inline code whose content is not text (1.2 `bpt`...).
    Code,
    /// Anything else (and everything inside it).
    Other,
}

/// Which text a capture fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Source,
    SegSource,
    Target,
}

#[derive(Debug, Default)]
struct Text {
    text: String,
    chars: usize,
    codes: Vec<InlineCode>,
}

impl Text {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.chars += s.chars().count();
    }

    fn code(&mut self, kind: &str, id: String) {
        self.codes.push(InlineCode {
            position: self.chars,
            kind: kind.to_string(),
            id,
        });
    }
}

struct Capture {
    part: Part,
    /// The whole content.
    whole: Text,
    /// 1.2 segment markers: (mid, text).
    marked: Vec<(String, Text)>,
    /// Inside a segment marker.
    in_marker: bool,
}

struct UnitDraft {
    id: String,
    line: u64,
    /// 2.x segment or 1.2 whole unit being read.
    segment: Option<SegmentDraft>,
    /// 2.x: segments read so far in this unit.
    count: usize,
    /// 1.2 seg-source markers.
    seg_source: Option<Vec<(String, Text)>>,
    source: Option<Text>,
    target: Option<Capture>,
}

struct SegmentDraft {
    id: Option<String>,
    line: u64,
    source: Option<Text>,
    target: Option<Text>,
}

struct Open {
    name: String,
    role: Role,
    offset: usize,
}

struct XliffReader<'t> {
    text: &'t str,
    /// 1 or 2 once the root is read.
    version: u8,
    stack: Vec<Open>,
    file: BilingualFile,
    unit: Option<UnitDraft>,
    capture: Option<Capture>,
    issues: Vec<FormatIssue>,
}

struct Stop;

impl XliffReader<'_> {
    fn fatal(&mut self, offset: usize, message: impl Into<String>) -> Stop {
        self.problem(offset, message);
        Stop
    }

    /// Records a problem at `offset`, inside the elements open now.
    fn problem(&mut self, offset: usize, message: impl Into<String>) {
        let open = self.stack.iter().map(|o| o.name.as_str());
        let found = issue_in(self.text, offset, open, message);
        self.issues.push(found);
    }

    fn events(&mut self) -> Result<(), Stop> {
        let mut reader = Reader::from_str(self.text);
        loop {
            let offset = reader.buffer_position() as usize;
            let event = match reader.read_event() {
                Ok(e) => e,
                Err(e) => {
                    let at = reader.error_position() as usize;
                    return Err(self.fatal(at, xml_error_message(&e)));
                }
            };
            match event {
                Event::Start(e) => {
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(
                            self.fatal(offset, format!("elements nested deeper than {MAX_DEPTH}"))
                        );
                    }
                    self.start(&e, offset)?;
                }
                Event::Empty(e) => {
                    self.start(&e, offset)?;
                    self.end();
                }
                Event::End(_) => self.end(),
                Event::Text(t) => {
                    let s = t.xml10_content();
                    if self.stack.is_empty() && !s.trim().is_empty() {
                        return Err(self.fatal(offset, "text outside the root element"));
                    }
                    self.text_event(&s);
                }
                Event::CData(t) => {
                    let s = t.xml10_content();
                    self.text_event(&s);
                }
                Event::GeneralRef(r) => {
                    let s = self.reference(&r, offset)?;
                    self.text_event(&s);
                }
                Event::Decl(_) | Event::DocType(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
        }
        if let Some(open) = self.stack.last() {
            let (name, at) = (open.name.clone(), open.offset);
            return Err(self.fatal(at, format!("<{name}> is not closed")));
        }
        if self.version == 0 {
            let message = if self.text.trim().is_empty() {
                "empty file"
            } else {
                "not an XLIFF file: no <xliff> root element"
            };
            return Err(self.fatal(0, message));
        }
        Ok(())
    }

    fn reference(&mut self, r: &BytesRef<'_>, offset: usize) -> Result<String, Stop> {
        resolve_reference(r).map_err(|message| self.fatal(offset, message))
    }

    fn text_event(&mut self, s: &str) {
        let Some(parent) = self.stack.last().map(|o| o.role) else {
            return;
        };
        if !matches!(parent, Role::Content | Role::SegMarker | Role::Inline) {
            return;
        }
        if let Some(c) = &mut self.capture {
            c.whole.push(s);
            if c.in_marker {
                if let Some((_, t)) = c.marked.last_mut() {
                    t.push(s);
                }
            }
        }
    }

    fn attributes(
        &mut self,
        e: &BytesStart<'_>,
        offset: usize,
    ) -> Result<Vec<(String, String)>, Stop> {
        attributes(e).map_err(|message| self.fatal(offset, message))
    }

    fn start(&mut self, e: &BytesStart<'_>, offset: usize) -> Result<(), Stop> {
        let name = e.name().as_ref().to_string();
        let local = e.local_name().as_ref().to_string();
        let parent = self.stack.last().map(|o| o.role);
        let push = |me: &mut Self, role| {
            me.stack.push(Open {
                name: name.clone(),
                role,
                offset,
            });
        };
        let role = match parent {
            Some(Role::Other) | Some(Role::Code) => Role::Other,
            None => {
                if local != "xliff" {
                    return Err(self.fatal(
                        offset,
                        format!("not an XLIFF file: the root element is <{name}>"),
                    ));
                }
                let attrs = self.attributes(e, offset)?;
                let attr = |k: &str| attr(&attrs, k);
                let version = attr("version").unwrap_or_default();
                self.version = if version.starts_with('2') {
                    self.file.source_lang = attr("srcLang");
                    self.file.target_lang = attr("trgLang");
                    2
                } else if version.starts_with('1') || version.is_empty() {
                    1
                } else {
                    return Err(self.fatal(
                        offset,
                        format!("XLIFF version {version:?} is not supported (1.2 or 2.x)"),
                    ));
                };
                Role::Root
            }
            Some(Role::Content | Role::SegMarker | Role::Inline) => {
                self.inline(e, &local, offset)?
            }
            Some(p) => self.structural(e, &local, p, offset)?,
        };
        push(self, role);
        Ok(())
    }

    /// An element outside segment content.
    fn structural(
        &mut self,
        e: &BytesStart<'_>,
        local: &str,
        parent: Role,
        offset: usize,
    ) -> Result<Role, Stop> {
        let line = locate(self.text, offset).0;
        let role = match (self.version, parent, local) {
            (_, Role::Root, "file") => {
                if self.version == 1 {
                    let attrs = self.attributes(e, offset)?;
                    let attr = |k: &str| attr(&attrs, k);
                    let (src, tgt) = (attr("source-language"), attr("target-language"));
                    if self.file.source_lang.is_none() {
                        self.file.source_lang = src;
                        self.file.target_lang = tgt;
                    } else if src.is_some()
                        && (src != self.file.source_lang
                            || (tgt.is_some() && tgt != self.file.target_lang))
                    {
                        self.problem(
                            offset,
                            "files in other languages than the first <file>: check them separately",
                        );
                    }
                }
                Role::File
            }
            (1, Role::File, "body") | (_, Role::File, "group") => Role::File,
            (1, Role::File, "trans-unit") | (2, Role::File, "unit") => {
                let attrs = self.attributes(e, offset)?;
                if attrs
                    .iter()
                    .any(|(n, v)| n == "translate" && v.trim() == "no")
                {
                    // not for translation: nothing to check
                    return Ok(Role::Other);
                }
                let id = attrs
                    .iter()
                    .find(|(n, _)| n == "id")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                let id = if id.is_empty() {
                    format!("{}", self.file.segments.len() + 1)
                } else {
                    id
                };
                self.unit = Some(UnitDraft {
                    id,
                    line,
                    segment: None,
                    count: 0,
                    seg_source: None,
                    source: None,
                    target: None,
                });
                Role::Unit
            }
            (2, Role::Unit, "segment") => {
                let attrs = self.attributes(e, offset)?;
                let id = attrs
                    .iter()
                    .find(|(n, _)| n == "id")
                    .map(|(_, v)| v.clone());
                if let Some(u) = &mut self.unit {
                    u.segment = Some(SegmentDraft {
                        id,
                        line,
                        source: None,
                        target: None,
                    });
                }
                Role::Segment
            }
            (2, Role::Segment, "source") | (1, Role::Unit, "source") => self.begin(Part::Source),
            (2, Role::Segment, "target") | (1, Role::Unit, "target") => self.begin(Part::Target),
            (1, Role::Unit, "seg-source") => self.begin(Part::SegSource),
            _ => Role::Other,
        };
        Ok(role)
    }

    fn begin(&mut self, part: Part) -> Role {
        self.capture = Some(Capture {
            part,
            whole: Text::default(),
            marked: Vec::new(),
            in_marker: false,
        });
        Role::Content
    }

    /// An element inside segment content.
    fn inline(&mut self, e: &BytesStart<'_>, local: &str, offset: usize) -> Result<Role, Stop> {
        let attrs = self.attributes(e, offset)?;
        let attr = |k: &str| attr(&attrs, k);
        let Some(c) = &mut self.capture else {
            return Ok(Role::Other);
        };
        let id = attr("id")
            .or_else(|| attr("rid"))
            .or_else(|| attr("startRef"))
            .unwrap_or_default();
        let code = |c: &mut Capture, kind: &str, id: String| {
            c.whole.code(kind, id.clone());
            if c.in_marker {
                if let Some((_, t)) = c.marked.last_mut() {
                    t.code(kind, id);
                }
            }
        };
        let role = match (self.version, local) {
            (1, "mrk") if attr("mtype").as_deref() == Some("seg") && !c.in_marker => {
                let mid = attr("mid").unwrap_or_else(|| format!("{}", c.marked.len() + 1));
                c.marked.push((mid, Text::default()));
                c.in_marker = true;
                Role::SegMarker
            }
            (1, "x" | "bx" | "ex" | "bpt" | "ept" | "ph" | "it") | (2, "ph" | "sc" | "ec") => {
                let id = if local == "ec" {
                    attr("startRef").or(attr("id")).unwrap_or_default()
                } else {
                    id
                };
                code(c, local, id);
                Role::Code
            }
            (1, "g") | (2, "pc") => {
                code(c, local, id);
                Role::Inline
            }
            (2, "cp") => {
                let ch = attr("hex")
                    .and_then(|h| u32::from_str_radix(&h, 16).ok())
                    .and_then(char::from_u32);
                if let Some(ch) = ch {
                    let s = ch.to_string();
                    c.whole.push(&s);
                    if c.in_marker {
                        if let Some((_, t)) = c.marked.last_mut() {
                            t.push(&s);
                        }
                    }
                }
                Role::Code
            }
            _ => Role::Inline,
        };
        Ok(role)
    }

    fn end(&mut self) {
        let Some(open) = self.stack.pop() else {
            return;
        };
        let local = open.name.rsplit(':').next().unwrap_or("").to_string();
        match open.role {
            Role::Inline if local == "g" || local == "pc" => {
                let id = String::new();
                if let Some(c) = &mut self.capture {
                    // the closing end of a paired code carries the opening's id
                    let opening = c
                        .whole
                        .codes
                        .iter()
                        .rev()
                        .find(|k| k.kind == local)
                        .map(|k| k.id.clone())
                        .unwrap_or(id);
                    let kind = format!("/{local}");
                    c.whole.code(&kind, opening.clone());
                    if c.in_marker {
                        if let Some((_, t)) = c.marked.last_mut() {
                            t.code(&kind, opening);
                        }
                    }
                }
            }
            Role::SegMarker => {
                if let Some(c) = &mut self.capture {
                    c.in_marker = false;
                }
            }
            Role::Content => self.end_content(),
            Role::Segment => self.end_segment(),
            Role::Unit => self.end_unit(),
            _ => {}
        }
    }

    fn end_content(&mut self) {
        let Some(c) = self.capture.take() else {
            return;
        };
        let Some(u) = &mut self.unit else {
            return;
        };
        if self.version == 2 {
            if let Some(s) = &mut u.segment {
                match c.part {
                    Part::Target => s.target = Some(c.whole),
                    _ => s.source = Some(c.whole),
                }
            }
            return;
        }
        match c.part {
            Part::Source => u.source = Some(c.whole),
            Part::SegSource => u.seg_source = Some(c.marked),
            Part::Target => u.target = Some(c),
        }
    }

    fn end_segment(&mut self) {
        let Some(u) = &mut self.unit else {
            return;
        };
        let Some(s) = u.segment.take() else {
            return;
        };
        u.count += 1;
        let id = format!("{}:{}", u.id, s.id.unwrap_or_else(|| u.count.to_string()));
        let source = s.source.unwrap_or_default();
        let (target, target_codes) = match s.target {
            Some(t) => (Some(t.text), t.codes),
            None => (None, Vec::new()),
        };
        self.file.segments.push(Segment {
            id,
            source: source.text,
            target,
            source_codes: source.codes,
            target_codes,
            line: s.line,
        });
    }

    fn end_unit(&mut self) {
        let Some(u) = self.unit.take() else {
            return;
        };
        if self.version == 2 {
            return;
        }
        let marked = u.seg_source.filter(|m| !m.is_empty());
        match marked {
            None => {
                let source = u.source.unwrap_or_default();
                let (target, target_codes) = match u.target {
                    Some(t) => (Some(t.whole.text), t.whole.codes),
                    None => (None, Vec::new()),
                };
                self.file.segments.push(Segment {
                    id: u.id,
                    source: source.text,
                    target,
                    source_codes: source.codes,
                    target_codes,
                    line: u.line,
                });
            }
            Some(marked) => {
                let mut targets = u.target.map(|t| (t.marked, t.whole));
                let only = marked.len() == 1;
                for (mid, src) in marked {
                    let target = match &mut targets {
                        Some((tm, whole)) => match tm.iter().position(|(m, _)| *m == mid) {
                            Some(k) => Some(std::mem::take(&mut tm[k].1)),
                            None if only && tm.is_empty() => Some(std::mem::take(whole)),
                            None => None,
                        },
                        None => None,
                    };
                    let (target, target_codes) = match target {
                        Some(t) => (Some(t.text), t.codes),
                        None => (None, Vec::new()),
                    };
                    self.file.segments.push(Segment {
                        id: format!("{}:{mid}", u.id),
                        source: src.text,
                        target,
                        source_codes: src.codes,
                        target_codes,
                        line: u.line,
                    });
                }
            }
        }
    }
}

/// The segments of an XLIFF file that have a target, as translation units of the file's two
/// languages: what a TMX file with one `<tu>` per segment gives ([`super::tmx::read_tmx`] reads
/// it, so keys, placeholders and ids are those of a TMX import). Inline codes become TMX codes —
/// `<bpt>`/`<ept>` for the two ends of a paired code, `<ph>` for the others — shown as `{1}` …
/// `{/1}` and `{2/}` in the texts and written back as codes on export. Each unit keeps the segment's id as a
/// `<prop type="x-xliff-segment">`. Segments without a target, or with an empty one, are left out
/// (counted in a warning).
///
/// ```
/// use hexaglot::formats::xliff::read_xliff_units;
/// let file = r#"<xliff version="1.2"><file source-language="en-US" target-language="fr-FR" datatype="plaintext" original="x">
///  <body><trans-unit id="1"><source>Press <g id="1">Save</g> now</source>
///  <target>Appuyez sur <g id="1">Enregistrer</g></target></trans-unit>
///  <trans-unit id="2"><source>Not yet</source></trans-unit></body></file></xliff>"#;
/// let tm = read_xliff_units(file.as_bytes()).unwrap();
/// assert_eq!(tm.units.len(), 1);
/// assert_eq!(tm.units[0].variants["en"], "Press {1}Save{/1} now");
/// assert_eq!(tm.units[0].variants["fr"], "Appuyez sur {1}Enregistrer{/1}");
/// assert_eq!(tm.warnings.len(), 1);
/// ```
pub fn read_xliff_units(bytes: &[u8]) -> Result<super::tmx::ParsedTmx, FormatError> {
    let file = read_xliff(bytes)?;
    let missing = |what: &str| {
        FormatError {
        format: FORMAT,
        issues: vec![issue(
            1,
            1,
            format!("the file names no {what} language (XLIFF 1.2 `<file {what}-language>`, 2.x `<xliff srcLang/trgLang>`): a translation unit needs both"),
        )],
    }
    };
    let source_lang = file.source_lang.clone().ok_or_else(|| missing("source"))?;
    let target_lang = file.target_lang.clone().ok_or_else(|| missing("target"))?;
    let mut tmx = format!(
        "<tmx version=\"1.4\"><header srclang=\"{}\" segtype=\"sentence\" datatype=\"xliff\" adminlang=\"en\" o-tmf=\"xliff\" creationtool=\"hexaglot\" creationtoolversion=\"{}\"/><body>\n",
        xml(&source_lang),
        env!("CARGO_PKG_VERSION")
    );
    let mut untranslated = 0;
    for segment in &file.segments {
        let Some(target) = segment.target.as_deref().filter(|t| !t.trim().is_empty()) else {
            untranslated += 1;
            continue;
        };
        tmx.push_str(&format!(
            "<tu><prop type=\"x-xliff-segment\">{}</prop><tuv xml:lang=\"{}\"><seg>{}</seg></tuv><tuv xml:lang=\"{}\"><seg>{}</seg></tuv></tu>\n",
            xml(&segment.id),
            xml(&source_lang),
            tmx_seg(&segment.source, &segment.source_codes),
            xml(&target_lang),
            tmx_seg(target, &segment.target_codes),
        ));
    }
    tmx.push_str("</body></tmx>\n");
    let mut parsed = super::tmx::read_tmx(tmx.as_bytes()).map_err(|e| FormatError {
        format: FORMAT,
        issues: vec![issue(
            1,
            1,
            format!("the segments could not be made into translation units: {e}"),
        )],
    })?;
    if untranslated > 0 {
        parsed.warnings.push(super::Warning {
            line: None,
            message: format!("{untranslated} segments without a target were not imported"),
        });
    }
    Ok(parsed)
}

/// A segment's text with its inline codes as TMX `<seg>` content: the two ends of a paired code
/// (same id) become `<bpt i="N"/>` and `<ept i="N"/>`, every other code `<ph x="N"/>`.
fn tmx_seg(text: &str, codes: &[InlineCode]) -> String {
    const OPENING: &[&str] = &["g", "pc", "bpt", "bx", "sc"];
    const CLOSING: &[&str] = &["/g", "/pc", "ept", "ex", "ec"];
    let mut open: Vec<(&str, usize)> = Vec::new();
    let mut number = 0;
    let mut tags = Vec::with_capacity(codes.len());
    for (i, code) in codes.iter().enumerate() {
        let closes = CLOSING
            .contains(&code.kind.as_str())
            .then(|| open.iter().rposition(|(id, _)| *id == code.id))
            .flatten();
        let tag = if let Some(at) = closes {
            let (_, n) = open.remove(at);
            format!("<ept i=\"{n}\"/>")
        } else {
            number += 1;
            let pairs = OPENING.contains(&code.kind.as_str())
                && codes[i + 1..]
                    .iter()
                    .any(|c| CLOSING.contains(&c.kind.as_str()) && c.id == code.id);
            if pairs {
                open.push((&code.id, number));
                format!("<bpt i=\"{number}\"/>")
            } else {
                format!("<ph x=\"{number}\"/>")
            }
        };
        tags.push((code.position, tag));
    }
    // byte offset of each code point, and of the end
    let offsets: Vec<usize> = text
        .char_indices()
        .map(|(b, _)| b)
        .chain([text.len()])
        .collect();
    let mut out = String::with_capacity(text.len() + 16 * tags.len());
    let mut from = 0;
    for (at, tag) in tags {
        let to = offsets[at.min(offsets.len() - 1)].max(from);
        out.push_str(&xml(&text[from..to]));
        out.push_str(&tag);
        from = to;
    }
    out.push_str(&xml(&text[from..]));
    out
}
