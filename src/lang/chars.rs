//! The character classes the analysis asks about for every character of every text, answered
//! for the Basic Multilingual Plane from one table of flags worked out once from the Unicode
//! definitions (a byte a character: a load instead of a chain of range tests or a general
//! lookup); characters beyond it are worked out each time.

use std::sync::LazyLock;

use unicode_normalization::char::{canonical_combining_class, is_combining_mark};
use unicode_normalization::{is_nfc_quick, IsNormalized};

/// NFC keeps the character in any context: quick check Yes, canonical combining class 0.
const NFC_INERT: u8 = 1;
/// Part of a word ([`is_word_char`]).
const WORD: u8 = 2;
/// Han or kana ([`is_han`]).
const HAN: u8 = 4;
/// Full case folding leaves the character as it is.
const FOLD_INERT: u8 = 8;

static TABLE: LazyLock<Box<[u8]>> = LazyLock::new(|| {
    (0..0x10000u32)
        .map(|i| char::from_u32(i).map_or(0, classes))
        .collect()
});

/// The flags of `c`, from the Unicode definitions.
fn classes(c: char) -> u8 {
    let mut flags = 0;
    if canonical_combining_class(c) == 0 && is_nfc_quick(std::iter::once(c)) == IsNormalized::Yes {
        flags |= NFC_INERT;
    }
    if han_ranges(c) {
        flags |= HAN;
    } else if c.is_alphanumeric() {
        flags |= WORD;
    }
    if is_combining_mark(c) || c == '\u{200C}' || c == '\u{200D}' {
        flags |= WORD;
    }
    let mut folded = caseless::Caseless::default_case_fold(std::iter::once(c));
    if folded.next() == Some(c) && folded.next().is_none() {
        flags |= FOLD_INERT;
    }
    flags
}

#[inline]
fn has(c: char, flag: u8) -> bool {
    let i = c as usize;
    if i < 0x10000 {
        TABLE[i] & flag != 0
    } else {
        classes(c) & flag != 0
    }
}

/// The Han and kana ranges segmented as Chinese runs.
fn han_ranges(c: char) -> bool {
    matches!(c as u32,
        0x3005 | 0x3007 | 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// A character of a Han (or kana) run.
#[inline]
pub(super) fn is_han(c: char) -> bool {
    has(c, HAN)
}

/// A character of a word: alphanumeric (not Han), a combining mark, or a zero-width (non-)joiner.
#[inline]
pub(super) fn is_word_char(c: char) -> bool {
    has(c, WORD)
}

/// A character NFC keeps whatever stands around it (quick check Yes, combining class 0).
#[inline]
pub(super) fn is_nfc_inert(c: char) -> bool {
    has(c, NFC_INERT)
}

/// A character full case folding leaves as it is.
#[inline]
pub(super) fn is_fold_inert(c: char) -> bool {
    has(c, FOLD_INERT)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character, the table's answers and the definitions': the same.
    #[test]
    fn the_table_agrees_with_the_definitions() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let at = format!("U+{:04X}", c as u32);
            let quick = is_nfc_quick(std::iter::once(c)) == IsNormalized::Yes;
            assert_eq!(
                is_nfc_inert(c),
                quick && canonical_combining_class(c) == 0,
                "{at}"
            );
            assert_eq!(is_han(c), han_ranges(c), "{at}");
            let word = (c.is_alphanumeric() && !han_ranges(c))
                || is_combining_mark(c)
                || c == '\u{200C}'
                || c == '\u{200D}';
            assert_eq!(is_word_char(c), word, "{at}");
            let one = c.to_string();
            assert_eq!(
                is_fold_inert(c),
                caseless::default_case_fold_str(&one) == one,
                "{at}"
            );
        }
    }
}
