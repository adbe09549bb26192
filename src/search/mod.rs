//! Term search: exact, analysed, prefix and typo-tolerant matching over the termbase, and ranking.
//!
//! Candidates come from the index; each candidate's terms are then matched again with the same
//! [`crate::lang`] analysis to say which term matched and how, and to rank: exact before analysed
//! before prefix/fuzzy; then collection priority; then preferred before admitted before deprecated;
//! then BM25.
//!
//! What a search derives from a segment alone (a candidate's stored match info and concept, the
//! languages of its terms) is kept per segment ([`crate::store::derived`]): it stays true while a
//! searcher holds the segment, so the searches after a commit read again only what the commit
//! added. Scores are not kept: BM25 uses statistics of all segments, which any commit changes.

pub mod tm;

use std::collections::{BTreeSet, HashSet};
use std::str::FromStr;
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AutomatonWeight, BooleanQuery, BoostQuery, DfaWrapper, EmptyQuery, EnableScoring,
    FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, DocId, Searcher, SegmentReader, TantivyDocument, Term};

use crate::lang::{analyze, exact_key, zh_bigrams, Lang, LangTag, Token};
use crate::model::{Concept, TermStatus};
use crate::store::derived::SegmentMemo;
use crate::store::{
    collection_filter, exact_term_query, Fields, MatchInfo, Store, StoreError, TermInfo, LANG_SEP,
};

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Largest page size.
pub const MAX_LIMIT: usize = 200;
/// Default page size.
pub const DEFAULT_LIMIT: usize = 20;
/// Deepest page start (deeper paging would make every query collect that many candidates).
pub const MAX_OFFSET: usize = 10_000;

/// Stored concepts kept for the next searches (each a few kilobytes).
const KEPT_CONCEPTS: usize = 65_536;

/// What searches read of a stored concept, per segment and document.
static STORED: LazyLock<SegmentMemo<DocId, Arc<StoredConcept>>> =
    LazyLock::new(|| SegmentMemo::new(KEPT_CONCEPTS));

/// Per segment, how many of its live documents a query matches ([`count`]).
static COUNTS: LazyLock<SegmentMemo<(u32, String), usize>> =
    LazyLock::new(|| SegmentMemo::new(16_384));

/// The language keys of each segment's terms ([`languages`]).
static SEGMENT_LANGUAGES: LazyLock<SegmentMemo<Field, Arc<BTreeSet<String>>>> =
    LazyLock::new(|| SegmentMemo::new(1024));

/// A candidate's stored fields: its match info, and its concept as JSON, parsed and written
/// again as responses write it when it is first on a page.
struct StoredConcept {
    info: String,
    json: String,
    concept: OnceLock<Concept>,
    /// The concept as `serde_json` writes it, when that differs from `json`.
    rendered: OnceLock<Option<Box<[u8]>>>,
}

impl StoredConcept {
    /// The stored fields of `addr` (read once per segment and document).
    fn read(
        searcher: &Searcher,
        fields: &Fields,
        addr: DocAddress,
    ) -> Result<Arc<StoredConcept>, SearchError> {
        let segment = searcher.segment_reader(addr.segment_ord);
        STORED.get_or_try_insert(segment.segment_id(), addr.doc_id, || {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let text = |field: Field, what: &str| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
                    .ok_or_else(|| StoreError::Corrupt(format!("{addr:?}"), format!("no {what}")))
            };
            Ok(Arc::new(StoredConcept {
                info: text(fields.match_info, "match info")?,
                json: text(fields.json, "json")?,
                concept: OnceLock::new(),
                rendered: OnceLock::new(),
            }))
        })
    }

    fn match_info(&self) -> Option<MatchInfo<'_>> {
        MatchInfo::parse(&self.info)
    }

    /// The stored JSON parsed (`key` names the concept in an error).
    fn parse(&self, key: &str) -> Result<Concept, StoreError> {
        serde_json::from_str(&self.json)
            .map_err(|e| StoreError::Corrupt(key.to_string(), e.to_string()))
    }

    /// The concept (`key` names it in an error).
    fn concept(&self, key: &str) -> Result<Concept, StoreError> {
        if let Some(concept) = self.concept.get() {
            return Ok(concept.clone());
        }
        let concept = self.parse(key)?;
        Ok(self.concept.get_or_init(|| concept).clone())
    }

    /// Appends the concept to `out` as `serde_json::to_writer` writes it (`key` names it in an
    /// error).
    fn write_rendered(&self, key: &str, out: &mut Vec<u8>) -> Result<(), StoreError> {
        let rendered = match self.rendered.get() {
            Some(rendered) => rendered,
            None => {
                let bytes = serde_json::to_vec(&self.parse(key)?)
                    .map_err(|e| StoreError::Corrupt(key.to_string(), e.to_string()))?;
                self.rendered
                    .get_or_init(|| (bytes != self.json.as_bytes()).then(|| bytes.into()))
            }
        };
        out.extend_from_slice(rendered.as_deref().unwrap_or(self.json.as_bytes()));
        Ok(())
    }
}

