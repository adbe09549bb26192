//! The term recogniser: every term of every concept as a token-sequence pattern, matched all at
//! once, leftmost-longest, over the token stream of a text.
//!
//! Patterns and texts go through the same [`crate::lang::analyze`] pipeline as search. A pattern
//! is the sequence of its tokens' keys (stems; for Chinese, single characters, so a term meets the
//! text however the segmenter cut it), interned as `u32` ids per language; all patterns of a
//! language share one trie. Matching walks the trie from each token position (following both the
//! `key` and the `alt` of each text token), keeps the longest accepted match, and resumes after
//! it: leftmost-longest, non-overlapping, so *Human Rights Council* wins over *human rights*.
//! The walk stops at the first token with no child, so its cost is one hash lookup per token
//! plus one per token of each partial match. Texts are read through
//! [`crate::lang::for_each_segment`] (the tokens of `analyze`, by reference), and each thread
//! remembers what it worked out of the words and spans it met ([`TextWords`]), so a repeated word
//! costs one lookup by its surface (it is not normalised again) and a repeated span a lookup of
//! which terms fit it.
//!
//! A stem match alone is not enough (Snowball gives `intern` for *international* and *internal*):
//! each matched token must differ from the term's token only by an inflectional ending of the
//! language ([`endings`]), compared on the normalised, unstemmed forms. Between two tokens of a
//! match only spaces, line breaks, hyphens and apostrophes may stand (inline codes are not part of
//! the text handed in), never punctuation.

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use crate::lang::{
    analyze, fold_latin_lookalikes, for_each_segment, strip_arabic_proclitics, Lang, LangTag,
    Segment, Token,
};
use crate::model::{Concept, TermStatus};

mod concept;
mod form;
pub use concept::ConceptMatch;
use form::{Form, Forms};

/// One concept as the recogniser knows it.
#[derive(Debug, Clone)]
pub struct ConceptInfo {
    /// Concept id.
    pub id: String,
    /// Its collection.
    pub collection: String,
    /// Subject fields.
    pub subject: Vec<String>,
}

/// One term of one language.
#[derive(Debug)]
pub(crate) struct TermEntry {
    /// Index into [`TermRecognizer::concepts`].
    pub concept: u32,
    pub status: TermStatus,
    /// Its written form: a record in [`LangPatterns::forms`].
    form: u32,
    /// Where its token ids start in [`LangPatterns::term_ids`]: per token its key's and its
    /// alternative key's ([`NO_ID`] when none).
    ids: u32,
}

/// No token id.
const NO_ID: u32 = u32::MAX;

/// Patterns of one language.
#[derive(Debug)]
struct LangPatterns {
    /// Unique among the patterns of this process (see [`TextWords`]).
    id: u64,
    lang: Lang,
    /// Token key → id.
    vocab: ShortKeys<u8, 24, u32>,
    /// `(node << 32) | token id` → child node, while building; emptied when the build is done
    /// (the walk reads `trie` and `children`).
    edges: FxHashMap<u64, u32>,
    /// Per node, then one past the last: where its children start in `children` and its groups
    /// in `groups`. A step of the walk reads the node's entry (and the next one beside it) and
    /// then its few children, where a table costs two random reads per look-up and another for
    /// the groups.
    trie: Vec<NodeEntry>,
    /// Every node's children as (token id, child node), node after node, each node's by id.
    children: Vec<(u32, u32)>,
    /// Per node: the terms whose pattern ends there, in index order (while building).
    ends: FxHashMap<u32, Vec<u32>>,
    /// Per node: the terms whose pattern ends there, grouped by their text (see [`TermGroup`]),
    /// made from `ends` when the build is done.
    groups: Vec<TermGroup>,
    /// The terms of the groups, group after group, as (term index, concept index): the walk
    /// reads a fitting term's concept here, not in its entry.
    group_terms: Vec<(u32, u32)>,
    /// The terms' written forms; after the build, in the order of the groups (each group's
    /// terms share one record), then the terms in no group and the short forms.
    forms: Forms,
    nodes: u32,
    terms: Vec<TermEntry>,
    /// Per concept index: the range of its terms in `terms`.
    by_concept: FxHashMap<u32, (u32, u32)>,
    /// Short forms (terms of type [`SHORT_FORM`]): not patterns, alone they could name several
    /// concepts; looked for only by [`TermRecognizer::find_concept`].
    shorts: Vec<TermEntry>,
    /// Per concept index: the range of its short forms in `shorts`.
    shorts_by_concept: FxHashMap<u32, (u32, u32)>,
    /// The token ids of the terms and short forms (see [`TermEntry::ids`]).
    term_ids: Vec<u32>,
}

/// Where a node's children and groups start (see [`LangPatterns::trie`]).
#[derive(Debug, Clone, Copy)]
struct NodeEntry {
    children: u32,
    groups: u32,
}

/// Terms of one text (of several concepts), in index order: whether they fit a text's tokens
/// depends only on the text, so a termbase where thousands of concepts share a term compares it
/// once.
#[derive(Debug, Clone, Copy)]
struct TermGroup {
    /// Their written form, in [`LangPatterns::forms`].
    form: u32,
    /// Where their indexes are in [`LangPatterns::group_terms`], and how many.
    terms: u32,
    len: u32,
}

/// Every term of a termbase, ready to be found in texts.
#[derive(Debug)]
pub struct TermRecognizer {
    concepts: Vec<ConceptInfo>,
    langs: HashMap<String, LangPatterns>,
}

/// The term type (TBX `termType`) of a short form that names its concept only in context (*le
/// Conseil* for the Security Council): never recognised on its own, only where the other side of
/// a segment names the concept.
pub const SHORT_FORM: &str = "shortForm";

/// A recognised term occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// Code-point offset of the first character in the text.
    pub start: usize,
    /// Code-point offset one past the end.
    pub end: usize,
    /// Byte offsets of the same span.
    pub byte_start: usize,
    /// Byte offset one past the end.
    pub byte_end: usize,
    /// Index of the concept (see [`TermRecognizer::concept`]).
    pub concept: u32,
    /// Index of the term in its language (see [`TermRecognizer::term`]).
    pub term: u32,
    /// How the text's spelling differs from the term's, beyond inflection.
    pub variant: Option<Variant>,
}

/// A spelling difference between a text and the termbase that does not change the term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Upper and lower case differ (*Nations unies* for *Nations Unies*).
    Case,
    /// Diacritics differ (*Hanoi* for *Hanoï*).
    Diacritics,
}

/// A term as the API shows it.
#[derive(Debug, Clone, Copy)]
pub struct TermRef<'a> {
    /// The term as the termbase writes it.
    pub text: &'a str,
    /// Its status.
    pub status: TermStatus,
}

/// Largest number of trie paths one term may add (combinations of `key`/`alt` of its tokens).
const MAX_PATHS: usize = 8;

impl TermRecognizer {
    /// Builds the recogniser from concepts.
    pub fn build(concepts: impl IntoIterator<Item = Concept>) -> TermRecognizer {
        let mut r = TermRecognizer {
            concepts: Vec::new(),
            langs: HashMap::new(),
        };
        for c in concepts {
            r.add(c);
        }
        for p in r.langs.values_mut() {
            p.group_ends();
        }
        r
    }

    fn add(&mut self, concept: Concept) {
        let index = self.concepts.len() as u32;
        for (code, section) in &concept.languages {
            let lang = Lang::from_primary(code);
            let patterns = self
                .langs
                .entry(code.clone())
                .or_insert_with(|| LangPatterns::new(lang));
            let first = patterns.terms.len() as u32;
            let first_short = patterns.shorts.len() as u32;
            for term in &section.terms {
                if term.term_type.as_deref() == Some(SHORT_FORM) {
                    if term.status.is_allowed() {
                        patterns.add_term(index, &term.text, term.status, false);
                    }
                    continue;
                }
                patterns.add_term(index, &term.text, term.status, true);
            }
            let last = patterns.terms.len() as u32;
            if last > first {
                patterns.by_concept.insert(index, (first, last));
            }
            let last_short = patterns.shorts.len() as u32;
            if last_short > first_short {
                patterns
                    .shorts_by_concept
                    .insert(index, (first_short, last_short));
            }
        }
        self.concepts.push(ConceptInfo {
            id: concept.id,
            collection: concept.collection,
            subject: concept.subject,
        });
    }

