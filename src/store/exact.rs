//! Exact keys as hashes: what the termbase and the translation memory share to find a whole text
//! without a term per distinct text in the index.
//!
//! A document holds, per distinct (language, [`crate::lang::exact_key`]) of its texts, the 64-bit
//! [`key_hash`] as a value of a multi-valued `u64` fast field and a few of its bits as a term of
//! a keyword field (a bucket, [`bucket`]). A lookup reads the bucket's postings and keeps the
//! documents whose fast field holds the whole hash ([`matching_docs`]). A bucket term is shared by
//! many texts, so the index builds a small term dictionary instead of one entry per text (on a
//! bulk import the per-term work of a dictionary of unique keys is a large share of indexing).
//!
//! [`ExactQuery`] is that lookup as a tantivy query, scored as a term query on a field holding
//! the keys themselves would be: BM25 with the number of documents having the hash (not the
//! bucket) as document frequency, and the keyword field's norms, which count one value per
//! distinct key as such a field's would. The documents of a hash in a segment never change (see
//! [`super::derived`]): an [`ExactQuery`] looks them up once per segment and keeps them, so the
//! same query on a later commit reads only the segments that commit added.

use std::sync::{Arc, LazyLock};

use tantivy::fieldnorm::FieldNormReader;
use tantivy::query::{Bm25Weight, EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, Term, TERMINATED};

use super::derived::SegmentMemo;

/// Hashes' documents kept per segment (a few bytes to a few hundred each).
const KEPT_LOOKUPS: usize = 200_000;

