//! Segmentation and the per-language normalisation and stemming of each token.

use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use super::arabic;
use super::chars::{is_fold_inert, is_han, is_nfc_inert, is_word_char};
use super::Lang;

/// One word of an analysed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Code-point offset of the first character in the original text.
    pub start: usize,
    /// Code-point offset one past the last character.
    pub end: usize,
    /// Byte offset of the first character in the original text.
    pub byte_start: usize,
    /// Byte offset one past the last character.
    pub byte_end: usize,
    /// Position in the token stream (0, 1, 2, ...).
    pub position: usize,
    /// Normalised but unstemmed form: NFKC, full case folding and the language's orthographic
    /// normalisation (diacritics folded for Latin-script languages, Arabic letter variants unified,
    /// `ё`→`е`). Used for prefix and typo-tolerant matching.
    pub norm: String,
    /// The search key: `norm` stemmed (Latin-script languages: stemmed, then diacritics folded).
    pub key: String,
    /// A second key at the same position, when stemming the diacritic-free form gives another
    /// stem (`cybercriminalite` typed without accents must still meet `cybercriminalité`).
    pub alt: Option<String>,
}

impl Token {
    /// The key and, when there is one, the alternative key.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.key.as_str()).chain(self.alt.as_deref())
    }
}

static JIEBA: LazyLock<jieba_rs::Jieba> = LazyLock::new(jieba_rs::Jieba::new);

/// Loads the Chinese segmenter's dictionary now (about a tenth of a second) instead of at the
/// first Chinese text: a caller with other work to do first (reading a file) runs it on a thread
/// of its own, and the first analysis of Chinese then finds it loaded, or waits for it.
pub fn load_segmenter() {
    LazyLock::force(&JIEBA);
}

static STEM_EN: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));
static STEM_FR: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::French));
static STEM_ES: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Spanish));
static STEM_RU: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Russian));
static STEM_AR: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Arabic));

/// French elided articles, pronouns and conjunctions, without their apostrophe.
const FR_ELISIONS: &[&str] = &[
    "l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu",
];

/// Text in NFC, the form every stored text takes.
pub fn nfc(text: &str) -> String {
    if is_nfc_fast(text) {
        return text.to_string();
    }
    text.nfc().collect()
}

/// `unicode_normalization::is_nfc_quick(..) == Yes`, answered from the character table when
/// every character is one NFC keeps (the general lookup is the costliest step of reading a TMX file).
fn is_nfc_fast(text: &str) -> bool {
    if text.is_ascii() {
        return true;
    }
    // the characters before the first one NFC may change leave the quick check where it starts
    match text.char_indices().find(|&(_, c)| !is_nfc_inert(c)) {
        None => true,
        Some((at, _)) => {
            unicode_normalization::is_nfc_quick(text[at..].chars())
                == unicode_normalization::IsNormalized::Yes
        }
    }
}

/// `caseless::default_case_fold_str`, which folds every character on its own, with the
/// characters folding keeps copied without a lookup of their folding.
fn case_fold(text: &str) -> String {
    use caseless::Caseless;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if is_fold_inert(c) {
            out.push(c);
        } else {
            out.extend(std::iter::once(c).default_case_fold());
        }
    }
    out
}

/// NFKC then full Unicode case folding (`ß`→`ss`, `ς`→`σ`), then NFKC again.
pub fn search_fold(text: &str) -> String {
    if text.is_ascii() {
        // ASCII is its own NFKC, and its full case folding is lower case
        return text.to_ascii_lowercase();
    }
    let compat: String = text.nfkc().collect();
    caseless::default_case_fold_str(&compat).nfkc().collect()
}

/// The key of the `exact` search mode: NFC, full case folding and collapsed whitespace.
pub fn exact_key(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    if exact_key_inert(text, &mut out) {
        return out;
    }
    // a character NFC or folding may change: NFC, fold, NFC again
    out.clear();
    let composed: std::borrow::Cow<str> = if is_nfc_fast(text) {
        text.into()
    } else {
        nfc(text).into()
    };
    for word in into_nfc(case_fold(&composed)).split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// [`exact_key`] in one pass, for a text whose characters NFC keeps as they are, folded into
/// characters it keeps too (so the text and its folding are their own NFC); `false` (with `out`
/// half written) when a character is not such.
fn exact_key_inert(text: &str, out: &mut String) -> bool {
    use caseless::Caseless;
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if !is_nfc_inert(c) {
            return false;
        } else if is_fold_inert(c) {
            out.push(c);
        } else {
            for f in std::iter::once(c).default_case_fold() {
                if !is_nfc_inert(f) || f.is_whitespace() {
                    return false;
                }
                out.push(f);
            }
        }
    }
    true
}