    /// Number of concepts.
    pub fn concept_count(&self) -> usize {
        self.concepts.len()
    }

    /// Number of terms over all languages.
    pub fn term_count(&self) -> usize {
        self.langs.values().map(|l| l.terms.len()).sum()
    }

    /// The concept of an occurrence.
    pub fn concept(&self, index: u32) -> &ConceptInfo {
        &self.concepts[index as usize]
    }

    /// The term `index` of language `lang` (a normalised primary subtag).
    pub fn term(&self, lang: &str, index: u32) -> TermRef<'_> {
        let p = &self.langs[lang];
        let t = &p.terms[index as usize];
        TermRef {
            text: p.form(t).text,
            status: t.status,
        }
    }

    /// The terms of a concept in a language, preferred first.
    pub fn terms_of(&self, lang: &str, concept: u32) -> Vec<TermRef<'_>> {
        self.refs(lang, |p| &p.terms[entries_of(&p.by_concept, concept)])
    }

    /// The short forms of a concept in a language (see [`SHORT_FORM`]).
    pub fn short_forms(&self, lang: &str, concept: u32) -> Vec<TermRef<'_>> {
        self.refs(lang, |p| {
            &p.shorts[entries_of(&p.shorts_by_concept, concept)]
        })
    }

    /// The entries `pick` takes from the patterns of `lang`, as the API shows them.
    fn refs<'s>(
        &'s self,
        lang: &str,
        pick: impl FnOnce(&'s LangPatterns) -> &'s [TermEntry],
    ) -> Vec<TermRef<'s>> {
        self.langs.get(lang).map_or(Vec::new(), |p| {
            pick(p)
                .iter()
                .map(|t| TermRef {
                    text: p.form(t).text,
                    status: t.status,
                })
                .collect()
        })
    }

    /// Every term occurrence in `text` of language `lang` (a normalised primary subtag, `fr`), in
    /// text order, non-overlapping, leftmost-longest. One span may carry several occurrences when
    /// several concepts share the term.
    pub fn find(&self, lang: &str, text: &str) -> Vec<Occurrence> {
        let Some(p) = self.langs.get(lang) else {
            return Vec::new();
        };
        p.find(text)
    }

    /// Approximate heap size in bytes (strings, tables), for the benchmark.
    pub fn heap_bytes(&self) -> usize {
        let mut n = 0;
        for c in &self.concepts {
            n += std::mem::size_of::<ConceptInfo>() + c.id.len() + c.collection.len();
            n += c.subject.iter().map(|s| s.len() + 24).sum::<usize>();
        }
        for p in self.langs.values() {
            // a hash table entry costs its key and value plus a control byte, at 7/8 load
            n += p.vocab.short.capacity() * (24 + 4 + 1);
            n += p
                .vocab
                .long
                .keys()
                .map(|k| k.len() + 16 + 4 + 1)
                .sum::<usize>()
                * 8
                / 7;
            n += p.trie.capacity() * 8 + p.children.capacity() * 8;
            n += p.groups.capacity() * std::mem::size_of::<TermGroup>();
            n += p.group_terms.capacity() * 8 + p.forms.heap_bytes();
            n += p.by_concept.capacity() * (4 + 8 + 1);
            n += p.shorts_by_concept.capacity() * (4 + 8 + 1);
            n += p.term_ids.capacity() * 4;
            n += (p.terms.capacity() + p.shorts.capacity()) * std::mem::size_of::<TermEntry>();
        }
        n
    }
}

/// Where the entries of `concept` are (in [`LangPatterns::terms`] by `by_concept`, in
/// [`LangPatterns::shorts`] by `shorts_by_concept`).
fn entries_of(by: &FxHashMap<u32, (u32, u32)>, concept: u32) -> std::ops::Range<usize> {
    by.get(&concept)
        .map_or(0..0, |&(a, b)| a as usize..b as usize)
}

/// A token of the recogniser: a word of [`analyze`], or one Han character.
#[derive(Debug, Clone)]
pub(crate) struct Unit {
    start: usize,
    end: usize,
    byte_start: usize,
    byte_end: usize,
    /// Where the word starts, elided article included (what separates it from the word before).
    word_start: usize,
    /// Characters of its segmenter word before the unit (Chinese; 0 elsewhere).
    before: usize,
    /// Characters of its segmenter word after the unit.
    after: usize,
    norm: String,
    key: String,
    alt: Option<String>,
}

fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3005 | 0x3007 | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// The analysis of `text` as recogniser units: Chinese words split into characters (a match
/// may not cut one character off a word); Arabic
/// keyed on the light10 form (proclitics off) less one inflectional suffix, with a second key
/// without a one-letter proclitic (`لحقوق`, `بحقوق`) for text (`for_term` false).
pub(crate) fn units(lang: Lang, text: &str, for_term: bool) -> Vec<Unit> {
    let tokens = analyze(lang, text);
    let mut out = Vec::with_capacity(tokens.len());
    for t in tokens {
        token_units(lang, text, t, for_term, &mut out);
    }
    out
}

/// The units of one token of `text` (see [`units`]).
fn token_units(lang: Lang, text: &str, t: Token, for_term: bool, out: &mut Vec<Unit>) {
    let surface = &text[t.byte_start..t.byte_end];
    if let Some(cut) = footnote_digits(surface) {
        // `General4`, `секретаря4`: the word and its footnote number as two units
        for (a, b) in [(0, cut), (cut, surface.len())] {
            let part = &text[t.byte_start + a..t.byte_start + b];
            let before = text[t.byte_start..t.byte_start + a].chars().count();
            for mut p in analyze(lang, part) {
                p.start += t.start + before;
                p.end += t.start + before;
                p.byte_start += t.byte_start + a;
                p.byte_end += t.byte_start + a;
                out.push(unit(lang, text, p, for_term));
            }
        }
        return;
    }
    if lang == Lang::Zh && surface.chars().any(is_han) {
        let last = surface.chars().count() - 1;
        for (k, (b, c)) in surface.char_indices().enumerate() {
            let folded = crate::lang::search_fold(c.encode_utf8(&mut [0; 4]));
            out.push(Unit {
                start: t.start + k,
                end: t.start + k + 1,
                byte_start: t.byte_start + b,
                byte_end: t.byte_start + b + c.len_utf8(),
                word_start: t.byte_start + b,
                before: k,
                after: last - k,
                norm: folded.clone(),
                key: folded,
                alt: None,
            });
        }
        return;
    }
    out.push(unit(lang, text, t, for_term));
}

/// Where the footnote number glued to the end of a word starts (`General4`, `секретаря12`): one
/// to three ASCII digits after a lower-case letter, the word having at least two letters before
/// them. Capitals before the digits are a name (`G77`, `COVID19`), not a footnote.
fn footnote_digits(surface: &str) -> Option<usize> {
    if !surface.ends_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let letters = surface.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = surface.len() - letters.len();
    let last = letters.chars().next_back()?;
    let ok = (1..=3).contains(&digits)
        && last.is_lowercase()
        && letters.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && letters.chars().all(char::is_alphabetic);
    ok.then_some(letters.len())
}

