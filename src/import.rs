//! Applying a parsed glossary to a collection: merge or replace, all or nothing, idempotent.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::path::Path;

use serde::Serialize;

use crate::formats::csv::{read_glossary, Delimiter};
use crate::formats::tbx::{read_tbx_each, Position};
use crate::formats::{FormatError, ParsedGlossary, Warning};
use crate::lang::exact_key;
use crate::model::{now_rfc3339, union, Concept, TermStatus};
use crate::store::{Store, StoreError, Txn};

/// How an import treats what the collection already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportMode {
    /// Match concepts by id, else by an identical preferred term in the same language; add missing
    /// terms and fields; drop nothing.
    #[default]
    Merge,
    /// The file becomes the collection: concepts not in the file are removed.
    Replace,
}

impl std::str::FromStr for ImportMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "merge" | "" => Ok(ImportMode::Merge),
            "replace" => Ok(ImportMode::Replace),
            other => Err(format!(
                "unknown import mode {other:?} (expected merge or replace)"
            )),
        }
    }
}

/// File formats the importer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportFormat {
    /// Comma-separated values.
    Csv,
    /// Tab-separated values.
    Tsv,
    /// TBX 2019 (`<tbx>`) or TBX v2 (`<martif>`).
    Tbx,
    /// Excel workbook (Office Open XML), one worksheet read like a CSV file.
    Xlsx,
    /// TMX 1.4b translation memory (goes to the TM, see [`crate::tm::import_tmx`]).
    Tmx,
    /// XLIFF 1.2 or 2.x bilingual file: its translated segments go to the TM as units
    /// ([`crate::formats::xliff::read_xliff_units`]).
    Xliff,
}

impl ImportFormat {
    /// The format's name as used in `?format=`.
    pub fn name(self) -> &'static str {
        match self {
            ImportFormat::Csv => "csv",
            ImportFormat::Tsv => "tsv",
            ImportFormat::Tbx => "tbx",
            ImportFormat::Xlsx => "xlsx",
            ImportFormat::Tmx => "tmx",
            ImportFormat::Xliff => "xliff",
        }
    }

    /// Parses `?format=` values.
    pub fn from_name(name: &str) -> Option<ImportFormat> {
        match name.to_ascii_lowercase().as_str() {
            "csv" => Some(ImportFormat::Csv),
            "tsv" | "tab" => Some(ImportFormat::Tsv),
            "tbx" | "martif" => Some(ImportFormat::Tbx),
            "xlsx" => Some(ImportFormat::Xlsx),
            "tmx" => Some(ImportFormat::Tmx),
            "xliff" | "xlf" | "sdlxliff" | "mqxliff" => Some(ImportFormat::Xliff),
            _ => None,
        }
    }

    /// Guesses the format from a file name's extension.
    pub fn from_path(path: &Path) -> Option<ImportFormat> {
        ImportFormat::from_name(path.extension()?.to_str()?)
    }

    /// Guesses the format from the content: a zip archive (`PK\x03\x04`) means XLSX, a `<tmx` root
    /// TMX, an `<xliff` root XLIFF, a `<tbx` or
    /// `<martif` root TBX; otherwise a tab in the first line means TSV, a comma CSV.
    pub fn sniff(bytes: &[u8]) -> Option<ImportFormat> {
        if bytes.starts_with(b"PK\x03\x04") {
            return Some(ImportFormat::Xlsx);
        }
        let head = &bytes[..bytes.len().min(4096)];
        let text = match encoding_rs::Encoding::for_bom(head) {
            Some((encoding, bom)) => encoding.decode_without_bom_handling(&head[bom..]).0,
            None => String::from_utf8_lossy(head),
        };
        let lower = text.to_ascii_lowercase();
        if lower.contains("<tmx") {
            return Some(ImportFormat::Tmx);
        }
        if lower.contains("<xliff") {
            return Some(ImportFormat::Xliff);
        }
        if lower.contains("<martif") || lower.contains("<tbx") {
            return Some(ImportFormat::Tbx);
        }
        let first = text.lines().next()?;
        if first.contains('\t') {
            Some(ImportFormat::Tsv)
        } else if first.contains(',') {
            Some(ImportFormat::Csv)
        } else {
            None
        }
    }

    /// Reads a glossary of this format (an XLSX file: its first worksheet).
    pub fn read(self, bytes: &[u8], collection: &str) -> Result<ParsedGlossary, FormatError> {
        self.read_with_sheet(bytes, None, collection)
    }

    /// Reads a glossary of this format; `sheet` names the worksheet of an XLSX file (the first
    /// when `None`) and is ignored by the other formats.
    pub fn read_with_sheet(
        self,
        bytes: &[u8],
        sheet: Option<&str>,
        collection: &str,
    ) -> Result<ParsedGlossary, FormatError> {
        match self {
            ImportFormat::Csv => read_glossary(bytes, Delimiter::Comma, collection),
            ImportFormat::Tsv => read_glossary(bytes, Delimiter::Tab, collection),
            ImportFormat::Tbx => crate::formats::tbx::read_tbx(bytes, collection),
            ImportFormat::Xlsx => crate::formats::xlsx::read_xlsx(bytes, sheet, collection),
            ImportFormat::Tmx | ImportFormat::Xliff => Err(FormatError {
                format: self.name(),
                issues: vec![crate::formats::issue(
                    1,
                    1,
                    format!(
                        "a {} file is a translation memory, not a glossary",
                        self.name().to_uppercase()
                    ),
                )],
            }),
        }
    }

    /// True for the formats whose content goes to the translation memory.
    pub fn is_memory(self) -> bool {
        matches!(self, ImportFormat::Tmx | ImportFormat::Xliff)
    }

    /// Reads a translation-memory file of this format (TMX, or XLIFF's translated segments).
    pub fn read_memory(self, bytes: &[u8]) -> Result<crate::formats::tmx::ParsedTmx, FormatError> {
        match self {
            ImportFormat::Xliff => crate::formats::xliff::read_xliff_units(bytes),
            _ => crate::formats::tmx::read_tmx(bytes),
        }
    }
}

