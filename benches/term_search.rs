//! Term search over a generated termbase of 1,000,000 concepts in the six UN languages, and the
//! rate at which the store indexes it.
//!
//! ```text
//! cargo bench --bench term_search                                 # 1,000,000 concepts
//! HEXAGLOT_BENCH_CONCEPTS=20000 cargo bench --bench term_search   # quick run
//! ```
//!
//! The termbase is generated deterministically (splitmix64, fixed seed) from the development set
//! of the United Nations Parallel Corpus v1.0 (Ziemski, Junczys-Dowmunt and Pouliquen, 2016,
//! "The United Nations Parallel Corpus", LREC'16; `../shared/corpora/unpc-devset`). Each concept
//! takes one line of the devset, which is the same sentence in all six languages, and cuts from it
//! one to three terms per language: contiguous word sequences of one to four words (for Chinese two
//! to eight characters) inside one clause.
//!
//! The index is built once into `target/bench-termbase-1m` (`target/bench-termbase-N` for other
//! counts) and reused while its marker says it holds the same generated termbase, built by the same
//! schema version and the same indexing sources (`src/store`, `src/lang`, `src/model.rs`, hashed);
//! otherwise it is rebuilt and the build measured again. The build figures are printed to stderr
//! on every run.
//!
//! Besides criterion's figures (the mean per call over a rotation of ~200 queries), the bench prints
//! a per-query profile: every query is timed on its own and the median, 90th percentile and maximum
//! over the queries are reported, with the hit counts. `HEXAGLOT_BENCH_PROFILE=0` skips it,
//! `HEXAGLOT_BENCH_PROFILE=prefix` profiles one bench only.

use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::Criterion;
use hexaglot::lang::{analyze, Lang, LangTag};
use hexaglot::model::{Concept, LangSection, Term, TermStatus};
use hexaglot::search::{search, Mode, SearchRequest};
use hexaglot::store::{OpenMode, Store, SCHEMA_VERSION};

/// Concepts in the full termbase.
const DEFAULT_CONCEPTS: usize = 1_000_000;
/// Concepts when the bench binary runs as a test (`cargo test --benches`).
const TEST_CONCEPTS: usize = 2_000;
/// Concepts per `Store::write` (one commit each).
const BATCH: usize = 25_000;
/// Collection of every generated concept.
const COLLECTION: &str = "bench";
/// Bump when the generator changes, so a cached index is rebuilt.
const GENERATOR_VERSION: u32 = 1;
const SEED: u64 = 0x4845_5841_474c_4f54; // "HEXAGLOT"
const SUBJECTS: &[&str] = &[
    "peace and security",
    "human rights",
    "development",
    "environment",
    "international law",
    "finance",
    "health",
    "humanitarian affairs",
];
const LANGS: [(&str, Lang); 6] = [
    ("ar", Lang::Ar),
    ("zh", Lang::Zh),
    ("en", Lang::En),
    ("fr", Lang::Fr),
    ("ru", Lang::Ru),
    ("es", Lang::Es),
];
/// Single-word queries per language (six languages: 204 in all).
const WORDS_PER_LANG: usize = 34;

fn devset_text(code: &str) -> &'static str {
    let path = match code {
        "ar" => concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpora/unpc-devset/UNv1.0.devset.ar"
        ),
        "zh" => concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpora/unpc-devset/UNv1.0.devset.zh"
        ),
        "en" => concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpora/unpc-devset/UNv1.0.devset.en"
        ),
        "fr" => concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpora/unpc-devset/UNv1.0.devset.fr"
        ),
        "ru" => concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpora/unpc-devset/UNv1.0.devset.ru"
        ),
        "es" => concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpora/unpc-devset/UNv1.0.devset.es"
        ),
        _ => unreachable!("not a UN language: {code}"),
    };
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.leak()
}

