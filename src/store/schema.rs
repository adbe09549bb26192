//! The termbase schema: one tantivy document per concept.

use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, STORED, STRING,
};

use super::document::{IndexDoc, PRE_ANALYSED};
use super::exact::{bucket, key_hash, push_bucket};

use crate::lang::{exact_key, for_each_token, zh_bigrams, Analysis, Lang, Token};
use crate::model::{Concept, Term, TermStatus};

/// Version of the schema and of what the fields hold. Bump it whenever either changes; an index
/// of an older version is rebuilt from its stored concepts on open.
///
/// 3: the keyword fields hold each value once, qualified by language (no bare `words`, `exact`
/// and `status` values; search asks for every language instead). 4: whole terms as hashes
/// (`exact_hash`) found through buckets (`exact`), not as keys; no positions in `t_<lang>`.
/// 5: the analysed fields' tokenizer is [`PRE_ANALYSED`] (their values are pre-analysed, no longer
/// tantivy's pre-tokenised strings). 6: the keyword fields (`lang_words`, `exact`, `status`) hold
/// one pre-analysed value of keywords per document ([`IndexDoc::add_keywords`]) instead of one raw
/// value per keyword: the same terms and norms.
pub const SCHEMA_VERSION: u32 = 6;

/// Name of the fast field of the terms' exact hashes.
pub const EXACT_HASH: &str = "exact_hash";

/// Bits of an exact hash in its bucket term: 4,096 buckets a language, so a segment holds at most
/// that many `exact` terms per language however many terms it has, and a bucket of a
/// 100,000-concept termbase some 40 documents to look through.
pub const EXACT_BUCKET_BITS: u32 = 12;

/// Separator between a language code and a value in the language-qualified fields.
pub const LANG_SEP: char = ':';

/// Handles of every field.
#[derive(Debug, Clone)]
pub struct Fields {
    /// `collection \u{1f} id`: the document's unique key.
    pub key: Field,
    /// Collection name.
    pub collection: Field,
    /// Subject fields, as [`exact_key`].
    pub subject: Field,
    /// The whole concept as JSON.
    pub json: Field,
    /// Analysed terms per analyser, indexed in [`Lang::ALL`] order.
    pub analysed: [Field; 7],
    /// Chinese character bigrams.
    pub zh_bigrams: Field,
    /// Normalised unstemmed words of all terms qualified by language (`fr:hanoi`), for prefix and
    /// typo-tolerant search.
    pub lang_words: Field,
    /// Whole terms: the bucket of each distinct [`exact_hash`], qualified by language (`fr:` and
    /// two characters, [`EXACT_BUCKET_BITS`]); one value per distinct term, so the field's norms
    /// count the terms.
    pub exact: Field,
    /// Whole terms: the [`exact_hash`] of each distinct one (a multi-valued fast field; the
    /// bucket's documents are looked through for it, see [`super::exact`]).
    pub exact_hash: Field,
    /// Term statuses qualified by language (`fr:deprecated`). Every term has one, so the
    /// languages of this field's terms are those of the termbase (see `search::languages`).
    pub status: Field,
    /// Every term's analysis, stored, so search ranks candidates without analysing them again
    /// (see [`MatchInfo`]).
    pub match_info: Field,
}

impl Fields {
    /// The analysed field of an analyser.
    pub fn analysed_field(&self, lang: Lang) -> Field {
        let i = Lang::ALL.iter().position(|l| *l == lang).unwrap_or(6);
        self.analysed[i]
    }
}

/// A text field analysed by `tokenizer`, recording `record` (frequencies for BM25; positions
/// only where phrase queries need them).
pub(super) fn text_options(tokenizer: &str, record: IndexRecordOption) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(record),
    )
}

/// Builds the schema and its field handles.
pub fn build_schema() -> (Schema, Fields) {
    build_schema_tokenized_by(
        |_, _| PRE_ANALYSED.to_string(),
        text_options(PRE_ANALYSED, IndexRecordOption::Basic),
    )
}

