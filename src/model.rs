//! Concepts, terms and statuses: the plain data every other module passes around.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::lang::{into_nfc, nfc, LangTag};

/// The collection used when a request names none.
pub const DEFAULT_COLLECTION: &str = "default";

/// Usage status of a term, in ranking order (preferred first).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    Default,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum TermStatus {
    /// The term to use.
    Preferred,
    /// An accepted synonym.
    #[default]
    Admitted,
    /// Still seen, to be replaced by a preferred term.
    Deprecated,
    /// Replaced by a newer term.
    Superseded,
    /// Must not be used.
    Forbidden,
}

impl TermStatus {
    /// Every status, in ranking order.
    pub const ALL: [TermStatus; 5] = [
        TermStatus::Preferred,
        TermStatus::Admitted,
        TermStatus::Deprecated,
        TermStatus::Superseded,
        TermStatus::Forbidden,
    ];

    /// The status name as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            TermStatus::Preferred => "preferred",
            TermStatus::Admitted => "admitted",
            TermStatus::Deprecated => "deprecated",
            TermStatus::Superseded => "superseded",
            TermStatus::Forbidden => "forbidden",
        }
    }

    /// True for statuses a translator may use (preferred, admitted).
    pub fn is_allowed(self) -> bool {
        matches!(self, TermStatus::Preferred | TermStatus::Admitted)
    }
}

impl fmt::Display for TermStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not one of the five, nor a known synonym.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown term status {0:?} (expected preferred, admitted, deprecated, superseded or forbidden)"
)]
pub struct UnknownStatus(pub String);

impl FromStr for TermStatus {
    type Err = UnknownStatus;

    /// Reads the five statuses and the usual synonyms of glossary files, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // lowercased on the stack: every known value is short
        let trimmed = s.trim();
        let mut buf = [0u8; 32];
        let Some(lower) = buf.get_mut(..trimmed.len()) else {
            return Err(UnknownStatus(s.to_string()));
        };
        lower.copy_from_slice(trimmed.as_bytes());
        lower.make_ascii_lowercase();
        let lower = std::str::from_utf8(lower).expect("ASCII lowercasing keeps UTF-8 valid");
        let status = match lower {
            "preferred"
            | "preferredterm-admn-sts"
            | "standardizedterm"
            | "legalterm"
            | "regulatedterm"
            | "main" => TermStatus::Preferred,
            "admitted" | "admittedterm-admn-sts" | "" | "synonym" | "accepted" => {
                TermStatus::Admitted
            }
            "deprecated" | "deprecatedterm-admn-sts" | "obsolete" => TermStatus::Deprecated,
            "superseded" | "supersededterm-admn-sts" => TermStatus::Superseded,
            "forbidden" | "forbiddenterm-admn-sts" | "rejected" => TermStatus::Forbidden,
            _ => return Err(UnknownStatus(s.to_string())),
        };
        Ok(status)
    }
}

/// One designation of a concept in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Term {
    /// The term as written (NFC).
    pub text: String,
    /// Usage status.
    #[serde(default)]
    pub status: TermStatus,
    /// Part of speech (`noun`, `verb`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pos: Option<String>,
    /// Grammatical gender (`masculine`, `feminine`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// Term type (`fullForm`, `abbreviation`, ...).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub term_type: Option<String>,
    /// Free-text note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Where the term comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Region of the original language tag (`CA` for `fr-CA`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// TBX markup the model has no field for (unknown data categories, `transacGrp`), kept
    /// verbatim as DCA XML fragments so that a TBX export writes it back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tbx_extra: Vec<String>,
}

impl Term {
    /// Takes from `other` (the same term seen again) the fields this one lacks.
    pub fn fill_from(&mut self, other: Term) {
        self.pos = self.pos.take().or(other.pos);
        self.gender = self.gender.take().or(other.gender);
        self.term_type = self.term_type.take().or(other.term_type);
        self.note = self.note.take().or(other.note);
        self.source = self.source.take().or(other.source);
        self.region = self.region.take().or(other.region);
        union(&mut self.tbx_extra, other.tbx_extra);
    }

