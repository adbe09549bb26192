//! Translation-memory fuzzy match and concordance.
//!
//! **Lookup** ([`lookup`]): candidates come from the index, never from a scan — units whose
//! source-language text has the same exact key (case-folded, whitespace collapsed), plus the best
//! [`CANDIDATES`] by BM25 over the query's analysed keys (a flat disjunction, so tantivy prunes with
//! block-max WAND; keys in more than [`COMMON_SHARE`] of the units are left out, see
//! `informative`). Each candidate's source text is then scored against the query by
//! [`FuzzyScorer`], and the matches at or above `min_score` are returned by score, then recency.
//!
//! **Score** (0–100, an integer): an edit distance over the analysed-but-unstemmed token stream of
//! the `lang` pipeline (each token's `norm`: NFKC, case-folded, the language's orthographic
//! folding; Chinese: one token per Han character, runs of other letters or digits one token).
//! Inserting or deleting a token costs 1; substituting one token for another costs their
//! normalised character edit distance (Levenshtein / longer length: *conventions* for
//! *convention* costs 0.09; two numbers cost 0 here and count as a number difference below).
//! `score = ⌊100 × (1 − d / max(len_query, len_source))⌋ − penalties`, where the penalties for
//! differences that are not words are (capped at [`MAX_PENALTY`] together):
//!
//! | difference | penalty |
//! |---|---|
//! | case or diacritics of a word (`Hanoi`/`Hanoï`, `The`/`the`) | 1 |
//! | punctuation (`Members:`/`Members`) | 1 |
//! | whitespace beyond collapsing runs (`(a)`/`( a )`) | 1 |
//! | numbers (`2024`/`2025`) | 1 + 1 per differing number, at most 3 |
//! | inline codes (`{1}`…`{/1}` placeholders) | 1 per code one side has and the other lacks, at most 3 |
//!
//! So 100 means identical after whitespace normalisation (the only way to get 100), 95–99 means
//! the same words with other formatting or numbers, and a real word difference scores at most 94
//! ([`MAX_FUZZY`]). Reference cases: *word*/*words* 80, *word*/*wood* 75, a trailing colon 99.
//! `number_only` says the only differences are numbers (a CAT tool can then transfer them).
//!
//! **Concordance** ([`concordance`]): units whose text in one language has every analysed word of
//! the query, by BM25, with the aligned targets and the matched spans as code-point offsets.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Searcher, Term};

use super::SearchError;
use crate::formats::tmx::{placeholders, strip_codes};
use crate::lang::{analyze, nfc, search_fold, zh_bigrams, Lang, LangTag};
use crate::model::TranslationUnit;
use crate::store::tm::{exact_docs, exact_hash, load_unit, TmFields, TmStore};
use crate::store::{any_term_filter, StoreError};

/// Candidates taken from BM25 before scoring.
pub const CANDIDATES: usize = 32;
/// Share of the units above which a query word is too common to retrieve candidates by.
pub const COMMON_SHARE: f64 = 0.05;
/// Fewest query words a candidate search keeps, however common.
pub const MIN_TERMS: usize = 3;
/// Highest score of a source whose words differ from the query's.
pub const MAX_FUZZY: u8 = 94;
/// Largest total penalty for differences other than words.
pub const MAX_PENALTY: u8 = 5;
/// Longest lookup text or concordance query, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Default and largest number of lookup matches.
pub const DEFAULT_LOOKUP_LIMIT: usize = 5;
/// Largest number of lookup matches.
pub const MAX_LOOKUP_LIMIT: usize = 50;
/// Default `min_score`.
pub const DEFAULT_MIN_SCORE: u8 = 70;
/// Default and largest concordance page.
pub const DEFAULT_CONCORDANCE_LIMIT: usize = 20;
/// Largest concordance page.
pub const MAX_CONCORDANCE_LIMIT: usize = 200;

// ---------------------------------------------------------------------------------------------
// Scoring

/// One token of a segment as the scorer sees it.
#[derive(Debug, Clone)]
struct Tok {
    /// Unstemmed analysed form (`norm` of the `lang` pipeline).
    norm: String,
    /// The characters of `norm`, for the character edit distance.
    chars: Vec<char>,
    /// The token as written.
    surface: String,
    /// Digits (with `.`/`,` inside).
    numeric: bool,
}

