//! The chain's own history (ANALYTICS.md, History): one sample of its analytics on the write
//! that crosses an interval boundary, kept for a retention period, in a compact encoding.
//!
//! A sample holds the index, the totals' sums, every tenor's ATM IV, RR25 and BF25, and per live
//! expiry its forward, ATM IV, RR25, BF25, put/call ratio, max pain and GEX. The totals' ratios
//! are recomputed from the stored sums when read.
//!
//! Encoding. Samples are appended to chunks of at most `CHUNK_SAMPLES`; a chunk is a byte
//! string decodable on its own. Each value is rounded to 10 significant decimal digits (a
//! relative error below 5e-10, inside ANALYTICS.md's 1e-9) and written as a decimal exponent and
//! an integer significand; a value whose exponent matches the same series in the previous sample
//! stores only the zigzag varint of the significand's change, and an unchanged value one byte.
//! Slowly moving market figures then take 2 to 4 bytes instead of 8. Pure Rust, no Redis here.

use std::sync::atomic::{AtomicI64, Ordering};

use options_core::Expiry;

use crate::analytics::{Analytics, TENOR_DAYS};

/// Sampling interval, ms (module argument `history-interval`, seconds).
static INTERVAL_MS: AtomicI64 = AtomicI64::new(60_000);
/// Retention, ms (module argument `history-retention`, seconds); 0 turns history off.
static RETENTION_MS: AtomicI64 = AtomicI64::new(2_592_000_000);

/// Samples per chunk: two hours at the default interval. A chunk decodes on its own, so a
/// query reads at most one chunk before its range; a chunk's first sample costs full values.
pub const CHUNK_SAMPLES: u32 = 120;

/// Per-expiry figures of a sample, in this order.
pub const EXPIRY_METRICS: [&str; 7] = [
    "forward", "atm_iv", "rr25", "bf25", "pcr_oi", "max_pain", "gex",
];
/// Per-tenor figures of a sample, in this order.
pub const TENOR_METRICS: [&str; 3] = ["atm_iv", "rr25", "bf25"];
/// Underlying-wide figures: the index and the totals (ratios computed from the sums).
pub const TOTAL_METRICS: [&str; 9] = [
    "index",
    "oi_calls",
    "oi_puts",
    "volume_calls",
    "volume_puts",
    "gex",
    "notional_oi",
    "pcr_oi",
    "pcr_volume",
];
/// How many totals are stored (the rest are ratios of them).
const STORED_TOTALS: usize = 6;

/// The module arguments' values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub interval_ms: i64,
    pub retention_ms: i64,
}

pub fn settings() -> Settings {
    Settings {
        interval_ms: INTERVAL_MS.load(Ordering::Relaxed),
        retention_ms: RETENTION_MS.load(Ordering::Relaxed),
    }
}

/// Parses `history-interval N history-retention N` (seconds, any order, any case) from the
/// module's load arguments; other arguments are an error.
pub fn parse_settings(args: &[&str]) -> Result<Settings, String> {
    let mut s = Settings {
        interval_ms: 60_000,
        retention_ms: 2_592_000_000,
    };
    let mut it = args.iter();
    while let Some(name) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| format!("module argument {name} needs a number of seconds"))?;
        let secs: i64 = value
            .parse()
            .ok()
            .filter(|v| (0..=10 * 365 * 86_400).contains(v))
            .ok_or_else(|| {
                format!("module argument {name} must be seconds from 0 to 10 years, got '{value}'")
            })?;
        if name.eq_ignore_ascii_case("history-interval") {
            if secs < 1 {
                return Err("module argument history-interval must be at least 1 second".into());
            }
            s.interval_ms = secs * 1000;
        } else if name.eq_ignore_ascii_case("history-retention") {
            s.retention_ms = secs * 1000;
        } else {
            return Err(format!(
                "unknown module argument '{name}' (history-interval, history-retention)"
            ));
        }
    }
    Ok(s)
}

