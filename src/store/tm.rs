//! The translation memory on tantivy: a second index under `<data_dir>/tm/`, with the same
//! guarantees as the termbase — one writer thread, a change is a closure that commits (with the
//! statistics as the commit payload) and reloads before [`TmStore::write`] returns, a closure
//! returning `Err` leaves nothing behind, and a schema marker with the analysis fingerprint
//! (an index of another schema or analysis is rebuilt from its stored units on open).
//!
//! One document per unit: `key` (`collection \u{1f} id`), `collection`, the unit as JSON, and
//! per variant its text without inline-code placeholders analysed by the `lang` pipeline:
//! `s_<analyser>` (stemmed keys, documents only — no frequencies, no positions: BM25 candidate retrieval and
//! concordance's every-word queries; Chinese: character bigrams in `s_zh_bigram`), and a 64-bit
//! hash of the language and the [`exact_key`] ([`exact_hash`]) twice: its low 16 bits as a term of
//! `exact` (one of 65,536 buckets) and the whole hash as a value of the fast field `exact_hash`.
//! [`exact_docs`] reads a bucket's postings and keeps the documents whose fast field holds the
//! hash: exact and case-only matches, and duplicates (same languages, same texts: the units with
//! the exact hash of the first variant whose [`unit_content_id`] is the same). So `key` is the
//! only term a unit adds that no other unit has: a term per variant, and one per unit for the
//! content, made the in-memory term table and the term dictionaries of a bulk import eight times
//! larger (TM schema 3 and before).
//!
//! A unit's document is built by [`PreparedUnit::new`], which any thread may run (a bulk import
//! prepares units on every core while the writer thread stores them in order); the texts are
//! tokenized by the `lang` pipeline's tokenizers ([`register_tokenizers`], the termbase's too) on
//! tantivy's indexing threads.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock, RwLock};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use tantivy::collector::DocSetCollector;
use tantivy::query::{AllQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, Value, FAST, STORED, STRING};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use super::exact::{bucket, key_hash, matching_docs};
use super::schema::text_options;
use super::{
    analysis_fingerprint, create_index, find_doc, io_err, read_marker, write_marker_version,
    OpenMode, StoreError,
};
use crate::formats::tmx::{strip_codes, unit_content_id};
use crate::lang::{exact_key, register_tokenizers, tokenizer_name, Analysis, Lang, LangTag};
use crate::model::TranslationUnit;

/// Version of the TM schema; bump it when the fields or what they hold change. 2: the text
/// fields without positions (nothing reads them), no `langs` field (nothing queried it). 3: the
/// `exact` hashes in 11 characters, no `content` term for units whose id is their content id.
/// 4: `exact` holds 16-bit buckets and the fast field `exact_hash` the whole hashes; no
/// `content` field (duplicates are found through the exact hash). 5: the text fields without
/// term frequencies (documents only).
pub const TM_SCHEMA_VERSION: u32 = 5;
/// Name of the fast field of the exact hashes.
const EXACT_HASH: &str = "exact_hash";
/// Name of the TM index directory inside the data directory.
const TM_DIR: &str = "tm";
/// Memory budget of the TM index writer.
const WRITER_MEMORY: usize = 200_000_000;

/// Handles of every field of the TM index.
#[derive(Debug, Clone)]
pub struct TmFields {
    /// `collection \u{1f} id`: the document's unique key.
    pub key: Field,
    /// Collection name.
    pub collection: Field,
    /// The whole unit as JSON.
    pub json: Field,
    /// Variant texts per analyser (stemmed keys, documents only), in [`Lang::ALL`] order; Chinese text
    /// goes to `zh_bigrams` only.
    pub text: [Field; 7],
    /// Chinese character bigrams.
    pub zh_bigrams: Field,
    /// The bucket of each variant's [`exact_hash`] ([`exact_bucket`]).
    pub exact: Field,
    /// Each variant's [`exact_hash`] (a fast field, not indexed).
    pub exact_hash: Field,
}

impl TmFields {
    /// The field a language's text is searched in.
    pub fn text_field(&self, lang: Lang) -> Field {
        if lang == Lang::Zh {
            return self.zh_bigrams;
        }
        let i = Lang::ALL.iter().position(|l| *l == lang).unwrap_or(6);
        self.text[i]
    }
}