/// A segment analysed for scoring: its tokens, the text between them, and its inline codes.
#[derive(Debug, Clone)]
pub struct Prepared {
    toks: Vec<Tok>,
    /// `gaps[i]` is the text before token `i`; the last one is after the last token.
    gaps: Vec<String>,
    /// The placeholders of the original text.
    tags: Vec<String>,
    /// Whitespace-normalised text (for the "identical" test).
    collapsed: String,
}

fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3005 | 0x3007 | 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Chinese for scoring (byte ranges): one token per Han character, a run of other letters or
/// digits one token.
fn zh_tokens(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (b, c) = chars[i];
        if is_han(c) {
            out.push((b, b + c.len_utf8()));
            i += 1;
        } else if c.is_alphanumeric() {
            let mut j = i + 1;
            while j < chars.len() && chars[j].1.is_alphanumeric() && !is_han(chars[j].1) {
                j += 1;
            }
            let end = chars.get(j).map_or(text.len(), |&(b, _)| b);
            out.push((b, end));
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

impl Prepared {
    /// Analyses a segment of language `lang` for scoring (in NFC: canonically equivalent texts
    /// are identical).
    pub fn new(lang: Lang, original: &str) -> Prepared {
        let nfc_text;
        let original = if unicode_normalization::is_nfc_quick(original.chars())
            == unicode_normalization::IsNormalized::Yes
        {
            original
        } else {
            nfc_text = nfc(original);
            &nfc_text
        };
        let tags: Vec<String> = placeholders(original)
            .into_iter()
            .map(|(s, e)| original[s..e].to_string())
            .collect();
        let text = if tags.is_empty() {
            original.to_string()
        } else {
            strip_codes(original)
        };
        let spans: Vec<(usize, usize, String)> = if lang == Lang::Zh {
            zh_tokens(&text)
                .into_iter()
                .map(|(bs, be)| (bs, be, search_fold(&text[bs..be])))
                .collect()
        } else {
            analyze(lang, &text)
                .into_iter()
                .map(|t| (t.byte_start, t.byte_end, t.norm))
                .collect()
        };
        let mut toks = Vec::with_capacity(spans.len());
        let mut gaps = Vec::with_capacity(spans.len() + 1);
        let mut at = 0;
        for (bs, be, norm) in spans {
            gaps.push(text[at..bs].to_string());
            at = be;
            let numeric = norm.chars().any(|c| c.is_numeric())
                && norm.chars().all(|c| c.is_numeric() || c == '.' || c == ',');
            toks.push(Tok {
                chars: norm.chars().collect(),
                norm,
                surface: text[bs..be].to_string(),
                numeric,
            });
        }
        gaps.push(text[at..].to_string());
        let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        Prepared {
            toks,
            gaps,
            tags,
            collapsed,
        }
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.toks.len()
    }

    /// True when the segment has no tokens.
    pub fn is_empty(&self) -> bool {
        self.toks.is_empty()
    }
}

/// Character edit distance of two tokens divided by the longer length (0 when equal).
fn token_cost(a: &Tok, b: &Tok) -> f64 {
    if a.norm == b.norm || (a.numeric && b.numeric) {
        return 0.0;
    }
    let (x, y) = (&a.chars, &b.chars);
    let longer = x.len().max(y.len());
    if longer == 0 {
        return 0.0;
    }
    let mut prev: Vec<usize> = (0..=y.len()).collect();
    let mut cur = vec![0; y.len() + 1];
    for (i, cx) in x.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cy) in y.iter().enumerate() {
            let sub = prev[j] + usize::from(cx != cy);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[y.len()] as f64 / longer as f64
}

/// One step of the alignment of a stored source (`i`) with the query (`j`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Source token `i` against query token `j` (equal or substituted).
    Pair(usize, usize),
    /// Source token `i` missing from the query.
    Delete(usize),
    /// Query token `j` missing from the source.
    Insert(usize),
}

/// The score of a stored source against a query, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// 0–100.
    pub score: u8,
    /// Token edit distance.
    pub distance: f64,
    /// True when the only differences are numbers.
    pub number_only: bool,
    /// Penalty points taken for formatting, numbers and codes (before the cap).
    pub penalty: u8,
}

/// Scores stored sources against one query; keeps the character distances it computed.
pub struct FuzzyScorer {
    query: Prepared,
    /// Row of each source word seen so far in `costs`.
    rows: HashMap<String, usize>,
    /// Character costs by source word row, then query token (NaN: not computed yet).
    costs: Vec<Vec<f64>>,
}

