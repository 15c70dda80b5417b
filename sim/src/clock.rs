//! The exchange's clock: the wall clock, or the wall clock moved to start at `--now`, so the
//! listings, deliveries and timestamps of any calendar day can be simulated on any other. Time
//! still passes at its normal rate after the move.

use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds added to the wall clock (0 unless `--now` was given).
static OFFSET_MS: AtomicI64 = AtomicI64::new(0);

/// Moves the clock so that it reads `at_ms` now.
pub fn start_at(at_ms: i64) {
    OFFSET_MS.store(at_ms - options_core::clock::now_ms(), Ordering::Relaxed);
}

/// The exchange's time in Unix milliseconds.
pub fn now_ms() -> i64 {
    options_core::clock::now_ms() + OFFSET_MS.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_clock_reads_the_given_time_and_keeps_running() {
        let at = options_core::clock::parse_instant_ms("2031-12-31T09:00:00Z").unwrap();
        start_at(at);
        let read = now_ms();
        assert!((at..at + 5_000).contains(&read), "{read} vs {at}");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(now_ms() >= read + 20);
    }
}
