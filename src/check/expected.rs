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
//! The search uses the recogniser itself (built from the one concept's terms, and from their
//! words one by one), so inflection, clitics, elision and spelling allowances are the same as
//! everywhere.

use std::collections::HashMap;

use super::recognizer::{Occurrence, TermRecognizer};
use crate::model::{Concept, LangSection, Term, TermStatus};

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
    /// The span; `concept` is the concept's index in the main recogniser, `term` is not used.
    pub occurrence: Occurrence,
    /// The termbase term found.
    pub term: String,
    /// Its status.
    pub status: TermStatus,
    /// How it was found.
    pub found_as: FoundAs,
}

/// The expected-term searches of one target language, each concept's built on first use.
pub struct ExpectedTerms<'a> {
    recognizer: &'a TermRecognizer,
    lang: &'a str,
    matchers: HashMap<u32, Option<Matcher>>,
}

/// One concept's terms in one language, ready to be looked for.
struct Matcher {
    /// Its allowed terms and short forms, as one concept.
    whole: TermRecognizer,
    /// Short forms, as the termbase writes them.
    short: Vec<Box<str>>,
    /// The words of its terms of two words or more, each a concept of its own.
    words: TermRecognizer,
    /// Per term of two words or more: its text, status and its words (concepts of `words`).
    phrases: Vec<(Box<str>, TermStatus, Vec<u32>)>,
}

impl<'a> ExpectedTerms<'a> {
    /// Searches in texts of `lang` for the concepts of `recognizer`.
    pub fn new(recognizer: &'a TermRecognizer, lang: &'a str) -> Self {
        ExpectedTerms {
            recognizer,
            lang,
            matchers: HashMap::new(),
        }
    }

    /// A term of `concept` in `text`, where the recogniser found `found` (every concept, in text
    /// order) and the source names `named`.
    pub fn find(
        &mut self,
        concept: u32,
        text: &str,
        found: &[Occurrence],
        named: &dyn Fn(u32) -> bool,
    ) -> Option<ExpectedHit> {
        let (recognizer, lang) = (self.recognizer, self.lang);
        let matcher = self
            .matchers
            .entry(concept)
            .or_insert_with(|| Matcher::build(recognizer, lang, concept))
            .as_ref()?;
        // a span of the recogniser's is taken when one of its concepts is named by the source
        let overlaps = |o: &Occurrence, only_taken: bool| {
            found.iter().any(|f| {
                f.byte_start < o.byte_end
                    && o.byte_start < f.byte_end
                    && (!only_taken || named(f.concept))
            })
        };
        let hit = |o: &Occurrence, term: &str, status, found_as| ExpectedHit {
            occurrence: Occurrence {
                concept,
                ..o.clone()
            },
            term: term.to_string(),
            status,
            found_as,
        };
        for o in matcher.whole.find(lang, text) {
            let t = matcher.whole.term(lang, o.term);
            if matcher.short.iter().any(|s| **s == *t.text) {
                // a short form in another term is a word of that term (le Conseil économique
                // et social); written in other case it is a common noun (un conseil)
                let written = &text[o.byte_start..o.byte_end];
                let after = &text[o.byte_end..];
                if same_initial_case(written, t.text)
                    && !overlaps(&o, false)
                    && !name_goes_on(after)
                {
                    return Some(hit(&o, t.text, t.status, FoundAs::ShortForm));
                }
            } else if !overlaps(&o, true) {
                return Some(hit(&o, t.text, t.status, FoundAs::WithinTerm));
            }
        }
        matcher.discontinuous(lang, text, &|o| overlaps(o, false))
    }
}

