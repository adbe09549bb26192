//! What a check reads: a JSON request (segments or a monolingual text), an XLIFF file or a TMX
//! file, turned into a [`Document`] or a text, plus the options a JSON request carries. The API
//! and the CLI both go through [`parse_input`].

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{CheckError, CheckOptions, Document};
use crate::formats::tmx::{placeholders, read_tmx};
use crate::formats::xliff::{read_xliff, InlineCode, Segment};
use crate::formats::FormatError;
use crate::lang::LangTag;

/// The kinds of input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// A JSON check request.
    Json,
    /// XLIFF 1.2 or 2.x.
    Xliff,
    /// TMX 1.4.
    Tmx,
}

impl InputFormat {
    /// The format a content type names (`application/json`, `application/xliff+xml`,
    /// `application/x-tmx+xml`); `None` for others (then [`InputFormat::sniff`]).
    pub fn from_content_type(content_type: &str) -> Option<InputFormat> {
        let ct = content_type.split(';').next()?.trim().to_ascii_lowercase();
        match ct.as_str() {
            "application/json" => Some(InputFormat::Json),
            "application/xliff+xml" | "application/x-xliff+xml" | "application/x-xliff" => {
                Some(InputFormat::Xliff)
            }
            "application/x-tmx+xml" | "application/tmx+xml" => Some(InputFormat::Tmx),
            _ => None,
        }
    }

    /// The format a file name's extension names (`.xlf`, `.xliff`, `.tmx`, `.json`).
    pub fn from_path(path: &std::path::Path) -> Option<InputFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "xlf" | "xliff" | "sdlxliff" | "mqxliff" => Some(InputFormat::Xliff),
            "tmx" => Some(InputFormat::Tmx),
            "json" => Some(InputFormat::Json),
            _ => None,
        }
    }

    /// The format the content shows: a `{` first means JSON, an `<xliff` or `<tmx` root XML.
    pub fn sniff(bytes: &[u8]) -> Option<InputFormat> {
        let head = &bytes[..bytes.len().min(4096)];
        let text = match encoding_rs::Encoding::for_bom(head) {
            Some((encoding, bom)) => encoding.decode_without_bom_handling(&head[bom..]).0,
            None => String::from_utf8_lossy(head),
        };
        let text = text.trim_start();
        if text.starts_with('{') {
            return Some(InputFormat::Json);
        }
        let lower = text.to_ascii_lowercase();
        if lower.contains("<xliff") {
            Some(InputFormat::Xliff)
        } else if lower.contains("<tmx") {
            Some(InputFormat::Tmx)
        } else {
            None
        }
    }
}

/// What to check.
#[derive(Debug, Clone)]
pub enum Input {
    /// Bilingual segments.
    Document(Document),
    /// A monolingual text: terminology use only.
    Text {
        /// Language tag.
        lang: String,
        /// The text.
        text: String,
    },
}

impl Input {
    /// Number of segments (1 for a text).
    pub fn segments(&self) -> usize {
        match self {
            Input::Document(d) => d.segments.len(),
            Input::Text { .. } => 1,
        }
    }
}

/// A segment of a JSON request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct JsonSegment {
    /// Id (a string or a number); the 1-based position when absent.
    #[serde(default)]
    pub id: Option<serde_json::Value>,
    /// Source text.
    pub source: String,
    /// Target text.
    #[serde(default)]
    pub target: Option<String>,
}

/// A list given as a JSON array or as one comma-separated string.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ListOrString {
    /// `["a", "b"]`
    List(Vec<String>),
    /// `"a,b"`
    One(String),
}

impl ListOrString {
    fn into_vec(self) -> Vec<String> {
        match self {
            ListOrString::List(v) => v,
            ListOrString::One(s) => crate::model::comma_list(Some(&s)),
        }
    }
}

