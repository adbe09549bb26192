//! The documents the termbase writer indexes: text values and pre-analysed ones, all kept in
//! one buffer per document and handed to tantivy as they are.
//!
//! Tantivy's own `TantivyDocument` stores a pre-tokenised value as JSON, which its indexing threads
//! parse back, and even a `PreTokenizedString` costs them a `Vec` and a `String` per token, twice
//! (tantivy clones it before indexing it). An [`IndexDoc`] holds every value's text back to back
//! in one string, and a pre-analysed value as a plain text too: its tokens' positions and keys in
//! a compact form ([`write_pre_analysed`]), which the fields' tokenizer ([`PreAnalysedTokenizer`],
//! registered as [`PRE_ANALYSED`]) reads back through one reused token. So building a document
//! takes a handful of allocations, not one per value, indexing it none per token, and a document
//! waiting in tantivy's queue stays small.

use std::hash::BuildHasher;
use std::ops::Range;
use std::sync::{Arc, Condvar, Mutex};

use tantivy::schema::document::{ReferenceValue, ReferenceValueLeaf};
use tantivy::schema::{Document, Field, Value};
use tantivy::tokenizer::{Token as TantivyToken, TokenStream, Tokenizer, TokenizerManager};

use crate::lang::Token;

/// Name under which [`PreAnalysedTokenizer`] is registered: the tokenizer of the termbase's
/// analysed fields, whose values are always pre-analysed ([`IndexDoc::add_tokens`]).
pub const PRE_ANALYSED: &str = "hx_pre_analysed";

/// Registers [`PreAnalysedTokenizer`] as [`PRE_ANALYSED`]. Tantivy does not store tokenizers
/// with the index, so this runs after every open.
pub fn register_pre_analysed(manager: &TokenizerManager) {
    manager.register(PRE_ANALYSED, PreAnalysedTokenizer::default());
}

/// Appends the pre-analysed form of `tokens` to `out`: per key, in order, its position and its
/// length in bytes in decimal, each followed by a space, then the key (`0 5 peace0 3 pax`).
/// Offsets are left out: tantivy does not index them.
pub fn write_pre_analysed(out: &mut String, tokens: &[Token]) {
    write_pre_analysed_keys(out, token_keys(tokens));
}

/// The keys of `tokens` with their positions, in order (a token's key, then its alternative).
fn token_keys(tokens: &[Token]) -> impl Iterator<Item = (usize, &str)> {
    tokens
        .iter()
        .flat_map(|t| t.keys().map(move |key| (t.position, key)))
}

/// [`write_pre_analysed`] of keys given as `(position, key)`, in order.
pub fn write_pre_analysed_keys<'k>(
    out: &mut String,
    keys: impl IntoIterator<Item = (usize, &'k str)>,
) {
    for (position, key) in keys {
        push_decimal(out, position);
        out.push(' ');
        push_decimal(out, key.len());
        out.push(' ');
        out.push_str(key);
    }
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut String, n: usize) {
    // positions and lengths of keys: nearly always below 100
    if n < 10 {
        out.push(char::from(b'0' + n as u8));
    } else if n < 100 {
        out.push(char::from(b'0' + (n / 10) as u8));
        out.push(char::from(b'0' + (n % 10) as u8));
    } else {
        use std::fmt::Write;
        write!(out, "{n}").expect("writing to a String");
    }
}

/// The tokenizer of pre-analysed values ([`write_pre_analysed`]): it reads the keys back with
/// their positions, through one token it reuses (no allocation per token). A text not in that
/// form yields its tokens up to the first malformed one.
#[derive(Debug, Clone, Default)]
pub struct PreAnalysedTokenizer {
    token: TantivyToken,
}

/// The tokens of one pre-analysed value.
pub struct PreAnalysedStream<'a> {
    rest: &'a str,
    token: &'a mut TantivyToken,
}

impl Tokenizer for PreAnalysedTokenizer {
    type TokenStream<'a> = PreAnalysedStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> PreAnalysedStream<'a> {
        self.token.reset();
        PreAnalysedStream {
            rest: text,
            token: &mut self.token,
        }
    }
}

