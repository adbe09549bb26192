//! Responses of term searches for the termbase's current commit, kept so that a query asked again
//! (translators of one service look up the same terms all day) is answered without searching.
//!
//! An entry is valid only for the searcher generation it was computed on: the first lookup after
//! a commit sees another generation and empties the cache, so an answer never outlives the data
//! it came from. The cache holds at most `capacity` entries in two halves: new entries go to the
//! hot half; when it is full it becomes the cold half and the old cold half is dropped; a hit in
//! the cold half moves back to the hot one (an approximate LRU without per-entry bookkeeping).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use actix_web::web::Bytes;
use rustc_hash::FxHashMap;

/// Largest response body kept (bigger pages are computed every time).
const MAX_ENTRY_BYTES: usize = 256 * 1024;

/// Cached response bodies keyed by request, for one searcher generation.
pub struct ResponseCache {
    capacity: usize,
    inner: Mutex<Halves>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Default)]
struct Halves {
    generation: u64,
    hot: FxHashMap<String, Bytes>,
    cold: FxHashMap<String, Bytes>,
}

impl ResponseCache {
    /// A cache of at most `capacity` entries; 0 turns it off.
    pub fn new(capacity: usize) -> ResponseCache {
        ResponseCache {
            capacity,
            inner: Mutex::new(Halves::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The body stored for `key` at `generation`, if any.
    pub fn get(&self, generation: u64, key: &str) -> Option<Bytes> {
        if self.capacity == 0 {
            return None;
        }
        let mut h = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let found = if !h.at(generation) {
            None
        } else if let Some(body) = h.hot.get(key) {
            Some(body.clone())
        } else {
            h.cold.remove(key).inspect(|body| {
                h.insert(self.capacity, key.to_string(), body.clone());
            })
        };
        drop(h);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps `body` for `key`, computed at `generation` (dropped if the cache has moved on to a
    /// newer one since).
    pub fn put(&self, generation: u64, key: String, body: Bytes) {
        if self.capacity == 0 || body.len() > MAX_ENTRY_BYTES {
            return;
        }
        let mut h = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if h.at(generation) {
            h.insert(self.capacity, key, body);
        }
    }

    /// Lookups answered from the cache, and lookups that were not.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}

impl Halves {
    /// Moves on to `generation` when it is newer (generations only grow: a newer one starts the
    /// cache again); false when it is older, so its entries are stale.
    fn at(&mut self, generation: u64) -> bool {
        if self.generation < generation {
            self.hot.clear();
            self.cold.clear();
            self.generation = generation;
        }
        self.generation == generation
    }

    fn insert(&mut self, capacity: usize, key: String, body: Bytes) {
        if self.hot.len() >= capacity.div_ceil(2) {
            self.cold = std::mem::take(&mut self.hot);
        }
        self.hot.insert(key, body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_live_for_one_generation_and_a_bounded_number() {
        let cache = ResponseCache::new(4);
        cache.put(1, "a".into(), Bytes::from_static(b"A"));
        assert_eq!(cache.get(1, "a").as_deref(), Some(&b"A"[..]));
        // another commit: everything before it is gone, and a late put of the old one is dropped
        assert_eq!(cache.get(2, "a"), None);
        cache.put(1, "a".into(), Bytes::from_static(b"A"));
        assert_eq!(cache.get(2, "a"), None);
        for k in ["k1", "k2", "k3", "k4", "k5", "k6"] {
            cache.put(2, k.into(), Bytes::from(k.to_string()));
        }
        let kept = ["k1", "k2", "k3", "k4", "k5", "k6"]
            .iter()
            .filter(|k| cache.get(2, k).is_some())
            .count();
        assert!(kept <= 4 && kept >= 2, "{kept}");
        assert!(cache.get(2, "k6").is_some(), "the newest entry stays");
        let off = ResponseCache::new(0);
        off.put(1, "a".into(), Bytes::from_static(b"A"));
        assert_eq!(off.get(1, "a"), None);
    }
}
