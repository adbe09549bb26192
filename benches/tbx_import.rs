//! Import of a generated six-language TBX file: throughput and peak memory.
//!
//! ```text
//! cargo bench --bench tbx_import                                  # 100,000 concepts
//! HEXAGLOT_BENCH_CONCEPTS=20000 cargo bench --bench tbx_import    # quick run
//! ```
//!
//! The file is TBX 2019 (TBX-Basic DCA) as `hexaglot export` writes it, generated
//! deterministically from the development set of the United Nations Parallel Corpus v1.0
//! (Ziemski, Junczys-Dowmunt and Pouliquen, 2016, LREC'16; `../shared/corpora/unpc-devset`):
//! concept `i` takes devset line `i mod 4000` in the six languages and cuts from it a preferred
//! term, and for every other concept an admitted one, per language (word windows at an offset
//! that depends on `i`; Chinese: character windows), with a definition in English and French
//! and a subject. It is written once to `target/bench-tbx-N.tbx`.
//!
//! The import is what `hexaglot import FILE` does, in process: read the file (the Chinese
//! segmenter's dictionary, which opening the store needs, loading meanwhile on a thread of its
//! own) and import it in merge mode into an empty collection of a new data directory
//! (`import::import`: the TBX reader streams concepts into one transaction, one commit). Peak RSS is the process's high-water mark
//! (`VmHWM`), reset before the import through `/proc/self/clear_refs`, so the generator does not
//! count. Afterwards the file is parsed once more on its own (`read_tbx_each`, concepts counted and
//! dropped), to show the reader's share; and the process's CPU time of the import is printed, as
//! the wall time depends on what else the machine runs. Last, the store is closed (it waits for
//! the merges the commit started) and the size of the index on disk is printed.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hexaglot::formats::export::{ExportFormat, ExportWriter};
use hexaglot::formats::tbx::read_tbx_each;
use hexaglot::import::{import, ImportFormat, ImportMode, ImportOptions, Progress};
use hexaglot::model::{Concept, LangSection, Term, TermStatus};
use hexaglot::store::{OpenMode, Store};

mod common;
use common::devset;

const DEFAULT_CONCEPTS: usize = 100_000;
/// Concepts when the bench binary runs as a test (`cargo test --benches`).
const TEST_CONCEPTS: usize = 2_000;
const LANGS: [&str; 6] = ["ar", "zh", "en", "fr", "ru", "es"];
const SUBJECTS: [&str; 4] = [
    "peace and security",
    "human rights",
    "development",
    "health",
];

/// A window of `len` words (characters for Chinese) of `line`, starting at `at` (wrapped).
fn window(code: &str, line: &str, at: usize, len: usize) -> String {
    if code == "zh" {
        let chars: Vec<char> = line.chars().filter(|c| !c.is_ascii_punctuation()).collect();
        let start = at % chars.len().saturating_sub(len).max(1);
        chars[start..(start + len).min(chars.len())]
            .iter()
            .collect()
    } else {
        let words: Vec<&str> = line
            .split_whitespace()
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
            .filter(|w| !w.is_empty())
            .collect();
        let start = at % words.len().saturating_sub(len).max(1);
        words[start..(start + len).min(words.len())].join(" ")
    }
}

fn concept(i: usize, lines: &[Vec<String>]) -> Concept {
    let mut c = Concept::new(&format!("c{i:07}"), "bench");
    c.subject.push(SUBJECTS[i % SUBJECTS.len()].to_string());
    for (code, text) in LANGS.iter().zip(lines) {
        let line = &text[i % text.len()];
        let (len, alt) = if *code == "zh" { (4, 6) } else { (2, 3) };
        let mut terms = vec![Term::new(
            &window(code, line, i / 4000, len),
            TermStatus::Preferred,
        )];
        if i.is_multiple_of(2) {
            terms.push(Term::new(
                &window(code, line, i / 4000 + 7, alt),
                TermStatus::Admitted,
            ));
        }
        let definition = matches!(*code, "en" | "fr").then(|| line.clone());
        c.languages.insert(
            code.to_string(),
            LangSection {
                definition,
                terms,
                ..LangSection::default()
            },
        );
    }
    c.normalize().expect("a generated concept is valid")
}