fn build_schema() -> (Schema, TmFields) {
    let mut b = Schema::builder();
    let key = b.add_text_field("key", STRING);
    let collection = b.add_text_field("collection", STRING);
    let json = b.add_text_field("json", STORED);
    let text = Lang::ALL.map(|lang| {
        b.add_text_field(
            &format!("s_{}", lang.code()),
            text_options(
                &tokenizer_name(lang, Analysis::Words),
                IndexRecordOption::Basic,
            ),
        )
    });
    let zh_bigrams = b.add_text_field(
        "s_zh_bigram",
        text_options(
            &tokenizer_name(Lang::Zh, Analysis::Bigrams),
            IndexRecordOption::Basic,
        ),
    );
    let exact = b.add_text_field("exact", STRING);
    let exact_hash = b.add_u64_field(EXACT_HASH, FAST);
    let fields = TmFields {
        key,
        collection,
        json,
        text,
        zh_bigrams,
        exact,
        exact_hash,
    };
    (b.build(), fields)
}

/// The unique key of a unit in the index.
pub fn unit_key(collection: &str, id: &str) -> String {
    format!("{collection}\u{1f}{id}")
}

/// The exact hash of a text in a language: its [`exact_key`] (case-folded, whitespace
/// collapsed, codes removed) and the language, hashed to 64 bits. Lookups take the units with
/// the hash only as candidates and score each against the query, and duplicates are checked by
/// their content id, so a collision cannot give a wrong answer. The hash is part of the schema:
/// changing it needs a [`TM_SCHEMA_VERSION`] bump.
pub fn exact_hash(primary: &str, text: &str) -> u64 {
    key_hash(primary, &exact_key(&strip_codes(text)))
}

/// The `exact` term of an [`exact_hash`]: its low 16 bits in three characters. Every segment
/// holds at most 65,536 of them, however many units it has.
pub fn exact_bucket(hash: u64) -> String {
    bucket(hash, 16)
}

/// The committed documents of `collections` (all when empty) with a variant of exact hash
/// `hash`, in index order: the postings of its bucket, kept where the fast field holds the
/// whole hash and the `collection` postings hold the document.
pub fn exact_docs(
    searcher: &Searcher,
    fields: &TmFields,
    hash: u64,
    collections: &[String],
) -> Result<Vec<tantivy::DocAddress>, StoreError> {
    use tantivy::DocSet;
    let term = Term::from_field_text(fields.exact, &exact_bucket(hash));
    let mut out = Vec::new();
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let docs = matching_docs(segment, &term, EXACT_HASH, hash)?;
        if docs.is_empty() {
            continue;
        }
        // the collections' postings, advanced along with the documents (both in doc order)
        let mut wanted = Vec::with_capacity(collections.len());
        if !collections.is_empty() {
            let index = segment.inverted_index(fields.collection)?;
            for name in collections {
                let term = Term::from_field_text(fields.collection, name);
                if let Some(p) = index
                    .read_postings(&term, IndexRecordOption::Basic)
                    .map_err(tantivy::TantivyError::from)?
                {
                    wanted.push(p);
                }
            }
            if wanted.is_empty() {
                continue;
            }
        }
        for doc in docs {
            if segment
                .alive_bitset()
                .is_none_or(|alive| alive.is_alive(doc))
                && (collections.is_empty() || wanted.iter_mut().any(|p| p.seek(doc) == doc))
            {
                out.push(tantivy::DocAddress::new(ord as u32, doc));
            }
        }
    }
    Ok(out)
}

/// The analyser and primary subtag of a variant key (`en-GB` → English, `en`).
pub fn variant_lang(key: &str) -> (Lang, String) {
    match LangTag::parse(key) {
        Ok(tag) => (tag.lang, tag.primary),
        Err(_) => (Lang::Other, key.to_ascii_lowercase()),
    }
}

/// A unit with its document built and its keys worked out, ready for [`TmTxn::put_prepared`].
/// Preparing is most of the cost of storing a unit, and needs no writer: a bulk import prepares
/// units on several threads.
pub struct PreparedUnit {
    unit: TranslationUnit,
    key: String,
    /// Primary subtags of the variants, each once.
    langs: Vec<String>,
    doc: TantivyDocument,
    /// The committed unit with the same key, once looked up ([`TmSnapshot::prepare`]).
    replaces: Option<Option<TranslationUnit>>,
}

impl PreparedUnit {
    /// Builds the document of `unit` (normalised, collection set).
    pub fn new(fields: &TmFields, unit: TranslationUnit) -> PreparedUnit {
        let key = unit_key(&unit.collection, &unit.id);
        let mut doc = TantivyDocument::new();
        doc.add_text(fields.key, &key);
        doc.add_text(fields.collection, &unit.collection);
        doc.add_text(
            fields.json,
            serde_json::to_string(&unit).expect("a unit always serialises"),
        );
        let mut langs: Vec<String> = Vec::with_capacity(unit.variants.len());
        let mut hashes: Vec<u64> = Vec::with_capacity(unit.variants.len());
        for (key, text) in &unit.variants {
            let (lang, primary) = variant_lang(key);
            doc.add_text(fields.text_field(lang), strip_codes(text));
            let hash = exact_hash(&primary, text);
            if !hashes.contains(&hash) {
                hashes.push(hash);
                doc.add_text(fields.exact, exact_bucket(hash));
                doc.add_u64(fields.exact_hash, hash);
            }
            if !langs.contains(&primary) {
                langs.push(primary);
            }
        }
        PreparedUnit {
            unit,
            key,
            langs,
            doc,
            replaces: None,
        }
    }

