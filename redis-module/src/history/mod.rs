//! The chain's own history (ANALYTICS.md, History): one sample of its analytics on the write
//! that crosses an interval boundary, kept for a retention period, in a compact encoding.
//! Pure Rust, no Redis here.
//!
//! A sample holds the index, the totals' sums, every tenor's ATM IV, RR25 and BF25, and per live
//! expiry its forward, ATM IV, RR25, BF25, put/call ratio, max pain and GEX (`sample`). The
//! totals' ratios are recomputed from the stored sums when read.
//!
//! Samples are appended to chunks of at most `CHUNK_SAMPLES`; a chunk is a byte string
//! decodable on its own. The newest chunk takes samples one at a time in rows (`rows`: 10
//! significant digits, each value a change from the previous sample). A full chunk is sealed
//! into columns (`columns`: 7 significant digits at least, changes bit-packed per series, the
//! tenors recomputed on read), about a third of the size. Settings are `settings`.

mod columns;
mod decimal;
mod rows;
mod sample;
mod settings;
mod varint;

pub use columns::{Want, DIGITS};
pub use sample::{ExpiryValues, Sample, EXPIRY_METRICS, TENOR_METRICS, TOTAL_METRICS};
pub use settings::{apply_settings, parse_settings, settings, Settings};

use rows::RowEncoder;

/// Samples per chunk: two hours at the default interval. A chunk decodes on its own, so a
/// query reads at most one chunk before its range; a chunk's first sample costs full values.
pub const CHUNK_SAMPLES: u32 = 120;

/// Consecutive samples, encoded: in rows while it takes samples, in columns once sealed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Chunk {
    pub count: u32,
    pub first_ts: i64,
    pub last_ts: i64,
    pub bytes: Vec<u8>,
}

impl Chunk {
    pub fn is_sealed(&self) -> bool {
        columns::is_columns(&self.bytes)
    }

    /// The samples with `from <= ts <= to`, with what `want` asks for (checked: corrupt bytes
    /// are an error).
    pub fn read(&self, want: Want, from: i64, to: i64) -> Result<Vec<Sample>, String> {
        if self.is_sealed() {
            columns::decode(&self.bytes, want, from, to)
        } else {
            // Row chunks store the tenors: only an expiry's figures need the expiry section.
            let expiries = matches!(want, Want::All | Want::Expiry(_));
            rows::decode(&self.bytes, self.count, from, to, expiries).map(|(s, _)| s)
        }
    }

    /// A chunk from stored parts, checked by decoding it; a row chunk comes with the encoder
    /// that continues it.
    fn from_parts(count: u32, bytes: Vec<u8>) -> Result<(Chunk, Option<RowEncoder>), String> {
        let (samples, encoder) = if columns::is_columns(&bytes) {
            (
                columns::decode(&bytes, Want::All, i64::MIN, i64::MAX)?,
                None,
            )
        } else {
            let (s, e) = rows::decode(&bytes, count, i64::MIN, i64::MAX, true)?;
            (s, Some(e))
        };
        if samples.len() != count as usize {
            return Err(format!(
                "history chunk holds {} samples, not {count}",
                samples.len()
            ));
        }
        if samples.windows(2).any(|w| w[1].ts <= w[0].ts) {
            return Err("history samples out of order".into());
        }
        let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
            return Err("history chunk of 0 samples".into());
        };
        Ok((
            Chunk {
                count,
                first_ts: first.ts,
                last_ts: last.ts,
                bytes,
            },
            encoder,
        ))
    }

    /// Rewrites a row chunk in columns. A chunk that does not decode (which `from_parts`
    /// rules out) stays as it is.
    fn seal(&mut self) {
        if self.is_sealed() {
            return;
        }
        if let Ok((samples, _)) = rows::decode(&self.bytes, self.count, i64::MIN, i64::MAX, true) {
            self.bytes = columns::encode(&samples);
        }
        self.bytes.shrink_to_fit();
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    /// Oldest first; the last one takes new samples unless it is sealed.
    chunks: Vec<Chunk>,
    /// The row encoder after the last chunk's last sample.
    encoder: RowEncoder,
    /// Bytes held by every chunk but the last, kept as chunks come and go so that `memory`
    /// (asked on every write for the module's totals) is O(1).
    sealed_bytes: usize,
}

impl History {
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    pub fn newest_ts(&self) -> Option<i64> {
        self.chunks.last().map(|c| c.last_ts)
    }

