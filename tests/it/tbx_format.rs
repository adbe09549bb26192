//! TBX reader: the reference corpora, DCA and DCT markup, encodings, entity bombs and located
//! errors.

use crate::common::{concept, utf16};
use std::collections::BTreeSet;

use hexaglot::formats::tbx::read_tbx;
use hexaglot::formats::{FormatError, ParsedGlossary};
use hexaglot::model::{Concept, Term, TermStatus};
use sha2::{Digest, Sha256};

use TermStatus::{Admitted, Deprecated, Forbidden, Preferred, Superseded};

const CORPORA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpora/tbx/");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tbx/");

fn file(dir: &str, name: &str) -> Vec<u8> {
    let path = format!("{dir}{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(bytes: &[u8]) -> ParsedGlossary {
    read_tbx(bytes, "test")
        .unwrap_or_else(|e| panic!("expected a glossary, got {e}: {:?}", e.issues))
}

fn fail(bytes: &[u8]) -> FormatError {
    match read_tbx(bytes, "test") {
        Ok(g) => panic!("expected an error, got {:?}", g.concepts),
        Err(e) => e,
    }
}

fn term<'a>(c: &'a Concept, lang: &str, text: &str) -> &'a Term {
    c.languages
        .get(lang)
        .unwrap_or_else(|| panic!("{}: no language {lang}", c.id))
        .terms
        .iter()
        .find(|t| t.text == text)
        .unwrap_or_else(|| panic!("{}: no {lang} term {text:?}", c.id))
}

/// `(text, status)` of a concept's terms in one language, in stored order.
fn terms<'a>(c: &'a Concept, lang: &str) -> Vec<(&'a str, TermStatus)> {
    c.languages[lang]
        .terms
        .iter()
        .map(|t| (t.text.as_str(), t.status))
        .collect()
}

fn derived_id(lang: &str, term: &str) -> String {
    let digest = Sha256::digest(format!("{lang}\u{1f}{term}").as_bytes());
    format!("c-{}", &hex::encode(digest)[..16])
}

/// Counts entries with at least one term, and distinct non-empty terms per entry and primary
/// language, by plain string search (no XML parser), to check the reader against.
fn scan(text: &str) -> (usize, usize) {
    let mut entries = 0;
    let mut total = 0;
    let starts: Vec<usize> = text
        .match_indices("<conceptEntry")
        .chain(text.match_indices("<termEntry"))
        .map(|(i, _)| i)
        .collect();
    for start in starts {
        let end = text[start..]
            .find("Entry>")
            .map_or(text.len(), |e| start + e);
        let body = &text[start..end];
        let mut seen = BTreeSet::new();
        let mut lang = String::new();
        let mut rest = body;
        while let Some(i) = rest.find('<') {
            rest = &rest[i..];
            if let Some(after) = rest.strip_prefix("<langS") {
                let at = after.find("xml:lang=\"").expect("xml:lang") + 10;
                let value = &after[at..at + after[at..].find('"').unwrap()];
                lang = value.split(['-', '_']).next().unwrap().to_lowercase();
            } else if rest.starts_with("<term>") || rest.starts_with("<term ") {
                let open = rest.find('>').unwrap();
                if !rest[..open].ends_with('/') {
                    let close = rest.find("</term>").unwrap();
                    let text: Vec<&str> = rest[open + 1..close].split_whitespace().collect();
                    if !text.is_empty() {
                        seen.insert((lang.clone(), text.join(" ")));
                    }
                }
            }
            rest = &rest[1..];
        }
        entries += usize::from(!seen.is_empty());
        total += seen.len();
    }
    (entries, total)
}

#[test]
fn every_corpus_file_imports_every_entry_and_term() {
    let mut names: Vec<String> = std::fs::read_dir(CORPORA)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    for name in names {
        let bytes = file(CORPORA, &name);
        let text = String::from_utf8(bytes.clone()).unwrap();
        let (entries, total) = scan(&text);
        let g = parse(&bytes);
        assert!(entries > 0, "{name}");
        assert_eq!(g.concepts.len(), entries, "{name}: concepts");
        let terms: usize = g.concepts.iter().map(|c| c.terms().count()).sum();
        assert_eq!(terms, total, "{name}: terms");
        for c in &g.concepts {
            assert_eq!(c.collection, "test");
            assert_eq!(
                c.clone().normalize().unwrap(),
                *c,
                "{name}: {} normalised",
                c.id
            );
        }
    }
}

