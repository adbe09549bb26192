//! The TMX reader and writer on real files: the LISA TMX compliance kit (every import test file
//! against the kit's expected plain outputs), TICO-19, and files that must be refused.

use hexaglot::formats::tmx::{read_tmx, strip_codes, ParsedTmx, TmxWriter};

use crate::common::{corpus, utf16};

fn kit(name: &str) -> Vec<u8> {
    std::fs::read(corpus(&format!("tmx/lisa-compliance-kit/{name}"))).unwrap()
}

fn read_kit(name: &str) -> ParsedTmx {
    read_tmx(&kit(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// An expected-output file of the kit as text (UTF-8 ± BOM, UTF-16 with BOM, else Windows-1252).
fn expected_text(name: &str) -> String {
    let bytes = kit(name);
    match encoding_rs::Encoding::for_bom(&bytes) {
        Some((enc, bom)) => enc
            .decode_without_bom_handling(&bytes[bom..])
            .0
            .into_owned(),
        None => match std::str::from_utf8(&bytes) {
            Ok(s) => s.to_string(),
            Err(_) => encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned(),
        },
    }
}

/// The paragraphs of the kit's `.htm` outputs, tags stripped and entities resolved.
fn htm_paragraphs(name: &str) -> Vec<String> {
    let text = expected_text(name);
    let mut out = Vec::new();
    for p in text.split("<p>").skip(1) {
        let p = p.split("</p>").next().unwrap();
        let mut plain = String::new();
        let mut in_tag = false;
        for c in p.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                c if !in_tag => plain.push(c),
                _ => {}
            }
        }
        let plain = plain
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&");
        out.push(plain);
    }
    out
}

/// The paragraphs of the kit's `.rtf` outputs: groups with a destination (`\pict`, `\fonttbl`)
/// dropped, `\'hh` as Windows-1252, other control words removed, `\par` ends a paragraph.
fn rtf_paragraphs(name: &str) -> Vec<String> {
    let text = expected_text(name);
    let chars: Vec<char> = text.chars().collect();
    let mut out = vec![String::new()];
    let mut skip_depth: Option<usize> = None;
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '{' => depth += 1,
            '}' => {
                if skip_depth == Some(depth) {
                    skip_depth = None;
                }
                depth -= 1;
            }
            '\\' => {
                let next = chars.get(i + 1).copied().unwrap_or(' ');
                if next == '\'' {
                    let hex: String = chars[i + 2..i + 4].iter().collect();
                    let byte = u8::from_str_radix(&hex, 16).unwrap();
                    if skip_depth.is_none() {
                        let decoded = encoding_rs::WINDOWS_1252.decode(&[byte]).0.into_owned();
                        out.last_mut().unwrap().push_str(&decoded);
                    }
                    i += 4;
                    continue;
                }
                if !next.is_ascii_alphabetic() {
                    if skip_depth.is_none() {
                        out.last_mut().unwrap().push(next);
                    }
                    i += 2;
                    continue;
                }
                let mut j = i + 1;
                while j < chars.len() && chars[j].is_ascii_alphabetic() {
                    j += 1;
                }
                let word: String = chars[i + 1..j].iter().collect();
                while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j] == ' ' {
                    j += 1;
                }
                match word.as_str() {
                    "par" if skip_depth.is_none() => out.push(String::new()),
                    "pict" | "fonttbl" | "colortbl" | "stylesheet" | "info" => {
                        skip_depth.get_or_insert(depth);
                    }
                    _ => {}
                }
                i = j;
                continue;
            }
            '\r' | '\n' => {}
            c if skip_depth.is_none() && depth > 0 => out.last_mut().unwrap().push(c),
            _ => {}
        }
        i += 1;
    }
    out.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// The plain texts (codes removed) of one language of a file, in unit order.
fn texts(tmx: &ParsedTmx, lang: &str) -> Vec<String> {
    tmx.units
        .iter()
        .filter_map(|u| u.variants.get(lang))
        .map(|t| strip_codes(t))
        .collect()
}

