//! The TBX import as `hexaglot import` and `POST /api/v1/import` run it: the file streams into
//! one transaction, so a problem late in the file undoes everything written before it; modes,
//! dry runs and progress on that path; and the pre-analysed index terms are exactly what the
//! languages' registered tokenizers make of the texts.

use std::sync::{Arc, Mutex};

use hexaglot::formats::tbx::read_tbx;
use hexaglot::import::{import, ImportError, ImportFormat, ImportMode, ImportOptions, Progress};
use hexaglot::lang::{analyze, pre_tokenized, register_tokenizers, tokenizer_name, zh_bigrams};
use hexaglot::lang::{Analysis, Lang};
use hexaglot::model::Concept;
use hexaglot::store::{register_pre_analysed, write_pre_analysed, OpenMode, Store, PRE_ANALYSED};
use tantivy::tokenizer::{Token, TokenizerManager};

/// A TBX 2019 entry: `(language, term, status)` per term.
fn entry(id: &str, terms: &[(&str, &str, &str)]) -> String {
    let mut out = format!("<conceptEntry id=\"{id}\">");
    for (lang, text, status) in terms {
        out.push_str(&format!(
            "<langSec xml:lang=\"{lang}\"><termSec><term>{text}</term>\
             <termNote type=\"administrativeStatus\">{status}</termNote></termSec></langSec>"
        ));
    }
    out.push_str("</conceptEntry>\n");
    out
}

fn tbx(entries: &[String], tail: &str) -> Vec<u8> {
    let mut out = String::from(
        "<?xml version=\"1.0\"?>\n<tbx type=\"TBX-Basic\" style=\"dca\"><text><body>\n",
    );
    for e in entries {
        out.push_str(e);
    }
    out.push_str(tail);
    out.into_bytes()
}

const END: &str = "</body></text></tbx>\n";

/// `n` entries `g0`, `g1`... with a preferred English and an admitted French term each.
fn generated(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            entry(
                &format!("g{i}"),
                &[
                    (
                        "en",
                        &format!("generated term {i}"),
                        "preferredTerm-admn-sts",
                    ),
                    ("fr", &format!("terme généré {i}"), "admittedTerm-admn-sts"),
                ],
            )
        })
        .collect()
}

fn opts(collection: &str, mode: ImportMode, dry_run: bool) -> ImportOptions {
    ImportOptions {
        collection: collection.to_string(),
        mode,
        dry_run,
    }
}

fn run(
    store: &Store,
    file: &[u8],
    opts: &ImportOptions,
) -> Result<hexaglot::import::ImportReport, ImportError> {
    import(store, file.to_vec(), ImportFormat::Tbx, None, opts, None)
}

/// Every concept of a collection, by id, without version and time (for before/after).
fn contents(store: &Store, collection: &str) -> Vec<Concept> {
    let mut all = store.concepts_in(collection).unwrap();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    all
}

#[test]
fn a_problem_late_in_the_file_leaves_the_termbase_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let first = tbx(&[entry("keep", &[("en", "kept term", "preferred")])], END);
    run(&store, &first, &opts("g", ImportMode::Merge, false)).unwrap();
    let before = contents(&store, "g");
    let stats = store.payload().stats.clone();
    // thousands of good entries stream into the transaction before each problem is reached
    let many = generated(3000);
    let broken = [
        // a <termSec> without <term> in the last entry
        tbx(
            &[
                many.clone(),
                vec!["<conceptEntry id=\"bad\"><langSec xml:lang=\"en\"><termSec/></langSec></conceptEntry>\n".to_string()],
            ]
            .concat(),
            END,
        ),
        // the root is never closed
        tbx(&many, "</body></text>\n"),
        // a duplicate id at the end
        tbx(
            &[many.clone(), vec![entry("g7", &[("en", "again", "preferred")])]].concat(),
            END,
        ),
    ];
    for (i, file) in broken.iter().enumerate() {
        for (collection, mode) in [
            ("g", ImportMode::Replace),
            ("g", ImportMode::Merge),
            ("other", ImportMode::Merge),
        ] {
            let err = run(&store, file, &opts(collection, mode, false)).unwrap_err();
            let ImportError::Format(err) = err else {
                panic!("file {i}: {err}");
            };
            // found at the end of the file (an unclosed root is reported where it opens)
            assert!(i == 1 || err.issues[0].line > 3000, "file {i}: {err}");
            assert_eq!(
                contents(&store, "g"),
                before,
                "file {i}, {collection} {mode:?}"
            );
            assert!(store.concepts_in("other").unwrap().is_empty());
            assert_eq!(store.payload().stats, stats, "file {i}");
        }
    }
    // the same entries without the problem go in whole
    let report = run(
        &store,
        &tbx(&many, END),
        &opts("g", ImportMode::Merge, false),
    )
    .unwrap();
    assert_eq!(report.concepts.added, 3000);
    assert_eq!(store.payload().stats.total(&["g".into()]).concepts, 3001);
    assert_eq!(store.get("g", "keep").unwrap().unwrap(), before[0]);
}

