//! Consistency checks for editors: term recognition and QA checks over bilingual segments or a
//! monolingual text, returning a [`Report`].
//!
//! [`TermRecognizer`] finds the termbase's terms in both sides of each segment (inflection-,
//! clitic-, elision-, case- and diacritic-aware, through the same `lang` analysis as search); the
//! checks then compare what it found with the termbase and between sides: `term-missing`,
//! `term-forbidden`, `term-deprecated` (also superseded terms), `term-variant`,
//! `inconsistent-target`, `inconsistent-source`, `number-mismatch`, `untranslated` and
//! `tag-mismatch`. [`RecognizerCache`] keeps one recogniser per termbase commit, shared by every
//! request.

mod expected;
mod input;
pub mod numbers;
mod recognizer;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

pub use expected::{FoundAs, MAX_INSERTED};
pub use input::{
    parse_input, CheckRequest, Input, InputError, InputFormat, JsonSegment, ListOrString,
    RequestOptions,
};
pub use recognizer::{
    lang_key, ConceptInfo, ConceptMatch, Occurrence, TermRecognizer, TermRef, Variant, SHORT_FORM,
};

use expected::{expected_term, Coverage};

use crate::formats::xliff::{InlineCode, Segment};
use crate::lang::{exact_key, nfc};
use crate::model::TermStatus;
use crate::store::{Store, StoreError};

/// Largest number of segments one check accepts by default.
pub const DEFAULT_MAX_SEGMENTS: usize = 100_000;

/// The checks, by their ids in the API.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    /// The source has a term of a concept, the target none of its terms.
    TermMissing,
    /// A forbidden term is used.
    TermForbidden,
    /// A deprecated or superseded term is used.
    TermDeprecated,
    /// An allowed term written with other case or diacritics than the termbase has.
    TermVariant,
    /// The same source translated differently.
    InconsistentTarget,
    /// The same target for different sources.
    InconsistentSource,
    /// Numbers of the source and the target differ.
    NumberMismatch,
    /// Empty target, or the target is the source.
    Untranslated,
    /// Inline codes of the source and the target differ.
    TagMismatch,
}

impl CheckId {
    /// Every check.
    pub const ALL: [CheckId; 9] = [
        CheckId::TermMissing,
        CheckId::TermForbidden,
        CheckId::TermDeprecated,
        CheckId::TermVariant,
        CheckId::InconsistentTarget,
        CheckId::InconsistentSource,
        CheckId::NumberMismatch,
        CheckId::Untranslated,
        CheckId::TagMismatch,
    ];

    /// The id as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::TermMissing => "term-missing",
            CheckId::TermForbidden => "term-forbidden",
            CheckId::TermDeprecated => "term-deprecated",
            CheckId::TermVariant => "term-variant",
            CheckId::InconsistentTarget => "inconsistent-target",
            CheckId::InconsistentSource => "inconsistent-source",
            CheckId::NumberMismatch => "number-mismatch",
            CheckId::Untranslated => "untranslated",
            CheckId::TagMismatch => "tag-mismatch",
        }
    }

    /// Severity unless the request says otherwise.
    pub fn default_severity(self) -> Severity {
        match self {
            CheckId::TermForbidden
            | CheckId::NumberMismatch
            | CheckId::Untranslated
            | CheckId::TagMismatch => Severity::Error,
            CheckId::TermMissing
            | CheckId::TermDeprecated
            | CheckId::InconsistentTarget
            | CheckId::InconsistentSource => Severity::Warning,
            CheckId::TermVariant => Severity::Info,
        }
    }

    /// The checks a name selects: a check id, or a group (`terminology`, `consistency`,
    /// `numbers`, `untranslated`, `tags`).
    pub fn select(name: &str) -> Result<Vec<CheckId>, CheckError> {
        let name = name.trim().to_ascii_lowercase();
        let ids = match name.as_str() {
            "terminology" | "terms" => vec![
                CheckId::TermMissing,
                CheckId::TermForbidden,
                CheckId::TermDeprecated,
                CheckId::TermVariant,
            ],
            "consistency" => vec![CheckId::InconsistentTarget, CheckId::InconsistentSource],
            "numbers" => vec![CheckId::NumberMismatch],
            "tags" => vec![CheckId::TagMismatch],
            _ => match CheckId::ALL.iter().find(|c| c.as_str() == name) {
                Some(c) => vec![*c],
                None => {
                    return Err(CheckError::Invalid(format!(
                        "unknown check {name:?} (expected terminology, consistency, numbers, \
                         untranslated, tags or a check id such as term-missing)"
                    )))
                }
            },
        };
        Ok(ids)
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much an issue matters.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Must be fixed before release (the CLI exits with 1).
    Error,
    /// Should be looked at.
    Warning,
    /// For information.
    Info,
}

