//! Term recognition and the whole consistency check: a 10,000-segment document (about 250,000
//! words, en→fr) against a generated 100,000-concept termbase in the six UN languages.
//!
//! ```text
//! cargo bench --bench check                                  # 100,000 concepts
//! HEXAGLOT_BENCH_CONCEPTS=20000 cargo bench --bench check    # quick run
//! HEXAGLOT_BENCH_WRITE=DIR cargo bench --bench check         # also writes the termbase and the
//!                                                            # request, to time it over HTTP
//! ```
//!
//! With `HEXAGLOT_BENCH_WRITE=DIR`, the termbase is written to `DIR/termbase.tbx` and the check
//! request to `DIR/document.json` (see BENCHMARKS.md for the HTTP run).
//!
//! The termbase is generated deterministically from the development set of the United Nations
//! Parallel Corpus v1.0 (Ziemski, Junczys-Dowmunt and Pouliquen, 2016; `../shared/corpora/
//! unpc-devset`): concept N takes line N mod 4,000, the same sentence in six languages, and cuts
//! one term per language from it (one to four words; two to six characters for Chinese), cutting
//! again (another line) when that term is already taken, so terms are mostly unique as in a real
//! termbase; the shipped glossaries are added. Real sentences then contain many terms, so the recogniser does
//! real work. The document is the devset's en and fr lines, 2.5 times over.
//!
//! Printed to stderr besides criterion's figures: the recogniser's build time and memory (heap
//! estimate and the process's resident-set growth), words per second of recognition per language
//! on one core, and the whole check of the document (parsing the JSON request, recognition on both
//! sides, every check, the report) as a request runs it (segments spread over the cores).

use std::collections::HashSet;
use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

use criterion::Criterion;
use hexaglot::check::{self, CheckOptions, Input, InputFormat, RequestOptions, TermRecognizer};
use hexaglot::formats::export::{ExportFormat, ExportWriter};
use hexaglot::import::ImportFormat;
use hexaglot::lang::{analyze, exact_key, Lang, LangTag};
use hexaglot::model::{Concept, Term, TermStatus};

mod common;
use common::devset;

const DEFAULT_CONCEPTS: usize = 100_000;
const TEST_CONCEPTS: usize = 2_000;
const SEGMENTS: usize = 10_000;
const LANGS: [&str; 6] = ["ar", "zh", "en", "fr", "ru", "es"];

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A term cut from `line`: a run of words (characters for Chinese) found by the analyser.
fn cut(lang: &str, line: &str, rng: &mut Rng) -> Option<String> {
    let l = LangTag::parse(lang).unwrap().lang;
    if l == Lang::Zh {
        let chars: Vec<char> = line
            .chars()
            .filter(|c| ('\u{4E00}'..='\u{9FFF}').contains(c))
            .collect();
        if chars.len() < 2 {
            return None;
        }
        let n = 2 + rng.below(5).min(chars.len() - 2);
        let at = rng.below(chars.len() - n + 1);
        return Some(chars[at..at + n].iter().collect());
    }
    let tokens = analyze(l, line);
    if tokens.is_empty() {
        return None;
    }
    let n = 1 + rng.below(4).min(tokens.len() - 1);
    let at = rng.below(tokens.len() - n + 1);
    let (a, b) = (tokens[at].byte_start, tokens[at + n - 1].byte_end);
    Some(line[a..b].to_string())
}