/// splitmix64 (Steele, Lea and Flood 2014): small, fast and good enough for test data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// True with probability `percent` / 100.
    fn percent(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// One language of the devset, cut into clauses of words (for Chinese: runs of Han characters, one
/// character per "word").
struct LangCorpus {
    code: &'static str,
    lang: Lang,
    /// Per devset line, its clauses; a clause is a run of words not broken by punctuation or numbers.
    lines: Vec<Vec<Vec<&'static str>>>,
    /// What joins the words of a term.
    joiner: &'static str,
    /// Fewest and most words of a term.
    min_words: usize,
    max_words: usize,
}

impl LangCorpus {
    fn load(code: &'static str, lang: Lang) -> LangCorpus {
        let text = devset_text(code);
        let lines = text
            .lines()
            .map(|line| {
                if lang == Lang::Zh {
                    zh_clauses(line)
                } else {
                    clauses(line)
                }
            })
            .collect();
        let (joiner, min_words, max_words) = if lang == Lang::Zh {
            ("", 2, 8)
        } else {
            (" ", 1, 4)
        };
        LangCorpus {
            code,
            lang,
            lines,
            joiner,
            min_words,
            max_words,
        }
    }

    /// A term cut from line `line` (or, when that line has no usable clause, from another one).
    fn cut(&self, rng: &mut SplitMix64, mut line: usize) -> String {
        loop {
            let usable: Vec<&Vec<&str>> = self.lines[line]
                .iter()
                .filter(|c| c.len() >= self.min_words)
                .collect();
            if usable.is_empty() {
                line = rng.below(self.lines.len());
                continue;
            }
            let clause = usable[rng.below(usable.len())];
            let span = self.min_words + rng.below(self.max_words - self.min_words + 1);
            // shorter terms are commoner: halve the span half of the time
            let span = if rng.percent(50) {
                span.div_ceil(2).max(self.min_words)
            } else {
                span
            };
            let span = span.min(clause.len());
            let start = rng.below(clause.len() - span + 1);
            return clause[start..start + span].join(self.joiner);
        }
    }
}

/// Clauses of a line of an alphabetic language: words are letters, marks, apostrophes and hyphens
/// between whitespace; other punctuation and numbers end a clause.
fn clauses(line: &'static str) -> Vec<Vec<&'static str>> {
    let mut out = Vec::new();
    let mut clause: Vec<&'static str> = Vec::new();
    let mut word_start: Option<usize> = None;
    let flush_word = |clause: &mut Vec<&'static str>,
                      out: &mut Vec<Vec<&'static str>>,
                      start: Option<usize>,
                      end: usize| {
        let Some(start) = start else { return };
        let word = line[start..end].trim_matches(|c: char| !c.is_alphanumeric());
        if word.is_empty() {
            return;
        }
        if word.chars().any(|c| c.is_numeric()) {
            // a number, a symbol (A/69/123) or a date: the clause stops there
            if !clause.is_empty() {
                out.push(std::mem::take(clause));
            }
            return;
        }
        clause.push(word);
    };
    for (i, c) in line.char_indices() {
        let in_word = c.is_alphanumeric()
            || unicode_mark(c)
            || matches!(c, '\'' | '\u{2019}' | '-' | '\u{2010}' | '\u{2011}')
            || c == '\u{200C}'
            || c == '\u{200D}';
        if in_word {
            word_start.get_or_insert(i);
            continue;
        }
        flush_word(&mut clause, &mut out, word_start.take(), i);
        if !c.is_whitespace() && !clause.is_empty() {
            out.push(std::mem::take(&mut clause));
        }
    }
    flush_word(&mut clause, &mut out, word_start.take(), line.len());
    if !clause.is_empty() {
        out.push(clause);
    }
    out
}

/// Arabic harakat and the like, which sit inside words.
fn unicode_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x0610..=0x061A | 0x064B..=0x065F | 0x0670 | 0x0640)
}