fn unit(lang: Lang, text: &str, t: Token, for_term: bool) -> Unit {
    let mut start = t.start;
    let mut byte_start = t.byte_start;
    if lang == Lang::Fr && !t.norm.contains('\'') {
        // an elided article (`l'`, `d'`) is not part of the term
        let surface = &text[t.byte_start..t.byte_end];
        if let Some((i, c)) = surface
            .char_indices()
            .find(|&(_, c)| matches!(c, '\'' | '\u{2019}' | '\u{02BC}'))
        {
            let head = &surface[..i];
            byte_start += i + c.len_utf8();
            start += head.chars().count() + 1;
        }
    }
    let norm = match lang {
        Lang::Ru => fold_latin_lookalikes(&t.norm).unwrap_or(t.norm),
        _ => t.norm,
    };
    let (key, alt) = match lang {
        Lang::Ar => {
            let light = strip_arabic_proclitics(&norm);
            let key = arabic_key(light);
            let alt = match one_letter_proclitic(light) {
                Some(rest) if !for_term => Some(arabic_key(rest)),
                _ => None,
            };
            (key, alt)
        }
        // Russian keys are the shortest stem the ending list gives (text tokens are looked up
        // by every stem they may have, see `LangPatterns::ids`): Snowball cuts *систему* to
        // `сист` but *система* to `систем`, *Вьетнам* to `вьетн` but *Вьетнама* to `вьетнам`
        Lang::Ru => (shortest_stem(lang, &norm).to_string(), None),
        _ => (t.key, t.alt),
    };
    Unit {
        start,
        end: t.end,
        byte_start,
        byte_end: t.byte_end,
        word_start: t.byte_start,
        before: 0,
        after: 0,
        norm,
        key,
        alt,
    }
}

/// `word` itself, then `word` less each ending of the language's list it may end in, keeping at
/// least two letters: the stems [`same_stem`] may compare it by.
fn stems<'a>(lang: Lang, word: &'a str, mut f: impl FnMut(&'a str)) {
    f(word);
    let set = ending_set(lang);
    let mut cut = word.len();
    for _ in 0..MAX_ENDING {
        match word[..cut].char_indices().next_back() {
            Some((i, _)) => cut = i,
            None => break,
        }
        let (stem, ending) = word.split_at(cut);
        if stem.chars().count() < 2 {
            break;
        }
        if set.contains(ending) {
            f(stem);
        }
    }
}

/// `word` less the longest ending of the language's list it ends in.
fn shortest_stem(lang: Lang, word: &str) -> &str {
    let mut shortest = word;
    stems(lang, word, |s| shortest = s);
    shortest
}

/// Arabic suffixes taken off a light form to key it (the inflection check then compares the
/// whole forms).
const AR_SUFFIXES: &[&str] = &["تين", "تان", "ات", "ين", "ون", "ان", "ه", "ا"];

fn arabic_key(light: &str) -> String {
    for suffix in AR_SUFFIXES {
        if let Some(stem) = light.strip_suffix(suffix) {
            if stem.chars().count() >= 2 {
                return stem.to_string();
            }
        }
    }
    light.to_string()
}

/// An Arabic word without its one-letter proclitic (`ل ب ك ف`), when one may be there.
fn one_letter_proclitic(light: &str) -> Option<&str> {
    let first = light.chars().next()?;
    let rest = &light[first.len_utf8()..];
    ("لبكف".contains(first) && rest.chars().count() >= 3).then_some(rest)
}

impl LangPatterns {
    fn new(lang: Lang) -> LangPatterns {
        LangPatterns {
            id: NEXT_PATTERNS_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            lang,
            vocab: ShortKeys::default(),
            edges: FxHashMap::default(),
            trie: Vec::new(),
            children: Vec::new(),
            ends: FxHashMap::default(),
            groups: Vec::new(),
            group_terms: Vec::new(),
            forms: Forms::default(),
            nodes: 1,
            terms: Vec::new(),
            by_concept: FxHashMap::default(),
            shorts: Vec::new(),
            shorts_by_concept: FxHashMap::default(),
            term_ids: Vec::new(),
        }
    }

    fn intern(&mut self, key: &str) -> u32 {
        if let Some(id) = self.vocab.get(key.as_bytes()) {
            return id;
        }
        let id = self.vocab.len() as u32;
        self.vocab.insert(key.as_bytes(), id);
        id
    }

    /// Adds a term: a pattern, or (`pattern` false) a short form, which gets token ids but no
    /// path in the trie.
    fn add_term(&mut self, concept: u32, text: &str, status: TermStatus, pattern: bool) {
        let tokens = units(self.lang, text, true);
        if tokens.is_empty() {
            return;
        }
        let ids = self.term_ids.len() as u32;
        for t in &tokens {
            let key = self.intern(&t.key);
            let alt = t.alt.as_deref().map_or(NO_ID, |a| self.intern(a));
            self.term_ids.extend([key, alt]);
        }
        let Some(form) = self.forms.push(
            text,
            tokens
                .iter()
                .map(|t| ((t.byte_start, t.byte_end), t.norm.as_str())),
        ) else {
            self.term_ids.truncate(ids as usize);
            return;
        };
        let entry = TermEntry {
            concept,
            status,
            form,
            ids,
        };
        if !pattern {
            self.shorts.push(entry);
            return;
        }
        let index = self.terms.len() as u32;
        // every combination of key / alt, up to MAX_PATHS
        let mut paths: Vec<Vec<u32>> = vec![Vec::with_capacity(tokens.len())];
        for pair in self.term_ids[ids as usize..].chunks_exact(2) {
            let (key, alt) = (pair[0], (pair[1] != NO_ID).then_some(pair[1]));
            let mut next = Vec::new();
            for p in &paths {
                for id in std::iter::once(key).chain(alt) {
                    if next.len() < MAX_PATHS {
                        let mut q = p.clone();
                        q.push(id);
                        next.push(q);
                    }
                }
            }
            paths = next;
        }
        for path in paths {
            let mut node = 0u32;
            for id in path {
                let edge = (u64::from(node) << 32) | u64::from(id);
                node = match self.edges.get(&edge) {
                    Some(&n) => n,
                    None => {
                        let n = self.nodes;
                        self.nodes += 1;
                        self.edges.insert(edge, n);
                        n
                    }
                };
            }
            // a term's paths are added one after the other: only the last entry can repeat it
            let ends = self.ends.entry(node).or_default();
            if ends.last() != Some(&index) {
                ends.push(index);
            }
        }
        self.terms.push(entry);
    }

    /// Turns `ends` into `groups`.
    fn group_ends(&mut self) {
        self.term_ids.shrink_to_fit();
        let old = std::mem::take(&mut self.forms);
        let mut forms = Forms::default();
        // per term, its record in `forms` once copied there
        let mut moved = vec![NO_ID; self.terms.len()];
        let mut groups = Vec::new();
        let mut group_terms = Vec::with_capacity(self.terms.len());
        let mut edges: Vec<(u64, u32)> = std::mem::take(&mut self.edges).into_iter().collect();
        edges.sort_unstable();
        let mut edges = edges.into_iter().peekable();
        let mut children = Vec::with_capacity(edges.len());
        let mut trie = Vec::with_capacity(self.nodes as usize + 1);
        let terms = &self.terms;
        let text = |t: u32| old.get(terms[t as usize].form).text;
        let mut ends: Vec<(u32, Vec<u32>)> = std::mem::take(&mut self.ends).into_iter().collect();
        ends.sort_unstable_by_key(|e| e.0);
        let mut ends = ends.into_iter().peekable();
        for node in 0..self.nodes {
            trie.push(NodeEntry {
                children: children.len() as u32,
                groups: groups.len() as u32,
            });
            while let Some((edge, child)) = edges.next_if(|e| (e.0 >> 32) as u32 == node) {
                children.push((edge as u32, child));
            }
            let Some((_, mut at)) = ends.next_if(|e| e.0 == node) else {
                continue;
            };
            at.sort_by(|&a, &b| text(a).cmp(text(b)).then(a.cmp(&b)));
            for g in at.chunk_by(|&a, &b| text(a) == text(b)) {
                // the terms of a group are written alike: one record for all, the one a term of
                // theirs already has (a term ends at several nodes) or a new copy, beside the
                // records of this node's other groups
                let form = g
                    .iter()
                    .map(|&t| moved[t as usize])
                    .find(|&f| f != NO_ID)
                    .unwrap_or_else(|| forms.copy_from(&old, terms[g[0] as usize].form));
                for &t in g {
                    if moved[t as usize] == NO_ID {
                        moved[t as usize] = form;
                    }
                }
                groups.push(TermGroup {
                    form,
                    terms: group_terms.len() as u32,
                    len: g.len() as u32,
                });
                group_terms.extend(g.iter().map(|&t| (t, terms[t as usize].concept)));
            }
        }
        trie.push(NodeEntry {
            children: children.len() as u32,
            groups: groups.len() as u32,
        });
        for (entry, &form) in self.terms.iter_mut().zip(&moved) {
            entry.form = if form == NO_ID {
                forms.copy_from(&old, entry.form)
            } else {
                form
            };
        }
        for entry in &mut self.shorts {
            entry.form = forms.copy_from(&old, entry.form);
        }
        self.shorts.shrink_to_fit();
        forms.shrink_to_fit();
        groups.shrink_to_fit();
        group_terms.shrink_to_fit();
        self.forms = forms;
        self.groups = groups;
        self.group_terms = group_terms;
        self.trie = trie;
        self.children = children;
    }