/// What an [`ExactQuery`] looks up: bucket field, column and hash.
type Lookup = (Field, &'static str, u64);

/// [`matching_docs`] of each lookup, per segment.
static MATCHES: LazyLock<SegmentMemo<Lookup, Arc<[DocId]>>> =
    LazyLock::new(|| SegmentMemo::new(KEPT_LOOKUPS));

/// The hash of a key in a language: FNV-1a over the language, a separator and the key, then
/// MurmurHash3's finaliser to spread it over all 64 bits. Part of the schema of both indexes:
/// changing it needs a version bump of both.
pub fn key_hash(primary: &str, key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(primary.as_bytes());
    eat(&[0x1f]);
    eat(key.as_bytes());
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

/// The bucket term of a hash: its low `bits` bits, six to a character (the last takes what is
/// left), so every bucket has one spelling.
pub fn bucket(hash: u64, bits: u32) -> String {
    let mut out = String::with_capacity(bits.div_ceil(6) as usize);
    push_bucket(&mut out, hash, bits);
    out
}

/// Appends [`bucket`] of `hash` to `out`.
pub fn push_bucket(out: &mut String, hash: u64, bits: u32) {
    const DIGITS: &[u8; 64] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
    out.extend((0..bits.div_ceil(6)).map(|i| {
        let width = (bits - 6 * i).min(6);
        char::from(DIGITS[((hash >> (6 * i)) & ((1 << width) - 1)) as usize])
    }));
}

/// The documents of a segment, deleted ones included, in the postings of `bucket` (a term of
/// a keyword field) whose fast field `column` holds `hash`, in document order.
pub fn matching_docs(
    segment: &SegmentReader,
    bucket: &Term,
    column: &str,
    hash: u64,
) -> tantivy::Result<Vec<DocId>> {
    let index = segment.inverted_index(bucket.field())?;
    let Some(mut postings) = index.read_postings(bucket, IndexRecordOption::Basic)? else {
        return Ok(Vec::new());
    };
    let Some(column) = segment.fast_fields().column_opt::<u64>(column)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut doc = postings.doc();
    while doc != TERMINATED {
        if column.values_for_doc(doc).any(|v| v == hash) {
            out.push(doc);
        }
        doc = postings.advance();
    }
    Ok(out)
}

/// The documents with a hash ([`matching_docs`]), scored like a term query on the key.
#[derive(Debug, Clone)]
pub struct ExactQuery {
    bucket: Term,
    column: &'static str,
    hash: u64,
}

impl ExactQuery {
    /// The documents with `hash` in the fast field `column`, looked up through `bucket` (the
    /// term of its bucket).
    pub fn new(bucket: Term, column: &'static str, hash: u64) -> ExactQuery {
        ExactQuery {
            bucket,
            column,
            hash,
        }
    }

    /// [`matching_docs`] of this query in `segment`, kept for the segment's next searches.
    fn docs(&self, segment: &SegmentReader) -> tantivy::Result<Arc<[DocId]>> {
        MATCHES.get_or_try_insert(
            segment.segment_id(),
            (self.bucket.field(), self.column, self.hash),
            || Ok(matching_docs(segment, &self.bucket, self.column, self.hash)?.into()),
        )
    }
}

impl Query for ExactQuery {
    fn weight(&self, enable_scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let bm25 = match enable_scoring {
            EnableScoring::Enabled {
                searcher,
                statistics_provider,
            } => {
                let field = self.bucket.field();
                let mut doc_freq = 0u64;
                for segment in searcher.segment_readers() {
                    doc_freq += self.docs(segment)?.len() as u64;
                }
                let docs = statistics_provider.total_num_docs()?;
                let tokens = statistics_provider.total_num_tokens(field)?;
                Some(Bm25Weight::for_one_term(
                    doc_freq,
                    docs,
                    tokens as Score / docs as Score,
                ))
            }
            EnableScoring::Disabled { .. } => None,
        };
        Ok(Box::new(ExactWeight {
            query: self.clone(),
            bm25,
        }))
    }
}

struct ExactWeight {
    query: ExactQuery,
    /// `None` when scoring is off.
    bm25: Option<Bm25Weight>,
}

impl ExactWeight {
    fn exact_scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<ExactScorer> {
        let q = &self.query;
        let docs = q.docs(reader)?;
        let fieldnorms = match self.bm25 {
            Some(_) => reader.fieldnorms_readers().get_field(q.bucket.field())?,
            None => None,
        }
        .unwrap_or_else(|| FieldNormReader::constant(reader.max_doc(), 1));
        Ok(ExactScorer {
            docs,
            at: 0,
            fieldnorms,
            bm25: self.bm25.as_ref().map(|w| w.boost_by(boost)),
        })
    }
}

impl Weight for ExactWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let scorer = self.exact_scorer(reader, boost)?;
        if scorer.docs.is_empty() {
            return Ok(Box::new(EmptyScorer));
        }
        Ok(Box::new(scorer))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.exact_scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document #{doc} does not match"
            )));
        }
        let fieldnorm_id = scorer.fieldnorms.fieldnorm_id(doc);
        let mut explanation = match &scorer.bm25 {
            Some(bm25) => bm25.explain(fieldnorm_id, 1),
            None => Explanation::new("<no score>", 1.0),
        };
        explanation.add_context(format!(
            "Exact hash {:016x} in {:?}",
            self.query.hash, self.query.bucket
        ));
        Ok(explanation)
    }
}

struct ExactScorer {
    docs: Arc<[DocId]>,
    at: usize,
    fieldnorms: FieldNormReader,
    /// `None` when scoring is off.
    bm25: Option<Bm25Weight>,
}

impl DocSet for ExactScorer {
    fn advance(&mut self) -> DocId {
        self.at = (self.at + 1).min(self.docs.len());
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        self.at += self.docs[self.at..].partition_point(|&d| d < target);
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.at).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        (self.docs.len() - self.at) as u32
    }
}