/// Options of one import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Target collection.
    pub collection: String,
    /// Merge or replace.
    pub mode: ImportMode,
    /// Report what would change without changing anything.
    pub dry_run: bool,
}

/// Concept counts of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConceptCounts {
    /// New concepts.
    pub added: u64,
    /// Existing concepts that changed.
    pub updated: u64,
    /// Concepts already as the file has them.
    pub unchanged: u64,
    /// Concepts removed (replace mode).
    pub removed: u64,
}

/// Translation-memory unit counts of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnitCounts {
    /// New units.
    pub added: u64,
    /// Units already stored.
    pub duplicates: u64,
}

/// What an import did (or, for a dry run, would do).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Format read.
    pub format: &'static str,
    /// Collection written.
    pub collection: String,
    /// Mode used.
    pub mode: ImportMode,
    /// True when nothing was written.
    pub dry_run: bool,
    /// Concept counts.
    pub concepts: ConceptCounts,
    /// Unit counts.
    pub units: UnitCounts,
    /// Remarks from the reader.
    pub warnings: Vec<Warning>,
}

/// Called as an import goes: concepts handled so far, and concepts in the file (while a TBX file
/// is still being read, an estimate from the share of the file read; the last call gives the
/// exact count twice).
pub type Progress = std::sync::Arc<dyn Fn(u64, u64) + Send + Sync>;

/// How often (in concepts) an import reports progress.
const PROGRESS_EVERY: u64 = 1000;

/// Items (concepts, units) read ahead of the transaction while a file streams into it.
const FEED_DEPTH: usize = 512;
/// Items a file's reader hands over at a time: one hand-over per item would wake the other
/// thread (a system call and a context switch) for each.
const FEED_BATCH: usize = 32;

/// What a file's reader hands the transaction: items, or its verdict at the end.
enum Feed<T> {
    Items(Vec<T>),
    /// `true` when the file is accepted.
    End(bool),
}

