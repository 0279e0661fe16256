//! One module per command: the logic of `fetch`, `verify`, `list` and `path`.

pub mod add;
pub mod cache_info;
pub mod diff;
pub mod fetch;
pub mod gc;
pub mod inspect;
pub mod list;
pub mod path;
pub mod remove;
pub mod update;
pub mod verify;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `work` on every item with up to `jobs` threads, keeping results in input order.
pub(crate) fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = work(item);
                    results.lock().unwrap()[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every item was processed"))
        .collect()
}

/// Takes the cache-wide lock shared for the life of the returned guard, so that `gc`
/// (exclusive) never removes a blob this command uses; shared locks stack, so nested calls are
/// fine. If it cannot be taken the command still runs safely, only unprotected from a
/// concurrent `gc`.
pub(crate) fn hold_cache(
    cache: &crate::cache::Cache,
    reporter: &dyn crate::report::Reporter,
) -> Option<crate::lock::CacheLock> {
    cache
        .lock_shared(|| {
            reporter.event(&crate::report::Event::Warning {
                name: None,
                message: "waiting for `cargo models gc` to finish".into(),
            })
        })
        .ok()
}

/// The number of threads that keeps every core busy hashing.
pub fn default_hash_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
