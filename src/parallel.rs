//! Running independent work (environments, stages, runs of objects) on every core, with
//! the results in input order so that output never depends on scheduling.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

/// The number of cores this process may use, asked of the system once (the standard
/// library reads the cgroup quota files on every call).
pub fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// `f` over every item, on all cores; the results in order. The items run as tasks of
/// rayon's pool (one worker per core, work stealing), so maps nested in maps (the
/// environments, then the stages of each) share the cores instead of each spawning
/// threads of its own: a worker waiting for its part of one map takes up tasks of
/// another. A panic in `f` is resumed on the calling thread.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() <= 1 {
        return items.iter().map(f).collect();
    }
    // Every item is a task of its own: the callers' items are coarse (environments,
    // jobs, runs of objects), never worth batching.
    let f = &f;
    items.par_iter().with_max_len(1).map(f).collect()
}

/// `f` over every item, at most `lanes` at once: that many lanes run at once, each
/// taking the next item not yet taken whenever it is free; the results in order. An item
/// waits only for a free lane, never for a whole batch.
pub fn map_in_lanes<T: Sync, R: Send>(
    items: &[T],
    lanes: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let lanes: Vec<usize> = (0..lanes.clamp(1, items.len().max(1))).collect();
    let mut done: Vec<(usize, R)> = map(&lanes, |_| {
        let mut mine = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            mine.push((i, f(item)));
        }
        mine
    })
    .into_iter()
    .flatten()
    .collect();
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// `a` and `b` at once, on the pool; both results. For two pieces of work that need
/// different things (the cores, the file system) and neither of which waits for the
/// other.
pub fn both<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    rayon::join(a, b)
}

/// `items` cut into runs of consecutive items, a few per core: per-object work inside
/// one environment balances across cores without a thread per object.
pub fn runs<T>(items: &[T]) -> Vec<&[T]> {
    const RUNS_PER_CORE: usize = 4;
    const MIN_RUN: usize = 32;
    let run = items.len().div_ceil(cores() * RUNS_PER_CORE).max(MIN_RUN);
    items.chunks(run).collect()
}

/// `f` over [`runs`] of `items`, on all cores; the results concatenated in order.
pub fn map_chunks<'a, T: Sync, R: Send>(
    items: &'a [T],
    f: impl Fn(&'a [T]) -> Vec<R> + Sync,
) -> Vec<R> {
    map(&runs(items), |part: &&'a [T]| f(part))
        .into_iter()
        .flatten()
        .collect()
}

/// Frees `value` on the pool, so that the caller need not wait for it: a compiled
/// fleet's rendered tree is thousands of allocations, milliseconds on one core at the
/// very end of a command, whose answer does not depend on them. If the process ends
/// first, the system takes the memory back anyway. (A thread of its own would cost a
/// fresh heap of the allocator's: huge pages zeroed to free memory.)
pub fn drop_later<T: Send + 'static>(value: T) {
    rayon::spawn(move || drop(value));
}

/// `f` over every owned item, each a task of its own, on all cores; the results in
/// order. For coarse items that `f` consumes (an environment's source trees).
pub fn map_owned<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    if items.len() <= 1 {
        return items.into_iter().map(f).collect();
    }
    let f = &f;
    items.into_par_iter().with_max_len(1).map(f).collect()
}

/// `f` over owned runs of `items` (cut as [`runs`] cuts them), on all cores; the results
/// concatenated in order. For work that consumes its items, so that dropping them is
/// spread over the cores too.
pub fn map_owned_runs<T: Send, R: Send>(
    items: Vec<T>,
    f: impl Fn(Vec<T>) -> Vec<R> + Sync,
) -> Vec<R> {
    let lengths: Vec<usize> = runs(&items).iter().map(|run| run.len()).collect();
    let mut rest = items.into_iter();
    let owned: Vec<Vec<T>> = lengths
        .iter()
        .map(|&n| rest.by_ref().take(n).collect())
        .collect();
    map_owned(owned, f).into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_input_order_whatever_the_scheduling() {
        let items: Vec<u64> = (0..1000).collect();
        let slow_first = |&i: &u64| {
            if i < 4 {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            i * 2
        };
        assert_eq!(
            map(&items, slow_first),
            items.iter().map(|i| i * 2).collect::<Vec<_>>()
        );
        let doubled = map_chunks(&items, |run| run.iter().map(|i| i * 2).collect());
        assert_eq!(doubled, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert!(map_chunks(&[] as &[u64], |run| run.to_vec()).is_empty());
        let owned = map_owned_runs(items.iter().map(|i| i.to_string()).collect(), |run| {
            run.into_iter().map(|s| s + "!").collect()
        });
        assert_eq!(
            owned,
            items.iter().map(|i| format!("{i}!")).collect::<Vec<_>>()
        );
        assert!(map_owned_runs(Vec::<u64>::new(), |run| run).is_empty());
        let strings: Vec<String> = items.iter().map(|i| i.to_string()).collect();
        assert_eq!(
            map_owned(strings.clone(), |s| s + "?"),
            strings.iter().map(|s| format!("{s}?")).collect::<Vec<_>>()
        );
        for lanes in [0, 1, 2, 3, 7] {
            let slow_first = |&i: &u64| {
                if i % 3 == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                i * 2
            };
            let doubled = map_in_lanes(&items[..20], lanes, slow_first);
            assert_eq!(
                doubled,
                items[..20].iter().map(|i| i * 2).collect::<Vec<_>>()
            );
        }
        assert!(map_in_lanes(&[] as &[u64], 2, |i| *i).is_empty());
    }

    #[test]
    fn a_value_dropped_later_is_dropped_on_another_thread() {
        struct Flag(std::sync::mpsc::Sender<std::thread::ThreadId>);
        impl Drop for Flag {
            fn drop(&mut self) {
                let _ = self.0.send(std::thread::current().id());
            }
        }
        let (tx, rx) = std::sync::mpsc::channel();
        drop_later(Flag(tx));
        let dropped_on = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the value is dropped");
        assert_ne!(dropped_on, std::thread::current().id());
    }

    #[test]
    fn lanes_run_at_once_but_never_more_than_asked() {
        let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let items: Vec<u64> = (0..12).collect();
        map_in_lanes(&items, 2, |_| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(2));
            running.fetch_sub(1, Ordering::SeqCst);
        });
        assert!(
            most.load(Ordering::SeqCst) <= 2,
            "more than two items ran at once"
        );
    }

    #[test]
    fn a_panic_on_any_thread_reaches_the_caller() {
        let items: Vec<u64> = (0..64).collect();
        for bad in [0, 63] {
            let panicked = std::panic::catch_unwind(|| {
                map(&items, |&i| {
                    assert_ne!(i, bad, "item {bad} fails");
                    i
                })
            });
            let message = panicked.expect_err("the panic is resumed");
            let text = message
                .downcast_ref::<String>()
                .expect("a formatted panic message");
            assert!(text.contains(&format!("item {bad} fails")), "{text}");
        }
    }
}