/// Reads a decimal number followed by a space at the start of `s`; the rest after the space.
fn read_decimal(s: &str) -> Option<(usize, &str)> {
    let bytes = s.as_bytes();
    let mut n: usize = 0;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'0'..=b'9' => n = n.checked_mul(10)?.checked_add(usize::from(b - b'0'))?,
            b' ' if i > 0 => return Some((n, &s[i + 1..])),
            _ => return None,
        }
    }
    None
}

/// The position and key at the start of a pre-analysed value `s`, and what follows them.
fn next_key(s: &str) -> Option<(usize, &str, &str)> {
    let (position, rest) = read_decimal(s)?;
    let (len, rest) = read_decimal(rest)?;
    Some((position, rest.get(..len)?, rest.get(len..)?))
}

impl TokenStream for PreAnalysedStream<'_> {
    fn advance(&mut self) -> bool {
        let Some((position, key, rest)) = next_key(self.rest) else {
            self.rest = "";
            return false;
        };
        self.token.position = position;
        self.token.position_length = 1;
        self.token.text.clear();
        self.token.text.push_str(key);
        self.rest = rest;
        true
    }

    fn token(&self) -> &TantivyToken {
        self.token
    }

    fn token_mut(&mut self) -> &mut TantivyToken {
        self.token
    }
}

/// A document as the termbase writer builds it: field values in the order added.
#[derive(Debug, Default)]
pub struct IndexDoc {
    /// Every value's text, and the pre-analysed form of pre-analysed values.
    text: String,
    values: Vec<Entry>,
    /// Counts the document in [`InFlight`] until tantivy has indexed (and dropped) it.
    ticket: Option<Ticket>,
}

/// Documents handed to tantivy and not indexed yet. Tantivy queues up to 10,000 documents for
/// its indexing threads; a bulk import that outpaces them waits here instead, so the documents
/// waiting (several kilobytes each) stay few.
#[derive(Debug, Default)]
pub struct InFlight {
    count: Mutex<Gauge>,
    indexed: Condvar,
}

/// Documents in flight, and the admissions waiting: they wait until a quarter of the limit has
/// been indexed, and only the drop that gets there wakes them (a wake-up is a system call and a
/// context switch; tantivy drops a document per document indexed).
#[derive(Debug, Default)]
struct Gauge {
    documents: usize,
    waiting: usize,
    /// While some admission waits: the number of documents in flight it waits for.
    resume_at: usize,
}

impl InFlight {
    /// Counts `doc` in until it is dropped; when `limit` documents are in flight already, first
    /// waits until a quarter of them are indexed.
    pub fn admit(self: &Arc<Self>, doc: &mut IndexDoc, limit: usize) {
        let mut count = self.count.lock().expect("in-flight lock");
        if count.documents >= limit {
            let resume_at = limit - limit.div_ceil(4);
            while count.documents > resume_at {
                count.resume_at = if count.waiting == 0 {
                    resume_at
                } else {
                    count.resume_at.max(resume_at)
                };
                count.waiting += 1;
                count = self.indexed.wait(count).expect("in-flight lock");
                count.waiting -= 1;
            }
        }
        count.documents += 1;
        doc.ticket = Some(Ticket(self.clone()));
    }
}

#[derive(Debug)]
struct Ticket(Arc<InFlight>);

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut count = self.0.count.lock().expect("in-flight lock");
        count.documents -= 1;
        let wake = count.waiting > 0 && count.documents <= count.resume_at;
        drop(count);
        if wake {
            self.0.indexed.notify_all();
        }
    }
}

/// One value: ranges of [`IndexDoc::text`] as `u32` (a document is far smaller than 4 GiB), so a
/// document waiting in tantivy's queue stays small.
#[derive(Debug, Clone)]
struct Entry {
    field: Field,
    text: (u32, u32),
    kind: Kind,
}

/// What a value is.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    /// Pre-analysed: the range of its [`write_pre_analysed`] form in [`IndexDoc::text`].
    PreAnalysed(u32, u32),
    /// Keywords ([`IndexDoc::add_keywords`]): the range of their pre-analysed form.
    Keywords(u32, u32),
    /// A number (its text range is empty).
    U64(u64),
}

fn range((start, end): (u32, u32)) -> Range<usize> {
    start as usize..end as usize
}

/// A length or offset within one document's buffers.
fn small(n: usize) -> u32 {
    u32::try_from(n).expect("a document is smaller than 4 GiB")
}

