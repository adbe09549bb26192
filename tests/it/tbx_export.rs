//! TBX export: lossless round trips of the reference corpora, the fixtures and the sample
//! glossary, and the TBX-Basic rules (the LTAC TBX-Basic DCA schema and Schematron, restated
//! here as a checker) on what we write.

use std::collections::{BTreeMap, HashSet};

use hexaglot::formats::csv::{read_glossary, Delimiter};
use hexaglot::formats::export::{ExportFormat, ExportWriter};
use hexaglot::formats::tbx::read_tbx;
use hexaglot::model::{Concept, TermStatus};
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::reader::Reader;
use quick_xml::XmlVersion;

use crate::common::repo;

const CORPORA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpora/tbx/");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tbx/");

/// Every TBX file we have: the four reference files and our fixtures.
fn tbx_files() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for dir in [CORPORA, FIXTURES] {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".tbx"))
            .collect();
        names.sort();
        for name in names {
            files.push((name.clone(), std::fs::read(format!("{dir}{name}")).unwrap()));
        }
    }
    assert_eq!(files.len(), 6);
    files
}

fn sample_glossary() -> Vec<Concept> {
    let bytes = std::fs::read(repo().join("glossaries/un-cybercrime-convention.tsv")).unwrap();
    read_glossary(&bytes, Delimiter::Tab, "test")
        .unwrap()
        .concepts
}

fn export(concepts: &[Concept], format: ExportFormat) -> String {
    let mut writer = ExportWriter::new(Vec::new(), format).unwrap();
    for c in concepts {
        writer.write(c).unwrap();
    }
    String::from_utf8(writer.finish().unwrap()).unwrap()
}

fn read(name: &str, bytes: &[u8]) -> Vec<Concept> {
    read_tbx(bytes, "test")
        .unwrap_or_else(|e| panic!("{name}: {e}: {:?}", e.issues))
        .concepts
}

/// Reads, exports, reads again and compares whole concepts, for both TBX generations.
fn assert_round_trip(name: &str, concepts: &[Concept]) {
    for format in [ExportFormat::Tbx, ExportFormat::TbxV2] {
        let text = export(concepts, format);
        let back = read(name, text.as_bytes());
        assert_eq!(back.len(), concepts.len(), "{name} {format:?}");
        for (a, b) in concepts.iter().zip(&back) {
            assert_eq!(a, b, "{name} {format:?}: {} changed", a.id);
        }
    }
}

#[test]
fn corpus_files_fixtures_and_the_sample_glossary_round_trip() {
    let mut kept = 0;
    for (name, bytes) in tbx_files() {
        let concepts = read(&name, &bytes);
        kept += concepts
            .iter()
            .map(|c| {
                c.tbx_extra.len()
                    + c.languages
                        .values()
                        .map(|s| {
                            s.tbx_extra.len()
                                + s.terms.iter().map(|t| t.tbx_extra.len()).sum::<usize>()
                        })
                        .sum::<usize>()
            })
            .sum::<usize>();
        assert_round_trip(&name, &concepts);
    }
    // the unknown categories and transaction groups of the files travel with the concepts
    assert!(kept > 100, "{kept} fragments kept");
    assert_round_trip("sample glossary", &sample_glossary());
}

#[test]
fn unknown_categories_are_kept_at_their_level_and_written_back() {
    let file = r#"<?xml version="1.0" encoding="UTF-8"?>
<martif type="TBX" xml:lang="en"><text><body>
<termEntry id="e1">
  <descrip type="subjectField">astronomy</descrip>
  <descrip type="relatedConcept" target="e2">star</descrip>
  <transacGrp><transac type="transactionType">origination</transac><date>2020-01-02</date></transacGrp>
  <langSet xml:lang="en">
    <admin type="sourceIdentifier">S-1 &amp; S-2</admin>
    <tig><term>orbit</term>
      <termNote type="geographicalUsage">en-GB</termNote>
      <admin type="productSubset">P1</admin>
    </tig>
  </langSet>
</termEntry>
</body></text></martif>"#;
    let parsed = read_tbx(file.as_bytes(), "test").unwrap();
    let c = &parsed.concepts[0];
    assert_eq!(
        c.tbx_extra,
        [
            r#"<descrip type="relatedConcept" target="e2">star</descrip>"#,
            "<transacGrp><transac type=\"transactionType\">origination</transac><date>2020-01-02</date></transacGrp>"
        ]
    );
    assert_eq!(
        c.languages["en"].tbx_extra,
        [r#"<admin type="sourceIdentifier">S-1 &amp; S-2</admin>"#]
    );
    assert_eq!(
        c.languages["en"].terms[0].tbx_extra,
        [
            r#"<termNote type="geographicalUsage">en-GB</termNote>"#,
            r#"<admin type="productSubset">P1</admin>"#
        ]
    );
    let messages: Vec<&str> = parsed.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "unknown data category descrip type=\"relatedConcept\" kept as is (once)",
            "unknown data category admin type=\"sourceIdentifier\" kept as is (once)",
            "unknown data category termNote type=\"geographicalUsage\" kept as is (once)",
            "unknown data category admin type=\"productSubset\" kept as is (once)",
        ]
    );
    // DCT categories without a place are kept in DCA form
    let dct = r#"<tbx type="TBX-Basic" style="dct" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2"
  xmlns:basic="http://www.tbxinfo.net/ns/basic" xmlns:x="urn:example"><text><body>