/// Text in NFC, without a copy when it is in NFC already.
pub fn into_nfc(text: String) -> String {
    if is_nfc_fast(&text) {
        return text;
    }
    text.nfc().collect()
}

/// Removes combining marks after canonical decomposition (`Hanoï` → `Hanoi`, `á` → `a`).
pub fn fold_diacritics(text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .nfc()
        .collect()
}

/// [`search_fold`] of a Han word: the common ideographs are their own NFKC and have no case.
fn han_fold(word: &str) -> String {
    if word.chars().all(|c| matches!(c as u32, 0x4E00..=0x9FFF)) {
        word.to_string()
    } else {
        search_fold(word)
    }
}

/// An apostrophe as the analysis reads one inside a word (*aujourd'hui*, *l’Organisation*).
pub fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}')
}

/// `c` as NFKC writes it when that is a single character (`．`→`.`, `＇`→`'`), else `c`, so
/// full-width punctuation splits words as its ASCII form does.
fn compat(c: char) -> char {
    if c.is_ascii() {
        return c;
    }
    let mut nfkc = std::iter::once(c).nfkc();
    match (nfkc.next(), nfkc.next()) {
        (Some(d), None) => d,
        _ => c,
    }
}

/// A span of the original text that forms one word (or, for Han runs, one run to segment).
#[derive(Clone, Copy)]
struct Span {
    byte_start: usize,
    byte_end: usize,
    han: bool,
}

/// Splits text into word spans: letters, digits and marks; an apostrophe between two letters stays
/// inside the word (`l'Organisation`, `State's`), as does `.` or `,` between digits (`2.500`), in
/// ASCII or full width (`０．４`); hyphens, spaces and punctuation separate words. Runs of Han
/// characters form their own spans.
fn spans(text: &str) -> Spans<'_> {
    Spans { text, at: 0 }
}

/// The [`spans`] of a text, found as they are asked for.
struct Spans<'t> {
    text: &'t str,
    /// Byte offset of the next character to look at.
    at: usize,
}

impl Iterator for Spans<'_> {
    type Item = Span;

    fn next(&mut self) -> Option<Span> {
        let text = self.text;
        loop {
            let start = self.at;
            let c = text[start..].chars().next()?;
            let mut end = start + c.len_utf8();
            if is_han(c) {
                end += text[end..]
                    .chars()
                    .take_while(|c| is_han(*c))
                    .map(char::len_utf8)
                    .sum::<usize>();
                self.at = end;
                return Some(Span {
                    byte_start: start,
                    byte_end: end,
                    han: true,
                });
            }
            if !is_word_char(c) {
                self.at = end;
                continue;
            }
            let mut prev = c;
            while let Some(c) = text[end..].chars().next() {
                if is_word_char(c) {
                    end += c.len_utf8();
                    prev = c;
                    continue;
                }
                let joiner = compat(c);
                let after = end + c.len_utf8();
                let Some(next) = text[after..].chars().next() else {
                    break;
                };
                let joins = is_word_char(next)
                    && ((is_apostrophe(joiner) && prev.is_alphabetic() && next.is_alphabetic())
                        || ((joiner == '.' || joiner == ',')
                            && prev.is_numeric()
                            && next.is_numeric()));
                if !joins {
                    break;
                }
                end = after + next.len_utf8();
                prev = next;
            }
            self.at = end;
            return Some(Span {
                byte_start: start,
                byte_end: end,
                han: false,
            });
        }
    }
}