    /// The unit.
    pub fn unit(&self) -> &TranslationUnit {
        &self.unit
    }

    /// The unit, given back.
    pub fn into_unit(self) -> TranslationUnit {
        self.unit
    }
}

/// Unit counts of one collection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmCollectionStats {
    /// Units.
    pub units: u64,
    /// Units per language (primary subtag) they have a variant in.
    pub languages: BTreeMap<String, u64>,
}

/// Unit counts of every collection; the TM index's commit payload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmStats {
    /// By collection name.
    pub collections: BTreeMap<String, TmCollectionStats>,
}

impl TmStats {
    fn langs(unit: &TranslationUnit) -> HashSet<String> {
        unit.variants.keys().map(|k| variant_lang(k).1).collect()
    }

    fn add(&mut self, unit: &TranslationUnit) {
        let langs: Vec<String> = Self::langs(unit).into_iter().collect();
        self.add_counts(&unit.collection, &langs);
    }

    /// Counts one unit of `collection` with variants in `langs` (each once).
    fn add_counts(&mut self, collection: &str, langs: &[String]) {
        if !self.collections.contains_key(collection) {
            self.collections
                .insert(collection.to_string(), TmCollectionStats::default());
        }
        let c = self
            .collections
            .get_mut(collection)
            .expect("inserted above");
        c.units += 1;
        for lang in langs {
            match c.languages.get_mut(lang) {
                Some(n) => *n += 1,
                None => {
                    c.languages.insert(lang.clone(), 1);
                }
            }
        }
    }

    fn remove(&mut self, unit: &TranslationUnit) {
        let Some(c) = self.collections.get_mut(&unit.collection) else {
            return;
        };
        c.units = c.units.saturating_sub(1);
        for lang in Self::langs(unit) {
            if let Some(n) = c.languages.get_mut(&lang) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    c.languages.remove(&lang);
                }
            }
        }
        if c.units == 0 {
            self.collections.remove(&unit.collection);
        }
    }

    /// The sum over `collections` (all when empty).
    pub fn total(&self, collections: &[String]) -> TmCollectionStats {
        let mut sum = TmCollectionStats::default();
        for (name, c) in &self.collections {
            if collections.is_empty() || collections.contains(name) {
                sum.units += c.units;
                for (lang, n) in &c.languages {
                    *sum.languages.entry(lang.clone()).or_default() += n;
                }
            }
        }
        sum
    }
}

type Job = Box<dyn FnOnce(&mut WriterState) + Send>;

struct Shared {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: TmFields,
    stats: RwLock<TmStats>,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

struct WriterState {
    writer: IndexWriter,
    reader: IndexReader,
    fields: TmFields,
    stats: TmStats,
}

/// The translation memory: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct TmStore {
    shared: Arc<Shared>,
}

