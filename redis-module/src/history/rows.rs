//! Row chunks: the encoding of the chunk that takes new samples. Each sample is appended
//! whole, so a write that samples costs one encode. Each value is rounded to 10 significant
//! decimal digits (a relative error below 5e-10, inside ANALYTICS.md's 1e-9) and written as a
//! decimal exponent and an integer significand; a value whose exponent matches the same series
//! in the previous sample stores only the zigzag varint of the significand's change, and an
//! unchanged value one byte. A full row chunk is sealed into columns (`columns`); row chunks
//! sealed by earlier versions of the module still load and read.
//!
//! A row chunk starts with `MAGIC` and its samples carry `FIXED` fixed series (the volatility
//! index last). A row chunk written before the volatility index was recorded has no magic byte
//! (its first byte is the first varint of a timestamp, always ≥ 0x80) and `LEGACY_FIXED` fixed
//! series; it still reads (without the index), and a history loaded with one rewrites it in the
//! current form before appending to it. Column chunks start with `columns::MAGIC…`.

use options_core::Expiry;

use super::decimal::{pow10, value_of};
use super::sample::{ExpiryValues, Sample, FIXED, LEGACY_FIXED, STORED_TOTALS};

/// A current row chunk's first byte (below 0x80, and not a column chunk's magic).
pub const MAGIC: u8 = 0x04;
use super::varint::{put_section, put_varint, unzigzag, zigzag, Reader};

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

fn from_decimal(d: Decimal) -> f64 {
    value_of(d.significand, i32::from(d.exponent))
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

/// Reads one value that `put_value` wrote, against the same series' previous one.
fn read_value(r: &mut Reader<'_>, prev: Option<Decimal>) -> Result<Option<Decimal>, String> {
    match r.byte()? {
        TAG_NULL => Ok(None),
        TAG_SAME => prev
            .map(Some)
            .ok_or_else(|| "history: repeat without a value".into()),
        TAG_DELTA => {
            let p = prev.ok_or("history: change without a value")?;
            let delta = unzigzag(r.varint()?);
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
            let exponent = i16::try_from(unzigzag(r.varint()?))
                .map_err(|_| "history: exponent out of range")?;
            let significand = unzigzag(r.varint()?);
            Ok(Some(Decimal {
                exponent,
                significand,
            }))
        }
        t => Err(format!("history: unknown tag {t}")),
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

/// Appends one sample with its first `width` fixed series (`FIXED`; `LEGACY_FIXED` writes the
/// older form, for tests).
fn encode_sample(out: &mut Vec<u8>, state: &mut State, s: &Sample, width: usize) {
    put_varint(out, zigzag(s.ts - state.ts));
    state.ts = s.ts;
    let fixed = s.fixed();
    state.fixed.resize(width, None);
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
        let mut prev = state.previous(day);
        for (slot, v) in prev.iter_mut().zip(values) {
            *slot = put_value(out, *slot, *v);
        }
        next.push((day, prev));
    }
    state.expiries = next;
    put_section(out_all, &section);
}

/// Advances `state` by one sample (its time returned), converting nothing. Without `expiries`
/// the expiry section is skipped (and the state of those series is not kept: a pass decodes
/// them in every sample or in none).
fn decode_state(
    r: &mut Reader<'_>,
    state: &mut State,
    expiries: bool,
    width: usize,
) -> Result<i64, String> {
    state.ts = state
        .ts
        .checked_add(unzigzag(r.varint()?))
        .ok_or("history: time overflows")?;
    state.fixed.resize(width, None);
    for slot in state.fixed.iter_mut() {
        *slot = read_value(r, *slot)?;
    }
    let section = r.section()?;
    if expiries {
        let mut section = Reader::new(section);
        decode_expiries(&mut section, state)?;
        if !section.at_end() {
            return Err("history: expiry section has trailing bytes".into());
        }
    } else {
        state.expiries.clear();
    }
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
        let mut prev = state.previous(day);
        for slot in prev.iter_mut() {
            *slot = read_value(r, *slot)?;
        }
        next.push((day, prev));
    }
    state.expiries = next;
    Ok(())
}

impl State {
    /// The previous sample's values of the expiry on `day` (none when it was not listed).
    fn previous(&self, day: i64) -> [Option<Decimal>; 7] {
        self.expiries
            .iter()
            .find(|(d, _)| *d == day)
            .map(|(_, p)| *p)
            .unwrap_or([None; 7])
    }

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
        vol_index: state
            .fixed
            .get(FIXED - 1)
            .copied()
            .flatten()
            .map(from_decimal),
        totals,
        tenors,
        expiries,
    }
}