impl FuzzyScorer {
    /// A scorer for `query` in `lang`.
    pub fn new(lang: Lang, query: &str) -> FuzzyScorer {
        FuzzyScorer {
            query: Prepared::new(lang, query),
            rows: HashMap::new(),
            costs: Vec::new(),
        }
    }

    /// The analysed query.
    pub fn query(&self) -> &Prepared {
        &self.query
    }

    /// The `costs` row of a source word (one hash lookup per source word, not per cell).
    fn row(&mut self, s: &Tok) -> usize {
        if let Some(&r) = self.rows.get(s.norm.as_str()) {
            return r;
        }
        let r = self.costs.len();
        self.costs.push(vec![f64::NAN; self.query.toks.len()]);
        self.rows.insert(s.norm.clone(), r);
        r
    }

    /// Substitution cost of source word `s` (whose `costs` row is `row`) for query token `j`.
    fn cost(&mut self, s: &Tok, row: usize, j: usize) -> f64 {
        let c = self.costs[row][j];
        if !c.is_nan() {
            return c;
        }
        let q = &self.query.toks[j];
        let c = token_cost(s, q);
        self.costs[row][j] = c;
        c
    }

    /// The token alignment and distance of `source` against the query; `None` when the
    /// distance is certainly above `bound` (rows are abandoned once every cell exceeds it).
    fn align(&mut self, source: &Prepared, bound: f64) -> Option<(f64, Vec<Step>)> {
        let (n, m) = (source.toks.len(), self.query.toks.len());
        let rows: Vec<usize> = source.toks.iter().map(|t| self.row(t)).collect();
        let w = m + 1;
        let mut d = vec![0f64; (n + 1) * w];
        for (j, cell) in d[..w].iter_mut().enumerate() {
            *cell = j as f64;
        }
        for i in 1..=n {
            d[i * w] = i as f64;
            let mut row_min = d[i * w];
            for j in 1..=m {
                let del = d[(i - 1) * w + j] + 1.0;
                let ins = d[i * w + j - 1] + 1.0;
                let diag = d[(i - 1) * w + j - 1];
                let best = del.min(ins);
                let v = if diag >= best {
                    best
                } else {
                    (diag + self.cost(&source.toks[i - 1], rows[i - 1], j - 1)).min(best)
                };
                d[i * w + j] = v;
                row_min = row_min.min(v);
            }
            if row_min > bound {
                return None;
            }
        }
        let distance = d[n * w + m];
        if distance > bound {
            return None;
        }
        let mut steps = Vec::with_capacity(n.max(m));
        let (mut i, mut j) = (n, m);
        while i > 0 || j > 0 {
            let here = d[i * w + j];
            if i > 0 && j > 0 {
                let c = self.cost(&source.toks[i - 1], rows[i - 1], j - 1);
                if (d[(i - 1) * w + j - 1] + c - here).abs() < 1e-9 {
                    steps.push(Step::Pair(i - 1, j - 1));
                    i -= 1;
                    j -= 1;
                    continue;
                }
            }
            if i > 0 && (d[(i - 1) * w + j] + 1.0 - here).abs() < 1e-9 {
                steps.push(Step::Delete(i - 1));
                i -= 1;
            } else {
                steps.push(Step::Insert(j - 1));
                j -= 1;
            }
        }
        steps.reverse();
        Some((distance, steps))
    }

    /// The score of `source`; `None` when it is certainly below `floor`.
    pub fn score_at_least(&mut self, source: &Prepared, floor: u8) -> Option<(Score, Vec<Step>)> {
        let longer = source.len().max(self.query.len());
        if source.collapsed == self.query.collapsed && source.tags == self.query.tags {
            let steps = (0..source.len()).map(|i| Step::Pair(i, i)).collect();
            let score = Score {
                score: 100,
                distance: 0.0,
                number_only: false,
                penalty: 0,
            };
            return Some((score, steps));
        }
        // a word difference caps the score at MAX_FUZZY; the distance that still reaches `floor`
        let bound = if longer == 0 {
            0.0
        } else {
            longer as f64 * (1.0 - f64::from(floor.min(100)) / 100.0) + 1e-9
        };
        if (source.len() as f64 - self.query.len() as f64).abs() > bound {
            return None;
        }
        let (distance, steps) = self.align(source, bound)?;
        let score = self.finish(source, distance, &steps);
        (score.score >= floor).then_some((score, steps))
    }

