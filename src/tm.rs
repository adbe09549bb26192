//! Translation-memory operations that the API and the CLI share: importing a TMX file into a
//! collection (merge, replace, dry run; atomic; duplicates skipped), adding units one by one, and
//! exporting as TMX.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;

use std::ops::ControlFlow;

use crate::export::ExportError;
use crate::formats::tmx::{read_tmx_each, unit_content_id, ParsedTmx, TmxWriter};
use crate::formats::Warning;
use crate::import::{
    read_alongside, ImportError, ImportMode, ImportOptions, ImportReport, Progress, UnitCounts,
};
use crate::lang::{into_nfc, nfc, LangTag};
use crate::model::{check_name, now_rfc3339, TranslationUnit};
use crate::store::tm::{variant_lang, PreparedUnit, TmStore, TmTxn};
use crate::store::StoreError;

/// How often (in units) an import reports progress.
const PROGRESS_EVERY: usize = 10_000;
/// Units an import thread prepares at a time.
const CHUNK: usize = 64;
/// Imports of fewer units are prepared on the writer thread alone.
const PARALLEL_FROM: usize = 2 * CHUNK;

/// A unit from a client or file made canonical: collection set, id checked (derived from the
/// content when empty), variant keys normalised (`FR-ca` → `fr`, a second region of a language
/// keeps it: `en-GB`), texts in NFC, empty variants dropped.
pub fn normalize_unit(
    mut unit: TranslationUnit,
    collection: &str,
) -> Result<TranslationUnit, String> {
    check_name("collection", collection).map_err(|e| e.to_string())?;
    let mut variants = BTreeMap::new();
    for (key, text) in std::mem::take(&mut unit.variants) {
        let tag = LangTag::parse(&key).map_err(|e| e.to_string())?;
        let text = into_nfc(text);
        if text.trim().is_empty() {
            continue;
        }
        let key = if variants.contains_key(&tag.primary) {
            let mut long = tag.primary.clone();
            if let Some(r) = &tag.region {
                long.push('-');
                long.push_str(r);
            }
            long
        } else {
            tag.primary.clone()
        };
        if variants.insert(key.clone(), text).is_some() {
            return Err(format!("language {key} is given twice"));
        }
    }
    if variants.is_empty() {
        return Err("the unit has no text in any language".to_string());
    }
    unit.variants = variants;
    unit.collection = collection.to_string();
    if unit.id.is_empty() {
        unit.id = unit_content_id(&unit.variants);
    }
    check_name("id", &unit.id).map_err(|e| e.to_string())?;
    if let Some(src) = unit.source_lang.take() {
        let key = variant_lang(&src).1;
        unit.source_lang = unit.variants.contains_key(&key).then_some(key);
    }
    unit.note = unit.note.map(|n| nfc(n.trim())).filter(|n| !n.is_empty());
    if unit.created_at.is_empty() {
        unit.created_at = now_rfc3339();
    }
    Ok(unit)
}

/// What storing one unit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// The unit was added (or replaced the unit with its id).
    Added(TranslationUnit),
    /// A unit with the same texts was there already: that unit.
    Duplicate(TranslationUnit),
}

/// Stores one unit inside a transaction unless a unit with the same texts exists.
fn store_unit(txn: &mut TmTxn, unit: TranslationUnit, write: bool) -> Result<Stored, StoreError> {
    if let Some(id) = txn.find_duplicate(&unit.collection, &unit)? {
        let existing = txn.get(&unit.collection, &id)?.unwrap_or(unit);
        return Ok(Stored::Duplicate(existing));
    }
    if write {
        txn.put(unit.clone())?;
    }
    Ok(Stored::Added(unit))
}

/// Adds units (already normalised) in one transaction; a unit whose texts are already stored is
/// not stored again, nor is the second of two equal units of the request.
pub fn add_units(tm: &TmStore, units: Vec<TranslationUnit>) -> Result<Vec<Stored>, StoreError> {
    tm.write(move |txn| {
        let mut seen: Vec<(String, String, TranslationUnit)> = Vec::new();
        let mut out = Vec::with_capacity(units.len());
        for unit in units {
            let content = unit_content_id(&unit.variants);
            if let Some((_, _, first)) = seen
                .iter()
                .find(|(c, coll, _)| *c == content && *coll == unit.collection)
            {
                out.push(Stored::Duplicate(first.clone()));
                continue;
            }
            let stored = store_unit(txn, unit, true)?;
            let (Stored::Added(u) | Stored::Duplicate(u)) = &stored;
            seen.push((content, u.collection.clone(), u.clone()));
            out.push(stored);
        }
        Ok(out)
    })
}