/// The JSON body of `POST /api/v1/check` (and a `.json` file for the CLI).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// Source language of `segments`.
    #[serde(default)]
    pub source_lang: Option<String>,
    /// Target language of `segments`.
    #[serde(default)]
    pub target_lang: Option<String>,
    /// Bilingual segments.
    #[serde(default)]
    pub segments: Option<Vec<JsonSegment>>,
    /// Language of a monolingual `text`.
    #[serde(default)]
    pub lang: Option<String>,
    /// A monolingual text.
    #[serde(default)]
    pub text: Option<String>,
    /// Checks or groups to run (default: all).
    #[serde(default)]
    pub checks: Option<ListOrString>,
    /// Severity per check id (`error`, `warning`, `info`, `off`).
    #[serde(default)]
    pub severities: Option<BTreeMap<String, String>>,
    /// Only concepts of these subjects apply.
    #[serde(default)]
    pub subject: Option<ListOrString>,
    /// Only concepts of these collections apply.
    #[serde(default)]
    pub collections: Option<ListOrString>,
    /// List every recognised term.
    #[serde(default)]
    pub include_terms: Option<bool>,
}

/// Options given outside the body (query parameters, CLI flags); a JSON body's own fields win.
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
    /// Source language (overrides the file's).
    pub source_lang: Option<String>,
    /// Target language (overrides the file's).
    pub target_lang: Option<String>,
    /// Checks or groups.
    pub checks: Vec<String>,
    /// Severity overrides.
    pub severities: BTreeMap<String, String>,
    /// Subject filter.
    pub subjects: Vec<String>,
    /// Collection filter.
    pub collections: Vec<String>,
    /// List every recognised term.
    pub include_terms: bool,
}