pub fn apply_settings(s: Settings) {
    INTERVAL_MS.store(s.interval_ms, Ordering::Relaxed);
    RETENTION_MS.store(s.retention_ms, Ordering::Relaxed);
}

/// One expiry's figures in a sample (`EXPIRY_METRICS`).
pub type ExpiryValues = (Expiry, [Option<f64>; 7]);

/// One sample, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub ts: i64,
    pub index: Option<f64>,
    /// `oi_calls oi_puts volume_calls volume_puts gex notional_oi`.
    pub totals: [Option<f64>; STORED_TOTALS],
    /// Per tenor of `TENOR_DAYS`: `TENOR_METRICS`.
    pub tenors: [[Option<f64>; 3]; 5],
    /// Per live expiry, chronological: `EXPIRY_METRICS`.
    pub expiries: Vec<ExpiryValues>,
}

impl Sample {
    pub fn of(a: &Analytics, ts: i64) -> Sample {
        let t = &a.totals;
        let mut tenors = [[None; 3]; 5];
        for (slot, tenor) in tenors.iter_mut().zip(&a.tenors) {
            *slot = [tenor.atm_iv, tenor.rr25, tenor.bf25];
        }
        Sample {
            ts,
            index: a.index,
            totals: [
                Some(t.oi_calls),
                Some(t.oi_puts),
                Some(t.volume_calls),
                Some(t.volume_puts),
                Some(t.gex),
                Some(t.notional_oi),
            ],
            tenors,
            expiries: a
                .expiries
                .iter()
                .filter_map(|e| {
                    Some((
                        e.expiry?,
                        [
                            e.forward,
                            e.atm_iv,
                            e.rr25,
                            e.bf25,
                            e.pcr_oi,
                            e.max_pain,
                            Some(e.gex),
                        ],
                    ))
                })
                .collect(),
        }
    }

    /// A total by name (`TOTAL_METRICS`), the ratios from the sums.
    pub fn total(&self, name: &str) -> Option<f64> {
        let ratio = |num: usize, den: usize| {
            let (n, d) = (self.totals[num]?, self.totals[den]?);
            (d != 0.0).then(|| n / d)
        };
        match name {
            "index" => self.index,
            "pcr_oi" => ratio(1, 0),
            "pcr_volume" => ratio(3, 2),
            _ => {
                let i = TOTAL_METRICS[1..=STORED_TOTALS]
                    .iter()
                    .position(|m| *m == name)?;
                self.totals[i]
            }
        }
    }

    pub fn tenor(&self, days: u32, metric: &str) -> Option<f64> {
        let t = TENOR_DAYS.iter().position(|d| *d == days)?;
        let m = TENOR_METRICS.iter().position(|x| *x == metric)?;
        self.tenors[t][m]
    }

    pub fn expiry(&self, e: Expiry, metric: &str) -> Option<f64> {
        let m = EXPIRY_METRICS.iter().position(|x| *x == metric)?;
        let i = self.expiries.binary_search_by(|(x, _)| x.cmp(&e)).ok()?;
        self.expiries[i].1[m]
    }

    /// The values in encoding order: index, totals, tenors (the fixed series).
    fn fixed(&self) -> [Option<f64>; 1 + STORED_TOTALS + 15] {
        let mut out = [None; 1 + STORED_TOTALS + 15];
        out[0] = self.index;
        out[1..=STORED_TOTALS].copy_from_slice(&self.totals);
        for (i, t) in self.tenors.iter().enumerate() {
            out[1 + STORED_TOTALS + 3 * i..1 + STORED_TOTALS + 3 * i + 3].copy_from_slice(t);
        }
        out
    }
}

// ------------------------------------------------------------------------------------------
// value encoding

/// A value rounded to 10 significant digits: `significand × 10^exponent`, the significand in
/// [1e9, 1e10) (or 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decimal {
    exponent: i16,
    significand: i64,
}