impl Severity {
    /// The name as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Severity asked for in a request: one of the three, or `off` to skip the check.
pub fn parse_severity(value: &str) -> Result<Option<Severity>, CheckError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "error" => Ok(Some(Severity::Error)),
        "warning" => Ok(Some(Severity::Warning)),
        "info" => Ok(Some(Severity::Info)),
        "off" | "none" => Ok(None),
        other => Err(CheckError::Invalid(format!(
            "unknown severity {other:?} (expected error, warning, info or off)"
        ))),
    }
}

impl FromStr for CheckId {
    type Err = CheckError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase();
        CheckId::ALL
            .into_iter()
            .find(|c| c.as_str() == name)
            .ok_or_else(|| CheckError::Invalid(format!("unknown check id {s:?}")))
    }
}

/// Errors of a check request.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The request is malformed.
    #[error("{0}")]
    Invalid(String),
    /// More segments than allowed.
    #[error("{got} segments is more than the limit of {limit} per check; split the document")]
    TooManySegments {
        /// Segments sent.
        got: usize,
        /// The limit.
        limit: usize,
    },
    /// The termbase could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What to check and how.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Severity of each check that runs; checks absent do not run.
    pub severities: BTreeMap<CheckId, Severity>,
    /// Only concepts with one of these subjects apply (all when empty).
    pub subjects: Vec<String>,
    /// Only concepts of these collections apply (all when empty).
    pub collections: Vec<String>,
    /// List every recognised term occurrence in the report.
    pub include_terms: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            severities: CheckId::ALL
                .into_iter()
                .map(|c| (c, c.default_severity()))
                .collect(),
            subjects: Vec::new(),
            collections: Vec::new(),
            include_terms: false,
        }
    }
}

impl CheckOptions {
    /// Options running the checks `names` select (all when empty) with their default
    /// severities, then the severities of `overrides` (`"off"` turns a check off).
    pub fn new(
        names: &[String],
        overrides: &BTreeMap<String, String>,
    ) -> Result<CheckOptions, CheckError> {
        let mut opts = CheckOptions::default();
        if !names.is_empty() {
            let mut chosen = HashSet::new();
            for n in names {
                chosen.extend(CheckId::select(n)?);
            }
            opts.severities.retain(|c, _| chosen.contains(c));
        }
        for (name, value) in overrides {
            let id: CheckId = name.parse()?;
            match parse_severity(value)? {
                Some(s) if opts.severities.contains_key(&id) || names.is_empty() => {
                    opts.severities.insert(id, s);
                }
                Some(_) => {}
                None => {
                    opts.severities.remove(&id);
                }
            }
        }
        Ok(opts)
    }

    fn on(&self, id: CheckId) -> bool {
        self.severities.contains_key(&id)
    }
}

/// Which side of a segment an issue or a term is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The source text.
    Source,
    /// The target text (also the text of a monolingual check).
    Target,
}

/// One finding.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Issue {
    /// Check id.
    pub check: CheckId,
    /// Severity.
    pub severity: Severity,
    /// Segment the issue is in.
    pub segment_id: String,
    /// Side of the segment.
    pub side: Side,
    /// Code-point offset of the span in that side's text.
    pub start: usize,
    /// Code-point offset one past the span.
    pub end: usize,
    /// The text of the span.
    pub text: String,
    /// Concept concerned, for terminology checks.
    pub concept_id: Option<String>,
    /// Collection of that concept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    /// What the termbase (or the other side) expects.
    pub expected: Vec<String>,
    /// A sentence for people.
    pub message: String,
}

/// One recognised term occurrence (`include_terms`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TermHit {
    /// Segment.
    pub segment_id: String,
    /// Side.
    pub side: Side,
    /// Code-point offsets.
    pub start: usize,
    /// One past the end.
    pub end: usize,
    /// The text as written.
    pub text: String,
    /// Concept.
    pub concept_id: String,
    /// Its collection.
    pub collection: String,
    /// Language of the side.
    pub lang: String,
    /// Status of the termbase term that matched.
    pub status: TermStatus,
    /// The termbase term that matched.
    pub term: String,
    /// Set on a target term found only because the source names its concept: a short form, a
    /// term inside a longer term, or a term with words inserted (see the API description).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found_as: Option<FoundAs>,
}

/// Counts of a report.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Summary {
    /// Segments checked.
    pub segments: usize,
    /// All issues.
    pub issues: usize,
    /// Issues of severity error.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Infos.
    pub info: usize,
}