impl IndexDoc {
    /// An empty document.
    pub fn new() -> IndexDoc {
        IndexDoc::default()
    }

    /// An empty document with room for `bytes` of text and `values` values.
    pub fn with_capacity(bytes: usize, values: usize) -> IndexDoc {
        IndexDoc {
            text: String::with_capacity(bytes),
            values: Vec::with_capacity(values),
            ticket: None,
        }
    }

    /// Adds a text value.
    pub fn add_text(&mut self, field: Field, text: &str) {
        self.add_text_with(field, |buf| buf.push_str(text));
    }

    /// Adds a text value that `write` appends to the buffer it is given (and nothing else).
    pub fn add_text_with(&mut self, field: Field, write: impl FnOnce(&mut String)) {
        let start = small(self.text.len());
        write(&mut self.text);
        self.values.push(Entry {
            field,
            text: (start, small(self.text.len())),
            kind: Kind::Text,
        });
    }

    /// Adds a number (for a fast field).
    pub fn add_u64(&mut self, field: Field, value: u64) {
        let at = small(self.text.len());
        self.values.push(Entry {
            field,
            text: (at, at),
            kind: Kind::U64(value),
        });
    }

    /// Adds `text` pre-analysed: its analysis `tokens` ([`crate::lang::analyze`] of `text`, or
    /// [`crate::lang::zh_bigrams`]) in the form [`PreAnalysedTokenizer`] reads, which gives the
    /// keys and positions the language's own tokenizer ([`crate::lang::KeyTokenizer`]) gives for
    /// `text`. The field's tokenizer must be [`PRE_ANALYSED`].
    pub fn add_tokens(&mut self, field: Field, text: &str, tokens: &[Token]) {
        self.add_keys(field, text, token_keys(tokens));
    }

    /// [`IndexDoc::add_tokens`] with the tokens' keys given as `(position, key)`, in order.
    pub fn add_keys<'k>(
        &mut self,
        field: Field,
        text: &str,
        keys: impl IntoIterator<Item = (usize, &'k str)>,
    ) {
        let start = small(self.text.len());
        self.text.push_str(text);
        let text_range = (start, small(self.text.len()));
        write_pre_analysed_keys(&mut self.text, keys);
        self.values.push(Entry {
            field,
            text: text_range,
            kind: Kind::PreAnalysed(text_range.1, small(self.text.len())),
        });
    }

    /// Number of values added so far.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the document has no value.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Adds keywords to `field` as one pre-analysed value: those `write` pushes, at positions 0,
    /// 1, 2… ([`Keywords::push_distinct`] leaves out a repeat, [`Keywords::push`] keeps it); no
    /// value when there are none. In a field indexed without positions (the field's tokenizer
    /// [`PRE_ANALYSED`]) this indexes what one value per keyword in a raw (`STRING`) field would:
    /// the same terms, and the same field norm (the number of keywords written), with one value
    /// for tantivy to handle instead of dozens.
    pub fn add_keywords(&mut self, field: Field, write: impl FnOnce(&mut Keywords<'_>)) {
        let start = small(self.text.len());
        let mut keywords = Keywords {
            out: &mut self.text,
            key: String::new(),
            written: Vec::new(),
        };
        write(&mut keywords);
        if keywords.written.is_empty() {
            return;
        }
        let end = small(self.text.len());
        self.values.push(Entry {
            field,
            text: (start, start),
            kind: Kind::Keywords(start, end),
        });
    }

    /// Every value: its field, and its text (and pre-analysed form) or number.
    pub fn values(&self) -> DocValues<'_> {
        DocValues {
            doc: self,
            entries: self.values.iter(),
        }
    }
}

/// The keywords of one [`IndexDoc::add_keywords`] value, written in pre-analysed form as they are
/// pushed.
pub struct Keywords<'a> {
    out: &'a mut String,
    /// The keyword being pushed.
    key: String,
    /// Each keyword written: its hash, and where it is in `out`.
    written: Vec<(u64, Range<usize>)>,
}

