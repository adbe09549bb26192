//! XML plumbing the readers share (TBX, TMX, XLIFF, `tbx_extra` fragments): decoding a file to
//! UTF-8, positions as line and column, quick-xml errors as messages for people, references and
//! attributes resolved the one safe way (the five predefined entities and character references;
//! nothing declared in a DTD is ever expanded).

use std::borrow::Cow;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart};
use quick_xml::XmlVersion;

use super::{issue, FormatIssue};

/// The file as UTF-8 text without BOM.
pub(crate) fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, FormatIssue> {
    let (encoding, body) = match encoding_rs::Encoding::for_bom(bytes) {
        Some((encoding, bom_len)) => (encoding, &bytes[bom_len..]),
        None if bytes.starts_with(b"<\0?\0") => (encoding_rs::UTF_16LE, bytes),
        None if bytes.starts_with(b"\0<\0?") => (encoding_rs::UTF_16BE, bytes),
        None => (declared_encoding(bytes)?, bytes),
    };
    let text = if encoding == encoding_rs::UTF_8 {
        utf8(body)?
    } else {
        match encoding.decode_without_bom_handling_and_without_replacement(body) {
            Some(text) => text,
            None => {
                let (lossy, _) = encoding.decode_without_bom_handling(body);
                let at = lossy.find('\u{FFFD}').unwrap_or(lossy.len());
                let (line, column) = locate(&lossy, at);
                return Err(issue(
                    line,
                    column,
                    format!("invalid {} byte sequence", encoding.name()),
                ));
            }
        }
    };
    if let Some(at) = text.find('\0') {
        let (line, column) = locate(&text, at);
        return Err(issue(
            line,
            column,
            "NUL character: not a text file, or UTF-16 without a byte order mark",
        ));
    }
    Ok(text)
}

/// The encoding named by the XML declaration; UTF-8 when there is none, or when it names UTF-16
/// (readable ASCII means the file is not UTF-16).
fn declared_encoding(bytes: &[u8]) -> Result<&'static encoding_rs::Encoding, FormatIssue> {
    let utf8 = Ok(encoding_rs::UTF_8);
    if !bytes.starts_with(b"<?xml") {
        return utf8;
    }
    let head = &bytes[..bytes.len().min(1024)];
    let Some(end) = head.windows(2).position(|w| w == b"?>") else {
        return utf8;
    };
    let decl = &head[..end];
    let Some(at) = decl.windows(8).position(|w| w == b"encoding") else {
        return utf8;
    };
    let rest = &decl[at + 8..];
    let Some(eq) = rest.iter().position(|&b| b == b'=') else {
        return utf8;
    };
    let rest = &rest[eq + 1..];
    let Some(open) = rest.iter().position(|&b| b == b'"' || b == b'\'') else {
        return utf8;
    };
    let quote = rest[open];
    let value_start = open + 1;
    let Some(len) = rest[value_start..].iter().position(|&b| b == quote) else {
        return utf8;
    };
    let label = &rest[value_start..value_start + len];
    match encoding_rs::Encoding::for_label(label) {
        Some(e) if e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE => utf8,
        Some(e) => Ok(e),
        None => {
            let column = at + 8 + eq + 1 + value_start + 1;
            Err(issue(
                1,
                column as u64,
                format!(
                    "unknown encoding {:?} in the XML declaration",
                    String::from_utf8_lossy(label)
                ),
            ))
        }
    }
}

fn utf8(bytes: &[u8]) -> Result<Cow<'_, str>, FormatIssue> {
    // a vectorised check first (the whole file passes through here); std's says where it fails
    if let Ok(text) = simdutf8::basic::from_utf8(bytes) {
        return Ok(Cow::Borrowed(text));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Cow::Borrowed(text)),
        Err(e) => {
            let valid = e.valid_up_to();
            let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
            let (line, column) = locate(prefix, valid);
            Err(issue(
                line,
                column,
                format!(
                    "invalid UTF-8 byte 0x{:02X}; declare the encoding in the XML declaration, \
                     or save the file as UTF-8",
                    bytes[valid]
                ),
            ))
        }
    }
}

/// 1-based line and character column of byte offset `at` of `text`.
/// A [`FormatIssue`] at byte `at` of `text`, inside the elements named by `open` (outermost
/// first): what every XML reader reports.
pub(crate) fn issue_in<'a>(
    text: &str,
    at: usize,
    open: impl IntoIterator<Item = &'a str>,
    message: impl Into<String>,
) -> FormatIssue {
    let (line, column) = locate(text, at);
    let mut found = issue(line, column, message);
    for name in open {
        found.path.push('/');
        found.path.push_str(name);
    }
    found
}

pub(crate) fn locate(text: &str, at: usize) -> (u64, u64) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let prefix = &text[..at];
    let line = prefix.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = prefix.rfind('\n').map_or(0, |i| i + 1);
    let column = prefix[line_start..].chars().count() + 1;
    (line as u64, column as u64)
}

/// The text of a character reference or one of the five predefined entities; anything else (an
/// entity a DTD would declare, a bad character number) is an error message.
pub(crate) fn resolve_reference(r: &BytesRef<'_>) -> Result<String, String> {
    let name = r.xml10_content();
    match r.resolve_char_ref() {
        Ok(Some(c)) => Ok(c.to_string()),
        Ok(None) => resolve_predefined_entity(&name)
            .map(str::to_string)
            .ok_or_else(|| {
                format!("undefined entity &{name}; (entities declared in a DTD are not expanded)")
            }),
        Err(_) => Err(format!("invalid character reference &{name};")),
    }
}

/// Attribute values by qualified name, unescaped the same way.
pub(crate) fn attributes(e: &BytesStart<'_>) -> Result<Vec<(String, String)>, String> {
    let borrowed = attributes_borrowed(e)?;
    Ok(borrowed
        .into_iter()
        .map(|(key, value)| (key.to_string(), value.into_owned()))
        .collect())
}

/// [`attributes`] borrowed from the element where no unescaping changed them (the common case:
/// a reader of a large file allocates nothing for them).
pub(crate) fn attributes_borrowed<'e>(
    e: &'e BytesStart<'_>,
) -> Result<Vec<(&'e str, Cow<'e, str>)>, String> {
    let mut out = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| format!("bad attribute: {err}"))?;
        let key = attr.key.into_inner();
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|err| format!("attribute {key}: {}", xml_error_message(&err)))?;
        out.push((key, value));
    }
    Ok(out)
}

/// A quick-xml error as a message for people.
pub(crate) fn xml_error_message(e: &quick_xml::Error) -> String {
    use quick_xml::errors::{IllFormedError, SyntaxError};
    use quick_xml::escape::EscapeError;
    match e {
        quick_xml::Error::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
            format!("</{found}> does not close <{expected}>")
        }
        quick_xml::Error::IllFormed(IllFormedError::UnmatchedEndTag(name)) => {
            format!("</{name}> closes no open element")
        }
        quick_xml::Error::Escape(EscapeError::UnrecognizedEntity(_, name)) => {
            format!("undefined entity &{name}; (entities declared in a DTD are not expanded)")
        }
        quick_xml::Error::Syntax(SyntaxError::UnclosedTag) => {
            "tag not closed: `>` not found before the end of the file".to_string()
        }
        other => other.to_string(),
    }
}