    /// Whether a write at `w` takes a sample (ANALYTICS.md: none yet, or a later interval than
    /// the newest sample's).
    pub fn wants_sample(&self, w: i64, s: Settings) -> bool {
        if s.retention_ms <= 0 {
            return false;
        }
        match self.newest_ts() {
            None => true,
            Some(newest) => w.div_euclid(s.interval_ms) > newest.div_euclid(s.interval_ms),
        }
    }

    /// Appends a sample (later than the newest) and drops what the retention no longer covers.
    pub fn push(&mut self, sample: &Sample, s: Settings) {
        let open = self
            .chunks
            .last()
            .is_some_and(|c| !c.is_sealed() && c.count < CHUNK_SAMPLES);
        if !open {
            if let Some(last) = self.chunks.last_mut() {
                last.seal();
                self.sealed_bytes += last.bytes.capacity();
            }
            self.chunks.push(Chunk {
                first_ts: sample.ts,
                ..Chunk::default()
            });
            // A chunk decodes on its own: start from an empty state.
            self.encoder = RowEncoder::default();
        }
        let Some(chunk) = self.chunks.last_mut() else {
            return;
        };
        self.encoder.push(&mut chunk.bytes, sample);
        chunk.count += 1;
        chunk.last_ts = sample.ts;
        let cutoff = sample.ts - s.retention_ms;
        // Whole chunks only; samples of the oldest chunk before the cutoff are skipped on read.
        let keep_from = self.chunks.partition_point(|c| c.last_ts < cutoff);
        for c in self.chunks.drain(..keep_from) {
            self.sealed_bytes -= c.bytes.capacity();
        }
    }

    /// Samples with `from <= ts <= to` within the retention, oldest first, with what `want`
    /// asks for.
    pub fn samples(
        &self,
        from: i64,
        to: i64,
        s: Settings,
        want: Want,
    ) -> Result<Vec<Sample>, String> {
        let cutoff = self.newest_ts().map_or(i64::MIN, |n| n - s.retention_ms);
        let from = from.max(cutoff);
        let chunks = || {
            self.chunks
                .iter()
                .filter(move |c| c.last_ts >= from && c.first_ts <= to)
        };
        let mut out = Vec::with_capacity(chunks().map(|c| c.count as usize).sum());
        for c in chunks() {
            if c.is_sealed() {
                columns::decode_into(&mut out, &c.bytes, want, from, to)?;
            } else {
                out.extend(c.read(want, from, to)?);
            }
        }
        Ok(out)
    }

    /// Bytes held, for `MEMORY USAGE`.
    pub fn memory(&self) -> usize {
        self.chunks.capacity() * std::mem::size_of::<Chunk>()
            + self
                .chunks
                .iter()
                .map(|c| c.bytes.capacity())
                .sum::<usize>()
            + self.encoder.memory()
    }

    /// A history from stored chunks (RDB, AOF restore), each checked by decoding it. Row
    /// chunks that an earlier version sealed stay rows (they read the same).
    pub fn from_chunks(parts: Vec<(u32, Vec<u8>)>) -> Result<History, String> {
        let mut h = History::default();
        let mut last = i64::MIN;
        for (count, bytes) in parts {
            if count == 0 || count > CHUNK_SAMPLES {
                return Err(format!("history chunk of {count} samples"));
            }
            let (chunk, encoder) = Chunk::from_parts(count, bytes)?;
            if chunk.first_ts <= last {
                return Err("history chunks out of order".into());
            }
            last = chunk.last_ts;
            if let Some(sealed) = h.chunks.last() {
                h.sealed_bytes += sealed.bytes.capacity();
            }
            h.chunks.push(chunk);
            h.encoder = encoder.unwrap_or_default();
        }
        // An open chunk written before the volatility index was recorded is rewritten in the
        // current form, so the samples appended to it carry the index.
        if let Some(open) = h.chunks.last_mut() {
            if !open.is_sealed() && rows::is_legacy(&open.bytes) {
                let (samples, _) = rows::decode(&open.bytes, open.count, i64::MIN, i64::MAX, true)?;
                let (mut bytes, mut encoder) = (Vec::new(), RowEncoder::default());
                for s in &samples {
                    encoder.push(&mut bytes, s);
                }
                open.bytes = bytes;
                h.encoder = encoder;
            }
        }
        Ok(h)
    }