const TAG_NULL: u8 = 0;
const TAG_SAME: u8 = 1;
const TAG_DELTA: u8 = 2;
const TAG_FULL: u8 = 3;

fn to_decimal(v: f64) -> Option<Decimal> {
    if !v.is_finite() {
        return None;
    }
    // Below any market figure: stored as 0 (ANALYTICS.md's absolute tolerance near zero).
    if v.abs() < 1e-290 {
        return Some(Decimal {
            exponent: 0,
            significand: 0,
        });
    }
    let mut exponent = v.abs().log10().floor() as i32 - 9;
    let mut m = (v / pow10(exponent)).round();
    // log10 can be off by one at powers of ten, and rounding can carry to 1e10.
    while m.abs() >= 1e10 {
        exponent += 1;
        m = (v / pow10(exponent)).round();
    }
    while m.abs() < 1e9 {
        exponent -= 1;
        m = (v / pow10(exponent)).round();
    }
    Some(Decimal {
        exponent: i16::try_from(exponent).ok()?,
        significand: m as i64,
    })
}

/// Powers of ten that are exact doubles (10^0 … 10^22), looked up: reading a day of history
/// converts tens of thousands of values.
const EXACT_POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

fn pow10(e: i32) -> f64 {
    match usize::try_from(e) {
        Ok(i) if i < EXACT_POW10.len() => EXACT_POW10[i],
        _ => 10f64.powi(e),
    }
}

fn from_decimal(d: Decimal) -> f64 {
    // Dividing by an exact power of ten rounds once, where multiplying by 10^-k would not.
    let e = i32::from(d.exponent);
    if e < 0 {
        d.significand as f64 / pow10(-e)
    } else {
        d.significand as f64 * pow10(e)
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put_value(out: &mut Vec<u8>, prev: Option<Decimal>, v: Option<f64>) -> Option<Decimal> {
    let Some(d) = v.and_then(to_decimal) else {
        out.push(TAG_NULL);
        return None;
    };
    match prev {
        Some(p) if p == d => out.push(TAG_SAME),
        Some(p) if p.exponent == d.exponent => {
            out.push(TAG_DELTA);
            put_varint(out, zigzag(d.significand - p.significand));
        }
        _ => {
            out.push(TAG_FULL);
            put_varint(out, zigzag(i64::from(d.exponent)));
            put_varint(out, zigzag(d.significand));
        }
    }
    Some(d)
}

/// Reads what `put_*` wrote; every read is checked, so corrupt bytes are an error, not a panic.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.bytes.get(self.pos).ok_or("history chunk ends early")?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("history varint too long".into())
    }

    fn value(&mut self, prev: Option<Decimal>) -> Result<Option<Decimal>, String> {
        match self.byte()? {
            TAG_NULL => Ok(None),
            TAG_SAME => prev
                .map(Some)
                .ok_or_else(|| "history: repeat without a value".into()),
            TAG_DELTA => {
                let p = prev.ok_or("history: change without a value")?;
                let delta = unzigzag(self.varint()?);
                let significand = p
                    .significand
                    .checked_add(delta)
                    .ok_or("history: significand overflows")?;
                Ok(Some(Decimal {
                    exponent: p.exponent,
                    significand,
                }))
            }
            TAG_FULL => {
                let exponent = i16::try_from(unzigzag(self.varint()?))
                    .map_err(|_| "history: exponent out of range")?;
                let significand = unzigzag(self.varint()?);
                Ok(Some(Decimal {
                    exponent,
                    significand,
                }))
            }
            t => Err(format!("history: unknown tag {t}")),
        }
    }
}

/// The previous sample's decimals, per series: what the next sample is encoded against.
#[derive(Debug, Clone, Default, PartialEq)]
struct State {
    ts: i64,
    fixed: Vec<Option<Decimal>>,
    /// Per expiry (days since epoch), its seven series.
    expiries: Vec<(i64, [Option<Decimal>; 7])>,
}

