//! Cyrillic text with Latin look-alike letters typed into its words.

/// A word that mixes Cyrillic letters with Latin letters that look like Cyrillic ones
/// (`cекретаря` with a Latin `c`), written all in Cyrillic; `None` when the word is not mixed.
/// Takes case-folded text (lower case).
pub fn fold_latin_lookalikes(word: &str) -> Option<String> {
    let cyrillic = word.chars().any(|c| matches!(c, '\u{0400}'..='\u{04FF}'));
    if !cyrillic || !word.chars().any(|c| lookalike(c).is_some()) {
        return None;
    }
    // only when every Latin letter of the word has a look-alike: `iphone-ом` stays as it is
    if word
        .chars()
        .any(|c| c.is_ascii_alphabetic() && lookalike(c).is_none())
    {
        return None;
    }
    Some(word.chars().map(|c| lookalike(c).unwrap_or(c)).collect())
}

/// The Cyrillic letter a lower-case Latin letter looks like (in upper or lower case).
fn lookalike(c: char) -> Option<char> {
    Some(match c {
        'a' => 'а',
        'b' => 'в',
        'c' => 'с',
        'e' => 'е',
        'h' => 'н',
        'k' => 'к',
        'm' => 'м',
        'o' => 'о',
        'p' => 'р',
        't' => 'т',
        'x' => 'х',
        'y' => 'у',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_words_only() {
        assert_eq!(
            fold_latin_lookalikes("cекретаря").as_deref(),
            Some("секретаря")
        );
        assert_eq!(fold_latin_lookalikes("секретаря"), None);
        assert_eq!(fold_latin_lookalikes("secretary"), None);
        assert_eq!(fold_latin_lookalikes("iphone-ом"), None);
    }
}
