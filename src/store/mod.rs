//! The termbase on tantivy: one writer thread, any number of readers, read-your-writes.
//!
//! Every change goes through [`Store::write`]: a closure runs on the writer thread against a
//! [`Txn`]; when it returns `Ok` the changes are committed (with the statistics as the commit
//! payload, so they are crash-consistent with the documents) and the reader is reloaded before
//! `write` returns. When it returns `Err`, nothing of it is kept. A commit is atomic: a crash at any
//! moment leaves the index at the previous or the next commit.

pub mod derived;
mod document;
pub mod exact;
mod merge;
mod schema;
mod stats;
pub mod tm;
mod warm;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, DocSetCollector};
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

pub use document::{
    register_pre_analysed, write_pre_analysed, DocValue, DocValues, InFlight, IndexDoc, Keywords,
    PreAnalysedTokenizer, PRE_ANALYSED,
};
pub use schema::{
    concept_doc, doc_key, exact_term_query, Fields, MatchInfo, TermInfo, TokenKeys, LANG_SEP,
    SCHEMA_VERSION,
};
pub use stats::{CollectionStats, Stats};
pub use warm::WarmFn;

use crate::lang::Lang;
use crate::model::Concept;

/// Name of the termbase index directory inside the data directory.
const TERMBASE_DIR: &str = "termbase";
/// File in the index directory recording the schema version.
const SCHEMA_FILE: &str = "hexaglot-schema.json";
/// Documents of a bulk write ([`Txn::put_unkept`]) waiting for tantivy's indexing threads, at most.
const BULK_IN_FLIGHT: usize = 1000;
/// Memory budget of the index writer.
const WRITER_MEMORY: usize = 100_000_000;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the index writer.
    #[error("the index in {0} is in use by another hexaglot process (a running server?): stop it, or send the change through its API (e.g. `hexaglot import --server URL`)")]
    Locked(PathBuf),
    /// The index was written by a newer version.
    #[error("the index in {dir} was written by a newer hexaglot (schema {found}, this build reads up to {SCHEMA_VERSION}): upgrade hexaglot, or export with the newer version and import here")]
    NewerSchema {
        /// Index directory.
        dir: PathBuf,
        /// Version found.
        found: u32,
    },
    /// The directory holds something that is not a hexaglot index.
    #[error("{0} is not a hexaglot index (no {SCHEMA_FILE}): point --data-dir at an empty or hexaglot directory")]
    NotOurs(PathBuf),
    /// The store was opened read-only.
    #[error("the index was opened read-only")]
    ReadOnly,
    /// A precondition (`If-Match`) failed.
    #[error(
        "version mismatch: the concept is at version {current}, the request expected {expected}"
    )]
    VersionMismatch {
        /// Version stored.
        current: u64,
        /// Version the caller expected.
        expected: u64,
    },
    /// A stored concept could not be read back.
    #[error("stored concept {0} is corrupt: {1}")]
    Corrupt(String, String),
    /// The writer thread is gone.
    #[error("the index writer has stopped")]
    WriterGone,
    /// File system trouble.
    #[error("{path}: {source}")]
    Io {
        /// Path concerned.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Tantivy trouble.
    #[error("index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// A rejected change, with a reason for people (bad input detected inside a transaction).
    #[error("{0}")]
    Rejected(String),
}

/// How to open a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Take the writer (fails with [`StoreError::Locked`] when another process holds it).
    ReadWrite,
    /// Readers only; sees commits made by the process that writes.
    ReadOnly,
}

/// What the commit payload carries besides the documents.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Payload {
    /// Counts per collection.
    #[serde(default)]
    pub stats: Stats,
    /// The shipped glossaries were loaded once; never load them again.
    #[serde(default)]
    pub seeded: bool,
}

type Job = Box<dyn FnOnce(&mut WriterState) + Send>;

struct Shared {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    payload: RwLock<Payload>,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Registered with the reader (which holds it weakly).
    warmer: Arc<warm::WarmerSlot>,
}

/// The termbase: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
}