    /// A term with a text and status and nothing else.
    pub fn new(text: &str, status: TermStatus) -> Term {
        Term {
            text: nfc(text.trim()),
            status,
            pos: None,
            gender: None,
            term_type: None,
            note: None,
            source: None,
            region: None,
            tbx_extra: Vec::new(),
        }
    }
}

/// Everything a concept says in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct LangSection {
    /// Definition in this language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    /// Terms, preferred ones first.
    #[serde(default)]
    pub terms: Vec<Term>,
    /// TBX markup the model has no field for (unknown data categories, `transacGrp`), kept
    /// verbatim as DCA XML fragments so that a TBX export writes it back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tbx_extra: Vec<String>,
}

/// A concept: one meaning, its terms in every language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Concept {
    /// Identifier, unique within its collection.
    #[serde(default)]
    pub id: String,
    /// The collection the concept belongs to.
    #[serde(default = "default_collection")]
    pub collection: String,
    /// Subject fields.
    #[serde(default)]
    pub subject: Vec<String>,
    /// Free-text note on the concept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Sections keyed by normalised primary language subtag (`fr`, `zh`).
    #[serde(default)]
    pub languages: BTreeMap<String, LangSection>,
    /// TBX markup the model has no field for (unknown data categories, `transacGrp`), kept
    /// verbatim as DCA XML fragments so that a TBX export writes it back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tbx_extra: Vec<String>,
    /// Incremented on every change; used with `If-Match`.
    #[serde(default)]
    pub version: u64,
    /// Time of the last change, RFC 3339 UTC.
    #[serde(default)]
    pub updated_at: String,
}

fn default_collection() -> String {
    DEFAULT_COLLECTION.to_string()
}

/// A concept that cannot be stored as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConceptError {
    /// An invalid id or collection name.
    #[error("invalid {what} {value:?}: use 1 to 200 characters, no control characters or '/'")]
    InvalidName {
        /// `id` or `collection`.
        what: &'static str,
        /// The value given.
        value: String,
    },
    /// A language key that is not a language tag.
    #[error("{0}")]
    Lang(#[from] crate::lang::LangError),
    /// A term with no text.
    #[error("language {0}: a term has empty text")]
    EmptyTerm(String),
    /// A concept without any term.
    #[error("the concept has no terms")]
    NoTerms,
    /// A `tbx_extra` item that is not one well-formed XML element.
    #[error("tbx_extra: {0}")]
    Fragment(String),
}

/// Checks an id or collection name.
pub fn check_name(what: &'static str, value: &str) -> Result<(), ConceptError> {
    let ok = !value.is_empty()
        && value.chars().count() <= 200
        && !value.chars().any(|c| c.is_control() || c == '/')
        && value.trim() == value;
    if ok {
        Ok(())
    } else {
        Err(ConceptError::InvalidName {
            what,
            value: value.to_string(),
        })
    }
}

impl Concept {
    /// An empty concept in a collection.
    pub fn new(id: &str, collection: &str) -> Concept {
        Concept {
            id: id.to_string(),
            collection: collection.to_string(),
            subject: Vec::new(),
            note: None,
            languages: BTreeMap::new(),
            tbx_extra: Vec::new(),
            version: 0,
            updated_at: String::new(),
        }
    }