impl TmStore {
    /// Opens (creating if needed) the translation memory in `data_dir/tm`.
    pub fn open(data_dir: &Path, mode: OpenMode) -> Result<TmStore, StoreError> {
        let dir = data_dir.join(TM_DIR);
        let staging = data_dir.join(format!("{TM_DIR}.rebuild"));
        std::fs::create_dir_all(data_dir).map_err(io_err(data_dir))?;
        if !dir.exists() && staging.join("meta.json").exists() {
            std::fs::rename(&staging, &dir).map_err(io_err(&dir))?;
        }
        let (schema, fields) = build_schema();
        let index = if dir.join("meta.json").exists() {
            let (version, analysis) = read_marker(&dir)?;
            if version > TM_SCHEMA_VERSION {
                return Err(StoreError::Rejected(format!(
                    "the translation memory in {} was written by a newer hexaglot (schema {version}, this build reads up to {TM_SCHEMA_VERSION}): upgrade hexaglot",
                    dir.display()
                )));
            }
            if version < TM_SCHEMA_VERSION || analysis != analysis_fingerprint() {
                if mode == OpenMode::ReadOnly {
                    return Err(StoreError::Rejected(format!(
                        "the translation memory in {} must be rebuilt for this version: start `hexaglot serve` (or any writing command) on it once",
                        dir.display()
                    )));
                }
                rebuild(&dir, &staging)?;
            }
            Index::open_in_dir(&dir)?
        } else {
            std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
            if std::fs::read_dir(&dir)
                .map_err(io_err(&dir))?
                .next()
                .is_some()
            {
                return Err(StoreError::NotOurs(dir));
            }
            let index = create_index(&dir, schema)?;
            write_marker_version(&dir, TM_SCHEMA_VERSION)?;
            index
        };
        register_tokenizers(index.tokenizers());
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(match mode {
                OpenMode::ReadWrite => ReloadPolicy::Manual,
                OpenMode::ReadOnly => ReloadPolicy::OnCommitWithDelay,
            })
            .try_into()?;
        let stats = read_stats(&index)?;
        let shared = Arc::new(Shared {
            dir: dir.clone(),
            index: index.clone(),
            reader: reader.clone(),
            fields: fields.clone(),
            stats: RwLock::new(stats.clone()),
            jobs: Mutex::new(None),
            thread: Mutex::new(None),
        });
        if mode == OpenMode::ReadWrite {
            let writer: IndexWriter = index.writer(WRITER_MEMORY).map_err(|e| match e {
                tantivy::TantivyError::LockFailure(..) => StoreError::Locked(dir.clone()),
                other => StoreError::Index(other),
            })?;
            let (tx, rx) = mpsc::channel::<Job>();
            let mut state = WriterState {
                writer,
                reader,
                fields,
                stats,
            };
            let handle = std::thread::Builder::new()
                .name("tm-writer".into())
                .spawn(move || {
                    crate::priority::lower_this_thread();
                    for job in rx {
                        job(&mut state);
                    }
                    let _ = state.writer.wait_merging_threads();
                })
                .map_err(io_err(&dir))?;
            *shared.jobs.lock().expect("jobs lock") = Some(tx);
            *shared.thread.lock().expect("thread lock") = Some(handle);
        }
        Ok(TmStore { shared })
    }

    /// The index directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Field handles, for queries.
    pub fn fields(&self) -> &TmFields {
        &self.shared.fields
    }

    /// A searcher on the last commit.
    pub fn searcher(&self) -> Searcher {
        self.shared.reader.searcher()
    }

    /// Unit counts as of the last commit.
    pub fn stats(&self) -> TmStats {
        self.shared.stats.read().expect("stats lock").clone()
    }

    /// Reloads a read-only store's view (read-write stores are always current).
    pub fn refresh(&self) -> Result<(), StoreError> {
        if self.shared.jobs.lock().expect("jobs lock").is_none() {
            self.shared.reader.reload()?;
            *self.shared.stats.write().expect("stats lock") = read_stats(&self.shared.index)?;
        }
        Ok(())
    }

    /// The unit `id` of `collection`, if any.
    pub fn get(&self, collection: &str, id: &str) -> Result<Option<TranslationUnit>, StoreError> {
        get_unit(&self.searcher(), &self.shared.fields, collection, id)
    }

    /// Calls `f` with every unit of `collections` (all when empty), straight from the doc store.
    pub fn for_each_unit<E>(
        &self,
        collections: &[String],
        mut f: impl FnMut(TranslationUnit) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<StoreError>,
    {
        let searcher = self.searcher();
        for segment in searcher.segment_readers() {
            let store = segment
                .get_store_reader(16)
                .map_err(|e| StoreError::Index(e.into()))?;
            for doc_id in segment.doc_ids_alive() {
                let doc: TantivyDocument = store.get(doc_id).map_err(StoreError::Index)?;
                let unit = parse_unit(&doc, &self.shared.fields, &format!("doc {doc_id}"))?;
                if collections.is_empty() || collections.contains(&unit.collection) {
                    f(unit)?;
                }
            }
        }
        Ok(())
    }

    /// Runs `change` on the writer thread; commits and reloads when it returns `Ok`, discards
    /// everything it did when it returns `Err`.
    pub fn write<T, F>(&self, change: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut TmTxn) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply_tx, reply_rx) = mpsc::channel();
        let job: Job = Box::new(move |state: &mut WriterState| {
            let _ = reply_tx.send(run_txn(state, change));
        });
        {
            let jobs = self.shared.jobs.lock().expect("jobs lock");
            let sender = jobs.as_ref().ok_or(StoreError::ReadOnly)?;
            sender.send(job).map_err(|_| StoreError::WriterGone)?;
        }
        let (result, stats) = reply_rx.recv().map_err(|_| StoreError::WriterGone)??;
        if let Some(stats) = stats {
            *self.shared.stats.write().expect("stats lock") = stats;
        }
        Ok(result)
    }

    /// Stops the writer thread after the jobs already queued; later writes fail.
    pub fn close(&self) {
        self.shared.jobs.lock().expect("jobs lock").take();
        if let Some(handle) = self.shared.thread.lock().expect("thread lock").take() {
            let _ = handle.join();
        }
    }
}

