//! Language tags and the one analysis pipeline per language.
//!
//! Everything that compares words — term search, the termbase index, and later the checker and the
//! translation-memory matcher — goes through [`analyze`], so what search finds is what check
//! recognises. A [`Token`] keeps code-point and byte offsets into the caller's original text.

mod analyze;
mod arabic;
mod chars;
mod cyrillic;
mod tag;
mod tokenizer;

pub use analyze::{
    analyze, exact_key, fold_diacritics, for_each_bigram_key, for_each_key, for_each_segment,
    for_each_token, into_nfc, is_apostrophe, load_segmenter, nfc, search_fold, zh_bigrams, Segment,
    Token, TokenRef,
};
pub use arabic::strip_proclitics as strip_arabic_proclitics;
pub use cyrillic::fold_latin_lookalikes;
pub use tag::{Lang, LangError, LangTag};
pub use tokenizer::{pre_tokenized, register_tokenizers, tokenizer_name, Analysis, KeyTokenizer};