    /// A copy without spare capacity (`COPY`).
    pub fn compact(&self) -> History {
        let mut h = self.clone();
        h.chunks.shrink_to_fit();
        for c in &mut h.chunks {
            c.bytes.shrink_to_fit();
        }
        let n = h.chunks.len();
        h.sealed_bytes = h.chunks[..n.saturating_sub(1)]
            .iter()
            .map(|c| c.bytes.capacity())
            .sum();
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use options_core::Expiry;
    use proptest::prelude::*;

    const S: Settings = Settings {
        interval_ms: 60_000,
        retention_ms: 3_600_000,
        flow_retention_ms: 86_400_000,
    };

    /// Chunks written before the volatility index was recorded (rows without a magic byte,
    /// columns with the older one) load and read without it; the open one is rewritten so the
    /// samples appended to it carry it.
    #[test]
    fn chunks_from_before_the_volatility_index_load_and_the_open_one_is_rewritten() {
        let old: Vec<Sample> = (0..4)
            .map(|i| Sample {
                vol_index: None,
                ..sample(1_800_000_000_000 + i * 60_000, i as f64)
            })
            .collect();
        let sealed = columns::encode_legacy(&old[..2]);
        let open = rows::encode_legacy(&old[2..]);
        assert!(rows::is_legacy(&open) && columns::is_columns(&sealed));
        let mut h = History::from_chunks(vec![(2, sealed), (2, open)]).unwrap();
        assert!(
            !rows::is_legacy(&h.chunks()[1].bytes),
            "the open chunk is rewritten"
        );
        let back = h.samples(i64::MIN, i64::MAX, S, Want::All).unwrap();
        assert_eq!(back.len(), 4);
        assert!(back.iter().all(|s| s.vol_index.is_none()));
        assert_eq!(back[3].total("oi_puts"), old[3].total("oi_puts"));
        let next = sample(1_800_000_000_000 + 4 * 60_000, 4.0);
        h.push(&next, S);
        let back = h.samples(i64::MIN, i64::MAX, S, Want::Totals).unwrap();
        assert_eq!(back.len(), 5);
        assert_eq!(back[4].total("vol_index"), next.vol_index);
        assert_eq!(back[3].total("vol_index"), None);
    }

    fn sample(ts: i64, x: f64) -> Sample {
        let e = |d: u16| Expiry::from_ymd(2026, 12, d as u8).unwrap();
        Sample {
            ts,
            index: Some(97_000.0 + x),
            vol_index: Some(52.5 + x / 100.0),
            totals: [
                Some(10.5),
                Some(2.0 * x),
                Some(0.0),
                None,
                Some(-x * 1e6),
                Some(3e9),
            ],
            tenors: [[Some(0.5 + x / 1e4), None, Some(-0.001)]; 5],
            expiries: vec![
                (
                    e(3),
                    [
                        Some(97_010.0),
                        Some(0.5),
                        None,
                        None,
                        Some(1.5),
                        Some(95_000.0),
                        Some(-1.0),
                    ],
                ),
                (
                    e(26),
                    [
                        Some(97_100.0 + x),
                        Some(0.55),
                        Some(0.01),
                        Some(0.002),
                        None,
                        None,
                        Some(0.0),
                    ],
                ),
            ],
        }
    }

    fn close(a: Option<f64>, b: Option<f64>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() <= 5e-10 * a.abs().max(b.abs()),
            (a, b) => a == b,
        }
    }

    #[test]
    fn samples_round_trip_within_ten_digits() {
        let mut h = History::default();
        for i in 0..100 {
            h.push(&sample(i * 60_000, i as f64 * 0.37), S);
        }
        let got = h.samples(i64::MIN, i64::MAX, S, Want::All).unwrap();
        let light = h.samples(i64::MIN, i64::MAX, S, Want::Totals).unwrap();
        assert_eq!(light.len(), got.len());
        assert!(light.iter().all(|x| x.expiries.is_empty()));
        assert_eq!(light.last().unwrap().index, got.last().unwrap().index);
        assert_eq!(
            got.len(),
            61,
            "retention: the last hour and its first minute"
        );
        for g in &got {
            let want = sample(g.ts, (g.ts / 60_000) as f64 * 0.37);
            assert!(close(g.index, want.index));
            assert!(g
                .totals
                .iter()
                .zip(&want.totals)
                .all(|(a, b)| close(*a, *b)));
            assert_eq!(g.expiries.len(), 2);
            assert!(close(
                g.expiry(want.expiries[1].0, "forward"),
                want.expiries[1].1[0]
            ));
            assert_eq!(g.expiry(want.expiries[0].0, "max_pain"), Some(95_000.0));
            assert_eq!(g.total("pcr_volume"), None, "0 calls' volume: no ratio");
            assert!(close(
                g.total("pcr_oi"),
                Some(2.0 * (g.ts / 60_000) as f64 * 0.37 / 10.5)
            ));
        }
    }

