//! CPU priority of the server's background threads.
//!
//! Imports (parsing the file), index writers (ours and tantivy's indexing, merging and compressing
//! threads) and the term recogniser's rebuilds run at a lower priority (a higher nice value) than the threads answering
//! requests, so that a running import slows down when reads need the CPU instead of slowing the
//! reads down: the import still gets every cycle reads leave, and all of them when there are none.

use std::sync::atomic::{AtomicI32, Ordering};

/// Names (as the kernel shows them, 15 bytes at most) of the threads that do background work.
const BACKGROUND: &[&str] = &[
    "index-writer",
    "tm-writer",
    "thrd-tantivy-",
    "merge_thread_",
    "segment_update",
    "docstore-compr",
    "recogniser",
    "import",
];

/// The nice value background threads take (0: the same priority as requests, the default
/// outside `serve`).
static BACKGROUND_NICE: AtomicI32 = AtomicI32::new(0);

/// Sets the nice value background threads take: those that lower themselves as they start
/// ([`lower_this_thread`]) and those [`keep_background_threads_lowered`] finds.
pub fn set_background_nice(nice: i32) {
    BACKGROUND_NICE.store(nice, Ordering::Relaxed);
}

/// Gives every background thread of the process the background nice value (Linux; elsewhere a
/// no-op). Threads started by a background thread inherit it.
fn lower_background_threads() {
    let nice = BACKGROUND_NICE.load(Ordering::Relaxed);
    if nice == 0 {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return;
        };
        for task in tasks.flatten() {
            let Ok(tid) = task.file_name().to_string_lossy().parse::<libc::id_t>() else {
                continue;
            };
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if BACKGROUND.iter().any(|b| comm.trim_end().starts_with(b)) {
                set_nice(tid, nice);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// Keeps every background thread at the background nice value from now on: lowers those running,
/// then looks again every two seconds for new ones (tantivy starts indexing threads of its own
/// after commits, from whichever thread commits).
pub fn keep_background_threads_lowered() {
    if BACKGROUND_NICE.load(Ordering::Relaxed) == 0 {
        return;
    }
    lower_background_threads();
    let _ = std::thread::Builder::new()
        .name("priority".into())
        .spawn(|| loop {
            std::thread::sleep(std::time::Duration::from_secs(2));
            lower_background_threads();
        });
}

/// Gives the calling thread, a background thread, the background nice value (Linux; elsewhere a
/// no-op).
pub fn lower_this_thread() {
    let nice = BACKGROUND_NICE.load(Ordering::Relaxed);
    if nice == 0 {
        return;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: gettid has no preconditions
    set_nice(unsafe { libc::gettid() } as libc::id_t, nice);
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

#[cfg(target_os = "linux")]
fn set_nice(tid: libc::id_t, nice: i32) {
    // SAFETY: setpriority only reads its arguments; on Linux PRIO_PROCESS with a thread id sets
    // that thread's nice value. Failure (a lower value without the privilege) leaves it as it was.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, tid, nice);
    }
}
