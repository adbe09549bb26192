//! The translation memory: scores, fuzzy lookup quality against an exhaustive scan, concordance,
//! imports and the HTTP API end to end.

use hexaglot::lang::Lang;
use hexaglot::search::tm::score;

/// One row: language, query, stored source, expected score (and whether only numbers differ).
fn check_score(lang: Lang, query: &str, stored: &str, expected: u8, number_only: bool) {
    let s = score(lang, query, stored);
    assert_eq!(s.score, expected, "{query:?} vs {stored:?}: {s:?}");
    assert_eq!(s.number_only, number_only, "{query:?} vs {stored:?}: {s:?}");
}

#[test]
fn reference_scores() {
    let cases: &[(Lang, &str, &str, u8, bool)] = &[
        // the reference cases other TM tools agree on
        (Lang::En, "word", "words", 80, false),
        (Lang::En, "word", "wood", 75, false),
        (Lang::En, "Member States", "Member States:", 99, false),
        // identical after whitespace normalisation, and nothing else
        (
            Lang::En,
            "The  Hanoi Convention ",
            "The Hanoi Convention",
            100,
            false,
        ),
        (
            Lang::En,
            "the Hanoi Convention",
            "The Hanoi Convention",
            99,
            false,
        ),
        (
            Lang::Fr,
            "Convention de Hanoi",
            "Convention de Hanoï",
            99,
            false,
        ),
        (Lang::En, "in 2024 and 2025", "in 2023 and 2025", 98, true),
        (Lang::En, "in 2024 and 2026", "in 2023 and 2025", 97, true),
        (Lang::En, "a (b) c", "a ( b ) c", 99, false),
        (Lang::En, "The black cat", "The {1}black{/1} cat", 98, false),
        // one inflected word in a short sentence: about a tenth of a word, capped below 95
        (
            Lang::En,
            "the conventions apply",
            "the convention applies",
            82,
            false,
        ),
        (
            Lang::En,
            "signed the convention",
            "the convention",
            66,
            false,
        ),
        (Lang::Zh, "联合国宪章", "联合国宪章", 100, false),
        (Lang::Zh, "联合国宪章", "联合国宪法", 80, false),
        (
            Lang::Ru,
            "Генеральной Ассамблеи",
            "Генеральная Ассамблея",
            85,
            false,
        ),
        (Lang::En, "", "anything", 0, false),
    ];
    for (lang, query, stored, expected, number_only) in cases {
        check_score(*lang, query, stored, *expected, *number_only);
    }
}

// ---------------------------------------------------------------------------------------------
// The UN devset as one six-language TM

use std::collections::BTreeMap;
use std::sync::OnceLock;

use hexaglot::formats::tmx::{read_tmx, TmxWriter};
use hexaglot::import::{ImportMode, ImportOptions};
use hexaglot::lang::LangTag;
use hexaglot::model::TranslationUnit;
use hexaglot::search::tm::{
    concordance, lookup, BruteForce, ConcordanceRequest, DiffKind, LookupRequest,
};
use hexaglot::store::tm::TmStore;
use hexaglot::store::OpenMode;

use crate::common::corpus;

const UN: [&str; 6] = ["ar", "en", "es", "fr", "ru", "zh"];

/// The devset's 4,000 lines, one `[ar, en, es, fr, ru, zh]` array a line.
fn devset_lines() -> Vec<[String; 6]> {
    let files: Vec<Vec<String>> = UN
        .iter()
        .map(|l| {
            let path = corpus(&format!("unpc-devset/UNv1.0.devset.{l}"));
            std::fs::read_to_string(path)
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect()
        })
        .collect();
    (0..files[0].len())
        .map(|i| std::array::from_fn(|l| files[l][i].clone()))
        .collect()
}

/// The devset converted to TMX: one six-way unit a line, source English, `tuid` the line number.
fn devset_tmx() -> Vec<u8> {
    let mut writer = TmxWriter::new(Vec::new(), Some("en")).unwrap();
    for (i, line) in devset_lines().iter().enumerate() {
        let unit = TranslationUnit {
            id: format!("devset-{}", i + 1),
            collection: "unpc".into(),
            variants: UN
                .iter()
                .zip(line.iter())
                .map(|(l, t)| (l.to_string(), t.clone()))
                .collect(),
            origin: None,
            note: None,
            source_lang: Some("en".into()),
            created_at: "2016-05-01T00:00:00Z".into(),
            changed_at: None,
            tmx: Default::default(),
        };
        writer.write(&unit).unwrap();
    }
    writer.finish().unwrap()
}

struct Devset {
    _dir: tempfile::TempDir,
    tm: TmStore,
    lines: Vec<[String; 6]>,
    added: u64,
    duplicates: u64,
}

/// The devset imported once (through the TMX reader and the import) for the tests below.
fn devset() -> &'static Devset {
    static DEVSET: OnceLock<Devset> = OnceLock::new();
    DEVSET.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let tm = TmStore::open(dir.path(), OpenMode::ReadWrite).unwrap();
        let parsed = read_tmx(&devset_tmx()).unwrap();
        assert_eq!(parsed.units.len(), 4000);
        assert!(parsed.units.iter().all(|u| u.variants.len() == 6));
        let opts = merge_into("unpc");
        let report = hexaglot::tm::import_tmx(&tm, parsed, &opts, None, None).unwrap();
        Devset {
            _dir: dir,
            tm,
            lines: devset_lines(),
            added: report.units.added,
            duplicates: report.units.duplicates,
        }
    })
}