    /// The written form of a term.
    fn form(&self, entry: &TermEntry) -> Form<'_> {
        self.forms.get(entry.form)
    }

    /// The terms of a group.
    fn group_terms(&self, group: &TermGroup) -> &[(u32, u32)] {
        &self.group_terms[group.terms as usize..(group.terms + group.len) as usize]
    }

    /// The groups of terms whose pattern ends at `node`.
    fn groups_at(&self, node: u32) -> &[TermGroup] {
        let n = node as usize;
        match (self.trie.get(n), self.trie.get(n + 1)) {
            (Some(a), Some(b)) => &self.groups[a.groups as usize..b.groups as usize],
            _ => &[],
        }
    }

    /// The child of `node` by token `id`.
    fn child(&self, node: u32, id: u32) -> Option<u32> {
        let n = node as usize;
        let (Some(a), Some(b)) = (self.trie.get(n), self.trie.get(n + 1)) else {
            return None;
        };
        let children = &self.children[a.children as usize..b.children as usize];
        if children.len() <= 8 {
            return children.iter().find(|c| c.0 == id).map(|c| c.1);
        }
        children
            .binary_search_by_key(&id, |c| c.0)
            .ok()
            .map(|k| children[k].1)
    }

    /// Appends the token ids a text unit may stand for.
    fn ids(&self, u: &Unit, out: &mut Vec<u32>) {
        let start = out.len();
        let mut push = |key: &str| {
            if let Some(id) = self.vocab.get(key.as_bytes()) {
                if !out[start..].contains(&id) {
                    out.push(id);
                }
            }
        };
        if self.lang == Lang::Ru {
            // a term's key is its shortest stem; the text's stem may be longer by an ending
            // (*Вьетнама* → `вьетнам` → `вьетн`)
            stems(self.lang, &u.norm, |s| stems(self.lang, s, &mut push));
            return;
        }
        push(&u.key);
        if let Some(alt) = u.alt.as_deref() {
            push(alt);
        }
    }

    /// Every occurrence in `text` (see [`TermRecognizer::find`]).
    fn find(&self, text: &str) -> Vec<Occurrence> {
        self.with_pieces(text, |pieces, words| self.walk(text, pieces, words))
    }

    /// Runs `f` on the pieces of `text` and this thread's [`TextWords`] for these patterns; the
    /// pieces of the text matched last are reused (the checker looks at a target again for the
    /// concepts its source names).
    fn with_pieces<R>(&self, text: &str, f: impl FnOnce(&[Piece], &mut TextWords) -> R) -> R {
        TEXT_WORDS.with(|cell| {
            let mut all = cell.borrow_mut();
            // patterns of a few terms (tests, small termbases) share one cache, emptied at
            // each text: remembering their words would push out a termbase's
            let small = self.terms.len() < SMALL_PATTERNS;
            let words = TextWords::of(&mut all, if small { 0 } else { self.id });
            let mut pieces = std::mem::take(&mut words.pieces);
            if words.last_of != self.id || words.last_text != text {
                if small {
                    words.forget();
                }
                words.pieces_of(self, text, &mut pieces);
                words.by_id.clear();
                words.last_of = self.id;
                words.last_text.clear();
                words.last_text.push_str(text);
            }
            let out = f(&pieces, words);
            words.pieces = pieces;
            out
        })
    }

    /// Matches the text's pieces against the trie: from each piece the longest accepted match,
    /// then on after it.
    fn walk(&self, text: &str, pieces: &[Piece], words: &mut TextWords) -> Vec<Occurrence> {
        let mut out = Vec::new();
        let mut i = 0;
        let mut states: Vec<u32> = Vec::with_capacity(4);
        let mut next: Vec<u32> = Vec::with_capacity(4);
        // buffers reused at every position
        let mut groups: Vec<&TermGroup> = Vec::new();
        let mut found: Vec<Occurrence> = Vec::new();
        let mut best: Vec<Occurrence> = Vec::new();
        let mut fitting: Vec<Fitting> = Vec::new();
        let mut key: Vec<u32> = Vec::new();
        while i < pieces.len() {
            let root = words.root(&pieces[i]);
            if root.is_empty() {
                i += 1;
                continue;
            }
            states.clear();
            states.extend_from_slice(root);
            best.clear();
            let mut best_end = None;
            let mut j = i;
            loop {
                if j > i {
                    if j == pieces.len()
                        || !joinable(
                            self.lang,
                            &text[pieces[j - 1].byte_end..pieces[j].word_start],
                        )
                    {
                        break;
                    }
                    next.clear();
                    for &s in &states {
                        for id in words.ids(&pieces[j]) {
                            if let Some(n) = self.child(s, *id) {
                                if !next.contains(&n) {
                                    next.push(n);
                                }
                            }
                        }
                    }
                    std::mem::swap(&mut states, &mut next);
                    if states.is_empty() {
                        break;
                    }
                }
                // a Chinese match may not take one character off a word of the segmenter:
                // 国际法 is not in 国际法院, 秘书长 not in 副秘书长; it may begin or end inside
                // a compound of words (联合国 in 联合国大会)
                let edges = pieces[i].before != 1 && pieces[j].after != 1;
                if edges && states.iter().any(|&s| !self.groups_at(s).is_empty()) {
                    // which terms fit depends only on the words (the nodes follow from them)
                    // and whether a sentence starts: known after the first time
                    let span = &pieces[i..=j];
                    let sentence = i == 0 || sentence_start(&text[..span[0].byte_start]);
                    key.clear();
                    key.push(u32::from(sentence));
                    key.extend(span.iter().map(|p| p.shape));
                    let (a, b) = match words.fits.get(&key) {
                        Some(range) => range,
                        None => {
                            groups.clear();
                            for &s in &states {
                                groups.extend(self.groups_at(s));
                            }
                            self.accept(text, span, words, sentence, &groups, &mut fitting);
                            let a = words.fitted.len() as u32;
                            words.fitted.extend(fitting.iter().map(|f| (f.0, f.1, f.3)));
                            let range = (a, words.fitted.len() as u32);
                            words.fits.insert(&key, range);
                            range
                        }
                    };
                    found.clear();
                    for &(concept, term, variant) in &words.fitted[a as usize..b as usize] {
                        found.push(Occurrence {
                            start: span[0].start,
                            end: span[span.len() - 1].end,
                            byte_start: span[0].byte_start,
                            byte_end: span[span.len() - 1].byte_end,
                            concept,
                            term,
                            variant,
                        });
                    }
                    if !found.is_empty() {
                        std::mem::swap(&mut best, &mut found);
                        best_end = Some(j);
                    }
                }
                j += 1;
            }
            match best_end {
                Some(last) => {
                    out.append(&mut best);
                    i = last + 1;
                }
                None => i += 1,
            }
        }
        out
    }

    /// Into `fitting`, one per concept, its best-fitting term among the terms of `groups` (the
    /// terms ending at the nodes reached) whose tokens fit `span`, in concept order.
    fn accept(
        &self,
        text: &str,
        span: &[Piece],
        words: &TextWords,
        sentence_start: bool,
        groups: &[&TermGroup],
        fitting: &mut Vec<Fitting>,
    ) {
        fitting.clear();
        for group in groups {
            let form = self.forms.get(group.form);
            if form.len() != span.len() {
                continue;
            }
            let Some((score, variant)) = self.fit(text, span, words, form, sentence_start) else {
                continue;
            };
            for &(ti, concept) in self.group_terms(group) {
                fitting.push((concept, ti, score, variant));
            }
        }
        // per concept the term written most like the text, then the better status, then the
        // first
        fitting.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then(b.2.cmp(&a.2))
                .then_with(|| {
                    let status = |t: u32| self.terms[t as usize].status;
                    status(a.1).cmp(&status(b.1))
                })
                .then(a.1.cmp(&b.1))
        });
        fitting.dedup_by_key(|f| f.0);
    }

    /// How a term written `form` fits the text's tokens `span` (same length): `None` when a
    /// token is not an inflection of the term's, or adds an accent the term does not have; else
    /// the number of tokens written as in the term and the spelling variant.
    fn fit(
        &self,
        text: &str,
        span: &[Piece],
        words: &TextWords,
        form: Form,
        sentence_start: bool,
    ) -> Option<(usize, Option<Variant>)> {
        if !form
            .norms()
            .zip(span)
            .all(|(tn, u)| inflection_of(self.lang, tn, words.norm(u)))
        {
            return None;
        }
        let latin = matches!(self.lang, Lang::En | Lang::Fr | Lang::Es);
        if latin
            && !form
                .words()
                .zip(span)
                .all(|(want, u)| no_added_accent(want, &text[u.byte_start..u.byte_end]))
        {
            return None;
        }
        Some(compare_surfaces(text, span, form, sentence_start))
    }
}