/// How the query is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Exact or analysed match, typo-tolerant when nothing matches.
    #[default]
    Auto,
    /// Whole term after NFC and case folding.
    Exact,
    /// Words starting with the query (autocomplete).
    Prefix,
    /// Words within a small edit distance.
    Fuzzy,
}

impl FromStr for Mode {
    type Err = SearchError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" | "" => Ok(Mode::Auto),
            "exact" => Ok(Mode::Exact),
            "prefix" => Ok(Mode::Prefix),
            "fuzzy" => Ok(Mode::Fuzzy),
            _ => Err(SearchError::Invalid(format!(
                "unknown mode {s:?} (expected auto, exact, prefix or fuzzy)"
            ))),
        }
    }
}

/// A term search.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// The query text.
    pub q: String,
    /// Only match terms of this language.
    pub lang: Option<LangTag>,
    /// Languages to return besides the matched ones (all when empty).
    pub targets: Vec<String>,
    /// Only concepts with one of these subjects.
    pub subjects: Vec<String>,
    /// Only matched terms with one of these statuses.
    pub statuses: Vec<TermStatus>,
    /// Matching mode.
    pub mode: Mode,
    /// Page size.
    pub limit: usize,
    /// Hits to skip.
    pub offset: usize,
    /// Collections to search, in priority order (all when empty).
    pub collections: Vec<String>,
}

/// The response of a term search.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SearchResponse {
    /// The query as understood (NFC, trimmed).
    pub query: String,
    /// Matching concepts in all pages.
    pub total: usize,
    /// Time spent, in milliseconds.
    pub took_ms: f64,
    /// This page.
    pub hits: Vec<Hit>,
}

/// One concept found.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Hit {
    /// Relevance (BM25 of the candidate query); hits are ordered by match kind first.
    pub score: f32,
    /// The concept (restricted to the matched and target languages when targets were given).
    pub concept: Concept,
    /// The terms that matched, best first.
    pub matched: Vec<Matched>,
}

/// A term that matched the query.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Matched {
    /// Language key.
    pub lang: String,
    /// Term text.
    pub text: String,
    /// Term status.
    pub status: TermStatus,
    /// True when the whole term equals the query after NFC and case folding.
    pub exact: bool,
    /// How it matched: `exact`, `analysed`, `prefix` or `fuzzy`.
    #[serde(rename = "match")]
    pub kind: MatchKind,
}

/// How a term matched, best first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    /// Whole term equal after NFC and case folding.
    Exact,
    /// Every query word found after analysis (case, diacritics, inflection).
    Analysed,
    /// Query words start term words.
    Prefix,
    /// Query words within a small edit distance of term words.
    Fuzzy,
}

/// Errors of term search.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Bad request parameters.
    #[error("{0}")]
    Invalid(String),
    /// Query longer than allowed.
    #[error("query too long: {0} characters (at most {MAX_QUERY_CHARS})")]
    TooLong(usize),
    /// Store trouble.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError::Store(StoreError::Index(e))
    }
}

