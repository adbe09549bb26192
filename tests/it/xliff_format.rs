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