impl Keywords<'_> {
    /// Adds the keyword that `write` appends to the buffer it is given, unless it is there
    /// already (a keyword counts once per document).
    pub fn push_distinct(&mut self, write: impl FnOnce(&mut String)) {
        let hash = self.take(write);
        let (out, key) = (&*self.out, self.key.as_str());
        if (self.written.iter()).any(|(h, at)| *h == hash && out[at.clone()] == *key) {
            return;
        }
        self.write(hash);
    }

    /// Adds the keyword that `write` appends to the buffer it is given, even if it is there
    /// already (the field norm counts it again).
    pub fn push(&mut self, write: impl FnOnce(&mut String)) {
        let hash = self.take(write);
        self.write(hash);
    }

    /// Takes the next keyword from `write` into `key`; gives its hash.
    fn take(&mut self, write: impl FnOnce(&mut String)) -> u64 {
        self.key.clear();
        write(&mut self.key);
        rustc_hash::FxBuildHasher.hash_one(self.key.as_str())
    }

    /// Writes `key` (whose hash is `hash`) after the keywords written.
    fn write(&mut self, hash: u64) {
        write_pre_analysed_keys(self.out, [(self.written.len(), self.key.as_str())]);
        let end = self.out.len();
        self.written.push((hash, end - self.key.len()..end));
    }
}

/// One value of an [`IndexDoc`], as tantivy reads it.
#[derive(Clone, Copy)]
pub struct DocValue<'a> {
    doc: &'a IndexDoc,
    entry: &'a Entry,
}

impl<'a> DocValue<'a> {
    /// The value's text (empty for a number).
    pub fn text(&self) -> &'a str {
        &self.doc.text[range(self.entry.text)]
    }

    /// The number, for a number value.
    pub fn number(&self) -> Option<u64> {
        match self.entry.kind {
            Kind::U64(n) => Some(n),
            _ => None,
        }
    }

    /// For a pre-analysed value (keywords included), what tantivy indexes: its
    /// [`write_pre_analysed`] form.
    pub fn pre_analysed(&self) -> Option<&'a str> {
        match self.entry.kind {
            Kind::PreAnalysed(start, end) | Kind::Keywords(start, end) => {
                Some(&self.doc.text[range((start, end))])
            }
            _ => None,
        }
    }

    /// True for a value of keywords ([`IndexDoc::add_keywords`]).
    pub fn is_keywords(&self) -> bool {
        matches!(self.entry.kind, Kind::Keywords(..))
    }
}

impl std::fmt::Debug for DocValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.pre_analysed(), self.number()) {
            (Some(tokens), _) => f
                .debug_tuple("PreAnalysed")
                .field(&self.text())
                .field(&tokens)
                .finish(),
            (None, Some(n)) => f.debug_tuple("U64").field(&n).finish(),
            (None, None) => f.debug_tuple("Text").field(&self.text()).finish(),
        }
    }
}

/// The values of an [`IndexDoc`] with their fields, in the order added.
pub struct DocValues<'a> {
    doc: &'a IndexDoc,
    entries: std::slice::Iter<'a, Entry>,
}

impl<'a> Iterator for DocValues<'a> {
    type Item = (Field, DocValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.entries.next()?;
        Some((
            entry.field,
            DocValue {
                doc: self.doc,
                entry,
            },
        ))
    }
}

impl Document for IndexDoc {
    type Value<'a> = DocValue<'a>;
    type FieldsValuesIter<'a> = DocValues<'a>;

    fn iter_fields_and_values(&self) -> DocValues<'_> {
        self.values()
    }
}

