//! The store on disk: persistence, atomic transactions, schema versions, the writer lock.

use hexaglot::model::{Concept, Term, TermStatus};
use hexaglot::store::{OpenMode, Store, StoreError};

fn concept(id: &str, text: &str) -> Concept {
    let mut c = Concept::new(id, "test");
    c.languages
        .entry("en".into())
        .or_default()
        .terms
        .push(Term::new(text, TermStatus::Preferred));
    c.version = 1;
    c.normalize().unwrap()
}

#[test]
fn writes_survive_reopening_and_failed_transactions_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
        store.write(|txn| txn.put(concept("a", "alpha"))).unwrap();
        assert_eq!(
            store.get("test", "a").unwrap().unwrap().languages["en"].terms[0].text,
            "alpha"
        );
        // a transaction that fails half-way keeps nothing of what it did
        let err = store
            .write(|txn| {
                txn.put(concept("b", "beta"))?;
                txn.delete("test", "a")?;
                Err::<(), _>(StoreError::Rejected("changed my mind".into()))
            })
            .unwrap_err();
        assert!(err.to_string().contains("changed my mind"));
        assert!(store.get("test", "b").unwrap().is_none());
        assert!(store.get("test", "a").unwrap().is_some());
        assert_eq!(store.payload().stats.total(&[]).concepts, 1);
        store.close();
    }
    let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
    assert!(store.get("test", "a").unwrap().is_some());
    assert_eq!(store.payload().stats.total(&[]).concepts, 1);
    assert_eq!(store.payload().stats.total(&[]).terms, 1);
}

#[test]
fn one_writer_per_data_dir_and_readers_alongside() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let err = Store::open(dir.path(), OpenMode::ReadWrite)
        .err()
        .expect("second writer refused");
    assert!(matches!(err, StoreError::Locked(_)), "{err}");
    assert!(err.to_string().contains("--server"), "{err}");
    let reader = Store::open(dir.path(), OpenMode::ReadOnly).unwrap();
    store.write(|txn| txn.put(concept("a", "alpha"))).unwrap();
    reader.refresh().unwrap();
    assert!(reader.get("test", "a").unwrap().is_some());
    assert_eq!(reader.payload().stats.total(&[]).concepts, 1);
    assert!(matches!(
        reader.write(|_| Ok(())),
        Err(StoreError::ReadOnly)
    ));
}

#[test]
fn an_older_schema_is_rebuilt_and_a_newer_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
        store
            .write(|txn| {
                txn.put(concept("a", "alpha"))?;
                txn.put(concept("b", "beta"))
            })
            .unwrap();
        store.close();
    }
    let marker = dir.path().join("termbase/hexaglot-schema.json");
    std::fs::write(&marker, r#"{"schema_version": 0}"#).unwrap();
    {
        let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
        assert!(
            store.get("test", "b").unwrap().is_some(),
            "rebuilt from stored concepts"
        );
        assert_eq!(store.payload().stats.total(&[]).concepts, 2);
        let found = hexaglot::search::search(
            &store,
            &hexaglot::search::SearchRequest {
                q: "betas".into(),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            found.hits[0].concept.id, "b",
            "the rebuilt index is searchable"
        );
        // whole-term matches too, in any language and in the term's
        for lang in [None, Some("en")] {
            let found = hexaglot::search::search(
                &store,
                &hexaglot::search::SearchRequest {
                    q: "BETA".into(),
                    lang: lang.map(|l| hexaglot::lang::LangTag::parse(l).unwrap()),
                    mode: hexaglot::search::Mode::Exact,
                    ..Default::default()
                },
            )
            .unwrap();
            assert_eq!(found.hits.len(), 1, "{lang:?}");
            assert_eq!(found.hits[0].concept.id, "b");
        }
        store.close();
    }
    let text = std::fs::read_to_string(&marker).unwrap();
    assert!(text.contains(&hexaglot::store::SCHEMA_VERSION.to_string()));
    // an index analysed by another version of the pipeline is rebuilt too
    let other = text.replace(&hexaglot::store::analysis_fingerprint(), "0000000000000000");
    assert_ne!(other, text);
    std::fs::write(&marker, &other).unwrap();
    let err = Store::open(dir.path(), OpenMode::ReadOnly)
        .err()
        .expect("read-only cannot rebuild");
    assert!(err.to_string().contains("must be rebuilt"), "{err}");
    {
        let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
        assert!(store.get("test", "a").unwrap().is_some());
        store.close();
    }
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), text);
    std::fs::write(&marker, r#"{"schema_version": 999}"#).unwrap();
    let err = Store::open(dir.path(), OpenMode::ReadWrite)
        .err()
        .expect("newer schema refused");
    assert!(err.to_string().contains("newer hexaglot"), "{err}");
}