    /// The score of `source` against the query.
    pub fn score(&mut self, source: &Prepared) -> Score {
        self.score_at_least(source, 0)
            .map(|(s, _)| s)
            .expect("floor 0 always scores")
    }

    fn finish(&self, source: &Prepared, distance: f64, steps: &[Step]) -> Score {
        let q = &self.query;
        let longer = source.len().max(q.len());
        let mut case = false;
        let mut numbers = 0u8;
        for step in steps {
            if let Step::Pair(i, j) = *step {
                let (a, b) = (&source.toks[i], &q.toks[j]);
                if a.numeric && b.numeric && a.norm != b.norm {
                    numbers += 1;
                } else if a.norm == b.norm && a.surface != b.surface {
                    case = true;
                }
            }
        }
        let punct = |p: &Prepared| -> String {
            p.gaps
                .iter()
                .flat_map(|g| g.chars())
                .filter(|c| !c.is_whitespace())
                .collect()
        };
        let punct_differs = punct(source) != punct(q);
        let no_ws = |s: &str| -> String { s.chars().filter(|c| !c.is_whitespace()).collect() };
        let ws_differs =
            source.collapsed != q.collapsed && no_ws(&source.collapsed) == no_ws(&q.collapsed);
        let tag_diff = {
            let mut theirs: Vec<&String> = source.tags.iter().collect();
            let mut missing = 0usize;
            for t in &q.tags {
                match theirs.iter().position(|x| *x == t) {
                    Some(p) => {
                        theirs.swap_remove(p);
                    }
                    None => missing += 1,
                }
            }
            (missing + theirs.len()).min(3) as u8
        };
        let number_penalty = if numbers > 0 { (1 + numbers).min(3) } else { 0 };
        let penalty = u8::from(case)
            + u8::from(punct_differs)
            + u8::from(ws_differs)
            + number_penalty
            + tag_diff;
        let capped = penalty.min(MAX_PENALTY);
        let score = if distance <= 1e-9 {
            100u8.saturating_sub(capped.max(1)).max(100 - MAX_PENALTY)
        } else {
            let base = 100.0 * (1.0 - distance / longer as f64);
            let s = (base + 1e-9).floor() - f64::from(capped);
            s.clamp(0.0, f64::from(MAX_FUZZY)) as u8
        };
        let number_only = distance <= 1e-9
            && numbers > 0
            && !case
            && !ws_differs
            && tag_diff == 0
            && !punct_differs;
        Score {
            score,
            distance,
            number_only,
            penalty,
        }
    }

    /// What differs between the stored `source` (delete) and the query (insert), from the
    /// alignment of [`FuzzyScorer::score_at_least`]. Texts are without code placeholders.
    pub fn diff(&self, source: &Prepared, steps: &[Step]) -> Vec<DiffOp> {
        let q = &self.query;
        let mut out: Vec<DiffOp> = Vec::new();
        let mut push = |op: DiffKind, text: &str| {
            if text.is_empty() {
                return;
            }
            match out.last_mut() {
                Some(last) if last.op == op => last.text.push_str(text),
                _ => out.push(DiffOp {
                    op,
                    text: text.to_string(),
                }),
            }
        };
        let gaps = |push: &mut dyn FnMut(DiffKind, &str), a: &str, b: &str| {
            if a == b {
                push(DiffKind::Equal, a);
            } else {
                push(DiffKind::Delete, a);
                push(DiffKind::Insert, b);
            }
        };
        for step in steps {
            match *step {
                Step::Pair(i, j) => {
                    gaps(&mut push, &source.gaps[i], &q.gaps[j]);
                    let (a, b) = (&source.toks[i].surface, &q.toks[j].surface);
                    if a == b {
                        push(DiffKind::Equal, a);
                    } else {
                        push(DiffKind::Delete, a);
                        push(DiffKind::Insert, b);
                    }
                }
                Step::Delete(i) => {
                    push(DiffKind::Delete, &source.gaps[i]);
                    push(DiffKind::Delete, &source.toks[i].surface);
                }
                Step::Insert(j) => {
                    push(DiffKind::Insert, &q.gaps[j]);
                    push(DiffKind::Insert, &q.toks[j].surface);
                }
            }
        }
        gaps(
            &mut push,
            source.gaps.last().map_or("", String::as_str),
            q.gaps.last().map_or("", String::as_str),
        );
        out
    }
}

