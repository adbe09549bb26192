//! One concept's terms in a text, looked for alone: what the checker asks where a segment's
//! source names a concept and [`TermRecognizer::find`] found none of its terms in the target.
//! Both searches read the pieces `find` made of the text (reused, not made again) and compare
//! tokens the way the trie walk does (token ids, then [`LangPatterns::fit`]'s inflection and
//! accent rules), so what counts as a term's word is the same everywhere.

use super::{
    entries_of, inflection_of, joinable, no_added_accent, sentence_start, Form, LangPatterns,
    Occurrence, Piece, TermEntry, TermRecognizer, TermRef, TextWords, NO_ID,
};
use crate::lang::{is_apostrophe, Lang};

/// A term of one concept found by [`TermRecognizer::find_concept`] or
/// [`TermRecognizer::find_spread`].
#[derive(Debug, Clone)]
pub struct ConceptMatch<'a> {
    /// Where; `term` indexes the language's terms, or its short forms when `short_form`.
    pub occurrence: Occurrence,
    /// The termbase term.
    pub term: TermRef<'a>,
    /// Whether the term is a short form ([`super::SHORT_FORM`]).
    pub short_form: bool,
    /// Words written between the term's words (0 for [`TermRecognizer::find_concept`]).
    pub inserted: usize,
}

/// A candidate term: its entry, its written form, whether it is a short form, and its index.
type Candidate<'a> = (&'a TermEntry, Form<'a>, bool, u32);

impl<'a> ConceptMatch<'a> {
    /// The candidate over `span` (its first and last pieces), as written (no variant), with no
    /// word inserted.
    fn new(span: &[Piece], concept: u32, (entry, form, short_form, term): Candidate<'a>) -> Self {
        let (first, last) = (&span[0], &span[span.len() - 1]);
        ConceptMatch {
            occurrence: Occurrence {
                start: first.start,
                end: last.end,
                byte_start: first.byte_start,
                byte_end: last.byte_end,
                concept,
                term,
                variant: None,
            },
            term: TermRef {
                text: form.text,
                status: entry.status,
            },
            short_form,
            inserted: 0,
        }
    }
}

impl TermRecognizer {
    /// The allowed terms and short forms of `concept` written in `text` of `lang`, as the
    /// recogniser would find them if the termbase held this concept alone: leftmost-longest
    /// among themselves, in text order, whatever other concepts' terms cover the same words.
    pub fn find_concept(&self, lang: &str, text: &str, concept: u32) -> Vec<ConceptMatch<'_>> {
        let Some(p) = self.langs.get(lang) else {
            return Vec::new();
        };
        let candidates = p.candidates(concept, true);
        if candidates.is_empty() {
            return Vec::new();
        }
        p.with_pieces(text, |pieces, words| {
            // a term can start only where a piece has its first token's id
            words.index_pieces(pieces);
            let words = &*words;
            let mut starts: Vec<usize> = candidates
                .iter()
                .flat_map(|&(entry, ..)| p.first_token_places(words, entry))
                .collect();
            starts.sort_unstable();
            starts.dedup();
            let mut out = Vec::new();
            let mut i = 0;
            for &start in &starts {
                if start < i {
                    continue;
                }
                i = start;
                // the longest, then the best written, the better status, the first
                let mut best: Option<(usize, usize, Candidate, Option<super::Variant>)> = None;
                for &candidate in &candidates {
                    let (entry, form, _, _) = candidate;
                    let Some((score, variant)) = p.fits_at(text, pieces, i, words, entry, form)
                    else {
                        continue;
                    };
                    let last = i + form.len() - 1;
                    let better = best.as_ref().is_none_or(|&(l, s, (e, _, _, _), _)| {
                        (last, score).cmp(&(l, s)).then(e.status.cmp(&entry.status))
                            == std::cmp::Ordering::Greater
                    });
                    if better {
                        best = Some((last, score, candidate, variant));
                    }
                }
                let Some((last, _, candidate, variant)) = best else {
                    continue;
                };
                let mut m = ConceptMatch::new(&pieces[i..=last], concept, candidate);
                m.occurrence.variant = variant;
                out.push(m);
                i = last + 1;
            }
            out
        })
    }

    /// The first allowed term of `concept` of two words or more (in termbase order, then text
    /// order) written in `text` of `lang` with one to `max_inserted` words in all inserted between
    /// its words, nothing but words, spaces, hyphens, dashes and apostrophes between them, and
    /// none of its words in a span `blocked` (byte offsets) says is taken. Not for Chinese, whose
    /// terms are runs of characters.
    pub fn find_spread(
        &self,
        lang: &str,
        text: &str,
        concept: u32,
        max_inserted: usize,
        blocked: &dyn Fn(usize, usize) -> bool,
    ) -> Option<ConceptMatch<'_>> {
        let p = self.langs.get(lang)?;
        if p.lang == Lang::Zh {
            return None;
        }
        let phrases: Vec<Candidate> = p
            .candidates(concept, false)
            .into_iter()
            .filter(|(_, form, _, _)| form.len() >= 2)
            .collect();
        if phrases.is_empty() {
            return None;
        }
        p.with_pieces(text, |pieces, words| {
            words.index_pieces(pieces);
            let words = &*words;
            let usable = |j: usize| !blocked(pieces[j].byte_start, pieces[j].byte_end);
            let spread = Spread {
                p,
                text,
                pieces,
                words,
                max_inserted,
                usable: &usable,
            };
            for &candidate in &phrases {
                let (entry, form, _, _) = candidate;
                for i in p.first_token_places(words, entry) {
                    if !usable(i) || !p.token_fits(text, &pieces[i], words, entry, form, 0) {
                        continue;
                    }
                    // with none inserted it is the term itself, which the recogniser would
                    // have found but for what stands between its words
                    let Some((last, inserted @ 1..)) = spread.chain(entry, form, 1, i, 0) else {
                        continue;
                    };
                    let mut m = ConceptMatch::new(&pieces[i..=last], concept, candidate);
                    m.inserted = inserted;
                    return Some(m);
                }
            }
            None
        })
    }
}

