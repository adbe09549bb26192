//! CSV/TSV glossary reader: the reference corpora, the three layouts, encodings, and located errors.

use crate::common::{concept, utf16};
use hexaglot::formats::csv::{read_glossary, Delimiter, MAX_ISSUES};
use hexaglot::formats::{FormatError, ParsedGlossary};
use hexaglot::model::{Concept, TermStatus};
use sha2::{Digest, Sha256};

use Delimiter::{Comma, Tab};

const CORPORA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpora/");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/csv/");

fn file(dir: &str, name: &str) -> Vec<u8> {
    let path = format!("{dir}{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(bytes: &[u8], delimiter: Delimiter) -> ParsedGlossary {
    read_glossary(bytes, delimiter, "test")
        .unwrap_or_else(|e| panic!("expected a glossary, got {e}: {:?}", e.issues))
}

fn fail(bytes: &[u8], delimiter: Delimiter) -> FormatError {
    match read_glossary(bytes, delimiter, "test") {
        Ok(g) => panic!("expected an error, got {:?}", g.concepts),
        Err(e) => e,
    }
}

/// `(text, status, region)` of a concept's terms in one language, in stored order.
fn terms<'a>(c: &'a Concept, lang: &str) -> Vec<(&'a str, TermStatus, Option<&'a str>)> {
    c.languages
        .get(lang)
        .unwrap_or_else(|| panic!("{}: no language {lang}", c.id))
        .terms
        .iter()
        .map(|t| (t.text.as_str(), t.status, t.region.as_deref()))
        .collect()
}

fn derived_id(lang: &str, term: &str) -> String {
    let digest = Sha256::digest(format!("{lang}\u{1f}{term}").as_bytes());
    format!("c-{}", &hex::encode(digest)[..16])
}

use TermStatus::{Admitted, Deprecated, Preferred};

#[test]
fn un_event_terms_reference_file() {
    let g = parse(&file(CORPORA, "un-event-terms.tsv"), Tab);
    assert!(g.warnings.is_empty(), "{:?}", g.warnings);
    assert_eq!(g.concepts.len(), 27);
    assert_eq!(g.concepts[0].id, "un-cybercrime-convention", "file order");
    assert_eq!(g.concepts.last().unwrap().id, "hanoi");

    let all: Vec<_> = g.concepts.iter().flat_map(|c| c.terms()).collect();
    assert_eq!(all.len(), 180);
    let count = |s| all.iter().filter(|(_, t)| t.status == s).count();
    assert_eq!(
        (count(Preferred), count(Admitted), count(Deprecated)),
        (162, 12, 6)
    );
    for c in &g.concepts {
        assert_eq!(
            (c.collection.as_str(), c.version, c.updated_at.as_str()),
            ("test", 0, "")
        );
        assert_eq!(c.languages.len(), 6, "{} has the six UN languages", c.id);
    }

    let hanoi = concept(&g, "hanoi-convention");
    assert_eq!(hanoi.subject, ["cybercrime"]);
    assert_eq!(hanoi.note, None, "the note column is a term note");
    assert_eq!(
        terms(hanoi, "fr"),
        [
            ("Convention de Hanoï", Preferred, None),
            ("Convention de Hanoi", Deprecated, None)
        ]
    );
    let fr = &hanoi.languages["fr"].terms;
    assert_eq!(fr[0].note, None);
    assert_eq!(fr[1].note.as_deref(), Some("spelling without diaeresis"));
    assert_eq!(terms(hanoi, "zh"), [("河内公约", Preferred, None)]);

    let viet_nam = concept(&g, "viet-nam");
    assert_eq!(
        terms(viet_nam, "en"),
        [("Viet Nam", Preferred, None), ("Vietnam", Deprecated, None)]
    );
}