/// Runs of Han characters of a Chinese line, one character per element.
fn zh_clauses(line: &'static str) -> Vec<Vec<&'static str>> {
    let mut out = Vec::new();
    let mut run: Vec<&'static str> = Vec::new();
    for (i, c) in line.char_indices() {
        if is_han(c) {
            run.push(&line[i..i + c.len_utf8()]);
        } else if !run.is_empty() {
            out.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

/// The six languages of the devset: the termbase generator and the query vocabulary.
struct Corpus {
    langs: Vec<LangCorpus>,
    lines: usize,
}

impl Corpus {
    fn load() -> Corpus {
        let langs: Vec<LangCorpus> = LANGS
            .iter()
            .map(|&(code, lang)| LangCorpus::load(code, lang))
            .collect();
        let lines = langs.iter().map(|l| l.lines.len()).min().unwrap_or(0);
        assert!(lines > 0, "the devset is empty");
        Corpus { langs, lines }
    }

    /// Concept number `i`: a pure function of `i`, so any concept can be regenerated alone.
    fn concept(&self, i: usize) -> Concept {
        let mut rng = SplitMix64::new(SEED ^ (i as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
        let line = rng.below(self.lines);
        let mut concept = Concept::new(&format!("c{i:07}"), COLLECTION);
        concept
            .subject
            .push(SUBJECTS[rng.below(SUBJECTS.len())].to_string());
        if rng.percent(15) {
            concept
                .subject
                .push(SUBJECTS[rng.below(SUBJECTS.len())].to_string());
        }
        for corpus in &self.langs {
            let n = match rng.below(10) {
                0..=5 => 1,
                6..=8 => 2,
                _ => 3,
            };
            let terms = (0..n)
                .map(|k| {
                    let status = match (k, rng.below(100)) {
                        (0, 0..=91) => TermStatus::Preferred,
                        (0, _) => TermStatus::Admitted,
                        (_, 0..=59) => TermStatus::Admitted,
                        (_, 60..=84) => TermStatus::Deprecated,
                        _ => TermStatus::Preferred,
                    };
                    Term::new(&corpus.cut(&mut rng, line), status)
                })
                .collect();
            concept.languages.insert(
                corpus.code.to_string(),
                LangSection {
                    terms,
                    ..LangSection::default()
                },
            );
        }
        concept.version = 1;
        concept.updated_at = "2026-11-22T00:00:00Z".to_string();
        concept.normalize().expect("a generated concept is valid")
    }

    /// Words of each language by falling frequency in the devset (Chinese: jieba words of the
    /// Han runs, through the crate's own analyser), lower-cased.
    fn vocabulary(&self) -> Vec<Vocabulary> {
        self.langs
            .iter()
            .map(|corpus| {
                let mut counts: HashMap<String, usize> = HashMap::new();
                if corpus.lang == Lang::Zh {
                    for line in devset_text(corpus.code).lines() {
                        for t in analyze(Lang::Zh, line) {
                            let surface = &line[t.byte_start..t.byte_end];
                            if surface.chars().all(is_han) {
                                *counts.entry(surface.to_string()).or_default() += 1;
                            }
                        }
                    }
                } else {
                    for line in &corpus.lines {
                        for word in line.iter().flatten() {
                            *counts.entry(word.to_lowercase()).or_default() += 1;
                        }
                    }
                }
                let mut words: Vec<(String, usize)> = counts.into_iter().collect();
                words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                Vocabulary {
                    code: corpus.code,
                    lang: corpus.lang,
                    words,
                }
            })
            .collect()
    }
}

/// The words of one language with their devset counts, commonest first.
struct Vocabulary {
    code: &'static str,
    lang: Lang,
    words: Vec<(String, usize)>,
}

/// A query and the language it was taken from.
#[derive(Clone)]
struct Query {
    text: String,
    code: &'static str,
}

/// The query lists of every bench.
struct Queries {
    words: Vec<Query>,
    exact: Vec<Query>,
    prefixes: Vec<Query>,
    typos: Vec<Query>,
}

/// Ranks spread geometrically over a vocabulary of `len` words: the commonest words (which match a
/// large share of the concepts) down to words seen once in the devset.
fn geometric_ranks(len: usize, count: usize) -> Vec<usize> {
    let mut ranks: Vec<usize> = Vec::new();
    for k in 0..count {
        let r = (len as f64).powf(k as f64 / (count - 1) as f64) as usize - 1;
        let r = match ranks.last() {
            Some(&prev) if r <= prev => prev + 1,
            _ => r,
        };
        if r < len {
            ranks.push(r);
        }
    }
    ranks
}

fn build_queries(corpus: &Corpus, concepts: usize) -> Queries {
    let vocabulary = corpus.vocabulary();
    let mut words = Vec::new();
    let mut prefixes = Vec::new();
    let mut typos = Vec::new();
    for Vocabulary {
        code,
        lang,
        words: vocab,
    } in &vocabulary
    {
        let known: HashSet<&str> = vocab.iter().map(|(w, _)| w.as_str()).collect();
        for rank in geometric_ranks(vocab.len(), WORDS_PER_LANG) {
            words.push(Query {
                text: vocab[rank].0.clone(),
                code,
            });
        }
        if *lang == Lang::Zh {
            continue;
        }
        // prefixes and typos: words of six letters or more, from the same spread of ranks
        let long: Vec<&String> = vocab
            .iter()
            .map(|(w, _)| w)
            .filter(|w| w.chars().count() >= 6 && w.chars().all(char::is_alphabetic))
            .collect();
        for (k, rank) in geometric_ranks(long.len(), WORDS_PER_LANG + 7)
            .into_iter()
            .enumerate()
        {
            let chars: Vec<char> = long[rank].chars().collect();
            prefixes.push(Query {
                text: chars[..3 + k % 2].iter().collect(),
                code,
            });
            // swap two different adjacent letters away from the first one
            let mut swapped = None;
            for i in (1..chars.len() - 1).map(|j| 1 + (j + k) % (chars.len() - 2)) {
                if chars[i] != chars[i + 1] {
                    let mut typo = chars.clone();
                    typo.swap(i, i + 1);
                    let typo: String = typo.into_iter().collect();
                    if !known.contains(typo.as_str()) {
                        swapped = Some(typo);
                        break;
                    }
                }
            }
            if let Some(text) = swapped {
                typos.push(Query { text, code });
            }
        }
    }
    // exact: whole terms of concepts spread over the termbase, one language after another
    let exact = (0..200)
        .map(|k| {
            let concept = corpus.concept(k * concepts / 200);
            let (code, _) = LANGS[k % LANGS.len()];
            Query {
                text: concept.languages[code].terms[0].text.clone(),
                code,
            }
        })
        .collect();
    Queries {
        words,
        exact,
        prefixes,
        typos,
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

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// FNV-1a over the sources that decide what the index holds (`src/store`, `src/lang`,
/// `src/model.rs`), so a cached termbase is rebuilt after any change to them, even one that does
/// not bump the schema version (index settings such as the doc-store block size are fixed when the
/// index is created).
fn indexing_fingerprint() -> String {
    fn files(path: &Path, out: &mut Vec<PathBuf>) {
        match std::fs::read_dir(path) {
            Ok(entries) => {
                for e in entries.flatten() {
                    files(&e.path(), out);
                }
            }
            Err(_) if path.is_file() => out.push(path.to_path_buf()),
            Err(_) => {}
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    for part in ["store", "lang", "model.rs"] {
        files(&src.join(part), &mut paths);
    }
    paths.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for path in &paths {
        let name = path.strip_prefix(&src).unwrap_or(path).to_string_lossy();
        let bytes = std::fs::read(path).unwrap_or_default();
        for b in name.as_bytes().iter().chain(&[0]).chain(&bytes) {
            hash = (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// What the marker file of a built termbase records.
#[derive(serde::Serialize, serde::Deserialize, PartialEq)]
struct BuildReport {
    generator: u32,
    schema: u32,
    /// [`indexing_fingerprint`] of the sources that built the index.
    sources: String,
    concepts: usize,
    terms: u64,
    batch: usize,
    generate_secs: f64,
    write_secs: f64,
    close_secs: f64,
    index_bytes: u64,
}

impl BuildReport {
    fn print(&self, cached: bool) {
        let total = self.generate_secs + self.write_secs + self.close_secs;
        eprintln!(
            "build{} (schema {}, indexing sources {}): {} concepts ({} terms) in {:.1} s: {:.0} concepts/s written ({:.1} s in {} commits of {}), \
             {:.1} s generating, {:.1} s waiting for merges on close; {:.0} concepts/s overall; index {:.1} MiB",
            if cached { " (cached)" } else { "" },
            self.schema,
            self.sources,
            self.concepts,
            self.terms,
            total,
            self.concepts as f64 / self.write_secs,
            self.write_secs,
            self.concepts.div_ceil(self.batch),
            self.batch,
            self.generate_secs,
            self.close_secs,
            self.concepts as f64 / total,
            mib(self.index_bytes),
        );
    }
}

/// Opens the generated termbase of `concepts` concepts, building it when the cached one is missing
/// or different.
fn termbase(corpus: &Corpus, concepts: usize) -> Store {
    let name = if concepts == DEFAULT_CONCEPTS {
        "bench-termbase-1m".to_string()
    } else {
        format!("bench-termbase-{concepts}")
    };
    let dir = target_dir().join(name);
    let marker = dir.join("bench-build.json");
    let cached: Option<BuildReport> = std::fs::read_to_string(&marker)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .filter(|r: &BuildReport| {
            r.generator == GENERATOR_VERSION
                && r.schema == SCHEMA_VERSION
                && r.sources == indexing_fingerprint()
                && r.concepts == concepts
        });
    if let Some(report) = cached {
        let store = Store::open(&dir, OpenMode::ReadWrite).expect("open the cached termbase");
        let stats = store.payload().stats.total(&[]);
        if stats.concepts == concepts as u64 {
            report.print(true);
            return store;
        }
        store.close();
        drop(store);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove the old termbase");
    }
    eprintln!("building {} with {concepts} concepts", dir.display());
    let store = Store::open(&dir, OpenMode::ReadWrite).expect("create the termbase");
    let mut generate = Duration::ZERO;
    let mut write = Duration::ZERO;
    let mut terms = 0u64;
    for start in (0..concepts).step_by(BATCH) {
        let t = Instant::now();
        let batch: Vec<Concept> = (start..(start + BATCH).min(concepts))
            .map(|i| corpus.concept(i))
            .collect();
        terms += batch.iter().map(|c| c.terms().count() as u64).sum::<u64>();
        generate += t.elapsed();
        let t = Instant::now();
        store
            .write(move |txn| {
                for concept in batch {
                    txn.put(concept)?;
                }
                Ok(())
            })
            .expect("write a batch");
        let took = t.elapsed();
        write += took;
        let done = (start + BATCH).min(concepts);
        eprintln!(
            "  {done:>9} concepts, this batch {:.0} concepts/s, {:.1} s written so far",
            (done - start) as f64 / took.as_secs_f64(),
            write.as_secs_f64()
        );
    }
    // close waits for the merges, so the figures include them and the index is left as served
    let t = Instant::now();
    store.close();
    let close = t.elapsed();
    drop(store);
    let report = BuildReport {
        generator: GENERATOR_VERSION,
        schema: SCHEMA_VERSION,
        sources: indexing_fingerprint(),
        concepts,
        terms,
        batch: BATCH,
        generate_secs: generate.as_secs_f64(),
        write_secs: write.as_secs_f64(),
        close_secs: close.as_secs_f64(),
        index_bytes: dir_size(&dir.join("termbase")),
    };
    report.print(false);
    std::fs::write(
        &marker,
        serde_json::to_string_pretty(&report).expect("report serialises"),
    )
    .expect("write the build marker");
    Store::open(&dir, OpenMode::ReadWrite).expect("reopen the termbase")
}

/// A request of `mode` for `query`, restricted to its language when `with_lang`.
fn request(query: &Query, mode: Mode, with_lang: bool) -> SearchRequest {
    SearchRequest {
        q: query.text.clone(),
        mode,
        limit: 20,
        lang: with_lang.then(|| LangTag::parse(query.code).expect("a UN language tag")),
        ..Default::default()
    }
}

/// The benches: name, requests (rotated through, one per iteration).
fn cases(queries: &Queries) -> Vec<(&'static str, Vec<SearchRequest>)> {
    let all = |list: &[Query], mode, with_lang| -> Vec<SearchRequest> {
        list.iter().map(|q| request(q, mode, with_lang)).collect()
    };
    vec![
        ("auto_single_word", all(&queries.words, Mode::Auto, false)),
        (
            "auto_single_word_lang",
            all(&queries.words, Mode::Auto, true),
        ),
        ("exact", all(&queries.exact, Mode::Exact, false)),
        ("prefix", all(&queries.prefixes, Mode::Prefix, false)),
        ("fuzzy_typo", all(&queries.typos, Mode::Auto, false)),
    ]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// Times every request on its own and prints the spread over requests. The requests are run in
/// `reps` rounds over the whole list, as criterion rotates through them, so a query does not find
/// its own documents in the caches; each query's figure is the median of its rounds.
fn profile(store: &Store, name: &str, requests: &[SearchRequest], reps: usize) {
    // a first round, untimed, for the hit counts and to warm the page cache
    let firsts: Vec<(usize, bool)> = requests
        .iter()
        .map(|req| {
            let first = search(store, req).expect("search");
            let fuzzy_only = !first.hits.is_empty()
                && first.hits[0]
                    .matched
                    .iter()
                    .all(|m| m.kind == hexaglot::search::MatchKind::Fuzzy);
            (first.total, fuzzy_only)
        })
        .collect();
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(reps); requests.len()];
    for _ in 0..reps {
        for (req, t) in requests.iter().zip(&mut times) {
            let started = Instant::now();
            black_box(search(store, black_box(req)).expect("search"));
            t.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    let rows: Vec<(f64, usize, bool)> = times
        .into_iter()
        .zip(firsts)
        .map(|(mut t, (total, fuzzy_only))| {
            t.sort_by(f64::total_cmp);
            (t[t.len() / 2], total, fuzzy_only)
        })
        .collect();
    let summary = |label: &str, rows: &[&(f64, usize, bool)]| {
        if rows.is_empty() {
            return;
        }
        let mut ms: Vec<f64> = rows.iter().map(|r| r.0).collect();
        ms.sort_by(f64::total_cmp);
        let mut hits: Vec<usize> = rows.iter().map(|r| r.1).collect();
        hits.sort_unstable();
        eprintln!(
            "  {label:<22} {:>4} queries: median {:>7.3} ms, p90 {:>7.3} ms, max {:>8.3} ms, mean {:>7.3} ms; hits median {}, max {}",
            rows.len(),
            percentile(&ms, 0.5),
            percentile(&ms, 0.9),
            ms[ms.len() - 1],
            ms.iter().sum::<f64>() / ms.len() as f64,
            hits[hits.len() / 2],
            hits[hits.len() - 1],
        );
    };
    eprintln!("profile search/{name} (per query: median of {reps} rounds)");
    let all: Vec<&(f64, usize, bool)> = rows.iter().collect();
    summary("all", &all);
    if name == "fuzzy_typo" {
        let fuzzy: Vec<_> = rows.iter().filter(|r| r.2).collect();
        eprintln!(
            "  {} of {} typos answered by the typo fallback",
            fuzzy.len(),
            rows.len()
        );
    }
    for (label, low, high) in [
        ("hits 0..=60", 0, 60),
        ("hits 61..=1000", 61, 1_000),
        ("hits 1001..=10000", 1_001, 10_000),
        ("hits > 10000", 10_001, usize::MAX),
    ] {
        let band: Vec<_> = rows
            .iter()
            .filter(|r| (low..=high).contains(&r.1))
            .collect();
        summary(label, &band);
    }
}

/// Times the lookup by key that `Txn::put` makes for every concept (through `Store::get`, which
/// runs the same query on a searcher), for ids that exist and ids that do not (a bulk load).
fn key_lookups(store: &Store, concepts: usize) {
    const N: usize = 20_000;
    let step = (concepts / N).max(1);
    for (label, ids) in [
        (
            "present",
            (0..N)
                .map(|k| format!("c{:07}", (k * step) % concepts))
                .collect::<Vec<_>>(),
        ),
        ("absent", (0..N).map(|k| format!("new{k:07}")).collect()),
    ] {
        let t = Instant::now();
        let mut found = 0;
        for id in &ids {
            found += usize::from(store.get(COLLECTION, id).expect("get").is_some());
        }
        eprintln!(
            "key lookup (Store::get, as Txn::put does), {label} ids: {:.1} µs per call ({found} of {N} found)",
            t.elapsed().as_secs_f64() * 1e6 / N as f64
        );
    }
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let concepts = match std::env::var("HEXAGLOT_BENCH_CONCEPTS") {
        Ok(n) => n
            .replace('_', "")
            .parse()
            .expect("HEXAGLOT_BENCH_CONCEPTS: a number"),
        Err(_) if bench_mode => DEFAULT_CONCEPTS,
        Err(_) => TEST_CONCEPTS,
    };
    let corpus = Corpus::load();
    let store = termbase(&corpus, concepts);
    let searcher = store.searcher();
    eprintln!(
        "termbase: {} concepts in {} segments",
        searcher.num_docs(),
        searcher.segment_readers().len()
    );
    if bench_mode {
        key_lookups(&store, concepts);
    }
    let queries = build_queries(&corpus, concepts);
    let cases = cases(&queries);

    // HEXAGLOT_BENCH_PROFILE: `0` skips the profile, a bench name profiles that bench only
    let only = std::env::var("HEXAGLOT_BENCH_PROFILE").unwrap_or_default();
    if bench_mode && only != "0" {
        for (name, requests) in &cases {
            if only.is_empty() || only == *name {
                profile(&store, name, requests, 5);
            }
        }
    }

    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10))
        .configure_from_args();
    let mut group = c.benchmark_group("search");
    for (name, requests) in &cases {
        // the typo fallback takes tens of milliseconds a call: 10 samples fit in the 10 s
        group.sample_size(if *name == "fuzzy_typo" { 10 } else { 30 });
        let mut next = 0usize;
        group.bench_function(*name, |b| {
            b.iter(|| {
                let req = &requests[next % requests.len()];
                next += 1;
                search(&store, black_box(req)).expect("search")
            })
        });
    }
    group.finish();
    c.final_summary();
    store.close();
}