fn encode_sample(out: &mut Vec<u8>, state: &mut State, s: &Sample) {
    put_varint(out, zigzag(s.ts - state.ts));
    state.ts = s.ts;
    let fixed = s.fixed();
    state.fixed.resize(fixed.len(), None);
    for (slot, v) in state.fixed.iter_mut().zip(fixed) {
        *slot = put_value(out, *slot, v);
    }
    // The expiry section goes behind its length, so a query of totals or tenors skips it.
    let mut section = Vec::with_capacity(s.expiries.len() * 12);
    let out_all = out;
    let out = &mut section;
    put_varint(out, s.expiries.len() as u64);
    let mut next = Vec::with_capacity(s.expiries.len());
    let mut prev_day = 0i64;
    for (e, values) in &s.expiries {
        let day = e.days_since_epoch();
        put_varint(out, zigzag(day - prev_day));
        prev_day = day;
        let mut prev = state
            .expiries
            .iter()
            .find(|(d, _)| *d == day)
            .map(|(_, p)| *p)
            .unwrap_or([None; 7]);
        for (slot, v) in prev.iter_mut().zip(values) {
            *slot = put_value(out, *slot, *v);
        }
        next.push((day, prev));
    }
    state.expiries = next;
    put_varint(out_all, section.len() as u64);
    out_all.extend_from_slice(&section);
}

/// Decodes the next sample; without `expiries` its expiry section is skipped (and the state of
/// those series is not kept: a pass decodes them in every sample or in none).
fn decode_sample(r: &mut Reader<'_>, state: &mut State, expiries: bool) -> Result<Sample, String> {
    decode_state(r, state, expiries)?;
    Ok(fixed_sample(state, state.expiries_values()))
}

/// Advances `state` by one sample (its time returned), converting nothing.
fn decode_state(r: &mut Reader<'_>, state: &mut State, expiries: bool) -> Result<i64, String> {
    state.ts = state
        .ts
        .checked_add(unzigzag(r.varint()?))
        .ok_or("history: time overflows")?;
    state.fixed.resize(1 + STORED_TOTALS + 15, None);
    for slot in state.fixed.iter_mut() {
        *slot = r.value(*slot)?;
    }
    let len = usize::try_from(r.varint()?).map_err(|_| "history: section too long")?;
    let end = r
        .pos
        .checked_add(len)
        .filter(|e| *e <= r.bytes.len())
        .ok_or("history chunk ends early")?;
    if expiries {
        let mut section = Reader {
            bytes: &r.bytes[..end],
            pos: r.pos,
        };
        decode_expiries(&mut section, state)?;
        if section.pos != end {
            return Err("history: expiry section has trailing bytes".into());
        }
    } else {
        state.expiries.clear();
    }
    r.pos = end;
    Ok(state.ts)
}

fn decode_expiries(r: &mut Reader<'_>, state: &mut State) -> Result<(), String> {
    let n = r.varint()?;
    if n > 10_000 {
        return Err(format!("history: {n} expiries in one sample"));
    }
    let mut next = Vec::with_capacity(n as usize);
    let mut day = 0i64;
    for _ in 0..n {
        day = day
            .checked_add(unzigzag(r.varint()?))
            .ok_or("history: date overflows")?;
        Expiry::from_unix_days(day).ok_or("history: expiry out of range")?;
        let mut prev = state
            .expiries
            .iter()
            .find(|(d, _)| *d == day)
            .map(|(_, p)| *p)
            .unwrap_or([None; 7]);
        for slot in prev.iter_mut() {
            *slot = r.value(*slot)?;
        }
        next.push((day, prev));
    }
    state.expiries = next;
    Ok(())
}

impl State {
    /// The current sample's per-expiry figures (dates were checked when decoded).
    fn expiries_values(&self) -> Vec<ExpiryValues> {
        self.expiries
            .iter()
            .filter_map(|(day, v)| {
                Some((
                    Expiry::from_unix_days(*day)?,
                    v.map(|d| d.map(from_decimal)),
                ))
            })
            .collect()
    }
}