#[test]
fn ltac_astronomy_tbx_basic_dca() {
    let g = parse(&file(CORPORA, "ltac-tbx-basic-astronomy-dca.tbx"));
    assert_eq!(g.concepts[0].id, "c1", "file order");
    let c1 = concept(&g, "c1");
    assert_eq!(c1.subject, ["General"]);
    assert_eq!(
        c1.note.as_deref(),
        Some("G-Source: http://www.physics.drexel.edu/observatory/dump.shtml")
    );
    assert_eq!(
        c1.languages["en"].definition.as_deref(),
        Some("A group of stars formed together in the spiral arms of a galaxy.")
    );
    assert!(c1.languages["es"]
        .definition
        .as_deref()
        .unwrap()
        .starts_with("Una acumulación de una docena hasta varios miles de jóvenes estrellas"));
    assert_eq!(
        terms(c1, "en"),
        [
            ("open cluster", Preferred),
            ("galactic cluster", Superseded)
        ]
    );
    let open = term(c1, "en", "open cluster");
    assert_eq!(open.pos.as_deref(), Some("noun"));
    assert_eq!(
        open.source.as_deref(),
        Some("http://seds.org/MESSIER/open.html")
    );
    assert!(open
        .note
        .as_deref()
        .unwrap()
        .starts_with("Over 1100 open clusters are known in our Milky Way Galaxy"));
    let galactic = term(c1, "en", "galactic cluster");
    let note = galactic.note.as_deref().unwrap();
    assert!(
        note.starts_with("In contrast, the galactic cluster"),
        "{note}"
    );
    assert!(
        note.ends_with("\nN-Source: http://www.delscope.demon.co.uk/astronomy/glossary.htm#G"),
        "{note}"
    );
    assert_eq!(terms(c1, "es"), [("cúmulo abierto", Admitted)]);

    let statuses: Vec<TermStatus> = g
        .concepts
        .iter()
        .flat_map(|c| c.terms())
        .map(|(_, t)| t.status)
        .collect();
    let count = |s| statuses.iter().filter(|&&x| x == s).count();
    // 12 preferred, 3 deprecated and 1 superseded in the file; the rest admitted
    assert_eq!(
        (count(Preferred), count(Deprecated), count(Superseded)),
        (12, 3, 1)
    );
    assert!(g.concepts.iter().any(|c| c.languages.contains_key("zu")));
    let messages: Vec<&str> = g.warnings.iter().map(|w| w.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("xref type=\"xGraphic\" outside a term kept as is (34 times)")),
        "{messages:?}"
    );
}

#[test]
fn okapi_ibm_tbx_v2_ntig() {
    let g = parse(&file(CORPORA, "okapi-ibm.tbx"));
    let c1 = concept(&g, "c1");
    assert_eq!(c1.subject, ["Software"]);
    // two langSets of the same language form one section
    assert_eq!(
        terms(c1, "en"),
        [("navigation trail", Admitted), ("branch", Admitted)]
    );
    assert_eq!(terms(c1, "fr"), [("historique de navigation", Admitted)]);
    assert_eq!(
        term(c1, "fr", "historique de navigation").pos.as_deref(),
        Some("nom")
    );
    assert_eq!(
        term(c1, "en", "branch").note.as_deref(),
        Some("The trail at the top of the content frame in your navigation trail, sometimes called a branch.")
    );
    let c2 = concept(&g, "c2");
    assert_eq!(
        c2.subject,
        ["Hardware \\ Other Processing Units and Specialized Devices"]
    );
    assert_eq!(terms(c2, "fr"), [("accepteur de billets", Admitted)]);
    let messages: Vec<&str> = g.warnings.iter().map(|w| w.message.as_str()).collect();
    for expected in [
        "unknown data category admin type=\"productSubset\" kept as is (9 times)",
        "unknown data category admin type=\"sourceIdentifier\" kept as is (7 times)",
        "unknown data category descrip type=\"relatedConceptBroader\" kept as is (3 times)",
        "unknown data category descrip type=\"relatedConcept\" kept as is (once)",
    ] {
        assert!(messages.contains(&expected), "{expected}: {messages:?}");
    }
}