<conceptEntry id="c1"><basic:source>ISO 1087</basic:source>
  <langSec xml:lang="fr"><termSec><term>orbite</term><x:register>formal</x:register></termSec></langSec>
</conceptEntry></body></text></tbx>"#;
    let c = &read_tbx(dct.as_bytes(), "test").unwrap().concepts[0];
    assert_eq!(c.tbx_extra, [r#"<admin type="source">ISO 1087</admin>"#]);
    assert_eq!(
        c.languages["fr"].terms[0].tbx_extra,
        [r#"<termNote type="register">formal</termNote>"#]
    );
    assert_round_trip("inline", &parsed.concepts);
}

#[test]
fn tbx_extra_from_clients_must_be_one_well_formed_element() {
    let mut c: Concept = serde_json::from_value(serde_json::json!({
        "id": "c1", "languages": {"en": {"terms": [{"text": "orbit"}]}},
        "tbx_extra": ["<descrip type=\"x\">ok</descrip>"]
    }))
    .unwrap();
    assert!(c.clone().normalize().is_ok());
    for bad in [
        "<descrip>unclosed",
        "<a/><b/>",
        "text",
        "<basic:x>prefixed</basic:x>",
        "<!DOCTYPE x [<!ENTITY e \"boom\">]><x>&e;</x>",
        "<x>&e;</x>",
    ] {
        c.tbx_extra = vec![bad.to_string()];
        let err = c.clone().normalize().unwrap_err().to_string();
        assert!(err.starts_with("tbx_extra: "), "{bad}: {err}");
    }
}

#[test]
fn entry_ids_are_xml_names_and_map_back() {
    let ids = ["1", "a b", "x:y", "_x-41", "été-2", "c-1"];
    let concepts: Vec<Concept> = ids
        .iter()
        .map(|id| {
            serde_json::from_value::<Concept>(serde_json::json!({
                "id": id, "collection": "test", "languages": {"en": {"terms": [{"text": format!("term {id}")}]}}
            }))
            .unwrap()
            .normalize()
            .unwrap()
        })
        .collect();
    let text = export(&concepts, ExportFormat::Tbx);
    assert!(text.contains("<conceptEntry id=\"été-2\">"), "{text}");
    assert!(text.contains("<conceptEntry id=\"c-1\">"), "{text}");
    assert!(text.contains("<conceptEntry id=\"_x-31\">"), "{text}");
    assert_eq!(tbx_basic_violations(&text), Vec::<String>::new());
    assert_round_trip("ids", &concepts);
}

// ---------------------------------------------------------------------------------------------
// TBX-Basic rules

#[test]
fn the_checker_accepts_the_ltac_example_and_rejects_broken_files() {
    let ltac =
        std::fs::read_to_string(format!("{CORPORA}ltac-tbx-basic-astronomy-dca.tbx")).unwrap();
    assert_eq!(tbx_basic_violations(&ltac), Vec::<String>::new());
    let cases = [
        (
            "<termNote type=\"partOfSpeech\">noun</termNote>",
            "<termNote type=\"partOfSpeech\">substantive</termNote>",
            "partOfSpeech",
        ),
        (
            "<descrip type=\"subjectField\">",
            "<descrip type=\"subjectArea\">",
            "descrip type",
        ),
        ("style=\"dca\"", "style=\"dct\"", "style"),
        (
            "preferredTerm-admn-sts",
            "forbiddenTerm-admn-sts",
            "administrativeStatus",
        ),
        ("<conceptEntry id=\"c1\">", "<conceptEntry id=\"1c\">", "id"),
    ];
    for (from, to, what) in cases {
        assert!(ltac.contains(from), "{from}");
        let broken = ltac.replacen(from, to, 1);
        let found = tbx_basic_violations(&broken);
        assert!(found.iter().any(|v| v.contains(what)), "{what}: {found:?}");
    }
}

#[test]
fn exports_follow_the_tbx_basic_rules_where_the_model_allows() {
    // the sample glossary as shipped
    let text = export(&sample_glossary(), ExportFormat::Tbx);
    assert_eq!(tbx_basic_violations(&text), Vec::<String>::new());
    // every corpus file and fixture: what the model holds follows the rules; only kept unknown
    // categories (outside TBX-Basic by definition), `forbidden` (TBX-Basic has no value for it)
    // and part-of-speech, gender or term-type values outside the TBX-Basic picklists, written
    // as the source had them, may not
    for (name, bytes) in tbx_files() {
        let mut concepts = read(&name, &bytes);
        let mut expected = 0;
        for c in &mut concepts {
            c.tbx_extra.clear();
            for section in c.languages.values_mut() {
                section.tbx_extra.clear();
                for t in &mut section.terms {
                    t.tbx_extra.clear();
                    expected += usize::from(t.status == TermStatus::Forbidden);
                    let fields = [
                        ("partOfSpeech", &t.pos),
                        ("grammaticalGender", &t.gender),
                        ("termType", &t.term_type),
                    ];
                    for (category, value) in fields {
                        if let Some(v) = value {
                            expected +=
                                usize::from(!picklist(category).unwrap().contains(&v.as_str()));
                        }
                    }
                }
            }
        }
        let violations = tbx_basic_violations(&export(&concepts, ExportFormat::Tbx));
        let other: Vec<&String> = violations
            .iter()
            .filter(|v| !v.contains("is not in the TBX-Basic picklist"))
            .collect();
        assert!(other.is_empty(), "{name}: {other:?}");
        assert_eq!(violations.len(), expected, "{name}: {violations:?}");
    }
    // the LTAC file keeps its extras (transaction groups, images) and stays valid but for the
    // responsibility links into its back matter, which is not kept (and says so)
    let ltac = std::fs::read(format!("{CORPORA}ltac-tbx-basic-astronomy-dca.tbx")).unwrap();
    let parsed = read_tbx(&ltac, "test").unwrap();
    assert!(parsed
        .warnings
        .iter()
        .any(|w| w.message == "back matter <back> not kept (once)"));
    let violations = tbx_basic_violations(&export(&parsed.concepts, ExportFormat::Tbx));
    assert!(!violations.is_empty());
    for v in violations {
        assert!(
            v.ends_with("target \"pe324as3-9615-4d41-a9c8-30c36bffe0e6\" is neither an id nor an http(s) URI"),
            "{v}"
        );
    }
}

struct Node {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<Node>,
    text: String,
    line: usize,
}

impl Node {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.get(key).map(String::as_str)
    }
}

fn parse_tree(text: &str) -> Node {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let line_of = |at: usize| text[..at].matches('\n').count() + 1;
    loop {
        let at = reader.buffer_position() as usize;
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("not XML: {e}"));
        let open = |e: &quick_xml::events::BytesStart<'_>| Node {
            name: e.name().as_ref().to_string(),
            attrs: e
                .attributes()
                .map(|a| {
                    let a = a.unwrap();
                    let v = a.normalized_value(XmlVersion::Implicit1_0).unwrap();
                    (a.key.as_ref().to_string(), v.into_owned())
                })
                .collect(),
            children: Vec::new(),
            text: String::new(),
            line: line_of(at),
        };
        match event {
            Event::Start(e) => stack.push(open(&e)),
            Event::Empty(e) => {
                let node = open(&e);
                stack.last_mut().unwrap().children.push(node);
            }
            Event::End(_) => {
                let node = stack.pop().unwrap();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return node,
                }
            }
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let name = r.xml10_content().into_owned();
                let s = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => resolve_predefined_entity(&name).unwrap().to_string(),
                };
                stack.last_mut().unwrap().text.push_str(&s);
            }
            Event::Eof => panic!("no root element"),
            _ => {}
        }
    }
}

