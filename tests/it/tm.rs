//! The translation memory: scores, fuzzy lookup quality against an exhaustive scan, concordance,
//! imports and the HTTP API end to end.

use hexaglot::lang::Lang;
use hexaglot::search::tm::score;

/// One row: language, query, stored source, expected score (and whether only numbers differ).
fn check_score(lang: Lang, query: &str, stored: &str, expected: u8, number_only: bool) {
    let s = score(lang, query, stored);
    assert_eq!(s.score, expected, "{query:?} vs {stored:?}: {s:?}");
    assert_eq!(s.number_only, number_only, "{query:?} vs {stored:?}: {s:?}");
}

#[test]
fn reference_scores() {
    let cases: &[(Lang, &str, &str, u8, bool)] = &[
        // the reference cases other TM tools agree on
        (Lang::En, "word", "words", 80, false),
        (Lang::En, "word", "wood", 75, false),
        (Lang::En, "Member States", "Member States:", 99, false),
        // identical after whitespace normalisation, and nothing else
        (
            Lang::En,
            "The  Hanoi Convention ",
            "The Hanoi Convention",
            100,
            false,
        ),
        (
            Lang::En,
            "the Hanoi Convention",
            "The Hanoi Convention",
            99,
            false,
        ),
        (
            Lang::Fr,
            "Convention de Hanoi",
            "Convention de Hanoï",
            99,
            false,
        ),
        (Lang::En, "in 2024 and 2025", "in 2023 and 2025", 98, true),
        (Lang::En, "in 2024 and 2026", "in 2023 and 2025", 97, true),
        (Lang::En, "a (b) c", "a ( b ) c", 99, false),
        (Lang::En, "The black cat", "The {1}black{/1} cat", 98, false),
        // one inflected word in a short sentence: about a tenth of a word, capped below 95
        (
            Lang::En,
            "the conventions apply",
            "the convention applies",
            82,
            false,
        ),
        (
            Lang::En,
            "signed the convention",
            "the convention",
            66,
            false,
        ),
        (Lang::Zh, "联合国宪章", "联合国宪章", 100, false),
        (Lang::Zh, "联合国宪章", "联合国宪法", 80, false),
        (
            Lang::Ru,
            "Генеральной Ассамблеи",
            "Генеральная Ассамблея",
            85,
            false,
        ),
        (Lang::En, "", "anything", 0, false),
    ];
    for (lang, query, stored, expected, number_only) in cases {
        check_score(*lang, query, stored, *expected, *number_only);
    }
}