/// Analyses `text` with the pipeline of `lang`: one [`Token`] per word, with offsets into `text`.
///
/// ```
/// use hexaglot::lang::{analyze, Lang};
/// let tokens = analyze(Lang::Fr, "la Convention de HANOÏ");
/// let keys: Vec<&str> = tokens.iter().map(|t| t.key.as_str()).collect();
/// assert_eq!(keys, ["la", "convent", "de", "hanoi"]);
/// assert_eq!((tokens[3].start, tokens[3].end), (17, 22));
/// ```
pub fn analyze(lang: Lang, text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    for_each_token(lang, text, |t| {
        tokens.push(Token {
            start: t.start,
            end: t.end,
            byte_start: t.byte_start,
            byte_end: t.byte_end,
            position: tokens.len(),
            norm: t.norm.to_string(),
            key: t.key.to_string(),
            alt: t.alt.map(str::to_string),
        });
    });
    tokens
}

/// One token of [`analyze`] by reference: what a [`Token`] holds, without its copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenRef<'a> {
    /// Code-point offset of the first character in the original text.
    pub start: usize,
    /// Code-point offset one past the last character.
    pub end: usize,
    /// Byte offset of the first character in the original text.
    pub byte_start: usize,
    /// Byte offset one past the last character.
    pub byte_end: usize,
    /// As [`Token::norm`].
    pub norm: &'a str,
    /// As [`Token::key`].
    pub key: &'a str,
    /// As [`Token::alt`].
    pub alt: Option<&'a str>,
}

