//! A clean stop on Ctrl-C (SIGINT) and SIGTERM while gen writes: the signal
//! only sets a flag; gen stops before its next file, so every file is whole,
//! the manifest already lists what was written, and the lock is released. The
//! process then exits with 128 + the signal's number, as the shell expects.
//! Without a handler the default action would kill gen mid-run.

use std::sync::atomic::{AtomicI32, Ordering};

static RECEIVED: AtomicI32 = AtomicI32::new(0);

#[cfg(unix)]
mod sys {
    use std::os::raw::c_int;

    pub(crate) const SIGINT: c_int = 2;
    pub(crate) const SIGTERM: c_int = 15;

    unsafe extern "C" {
        // The C library's `signal` (std links it on every Unix); the handler
        // only stores to an atomic, which is async-signal-safe.
        fn signal(signum: c_int, handler: extern "C" fn(c_int)) -> usize;
    }

    extern "C" fn on_signal(signum: c_int) {
        super::RECEIVED.store(signum, std::sync::atomic::Ordering::SeqCst);
    }

    pub(crate) fn install() {
        for s in [SIGINT, SIGTERM] {
            // SAFETY: installs a handler that touches nothing but an atomic.
            unsafe {
                signal(s, on_signal);
            }
        }
    }
}

/// From now on SIGINT and SIGTERM ask for a stop instead of killing the process.
pub fn install() {
    #[cfg(unix)]
    sys::install();
}

/// The signal received since [`install`], if any.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The signal's name, for messages.
pub fn name(signal: i32) -> &'static str {
    match signal {
        2 => "Ctrl-C (SIGINT)",
        15 => "SIGTERM",
        _ => "a signal",
    }
}