/// The result of a check.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// Counts.
    pub summary: Summary,
    /// Issues in segment order, then side, then offset.
    pub issues: Vec<Issue>,
    /// Every recognised term occurrence, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terms: Option<Vec<TermHit>>,
}

impl Report {
    /// True when some issue is an error.
    pub fn has_errors(&self) -> bool {
        self.summary.errors > 0
    }

    fn finish(mut self, segments: usize, order: &HashMap<String, usize>) -> Report {
        // stable, each issue's key worked out once
        self.issues
            .sort_by_cached_key(|i| (order.get(&i.segment_id).copied(), i.side, i.start, i.end));
        let count = |s| self.issues.iter().filter(|i| i.severity == s).count();
        self.summary = Summary {
            segments,
            issues: self.issues.len(),
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            info: count(Severity::Info),
        };
        self
    }
}

/// A bilingual document to check.
#[derive(Debug, Clone, Default)]
pub struct Document {
    /// Source language tag.
    pub source_lang: String,
    /// Target language tag.
    pub target_lang: String,
    /// Segments in order.
    pub segments: Vec<Segment>,
}

/// Keeps the recogniser of the termbase's last commit; rebuilt when the termbase has changed
/// (its searcher's segments or deletes differ), never per request.
///
/// One build runs at a time, on its own thread. While it runs, checks wait for it when the last
/// build was quick (under `wait_for_builds_under`, by default [`WAIT_FOR_BUILDS_UNDER`]: a check
/// then always sees the write just made), and otherwise go on with the previous recogniser, so
/// checks are never held up by an import into a large termbase: they see the last commit whose
/// recogniser is built. A long build starts no sooner than twice its last duration after the last
/// one ended, so under constant imports checks lag by about three build times (seconds on 100,000
/// concepts) and rebuilding takes a third of a core, not all of it.
#[derive(Clone)]
pub struct RecognizerCache {
    shared: Arc<(Mutex<Slot>, std::sync::Condvar)>,
    /// Largest number of segments per check.
    pub max_segments: usize,
    /// Rebuilds whose previous build took less than this are waited for.
    pub wait_for_builds_under: std::time::Duration,
}

/// Builds quicker than this are waited for; longer ones are not.
pub const WAIT_FOR_BUILDS_UNDER: std::time::Duration = std::time::Duration::from_millis(500);

#[derive(Default)]
struct Slot {
    built: Option<Built>,
    building: bool,
    failed: Option<String>,
}

struct Built {
    generation: tantivy::SearcherGeneration,
    recognizer: Arc<TermRecognizer>,
    took: std::time::Duration,
    finished: std::time::Instant,
}

impl Default for RecognizerCache {
    fn default() -> Self {
        RecognizerCache {
            shared: Arc::new((Mutex::new(Slot::default()), std::sync::Condvar::new())),
            max_segments: DEFAULT_MAX_SEGMENTS,
            wait_for_builds_under: WAIT_FOR_BUILDS_UNDER,
        }
    }
}