/// The encoder of the open chunk: the previous sample's values, which the next is encoded
/// against.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowEncoder(State);

impl RowEncoder {
    /// Appends `s` to the row chunk `out` (started with `MAGIC` when empty).
    pub fn push(&mut self, out: &mut Vec<u8>, s: &Sample) {
        if out.is_empty() {
            out.push(MAGIC);
        }
        encode_sample(out, &mut self.0, s, FIXED);
    }

    /// Heap bytes held.
    pub fn memory(&self) -> usize {
        self.0.fixed.capacity() * std::mem::size_of::<Option<Decimal>>()
            + self.0.expiries.capacity() * std::mem::size_of::<(i64, [Option<Decimal>; 7])>()
    }
}

/// Whether a row chunk is in the form written before the volatility index was recorded.
pub fn is_legacy(bytes: &[u8]) -> bool {
    bytes.first() != Some(&MAGIC)
}

/// Decodes a row chunk of `count` samples, converting those with `from <= ts <= to` (per-expiry
/// figures only with `expiries`). With every sample and `expiries`, the whole chunk is checked
/// (no trailing bytes) and the encoder that continues it is returned too (for a legacy chunk,
/// one that continues it only once it is rewritten: see `History::from_chunks`).
pub fn decode(
    bytes: &[u8],
    count: u32,
    from: i64,
    to: i64,
    expiries: bool,
) -> Result<(Vec<Sample>, RowEncoder), String> {
    let (bytes, width) = if is_legacy(bytes) {
        (bytes, LEGACY_FIXED)
    } else {
        (&bytes[1..], FIXED)
    };
    let mut r = Reader::new(bytes);
    let mut state = State::default();
    let mut out = Vec::new();
    for _ in 0..count {
        // Samples before the range are decoded for the deltas, not converted.
        let ts = decode_state(&mut r, &mut state, expiries, width)?;
        if ts > to {
            return Ok((out, RowEncoder::default()));
        }
        if ts >= from {
            out.push(fixed_sample(&state, state.expiries_values()));
        }
    }
    if !r.at_end() {
        return Err("history chunk has trailing bytes".into());
    }
    Ok((out, RowEncoder(state)))
}

/// A row chunk in the form written before the volatility index was recorded.
#[cfg(test)]
pub fn encode_legacy(samples: &[Sample]) -> Vec<u8> {
    let (mut out, mut state) = (Vec::new(), State::default());
    for s in samples {
        encode_sample(&mut out, &mut state, s, LEGACY_FIXED);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_finite_value_round_trips_to_ten_digits(v in proptest::num::f64::NORMAL | proptest::num::f64::ZERO, prev in proptest::num::f64::NORMAL) {
            let mut out = Vec::new();
            let p = put_value(&mut out, None, Some(prev));
            let d = put_value(&mut out, p, Some(v));
            let mut r = Reader::new(&out);
            let p2 = read_value(&mut r, None).unwrap();
            prop_assert_eq!(p2, p);
            let got = read_value(&mut r, p2).unwrap().map(from_decimal);
            match d {
                None => prop_assert!(got.is_none()),
                Some(_) => {
                    let g = got.unwrap();
                    prop_assert!((g - v).abs() <= 5.0000001e-10 * v.abs() || v.abs() < 1e-290, "{} → {}", v, g);
                }
            }
        }

    }
}