/// A term that fits a span: (concept, term, exact-token score, variant).
type Fitting = (u32, u32, usize, Option<Variant>);

/// A unit of a text being matched: its place in the text, and what it is ([`Shape`], in this
/// thread's [`TextWords`]).
#[derive(Debug, Clone, Copy)]
struct Piece {
    start: usize,
    end: usize,
    byte_start: usize,
    byte_end: usize,
    /// As [`Unit::word_start`].
    word_start: usize,
    /// As [`Unit::before`].
    before: u32,
    /// As [`Unit::after`].
    after: u32,
    shape: u32,
}

/// A unit of a token as [`units`] makes it, with offsets relative to the token, its normalised
/// form and its token ids interned.
#[derive(Debug, Clone, Copy)]
struct Shape {
    start: u32,
    end: u32,
    byte_start: u32,
    byte_end: u32,
    word_start: u32,
    before: u32,
    after: u32,
    /// Range of its normalised form in [`TextWords::norms`].
    norm: (u32, u32),
    /// Range of its token ids ([`LangPatterns::ids`]) in [`TextWords::ids`].
    ids: (u32, u32),
    /// Range in [`TextWords::ids`] of the trie nodes those ids lead to from the root.
    root: (u32, u32),
}

/// The recogniser units of the words a thread has met in texts of one language, by the word's
/// surface: what [`units`] and [`LangPatterns::ids`] make of a token depends on its surface
/// only, and texts repeat their words, so each is worked out once (as `lang` memoises its
/// analysis per word). Bounded: it starts again empty past [`TEXT_WORDS_MAX`] words.
#[derive(Debug, Default)]
struct TextWords {
    /// The [`LangPatterns::id`] whose vocabulary the ids are of.
    owner: u64,
    /// When this thread last used it (a count of uses of any of its caches).
    used: u64,
    /// Token surface (its bytes) → range of its shapes in `shapes`.
    words: ShortKeys<u8, 32>,
    shapes: Vec<Shape>,
    norms: String,
    ids: Vec<u32>,
    /// Buffer for the pieces of the text being matched, or matched last.
    pieces: Vec<Piece>,
    /// That text, and the id of the patterns it was matched with (the small ones share a cache).
    last_text: String,
    last_of: u64,
    /// The pieces of that text by token id: (id, piece index), sorted; made when first asked
    /// for ([`TextWords::index_pieces`]), empty until then.
    by_id: Vec<(u32, u32)>,
    /// Buffer for its tokens: (start, byte start, what).
    met: Vec<(usize, usize, Met)>,
    /// What [`LangPatterns::accept`] found for a span: `[sentence start (0 or 1), the shapes]`
    /// → range in `fitted` (the nodes the span reaches follow from its shapes' ids).
    fits: ShortKeys<u32, 6>,
    /// (concept, term, variant) of each fitting term.
    fitted: Vec<(u32, u32, Option<Variant>)>,
}

const TEXT_WORDS_MAX: usize = 1 << 16;

/// A map from short sequences (to ranges, by default) that holds keys of up to `N` items in the
/// table itself, padded with [`Pad::PAD`] (so a look-up follows no pointer and calls no
/// comparison), and longer keys boxed beside it: the per-word and per-span look-ups of
/// [`TextWords`] are most of the walk's cost once a thread has met a text's words, and the
/// vocabulary's of a word it meets first.
#[derive(Debug)]
struct ShortKeys<T: Pad, const N: usize, V = (u32, u32)> {
    short: FxHashMap<[T; N], V>,
    long: FxHashMap<Box<[T]>, V>,
}

impl<T: Pad, const N: usize, V> Default for ShortKeys<T, N, V> {
    fn default() -> Self {
        ShortKeys {
            short: FxHashMap::default(),
            long: FxHashMap::default(),
        }
    }
}

/// An item no key holds.
trait Pad: Copy + Eq + std::hash::Hash + std::fmt::Debug {
    const PAD: Self;
}

/// `0xFF` never occurs in UTF-8.
impl Pad for u8 {
    const PAD: u8 = 0xFF;
}

/// Shape indexes stay below `u32::MAX` (and the sentence flag is 0 or 1).
impl Pad for u32 {
    const PAD: u32 = u32::MAX;
}

impl<T: Pad, const N: usize, V: Copy> ShortKeys<T, N, V>
where
    [T; N]: std::hash::Hash + Eq,
{
    fn padded(key: &[T]) -> [T; N] {
        let mut out = [T::PAD; N];
        out[..key.len()].copy_from_slice(key);
        out
    }

    fn get(&self, key: &[T]) -> Option<V> {
        if key.len() <= N {
            self.short.get(&Self::padded(key)).copied()
        } else {
            self.long.get(key).copied()
        }
    }

    fn insert(&mut self, key: &[T], value: V) {
        if key.len() <= N {
            self.short.insert(Self::padded(key), value);
        } else {
            self.long.insert(key.into(), value);
        }
    }

    fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }

    fn clear(&mut self) {
        self.short.clear();
        self.long.clear();
    }
}

/// Patterns of fewer terms than this are matched without remembering words across texts.
const SMALL_PATTERNS: usize = 64;

/// Caches of one thread, one per language patterns it has matched lately.
const TEXT_WORDS_OWNERS: usize = 8;

thread_local! {
    static TEXT_WORDS: std::cell::RefCell<Vec<TextWords>> = const {
        std::cell::RefCell::new(Vec::new())
    };
}

/// Ids of [`LangPatterns`], so a thread's [`TextWords`] are never read against other patterns.
static NEXT_PATTERNS_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A token met in a text that [`TextWords`] does not know yet, or the shapes of one it knows.
#[derive(Debug)]
enum Met {
    Known((u32, u32)),
    New {
        /// Length of the surface in bytes.
        len: usize,
        norm: String,
        key: String,
        alt: Option<String>,
    },
}