impl RecognizerCache {
    /// The recogniser of the store's current commit (or, while a long rebuild runs, of the
    /// commit before), starting a rebuild when the termbase changed.
    pub fn get(&self, store: &Store) -> Result<Arc<TermRecognizer>, StoreError> {
        let generation = store.searcher().generation().clone();
        let (lock, ready) = &*self.shared;
        let mut slot = lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            // built on this commit, or on a later one than the caller saw
            if let Some(b) = slot.built.as_ref().filter(|b| {
                b.generation.segments() == generation.segments()
                    || b.generation.generation_id() >= generation.generation_id()
            }) {
                return Ok(b.recognizer.clone());
            }
            let long = |b: &&Built| b.took >= self.wait_for_builds_under;
            // long builds run at most a third of the time: under a stream of commits (imports
            // one after the other) checks go on with a recogniser a few builds old, rather than
            // rebuilding without end
            let resting = slot
                .built
                .as_ref()
                .filter(long)
                .is_some_and(|b| b.finished.elapsed() < 2 * b.took);
            if !slot.building && !resting {
                self.start_build(&mut slot, store);
            }
            if let Some(b) = slot.built.as_ref().filter(long) {
                return Ok(b.recognizer.clone());
            }
            // the build could not start, or (after the wait) failed
            let failure = |slot: &Slot| {
                slot.failed.as_ref().map(|e| {
                    StoreError::Index(tantivy::TantivyError::InternalError(format!(
                        "building the term recogniser: {e}"
                    )))
                })
            };
            if let Some(e) = failure(&slot) {
                return Err(e);
            }
            slot = ready.wait(slot).unwrap_or_else(|e| e.into_inner());
            if let Some(e) = failure(&slot) {
                return Err(e);
            }
        }
    }

    /// Starts building the recogniser when none is there yet, so the first check does not wait;
    /// true when one is built (checks answer without waiting).
    pub fn warm(&self, store: &Store) -> bool {
        let (lock, _) = &*self.shared;
        let mut slot = lock.lock().unwrap_or_else(|e| e.into_inner());
        if slot.built.is_none() && !slot.building {
            self.start_build(&mut slot, store);
        }
        slot.built.is_some()
    }

    /// Starts a build on a thread of its own; `slot` is the caller's hold on the lock.
    fn start_build(&self, slot: &mut Slot, store: &Store) {
        slot.building = true;
        slot.failed = None;
        let shared = self.shared.clone();
        let store = store.clone();
        let spawned = std::thread::Builder::new()
            .name("recogniser".into())
            .spawn(move || {
                crate::priority::lower_this_thread();
                let started = std::time::Instant::now();
                let generation = store.searcher().generation().clone();
                let result =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(&store)));
                let (lock, ready) = &*shared;
                let mut slot = lock.lock().unwrap_or_else(|e| e.into_inner());
                slot.building = false;
                let old = match result {
                    Ok(Ok(recognizer)) => {
                        let took = started.elapsed();
                        tracing::info!(
                            concepts = recognizer.concept_count(),
                            terms = recognizer.term_count(),
                            ms = took.as_millis() as u64,
                            "term recogniser built"
                        );
                        slot.built.replace(Built {
                            generation,
                            recognizer: Arc::new(recognizer),
                            took,
                            finished: std::time::Instant::now(),
                        })
                    }
                    Ok(Err(e)) => {
                        slot.failed = Some(e.to_string());
                        None
                    }
                    Err(_) => {
                        slot.failed = Some("the build panicked".into());
                        None
                    }
                };
                ready.notify_all();
                drop(slot);
                // freeing a large recogniser takes a while: do it here, at background priority
                // and without the lock, once the checks using it are done, rather than in the
                // last request to let go of it
                if let Some(mut old) = old.map(|b| b.recognizer) {
                    while let Err(still) = Arc::try_unwrap(old) {
                        old = still;
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                }
            });
        if let Err(e) = spawned {
            slot.building = false;
            slot.failed = Some(format!("no thread for the build: {e}"));
        }
    }
}

/// Builds a recogniser from every concept of the store.
pub fn build(store: &Store) -> Result<TermRecognizer, StoreError> {
    let mut concepts = Vec::new();
    store.for_each_concept(&[], |c| {
        concepts.push(c);
        Ok::<(), StoreError>(())
    })?;
    Ok(TermRecognizer::build(concepts))
}

/// Which concepts apply to a request, computed once per concept.
struct ConceptFilter<'a> {
    recognizer: &'a TermRecognizer,
    subjects: Vec<String>,
    collections: &'a [String],
    memo: HashMap<u32, bool>,
}

impl<'a> ConceptFilter<'a> {
    fn new(recognizer: &'a TermRecognizer, opts: &'a CheckOptions) -> Self {
        ConceptFilter {
            recognizer,
            subjects: opts.subjects.iter().map(|s| exact_key(s)).collect(),
            collections: &opts.collections,
            memo: HashMap::new(),
        }
    }

    fn applies(&mut self, concept: u32) -> bool {
        if self.subjects.is_empty() && self.collections.is_empty() {
            return true;
        }
        let (r, subjects, collections) = (self.recognizer, &self.subjects, self.collections);
        *self.memo.entry(concept).or_insert_with(|| {
            let c = r.concept(concept);
            (collections.is_empty() || collections.contains(&c.collection))
                && (subjects.is_empty()
                    || c.subject.iter().any(|s| subjects.contains(&exact_key(s))))
        })
    }
}

/// The text between two byte offsets, in NFC (as the API returns text).
fn slice(text: &str, byte_start: usize, byte_end: usize) -> String {
    nfc(&text[byte_start..byte_end])
}

fn quote_list(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The allowed terms of a concept in a language, preferred first.
fn allowed(recognizer: &TermRecognizer, lang: &str, concept: u32) -> Vec<String> {
    recognizer
        .terms_of(lang, concept)
        .into_iter()
        .filter(|t| t.status.is_allowed())
        .map(|t| t.text.to_string())
        .collect()
}

struct Ctx<'a> {
    recognizer: &'a TermRecognizer,
    opts: &'a CheckOptions,
    filter: ConceptFilter<'a>,
    report: Report,
}