#[test]
fn okapi_sdl_tbx_v2_with_empty_terms() {
    let g = parse(&file(CORPORA, "okapi-sdl.tbx"));
    let c1 = concept(&g, "c1");
    assert_eq!(
        terms(c1, "de"),
        [("Zickzackfalz", Admitted), ("Harmonikafalz", Admitted)]
    );
    assert_eq!(
        term(c1, "de", "Harmonikafalz").term_type.as_deref(),
        Some("synonym")
    );
    assert_eq!(terms(c1, "en"), [("accordion fold", Admitted)]);
    assert_eq!(
        c1.languages["en"].definition.as_deref(),
        Some("Parallel folds, alternating in direction. Also called 'concertina fold'.")
    );
    // escaped markup in a definition stays text
    let c3 = concept(&g, "c3");
    assert!(c3.languages["en"]
        .definition
        .as_deref()
        .unwrap()
        .ends_with("See <A=c175:c175-en-t1>secondary color</A>."));
    // `<term/>` placeholders are skipped, the entry keeps its other language
    let c7 = concept(&g, "c7");
    assert!(!c7.languages.contains_key("de"));
    let messages: Vec<&str> = g.warnings.iter().map(|w| w.message.as_str()).collect();
    assert!(
        messages.contains(&"empty terms skipped (44 times)"),
        "{messages:?}"
    );
    assert!(
        messages.contains(
            &"unknown data category termNote type=\"abbreviatedFormFor\" kept as is (3 times)"
        ),
        "{messages:?}"
    );
}

#[test]
fn okapi_bom_file_and_its_utf16_versions() {
    let bytes = file(CORPORA, "okapi-test01-bom.tbx");
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
    let g = parse(&bytes);
    assert!(g.warnings.is_empty(), "{:?}", g.warnings);
    let c = concept(&g, "eid-Oracle-67");
    assert_eq!(c.subject, ["manufacturing"]);
    // a definition outside any language section becomes the concept note
    assert_eq!(
        c.note.as_deref(),
        Some("A value between 0 and 1 used in ...")
    );
    assert_eq!(terms(c, "en"), [("alpha smoothing factor", Admitted)]);
    assert_eq!(terms(c, "hu"), [("Alfa simítási tényező", Admitted)]);
    assert_eq!(
        term(c, "hu", "Alfa simítási tényező").pos.as_deref(),
        Some("noun")
    );

    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    for big_endian in [false, true] {
        let g16 = parse(&utf16(text, big_endian));
        assert_eq!(g16.concepts, g.concepts, "big endian: {big_endian}");
    }
    // without the BOM too
    assert_eq!(parse(text.as_bytes()).concepts, g.concepts);
}

#[test]
fn dct_style_namespaced_data_categories() {
    let g = parse(&file(FIXTURES, "dct-basic.tbx"));
    assert_eq!(g.concepts.len(), 1);
    let c = concept(&g, "un-cybercrime");
    assert_eq!(c.subject, ["international law"]);
    assert_eq!(
        c.languages["en"].definition.as_deref(),
        Some("The use of information and communications technology systems to commit offences.")
    );
    assert_eq!(
        terms(c, "en"),
        [("cybercrime", Preferred), ("computer crime", Deprecated)]
    );
    let cyber = term(c, "en", "cybercrime");
    assert_eq!(cyber.pos.as_deref(), Some("noun"));
    assert_eq!(cyber.term_type.as_deref(), Some("fullForm"));
    assert_eq!(cyber.source.as_deref(), Some("A/RES/79/243"));
    assert_eq!(
        term(c, "en", "computer crime").note.as_deref(),
        Some("Older texts speak of computer crime.")
    );
    let ru = term(c, "ru", "киберпреступность");
    assert_eq!(
        (ru.status, ru.gender.as_deref()),
        (Preferred, Some("feminine"))
    );
    assert_eq!(ru.region.as_deref(), Some("RU"));
    let zh = term(c, "zh", "网络犯罪");
    assert_eq!((zh.status, zh.region.as_deref()), (Admitted, Some("CN")));
    let messages: Vec<(Option<u64>, &str)> = g
        .warnings
        .iter()
        .map(|w| (w.line, w.message.as_str()))
        .collect();
    assert_eq!(
        messages,
        [
            (Some(15), "<basic:source> outside a term kept as is (once)"),
            (
                Some(23),
                "unknown data category <basic:geographicalUsage> kept as is (2 times)"
            ),
        ]
    );
}