#[test]
fn merge_replace_and_dry_run_on_the_streamed_path() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let file = tbx(&generated(1500), END);
    let report = run(&store, &file, &opts("g", ImportMode::Merge, false)).unwrap();
    assert_eq!(report.format, "tbx");
    assert_eq!(
        (report.concepts.added, report.concepts.unchanged),
        (1500, 0)
    );
    let parsed = read_tbx(&file, "g").unwrap().concepts;
    for c in [&parsed[0], &parsed[1499]] {
        let stored = store.get("g", &c.id).unwrap().unwrap();
        assert!(stored.same_content(c), "{}", c.id);
        assert_eq!(stored.version, 1);
    }
    // idempotent
    let again = run(&store, &file, &opts("g", ImportMode::Merge, false)).unwrap();
    assert_eq!((again.concepts.added, again.concepts.unchanged), (0, 1500));
    let stats = store.payload().stats.clone();
    assert_eq!(stats.total(&[]).terms, 3000);

    // a smaller file with one changed entry and one new one
    let mut smaller = generated(10);
    smaller[3] = entry(
        "g3",
        &[
            ("en", "generated term 3", "preferred"),
            ("es", "término 3", "admitted"),
        ],
    );
    smaller.push(entry("new", &[("ru", "новый термин", "preferred")]));
    let smaller = tbx(&smaller, END);
    for dry_run in [true, false] {
        let r = run(&store, &smaller, &opts("g", ImportMode::Replace, dry_run)).unwrap();
        let c = &r.concepts;
        assert_eq!(
            (c.added, c.updated, c.unchanged, c.removed),
            (1, 1, 9, 1490),
            "dry run {dry_run}"
        );
        assert_eq!(r.dry_run, dry_run);
        if dry_run {
            assert_eq!(store.payload().stats, stats, "a dry run changes nothing");
        }
    }
    let total = store.payload().stats.total(&["g".into()]);
    assert_eq!((total.concepts, total.terms), (11, 21));
    let g3 = store.get("g", "g3").unwrap().unwrap();
    assert_eq!(g3.version, 2);
    assert!(
        !g3.languages.contains_key("fr"),
        "replace drops what the file lacks"
    );
    assert_eq!(g3.languages["es"].terms[0].text, "término 3");
    assert!(store.get("g", "g500").unwrap().is_none());
    // merge adds back without dropping
    let r = run(&store, &file, &opts("g", ImportMode::Merge, false)).unwrap();
    assert_eq!((r.concepts.added, r.concepts.updated), (1490, 1));
    let g3 = store.get("g", "g3").unwrap().unwrap();
    assert!(g3.languages.contains_key("fr") && g3.languages.contains_key("es"));
    assert_eq!(store.payload().stats.total(&["g".into()]).concepts, 1501);
}

#[test]
fn an_entry_matched_by_its_preferred_term_then_by_its_id_keeps_both() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let first = tbx(&[entry("x", &[("en", "alpha", "preferred")])], END);
    run(&store, &first, &opts("g", ImportMode::Merge, false)).unwrap();
    // `y` meets `x` through its preferred term; later `x` itself comes
    let file = tbx(
        &[
            entry(
                "y",
                &[
                    ("en", "Alpha", "preferred"),
                    ("fr", "alpha-fr", "preferred"),
                ],
            ),
            entry(
                "x",
                &[("en", "alpha", "preferred"), ("es", "alfa", "preferred")],
            ),
        ],
        END,
    );
    for dry_run in [true, false] {
        let r = run(&store, &file, &opts("g", ImportMode::Merge, dry_run)).unwrap();
        assert_eq!((r.concepts.added, r.concepts.updated), (0, 2), "{dry_run}");
    }
    let x = store.get("g", "x").unwrap().unwrap();
    let langs: Vec<&str> = x.languages.keys().map(String::as_str).collect();
    assert_eq!(langs, ["en", "es", "fr"]);
    assert!(store.get("g", "y").unwrap().is_none());
    let total = store.payload().stats.total(&["g".into()]);
    assert_eq!((total.concepts, total.terms), (1, 4));
}