/// Applies a parsed TMX file to a collection in one transaction: every unit whose texts are not
/// yet in the collection is added (a unit with the same id and other texts is replaced); units
/// already there, or repeated in the file, count as duplicates. `mode=replace` also removes the
/// collection's units that the file does not have. A dry run counts without writing.
pub fn import_tmx(
    tm: &TmStore,
    parsed: ParsedTmx,
    opts: &ImportOptions,
    origin: Option<&str>,
    progress: Option<Progress>,
) -> Result<ImportReport, StoreError> {
    let ParsedTmx {
        units, warnings, ..
    } = parsed;
    let total = units.len() as u64;
    let feed = units.into_iter().map(move |unit| Ok((unit, total)));
    let counts = apply_units(tm, feed, opts, origin, progress)?;
    Ok(report(opts, counts, warnings))
}

/// Reads a TMX file and applies it like [`import_tmx`], streaming: the units go into the
/// transaction as they are read (reading, preparing and indexing overlap; the units are not all
/// held at once), and a problem found later in the file rolls back what was written, so the file
/// is imported whole or not at all. The file's bytes are freed once read.
pub fn import_tmx_file(
    tm: &TmStore,
    file: Vec<u8>,
    opts: &ImportOptions,
    origin: Option<&str>,
    progress: Option<Progress>,
) -> Result<ImportReport, ImportError> {
    // each unit with the units the file is estimated to hold, from the share read so far
    let mut done = 0u64;
    let read = move |send: &mut dyn FnMut((TranslationUnit, u64)) -> ControlFlow<()>| {
        read_tmx_each(&file, |unit, at| {
            done += 1;
            let estimate = (done as f64 * at.len as f64 / at.offset.max(1) as f64) as u64;
            send((unit, estimate.max(done)))
        })
    };
    let (written, read) = read_alongside("import-tmx", read, |units| {
        apply_units(tm, units, opts, origin, progress)
    })?;
    let parsed = read?;
    Ok(report(opts, written?, parsed.warnings))
}

/// The report of a TMX import that went through, logged.
fn report(opts: &ImportOptions, counts: UnitCounts, warnings: Vec<Warning>) -> ImportReport {
    tracing::info!(
        collection = %opts.collection,
        format = "tmx",
        added = counts.added,
        duplicates = counts.duplicates,
        dry_run = opts.dry_run,
        "import"
    );
    ImportReport {
        format: "tmx",
        collection: opts.collection.clone(),
        mode: opts.mode,
        dry_run: opts.dry_run,
        concepts: Default::default(),
        units: counts,
        warnings,
    }
}

/// Applies the units of `feed` (each with the units the file is estimated to hold; an `Err`
/// refuses the file) to `opts.collection` in one transaction, as [`import_tmx`] says.
fn apply_units(
    tm: &TmStore,
    feed: impl Iterator<Item = Result<(TranslationUnit, u64), StoreError>> + Send + 'static,
    opts: &ImportOptions,
    origin: Option<&str>,
    progress: Option<Progress>,
) -> Result<UnitCounts, StoreError> {
    let opts_c = opts.clone();
    let origin = origin.map(str::to_string);
    tm.write(move |txn| {
        let write = !opts_c.dry_run;
        let mut in_file: HashSet<String> = HashSet::new();
        let mut repeated = 0u64;
        // the units the file is estimated to hold, for progress
        let total = std::cell::Cell::new(0u64);
        // a unit repeated in the file is counted and not looked at again
        let fresh = feed.filter_map(|item| {
            let (mut unit, estimate) = match item {
                Ok(item) => item,
                Err(e) => return Some(Err(e)),
            };
            total.set(estimate);
            unit.collection = opts_c.collection.clone();
            if unit.origin.is_none() {
                unit.origin = origin.clone();
            }
            let content_id = unit_content_id(&unit.variants);
            if in_file.insert(content_id.clone()) {
                Some(Ok((unit, content_id)))
            } else {
                repeated += 1;
                None
            }
        });
        // the rest are looked up and prepared on every core, and stored here in file order
        let snapshot = txn.snapshot();
        let mut counts = UnitCounts::default();
        let mut keep: HashSet<String> = HashSet::new();
        let mut done = 0usize;
        prepare_in_order(
            fresh,
            |(unit, content_id)| match snapshot.duplicate_of(&unit, &content_id)? {
                Some(id) => Ok(Prepared::Duplicate(id)),
                None if write => Ok(Prepared::New(Box::new(snapshot.prepare(unit)?))),
                None => Ok(Prepared::Counted(unit.id)),
            },
            |prepared| {
                if let Some(report) = &progress {
                    if done.is_multiple_of(PROGRESS_EVERY) {
                        report(done as u64, total.get().max(done as u64));
                    }
                }
                done += 1;
                match prepared {
                    Prepared::New(p) => {
                        counts.added += 1;
                        keep.insert(txn.put_prepared(*p)?.id);
                    }
                    Prepared::Counted(id) => {
                        counts.added += 1;
                        keep.insert(id);
                    }
                    Prepared::Duplicate(id) => {
                        counts.duplicates += 1;
                        keep.insert(id);
                    }
                }
                Ok(())
            },
        )?;
        counts.duplicates += repeated;
        let all = counts.added + counts.duplicates;
        if let Some(report) = &progress {
            report(all, all);
        }
        if opts_c.mode == ImportMode::Replace && write {
            for id in txn.ids_in(&opts_c.collection)? {
                if !keep.contains(&id) {
                    txn.delete(&opts_c.collection, &id)?;
                }
            }
        }
        Ok(counts)
    })
}