/// The tokens of [`analyze`], in order, by reference (each word's normalisation is read from
/// this thread's cache, not copied): [`analyze`] collects them, and callers that look at each
/// token once (the term recogniser) take them as they come. `f` must not analyse text itself
/// (the cache is borrowed while it runs).
pub fn for_each_token(lang: Lang, text: &str, mut f: impl FnMut(TokenRef<'_>)) {
    for_each_segment(lang, text, |segment| {
        if let Segment::Token(t) = segment {
            f(t);
        }
        false
    });
}

/// What [`for_each_segment`] hands on, in text order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    /// A word outside Han runs, before it is normalised: its surface is
    /// `text[byte_start..byte_start + surface.len()]`, and its token, if the analysis keeps
    /// one, has these offsets and depends on the surface alone.
    Word {
        /// Code-point offset of the first character.
        start: usize,
        /// Byte offset of the first character.
        byte_start: usize,
        /// The word as the text writes it.
        surface: &'a str,
    },
    /// A token of [`analyze`].
    Token(TokenRef<'a>),
}

/// [`for_each_token`] for callers that remember what they made of each word's surface (the
/// term recogniser): every word outside Han runs is first offered as a [`Segment::Word`]; when
/// `f` returns `true` the caller has taken it as it is and it is not normalised, else its token
/// follows as a [`Segment::Token`] (none when the analysis drops the word). Han runs are cut
/// into words first, each handed on as a token. What `f` returns for a token is not read.
pub fn for_each_segment(lang: Lang, text: &str, mut f: impl FnMut(Segment<'_>) -> bool) {
    let mut char_pos = 0usize;
    let mut byte_pos = 0usize;
    let mut to_char = |byte: usize| -> usize {
        char_pos += text[byte_pos..byte].chars().count();
        byte_pos = byte;
        char_pos
    };
    for span in spans(text) {
        let surface = &text[span.byte_start..span.byte_end];
        if span.han {
            let base_char = to_char(span.byte_start);
            for word in JIEBA.cut(surface, true) {
                let folded;
                let norm = if word
                    .word
                    .chars()
                    .all(|c| matches!(c as u32, 0x4E00..=0x9FFF))
                {
                    word.word
                } else {
                    folded = han_fold(word.word);
                    folded.as_str()
                };
                if norm.chars().all(|c| !c.is_alphanumeric()) {
                    continue;
                }
                f(Segment::Token(TokenRef {
                    start: base_char + word.start,
                    end: base_char + word.end,
                    byte_start: span.byte_start + word.byte_start,
                    byte_end: span.byte_start + word.byte_end,
                    norm,
                    key: norm,
                    alt: None,
                }));
            }
            continue;
        }
        let start = to_char(span.byte_start);
        if f(Segment::Word {
            start,
            byte_start: span.byte_start,
            surface,
        }) {
            continue;
        }
        let end = to_char(span.byte_end);
        with_normalised(lang, surface, |n| {
            if let Some((norm, key, alt)) = n {
                f(Segment::Token(TokenRef {
                    start,
                    end,
                    byte_start: span.byte_start,
                    byte_end: span.byte_end,
                    norm,
                    key,
                    alt,
                }));
            }
        });
    }
}

/// Chinese character bigrams of every Han run (a lone character stands as itself), so a query
/// word that the segmenter cut differently still meets (*宪章* inside *联合国宪章*).
/// Non-Han words are analysed as by [`analyze`] with the generic pipeline.
pub fn zh_bigrams(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut char_pos = 0usize;
    let mut byte_pos = 0usize;
    for span in spans(text) {
        char_pos += text[byte_pos..span.byte_start].chars().count();
        let surface = &text[span.byte_start..span.byte_end];
        let chars: Vec<(usize, char)> = surface.char_indices().collect();
        if span.han {
            let n = chars.len();
            let windows = if n == 1 { 1 } else { n - 1 };
            for i in 0..windows {
                let w = (i + 2).min(n);
                let b0 = span.byte_start + chars[i].0;
                let b1 = chars
                    .get(w)
                    .map_or(span.byte_end, |&(b, _)| span.byte_start + b);
                let norm = han_fold(&text[b0..b1]);
                tokens.push(Token {
                    start: char_pos + i,
                    end: char_pos + w,
                    byte_start: b0,
                    byte_end: b1,
                    position: tokens.len(),
                    key: norm.clone(),
                    norm,
                    alt: None,
                });
            }
        } else if let Some((norm, key, alt)) = normalise_cached(Lang::Zh, surface) {
            tokens.push(Token {
                start: char_pos,
                end: char_pos + chars.len(),
                byte_start: span.byte_start,
                byte_end: span.byte_end,
                position: tokens.len(),
                norm,
                key,
                alt,
            });
        }
        char_pos += chars.len();
        byte_pos = span.byte_end;
    }
    tokens
}

/// The index keys of [`analyze`] without building its [`Token`]s: for every token in order, its
/// key and then its alternative key, each with the token's byte span and position
/// (`emit(byte_start, byte_end, position, key)`). What a tokenizer needs, at a fraction of the
/// cost (no offsets in code points, no copies of `norm`); `KeyTokenizer` is built on it, and a
/// test holds it equal to [`analyze`].
pub fn for_each_key(lang: Lang, text: &str, mut emit: impl FnMut(usize, usize, usize, &str)) {
    let spans: Vec<Span> = spans(text).collect();
    WORD_CACHE.with(|cache| cache.borrow().warm(lang, text, &spans));
    let mut position = 0usize;
    for span in spans {
        let surface = &text[span.byte_start..span.byte_end];
        if span.han {
            for word in JIEBA.cut(surface, true) {
                let norm = han_fold(word.word);
                if norm.chars().all(|c| !c.is_alphanumeric()) {
                    continue;
                }
                let (b0, b1) = (
                    span.byte_start + word.byte_start,
                    span.byte_start + word.byte_end,
                );
                emit(b0, b1, position, &norm);
                position += 1;
            }
            continue;
        }
        if emit_word_keys(lang, text, &span, position, &mut emit) {
            position += 1;
        }
    }
}

/// The key and alternative key of the word at `span` (not Han), through `emit`; false when the
/// word gives no token.
fn emit_word_keys(
    lang: Lang,
    text: &str,
    span: &Span,
    position: usize,
    emit: &mut impl FnMut(usize, usize, usize, &str),
) -> bool {
    with_normalised(lang, &text[span.byte_start..span.byte_end], |n| {
        let Some((_, key, alt)) = n else {
            return false;
        };
        emit(span.byte_start, span.byte_end, position, key);
        if let Some(alt) = alt {
            emit(span.byte_start, span.byte_end, position, alt);
        }
        true
    })
}

/// The keys of [`zh_bigrams`] the way [`for_each_key`] gives those of [`analyze`].
pub fn for_each_bigram_key(text: &str, mut emit: impl FnMut(usize, usize, usize, &str)) {
    let mut position = 0usize;
    for span in spans(text) {
        let surface = &text[span.byte_start..span.byte_end];
        if span.han {
            let chars: Vec<usize> = surface.char_indices().map(|(b, _)| b).collect();
            let n = chars.len();
            let windows = if n == 1 { 1 } else { n - 1 };
            for i in 0..windows {
                let w = (i + 2).min(n);
                let b0 = span.byte_start + chars[i];
                let b1 = chars.get(w).map_or(span.byte_end, |&b| span.byte_start + b);
                let bigram = &text[b0..b1];
                if bigram.chars().all(|c| matches!(c as u32, 0x4E00..=0x9FFF)) {
                    emit(b0, b1, position, bigram);
                } else {
                    emit(b0, b1, position, &han_fold(bigram));
                }
                position += 1;
            }
        } else if emit_word_keys(Lang::Zh, text, &span, position, &mut emit) {
            position += 1;
        }
    }
}

/// Calls `f` with the normalisation of one word from this thread's [`WordCache`] (computing and
/// keeping it on a miss), by reference: what [`normalise_cached`] returns, without the copies.
fn with_normalised<R>(lang: Lang, surface: &str, f: impl FnOnce(Option<NormRef<'_>>) -> R) -> R {
    WORD_CACHE.with(|cache| cache.borrow_mut().with(lang, surface, f))
}

/// The (norm, key, alt) of one word.
type Normalised = (String, String, Option<String>);

/// A [`Normalised`] by reference.
type NormRef<'a> = (&'a str, &'a str, Option<&'a str>);

thread_local! {
    static WORD_CACHE: std::cell::RefCell<WordCache> = std::cell::RefCell::new(WordCache::default());
}

/// [`normalise_word`] through this thread's [`WordCache`].
fn normalise_cached(lang: Lang, surface: &str) -> Option<Normalised> {
    with_normalised(lang, surface, |n| {
        n.map(|(norm, key, alt)| (norm.to_string(), key.to_string(), alt.map(str::to_string)))
    })
}

/// Words normalised so far on one thread: texts repeat their words, and a word's normalisation
/// (NFKC, case folding, stemming) costs far more than looking it up. Laid out for the lookup,
/// which indexing does for every word: an open-addressing table of [`CacheSlot`]s (hash and
/// lengths inline), and every word's surface, norm, key and alternative key one after the other
/// in one buffer, so a hit reads the table and one place of the buffer. Bounded: the cache starts
/// again empty when it holds [`WORD_CACHE_WORDS`] words or [`WORD_CACHE_BYTES`] bytes.
#[derive(Default)]
struct WordCache {
    /// Surface, norm, key and alternative key of every word, one after the other.
    bytes: String,
    /// A power of two of slots, at least twice the words, probed linearly from the hash.
    slots: Vec<CacheSlot>,
    /// Words held.
    words: usize,
}

/// One word of a [`WordCache`]: a hash of its language and surface (0: a free slot), where its
/// texts start in the buffer, and their lengths (surface, norm, key, alt; [`NO_TEXT`] as the
/// norm's length when the word gives no token, as the alt's when it has none).
#[derive(Debug, Clone, Copy, Default)]
struct CacheSlot {
    hash: u64,
    start: u32,
    lens: [u16; 4],
}

const WORD_CACHE_WORDS: usize = 1 << 17;
const WORD_CACHE_BYTES: usize = 16 << 20;
/// A missing text in a [`CacheSlot`].
const NO_TEXT: u16 = u16::MAX;

impl WordCache {
    fn with<R>(
        &mut self,
        lang: Lang,
        surface: &str,
        f: impl FnOnce(Option<NormRef<'_>>) -> R,
    ) -> R {
        if self.slots.len() < 2 * (self.words + 1) {
            self.grow();
        }
        let hash = word_hash(lang, surface);
        let mask = self.slots.len() - 1;
        let mut i = (hash as usize) & mask;
        loop {
            let slot = self.slots[i];
            if slot.hash == 0 {
                break;
            }
            if slot.hash == hash {
                let start = slot.start as usize;
                let end = start + usize::from(slot.lens[0]);
                if &self.bytes[start..end] == surface {
                    return f(self.texts(slot));
                }
            }
            i = (i + 1) & mask;
        }
        let out = normalise_word(lang, surface);
        let fits = |s: &str| s.len() < usize::from(NO_TEXT);
        let storable = fits(surface)
            && out
                .as_ref()
                .is_none_or(|(n, k, a)| fits(n) && fits(k) && a.as_deref().is_none_or(fits));
        if !storable {
            return f(out
                .as_ref()
                .map(|(n, k, a)| (n.as_str(), k.as_str(), a.as_deref())));
        }
        if self.words >= WORD_CACHE_WORDS || self.bytes.len() >= WORD_CACHE_BYTES {
            self.bytes.clear();
            self.slots.fill(CacheSlot::default());
            self.words = 0;
            i = (hash as usize) & mask;
        }
        let start = self.bytes.len();
        self.bytes.push_str(surface);
        let mut lens = [surface.len() as u16, NO_TEXT, NO_TEXT, NO_TEXT];
        if let Some((norm, key, alt)) = &out {
            self.bytes.push_str(norm);
            self.bytes.push_str(key);
            lens[1] = norm.len() as u16;
            lens[2] = key.len() as u16;
            if let Some(alt) = alt {
                self.bytes.push_str(alt);
                lens[3] = alt.len() as u16;
            }
        }
        let slot = CacheSlot {
            hash,
            start: start as u32,
            lens,
        };
        self.slots[i] = slot;
        self.words += 1;
        f(self.texts(slot))
    }

    /// Reads the slot of every word of `spans` (not Han), and the surface of the words found
    /// there, before any is looked up: the table and the buffer are far larger than the
    /// processor's caches, and reads that do not wait for each other overlap, so the lookups
    /// that follow find them cached instead of waiting for memory one word at a time.
    fn warm(&self, lang: Lang, text: &str, spans: &[Span]) {
        if self.slots.is_empty() {
            return;
        }
        let mask = self.slots.len() - 1;
        let mut touched = 0u64;
        for span in spans.iter().filter(|s| !s.han) {
            let hash = word_hash(lang, &text[span.byte_start..span.byte_end]);
            let slot = self.slots[(hash as usize) & mask];
            if slot.hash == hash {
                touched ^= u64::from(self.bytes.as_bytes()[slot.start as usize]);
            }
        }
        std::hint::black_box(touched);
    }

    /// Doubles the table (1,024 slots at first), keeping the words.
    fn grow(&mut self) {
        let size = (2 * self.slots.len()).max(1024);
        let old = std::mem::replace(&mut self.slots, vec![CacheSlot::default(); size]);
        for slot in old.into_iter().filter(|s| s.hash != 0) {
            let mut i = (slot.hash as usize) & (size - 1);
            while self.slots[i].hash != 0 {
                i = (i + 1) & (size - 1);
            }
            self.slots[i] = slot;
        }
    }

    /// The norm, key and alternative key of a stored word.
    fn texts(&self, slot: CacheSlot) -> Option<NormRef<'_>> {
        if slot.lens[1] == NO_TEXT {
            return None;
        }
        let mut at = slot.start as usize + usize::from(slot.lens[0]);
        let mut next = |len: u16| {
            let text = &self.bytes[at..at + usize::from(len)];
            at += usize::from(len);
            text
        };
        let norm = next(slot.lens[1]);
        let key = next(slot.lens[2]);
        let alt = (slot.lens[3] != NO_TEXT).then(|| next(slot.lens[3]));
        Some((norm, key, alt))
    }
}

/// The hash of a word in a [`WordCache`] (never 0, which marks a free slot).
fn word_hash(lang: Lang, surface: &str) -> u64 {
    use std::hash::Hasher;
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write_u8(lang as u8);
    hasher.write(surface.as_bytes());
    hasher.finish().max(1)
}

/// The (norm, key, alt) of one word span, or `None` when nothing of it is left.
fn normalise_word(lang: Lang, surface: &str) -> Option<Normalised> {
    let mut word = search_fold(surface);
    if word.chars().any(is_apostrophe) {
        word = word.replace(['\u{2019}', '\u{02BC}'], "'");
    }
    let out = match lang {
        Lang::En => {
            let w = word
                .strip_suffix("'s")
                .or_else(|| word.strip_suffix('\''))
                .unwrap_or(&word);
            latin(&STEM_EN, w)
        }
        Lang::Fr => {
            let w = match word.split_once('\'') {
                Some((head, tail)) if FR_ELISIONS.contains(&head) && !tail.is_empty() => tail,
                _ => &word,
            };
            latin(&STEM_FR, w)
        }
        Lang::Es => latin(&STEM_ES, &word),
        Lang::Ru => {
            let w: String = word
                .chars()
                .filter(|c| !matches!(c, '\u{0300}' | '\u{0301}'))
                .map(|c| if c == 'ё' { 'е' } else { c })
                .collect();
            let key = russian_stem(&w);
            (w, key, None)
        }
        Lang::Ar => {
            let norm = arabic::normalise(&word);
            if norm.is_empty() {
                return None;
            }
            let light = arabic::strip_proclitics(&norm);
            let key = STEM_AR.stem(light).into_owned();
            let key = if key.is_empty() {
                light.to_string()
            } else {
                key
            };
            (norm, key, None)
        }
        Lang::Zh | Lang::Other => (word.clone(), word, None),
    };
    if out.0.is_empty() {
        return None;
    }
    Some(out)
}

/// Snowball's Russian stem, then any vowel or soft sign left at its end (keeping 3 letters), so
/// the cases of one noun meet: Snowball leaves `ассамбле` for *Ассамблея* and `ассамбл` for
/// *Ассамблеи*.
fn russian_stem(word: &str) -> String {
    let mut stem = STEM_RU.stem(word).into_owned();
    while stem.chars().count() > 3
        && stem
            .chars()
            .next_back()
            .is_some_and(|c| "аеиоуыэюяьй".contains(c))
    {
        stem.pop();
    }
    stem
}

/// Latin-script pipeline: stem, then fold diacritics; a second key from stemming the folded form.
fn latin(stemmer: &Stemmer, word: &str) -> (String, String, Option<String>) {
    let norm = fold_diacritics(word);
    let mut key = fold_diacritics(&stemmer.stem(word));
    if key.is_empty() {
        // the stemmer took every letter (a lone mark before `s`): the word is its own key
        key = norm.clone();
    }
    let alt = if norm != word {
        let k = stemmer.stem(&norm).into_owned();
        (k != key && !k.is_empty()).then_some(k)
    } else {
        None
    };
    (norm, key, alt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_code_points_into_the_original() {
        let text = "Ханойская  конвенция, l’État";
        let tokens = analyze(Lang::Fr, text);
        for t in &tokens {
            let by_chars: String = text.chars().skip(t.start).take(t.end - t.start).collect();
            assert_eq!(by_chars, &text[t.byte_start..t.byte_end]);
        }
        assert_eq!(tokens.len(), 3);
        assert_eq!(tokens[2].norm, "etat");
    }

    #[test]
    fn han_runs_inside_other_text() {
        let tokens = analyze(Lang::Zh, "打击网络犯罪（2024年）");
        let norms: Vec<&str> = tokens.iter().map(|t| t.norm.as_str()).collect();
        assert!(
            norms.contains(&"网络犯罪") || norms.contains(&"网络"),
            "{norms:?}"
        );
        assert!(norms.contains(&"2024"), "{norms:?}");
        let bigrams: Vec<String> = zh_bigrams("联合国宪章")
            .into_iter()
            .map(|t| t.key)
            .collect();
        assert_eq!(bigrams, ["联合", "合国", "国宪", "宪章"]);
        let one: Vec<String> = zh_bigrams("法").into_iter().map(|t| t.key).collect();
        assert_eq!(one, ["法"]);
    }

    #[test]
    fn fast_paths_agree_with_the_definitions() {
        let texts = [
            "Convention  de HANOÏ",
            "Hano\u{0069}\u{0308}",
            "STRASSE Straße ﬁnance",
            "ΟΔΥΣΣΕΥΣ ς",
            "Ａｂｃ　ＤＥＦ",
            "Å\u{030A} e\u{0301}tat",
            "Совет  Безопасности\n",
            "الأمم المتحدة",
            "联合国宪章 UN",
            "",
            "   ",
            "\u{0390} \u{1FD3} ΐ",
            "W\u{030A} w\u{030A} İSTANBUL ǰ J\u{030C}",
            "\u{0B}a\u{A0}B\u{2003}c\u{85}\u{3000}Д ",
            "ẞ ﬀ Ǆ ǅ",
            "الأمم \u{0628}\u{0651}\u{064E} \u{0628}\u{064E}\u{0651}",
        ];
        for text in texts {
            let slow_exact: String =
                caseless::default_case_fold_str(&text.nfc().collect::<String>())
                    .nfc()
                    .collect::<String>()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
            assert_eq!(exact_key(text), slow_exact, "{text:?}");
            assert_eq!(nfc(text), text.nfc().collect::<String>(), "{text:?}");
            let compat: String = text.nfkc().collect();
            let slow_fold: String = caseless::default_case_fold_str(&compat).nfkc().collect();
            assert_eq!(search_fold(text), slow_fold, "{text:?}");
            // the cached normalisation of every word is what it was the first time
            for lang in Lang::ALL {
                let first = analyze(lang, text);
                assert_eq!(analyze(lang, text), first);
                for t in first {
                    let surface = &text[t.byte_start..t.byte_end];
                    if let Some((norm, key, alt)) = normalise_word(lang, surface) {
                        assert_eq!((t.norm, t.key, t.alt), (norm, key, alt), "{surface:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn case_fold_agrees_with_unicode() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let one = c.to_string();
            assert_eq!(case_fold(&one), caseless::default_case_fold_str(&one));
        }
    }

    /// The spans as first written, over a vector of the characters: [`spans`] must find the same.
    fn spans_by_chars(text: &str) -> Vec<(usize, usize, bool)> {
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let (b, c) = chars[i];
            if is_han(c) {
                let mut j = i + 1;
                while j < chars.len() && is_han(chars[j].1) {
                    j += 1;
                }
                out.push((b, chars.get(j).map_or(text.len(), |&(b, _)| b), true));
                i = j;
                continue;
            }
            if !is_word_char(c) {
                i += 1;
                continue;
            }
            let mut j = i + 1;
            while j < chars.len() {
                let c = chars[j].1;
                if is_word_char(c) {
                    j += 1;
                    continue;
                }
                let c = compat(c);
                let joins = j + 1 < chars.len() && is_word_char(chars[j + 1].1) && {
                    let prev = chars[j - 1].1;
                    let next = chars[j + 1].1;
                    (is_apostrophe(c) && prev.is_alphabetic() && next.is_alphabetic())
                        || ((c == '.' || c == ',') && prev.is_numeric() && next.is_numeric())
                };
                if joins {
                    j += 2;
                } else {
                    break;
                }
            }
            out.push((b, chars.get(j).map_or(text.len(), |&(b, _)| b), false));
            i = j;
        }
        out
    }

    #[test]
    fn spans_agree_with_the_character_vector_reading() {
        let mut texts: Vec<String> = [
            "l'Organisation d\u{2019}État's '' a'b' 2.500,75 ０．４ 1.a a.1 x,",
            "联合国宪章UN２０２４年，《公约》 々〇 あア",
            "Hano\u{0069}\u{0308}-Ханойская  конвенция\u{200D}; الأمم المتحدة ـ ١٢",
            "'a '1 1' .5 5. ,, a'",
            "",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        let devset =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/unpc-devset");
        for lang in ["ar", "en", "es", "fr", "ru", "zh"] {
            if let Ok(file) = std::fs::read_to_string(devset.join(format!("UNv1.0.devset.{lang}")))
            {
                texts.extend(file.lines().take(500).map(str::to_string));
            }
        }
        for text in &texts {
            let found: Vec<(usize, usize, bool)> = spans(text)
                .map(|s| (s.byte_start, s.byte_end, s.han))
                .collect();
            assert_eq!(found, spans_by_chars(text), "{text:?}");
        }
    }

    #[test]
    fn full_width_punctuation_splits_as_ascii() {
        let keys = |text| -> Vec<String> {
            let tokens = analyze(Lang::Zh, text);
            tokens.into_iter().map(|t| t.key).collect()
        };
        assert_eq!(keys("增加了０．４％"), keys("增加了0.4%"));
        assert_eq!(keys("０．４"), ["0.4"]);
        assert_eq!(keys("１１２．接管"), ["112", "接管"]);
    }
}
