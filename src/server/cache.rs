//! Responses of term searches for the termbase's current commit, kept so that a query asked again
//! (translators of one service look up the same terms all day) is answered without searching.
//!
//! An entry is valid only for the searcher generation it was computed on: the first lookup after
//! a commit sees another generation and empties the cache, so an answer never outlives the data
//! it came from. The cache holds at most `capacity` entries in two halves: new entries go to the
//! hot half; when it is full it becomes the cold half and the old cold half is dropped; a hit in
//! the cold half moves back to the hot one (an approximate LRU without per-entry bookkeeping).
//!
//! A commit would otherwise leave the cache empty, and every search asked in the next second
//! would be searched at once. So before a commit is published, [`ResponseCache::warm`] answers
//! the most asked queries of the current generation again on the new commit's searcher (the
//! store runs it as a tantivy warmer, see [`crate::store::Store::set_warmer`]), and the
//! generation starts with those answers. Readers meanwhile go on with the previous commit and its
//! cache; the write returns once the new commit is readable.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    warmed: AtomicU64,
}

/// A kept response and how often it was asked for (halved at each commit, so the count follows
/// what is asked now).
struct Entry {
    body: Bytes,
    hits: u32,
}

type Entries = FxHashMap<String, Entry>;

#[derive(Default)]
struct Halves {
    generation: u64,
    hot: Entries,
    cold: Entries,
    /// Answers computed for a commit not yet published: its generation and entries.
    next: Option<(u64, Entries)>,
}

/// What a warm-up did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Warmed {
    /// Queries answered again on the new commit.
    pub answered: usize,
    /// Queries the cache held.
    pub held: usize,
}