impl<'a> Value<'a> for DocValue<'a> {
    type ArrayIter = std::iter::Empty<DocValue<'a>>;
    type ObjectIter = std::iter::Empty<(&'a str, DocValue<'a>)>;

    fn as_value(&self) -> ReferenceValue<'a, Self> {
        ReferenceValue::Leaf(match self.entry.kind {
            Kind::Text => ReferenceValueLeaf::Str(self.text()),
            Kind::U64(n) => ReferenceValueLeaf::U64(n),
            Kind::PreAnalysed(start, end) | Kind::Keywords(start, end) => {
                ReferenceValueLeaf::Str(&self.doc.text[range((start, end))])
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use tantivy::postings::Postings;
    use tantivy::schema::IndexRecordOption;
    use tantivy::{DocSet, Index, IndexWriter, SegmentReader, TantivyDocument, TERMINATED};

    use super::*;
    use crate::formats::csv::{read_glossary, Delimiter};
    use crate::import::EMBEDDED_GLOSSARIES;
    use crate::lang::{
        analyze, pre_tokenized, register_tokenizers, tokenizer_name, zh_bigrams, Lang,
    };
    use crate::store::schema::{build_schema, build_schema_tokenized_by, concept_doc};

    /// The shipped glossaries' concepts in all six languages, and concepts of edge cases.
    fn concepts() -> Vec<crate::model::Concept> {
        let mut all = Vec::new();
        for (name, text) in EMBEDDED_GLOSSARIES {
            let parsed = read_glossary(text.as_bytes(), Delimiter::Tab, name).unwrap();
            all.extend(parsed.concepts);
        }
        let json = r#"{"id": "edge", "subject": ["Health", "health"], "languages": {
            "en": {"terms": [{"text": "State's 2.500 reports"}, {"text": "—"}]},
            "fr": {"terms": [{"text": "l'État de droit"}, {"text": "Hanoï"}]},
            "zh": {"terms": [{"text": "联合国宪章 UN"}, {"text": "法"}]},
            "de": {"terms": [{"text": "Straße"}]}}}"#;
        let edge: crate::model::Concept = serde_json::from_str(json).unwrap();
        all.push(edge.normalize().unwrap());
        assert!(all.len() > 50);
        all
    }

    fn index_of<D: Document>(schema: tantivy::schema::Schema, docs: Vec<D>) -> SegmentReader {
        let index = Index::create_in_ram(schema);
        register_tokenizers(index.tokenizers());
        register_pre_analysed(index.tokenizers());
        let mut writer: IndexWriter<D> = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for doc in docs {
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 1);
        searcher.segment_readers()[0].clone()
    }

    /// Every term of every indexed field, with each document's positions, and the field norms.
    fn dump(segment: &SegmentReader) -> Vec<String> {
        let (schema, _) = build_schema();
        let mut out = Vec::new();
        for (field, entry) in schema.fields() {
            if !entry.is_indexed() {
                continue;
            }
            let inverted = segment.inverted_index(field).unwrap();
            let mut terms = inverted.terms().stream().unwrap();
            while terms.advance() {
                let mut postings = inverted
                    .read_postings_from_terminfo(
                        terms.value(),
                        IndexRecordOption::WithFreqsAndPositions,
                    )
                    .unwrap();
                let mut line = format!(
                    "{} {:?}:",
                    entry.name(),
                    String::from_utf8_lossy(terms.key())
                );
                let mut positions = Vec::new();
                while postings.doc() != TERMINATED {
                    postings.positions(&mut positions);
                    line.push_str(&format!(" {}{positions:?}", postings.doc()));
                    postings.advance();
                }
                out.push(line);
            }
            if entry.has_fieldnorms() {
                let norms = segment.get_fieldnorms_reader(field).unwrap();
                let ids: Vec<u8> = (0..segment.max_doc())
                    .map(|d| norms.fieldnorm_id(d))
                    .collect();
                out.push(format!("{} norms {ids:?}", entry.name()));
            }
        }
        out
    }

    #[test]
    fn pre_tokenised_documents_index_as_their_texts_do() {
        let (_, fields) = build_schema();
        let docs =
            || -> Vec<IndexDoc> { concepts().iter().map(|c| concept_doc(&fields, c)).collect() };
        // the same documents with every pre-analysed value as its text and every keyword as a
        // value of its own, in the same schema but for the languages' tokenizers and raw keyword
        // fields
        let texts: Vec<TantivyDocument> = docs()
            .iter()
            .map(|doc| {
                let mut plain = TantivyDocument::new();
                for (field, value) in doc.values() {
                    match (value.number(), value.pre_analysed()) {
                        (Some(n), _) => plain.add_u64(field, n),
                        (None, Some(keywords)) if value.is_keywords() => {
                            for (keyword, _) in read_back(keywords) {
                                plain.add_text(field, keyword);
                            }
                        }
                        _ => plain.add_text(field, value.text()),
                    }
                }
                plain
            })
            .collect();
        let pre = dump(&index_of(build_schema().0, docs()));
        let plain = dump(&index_of(
            build_schema_tokenized_by(tokenizer_name, tantivy::schema::STRING).0,
            texts,
        ));
        assert!(pre.len() > 1000, "{}", pre.len());
        assert!(pre.iter().any(|l| l.starts_with("t_zh_bigram ")));
        for (a, b) in pre.iter().zip(&plain) {
            assert_eq!(a, b);
        }
        assert_eq!(pre.len(), plain.len());
    }

    /// Text and position of each token the registered [`PRE_ANALYSED`] tokenizer reads from
    /// `value`.
    fn read_back(value: &str) -> Vec<(String, usize)> {
        let manager = tantivy::tokenizer::TokenizerManager::default();
        register_pre_analysed(&manager);
        let mut analyzer = manager.get(PRE_ANALYSED).unwrap();
        let mut stream = analyzer.token_stream(value);
        let mut out = Vec::new();
        stream.process(&mut |t: &TantivyToken| {
            assert_eq!(t.position_length, 1);
            out.push((t.text.clone(), t.position));
        });
        out
    }

    /// Text and position of each token of tantivy's pre-tokenised string of `tokens`.
    fn pre_tokenized_keys(text: &str, tokens: &[Token]) -> Vec<(String, usize)> {
        let pre = pre_tokenized(text, tokens);
        pre.tokens
            .into_iter()
            .map(|t| (t.text, t.position))
            .collect()
    }

    #[test]
    fn a_document_hands_tantivy_its_pre_analysed_values_and_texts() {
        let (_, fields) = build_schema();
        let mut doc = IndexDoc::new();
        let text = "l'État de droit, Hanoï 2.500";
        let tokens = analyze(Lang::Fr, text);
        doc.add_text(fields.key, "k");
        doc.add_tokens(fields.analysed_field(Lang::Fr), text, &tokens);
        doc.add_keywords(fields.lang_words, |words| {
            words.push_distinct(|b| b.push_str("fr:b"));
            words.push_distinct(|b| b.push_str("fr:a"));
            words.push_distinct(|b| b.push_str("fr:b"));
            words.push_distinct(|b| b.push_str("fr:été"));
            words.push_distinct(|b| b.push_str("fr:a"));
        });
        doc.add_keywords(fields.exact, |buckets| {
            buckets.push(|b| b.push_str("fr:x"));
            buckets.push(|b| b.push_str("fr:x"));
        });
        doc.add_keywords(fields.status, |_| {});
        let values: Vec<_> = doc.values().collect();
        assert_eq!(values.len(), 4);
        let pre = values[1].1.pre_analysed().unwrap();
        assert_eq!(values[1].1.text(), text);
        assert!(!values[1].1.is_keywords());
        assert!(matches!(
            values[1].1.as_value(),
            ReferenceValue::Leaf(ReferenceValueLeaf::Str(s)) if s == pre
        ));
        assert!(read_back(pre).len() > 4);
        assert_eq!(read_back(pre), pre_tokenized_keys(text, &tokens));
        // keywords: each distinct one once, or every one, at positions 0, 1, 2…; none, no value
        let keywords = |i: usize| -> (Field, Vec<(String, usize)>) {
            let (field, value) = values[i];
            assert!(value.is_keywords());
            (field, read_back(value.pre_analysed().unwrap()))
        };
        let owned = |keys: &[(&str, usize)]| -> Vec<(String, usize)> {
            keys.iter().map(|(k, p)| (k.to_string(), *p)).collect()
        };
        assert_eq!(
            keywords(2),
            (
                fields.lang_words,
                owned(&[("fr:b", 0), ("fr:a", 1), ("fr:été", 2)])
            )
        );
        assert_eq!(
            keywords(3),
            (fields.exact, owned(&[("fr:x", 0), ("fr:x", 1)]))
        );
        assert!(values[0].1.pre_analysed().is_none());
    }

    #[test]
    fn decimals_are_written_as_display_writes_them() {
        for n in [0, 7, 9, 10, 42, 99, 100, 101, 999, 1000, 65_535, usize::MAX] {
            let mut out = String::from("x");
            push_decimal(&mut out, n);
            assert_eq!(out, format!("x{n}"));
        }
    }

    #[test]
    fn pre_analysed_values_read_back_as_their_tokens() {
        // more than ten tokens (two-digit positions), keys of several bytes a character, keys
        // with a space or a digit, alternative keys at the same position
        let long = "Convention des Nations Unies contre la cybercriminalité, renforçant la \
                    coopération internationale 2024 et l'échange de preuves électroniques";
        for (lang, text) in [
            (Lang::Fr, long),
            (
                Lang::Ru,
                "Конвенция Организации Объединённых Наций против киберпреступности",
            ),
            (Lang::Ar, "اتفاقية الأمم المتحدة لمكافحة الجرائم السيبرانية"),
            (Lang::Zh, "联合国打击网络犯罪公约 UN 2024"),
        ] {
            let tokens = analyze(lang, text);
            let mut value = String::new();
            write_pre_analysed(&mut value, &tokens);
            assert_eq!(
                read_back(&value),
                pre_tokenized_keys(text, &tokens),
                "{text}"
            );
        }
        let bigrams = zh_bigrams("联合国打击网络犯罪公约和联合国宪章");
        assert!(bigrams.len() > 10);
        let mut value = String::new();
        write_pre_analysed(&mut value, &bigrams);
        assert_eq!(read_back(&value), pre_tokenized_keys("", &bigrams));
        let spaced = Token {
            start: 0,
            end: 3,
            byte_start: 0,
            byte_end: 3,
            position: 123,
            norm: "a 1".into(),
            key: "a 1".into(),
            alt: Some("".into()),
        };
        let mut value = String::new();
        write_pre_analysed(&mut value, std::slice::from_ref(&spaced));
        assert_eq!(value, "123 3 a 1123 0 ");
        assert_eq!(
            read_back(&value),
            [("a 1".to_string(), 123), (String::new(), 123)]
        );
    }

    #[test]
    fn a_malformed_pre_analysed_value_yields_its_tokens_up_to_the_fault() {
        let one = vec![("ab".to_string(), 0)];
        assert_eq!(read_back(""), []);
        assert_eq!(read_back("0 2 ab"), one);
        for bad in [
            "0 2 ab1 3 cd",                     // a key cut short
            "0 2 abx",                          // no number
            "0 2 ab 1 1 c",                     // a space before a number
            "0 2 ab1",                          // no space after a number
            "0 2 ab1 1",                        // no key
            "0 2 ab9999999999999999999999 1 c", // a number too large
            "0 2 ab0 1 \u{e9}",                 // a key ending inside a character
        ] {
            assert_eq!(read_back(bad), one, "{bad:?}");
        }
        assert_eq!(read_back("plain text"), []);
    }
}