impl TextWords {
    /// This thread's cache for the patterns `owner`. When the thread keeps
    /// [`TEXT_WORDS_OWNERS`] already, the one used longest ago gives way (the checker builds
    /// small recognisers per check and concept: they must not push out the termbase's).
    fn of(all: &mut Vec<TextWords>, owner: u64) -> &mut TextWords {
        let now = all.iter().map(|w| w.used).max().unwrap_or(0) + 1;
        let at = match all.iter().position(|w| w.owner == owner) {
            Some(at) => at,
            None => {
                if all.len() >= TEXT_WORDS_OWNERS {
                    let oldest = (0..all.len()).min_by_key(|&k| all[k].used).unwrap_or(0);
                    all.swap_remove(oldest);
                }
                all.push(TextWords {
                    owner,
                    ..TextWords::default()
                });
                all.len() - 1
            }
        };
        let words = &mut all[at];
        words.used = now;
        if words.words.len() >= TEXT_WORDS_MAX || words.fits.len() >= 4 * TEXT_WORDS_MAX {
            words.forget();
        }
        words
    }

    /// Empties it, keeping its memory.
    fn forget(&mut self) {
        self.last_text.clear();
        self.by_id.clear();
        self.last_of = 0;
        self.fits.clear();
        self.fitted.clear();
        self.words.clear();
        self.shapes.clear();
        self.norms.clear();
        self.ids.clear();
    }

    fn norm(&self, p: &Piece) -> &str {
        let (a, b) = self.shapes[p.shape as usize].norm;
        &self.norms[a as usize..b as usize]
    }

    fn ids(&self, p: &Piece) -> &[u32] {
        let (a, b) = self.shapes[p.shape as usize].ids;
        &self.ids[a as usize..b as usize]
    }

    fn root(&self, p: &Piece) -> &[u32] {
        let (a, b) = self.shapes[p.shape as usize].root;
        &self.ids[a as usize..b as usize]
    }

    /// Indexes `pieces` (those of the text matched last) by token id, unless done already.
    fn index_pieces(&mut self, pieces: &[Piece]) {
        if !self.by_id.is_empty() || pieces.is_empty() {
            return;
        }
        for (k, piece) in pieces.iter().enumerate() {
            let (a, b) = self.shapes[piece.shape as usize].ids;
            for &id in &self.ids[a as usize..b as usize] {
                self.by_id.push((id, k as u32));
            }
        }
        self.by_id.sort_unstable();
    }

    /// The pieces with token id `id`, in text order (after [`TextWords::index_pieces`]).
    fn pieces_with(&self, id: u32) -> impl Iterator<Item = usize> + '_ {
        let from = self.by_id.partition_point(|e| e.0 < id);
        self.by_id[from..]
            .iter()
            .take_while(move |e| e.0 == id)
            .map(|e| e.1 as usize)
    }

    /// The pieces of `text`: [`units`] of its analysis, the same units in the same order.
    fn pieces_of(&mut self, p: &LangPatterns, text: &str, out: &mut Vec<Piece>) {
        // the analysis, each word looked up by its surface before it is normalised, each token
        // of a word not known yet by its own (new ones copied, to be worked out once the
        // analysis is done: working one out may analyse text)
        let mut met = std::mem::take(&mut self.met);
        met.clear();
        let mut fresh = false;
        for_each_segment(p.lang, text, |segment| {
            let t = match segment {
                Segment::Word {
                    start,
                    byte_start,
                    surface,
                } => {
                    let Some(range) = self.words.get(surface.as_bytes()) else {
                        return false;
                    };
                    met.push((start, byte_start, Met::Known(range)));
                    return true;
                }
                Segment::Token(t) => t,
            };
            let surface = &text[t.byte_start..t.byte_end];
            let what = match self.words.get(surface.as_bytes()) {
                Some(range) => Met::Known(range),
                None => {
                    fresh = true;
                    Met::New {
                        len: surface.len(),
                        norm: t.norm.to_string(),
                        key: t.key.to_string(),
                        alt: t.alt.map(str::to_string),
                    }
                }
            };
            met.push((t.start, t.byte_start, what));
            false
        });
        if fresh {
            for (_, byte_start, what) in &mut met {
                if let Met::New {
                    norm,
                    key,
                    alt,
                    len,
                } = what
                {
                    let surface = &text[*byte_start..*byte_start + *len];
                    let range = match self.words.get(surface.as_bytes()) {
                        Some(range) => range,
                        None => self.learn(p, surface, norm, key, alt),
                    };
                    *what = Met::Known(range);
                }
            }
        }
        out.clear();
        for &(start, byte_start, ref what) in &met {
            let Met::Known((a, b)) = *what else {
                unreachable!("every token was learnt")
            };
            for k in a..b {
                let s = &self.shapes[k as usize];
                out.push(Piece {
                    start: start + s.start as usize,
                    end: start + s.end as usize,
                    byte_start: byte_start + s.byte_start as usize,
                    byte_end: byte_start + s.byte_end as usize,
                    word_start: byte_start + s.word_start as usize,
                    before: s.before,
                    after: s.after,
                    shape: k,
                });
            }
        }
        self.met = met;
    }

    /// Works out the shapes of a token of surface `surface` and keeps them.
    fn learn(
        &mut self,
        p: &LangPatterns,
        surface: &str,
        norm: &mut String,
        key: &mut String,
        alt: &mut Option<String>,
    ) -> (u32, u32) {
        // the token alone, offsets relative to it
        let token = Token {
            start: 0,
            end: surface.chars().count(),
            byte_start: 0,
            byte_end: surface.len(),
            position: 0,
            norm: std::mem::take(norm),
            key: std::mem::take(key),
            alt: alt.take(),
        };
        let mut units = Vec::new();
        token_units(p.lang, surface, token, false, &mut units);
        let first = self.shapes.len() as u32;
        let mut ids = Vec::new();
        for u in &units {
            ids.clear();
            p.ids(u, &mut ids);
            let norm_at = self.norms.len() as u32;
            self.norms.push_str(&u.norm);
            let ids_at = self.ids.len() as u32;
            self.ids.extend_from_slice(&ids);
            let root_at = self.ids.len() as u32;
            for id in &ids {
                if let Some(n) = p.child(0, *id) {
                    if !self.ids[root_at as usize..].contains(&n) {
                        self.ids.push(n);
                    }
                }
            }
            self.shapes.push(Shape {
                start: u.start as u32,
                end: u.end as u32,
                byte_start: u.byte_start as u32,
                byte_end: u.byte_end as u32,
                word_start: u.word_start as u32,
                before: u.before as u32,
                after: u.after as u32,
                norm: (norm_at, self.norms.len() as u32),
                ids: (ids_at, root_at),
                root: (root_at, self.ids.len() as u32),
            });
        }
        let range = (first, self.shapes.len() as u32);
        self.words.insert(surface.as_bytes(), range);
        range
    }
}

/// True when the text between two tokens lets them belong to one term: spaces, line breaks,
/// hyphens, apostrophes; in Chinese also the title marks `《》〈〉` (*《条约》不结盟缔约国集团*: a
/// title inside a name); nothing else.
fn joinable(lang: Lang, gap: &str) -> bool {
    gap.chars().all(|c| {
        c.is_whitespace()
            || (lang == Lang::Zh && matches!(c, '《' | '》' | '〈' | '〉'))
            || matches!(
                c,
                '-' | '\u{2010}'
                    | '\u{2011}'
                    | '\u{00AD}'
                    | '\''
                    | '\u{2019}'
                    | '\u{02BC}'
                    | '\u{200B}'
                    | '\u{200C}'
                    | '\u{200D}'
                    | '\u{2060}'
                    | '\u{0640}'
            )
    })
}

/// True when `before` ends a sentence (or is empty), so a capital letter next is not a variant.
fn sentence_start(before: &str) -> bool {
    let trimmed = before.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\u{201C}' | '\u{00AB}' | '(' | '\'' | '\u{2018}')
    });
    match trimmed.chars().next_back() {
        None => true,
        Some(c) => {
            matches!(c, '.' | '!' | '?' | ':' | ';' | '\u{3002}' | '\u{FF1A}')
                || c.is_numeric() && before.trim_end().len() < 6
        }
    }
}

