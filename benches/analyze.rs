//! The analysis pipeline alone (`lang::analyze`) over real UN text, per language, one core.
//!
//! ```text
//! cargo bench --bench analyze
//! ```
//!
//! Text: the development set of the United Nations Parallel Corpus v1.0 (Ziemski,
//! Junczys-Dowmunt and Pouliquen, 2016; `../shared/corpora/unpc-devset`), 4,000 aligned lines in
//! six languages. Printed to stderr besides criterion's figures: words per second per language,
//! first pass (nothing of the text seen before) and warm (the same text again).

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use hexaglot::lang::{analyze, zh_bigrams, LangTag};

mod common;
use common::devset;

const LANGS: [&str; 6] = ["ar", "zh", "en", "fr", "ru", "es"];

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("analyze");
    group.sample_size(10);
    for lang in LANGS {
        let l = LangTag::parse(lang).expect("a UN language").lang;
        let lines = devset(lang);
        let passes: Vec<(usize, f64)> = (0..3)
            .map(|_| {
                let start = Instant::now();
                let words: usize = lines.iter().map(|t| black_box(analyze(l, t)).len()).sum();
                (words, start.elapsed().as_secs_f64())
            })
            .collect();
        let words = passes[0].0;
        eprintln!(
            "analyze {lang}: {words} words; first pass {:.0} words/s, then {:.0} and {:.0} words/s",
            words as f64 / passes[0].1,
            words as f64 / passes[1].1,
            words as f64 / passes[2].1,
        );
        group.throughput(Throughput::Elements(words as u64));
        group.bench_function(lang, |b| {
            b.iter(|| {
                lines
                    .iter()
                    .map(|t| black_box(analyze(l, t)).len())
                    .sum::<usize>()
            })
        });
        if lang == "zh" {
            let bigrams: usize = lines.iter().map(|t| zh_bigrams(t).len()).sum();
            group.throughput(Throughput::Elements(bigrams as u64));
            group.bench_function("zh_bigrams", |b| {
                b.iter(|| {
                    lines
                        .iter()
                        .map(|t| black_box(zh_bigrams(t)).len())
                        .sum::<usize>()
                })
            });
        }
    }
    group.finish();
    c.final_summary();
}