#[test]
fn tico19_pair_files() {
    // (file, language, region, term of id 2 "acute bronchitis")
    let cases = [
        (
            "f_en-ar_AR.csv",
            "ar",
            Some("AR"),
            "التهاب الشعب الهوائية الحاد",
        ),
        ("f_en-es_XX.csv", "es", None, "Bronquitis aguda"),
        ("f_en-fr_XX.csv", "fr", None, "bronchite aiguë"),
        ("f_en-ru_RU.csv", "ru", Some("RU"), "острый бронхит"),
        ("f_en-zh_CN.csv", "zh", Some("CN"), "急性支气管炎"),
    ];
    for (name, lang, region, term) in cases {
        let bytes = file(CORPORA, &format!("glossary-csv/tico19/{name}"));
        let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(bytes.as_slice())
            .records()
            .map(|r| r.unwrap())
            .collect();
        let non_empty = rows
            .iter()
            .filter(|r| !r[3].trim().is_empty() || !r[4].trim().is_empty())
            .count();
        assert_eq!(non_empty, 306, "{name}");
        let empty_rows = rows.len() - non_empty;

        let g = parse(&bytes, Comma);
        assert_eq!(g.concepts.len(), non_empty, "{name}");
        assert_eq!(g.concepts[0].id, "1", "{name}");
        let c = concept(&g, "2");
        assert_eq!(
            terms(c, "en"),
            [("acute bronchitis", Admitted, None)],
            "{name}"
        );
        assert_eq!(terms(c, lang), [(term, Admitted, region)], "{name}");
        assert_eq!(c.languages.len(), 2, "{name}");

        if empty_rows == 0 {
            assert!(g.warnings.is_empty(), "{name}: {:?}", g.warnings);
        } else {
            assert_eq!(g.warnings.len(), 1, "{name}: {:?}", g.warnings);
            let w = &g.warnings[0];
            assert!(
                w.message.starts_with(&format!("{empty_rows} rows")),
                "{name}: {w:?}"
            );
            assert_eq!(w.line, Some(308), "{name}: first skipped row");
        }
    }
}

#[test]
fn encodings_give_the_same_glossary() {
    let text = "concept_id,lang,term,status\r\nhanoi,fr,Hanoï,preferred\r\nhanoi,zh,河内,\r\nhanoi,ar,هانوي,\r\n";
    let expected = parse(text.as_bytes(), Comma).concepts;
    assert_eq!(terms(&expected[0], "fr"), [("Hanoï", Preferred, None)]);
    let cases: [(&str, Vec<u8>); 4] = [
        ("utf-8", text.as_bytes().to_vec()),
        (
            "utf-8 bom",
            [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        ),
        ("utf-16le bom", utf16(text, false)),
        ("utf-16be bom", utf16(text, true)),
    ];
    for (name, bytes) in &cases {
        assert_eq!(parse(bytes, Comma).concepts, expected, "{name}");
        let tsv = String::from_utf8(bytes.clone()).map(|s| s.replace(',', "\t"));
        if let Ok(tsv) = tsv {
            assert_eq!(
                parse(tsv.as_bytes(), Tab).concepts,
                expected,
                "{name} as tsv"
            );
        }
    }
    let tsv = text.replace(',', "\t");
    for big_endian in [false, true] {
        assert_eq!(
            parse(&utf16(&tsv, big_endian), Tab).concepts,
            expected,
            "tsv utf-16 be={big_endian}"
        );
    }
}

#[test]
fn one_column_per_language() {
    let g = parse(&file(FIXTURES, "language-columns.csv"), Comma);
    let ids: Vec<&str> = g.concepts.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        ["hanoi-convention", "ict"],
        "rows with the same id merge"
    );

    let hanoi = concept(&g, "hanoi-convention");
    assert_eq!(hanoi.subject, ["cybercrime", "treaties"]);
    assert_eq!(hanoi.note.as_deref(), Some("signed in Hanoi"));
    assert_eq!(
        terms(hanoi, "en"),
        [("Hanoi Convention", Preferred, Some("US"))]
    );
    assert_eq!(
        terms(hanoi, "fr"),
        [
            ("Convention de Hanoï", Preferred, None),
            ("Convention de Hanoi", Deprecated, None)
        ],
        "one status per term from fr_status"
    );
    assert_eq!(
        terms(hanoi, "ru"),
        [("Ханойская конвенция", Preferred, Some("RU"))]
    );
    assert_eq!(
        terms(hanoi, "zh"),
        [("河内公约", Preferred, None)],
        "a script is not a region"
    );

    let ict = concept(&g, "ict");
    assert_eq!(ict.subject, ["cybercrime", "technology"]);
    for (lang, first, second, region) in [
        (
            "en",
            "information and communications technology",
            "ICT",
            Some("US"),
        ),
        (
            "fr",
            "technologies de l'information et des communications",
            "TIC",
            None,
        ),
        (
            "es",
            "tecnologías de la información y las comunicaciones",
            "TIC",
            None,
        ),
        (
            "ru",
            "информационно-коммуникационные технологии",
            "ИКТ",
            Some("RU"),
        ),
        ("zh", "信息和通信技术", "信通技术", None),
    ] {
        assert_eq!(
            terms(ict, lang),
            [(first, Preferred, region), (second, Admitted, region)],
            "{lang}: first synonym preferred, the others admitted"
        );
    }
    assert!(!ict.languages.contains_key("ar"));

    let messages: Vec<&str> = g.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(messages, ["ignored columns: Reviewer"]);
}

