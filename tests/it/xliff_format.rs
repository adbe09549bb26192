//! XLIFF 1.2 and 2.x reader: the corpus files, segments, inline codes, languages, and located
//! errors.

use hexaglot::formats::xliff::{read_xliff, BilingualFile, InlineCode};

use crate::common::{corpus, utf16};

fn read(name: &str) -> BilingualFile {
    let path = corpus(&format!("xliff/{name}"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    read_xliff(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `(line, column)` of the first problem of a file that must fail.
fn error_at(text: &[u8]) -> (u64, u64, String) {
    let e = read_xliff(text).expect_err("an error");
    let i = &e.issues[0];
    (i.line, i.column, i.message.clone())
}

fn code(position: usize, kind: &str, id: &str) -> InlineCode {
    InlineCode {
        position,
        kind: kind.to_string(),
        id: id.to_string(),
    }
}

#[test]
fn corpus_files_read() {
    // (file, source, target, segments, translated segments)
    for (name, src, tgt, segments, translated) in [
        ("oasis-21-everything-core.xlf", "en", "fr", 5, 2),
        ("oasis-21-sample1.xlf", "en", "de", 1, 1),
        ("oasis-21-withCDataSections.xlf", "en", "fr", 1, 1),
        ("oasis-21-withGlossary.xlf", "en", "fr", 2, 2),
        ("oasis-21-withXmlLang.xlf", "en", "fr", 1, 1),
        ("okapi-memoq-12.xlf", "en", "fr", 119, 119),
        ("okapi-trados2009-12.xlf", "en", "de", 23, 23),
    ] {
        let f = read(name);
        assert_eq!(f.source_lang.as_deref(), Some(src), "{name}");
        assert_eq!(f.target_lang.as_deref(), Some(tgt), "{name}");
        assert_eq!(f.segments.len(), segments, "{name}");
        let with_target = f.segments.iter().filter(|s| s.target.is_some()).count();
        assert_eq!(with_target, translated, "{name}");
        let mut ids: Vec<&str> = f.segments.iter().map(|s| s.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), segments, "{name}: ids are unique");
        assert!(f.segments.iter().all(|s| s.line > 0), "{name}");
    }
}

#[test]
fn xliff_2_segments_codes_and_cdata() {
    let f = read("oasis-21-everything-core.xlf");
    let s = &f.segments[0];
    assert_eq!(
        (s.id.as_str(), s.source.as_str()),
        ("tu1:1", "Sample segment.")
    );
    assert_eq!(s.target.as_deref(), Some("Exemple de segment."));
    let pc = f.segments.iter().find(|s| s.id == "tu2:s1").unwrap();
    assert_eq!(pc.source, "special text and more\n.");
    assert_eq!(
        pc.source_codes,
        [
            code(0, "pc", "1"),
            code(12, "/pc", "1"),
            code(22, "ph", "2")
        ]
    );
    let cdata = &read("oasis-21-withCDataSections.xlf").segments[0];
    assert_eq!(cdata.source, "source & and < etc.");
    assert_eq!(cdata.target.as_deref(), Some("target & and < etc."));
    let gls = &read("oasis-21-withGlossary.xlf").segments[0];
    assert_eq!(
        gls.source, "He is my doppelgänger. ",
        "mrk is looked through"
    );
}

#[test]
fn xliff_1_2_seg_source_markers_pair_by_mid() {
    let f = read("okapi-trados2009-12.xlf");
    let marked: Vec<_> = f.segments.iter().filter(|s| s.id.contains(':')).collect();
    assert_eq!(marked.len(), 19, "translate=\"no\" units are left out");
    for s in &marked {
        assert!(s.target.is_some(), "{}: target paired by mid", s.id);
    }
    let memoq = read("okapi-memoq-12.xlf");
    let with_codes = memoq
        .segments
        .iter()
        .find(|s| !s.source_codes.is_empty())
        .unwrap();
    assert_eq!(with_codes.source_codes[0].kind, "bpt");
    let file = r#"<xliff version="1.2"><file source-language="en" target-language="fr"><body>
<trans-unit id="t"><source>A. B.</source>
<seg-source><mrk mtype="seg" mid="1">A.</mrk> <mrk mtype="seg" mid="2">B <g id="g1">bold</g>.</mrk></seg-source>
<target><mrk mtype="seg" mid="2">B <g id="g1">gras</g>.</mrk> <mrk mtype="seg" mid="1">A.</mrk></target>
</trans-unit></body></file></xliff>"#;
    let f = read_xliff(file.as_bytes()).unwrap();
    let ids: Vec<&str> = f.segments.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["t:1", "t:2"]);
    assert_eq!(f.segments[1].target.as_deref(), Some("B gras."));
    assert_eq!(
        f.segments[1].target_codes,
        [code(2, "g", "g1"), code(6, "/g", "g1")]
    );
}

#[test]
fn encodings_and_entities() {
    let file = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><xliff version=\"2.0\" srcLang=\"en\" trgLang=\"ru\"><file id=\"f\"><unit id=\"u\"><segment><source>Council &amp; &#x41;</source><target>Совет</target></segment></unit></file></xliff>";
    for bytes in [utf16(file, false), utf16(file, true)] {
        let f = read_xliff(&bytes).unwrap();
        assert_eq!(f.segments[0].source, "Council & A");
        assert_eq!(f.segments[0].target.as_deref(), Some("Совет"));
    }
    let bomb = "<!DOCTYPE x [<!ENTITY a \"aaaa\">]>\n<xliff version=\"2.0\"><file id=\"f\"><unit id=\"u\"><segment>\n<source>&a;</source></segment></unit></file></xliff>";
    let (line, _, message) = error_at(bomb.as_bytes());
    assert_eq!(line, 3);
    assert!(message.contains("entit"), "{message}");
}

#[test]
fn errors_have_line_and_column() {
    for (text, line, column, says) in [
        ("", 1, 1, "empty"),
        ("<tbx/>", 1, 1, "not an XLIFF file"),
        ("<xliff version=\"3.0\"/>", 1, 1, "version"),
        ("<xliff version=\"2.0\">\n<file>\n  <unit id=\"1\"></file>", 3, 16, "does not close"),
        ("<xliff version=\"2.0\">\n<file>", 2, 1, "not closed"),
        ("<xliff version=\"1.2\">\n<file>\n<body>\n<trans-unit id=\"1\"><source>a &nbsp; b</source>", 4, 30, "entity"),
    ] {
        let (l, c, message) = error_at(text.as_bytes());
        assert_eq!((l, c), (line, column), "{text:?}: {message}");
        assert!(message.contains(says), "{text:?}: {message}");
    }
}

/// An XLIFF file's bytes posted with an admin key.
fn upload(uri: &str, key: &str, bytes: Vec<u8>) -> actix_web::test::TestRequest {
    crate::common::upload(uri, key, bytes, "application/xliff+xml")
}

#[actix_web::test]
async fn translated_segments_import_into_the_memory() {
    use actix_web::http::{Method, StatusCode};
    use actix_web::test::init_service;
    use serde_json::json;

    use crate::common::{get, request, send, Fixture};

    let fx = Fixture::new();
    let app = init_service(hexaglot::server::app(fx.state.clone())).await;
    let names = [
        "oasis-21-everything-core.xlf",
        "oasis-21-sample1.xlf",
        "oasis-21-withCDataSections.xlf",
        "oasis-21-withGlossary.xlf",
        "oasis-21-withXmlLang.xlf",
        "okapi-memoq-12.xlf",
        "okapi-trados2009-12.xlf",
    ];
    let mut total = 0;
    for (i, name) in names.iter().enumerate() {
        let bytes = std::fs::read(corpus(&format!("xliff/{name}"))).unwrap();
        let file = read(name);
        // one unit per distinct translated segment (texts and codes)
        let translated: Vec<_> = file
            .segments
            .iter()
            .filter(|s| s.target.as_deref().is_some_and(|t| !t.trim().is_empty()))
            .collect();
        let mut distinct: Vec<_> = translated
            .iter()
            .map(|s| {
                format!(
                    "{:?}",
                    (&s.source, &s.target, &s.source_codes, &s.target_codes)
                )
            })
            .collect();
        distinct.sort();
        distinct.dedup();
        // the format named, or told by the content type alone
        let uri = if i % 2 == 0 {
            format!("/api/v1/import?format=xliff&collection=x{i}")
        } else {
            format!("/api/v1/import?collection=x{i}")
        };
        let (status, _, report) = send(&app, upload(&uri, &fx.admin, bytes.clone())).await;
        assert_eq!(status, StatusCode::OK, "{name}: {report}");
        assert_eq!(report["format"], "xliff", "{name}");
        assert_eq!(
            report["units"]["added"].as_u64(),
            Some(distinct.len() as u64),
            "{name}: {report}"
        );
        total += distinct.len() as u64;
        // the same file again adds nothing
        let (_, _, again) = send(&app, upload(&uri, &fx.admin, bytes)).await;
        assert_eq!(again["units"]["added"], 0, "{name}: {again}");
        // a translated segment is found again whole
        if let Some(segment) = translated.first() {
            let body = json!({"text": segment.source, "source_lang": file.source_lang,
                              "target_langs": [file.target_lang], "limit": 1});
            let (status, _, found) = send(
                &app,
                request(Method::POST, "/api/v1/tm/lookup", None, Some(body)),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{found}");
            let top = &found["matches"][0];
            assert!(top["score"].as_u64().unwrap() >= 95, "{name}: {top}");
        }
    }
    // read from the files: the OASIS samples translate 2 + 1 + 1 + 2 + 1 segments, the memoQ file
    // none (blank targets), the Trados file one ("Getting Started"; the rest are codes alone)
    assert_eq!(total, 8, "units of the seven files");
    // inline codes: a paired code (1.2 `g`, 2.x `pc`) becomes `{N}`…`{/N}`, a lone one `{N/}`, and
    // a TMX export writes them as TMX codes
    let coded = br#"<xliff version="2.0" xmlns="urn:oasis:names:tc:xliff:document:2.0" srcLang="en" trgLang="fr">
 <file id="f"><unit id="u1"><segment>
  <source>Press <pc id="1">Save</pc> and <ph id="2"/> wait</source>
  <target>Appuyez sur <pc id="1">Enregistrer</pc> et <ph id="2"/> attendez</target>
 </segment></unit></file></xliff>"#;
    let (status, _, report) = send(
        &app,
        upload(
            "/api/v1/import?format=xliff&collection=coded",
            &fx.admin,
            coded.to_vec(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["units"]["added"], 1, "{report}");
    total += 1;
    let body = json!({"text": "Press Save and wait", "source_lang": "en",
                      "target_langs": ["fr"], "limit": 1});
    let (_, _, found) = send(
        &app,
        request(Method::POST, "/api/v1/tm/lookup", None, Some(body)),
    )
    .await;
    let top = &found["matches"][0];
    assert_eq!(top["source"], "Press {1}Save{/1} and {2/} wait", "{found}");
    assert_eq!(
        top["targets"]["fr"], "Appuyez sur {1}Enregistrer{/1} et {2/} attendez",
        "{found}"
    );
    let req = request(
        Method::GET,
        "/api/v1/export?format=tmx&collection=coded",
        Some(&fx.admin),
        None,
    );
    let exported = actix_web::test::call_and_read_body(&app, req.to_request()).await;
    let text = String::from_utf8(exported.to_vec()).unwrap();
    assert!(
        text.contains(r#"Press <bpt i="1"/>Save<ept i="1"/> and <ph x="2"/> wait"#),
        "{text}"
    );
    let (_, stats) = get(&app, "/api/v1/stats", None).await;
    assert_eq!(stats["units"], total);
    // a malformed file: 422 with line and column, the memory unchanged
    let bad = b"<xliff version=\"2.0\" srcLang=\"en\" trgLang=\"fr\">\n<file id=\"f\"><unit id=\"u\"><segment><source>a</target></segment></unit></file></xliff>".to_vec();
    let (status, _, problem) = send(
        &app,
        upload("/api/v1/import?format=xliff&collection=bad", &fx.admin, bad),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["line"], 2, "{problem}");
    assert!(
        problem["errors"][0]["column"].as_u64().unwrap() > 1,
        "{problem}"
    );
    // a file without a target language cannot make units
    let monolingual = b"<xliff version=\"2.0\" srcLang=\"en\"><file id=\"f\"><unit id=\"u\"><segment><source>a</source></segment></unit></file></xliff>".to_vec();
    let (status, _, problem) = send(
        &app,
        upload(
            "/api/v1/import?format=xliff&collection=bad",
            &fx.admin,
            monolingual,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (_, stats) = get(&app, "/api/v1/stats", None).await;
    assert_eq!(stats["units"], total);
}