type TxnOutcome<T> = Result<(T, Option<TmStats>), StoreError>;

fn run_txn<T, F>(state: &mut WriterState, change: F) -> TxnOutcome<T>
where
    F: FnOnce(&mut TmTxn) -> Result<T, StoreError>,
{
    let mut txn = TmTxn {
        searcher: state.reader.searcher(),
        fields: &state.fields,
        writer: &mut state.writer,
        stats: state.stats.clone(),
        touched: HashSet::new(),
        changed: false,
    };
    let result = change(&mut txn);
    let (changed, stats) = (txn.changed, txn.stats);
    match result {
        Ok(value) if changed => {
            let committed = (|| -> Result<(), StoreError> {
                let mut prepared = state.writer.prepare_commit()?;
                prepared.set_payload(&serde_json::to_string(&stats).expect("stats serialise"));
                prepared.commit()?;
                state.reader.reload()?;
                Ok(())
            })();
            match committed {
                Ok(()) => {
                    state.stats = stats.clone();
                    Ok((value, Some(stats)))
                }
                Err(e) => {
                    let _ = state.writer.rollback();
                    Err(e)
                }
            }
        }
        Ok(value) => Ok((value, None)),
        Err(e) => {
            if changed {
                state.writer.rollback()?;
            }
            Err(e)
        }
    }
}

/// A TM write transaction. Reads see the last commit; a unit is written at most once per
/// transaction (what imports and the API guarantee by removing duplicates first).
pub struct TmTxn<'a> {
    searcher: Searcher,
    fields: &'a TmFields,
    writer: &'a mut IndexWriter,
    stats: TmStats,
    /// Keys written or deleted in this transaction.
    touched: HashSet<String>,
    changed: bool,
}

/// The last commit as a transaction sees it, for threads that prepare units beside the writer
/// thread (cheap to clone; `Sync`).
#[derive(Clone)]
pub struct TmSnapshot {
    searcher: Searcher,
    fields: TmFields,
    prefilter: Arc<Prefilter>,
}

/// What the committed units hold, as filters a bulk import asks before it looks a unit up in
/// the index: most units of a large import are new, and a filter's "not there" spares the
/// lookups (a term in each segment's dictionary, a bucket's postings and fast-field values).
/// Built once a snapshot has made enough duplicate lookups to pay for reading every committed
/// unit's hashes and keys: [`MIN_LOOKUPS`], and one for every [`UNITS_PER_LOOKUP`] units.
struct Prefilter {
    lookups: AtomicU64,
    from: u64,
    built: OnceLock<Option<Committed>>,
}

/// Duplicate lookups a snapshot makes in the index before it builds its [`Prefilter`].
const MIN_LOOKUPS: u64 = 1_000;
/// Committed units a duplicate lookup must stand for before the [`Prefilter`] is built.
const UNITS_PER_LOOKUP: u64 = 50;

/// The filters of a [`Prefilter`].
struct Committed {
    /// Every committed [`exact_hash`] (deleted units' too).
    exact: HashFilter,
    /// The [`key_hash`] of every committed `key` (deleted units' too).
    keys: HashFilter,
}

/// A set of 64-bit hashes that may say "perhaps" of a hash it does not hold (under one in 100
/// at 16 bits a hash) but never "no" of one it holds: a blocked Bloom filter, three bits of one
/// word a hash, taken from the hash's own bits (the hashes are uniform).
struct HashFilter {
    words: Vec<u64>,
    mask: u64,
}

impl HashFilter {
    fn with_capacity(hashes: usize) -> HashFilter {
        let words = (hashes / 4).next_power_of_two().max(64);
        HashFilter {
            words: vec![0; words],
            mask: words as u64 - 1,
        }
    }

    fn place(&self, hash: u64) -> (usize, u64) {
        let bits = 1u64 << (hash & 63) | 1u64 << ((hash >> 6) & 63) | 1u64 << ((hash >> 12) & 63);
        (((hash >> 32) & self.mask) as usize, bits)
    }

    fn insert(&mut self, hash: u64) {
        let (word, bits) = self.place(hash);
        self.words[word] |= bits;
    }

    fn may_hold(&self, hash: u64) -> bool {
        let (word, bits) = self.place(hash);
        self.words[word] & bits == bits
    }
}

/// The hash a [`HashFilter`] of keys holds for a unit key.
fn unit_key_hash(key: &str) -> u64 {
    key_hash("", key)
}