/// The query analysed once per candidate language.
struct Analysed {
    lang: Lang,
    /// Language key to qualify fields with, when the search is restricted to one language.
    code: Option<String>,
    tokens: Vec<Token>,
    bigrams: Vec<Token>,
}

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

fn all_of(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if queries.len() == 1 {
        return queries.into_iter().next().expect("one query");
    }
    Box::new(BooleanQuery::new(
        queries.into_iter().map(|q| (Occur::Must, q)).collect(),
    ))
}

fn any_of(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if queries.is_empty() {
        return Box::new(EmptyQuery);
    }
    if queries.len() == 1 {
        return queries.into_iter().next().expect("one query");
    }
    Box::new(BooleanQuery::new(
        queries.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
}

/// Edit distance allowed for a word of `len` characters: none for 1–2, one for 3–7, two beyond
/// (a swap of two adjacent letters counts as one edit).
fn typo_distance(len: usize) -> u8 {
    match len {
        0..=2 => 0,
        3..=7 => 1,
        _ => 2,
    }
}

/// Searches the termbase's last commit.
pub fn search(store: &Store, req: &SearchRequest) -> Result<SearchResponse, SearchError> {
    search_in(&store.searcher(), store.fields(), req)
}

/// Searches the commit `searcher` reads (one that readers may not see yet, when a new commit's
/// answers are computed before it is published).
pub fn search_in(
    searcher: &Searcher,
    fields: &Fields,
    req: &SearchRequest,
) -> Result<SearchResponse, SearchError> {
    let page = search_page(searcher, fields, req)?;
    let mut hits = Vec::with_capacity(page.hits.len());
    for r in page.hits {
        let concept = r.stored.concept(&r.key)?;
        hits.push(Hit {
            score: r.score,
            concept: restrict_languages(concept, &r.matched, &req.targets),
            matched: r.matched,
        });
    }
    Ok(SearchResponse {
        query: page.query,
        total: page.total,
        took_ms: page.started.elapsed().as_secs_f64() * 1000.0,
        hits,
    })
}

/// [`search_in`]'s response as JSON: the bytes `serde_json::to_vec` gives of it, with each
/// concept written from the JSON kept for its stored document (a concept is rendered once per
/// segment, not once per search).
pub fn search_json_in(
    searcher: &Searcher,
    fields: &Fields,
    req: &SearchRequest,
) -> Result<Vec<u8>, SearchError> {
    let page = search_page(searcher, fields, req)?;
    let json = |e: serde_json::Error| StoreError::Corrupt(page.query.clone(), e.to_string());
    let mut out = Vec::with_capacity(1024 * (page.hits.len() + 1));
    // the fields in the order of `SearchResponse` and `Hit`, as their derived `Serialize` writes
    out.extend_from_slice(b"{\"query\":");
    serde_json::to_writer(&mut out, &page.query).map_err(json)?;
    out.extend_from_slice(b",\"total\":");
    serde_json::to_writer(&mut out, &page.total).map_err(json)?;
    out.extend_from_slice(b",\"took_ms\":");
    let took_ms = page.started.elapsed().as_secs_f64() * 1000.0;
    serde_json::to_writer(&mut out, &took_ms).map_err(json)?;
    out.extend_from_slice(b",\"hits\":[");
    for (i, r) in page.hits.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"score\":");
        serde_json::to_writer(&mut out, &r.score).map_err(json)?;
        out.extend_from_slice(b",\"concept\":");
        if req.targets.is_empty() {
            r.stored.write_rendered(&r.key, &mut out)?;
        } else {
            let concept = restrict_languages(r.stored.concept(&r.key)?, &r.matched, &req.targets);
            serde_json::to_writer(&mut out, &concept).map_err(json)?;
        }
        out.extend_from_slice(b",\"matched\":");
        serde_json::to_writer(&mut out, &r.matched).map_err(json)?;
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    Ok(out)
}

/// A page of hits, before the concepts are read.
struct Page {
    /// The query as understood.
    query: String,
    total: usize,
    started: Instant,
    hits: Vec<Ranked>,
}

/// Finds and ranks the candidates, and keeps the page asked for.
fn search_page(
    searcher: &Searcher,
    fields: &Fields,
    req: &SearchRequest,
) -> Result<Page, SearchError> {
    let started = Instant::now();
    let q = crate::lang::nfc(req.q.trim());
    let chars = q.chars().count();
    if chars == 0 {
        return Err(SearchError::Invalid("the query `q` is empty".into()));
    }
    if chars > MAX_QUERY_CHARS {
        return Err(SearchError::TooLong(chars));
    }
    let limit = if req.limit == 0 {
        DEFAULT_LIMIT
    } else {
        req.limit
    };
    if limit > MAX_LIMIT {
        return Err(SearchError::Invalid(format!(
            "limit {limit} is above the maximum {MAX_LIMIT}"
        )));
    }
    if req.offset > MAX_OFFSET {
        return Err(SearchError::Invalid(format!(
            "offset {} is above the maximum {MAX_OFFSET}: narrow the query instead",
            req.offset
        )));
    }
    let analysed: Vec<Analysed> = match &req.lang {
        Some(tag) => vec![Analysed {
            lang: tag.lang,
            code: Some(tag.primary.clone()),
            tokens: analyze(tag.lang, &q),
            bigrams: if tag.lang == Lang::Zh {
                zh_bigrams(&q)
            } else {
                Vec::new()
            },
        }],
        None => Lang::ALL
            .iter()
            .map(|&lang| Analysed {
                lang,
                code: None,
                tokens: analyze(lang, &q),
                bigrams: if lang == Lang::Zh {
                    zh_bigrams(&q)
                } else {
                    Vec::new()
                },
            })
            .collect(),
    };
    // the keyword fields hold values qualified by language only: a search in any language asks
    // for each language the termbase has
    let langs = match &req.lang {
        Some(tag) => vec![tag.primary.clone()],
        None => languages(searcher, fields)?,
    };
    let filters = filter_queries(fields, req, &langs);
    let with_filters = |query: Box<dyn Query>| -> Box<dyn Query> {
        if filters.is_empty() {
            return query;
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, query)];
        clauses.extend(filters.iter().map(|f| (Occur::Must, f.box_clone())));
        Box::new(BooleanQuery::new(clauses))
    };
    let exact = with_filters(exact_query(fields, &q, &langs));
    let run = |kind: MatchKind| -> Result<Candidates, SearchError> {
        let window = req.offset + limit + 10;
        // exact matches are few and always candidates; the wider query brings the rest, as a
        // flat disjunction of term queries where it can (tantivy then prunes with block-max WAND)
        // exact matches rank first: the page needs at most offset + limit of them
        let mut top = searcher.search(
            &exact,
            &TopDocs::with_limit(req.offset + limit).order_by_score(),
        )?;
        let clauses = widening_clauses(fields, &analysed, &langs, kind);
        if clauses.is_empty() {
            let total = top.len();
            return Ok(Candidates { top, total, window });
        }
        let wide = with_filters(any_of(clauses));
        let wanted = window.saturating_sub(top.len()).max(1);
        let seen: HashSet<tantivy::DocAddress> = top.iter().map(|(_, a)| *a).collect();
        let page_is_exact = top.len() == req.offset + limit;
        let total = if kind >= MatchKind::Prefix {
            // prefix and typo queries walk the term dictionary with an automaton: walk it once,
            // collecting the candidates and the count together
            let all = any_of(vec![exact.box_clone(), wide]);
            let (more, total) =
                searcher.search(&all, &(TopDocs::with_limit(wanted).order_by_score(), Count))?;
            top.extend(more.into_iter().filter(|(_, a)| !seen.contains(a)));
            total
        } else {
            let more = searcher.search(&wide, &TopDocs::with_limit(wanted).order_by_score())?;
            let full = more.len() == wanted || page_is_exact;
            top.extend(more.into_iter().filter(|(_, a)| !seen.contains(a)));
            if full {
                count(searcher, &*any_of(vec![exact.box_clone(), wide]))?
            } else {
                top.len()
            }
        };
        Ok(Candidates { top, total, window })
    };
    let plans: &[&[MatchKind]] = match req.mode {
        Mode::Auto => &[
            &[MatchKind::Exact, MatchKind::Analysed],
            &[MatchKind::Fuzzy],
        ],
        Mode::Exact => &[&[MatchKind::Exact]],
        Mode::Prefix => &[&[MatchKind::Exact, MatchKind::Analysed, MatchKind::Prefix]],
        Mode::Fuzzy => &[&[MatchKind::Exact, MatchKind::Analysed, MatchKind::Fuzzy]],
    };
    let matcher = TermMatcher::new(&q, req, &analysed);
    let mut ranked: Vec<Ranked> = Vec::new();
    let mut total = 0;
    for plan in plans {
        let mut dropped = 0;
        // the widest kind of the plan decides the candidates
        let widest = *plan.last().expect("a plan has a kind");
        let c = run(widest)?;
        let exhaustive = c.total <= c.window;
        {
            for (score, addr) in c.top {
                let stored = StoredConcept::read(searcher, fields, addr)?;
                let info = stored.match_info().ok_or_else(|| {
                    StoreError::Corrupt(format!("{addr:?}"), "no match info".into())
                })?;
                match matcher.rank(&stored, &info, score, plan) {
                    Some(r) => ranked.push(r),
                    None => dropped += 1,
                }
            }
        }
        total = if exhaustive {
            ranked.len()
        } else {
            c.total.saturating_sub(dropped)
        };
        if !ranked.is_empty() {
            break;
        }
    }
    ranked.sort_by(|a, b| {
        (a.kind, a.collection_rank, a.status)
            .cmp(&(b.kind, b.collection_rank, b.status))
            .then(b.score.total_cmp(&a.score))
            .then_with(|| a.key.cmp(&b.key))
    });
    Ok(Page {
        query: q,
        total,
        started,
        hits: ranked.into_iter().skip(req.offset).take(limit).collect(),
    })
}

