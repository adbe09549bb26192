//! Property-based fuzzing (proptest) of the file readers and the analysis pipeline: real files
//! from the corpora, mutated (bytes flipped, spans cut, duplicated or replaced with markup and
//! random bytes), must give concepts/units/segments or located errors — never a panic, never an
//! error without a line and column; any text must analyse into tokens whose offsets slice the text.
//!
//! CI runs `HEXAGLOT_FUZZ_CASES` cases per target (default 64); `scripts/fuzz.sh` runs them long.
//! A failing case is printed by proptest with its seed; `tests/fixtures/fuzz/` keeps the inputs of
//! crashes found so far, replayed by `found_crashes_stay_fixed`.

use hexaglot::formats::csv::{read_glossary, Delimiter};
use hexaglot::formats::tbx::read_tbx;
use hexaglot::formats::tmx::read_tmx;
use hexaglot::formats::xliff::read_xliff;
use hexaglot::formats::FormatError;
use hexaglot::lang::{analyze, Lang};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::common::{corpus, repo};

fn cases() -> u32 {
    std::env::var("HEXAGLOT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// Runs `test` on `cases` cases of `strategy`, and, when `HEXAGLOT_FUZZ_SECONDS` is set, again
/// with fresh random seeds until that many seconds have passed; prints the cases run.
fn fuzz<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: &S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let seconds: Option<u64> = std::env::var("HEXAGLOT_FUZZ_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok());
    let start = std::time::Instant::now();
    let mut total = 0u64;
    loop {
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        if let Err(e) = runner.run(strategy, &test) {
            panic!("{name}: {e}");
        }
        total += u64::from(cases);
        match seconds {
            Some(s) if start.elapsed().as_secs() < s => continue,
            _ => break,
        }
    }
    if seconds.is_some() {
        eprintln!(
            "fuzz {name}: {total} cases passed in {:.0} s",
            start.elapsed().as_secs_f64()
        );
    }
}

/// Seeds: real files of one format.
fn seeds(paths: &[&str]) -> Vec<Vec<u8>> {
    paths
        .iter()
        .map(|p| std::fs::read(corpus(p)).unwrap_or_else(|e| panic!("{p}: {e}")))
        .collect()
}

/// Markup and bytes that readers meet at their edges.
const SPLICES: &[&[u8]] = &[
    b"<",
    b">",
    b"</",
    b"/>",
    b"&",
    b"&amp;",
    b"&#0;",
    b"&#xD800;",
    b"&unknown;",
    b"<![CDATA[",
    b"]]>",
    b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]>",
    b"<?xml version=\"1.0\" encoding=\"utf-16\"?>",
    b"\xEF\xBB\xBF",
    b"\xFF\xFE",
    b"\xC3",
    b"\x00",
    b"\"",
    b"\t",
    b"\r\n",
    b"xml:lang=\"\"",
    b"<term>",
    b"<tuv xml:lang=\"zz\"><seg>",
    b"<seg>",
    b"<source>",
    b"<bpt i=\"1\">",
    b"<ept i=\"9\"/>",
    b"<mrk mtype=\"seg\" mid=\"1\">",
];

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Cut(usize, usize),
    Duplicate(usize, usize),
    Splice(usize, usize),
    Bytes(usize, Vec<u8>),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::Flip(a, b)),
        (any::<usize>(), 0usize..200).prop_map(|(a, n)| Edit::Cut(a, n)),
        (any::<usize>(), 0usize..400).prop_map(|(a, n)| Edit::Duplicate(a, n)),
        (any::<usize>(), 0..SPLICES.len()).prop_map(|(a, i)| Edit::Splice(a, i)),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 0..16)
        )
            .prop_map(|(a, b)| Edit::Bytes(a, b)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn mutate(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for e in edits {
        let len = data.len().max(1);
        match e {
            Edit::Flip(at, b) => {
                if !data.is_empty() {
                    data[at % len] ^= b | 1;
                }
            }
            Edit::Cut(at, n) => {
                let at = at % len;
                let end = (at + n).min(data.len());
                if at < end {
                    data.drain(at..end);
                }
            }
            Edit::Duplicate(at, n) => {
                let at = at % len;
                let end = (at + n).min(data.len());
                let copy: Vec<u8> = data.get(at..end).map(<[u8]>::to_vec).unwrap_or_default();
                let insert_at = end.min(data.len());
                data.splice(insert_at..insert_at, copy);
            }
            Edit::Splice(at, i) => {
                let at = (at % len).min(data.len());
                data.splice(at..at, SPLICES[*i].iter().copied());
            }
            Edit::Bytes(at, bytes) => {
                let at = (at % len).min(data.len());
                data.splice(at..at, bytes.iter().copied());
            }
            Edit::Truncate(at) => data.truncate(at % len),
        }
    }
    data
}

fn located(e: &FormatError) -> Result<(), TestCaseError> {
    prop_assert!(!e.issues.is_empty(), "an error without issues: {e}");
    for i in &e.issues {
        prop_assert!(i.line >= 1 && i.column >= 1, "unlocated issue {i:?}");
        prop_assert!(!i.message.is_empty());
    }
    Ok(())
}

/// Runs `read` on mutations of `seeds`.
fn fuzz_reader(name: &str, seeds: Vec<Vec<u8>>, read: impl Fn(&[u8]) -> Option<FormatError>) {
    let strategy = (0..seeds.len(), proptest::collection::vec(edit(), 1..6));
    fuzz(name, cases(), &strategy, |(which, edits)| {
        let input = mutate(&seeds[which], &edits);
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(&input))) {
            Ok(None) => Ok(()),
            Ok(Some(err)) => located(&err),
            Err(_) => Err(TestCaseError::fail(format!(
                "{name} panicked on {} bytes: {:?}",
                input.len(),
                String::from_utf8_lossy(&input[..input.len().min(400)])
            ))),
        }
    });
}