#[test]
fn a_foreign_directory_is_not_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("termbase")).unwrap();
    std::fs::write(dir.path().join("termbase/notes.txt"), "mine").unwrap();
    let err = Store::open(dir.path(), OpenMode::ReadWrite)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("not a hexaglot index"), "{err}");
}

#[test]
fn merge_matches_by_id_then_once_by_preferred_term_never_within_the_file() {
    use hexaglot::formats::ParsedGlossary;
    use hexaglot::import::{apply, ImportFormat, ImportMode, ImportOptions};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let opts = ImportOptions {
        collection: "test".to_string(),
        mode: ImportMode::Merge,
        dry_run: false,
    };
    let import = |concepts: Vec<Concept>| {
        let parsed = ParsedGlossary {
            concepts,
            warnings: Vec::new(),
        };
        apply(&store, parsed, ImportFormat::Tbx, &opts, None)
            .unwrap()
            .concepts
    };
    // two entries of one file with the same preferred term are homonyms: two concepts
    let counts = import(vec![concept("bank-1", "bank"), concept("bank-2", "bank")]);
    assert_eq!((counts.added, counts.updated), (2, 0));
    // a later file: the id matches first; an entry without a known id matches an existing
    // concept by its preferred term, but each existing concept only once
    let mut with_synonym = concept("other-id", "bank");
    with_synonym
        .languages
        .get_mut("en")
        .unwrap()
        .terms
        .push(Term::new("shore", TermStatus::Admitted));
    let counts = import(vec![
        concept("bank-2", "bank"),
        with_synonym,
        concept("third-id", "bank"),
    ]);
    assert_eq!((counts.added, counts.updated, counts.unchanged), (1, 1, 1));
    let mut all = store.concepts_in("test").unwrap();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    let ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["bank-1", "bank-2", "third-id"]);
    let bank1 = &all[0].languages["en"].terms;
    assert_eq!(
        bank1.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(),
        ["bank", "shore"]
    );
}