/// Allowed `type` values per element in TBX-Basic DCA.
fn allowed_types(element: &str) -> Option<&'static [&'static str]> {
    Some(match element {
        "descrip" => &["context", "definition", "subjectField"],
        "admin" => &["customerSubset", "projectSubset", "source"],
        "termNote" => &[
            "administrativeStatus",
            "grammaticalGender",
            "geographicalUsage",
            "partOfSpeech",
            "termLocation",
            "termType",
        ],
        "ref" => &["crossReference"],
        "xref" => &["externalCrossReference", "xGraphic"],
        "transac" => &["transactionType"],
        "transacNote" => &["responsibility"],
        _ => return None,
    })
}

/// Values of the TBX-Basic picklists.
fn picklist(category: &str) -> Option<&'static [&'static str]> {
    Some(match category {
        "administrativeStatus" => &[
            "admittedTerm-admn-sts",
            "deprecatedTerm-admn-sts",
            "supersededTerm-admn-sts",
            "preferredTerm-admn-sts",
        ],
        "partOfSpeech" => &["adjective", "noun", "other", "verb", "adverb"],
        "grammaticalGender" => &["masculine", "feminine", "neuter", "other"],
        "termType" => &[
            "fullForm",
            "acronym",
            "abbreviation",
            "shortForm",
            "variant",
            "phrase",
        ],
        "transactionType" => &["origination", "modification"],
        _ => return None,
    })
}

