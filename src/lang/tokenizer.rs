//! The analysis pipeline as tantivy tokenizers, so the index holds exactly the keys of [`analyze`].

use tantivy::tokenizer::{
    PreTokenizedString, Token as TantivyToken, TokenStream, Tokenizer, TokenizerManager,
};

use super::{analyze, zh_bigrams, Lang, Token};

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

/// Registers every language's tokenizer. Tantivy does not store tokenizers with the index, so this
/// runs after every open.
pub fn register_tokenizers(manager: &TokenizerManager) {
    for lang in Lang::ALL {
        manager.register(
            &tokenizer_name(lang, Analysis::Words),
            HexaglotTokenizer {
                lang,
                analysis: Analysis::Words,
            },
        );
    }
    manager.register(
        &tokenizer_name(Lang::Zh, Analysis::Bigrams),
        HexaglotTokenizer {
            lang: Lang::Zh,
            analysis: Analysis::Bigrams,
        },
    );
}

/// A tantivy tokenizer running [`analyze`] (or [`zh_bigrams`]).
#[derive(Debug, Clone, Copy)]
pub struct HexaglotTokenizer {
    /// Language pipeline.
    pub lang: Lang,
    /// Words or bigrams.
    pub analysis: Analysis,
}

/// Precomputed tokens handed out one by one.
pub struct VecTokenStream {
    tokens: Vec<TantivyToken>,
    next: usize,
}

impl Tokenizer for HexaglotTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let analysed = match self.analysis {
            Analysis::Words => analyze(self.lang, text),
            Analysis::Bigrams => zh_bigrams(text),
        };
        let mut tokens = Vec::with_capacity(analysed.len());
        for t in analysed {
            for key in t.keys() {
                tokens.push(TantivyToken {
                    offset_from: t.byte_start,
                    offset_to: t.byte_end,
                    position: t.position,
                    text: key.to_string(),
                    position_length: 1,
                });
            }
        }
        VecTokenStream { tokens, next: 0 }
    }
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &TantivyToken {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut TantivyToken {
        &mut self.tokens[self.next - 1]
    }
}

/// What [`HexaglotTokenizer`] makes of `text`, from the analysis already done: `tokens` is
/// [`analyze`] of `text` in the tokenizer's language (or [`zh_bigrams`] of it for
/// [`Analysis::Bigrams`]). A document indexes this instead of `text` when its builder needs the
/// analysis anyway: the index holds exactly the same tokens (same keys, positions and offsets)
/// without the text being analysed a second time.
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