#[test]
fn devset_imports_as_one_six_language_tm_and_again_adds_nothing() {
    let d = devset();
    // a few devset lines are the same in all six languages as another line
    assert_eq!(d.added + d.duplicates, 4000);
    assert!(d.added > 3900, "{}", d.added);
    let stats = d.tm.stats().total(&[]);
    assert_eq!(stats.units, d.added);
    let langs: Vec<&String> = stats.languages.keys().collect();
    assert_eq!(langs, UN);
    assert!(stats.languages.values().all(|n| *n == d.added));
    let opts = merge_into("unpc");
    let again = read_tmx(&devset_tmx()).unwrap();
    let report = hexaglot::tm::import_tmx(&d.tm, again, &opts, None, None).unwrap();
    assert_eq!((report.units.added, report.units.duplicates), (0, 4000));
    assert_eq!(d.tm.stats().total(&[]).units, d.added);
}

/// A tiny deterministic generator for the perturbed queries.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

/// A devset sentence with words dropped, inserted, swapped or numbers changed (Chinese: by
/// characters).
fn perturb(rng: &mut Lcg, text: &str, other: &str, zh: bool) -> String {
    let split = |t: &str| -> Vec<String> {
        if zh {
            t.chars().map(|c| c.to_string()).collect()
        } else {
            t.split_whitespace().map(str::to_string).collect()
        }
    };
    let mut words = split(text);
    let donor = split(other);
    let edits = 1 + rng.next(3);
    for _ in 0..edits {
        if words.len() < 3 {
            break;
        }
        let i = rng.next(words.len());
        match rng.next(4) {
            0 => {
                words.remove(i);
            }
            1 => {
                let w = donor[rng.next(donor.len())].clone();
                words.insert(i, w);
            }
            2 if i + 1 < words.len() => words.swap(i, i + 1),
            _ => match words
                .iter()
                .position(|w| w.chars().any(|c| c.is_ascii_digit()))
            {
                Some(j) => {
                    words[j] = words[j]
                        .chars()
                        .map(|c| match c.to_digit(10) {
                            Some(d) => char::from_digit((d + 1) % 10, 10).unwrap(),
                            None => c,
                        })
                        .collect()
                }
                None => {
                    words.remove(i);
                }
            },
        }
    }
    if zh {
        words.concat()
    } else {
        words.join(" ")
    }
}

/// Recall@1 of the indexed lookup against an exhaustive scan with the same score, on 500
/// perturbed devset sentences spread over the six languages; exact sentences score 100.
#[test]
fn lookup_top_match_equals_the_exhaustive_best() {
    let d = devset();
    let mut rng = Lcg(2026);
    let brute: Vec<BruteForce> = UN
        .iter()
        .map(|l| BruteForce::new(&d.tm, &LangTag::parse(l).unwrap()).unwrap())
        .collect();
    let mut agree = 0;
    let mut misses = Vec::new();
    let queries = 500;
    for q in 0..queries {
        let l = q % 6;
        let line = &d.lines[rng.next(d.lines.len())];
        let other = &d.lines[rng.next(d.lines.len())];
        let query = perturb(&mut rng, &line[l], &other[l], UN[l] == "zh");
        let tag = LangTag::parse(UN[l]).unwrap();
        let req = LookupRequest {
            text: query.clone(),
            source_lang: tag,
            target_langs: vec![],
            min_score: 0,
            limit: 1,
            collections: vec![],
        };
        let top = lookup(&d.tm, &req)
            .unwrap()
            .matches
            .first()
            .map(|m| m.score);
        let best = brute[l].best(&query).map(|(s, _)| s);
        if top == best {
            agree += 1;
        } else {
            misses.push((UN[l], query, top, best));
        }
    }
    let recall = agree as f64 / queries as f64;
    assert!(recall >= 0.99, "recall@1 {recall}: {misses:#?}");
    // exact sentences
    for i in (0..4000).step_by(331) {
        for (l, lang) in UN.iter().enumerate() {
            let req = LookupRequest {
                text: d.lines[i][l].clone(),
                source_lang: LangTag::parse(lang).unwrap(),
                target_langs: vec![if *lang == "en" { "fr" } else { "en" }.into()],
                min_score: 100,
                limit: 5,
                collections: vec![],
            };
            let matches = lookup(&d.tm, &req).unwrap().matches;
            assert!(
                matches.first().is_some_and(|m| m.score == 100),
                "{lang} line {}: {matches:?}",
                i + 1
            );
        }
    }
}