#[test]
fn derived_ids_are_stable_and_merge() {
    let text = "English,French,zh_CN\n\
                Hanoi Convention,Convention de Hanoï,河内公约\n\
                ,Convention de Hanoi,\n\
                Hanoi Convention ; Convention of Hanoi,,\n";
    let g = parse(text.as_bytes(), Comma);
    let first = derived_id("en", "Hanoi Convention");
    let second = derived_id("fr", "Convention de Hanoi");
    let ids: Vec<&str> = g.concepts.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, [first.as_str(), second.as_str()]);
    assert_eq!(first.len(), 18);
    assert_eq!(
        terms(&g.concepts[0], "en"),
        [
            ("Hanoi Convention", Preferred, None),
            ("Convention of Hanoi", Admitted, None)
        ],
        "row 4 derives the same id as row 2 and merges into it"
    );
    assert_eq!(
        terms(&g.concepts[0], "zh"),
        [("河内公约", Preferred, Some("CN"))]
    );
    assert_eq!(
        parse(text.as_bytes(), Comma).concepts,
        g.concepts,
        "same file, same ids"
    );

    // one term per row without an id column: each row is its own concept
    let g = parse(b"lang\tterm\nfr\tHano\xC3\xAF\nen\tHanoi\n", Tab);
    let ids: Vec<&str> = g.concepts.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, [derived_id("fr", "Hanoï"), derived_id("en", "Hanoi")]);
}

#[test]
fn term_per_row_columns_and_quoting() {
    let g = parse(&file(FIXTURES, "quoted.csv"), Comma);
    assert!(g.warnings.is_empty(), "{:?}", g.warnings);
    let ids: Vec<&str> = g.concepts.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        ["un-cybercrime-convention", "states-parties"],
        "rows need not be adjacent"
    );
    let c = &g.concepts[0];
    assert_eq!(
        c.note.as_deref(),
        Some("adopted by the General Assembly\nin December 2024")
    );
    let en = &c.languages["en"].terms[0];
    assert_eq!(en.text, "United Nations Convention against Cybercrime, the");
    assert_eq!(en.note.as_deref(), Some("full title, short form"));
    assert_eq!(en.pos.as_deref(), Some("noun"));
    let fr = &c.languages["fr"];
    assert_eq!(
        fr.definition.as_deref(),
        Some("traité dit \"Convention de Hanoï\"")
    );
    assert_eq!(fr.terms[0].status, Preferred);
    assert_eq!(terms(c, "es")[0].1, Preferred, "status is case-insensitive");
    assert_eq!(
        terms(&g.concepts[1], "en"),
        [("States Parties", Admitted, None)],
        "empty status"
    );

    let g = parse(&file(FIXTURES, "literal-quotes.tsv"), Tab);
    let c = concept(&g, "quote");
    assert_eq!(
        terms(c, "en"),
        [("\"as is\"", Preferred, None)],
        "tsv keeps quotes"
    );
    assert_eq!(
        c.languages["en"].terms[0].note.as_deref(),
        Some("quotes stay")
    );
    assert_eq!(
        terms(c, "fr"),
        [("« tel quel »", Admitted, None)],
        "\\r stripped"
    );
}