/// A diff operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DiffKind {
    /// In both.
    Equal,
    /// In the query, not in the stored source.
    Insert,
    /// In the stored source, not in the query.
    Delete,
}

/// One piece of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DiffOp {
    /// What happened to the text.
    pub op: DiffKind,
    /// The text.
    pub text: String,
}

/// The score of `stored` against `query` in `lang` (one-off; lookups reuse a [`FuzzyScorer`]).
///
/// ```
/// use hexaglot::lang::Lang;
/// use hexaglot::search::tm::score;
/// assert_eq!(score(Lang::En, "word", "words").score, 80);
/// assert_eq!(score(Lang::En, "word", "wood").score, 75);
/// assert_eq!(score(Lang::En, "Member States", "Member States:").score, 99);
/// assert_eq!(score(Lang::En, "Member  States ", "Member States").score, 100);
/// ```
pub fn score(lang: Lang, query: &str, stored: &str) -> Score {
    FuzzyScorer::new(lang, query).score(&Prepared::new(lang, stored))
}

// ---------------------------------------------------------------------------------------------
// Lookup

/// A fuzzy-match request.
#[derive(Debug, Clone)]
pub struct LookupRequest {
    /// The segment to translate.
    pub text: String,
    /// Its language.
    pub source_lang: LangTag,
    /// Languages wanted (keys as in units); all the unit's other languages when empty.
    pub target_langs: Vec<String>,
    /// Lowest score returned.
    pub min_score: u8,
    /// Most matches returned.
    pub limit: usize,
    /// Collections searched (all when empty), earlier ones ranking first on equal scores.
    pub collections: Vec<String>,
}

/// One match.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TmMatch {
    /// 0–100.
    pub score: u8,
    /// The unit's id.
    pub unit_id: String,
    /// The unit's collection.
    pub collection: String,
    /// The stored source text (with code placeholders).
    pub source: String,
    /// Target texts by language key.
    pub targets: BTreeMap<String, String>,
    /// What differs between the query and the stored source.
    pub diff: Vec<DiffOp>,
    /// True when the only differences are numbers.
    pub number_only: bool,
    /// When the unit was created.
    pub created_at: String,
}

/// The answer to a lookup.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LookupResponse {
    /// Matches by score, then recency.
    pub matches: Vec<TmMatch>,
    /// Time taken in milliseconds.
    pub took_ms: f64,
}