    #[test]
    fn sampling_follows_interval_boundaries() {
        let mut h = History::default();
        assert!(h.wants_sample(59_999, S));
        h.push(&sample(59_999, 1.0), S);
        assert!(!h.wants_sample(30_000, S), "older than the newest");
        assert!(!h.wants_sample(59_999, S));
        assert!(h.wants_sample(60_000, S), "the next interval");
        let off = Settings {
            retention_ms: 0,
            flow_retention_ms: 86_400_000,
            ..S
        };
        assert!(!History::default().wants_sample(0, off));
    }

    #[test]
    fn unchanged_values_cost_a_byte() {
        let mut h = History::default();
        h.push(&sample(0, 1.0), S);
        let first = h.chunks()[0].bytes.len();
        h.push(&sample(60_000, 1.0), S);
        let second = h.chunks()[0].bytes.len() - first;
        // time (3 bytes), 22 fixed values, the expiry count, per expiry its date and 7 values:
        // one byte per unchanged value.
        assert!(
            second <= 3 + 22 + 1 + 2 * (3 + 7),
            "{second} bytes for a repeated sample"
        );
    }

    #[test]
    fn stored_chunks_reload_and_corruption_is_refused() {
        let mut h = History::default();
        for i in 0..(CHUNK_SAMPLES as i64 + 5) {
            h.push(
                &sample(i * 60_000, i as f64),
                Settings {
                    retention_ms: i64::MAX / 2,
                    flow_retention_ms: 86_400_000,
                    ..S
                },
            );
        }
        assert_eq!(h.chunks().len(), 2);
        let parts: Vec<(u32, Vec<u8>)> = h
            .chunks()
            .iter()
            .map(|c| (c.count, c.bytes.clone()))
            .collect();
        let back = History::from_chunks(parts.clone()).unwrap();
        assert_eq!(back.newest_ts(), h.newest_ts());
        // The reloaded history continues with the same encoding.
        let (mut a, mut b) = (h.clone(), back);
        let wide = Settings {
            retention_ms: i64::MAX / 2,
            flow_retention_ms: 86_400_000,
            ..S
        };
        a.push(&sample(1e9 as i64, 3.0), wide);
        b.push(&sample(1e9 as i64, 3.0), wide);
        assert_eq!(
            a.chunks().last().unwrap().bytes,
            b.chunks().last().unwrap().bytes
        );
        for cut in [0, 1, 7, parts[1].1.len() - 1] {
            let mut bad = parts.clone();
            bad[1].1.truncate(cut);
            assert!(History::from_chunks(bad).is_err(), "truncated at {cut}");
        }
        let mut bad = parts.clone();
        bad[1].1[0] ^= 0xff;
        let _ = History::from_chunks(bad); // garbage: an error or a valid history, never a panic
        assert!(History::from_chunks(vec![(0, vec![])]).is_err());
    }

    #[test]
    fn memory_is_kept_exactly_as_chunks_come_and_go() {
        let mut h = History::default();
        let recount = |h: &History| {
            h.chunks.capacity() * std::mem::size_of::<Chunk>()
                + h.chunks().iter().map(|c| c.bytes.capacity()).sum::<usize>()
        };
        for i in 0..(3 * CHUNK_SAMPLES as i64) {
            h.push(&sample(i * 60_000, i as f64), S);
            let state = h.memory() - recount(&h);
            assert!(
                state < 4096,
                "only the encoder's state is beyond the chunks: {state}"
            );
        }
        let c = h.compact();
        assert_eq!(c.memory() - recount(&c), h.memory() - recount(&h));
        let parts = h
            .chunks()
            .iter()
            .map(|c| (c.count, c.bytes.clone()))
            .collect();
        let back = History::from_chunks(parts).unwrap();
        assert!(back.memory() >= recount(&back));
    }

