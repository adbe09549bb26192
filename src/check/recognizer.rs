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
//! plus one per token of each partial match.
//!
//! A stem match alone is not enough (Snowball gives `intern` for *international* and *internal*):
//! each matched token must differ from the term's token only by an inflectional ending of the
//! language ([`endings`]), compared on the normalised, unstemmed forms. Between two tokens of a
//! match only spaces, line breaks, hyphens and apostrophes may stand (inline codes are not part of
//! the text handed in), never punctuation.

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use crate::lang::{analyze, fold_latin_lookalikes, strip_arabic_proclitics, Lang, LangTag, Token};
use crate::model::{Concept, TermStatus};

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
    pub text: Box<str>,
    /// Normalised forms of the tokens, separated by `' '`.
    norms: Box<str>,
    /// Byte spans of the tokens in `text`.
    spans: Box<[(u16, u16)]>,
}

impl TermEntry {
    fn norms(&self) -> impl Iterator<Item = &str> {
        self.norms.split(' ')
    }
}

/// Patterns of one language.
#[derive(Debug)]
struct LangPatterns {
    lang: Lang,
    /// Token key → id.
    vocab: FxHashMap<Box<str>, u32>,
    /// `(node << 32) | token id` → child node.
    edges: FxHashMap<u64, u32>,
    /// Per node: the terms whose pattern ends there, in index order (while building).
    ends: FxHashMap<u32, Vec<u32>>,
    /// Per node: the terms whose pattern ends there, grouped by their text (see [`TermGroup`]),
    /// made from `ends` when the build is done.
    groups: FxHashMap<u32, Box<[TermGroup]>>,
    nodes: u32,
    terms: Vec<TermEntry>,
    /// Per concept index: the range of its terms in `terms`.
    by_concept: FxHashMap<u32, (u32, u32)>,
}

/// Terms of one text (of several concepts), in index order: whether they fit a text's tokens
/// depends only on the text, so a termbase where thousands of concepts share a term compares it
/// once.
#[derive(Debug)]
struct TermGroup(Box<[u32]>);

/// Every term of a termbase, ready to be found in texts.
#[derive(Debug)]
pub struct TermRecognizer {
    concepts: Vec<ConceptInfo>,
    langs: HashMap<String, LangPatterns>,
    /// Per language, per concept: its short forms (terms of type [`SHORT_FORM`]), which are not
    /// patterns: alone they could name several concepts (see [`crate::check`]'s expected terms).
    short_forms: HashMap<String, FxHashMap<u32, Vec<Box<str>>>>,
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
            short_forms: HashMap::new(),
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
            for term in &section.terms {
                if term.term_type.as_deref() == Some(SHORT_FORM) {
                    if term.status.is_allowed() {
                        let forms = self.short_forms.entry(code.clone()).or_default();
                        forms
                            .entry(index)
                            .or_default()
                            .push(term.text.as_str().into());
                    }
                    continue;
                }
                patterns.add_term(index, &term.text, term.status);
            }
            let last = patterns.terms.len() as u32;
            if last > first {
                patterns.by_concept.insert(index, (first, last));
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
        let t = &self.langs[lang].terms[index as usize];
        TermRef {
            text: &t.text,
            status: t.status,
        }
    }