impl LangPatterns {
    /// The allowed terms of a concept, then (`shorts`) its short forms.
    fn candidates(&self, concept: u32, shorts: bool) -> Vec<Candidate<'_>> {
        let terms = entries_of(&self.by_concept, concept)
            .map(|t| (&self.terms[t], false, t as u32))
            .filter(|(e, _, _)| e.status.is_allowed());
        let short = entries_of(&self.shorts_by_concept, concept)
            .filter(|_| shorts)
            .map(|t| (&self.shorts[t], true, t as u32));
        let terms = terms
            .chain(short)
            .map(|(e, short, t)| (e, self.form(e), short, t));
        terms.collect()
    }

    /// How `entry` fits the pieces from `i` on, as [`LangPatterns::walk`] would accept it there.
    fn fits_at(
        &self,
        text: &str,
        pieces: &[Piece],
        i: usize,
        words: &TextWords,
        entry: &TermEntry,
        form: Form,
    ) -> Option<(usize, Option<super::Variant>)> {
        let span = pieces.get(i..i + form.len())?;
        let ids_fit = span.iter().enumerate().all(|(k, piece)| {
            self.has_token(words, piece, entry, k)
                && (k == 0 || joinable(self.lang, &text[span[k - 1].byte_end..piece.word_start]))
        });
        // as in the walk: no Han character cut off a word of the segmenter
        if !ids_fit || span[0].before == 1 || span[span.len() - 1].after == 1 {
            return None;
        }
        let sentence = i == 0 || sentence_start(&text[..span[0].byte_start]);
        self.fit(text, span, words, form, sentence)
    }

    /// Whether the piece may be token `k` of `entry`: one of its ids, an inflection of it, no
    /// accent added.
    fn token_fits(
        &self,
        text: &str,
        piece: &Piece,
        words: &TextWords,
        entry: &TermEntry,
        form: Form,
        k: usize,
    ) -> bool {
        if k >= form.len() || !self.has_token(words, piece, entry, k) {
            return false;
        }
        if !inflection_of(self.lang, form.norm(k), words.norm(piece)) {
            return false;
        }
        let latin = matches!(self.lang, Lang::En | Lang::Fr | Lang::Es);
        !latin || no_added_accent(form.word(k), &text[piece.byte_start..piece.byte_end])
    }

    /// The pieces of the text matched last (indexed by [`TextWords::index_pieces`]) whose token
    /// ids include the key or alternative key of the first token of `entry`, in text order.
    fn first_token_places(&self, words: &TextWords, entry: &TermEntry) -> Vec<usize> {
        let (key, alt) = self.token_ids(entry, 0);
        let mut places: Vec<usize> = words.pieces_with(key).collect();
        if alt != NO_ID {
            places.extend(words.pieces_with(alt));
            places.sort_unstable();
            places.dedup();
        }
        places
    }

    /// The key id and the alternative key id ([`NO_ID`] when none) of token `k` of `entry`.
    fn token_ids(&self, entry: &TermEntry, k: usize) -> (u32, u32) {
        let at = entry.ids as usize + 2 * k;
        (self.term_ids[at], self.term_ids[at + 1])
    }

    /// Whether the piece's token ids include the key or alternative key of token `k` of `entry`.
    fn has_token(&self, words: &TextWords, piece: &Piece, entry: &TermEntry, k: usize) -> bool {
        let (key, alt) = self.token_ids(entry, k);
        words
            .ids(piece)
            .iter()
            .any(|&id| id == key || (alt != NO_ID && id == alt))
    }
}

/// A search for terms with words inserted, over one text's pieces.
struct Spread<'s> {
    p: &'s LangPatterns,
    text: &'s str,
    pieces: &'s [Piece],
    words: &'s TextWords,
    max_inserted: usize,
    usable: &'s dyn Fn(usize) -> bool,
}