/// What an import thread made of one unit of a file.
enum Prepared {
    /// Not stored yet: its document, to store.
    New(Box<PreparedUnit>),
    /// Not stored yet, and a dry run: its id.
    Counted(String),
    /// The id of the stored unit with the same texts.
    Duplicate(String),
}

/// Runs `prepare` over `items` on every core, `CHUNK` items at a time, and hands the results to
/// `store` on this thread in the order of `items`, as they come (`items` may still be being
/// read); the first error, of `items` or of either function, stops everything and is returned.
/// At most two chunks a thread are out at a time, so memory stays bounded.
fn prepare_in_order<T, R>(
    items: impl Iterator<Item = Result<T, StoreError>>,
    prepare: impl Fn(T) -> Result<R, StoreError> + Sync,
    mut store: impl FnMut(R) -> Result<(), StoreError>,
) -> Result<(), StoreError>
where
    T: Send,
    R: Send,
{
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut items = items.fuse();
    let head: Vec<T> = items
        .by_ref()
        .take(PARALLEL_FROM)
        .collect::<Result<_, _>>()?;
    if threads == 1 || head.len() < PARALLEL_FROM {
        for item in head {
            store(prepare(item)?)?;
        }
        for item in items {
            store(prepare(item?)?)?;
        }
        return Ok(());
    }
    let mut items = head.into_iter().map(Ok).chain(items);
    let prepare = &prepare;
    std::thread::scope(|scope| {
        // chunk `c` goes to thread `c % threads`, so reading the threads in turn gives file order
        let mut inputs = Vec::with_capacity(threads);
        let mut results = Vec::with_capacity(threads);
        for t in 0..threads {
            let (chunk_tx, chunk_rx) = std::sync::mpsc::channel::<Vec<T>>();
            let (done_tx, done_rx) = std::sync::mpsc::channel::<Result<Vec<R>, StoreError>>();
            inputs.push(chunk_tx);
            results.push(done_rx);
            std::thread::Builder::new()
                .name(format!("tm-writer-{t}"))
                .spawn_scoped(scope, move || {
                    for chunk in chunk_rx {
                        let done: Result<Vec<R>, StoreError> =
                            chunk.into_iter().map(prepare).collect();
                        let failed = done.is_err();
                        if done_tx.send(done).is_err() || failed {
                            return;
                        }
                    }
                })
                .map_err(|e| StoreError::Rejected(format!("cannot start an import thread: {e}")))?;
        }
        let (mut sent, mut stored) = (0usize, 0usize);
        let mut more = true;
        loop {
            while more && sent - stored < 2 * threads {
                let mut chunk = Vec::with_capacity(CHUNK);
                for item in items.by_ref() {
                    chunk.push(item?);
                    if chunk.len() == CHUNK {
                        break;
                    }
                }
                more = chunk.len() == CHUNK;
                if chunk.is_empty() {
                    break;
                }
                inputs[sent % threads]
                    .send(chunk)
                    .map_err(|_| StoreError::Rejected("an import thread stopped".into()))?;
                sent += 1;
            }
            if stored == sent {
                return Ok(());
            }
            let chunk = results[stored % threads]
                .recv()
                .map_err(|_| StoreError::Rejected("an import thread stopped".into()))??;
            stored += 1;
            for r in chunk {
                store(r)?;
            }
        }
    })
}

/// Writes the units of `collections` (all when empty) as TMX, keeping only the variants of
/// `langs` (primary subtags; all when empty) and units left with at least one; returns how many
/// units were written.
pub fn export_tmx<W: Write>(
    tm: &TmStore,
    collections: &[String],
    langs: &[String],
    out: W,
) -> Result<u64, ExportError> {
    let mut writer = TmxWriter::new(out, None)?;
    let mut written = 0u64;
    tm.for_each_unit(collections, |mut unit| -> Result<(), ExportError> {
        if !langs.is_empty() {
            unit.variants
                .retain(|key, _| langs.contains(&variant_lang(key).1));
            if unit.variants.is_empty() {
                return Ok(());
            }
        }
        writer.write(&unit)?;
        written += 1;
        Ok(())
    })?;
    writer.finish()?;
    Ok(written)
}