impl Ctx<'_> {
    #[allow(clippy::too_many_arguments)]
    fn issue(
        &mut self,
        check: CheckId,
        segment: &str,
        side: Side,
        (start, end): (usize, usize),
        text: String,
        concept: Option<u32>,
        expected: Vec<String>,
        message: String,
    ) {
        let Some(&severity) = self.opts.severities.get(&check) else {
            return;
        };
        let concept = concept.map(|c| self.recognizer.concept(c));
        self.report.issues.push(Issue {
            check,
            severity,
            segment_id: segment.to_string(),
            side,
            start,
            end,
            text,
            concept_id: concept.map(|c| c.id.clone()),
            collection: concept.map(|c| c.collection.clone()),
            expected,
            message,
        });
    }

    /// Occurrences of `text` whose concept applies, listed in the report when asked.
    fn recognise(&mut self, segment: &str, side: Side, lang: &str, text: &str) -> Vec<Occurrence> {
        let mut found = self.recognizer.find(lang, text);
        found.retain(|o| self.filter.applies(o.concept));
        if self.opts.include_terms {
            let terms = self.report.terms.get_or_insert_with(Vec::new);
            for o in &found {
                let c = self.recognizer.concept(o.concept);
                let t = self.recognizer.term(lang, o.term);
                terms.push(TermHit {
                    segment_id: segment.to_string(),
                    side,
                    start: o.start,
                    end: o.end,
                    text: slice(text, o.byte_start, o.byte_end),
                    concept_id: c.id.clone(),
                    collection: c.collection.clone(),
                    lang: lang.to_string(),
                    status: t.status,
                    term: t.text.to_string(),
                    found_as: None,
                });
            }
        }
        found
    }

    /// The concepts the source names (`in_source`) that the recogniser did not find in the target
    /// (`in_target`) but the expected-term search does, listed in the report when asked.
    fn expected_in_target(
        &mut self,
        segment: &str,
        lang: &str,
        target: &str,
        in_source: &[Occurrence],
        in_target: &[Occurrence],
    ) -> Vec<u32> {
        let named: HashSet<u32> = in_source.iter().map(|o| o.concept).collect();
        let mut missing: Vec<u32> = named
            .iter()
            .copied()
            .filter(|c| !in_target.iter().any(|o| o.concept == *c))
            .collect();
        missing.sort_unstable();
        let mut found = Vec::new();
        if missing.is_empty() {
            return found;
        }
        let covered = Coverage::new(target.len(), in_target, &|c| named.contains(&c));
        for concept in missing {
            let Some(hit) = expected_term(self.recognizer, lang, concept, target, &covered) else {
                continue;
            };
            found.push(concept);
            if self.opts.include_terms {
                let c = self.recognizer.concept(concept);
                let o = &hit.occurrence;
                self.report
                    .terms
                    .get_or_insert_with(Vec::new)
                    .push(TermHit {
                        segment_id: segment.to_string(),
                        side: Side::Target,
                        start: o.start,
                        end: o.end,
                        text: slice(target, o.byte_start, o.byte_end),
                        concept_id: c.id.clone(),
                        collection: c.collection.clone(),
                        lang: lang.to_string(),
                        status: hit.status,
                        term: hit.term,
                        found_as: Some(hit.found_as),
                    });
            }
        }
        found
    }

    /// term-forbidden, term-deprecated and term-variant on one text.
    fn term_usage(
        &mut self,
        segment: &str,
        side: Side,
        lang: &str,
        text: &str,
        found: &[Occurrence],
    ) {
        for o in found {
            let t = self.recognizer.term(lang, o.term);
            if t.status.is_allowed() && o.variant.is_none() {
                continue;
            }
            let written = slice(text, o.byte_start, o.byte_end);
            let span = (o.start, o.end);
            let expected = allowed(self.recognizer, lang, o.concept);
            let use_instead = if expected.is_empty() {
                String::new()
            } else {
                format!("; use {}", quote_list(&expected))
            };
            let (check, message, expected) = match (t.status, o.variant) {
                (TermStatus::Forbidden, _) => (
                    CheckId::TermForbidden,
                    format!("forbidden term \"{written}\"{use_instead}"),
                    expected,
                ),
                (TermStatus::Deprecated | TermStatus::Superseded, _) => (
                    CheckId::TermDeprecated,
                    format!("{} term{use_instead}", t.status),
                    expected,
                ),
                (TermStatus::Preferred | TermStatus::Admitted, Some(v)) => {
                    let what = match v {
                        Variant::Case => "capitalisation",
                        Variant::Diacritics => "diacritics",
                    };
                    let message = format!(
                        "\"{written}\" differs from the termbase's \"{}\" in {what}",
                        t.text
                    );
                    (CheckId::TermVariant, message, vec![t.text.to_string()])
                }
                (TermStatus::Preferred | TermStatus::Admitted, None) => continue,
            };
            let concept = Some(o.concept);
            self.issue(
                check, segment, side, span, written, concept, expected, message,
            );
        }
    }
}