fn fixed_sample(state: &State, expiries: Vec<ExpiryValues>) -> Sample {
    let f = |i: usize| state.fixed[i].map(from_decimal);
    let mut totals = [None; STORED_TOTALS];
    for (i, t) in totals.iter_mut().enumerate() {
        *t = f(1 + i);
    }
    let mut tenors = [[None; 3]; 5];
    for (i, t) in tenors.iter_mut().enumerate() {
        for (j, v) in t.iter_mut().enumerate() {
            *v = f(1 + STORED_TOTALS + 3 * i + j);
        }
    }
    Sample {
        ts: state.ts,
        index: f(0),
        totals,
        tenors,
        expiries,
    }
}

// ------------------------------------------------------------------------------------------
// the history of one chain

/// Consecutive samples, encoded.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Chunk {
    pub count: u32,
    pub first_ts: i64,
    pub last_ts: i64,
    pub bytes: Vec<u8>,
}

impl Chunk {
    /// Decodes every sample (checked: corrupt bytes are an error); per-expiry figures only with
    /// `expiries`.
    pub fn samples(&self, expiries: bool) -> Result<Vec<Sample>, String> {
        let mut r = Reader {
            bytes: &self.bytes,
            pos: 0,
        };
        let mut state = State::default();
        let mut out = Vec::with_capacity(self.count as usize);
        for _ in 0..self.count {
            out.push(decode_sample(&mut r, &mut state, expiries)?);
        }
        if r.pos != self.bytes.len() {
            return Err("history chunk has trailing bytes".into());
        }
        Ok(out)
    }