#[test]
fn header_variants_and_warnings() {
    let text = "CONCEPT-ID, Language ,TERM,Part of speech,Gender,Term_Type,Source,Domain,Reviewer,Comment\n\
                c1,fr-CA,courriel,noun,masculine,fullForm,OQLF,it; mail,x,y\n";
    let g = parse(text.as_bytes(), Comma);
    let t = &g.concepts[0].languages["fr"].terms[0];
    assert_eq!(
        (
            t.pos.as_deref(),
            t.gender.as_deref(),
            t.term_type.as_deref(),
            t.source.as_deref()
        ),
        (
            Some("noun"),
            Some("masculine"),
            Some("fullForm"),
            Some("OQLF")
        )
    );
    assert_eq!(t.region.as_deref(), Some("CA"));
    assert_eq!(g.concepts[0].subject, ["it", "mail"]);
    assert_eq!(g.warnings.len(), 1, "{:?}", g.warnings);
    assert_eq!(g.warnings[0].message, "ignored columns: Reviewer, Comment");
    assert_eq!(g.warnings[0].line, Some(1));

    // rows without a term: kept when they name a concept that has terms elsewhere
    let text = "concept_id,lang,term,definition,subject\n\
                c1,en,,a definition,law\n\
                ,fr,,,\n\
                c2,fr,,,\n\
                c1,en,Convention,,\n";
    let g = parse(text.as_bytes(), Comma);
    assert_eq!(g.concepts.len(), 1);
    assert_eq!(g.concepts[0].subject, ["law"]);
    assert_eq!(
        g.concepts[0].languages["en"].definition.as_deref(),
        Some("a definition")
    );
    let warnings: Vec<(Option<u64>, &str)> = g
        .warnings
        .iter()
        .map(|w| (w.line, w.message.as_str()))
        .collect();
    assert_eq!(
        warnings,
        [
            (Some(4), "1 concepts without any term were skipped: c2"),
            (Some(3), "1 rows without a term were skipped"),
        ]
    );

    // language columns: affixed column names are not languages; three letters are, with a warning
    let g = parse(b"ID,en,fr,en_note,Definition,url\nc1,a,b,c,d,e\n", Comma);
    let langs: Vec<&str> = g.concepts[0].languages.keys().map(String::as_str).collect();
    assert_eq!(langs, ["en", "fr", "url"]);
    let messages: Vec<&str> = g.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "ignored columns: en_note, Definition",
            "columns read as languages other than the six UN languages: url",
        ]
    );

    // header only: no concepts, no error
    for (text, d) in [
        ("concept_id,lang,term\n", Comma),
        ("en\tfr\n", Tab),
        ("id,sourceLang,targetLang,sourceString,targetString", Comma),
    ] {
        assert!(parse(text.as_bytes(), d).concepts.is_empty(), "{text:?}");
    }
}

/// A name, an input, its delimiter, and the expected `(line, column, part of the message)` of every
/// issue.
type ErrorCase = (
    &'static str,
    &'static [u8],
    Delimiter,
    &'static [(u64, u64, &'static str)],
);

#[test]
fn errors_are_located() {
    let cases: &[ErrorCase] = &[
        (
            "unknown status",
            b"concept_id,lang,term,status\nc1,en,a,preferred\nc1,fr,b,maybe\n",
            Comma,
            &[(3, 4, "unknown term status \"maybe\"")],
        ),
        (
            "all problems, in file order",
            b"concept_id\tsubject\tlang\tterm\tstatus\n\
              c1\tx\ten\ta\tpreferred\n\
              c2\tx\te1\tb\tadmitted\n\
              \n\
              c/3\tx\tfr\tc\tsometimes\n\
              \tx\tfr\td\t\n\
              c5\tx\t\te\t\n",
            Tab,
            &[
                (3, 3, "invalid language tag \"e1\""),
                (5, 1, "invalid id \"c/3\""),
                (5, 5, "unknown term status \"sometimes\""),
                (6, 1, "empty concept id"),
                (7, 3, "missing language tag"),
            ],
        ),
        (
            "lines count physical lines inside quotes",
            b"concept_id,lang,term,note\nc1,en,a,\"two\nlines\"\nc1,fr,b,\"x\"\nc1,xx-!,c,\n",
            Comma,
            &[(5, 2, "invalid language tag")],
        ),
        (
            "unterminated quote",
            b"concept_id,lang,term\nc1,en,ok\nc2,en,\"open\nc3,en,z\n",
            Comma,
            &[(3, 3, "quoted field not closed")],
        ),
        (
            "invalid utf-8",
            b"concept_id,lang,term\nc1,fr,caf\xE9\n",
            Comma,
            &[(2, 10, "invalid UTF-8 byte 0xE9")],
        ),
        (
            "invalid utf-8 after multi-byte characters",
            b"lang\tterm\nru\t\xD0\xBA\xD0\xBE\xC0\n",
            Tab,
            &[(2, 6, "invalid UTF-8 byte 0xC0")],
        ),
        (
            "utf-16 without bom",
            b"l\0a\0n\0g\0,\0t\0e\0r\0m\0",
            Comma,
            &[(1, 2, "UTF-16 without a byte order mark")],
        ),
        (
            "unknown header",
            b"foo,bar\n1,2\n",
            Comma,
            &[(1, 1, "unrecognised header (foo, bar)")],
        ),
        (
            "semicolons",
            b"lang;term\nen;x\n",
            Comma,
            &[(1, 1, "separated by ';'")],
        ),
        ("empty file", b"", Comma, &[(1, 1, "empty file")]),
        ("bom only", b"\xEF\xBB\xBF", Tab, &[(1, 1, "empty file")]),
        ("blank lines", b"\r\n\n  \n", Tab, &[(1, 1, "empty file")]),
        (
            "status count mismatch",
            b"id,en,en_status\nc1,a;b;c,preferred;admitted\n",
            Comma,
            &[(2, 3, "2 statuses for 3 terms")],
        ),
        (
            "bad status in a language status column",
            b"id,en,status-en\nc1,a,preferred\nc2,b,nope\n",
            Comma,
            &[(3, 3, "unknown term status \"nope\"")],
        ),
        (
            "pair with a bad target language",
            b"id,sourceLang,targetLang,sourceString,targetString\n7,en,f r,fever,fi\xC3\xA8vre\n",
            Comma,
            &[(2, 3, "invalid language tag \"f r\"")],
        ),
    ];
    for (name, input, delimiter, expected) in cases {
        let err = fail(input, *delimiter);
        assert_eq!(err.format, delimiter_name(*delimiter), "{name}");
        let got: Vec<(u64, u64, &str)> = err
            .issues
            .iter()
            .map(|i| (i.line, i.column, i.message.as_str()))
            .collect();
        assert_eq!(got.len(), expected.len(), "{name}: {got:#?}");
        for (g, e) in got.iter().zip(expected.iter()) {
            assert_eq!((g.0, g.1), (e.0, e.1), "{name}: {got:#?}");
            assert!(
                g.2.contains(e.2),
                "{name}: {:?} should contain {:?}",
                g.2,
                e.2
            );
        }
    }
}