/// Checks a bilingual document against the recogniser's termbase.
pub fn check_document(
    recognizer: &TermRecognizer,
    doc: &Document,
    opts: &CheckOptions,
) -> Result<Report, CheckError> {
    let src = lang_key(&doc.source_lang).ok_or_else(|| {
        CheckError::Invalid(format!("invalid source language {:?}", doc.source_lang))
    })?;
    let tgt = lang_key(&doc.target_lang).ok_or_else(|| {
        CheckError::Invalid(format!("invalid target language {:?}", doc.target_lang))
    })?;
    let mut order = HashMap::new();
    for (i, seg) in doc.segments.iter().enumerate() {
        order.entry(seg.id.clone()).or_insert(i);
    }
    let new_ctx = || Ctx {
        recognizer,
        opts,
        filter: ConceptFilter::new(recognizer, opts),
        report: Report::default(),
    };
    let check_all = |segments: &[Segment]| {
        let mut ctx = new_ctx();
        let keys: Vec<_> = segments
            .iter()
            .map(|seg| check_segment(&mut ctx, &src, &tgt, seg))
            .collect();
        (ctx.report, keys)
    };
    // segments are checked on their own, so a long document is split over the cores (the
    // consistency checks, which compare segments, run after on the whole), on rayon's threads:
    // they live on from request to request, and with them what the recogniser and the analysis
    // remember of the words they met
    let parts: Vec<(Report, Vec<SegmentKeys>)> = if doc.segments.len() < 2 * SEGMENTS_PER_THREAD {
        vec![check_all(&doc.segments)]
    } else {
        use rayon::prelude::*;
        let threads = (doc.segments.len() / SEGMENTS_PER_THREAD).min(rayon::current_num_threads());
        // a few parts a thread, so a thread that finishes first takes over the rest
        let size = doc.segments.len().div_ceil(4 * threads.max(1));
        doc.segments.par_chunks(size).map(check_all).collect()
    };
    let mut ctx = new_ctx();
    let mut keys = Vec::with_capacity(doc.segments.len());
    for (part, part_keys) in parts {
        ctx.report.issues.extend(part.issues);
        if let Some(terms) = part.terms {
            ctx.report.terms.get_or_insert_with(Vec::new).extend(terms);
        }
        keys.extend(part_keys);
    }
    consistency(&mut ctx, &doc.segments, &keys);
    Ok(ctx.report.finish(doc.segments.len(), &order))
}

/// Fewest segments worth a thread of their own.
const SEGMENTS_PER_THREAD: usize = 500;

/// A segment's source and target as [`exact_key`] makes them (NFC, case folded, whitespace
/// collapsed); `None` when its target is empty.
type SegmentKeys = Option<(String, String)>;

/// Checks one segment on its own; returns its [`SegmentKeys`] for the consistency checks.
fn check_segment(ctx: &mut Ctx<'_>, src: &str, tgt: &str, seg: &Segment) -> SegmentKeys {
    let id = seg.id.as_str();
    let target = seg.target.as_deref().unwrap_or("");
    let empty_target = target.trim().is_empty();
    let keys = (!empty_target).then(|| (exact_key(&seg.source), exact_key(target)));
    // the target is the source left as it is
    let unchanged = keys.as_ref().is_some_and(|(s, t)| s == t);
    let terms = CheckId::ALL[..4].iter().any(|c| ctx.opts.on(*c)) || ctx.opts.include_terms;
    if terms {
        let in_source = ctx.recognise(id, Side::Source, src, &seg.source);
        let in_target = ctx.recognise(id, Side::Target, tgt, target);
        ctx.term_usage(id, Side::Target, tgt, target, &in_target);
        // what only the source's concepts lead to matters to term-missing and the term list
        let wanted = ctx.opts.on(CheckId::TermMissing) || ctx.opts.include_terms;
        if wanted && !empty_target && !unchanged {
            let expected = ctx.expected_in_target(id, tgt, target, &in_source, &in_target);
            if ctx.opts.on(CheckId::TermMissing) {
                term_missing(ctx, id, tgt, seg, &in_source, &in_target, &expected);
            }
        }
    }
    // a segment of inline codes only has nothing to translate
    if ctx.opts.on(CheckId::Untranslated) && seg.source.chars().any(char::is_alphanumeric) {
        if empty_target {
            ctx.issue(
                CheckId::Untranslated,
                id,
                Side::Target,
                (0, target.chars().count()),
                target.to_string(),
                None,
                Vec::new(),
                "the target is empty".to_string(),
            );
        } else if src != tgt && unchanged && has_words(&seg.source) {
            let n = target.chars().count();
            ctx.issue(
                CheckId::Untranslated,
                id,
                Side::Target,
                (0, n),
                target.to_string(),
                None,
                Vec::new(),
                "the target is the same as the source".to_string(),
            );
        }
    }
    if ctx.opts.on(CheckId::NumberMismatch) && !empty_target {
        number_mismatch(ctx, id, &seg.source, target);
    }
    if ctx.opts.on(CheckId::TagMismatch) && !empty_target {
        tag_mismatch(ctx, id, seg);
    }
    keys
}

