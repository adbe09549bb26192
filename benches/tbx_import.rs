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
//! The import is what `hexaglot import FILE` does, in process: read the file, parse it
//! (`formats::tbx::read_tbx`), apply it in merge mode to an empty collection of a new data
//! directory (`import::apply`: one transaction, one commit). Peak RSS is the process's high-water
//! mark (`VmHWM`), reset before the import through `/proc/self/clear_refs`, so the generator does
//! not count.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use hexaglot::formats::export::{ExportFormat, ExportWriter};
use hexaglot::formats::tbx::read_tbx;
use hexaglot::import::{apply, ImportFormat, ImportMode, ImportOptions};
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
        if i % 2 == 0 {
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
    let t0 = Instant::now();
    let bytes = std::fs::read(&path).unwrap();
    let parsed = read_tbx(&bytes, "bench").unwrap();
    drop(bytes);
    let parse = t0.elapsed();
    let terms: usize = parsed.concepts.iter().map(|c| c.terms().count()).sum();
    let store = Store::open(data.path(), OpenMode::ReadWrite).unwrap();
    let t1 = Instant::now();
    let opts = ImportOptions {
        collection: "bench".to_string(),
        mode: ImportMode::Merge,
        dry_run: false,
    };
    let report = apply(&store, parsed, ImportFormat::Tbx, &opts, None).unwrap();
    let index = t1.elapsed();
    let total = t0.elapsed();
    let peak = memory("VmHWM:");
    assert_eq!(report.concepts.added as usize, n);
    assert_eq!(store.payload().stats.total(&[]).concepts as usize, n);

    let secs = total.as_secs_f64();
    println!(
        "tbx_import: {n} concepts, {terms} terms, {:.1} MiB of TBX",
        size as f64 / 1048576.0
    );
    println!(
        "  read + parse {:.2} s, index + commit {:.2} s, total {:.2} s",
        parse.as_secs_f64(),
        index.as_secs_f64(),
        secs
    );
    println!(
        "  throughput {:.0} concepts/s ({:.0} terms/s)",
        n as f64 / secs,
        terms as f64 / secs
    );
    println!("  RSS before {rss_before:.0} MiB, peak during the import {peak:.0} MiB");
}