    /// A chunk from stored parts, checked by decoding it.
    fn from_parts(count: u32, bytes: Vec<u8>) -> Result<(Chunk, State), String> {
        let mut r = Reader {
            bytes: &bytes,
            pos: 0,
        };
        let mut state = State::default();
        let (mut first, mut last) = (0, 0);
        for i in 0..count {
            let s = decode_sample(&mut r, &mut state, true)?;
            if i == 0 {
                first = s.ts;
            } else if s.ts <= last {
                return Err("history samples out of order".into());
            }
            last = s.ts;
        }
        if r.pos != bytes.len() {
            return Err("history chunk has trailing bytes".into());
        }
        Ok((
            Chunk {
                count,
                first_ts: first,
                last_ts: last,
                bytes,
            },
            state,
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    /// Oldest first; the last one takes new samples.
    chunks: Vec<Chunk>,
    /// The encoder's state after the last chunk's last sample.
    state: State,
    /// Bytes held by sealed chunks (every chunk but the last), kept as chunks come and go so
    /// that `memory` (asked on every write for the module's totals) is O(1).
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
        let full = self.chunks.last().is_none_or(|c| c.count >= CHUNK_SAMPLES);
        if full {
            if let Some(last) = self.chunks.last_mut() {
                last.bytes.shrink_to_fit();
                self.sealed_bytes += last.bytes.capacity();
            }
            self.chunks.push(Chunk {
                first_ts: sample.ts,
                ..Chunk::default()
            });
            // A chunk decodes on its own: start from an empty state.
            self.state = State::default();
        }
        let Some(chunk) = self.chunks.last_mut() else {
            return;
        };
        encode_sample(&mut chunk.bytes, &mut self.state, sample);
        chunk.count += 1;
        chunk.last_ts = sample.ts;
        let cutoff = sample.ts - s.retention_ms;
        // Whole chunks only; samples of the oldest chunk before the cutoff are skipped on read.
        let keep_from = self.chunks.partition_point(|c| c.last_ts < cutoff);
        for c in self.chunks.drain(..keep_from) {
            self.sealed_bytes -= c.bytes.capacity();
        }
    }

    /// Samples with `from <= ts <= to` within the retention, oldest first; per-expiry figures
    /// only with `expiries`.
    pub fn samples(
        &self,
        from: i64,
        to: i64,
        s: Settings,
        expiries: bool,
    ) -> Result<Vec<Sample>, String> {
        let cutoff = self.newest_ts().map_or(i64::MIN, |n| n - s.retention_ms);
        let from = from.max(cutoff);
        let mut out = Vec::new();
        for c in self
            .chunks
            .iter()
            .filter(|c| c.last_ts >= from && c.first_ts <= to)
        {
            let mut r = Reader {
                bytes: &c.bytes,
                pos: 0,
            };
            let mut state = State::default();
            for _ in 0..c.count {
                // Samples before the range are decoded for the deltas, not converted.
                let ts = decode_state(&mut r, &mut state, expiries)?;
                if ts > to {
                    break;
                }
                if ts >= from {
                    out.push(fixed_sample(&state, state.expiries_values()));
                }
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
            + self.state.fixed.capacity() * std::mem::size_of::<Option<Decimal>>()
            + self.state.expiries.capacity() * std::mem::size_of::<(i64, [Option<Decimal>; 7])>()
    }

    /// A history from stored chunks (RDB, AOF restore), each checked by decoding it.
    pub fn from_chunks(parts: Vec<(u32, Vec<u8>)>) -> Result<History, String> {
        let mut h = History::default();
        let mut last = i64::MIN;
        for (count, bytes) in parts {
            if count == 0 || count > CHUNK_SAMPLES {
                return Err(format!("history chunk of {count} samples"));
            }
            let (chunk, state) = Chunk::from_parts(count, bytes)?;
            if chunk.first_ts <= last {
                return Err("history chunks out of order".into());
            }
            last = chunk.last_ts;
            if let Some(sealed) = h.chunks.last() {
                h.sealed_bytes += sealed.bytes.capacity();
            }
            h.chunks.push(chunk);
            h.state = state;
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
    use proptest::prelude::*;

    const S: Settings = Settings {
        interval_ms: 60_000,
        retention_ms: 3_600_000,
    };

    fn sample(ts: i64, x: f64) -> Sample {
        let e = |d: u16| Expiry::from_ymd(2026, 12, d as u8).unwrap();
        Sample {
            ts,
            index: Some(97_000.0 + x),
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
        let got = h.samples(i64::MIN, i64::MAX, S, true).unwrap();
        let light = h.samples(i64::MIN, i64::MAX, S, false).unwrap();
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

    #[test]
    fn module_arguments() {
        assert_eq!(
            parse_settings(&["History-Interval", "30", "history-retention", "0"]).unwrap(),
            Settings {
                interval_ms: 30_000,
                retention_ms: 0
            }
        );
        assert_eq!(
            parse_settings(&[]).unwrap(),
            Settings {
                interval_ms: 60_000,
                retention_ms: 2_592_000_000
            }
        );
        assert!(parse_settings(&["history-interval", "0"])
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
        fn any_finite_value_round_trips_to_ten_digits(v in proptest::num::f64::NORMAL | proptest::num::f64::ZERO, prev in proptest::num::f64::NORMAL) {
            let mut out = Vec::new();
            let p = put_value(&mut out, None, Some(prev));
            let d = put_value(&mut out, p, Some(v));
            let mut r = Reader { bytes: &out, pos: 0 };
            let p2 = r.value(None).unwrap();
            prop_assert_eq!(p2, p);
            let got = r.value(p2).unwrap().map(from_decimal);
            match d {
                None => prop_assert!(got.is_none()),
                Some(_) => {
                    let g = got.unwrap();
                    prop_assert!((g - v).abs() <= 5.0000001e-10 * v.abs() || v.abs() < 1e-290, "{} → {}", v, g);
                }
            }
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300), count in 1u32..50) {
            let _ = Chunk::from_parts(count, bytes);
        }
    }
}