/// The schema with the analysed fields' tokenizers named by `tokenizer`, and the keyword fields'
/// options `keywords` (the index's own is [`build_schema`]: pre-analysed values; tests build it
/// with the languages' tokenizers and raw keyword fields, to compare what both index).
pub(crate) fn build_schema_tokenized_by(
    tokenizer: impl Fn(Lang, Analysis) -> String,
    keywords: TextOptions,
) -> (Schema, Fields) {
    let mut b = Schema::builder();
    let key = b.add_text_field("key", STRING);
    let collection = b.add_text_field("collection", STRING);
    let subject = b.add_text_field("subject", STRING);
    let json = b.add_text_field("json", STORED);
    let analysed = Lang::ALL.map(|lang| {
        b.add_text_field(
            &format!("t_{}", lang.code()),
            // no positions: search asks for words, never for phrases of them
            text_options(
                &tokenizer(lang, Analysis::Words),
                IndexRecordOption::WithFreqs,
            ),
        )
    });
    let zh_bigrams = b.add_text_field(
        "t_zh_bigram",
        // positions: a query's bigrams are a phrase
        text_options(
            &tokenizer(Lang::Zh, Analysis::Bigrams),
            IndexRecordOption::WithFreqsAndPositions,
        ),
    );
    // keywords: no positions, one value per document (`IndexDoc::add_keywords`)
    let lang_words = b.add_text_field("lang_words", keywords.clone());
    let exact = b.add_text_field("exact", keywords.clone());
    let exact_hash = b.add_u64_field(EXACT_HASH, FAST);
    let status = b.add_text_field("status", keywords);
    let match_info = b.add_text_field("match_info", STORED);
    let fields = Fields {
        key,
        collection,
        subject,
        json,
        analysed,
        zh_bigrams,
        lang_words,
        exact,
        exact_hash,
        status,
        match_info,
    };
    (b.build(), fields)
}

/// The unique key of a concept in the index.
pub fn doc_key(collection: &str, id: &str) -> String {
    format!("{collection}\u{1f}{id}")
}

/// The document of a concept. Each term is analysed once: the analysis goes into `match_info`,
/// the keyword fields and, pre-analysed ([`IndexDoc::add_tokens`]), the analysed fields, so
/// tantivy's indexing threads only read the keys back (the postings are those the languages'
/// tokenizers make of the texts).
pub fn concept_doc(fields: &Fields, concept: &Concept) -> IndexDoc {
    let json = serde_json::to_string(concept).expect("a concept always serialises");
    let terms = concept.terms().count();
    let term_bytes: usize = concept.terms().map(|(_, term)| term.text.len()).sum();
    let mut doc = IndexDoc::with_capacity(2 * json.len() + 96 * terms, 8 + 4 * terms);
    doc.add_text(fields.key, &doc_key(&concept.collection, &concept.id));
    doc.add_text(fields.collection, &concept.collection);
    doc.add_text(fields.json, &json);
    // the match info repeats the terms, as the JSON does
    let mut info = String::with_capacity(json.len());
    drop(json);
    for part in [concept.collection.as_str(), "\t", &concept.id, "\n"] {
        info.push_str(part);
    }
    // every term's tokens, their texts in one buffer (a concept has dozens of tokens)
    let mut words = TermWords::with_capacity(term_bytes);
    let mut analysed = Vec::with_capacity(terms);
    for (code, term) in concept.terms() {
        let lang = Lang::from_primary(code);
        let range = words.analyse(lang, &term.text);
        doc.add_keys(
            fields.analysed_field(lang),
            &term.text,
            words.keys(range.clone()),
        );
        let bigrams = if lang == Lang::Zh {
            let bigrams = zh_bigrams(&term.text);
            doc.add_tokens(fields.zh_bigrams, &term.text, &bigrams);
            bigrams
        } else {
            Vec::new()
        };
        let exact = exact_key(&term.text);
        write_match_line(
            &mut info,
            code,
            term,
            &exact,
            &words,
            range.clone(),
            &bigrams,
        );
        analysed.push((code, term.status, exact, range));
    }
    doc.add_text(fields.match_info, &info);
    for s in &concept.subject {
        doc.add_text(fields.subject, &exact_key(s));
    }
    // the keyword fields of the terms: each value once, qualified by language (a search in any
    // language asks for every language's value)
    doc.add_keywords(fields.lang_words, |words_of| {
        for (code, _, _, range) in &analysed {
            for i in range.clone() {
                let (norm, _, _) = words.get(i);
                words_of.push_distinct(|b| push_qualified(b, code, norm));
            }
        }
    });
    doc.add_keywords(fields.status, |statuses| {
        for (code, status, _, _) in &analysed {
            statuses.push_distinct(|b| push_qualified(b, code, status.as_str()));
        }
    });
    // whole terms: each distinct one's hash, and its bucket (distinct terms may share one; the
    // field norm counts the terms)
    let mut hashes: Vec<(&str, u64)> = Vec::with_capacity(analysed.len());
    for (code, _, exact, _) in &analysed {
        let hash = exact_hash(code, exact);
        if !hashes.iter().any(|(_, h)| *h == hash) {
            hashes.push((code, hash));
            doc.add_u64(fields.exact_hash, hash);
        }
    }
    doc.add_keywords(fields.exact, |buckets| {
        for (code, hash) in &hashes {
            buckets.push(|b| {
                push_qualified(b, code, "");
                push_bucket(b, *hash, EXACT_BUCKET_BITS);
            });
        }
    });
    doc
}

