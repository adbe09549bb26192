//! Work run on a new commit's searcher before readers get it (tantivy's warmers).

use std::sync::{Arc, RwLock};

use tantivy::{Searcher, SearcherGeneration, Warmer};

/// What runs on each new commit's searcher before it is published: readers go on with the
/// previous commit meanwhile, and a write returns once it is done.
pub type WarmFn = Arc<dyn Fn(&Searcher) + Send + Sync>;

/// The one warmer a store registers with its reader; what it runs is set later, by whoever owns
/// what is to be warmed ([`super::Store::set_warmer`]).
#[derive(Default)]
pub(super) struct WarmerSlot(RwLock<Option<WarmFn>>);

impl WarmerSlot {
    pub(super) fn set(&self, warm: WarmFn) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Some(warm);
    }
}

impl Warmer for WarmerSlot {
    fn warm(&self, searcher: &Searcher) -> tantivy::Result<()> {
        // cloned out so that setting another one never waits for a warm-up
        let warm = self.0.read().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(warm) = warm {
            // a warm-up that fails must not fail the commit it runs in (which is already durable)
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| warm(searcher)));
        }
        Ok(())
    }

    fn garbage_collect(&self, _live_generations: &[&SearcherGeneration]) {}
}
