//! Writing concepts out: TBX 2019 (TBX-Basic, DCA style), TBX v2 `martif`, and CSV with one term a
//! row. Writers take concepts one at a time, so an export streams whatever its size.

use std::io::{self, Write};

use crate::model::{Concept, Term, TermStatus};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// ISO 30042:2019 TBX-Basic, DCA style.
    Tbx,
    /// TBX v2 `martif`, for older tools.
    TbxV2,
    /// CSV, one term a row (the layout the CSV reader takes back).
    Csv,
}

impl ExportFormat {
    /// Parses `?format=` values.
    pub fn from_name(name: &str) -> Option<ExportFormat> {
        match name.to_ascii_lowercase().as_str() {
            "tbx" | "tbx-2019" | "tbx2019" => Some(ExportFormat::Tbx),
            "tbx-v2" | "tbxv2" | "martif" => Some(ExportFormat::TbxV2),
            "csv" => Some(ExportFormat::Csv),
            _ => None,
        }
    }

    /// MIME type of the output.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Tbx | ExportFormat::TbxV2 => "application/x-tbx+xml; charset=utf-8",
            ExportFormat::Csv => "text/csv; charset=utf-8",
        }
    }

    /// File extension of the output.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Tbx | ExportFormat::TbxV2 => "tbx",
            ExportFormat::Csv => "csv",
        }
    }
}

/// Which parts of the termbase an export keeps.
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    /// Only these language keys (all when empty).
    pub langs: Vec<String>,
    /// Only concepts with one of these subjects (all when empty).
    pub subjects: Vec<String>,
}

impl ExportFilter {
    /// The concept as exported, or `None` when the filter leaves nothing of it.
    pub fn apply(&self, mut concept: Concept) -> Option<Concept> {
        if !self.subjects.is_empty() && !concept.subject.iter().any(|s| self.subjects.contains(s)) {
            return None;
        }
        if !self.langs.is_empty() {
            concept
                .languages
                .retain(|lang, _| self.langs.contains(lang));
        }
        concept
            .languages
            .values()
            .any(|s| !s.terms.is_empty())
            .then_some(concept)
    }
}

/// Writes one format, concept after concept.
pub struct ExportWriter<W: Write> {
    out: W,
    format: ExportFormat,
}

const CSV_HEADER: &str =
    "concept_id,collection,subject,concept_note,lang,term,status,pos,gender,type,note,source,definition";

impl<W: Write> ExportWriter<W> {
    /// Starts an export: writes the header.
    pub fn new(mut out: W, format: ExportFormat) -> io::Result<Self> {
        match format {
            ExportFormat::Tbx => out.write_all(
                concat!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                    "<tbx type=\"TBX-Basic\" style=\"dca\" xml:lang=\"en\" xmlns=\"urn:iso:std:iso:30042:ed-2\">\n",
                    "<tbxHeader><fileDesc><sourceDesc><p>Exported by Hexaglot</p></sourceDesc></fileDesc></tbxHeader>\n",
                    "<text>\n<body>\n"
                )
                .as_bytes(),
            )?,
            ExportFormat::TbxV2 => out.write_all(
                concat!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                    "<!DOCTYPE martif SYSTEM \"TBXcoreStructV02.dtd\">\n",
                    "<martif type=\"TBX-Basic\" xml:lang=\"en\">\n",
                    "<martifHeader><fileDesc><sourceDesc><p>Exported by Hexaglot</p></sourceDesc></fileDesc>",
                    "<encodingDesc><p type=\"XCSURI\">TBXBasicXCSV02.xcs</p></encodingDesc></martifHeader>\n",
                    "<text>\n<body>\n"
                )
                .as_bytes(),
            )?,
            ExportFormat::Csv => writeln!(out, "{CSV_HEADER}")?,
        }
        Ok(ExportWriter { out, format })
    }

    /// Writes one concept.
    pub fn write(&mut self, concept: &Concept) -> io::Result<()> {
        match self.format {
            ExportFormat::Csv => self.write_csv(concept),
            ExportFormat::Tbx => self.write_tbx(concept, false),
            ExportFormat::TbxV2 => self.write_tbx(concept, true),
        }
    }

    /// Writes the closing tags and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        match self.format {
            ExportFormat::Tbx => self.out.write_all(b"</body>\n</text>\n</tbx>\n")?,
            ExportFormat::TbxV2 => self.out.write_all(b"</body>\n</text>\n</martif>\n")?,
            ExportFormat::Csv => {}
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn write_csv(&mut self, c: &Concept) -> io::Result<()> {
        let subject = c.subject.join(";");
        let note = c.note.as_deref().unwrap_or("");
        for (lang, section) in &c.languages {
            let definition = section.definition.as_deref().unwrap_or("");
            for t in &section.terms {
                let tag = lang_tag(lang, t);
                let row = [
                    c.id.as_str(),
                    &c.collection,
                    &subject,
                    note,
                    &tag,
                    &t.text,
                    t.status.as_str(),
                    t.pos.as_deref().unwrap_or(""),
                    t.gender.as_deref().unwrap_or(""),
                    t.term_type.as_deref().unwrap_or(""),
                    t.note.as_deref().unwrap_or(""),
                    t.source.as_deref().unwrap_or(""),
                    definition,
                ];
                let line: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
                writeln!(self.out, "{}", line.join(","))?;
            }
        }
        Ok(())
    }

    fn write_tbx(&mut self, c: &Concept, v2: bool) -> io::Result<()> {
        let (entry, lang_el, term_el) = if v2 {
            ("termEntry", "langSet", "tig")
        } else {
            ("conceptEntry", "langSec", "termSec")
        };
        let out = &mut self.out;
        writeln!(out, "<{entry} id=\"{}\">", xml(&tbx_id(&c.id)))?;
        for s in &c.subject {
            writeln!(out, "  <descrip type=\"subjectField\">{}</descrip>", xml(s))?;
        }
        // one `<note>` a paragraph: the reader joins several notes with line breaks
        for paragraph in c.note.iter().flat_map(|n| n.split('\n')) {
            writeln!(out, "  <note>{}</note>", xml(paragraph))?;
        }
        for fragment in &c.tbx_extra {
            writeln!(out, "  {fragment}")?;
        }
        for (lang, section) in &c.languages {
            // one language section per region, so `fr-CA` terms keep their tag
            let mut regions: Vec<Option<&str>> = Vec::new();
            for t in &section.terms {
                if !regions.contains(&t.region.as_deref()) {
                    regions.push(t.region.as_deref());
                }
            }
            for (i, region) in regions.iter().enumerate() {
                let tag = match region {
                    Some(r) => format!("{lang}-{r}"),
                    None => lang.clone(),
                };
                writeln!(out, "  <{lang_el} xml:lang=\"{}\">", xml(&tag))?;
                if i == 0 {
                    if let Some(d) = &section.definition {
                        writeln!(out, "    <descrip type=\"definition\">{}</descrip>", xml(d))?;
                    }
                    for fragment in &section.tbx_extra {
                        writeln!(out, "    {fragment}")?;
                    }
                }
                for t in section
                    .terms
                    .iter()
                    .filter(|t| t.region.as_deref() == *region)
                {
                    writeln!(out, "    <{term_el}>")?;
                    writeln!(out, "      <term>{}</term>", xml(&t.text))?;
                    let notes = [
                        ("partOfSpeech", t.pos.as_deref()),
                        ("grammaticalGender", t.gender.as_deref()),
                        ("termType", t.term_type.as_deref()),
                        ("administrativeStatus", Some(tbx_status(t.status))),
                    ];
                    for (kind, value) in notes {
                        if let Some(v) = value {
                            writeln!(out, "      <termNote type=\"{kind}\">{}</termNote>", xml(v))?;
                        }
                    }
                    // term notes come before the other categories of a term section
                    let (term_notes, others): (Vec<&String>, Vec<&String>) =
                        t.tbx_extra.iter().partition(|f| f.starts_with("<termNote"));
                    for fragment in term_notes {
                        writeln!(out, "      {fragment}")?;
                    }
                    for paragraph in t.note.iter().flat_map(|n| n.split('\n')) {
                        writeln!(out, "      <note>{}</note>", xml(paragraph))?;
                    }
                    if let Some(s) = &t.source {
                        writeln!(out, "      <admin type=\"source\">{}</admin>", xml(s))?;
                    }
                    for fragment in others {
                        writeln!(out, "      {fragment}")?;
                    }
                    writeln!(out, "    </{term_el}>")?;
                }
                writeln!(out, "  </{lang_el}>")?;
            }
        }
        writeln!(out, "</{entry}>")
    }
}