const AUX_INFO: [&str; 8] = [
    "descrip",
    "descripGrp",
    "admin",
    "adminGrp",
    "transacGrp",
    "note",
    "ref",
    "xref",
];

fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Every way `text` breaks the TBX-Basic DCA rules (structure of the LTAC RNG, the data
/// categories it allows and the LTAC Schematron's co-constraints), as `line N: message`.
fn tbx_basic_violations(text: &str) -> Vec<String> {
    let root = parse_tree(text);
    let mut out = Vec::new();
    let mut v = |n: &Node, m: String| out.push(format!("line {}: {m}", n.line));
    if root.name != "tbx" {
        v(&root, format!("root element <{}>", root.name));
        return out;
    }
    if root.attr("xmlns") != Some("urn:iso:std:iso:30042:ed-2") {
        v(&root, format!("namespace {:?}", root.attr("xmlns")));
    }
    if root.attr("type") != Some("TBX-Basic") {
        v(&root, "type is not TBX-Basic".into());
    }
    if root.attr("style") != Some("dca") {
        v(&root, "style is not dca".into());
    }
    if root.attr("xml:lang").is_none() {
        v(&root, "no xml:lang on <tbx>".into());
    }
    let names: Vec<&str> = root.children.iter().map(|c| c.name.as_str()).collect();
    if names != ["tbxHeader", "text"] {
        v(&root, format!("children {names:?}"));
        return out;
    }
    let header = &root.children[0];
    let file_desc = header.children.first();
    let sources = file_desc.map_or(0, |f| {
        f.children
            .iter()
            .filter(|s| {
                s.name == "sourceDesc"
                    && s.children.iter().all(|p| p.name == "p")
                    && !s.children.is_empty()
            })
            .count()
    });
    if file_desc.is_none_or(|f| f.name != "fileDesc") || sources == 0 {
        v(header, "tbxHeader needs fileDesc/sourceDesc/p".into());
    }
    let text_el = &root.children[1];
    let Some(body) = text_el.children.first().filter(|b| b.name == "body") else {
        v(text_el, "no <body>".into());
        return out;
    };
    // every id, for IDREF targets
    let mut ids = HashSet::new();
    fn collect_ids<'a>(n: &'a Node, ids: &mut HashSet<&'a str>) {
        if let Some(id) = n.attr("id") {
            ids.insert(id);
        }
        for c in &n.children {
            collect_ids(c, ids);
        }
    }
    collect_ids(&root, &mut ids);
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    for entry in &body.children {
        if entry.name != "conceptEntry" {
            found.push((entry.line, format!("<{}> in <body>", entry.name)));
            continue;
        }
        match entry.attr("id") {
            Some(id) if is_ncname(id) => {
                if !seen.insert(id.to_string()) {
                    found.push((entry.line, format!("duplicate id {id:?}")));
                }
            }
            other => found.push((
                entry.line,
                format!("conceptEntry id {other:?} is not an xsd:ID"),
            )),
        }
        check_section(entry, "conceptEntry", "langSec", &ids, &mut found);
        for lang in entry.children.iter().filter(|c| c.name == "langSec") {
            if lang.attr("xml:lang").is_none() {
                found.push((lang.line, "langSec without xml:lang".into()));
            }
            check_section(lang, "langSec", "termSec", &ids, &mut found);
            for term_sec in lang.children.iter().filter(|c| c.name == "termSec") {
                check_term_sec(term_sec, &ids, &mut found);
            }
        }
    }
    out.extend(
        found
            .into_iter()
            .map(|(line, m)| format!("line {line}: {m}")),
    );
    out
}

