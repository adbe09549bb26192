//! Translation-memory fuzzy lookup over 1,000,000 six-language units, TMX import rate and peak
//! memory, and the same lookups by exhaustive scan.
//!
//! ```text
//! cargo bench --bench tm_lookup                              # 1,000,000 units
//! HEXAGLOT_BENCH_UNITS=40000 cargo bench --bench tm_lookup   # quick run
//! ```
//!
//! The TM is the development set of the United Nations Parallel Corpus v1.0 (Ziemski,
//! Junczys-Dowmunt and Pouliquen, 2016; `../shared/corpora/unpc-devset`, 4,000 lines aligned in
//! ar, en, es, fr, ru, zh) replicated with variations, deterministically (splitmix64, fixed seed):
//! copy 0 of a line is the line itself; copy `v` of it gets one to three word edits per language
//! (a word dropped, two neighbours swapped, a word of another line inserted; for Chinese,
//! characters) and the paragraph number `v.` in front, so every unit differs. The units are
//! written as TMX files of [`FILE_UNITS`] units and imported one file at a time through
//! `tm::import_tmx_file` (one commit per file; the file streams into the import as it is read),
//! which is what the import rate measures,
//! with the CPU time the process used meanwhile (all threads: steadier than the rate on a shared
//! machine); peak RSS is the process's high-water mark (`VmHWM`) after the import.
//!
//! The TM is built once into `target/bench-tm-1m` (`target/bench-tm-N`) and reused while its
//! marker says it was built from the same generator, schema and indexing sources.
//!
//! Queries: 20 consecutive words (Chinese: 30 characters) cut from random devset lines of five
//! languages and Chinese, with one word edit, so they match a stored unit closely but never
//! exactly. Each query is timed on its own (best of 3) and the median and 99th percentile over
//! the queries are printed; then [`BRUTE_QUERIES`] of them are answered by scanning every unit
//! (JSON, analysis, score with early abandon) for the ratio, and the top scores compared.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::Criterion;
use hexaglot::formats::tmx::TmxWriter;
use hexaglot::import::{ImportMode, ImportOptions};
use hexaglot::lang::{Lang, LangTag};
use hexaglot::model::TranslationUnit;
use hexaglot::search::tm::{lookup, variant_for, FuzzyScorer, LookupRequest, Prepared};
use hexaglot::store::tm::{TmStore, TM_SCHEMA_VERSION};
use hexaglot::store::{OpenMode, StoreError};

const DEFAULT_UNITS: usize = 1_000_000;
/// Units when the bench binary runs as a test (`cargo test --benches`).
const TEST_UNITS: usize = 2_000;
/// Units per TMX file imported.
const FILE_UNITS: usize = 100_000;
/// Lookups answered by exhaustive scan too.
const BRUTE_QUERIES: usize = 5;
/// Queries profiled.
const QUERIES: usize = 240;
const COLLECTION: &str = "bench";
/// Bump when the generator changes, so a cached TM is rebuilt.
const GENERATOR_VERSION: u32 = 1;
const SEED: u64 = 0x544d_4c4f_4f4b_5550; // "TMLOOKUP"
const UN: [&str; 6] = ["ar", "en", "es", "fr", "ru", "zh"];

struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n.max(1) as u128) >> 64) as usize
    }
}

/// The devset: `lines[i][l]` is line `i` in `UN[l]`.
fn devset() -> Vec<[String; 6]> {
    let files: Vec<Vec<String>> = UN
        .iter()
        .map(|l| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../shared/corpora/unpc-devset/UNv1.0.devset.{l}"));
            std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .lines()
                .map(str::to_string)
                .collect()
        })
        .collect();
    (0..files[0].len())
        .map(|i| std::array::from_fn(|l| files[l][i].clone()))
        .collect()
}

fn pieces(text: &str, zh: bool) -> Vec<String> {
    if zh {
        text.chars().map(String::from).collect()
    } else {
        text.split_whitespace().map(str::to_string).collect()
    }
}

fn join(pieces: &[String], zh: bool) -> String {
    if zh {
        pieces.concat()
    } else {
        pieces.join(" ")
    }
}

