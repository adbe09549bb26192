//! Concept and term counts, kept up to date by every write and committed with it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::Concept;

/// Counts of one collection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionStats {
    /// Concepts.
    pub concepts: u64,
    /// Terms in all languages.
    pub terms: u64,
    /// Terms per language key.
    pub languages: BTreeMap<String, u64>,
}

/// Counts of every collection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// By collection name.
    pub collections: BTreeMap<String, CollectionStats>,
}

impl Stats {
    /// Counts a concept in.
    pub fn add(&mut self, concept: &Concept) {
        let c = self
            .collections
            .entry(concept.collection.clone())
            .or_default();
        c.concepts += 1;
        for (lang, section) in &concept.languages {
            let n = section.terms.len() as u64;
            c.terms += n;
            *c.languages.entry(lang.clone()).or_default() += n;
        }
    }

    /// Counts a concept out.
    pub fn remove(&mut self, concept: &Concept) {
        let Some(c) = self.collections.get_mut(&concept.collection) else {
            return;
        };
        c.concepts = c.concepts.saturating_sub(1);
        for (lang, section) in &concept.languages {
            let n = section.terms.len() as u64;
            c.terms = c.terms.saturating_sub(n);
            if let Some(t) = c.languages.get_mut(lang) {
                *t = t.saturating_sub(n);
                if *t == 0 {
                    c.languages.remove(lang);
                }
            }
        }
        if c.concepts == 0 {
            self.collections.remove(&concept.collection);
        }
    }

    /// The sum over `collections` (all when empty).
    pub fn total(&self, collections: &[String]) -> CollectionStats {
        let mut sum = CollectionStats::default();
        for (name, c) in &self.collections {
            if !collections.is_empty() && !collections.contains(name) {
                continue;
            }
            sum.concepts += c.concepts;
            sum.terms += c.terms;
            for (lang, n) in &c.languages {
                *sum.languages.entry(lang.clone()).or_default() += n;
            }
        }
        sum
    }
}
