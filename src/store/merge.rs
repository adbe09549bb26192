//! When the termbase's segments are merged: tantivy's log merge policy, and a bound on the number
//! of segments it can leave.
//!
//! The log merge policy merges segments of about the same size once eight of them are there.
//! Segments that differ more (a large import commits one segment per indexing thread, and the
//! threads' shares of the documents differ) fall into different levels, none of which ever holds
//! eight: a termbase imported in four commits can stay in eight segments, and every search then
//! looks up each of its terms eight times.

use tantivy::index::SegmentMeta;
use tantivy::merge_policy::{LogMergePolicy, MergeCandidate, MergePolicy};

/// Segments beyond which the segments the log merge policy leaves are merged.
pub const MAX_SEGMENTS: usize = 7;

/// Tantivy's [`LogMergePolicy`]; when it merges nothing and more than [`MAX_SEGMENTS`] segments
/// are there (and not being merged), all of them but the largest are merged into one. Where the
/// log policy merges, it decides alone: a bound below eight would merge the first commits'
/// segments before the log policy's level of eight could fill, and leave several segments of
/// unlike sizes where it would have left one.
#[derive(Debug, Default)]
pub struct BoundedMergePolicy {
    log: LogMergePolicy,
}

impl MergePolicy for BoundedMergePolicy {
    fn compute_merge_candidates(&self, segments: &[SegmentMeta]) -> Vec<MergeCandidate> {
        let candidates = self.log.compute_merge_candidates(segments);
        if !candidates.is_empty() || segments.len() <= MAX_SEGMENTS {
            return candidates;
        }
        let mut by_size: Vec<&SegmentMeta> = segments.iter().collect();
        by_size.sort_by_key(|segment| segment.num_docs());
        by_size.pop();
        vec![MergeCandidate(
            by_size.iter().map(|segment| segment.id()).collect(),
        )]
    }
}

#[cfg(test)]
mod tests {
    use tantivy::index::SegmentId;
    use tantivy::schema::Schema;
    use tantivy::Index;

    use super::*;

    fn segments(docs: &[u32]) -> Vec<SegmentMeta> {
        let index = Index::create_in_ram(Schema::builder().build());
        docs.iter()
            .map(|&n| index.new_segment_meta(SegmentId::generate_random(), n))
            .collect()
    }

    /// Segment ids in a set order, to compare.
    fn sorted(ids: impl IntoIterator<Item = SegmentId>) -> Vec<SegmentId> {
        let mut ids: Vec<SegmentId> = ids.into_iter().collect();
        ids.sort();
        ids
    }

    #[test]
    fn segments_of_unlike_sizes_that_the_log_policy_leaves_are_merged_down_to_the_bound() {
        // four commits of 25,000 documents, each split unevenly between two indexing threads
        let sizes = [17_645, 16_900, 15_200, 13_400, 11_600, 9_800, 8_100, 7_355];
        let all = segments(&sizes);
        assert!(LogMergePolicy::default()
            .compute_merge_candidates(&all)
            .is_empty());
        let candidates = BoundedMergePolicy::default().compute_merge_candidates(&all);
        assert_eq!(candidates.len(), 1);
        // all but the largest: two segments remain
        assert_eq!(
            sorted(candidates[0].0.clone()),
            sorted(all[1..].iter().map(SegmentMeta::id))
        );
    }

    #[test]
    fn the_log_policy_decides_while_it_merges_or_the_segments_are_few() {
        let alike = segments(&[10_000; 8]);
        let log = LogMergePolicy::default().compute_merge_candidates(&alike);
        let bounded = BoundedMergePolicy::default().compute_merge_candidates(&alike);
        assert_eq!(log.len(), 1);
        assert_eq!(bounded.len(), 1);
        assert_eq!(sorted(bounded[0].0.clone()), sorted(log[0].0.clone()));
        // up to seven segments of unlike sizes stay as the log policy leaves them
        let sizes = [100_000, 40_000, 17_000, 12_500, 9_000, 800, 30];
        for n in 0..=MAX_SEGMENTS {
            let few = segments(&sizes[..n]);
            assert!(LogMergePolicy::default()
                .compute_merge_candidates(&few)
                .is_empty());
            assert!(BoundedMergePolicy::default()
                .compute_merge_candidates(&few)
                .is_empty());
        }
    }
}