/// The live documents `query` matches, as tantivy's `Count` collector counts them, each segment's
/// count kept for the next searches. It is kept under the query's `Debug` form (which names every
/// clause, term and boost) and the segment's number of deleted documents: a segment's deleted
/// documents only grow, from one commit to the next, so their number tells which they are.
fn count(searcher: &Searcher, query: &dyn Query) -> Result<usize, SearchError> {
    let key = format!("{query:?}");
    let mut weight: Option<Box<dyn Weight>> = None;
    let mut total = 0;
    for segment in searcher.segment_readers() {
        let deleted = segment.num_deleted_docs();
        total += COUNTS.get_or_try_insert(segment.segment_id(), (deleted, key.clone()), || {
            let weight = match &mut weight {
                Some(weight) => weight,
                none => none.insert(query.weight(EnableScoring::disabled_from_searcher(searcher))?),
            };
            Ok::<_, tantivy::TantivyError>(weight.count(segment)? as usize)
        })?;
    }
    Ok(total)
}

struct Candidates {
    top: Vec<(f32, tantivy::DocAddress)>,
    total: usize,
    window: usize,
}

/// The language keys of the termbase's terms, from the `status` field (every term has a status,
/// indexed as `lang:status`: a few dozen values per segment). Languages whose terms were all
/// deleted may still be listed; asking for them finds nothing.
fn languages(searcher: &Searcher, fields: &Fields) -> Result<Vec<String>, SearchError> {
    let mut langs = BTreeSet::new();
    for segment in searcher.segment_readers() {
        let of_segment =
            SEGMENT_LANGUAGES.get_or_try_insert(segment.segment_id(), fields.status, || {
                segment_languages(segment, fields.status).map(Arc::new)
            })?;
        langs.extend(of_segment.iter().cloned());
    }
    Ok(langs.into_iter().collect())
}