/// The keyword fields hold values qualified by language only: a search in any language must
/// find every language's terms (exact, whole words, prefixes, typos, status filters) as a search
/// restricted to the term's language does, and an edit never reaches into the language key.
#[test]
fn searches_in_any_language_find_each_language_s_terms() {
    use hexaglot::lang::LangTag;
    use hexaglot::search::{search, Mode, SearchRequest};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let terms: [(&str, &str, &str, TermStatus); 5] = [
        ("a", "fr", "Convention de Hanoï", TermStatus::Preferred),
        ("b", "es", "Convención de Hanói", TermStatus::Deprecated),
        ("c", "en", "Hanoi Convention", TermStatus::Admitted),
        ("d", "ru", "Ханойская конвенция", TermStatus::Preferred),
        ("e", "de", "Hanoier Übereinkommen", TermStatus::Preferred),
    ];
    store
        .write(move |txn| {
            for (id, lang, text, status) in terms {
                let mut c = Concept::new(id, "test");
                c.languages
                    .entry(lang.into())
                    .or_default()
                    .terms
                    .push(Term::new(text, status));
                txn.put(c.normalize().unwrap())?;
            }
            Ok(())
        })
        .unwrap();
    let ids = |q: &str, lang: Option<&str>, mode: Mode, statuses: Vec<TermStatus>| {
        let found = search(
            &store,
            &SearchRequest {
                q: q.into(),
                lang: lang.map(|l| LangTag::parse(l).unwrap()),
                mode,
                statuses,
                ..Default::default()
            },
        )
        .unwrap();
        let mut ids: Vec<String> = found.hits.iter().map(|h| h.concept.id.clone()).collect();
        ids.sort();
        assert_eq!(found.total, ids.len(), "{q} {lang:?} {mode:?}");
        ids
    };
    let none = Vec::new;
    for (q, mode, any, fr) in [
        ("convention de hanoï", Mode::Exact, vec!["a"], vec!["a"]),
        ("CONVENCIÓN DE HANÓI", Mode::Exact, vec!["b"], vec![]),
        ("convention", Mode::Auto, vec!["a", "c"], vec!["a"]),
        ("hanoï", Mode::Auto, vec!["a", "b", "c"], vec!["a"]),
        ("hano", Mode::Prefix, vec!["a", "b", "c", "e"], vec!["a"]),
        ("ханойск", Mode::Prefix, vec!["d"], vec![]),
        ("conventoin", Mode::Fuzzy, vec!["a", "b", "c"], vec!["a"]),
        ("hanoeir", Mode::Fuzzy, vec!["e"], vec![]),
        ("ханойскя", Mode::Fuzzy, vec!["d"], vec![]),
        // a short word is matched whole, in every language that has it
        ("de", Mode::Fuzzy, vec!["a", "b"], vec!["a"]),
    ] {
        assert_eq!(
            ids(q, None, mode, none()),
            any,
            "{q} {mode:?} in any language"
        );
        assert_eq!(
            ids(q, Some("fr"), mode, none()),
            fr,
            "{q} {mode:?} in French"
        );
    }
    // the typo allowance is the word's (one edit for `xhanoi`), none of it spent on the language
    assert_eq!(ids("xhanoi", None, Mode::Fuzzy, none()), ["a", "b", "c"]);
    assert_eq!(
        ids("xxhanoi", None, Mode::Fuzzy, none()),
        Vec::<String>::new()
    );
    let preferred = || vec![TermStatus::Preferred];
    assert_eq!(ids("hanoi", None, Mode::Auto, preferred()), ["a"]);
    assert_eq!(ids("hano", None, Mode::Prefix, preferred()), ["a", "e"]);
    assert_eq!(
        ids("hanoi", None, Mode::Auto, vec![TermStatus::Deprecated]),
        ["b"]
    );
    assert_eq!(
        ids("hanoi", Some("es"), Mode::Auto, preferred()),
        Vec::<String>::new()
    );
    store.close();
}

/// Whole terms are found through buckets of their hashes: an exact search finds the concept whose
/// term it is, never one whose term only shares the bucket, and counts only the first.
#[test]
fn exact_search_tells_apart_terms_that_share_a_bucket() {
    use hexaglot::lang::exact_key;
    use hexaglot::search::{search, Mode, SearchRequest};
    use hexaglot::store::exact::{bucket, key_hash};
    // terms of one language whose hashes fall in one bucket
    let bucket_of = |text: &str| bucket(key_hash("en", &exact_key(text)), 12);
    let first = "shared bucket 0".to_string();
    let others: Vec<String> = (1..200_000)
        .map(|i| format!("shared bucket {i}"))
        .filter(|t| bucket_of(t) == bucket_of(&first))
        .take(3)
        .collect();
    assert_eq!(others.len(), 3, "no terms share a bucket");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let texts: Vec<String> = std::iter::once(first.clone()).chain(others).collect();
    let all = texts.clone();
    store
        .write(move |txn| {
            for (i, text) in all.iter().enumerate() {
                txn.put(concept(&format!("c{i}"), text))?;
            }
            // one concept with two of the terms
            let mut both = concept("both", &all[1]);
            both.languages
                .get_mut("en")
                .unwrap()
                .terms
                .push(Term::new(&all[2], TermStatus::Admitted));
            txn.put(both.normalize().unwrap())
        })
        .unwrap();
    for (i, text) in texts.iter().enumerate() {
        let found = search(
            &store,
            &SearchRequest {
                q: text.to_uppercase(),
                mode: Mode::Exact,
                ..Default::default()
            },
        )
        .unwrap();
        let mut ids: Vec<&str> = found.hits.iter().map(|h| h.concept.id.as_str()).collect();
        ids.sort();
        let want: Vec<String> = match i {
            1 | 2 => vec!["both".to_string(), format!("c{i}")],
            _ => vec![format!("c{i}")],
        };
        assert_eq!(ids, want, "{text}");
        assert_eq!(found.total, want.len(), "{text}");
    }
}