/// The variant of `unit` in the language `tag` asks for: the long key (`en-GB`) when the unit has
/// it, else the primary subtag.
pub fn variant_for<'u>(unit: &'u TranslationUnit, tag: &LangTag) -> Option<(&'u str, &'u str)> {
    let mut long = tag.primary.clone();
    if let Some(r) = &tag.region {
        long.push('-');
        long.push_str(r);
    }
    unit.variants
        .get_key_value(&long)
        .or_else(|| unit.variants.get_key_value(&tag.primary))
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

fn targets_of(
    unit: &TranslationUnit,
    source_key: &str,
    wanted: &[LangTag],
) -> BTreeMap<String, String> {
    if wanted.is_empty() {
        return unit
            .variants
            .iter()
            .filter(|(k, _)| k.as_str() != source_key)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
    }
    wanted
        .iter()
        .filter_map(|t| variant_for(unit, t))
        .filter(|(k, _)| *k != source_key)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn parse_targets(targets: &[String]) -> Result<Vec<LangTag>, SearchError> {
    targets
        .iter()
        .map(|t| LangTag::parse(t).map_err(|e| SearchError::Invalid(e.to_string())))
        .collect()
}

/// The index terms of a text in a language: what the field's tokenizer makes of it.
fn query_terms(fields: &TmFields, lang: Lang, text: &str) -> Vec<Term> {
    let field = fields.text_field(lang);
    let mut seen = HashSet::new();
    let mut terms = Vec::new();
    let keys: Vec<String> = if lang == Lang::Zh {
        zh_bigrams(text).into_iter().map(|t| t.key).collect()
    } else {
        analyze(lang, text)
            .into_iter()
            .flat_map(|t| std::iter::once(t.key).chain(t.alt))
            .collect()
    };
    for key in keys {
        if seen.insert(key.clone()) {
            terms.push(Term::from_field_text(field, &key));
        }
    }
    terms
}

fn collection_query(fields: &TmFields, collections: &[String]) -> Option<Box<dyn Query>> {
    any_term_filter(fields.collection, collections)
}

fn filtered(query: Box<dyn Query>, filter: Option<Box<dyn Query>>) -> Box<dyn Query> {
    match filter {
        Some(f) => Box::new(BooleanQuery::new(vec![
            (Occur::Must, query),
            (Occur::Must, f),
        ])),
        None => query,
    }
}

/// The candidate documents of a lookup: exact-key matches, then the BM25 best.
fn candidates(
    searcher: &Searcher,
    fields: &TmFields,
    req: &LookupRequest,
) -> Result<Vec<DocAddress>, SearchError> {
    let lang = req.source_lang.lang;
    let mut out = exact_docs(
        searcher,
        fields,
        exact_hash(&req.source_lang.primary, &req.text),
        &req.collections,
    )?;
    out.truncate(CANDIDATES);
    let terms = query_terms(fields, lang, &strip_codes(&req.text));
    if terms.is_empty() {
        return Ok(out);
    }
    let terms = informative(searcher, terms)?;
    let should: Vec<(Occur, Box<dyn Query>)> = terms
        .into_iter()
        .map(|t| {
            let q: Box<dyn Query> = Box::new(TermQuery::new(t, IndexRecordOption::Basic));
            (Occur::Should, q)
        })
        .collect();
    let words: Box<dyn Query> = Box::new(BooleanQuery::new(should));
    let seen: HashSet<DocAddress> = out.iter().copied().collect();
    for (_, addr) in searcher.search(
        &filtered(words, collection_query(fields, &req.collections)),
        &TopDocs::with_limit(CANDIDATES).order_by_score(),
    )? {
        if !seen.contains(&addr) {
            out.push(addr);
        }
    }
    Ok(out)
}

/// The query terms worth a BM25 disjunction: words in more than [`COMMON_SHARE`] of the units
/// (`the`, `de`, `的`) add almost nothing to BM25 and cost the most to walk, so they are left out
/// — unless that leaves fewer than [`MIN_TERMS`], when the rarest are kept.
fn informative(searcher: &Searcher, terms: Vec<Term>) -> Result<Vec<Term>, SearchError> {
    let limit = (searcher.num_docs() as f64 * COMMON_SHARE).max(1000.0) as u64;
    let mut with_df = Vec::with_capacity(terms.len());
    for t in terms {
        with_df.push((searcher.doc_freq(&t)?, t));
    }
    with_df.sort_by_key(|(df, _)| *df);
    let keep = with_df
        .iter()
        .filter(|(df, _)| *df <= limit)
        .count()
        .max(MIN_TERMS.min(with_df.len()));
    Ok(with_df.into_iter().take(keep).map(|(_, t)| t).collect())
}

fn check_text(text: &str) -> Result<(), SearchError> {
    let n = text.chars().count();
    if n > MAX_TEXT_CHARS {
        return Err(SearchError::Invalid(format!(
            "the text is {n} characters long; at most {MAX_TEXT_CHARS}"
        )));
    }
    Ok(())
}

/// A match before it is formatted: score, collection rank, creation time, unit, alignment.
struct Scored {
    score: Score,
    rank: usize,
    unit: TranslationUnit,
    source_key: String,
    prepared: Prepared,
    steps: Vec<Step>,
}

fn order(a: &Scored, b: &Scored) -> Ordering {
    b.score
        .score
        .cmp(&a.score.score)
        .then(a.rank.cmp(&b.rank))
        .then_with(|| b.unit.created_at.cmp(&a.unit.created_at))
        .then_with(|| a.unit.id.cmp(&b.unit.id))
}

/// Fuzzy match: the stored units whose source is closest to `req.text`.
pub fn lookup(tm: &TmStore, req: &LookupRequest) -> Result<LookupResponse, SearchError> {
    let started = Instant::now();
    check_text(&req.text)?;
    if req.limit == 0 || req.limit > MAX_LOOKUP_LIMIT {
        return Err(SearchError::Invalid(format!(
            "limit must be 1 to {MAX_LOOKUP_LIMIT}"
        )));
    }
    if req.min_score > 100 {
        return Err(SearchError::Invalid("min_score must be 0 to 100".into()));
    }
    let wanted = parse_targets(&req.target_langs)?;
    let searcher = tm.searcher();
    let fields = tm.fields();
    let lang = req.source_lang.lang;
    let mut scorer = FuzzyScorer::new(lang, &req.text);
    let mut scored: Vec<Scored> = Vec::new();
    // once `limit` matches are in, a candidate must reach the worst of them to matter
    let mut floor = req.min_score;
    for addr in candidates(&searcher, fields, req)? {
        let unit = load_unit(&searcher, fields, addr)?;
        let Some((key, source)) = variant_for(&unit, &req.source_lang) else {
            continue;
        };
        let targets = targets_of(&unit, key, &wanted);
        if !wanted.is_empty() && targets.is_empty() {
            continue;
        }
        let prepared = Prepared::new(lang, source);
        let Some((score, steps)) = scorer.score_at_least(&prepared, floor) else {
            continue;
        };
        let rank = req
            .collections
            .iter()
            .position(|c| *c == unit.collection)
            .unwrap_or(0);
        scored.push(Scored {
            score,
            rank,
            source_key: key.to_string(),
            unit,
            prepared,
            steps,
        });
        if scored.len() >= req.limit {
            let mut best: Vec<u8> = scored.iter().map(|s| s.score.score).collect();
            best.sort_unstable_by(|a, b| b.cmp(a));
            floor = floor.max(best[req.limit - 1]);
        }
    }
    scored.sort_by(order);
    scored.truncate(req.limit);
    let matches = scored
        .into_iter()
        .map(|s| {
            let diff = scorer.diff(&s.prepared, &s.steps);
            let targets = targets_of(&s.unit, &s.source_key, &wanted);
            TmMatch {
                score: s.score.score,
                source: s.unit.variants[&s.source_key].clone(),
                unit_id: s.unit.id,
                collection: s.unit.collection,
                targets,
                diff,
                number_only: s.score.number_only,
                created_at: s.unit.created_at,
            }
        })
        .collect();
    Ok(LookupResponse {
        matches,
        took_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// The sources of a TM in one language, analysed once, for [`brute_force_best`].
pub struct BruteForce {
    lang: Lang,
    sources: Vec<(String, Prepared)>,
}

impl BruteForce {
    /// Analyses the `tag` variant of every unit of `tm` (all collections).
    pub fn new(tm: &TmStore, tag: &LangTag) -> Result<BruteForce, StoreError> {
        let mut sources = Vec::new();
        tm.for_each_unit(&[], |unit| -> Result<(), StoreError> {
            if let Some((_, text)) = variant_for(&unit, tag) {
                let prepared = Prepared::new(tag.lang, text);
                sources.push((unit.id.clone(), prepared));
            }
            Ok(())
        })?;
        Ok(BruteForce {
            lang: tag.lang,
            sources,
        })
    }

    /// Number of sources.
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    /// True when there are no sources.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// The best score of any source against `query` by an exhaustive scan (with the same scorer;
    /// sources that certainly cannot beat the best so far are abandoned early; sources of about
    /// the query's length go first, so the best so far rises fast), and its unit id.
    pub fn best(&self, query: &str) -> Option<(u8, String)> {
        let mut scorer = FuzzyScorer::new(self.lang, query);
        let n = scorer.query().len();
        let mut order: Vec<&(String, Prepared)> = self.sources.iter().collect();
        order.sort_by_key(|(_, p)| p.len().abs_diff(n));
        let mut best: Option<(u8, String)> = None;
        for (id, source) in order {
            let floor = best.as_ref().map_or(0, |(s, _)| *s);
            if let Some((score, _)) = scorer.score_at_least(source, floor) {
                if best.as_ref().is_none_or(|(s, _)| score.score > *s) {
                    best = Some((score.score, id.clone()));
                }
            }
        }
        best
    }
}

/// A convenience over [`BruteForce`]: one exhaustive lookup.
pub fn brute_force_best(
    tm: &TmStore,
    tag: &LangTag,
    query: &str,
) -> Result<Option<(u8, String)>, StoreError> {
    Ok(BruteForce::new(tm, tag)?.best(query))
}

// ---------------------------------------------------------------------------------------------
// Concordance

/// A concordance request.
#[derive(Debug, Clone)]
pub struct ConcordanceRequest {
    /// The words or phrase to find.
    pub q: String,
    /// Language of `q` and of the texts searched.
    pub lang: LangTag,
    /// Languages returned beside the matched one (all when empty).
    pub targets: Vec<String>,
    /// Page size.
    pub limit: usize,
    /// Collections searched (all when empty).
    pub collections: Vec<String>,
}

/// A matched span, in code points of `source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Highlight {
    /// First code point.
    pub start: usize,
    /// One past the last code point.
    pub end: usize,
}

/// One concordance hit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConcordanceHit {
    /// The unit's id.
    pub unit_id: String,
    /// The unit's collection.
    pub collection: String,
    /// The unit's text in the searched language.
    pub source: String,
    /// Where the query's words are in `source`.
    pub highlights: Vec<Highlight>,
    /// Aligned texts by language key.
    pub targets: BTreeMap<String, String>,
}

/// The answer to a concordance search.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConcordanceResponse {
    /// The query as given.
    pub query: String,
    /// Units matching in all.
    pub total: usize,
    /// Time taken in milliseconds.
    pub took_ms: f64,
    /// The best units by BM25.
    pub hits: Vec<ConcordanceHit>,
}

/// Spans of `text` whose analysed keys are among `keys` (overlapping Chinese bigrams merged).
fn highlights(lang: Lang, text: &str, keys: &HashSet<String>) -> Vec<Highlight> {
    let tokens = if lang == Lang::Zh {
        zh_bigrams(text)
    } else {
        analyze(lang, text)
    };
    let mut out: Vec<Highlight> = Vec::new();
    for t in tokens {
        if !t.keys().any(|k| keys.contains(k)) {
            continue;
        }
        match out.last_mut() {
            Some(last) if t.start <= last.end => last.end = last.end.max(t.end),
            _ => out.push(Highlight {
                start: t.start,
                end: t.end,
            }),
        }
    }
    out
}

/// Units whose `lang` text has every analysed word of `q`, best first.
pub fn concordance(
    tm: &TmStore,
    req: &ConcordanceRequest,
) -> Result<ConcordanceResponse, SearchError> {
    let started = Instant::now();
    check_text(&req.q)?;
    if req.limit == 0 || req.limit > MAX_CONCORDANCE_LIMIT {
        return Err(SearchError::Invalid(format!(
            "limit must be 1 to {MAX_CONCORDANCE_LIMIT}"
        )));
    }
    let wanted = parse_targets(&req.targets)?;
    let lang = req.lang.lang;
    let fields = tm.fields();
    let terms = query_terms(fields, lang, &req.q);
    let empty = ConcordanceResponse {
        query: req.q.clone(),
        total: 0,
        took_ms: 0.0,
        hits: Vec::new(),
    };
    if terms.is_empty() {
        return Ok(empty);
    }
    let keys: HashSet<String> = terms
        .iter()
        .filter_map(|t| t.value().as_str().map(str::to_string))
        .collect();
    // every word must be there (a word's alternative key counts as the word)
    let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let groups: Vec<Vec<String>> = if lang == Lang::Zh {
        zh_bigrams(&req.q)
            .into_iter()
            .map(|t| vec![t.key])
            .collect()
    } else {
        analyze(lang, &req.q)
            .into_iter()
            .map(|t| std::iter::once(t.key).chain(t.alt).collect())
            .collect()
    };
    let field = fields.text_field(lang);
    for group in groups {
        let should: Vec<(Occur, Box<dyn Query>)> = group
            .iter()
            .map(|k| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(field, k),
                    IndexRecordOption::Basic,
                ));
                (Occur::Should, q)
            })
            .collect();
        must.push((Occur::Must, Box::new(BooleanQuery::new(should))));
    }
    if let Some(filter) = collection_query(fields, &req.collections) {
        must.push((Occur::Must, filter));
    }
    let query = BooleanQuery::new(must);
    let searcher = tm.searcher();
    let (top, total) = searcher.search(
        &query,
        &(TopDocs::with_limit(req.limit).order_by_score(), Count),
    )?;
    let mut hits = Vec::new();
    for (_, addr) in top {
        let unit = load_unit(&searcher, fields, addr)?;
        let Some((key, source)) = variant_for(&unit, &req.lang) else {
            continue;
        };
        hits.push(ConcordanceHit {
            highlights: highlights(lang, source, &keys),
            targets: targets_of(&unit, key, &wanted),
            source: source.to_string(),
            unit_id: unit.id.clone(),
            collection: unit.collection.clone(),
        });
    }
    Ok(ConcordanceResponse {
        total,
        took_ms: started.elapsed().as_secs_f64() * 1000.0,
        hits,
        ..empty
    })
}