/// How a kit file's expected output is laid out.
enum Expected {
    /// One segment a line.
    Lines(&'static str),
    /// HTML paragraphs; several segments may share one, so both sides are joined with spaces.
    Htm(&'static str),
    /// RTF paragraphs, compared like [`Expected::Htm`].
    Rtf(&'static str),
}

/// One row: a kit file, and per language key its expected output.
fn check_kit(file: &str, expected: &[(&str, Expected)]) {
    let tmx = read_kit(file);
    for (lang, exp) in expected {
        let got = texts(&tmx, lang);
        assert!(!got.is_empty(), "{file}: no {lang} segments");
        match exp {
            Expected::Lines(name) => {
                let text = expected_text(name);
                let want: Vec<&str> = text.lines().collect();
                assert_eq!(got, want, "{file} {lang} vs {name}");
            }
            Expected::Htm(name) | Expected::Rtf(name) => {
                let paragraphs = match exp {
                    Expected::Htm(_) => htm_paragraphs(name),
                    _ => rtf_paragraphs(name),
                };
                let norm = |s: String| s.split_whitespace().collect::<Vec<_>>().join(" ");
                assert_eq!(
                    norm(got.join(" ")),
                    norm(paragraphs.join(" ")),
                    "{file} {lang} vs {name}"
                );
            }
        }
    }
}

#[test]
fn lisa_kit_import_tests_match_the_expected_outputs() {
    use Expected::*;
    let cases: &[(&str, &[(&str, Expected)])] = &[
        (
            "ImportTest1A.tmx",
            &[
                ("en", Lines("ImportTest1A.txt")),
                ("fr", Lines("ImportTest1A_fr-ca.txt")),
            ],
        ),
        (
            "ImportTest1B.tmx",
            &[
                ("en", Lines("ImportTest1B.txt")),
                ("fr", Lines("ImportTest1B_fr-ca.txt")),
            ],
        ),
        (
            "ImportTest1C.tmx",
            &[
                ("en", Lines("ImportTest1C.txt")),
                ("fr", Lines("ImportTest1C_fr-ca.txt")),
            ],
        ),
        (
            "ImportTest1D.tmx",
            &[
                ("en", Lines("ImportTest1D.txt")),
                ("en-GB", Lines("ImportTest1D_en-gb.txt")),
            ],
        ),
        (
            "ImportTest1E.tmx",
            &[
                ("en", Lines("ImportTest1E.txt")),
                ("en-GB", Lines("ImportTest1E_en-gb.txt")),
            ],
        ),
        (
            "ImportTest1F.tmx",
            &[
                ("en", Lines("ImportTest1F.txt")),
                ("en-GB", Lines("ImportTest1F_en-gb.txt")),
            ],
        ),
        (
            "ImportTest1G.tmx",
            &[
                ("en", Lines("ImportTest1G.txt")),
                ("en-GB", Lines("ImportTest1G_en-gb.txt")),
            ],
        ),
        (
            "ImportTest1H.tmx",
            &[
                ("en", Lines("ImportTest1H.txt")),
                ("en-GB", Lines("ImportTest1H_en-gb.txt")),
            ],
        ),
        (
            "ImportTest1I.tmx",
            &[
                ("en", Lines("ImportTest1I.txt")),
                ("ja", Lines("ImportTest1I_ja-jp.txt")),
            ],
        ),
        (
            "ImportTest2A.tmx",
            &[
                ("en", Htm("ImportTest2A.htm")),
                ("fr", Htm("ImportTest2A_fr-ca.htm")),
            ],
        ),
        (
            "ImportTest2A-0index.tmx",
            &[
                ("en", Htm("ImportTest2A.htm")),
                ("fr", Htm("ImportTest2A_fr-ca.htm")),
            ],
        ),
        (
            "ImportTest2B.tmx",
            &[
                ("en", Rtf("ImportTest2B.rtf")),
                // the kit's French RTF is not this file's French ("Du text avec", "Image:"
                // here; "Du texte avec", "Image :" there), so only English is compared
            ],
        ),
    ];
    for (file, expected) in cases {
        check_kit(file, expected);
    }
}

/// One row: a file, its unit count, and one (unit index, language, text with placeholders).
fn check_units(file: &str, units: usize, probe: (usize, &str, &str)) {
    let tmx = read_kit(file);
    assert_eq!(tmx.units.len(), units, "{file}");
    let (i, lang, text) = probe;
    assert_eq!(
        tmx.units[i].variants.get(lang).map(String::as_str),
        Some(text),
        "{file}"
    );
}

#[test]
fn lisa_kit_files_without_plain_outputs() {
    let cases: &[(&str, usize, (usize, &str, &str))] = &[
        (
            "ImportTest1J.tmx",
            2,
            (1, "en-GB", "Second entry in UK English"),
        ),
        (
            "ImportTest1J_many.tmx",
            3,
            (2, "es", "[not to import] Third entry in Spanish"),
        ),
        ("ImportTest1K.tmx", 2, (0, "de", "First Entry - German")),
        ("ImportTest1L.tmx", 1, (0, "fr", "Texte du segment.")),
        (
            "ImportTest2C.tmx",
            1,
            (0, "fr", "{1}{2}Cliquez {3/} pour {4}commencer{/4}.{/2}"),
        ),
        (
            "ExportTest1A.tmx",
            4,
            (2, "en", "<=lt, >=gt, &=amp, {=obrace, }=cbrace"),
        ),
        ("ExportTest1B.tmx", 0, (0, "", "")),
        ("ExportTest2A.tmx", 0, (0, "", "")),
    ];
    for (file, units, probe) in cases {
        if *units == 0 {
            assert!(!read_kit(file).units.is_empty(), "{file}");
            continue;
        }
        check_units(file, *units, *probe);
    }
}

#[test]
fn lisa_kit_units_keep_props_notes_dates_and_ids() {
    let tmx = read_kit("ImportTest1L.tmx");
    let unit = &tmx.units[0];
    assert_eq!(unit.id, "tu001");
    assert_eq!(unit.created_at, "2002-05-23T09:12:00Z");
    assert_eq!(unit.changed_at.as_deref(), Some("2002-05-23T09:12:00Z"));
    assert_eq!(
        unit.note.as_deref(),
        Some("Text of tu note 1\nText of tu note 2")
    );
    assert_eq!(unit.source_lang.as_deref(), Some("en"));
    assert_eq!(unit.tmx.elements.len(), 3);
    assert!(unit.tmx.elements[2].starts_with("<prop type=\"myPropeType\""));
    assert_eq!(unit.tmx.variants["fr"].elements.len(), 4);
    assert_eq!(unit.variants.len(), 3, "{:?}", unit.variants.keys());
}

#[test]
fn tico19_memories_import_with_their_unit_counts() {
    for (file, lang, units) in [
        ("tmx/tico19/all.en-fr.tmx", "fr", 3071),
        ("tmx/tico19/all.en-zh.tmx", "zh", 3071),
    ] {
        let tmx = read_tmx(&std::fs::read(corpus(file)).unwrap()).unwrap();
        assert_eq!(tmx.units.len(), units, "{file}");
        assert!(tmx.units.iter().all(|u| u.variants.contains_key(lang)));
        assert_eq!(tmx.units[0].id, "CMU_1:1");
        assert_eq!(tmx.units[0].tmx.elements.len(), 1, "the prop is kept");
    }
}

/// Files to refuse: (file, line, column, part of the message).
#[test]
fn invalid_files_are_refused_with_line_and_column() {
    let head = "<tmx version=\"1.4\"><header srclang=\"en\"/><body>\n";
    let cases: &[(String, u64, u64, &str)] = &[
        (
            format!("{head}<tu><tuv xml:lang=\"en\"><seg>a</seg></tuv>\n<tuv><seg>b</seg></tuv></tu></body></tmx>"),
            3,
            1,
            "without xml:lang",
        ),
        (
            format!("{head}<tu><tuv xml:lang=\"en\"><seg>a &bomb; b</seg></tuv></tu></body></tmx>"),
            2,
            31,
            "undefined entity &bomb;",
        ),
        (
            format!("{head}<tu><tuv xml:lang=\"en\"><seg>a</tuv></tu></body></tmx>"),
            2,
            30,
            "does not close",
        ),
        (
            format!("{head}<tu><tuv xml:lang=\"en\"></tuv></tu></body></tmx>"),
            2,
            5,
            "without <seg>",
        ),
        (
            format!("{head}<tu><tuv xml:lang=\"e!\"><seg>x</seg></tuv></tu></body></tmx>"),
            2,
            5,
            "xml:lang",
        ),
        (
            format!("{head}<tu><tuv xml:lang=\"en\"><seg>x <b>y</b></seg></tuv></tu></body></tmx>"),
            2,
            31,
            "not an inline element",
        ),
        ("<martif/>".to_string(), 1, 1, "not a TMX file"),
        (
            "<?xml version=\"1.0\"?>\n<!DOCTYPE tmx [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>\n<tmx><body><tu><tuv xml:lang=\"en\"><seg>&b;</seg></tuv></tu></body></tmx>".to_string(),
            3,
            40,
            "undefined entity &b;",
        ),
    ];
    for (file, line, column, message) in cases {
        let err = read_tmx(file.as_bytes()).expect_err(file);
        let first = &err.issues[0];
        assert!(first.message.contains(message), "{file}: {:?}", err.issues);
        assert_eq!(
            (first.line, first.column),
            (*line, *column),
            "{file}: {first:?}"
        );
    }
}

#[test]
fn utf16_and_legacy_lang_attribute() {
    let file = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><tmx version=\"1.1\"><header srclang=\"*all*\"/><body><tu><tuv lang=\"EN\"><seg>Hello</seg></tuv><tuv LANG=\"ru-RU\"><seg>Привет</seg></tuv></tu></body></tmx>";
    for big_endian in [false, true] {
        let tmx = read_tmx(&utf16(file, big_endian)).unwrap();
        assert_eq!(tmx.source_lang, None);
        assert_eq!(tmx.units[0].variants["ru"], "Привет");
        assert_eq!(tmx.units[0].variants["en"], "Hello");
    }
}

/// Every unit of every valid kit file comes back the same after writing and reading again.
#[test]
fn written_tmx_reads_back_the_same_units() {
    let files = [
        "ImportTest1A.tmx",
        "ImportTest1D.tmx",
        "ImportTest1L.tmx",
        "ImportTest2A.tmx",
        "ImportTest2B.tmx",
        "ImportTest2C.tmx",
        "ExportTest1A.tmx",
    ];
    for file in files {
        let tmx = read_kit(file);
        let mut writer = TmxWriter::new(Vec::new(), Some("en")).unwrap();
        for unit in &tmx.units {
            writer.write(unit).unwrap();
        }
        let bytes = writer.finish().unwrap();
        let back = read_tmx(&bytes)
            .unwrap_or_else(|e| panic!("{file}: {e}\n{}", String::from_utf8_lossy(&bytes)));
        assert_eq!(back.units.len(), tmx.units.len(), "{file}");
        for (a, b) in tmx.units.iter().zip(&back.units) {
            assert_eq!(a.id, b.id, "{file}");
            assert_eq!(a.variants, b.variants, "{file}");
            assert_eq!(a.note, b.note, "{file}");
            assert_eq!(a.tmx, b.tmx, "{file}");
        }
    }
    let tmx = read_kit("ImportTest2A.tmx");
    let mut writer = TmxWriter::new(Vec::new(), None).unwrap();
    writer.write(&tmx.units[0]).unwrap();
    let out = String::from_utf8(writer.finish().unwrap()).unwrap();
    assert!(
        out.contains(r#"<bpt i="1" x="1" type="bold">&lt;b></bpt>black<ept i="1">&lt;/b></ept>"#),
        "{out}"
    );
}