fn termbase(concepts: usize, lines: &[Vec<String>]) -> Vec<Concept> {
    let mut rng = Rng(0x4845_5841_474c_4f54);
    let mut out = Vec::with_capacity(concepts + 64);
    for name in ["un-cybercrime-convention", "un-general-terms"] {
        let path = format!("{}/glossaries/{name}.tsv", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap();
        out.extend(ImportFormat::Tsv.read(&bytes, name).unwrap().concepts);
    }
    // a termbase has few homonyms: a term already taken is cut again elsewhere (up to 8 tries)
    let mut taken: Vec<HashSet<String>> = vec![HashSet::new(); LANGS.len()];
    for k in 0..concepts {
        let row = k % lines[0].len();
        let mut c = Concept::new(&format!("g{k}"), "bench");
        for (i, lang) in LANGS.iter().enumerate() {
            let fresh = (0..8).find_map(|attempt| {
                let line = &lines[i][(row + attempt * 997) % lines[i].len()];
                cut(lang, line, &mut rng).filter(|t| taken[i].insert(exact_key(t)))
            });
            if let Some(text) = fresh {
                let status = match rng.below(20) {
                    0 => TermStatus::Deprecated,
                    1 => TermStatus::Forbidden,
                    2..=5 => TermStatus::Admitted,
                    _ => TermStatus::Preferred,
                };
                let section = c.languages.entry(lang.to_string()).or_default();
                section.terms.push(Term::new(&text, status));
            }
        }
        if let Ok(c) = c.normalize() {
            out.push(c);
        }
    }
    out
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// CPU time of this thread (user + system) in seconds (`CLOCK_THREAD_CPUTIME_ID`, nanoseconds): on
/// a shared machine, per-core throughput is work over CPU time, not over wall time.
fn cpu_seconds() -> f64 {
    clock_seconds(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU seconds of the whole process (every thread) so far (`CLOCK_PROCESS_CPUTIME_ID`).
fn process_cpu_seconds() -> f64 {
    clock_seconds(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn clock_seconds(clock: libc::clockid_t) -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to write into
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let out = f();
    (out, wall.elapsed().as_secs_f64(), cpu_seconds() - cpu)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let testing = std::env::args().any(|a| a == "--test");
    let concepts = std::env::var("HEXAGLOT_BENCH_CONCEPTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if testing {
            TEST_CONCEPTS
        } else {
            DEFAULT_CONCEPTS
        });
    let lines: Vec<Vec<String>> = LANGS.iter().map(|l| devset(l)).collect();
    let generated = termbase(concepts, &lines);
    let write_to = std::env::var_os("HEXAGLOT_BENCH_WRITE").map(std::path::PathBuf::from);
    if let Some(dir) = &write_to {
        std::fs::create_dir_all(dir).unwrap();
        let file = std::fs::File::create(dir.join("termbase.tbx")).unwrap();
        let mut writer =
            ExportWriter::new(std::io::BufWriter::new(file), ExportFormat::Tbx).unwrap();
        for c in &generated {
            writer.write(c).unwrap();
        }
        writer.finish().unwrap().flush().unwrap();
    }
    let terms: usize = generated.iter().map(|c| c.terms().count()).sum();

    let rss_before = resident_bytes();
    let (recognizer, build, build_cpu) = timed(|| TermRecognizer::build(generated));
    let rss_after = resident_bytes();
    eprintln!(
        "recogniser: {} concepts, {terms} terms; built in {build:.2} s ({build_cpu:.3} s CPU, one \
         thread); heap ~{:.0} MiB, resident set +{:.0} MiB",
        recognizer.concept_count(),
        mib(recognizer.heap_bytes() as u64),
        mib(rss_after.saturating_sub(rss_before)),
    );

    // recognition throughput per language over the devset, one core
    for (i, lang) in LANGS.iter().enumerate() {
        let l = LangTag::parse(lang).unwrap().lang;
        let words: usize = lines[i].iter().map(|t| analyze(l, t).len()).sum();
        // the first pass meets every word and span for the first time on this thread; the
        // second is what a thread that has checked such text before does
        for pass in ["first", "second"] {
            let (found, secs, cpu) = timed(|| {
                let mut found = 0;
                for text in &lines[i] {
                    found += black_box(recognizer.find(lang, text)).len();
                }
                found
            });
            eprintln!(
                "recognition {lang}, {pass} pass: {words} words in {secs:.3} s wall, {cpu:.3} s \
                 CPU = {:.0} words/s per core of CPU ({found} terms found)",
                words as f64 / cpu.max(1e-6)
            );
        }
    }

    // the document: 10,000 en→fr segments as a JSON check request
    let segments: Vec<serde_json::Value> = (0..SEGMENTS)
        .map(|k| {
            let row = k % lines[2].len();
            serde_json::json!({"id": k.to_string(), "source": lines[2][row], "target": lines[3][row]})
        })
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({
        "source_lang": "en", "target_lang": "fr", "segments": segments
    }))
    .unwrap();
    if let Some(dir) = &write_to {
        std::fs::write(dir.join("document.json"), &body).unwrap();
    }
    let words: usize = (0..SEGMENTS)
        .map(|k| {
            let row = k % lines[2].len();
            analyze(Lang::En, &lines[2][row]).len() + analyze(Lang::Fr, &lines[3][row]).len()
        })
        .sum();
    let whole = |body: &[u8]| {
        let (input, opts) =
            check::parse_input(InputFormat::Json, body, RequestOptions::default()).unwrap();
        check::run(&recognizer, &input, &opts).unwrap()
    };
    let source_words: usize = (0..SEGMENTS)
        .map(|k| analyze(Lang::En, &lines[2][k % lines[2].len()]).len())
        .sum();
    // the first request on the check's threads, then the same again
    for request in ["first", "second"] {
        let (wall, cpu) = (Instant::now(), process_cpu_seconds());
        let report = whole(&body);
        let (secs, cpu) = (wall.elapsed().as_secs_f64(), process_cpu_seconds() - cpu);
        eprintln!(
            "whole check, {request} request: {SEGMENTS} segments, {source_words} source words \
             ({words} on both sides), {} issues in {secs:.3} s wall, {cpu:.3} s CPU on all \
             threads = {:.0} words/s per core of CPU",
            report.summary.issues,
            words as f64 / cpu.max(1e-6)
        );
    }
    let (input, _) =
        check::parse_input(InputFormat::Json, &body, RequestOptions::default()).unwrap();
    let Input::Document(doc) = &input else {
        unreachable!()
    };
    let recognise_document = || {
        let mut found = 0;
        for s in &doc.segments {
            found += recognizer.find("en", &s.source).len();
            found += recognizer
                .find("fr", s.target.as_deref().unwrap_or(""))
                .len();
        }
        found
    };
    // on a new thread, which has met none of the document's words (its analysis and the
    // recogniser's memory of words and spans start empty), then on this one, which has
    let (found, secs, cpu) =
        std::thread::scope(|s| s.spawn(|| timed(recognise_document)).join().unwrap());
    eprintln!(
        "recognition of the document, new thread: {words} words in {secs:.3} s wall, {cpu:.3} s \
         CPU = {:.0} words/s per core of CPU ({found} terms)",
        words as f64 / cpu.max(1e-6)
    );
    let (found, secs, cpu) = timed(recognise_document);
    eprintln!(
        "recognition of the document: {words} words in {secs:.3} s wall, {cpu:.3} s CPU = {:.0} \
         words/s per core of CPU ({found} terms)",
        words as f64 / cpu.max(1e-6)
    );

    let mut c = Criterion::default().sample_size(10).configure_from_args();
    c.bench_function("check/whole_10k_segments", |b| {
        b.iter(|| black_box(whole(&body)))
    });
    c.bench_function("check/recognise_10k_segments", |b| {
        b.iter(|| {
            for s in &doc.segments {
                black_box(recognizer.find("en", &s.source));
                black_box(recognizer.find("fr", s.target.as_deref().unwrap_or("")));
            }
        })
    });
    let opts = CheckOptions::default();
    c.bench_function("check/one_segment", |b| {
        let one = Input::Document(check::Document {
            source_lang: "en".into(),
            target_lang: "fr".into(),
            segments: doc.segments[..1].to_vec(),
        });
        b.iter(|| black_box(check::run(&recognizer, &one, &opts).unwrap()))
    });
    c.final_summary();
}