/// One to `max` word edits (drop, swap, insert from `donor`).
fn edit(rng: &mut SplitMix64, words: &mut Vec<String>, donor: &[String], max: usize) {
    for _ in 0..1 + rng.below(max) {
        if words.len() < 3 {
            return;
        }
        let i = rng.below(words.len());
        match rng.below(3) {
            0 => {
                words.remove(i);
            }
            1 if i + 1 < words.len() => words.swap(i, i + 1),
            _ => words.insert(i, donor[rng.below(donor.len())].clone()),
        }
    }
}

/// Unit `n` of the generated TM.
fn unit(lines: &[[String; 6]], n: usize) -> TranslationUnit {
    let (line, copy) = (n % lines.len(), n / lines.len());
    let mut rng = SplitMix64(SEED ^ (n as u64).wrapping_mul(0x9E37_79B9));
    let donor_line = &lines[rng.below(lines.len())];
    let variants = UN
        .iter()
        .enumerate()
        .map(|(l, code)| {
            let text = &lines[line][l];
            let text = if copy == 0 {
                text.clone()
            } else {
                let zh = *code == "zh";
                let mut words = pieces(text, zh);
                edit(&mut rng, &mut words, &pieces(&donor_line[l], zh), 3);
                format!("{copy}. {}", join(&words, zh))
            };
            (code.to_string(), text)
        })
        .collect();
    TranslationUnit {
        id: format!("u{n}"),
        collection: COLLECTION.into(),
        variants,
        origin: None,
        note: None,
        source_lang: Some("en".into()),
        created_at: "2026-11-22T00:00:00Z".into(),
        changed_at: None,
        tmx: Default::default(),
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// FNV-1a over the sources that decide what the TM index holds.
fn indexing_fingerprint() -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut paths: Vec<PathBuf> = ["store/tm.rs", "formats/tmx.rs", "tm.rs", "model.rs"]
        .iter()
        .map(|p| src.join(p))
        .collect();
    for dir in ["lang"] {
        for e in std::fs::read_dir(src.join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            paths.push(e.path());
        }
    }
    paths.sort();
    for path in &paths {
        for b in std::fs::read(path).unwrap_or_default() {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// CPU time (user + system, all threads) this process has used so far, in seconds.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // the fields after the command name (which is in parentheses): utime and stime are 14 and 15
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: f64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse::<f64>().ok())
        .sum();
    ticks / 100.0
}

/// Peak resident set of this process so far, in MiB (`VmHWM`).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

#[derive(serde::Serialize, serde::Deserialize)]
struct BuildReport {
    generator: u32,
    schema: u32,
    sources: String,
    units: usize,
    added: u64,
    tmx_bytes: u64,
    generate_secs: f64,
    /// Reading before the import: 0 since the file streams into it (kept for older markers).
    read_secs: f64,
    import_secs: f64,
    /// CPU time of the process during `import_tmx_file` (all threads).
    #[serde(default)]
    cpu_secs: f64,
    close_secs: f64,
    peak_rss_mib: f64,
    index_bytes: u64,
}

impl BuildReport {
    fn print(&self, cached: bool) {
        let import = self.read_secs + self.import_secs;
        eprintln!(
            "build{}: {} units ({} added) from {:.0} MiB of TMX in files of {FILE_UNITS}: \
             {:.0} units/s imported (read_tmx {:.1} s + import {:.1} s), {:.0} units/s with the final merges ({:.1} s); generating {:.1} s; CPU \
             {:.1} s while importing ({:.2} cores, {:.0} µs a unit); peak RSS {:.0} MiB; index \
             {:.0} MiB",
            if cached { " (cached)" } else { "" },
            self.units,
            self.added,
            self.tmx_bytes as f64 / 1048576.0,
            self.units as f64 / import,
            self.read_secs,
            self.import_secs,
            self.units as f64 / (import + self.close_secs),
            self.close_secs,
            self.generate_secs,
            self.cpu_secs,
            self.cpu_secs / import,
            self.cpu_secs * 1e6 / self.units as f64,
            self.peak_rss_mib,
            self.index_bytes as f64 / 1048576.0
        );
    }
}

fn build(lines: &[[String; 6]], units: usize) -> TmStore {
    let name = if units == DEFAULT_UNITS {
        "bench-tm-1m".to_string()
    } else {
        format!("bench-tm-{units}")
    };
    let dir = target_dir().join(name);
    let marker = dir.join("bench-build.json");
    let cached = std::fs::read_to_string(&marker)
        .ok()
        .and_then(|t| serde_json::from_str::<BuildReport>(&t).ok())
        .filter(|r| {
            r.generator == GENERATOR_VERSION
                && r.schema == TM_SCHEMA_VERSION
                && r.sources == indexing_fingerprint()
                && r.units == units
        });
    if let Some(report) = cached {
        report.print(true);
        return TmStore::open(&dir, OpenMode::ReadWrite).expect("open the cached TM");
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove the old TM");
    }
    eprintln!("building {} with {units} units", dir.display());
    let tm = TmStore::open(&dir, OpenMode::ReadWrite).expect("create the TM");
    let (mut generate, mut import) = (Duration::ZERO, Duration::ZERO);
    let mut cpu = 0.0;
    let (mut added, mut tmx_bytes) = (0u64, 0u64);
    let opts = ImportOptions {
        collection: COLLECTION.into(),
        mode: ImportMode::Merge,
        dry_run: false,
    };
    for start in (0..units).step_by(FILE_UNITS) {
        let t = Instant::now();
        let mut writer = TmxWriter::new(Vec::new(), Some("en")).expect("tmx header");
        for n in start..(start + FILE_UNITS).min(units) {
            writer.write(&unit(lines, n)).expect("tmx unit");
        }
        let bytes = writer.finish().expect("tmx end");
        tmx_bytes += bytes.len() as u64;
        generate += t.elapsed();
        let (t, cpu_before) = (Instant::now(), cpu_secs());
        let report =
            hexaglot::tm::import_tmx_file(&tm, bytes, &opts, Some("bench"), None).expect("import");
        import += t.elapsed();
        cpu += cpu_secs() - cpu_before;
        added += report.units.added;
        eprintln!(
            "  {:>9} units, {:.0} units/s so far",
            (start + FILE_UNITS).min(units),
            (start + FILE_UNITS).min(units) as f64 / import.as_secs_f64()
        );
    }
    let t = Instant::now();
    tm.close();
    let close = t.elapsed();
    drop(tm);
    let report = BuildReport {
        generator: GENERATOR_VERSION,
        schema: TM_SCHEMA_VERSION,
        sources: indexing_fingerprint(),
        units,
        added,
        tmx_bytes,
        generate_secs: generate.as_secs_f64(),
        read_secs: 0.0,
        import_secs: import.as_secs_f64(),
        cpu_secs: cpu,
        close_secs: close.as_secs_f64(),
        peak_rss_mib: peak_rss_mib(),
        index_bytes: dir_size(&dir.join("tm")),
    };
    report.print(false);
    std::fs::write(
        &marker,
        serde_json::to_string_pretty(&report).expect("json"),
    )
    .expect("write the marker");
    TmStore::open(&dir, OpenMode::ReadWrite).expect("reopen the TM")
}

/// 20-word queries (Chinese: 30 characters) with one edit, from random devset lines.
fn queries(lines: &[[String; 6]]) -> Vec<LookupRequest> {
    let mut rng = SplitMix64(SEED ^ 0x51_5545_5259);
    let mut out = Vec::new();
    while out.len() < QUERIES {
        let l = out.len() % 6;
        let zh = UN[l] == "zh";
        let words = pieces(&lines[rng.below(lines.len())][l], zh);
        let want = if zh { 30 } else { 20 };
        if words.len() < want + 2 {
            continue;
        }
        let from = rng.below(words.len() - want);
        let mut cut: Vec<String> = words[from..from + want].to_vec();
        let donor = pieces(&lines[rng.below(lines.len())][l], zh);
        edit(&mut rng, &mut cut, &donor, 1);
        out.push(LookupRequest {
            text: join(&cut, zh),
            source_lang: LangTag::parse(UN[l]).expect("tag"),
            target_langs: vec![if UN[l] == "en" { "fr" } else { "en" }.into()],
            min_score: 50,
            limit: 5,
            collections: vec![],
        });
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The best score by scanning every unit of the TM.
fn brute_force(tm: &TmStore, req: &LookupRequest) -> Option<u8> {
    let mut scorer = FuzzyScorer::new(req.source_lang.lang, &req.text);
    let mut best: Option<u8> = None;
    tm.for_each_unit(&[], |unit| -> Result<(), StoreError> {
        if let Some((_, text)) = variant_for(&unit, &req.source_lang) {
            let floor = best.unwrap_or(req.min_score).max(req.min_score);
            let prepared = Prepared::new(req.source_lang.lang, text);
            if let Some((s, _)) = scorer.score_at_least(&prepared, floor) {
                if best.is_none_or(|b| s.score > b) {
                    best = Some(s.score);
                }
            }
        }
        Ok(())
    })
    .expect("scan");
    best
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let units = match std::env::var("HEXAGLOT_BENCH_UNITS") {
        Ok(n) => n
            .replace('_', "")
            .parse()
            .expect("HEXAGLOT_BENCH_UNITS: a number"),
        Err(_) if bench_mode => DEFAULT_UNITS,
        Err(_) => TEST_UNITS,
    };
    let lines = devset();
    let tm = build(&lines, units);
    let searcher = tm.searcher();
    eprintln!(
        "tm: {} units in {} segments",
        searcher.num_docs(),
        searcher.segment_readers().len()
    );
    let requests = queries(&lines);
    let mut times: Vec<(f64, Lang, usize)> = Vec::new();
    for req in &requests {
        let mut best = f64::MAX;
        let mut found = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let r = lookup(&tm, req).expect("lookup");
            best = best.min(t.elapsed().as_secs_f64() * 1000.0);
            found = r.matches.len();
        }
        times.push((best, req.source_lang.lang, found));
    }
    let mut all: Vec<f64> = times.iter().map(|t| t.0).collect();
    all.sort_by(f64::total_cmp);
    let with_match = times.iter().filter(|t| t.2 > 0).count();
    eprintln!(
        "lookup, 20-word queries ({} queries, {with_match} with a match >= 50): median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        all.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.9),
        percentile(&all, 0.99),
        all[all.len() - 1]
    );
    for lang in [Lang::Ar, Lang::En, Lang::Es, Lang::Fr, Lang::Ru, Lang::Zh] {
        let mut v: Vec<f64> = times.iter().filter(|t| t.1 == lang).map(|t| t.0).collect();
        v.sort_by(f64::total_cmp);
        eprintln!(
            "  {lang}: median {:.2} ms, p99 {:.2} ms",
            percentile(&v, 0.5),
            percentile(&v, 0.99)
        );
    }
    if bench_mode {
        let brute = std::env::var("HEXAGLOT_BENCH_BRUTE")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(BRUTE_QUERIES);
        let (mut indexed, mut scanned, mut agree) = (0.0, 0.0, 0);
        for req in requests.iter().take(brute) {
            let t = Instant::now();
            let top = lookup(&tm, req)
                .expect("lookup")
                .matches
                .first()
                .map(|m| m.score);
            indexed += t.elapsed().as_secs_f64();
            let t = Instant::now();
            let best = brute_force(&tm, req);
            scanned += t.elapsed().as_secs_f64();
            agree += usize::from(top == best);
            eprintln!(
                "  brute force {:?}: top {top:?}, exhaustive {best:?}",
                req.source_lang.lang
            );
        }
        if brute > 0 {
            eprintln!(
                "brute force: {brute} lookups, {:.0} ms each by scan vs {:.2} ms indexed: {:.0}x; same top score in {agree}/{brute}",
                scanned * 1000.0 / brute as f64,
                indexed * 1000.0 / brute as f64,
                scanned / indexed
            );
        }
    }
    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10))
        .configure_from_args();
    let mut next = 0usize;
    c.bench_function("tm_lookup_20_words", |b| {
        b.iter(|| {
            let req = &requests[next % requests.len()];
            next += 1;
            lookup(&tm, black_box(req)).expect("lookup")
        })
    });
    c.final_summary();
    tm.close();
}
