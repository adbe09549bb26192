//! The documents the termbase writer indexes: text values and pre-tokenised ones, all kept in
//! one buffer per document and handed to tantivy as they are.
//!
//! Tantivy's own `TantivyDocument` stores a pre-tokenised value as JSON, which its indexing threads
//! parse back. An [`IndexDoc`] holds every value's text back to back in one string (and the
//! tokens of pre-tokenised values as ranges of it), so building a document takes a handful of
//! allocations, not one per value, and a document waiting in tantivy's queue stays small.

use std::ops::Range;
use std::sync::{Arc, Condvar, Mutex};

use rustc_hash::FxHashSet;
use tantivy::schema::document::{ReferenceValue, ReferenceValueLeaf};
use tantivy::schema::{Document, Field, Value};
use tantivy::tokenizer::{PreTokenizedString, Token as TantivyToken};

use crate::lang::Token;

/// A document as the termbase writer builds it: field values in the order added.
#[derive(Debug, Default)]
pub struct IndexDoc {
    /// Every value's text, and the keys of pre-tokenised values.
    text: String,
    values: Vec<Entry>,
    tokens: Vec<TokenSpec>,
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

/// One value: ranges of [`IndexDoc::text`] and [`IndexDoc::tokens`] as `u32` (a document is far
/// smaller than 4 GiB), so a document waiting in tantivy's queue stays small.
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
    /// Pre-tokenised: its range of [`IndexDoc::tokens`].
    Tokens(u32, u32),
    /// A number (its text range is empty).
    U64(u64),
}

/// One token of a pre-tokenised value.
#[derive(Debug, Clone)]
struct TokenSpec {
    key: (u32, u32),
    offset_from: u32,
    offset_to: u32,
    position: u32,
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
            tokens: Vec::with_capacity(values / 2),
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

    /// Adds `text` pre-tokenised: its analysis `tokens` ([`crate::lang::analyze`] of `text`, or
    /// [`crate::lang::zh_bigrams`]) become the tokens [`crate::lang::pre_tokenized`] makes of
    /// them, which are those of the field's registered tokenizer.
    pub fn add_tokens(&mut self, field: Field, text: &str, tokens: &[Token]) {
        let start = small(self.text.len());
        self.text.push_str(text);
        let text_range = (start, small(self.text.len()));
        let first = small(self.tokens.len());
        for t in tokens {
            for key in t.keys() {
                let start = small(self.text.len());
                self.text.push_str(key);
                self.tokens.push(TokenSpec {
                    key: (start, small(self.text.len())),
                    offset_from: small(t.byte_start),
                    offset_to: small(t.byte_end),
                    position: small(t.position),
                });
            }
        }
        self.values.push(Entry {
            field,
            text: text_range,
            kind: Kind::Tokens(first, small(self.tokens.len())),
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

    /// Drops the text values added since the `start`-th that repeat an earlier one of them (same
    /// field and text: a keyword counts once per document); the others keep their order. Only
    /// text values may have been added since `start`.
    pub fn dedup_since(&mut self, start: usize) {
        let text = &self.text;
        let values = &mut self.values;
        let mut seen: FxHashSet<(Field, &str)> = FxHashSet::default();
        seen.reserve(values.len() - start);
        let mut keep = start;
        for i in start..values.len() {
            if seen.insert((values[i].field, &text[range(values[i].text)])) {
                values.swap(keep, i);
                keep += 1;
            }
        }
        values.truncate(keep);
    }

    /// Every value: its field, and its text or (pre-tokenised) its tokens.
    pub fn values(&self) -> DocValues<'_> {
        DocValues {
            doc: self,
            entries: self.values.iter(),
        }
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

    /// For a pre-tokenised value, what tantivy indexes.
    pub fn pre_tokenized(&self) -> Option<PreTokenizedString> {
        let Kind::Tokens(first, end) = self.entry.kind else {
            return None;
        };
        let tokens = self.doc.tokens[range((first, end))]
            .iter()
            .map(|t| TantivyToken {
                offset_from: t.offset_from as usize,
                offset_to: t.offset_to as usize,
                position: t.position as usize,
                text: self.doc.text[range(t.key)].to_string(),
                position_length: 1,
            })
            .collect();
        Some(PreTokenizedString {
            text: self.text().to_string(),
            tokens,
        })
    }
}

impl std::fmt::Debug for DocValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.pre_tokenized(), self.number()) {
            (Some(tokens), _) => f.debug_tuple("Tokens").field(&tokens).finish(),
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
            Kind::Tokens(..) => ReferenceValueLeaf::PreTokStr(Box::new(
                self.pre_tokenized().expect("a pre-tokenised value"),
            )),
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
    use crate::lang::{analyze, pre_tokenized, register_tokenizers, Lang};
    use crate::store::schema::{build_schema, concept_doc};

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

    fn index_of<D: Document>(docs: Vec<D>) -> SegmentReader {
        let (schema, _) = build_schema();
        let index = Index::create_in_ram(schema);
        register_tokenizers(index.tokenizers());
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
        // the same documents with every pre-tokenised value as plain text, for the tokenizers
        let texts: Vec<TantivyDocument> = docs()
            .iter()
            .map(|doc| {
                let mut plain = TantivyDocument::new();
                for (field, value) in doc.values() {
                    match value.number() {
                        Some(n) => plain.add_u64(field, n),
                        None => plain.add_text(field, value.text()),
                    }
                }
                plain
            })
            .collect();
        let pre = dump(&index_of(docs()));
        let plain = dump(&index_of(texts));
        assert!(pre.len() > 1000, "{}", pre.len());
        assert!(pre.iter().any(|l| l.starts_with("t_zh_bigram ")));
        for (a, b) in pre.iter().zip(&plain) {
            assert_eq!(a, b);
        }
        assert_eq!(pre.len(), plain.len());
    }

    #[test]
    fn a_document_hands_tantivy_what_pre_tokenized_makes() {
        let (_, fields) = build_schema();
        let mut doc = IndexDoc::new();
        let text = "l'État de droit, Hanoï 2.500";
        let tokens = analyze(Lang::Fr, text);
        doc.add_text(fields.key, "k");
        doc.add_tokens(fields.analysed_field(Lang::Fr), text, &tokens);
        doc.add_text_with(fields.lang_words, |b| b.push('b'));
        doc.add_text(fields.lang_words, "a");
        doc.add_text(fields.lang_words, "b");
        doc.add_text(fields.exact, "b");
        doc.add_text(fields.lang_words, "a");
        doc.dedup_since(2);
        let values: Vec<_> = doc.values().collect();
        assert_eq!(values.len(), 5);
        assert_eq!(
            values[1].1.pre_tokenized(),
            Some(pre_tokenized(text, &tokens))
        );
        let words: Vec<(Field, &str)> = values[2..].iter().map(|(f, v)| (*f, v.text())).collect();
        assert_eq!(
            words,
            [
                (fields.lang_words, "b"),
                (fields.lang_words, "a"),
                (fields.exact, "b")
            ]
        );
        assert!(values[0].1.pre_tokenized().is_none());
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
