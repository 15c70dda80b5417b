//! Body of the feeder's fuzz target (`fuzz/fuzz_targets/ticker_frame.rs`), here so that
//! `cargo test` replays the stored corpus (`make test`) through the same code.

use std::time::Instant;

use crate::ticker::{parse_frame, parse_rest_ticker, Frame};

/// Any text as a WebSocket frame and as a REST ticker item: garbled input is an error, never a
/// panic, and a ticker that parses names a symbol.
pub fn ticker_frame(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = Instant::now();
    if let Ok(Frame::Ticker(t)) = parse_frame(text, now) {
        assert!(!t.symbol.is_empty());
        let _ = t.base();
    }
    if let Ok(item) = serde_json::from_str::<serde_json::Value>(text) {
        if let Ok(t) = parse_rest_ticker(&item, 1, now) {
            assert!(!t.symbol.is_empty());
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ticker_corpus_replays() {
        options_core::fuzzing::replay_corpus("ticker_frame", super::ticker_frame);
    }
}