impl Committed {
    /// Reads every committed unit's exact hashes and key.
    fn read(searcher: &Searcher, fields: &TmFields) -> Result<Committed, StoreError> {
        let mut values = 0usize;
        let mut columns = Vec::new();
        for segment in searcher.segment_readers() {
            if let Some(column) = segment.fast_fields().column_opt::<u64>(EXACT_HASH)? {
                values += column.values.num_vals() as usize;
                columns.push(column);
            }
        }
        let mut exact = HashFilter::with_capacity(values);
        let mut buffer = vec![0u64; 4096];
        for column in &columns {
            let n = u64::from(column.values.num_vals());
            let mut start = 0u64;
            while start < n {
                let len = (n - start).min(buffer.len() as u64) as usize;
                column.values.get_range(start, &mut buffer[..len]);
                for &hash in &buffer[..len] {
                    exact.insert(hash);
                }
                start += len as u64;
            }
        }
        let docs: u64 = searcher
            .segment_readers()
            .iter()
            .map(|s| u64::from(s.max_doc()))
            .sum();
        let mut keys = HashFilter::with_capacity(docs as usize);
        for segment in searcher.segment_readers() {
            let index = segment.inverted_index(fields.key)?;
            let mut terms = index
                .terms()
                .stream()
                .map_err(tantivy::TantivyError::from)?;
            while terms.advance() {
                let key = std::str::from_utf8(terms.key())
                    .map_err(|e| StoreError::Corrupt("the TM's keys".into(), e.to_string()))?;
                keys.insert(unit_key_hash(key));
            }
        }
        Ok(Committed { exact, keys })
    }
}

impl TmSnapshot {
    /// The committed unit `id` of `collection`, if any.
    pub fn get(&self, collection: &str, id: &str) -> Result<Option<TranslationUnit>, StoreError> {
        get_unit(&self.searcher, &self.fields, collection, id)
    }

    /// The id of a committed unit of `unit`'s collection with the same texts, whose
    /// [`unit_content_id`] is `content_id` (that of `unit`).
    pub fn duplicate_of(
        &self,
        unit: &TranslationUnit,
        content_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let Some(hash) = first_exact_hash(unit) else {
            return Ok(None);
        };
        if let Some(committed) = self.committed() {
            if !committed.exact.may_hold(hash) {
                return Ok(None);
            }
        }
        find_by_content(&self.searcher, &self.fields, unit, hash, content_id)
    }

    /// The [`Prefilter`]'s filters, once this lookup is one past its threshold (built by the
    /// first lookup that gets there; `None` before, or if reading them failed).
    fn committed(&self) -> Option<&Committed> {
        let pre = &self.prefilter;
        if pre.built.get().is_none() && pre.lookups.fetch_add(1, Ordering::Relaxed) < pre.from {
            return None;
        }
        pre.built
            .get_or_init(|| match Committed::read(&self.searcher, &self.fields) {
                Ok(committed) => Some(committed),
                Err(e) => {
                    tracing::warn!(error = %e, "the TM's import filters could not be read");
                    None
                }
            })
            .as_ref()
    }

    /// [`PreparedUnit::new`], and the committed unit it will replace looked up too.
    pub fn prepare(&self, unit: TranslationUnit) -> Result<PreparedUnit, StoreError> {
        let mut prepared = PreparedUnit::new(&self.fields, unit);
        let absent = matches!(
            self.prefilter.built.get(),
            Some(Some(committed)) if !committed.keys.may_hold(unit_key_hash(&prepared.key))
        );
        let replaces = if absent {
            None
        } else {
            self.get(&prepared.unit.collection, &prepared.unit.id)?
        };
        prepared.replaces = Some(replaces);
        Ok(prepared)
    }
}