/// The server writes search responses from the concepts' JSON kept per segment: the bytes must be
/// those of the response serialised, and a commit that changes or deletes a concept must show in
/// the next search (what is kept belongs to a segment, which a commit never changes).
#[test]
fn search_json_is_the_response_serialised_and_follows_commits() {
    use hexaglot::lang::LangTag;
    use hexaglot::search::{search_in, search_json_in, Mode, SearchRequest};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), OpenMode::ReadWrite).unwrap();
    let put = |id: &'static str, note: &'static str| {
        store
            .write(move |txn| {
                let mut c = concept(id, "Convention \"de\" Hanoï");
                c.note = Some(note.to_string());
                c.subject = vec!["droit\tinternational".into()];
                for (lang, text) in [
                    ("fr", "Convention de Hanoï"),
                    ("ru", "Ханойская конвенция"),
                    ("zh", "河内公约"),
                    ("ar", "اتفاقية هانوي"),
                ] {
                    c.languages
                        .entry(lang.into())
                        .or_default()
                        .terms
                        .push(Term::new(text, TermStatus::Admitted));
                }
                txn.put(c.normalize().unwrap())
            })
            .unwrap();
    };
    put("a", "first \u{1F600} note\n");
    put("b", "second");
    store
        .write(|txn| txn.put(concept("c", "Hanoi road map")))
        .unwrap();
    let requests: Vec<SearchRequest> = [
        ("hanoi", None, Mode::Auto, vec![]),
        ("Convention \"de\" Hanoï", None, Mode::Exact, vec![]),
        ("hano", None, Mode::Prefix, vec![]),
        ("hanio", Some("en"), Mode::Fuzzy, vec![]),
        ("конвенция", None, Mode::Auto, vec!["zh".to_string()]),
        ("河内", None, Mode::Auto, vec![]),
        ("nothing like it", None, Mode::Auto, vec![]),
    ]
    .into_iter()
    .map(|(q, lang, mode, targets)| SearchRequest {
        q: q.into(),
        lang: lang.map(|l| LangTag::parse(l).unwrap()),
        mode,
        targets,
        limit: 2,
        ..Default::default()
    })
    .collect();
    // the time taken is the one part that differs from call to call
    let without_time = |json: &[u8]| {
        let text = std::str::from_utf8(json).unwrap();
        let (before, rest) = text.split_once(",\"took_ms\":").unwrap();
        let after = &rest[rest.find(",\"hits\":").unwrap()..];
        format!("{before}{after}")
    };
    let same_as_serialised = |what: &str| -> Vec<String> {
        let searcher = store.searcher();
        requests
            .iter()
            .map(|req| {
                let response = search_in(&searcher, store.fields(), req).unwrap();
                let serialised = serde_json::to_vec(&response).unwrap();
                // twice: the second reads what the first kept
                for _ in 0..2 {
                    let json = search_json_in(&searcher, store.fields(), req).unwrap();
                    assert_eq!(
                        without_time(&json),
                        without_time(&serialised),
                        "{what}: {}",
                        req.q
                    );
                }
                without_time(&serialised)
            })
            .collect()
    };
    let before = same_as_serialised("before");
    assert!(before[0].contains("first \\ud83d\\ude00 note") || before[0].contains("first 😀 note"));
    assert!(before[0].contains("\"total\":3"), "{}", before[0]);
    // a change and a deletion, each in a commit of its own
    put("a", "changed");
    store
        .write(|txn| txn.delete("test", "b").map(|_| ()))
        .unwrap();
    let after = same_as_serialised("after");
    assert!(after[0].contains("\"note\":\"changed\""), "{}", after[0]);
    assert!(!after[0].contains("first"), "{}", after[0]);
    assert!(after[0].contains("\"total\":2"), "{}", after[0]);
    store.close();
}