#[test]
fn dca_statuses_links_inline_markup_and_derived_ids() {
    let g = parse(&file(FIXTURES, "dca-features.tbx"));
    let ids: Vec<&str> = g.concepts.iter().map(|c| c.id.as_str()).collect();
    let derived = derived_id("en", "Rock & roll <band> ☺");
    assert_eq!(ids, ["statuses", derived.as_str()]);

    let c = concept(&g, "statuses");
    assert_eq!(c.subject, ["UN events"]);
    assert_eq!(
        c.note.as_deref(),
        Some("A meeting of States.\nConcept note.")
    );
    assert_eq!(
        terms(c, "fr"),
        [
            ("conférence", Preferred),
            ("congrès", Preferred),
            ("assemblée", Admitted),
            ("colloque", Deprecated),
            ("réunion", Forbidden),
        ]
    );
    assert_eq!(
        terms(c, "es"),
        [("conferencia", Preferred), ("congreso", Superseded)]
    );
    assert_eq!(terms(c, "ar"), [("مؤتمر", Preferred), ("ندوة", Deprecated)]);
    assert_eq!(
        term(c, "fr", "conférence").gender.as_deref(),
        Some("feminine")
    );
    assert_eq!(
        term(c, "fr", "réunion").term_type.as_deref(),
        Some("variant")
    );
    assert_eq!(
        term(c, "fr", "congrès").source.as_deref(),
        Some("Legal basis")
    );
    assert_eq!(
        term(c, "fr", "assemblée").source.as_deref(),
        Some("https://example.org/ref")
    );

    let rock = concept(&g, &derived);
    let t = term(rock, "en", "Rock & roll <band> ☺");
    assert_eq!(t.note.as_deref(), Some("First note.\nA context."));

    let messages: Vec<(Option<u64>, &str)> = g
        .warnings
        .iter()
        .map(|w| (w.line, w.message.as_str()))
        .collect();
    assert_eq!(
        messages,
        [
            (
                Some(11),
                "xref type=\"xGraphic\" outside a term kept as is (once)"
            ),
            (
                Some(16),
                "unknown data category termNote type=\"geographicalUsage\" kept as is (2 times)"
            ),
            (
                Some(31),
                "unknown term status \"maybeTerm\" read as admitted (once)"
            ),
            (Some(55), "empty terms skipped (once)"),
            (Some(58), "entries without any term skipped (once)"),
        ]
    );
}

#[test]
fn language_tags_in_any_case() {
    let file = r#"<martif type="TBX"><text><body>
<termEntry id="t1">
  <langSet xml:lang="EN"><tig><term>email</term></tig></langSet>
  <langSet xml:lang="en-US"><tig><term>e-mail</term></tig></langSet>
  <langSet xml:lang="FR_ca"><ntig><termGrp><term>courriel</term>
    <termNote type="administrativeStatus">preferredTerm-admn-sts</termNote></termGrp></ntig></langSet>
  <langSet xml:lang="zho"><tig><term>电子邮件</term></tig></langSet>
</termEntry>
</body></text></martif>"#;
    let g = parse(file.as_bytes());
    let c = concept(&g, "t1");
    assert_eq!(c.languages.keys().collect::<Vec<_>>(), ["en", "fr", "zh"]);
    assert_eq!(term(c, "en", "email").region, None);
    assert_eq!(term(c, "en", "e-mail").region.as_deref(), Some("US"));
    let fr = term(c, "fr", "courriel");
    assert_eq!((fr.status, fr.region.as_deref()), (Preferred, Some("CA")));
}