impl TmTxn<'_> {
    /// The unit as of the last commit.
    pub fn get(&self, collection: &str, id: &str) -> Result<Option<TranslationUnit>, StoreError> {
        get_unit(&self.searcher, self.fields, collection, id)
    }

    /// What this transaction reads, for other threads.
    pub fn snapshot(&self) -> TmSnapshot {
        let units = self.searcher.num_docs();
        TmSnapshot {
            searcher: self.searcher.clone(),
            fields: self.fields.clone(),
            prefilter: Arc::new(Prefilter {
                lookups: AtomicU64::new(0),
                from: MIN_LOOKUPS.max(units / UNITS_PER_LOOKUP),
                built: OnceLock::new(),
            }),
        }
    }

    /// The id of a committed unit of `collection` with the same variants as `unit`, if any.
    pub fn find_duplicate(
        &self,
        collection: &str,
        unit: &TranslationUnit,
    ) -> Result<Option<String>, StoreError> {
        let content_id = unit_content_id(&unit.variants);
        let Some(hash) = first_exact_hash(unit) else {
            return Ok(None);
        };
        if unit.collection == collection {
            return find_by_content(&self.searcher, self.fields, unit, hash, &content_id);
        }
        let mut other = unit.clone();
        other.collection = collection.to_string();
        find_by_content(&self.searcher, self.fields, &other, hash, &content_id)
    }

    /// Stores `unit` (normalised, collection set), replacing the unit with its id.
    pub fn put(&mut self, unit: TranslationUnit) -> Result<(), StoreError> {
        self.put_prepared(PreparedUnit::new(self.fields, unit))
            .map(drop)
    }

    /// Stores a prepared unit, replacing the unit with its id; gives the unit back.
    pub fn put_prepared(&mut self, prepared: PreparedUnit) -> Result<TranslationUnit, StoreError> {
        let PreparedUnit {
            unit,
            key,
            langs,
            doc,
            replaces,
        } = prepared;
        if self.touched.contains(&key) {
            return Err(StoreError::Rejected(format!(
                "unit {:?} is written twice in one change",
                unit.id
            )));
        }
        let replaces = match replaces {
            Some(old) => old,
            None => self.get(&unit.collection, &unit.id)?,
        };
        if let Some(old) = replaces {
            self.stats.remove(&old);
            self.writer
                .delete_term(Term::from_field_text(self.fields.key, &key));
        }
        self.stats.add_counts(&unit.collection, &langs);
        self.writer.add_document(doc)?;
        self.touched.insert(key);
        self.changed = true;
        Ok(unit)
    }

    /// Deletes a unit; returns it if it existed (and was not written in this transaction).
    pub fn delete(
        &mut self,
        collection: &str,
        id: &str,
    ) -> Result<Option<TranslationUnit>, StoreError> {
        let key = unit_key(collection, id);
        if !self.touched.insert(key.clone()) {
            return Ok(None);
        }
        let Some(old) = self.get(collection, id)? else {
            return Ok(None);
        };
        self.stats.remove(&old);
        self.writer
            .delete_term(Term::from_field_text(self.fields.key, &key));
        self.changed = true;
        Ok(Some(old))
    }

    /// The ids of the committed units of a collection.
    pub fn ids_in(&self, collection: &str) -> Result<Vec<String>, StoreError> {
        let query = TermQuery::new(
            Term::from_field_text(self.fields.collection, collection),
            IndexRecordOption::Basic,
        );
        let mut ids = Vec::new();
        for addr in self.searcher.search(&query, &DocSetCollector)? {
            let doc: TantivyDocument = self.searcher.doc(addr)?;
            ids.push(parse_unit(&doc, self.fields, &format!("{addr:?}"))?.id);
        }
        Ok(ids)
    }

    /// Deletes every unit of a collection; returns how many there were.
    pub fn delete_collection(&mut self, collection: &str) -> Result<u64, StoreError> {
        let n = self
            .stats
            .collections
            .get(collection)
            .map_or(0, |c| c.units);
        if n == 0 {
            return Ok(0);
        }
        self.writer
            .delete_term(Term::from_field_text(self.fields.collection, collection));
        self.stats.collections.remove(collection);
        self.changed = true;
        Ok(n)
    }
}

fn parse_unit(
    doc: &TantivyDocument,
    fields: &TmFields,
    at: &str,
) -> Result<TranslationUnit, StoreError> {
    let json = doc
        .get_first(fields.json)
        .and_then(|v| v.as_str())
        .ok_or_else(|| StoreError::Corrupt(at.to_string(), "no json".into()))?;
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(at.to_string(), e.to_string()))
}

/// The stored unit of a document.
pub fn load_unit(
    searcher: &Searcher,
    fields: &TmFields,
    addr: tantivy::DocAddress,
) -> Result<TranslationUnit, StoreError> {
    let doc: TantivyDocument = searcher.doc(addr)?;
    parse_unit(&doc, fields, &format!("{addr:?}"))
}

/// The [`exact_hash`] of a unit's first variant, which every unit with the same texts has.
fn first_exact_hash(unit: &TranslationUnit) -> Option<u64> {
    let (key, text) = unit.variants.iter().next()?;
    Some(exact_hash(&variant_lang(key).1, text))
}

/// The id of the committed unit of `unit.collection` with the same texts as `unit` (whose
/// [`unit_content_id`] is `content_id`), if any: among the units with `hash`, the
/// [`first_exact_hash`] of `unit`, the one whose content id is the same.
fn find_by_content(
    searcher: &Searcher,
    fields: &TmFields,
    unit: &TranslationUnit,
    hash: u64,
    content_id: &str,
) -> Result<Option<String>, StoreError> {
    for addr in exact_docs(
        searcher,
        fields,
        hash,
        std::slice::from_ref(&unit.collection),
    )? {
        let stored = load_unit(searcher, fields, addr)?;
        if stored.collection == unit.collection && unit_content_id(&stored.variants) == content_id {
            return Ok(Some(stored.id));
        }
    }
    Ok(None)
}