/// Prefix of an entry id that stands for a concept id which is not an XML name.
pub const ESCAPED_ID_PREFIX: &str = "_x-";

/// The entry id of a concept: the id itself when it is an XML name (`xsd:ID`, as TBX requires),
/// else [`ESCAPED_ID_PREFIX`] and the hex of its UTF-8 bytes, which [`concept_id`] turns back.
/// Ids that start with the prefix are escaped too, so the mapping is one to one.
pub fn tbx_id(id: &str) -> String {
    if is_ncname(id) && !id.starts_with(ESCAPED_ID_PREFIX) {
        id.to_string()
    } else {
        format!("{ESCAPED_ID_PREFIX}{}", hex::encode(id.as_bytes()))
    }
}

/// The concept id of an entry id written by [`tbx_id`]; other ids are returned unchanged.
pub fn concept_id(entry_id: &str) -> String {
    entry_id
        .strip_prefix(ESCAPED_ID_PREFIX)
        .and_then(|h| hex::decode(h).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_else(|| entry_id.to_string())
}

/// True for an XML non-colonised name (letters, digits, `.`, `-`, `_`, combining marks; not
/// starting with a digit, `.` or `-`).
fn is_ncname(s: &str) -> bool {
    let start = |c: char| c.is_alphabetic() || c == '_';
    let rest = |c: char| {
        c.is_alphanumeric()
            || matches!(c, '.' | '-' | '_' | '\u{b7}')
            || matches!(c, '\u{300}'..='\u{36f}' | '\u{203f}'..='\u{2040}')
    };
    let mut chars = s.chars();
    chars.next().is_some_and(start) && chars.all(rest)
}

/// TBX `administrativeStatus` value of a status (`forbidden` has no TBX-Basic value; it is written
/// as `forbiddenTerm-admn-sts` so that it survives a round trip).
fn tbx_status(status: TermStatus) -> &'static str {
    match status {
        TermStatus::Preferred => "preferredTerm-admn-sts",
        TermStatus::Admitted => "admittedTerm-admn-sts",
        TermStatus::Deprecated => "deprecatedTerm-admn-sts",
        TermStatus::Superseded => "supersededTerm-admn-sts",
        TermStatus::Forbidden => "forbiddenTerm-admn-sts",
    }
}

fn lang_tag(lang: &str, t: &Term) -> String {
    match &t.region {
        Some(r) => format!("{lang}-{r}"),
        None => lang.to_string(),
    }
}

/// Escapes text for XML content and attributes.
pub(crate) fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// Quotes a CSV field when it needs it (RFC 4180).
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) || field.starts_with(' ') || field.ends_with(' ') {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}