fn generate(path: &PathBuf, n: usize) {
    let lines: Vec<Vec<String>> = LANGS.iter().map(|c| devset(c)).collect();
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut writer = ExportWriter::new(file, ExportFormat::Tbx).unwrap();
    for i in 0..n {
        writer.write(&concept(i, &lines)).unwrap();
    }
    writer.finish().unwrap().flush().unwrap();
}

/// `VmHWM` or `VmRSS` of this process, in MiB.
fn memory(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let n = match std::env::var("HEXAGLOT_BENCH_CONCEPTS") {
        Ok(v) => v.parse().expect("HEXAGLOT_BENCH_CONCEPTS is a number"),
        Err(_) if bench => DEFAULT_CONCEPTS,
        Err(_) => TEST_CONCEPTS,
    };
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&target).unwrap();
    let path = target.join(format!("bench-tbx-{n}.tbx"));
    if !path.exists() {
        let t = Instant::now();
        generate(&path, n);
        eprintln!(
            "generated {} in {:.1} s",
            path.display(),
            t.elapsed().as_secs_f64()
        );
    }
    let size = std::fs::metadata(&path).unwrap().len();
    let data = tempfile::tempdir().unwrap();

    // the import, as `hexaglot import` does it
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss_before = memory("VmRSS:");
    let cpu_before = cpu_seconds();
    let t0 = Instant::now();
    // as `hexaglot import` does: the segmenter's dictionary (which opening the store needs) loads
    // while the file is read
    std::thread::spawn(hexaglot::lang::load_segmenter);
    let bytes = std::fs::read(&path).unwrap();
    let store = Store::open(data.path(), OpenMode::ReadWrite).unwrap();
    let opts = ImportOptions {
        collection: "bench".to_string(),
        mode: ImportMode::Merge,
        dry_run: false,
    };
    let last = Arc::new(Mutex::new((0, 0)));
    let seen = last.clone();
    let progress: Progress = Arc::new(move |done, total| *seen.lock().unwrap() = (done, total));
    let report = import(
        &store,
        bytes,
        ImportFormat::Tbx,
        None,
        &opts,
        Some(progress),
    )
    .unwrap();
    let total = t0.elapsed();
    let cpu = cpu_seconds() - cpu_before;
    let peak = memory("VmHWM:");
    assert_eq!(report.concepts.added as usize, n);
    assert_eq!(*last.lock().unwrap(), (n as u64, n as u64));
    let stats = store.payload().stats.total(&[]);
    assert_eq!(stats.concepts as usize, n);
    let terms = stats.terms as usize;

    // the reader alone
    let t1 = Instant::now();
    let bytes = std::fs::read(&path).unwrap();
    let mut read = 0;
    read_tbx_each(&bytes, "bench", |_, _| {
        read += 1;
        ControlFlow::Continue(())
    })
    .unwrap();
    let parse = t1.elapsed();
    assert_eq!(read, n);

    // the index on disk, once the merges after the commit are done
    store.close();
    let index_bytes = dir_size(data.path());

    let secs = total.as_secs_f64();
    println!(
        "tbx_import: {n} concepts, {terms} terms, {:.1} MiB of TBX",
        size as f64 / 1048576.0
    );
    println!(
        "  import (read, parse, index, commit) {secs:.2} s wall, {cpu:.2} s CPU; the reader alone {:.2} s",
        parse.as_secs_f64()
    );
    println!(
        "  throughput {:.0} concepts/s ({:.0} terms/s)",
        n as f64 / secs,
        terms as f64 / secs
    );
    println!("  RSS before {rss_before:.0} MiB, peak during the import {peak:.0} MiB");
    println!(
        "  index size after its merges {:.1} MiB",
        index_bytes as f64 / 1048576.0
    );
}

/// Bytes of the files under `dir`.
fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}

/// User and system CPU time of this process so far, in seconds (`/proc/self/stat`).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // the fields after the command name (which is in parentheses): utime is the 14th field
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // SAFETY: sysconf has no preconditions
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) / hz
}