impl ResponseCache {
    /// A cache of at most `capacity` entries; 0 turns it off.
    pub fn new(capacity: usize) -> ResponseCache {
        ResponseCache {
            capacity,
            inner: Mutex::new(Halves::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            warmed: AtomicU64::new(0),
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
        } else if let Some(entry) = h.hot.get_mut(key) {
            entry.hits = entry.hits.saturating_add(1);
            Some(entry.body.clone())
        } else {
            h.cold.remove(key).map(|mut entry| {
                entry.hits = entry.hits.saturating_add(1);
                let body = entry.body.clone();
                h.insert(self.capacity, key.to_string(), entry);
                body
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
            h.insert(self.capacity, key, Entry { body, hits: 1 });
        }
    }

    /// Answers the queries of the current generation again, most asked first, with `answer`
    /// (which searches the commit of `generation`, not yet published), on `threads` threads
    /// until `budget` is spent; the answers become the cache of `generation` when readers reach
    /// it. Queries `answer` cannot answer, or not within the budget, are searched when asked.
    pub fn warm(
        &self,
        generation: u64,
        threads: usize,
        budget: Duration,
        answer: impl Fn(&str) -> Option<Bytes> + Sync,
    ) -> Warmed {
        let deadline = Instant::now() + budget;
        let mut asked: Vec<(String, u32)> = {
            let h = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            if h.generation >= generation {
                return Warmed {
                    answered: 0,
                    held: 0,
                };
            }
            h.hot
                .iter()
                .chain(h.cold.iter())
                .map(|(key, entry)| (key.clone(), entry.hits))
                .collect()
        };
        asked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let next_query = AtomicUsize::new(0);
        let answers: Vec<(String, Entry)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads.max(1))
                .map(|_| {
                    scope.spawn(|| {
                        crate::priority::lower_this_thread();
                        let mut mine = Vec::new();
                        while Instant::now() < deadline {
                            let i = next_query.fetch_add(1, Ordering::Relaxed);
                            let Some((key, hits)) = asked.get(i) else {
                                break;
                            };
                            if let Some(body) = answer(key) {
                                let hits = hits / 2 + 1;
                                mine.push((key.clone(), Entry { body, hits }));
                            }
                        }
                        mine
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_default())
                .collect()
        });
        let warmed = Warmed {
            answered: answers.len(),
            held: asked.len(),
        };
        let mut h = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if h.generation < generation && h.next.as_ref().is_none_or(|(g, _)| *g <= generation) {
            let entries: Entries = answers
                .into_iter()
                .filter(|(_, entry)| entry.body.len() <= MAX_ENTRY_BYTES)
                .collect();
            h.next = Some((generation, entries));
        }
        drop(h);
        self.warmed
            .fetch_add(warmed.answered as u64, Ordering::Relaxed);
        warmed
    }

    /// Lookups answered from the cache, and lookups that were not.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// Answers computed by warm-ups so far.
    pub fn warmed(&self) -> u64 {
        self.warmed.load(Ordering::Relaxed)
    }
}

impl Halves {
    /// Moves on to `generation` when it is newer (generations only grow: a newer one starts the
    /// cache again, with the answers warmed for it if any); false when it is older, so its
    /// entries are stale.
    fn at(&mut self, generation: u64) -> bool {
        if self.generation < generation {
            self.cold.clear();
            self.hot = match self.next.take() {
                Some((g, entries)) if g == generation => entries,
                Some((g, entries)) if g > generation => {
                    self.next = Some((g, entries));
                    Entries::default()
                }
                _ => Entries::default(),
            };
            self.generation = generation;
        }
        self.generation == generation
    }

    fn insert(&mut self, capacity: usize, key: String, entry: Entry) {
        if self.hot.len() >= capacity.div_ceil(2) {
            self.cold = std::mem::take(&mut self.hot);
        }
        self.hot.insert(key, entry);
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
        assert!((2..=4).contains(&kept), "{kept}");
        assert!(cache.get(2, "k6").is_some(), "the newest entry stays");
        let off = ResponseCache::new(0);
        off.put(1, "a".into(), Bytes::from_static(b"A"));
        assert_eq!(off.get(1, "a"), None);
    }

    #[test]
    fn a_warm_up_answers_the_most_asked_first_and_takes_effect_at_its_generation() {
        let cache = ResponseCache::new(100);
        for (key, asked) in [("rare", 1), ("common", 5), ("middle", 3)] {
            cache.put(1, key.into(), Bytes::from(format!("{key}@1")));
            for _ in 1..asked {
                assert!(cache.get(1, key).is_some());
            }
        }
        let answer = |key: &str| Some(Bytes::from(format!("{key}@2")));
        // the budget runs out at once: nothing is answered, the next commit starts empty
        let none = cache.warm(2, 1, Duration::ZERO, answer);
        assert_eq!(
            none,
            Warmed {
                answered: 0,
                held: 3
            }
        );
        // one thread answering in order of demand, stopped after two answers
        let order = Mutex::new(Vec::new());
        let warmed = cache.warm(2, 1, Duration::from_secs(60), |key: &str| {
            let mut order = order.lock().unwrap();
            (order.len() < 2).then(|| {
                order.push(key.to_string());
                Bytes::from(format!("{key}@2"))
            })
        });
        assert_eq!(
            warmed,
            Warmed {
                answered: 2,
                held: 3
            }
        );
        assert_eq!(*order.lock().unwrap(), ["common", "middle"]);
        // readers on the published commit still get its answers
        assert_eq!(cache.get(1, "common").as_deref(), Some(&b"common@1"[..]));
        // at the new generation the warmed answers are there, the rest is searched again
        assert_eq!(cache.get(2, "common").as_deref(), Some(&b"common@2"[..]));
        assert_eq!(cache.get(2, "middle").as_deref(), Some(&b"middle@2"[..]));
        assert_eq!(cache.get(2, "rare"), None);
        assert_eq!(cache.warmed(), 2);
        // answers warmed for a generation that was skipped are not used for a later one
        cache.warm(3, 2, Duration::from_secs(60), answer);
        assert_eq!(cache.get(4, "common"), None);
        // and a warm-up for a generation already reached does nothing
        assert_eq!(
            cache.warm(4, 2, Duration::from_secs(60), answer).answered,
            0
        );
    }
}