/// The tokens of a concept's terms ([`crate::lang::for_each_token`]), their `norm`, `key` and
/// `alt` one after the other in one buffer: analysing a term allocates nothing per token.
struct TermWords {
    text: String,
    /// Per token: where its norm starts, its key starts, its alternative key starts and ends
    /// (the alternative is empty when there is none; keys are never empty).
    bounds: Vec<[u32; 4]>,
}

impl TermWords {
    /// Room for the tokens of terms of `bytes` bytes in all, so that analysing them seldom grows
    /// the buffers: a token's norm, key and alternative key are each about as long as its word,
    /// and a word and the space after it take a few bytes at least.
    fn with_capacity(bytes: usize) -> TermWords {
        TermWords {
            text: String::with_capacity(3 * bytes),
            bounds: Vec::with_capacity(bytes / 3 + 1),
        }
    }

    /// Analyses `text`; gives the range of its tokens (their positions are their offsets in it).
    fn analyse(&mut self, lang: Lang, text: &str) -> std::ops::Range<usize> {
        let first = self.bounds.len();
        let (buffer, bounds) = (&mut self.text, &mut self.bounds);
        for_each_token(lang, text, |t| {
            let norm = buffer.len() as u32;
            buffer.push_str(t.norm);
            let key = buffer.len() as u32;
            buffer.push_str(t.key);
            let alt = buffer.len() as u32;
            buffer.push_str(t.alt.unwrap_or(""));
            bounds.push([norm, key, alt, buffer.len() as u32]);
        });
        first..self.bounds.len()
    }