/// `auxInfo` first, then one or more `child` sections.
fn check_section(
    n: &Node,
    level: &str,
    child: &str,
    ids: &HashSet<&str>,
    found: &mut Vec<(usize, String)>,
) {
    let first_child = n.children.iter().position(|c| c.name == child);
    match first_child {
        None => found.push((n.line, format!("<{level}> without <{child}>"))),
        Some(i) => {
            for c in &n.children[i..] {
                if c.name != child {
                    found.push((c.line, format!("<{}> after <{child}> in <{level}>", c.name)));
                }
            }
            for c in &n.children[..i] {
                check_aux(c, level, ids, found);
            }
        }
    }
}

fn check_term_sec(n: &Node, ids: &HashSet<&str>, found: &mut Vec<(usize, String)>) {
    if n.children.first().is_none_or(|c| c.name != "term") {
        found.push((n.line, "termSec does not start with <term>".into()));
        return;
    }
    let mut notes_done = false;
    for c in &n.children[1..] {
        match c.name.as_str() {
            "termNote" | "termNoteGrp" if !notes_done => {
                let note = if c.name == "termNote" {
                    Some(c)
                } else {
                    c.children.first()
                };
                if let Some(note) = note {
                    check_typed(note, "termSec", ids, found);
                }
            }
            "termNote" | "termNoteGrp" => {
                found.push((c.line, "termNote after other categories in termSec".into()))
            }
            _ => {
                notes_done = true;
                check_aux(c, "termSec", ids, found);
            }
        }
    }
}

/// An `auxInfo` element at `level` (or inside a group at that level).
fn check_aux(n: &Node, level: &str, ids: &HashSet<&str>, found: &mut Vec<(usize, String)>) {
    if !AUX_INFO.contains(&n.name.as_str()) {
        found.push((n.line, format!("<{}> is not allowed in <{level}>", n.name)));
        return;
    }
    match n.name.as_str() {
        "note" => {}
        "descripGrp" | "adminGrp" | "transacGrp" => {
            for c in &n.children {
                match c.name.as_str() {
                    "date" | "note" | "descripNote" | "adminNote" => {}
                    "transacNote" | "transac" | "descrip" | "admin" | "ref" | "xref" => {
                        check_typed(c, level, ids, found)
                    }
                    other => found.push((c.line, format!("<{other}> in <{}>", n.name))),
                }
            }
        }
        _ => check_typed(n, level, ids, found),
    }
}

/// A typed data category element: allowed type, picklist value, level (Schematron), targets.
fn check_typed(n: &Node, level: &str, ids: &HashSet<&str>, found: &mut Vec<(usize, String)>) {
    let Some(allowed) = allowed_types(&n.name) else {
        found.push((
            n.line,
            format!("<{}> is not a TBX-Basic data category element", n.name),
        ));
        return;
    };
    let Some(kind) = n.attr("type") else {
        found.push((n.line, format!("<{}> without type", n.name)));
        return;
    };
    if !allowed.contains(&kind) {
        found.push((n.line, format!("{} type {kind:?} is not TBX-Basic", n.name)));
    }
    let value = n.text.trim();
    if let Some(values) = picklist(kind) {
        if !values.contains(&value) {
            found.push((
                n.line,
                format!("{kind} value {value:?} is not in the TBX-Basic picklist"),
            ));
        }
    }
    let levels: &[&str] = match kind {
        "subjectField" => &["conceptEntry"],
        "context" => &["termSec"],
        "definition" => &["conceptEntry", "langSec"],
        "xGraphic" => &["conceptEntry", "langSec"],
        "crossReference" | "customerSubset" | "projectSubset" => &["conceptEntry", "termSec"],
        _ if n.name == "termNote" => &["termSec"],
        _ => &["conceptEntry", "langSec", "termSec"],
    };
    if !levels.contains(&level) {
        found.push((
            n.line,
            format!("{kind} is not allowed at the {level} level"),
        ));
    }
    if let Some(target) = n.attr("target") {
        let external = target.starts_with("http://") || target.starts_with("https://");
        if !external && !ids.contains(target) {
            found.push((
                n.line,
                format!("target {target:?} is neither an id nor an http(s) URI"),
            ));
        }
    } else if n.name == "xref" {
        found.push((n.line, "xref without target".into()));
    }
}
