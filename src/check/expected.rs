//! Expected terms: where the source of a segment names a concept and the recogniser found none of
//! its terms in the target, the target is searched again for that concept alone, the way a
//! reviser who knows what to look for reads it. Three renderings count there that the recogniser
//! never accepts on its own, because alone they could name something else:
//!
//! - **a short form** of the concept (term type [`SHORT_FORM`]: *le Conseil* for the Security
//!   Council, *l'Organisation* for the United Nations), written with the termbase's case, outside
//!   every term the recogniser found, and not followed at once by a capitalised word (then it
//!   begins another name: *Asamblea Mundial de la Salud*);
//! - **a term inside a longer term** of a concept the source does not name (*Организации
//!   Объединенных Наций* inside *системы Организации Объединенных Наций*, the United Nations
//!   system, for a source that says *United Nations entities*);
//! - **a term with up to [`MAX_INSERTED`] words inserted** between its words (*Ministère
//!   ukrainien des affaires étrangères*, Arabic construct state *فريق الخبراء العامل*, *вступления
//!   Договора в силу*), with no punctuation but hyphens, dashes and apostrophes in between, and
//!   none of its words inside a term the recogniser found.
//!
//! The search is the recogniser's own ([`TermRecognizer::find_concept`],
//! [`TermRecognizer::find_spread`]), on the pieces it made of the target, so inflection, clitics,
//! elision and spelling allowances are the same as everywhere.

use super::recognizer::{Occurrence, TermRecognizer};
use crate::lang::is_apostrophe;
use crate::model::TermStatus;

/// Most words a discontinuous rendering may have between the words of the term, in all.
pub const MAX_INSERTED: usize = 2;

/// How an expected term was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FoundAs {
    /// A short form of the concept.
    ShortForm,
    /// A term of the concept inside a longer term of another concept.
    WithinTerm,
    /// A term of the concept with words inserted between its words.
    Discontinuous,
}

/// A term of an expected concept found in a target.
#[derive(Debug, Clone)]
pub struct ExpectedHit {
    /// The span; `concept` is the concept's index in the recogniser.
    pub occurrence: Occurrence,
    /// The termbase term found.
    pub term: String,
    /// Its status.
    pub status: TermStatus,
    /// How it was found.
    pub found_as: FoundAs,
}

/// The bytes of a text that the recogniser's spans cover: all of them, and those of spans one of
/// whose concepts the source names (taken), as counts of the bytes before each offset, so
/// whether a span of the text overlaps them is two reads (it is asked for every word of the text
/// and every term of each concept looked for; reading the occurrences each time made long
/// segments quadratic).
#[derive(Debug)]
pub struct Coverage {
    any: Vec<u32>,
    taken: Vec<u32>,
}

impl Coverage {
    /// The coverage of a text of `len` bytes where the recogniser found `found` (every concept)
    /// and the source names the concepts `named` says.
    pub fn new(len: usize, found: &[Occurrence], named: &dyn Fn(u32) -> bool) -> Coverage {
        let (mut any, mut taken) = (vec![false; len], vec![false; len]);
        for f in found {
            let is_named = named(f.concept);
            for b in f.byte_start..f.byte_end.min(len) {
                any[b] = true;
                taken[b] |= is_named;
            }
        }
        let counts = |marks: Vec<bool>| {
            let mut out = Vec::with_capacity(len + 1);
            let mut n = 0u32;
            out.push(0);
            for m in marks {
                n += u32::from(m);
                out.push(n);
            }
            out
        };
        Coverage {
            any: counts(any),
            taken: counts(taken),
        }
    }

    /// Whether `a..b` overlaps a span of the recogniser's (`only_taken`: a taken one).
    fn overlaps(&self, a: usize, b: usize, only_taken: bool) -> bool {
        let counts = if only_taken { &self.taken } else { &self.any };
        let at = |i: usize| counts[i.min(counts.len() - 1)];
        at(b) > at(a)
    }
}

/// A term of `concept` in `text` of `lang`, whose [`Coverage`] by the recogniser's spans is
/// `covered`.
pub fn expected_term(
    recognizer: &TermRecognizer,
    lang: &str,
    concept: u32,
    text: &str,
    covered: &Coverage,
) -> Option<ExpectedHit> {
    let overlaps = |a: usize, b: usize, only_taken: bool| covered.overlaps(a, b, only_taken);
    for m in recognizer.find_concept(lang, text, concept) {
        let o = &m.occurrence;
        let found_as = if m.short_form {
            // a short form in another term is a word of that term (le Conseil économique et
            // social); written in other case it is a common noun (un conseil)
            let written = &text[o.byte_start..o.byte_end];
            let ok = same_initial_case(written, m.term.text)
                && !overlaps(o.byte_start, o.byte_end, false)
                && !name_goes_on(&text[o.byte_end..]);
            ok.then_some(FoundAs::ShortForm)
        } else {
            (!overlaps(o.byte_start, o.byte_end, true)).then_some(FoundAs::WithinTerm)
        };
        if let Some(found_as) = found_as {
            return Some(ExpectedHit {
                occurrence: m.occurrence.clone(),
                term: m.term.text.to_string(),
                status: m.term.status,
                found_as,
            });
        }
    }
    let blocked = |a: usize, b: usize| overlaps(a, b, false);
    let m = recognizer.find_spread(lang, text, concept, MAX_INSERTED, &blocked)?;
    Some(ExpectedHit {
        occurrence: m.occurrence,
        term: m.term.text.to_string(),
        status: m.term.status,
        found_as: FoundAs::Discontinuous,
    })
}

/// Whether the first letters of `written` (after an elided article: *l'Organisation*) and of
/// `term` are both capitals or both not. Upper case elsewhere does not matter (*СОВЕТ* in a
/// heading), nor does a script without case.
fn same_initial_case(written: &str, term: &str) -> bool {
    let initial = |s: &str| {
        let word = s.rsplit(is_apostrophe).next().unwrap_or(s);
        word.chars().find(|c| c.is_alphabetic())
    };
    match (initial(written), initial(term)) {
        (Some(a), Some(b)) => a.is_uppercase() == b.is_uppercase(),
        _ => true,
    }
}

/// Whether a capitalised word follows at once: the short form is then the start of another
/// name (*Asamblea Mundial de la Salud*, *Совета Европы*).
fn name_goes_on(after: &str) -> bool {
    let rest = after.trim_start_matches([' ', '\u{a0}']);
    rest.len() < after.len() && rest.chars().next().is_some_and(char::is_uppercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn occurrence(byte_start: usize, byte_end: usize, concept: u32) -> Occurrence {
        Occurrence {
            start: byte_start,
            end: byte_end,
            byte_start,
            byte_end,
            concept,
            term: 0,
            variant: None,
        }
    }

    #[test]
    fn coverage_tells_the_spans_a_range_overlaps() {
        // two concepts share 0..5; 10..14 is concept 3's, which the source does not name
        let found = [
            occurrence(0, 5, 1),
            occurrence(0, 5, 2),
            occurrence(10, 14, 3),
        ];
        let covered = Coverage::new(20, &found, &|c| c == 2);
        for (a, b, any, taken) in [
            (0, 1, true, true),
            (4, 6, true, true),
            (5, 10, false, false),
            (6, 12, true, false),
            (13, 20, true, false),
            (14, 20, false, false),
            (0, 20, true, true),
        ] {
            assert_eq!(covered.overlaps(a, b, false), any, "{a}..{b}");
            assert_eq!(covered.overlaps(a, b, true), taken, "{a}..{b} taken");
        }
    }
}