impl Scorer for ExactScorer {
    fn score(&mut self) -> Score {
        match &self.bm25 {
            // a keyword field records no frequencies: a term occurs once per document
            Some(bm25) => bm25.score(self.fieldnorms.fieldnorm_id(self.doc()), 1),
            None => 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::TermQuery;
    use tantivy::schema::{Schema, FAST, STRING};
    use tantivy::{doc, Index, IndexWriter, TantivyDocument};

    use super::*;

    #[test]
    fn buckets_keep_the_low_bits() {
        let hash = key_hash("en", "human rights");
        assert_ne!(hash, key_hash("fr", "human rights"));
        assert_eq!(bucket(hash, 16).len(), 3);
        assert_eq!(bucket(hash, 12).len(), 2);
        assert_eq!(bucket(hash, 12), bucket(hash ^ (1 << 12), 12));
        assert_ne!(bucket(hash, 12), bucket(hash ^ (1 << 11), 12));
        let all: std::collections::HashSet<String> =
            (0..1u64 << 12).map(|h| bucket(h, 12)).collect();
        assert_eq!(all.len(), 1 << 12);
    }

    /// Exact queries find and score what term queries on the keys themselves do, with keys
    /// sharing buckets and deleted documents.
    #[test]
    fn exact_queries_match_and_score_as_term_queries_on_the_keys() {
        const BITS: u32 = 4;
        let mut b = Schema::builder();
        let id = b.add_text_field("id", STRING);
        let keys = b.add_text_field("keys", STRING);
        let buckets = b.add_text_field("buckets", STRING);
        let hashes = b.add_u64_field("hashes", FAST);
        let index = Index::create_in_ram(b.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        // 16 buckets, 40 keys: keys share buckets; documents have one to four keys
        let words: Vec<String> = (0..40).map(|i| format!("key {i}")).collect();
        let mut docs = 0;
        for round in 0..3 {
            for i in 0..60usize {
                let mut doc = TantivyDocument::new();
                doc.add_text(id, format!("{round}-{i}"));
                let mut seen = Vec::new();
                for k in 0..=(i % 4) {
                    let word = &words[(i * 7 + k * 13 + round) % words.len()];
                    let hash = key_hash("en", word);
                    if seen.contains(&hash) {
                        continue;
                    }
                    seen.push(hash);
                    doc.add_text(keys, word);
                    doc.add_text(buckets, bucket(hash, BITS));
                    doc.add_u64(hashes, hash);
                }
                writer.add_document(doc).unwrap();
                docs += 1;
            }
            writer.commit().unwrap();
        }
        writer.delete_term(Term::from_field_text(id, "1-5"));
        let hash = key_hash("en", "key 3");
        writer
            .add_document(
                doc!(id => "x", keys => "key 3", buckets => bucket(hash, BITS), hashes => hash),
            )
            .unwrap();
        writer.commit().unwrap();
        assert!(docs > 100);
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() > 1);
        let mut shared = HashMap::new();
        for word in &words {
            *shared
                .entry(bucket(key_hash("en", word), BITS))
                .or_insert(0) += 1;
        }
        assert!(shared.values().any(|&n| n > 1), "no keys share a bucket");
        for word in words.iter().chain([&"absent".to_string()]) {
            let hash = key_hash("en", word);
            let exact = ExactQuery::new(
                Term::from_field_text(buckets, &bucket(hash, BITS)),
                "hashes",
                hash,
            );
            let term = TermQuery::new(
                Term::from_field_text(keys, word),
                IndexRecordOption::WithFreqs,
            );
            let top = TopDocs::with_limit(1000).order_by_score();
            let mut want = searcher.search(&term, &top).unwrap();
            let mut got = searcher.search(&exact, &top).unwrap();
            want.sort_by_key(|(_, a)| *a);
            got.sort_by_key(|(_, a)| *a);
            assert_eq!(got, want, "{word}");
            assert_eq!(
                searcher.search(&exact, &Count).unwrap(),
                searcher.search(&term, &Count).unwrap()
            );
            if let Some((_, addr)) = want.first() {
                assert!(exact.explain(&searcher, *addr).is_ok());
            }
        }
    }
}