/// State owned by the writer thread.
struct WriterState {
    writer: IndexWriter<IndexDoc>,
    reader: IndexReader,
    fields: Fields,
    payload: Payload,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Serialize, Deserialize)]
struct SchemaMarker {
    schema_version: u32,
    /// [`analysis_fingerprint`] of the build that wrote the index.
    #[serde(default)]
    analysis: String,
}

/// Sample texts whose analysis fingerprints the `lang` pipeline.
const ANALYSIS_PROBES: &[(Lang, &str)] = &[
    (
        Lang::En,
        "The Secretary-General's reports on cybercrime, Hanoï and l'État",
    ),
    (
        Lang::Fr,
        "L'Assemblée générale, jusqu'à la Convention de Hanoï contre la cybercriminalité",
    ),
    (
        Lang::Es,
        "Convención de las Naciones Unidas contra la ciberdelincuencia, años",
    ),
    (
        Lang::Ru,
        "Генеральной Ассамблеи, киберпреступностью, ёлка и войны",
    ),
    (Lang::Ar, "والأمم المتحدة للجرائم السيبرانيّة ٢٠٢٤ مستوى"),
    (Lang::Zh, "联合国打击网络犯罪公约 ＵＮ２０２４ ０．４％"),
    (Lang::Other, "Straße ΣΊΣΥΦΟΣ"),
];

/// A hash of what the analysis pipeline makes of sample texts. Stored with the index, so an index
/// analysed by another version of the pipeline is rebuilt rather than searched with other keys.
pub fn analysis_fingerprint() -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for (lang, text) in ANALYSIS_PROBES {
        for t in crate::lang::analyze(*lang, text) {
            hash.update(format!("{}|{}|{}|{:?};", t.start, t.norm, t.key, t.alt));
        }
        for t in crate::lang::zh_bigrams(text) {
            hash.update(format!("{};", t.key));
        }
    }
    hex::encode(&hash.finalize()[..8])
}