#[cfg(test)]
mod in_flight_tests {
    use super::*;

    /// Admits a new document on another thread, which says on the channel when it is admitted
    /// and hands the document back when joined.
    fn admit_on_thread(
        gauge: &Arc<InFlight>,
        limit: usize,
    ) -> (
        std::thread::JoinHandle<IndexDoc>,
        std::sync::mpsc::Receiver<()>,
    ) {
        let (tx, rx) = std::sync::mpsc::channel();
        let gauge = gauge.clone();
        let waiting = std::thread::spawn(move || {
            let mut doc = IndexDoc::new();
            gauge.admit(&mut doc, limit);
            tx.send(()).unwrap();
            doc
        });
        (waiting, rx)
    }

    #[test]
    fn admission_waits_for_documents_to_be_dropped() {
        let gauge = Arc::new(InFlight::default());
        let mut first = IndexDoc::new();
        let mut second = IndexDoc::new();
        gauge.admit(&mut first, 2);
        gauge.admit(&mut second, 2);
        let (waiting, rx) = admit_on_thread(&gauge, 2);
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(rx.try_recv().is_err(), "admitted past the limit");
        drop(first);
        rx.recv().unwrap();
        drop(waiting.join().unwrap());
        drop(second);
        assert_eq!(gauge.count.lock().unwrap().documents, 0);
    }

    #[test]
    fn a_full_gauge_admits_again_once_a_quarter_is_indexed() {
        let gauge = Arc::new(InFlight::default());
        let mut docs: Vec<IndexDoc> = (0..8).map(|_| IndexDoc::new()).collect();
        for doc in &mut docs {
            gauge.admit(doc, 8);
        }
        let (waiting, rx) = admit_on_thread(&gauge, 8);
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(docs.pop());
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(
            rx.try_recv().is_err(),
            "admitted before a quarter was indexed"
        );
        drop(docs.pop());
        rx.recv().unwrap();
        drop(waiting.join().unwrap());
        assert_eq!(gauge.count.lock().unwrap().documents, 6);
        drop(docs);
        assert_eq!(gauge.count.lock().unwrap().documents, 0);
    }
}