fn delimiter_name(d: Delimiter) -> &'static str {
    match d {
        Comma => "csv",
        Tab => "tsv",
    }
}

#[test]
fn utf16_errors_are_located() {
    let mut bytes = utf16("lang,term\nen,ab", false);
    bytes.extend_from_slice(&0xD800u16.to_le_bytes());
    bytes.extend_from_slice(&u16::from(b'c').to_le_bytes());
    let err = fail(&bytes, Comma);
    assert_eq!((err.issues[0].line, err.issues[0].column), (2, 6), "{err}");
    assert!(
        err.issues[0].message.contains("unpaired surrogate 0xD800"),
        "{err}"
    );

    let mut odd = utf16("lang\tterm\n", true);
    odd.push(b'x');
    let err = fail(&odd, Tab);
    assert_eq!((err.issues[0].line, err.issues[0].column), (2, 1), "{err}");
}

#[test]
fn error_display_and_issue_cap() {
    let mut text = String::from("concept_id,lang,term,status\n");
    for i in 0..150 {
        text.push_str(&format!("c{i},en,t{i},bogus\n"));
    }
    let err = fail(text.as_bytes(), Comma);
    assert_eq!(err.issues.len(), MAX_ISSUES + 1);
    assert_eq!(err.issues[0].line, 2);
    let last = err.issues.last().unwrap();
    assert!(
        last.message.contains("stopped after 100 problems"),
        "{last:?}"
    );
    assert_eq!(last.line, 102);
    assert!(
        err.to_string()
            .starts_with("csv: line 2, column 4: unknown term status \"bogus\""),
        "{err}"
    );
}

#[test]
fn no_panic_on_odd_input() {
    let alphabet: &[&[u8]] = &[
        b",",
        b"\t",
        b"\"",
        b"\n",
        b"\r",
        b";",
        b"|",
        b" ",
        b"a",
        b"en",
        b"fr-CA",
        b"zh_Hans",
        b"\xC3\xA9",
        b"\xFF",
        b"\xEF\xBB\xBF",
        b"\xD8",
        b"\0",
        b"preferred",
        b"maybe",
        b"/",
    ];
    let headers: &[&[u8]] = &[
        b"",
        b"concept_id,lang,term,status,note,definition\n",
        b"id,sourceLang,targetLang,sourceString,targetString\n",
        b"id,en,fr,status_fr,subject\n",
        b"\xFF\xFElang,term\n",
        b"\xFE\xFF",
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..3000 {
        let mut bytes = headers[round % headers.len()].to_vec();
        for _ in 0..next() % 40 {
            bytes.extend_from_slice(alphabet[(next() % alphabet.len() as u64) as usize]);
        }
        for d in [Comma, Tab] {
            if let Err(e) = read_glossary(&bytes, d, "fuzz") {
                assert!(!e.issues.is_empty(), "{bytes:?}");
                for i in &e.issues {
                    assert!(i.line >= 1 && i.column >= 1, "{bytes:?}: {i:?}");
                }
            }
        }
    }
}