#[test]
fn declared_single_byte_encodings() {
    let cases: &[(&'static encoding_rs::Encoding, &str, &str)] = &[
        (
            encoding_rs::WINDOWS_1254,
            "windows-1254",
            "İstanbul sözleşmesi",
        ),
        (
            encoding_rs::WINDOWS_1252,
            "iso-8859-1",
            "Convention de Hanoï",
        ),
        (
            encoding_rs::WINDOWS_1251,
            "windows-1251",
            "киберпреступность",
        ),
    ];
    for (encoding, label, text) in cases {
        let file = format!(
            "<?xml version=\"1.0\" encoding=\"{label}\"?>\n<tbx type=\"TBX-Basic\"><text><body>\
             <conceptEntry id=\"c1\"><langSec xml:lang=\"tr\"><termSec><term>{text}</term>\
             </termSec></langSec></conceptEntry></body></text></tbx>"
        );
        let (bytes, _, unmappable) = encoding.encode(&file);
        assert!(!unmappable, "{label}");
        assert_ne!(bytes.as_ref(), file.as_bytes(), "{label}: not ASCII");
        let g = parse(&bytes);
        assert_eq!(terms(&g.concepts[0], "tr"), [(*text, Admitted)], "{label}");
    }
}

#[test]
fn billion_laughs_is_an_error_not_an_expansion() {
    let mut file =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE tbx [\n<!ENTITY lol \"lol\">\n");
    for i in 1..=9 {
        let previous = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        file.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&{previous};").repeat(10)
        ));
    }
    file.push_str("]>\n<tbx><text><body><conceptEntry id=\"c1\"><langSec xml:lang=\"en\">\n");
    file.push_str(
        "  <termSec><term>&lol9;</term></termSec></langSec></conceptEntry></body></text></tbx>\n",
    );
    let e = fail(file.as_bytes());
    assert_eq!(e.issues.len(), 1, "{:?}", e.issues);
    let i = &e.issues[0];
    assert_eq!((i.line, i.column), (15, 18), "{i:?}");
    assert_eq!(
        i.message,
        "undefined entity &lol9; (entities declared in a DTD are not expanded)"
    );
    assert_eq!(
        e.to_string(),
        "tbx: line 15, column 18: undefined entity &lol9; (entities declared in a DTD are not expanded)"
    );
}

/// An entry in a minimal file, for the error table: `{}` is replaced by `body`.
const SHELL: &str = "<tbx type=\"TBX-Basic\">\n<text><body>\n{}\n</body></text>\n</tbx>\n";

/// `(line, column, message)` of each issue, in order.
type Expected = &'static [(u64, u64, &'static str)];