/// At least two words of letters: a lone name or code may stay as it is.
fn has_words(text: &str) -> bool {
    text.split_whitespace()
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2)
        .count()
        >= 2
}

fn term_missing(
    ctx: &mut Ctx<'_>,
    id: &str,
    tgt: &str,
    seg: &Segment,
    in_source: &[Occurrence],
    in_target: &[Occurrence],
    expected: &[u32],
) {
    let mut present: HashSet<u32> = in_target.iter().map(|o| o.concept).collect();
    present.extend(expected);
    // occurrences sharing a span are one term of several concepts: one of them suffices
    let mut k = 0;
    while k < in_source.len() {
        let span = (in_source[k].byte_start, in_source[k].byte_end);
        let group: Vec<&Occurrence> = in_source[k..]
            .iter()
            .take_while(|o| (o.byte_start, o.byte_end) == span)
            .collect();
        k += group.len();
        let expecting: Vec<&Occurrence> = group
            .iter()
            .copied()
            .filter(|o| {
                let terms = ctx.recognizer.terms_of(tgt, o.concept);
                terms.iter().any(|t| t.status.is_allowed())
            })
            .collect();
        if expecting.is_empty() || expecting.iter().any(|o| present.contains(&o.concept)) {
            continue;
        }
        let o = expecting[0];
        let written = slice(&seg.source, o.byte_start, o.byte_end);
        let expected = allowed(ctx.recognizer, tgt, o.concept);
        let message = format!(
            "\"{written}\" is not translated with a termbase term: expected {}",
            quote_list(&expected)
        );
        ctx.issue(
            CheckId::TermMissing,
            id,
            Side::Source,
            (o.start, o.end),
            written,
            Some(o.concept),
            expected,
            message,
        );
    }
}

fn number_mismatch(ctx: &mut Ctx<'_>, id: &str, source: &str, target: &str) {
    let ns = numbers::numbers(source);
    let nt = numbers::numbers(target);
    let mut left: Vec<Option<&numbers::Number>> = nt.iter().map(Some).collect();
    let mut missing = Vec::new();
    for n in &ns {
        match left
            .iter_mut()
            .find(|m| m.is_some_and(|m| m.value == n.value))
        {
            Some(m) => *m = None,
            None => missing.push(n),
        }
    }
    let text_of = |t: &str, n: &numbers::Number| {
        t.chars()
            .skip(n.start)
            .take(n.end - n.start)
            .collect::<String>()
    };
    for n in missing {
        let written = text_of(source, n);
        let message = format!("the number {written} of the source is not in the target");
        ctx.issue(
            CheckId::NumberMismatch,
            id,
            Side::Source,
            (n.start, n.end),
            written,
            None,
            vec![n.value.clone()],
            message,
        );
    }
    for n in left.into_iter().flatten() {
        let written = text_of(target, n);
        let message = format!("the number {written} of the target is not in the source");
        ctx.issue(
            CheckId::NumberMismatch,
            id,
            Side::Target,
            (n.start, n.end),
            written,
            None,
            Vec::new(),
            message,
        );
    }
}