    /// The terms of a concept in a language, preferred first.
    pub fn terms_of(&self, lang: &str, concept: u32) -> Vec<TermRef<'_>> {
        let Some(p) = self.langs.get(lang) else {
            return Vec::new();
        };
        let Some(&(a, b)) = p.by_concept.get(&concept) else {
            return Vec::new();
        };
        p.terms[a as usize..b as usize]
            .iter()
            .map(|t| TermRef {
                text: &t.text,
                status: t.status,
            })
            .collect()
    }

    /// The short forms of a concept in a language (see [`SHORT_FORM`]).
    pub fn short_forms(&self, lang: &str, concept: u32) -> &[Box<str>] {
        self.short_forms
            .get(lang)
            .and_then(|forms| forms.get(&concept))
            .map_or(&[], Vec::as_slice)
    }

    /// Every term occurrence in `text` of language `lang` (a normalised primary subtag, `fr`), in
    /// text order, non-overlapping, leftmost-longest. One span may carry several occurrences when
    /// several concepts share the term.
    pub fn find(&self, lang: &str, text: &str) -> Vec<Occurrence> {
        let Some(p) = self.langs.get(lang) else {
            return Vec::new();
        };
        let tokens = units(p.lang, text, false);
        p.find(text, &tokens)
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
            n += p.vocab.keys().map(|k| k.len() + 16 + 4 + 1).sum::<usize>() * 8 / 7;
            n += p.edges.capacity() * (8 + 4 + 1);
            n += p
                .groups
                .values()
                .map(|v| v.iter().map(|g| g.0.len() * 4 + 16).sum::<usize>() + 16 + 4 + 1)
                .sum::<usize>();
            n += p.by_concept.capacity() * (4 + 8 + 1);
            for t in &p.terms {
                n += std::mem::size_of::<TermEntry>() + t.text.len() + t.norms.len();
                n += t.spans.len() * 4;
            }
        }
        n
    }
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
            continue;
        }
        if lang == Lang::Zh && surface.chars().any(is_han) {
            let mut start = t.start;
            let last = surface.chars().count() - 1;
            for (k, (b, c)) in surface.char_indices().enumerate() {
                let folded = crate::lang::search_fold(c.encode_utf8(&mut [0; 4]));
                out.push(Unit {
                    start,
                    end: start + 1,
                    byte_start: t.byte_start + b,
                    byte_end: t.byte_start + b + c.len_utf8(),
                    word_start: t.byte_start + b,
                    before: k,
                    after: last - k,
                    norm: folded.clone(),
                    key: folded,
                    alt: None,
                });
                start += 1;
            }
            continue;
        }
        out.push(unit(lang, text, t, for_term));
    }
    out
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
            lang,
            vocab: FxHashMap::default(),
            edges: FxHashMap::default(),
            ends: FxHashMap::default(),
            groups: FxHashMap::default(),
            nodes: 1,
            terms: Vec::new(),
            by_concept: FxHashMap::default(),
        }
    }

    fn intern(&mut self, key: &str) -> u32 {
        if let Some(&id) = self.vocab.get(key) {
            return id;
        }
        let id = self.vocab.len() as u32;
        self.vocab.insert(key.into(), id);
        id
    }

    fn add_term(&mut self, concept: u32, text: &str, status: TermStatus) {
        let tokens = units(self.lang, text, true);
        if tokens.is_empty() {
            return;
        }
        let index = self.terms.len() as u32;
        // every combination of key / alt, up to MAX_PATHS
        let mut paths: Vec<Vec<u32>> = vec![Vec::with_capacity(tokens.len())];
        for t in &tokens {
            let key = self.intern(&t.key);
            let alt = t.alt.as_deref().map(|a| self.intern(a));
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
        let norms: Vec<&str> = tokens.iter().map(|t| t.norm.as_str()).collect();
        let spans = tokens
            .iter()
            .map(|t| (t.byte_start as u16, t.byte_end as u16))
            .collect();
        self.terms.push(TermEntry {
            concept,
            status,
            text: text.into(),
            norms: norms.join(" ").into(),
            spans,
        });
    }

    /// Turns `ends` into `groups`.
    fn group_ends(&mut self) {
        let terms = &self.terms;
        self.groups = std::mem::take(&mut self.ends)
            .into_iter()
            .map(|(node, mut ends)| {
                ends.sort_by(|&a, &b| {
                    terms[a as usize]
                        .text
                        .cmp(&terms[b as usize].text)
                        .then(a.cmp(&b))
                });
                let groups: Box<[TermGroup]> = ends
                    .chunk_by(|&a, &b| terms[a as usize].text == terms[b as usize].text)
                    .map(|g| TermGroup(g.into()))
                    .collect();
                (node, groups)
            })
            .collect();
    }

    /// Appends the token ids a text unit may stand for.
    fn ids(&self, u: &Unit, out: &mut Vec<u32>) {
        let start = out.len();
        let mut push = |key: &str| {
            if let Some(&id) = self.vocab.get(key) {
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

    fn find(&self, text: &str, units: &[Unit]) -> Vec<Occurrence> {
        // the ids of unit k are flat[ranges[k]]
        let mut flat: Vec<u32> = Vec::with_capacity(units.len());
        let mut ranges: Vec<(usize, usize)> = Vec::with_capacity(units.len());
        for u in units {
            let a = flat.len();
            self.ids(u, &mut flat);
            ranges.push((a, flat.len()));
        }
        let mut out = Vec::new();
        let mut i = 0;
        let mut states: Vec<u32> = Vec::with_capacity(4);
        let mut next: Vec<u32> = Vec::with_capacity(4);
        // buffers reused at every position
        let mut groups: Vec<&TermGroup> = Vec::new();
        let mut found: Vec<Occurrence> = Vec::new();
        let mut best: Vec<Occurrence> = Vec::new();
        while i < units.len() {
            if ranges[i].0 == ranges[i].1 {
                i += 1;
                continue;
            }
            states.clear();
            states.push(0);
            best.clear();
            let mut best_end = None;
            let mut j = i;
            while j < units.len() && !states.is_empty() {
                if j > i && !joinable(self.lang, &text[units[j - 1].byte_end..units[j].word_start])
                {
                    break;
                }
                next.clear();
                for &s in &states {
                    for id in &flat[ranges[j].0..ranges[j].1] {
                        let edge = (u64::from(s) << 32) | u64::from(*id);
                        if let Some(&n) = self.edges.get(&edge) {
                            if !next.contains(&n) {
                                next.push(n);
                            }
                        }
                    }
                }
                std::mem::swap(&mut states, &mut next);
                // a Chinese match may not take one character off a word of the segmenter:
                // 国际法 is not in 国际法院, 秘书长 not in 副秘书长; it may begin or end inside
                // a compound of words (联合国 in 联合国大会)
                let edges = units[i].before != 1 && units[j].after != 1;
                groups.clear();
                for &s in states.iter().filter(|_| edges) {
                    groups.extend(self.groups.get(&s).into_iter().flat_map(|g| g.iter()));
                }
                if !groups.is_empty() {
                    found.clear();
                    self.accept(text, &units[i..=j], i == 0, &groups, &mut found);
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

    /// The occurrences (one per concept, its best-fitting term) of the terms ending at a node
    /// whose tokens fit `span`.
    fn accept(
        &self,
        text: &str,
        span: &[Unit],
        at_start: bool,
        groups: &[&TermGroup],
        out: &mut Vec<Occurrence>,
    ) {
        let first = &span[0];
        let last = &span[span.len() - 1];
        let sentence_start = at_start || sentence_start(&text[..first.byte_start]);
        // (concept, term, exact-token score, variant) of every fitting term
        let mut fitting: Vec<(u32, u32, usize, Option<Variant>)> = Vec::new();
        for group in groups {
            let term = &self.terms[group.0[0] as usize];
            if term.spans.len() != span.len() {
                continue;
            }
            let Some((score, variant)) = self.fit(text, span, term, sentence_start) else {
                continue;
            };
            for &ti in group.0.iter() {
                fitting.push((self.terms[ti as usize].concept, ti, score, variant));
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
        for (concept, term, _, variant) in fitting {
            out.push(Occurrence {
                start: first.start,
                end: last.end,
                byte_start: first.byte_start,
                byte_end: last.byte_end,
                concept,
                term,
                variant,
            });
        }
    }

    /// How `term` fits the text's tokens `span` (same length): `None` when a token is not an
    /// inflection of the term's, or adds an accent the term does not have; else the number of
    /// tokens written as in the term and the spelling variant.
    fn fit(
        &self,
        text: &str,
        span: &[Unit],
        term: &TermEntry,
        sentence_start: bool,
    ) -> Option<(usize, Option<Variant>)> {
        if !term
            .norms()
            .zip(span)
            .all(|(tn, u)| inflection_of(self.lang, tn, &u.norm))
        {
            return None;
        }
        let latin = matches!(self.lang, Lang::En | Lang::Fr | Lang::Es);
        if latin
            && !term.spans.iter().zip(span).all(|(&(a, b), u)| {
                no_added_accent(
                    &term.text[a as usize..b as usize],
                    &text[u.byte_start..u.byte_end],
                )
            })
        {
            return None;
        }
        Some(compare_surfaces(text, span, term, sentence_start))
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
    span: &[Unit],
    term: &TermEntry,
    sentence_start: bool,
) -> (usize, Option<Variant>) {
    let mut score = 0;
    let mut variant = None;
    for (k, (u, &(a, b))) in span.iter().zip(term.spans.iter()).enumerate() {
        let got = &text[u.byte_start..u.byte_end];
        let want = &term.text[a as usize..b as usize];
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
    let fold = |s: &str| {
        s.chars()
            .flat_map(char::to_lowercase)
            .map(fold_char)
            .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
            .collect::<String>()
    };
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    fold(a) == fold(b)
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
        if is_ending(a) && text.strip_prefix(stem).is_some_and(is_ending) {
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