/// Why an input cannot be checked.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A malformed file (422 with line and column).
    #[error(transparent)]
    Format(#[from] FormatError),
    /// A malformed request (400).
    #[error(transparent)]
    Check(#[from] CheckError),
    /// A JSON request that does not parse (400, located).
    #[error("invalid JSON check request: {0}")]
    Json(#[source] serde_json::Error),
}

fn invalid(message: impl Into<String>) -> InputError {
    InputError::Check(CheckError::Invalid(message.into()))
}

fn valid_tag(tag: String, what: &str) -> Result<String, InputError> {
    LangTag::parse(&tag).map_err(|e| invalid(format!("{what}: {e}")))?;
    Ok(tag)
}

/// Parses a check input of `format` with the options from outside the body.
pub fn parse_input(
    format: InputFormat,
    bytes: &[u8],
    outside: RequestOptions,
) -> Result<(Input, CheckOptions), InputError> {
    match format {
        InputFormat::Json => {
            let request: CheckRequest = serde_json::from_slice(bytes).map_err(InputError::Json)?;
            from_request(request, outside)
        }
        InputFormat::Xliff => {
            let file = read_xliff(bytes)?;
            let (src, tgt) = languages(
                outside.source_lang.clone().or(file.source_lang),
                outside.target_lang.clone().or(file.target_lang),
            )?;
            let opts = options(&outside)?;
            Ok((
                Input::Document(Document {
                    source_lang: src,
                    target_lang: tgt,
                    segments: file.segments,
                }),
                opts,
            ))
        }
        InputFormat::Tmx => {
            let tmx = read_tmx(bytes)?;
            let source = outside.source_lang.clone().or(tmx.source_lang.clone());
            let source = source.ok_or_else(|| {
                invalid("the TMX file names no source language (srclang): add source_lang")
            })?;
            let src_key = LangTag::parse(&source)
                .map_err(|e| invalid(format!("source_lang: {e}")))?
                .primary;
            let target = match outside.target_lang.clone() {
                Some(t) => t,
                None => {
                    let mut others: Vec<&String> = tmx
                        .units
                        .iter()
                        .flat_map(|u| u.variants.keys())
                        .filter(|k| **k != src_key)
                        .collect();
                    others.sort();
                    others.dedup();
                    match others.as_slice() {
                        [one] => one.to_string(),
                        _ => {
                            return Err(invalid(format!(
                                "the TMX file has {} target languages: say which with target_lang",
                                others.len()
                            )))
                        }
                    }
                }
            };
            let tgt_key = LangTag::parse(&target)
                .map_err(|e| invalid(format!("target_lang: {e}")))?
                .primary;
            let segments = tmx
                .units
                .iter()
                .filter_map(|u| {
                    let source = u.variants.get(&src_key)?;
                    let (source, source_codes) = split_placeholders(source);
                    let target = u.variants.get(&tgt_key).map(|t| split_placeholders(t));
                    let (target, target_codes) = match target {
                        Some((t, c)) => (Some(t), c),
                        None => (None, Vec::new()),
                    };
                    Some(Segment {
                        id: u.id.clone(),
                        source,
                        target,
                        source_codes,
                        target_codes,
                        line: 0,
                    })
                })
                .collect();
            let opts = options(&outside)?;
            Ok((
                Input::Document(Document {
                    source_lang: source,
                    target_lang: target,
                    segments,
                }),
                opts,
            ))
        }
    }
}

/// A TMX variant's text without its `{n}` placeholders, and the placeholders as inline codes.
fn split_placeholders(text: &str) -> (String, Vec<InlineCode>) {
    let mut out = String::with_capacity(text.len());
    let mut codes = Vec::new();
    let mut at = 0;
    let mut chars = 0;
    for (start, end) in placeholders(text) {
        let before = &text[at..start];
        out.push_str(before);
        chars += before.chars().count();
        let p = &text[start + 1..end - 1];
        let (kind, id) = if let Some(id) = p.strip_prefix('/') {
            ("/code", id)
        } else if let Some(id) = p.strip_suffix('/') {
            ("ph", id)
        } else {
            ("code", p)
        };
        codes.push(InlineCode {
            position: chars,
            kind: kind.to_string(),
            id: id.to_string(),
        });
        at = end;
    }
    out.push_str(&text[at..]);
    (out, codes)
}

fn languages(src: Option<String>, tgt: Option<String>) -> Result<(String, String), InputError> {
    let src =
        src.ok_or_else(|| invalid("no source language: the file names none; add source_lang"))?;
    let tgt =
        tgt.ok_or_else(|| invalid("no target language: the file names none; add target_lang"))?;
    Ok((
        valid_tag(src, "source_lang")?,
        valid_tag(tgt, "target_lang")?,
    ))
}

fn options(o: &RequestOptions) -> Result<CheckOptions, InputError> {
    let mut opts = CheckOptions::new(&o.checks, &o.severities)?;
    opts.subjects = o.subjects.clone();
    opts.collections = o.collections.clone();
    opts.include_terms = o.include_terms;
    Ok(opts)
}

fn from_request(
    r: CheckRequest,
    mut outside: RequestOptions,
) -> Result<(Input, CheckOptions), InputError> {
    if let Some(c) = r.checks {
        outside.checks = c.into_vec();
    }
    if let Some(s) = r.severities {
        outside.severities = s;
    }
    if let Some(s) = r.subject {
        outside.subjects = s.into_vec();
    }
    if let Some(c) = r.collections {
        outside.collections = c.into_vec();
    }
    if let Some(i) = r.include_terms {
        outside.include_terms = i;
    }
    let opts = options(&outside)?;
    match (r.segments, r.text) {
        (Some(_), Some(_)) => Err(invalid("send either segments or text, not both")),
        (None, None) => Err(invalid(
            "nothing to check: send segments (with source_lang and target_lang) or lang and text",
        )),
        (None, Some(text)) => {
            let lang = r
                .lang
                .or(outside.source_lang)
                .ok_or_else(|| invalid("a text needs its lang"))?;
            Ok((
                Input::Text {
                    lang: valid_tag(lang, "lang")?,
                    text,
                },
                opts,
            ))
        }
        (Some(segments), None) => {
            let (src, tgt) = languages(
                r.source_lang.or(outside.source_lang),
                r.target_lang.or(outside.target_lang),
            )?;
            let segments = segments
                .into_iter()
                .enumerate()
                .map(|(i, s)| Segment {
                    id: match s.id {
                        Some(serde_json::Value::String(s)) => s,
                        Some(serde_json::Value::Null) | None => (i + 1).to_string(),
                        Some(other) => other.to_string(),
                    },
                    source: s.source,
                    target: s.target,
                    ..Segment::default()
                })
                .collect();
            Ok((
                Input::Document(Document {
                    source_lang: src,
                    target_lang: tgt,
                    segments,
                }),
                opts,
            ))
        }
    }
}