impl Matcher {
    fn build(recognizer: &TermRecognizer, lang: &str, concept: u32) -> Option<Matcher> {
        let terms: Vec<(Box<str>, TermStatus)> = recognizer
            .terms_of(lang, concept)
            .into_iter()
            .filter(|t| t.status.is_allowed())
            .map(|t| (t.text.into(), t.status))
            .collect();
        let short = recognizer.short_forms(lang, concept).to_vec();
        if terms.is_empty() && short.is_empty() {
            return None;
        }
        let one = |id: String, terms: Vec<Term>| {
            let mut languages = std::collections::BTreeMap::new();
            let section = LangSection {
                terms,
                ..LangSection::default()
            };
            languages.insert(lang.to_string(), section);
            Concept {
                id,
                collection: String::new(),
                subject: Vec::new(),
                note: None,
                languages,
                tbx_extra: Vec::new(),
                version: 0,
                updated_at: String::new(),
            }
        };
        let all = terms
            .iter()
            .map(|(text, status)| Term::new(text, *status))
            .chain(short.iter().map(|s| Term::new(s, TermStatus::Admitted)));
        let whole = TermRecognizer::build([one(String::new(), all.collect())]);
        // Chinese terms are runs of characters, not words
        let mut vocabulary: Vec<String> = Vec::new();
        let mut phrases = Vec::new();
        if lang != "zh" {
            for (text, status) in &terms {
                let words: Vec<&str> = text
                    .split(|c: char| c.is_whitespace() || is_dash(c))
                    .filter(|w| w.chars().any(char::is_alphanumeric))
                    .collect();
                if words.len() < 2 {
                    continue;
                }
                let ids = words
                    .iter()
                    .map(|w| match vocabulary.iter().position(|v| v == w) {
                        Some(i) => i as u32,
                        None => {
                            vocabulary.push(w.to_string());
                            vocabulary.len() as u32 - 1
                        }
                    })
                    .collect();
                phrases.push((text.clone(), *status, ids));
            }
        }
        let words = TermRecognizer::build(
            vocabulary
                .iter()
                .map(|w| one(w.clone(), vec![Term::new(w, TermStatus::Admitted)])),
        );
        Some(Matcher {
            whole,
            short,
            words,
            phrases,
        })
    }

    /// A term written with words inserted between its words.
    fn discontinuous(
        &self,
        lang: &str,
        text: &str,
        overlaps: &dyn Fn(&Occurrence) -> bool,
    ) -> Option<ExpectedHit> {
        if self.phrases.is_empty() {
            return None;
        }
        let words: Vec<Occurrence> = self
            .words
            .find(lang, text)
            .into_iter()
            .filter(|o| !overlaps(o))
            .collect();
        for (term, status, ids) in &self.phrases {
            for (i, first) in words.iter().enumerate() {
                if first.concept != ids[0] {
                    continue;
                }
                if let Some((last, inserted)) = chain(text, &words[i..], &ids[1..], first, 0) {
                    // without words inserted, it is the term itself, which the recogniser
                    // would have found but for what stands between its words
                    if inserted == 0 {
                        continue;
                    }
                    let occurrence = Occurrence {
                        end: last.end,
                        byte_end: last.byte_end,
                        variant: None,
                        ..first.clone()
                    };
                    return Some(ExpectedHit {
                        occurrence,
                        term: term.to_string(),
                        status: *status,
                        found_as: FoundAs::Discontinuous,
                    });
                }
            }
        }
        None
    }
}

/// The last occurrence of a chain continuing `prev` with the words `ids`, in order, with at most
/// [`MAX_INSERTED`] words inserted in all (`so_far` already), and how many were.
fn chain<'o>(
    text: &str,
    words: &'o [Occurrence],
    ids: &[u32],
    prev: &'o Occurrence,
    so_far: usize,
) -> Option<(&'o Occurrence, usize)> {
    let Some((&want, rest)) = ids.split_first() else {
        return Some((prev, so_far));
    };
    for next in words.iter().filter(|o| o.byte_start >= prev.byte_end) {
        let gap = &text[prev.byte_end..next.byte_start];
        if !gap
            .chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || is_dash(c) || is_apostrophe(c))
        {
            break;
        }
        let inserted = so_far + gap_words(gap);
        if inserted > MAX_INSERTED {
            break;
        }
        if next.concept == want {
            if let Some(last) = chain(text, words, rest, next, inserted) {
                return Some(last);
            }
        }
    }
    None
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

fn gap_words(gap: &str) -> usize {
    gap.split(|c: char| c.is_whitespace() || is_dash(c))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

fn is_dash(c: char) -> bool {
    matches!(c, '-' | '‐' | '‑' | '–' | '—')
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’')
}