/// How well the text's tokens fit the term as written: the number of tokens equal ignoring case,
/// and the spelling variant when some token differs only by case or diacritics.
fn compare_surfaces(
    text: &str,
    span: &[Piece],
    form: Form,
    sentence_start: bool,
) -> (usize, Option<Variant>) {
    let mut score = 0;
    let mut variant = None;
    for (k, (u, want)) in span.iter().zip(form.words()).enumerate() {
        let got = &text[u.byte_start..u.byte_end];
        if got == want {
            score += 1;
            continue;
        }
        if lower_eq(got, want) {
            score += 1;
            let all_caps = got.chars().count() > 1 && !got.chars().any(char::is_lowercase);
            let capitalised = k == 0 && sentence_start && first_upper_only(got, want);
            if !all_caps && !capitalised {
                variant.get_or_insert(Variant::Case);
            }
        } else if !(got.is_ascii() && want.is_ascii()) && folded_eq(got, want) {
            variant = Some(Variant::Diacritics);
        }
    }
    (score, variant)
}

/// False when `got` is another word than `want` that differs from it by an accent inside the
/// stem besides its ending (*Secretaría* is not an inflection of *Secretario*), true otherwise
/// (*sesiones* for *sesión*, *Hanoi* for *Hanoï*: an accent dropped, or only accents differ).
fn no_added_accent(want: &str, got: &str) -> bool {
    if got.is_ascii() || folded_eq(want, got) {
        return true;
    }
    let wants = want.chars().flat_map(char::to_lowercase);
    let gots = got.chars().flat_map(char::to_lowercase);
    for (w, g) in wants.zip(gots) {
        let (fw, fg) = (fold_char(w), fold_char(g));
        if fw != fg {
            return true;
        }
        if g != fg && w == fw {
            return false;
        }
    }
    true
}

/// Equal ignoring case, without allocating.
fn lower_eq(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// Equal ignoring case and diacritics, without allocating.
fn folded_eq(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    folded_chars(a).eq(folded_chars(b))
}

/// The characters of `s` in lower case, without diacritics.
fn folded_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(fold_char)
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
}

fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c;
    }
    let mut base = None;
    unicode_normalization::char::decompose_canonical(c, |d| {
        base.get_or_insert(d);
    });
    base.unwrap_or(c)
}

/// `got` is `want` with only its first letter raised to upper case.
fn first_upper_only(got: &str, want: &str) -> bool {
    let mut g = got.chars();
    let mut w = want.chars();
    match (g.next(), w.next()) {
        (Some(a), Some(b)) => a.is_uppercase() && b.is_lowercase() && g.as_str() == w.as_str(),
        _ => false,
    }
}

/// True when `text` (a normalised token of the text) is `term` (a normalised token of the term)
/// or an inflected form of it: both are one stem plus an ending of the language
/// (`State`/`States`, `международное`/`международного`, `autoridad`/`autoridades`). Arabic
/// forms are compared without their proclitics (`والأمم`, `لحقوق`).
pub(crate) fn inflection_of(lang: Lang, term: &str, text: &str) -> bool {
    if term == text {
        return true;
    }
    if lang == Lang::Ar {
        let (term, text) = (strip_arabic_proclitics(term), strip_arabic_proclitics(text));
        return same_stem(lang, term, text)
            || one_letter_proclitic(text).is_some_and(|rest| same_stem(lang, term, rest));
    }
    same_stem(lang, term, text)
}

fn same_stem(lang: Lang, term: &str, text: &str) -> bool {
    if term == text {
        return true;
    }
    let set = ending_set(lang);
    let is_ending = |s: &str| s.len() <= 4 * MAX_ENDING && set.contains(s);
    // the term's possible endings are its last 0..=MAX_ENDING characters
    let mut cut = term.len();
    for k in 0..=MAX_ENDING {
        if k > 0 {
            match term[..cut].char_indices().next_back() {
                Some((i, _)) => cut = i,
                None => break,
            }
        }
        let (stem, a) = term.split_at(cut);
        if stem.chars().count() < 2 {
            break;
        }
        if text.strip_prefix(stem).is_some_and(is_ending) && is_ending(a) {
            return true;
        }
    }
    false
}

/// Longest ending of any language's list, in characters.
const MAX_ENDING: usize = 5;

/// [`endings`] as hash sets, built once.
fn ending_set(lang: Lang) -> &'static rustc_hash::FxHashSet<&'static str> {
    static SETS: std::sync::LazyLock<Vec<rustc_hash::FxHashSet<&'static str>>> =
        std::sync::LazyLock::new(|| {
            Lang::ALL
                .iter()
                .map(|l| endings(*l).iter().copied().collect())
                .collect()
        });
    let i = Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0);
    &SETS[i]
}

/// Inflectional endings by language (on normalised forms: lower case, diacritics folded for
/// Latin scripts, `ё`→`е`, Arabic `ة`→`ه`); a token may differ from the term's only by these.
/// For languages without a list, only the same normalised form matches.
pub(crate) fn endings(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::En => &["", "s", "es", "y", "ies"],
        Lang::Fr => &["", "s", "x", "e", "es", "al", "aux", "ale", "ales"],
        Lang::Es => &["", "s", "es", "a", "as", "o", "os"],
        Lang::Ru => &[
            "",
            "а",
            "я",
            "о",
            "е",
            "ы",
            "и",
            "у",
            "ю",
            "ь",
            "й",
            "ой",
            "ей",
            "ом",
            "ем",
            "ам",
            "ям",
            "ах",
            "ях",
            "ами",
            "ями",
            "ов",
            "ев",
            "ий",
            "ый",
            "ая",
            "яя",
            "ое",
            "ее",
            "ые",
            "ие",
            "ого",
            "его",
            "ому",
            "ему",
            "ым",
            "им",
            "ых",
            "их",
            "ую",
            "юю",
            "ою",
            "ею",
            "ью",
            "ия",
            "ии",
            "ию",
            "ием",
            "иям",
            "иями",
            "иях",
            "ья",
            "ьи",
            "ье",
            "ью",
            "ьям",
            "ьями",
            "ьях",
            "ьев",
            "аяся",
            "ийся",
            "ееся",
            "иеся",
            "ихся",
            "имся",
            "ейся",
            "уюся",
            "ими",
            "ими",
            "ыми",
            "ями",
            "егося",
            "емуся",
            "имися",
            "емся",
            "еюся",
        ],
        // `ا`: the indefinite accusative (دولة عضوا)
        Lang::Ar => &["", "ه", "ا", "ات", "ين", "ون", "ان", "تين", "تان"],
        Lang::Zh | Lang::Other => &[""],
    }
}