fn tag_mismatch(ctx: &mut Ctx<'_>, id: &str, seg: &Segment) {
    let key = |c: &InlineCode| (c.kind.clone(), c.id.clone());
    let mut left: Vec<Option<&InlineCode>> = seg.target_codes.iter().map(Some).collect();
    let mut missing = Vec::new();
    for c in &seg.source_codes {
        match left
            .iter_mut()
            .find(|m| m.is_some_and(|m| key(m) == key(c)))
        {
            Some(m) => *m = None,
            None => missing.push(c),
        }
    }
    let target_len = seg.target.as_deref().unwrap_or("").chars().count();
    for c in missing {
        let message = format!(
            "the inline code {} of the source is missing from the target",
            c.display()
        );
        ctx.issue(
            CheckId::TagMismatch,
            id,
            Side::Target,
            (target_len, target_len),
            String::new(),
            None,
            vec![c.display()],
            message,
        );
    }
    for c in left.into_iter().flatten() {
        let message = format!(
            "the inline code {} of the target is not in the source",
            c.display()
        );
        ctx.issue(
            CheckId::TagMismatch,
            id,
            Side::Target,
            (c.position, c.position),
            String::new(),
            None,
            Vec::new(),
            message,
        );
    }
}

/// inconsistent-target and inconsistent-source over the whole document, by the segments' keys
/// (`keys[i]` of `segments[i]`).
fn consistency(ctx: &mut Ctx<'_>, segments: &[Segment], keys: &[SegmentKeys]) {
    for (check, side) in [
        (CheckId::InconsistentTarget, Side::Target),
        (CheckId::InconsistentSource, Side::Source),
    ] {
        if !ctx.opts.on(check) {
            continue;
        }
        // key side → (other side's key → segments)
        let mut groups: BTreeMap<&str, Vec<(&str, usize)>> = BTreeMap::new();
        for (i, seg_keys) in keys.iter().enumerate() {
            let Some((source, target)) = seg_keys else {
                continue;
            };
            let (key, other) = match side {
                Side::Target => (source, target),
                Side::Source => (target, source),
            };
            groups.entry(key).or_default().push((other, i));
        }
        for (_, members) in groups {
            let mut variants: Vec<(&str, Vec<usize>)> = Vec::new();
            for (other, i) in &members {
                match variants.iter_mut().find(|v| v.0 == *other) {
                    Some(v) => v.1.push(*i),
                    None => variants.push((other, vec![*i])),
                }
            }
            if variants.len() < 2 {
                continue;
            }
            // the most frequent rendering (the first on a tie) is the reference
            let reference = variants
                .iter()
                .enumerate()
                .max_by_key(|(k, v)| (v.1.len(), std::cmp::Reverse(*k)))
                .map(|(k, _)| k)
                .unwrap_or(0);
            let ref_seg = &segments[variants[reference].1[0]];
            let ref_text = match side {
                Side::Target => ref_seg.target.clone().unwrap_or_default(),
                Side::Source => ref_seg.source.clone(),
            };
            for (k, (_, idx)) in variants.iter().enumerate() {
                if k == reference {
                    continue;
                }
                for &i in idx {
                    let seg = &segments[i];
                    let text = match side {
                        Side::Target => seg.target.clone().unwrap_or_default(),
                        Side::Source => seg.source.clone(),
                    };
                    let message = match side {
                        Side::Target => format!(
                            "the same source is translated differently in segment {}",
                            ref_seg.id
                        ),
                        Side::Source => format!(
                            "the same target translates a different source in segment {}",
                            ref_seg.id
                        ),
                    };
                    let n = text.chars().count();
                    ctx.issue(
                        check,
                        &seg.id,
                        side,
                        (0, n),
                        text,
                        None,
                        vec![ref_text.clone()],
                        message,
                    );
                }
            }
        }
    }
}

/// Checks one monolingual text (terminology use only: forbidden, deprecated, variant); issues
/// are on the side `target` of segment `1`.
pub fn check_text(
    recognizer: &TermRecognizer,
    lang: &str,
    text: &str,
    opts: &CheckOptions,
) -> Result<Report, CheckError> {
    let lang =
        lang_key(lang).ok_or_else(|| CheckError::Invalid(format!("invalid language {lang:?}")))?;
    let mut ctx = Ctx {
        recognizer,
        opts,
        filter: ConceptFilter::new(recognizer, opts),
        report: Report::default(),
    };
    let found = ctx.recognise("1", Side::Target, &lang, text);
    ctx.term_usage("1", Side::Target, &lang, text, &found);
    let order = HashMap::from([("1".to_string(), 0)]);
    Ok(ctx.report.finish(1, &order))
}

/// Runs the checks on an input.
pub fn run(
    recognizer: &TermRecognizer,
    input: &Input,
    opts: &CheckOptions,
) -> Result<Report, CheckError> {
    match input {
        Input::Document(doc) => check_document(recognizer, doc, opts),
        Input::Text { lang, text } => check_text(recognizer, lang, text, opts),
    }
}