/// Streams a file into a transaction: runs `read` on a thread of its own (`name`, at lower
/// priority) while `consume` takes what it reads, as an iterator over a bounded channel — `Ok`
/// per item, then the end when the file is accepted, or an `Err` (and nothing more) when the
/// reader refuses it or stops, so a transaction that takes every item fails and rolls back.
/// `read` hands each item to the function it is given, which says to stop once `consume` has
/// returned. The reader's result comes back beside `consume`'s; its input is freed as it ends.
pub(crate) fn read_alongside<T, R, E, C>(
    name: &str,
    read: impl FnOnce(&mut dyn FnMut(T) -> ControlFlow<()>) -> Result<R, E> + Send,
    consume: impl FnOnce(Box<dyn Iterator<Item = Result<T, StoreError>> + Send>) -> C,
) -> Result<(C, Result<R, E>), StoreError>
where
    T: Send + 'static,
    R: Send,
    E: Send,
{
    let (feed, fed) = std::sync::mpsc::sync_channel::<Feed<T>>(FEED_DEPTH / FEED_BATCH);
    std::thread::scope(|scope| {
        let reader = std::thread::Builder::new()
            .name(name.into())
            .spawn_scoped(scope, move || {
                crate::priority::lower_this_thread();
                let mut batch = Vec::with_capacity(FEED_BATCH);
                let read = read(&mut |item| {
                    batch.push(item);
                    if batch.len() < FEED_BATCH {
                        return ControlFlow::Continue(());
                    }
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(FEED_BATCH));
                    match feed.send(Feed::Items(full)) {
                        Ok(()) => ControlFlow::Continue(()),
                        // the transaction has failed and gone
                        Err(_) => ControlFlow::Break(()),
                    }
                });
                // the last items go only with an accepted file's verdict
                if read.is_ok() && !batch.is_empty() {
                    let _ = feed.send(Feed::Items(batch));
                }
                let _ = feed.send(Feed::End(read.is_ok()));
                read
            })
            .map_err(|source| StoreError::Io {
                path: format!("{name} thread").into(),
                source,
            })?;
        let mut pending = Vec::new().into_iter();
        let items = std::iter::from_fn(move || loop {
            if let Some(item) = pending.next() {
                return Some(Ok(item));
            }
            match fed.recv() {
                Ok(Feed::Items(items)) => pending = items.into_iter(),
                Ok(Feed::End(true)) => return None,
                // refused (the reader's error is the answer) or the reader is gone
                Ok(Feed::End(false)) | Err(_) => {
                    return Some(Err(StoreError::Rejected("the file was refused".into())))
                }
            }
        })
        .fuse();
        let consumed = consume(Box::new(items));
        match reader.join() {
            Ok(read) => Ok((consumed, read)),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Why an import failed; either way nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file was refused.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// Writing failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Imports a file into its collection in one transaction: what `hexaglot import` and
/// `POST /api/v1/import` both do. A TBX file streams into the transaction as it is read (parsing
/// and indexing overlap; the concepts are not all held at once); a problem found later in the
/// file rolls back what was written, so the file is imported whole or not at all. The other
/// formats are read whole first. The file's bytes are freed once read, before the commit.
/// `sheet` names the worksheet of an XLSX file.
pub fn import(
    store: &Store,
    file: Vec<u8>,
    format: ImportFormat,
    sheet: Option<&str>,
    opts: &ImportOptions,
    progress: Option<Progress>,
) -> Result<ImportReport, ImportError> {
    if format == ImportFormat::Tbx {
        return import_tbx(store, file, opts, progress);
    }
    let parsed = format.read_with_sheet(&file, sheet, &opts.collection)?;
    drop(file);
    Ok(apply(store, parsed, format, opts, progress)?)
}

fn import_tbx(
    store: &Store,
    file: Vec<u8>,
    opts: &ImportOptions,
    progress: Option<Progress>,
) -> Result<ImportReport, ImportError> {
    let collection = opts.collection.clone();
    let read = move |send: &mut dyn FnMut((Concept, Position)) -> ControlFlow<()>| {
        read_tbx_each(&file, &collection, |concept, at| send((concept, at)))
    };
    let txn_opts = opts.clone();
    let (written, read) = read_alongside("import-tbx", read, |concepts| {
        store.write(move |txn| {
            let mut planner = Planner::new(txn, &txn_opts, false)?;
            if !txn_opts.dry_run {
                txn.bulk();
            }
            let mut done = 0u64;
            for item in concepts {
                let (concept, at) = item?;
                planner.add(txn, concept)?;
                done += 1;
                if let Some(report) = progress.as_ref() {
                    if done.is_multiple_of(PROGRESS_EVERY) {
                        let estimate =
                            (done as f64 * at.len as f64 / at.offset.max(1) as f64) as u64;
                        report(done, estimate.max(done));
                    }
                }
            }
            if let Some(report) = progress.as_ref() {
                report(done, done);
            }
            planner.finish(txn)
        })
    })?;
    let warnings = read?;
    let counts = written?;
    Ok(report(opts, ImportFormat::Tbx, counts, warnings))
}

/// Applies a parsed glossary to its collection in one transaction, reporting progress if asked.
pub fn apply(
    store: &Store,
    parsed: ParsedGlossary,
    format: ImportFormat,
    opts: &ImportOptions,
    progress: Option<Progress>,
) -> Result<ImportReport, StoreError> {
    let opts_c = opts.clone();
    let ParsedGlossary { concepts, warnings } = parsed;
    let counts = store.write(move |txn| {
        let mut planner = Planner::new(txn, &opts_c, false)?;
        if !opts_c.dry_run {
            txn.bulk();
        }
        planner.add_all(txn, concepts, progress.as_ref())?;
        planner.finish(txn)
    })?;
    Ok(report(opts, format, counts, warnings))
}

/// The report of an import that went through, logged.
fn report(
    opts: &ImportOptions,
    format: ImportFormat,
    counts: ConceptCounts,
    warnings: Vec<Warning>,
) -> ImportReport {
    tracing::info!(
        collection = %opts.collection,
        format = format.name(),
        added = counts.added,
        updated = counts.updated,
        unchanged = counts.unchanged,
        removed = counts.removed,
        dry_run = opts.dry_run,
        "import"
    );
    ImportReport {
        format: format.name(),
        collection: opts.collection.clone(),
        mode: opts.mode,
        dry_run: opts.dry_run,
        concepts: counts,
        units: UnitCounts::default(),
        warnings,
    }
}

/// Works out (and with `write`, applies) the changes of an import inside a transaction. The
/// transaction keeps a copy of each concept written (see [`Txn::put`]), so several imports may
/// share one transaction (seeding).
pub fn plan(
    txn: &mut Txn,
    incoming: Vec<Concept>,
    opts: &ImportOptions,
    write: bool,
    progress: Option<&Progress>,
) -> Result<ConceptCounts, StoreError> {
    let opts = ImportOptions {
        dry_run: !write,
        ..opts.clone()
    };
    let mut planner = Planner::new(txn, &opts, true)?;
    planner.add_all(txn, incoming, progress)?;
    planner.finish(txn)
}

/// The changes of one import, worked out (and unless it is a dry run, written) one incoming
/// concept at a time.
struct Planner<'o> {
    opts: &'o ImportOptions,
    /// Whether the transaction keeps a copy of what is written ([`Txn::put`]) or not
    /// ([`Txn::put_unkept`]).
    keep: bool,
    /// Ids of the collection's concepts before the import.
    existing: HashSet<String>,
    /// Preferred terms of the concepts there before the import: a concept of the file matches
    /// one of them at most once, and never another concept of the same file (the file's own
    /// entries are distinct concepts, homonyms included).
    by_preferred: HashMap<(String, String), Vec<String>>,
    /// Existing concepts an incoming one has matched.
    matched: HashSet<String>,
    /// Existing concepts updated through a match by preferred term, as written: their own entry
    /// may still come later in the file, and is merged into this.
    rewritten: HashMap<String, Concept>,
    now: String,
    counts: ConceptCounts,
}

impl<'o> Planner<'o> {
    fn new(txn: &Txn, opts: &'o ImportOptions, keep: bool) -> Result<Planner<'o>, StoreError> {
        let mut existing = HashSet::new();
        let mut by_preferred: HashMap<(String, String), Vec<String>> = HashMap::new();
        txn.for_each_in(&opts.collection, |c| {
            if opts.mode == ImportMode::Merge {
                index_preferred(&mut by_preferred, &c);
            }
            existing.insert(c.id);
            Ok(())
        })?;
        for ids in by_preferred.values_mut() {
            ids.sort();
        }
        Ok(Planner {
            opts,
            keep,
            existing,
            by_preferred,
            matched: HashSet::new(),
            rewritten: HashMap::new(),
            now: now_rfc3339(),
            counts: ConceptCounts::default(),
        })
    }

    /// Every concept of a file read whole, in order, reporting progress.
    fn add_all(
        &mut self,
        txn: &mut Txn,
        concepts: Vec<Concept>,
        progress: Option<&Progress>,
    ) -> Result<(), StoreError> {
        let total = concepts.len() as u64;
        for (done, concept) in (0u64..).zip(concepts) {
            if let Some(report) = progress {
                if done.is_multiple_of(PROGRESS_EVERY) {
                    report(done, total);
                }
            }
            self.add(txn, concept)?;
        }
        if let Some(report) = progress {
            report(total, total);
        }
        Ok(())
    }

    /// One concept of the file: added, merged into (or in replace mode, replacing) the concept
    /// it matches, or left alone when that one already says the same.
    fn add(&mut self, txn: &mut Txn, mut concept: Concept) -> Result<(), StoreError> {
        concept.collection.clone_from(&self.opts.collection);
        let target = if self.existing.contains(&concept.id) {
            Some(concept.id.clone())
        } else if self.opts.mode == ImportMode::Merge && !self.by_preferred.is_empty() {
            find_by_preferred(&self.by_preferred, &concept, &self.matched)
        } else {
            None
        };
        let by_preferred = target.as_ref().is_some_and(|id| *id != concept.id);
        let old = match target {
            Some(id) => {
                self.matched.insert(id.clone());
                match self.rewritten.remove(&id) {
                    Some(c) => Some(c),
                    None => txn.get(&self.opts.collection, &id)?,
                }
            }
            None => None,
        };
        let next = match &old {
            Some(old) => {
                let merged = match self.opts.mode {
                    ImportMode::Merge => merge(old.clone(), concept),
                    ImportMode::Replace => concept,
                };
                if merged.same_content(old) {
                    self.counts.unchanged += 1;
                    return Ok(());
                }
                self.counts.updated += 1;
                Concept {
                    version: old.version + 1,
                    updated_at: self.now.clone(),
                    ..merged
                }
            }
            None => {
                self.counts.added += 1;
                Concept {
                    version: 1,
                    updated_at: self.now.clone(),
                    ..concept
                }
            }
        };
        if self.opts.dry_run {
            if by_preferred {
                self.rewritten.insert(next.id.clone(), next);
            }
            return Ok(());
        }
        if self.keep {
            return txn.put(next);
        }
        txn.put_unkept(&next, old.as_ref())?;
        if by_preferred {
            self.rewritten.insert(next.id.clone(), next);
        }
        Ok(())
    }

    /// Ends the import: in replace mode, the concepts the file does not have are removed.
    fn finish(mut self, txn: &mut Txn) -> Result<ConceptCounts, StoreError> {
        if self.opts.mode == ImportMode::Replace {
            let mut gone: Vec<&String> = self
                .existing
                .iter()
                .filter(|id| !self.matched.contains(*id))
                .collect();
            gone.sort();
            for id in gone {
                self.counts.removed += 1;
                if !self.opts.dry_run {
                    txn.delete(&self.opts.collection, id)?;
                }
            }
        }
        Ok(self.counts)
    }
}

fn index_preferred(map: &mut HashMap<(String, String), Vec<String>>, c: &Concept) {
    for (lang, term) in c.terms() {
        if term.status == TermStatus::Preferred {
            let ids = map
                .entry((lang.to_string(), exact_key(&term.text)))
                .or_default();
            if !ids.contains(&c.id) {
                ids.push(c.id.clone());
            }
        }
    }
}

/// The first concept (by id) not matched yet that has one of `c`'s preferred terms as a
/// preferred term in the same language.
fn find_by_preferred(
    map: &HashMap<(String, String), Vec<String>>,
    c: &Concept,
    matched: &HashSet<String>,
) -> Option<String> {
    c.terms()
        .filter(|(_, t)| t.status == TermStatus::Preferred)
        .filter_map(|(lang, t)| map.get(&(lang.to_string(), exact_key(&t.text))))
        .flatten()
        .find(|id| !matched.contains(*id))
        .cloned()
}

/// Adds what `incoming` has and `base` lacks; a term both have takes the incoming status and
/// fills its missing fields. Nothing of `base` is dropped.
pub fn merge(mut base: Concept, incoming: Concept) -> Concept {
    for s in incoming.subject {
        if !base.subject.contains(&s) {
            base.subject.push(s);
        }
    }
    if base.note.is_none() {
        base.note = incoming.note;
    }
    union(&mut base.tbx_extra, incoming.tbx_extra);
    for (lang, section) in incoming.languages {
        let target = base.languages.entry(lang).or_default();
        if target.definition.is_none() {
            target.definition = section.definition;
        }
        union(&mut target.tbx_extra, section.tbx_extra);
        for term in section.terms {
            match target.terms.iter_mut().find(|t| t.text == term.text) {
                Some(t) => {
                    t.status = term.status;
                    t.fill_from(term);
                }
                None => target.terms.push(term),
            }
        }
        target.terms.sort_by_key(|t| t.status);
    }
    base
}

/// The sample glossaries compiled into the binary (collection name, TSV text), used when no
/// glossary directory exists: the Convention against Cybercrime events and frequent UN terms.
pub const EMBEDDED_GLOSSARIES: [(&str, &str); 2] = [
    (
        "un-cybercrime-convention",
        include_str!("../glossaries/un-cybercrime-convention.tsv"),
    ),
    (
        "un-general-terms",
        include_str!("../glossaries/un-general-terms.tsv"),
    ),
];

/// Errors while loading the shipped glossaries.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A glossary file is malformed.
    #[error("{path}: {source}")]
    Format {
        /// File concerned.
        path: String,
        /// What is wrong.
        source: FormatError,
    },
    /// Reading a file failed.
    #[error("{path}: {source}")]
    Io {
        /// File concerned.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Writing failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Loads the glossaries of `dir` (each `*.tsv`, `*.csv`, `*.tbx` or `*.xlsx` into the collection
/// named after the file),
/// or the embedded sample when `dir` does not exist, into a store that has never been seeded and
/// holds no concepts. Seeding is one transaction, so it happens once or not at all.
/// Returns the number of concepts loaded.
pub fn seed(store: &Store, dir: Option<&Path>) -> Result<u64, SeedError> {
    let payload = store.payload();
    if payload.seeded || payload.stats.total(&[]).concepts > 0 {
        return Ok(0);
    }
    let mut files: Vec<(String, ImportFormat, Vec<u8>, String)> = Vec::new();
    match dir.filter(|d| d.is_dir()) {
        Some(dir) => {
            let mut paths: Vec<_> = std::fs::read_dir(dir)
                .map_err(|source| SeedError::Io {
                    path: dir.display().to_string(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| ImportFormat::from_path(p).is_some())
                .collect();
            paths.sort();
            for path in paths {
                let bytes = std::fs::read(&path).map_err(|source| SeedError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                let name = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let format = ImportFormat::from_path(&path).expect("filtered on format");
                files.push((name, format, bytes, path.display().to_string()));
            }
        }
        None => {
            for (name, text) in EMBEDDED_GLOSSARIES {
                files.push((
                    name.to_string(),
                    ImportFormat::Tsv,
                    text.as_bytes().to_vec(),
                    format!("(embedded) {name}.tsv"),
                ));
            }
        }
    }
    let mut batches = Vec::new();
    for (collection, format, bytes, path) in files {
        let parsed = format
            .read(&bytes, &collection)
            .map_err(|source| SeedError::Format { path, source })?;
        batches.push((collection, parsed.concepts));
    }
    let added = store.write(move |txn| {
        if txn.seeded() {
            return Ok(0);
        }
        let mut added = 0;
        for (collection, concepts) in batches {
            let opts = ImportOptions {
                collection,
                mode: ImportMode::Merge,
                dry_run: false,
            };
            added += plan(txn, concepts, &opts, true, None)?.added;
        }
        txn.set_seeded();
        Ok(added)
    })?;
    tracing::info!(concepts = added, "loaded the shipped glossaries");
    Ok(added)
}
