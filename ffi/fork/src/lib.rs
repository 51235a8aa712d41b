//! One persistent helper thread that runs half of a fork-join.
//!
//! The media thread converts a whole-screen change while the X server is held for it; the second
//! core is idle then (the server and every client drawing wait), so the conversion is split in
//! two. `std::thread::scope` would spawn a thread per frame (a system call and allocations), and
//! a thread pool would need `'static` jobs. Here the helper is started once and each call hands
//! it a closure that borrows the caller's data: sound because [`ForkJoin::join`] does not return
//! (or unwind) before the helper has finished with it. That lifetime erasure is the one `unsafe`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// A job for the helper: a borrowed closure whose lifetime the caller guarantees.
struct Job(*const (dyn Fn() + Sync + 'static));

// SAFETY: the closure behind the pointer is `Sync`, so calling it from the helper thread is
// sound; the pointer is only dereferenced while `join` keeps the closure alive.
unsafe impl Send for Job {}

#[derive(Default)]
struct State {
    job: Option<Job>,
    /// The job handed over has finished (or there is none).
    done: bool,
    /// The last job panicked.
    panicked: bool,
    stop: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere while holding it; the state stays usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until the job handed over is done; returns whether it panicked.
    fn wait_done(&self) -> bool {
        let mut state = self.lock();
        while !state.done {
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.panicked
    }
}

/// A helper thread for [`ForkJoin::join`]; stopped and joined on drop.
pub struct ForkJoin {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl ForkJoin {
    /// Starts the helper thread, named `name`.
    ///
    /// # Errors
    /// The OS error when the thread cannot be started.
    pub fn new(name: &str) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                done: true,
                ..State::default()
            }),
            changed: Condvar::new(),
        });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || serve(&worker))?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Runs `a` on this thread and `b` on the helper at the same time, and returns `a`'s result
    /// once both have finished. Nothing is allocated.
    ///
    /// # Panics
    /// When `a` panics (after `b` has finished), or when `b` panicked.
    pub fn join<RA>(&mut self, a: impl FnOnce() -> RA, b: impl FnOnce() + Send) -> RA {
        let slot = Mutex::new(Some(b));
        let run = move || {
            let b = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(b) = b {
                b();
            }
        };
        let borrowed: &(dyn Fn() + Sync) = &run;
        // SAFETY: only the lifetime is erased. `run` lives until the end of this function, and
        // the helper is done with it before then: `Waiter` waits for the helper when this
        // function returns or unwinds, and `&mut self` allows one job at a time.
        let job: *const (dyn Fn() + Sync + 'static) = unsafe {
            std::mem::transmute::<*const (dyn Fn() + Sync + '_), *const (dyn Fn() + Sync + 'static)>(
                borrowed,
            )
        };
        {
            let mut state = self.shared.lock();
            state.job = Some(Job(job));
            state.done = false;
            state.panicked = false;
        }
        self.shared.changed.notify_all();
        let waiter = Waiter(&self.shared);
        let ra = a();
        let b_panicked = waiter.finish();
        assert!(!b_panicked, "the helper's half of a fork-join panicked");
        ra
    }
}

/// Waits for the helper's job when dropped, so that an unwinding `a` cannot free what the
/// helper still reads.
struct Waiter<'a>(&'a Shared);

impl Waiter<'_> {
    fn finish(self) -> bool {
        let panicked = self.0.wait_done();
        std::mem::forget(self);
        panicked
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.0.wait_done();
    }
}

/// The helper's loop: run each job handed over, report it done, until stopped.
fn serve(shared: &Shared) {
    loop {
        let job = {
            let mut state = shared.lock();
            loop {
                if state.stop {
                    return;
                }
                if let Some(job) = state.job.take() {
                    break job;
                }
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(|p| p.into_inner());
            }
        };
        // SAFETY: `join` keeps the closure alive until `done` is set below.
        let outcome = catch_unwind(AssertUnwindSafe(|| unsafe { (*job.0)() }));
        let mut state = shared.lock();
        state.done = true;
        state.panicked = outcome.is_err();
        drop(state);
        shared.changed.notify_all();
    }
}

impl Drop for ForkJoin {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[test]
    fn both_halves_fill_one_borrowed_buffer_on_two_threads() {
        let mut fork = ForkJoin::new("fork-test").expect("thread starts");
        let mut buf = vec![0u32; 1000];
        for round in 1..=50u32 {
            let (top, bottom) = buf.split_at_mut(500);
            let caller = std::thread::current().id();
            let mut helper_thread = None;
            let a_result = fork.join(
                || {
                    top.iter_mut().for_each(|v| *v = round);
                    7
                },
                || {
                    bottom.iter_mut().for_each(|v| *v = round * 2);
                    helper_thread = Some(std::thread::current().id());
                },
            );
            assert_eq!(a_result, 7);
            assert_ne!(helper_thread, Some(caller));
            assert!(helper_thread.is_some());
            assert!(buf[..500].iter().all(|&v| v == round));
            assert!(buf[500..].iter().all(|&v| v == round * 2));
        }
    }

    #[test]
    fn a_panicking_helper_half_is_reported_and_the_helper_goes_on() {
        let mut fork = ForkJoin::new("fork-test").expect("thread starts");
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            fork.join(|| (), || panic!("helper half fails"));
        }));
        assert!(outcome.is_err());
        let mut ran = false;
        fork.join(|| (), || ran = true);
        assert!(ran);
    }

    #[test]
    fn a_panicking_caller_half_waits_for_the_helper_half() {
        let mut fork = ForkJoin::new("fork-test").expect("thread starts");
        let finished = AtomicBool::new(false);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            fork.join(
                || panic!("caller half fails"),
                || {
                    std::thread::sleep(Duration::from_millis(50));
                    finished.store(true, Ordering::SeqCst);
                },
            );
        }));
        assert!(outcome.is_err());
        // The unwinding caller did not leave before the helper was done with borrowed data.
        assert!(finished.load(Ordering::SeqCst));
    }
}