/// The primary subtag a language tag selects (`fr-FR` → `fr`), or `None` when it is not a tag.
pub fn lang_key(tag: &str) -> Option<String> {
    LangTag::parse(tag).ok().map(|t| t.primary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::for_each_token;

    #[test]
    fn inflections() {
        assert!(inflection_of(Lang::En, "state", "states"));
        assert!(!inflection_of(Lang::En, "international", "internal"));
        assert!(inflection_of(Lang::Ru, "совет", "советом"));
        assert!(inflection_of(Lang::Ru, "ассамблея", "ассамблеи"));
        assert!(!inflection_of(Lang::Ru, "право", "правовой"));
        // reflexive participles: *развивающимися странами*
        assert!(inflection_of(Lang::Ru, "развивающаяся", "развивающимися"));
        assert!(inflection_of(Lang::Ru, "развивающаяся", "развивающегося"));
    }

    #[test]
    fn footnote_numbers() {
        assert_eq!(footnote_digits("General4"), Some(7));
        assert_eq!(footnote_digits("секретаря12"), Some("секретаря".len()));
        assert_eq!(footnote_digits("G77"), None);
        assert_eq!(footnote_digits("COVID19"), None);
        assert_eq!(footnote_digits("x4"), None);
        assert_eq!(footnote_digits("report2015"), None);
        let keys: Vec<String> = units(Lang::Es, "Secretario General4;", false)
            .into_iter()
            .map(|u| u.norm)
            .collect();
        assert_eq!(keys, ["secretario", "general", "4"]);
    }

    #[test]
    fn russian_keys_meet_across_snowball_stems() {
        // Snowball: `систем` / `сист`, `вьетн` / `вьетнам`
        for (term, text) in [("система", "систему"), ("вьетнам", "вьетнама")]
        {
            let t = shortest_stem(Lang::Ru, term);
            let mut found = false;
            stems(Lang::Ru, text, |s| stems(Lang::Ru, s, |s| found |= s == t));
            assert!(found, "{term} {text}");
        }
    }

    /// Devset lines of one language, every `step`th.
    fn devset(lang: &str, step: usize) -> Vec<String> {
        let path = format!(
            "{}/../shared/corpora/unpc-devset/UNv1.0.devset.{lang}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        text.lines().step_by(step).map(str::to_string).collect()
    }

    /// Texts that take the rarer paths: footnote numbers, elision, Latin letters in Cyrillic,
    /// clitics, kana, full-width digits, Latin words in Chinese.
    const TRICKY: &[&str] = &[
        "Secretario General4; Secretary-General12 G77 COVID19 x4",
        "l’Organisation d'État, aujourd'hui l'ONU",
        "Генерального cекретаря4 и Совета Безопасности",
        "والأمم للأمم بحقوق لحقوق الإنسان",
        "联合国大会（２０２４年）UNCTAD４ カタカナ 々〇 《条约》不结盟缔约国集团",
        "",
        "  \n ",
    ];

    /// `for_each_token` gives the tokens of `analyze`; the pieces a text is matched on are its
    /// `units` with their `ids`, whether the thread's word cache knew them or not.
    #[test]
    fn text_pieces_are_the_units_of_the_analysis() {
        for lang in [Lang::Ar, Lang::Zh, Lang::En, Lang::Fr, Lang::Ru, Lang::Es] {
            let mut lines = devset(lang.code(), 8);
            lines.extend(TRICKY.iter().map(|t| t.to_string()));
            let mut p = LangPatterns::new(lang);
            for (k, line) in lines.iter().take(150).enumerate() {
                let tokens = analyze(lang, line);
                for w in tokens.windows(2).step_by(3) {
                    p.add_term(
                        k as u32,
                        &line[w[0].byte_start..w[1].byte_end],
                        TermStatus::Preferred,
                        true,
                    );
                }
                for t in tokens.iter().step_by(5) {
                    p.add_term(
                        k as u32,
                        &line[t.byte_start..t.byte_end],
                        TermStatus::Preferred,
                        true,
                    );
                }
            }
            p.group_ends();
            let mut words = TextWords::default();
            let mut pieces = Vec::new();
            let mut occurrences = 0;
            for round in 0..2 {
                for line in &lines {
                    let mut by_ref = Vec::new();
                    for_each_token(lang, line, |t| {
                        by_ref.push((
                            t.start,
                            t.end,
                            t.byte_start,
                            t.byte_end,
                            t.norm.to_string(),
                            t.key.to_string(),
                            t.alt.map(str::to_string),
                        ))
                    });
                    let tokens = analyze(lang, line);
                    assert_eq!(by_ref.len(), tokens.len(), "{line}");
                    for (a, b) in by_ref.iter().zip(&tokens) {
                        let b = (
                            b.start,
                            b.end,
                            b.byte_start,
                            b.byte_end,
                            b.norm.clone(),
                            b.key.clone(),
                            b.alt.clone(),
                        );
                        assert_eq!(*a, b, "{line}");
                    }
                    let units = units(lang, line, false);
                    words.pieces_of(&p, line, &mut pieces);
                    // what the walk remembers of earlier texts changes nothing
                    let mut fresh = TextWords::default();
                    let mut fresh_pieces = Vec::new();
                    fresh.pieces_of(&p, line, &mut fresh_pieces);
                    let found = p.walk(line, &pieces, &mut words);
                    assert_eq!(found, p.walk(line, &fresh_pieces, &mut fresh), "{line}");
                    occurrences += found.len();
                    assert_eq!(units.len(), pieces.len(), "round {round}: {line}");
                    for (u, q) in units.iter().zip(&pieces) {
                        let place = |u: &Unit| {
                            (
                                u.start,
                                u.end,
                                u.byte_start,
                                u.byte_end,
                                u.word_start,
                                u.before,
                                u.after,
                            )
                        };
                        let got = (
                            q.start,
                            q.end,
                            q.byte_start,
                            q.byte_end,
                            q.word_start,
                            q.before as usize,
                            q.after as usize,
                        );
                        assert_eq!(place(u), got, "{line}");
                        assert_eq!(u.norm, words.norm(q), "{line}");
                        let mut ids = Vec::new();
                        p.ids(u, &mut ids);
                        assert_eq!(ids, words.ids(q), "{line}");
                        let mut root: Vec<u32> = Vec::new();
                        for id in &ids {
                            if let Some(n) = p.child(0, *id) {
                                if !root.contains(&n) {
                                    root.push(n);
                                }
                            }
                        }
                        assert_eq!(root, words.root(q), "{line}");
                    }
                }
            }
            assert!(occurrences > 1000, "{lang:?}: {occurrences} occurrences");
        }
    }

    #[test]
    fn short_keys_tell_prefixes_and_long_keys_apart() {
        let mut map = ShortKeys::<u32, 3>::default();
        let keys: [&[u32]; 6] = [&[], &[1], &[1, 2], &[1, 2, 3], &[1, 2, 3, 4], &[1, 2, 3, 5]];
        for (k, key) in keys.iter().enumerate() {
            map.insert(key, (k as u32, 0));
        }
        assert_eq!(map.len(), keys.len());
        for (k, key) in keys.iter().enumerate() {
            assert_eq!(map.get(key), Some((k as u32, 0)), "{key:?}");
        }
        assert_eq!(map.get(&[2]), None);
        assert_eq!(map.get(&[1, 2, 3, 4, 5]), None);
        let mut words = ShortKeys::<u8, 32>::default();
        let long = "международного сотрудничества";
        words.insert(long.as_bytes(), (7, 8));
        assert_eq!(words.get(long.as_bytes()), Some((7, 8)));
        assert_eq!(words.get("международного".as_bytes()), None);
        map.clear();
        assert_eq!((map.len(), map.get(&[1])), (0, None));
    }

    #[test]
    fn small_recognisers_do_not_push_out_the_termbase() {
        let mut all = Vec::new();
        TextWords::of(&mut all, 100).words.insert(b"x", (0, 0));
        for owner in 1..50 {
            TextWords::of(&mut all, owner);
            assert_eq!(TextWords::of(&mut all, 100).words.len(), 1, "{owner}");
            assert!(all.len() <= TEXT_WORDS_OWNERS);
        }
    }

    #[test]
    fn folding_compares_without_allocating() {
        let fold = |s: &str| {
            s.chars()
                .flat_map(char::to_lowercase)
                .map(fold_char)
                .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
                .collect::<String>()
        };
        let pairs = [
            ("Hanoi", "Hanoï"),
            ("HANOÏ", "hanoi"),
            ("État", "etat"),
            ("Secretaría", "Secretario"),
            ("Hano\u{0069}\u{0308}", "Hanoï"),
            ("ß", "ss"),
            ("Совет", "совет"),
            ("Ёлка", "елка"),
            ("abc", "abd"),
            ("", "é"),
        ];
        for (a, b) in pairs {
            assert_eq!(folded_eq(a, b), fold(a) == fold(b), "{a} {b}");
        }
    }

    #[test]
    fn gaps() {
        assert!(joinable(Lang::En, " \n  "));
        assert!(joinable(Lang::En, "-"));
        assert!(!joinable(Lang::En, ", "));
        assert!(!joinable(Lang::En, ". "));
        assert!(joinable(Lang::Zh, "》"));
        assert!(!joinable(Lang::En, "》"));
        assert!(!joinable(Lang::Zh, "“"));
    }
}