/// The language keys of the `status` values of one segment.
fn segment_languages(segment: &SegmentReader, status: Field) -> tantivy::Result<BTreeSet<String>> {
    let mut langs = BTreeSet::new();
    let index = segment.inverted_index(status)?;
    let mut terms = index.terms().stream()?;
    while terms.advance() {
        let key = String::from_utf8_lossy(terms.key());
        if let Some((lang, _)) = key.split_once(LANG_SEP) {
            if !langs.contains(lang) {
                langs.insert(lang.to_string());
            }
        }
    }
    Ok(langs)
}

/// `value` qualified by each of `langs` (`fr:value`), as the keyword fields hold it.
fn per_language(field: Field, langs: &[String], value: &str) -> Vec<Box<dyn Query>> {
    langs
        .iter()
        .map(|lang| term_query(field, &format!("{lang}{LANG_SEP}{value}")))
        .collect()
}

fn filter_queries(fields: &Fields, req: &SearchRequest, langs: &[String]) -> Vec<Box<dyn Query>> {
    let mut filters = Vec::new();
    if let Some(f) = collection_filter(fields, &req.collections) {
        filters.push(f);
    }
    if !req.subjects.is_empty() {
        filters.push(any_of(
            req.subjects
                .iter()
                .map(|s| term_query(fields.subject, &exact_key(s)))
                .collect(),
        ));
    }
    if !req.statuses.is_empty() {
        filters.push(any_of(
            req.statuses
                .iter()
                .flat_map(|s| per_language(fields.status, langs, s.as_str()))
                .collect(),
        ));
    }
    filters
}

