//! Values derived from a segment's content, kept from one commit to the next.
//!
//! A tantivy segment never changes once written: its postings, fast fields and stored documents
//! stay as they are until a merge replaces the segment by a new one with a new id (deletes are a
//! separate bitset, which searches apply themselves). So whatever is computed from them stays
//! true for as long as a searcher holds the segment. A [`SegmentMemo`] keeps such values keyed by
//! segment id (a random UUID, unique across indexes) and what was asked: a commit that adds or
//! merges segments leaves the values of the others in place, and only the new segments' values
//! are computed when asked. Values of segments merged away are never asked again and leave with
//! the older half, as in [`crate::server`]'s response cache (an approximate LRU).

use std::hash::Hash;
use std::sync::Mutex;

use rustc_hash::FxHashMap;
use tantivy::index::SegmentId;

/// A bounded memo of values computed from segments.
pub struct SegmentMemo<K, V> {
    capacity: usize,
    halves: Mutex<Halves<K, V>>,
}

struct Halves<K, V> {
    hot: FxHashMap<(SegmentId, K), V>,
    cold: FxHashMap<(SegmentId, K), V>,
}

impl<K: Hash + Eq, V: Clone> SegmentMemo<K, V> {
    /// A memo of at most `capacity` values (at least two).
    pub fn new(capacity: usize) -> SegmentMemo<K, V> {
        SegmentMemo {
            capacity: capacity.max(2),
            halves: Mutex::new(Halves {
                hot: FxHashMap::default(),
                cold: FxHashMap::default(),
            }),
        }
    }

    /// The value of `key` in `segment`: kept, or computed by `compute` (outside the memo's lock,
    /// so two threads may compute the same value; both get the same) and kept. A value must be
    /// a function of the segment's content and the key alone.
    pub fn get_or_try_insert<E>(
        &self,
        segment: SegmentId,
        key: K,
        compute: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        let key = (segment, key);
        {
            let mut h = self.halves.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(value) = h.hot.get(&key) {
                return Ok(value.clone());
            }
            if let Some(value) = h.cold.remove(&key) {
                h.insert(self.capacity, key, value.clone());
                return Ok(value);
            }
        }
        let value = compute()?;
        let mut h = self.halves.lock().unwrap_or_else(|e| e.into_inner());
        h.insert(self.capacity, key, value.clone());
        Ok(value)
    }

    /// Values kept.
    pub fn len(&self) -> usize {
        let h = self.halves.lock().unwrap_or_else(|e| e.into_inner());
        h.hot.len() + h.cold.len()
    }

    /// True when no value is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: Hash + Eq, V> Halves<K, V> {
    fn insert(&mut self, capacity: usize, key: (SegmentId, K), value: V) {
        if self.hot.len() >= capacity / 2 {
            self.cold = std::mem::take(&mut self.hot);
        }
        self.hot.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_computed_once_per_segment_and_key_and_bounded() {
        let memo: SegmentMemo<u32, u32> = SegmentMemo::new(4);
        let (a, b) = (SegmentId::generate_random(), SegmentId::generate_random());
        let computed = std::cell::Cell::new(0);
        let get = |segment, key, value| {
            memo.get_or_try_insert(segment, key, || {
                computed.set(computed.get() + 1);
                Ok::<_, ()>(value)
            })
            .unwrap()
        };
        assert_eq!(get(a, 1, 10), 10);
        assert_eq!(get(a, 1, 99), 10, "kept, not computed again");
        assert_eq!(get(b, 1, 20), 20, "another segment has its own value");
        assert_eq!(computed.get(), 2);
        for key in 2..10 {
            get(a, key, key);
        }
        assert!(memo.len() <= 4, "{}", memo.len());
        assert_eq!(get(a, 9, 0), 9, "the newest stays");
        // an error is not kept
        assert_eq!(memo.get_or_try_insert(a, 100, || Err("no")), Err("no"));
        assert_eq!(memo.get_or_try_insert(a, 100, || Ok::<_, ()>(1)), Ok(1));
    }
}