    /// Brings a concept from a client or a file into canonical form: texts in NFC (term texts with
    /// runs of whitespace collapsed to one space), language keys
    /// normalised (`fr-CA` → `fr` with `region: "CA"` on its terms), sections merged, duplicate
    /// terms dropped, terms ordered by status.
    pub fn normalize(mut self) -> Result<Concept, ConceptError> {
        check_name("id", &self.id)?;
        check_name("collection", &self.collection)?;
        let mut languages: BTreeMap<String, LangSection> = BTreeMap::new();
        for (key, section) in std::mem::take(&mut self.languages) {
            let tag = LangTag::parse(&key)?;
            let target = languages.entry(tag.primary.clone()).or_default();
            if target.definition.is_none() {
                target.definition = clean(section.definition);
            }
            union(&mut target.tbx_extra, section.tbx_extra);
            for mut term in section.terms {
                term.text = collapse_nfc(std::mem::take(&mut term.text));
                if term.text.is_empty() {
                    return Err(ConceptError::EmptyTerm(tag.primary.clone()));
                }
                if term.region.is_none() {
                    term.region = tag.region.clone();
                }
                term.pos = clean(term.pos);
                term.gender = clean(term.gender);
                term.term_type = clean(term.term_type);
                term.note = clean(term.note);
                term.source = clean(term.source);
                check_fragments(&term.tbx_extra)?;
                match target.terms.iter_mut().find(|t| t.text == term.text) {
                    Some(t) => t.fill_from(term),
                    None => target.terms.push(term),
                }
            }
        }
        for section in languages.values_mut() {
            check_fragments(&section.tbx_extra)?;
            section.terms.sort_by_key(|t| t.status);
        }
        check_fragments(&self.tbx_extra)?;
        languages.retain(|_, s| !s.terms.is_empty() || s.definition.is_some());
        if languages.values().all(|s| s.terms.is_empty()) {
            return Err(ConceptError::NoTerms);
        }
        self.languages = languages;
        self.note = clean(self.note);
        let mut subjects: Vec<String> = Vec::new();
        for s in self.subject.drain(..) {
            let s = nfc(s.trim());
            if !s.is_empty() && !subjects.contains(&s) {
                subjects.push(s);
            }
        }
        self.subject = subjects;
        Ok(self)
    }

    /// Every (language key, term) pair.
    pub fn terms(&self) -> impl Iterator<Item = (&str, &Term)> {
        self.languages
            .iter()
            .flat_map(|(lang, s)| s.terms.iter().map(move |t| (lang.as_str(), t)))
    }

    /// The same concept ignoring `version` and `updated_at`, for change detection.
    pub fn same_content(&self, other: &Concept) -> bool {
        self.id == other.id
            && self.collection == other.collection
            && self.subject == other.subject
            && self.note == other.note
            && self.languages == other.languages
            && self.tbx_extra == other.tbx_extra
    }
}

/// Appends the items of `more` that `items` does not have yet.
pub fn union(items: &mut Vec<String>, more: Vec<String>) {
    for item in more {
        if !items.contains(&item) {
            items.push(item);
        }
    }
}

fn check_fragments(fragments: &[String]) -> Result<(), ConceptError> {
    for fragment in fragments {
        crate::formats::tbx::check_fragment(fragment).map_err(ConceptError::Fragment)?;
    }
    Ok(())
}

/// `text` trimmed, with runs of whitespace collapsed to one space, in NFC; without copying
/// when it already is.
/// True when `text` has no whitespace but single spaces between words (what
/// `split_whitespace` joined with spaces gives back unchanged).
pub(crate) fn is_collapsed(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.first() == Some(&b' ') || bytes.last() == Some(&b' ') {
        return false;
    }
    let mut after_space = false;
    // eight bytes at a time while none of them can start white space other than a space: then
    // only the spaces' places matter
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let maybe_space = zero_bytes(x & (0xE0 * ONES)) // a control character
            | zero_bytes((x & (0xFC * ONES)) ^ (0xE0 * ONES)) // 0xE0–0xE3
            | zero_bytes(x ^ (0xC2 * ONES));
        if maybe_space == 0 {
            let spaces = zero_bytes(x ^ (u64::from(b' ') * ONES));
            if spaces & (spaces >> 8) != 0 || (after_space && spaces & 0x80 != 0) {
                return false;
            }
            after_space = spaces >> 63 != 0;
        } else if !bytes_collapsed(bytes, at..at + 8, &mut after_space) {
            return false;
        }
        at += 8;
    }
    bytes_collapsed(bytes, at..bytes.len(), &mut after_space)
}

/// A byte repeated in every byte of a `u64`.
const ONES: u64 = 0x0101_0101_0101_0101;

/// The high bit of each byte of `x` that is zero, and no other bit.
fn zero_bytes(x: u64) -> u64 {
    let low = 0x7F * ONES;
    !(((x & low) + low) | x | low)
}

/// [`is_collapsed`] byte by byte over `bytes[range]` (the text is `bytes`), `after_space` telling
/// whether the byte before the range is a space, and then whether its last byte is one.
fn bytes_collapsed(bytes: &[u8], range: std::ops::Range<usize>, after_space: &mut bool) -> bool {
    for i in range {
        match bytes[i] {
            b' ' if *after_space => return false,
            b' ' => *after_space = true,
            b'\t' | b'\n' | 0x0B | 0x0C | b'\r' => return false,
            // the first bytes of the other white space characters' UTF-8
            0xC2 | 0xE1 | 0xE2 | 0xE3 if is_wide_space(&bytes[i..]) => return false,
            _ => *after_space = false,
        }
    }
    true
}