#[test]
fn tbx_reader_survives_mutated_files() {
    let seeds = seeds(&[
        "tbx/ltac-tbx-basic-astronomy-dca.tbx",
        "tbx/okapi-ibm.tbx",
        "tbx/okapi-sdl.tbx",
        "tbx/okapi-test01-bom.tbx",
    ]);
    fuzz_reader("tbx", seeds, |b| read_tbx(b, "fuzz").err());
}

#[test]
fn tmx_reader_survives_mutated_files() {
    let dir = corpus("tmx/lisa-compliance-kit");
    let mut paths: Vec<String> = Vec::new();
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("tmx")) {
                out.push(p.to_string_lossy().into_owned());
            }
        }
    }
    walk(&dir, &mut paths);
    paths.sort();
    paths.truncate(12);
    assert!(!paths.is_empty());
    let seeds: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    fuzz_reader("tmx", seeds, |b| read_tmx(b).err());
}

#[test]
fn xliff_reader_survives_mutated_files() {
    let seeds = seeds(&[
        "xliff/oasis-21-sample1.xlf",
        "xliff/oasis-21-withCDataSections.xlf",
        "xliff/okapi-memoq-12.xlf",
        "xliff/okapi-trados2009-12.xlf",
    ]);
    fuzz_reader("xliff", seeds, |b| read_xliff(b).err());
}

#[test]
fn csv_reader_survives_mutated_files() {
    let sample = std::fs::read(repo().join("glossaries/un-cybercrime-convention.tsv")).unwrap();
    let csv = b"en,fr,zh-CN\nHanoi Convention,\"Convention de Hano\xc3\xaf\",\xe6\xb2\xb3\xe5\x86\x85\xe5\x85\xac\xe7\xba\xa6\ncybercrime;cyber crime,cybercriminalit\xc3\xa9|cyber-criminalit\xc3\xa9,\n".to_vec();
    fuzz_reader("tsv", vec![sample.clone()], |b| {
        read_glossary(b, Delimiter::Tab, "fuzz").err()
    });
    fuzz_reader("csv", vec![csv], |b| {
        read_glossary(b, Delimiter::Comma, "fuzz").err()
    });
}

#[test]
fn analysis_offsets_always_slice_the_text() {
    let langs = [Lang::Ar, Lang::Zh, Lang::En, Lang::Fr, Lang::Ru, Lang::Es];
    // any Unicode, with a bias towards the six scripts, marks, digits and punctuation
    let text = prop_oneof![
        any::<String>(),
        "[a-zA-Zéèêëïîôœçàâùû' \u{2019}\u{0301}\u{0308}-]{0,40}",
        "[а-яА-ЯёЁ\u{0301} ,.-]{0,40}",
        "[\u{0600}-\u{06FF}\u{0640}\u{064B}-\u{0652} ]{0,40}",
        "[\u{4E00}-\u{4FFF}\u{3000}-\u{303F}\u{FF10}-\u{FF19} a-z0-9]{0,30}",
    ];
    fuzz(
        "analysis",
        cases() * 4,
        &(0..langs.len(), text),
        |(l, text)| analysis_holds(langs[l], &text),
    );
}

/// What every analysis must give: tokens whose offsets slice the text, in order, with a key and
/// a normalised form.
fn analysis_holds(lang: Lang, text: &str) -> Result<(), TestCaseError> {
    let tokens = std::panic::catch_unwind(|| analyze(lang, text))
        .map_err(|_| TestCaseError::fail(format!("analyze panicked on {text:?}")))?;
    let chars = text.chars().count();
    let mut last = 0;
    for t in &tokens {
        prop_assert!(t.start < t.end && t.end <= chars, "{t:?} in {text:?}");
        prop_assert!(text.is_char_boundary(t.byte_start) && text.is_char_boundary(t.byte_end));
        prop_assert!(t.byte_start < t.byte_end && t.byte_end <= text.len());
        let by_chars: String = text.chars().skip(t.start).take(t.end - t.start).collect();
        prop_assert_eq!(&by_chars, &text[t.byte_start..t.byte_end]);
        prop_assert!(t.position >= last, "positions go back in {text:?}");
        last = t.position;
        prop_assert!(
            !t.key.is_empty() && !t.norm.is_empty(),
            "{t:?} in {lang:?} {text:?}"
        );
        prop_assert!(t.alt.as_deref() != Some(""), "{t:?} in {lang:?} {text:?}");
    }
    Ok(())
}

#[test]
fn found_crashes_stay_fixed() {
    let dir = repo().join("tests/fixtures/fuzz");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let err = match name.split('-').next().unwrap_or("") {
            "tbx" => read_tbx(&bytes, "fuzz").err(),
            "tmx" => read_tmx(&bytes).err(),
            "xliff" => read_xliff(&bytes).err(),
            "csv" => read_glossary(&bytes, Delimiter::Comma, "fuzz").err(),
            "tsv" => read_glossary(&bytes, Delimiter::Tab, "fuzz").err(),
            // analysis-<lang>-<name>: a text the analysis of <lang> got wrong
            "analysis" => {
                let code = name.split('-').nth(1).unwrap_or("");
                let lang = hexaglot::lang::LangTag::parse(code).unwrap().lang;
                let text = String::from_utf8(bytes).unwrap();
                analysis_holds(lang, &text).unwrap_or_else(|e| panic!("{name}: {e}"));
                continue;
            }
            _ => continue,
        };
        if let Some(err) = err {
            located(&err).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