/// Whole-term matches (NFC + case fold) in any of `langs`.
fn exact_query(fields: &Fields, q: &str, langs: &[String]) -> Box<dyn Query> {
    let key = exact_key(q);
    any_of(
        langs
            .iter()
            .map(|lang| -> Box<dyn Query> { Box::new(exact_term_query(fields, lang, &key)) })
            .collect(),
    )
}

/// The alternatives that find candidates for matches of `kind` (beyond exact), flattened so a
/// one-word query is a plain disjunction of term queries.
fn widening_clauses(
    fields: &Fields,
    analysed: &[Analysed],
    langs: &[String],
    kind: MatchKind,
) -> Vec<Box<dyn Query>> {
    let mut should: Vec<Box<dyn Query>> = Vec::new();
    if kind >= MatchKind::Analysed {
        for a in analysed {
            analysed_clauses(fields, a, &mut should);
        }
    }
    if kind == MatchKind::Prefix || kind == MatchKind::Fuzzy {
        if let Some(query) = word_query(fields, analysed, langs, kind) {
            should.push(Box::new(BoostQuery::new(query, 0.5)));
        }
    }
    should
}

/// Every analysed query word (any of its keys) in the language's field; for Chinese, or the
/// bigrams in sequence. A one-word query adds its keys' term queries directly.
fn analysed_clauses(fields: &Fields, a: &Analysed, out: &mut Vec<Box<dyn Query>>) {
    if a.tokens.is_empty() {
        return;
    }
    let field = fields.analysed_field(a.lang);
    if let [token] = a.tokens.as_slice() {
        out.extend(token.keys().map(|k| term_query(field, k)));
    } else {
        out.push(all_of(
            a.tokens
                .iter()
                .map(|t| any_of(t.keys().map(|k| term_query(field, k)).collect()))
                .collect(),
        ));
    }
    match a.bigrams.as_slice() {
        [] => {}
        [one] => out.push(term_query(fields.zh_bigrams, &one.key)),
        many => out.push(Box::new(PhraseQuery::new(
            many.iter()
                .map(|t| Term::from_field_text(fields.zh_bigrams, &t.key))
                .collect(),
        ))),
    }
}