impl Store {
    /// Opens (creating if needed) the termbase in `data_dir`.
    pub fn open(data_dir: &Path, mode: OpenMode) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(io_err(data_dir))?;
        let dir = data_dir.join(TERMBASE_DIR);
        let staging = data_dir.join(format!("{TERMBASE_DIR}.rebuild"));
        if !dir.exists() && staging.join(SCHEMA_FILE).exists() {
            // a rebuild finished but was cut off before its rename
            std::fs::rename(&staging, &dir).map_err(io_err(&dir))?;
        }
        let (schema, fields) = schema::build_schema();
        let index = if dir.join("meta.json").exists() {
            let (version, analysis) = read_marker(&dir)?;
            if version > SCHEMA_VERSION {
                return Err(StoreError::NewerSchema {
                    dir,
                    found: version,
                });
            }
            if version < SCHEMA_VERSION || analysis != analysis_fingerprint() {
                if mode == OpenMode::ReadOnly {
                    return Err(StoreError::Rejected(format!(
                        "the index in {} was built by another version of hexaglot (schema {version}, analysis {analysis}) and must be rebuilt: start `hexaglot serve` (or any writing command) on it once",
                        dir.display()
                    )));
                }
                rebuild(&dir, &staging)?;
            }
            Index::open_in_dir(&dir)?
        } else {
            if mode == OpenMode::ReadOnly && !dir.exists() {
                std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
            }
            std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
            if std::fs::read_dir(&dir)
                .map_err(io_err(&dir))?
                .next()
                .is_some()
            {
                return Err(StoreError::NotOurs(dir));
            }
            let index = create_index(&dir, schema)?;
            write_marker(&dir)?;
            index
        };
        register_pre_analysed(index.tokenizers());
        let warmer = Arc::new(warm::WarmerSlot::default());
        let weak_warmer: std::sync::Weak<dyn tantivy::Warmer> = Arc::downgrade(&warmer) as _;
        let reader = index
            .reader_builder()
            .warmers(vec![weak_warmer])
            .reload_policy(match mode {
                OpenMode::ReadWrite => ReloadPolicy::Manual,
                OpenMode::ReadOnly => ReloadPolicy::OnCommitWithDelay,
            })
            .try_into()?;
        let payload = read_payload(&index)?;
        let shared = Arc::new(Shared {
            dir: dir.clone(),
            index: index.clone(),
            reader: reader.clone(),
            fields: fields.clone(),
            payload: RwLock::new(payload.clone()),
            jobs: Mutex::new(None),
            thread: Mutex::new(None),
            warmer,
        });
        if mode == OpenMode::ReadWrite {
            let writer: IndexWriter<IndexDoc> =
                index.writer(WRITER_MEMORY).map_err(|e| match e {
                    tantivy::TantivyError::LockFailure(..) => StoreError::Locked(dir.clone()),
                    other => StoreError::Index(other),
                })?;
            writer.set_merge_policy(Box::new(merge::BoundedMergePolicy::default()));
            let (tx, rx) = mpsc::channel::<Job>();
            let mut state = WriterState {
                writer,
                reader,
                fields,
                payload,
            };
            let handle = std::thread::Builder::new()
                .name("index-writer".into())
                .spawn(move || {
                    crate::priority::lower_this_thread();
                    for job in rx {
                        job(&mut state);
                    }
                    // all senders gone: wait for merges so the directory is left tidy
                    let _ = state.writer.wait_merging_threads();
                })
                .map_err(io_err(&dir))?;
            *shared.jobs.lock().expect("jobs lock") = Some(tx);
            *shared.thread.lock().expect("thread lock") = Some(handle);
        }
        Ok(Store { shared })
    }

    /// The index directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Field handles, for queries.
    pub fn fields(&self) -> &Fields {
        &self.shared.fields
    }

    /// A searcher on the last commit.
    pub fn searcher(&self) -> Searcher {
        self.shared.reader.searcher()
    }

    /// Runs `warm` on the searcher of every later commit before readers get it; the write that
    /// made the commit returns after it. Replaces the one set before.
    pub fn set_warmer(&self, warm: WarmFn) {
        self.shared.warmer.set(warm);
    }

    /// Reloads a read-only store's view (read-write stores are always current).
    pub fn refresh(&self) -> Result<(), StoreError> {
        if self.shared.jobs.lock().expect("jobs lock").is_none() {
            self.shared.reader.reload()?;
            *self.shared.payload.write().expect("payload lock") = read_payload(&self.shared.index)?;
        }
        Ok(())
    }

    /// The payload of the last commit (statistics, seeding).
    pub fn payload(&self) -> Payload {
        self.shared.payload.read().expect("payload lock").clone()
    }

    /// The concept `id` of `collection`, if any.
    pub fn get(&self, collection: &str, id: &str) -> Result<Option<Concept>, StoreError> {
        get_concept(&self.searcher(), &self.shared.fields, collection, id)
    }

    /// Every concept of a collection, in no particular order.
    pub fn concepts_in(&self, collection: &str) -> Result<Vec<Concept>, StoreError> {
        concepts_in(&self.searcher(), &self.shared.fields, collection)
    }

    /// Calls `f` with every concept of `collections` (all when empty), segment by segment in
    /// document order, reading the stored concepts directly (no query).
    pub fn for_each_concept<E>(
        &self,
        collections: &[String],
        mut f: impl FnMut(Concept) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<StoreError>,
    {
        let searcher = self.searcher();
        let fields = &self.shared.fields;
        for segment in searcher.segment_readers() {
            let store = segment
                .get_store_reader(16)
                .map_err(|e| StoreError::Index(e.into()))?;
            for doc_id in segment.doc_ids_alive() {
                let doc: TantivyDocument = store.get(doc_id).map_err(StoreError::Index)?;
                let Some(json) = doc.get_first(fields.json).and_then(|v| v.as_str()) else {
                    continue;
                };
                let concept: Concept = serde_json::from_str(json)
                    .map_err(|e| StoreError::Corrupt(format!("doc {doc_id}"), e.to_string()))?;
                if collections.is_empty() || collections.contains(&concept.collection) {
                    f(concept)?;
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
        F: FnOnce(&mut Txn) -> Result<T, StoreError> + Send + 'static,
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
        let (result, payload) = reply_rx.recv().map_err(|_| StoreError::WriterGone)??;
        if let Some(payload) = payload {
            *self.shared.payload.write().expect("payload lock") = payload;
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

type TxnOutcome<T> = Result<(T, Option<Payload>), StoreError>;

fn run_txn<T, F>(state: &mut WriterState, change: F) -> TxnOutcome<T>
where
    F: FnOnce(&mut Txn) -> Result<T, StoreError>,
{
    // counted per transaction: documents a rolled-back transaction left to tantivy never hold
    // up the next one
    let in_flight = Arc::new(InFlight::default());
    let mut txn = Txn {
        searcher: state.reader.searcher(),
        fields: &state.fields,
        writer: &mut state.writer,
        in_flight: &in_flight,
        overlay: HashMap::new(),
        unkept: HashSet::new(),
        payload: state.payload.clone(),
        changed: false,
        bulk: false,
    };
    let result = change(&mut txn);
    let changed = txn.changed;
    let payload = txn.payload;
    if txn.bulk {
        // the commit considers merges again, of everything the transaction wrote
        state
            .writer
            .set_merge_policy(Box::new(merge::BoundedMergePolicy::default()));
    }
    match result {
        Ok(value) if changed => {
            let committed = (|| -> Result<(), StoreError> {
                let mut prepared = state.writer.prepare_commit()?;
                prepared.set_payload(&serde_json::to_string(&payload).expect("payload serialises"));
                prepared.commit()?;
                state.reader.reload()?;
                Ok(())
            })();
            match committed {
                Ok(()) => {
                    state.payload = payload.clone();
                    Ok((value, Some(payload)))
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

/// A write transaction: reads see the transaction's own changes (but for concepts written
/// with [`Txn::put_unkept`], which cannot be read back before the commit).
pub struct Txn<'a> {
    searcher: Searcher,
    fields: &'a Fields,
    writer: &'a mut IndexWriter<IndexDoc>,
    in_flight: &'a Arc<InFlight>,
    overlay: HashMap<(String, String), Option<Concept>>,
    /// Document keys of the concepts written by [`Txn::put_unkept`].
    unkept: HashSet<String>,
    payload: Payload,
    changed: bool,
    /// Set by [`Txn::bulk`].
    bulk: bool,
}

impl Txn<'_> {
    /// Marks the transaction as a bulk write: the segments tantivy flushes while it runs are not
    /// merged before it commits (merging half-written segments would compete with the writing
    /// for the CPU, and a rollback would throw the work away); the commit merges as usual.
    pub fn bulk(&mut self) {
        if !self.bulk {
            self.writer
                .set_merge_policy(Box::new(tantivy::merge_policy::NoMergePolicy));
            self.bulk = true;
        }
    }

    /// The concept as this transaction sees it.
    pub fn get(&self, collection: &str, id: &str) -> Result<Option<Concept>, StoreError> {
        if let Some(c) = self.overlay.get(&(collection.to_string(), id.to_string())) {
            return Ok(c.clone());
        }
        if !self.unkept.is_empty() && self.unkept.contains(&doc_key(collection, id)) {
            return Err(unreadable(collection));
        }
        get_concept(&self.searcher, self.fields, collection, id)
    }

    /// Every concept of a collection as this transaction sees it.
    pub fn concepts_in(&self, collection: &str) -> Result<Vec<Concept>, StoreError> {
        self.check_readable(collection)?;
        let mut by_id: BTreeMap<String, Concept> =
            concepts_in(&self.searcher, self.fields, collection)?
                .into_iter()
                .map(|c| (c.id.clone(), c))
                .collect();
        for ((coll, id), c) in &self.overlay {
            if coll == collection {
                match c {
                    Some(c) => by_id.insert(id.clone(), c.clone()),
                    None => by_id.remove(id),
                };
            }
        }
        Ok(by_id.into_values().collect())
    }

    /// Calls `f` with every concept of a collection as this transaction sees it, one at a time
    /// and in no particular order, keeping none (where [`Txn::concepts_in`] holds them all).
    pub fn for_each_in(
        &self,
        collection: &str,
        mut f: impl FnMut(Concept) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.check_readable(collection)?;
        let query = TermQuery::new(
            Term::from_field_text(self.fields.collection, collection),
            IndexRecordOption::Basic,
        );
        for addr in self.searcher.search(&query, &DocSetCollector)? {
            let concept = load_concept(&self.searcher, self.fields, addr)?;
            if self.overlay.is_empty()
                || !self
                    .overlay
                    .contains_key(&(concept.collection.clone(), concept.id.clone()))
            {
                f(concept)?;
            }
        }
        for ((coll, _), c) in &self.overlay {
            if let (true, Some(c)) = (coll == collection, c) {
                f(c.clone())?;
            }
        }
        Ok(())
    }

    /// Fails when this transaction wrote concepts of `collection` it cannot read back.
    fn check_readable(&self, collection: &str) -> Result<(), StoreError> {
        let prefix = doc_key(collection, "");
        if self.unkept.iter().any(|k| k.starts_with(&prefix)) {
            return Err(unreadable(collection));
        }
        Ok(())
    }

    /// Stores `concept` (already normalised, with its version and time set) in place of `old`,
    /// the concept of the same collection and id as this transaction sees it ([`Txn::get`];
    /// `None` when there is none), without keeping a copy: a bulk import writes each concept
    /// once and does not read it again, so the transaction's memory does not grow with the
    /// file. Reading the concept (or listing its collection) later in the same transaction is
    /// an error.
    pub fn put_unkept(
        &mut self,
        concept: &Concept,
        old: Option<&Concept>,
    ) -> Result<(), StoreError> {
        let key = doc_key(&concept.collection, &concept.id);
        debug_assert!(
            old.is_none_or(|o| o.collection == concept.collection && o.id == concept.id),
            "put_unkept: `old` is another concept"
        );
        if let Some(old) = old {
            self.payload.stats.remove(old);
        }
        self.payload.stats.add(concept);
        let written = self
            .overlay
            .remove(&(concept.collection.clone(), concept.id.clone()))
            .is_some();
        if old.is_some() || written || self.unkept.contains(&key) {
            // a new concept has no document to replace: no delete for tantivy to apply
            self.writer
                .delete_term(Term::from_field_text(self.fields.key, &key));
        }
        let mut doc = schema::concept_doc(self.fields, concept);
        self.in_flight.admit(&mut doc, BULK_IN_FLIGHT);
        self.writer.add_document(doc)?;
        self.unkept.insert(key);
        self.changed = true;
        Ok(())
    }

    /// Stores `concept` (already normalised, with its version and time set), replacing any
    /// concept with the same collection and id.
    pub fn put(&mut self, concept: Concept) -> Result<(), StoreError> {
        let old = self.get(&concept.collection, &concept.id)?;
        if let Some(old) = &old {
            self.payload.stats.remove(old);
        }
        self.payload.stats.add(&concept);
        self.writer.delete_term(Term::from_field_text(
            self.fields.key,
            &doc_key(&concept.collection, &concept.id),
        ));
        self.writer
            .add_document(schema::concept_doc(self.fields, &concept))?;
        self.overlay.insert(
            (concept.collection.clone(), concept.id.clone()),
            Some(concept),
        );
        self.changed = true;
        Ok(())
    }

    /// Deletes a concept; returns it if it existed.
    pub fn delete(&mut self, collection: &str, id: &str) -> Result<Option<Concept>, StoreError> {
        let Some(old) = self.get(collection, id)? else {
            return Ok(None);
        };
        self.payload.stats.remove(&old);
        self.writer.delete_term(Term::from_field_text(
            self.fields.key,
            &doc_key(collection, id),
        ));
        self.overlay
            .insert((collection.to_string(), id.to_string()), None);
        self.changed = true;
        Ok(Some(old))
    }

    /// Deletes every concept of a collection; returns how many there were.
    pub fn delete_collection(&mut self, collection: &str) -> Result<u64, StoreError> {
        let existing = self.concepts_in(collection)?;
        for c in &existing {
            self.delete(&c.collection, &c.id)?;
        }
        self.writer
            .delete_term(Term::from_field_text(self.fields.collection, collection));
        self.payload.stats.collections.remove(collection);
        self.changed = true;
        Ok(existing.len() as u64)
    }

    /// Marks the shipped glossaries as loaded (committed with this transaction).
    pub fn set_seeded(&mut self) {
        self.payload.seeded = true;
        self.changed = true;
    }

    /// Whether the shipped glossaries were loaded.
    pub fn seeded(&self) -> bool {
        self.payload.seeded
    }
}

/// A read of concepts the transaction wrote without keeping them.
fn unreadable(collection: &str) -> StoreError {
    StoreError::Rejected(format!(
        "collection {collection:?}: concepts written earlier in this transaction cannot be read back before it commits"
    ))
}

fn get_concept(
    searcher: &Searcher,
    fields: &Fields,
    collection: &str,
    id: &str,
) -> Result<Option<Concept>, StoreError> {
    let term = Term::from_field_text(fields.key, &doc_key(collection, id));
    match find_doc(searcher, &term)? {
        Some(addr) => Ok(Some(load_concept(searcher, fields, addr)?)),
        None => Ok(None),
    }
}

/// The live document holding a unique `term`, straight from the postings (no collector).
fn find_doc(searcher: &Searcher, term: &Term) -> Result<Option<tantivy::DocAddress>, StoreError> {
    use tantivy::{DocSet, TERMINATED};
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let index = segment.inverted_index(term.field())?;
        let Some(mut postings) = index
            .read_postings(term, IndexRecordOption::Basic)
            .map_err(tantivy::TantivyError::from)?
        else {
            continue;
        };
        let mut doc = postings.doc();
        while doc != TERMINATED {
            if segment
                .alive_bitset()
                .is_none_or(|alive| alive.is_alive(doc))
            {
                return Ok(Some(tantivy::DocAddress::new(ord as u32, doc)));
            }
            doc = postings.advance();
        }
    }
    Ok(None)
}

fn concepts_in(
    searcher: &Searcher,
    fields: &Fields,
    collection: &str,
) -> Result<Vec<Concept>, StoreError> {
    let query = TermQuery::new(
        Term::from_field_text(fields.collection, collection),
        IndexRecordOption::Basic,
    );
    let docs = searcher.search(&query, &DocSetCollector)?;
    docs.into_iter()
        .map(|addr| load_concept(searcher, fields, addr))
        .collect()
}

/// Reads the stored concept of a document.
pub fn load_concept(
    searcher: &Searcher,
    fields: &Fields,
    addr: tantivy::DocAddress,
) -> Result<Concept, StoreError> {
    let doc: TantivyDocument = searcher.doc(addr)?;
    let json = doc
        .get_first(fields.json)
        .and_then(|v| v.as_str())
        .ok_or_else(|| StoreError::Corrupt(format!("{addr:?}"), "no json".into()))?;
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("{addr:?}"), e.to_string()))
}

/// Number of documents a query matches (for tests and stats).
pub fn count(searcher: &Searcher, query: &dyn Query) -> Result<usize, StoreError> {
    Ok(searcher.search(query, &Count)?)
}

/// Document-store block size: search loads a few dozen random documents per query, and a small
/// block is quicker to decompress than tantivy's default 16 KiB.
const DOCSTORE_BLOCK_BYTES: usize = 4096;

fn create_index(dir: &Path, schema: tantivy::schema::Schema) -> Result<Index, StoreError> {
    let settings = tantivy::IndexSettings {
        docstore_blocksize: DOCSTORE_BLOCK_BYTES,
        ..Default::default()
    };
    Ok(Index::builder()
        .schema(schema)
        .settings(settings)
        .create_in_dir(dir)?)
}

fn read_payload(index: &Index) -> Result<Payload, StoreError> {
    let metas = index.load_metas()?;
    Ok(metas
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default())
}

fn read_marker(dir: &Path) -> Result<(u32, String), StoreError> {
    let path = dir.join(SCHEMA_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StoreError::NotOurs(dir.to_path_buf()))
        }
        Err(e) => return Err(io_err(&path)(e)),
    };
    let marker: SchemaMarker = serde_json::from_str(&text)
        .map_err(|e| StoreError::Rejected(format!("{}: {e}", path.display())))?;
    Ok((marker.schema_version, marker.analysis))
}

fn write_marker(dir: &Path) -> Result<(), StoreError> {
    write_marker_version(dir, SCHEMA_VERSION)
}

/// Writes the schema marker of an index of `schema_version` (the translation memory has its own).
fn write_marker_version(dir: &Path, schema_version: u32) -> Result<(), StoreError> {
    let path = dir.join(SCHEMA_FILE);
    let tmp = dir.join(format!("{SCHEMA_FILE}.tmp"));
    let text = serde_json::to_string(&SchemaMarker {
        schema_version,
        analysis: analysis_fingerprint(),
    })
    .expect("marker serialises");
    std::fs::write(&tmp, text).map_err(io_err(&tmp))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
    Ok(())
}

/// Rebuilds an index of an older schema or analysis from the concepts it stores (every version stores the
/// whole concept as JSON in the field `json`). The old index stays in place until the new one is
/// complete, so a crash during the rebuild loses nothing.
fn rebuild(dir: &Path, staging: &Path) -> Result<(), StoreError> {
    tracing::info!(dir = %dir.display(), "rebuilding the index for schema {SCHEMA_VERSION}");
    let old = Index::open_in_dir(dir)?;
    let old_json = old.schema().get_field("json")?;
    let payload = old.load_metas()?.payload;
    let searcher = old.reader()?.searcher();
    if staging.exists() {
        std::fs::remove_dir_all(staging).map_err(io_err(staging))?;
    }
    std::fs::create_dir_all(staging).map_err(io_err(staging))?;
    let (schema, fields) = schema::build_schema();
    let new = create_index(staging, schema)?;
    register_pre_analysed(new.tokenizers());
    let mut writer: IndexWriter<IndexDoc> = new.writer(WRITER_MEMORY)?;
    let mut stats = Stats::default();
    for addr in searcher.search(&AllQuery, &DocSetCollector)? {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let Some(json) = doc.get_first(old_json).and_then(|v| v.as_str()) else {
            continue;
        };
        let concept: Concept = serde_json::from_str(json)
            .map_err(|e| StoreError::Corrupt(format!("{addr:?}"), e.to_string()))?;
        stats.add(&concept);
        writer.add_document(schema::concept_doc(&fields, &concept))?;
    }
    let mut payload: Payload = payload
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default();
    payload.stats = stats;
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&serde_json::to_string(&payload).expect("payload serialises"));
    prepared.commit()?;
    writer.wait_merging_threads()?;
    write_marker(staging)?;
    let retired = dir.with_extension("old");
    if retired.exists() {
        std::fs::remove_dir_all(&retired).map_err(io_err(&retired))?;
    }
    std::fs::rename(dir, &retired).map_err(io_err(dir))?;
    std::fs::rename(staging, dir).map_err(io_err(dir))?;
    std::fs::remove_dir_all(&retired).map_err(io_err(&retired))?;
    Ok(())
}

/// A query matching documents of any of `collections` (all documents when empty).
pub fn collection_filter(fields: &Fields, collections: &[String]) -> Option<Box<dyn Query>> {
    any_term_filter(fields.collection, collections)
}

/// A query matching documents with any of `values` in `field` (`None` when there are none).
pub fn any_term_filter(field: tantivy::schema::Field, values: &[String]) -> Option<Box<dyn Query>> {
    if values.is_empty() {
        return None;
    }
    let should: Vec<(Occur, Box<dyn Query>)> = values
        .iter()
        .map(|c| {
            let q: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(field, c),
                IndexRecordOption::Basic,
            ));
            (Occur::Should, q)
        })
        .collect();
    Some(Box::new(BooleanQuery::new(should)))
}
