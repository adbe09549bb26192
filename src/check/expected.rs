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

/// A term of `concept` in `text` of `lang`, where the recogniser found `found` (every concept, in
/// text order) and the source names the concepts `named` says.
pub fn expected_term(
    recognizer: &TermRecognizer,
    lang: &str,
    concept: u32,
    text: &str,
    found: &[Occurrence],
    named: &dyn Fn(u32) -> bool,
) -> Option<ExpectedHit> {
    // a span of the recogniser's is taken when one of its concepts is named by the source
    let overlaps = |a: usize, b: usize, only_taken: bool| {
        found
            .iter()
            .any(|f| f.byte_start < b && a < f.byte_end && (!only_taken || named(f.concept)))
    };
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