impl Spread<'_> {
    /// The last piece of a chain continuing the piece `prev` with tokens `k..` of `entry`, in
    /// order, with at most `max_inserted` words inserted in all (`so_far` already), and how many
    /// were.
    fn chain(
        &self,
        entry: &TermEntry,
        form: Form,
        k: usize,
        prev: usize,
        so_far: usize,
    ) -> Option<(usize, usize)> {
        if k == form.len() {
            return Some((prev, so_far));
        }
        for next in prev + 1..self.pieces.len() {
            let gap = &self.text[self.pieces[prev].byte_end..self.pieces[next].byte_start];
            if !gap
                .chars()
                .all(|c| c.is_alphanumeric() || c.is_whitespace() || is_dash(c) || is_apostrophe(c))
            {
                break;
            }
            let inserted = so_far + gap_words(gap);
            if inserted > self.max_inserted {
                break;
            }
            let piece = &self.pieces[next];
            if (self.usable)(next)
                && self
                    .p
                    .token_fits(self.text, piece, self.words, entry, form, k)
            {
                if let Some(found) = self.chain(entry, form, k + 1, next, inserted) {
                    return Some(found);
                }
            }
        }
        None
    }
}

/// Words in a gap between two words of a term.
fn gap_words(gap: &str) -> usize {
    gap.split(|c: char| c.is_whitespace() || is_dash(c))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

fn is_dash(c: char) -> bool {
    matches!(c, '-' | '‐' | '‑' | '–' | '—')
}

#[cfg(test)]
mod tests {
    use super::super::SHORT_FORM;
    use super::*;
    use crate::model::{Concept, LangSection, Term, TermStatus};

    fn concept(id: &str, lang: &str, terms: &[(&str, bool)]) -> Concept {
        let mut c = Concept::new(id, "test");
        let terms = terms
            .iter()
            .map(|&(text, short)| {
                let mut t = Term::new(text, TermStatus::Preferred);
                t.term_type = short.then(|| SHORT_FORM.to_string());
                t
            })
            .collect();
        c.languages.insert(
            lang.to_string(),
            LangSection {
                terms,
                ..LangSection::default()
            },
        );
        c
    }

    fn spans(found: &[ConceptMatch], text: &str) -> Vec<(String, bool)> {
        found
            .iter()
            .map(|m| {
                let o = &m.occurrence;
                (text[o.byte_start..o.byte_end].to_string(), m.short_form)
            })
            .collect()
    }

    #[test]
    fn one_concept_alone_and_spread() {
        let r = TermRecognizer::build([
            concept(
                "sc",
                "fr",
                &[("Conseil de sécurité", false), ("Conseil", true)],
            ),
            concept("ecosoc", "fr", &[("Conseil économique et social", false)]),
            concept("mfa", "fr", &[("ministère des affaires étrangères", false)]),
        ]);
        let text = "Le Conseil économique et social et le Conseil se sont réunis ; le Conseil \
                    de sécurité aussi. Le Ministère ukrainien des affaires étrangères.";
        let found = r.find_concept("fr", text, 0);
        assert_eq!(
            spans(&found, text),
            [
                ("Conseil".to_string(), true),
                ("Conseil".to_string(), true),
                ("Conseil de sécurité".to_string(), false)
            ]
        );
        // the recogniser's own matches are untouched by the search (and the other way round)
        let all = r.find("fr", text);
        assert_eq!(all.len(), 2);
        assert!(r.find_concept("fr", text, 1).len() == 1);
        let spread = r.find_spread("fr", text, 2, 2, &|_, _| false).unwrap();
        let o = &spread.occurrence;
        assert_eq!(
            &text[o.byte_start..o.byte_end],
            "Ministère ukrainien des affaires étrangères"
        );
        assert_eq!(spread.inserted, 1);
        // a taken word breaks the chain; too many words inserted too
        assert!(r
            .find_spread("fr", text, 2, 2, &|a, _| text[a..].starts_with("affaires"))
            .is_none());
        assert!(r.find_spread("fr", text, 2, 0, &|_, _| false).is_none());
    }

    #[test]
    fn pieces_are_never_reused_across_patterns() {
        // two small recognisers share this thread's cache: the second must not read the
        // first one's token ids for the same text
        let a = TermRecognizer::build([concept("a", "en", &[("human rights", false)])]);
        let b = TermRecognizer::build([concept("b", "en", &[("rights council", false)])]);
        let text = "The Human Rights Council met.";
        assert_eq!(a.find("en", text).len(), 1);
        let found = b.find_concept("en", text, 0);
        assert_eq!(spans(&found, text), [("Rights Council".to_string(), false)]);
        assert_eq!(a.find_concept("en", text, 0).len(), 1);
        assert_eq!(b.find("en", text).len(), 1);
    }
}
