//! XLSX glossary reader: the CSV header mapping on worksheets, cell types, located errors, limits.
//!
//! Workbooks are written by the test itself ([`workbook`]): a zip of stored (uncompressed) entries
//! with inline-string cells, which is all a reader needs.

use crate::common::concept;
use std::path::Path;

use hexaglot::formats::xlsx::{read_xlsx, MAX_COLUMNS, MAX_ROWS};
use hexaglot::formats::{FormatError, ParsedGlossary};
use hexaglot::import::ImportFormat;
use hexaglot::model::{Concept, TermStatus};

use Cell::{Blank, Bool, Error, Num, Str};
use TermStatus::{Admitted, Deprecated, Preferred};

const CORPORA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpora/");

// ---------------------------------------------------------------------------------------------
// Writing workbooks

/// A cell of a test worksheet.
#[derive(Clone, Copy)]
enum Cell {
    Str(&'static str),
    Num(f64),
    Bool(bool),
    /// An error value such as `#N/A`.
    Error(&'static str),
    Blank,
}

/// A sheet: its name and its cells as `(row, column, cell)`, both 0-based.
struct Sheet {
    name: &'static str,
    cells: Vec<(u32, u32, OwnedCell)>,
}

enum OwnedCell {
    Str(String),
    Num(f64),
    Bool(bool),
    Error(String),
}

impl Sheet {
    /// A sheet whose rows start at `A1`.
    fn new(name: &'static str, rows: &[&[Cell]]) -> Sheet {
        Sheet::at(name, 0, 0, rows)
    }

    /// A sheet whose first row is `row` and first column `column` (0-based).
    fn at(name: &'static str, row: u32, column: u32, rows: &[&[Cell]]) -> Sheet {
        let mut sheet = Sheet {
            name,
            cells: Vec::new(),
        };
        for (r, cells) in rows.iter().enumerate() {
            for (c, cell) in cells.iter().enumerate() {
                let value = match *cell {
                    Str("") | Blank => continue,
                    Str(s) => OwnedCell::Str(s.to_string()),
                    Num(n) => OwnedCell::Num(n),
                    Bool(b) => OwnedCell::Bool(b),
                    Error(e) => OwnedCell::Error(e.to_string()),
                };
                sheet.cells.push((row + r as u32, column + c as u32, value));
            }
        }
        sheet
    }

    /// A sheet of text cells, e.g. the lines of a TSV file split on tabs.
    fn text(name: &'static str, rows: Vec<Vec<String>>) -> Sheet {
        let mut sheet = Sheet {
            name,
            cells: Vec::new(),
        };
        for (r, cells) in rows.into_iter().enumerate() {
            for (c, text) in cells.into_iter().enumerate() {
                if !text.is_empty() {
                    sheet.cells.push((r as u32, c as u32, OwnedCell::Str(text)));
                }
            }
        }
        sheet
    }

    fn xml(&self) -> String {
        let mut xml = String::from(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
        );
        let mut cells: Vec<&(u32, u32, OwnedCell)> = self.cells.iter().collect();
        cells.sort_by_key(|(r, c, _)| (*r, *c));
        let mut open_row = None;
        for (row, column, value) in cells {
            if open_row != Some(*row) {
                if open_row.is_some() {
                    xml.push_str("</row>");
                }
                xml.push_str(&format!(r#"<row r="{}">"#, row + 1));
                open_row = Some(*row);
            }
            let at = format!("{}{}", column_name(*column), row + 1);
            xml.push_str(&match value {
                OwnedCell::Str(s) => format!(
                    r#"<c r="{at}" t="inlineStr"><is><t xml:space="preserve">{}</t></is></c>"#,
                    escape(s)
                ),
                OwnedCell::Num(n) => format!(r#"<c r="{at}"><v>{n}</v></c>"#),
                OwnedCell::Bool(b) => format!(r#"<c r="{at}" t="b"><v>{}</v></c>"#, u8::from(*b)),
                OwnedCell::Error(e) => format!(r#"<c r="{at}" t="e"><v>{}</v></c>"#, escape(e)),
            });
        }
        if open_row.is_some() {
            xml.push_str("</row>");
        }
        xml.push_str("</sheetData></worksheet>");
        xml
    }
}

/// `A`, `B`, ..., `Z`, `AA`, ... for a 0-based column.
fn column_name(mut column: u32) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (column % 26) as u8);
        if column < 26 {
            break;
        }
        column = column / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An XLSX workbook holding these sheets, in order.
fn workbook(sheets: &[Sheet]) -> Vec<u8> {
    const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    const PKG: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
    let mut types = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#,
    );
    let mut book = format!(r#"<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>"#);
    let mut rels = format!(r#"<Relationships xmlns="{PKG}">"#);
    let mut parts = Vec::new();
    for (i, sheet) in sheets.iter().enumerate() {
        let n = i + 1;
        types.push_str(&format!(
            r#"<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
        ));
        book.push_str(&format!(
            r#"<sheet name="{}" sheetId="{n}" r:id="rId{n}"/>"#,
            escape(sheet.name)
        ));
        rels.push_str(&format!(
            r#"<Relationship Id="rId{n}" Type="{REL}/worksheet" Target="worksheets/sheet{n}.xml"/>"#
        ));
        parts.push((format!("xl/worksheets/sheet{n}.xml"), sheet.xml()));
    }
    types.push_str("</Types>");
    book.push_str("</sheets></workbook>");
    rels.push_str("</Relationships>");
    let root = format!(
        r#"<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
    );
    let mut entries = vec![
        ("[Content_Types].xml".to_string(), types),
        ("_rels/.rels".to_string(), root),
        ("xl/workbook.xml".to_string(), book),
        ("xl/_rels/workbook.xml.rels".to_string(), rels),
    ];
    entries.extend(parts);
    stored_zip(&entries)
}

/// A zip archive of uncompressed entries.
fn stored_zip(entries: &[(String, String)]) -> Vec<u8> {
    fn u16le(out: &mut Vec<u8>, v: usize) {
        out.extend_from_slice(&(v as u16).to_le_bytes());
    }
    fn u32le(out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let (name, data) = (name.as_bytes(), data.as_bytes());
        let offset = out.len() as u32;
        let crc = crc32(data);
        // local file header
        u32le(&mut out, 0x0403_4b50);
        u16le(&mut out, 20); // version needed
        u16le(&mut out, 0); // flags
        u16le(&mut out, 0); // stored
        u16le(&mut out, 0); // time
        u16le(&mut out, 0x21); // date: 1980-01-01
        u32le(&mut out, crc);
        u32le(&mut out, data.len() as u32);
        u32le(&mut out, data.len() as u32);
        u16le(&mut out, name.len());
        u16le(&mut out, 0); // extra
        out.extend_from_slice(name);
        out.extend_from_slice(data);
        // central directory record
        u32le(&mut central, 0x0201_4b50);
        u16le(&mut central, 20); // version made by
        u16le(&mut central, 20); // version needed
        u16le(&mut central, 0);
        u16le(&mut central, 0);
        u16le(&mut central, 0);
        u16le(&mut central, 0x21);
        u32le(&mut central, crc);
        u32le(&mut central, data.len() as u32);
        u32le(&mut central, data.len() as u32);
        u16le(&mut central, name.len());
        u16le(&mut central, 0); // extra
        u16le(&mut central, 0); // comment
        u16le(&mut central, 0); // disk
        u16le(&mut central, 0); // internal attributes
        u32le(&mut central, 0); // external attributes
        u32le(&mut central, offset);
        central.extend_from_slice(name);
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    u32le(&mut out, 0x0605_4b50);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, entries.len());
    u16le(&mut out, entries.len());
    u32le(&mut out, central.len() as u32);
    u32le(&mut out, central_offset);
    u16le(&mut out, 0); // comment
    out
}

/// CRC-32 (IEEE 802.3), bit by bit.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

// ---------------------------------------------------------------------------------------------
// Reading

fn parse(bytes: &[u8], sheet: Option<&str>) -> ParsedGlossary {
    read_xlsx(bytes, sheet, "test")
        .unwrap_or_else(|e| panic!("expected a glossary, got {e}: {:?}", e.issues))
}

fn fail(bytes: &[u8], sheet: Option<&str>) -> FormatError {
    match read_xlsx(bytes, sheet, "test") {
        Ok(g) => panic!("expected an error, got {:?}", g.concepts),
        Err(e) => e,
    }
}

/// `(text, status)` of a concept's terms in one language, in stored order.
fn terms<'a>(c: &'a Concept, lang: &str) -> Vec<(&'a str, TermStatus)> {
    c.languages
        .get(lang)
        .unwrap_or_else(|| panic!("{}: no language {lang}", c.id))
        .terms
        .iter()
        .map(|t| (t.text.as_str(), t.status))
        .collect()
}

/// The lines of the reference TSV file as a sheet.
fn un_event_terms(name: &'static str) -> Sheet {
    let path = format!("{CORPORA}un-event-terms.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let rows = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    Sheet::text(name, rows)
}

#[test]
fn crc32_check_value() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(column_name(0), "A");
    assert_eq!(column_name(25), "Z");
    assert_eq!(column_name(26), "AA");
    assert_eq!(column_name(999), "ALL");
}

#[test]
fn un_event_terms_as_a_workbook() {
    let bytes = workbook(&[un_event_terms("Terms")]);
    let g = parse(&bytes, None);
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

    let hanoi = concept(&g, "hanoi-convention");
    assert_eq!(hanoi.subject, ["cybercrime"]);
    assert_eq!(
        terms(hanoi, "fr"),
        [
            ("Convention de Hanoï", Preferred),
            ("Convention de Hanoi", Deprecated)
        ]
    );
    let fr = &hanoi.languages["fr"].terms;
    assert_eq!(fr[1].note.as_deref(), Some("spelling without diaeresis"));
    assert_eq!(terms(hanoi, "en"), [("Hanoi Convention", Preferred)]);
    assert_eq!(terms(hanoi, "zh"), [("河内公约", Preferred)]);

    // the same concepts as the TSV file itself
    let tsv = ImportFormat::Tsv
        .read(
            &std::fs::read(format!("{CORPORA}un-event-terms.tsv")).unwrap(),
            "test",
        )
        .unwrap();
    assert_eq!(tsv.concepts, g.concepts);
}

#[test]
fn language_columns_on_a_named_second_sheet() {
    let notes = Sheet::new(
        "Read me",
        &[&[Str("This workbook holds the glossary on the next sheet.")]],
    );
    let glossary = Sheet::new(
        "Glossary",
        &[
            &[
                Str("id"),
                Str("English"),
                Str("fr"),
                Str("status_fr"),
                Str("note"),
            ],
            &[
                Num(1.0),
                Str("e-mail"),
                Str("courriel; courrier électronique"),
                Blank,
                Num(12.25),
            ],
            &[
                Num(2.0),
                Str("cybercrime"),
                Str("cybercriminalité"),
                Str("preferred"),
                Bool(true),
            ],
            &[Num(1e20), Num(3.0), Blank, Blank, Num(-7.0)],
        ],
    );
    let bytes = workbook(&[notes, glossary]);

    let g = parse(&bytes, Some("Glossary"));
    let ids: Vec<&str> = g.concepts.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "100000000000000000000"]);
    let email = concept(&g, "1");
    assert_eq!(terms(email, "en"), [("e-mail", Preferred)]);
    assert_eq!(
        terms(email, "fr"),
        [("courriel", Preferred), ("courrier électronique", Admitted)]
    );
    assert_eq!(email.note.as_deref(), Some("12.25"));
    assert_eq!(concept(&g, "2").note.as_deref(), Some("TRUE"));
    let three = concept(&g, "100000000000000000000");
    assert_eq!(terms(three, "en"), [("3", Preferred)], "no trailing .0");
    assert_eq!(three.note.as_deref(), Some("-7"));

    // the first sheet is the default, and it is no glossary
    let err = fail(&bytes, None);
    assert_eq!((err.issues[0].line, err.issues[0].column), (1, 1));
    assert!(
        err.issues[0].message.starts_with("unrecognised header"),
        "{err}"
    );
    assert!(!err.issues[0].message.contains("separated by"), "{err}");
}

#[test]
fn errors_are_located_by_row_and_column() {
    // (name, sheet, expected (line, column, part of the message) of every issue)
    type Case = (&'static str, Sheet, &'static [(u64, u64, &'static str)]);
    let cases: Vec<Case> = vec![
        (
            "unknown status, sheet starting at B2",
            Sheet::at(
                "Terms",
                1,
                1,
                &[
                    &[Str("concept_id"), Str("lang"), Str("term"), Str("status")],
                    &[Str("c1"), Str("en"), Str("cybercrime"), Str("preferred")],
                    &[
                        Str("c1"),
                        Str("fr"),
                        Str("cybercriminalité"),
                        Str("outdated"),
                    ],
                ],
            ),
            &[(4, 5, "outdated")],
        ),
        (
            "error cells",
            Sheet::new(
                "Terms",
                &[
                    &[Str("lang"), Str("term"), Str("note")],
                    &[Str("en"), Error("#N/A"), Blank],
                    &[Str("fr"), Str("courriel"), Error("#REF!")],
                ],
            ),
            &[(2, 2, "cell error #N/A"), (3, 3, "cell error #REF!")],
        ),
        (
            "bad language and empty id",
            Sheet::new(
                "Terms",
                &[
                    &[Str("id"), Str("lang"), Str("term")],
                    &[Str("c1"), Num(42.0), Str("cybercrime")],
                    &[Blank, Str("en"), Str("e-mail")],
                ],
            ),
            &[(2, 2, "42"), (3, 1, "empty concept id")],
        ),
        (
            "unrecognised header",
            Sheet::new("Terms", &[&[Str("foo"), Str("bar")], &[Str("1"), Str("2")]]),
            &[(1, 1, "unrecognised header (foo, bar)")],
        ),
        (
            "empty sheet",
            Sheet::new("Empty", &[]),
            &[(1, 1, "sheet \"Empty\" is empty")],
        ),
    ];
    for (name, sheet, expected) in cases {
        let err = fail(&workbook(&[sheet]), None);
        assert_eq!(err.format, "xlsx", "{name}");
        let found: Vec<(u64, u64)> = err.issues.iter().map(|i| (i.line, i.column)).collect();
        let want: Vec<(u64, u64)> = expected.iter().map(|(l, c, _)| (*l, *c)).collect();
        assert_eq!(found, want, "{name}: {err}: {:?}", err.issues);
        for (issue, (_, _, part)) in err.issues.iter().zip(expected) {
            assert!(issue.message.contains(part), "{name}: {:?}", issue.message);
        }
    }
}

#[test]
fn unknown_sheet_lists_the_sheets() {
    let bytes = workbook(&[
        Sheet::new("Read me", &[&[Str("x")]]),
        Sheet::new("Glossary", &[&[Str("x")]]),
    ]);
    let err = fail(&bytes, Some("Terms"));
    assert_eq!(
        err.to_string(),
        r#"xlsx: line 1, column 1: no sheet named "Terms"; the workbook has: "Read me", "Glossary""#
    );
}

#[test]
fn not_a_workbook() {
    for bytes in [
        &b"id,en,fr\nc1,e-mail,courriel\n"[..],
        b"",
        b"PK\x03\x04 truncated",
    ] {
        let err = fail(bytes, None);
        assert_eq!(err.issues.len(), 1);
        assert_eq!((err.issues[0].line, err.issues[0].column), (1, 1));
        assert!(
            err.issues[0].message.starts_with("not an XLSX workbook"),
            "{err}"
        );
    }
    // a zip that is no workbook
    let err = fail(&stored_zip(&[("a.txt".into(), "hello".into())]), None);
    assert_eq!((err.issues[0].line, err.issues[0].column), (1, 1));
    assert!(err.issues[0].message.contains("XLSX workbook"), "{err}");
}

#[test]
fn oversized_sheets_are_refused() {
    let header: &[Cell] = &[Str("lang"), Str("term")];
    let cases = [
        (MAX_ROWS, 0, (u64::from(MAX_ROWS) + 1, 1)),
        (1, MAX_COLUMNS, (2, u64::from(MAX_COLUMNS) + 1)),
    ];
    for (row, column, at) in cases {
        let mut sheet = Sheet::new("Big", &[header, &[Str("en"), Str("e-mail")]]);
        sheet.cells.push((row, column, OwnedCell::Str("x".into())));
        let err = fail(&workbook(&[sheet]), None);
        assert_eq!((err.issues[0].line, err.issues[0].column), at, "{err}");
        assert!(err.issues[0].message.contains("too large"), "{err}");
    }
    // the last row and column allowed are read
    let mut sheet = Sheet::new("Big", &[header, &[Str("en"), Str("e-mail")]]);
    sheet
        .cells
        .push((MAX_ROWS - 1, 0, OwnedCell::Str("fr".into())));
    sheet
        .cells
        .push((MAX_ROWS - 1, 1, OwnedCell::Str("courriel".into())));
    sheet
        .cells
        .push((1, MAX_COLUMNS - 1, OwnedCell::Str("extra".into())));
    let g = parse(&workbook(&[sheet]), None);
    assert_eq!(g.concepts.len(), 2);
    assert!(
        g.warnings
            .iter()
            .any(|w| w.message.contains("extra fields were ignored")),
        "{:?}",
        g.warnings
    );
}

#[test]
fn import_format_xlsx() {
    let bytes = workbook(&[
        Sheet::new("Read me", &[&[Str("notes")]]),
        un_event_terms("Terms"),
    ]);
    assert_eq!(ImportFormat::sniff(&bytes), Some(ImportFormat::Xlsx));
    assert_eq!(ImportFormat::from_name("XLSX"), Some(ImportFormat::Xlsx));
    assert_eq!(
        ImportFormat::from_path(Path::new("glossary.xlsx")),
        Some(ImportFormat::Xlsx)
    );
    assert_eq!(ImportFormat::Xlsx.name(), "xlsx");

    let g = ImportFormat::Xlsx
        .read_with_sheet(&bytes, Some("Terms"), "test")
        .unwrap();
    assert_eq!(g.concepts.len(), 27);
    assert!(
        ImportFormat::Xlsx.read(&bytes, "test").is_err(),
        "first sheet"
    );

    // other formats ignore the sheet
    let csv = ImportFormat::Csv
        .read_with_sheet(b"id,en\nc1,e-mail\n", Some("Terms"), "test")
        .unwrap();
    assert_eq!(csv.concepts.len(), 1);
    assert_eq!(
        ImportFormat::sniff(b"id,en\nc1,e-mail\n"),
        Some(ImportFormat::Csv)
    );
}

#[test]
fn bad_collection_name() {
    let bytes = workbook(&[un_event_terms("Terms")]);
    let err = read_xlsx(&bytes, None, "bad name/").unwrap_err();
    assert_eq!((err.issues[0].line, err.issues[0].column), (1, 1));
    assert!(err.issues[0].message.contains("collection"), "{err}");
}