/// Whether `bytes` (valid UTF-8) starts with one of the white space characters beyond ASCII:
/// U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
fn is_wide_space(bytes: &[u8]) -> bool {
    matches!(
        bytes,
        [0xC2, 0x85 | 0xA0, ..]
            | [0xE1, 0x9A, 0x80, ..]
            | [0xE2, 0x80, 0x80..=0x8A | 0xA8 | 0xA9 | 0xAF, ..]
            | [0xE2, 0x81, 0x9F, ..]
            | [0xE3, 0x80, 0x80, ..]
    )
}

fn collapse_nfc(text: String) -> String {
    let text = if is_collapsed(&text) {
        text
    } else {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    into_nfc(text)
}

fn clean(value: Option<String>) -> Option<String> {
    value.map(|v| nfc(v.trim())).filter(|v| !v.is_empty())
}

/// The items of a comma-separated parameter (`a, b,,c` → `a`, `b`, `c`).
pub fn comma_list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Current time as RFC 3339 UTC with seconds.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_merges_regional_sections() {
        let json = r#"{"id": "c1", "languages": {
            "fr-CA": {"terms": [{"text": "courriel", "status": "preferred"}]},
            "FR": {"terms": [{"text": " Convention de Hanoi\u0308 ", "status": "deprecated"},
                              {"text": "courriel"}]}}}"#;
        let c: Concept = serde_json::from_str(json).unwrap();
        let c = c.normalize().unwrap();
        assert_eq!(c.collection, "default");
        let fr = &c.languages["fr"];
        assert_eq!(fr.terms.len(), 2);
        assert_eq!(fr.terms[0].text, "courriel");
        assert_eq!(fr.terms[0].region.as_deref(), Some("CA"));
        assert_eq!(fr.terms[1].text, "Convention de Hanoï");
    }

    #[test]
    fn is_collapsed_is_what_split_join_keeps_in_long_texts() {
        // texts of up to 40 characters from pieces that are white space, start it in UTF-8 or
        // are next to it, so that every kind falls at every place of the eight-byte chunks
        for lead in 1..20 {
            let (x, y) = ("x".repeat(lead), "y".repeat(20 - lead));
            assert!(is_collapsed(&format!("{x} {y}")), "{lead}");
            assert!(!is_collapsed(&format!("{x}  {y}")), "{lead}");
            assert!(!is_collapsed(&format!("{x} {y} ")), "{lead}");
        }
        let pieces = [
            " ", " ", " ", "  ", "a", "bc", "def", "ghij", "klmno", "pqrstu", "vwxyz01", "\t",
            "\n", "\r", "\u{b}", "\u{c}", "\u{1}", "\u{7f}", "\u{a0}", "\u{85}", "\u{a9}",
            "\u{e9}", "\u{2009}", "\u{2019}", "\u{3000}", "\u{3001}", "\u{1680}", "\u{1e9e}",
            "\u{800}", "\u{4e2d}", "\u{416}", "\u{627}",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..20_000 {
            let text: String = (0..next(24)).map(|_| pieces[next(pieces.len())]).collect();
            let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(is_collapsed(&text), joined == text, "{text:?}");
            let padded = format!("abcdefg {joined} hijklmnop");
            assert!(joined.is_empty() || is_collapsed(&padded), "{padded:?}");
        }
    }

    #[test]
    fn collapse_nfc_is_split_join_nfc() {
        for text in [
            "",
            " ",
            "a",
            "a b",
            " a b",
            "a b ",
            "a  b",
            "a\tb",
            "a\u{a0}b",
            "a\u{3000}b\n",
            "Hanoi\u{308}",
            "Hano\u{ef} de  l\u{2019}\u{c9}tat",
            "\u{5408}\u{56fd} \u{f900}",
            "\u{627}\u{644}\u{623}\u{645}\u{645}",
            "a\u{85}b",
            "a\u{1680}b",
            "a\u{2009}b",
            "a\u{2028}b",
            "a\u{202f}b",
            "a\u{205f}b",
            "a\u{b}b",
            "a\u{c}b",
            "\u{e9}t\u{e9} \u{2014} l\u{2019}hiver",
            "\u{3001}\u{3000}",
            "\u{3001} \u{3001}",
        ] {
            let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(is_collapsed(text), joined == text, "{text:?}");
            let slow = nfc(&joined);
            assert_eq!(collapse_nfc(text.to_string()), slow, "{text:?}");
        }
        for c in (0x80..=0x10FFFFu32).filter_map(char::from_u32) {
            // the character at each place of an eight-byte chunk, and across two
            if c.is_whitespace() || (c as u32).is_multiple_of(97) {
                for lead in 0..10 {
                    let text = format!("{}{c}{}", "x".repeat(lead), "y".repeat(17 - lead));
                    assert_eq!(is_collapsed(&text), !c.is_whitespace(), "{text:?}");
                }
            }
            let mut buf = [0u8; 4];
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            assert_eq!(
                is_wide_space(bytes),
                c.is_whitespace(),
                "U+{:04X}",
                c as u32
            );
            let text = format!("a{c}b");
            assert_eq!(
                is_collapsed(&text),
                !c.is_whitespace(),
                "U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn statuses_from_files() {
        for (s, want) in [
            ("preferredTerm-admn-sts", TermStatus::Preferred),
            ("Deprecated", TermStatus::Deprecated),
            ("obsolete", TermStatus::Deprecated),
            ("", TermStatus::Admitted),
            ("FORBIDDEN", TermStatus::Forbidden),
        ] {
            assert_eq!(s.parse::<TermStatus>().unwrap(), want, "{s}");
        }
        assert!("maybe".parse::<TermStatus>().is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// Translation memory

/// A translation unit: one segment and its translations, keyed like a concept's languages.
///
/// `variants` holds each language's text with inline codes shown as placeholders (`{1}` … `{/1}`
/// around a paired code, `{2/}` for a standalone one); what the codes were is kept in `tmx` so a
/// TMX export writes them back unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TranslationUnit {
    /// Identifier, unique within its collection (the TMX `tuid`, else derived from the content).
    #[serde(default)]
    pub id: String,
    /// The collection the unit belongs to.
    #[serde(default = "default_collection")]
    pub collection: String,
    /// Text per language key: the normalised primary subtag (`fr`), or `primary-REGION`
    /// (`en-GB`) for a second variant of a language already present in the unit.
    #[serde(default)]
    pub variants: BTreeMap<String, String>,
    /// Where the unit came from: the file name of an import, or the user who added it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Free-text note (a TMX file's `<tu>` notes, one per line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The unit's source language key when the file names one (`srclang`, not `*all*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_lang: Option<String>,
    /// Creation time, RFC 3339 UTC (from the TMX `creationdate` when there is one).
    #[serde(default)]
    pub created_at: String,
    /// Last change, RFC 3339 UTC (from the TMX `changedate`), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<String>,
    /// What the TMX file said that the fields above do not hold, for a lossless export.
    #[serde(default, skip_serializing_if = "TmxUnitExtra::is_empty")]
    pub tmx: TmxUnitExtra,
}

/// TMX markup of a unit kept verbatim: `<tu>` attributes, `<prop>`/`<note>` elements, and per
/// variant its `<tuv>` attributes, elements and the `<seg>` content with its inline codes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TmxUnitExtra {
    /// `<tu>` attributes in file order (`tuid`, `creationdate`, `srclang`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attrs: Vec<(String, String)>,
    /// `<prop>` and `<note>` elements of the `<tu>`, as XML fragments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elements: Vec<String>,
    /// Per variant key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<String, TmxVariantExtra>,
}

impl TmxUnitExtra {
    /// True when nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty() && self.elements.is_empty() && self.variants.is_empty()
    }
}

/// TMX markup of one `<tuv>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TmxVariantExtra {
    /// `<tuv>` attributes in file order, the language tag as written included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attrs: Vec<(String, String)>,
    /// `<prop>` and `<note>` elements of the `<tuv>`, as XML fragments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elements: Vec<String>,
    /// The content of `<seg>` as XML, when it has inline codes (else the variant's text is it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seg: Option<String>,
}