#[test]
fn malformed_files_fail_with_located_issues() {
    let entry = |body: &str| SHELL.replace("{}", body);
    let cases: Vec<(String, Expected)> = vec![
        ("".into(), &[(1, 1, "empty file")]),
        ("just some words".into(), &[(1, 1, "text outside the root element")]),
        (
            "<html><body/></html>".into(),
            &[(1, 1, "not a TBX file: the root element is <html>, expected <tbx> or <martif>")],
        ),
        (
            "<tbx>\n<text><body>\n  <conceptEntry id=\"c1\">\n".into(),
            &[(3, 3, "<conceptEntry> is not closed")],
        ),
        (
            entry("<conceptEntry id=\"c1\"><langSec xml:lang=\"en\"><termSec><term>x</term></langSec></conceptEntry>"),
            &[(3, 69, "</langSec> does not close <termSec>")],
        ),
        (
            entry("<conceptEntry id=\"c1\">\n  <langSec xml:lang=\"en\"><termSec><term>x</term>"),
            &[(5, 1, "</body> does not close <termSec>")],
        ),
        (
            "<tbx><text><body><conceptEntry id=\"c1\"><langSec xml:lang=\"en\"><termSec><term".into(),
            &[(1, 72, "tag not closed: `>` not found before the end of the file")],
        ),
        (
            entry("<conceptEntry id=\"c1\"><langSec xml:lang=\"en\">\n  <termSec><termNote type=\"partOfSpeech\">noun</termNote></termSec>\n</langSec></conceptEntry>"),
            &[(4, 3, "<termSec> without <term>")],
        ),
        (
            entry("<conceptEntry id=\"c1\">\n<langSec><termSec><term>x</term></termSec></langSec>\n<langSec xml:lang=\"e\"><termSec><term>y</term></termSec></langSec>\n</conceptEntry>"),
            &[
                (4, 1, "<langSec> without xml:lang"),
                (5, 1, "invalid language tag \"e\": the primary subtag must be 2 to 8 letters"),
            ],
        ),
        (
            entry("<conceptEntry id=\"c1\"><langSec xml:lang=\"en\"><term>x</term></langSec></conceptEntry>"),
            &[(3, 46, "<term> outside a term section")],
        ),
        (
            entry("<conceptEntry id=\"c1\"><langSec xml:lang=\"en\"><termSec><term>x</term><term>y</term></termSec></langSec></conceptEntry>"),
            &[(3, 69, "a second <term> in one <termSec>")],
        ),
        (
            entry("<conceptEntry id=\"c1\"><langSec xml:lang=\"en\"><termSec><term>x</term></termSec></langSec></conceptEntry>\n<conceptEntry id=\"c1\"><langSec xml:lang=\"fr\"><termSec><term>y</term></termSec></langSec></conceptEntry>"),
            &[(4, 1, "duplicate entry id \"c1\" (first used at line 3, column 1)")],
        ),
        (
            entry("<conceptEntry id=\"a&bomb;\"><langSec xml:lang=\"en\"><termSec><term>x</term></termSec></langSec></conceptEntry>"),
            &[(3, 1, "attribute id: undefined entity &bomb; (entities declared in a DTD are not expanded)")],
        ),
        (
            entry("<langSec xml:lang=\"en\"><termSec><term>x</term></termSec></langSec>"),
            &[(3, 1, "<langSec> outside an entry")],
        ),
        (
            "<tbx/>\n<tbx/>".into(),
            &[(2, 1, "a second root element")],
        ),
    ];
    let mut failures = Vec::new();
    for (input, expected) in &cases {
        let e = fail(input.as_bytes());
        let got: Vec<(u64, u64, &str)> = e
            .issues
            .iter()
            .map(|i| (i.line, i.column, i.message.as_str()))
            .collect();
        if got != *expected {
            failures.push(format!("{input}\n  got {got:?}\n want {expected:?}"));
        }
        assert_eq!(e.format, "tbx");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn issues_name_the_elements_open_where_they_are() {
    let entry = |body: &str| SHELL.replace("{}", body);
    let cases = [
        (
            entry("<conceptEntry id=\"c1\"><langSec xml:lang=\"en\">\n  <termSec><termNote type=\"partOfSpeech\">noun</termNote></termSec>\n</langSec></conceptEntry>"),
            "/tbx/text/body/conceptEntry/langSec",
        ),
        (
            entry("<conceptEntry id=\"c1\"><langSec xml:lang=\"en\"><term>x</term></langSec></conceptEntry>"),
            "/tbx/text/body/conceptEntry/langSec",
        ),
        ("just some words".to_string(), ""),
    ];
    for (input, path) in cases {
        let e = fail(input.as_bytes());
        assert_eq!(e.issues[0].path, path, "{input}");
    }
}

#[test]
fn encoding_errors_are_located() {
    let mut bytes = b"<tbx>\n<text>\n  caf".to_vec();
    bytes.extend_from_slice(&[0xE9, b'<', b'/', b't']);
    let e = fail(&bytes);
    let i = &e.issues[0];
    assert_eq!((i.line, i.column), (3, 6), "{i:?}");
    assert!(
        i.message.starts_with("invalid UTF-8 byte 0xE9"),
        "{}",
        i.message
    );

    let e = fail(b"<?xml version=\"1.0\" encoding=\"klingon\"?><tbx/>");
    assert_eq!(
        (
            e.issues[0].line,
            e.issues[0].column,
            e.issues[0].message.as_str()
        ),
        (1, 31, "unknown encoding \"klingon\" in the XML declaration")
    );

    let e = fail(b"<tbx/>\0");
    assert_eq!((e.issues[0].line, e.issues[0].column), (1, 7));
}

#[test]
fn invalid_collection_name() {
    let e = read_tbx(b"<tbx/>", "a/b").unwrap_err();
    assert!(e.issues[0].message.contains("collection"), "{e}");
}
