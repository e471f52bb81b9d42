//! The compute thread pool of this process. rayon's global pool does not survive `fork` (the child has its memory
//! but none of its threads, so the first parallel call would wait forever); the package therefore runs its
//! parallel work (tokenizing, the reward model's training) in a pool it owns and builds anew in every process —
//! the way Hugging Face tokenizers protects forked DataLoader workers.

use std::sync::{Arc, Mutex};

use rayon::{ThreadPool, ThreadPoolBuilder};

/// (process id, its pool).
static POOL: Mutex<Option<(u32, Arc<ThreadPool>)>> = Mutex::new(None);

/// This process's pool; a pool inherited through `fork` is abandoned (its threads are gone) and a new one built.
fn pool() -> Arc<ThreadPool> {
    let pid = std::process::id();
    let mut guard = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    match guard.as_ref() {
        Some((owner, pool)) if *owner == pid => pool.clone(),
        _ => {
            if let Some((_, inherited)) = guard.take() {
                // Dropping it would signal threads that do not exist in this process.
                std::mem::forget(inherited);
            }
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let pool = Arc::new(
                ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("birdie-compute-{i}"))
                    .build()
                    .expect("a thread pool starts"),
            );
            *guard = Some((pid, pool.clone()));
            pool
        }
    }
}

/// Runs `f` in this process's pool (rayon calls inside it, the tokenizer's included, use that pool).
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    pool().install(f)
}