/// Prefix (last word) or typo-tolerant match on the normalised words, in the requested language
/// or (`langs`) any.
fn word_query(
    fields: &Fields,
    analysed: &[Analysed],
    langs: &[String],
    kind: MatchKind,
) -> Option<Box<dyn Query>> {
    // analysers that normalise alike give the same words: query each distinct sequence once
    let mut seen: HashSet<Vec<&str>> = HashSet::new();
    let mut per_lang: Vec<Box<dyn Query>> = Vec::new();
    let field = fields.lang_words;
    for a in analysed {
        let words: Vec<&str> = a.tokens.iter().map(|t| t.norm.as_str()).collect();
        if words.is_empty() || !seen.insert(words.clone()) {
            continue;
        }
        let n = words.len();
        let queries: Vec<Box<dyn Query>> = words
            .iter()
            .enumerate()
            .map(|(i, word)| {
                let (distance, prefix) = match kind {
                    MatchKind::Prefix if i + 1 == n => (0, true),
                    MatchKind::Fuzzy => (typo_distance(word.chars().count()), false),
                    _ => (0, false),
                };
                match &a.code {
                    // a whole word: a term query per language (`langs` is the one asked for,
                    // when there is one)
                    _ if distance == 0 && !prefix => any_of(per_language(field, langs, word)),
                    Some(code) => {
                        let term = Term::from_field_text(field, &format!("{code}{LANG_SEP}{word}"));
                        let q: Box<dyn Query> = if prefix {
                            Box::new(FuzzyTermQuery::new_prefix(term, 0, true))
                        } else {
                            Box::new(FuzzyTermQuery::new(term, distance, true))
                        };
                        q
                    }
                    None => Box::new(AnyLanguageWord {
                        field,
                        word: word.to_string(),
                        distance,
                        prefix,
                    }),
                }
            })
            .collect();
        per_lang.push(all_of(queries));
    }
    (!per_lang.is_empty()).then(|| any_of(per_lang))
}

/// A word of any language, whole, as a prefix or within an edit distance: the `lang_words`
/// values `{lang}:{w}` where `w` matches. The language key is passed over and the word's
/// Levenshtein automaton (tantivy's, as [`FuzzyTermQuery`] builds it) runs on what follows the
/// first `:`, so an edit never reaches into the language. Every match scores 1, as a
/// [`FuzzyTermQuery`] does.
#[derive(Debug, Clone)]
struct AnyLanguageWord {
    field: Field,
    word: String,
    distance: u8,
    prefix: bool,
}

impl Query for AnyLanguageWord {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        // the query only builds the automaton: its term's field is not read
        let term = Term::from_field_text(self.field, &self.word);
        let word = if self.prefix {
            FuzzyTermQuery::new_prefix(term, self.distance, true)
        } else {
            FuzzyTermQuery::new(term, self.distance, true)
        };
        let automaton = AfterLanguage(word.automaton()?);
        Ok(Box::new(AutomatonWeight::<AfterLanguage>::new(
            self.field, automaton,
        )))
    }
}

/// Runs a word's automaton on what follows the language key of a `lang:word` value. State
/// `None`: still in the language key.
struct AfterLanguage(DfaWrapper);

impl tantivy_fst::Automaton for AfterLanguage {
    type State = Option<u32>;

    fn start(&self) -> Option<u32> {
        None
    }

    fn is_match(&self, state: &Option<u32>) -> bool {
        state.as_ref().is_some_and(|s| self.0.is_match(s))
    }

    fn can_match(&self, state: &Option<u32>) -> bool {
        state.as_ref().is_none_or(|s| self.0.can_match(s))
    }

    fn accept(&self, state: &Option<u32>, byte: u8) -> Option<u32> {
        match state {
            None if byte == LANG_SEP as u8 => Some(self.0.start()),
            None => None,
            Some(s) => Some(self.0.accept(s, byte)),
        }
    }
}

struct Ranked {
    kind: MatchKind,
    collection_rank: usize,
    status: TermStatus,
    score: f32,
    /// `collection/id`, the last tie-breaker.
    key: String,
    /// Its stored fields.
    stored: Arc<StoredConcept>,
    matched: Vec<Matched>,
}

/// Matches a candidate's stored term analyses against the query analysed the same way.
struct TermMatcher<'a> {
    exact: String,
    req: &'a SearchRequest,
    analysed: &'a [Analysed],
}

impl<'a> TermMatcher<'a> {
    fn new(q: &str, req: &'a SearchRequest, analysed: &'a [Analysed]) -> Self {
        TermMatcher {
            exact: exact_key(q),
            req,
            analysed,
        }
    }