    /// The keys of the tokens of `range` (a term's) with their positions in the term, in order.
    fn keys(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = (usize, &str)> {
        let first = range.start;
        range.flat_map(move |i| {
            let (_, key, alt) = self.get(i);
            std::iter::once((i - first, key)).chain(alt.map(|alt| (i - first, alt)))
        })
    }

    /// Norm, key and alternative key of token `i`.
    fn get(&self, i: usize) -> (&str, &str, Option<&str>) {
        let [norm, key, alt, end] = self.bounds[i].map(|b| b as usize);
        (
            &self.text[norm..key],
            &self.text[key..alt],
            (alt < end).then(|| &self.text[alt..end]),
        )
    }
}

/// Appends `value` qualified by language (`fr:hanoi`) to `out`.
fn push_qualified(out: &mut String, code: &str, value: &str) {
    out.push_str(code);
    out.push(LANG_SEP);
    out.push_str(value);
}

/// The hash of a whole term: language key and [`exact_key`] of the text.
pub fn exact_hash(code: &str, exact_key: &str) -> u64 {
    key_hash(code, exact_key)
}

/// The query for the terms of language `code` whose [`exact_key`] is `exact_key`: the hash's
/// bucket, looked through for the hash, scored as a term query on the key would be.
pub fn exact_term_query(fields: &Fields, code: &str, exact_key: &str) -> super::exact::ExactQuery {
    let hash = exact_hash(code, exact_key);
    let term = tantivy::Term::from_field_text(
        fields.exact,
        &format!("{code}{LANG_SEP}{}", bucket(hash, EXACT_BUCKET_BITS)),
    );
    super::exact::ExactQuery::new(term, EXACT_HASH, hash)
}

/// One line of the stored match info: `lang TAB status TAB exact-key TAB tokens TAB bigrams TAB
/// text`, tokens as `norm|key|alt` separated by spaces (the segmenter never keeps a space, a tab or
/// a `|` inside a word; term texts have their whitespace collapsed by `Concept::normalize`).
fn write_match_line(
    out: &mut String,
    code: &str,
    term: &Term,
    exact: &str,
    words: &TermWords,
    tokens: std::ops::Range<usize>,
    bigrams: &[Token],
) {
    for field in [code, term.status.as_str(), exact] {
        out.push_str(field);
        out.push('\t');
    }
    let first = tokens.start;
    for i in tokens {
        if i > first {
            out.push(' ');
        }
        let (norm, key, alt) = words.get(i);
        out.push_str(norm);
        for k in std::iter::once(key).chain(alt) {
            out.push('|');
            out.push_str(k);
        }
    }
    out.push('\t');
    for (i, t) in bigrams.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&t.key);
    }
    out.push('\t');
    let breaks = ['\t', '\n', '\r'];
    if term.text.contains(breaks) {
        out.push_str(&term.text.replace(breaks, " "));
    } else {
        out.push_str(&term.text);
    }
    out.push('\n');
}

/// A stored concept's terms with their analysis, read back from the `match_info` field.
#[derive(Debug)]
pub struct MatchInfo<'a> {
    /// Collection of the concept.
    pub collection: &'a str,
    /// Concept id.
    pub id: &'a str,
    /// Its terms.
    pub terms: Vec<TermInfo<'a>>,
}

/// One term's stored analysis, read lazily (search reads dozens of these per query).
#[derive(Debug)]
pub struct TermInfo<'a> {
    /// Language key.
    pub lang: &'a str,
    /// Status.
    pub status: TermStatus,
    /// [`exact_key`] of the text.
    pub exact: &'a str,
    /// Tokens as stored: `norm|key|alt` separated by spaces.
    tokens: &'a str,
    /// Chinese bigram keys separated by spaces.
    bigrams: &'a str,
    /// The term text.
    pub text: &'a str,
}

impl<'a> TermInfo<'a> {
    /// Per token: the normalised form and its keys (`key|alt`).
    pub fn tokens(&self) -> impl Iterator<Item = (&'a str, TokenKeys<'a>)> + 'a {
        self.tokens
            .split(' ')
            .filter(|t| !t.is_empty())
            .map(|t| match t.split_once('|') {
                Some((norm, keys)) => (norm, TokenKeys(keys)),
                None => (t, TokenKeys("")),
            })
    }

    /// Chinese bigram keys in order.
    pub fn bigrams(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.bigrams.split(' ').filter(|b| !b.is_empty())
    }
}

/// The keys of one stored token.
#[derive(Debug, Clone, Copy)]
pub struct TokenKeys<'a>(&'a str);

impl TokenKeys<'_> {
    /// True when `key` is one of them.
    pub fn contains(&self, key: &str) -> bool {
        self.0.split('|').any(|k| k == key)
    }
}

impl<'a> MatchInfo<'a> {
    /// Parses the stored field; `None` if it is malformed.
    pub fn parse(info: &'a str) -> Option<MatchInfo<'a>> {
        let mut lines = info.lines();
        let (collection, id) = lines.next()?.split_once('\t')?;
        let mut terms = Vec::new();
        for line in lines {
            let mut cols = line.splitn(6, '\t');
            let lang = cols.next()?;
            let status = cols.next()?.parse().ok()?;
            let exact = cols.next()?;
            let tokens = cols.next()?;
            let bigrams = cols.next()?;
            let text = cols.next()?;
            terms.push(TermInfo {
                lang,
                status,
                exact,
                tokens,
                bigrams,
                text,
            });
        }
        Some(MatchInfo {
            collection,
            id,
            terms,
        })
    }
}