fn get_unit(
    searcher: &Searcher,
    fields: &TmFields,
    collection: &str,
    id: &str,
) -> Result<Option<TranslationUnit>, StoreError> {
    let term = Term::from_field_text(fields.key, &unit_key(collection, id));
    match find_doc(searcher, &term)? {
        Some(addr) => Ok(Some(load_unit(searcher, fields, addr)?)),
        None => Ok(None),
    }
}

fn read_stats(index: &Index) -> Result<TmStats, StoreError> {
    let metas = index.load_metas()?;
    Ok(metas
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default())
}

/// Rebuilds a TM index of an older schema or analysis from the units it stores (`json`), beside
/// the old one, then swaps them.
fn rebuild(dir: &Path, staging: &Path) -> Result<(), StoreError> {
    tracing::info!(dir = %dir.display(), "rebuilding the translation memory for schema {TM_SCHEMA_VERSION}");
    let old = Index::open_in_dir(dir)?;
    let old_json = old.schema().get_field("json")?;
    let searcher = old.reader()?.searcher();
    if staging.exists() {
        std::fs::remove_dir_all(staging).map_err(io_err(staging))?;
    }
    std::fs::create_dir_all(staging).map_err(io_err(staging))?;
    let (schema, fields) = build_schema();
    let new = create_index(staging, schema)?;
    register_tokenizers(new.tokenizers());
    let mut writer: IndexWriter = new.writer(WRITER_MEMORY)?;
    let mut stats = TmStats::default();
    for addr in searcher.search(&AllQuery, &DocSetCollector)? {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let Some(json) = doc.get_first(old_json).and_then(|v| v.as_str()) else {
            continue;
        };
        let unit: TranslationUnit = serde_json::from_str(json)
            .map_err(|e| StoreError::Corrupt(format!("{addr:?}"), e.to_string()))?;
        stats.add(&unit);
        writer.add_document(PreparedUnit::new(&fields, unit).doc)?;
    }
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&serde_json::to_string(&stats).expect("stats serialise"));
    prepared.commit()?;
    writer.wait_merging_threads()?;
    write_marker_version(staging, TM_SCHEMA_VERSION)?;
    let retired = dir.with_extension("old");
    if retired.exists() {
        std::fs::remove_dir_all(&retired).map_err(io_err(&retired))?;
    }
    std::fs::rename(dir, &retired).map_err(io_err(dir))?;
    std::fs::rename(staging, dir).map_err(io_err(dir))?;
    std::fs::remove_dir_all(&retired).map_err(io_err(&retired))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{build_schema, exact_bucket, exact_hash, HashFilter};
    use tantivy::schema::{FieldType, IndexRecordOption};

    #[test]
    fn text_fields_index_documents_only() {
        let (schema, fields) = build_schema();
        for field in fields.text.iter().chain([&fields.zh_bigrams]) {
            let FieldType::Str(options) = schema.get_field_entry(*field).field_type() else {
                panic!("{field:?} is not a text field");
            };
            let indexing = options.get_indexing_options().expect("indexed");
            assert_eq!(indexing.index_option(), IndexRecordOption::Basic);
        }
    }

    #[test]
    fn exact_hashes_tell_languages_apart_and_buckets_are_16_bits() {
        let hash = exact_hash("en", "Human rights");
        assert_eq!(hash, exact_hash("en", "  human   RIGHTS "));
        assert_eq!(hash, exact_hash("en", "Human {1}rights{/1}"));
        assert_ne!(hash, exact_hash("fr", "Human rights"));
        assert_ne!(hash, exact_hash("en", "Human right"));
        assert_eq!(exact_bucket(hash).len(), 3);
        assert_eq!(exact_bucket(hash), exact_bucket(hash ^ (1 << 16)));
        assert_ne!(exact_bucket(hash), exact_bucket(hash ^ (1 << 15)));
        let buckets: std::collections::HashSet<String> =
            (0..1u64 << 16).map(exact_bucket).collect();
        assert_eq!(buckets.len(), 1 << 16);
    }

    #[test]
    fn a_hash_filter_holds_what_it_was_given_and_rarely_more() {
        let hashes: Vec<u64> = (0..200_000u64)
            .map(|i| super::key_hash("en", &i.to_string()))
            .collect();
        let mut filter = HashFilter::with_capacity(100_000);
        for &h in &hashes[..100_000] {
            filter.insert(h);
        }
        assert!(hashes[..100_000].iter().all(|&h| filter.may_hold(h)));
        let perhaps = hashes[100_000..]
            .iter()
            .filter(|&&h| filter.may_hold(h))
            .count();
        assert!(perhaps < 1_000, "{perhaps} of 100,000 others said perhaps");
    }
}