    /// The candidate `stored` (whose match info is `info`) ranked, if a term matches.
    fn rank(
        &self,
        stored: &Arc<StoredConcept>,
        info: &MatchInfo,
        score: f32,
        kinds: &[MatchKind],
    ) -> Option<Ranked> {
        let mut matched: Vec<Matched> = Vec::new();
        for term in &info.terms {
            if let Some(tag) = &self.req.lang {
                if term.lang != tag.primary {
                    continue;
                }
            }
            if !self.req.statuses.is_empty() && !self.req.statuses.contains(&term.status) {
                continue;
            }
            if let Some(kind) = self.match_term(term, kinds) {
                matched.push(Matched {
                    lang: term.lang.to_string(),
                    text: term.text.to_string(),
                    status: term.status,
                    exact: kind == MatchKind::Exact,
                    kind,
                });
            }
        }
        matched.sort_by_key(|m| (m.kind, m.status));
        let best = matched.first()?;
        let collection_rank = self
            .req
            .collections
            .iter()
            .position(|c| c == info.collection)
            .unwrap_or(0);
        Some(Ranked {
            kind: best.kind,
            status: best.status,
            collection_rank,
            score,
            key: format!("{}/{}", info.collection, info.id),
            stored: stored.clone(),
            matched,
        })
    }

    fn match_term(&self, term: &TermInfo, kinds: &[MatchKind]) -> Option<MatchKind> {
        if term.exact == self.exact {
            return Some(MatchKind::Exact);
        }
        let lang = Lang::from_primary(term.lang);
        let query = self
            .analysed
            .iter()
            .find(|a| a.lang == lang)
            .or_else(|| self.analysed.first())?;
        if query.tokens.is_empty() {
            return None;
        }
        if kinds.contains(&MatchKind::Analysed) {
            let all_found = query.tokens.iter().all(|qt| {
                term.tokens()
                    .any(|(_, keys)| qt.keys().any(|k| keys.contains(k)))
            });
            if all_found || (!query.bigrams.is_empty() && contains_sequence(term, &query.bigrams)) {
                return Some(MatchKind::Analysed);
            }
        }
        if kinds.contains(&MatchKind::Prefix) {
            let n = query.tokens.len();
            let ok = query.tokens.iter().enumerate().all(|(i, qt)| {
                term.tokens().any(|(norm, _)| {
                    if i + 1 == n {
                        norm.starts_with(qt.norm.as_str())
                    } else {
                        *norm == qt.norm
                    }
                })
            });
            if ok {
                return Some(MatchKind::Prefix);
            }
        }
        if kinds.contains(&MatchKind::Fuzzy) {
            let ok = query.tokens.iter().all(|qt| {
                let allowed = typo_distance(qt.norm.chars().count()) as usize;
                term.tokens()
                    .any(|(norm, _)| damerau_levenshtein(&qt.norm, norm) <= allowed)
            });
            if ok {
                return Some(MatchKind::Fuzzy);
            }
        }
        None
    }
}

fn contains_sequence(term: &TermInfo, needle: &[Token]) -> bool {
    let haystack: Vec<&str> = term.bigrams().collect();
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w.iter().zip(needle).all(|(a, b)| *a == b.key))
}

/// Optimal-string-alignment distance (adjacent transpositions cost 1), as tantivy's fuzzy query.
pub fn damerau_levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[n][m]
}

/// With targets, keeps only the matched languages and the targets.
fn restrict_languages(mut concept: Concept, matched: &[Matched], targets: &[String]) -> Concept {
    if targets.is_empty() {
        return concept;
    }
    concept
        .languages
        .retain(|lang, _| targets.contains(lang) || matched.iter().any(|m| &m.lang == lang));
    concept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        for (a, b, d) in [
            ("hanoi", "hanio", 1),
            ("hanoi", "hanoi", 0),
            ("hanoi", "hano", 1),
            ("word", "wood", 1),
            ("", "abc", 3),
            ("киберпреступность", "киберпреступнсоть", 1),
        ] {
            assert_eq!(damerau_levenshtein(a, b), d, "{a} {b}");
        }
    }
}
