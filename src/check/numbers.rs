//! Numbers in any script, normalised so that `2 500`, `2,500`, `2.500`, `٢٥٠٠` and `２５００`
//! compare equal.
//!
//! A number is a run of decimal digits (ASCII, full width, Arabic-Indic, Persian, Devanagari and
//! the other Unicode decimal digit blocks listed in [`digit_value`]) with group and decimal
//! separators between digits:
//!
//! - a space (any width, no-break included), `'`, `’` or the Arabic thousands separator `٬` joins
//!   groups only when exactly three digits follow and the first group has at most three;
//! - `.` and `,` (ASCII or full width): when both occur, the last one is the decimal mark; a
//!   separator that occurs twice or more groups thousands; a single one followed by exactly three
//!   digits groups thousands (`2,500` = `2.500` = 2500, as the six languages' conventions all read
//!   them); otherwise it is the decimal mark (`0.4` = `0,4`); the Arabic decimal separator `٫` is
//!   always the decimal mark.
//!
//! The value is written canonically: integer digits without leading zeros, then `.` and the
//! fraction without trailing zeros when there is one.

/// A number found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    /// Code-point offset of the first digit.
    pub start: usize,
    /// Code-point offset one past the last digit.
    pub end: usize,
    /// Canonical value (`2500`, `0.4`).
    pub value: String,
}

/// The value of a decimal digit in any of the common scripts.
pub fn digit_value(c: char) -> Option<u8> {
    const ZEROS: &[u32] = &[
        0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66,
        0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x17E0, 0x1810, 0xFF10,
    ];
    let cp = c as u32;
    ZEROS
        .iter()
        .find(|&&z| cp >= z && cp < z + 10)
        .map(|&z| (cp - z) as u8)
}

fn is_space_group(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{00A0}' | '\u{2009}' | '\u{202F}' | '\u{2007}' | '\'' | '\u{2019}' | '\u{066C}'
    )
}

fn point_or_comma(c: char) -> Option<char> {
    match c {
        '.' | '\u{FF0E}' => Some('.'),
        ',' | '\u{FF0C}' | '\u{060C}' => Some(','),
        '\u{066B}' => Some('d'),
        _ => None,
    }
}

/// Every number in `text`, in order.
pub fn numbers(text: &str) -> Vec<Number> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if digit_value(chars[i]).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        // groups of digits and the separator before each group after the first
        let mut groups: Vec<String> = Vec::new();
        let mut seps: Vec<char> = Vec::new();
        let mut j = i;
        loop {
            let mut g = String::new();
            while j < chars.len() {
                match digit_value(chars[j]) {
                    Some(d) => g.push((b'0' + d) as char),
                    None => break,
                }
                j += 1;
            }
            groups.push(g);
            // a separator followed by a digit continues the number
            if j + 1 < chars.len() && digit_value(chars[j + 1]).is_some() {
                let c = chars[j];
                let next_len = chars[j + 1..]
                    .iter()
                    .take_while(|c| digit_value(**c).is_some())
                    .count();
                if is_space_group(c) {
                    let first_ok = groups[0].len() <= 3;
                    let only_spaces = seps.iter().all(|s| *s == ' ');
                    if next_len == 3 && first_ok && only_spaces {
                        seps.push(' ');
                        j += 1;
                        continue;
                    }
                } else if let Some(p) = point_or_comma(c) {
                    seps.push(p);
                    j += 1;
                    continue;
                }
            }
            break;
        }
        out.push(Number {
            start,
            end: j,
            value: canonical(&groups, &seps),
        });
        i = j;
    }
    out
}

/// The canonical value of digit groups and the separators between them.
fn canonical(groups: &[String], seps: &[char]) -> String {
    let decimal_at = decimal_position(groups, seps);
    let (int, frac) = match decimal_at {
        Some(k) => (groups[..=k].concat(), groups[k + 1..].concat()),
        None => (groups.concat(), String::new()),
    };
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    }
}

/// Which separator (index into `seps`) is the decimal mark, if any.
fn decimal_position(groups: &[String], seps: &[char]) -> Option<usize> {
    if let Some(k) = seps.iter().position(|&s| s == 'd') {
        return Some(k);
    }
    let last = seps.len().checked_sub(1)?;
    let kind = seps[last];
    if kind == ' ' {
        return None;
    }
    let other = if kind == '.' { ',' } else { '.' };
    if seps.contains(&other) {
        return Some(last);
    }
    if seps.iter().filter(|&&s| s == kind).count() >= 2 {
        return None;
    }
    let after = &groups[last + 1];
    let grouped = after.len() == 3 && groups[0].len() <= 3 && !groups[0].starts_with('0');
    if grouped {
        None
    } else {
        Some(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<String> {
        numbers(text).into_iter().map(|n| n.value).collect()
    }

    #[test]
    fn every_script_and_grouping() {
        for text in [
            "2 500",
            "2,500",
            "2.500",
            "٢٥٠٠",
            "２５００",
            "2\u{202F}500",
            "۲۵۰۰",
            "2500",
        ] {
            assert_eq!(values(text), ["2500"], "{text}");
        }
        assert_eq!(values("0.4 0,4 ０．４"), ["0.4", "0.4", "0.4"]);
        assert_eq!(values("1,234,567.5"), ["1234567.5"]);
        assert_eq!(values("1.234.567,5"), ["1234567.5"]);
        assert_eq!(values("٣٫٥"), ["3.5"]);
        assert_eq!(values("in 2024 500 people"), ["2024", "500"]);
        assert_eq!(values("A/RES/70/1"), ["70", "1"]);
        let n = &numbers("total: 2 500.")[0];
        assert_eq!((n.start, n.end), (7, 12));
    }
}
