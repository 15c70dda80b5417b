//! Bodies of the core's fuzz targets (`fuzz/fuzz_targets/`), here so that `cargo test` replays
//! the stored corpus (`make test`) through the same code that `make fuzz` explores with.

use crate::{parse_alert_rules_json, parse_number, parse_symbol, Expiry};

/// Any text as a symbol, an expiry, a number and a set of alert rules. What parses must
/// round-trip through its canonical spelling; nothing may panic (overflow included).
pub fn symbol_text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(s) = parse_symbol(text) {
        let again = parse_symbol(&s.canonical()).unwrap_or_else(|e| {
            panic!(
                "canonical {} of {text:?} does not parse: {e}",
                s.canonical()
            )
        });
        assert_eq!(again, s, "{text:?} → {}", s.canonical());
        assert!(s.strike.is_finite() && s.strike > 0.0, "strike of {text:?}");
        let _ = (s.expiry.timestamp_ms(), s.expiry.years_until(0));
    }
    if let Ok(e) = Expiry::parse(text) {
        assert_eq!(
            Expiry::parse(&e.iso()).ok(),
            Some(e),
            "{text:?} → {}",
            e.iso()
        );
        if (2000..2100).contains(&e.year()) {
            assert_eq!(Expiry::parse(&e.code()).ok(), Some(e));
            assert_eq!(Expiry::parse(&e.padded()).ok(), Some(e));
        }
        assert_eq!(Expiry::from_unix_days(e.days_since_epoch()), Some(e));
        let _ = e.timestamp_ms();
    }
    if let Ok(v) = parse_number(text) {
        assert!(v.is_finite(), "{text:?} parsed to {v}");
        assert_eq!(
            parse_number(&crate::format_number(v))
                .ok()
                .map(f64::to_bits),
            Some(v.to_bits())
        );
    }
    let _ = parse_alert_rules_json(text);
}

/// Runs `body` over every file of `fuzz/corpus/<target>` (each crate's corpus test), naming
/// the input that fails.
pub fn replay_corpus(target: &str, body: fn(&[u8])) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the corpora are kept in the repository)",
            dir.display()
        )
    });
    let mut n = 0;
    for entry in entries {
        let path = entry.expect("corpus entry").path();
        let data = std::fs::read(&path).expect("corpus file");
        if std::panic::catch_unwind(|| body(&data)).is_err() {
            panic!("fuzz input {} fails", path.display());
        }
        n += 1;
    }
    assert!(n > 0, "{} is empty", dir.display());
}

#[cfg(test)]
mod tests {
    #[test]
    fn symbol_corpus_replays() {
        super::replay_corpus("symbol_text", super::symbol_text);
    }
}
