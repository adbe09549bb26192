//! The analysis pipeline as tantivy tokenizers, so the index holds exactly the keys of [`analyze`].

use tantivy::tokenizer::{
    PreTokenizedString, Token as TantivyToken, TokenStream, Tokenizer, TokenizerManager,
};

#[cfg(doc)]
use super::{analyze, zh_bigrams};
use super::{for_each_bigram_key, for_each_key, Lang, Token};

/// Which token stream of a language a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Analysis {
    /// Words (for Chinese: dictionary segmentation), stemmed keys plus alternative keys.
    Words,
    /// Chinese character bigrams.
    Bigrams,
}

/// Name under which the tokenizer of `lang` and `analysis` is registered.
pub fn tokenizer_name(lang: Lang, analysis: Analysis) -> String {
    match analysis {
        Analysis::Words => format!("hx_{}", lang.code()),
        Analysis::Bigrams => format!("hx_{}_bigram", lang.code()),
    }
}

/// Registers every language's tokenizer ([`KeyTokenizer`]). Tantivy does not store tokenizers
/// with the index, so this runs after every open.
pub fn register_tokenizers(manager: &TokenizerManager) {
    for lang in Lang::ALL {
        manager.register(
            &tokenizer_name(lang, Analysis::Words),
            KeyTokenizer {
                lang,
                analysis: Analysis::Words,
            },
        );
    }
    manager.register(
        &tokenizer_name(Lang::Zh, Analysis::Bigrams),
        KeyTokenizer {
            lang: Lang::Zh,
            analysis: Analysis::Bigrams,
        },
    );
}

/// What the registered tokenizer makes of `text`, from the analysis already done: `tokens` is
/// [`analyze`] of `text` in the tokenizer's language (or [`zh_bigrams`] of it for
/// [`Analysis::Bigrams`]), as tantivy's pre-tokenised string: exactly the same tokens (same keys,
/// positions and offsets). The reference the termbase's pre-analysed values
/// (`store::write_pre_analysed`) and the tokenizers are tested against.
pub fn pre_tokenized(text: &str, tokens: &[Token]) -> PreTokenizedString {
    let mut out = Vec::with_capacity(tokens.len() + tokens.len() / 2);
    for t in tokens {
        for key in t.keys() {
            out.push(TantivyToken {
                offset_from: t.byte_start,
                offset_to: t.byte_end,
                position: t.position,
                text: key.to_string(),
                position_length: 1,
            });
        }
    }
    PreTokenizedString {
        text: text.to_string(),
        tokens: out,
    }
}

/// A tantivy tokenizer giving the keys of [`analyze`] (or [`zh_bigrams`]) — the tokens
/// [`pre_tokenized`] makes of that analysis, same texts, positions and byte offsets, in the same
/// order — from [`for_each_key`] / [`for_each_bigram_key`]: no [`super::Token`]s, and all keys of
/// a text in one buffer, so a text costs a few allocations instead of several a word.
#[derive(Debug, Clone, Copy)]
pub struct KeyTokenizer {
    /// Language pipeline.
    pub lang: Lang,
    /// Words or bigrams.
    pub analysis: Analysis,
}

/// The keys of one text, handed out one by one through a single reused token.
pub struct KeyTokenStream {
    /// Every key, one after the other.
    keys: String,
    /// Per token: byte start and end in the text, position, end of its key in `keys`.
    spans: Vec<(usize, usize, usize, usize)>,
    next: usize,
    token: TantivyToken,
}

impl Tokenizer for KeyTokenizer {
    type TokenStream<'a> = KeyTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> KeyTokenStream {
        let mut keys = String::with_capacity(text.len() + text.len() / 4);
        let mut spans = Vec::with_capacity(text.len() / 5);
        let mut push = |from: usize, to: usize, position: usize, key: &str| {
            keys.push_str(key);
            spans.push((from, to, position, keys.len()));
        };
        match self.analysis {
            Analysis::Words => for_each_key(self.lang, text, &mut push),
            Analysis::Bigrams => for_each_bigram_key(text, &mut push),
        }
        KeyTokenStream {
            keys,
            spans,
            next: 0,
            token: TantivyToken::default(),
        }
    }
}

impl TokenStream for KeyTokenStream {
    fn advance(&mut self) -> bool {
        let Some(&(from, to, position, end)) = self.spans.get(self.next) else {
            return false;
        };
        let start = match self.next {
            0 => 0,
            i => self.spans[i - 1].3,
        };
        self.next += 1;
        self.token.offset_from = from;
        self.token.offset_to = to;
        self.token.position = position;
        self.token.position_length = 1;
        self.token.text.clear();
        self.token.text.push_str(&self.keys[start..end]);
        true
    }

    fn token(&self) -> &TantivyToken {
        &self.token
    }

    fn token_mut(&mut self) -> &mut TantivyToken {
        &mut self.token
    }
}