#[test]
fn progress_runs_to_the_exact_count() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let calls: Arc<Mutex<Vec<(u64, u64)>>> = Arc::default();
    let seen = calls.clone();
    let progress: Progress = Arc::new(move |done, total| seen.lock().unwrap().push((done, total)));
    let file = tbx(&generated(4321), END);
    import(
        &store,
        file,
        ImportFormat::Tbx,
        None,
        &opts("g", ImportMode::Merge, false),
        Some(progress),
    )
    .unwrap();
    let calls = calls.lock().unwrap();
    assert!(calls.len() >= 4, "{calls:?}");
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0), "{calls:?}");
    assert!(calls.iter().all(|(done, total)| done <= total), "{calls:?}");
    // the estimate from the share of the file read is close before the end
    let (done, total) = calls[calls.len() - 2];
    assert!(done >= 4000 && total.abs_diff(4321) < 100, "{calls:?}");
    assert_eq!(calls.last(), Some(&(4321, 4321)));
}

/// Texts that exercise the tokenizers: devset lines in every language and edge cases.
fn texts() -> Vec<String> {
    let mut texts: Vec<String> = [
        "",
        "   ",
        "—",
        "l'État de droit, jusqu'à l’ONU",
        "The Secretary-General's 2.500 reports (0,4 %)",
        "Hano\u{0069}\u{0308} ＵＮ２０２４ ０．４％",
        "联合国宪章 UN 打击网络犯罪（2024年）法",
        "والأمم المتحدة للجرائم السيبرانيّة ٢٠٢٤",
        "Генеральной Ассамблеи, ёлка; Ð ß ΣΊΣΥΦΟΣ",
    ]
    .map(str::to_string)
    .to_vec();
    for lang in ["ar", "zh", "en", "fr", "ru", "es"] {
        let path = crate::common::corpus(&format!("unpc-devset/UNv1.0.devset.{lang}"));
        let lines = std::fs::read_to_string(path).unwrap();
        texts.extend(lines.lines().take(400).map(str::to_string));
    }
    texts
}

fn tokenizer_tokens(manager: &TokenizerManager, name: &str, text: &str) -> Vec<Token> {
    let mut analyzer = manager.get(name).unwrap();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    stream.process(&mut |t: &Token| out.push(t.clone()));
    out
}

/// Text and position of each token.
fn keys(tokens: &[Token]) -> Vec<(&str, usize)> {
    tokens
        .iter()
        .map(|t| (t.text.as_str(), t.position))
        .collect()
}

#[test]
fn pre_analysed_values_are_what_the_registered_tokenizers_make() {
    let manager = TokenizerManager::default();
    register_tokenizers(&manager);
    register_pre_analysed(&manager);
    let mut compared = 0;
    let mut check = |name: &str, text: &str, analysis: &[hexaglot::lang::Token]| {
        // tantivy's pre-tokenised string of the analysis: same tokens, offsets included
        let pre = pre_tokenized(text, analysis);
        assert_eq!(pre.text, text);
        let tokens = tokenizer_tokens(&manager, name, text);
        assert_eq!(pre.tokens, tokens, "{name} {text:?}");
        // the pre-analysed value the termbase indexes: same keys at the same positions (tantivy
        // indexes no offsets)
        let mut value = String::new();
        write_pre_analysed(&mut value, analysis);
        let read = tokenizer_tokens(&manager, PRE_ANALYSED, &value);
        assert_eq!(keys(&read), keys(&tokens), "{name} {text:?}");
        compared += tokens.len();
    };
    for text in texts() {
        for lang in Lang::ALL {
            let name = tokenizer_name(lang, Analysis::Words);
            check(&name, &text, &analyze(lang, &text));
        }
        let name = tokenizer_name(Lang::Zh, Analysis::Bigrams);
        check(&name, &text, &zh_bigrams(&text));
    }
    assert!(compared > 100_000, "{compared}");
}

#[test]
fn the_cli_refuses_a_file_with_a_late_problem_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let good = dir.path().join("good.tbx");
    let bad = dir.path().join("bad.tbx");
    std::fs::write(&good, tbx(&generated(1200), END)).unwrap();
    let mut broken = generated(1200);
    broken.push("<conceptEntry id=\"x\"><langSec><termSec><term>t</term></termSec></langSec></conceptEntry>\n".into());
    std::fs::write(&bad, tbx(&broken, END)).unwrap();
    let cli = |file: &std::path::Path, extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_hexaglot"))
            .args([
                "import",
                file.to_str().unwrap(),
                "--data-dir",
                data,
                "--collection",
                "g",
            ])
            .args(extra)
            .env("HEXAGLOT_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = cli(&good, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1200 added"));
    let out = cli(&bad, &["--mode", "replace"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 1203, column") && err.contains("without xml:lang"),
        "{err}"
    );
    assert!(err.contains("not imported"), "{err}");
    let out = cli(&good, &["--dry-run", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["concepts"]["unchanged"], 1200, "{report}");
    assert_eq!(report["concepts"]["removed"], 0, "{report}");
}