#[test]
fn concordance_finds_phrases_with_code_point_highlights() {
    let d = devset();
    // (language, query, a word every highlight's text must fold to one of)
    let cases: &[(&str, &str, &[&str])] = &[
        ("en", "Security Council", &["security", "council"]),
        ("fr", "Conseil de sécurité", &["conseil", "de", "securite"]),
        ("ru", "Совета Безопасности", &["совета", "безопасности"]),
        ("zh", "安全理事会", &["安全理事会"]),
    ];
    for (lang, q, words) in cases {
        let req = ConcordanceRequest {
            q: q.to_string(),
            lang: LangTag::parse(lang).unwrap(),
            targets: vec!["en".into()],
            limit: 20,
            collections: vec![],
        };
        let resp = concordance(&d.tm, &req).unwrap();
        assert!(resp.total >= 5, "{lang} {q}: {}", resp.total);
        assert_eq!(resp.hits.len(), 20.min(resp.total));
        for hit in &resp.hits {
            assert!(!hit.highlights.is_empty(), "{hit:?}");
            assert!(hit.targets.contains_key("en") || *lang == "en");
            for h in &hit.highlights {
                let text: String = hit
                    .source
                    .chars()
                    .skip(h.start)
                    .take(h.end - h.start)
                    .collect();
                // the word itself or an inflection of it (same first four letters)
                let folded = hexaglot::lang::fold_diacritics(&text.to_lowercase());
                let stem = |w: &str| -> String { w.chars().take(4).collect() };
                assert!(
                    words.iter().any(|w| folded.starts_with(&stem(w)))
                        || words.iter().any(|w| w.contains(folded.as_str())),
                    "{lang}: highlight {text:?} in {:?}",
                    hit.source
                );
            }
        }
    }
}

#[test]
fn lookup_diff_and_number_transfer() {
    let d = devset();
    // a devset sentence with a number, changed
    let (i, en) = d
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| (i, &l[1]))
        .find(|(_, t)| t.contains("2015") && t.split_whitespace().count() > 8)
        .unwrap();
    let changed = en.replacen("2015", "2016", 1);
    let req = LookupRequest {
        text: changed.clone(),
        source_lang: LangTag::parse("en").unwrap(),
        target_langs: vec!["fr".into(), "zh".into()],
        min_score: 70,
        limit: 3,
        collections: vec![],
    };
    let m = &lookup(&d.tm, &req).unwrap().matches[0];
    assert_eq!(m.source, *en, "line {}", i + 1);
    assert!((95..100).contains(&m.score), "{m:?}");
    assert!(m.number_only, "{m:?}");
    let keys: Vec<&String> = m.targets.keys().collect();
    assert_eq!(keys, ["fr", "zh"]);
    let deleted: String = m
        .diff
        .iter()
        .filter(|o| o.op == DiffKind::Delete)
        .map(|o| o.text.as_str())
        .collect();
    let inserted: String = m
        .diff
        .iter()
        .filter(|o| o.op == DiffKind::Insert)
        .map(|o| o.text.as_str())
        .collect();
    assert_eq!((deleted.as_str(), inserted.as_str()), ("2015", "2016"));
    // equal + delete pieces give back the stored source, equal + insert the query
    let rebuild = |keep: DiffKind| -> String {
        m.diff
            .iter()
            .filter(|o| o.op == DiffKind::Equal || o.op == keep)
            .map(|o| o.text.as_str())
            .collect()
    };
    assert_eq!(rebuild(DiffKind::Delete), *en);
    assert_eq!(rebuild(DiffKind::Insert), changed);
}

#[test]
fn devset_units_export_and_read_back_the_same() {
    let d = devset();
    let mut out = Vec::new();
    let written = hexaglot::tm::export_tmx(&d.tm, &["unpc".to_string()], &[], &mut out).unwrap();
    assert_eq!(written, d.added);
    let back = read_tmx(&out).unwrap();
    let mut by_id: BTreeMap<String, TranslationUnit> = BTreeMap::new();
    d.tm.for_each_unit(&[], |u| -> Result<(), hexaglot::store::StoreError> {
        by_id.insert(u.id.clone(), u);
        Ok(())
    })
    .unwrap();
    for unit in back.units {
        let stored = &by_id[&unit.id];
        assert_eq!(unit.variants, stored.variants);
        assert_eq!(unit.tmx, stored.tmx);
    }
    let mut fr_only = Vec::new();
    hexaglot::tm::export_tmx(
        &d.tm,
        &[],
        &["fr".to_string(), "en".to_string()],
        &mut fr_only,
    )
    .unwrap();
    let two = read_tmx(&fr_only).unwrap();
    assert!(two.units.iter().all(|u| u.variants.len() == 2));
}

// ---------------------------------------------------------------------------------------------
// The HTTP API end to end

use actix_web::http::{Method, StatusCode};
use actix_web::test::init_service;
use hexaglot::server::app;
use serde_json::{json, Value};

use crate::common::{enc, get, request, send, upload, Fixture};

fn kit_file(name: &str) -> Vec<u8> {
    std::fs::read(corpus(&format!("tmx/lisa-compliance-kit/{name}"))).unwrap()
}