    /// A sample whose tenors are what its expiries give (as `OPTIONS.ANALYTICS` has them).
    fn consistent(ts: i64, x: f64) -> Sample {
        let mut s = sample(ts, x);
        s.tenors = columns::tenors_of(ts, &s.expiries);
        s
    }

    #[test]
    fn full_chunks_are_sealed_into_columns_and_read_the_same_to_seven_digits() {
        let wide = Settings {
            retention_ms: i64::MAX / 2,
            flow_retention_ms: 86_400_000,
            ..S
        };
        let n = 2 * CHUNK_SAMPLES as i64 + 7;
        let mut h = History::default();
        for i in 0..n {
            h.push(&consistent(i * 60_000 + i % 7, i as f64 * 0.37), wide);
        }
        let sealed: Vec<bool> = h.chunks().iter().map(Chunk::is_sealed).collect();
        assert_eq!(
            sealed,
            [true, true, false],
            "all but the newest chunk sealed"
        );
        let rows_bytes = h.chunks()[2].bytes.len() as f64 / h.chunks()[2].count as f64;
        let column_bytes = h.chunks()[0].bytes.len() as f64 / h.chunks()[0].count as f64;
        assert!(
            column_bytes < rows_bytes / 2.0,
            "{column_bytes} vs {rows_bytes} bytes a sample"
        );
        let near = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() <= 5e-7 * b.abs().max(1e-300) + 1e-12,
            (a, b) => a == b,
        };
        let got = h.samples(i64::MIN, i64::MAX, wide, Want::All).unwrap();
        assert_eq!(got.len(), n as usize);
        for g in &got {
            let i = g.ts / 60_000;
            let want = consistent(g.ts, i as f64 * 0.37);
            assert!(near(g.index, want.index), "{g:?}");
            for (a, b) in g.totals.iter().zip(&want.totals) {
                assert!(near(*a, *b), "totals {a:?} vs {b:?}");
            }
            for (a, b) in g.tenors.iter().flatten().zip(want.tenors.iter().flatten()) {
                assert!(near(*a, *b), "tenors {a:?} vs {b:?} at {}", g.ts);
            }
            assert_eq!(g.expiries.len(), 2);
            for ((ea, va), (eb, vb)) in g.expiries.iter().zip(&want.expiries) {
                assert_eq!(ea, eb);
                for (a, b) in va.iter().zip(vb) {
                    assert!(near(*a, *b), "{a:?} vs {b:?}");
                }
            }
        }
        // Reads of part of the figures, across sealed and open chunks.
        let e = got[0].expiries[1].0;
        let one = h
            .samples(100 * 60_000, 130 * 60_000, wide, Want::Expiry(e))
            .unwrap();
        assert_eq!(
            one.len(),
            30,
            "samples 100 to 129 (each a few ms past its minute)"
        );
        assert!(one.iter().all(|s| s.expiries.iter().any(|(x, _)| *x == e)));
        for (slot, days) in options_core::figures::TENOR_DAYS.iter().enumerate() {
            let want = Want::Tenor {
                days: *days,
                metrics: [true, false, true],
            };
            let tenors = h.samples(0, 300 * 60_000, wide, want).unwrap();
            assert_eq!(tenors.len(), got.len());
            for (t, g) in tenors.iter().zip(&got) {
                let [atm, _, bf] = g.tenors[slot];
                let sealed = g.ts < 2 * CHUNK_SAMPLES as i64 * 60_000;
                // A row chunk stores every tenor; a sealed one computes only those asked for.
                let rr = if sealed { None } else { g.tenors[slot][1] };
                assert_eq!(t.tenors[slot], [atm, rr, bf], "{days} days at {}", g.ts);
            }
        }
        // Stored and reloaded, sealed chunks and the open one continue as before.
        let parts: Vec<(u32, Vec<u8>)> = h
            .chunks()
            .iter()
            .map(|c| (c.count, c.bytes.clone()))
            .collect();
        let mut back = History::from_chunks(parts).unwrap();
        let next = consistent(n * 60_000, 1.0);
        h.push(&next, wide);
        back.push(&next, wide);
        assert_eq!(back, h);
    }

    #[test]
    fn row_chunks_sealed_by_earlier_versions_still_read() {
        let wide = Settings {
            retention_ms: i64::MAX / 2,
            flow_retention_ms: 86_400_000,
            ..S
        };
        let mut h = History::default();
        for i in 0..CHUNK_SAMPLES as i64 {
            h.push(&sample(i * 60_000, i as f64), wide);
        }
        let rows = h.chunks()[0].clone();
        assert!(!rows.is_sealed());
        // An earlier version's RDB: a full row chunk followed by another.
        let mut later = History::default();
        later.push(&sample(CHUNK_SAMPLES as i64 * 60_000, 9.0), wide);
        let parts = vec![
            (rows.count, rows.bytes.clone()),
            (1, later.chunks()[0].bytes.clone()),
        ];
        let h = History::from_chunks(parts).unwrap();
        assert!(!h.chunks()[0].is_sealed());
        let got = h.samples(i64::MIN, i64::MAX, wide, Want::All).unwrap();
        assert_eq!(got.len(), CHUNK_SAMPLES as usize + 1);
        assert_eq!(got[5].index, sample(5 * 60_000, 5.0).index);
    }

    #[test]
    fn module_arguments() {
        assert_eq!(
            parse_settings(&["History-Interval", "30", "history-retention", "0"]).unwrap(),
            Settings {
                interval_ms: 30_000,
                retention_ms: 0,
                flow_retention_ms: 86_400_000,
            }
        );
        assert_eq!(
            parse_settings(&[]).unwrap(),
            Settings {
                interval_ms: 60_000,
                retention_ms: 2_592_000_000,
                flow_retention_ms: 86_400_000,
            }
        );
        assert!(parse_settings(&["history-interval", "0"])
            .unwrap_err()
            .contains("at least 1"));
        assert_eq!(
            parse_settings(&["flow-retention", "3600"])
                .unwrap()
                .flow_retention_ms,
            3_600_000
        );
        assert!(parse_settings(&["flow-retention", "0"])
            .unwrap_err()
            .contains("at least 1"));
        assert!(parse_settings(&["history-interval"])
            .unwrap_err()
            .contains("needs"));
        assert!(parse_settings(&["history-retention", "-5"]).is_err());
        assert!(parse_settings(&["colour", "5"])
            .unwrap_err()
            .contains("unknown module argument"));
    }

    proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300), count in 1u32..50) {
            let _ = Chunk::from_parts(count, bytes);
        }
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    use options_core::Expiry;

    /// `cargo test --release -p redis-options history::timing -- --ignored --nocapture`: how long a
    /// day of one tenor metric takes to read from 30 days of random walks (a profile aid; the
    /// benchmark is `module_history`).
    #[test]
    #[ignore]
    fn a_day_of_a_tenor() {
        let wide = Settings {
            interval_ms: 60_000,
            retention_ms: i64::MAX / 2,
            flow_retention_ms: 86_400_000,
        };
        let mut h = History::default();
        let mut seed = 7u64;
        let mut noise = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64 - 0.5
        };
        let start = 1_800_000_000_000i64;
        let mut iv = [0.5f64; 12];
        for m in 0..43_200i64 {
            let ts = start + m * 60_000;
            let today = ts.div_euclid(86_400_000);
            let mut expiries = Vec::new();
            for (e, v) in iv.iter_mut().enumerate() {
                *v += noise() * 0.001;
                let day = today + 1 + 7 * e as i64 - (today % 7);
                expiries.push((
                    Expiry::from_unix_days(day).unwrap(),
                    [
                        Some(97_000.0 + noise()),
                        Some(*v),
                        Some(-0.02 + noise() * 0.001),
                        Some(0.01 + noise() * 0.001),
                        Some(0.8 + noise() * 0.01),
                        Some(95_000.0),
                        Some(1e6 * noise()),
                    ],
                ));
            }
            let s = Sample {
                ts,
                index: Some(97_000.0 + noise()),
                vol_index: Some(50.0 + noise()),
                totals: [Some(1e5 + noise()); 6],
                tenors: [[None; 3]; 5],
                expiries,
            };
            h.push(&s, wide);
        }
        let from = start + 29 * 86_400_000;
        let t = std::time::Instant::now();
        let n = 50;
        for _ in 0..n {
            let want = Want::Tenor {
                days: 30,
                metrics: [true, false, false],
            };
            let got = h.samples(from, i64::MAX, wide, want).unwrap();
            assert_eq!(got.len(), 1440);
        }
        eprintln!(
            "a day of tenors: {:.3} ms a read; {} bytes of history",
            t.elapsed().as_secs_f64() * 1000.0 / n as f64,
            h.memory()
        );
    }
}