#[actix_web::test]
async fn units_can_be_added_read_and_deleted_by_editors() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    let unit = json!({"variants": {"en": "The Hanoi Convention was opened for signature.",
                                   "FR-ca": "La Convention de Hanoï a été ouverte à la signature."},
                      "note": "signing ceremony"});
    let uri = "/api/v1/tm/units?collection=events";
    // auth: anonymous and reader may not write
    let (status, _, _) = send(&app, request(Method::POST, uri, None, Some(unit.clone()))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(
        &app,
        request(Method::POST, uri, Some(&fx.reader), Some(unit.clone())),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, headers, body) = send(
        &app,
        request(Method::POST, uri, Some(&fx.editor), Some(unit.clone())),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["added"], 1);
    let stored = &body["units"][0];
    assert_eq!(stored["collection"], "events");
    assert!(stored["variants"]["fr"]
        .as_str()
        .unwrap()
        .starts_with("La Convention"));
    let location = headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let (status, got) = get(&app, &location, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["variants"], stored["variants"]);
    // the same texts again: not stored twice
    let (status, _, body) = send(
        &app,
        request(Method::POST, uri, Some(&fx.editor), Some(json!([unit]))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["added"].as_u64(), body["duplicates"].as_u64()),
        (Some(0), Some(1))
    );
    let (_, stats) = get(&app, "/api/v1/stats?collection=events", None).await;
    assert_eq!(stats["units"], 1);
    assert_eq!(stats["languages"]["fr"]["units"], 1);
    // invalid units
    for bad in [json!({"variants": {}}), json!({"variants": {"e!": "x"}})] {
        let (status, _, _) = send(
            &app,
            request(Method::POST, uri, Some(&fx.editor), Some(bad)),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // delete
    let (status, _, _) = send(
        &app,
        request(Method::DELETE, &location, Some(&fx.editor), None),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = send(
        &app,
        request(Method::DELETE, &location, Some(&fx.editor), None),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&app, &location, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn tmx_import_lookup_concordance_and_export() {
    let fx = Fixture::new();
    let app = init_service(app(fx.state.clone())).await;
    // no format given: the content says TMX (UTF-16 with BOM)
    let (status, _, report) = send(
        &app,
        upload(
            "/api/v1/import?collection=kit",
            &fx.admin,
            kit_file("ImportTest2A.tmx"),
            "application/octet-stream",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["format"], "tmx");
    assert_eq!(
        (
            report["units"]["added"].as_u64(),
            report["units"]["duplicates"].as_u64()
        ),
        (Some(7), Some(0))
    );
    // idempotent
    let (_, _, again) = send(
        &app,
        upload(
            "/api/v1/import?format=tmx&collection=kit",
            &fx.admin,
            kit_file("ImportTest2A.tmx"),
            "application/x-tmx+xml",
        ),
    )
    .await;
    assert_eq!(
        (
            again["units"]["added"].as_u64(),
            again["units"]["duplicates"].as_u64()
        ),
        (Some(0), Some(7))
    );
    // an invalid file: 422 with line and column, nothing changed
    let bad = b"<tmx version=\"1.4\"><header/><body>\n<tu><tuv xml:lang=\"en\"><seg>a &x; b</seg></tuv></tu>\n</body></tmx>".to_vec();
    let (status, _, problem) = send(
        &app,
        upload(
            "/api/v1/import?format=tmx&collection=kit",
            &fx.admin,
            bad,
            "application/x-tmx+xml",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (
            problem["errors"][0]["line"].as_u64(),
            problem["errors"][0]["column"].as_u64()
        ),
        (Some(2), Some(31))
    );
    assert_eq!(
        problem["errors"][0]["path"], "/tmx/body/tu/tuv/seg",
        "{problem}"
    );
    let (_, stats) = get(&app, "/api/v1/stats", None).await;
    assert_eq!(stats["units"], 7);
    let (_, collections) = get(&app, "/api/v1/collections", None).await;
    let kit = collections
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "kit")
        .unwrap();
    assert_eq!(
        (kit["units"].as_u64(), kit["concepts"].as_u64()),
        (Some(7), Some(0))
    );

    // lookup: the codes do not count as words, but as a difference
    let body = json!({"text": "The big black cat sleeps.", "source_lang": "en-US",
                      "target_langs": ["fr"], "min_score": 70, "limit": 5});
    let (status, _, found) = send(
        &app,
        request(Method::POST, "/api/v1/tm/lookup", None, Some(body)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let top = &found["matches"][0];
    assert_eq!(top["source"], "The big {1}black{/1} {2}cat{/2} sleeps.");
    assert_eq!(
        top["targets"]["fr"],
        "Le gros {2}chat{/2} {1}noir{/1} dors."
    );
    assert_eq!(top["score"], 97, "{top}");
    assert!(
        top["diff"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["op"] == "equal"),
        "{top}"
    );
    let body =
        json!({"text": "The small black cat sleeps.", "source_lang": "en", "target_langs": ["fr"]});
    let (_, _, found) = send(
        &app,
        request(Method::POST, "/api/v1/tm/lookup", None, Some(body)),
    )
    .await;
    let top = &found["matches"][0];
    assert!(top["score"].as_u64().unwrap() < 95, "{top}");
    let ops: Vec<(&str, &str)> = top["diff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["op"].as_str().unwrap(), d["text"].as_str().unwrap()))
        .collect();
    assert!(
        ops.contains(&("delete", "big")) && ops.contains(&("insert", "small")),
        "{ops:?}"
    );
    let (status, _, _) = send(
        &app,
        request(
            Method::POST,
            "/api/v1/tm/lookup",
            None,
            Some(json!({"text": "x", "source_lang": "x!"})),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // concordance: highlights are code points of the returned source
    let (status, conc) = get(
        &app,
        &format!(
            "/api/v1/tm/concordance?q={}&lang=fr&target=en",
            enc("caractères spéciaux")
        ),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{conc}");
    let hit = &conc["hits"][0];
    let source: Vec<char> = hit["source"].as_str().unwrap().chars().collect();
    let spans: Vec<String> = hit["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            source[h["start"].as_u64().unwrap() as usize..h["end"].as_u64().unwrap() as usize]
                .iter()
                .collect()
        })
        .collect();
    assert_eq!(spans, ["caractères", "spéciaux"]);
    assert!(hit["targets"]["en"]
        .as_str()
        .unwrap()
        .starts_with("Test for special"));

    // export: streamed TMX with the inline codes as they came; importing it elsewhere gives the
    // same units
    let resp = actix_web::test::call_service(
        &app,
        request(
            Method::GET,
            "/api/v1/export?format=tmx&collection=kit",
            Some(&fx.admin),
            None,
        )
        .to_request(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let exported = actix_web::test::read_body(resp).await.to_vec();
    let text = String::from_utf8(exported.clone()).unwrap();
    assert!(
        text.contains(r#"<ph x='1' type='image' assoc="p">&lt;img src="img.png"/></ph>"#)
            || text.contains("<ph x=\"1\""),
        "{text}"
    );
    let (status, _, report) = send(
        &app,
        upload(
            "/api/v1/import?format=tmx&collection=copy",
            &fx.admin,
            exported,
            "application/x-tmx+xml",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["units"]["added"], 7);
    let original = read_tmx(&kit_file("ImportTest2A.tmx")).unwrap();
    for unit in &original.units {
        let (status, copy) = get(
            &app,
            &format!("/api/v1/tm/units/{}?collection=copy", enc(&unit.id)),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}", unit.id);
        let variants: BTreeMap<String, String> =
            serde_json::from_value(copy["variants"].clone()).unwrap();
        assert_eq!(variants, unit.variants);
        assert_eq!(copy["tmx"], serde_json::to_value(&unit.tmx).unwrap());
    }
    // replace mode: the file becomes the collection
    let (_, _, report) = send(
        &app,
        upload(
            "/api/v1/import?format=tmx&collection=copy&mode=replace",
            &fx.admin,
            kit_file("ImportTest1A.tmx"),
            "application/x-tmx+xml",
        ),
    )
    .await;
    assert_eq!(report["units"]["added"], 2);
    let (_, stats) = get(&app, "/api/v1/stats?collection=copy", None).await;
    assert_eq!(stats["units"], 2);
    // admin only
    let (status, _, _) = send(
        &app,
        upload(
            "/api/v1/import?format=tmx",
            &fx.editor,
            kit_file("ImportTest1A.tmx"),
            "application/x-tmx+xml",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let _: Value = Value::Null;
}

// ---------------------------------------------------------------------------------------------
// What the TM indexes, and how

use hexaglot::lang::{analyze, pre_tokenized, zh_bigrams, Analysis, KeyTokenizer};
use hexaglot::store::tm::TM_SCHEMA_VERSION;
use proptest::prelude::*;
use tantivy::tokenizer::{Token as IndexToken, TokenStream, Tokenizer};

fn index_tokens<T: Tokenizer>(mut tokenizer: T, text: &str) -> Vec<IndexToken> {
    let mut stream = tokenizer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().clone());
    }
    out
}

/// The registered tokenizers give the tokens of the pipeline's analysis (texts, positions, byte
/// offsets, in order) for `text` in every analysis.
fn same_index_tokens(text: &str, langs: &[Lang]) -> Result<(), String> {
    let mut analyses: Vec<(Lang, Analysis)> = langs.iter().map(|l| (*l, Analysis::Words)).collect();
    analyses.push((Lang::Zh, Analysis::Bigrams));
    for (lang, analysis) in analyses {
        let analysed = match analysis {
            Analysis::Words => analyze(lang, text),
            Analysis::Bigrams => zh_bigrams(text),
        };
        let want = pre_tokenized(text, &analysed).tokens;
        let got = index_tokens(KeyTokenizer { lang, analysis }, text);
        if want != got {
            return Err(format!(
                "{lang:?} {analysis:?} {text:?}:\n{want:?}\n{got:?}"
            ));
        }
    }
    Ok(())
}

#[test]
fn the_tm_indexes_exactly_the_tokens_of_the_pipeline() {
    let tricky = [
        "la Convention de HANOÏ, l’État et l'Organisation",
        "Hano\u{0069}\u{0308} cybercriminalite cybercriminalité Ｃｙｂｅｒ",
        "STRASSE Straße ﬁnance ΟΔΥΣΣΕΥΣ ς",
        "State's States' 2.500,75 ０．４％ 1,000.5",
        "Совет  Безопасности ёлка Ё\u{0301}лка",
        "الأمم المتحدة وبالأمم لحقوق ١٢٣",
        "联合国宪章 UN 打击网络犯罪（2024年）《公约》",
        "e\u{0301}\u{0301}s \u{0301}s",
        "{1}bold{/1} text {2/} and {3}",
        "",
        "   ",
    ];
    for text in tricky {
        same_index_tokens(text, &Lang::ALL).unwrap();
    }
    // the devset in its own language (and a sample in every analysis)
    let lines = &devset().lines;
    let langs = [Lang::Ar, Lang::En, Lang::Es, Lang::Fr, Lang::Ru, Lang::Zh];
    for (i, line) in lines.iter().enumerate() {
        for (l, text) in line.iter().enumerate() {
            let all = i % 50 == 0;
            let mine = [langs[l], Lang::Other];
            same_index_tokens(text, if all { &Lang::ALL } else { &mine }).unwrap();
        }
    }
    // and any text
    let text = prop_oneof![
        any::<String>(),
        "[a-zA-Zéèêëïîôœçàâùû' \u{2019}\u{0301}\u{0308}-]{0,40}",
        "[а-яА-ЯёЁ\u{0301} ,.-]{0,40}",
        "[\u{0600}-\u{06FF}\u{0640}\u{064B}-\u{0652} ]{0,40}",
        "[\u{4E00}-\u{4FFF}\u{3000}-\u{303F}\u{FF10}-\u{FF19} a-z0-9]{0,30}",
    ];
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(512));
    runner
        .run(&text, |text| {
            same_index_tokens(&text, &Lang::ALL).map_err(TestCaseError::fail)
        })
        .unwrap();
}

/// Import options that merge into `collection`.
fn merge_into(collection: &str) -> ImportOptions {
    ImportOptions {
        collection: collection.into(),
        mode: ImportMode::Merge,
        dry_run: false,
    }
}

fn unit(id: &str, en: &str, fr: &str) -> TranslationUnit {
    TranslationUnit {
        id: id.into(),
        collection: "c".into(),
        variants: [("en".to_string(), en.to_string()), ("fr".into(), fr.into())].into(),
        origin: None,
        note: None,
        source_lang: Some("en".into()),
        created_at: "2026-11-23T00:00:00Z".into(),
        changed_at: None,
        tmx: Default::default(),
    }
}

fn tmx_of(units: &[TranslationUnit]) -> Vec<u8> {
    let mut writer = TmxWriter::new(Vec::new(), Some("en")).unwrap();
    for u in units {
        writer.write(u).unwrap();
    }
    writer.finish().unwrap()
}

fn best(tm: &TmStore, text: &str) -> Option<(String, u8)> {
    let req = LookupRequest {
        text: text.into(),
        source_lang: LangTag::parse("en").unwrap(),
        target_langs: vec!["fr".into()],
        min_score: 50,
        limit: 1,
        collections: vec![],
    };
    let found = lookup(tm, &req).unwrap();
    found.matches.first().map(|m| (m.unit_id.clone(), m.score))
}

#[test]
fn a_large_import_prepared_on_every_core_keeps_file_order_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let tm = TmStore::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let opts = merge_into("c");
    let first: Vec<TranslationUnit> = (0..10)
        .map(|i| {
            unit(
                &format!("u{i}"),
                &format!("committed sentence number {i}"),
                "phrase",
            )
        })
        .collect();
    let report =
        hexaglot::tm::import_tmx(&tm, read_tmx(&tmx_of(&first)).unwrap(), &opts, None, None)
            .unwrap();
    assert_eq!(report.units.added, 10);
    // 2,500 units (the import prepares them in parallel, and past the first 1,000 lookups asks
    // the filters of what is committed first): unit 1,500 repeats unit 7 of the file, unit
    // 1,600 the committed u3 under another id, and u5 comes back with new texts
    let mut units: Vec<TranslationUnit> = (0..2500)
        .map(|i| {
            unit(
                &format!("n{i}"),
                &format!("the new sentence {i} of the file"),
                "texte",
            )
        })
        .collect();
    units[1500].variants = units[7].variants.clone();
    units[1600].variants = first[3].variants.clone();
    units[2400] = unit("u5", "a sentence that replaced the fifth", "remplacée");
    // streamed: the units are prepared while the file is still being read
    let report = hexaglot::tm::import_tmx_file(&tm, tmx_of(&units), &opts, None, None).unwrap();
    assert_eq!((report.units.added, report.units.duplicates), (2498, 2));
    assert_eq!(tm.stats().total(&[]).units, 10 + 2497);
    assert_eq!(tm.stats().total(&[]).languages["fr"], 10 + 2497);
    assert!(tm.get("c", "n1500").unwrap().is_none());
    assert!(tm.get("c", "n1600").unwrap().is_none());
    assert_eq!(
        tm.get("c", "u5").unwrap().unwrap().variants["fr"],
        "remplacée"
    );
    assert_eq!(
        best(&tm, "a sentence that replaced the fifth"),
        Some(("u5".to_string(), 100))
    );
    assert_eq!(
        best(&tm, "the new sentence 2499 of the file"),
        Some(("n2499".into(), 100))
    );
    // again: nothing added; replace mode with the first file leaves exactly its ten units
    let again =
        hexaglot::tm::import_tmx(&tm, read_tmx(&tmx_of(&units)).unwrap(), &opts, None, None)
            .unwrap();
    assert_eq!((again.units.added, again.units.duplicates), (0, 2500));
    let replace = ImportOptions {
        mode: ImportMode::Replace,
        ..opts.clone()
    };
    let report = hexaglot::tm::import_tmx(
        &tm,
        read_tmx(&tmx_of(&first)).unwrap(),
        &replace,
        None,
        None,
    )
    .unwrap();
    assert_eq!((report.units.added, report.units.duplicates), (1, 9));
    assert_eq!(tm.stats().total(&[]).units, 10);
    assert_eq!(
        best(&tm, "committed sentence number 5"),
        Some(("u5".into(), 100))
    );
    tm.close();
}

#[test]
fn a_streamed_import_refused_late_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let tm = TmStore::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let opts = merge_into("c");
    let units: Vec<TranslationUnit> = (0..1000)
        .map(|i| {
            unit(
                &format!("n{i}"),
                &format!("sentence {i} of a file"),
                "phrase",
            )
        })
        .collect();
    let file = String::from_utf8(tmx_of(&units)).unwrap();
    // the last unit's variant has no language, and then the file is cut off
    let at = file.rfind("<tuv xml:lang=\"fr\"").unwrap();
    let mut broken = file[..at].to_string();
    broken.push_str("<tuv><seg>x</seg></tuv></tu>");
    let progress: hexaglot::import::Progress = std::sync::Arc::new(|_, _| {});
    let refused = hexaglot::tm::import_tmx_file(
        &tm,
        broken.into_bytes(),
        &opts,
        None,
        Some(progress.clone()),
    )
    .unwrap_err();
    let hexaglot::import::ImportError::Format(e) = refused else {
        panic!("refused as a store error: {refused}")
    };
    assert!(
        e.issues.iter().any(|i| i.message.contains("xml:lang")),
        "{e}"
    );
    assert!(
        e.issues.iter().any(|i| i.message.contains("not closed")),
        "{e}"
    );
    assert_eq!(tm.stats().total(&[]).units, 0);
    assert!(tm.get("c", "n0").unwrap().is_none());
    assert_eq!(tm.searcher().num_docs(), 0);
    // the writer goes on: the whole file imports, and again adds nothing
    let report =
        hexaglot::tm::import_tmx_file(&tm, file.clone().into_bytes(), &opts, None, Some(progress))
            .unwrap();
    assert_eq!((report.units.added, report.units.duplicates), (1000, 0));
    let again = hexaglot::tm::import_tmx_file(&tm, file.into_bytes(), &opts, None, None).unwrap();
    assert_eq!((again.units.added, again.units.duplicates), (0, 1000));
    assert_eq!(tm.searcher().num_docs(), 1000);
}

#[test]
fn an_older_translation_memory_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let units: Vec<TranslationUnit> = (0..300)
        .map(|i| {
            unit(
                &format!("u{i}"),
                &format!("sentence {i} of an older memory"),
                "phrase",
            )
        })
        .collect();
    {
        let tm = TmStore::open(dir.path(), OpenMode::ReadWrite).unwrap();
        hexaglot::tm::add_units(&tm, units.clone()).unwrap();
        tm.close();
    }
    let marker = dir.path().join("tm/hexaglot-schema.json");
    let text = std::fs::read_to_string(&marker).unwrap();
    assert!(
        text.contains(&format!("\"schema_version\":{TM_SCHEMA_VERSION}")),
        "{text}"
    );
    std::fs::write(
        &marker,
        text.replace(&format!(":{TM_SCHEMA_VERSION},"), ":1,"),
    )
    .unwrap();
    assert!(TmStore::open(dir.path(), OpenMode::ReadOnly)
        .err()
        .expect("read-only cannot rebuild")
        .to_string()
        .contains("must be rebuilt"));
    let tm = TmStore::open(dir.path(), OpenMode::ReadWrite).unwrap();
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), text);
    assert_eq!(tm.stats().total(&[]).units, 300);
    assert_eq!(tm.get("c", "u42").unwrap().unwrap(), {
        let mut u = units[42].clone();
        u.collection = "c".into();
        u
    });
    assert_eq!(
        best(&tm, "sentence 42 of an older memory"),
        Some(("u42".into(), 100))
    );
    tm.close();
}

#[test]
fn units_whose_id_is_their_content_id_are_found_as_duplicates() {
    use hexaglot::formats::tmx::unit_content_id;
    use hexaglot::tm::{add_units, Stored};
    let dir = tempfile::tempdir().unwrap();
    let tm = TmStore::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let opts = merge_into("c");
    // what a file without `tuid`s gives: every unit's id is its content id
    let with_content_id = |en: &str, fr: &str| {
        let mut u = unit("", en, fr);
        u.id = unit_content_id(&u.variants);
        u
    };
    let units: Vec<TranslationUnit> = (0..300)
        .map(|i| with_content_id(&format!("sentence {i} of a file without ids"), "phrase"))
        .collect();
    let import = |units: &[TranslationUnit]| {
        let report =
            hexaglot::tm::import_tmx(&tm, read_tmx(&tmx_of(units)).unwrap(), &opts, None, None)
                .unwrap();
        (report.units.added, report.units.duplicates)
    };
    assert_eq!(import(&units), (300, 0));
    assert_eq!(
        tm.get("c", &units[7].id).unwrap().unwrap().variants,
        units[7].variants
    );
    assert_eq!(import(&units), (0, 300), "again: nothing added");
    // under another id, the same texts are a duplicate of the stored unit
    let named = unit("named", "sentence 3 of a file without ids", "phrase");
    match &add_units(&tm, vec![named]).unwrap()[..] {
        [Stored::Duplicate(u)] => assert_eq!(u.id, units[3].id),
        other => panic!("{other:?}"),
    }
    // a unit whose id is the content id of texts it does not have is no duplicate of them
    let ghost = with_content_id("a sentence stored later", "plus tard");
    let odd = unit(&ghost.id, "other texts under that id", "autre");
    let stored = add_units(&tm, vec![odd.clone()]).unwrap();
    assert_eq!(stored, vec![Stored::Added(odd)]);
    assert_eq!(import(std::slice::from_ref(&ghost)), (1, 0));
    assert_eq!(
        tm.get("c", &ghost.id).unwrap().unwrap().variants,
        ghost.variants
    );
    assert_eq!(import(std::slice::from_ref(&ghost)), (0, 1));
    assert_eq!(tm.stats().total(&[]).units, 301);
    tm.close();
}

#[test]
fn exact_matches_and_duplicates_come_from_the_whole_exact_hash() {
    use hexaglot::store::tm::{exact_bucket, exact_docs, exact_hash};
    use hexaglot::tm::{add_units, Stored};
    let dir = tempfile::tempdir().unwrap();
    let tm = TmStore::open(dir.path(), OpenMode::ReadWrite).unwrap();
    // two sentences whose exact hashes share a bucket (16 bits) and differ
    let mut by_bucket = std::collections::HashMap::new();
    let (a, b) = (0..)
        .find_map(|i| {
            let text = format!("a sentence numbered {i} for the buckets");
            let hash = exact_hash("en", &text);
            match by_bucket.insert(exact_bucket(hash), (hash, text.clone())) {
                Some((other, first)) if other != hash => Some((first, text)),
                _ => None,
            }
        })
        .unwrap();
    let stored = add_units(&tm, vec![unit("a", &a, "phrase a")]).unwrap();
    assert!(matches!(&stored[..], [Stored::Added(_)]));
    let searcher = tm.searcher();
    assert_eq!(
        exact_docs(&searcher, tm.fields(), exact_hash("en", &a), &[])
            .unwrap()
            .len(),
        1
    );
    assert!(
        exact_docs(&searcher, tm.fields(), exact_hash("en", &b), &[])
            .unwrap()
            .is_empty()
    );
    assert!(
        exact_docs(&searcher, tm.fields(), exact_hash("fr", &a), &[])
            .unwrap()
            .is_empty()
    );
    // the same texts in another collection, or the same words in other case, are no duplicates
    let mut elsewhere = unit("a2", &a, "phrase a");
    elsewhere.collection = "d".into();
    let shouting = unit("a3", &a.to_uppercase(), "phrase a");
    let stored = add_units(&tm, vec![elsewhere, shouting]).unwrap();
    assert!(
        matches!(&stored[..], [Stored::Added(_), Stored::Added(_)]),
        "{stored:?}"
    );
    let again = add_units(&tm, vec![unit("other id", &a, "phrase a")]).unwrap();
    match &again[..] {
        [Stored::Duplicate(u)] => assert_eq!((u.id.as_str(), u.collection.as_str()), ("a", "c")),
        other => panic!("{other:?}"),
    }
    let searcher = tm.searcher();
    let in_collections = |names: &[&str]| {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        exact_docs(&searcher, tm.fields(), exact_hash("en", &a), &names)
            .unwrap()
            .len()
    };
    assert_eq!(in_collections(&[]), 3);
    assert_eq!(in_collections(&["c"]), 2);
    assert_eq!(in_collections(&["d"]), 1);
    assert_eq!(in_collections(&["d", "c"]), 3);
    assert_eq!(in_collections(&["none"]), 0);
    // exact and case-only matches score 100 and 99; a collection filter keeps to its units
    let lookup_in = |collections: Vec<String>| {
        let req = LookupRequest {
            text: a.clone(),
            source_lang: LangTag::parse("en").unwrap(),
            target_langs: vec!["fr".into()],
            min_score: 50,
            limit: 5,
            collections,
        };
        lookup(&tm, &req)
            .unwrap()
            .matches
            .into_iter()
            .map(|m| (m.unit_id, m.score))
            .collect::<Vec<_>>()
    };
    let all = lookup_in(vec![]);
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(all[0].1, 100);
    assert_eq!(all[1].1, 100);
    assert!((95..100).contains(&all[2].1), "{all:?}");
    assert_eq!(all[2].0, "a3");
    assert_eq!(lookup_in(vec!["d".into()]), vec![("a2".to_string(), 100)]);
    tm.close();
}
