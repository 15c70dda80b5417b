//! Column chunks: a full chunk's samples stored series by series, the form every chunk but the
//! newest takes (sealed when full). A market figure moves a little every minute, so a series is
//! best stored as the changes of an integer: each value is kept to `DIGITS` significant decimal
//! digits on a scale common to its series in the chunk, its change from the previous value is
//! zigzag-coded, and blocks of `BLOCK` changes are bit-packed at the width of their largest.
//! A random walk then costs about two bytes a value; a value that does not move costs nothing.
//!
//! Layout (every length and count a varint, every signed number zigzag-coded):
//!
//! ```text
//! MAGIC count
//! time of the first sample, then each step's change from the previous step
//! 8 sections: index, oi_calls, oi_puts, volume_calls, volume_puts, gex, notional_oi, vol_index
//!           columns (chunks sealed before the volatility index was recorded start with
//!           LEGACY_MAGIC and have the first 7)
//! expiries: k, then k × (day change, presence over the samples, section of 7 sections:
//!           forward, atm_iv, rr25, bf25, pcr_oi, max_pain, gex columns over its samples)
//! column:   presence (0 none | 1 all | 2 runs: n, then n run lengths, present first),
//!           then for the present values: scale exponent, first integer, blocks
//!           (width byte, then the block's changes packed at that width, low bits first)
//! ```
//!
//! Sections are behind their lengths, so a read of one series skips the others. The tenor
//! figures are not stored: they interpolate the expiries' ATM IV, RR25 and BF25 (ANALYTICS.md),
//! so they are recomputed from those on read, with the same code `OPTIONS.ANALYTICS` uses.

use options_core::Expiry;

use super::decimal::{pow10, value_of};
use super::sample::{ExpiryValues, Sample, STORED_TOTALS};
use super::varint::{put_section, put_varint, unzigzag, zigzag, Reader};
use options_core::figures::{self, TENOR_DAYS, YEAR_MS};

/// A column chunk's first byte. Row chunks start with `rows::MAGIC` (or, written before the
/// volatility index was recorded, a timestamp's varint, whose first byte is 0x80 or more), so
/// the forms never collide.
pub const MAGIC: u8 = 0x03;
/// The first byte of column chunks sealed before the volatility index was recorded.
pub const LEGACY_MAGIC: u8 = 0x02;
/// The fixed sections of a chunk: index, the stored totals, the volatility index.
const FIXED_SECTIONS: usize = 1 + STORED_TOTALS + 1;
/// Significant decimal digits every value keeps, at least.
pub const DIGITS: i32 = 7;
/// Changes per bit-packed block.
const BLOCK: usize = 32;
/// Values in a column at most (a chunk holds far fewer; a bound for corrupt input).
const MAX_SAMPLES: u64 = 1 << 20;

/// What a read needs from a chunk: the rest is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Index and totals.
    Totals,
    /// One tenor's figures (`TENOR_METRICS` order: which of ATM IV, RR25 and BF25), from every
    /// expiry's: only the columns they need are read, only that tenor computed.
    Tenor { days: u32, metrics: [bool; 3] },
    /// Index, totals and one expiry's figures.
    Expiry(Expiry),
    /// Everything.
    All,
}

pub fn is_columns(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(&MAGIC) | Some(&LEGACY_MAGIC))
}

// ------------------------------------------------------------------------------------------
// encoding

/// The chunk of `samples` (oldest first).
pub fn encode(samples: &[Sample]) -> Vec<u8> {
    encode_as(samples, MAGIC, FIXED_SECTIONS)
}

/// A chunk in the form sealed before the volatility index was recorded.
#[cfg(test)]
pub fn encode_legacy(samples: &[Sample]) -> Vec<u8> {
    encode_as(samples, LEGACY_MAGIC, FIXED_SECTIONS - 1)
}

fn encode_as(samples: &[Sample], magic: u8, fixed_sections: usize) -> Vec<u8> {
    let mut out = vec![magic];
    put_varint(&mut out, samples.len() as u64);
    let (mut prev, mut step) = (0i64, 0i64);
    for (i, s) in samples.iter().enumerate() {
        if i == 0 {
            put_varint(&mut out, zigzag(s.ts));
        } else {
            let d = s.ts.wrapping_sub(prev);
            put_varint(&mut out, zigzag(d.wrapping_sub(step)));
            step = d;
        }
        prev = s.ts;
    }
    for j in 0..fixed_sections {
        let column: Vec<Option<f64>> = samples
            .iter()
            .map(|s| match j {
                0 => s.index,
                j if j == FIXED_SECTIONS - 1 => s.vol_index,
                j => s.totals[j - 1],
            })
            .collect();
        let mut section = Vec::new();
        put_column(&mut section, &column);
        put_section(&mut out, &section);
    }
    let mut days: Vec<Expiry> = samples
        .iter()
        .flat_map(|s| s.expiries.iter().map(|(e, _)| *e))
        .collect();
    days.sort();
    days.dedup();
    put_varint(&mut out, days.len() as u64);
    let mut prev_day = 0i64;
    for e in days {
        let day = e.days_since_epoch();
        put_varint(&mut out, zigzag(day - prev_day));
        prev_day = day;
        let of: Vec<Option<&[Option<f64>; 7]>> = samples
            .iter()
            .map(|s| {
                s.expiries
                    .binary_search_by(|(x, _)| x.cmp(&e))
                    .ok()
                    .map(|i| &s.expiries[i].1)
            })
            .collect();
        let present: Vec<bool> = of.iter().map(Option::is_some).collect();
        put_presence(&mut out, &present);
        let mut block = Vec::new();
        for m in 0..7 {
            let column: Vec<Option<f64>> = of.iter().flatten().map(|v| v[m]).collect();
            let mut section = Vec::new();
            put_column(&mut section, &column);
            put_section(&mut block, &section);
        }
        put_section(&mut out, &block);
    }
    out
}

fn put_presence(out: &mut Vec<u8>, present: &[bool]) {
    if present.iter().all(|p| *p) {
        out.push(1);
    } else if !present.iter().any(|p| *p) {
        out.push(0);
    } else {
        out.push(2);
        let mut runs = Vec::new();
        let (mut current, mut len) = (true, 0u64);
        for &p in present {
            if p == current {
                len += 1;
            } else {
                runs.push(len);
                current = p;
                len = 1;
            }
        }
        runs.push(len);
        put_varint(out, runs.len() as u64);
        for r in runs {
            put_varint(out, r);
        }
    }
}

fn put_column(out: &mut Vec<u8>, values: &[Option<f64>]) {
    let kept: Vec<Option<f64>> = values.iter().map(|v| v.filter(|x| x.is_finite())).collect();
    let present: Vec<bool> = kept.iter().map(Option::is_some).collect();
    put_presence(out, &present);
    let xs: Vec<f64> = kept.into_iter().flatten().collect();
    if xs.is_empty() {
        return;
    }
    let e = scale_of(&xs);
    put_varint(out, zigzag(i64::from(e)));
    let ints: Vec<i64> = xs.iter().map(|&x| quantize(x, e)).collect();
    put_varint(out, zigzag(ints[0]));
    let changes: Vec<u64> = ints
        .windows(2)
        .map(|w| zigzag(w[1].wrapping_sub(w[0])))
        .collect();
    for block in changes.chunks(BLOCK) {
        let width = 64 - block.iter().copied().max().unwrap_or(0).leading_zeros();
        out.push(width as u8);
        pack(out, block, width);
    }
}

/// The power of ten the column's integers count in: fine enough that every value keeps
/// `DIGITS` significant digits, coarse enough that the largest stays below 10^18 (a value
/// smaller than 10^-11 of the largest then keeps fewer: below any market figure's precision).
fn scale_of(xs: &[f64]) -> i32 {
    let exps = xs
        .iter()
        .filter(|x| x.abs() >= 1e-290)
        .map(|x| decimal_exponent(*x) - (DIGITS - 1));
    let (lo, hi) = exps.fold((i32::MAX, i32::MIN), |(lo, hi), e| (lo.min(e), hi.max(e)));
    if lo > hi {
        return 0; // only zeros
    }
    lo.max(hi - 11).max(-300)
}

/// floor(log10 |x|), exact at powers of ten (x finite, non-zero).
fn decimal_exponent(x: f64) -> i32 {
    let a = x.abs();
    let mut e = a.log10().floor() as i32;
    if pow10(e) > a {
        e -= 1;
    } else if pow10(e + 1) <= a {
        e += 1;
    }
    e
}

fn quantize(x: f64, e: i32) -> i64 {
    let scaled = if e < 0 { x * pow10(-e) } else { x / pow10(e) };
    scaled.round() as i64
}

fn pack(out: &mut Vec<u8>, values: &[u64], width: u32) {
    let (mut acc, mut bits) = (0u128, 0u32);
    for &v in values {
        acc |= u128::from(v) << bits;
        bits += width;
        while bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.push(acc as u8);
    }
}

// ------------------------------------------------------------------------------------------
// decoding

fn read_presence(r: &mut Reader<'_>, n: usize) -> Result<Vec<bool>, String> {
    match r.byte()? {
        0 => Ok(vec![false; n]),
        1 => Ok(vec![true; n]),
        2 => {
            // The first run (present) may be empty: n samples make at most n + 1 runs.
            let runs = r.varint()?;
            if runs > n as u64 + 1 {
                return Err("history: more runs than samples".into());
            }
            let mut out = Vec::with_capacity(n);
            let mut present = true;
            for _ in 0..runs {
                let len = r.varint()?;
                if len > (n - out.len()) as u64 {
                    return Err("history: runs longer than the chunk".into());
                }
                out.extend(std::iter::repeat_n(present, len as usize));
                present = !present;
            }
            if out.len() != n {
                return Err("history: runs shorter than the chunk".into());
            }
            Ok(out)
        }
        t => Err(format!("history: unknown presence tag {t}")),
    }
}

/// A column of `n` values, checked to its last byte.
fn read_column(bytes: &[u8], n: usize) -> Result<Vec<Option<f64>>, String> {
    let mut r = Reader::new(bytes);
    let present = read_presence(&mut r, n)?;
    let m = present.iter().filter(|p| **p).count();
    let mut values = Vec::with_capacity(m);
    if m > 0 {
        let e = i32::try_from(r.signed()?)
            .ok()
            .filter(|e| (-400..=400).contains(e))
            .ok_or("history: scale out of range")?;
        let mut int = r.signed()?;
        values.push(value_of(int, e));
        let mut left = m - 1;
        while left > 0 {
            let len = left.min(BLOCK);
            let width = u32::from(r.byte()?);
            if width > 64 {
                return Err(format!("history: {width}-bit block"));
            }
            let packed = r.take((len * width as usize).div_ceil(8))?;
            let (mut acc, mut bits, mut at) = (0u128, 0u32, 0usize);
            let mask = if width == 64 {
                u64::MAX
            } else {
                (1u64 << width) - 1
            };
            for _ in 0..len {
                while bits < width {
                    acc |= u128::from(packed[at]) << bits;
                    at += 1;
                    bits += 8;
                }
                let change = (acc as u64) & mask;
                acc >>= width;
                bits -= width;
                int = int.wrapping_add(unzigzag(change));
                values.push(value_of(int, e));
            }
            left -= len;
        }
    }
    if !r.at_end() {
        return Err("history: column has trailing bytes".into());
    }
    let mut it = values.into_iter();
    Ok(present
        .into_iter()
        .map(|p| if p { it.next() } else { None })
        .collect())
}

/// A column read back; `None` when the read did not need it.
type Column = Option<Vec<Option<f64>>>;
/// One expiry of a chunk: its date, the samples it is in, and its seven columns.
type ExpiryColumns = (Expiry, Vec<bool>, [Column; 7]);

/// The samples of a column chunk with `from <= ts <= to`, with what `want` asks for.
pub fn decode(bytes: &[u8], want: Want, from: i64, to: i64) -> Result<Vec<Sample>, String> {
    let mut out = Vec::new();
    decode_into(&mut out, bytes, want, from, to)?;
    Ok(out)
}

/// `decode`, appending to `out` (a read of many chunks builds one list).
pub fn decode_into(
    out: &mut Vec<Sample>,
    bytes: &[u8],
    want: Want,
    from: i64,
    to: i64,
) -> Result<(), String> {
    let mut r = Reader::new(bytes);
    let sections = match r.byte()? {
        MAGIC => FIXED_SECTIONS,
        LEGACY_MAGIC => FIXED_SECTIONS - 1,
        _ => return Err("history: not a column chunk".into()),
    };
    let count = r.varint()?;
    if count == 0 || count > MAX_SAMPLES {
        return Err(format!("history: a chunk of {count} samples"));
    }
    let n = count as usize;
    let mut times = Vec::with_capacity(n);
    let (mut prev, mut step) = (0i64, 0i64);
    for i in 0..n {
        let v = r.signed()?;
        let ts = if i == 0 {
            v
        } else {
            step = step.wrapping_add(v);
            prev.wrapping_add(step)
        };
        times.push(ts);
        prev = ts;
    }
    // Index and totals: read for the reads that return them, skipped by the others.
    let with_totals = matches!(want, Want::Totals | Want::All);
    let mut fixed = Vec::with_capacity(FIXED_SECTIONS);
    for _ in 0..sections {
        let section = r.section()?;
        fixed.push(if with_totals {
            read_column(section, n)?
        } else {
            Vec::new()
        });
    }
    let k = r.varint()?;
    if k > 10_000 {
        return Err(format!("history: {k} expiries in one chunk"));
    }
    let mut expiries: Vec<ExpiryColumns> = Vec::new();
    let mut day = 0i64;
    for _ in 0..k {
        day = day
            .checked_add(r.signed()?)
            .ok_or("history: date overflows")?;
        let e = Expiry::from_unix_days(day).ok_or("history: expiry out of range")?;
        let present = read_presence(&mut r, n)?;
        let m = present.iter().filter(|p| **p).count();
        let mut block = Reader::new(r.section()?);
        let mut columns: [Column; 7] = Default::default();
        for (i, slot) in columns.iter_mut().enumerate() {
            let section = block.section()?;
            let needed = match want {
                Want::All => true,
                Want::Totals => false,
                Want::Tenor { metrics, .. } => (1..=3).contains(&i) && metrics[i - 1],
                Want::Expiry(x) => x == e,
            };
            if needed {
                *slot = Some(read_column(section, m)?);
            }
        }
        if !block.at_end() {
            return Err("history: expiry section has trailing bytes".into());
        }
        expiries.push((e, present, columns));
    }
    if !r.at_end() {
        return Err("history chunk has trailing bytes".into());
    }

    // Each expiry's next value, walking the samples in order.
    let expiry_ts: Vec<i64> = expiries.iter().map(|(e, _, _)| e.timestamp_ms()).collect();
    let mut cursor = vec![0usize; expiries.len()];
    let fixed_at = |j: usize, i: usize| fixed.get(j).and_then(|c| c.get(i)).copied().flatten();
    for (i, &ts) in times.iter().enumerate() {
        let in_range = ts >= from && ts <= to;
        let mut here: Vec<ExpiryValues> = Vec::new();
        let mut tenor_values = [[None; 3]; 5];
        if in_range {
            let value = |e: usize, m: usize| {
                expiries[e].2[m]
                    .as_ref()
                    .and_then(|c| c.get(cursor[e]).copied().flatten())
            };
            let present = (0..expiries.len()).filter(|&e| expiries[e].1[i]);
            match want {
                Want::Totals => {}
                Want::Tenor { days, metrics } => {
                    let points = present.map(|e| {
                        let t = (expiry_ts[e] - ts) as f64 / YEAR_MS;
                        (t, value(e, 1), value(e, 2), value(e, 3))
                    });
                    if let Some(slot) = TENOR_DAYS.iter().position(|d| *d == days) {
                        tenor_values[slot] = figures::tenor_at(points, days, metrics);
                    }
                }
                Want::All | Want::Expiry(_) => {
                    for e in present {
                        if want == Want::All || want == Want::Expiry(expiries[e].0) {
                            let mut v = [None; 7];
                            for (m, slot) in v.iter_mut().enumerate() {
                                *slot = value(e, m);
                            }
                            here.push((expiries[e].0, v));
                        }
                    }
                    if want == Want::All {
                        tenor_values = tenors_of(ts, &here);
                    }
                }
            }
        }
        for ((_, present, _), at) in expiries.iter().zip(cursor.iter_mut()) {
            if present[i] {
                *at += 1;
            }
        }
        if !in_range {
            continue;
        }
        let mut totals = [None; STORED_TOTALS];
        for (j, slot) in totals.iter_mut().enumerate() {
            *slot = fixed_at(1 + j, i);
        }
        out.push(Sample {
            ts,
            index: fixed_at(0, i),
            vol_index: fixed_at(FIXED_SECTIONS - 1, i),
            totals,
            tenors: tenor_values,
            expiries: here,
        });
    }
    Ok(())
}

/// The tenor figures at `ts` from the expiries' ATM IV, RR25 and BF25, as `OPTIONS.ANALYTICS`
/// computes them.
pub(super) fn tenors_of(ts: i64, expiries: &[ExpiryValues]) -> [[Option<f64>; 3]; 5] {
    let points = expiries
        .iter()
        .map(|(e, v)| ((e.timestamp_ms() - ts) as f64 / YEAR_MS, v[1], v[2], v[3]));
    TENOR_DAYS.map(|days| figures::tenor_at(points.clone(), days, [true; 3]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Within half a unit of the 7th significant digit of `want`.
    fn seven_digits(got: f64, want: f64) -> bool {
        if want == 0.0 {
            return got == 0.0;
        }
        let unit = 10f64.powi(decimal_exponent(want) - (DIGITS - 1));
        (got - want).abs() <= 0.5 * unit * (1.0 + 1e-9)
    }

    #[test]
    fn powers_of_ten_have_their_own_exponent() {
        for e in -20..20 {
            let x = 10f64.powi(e);
            assert_eq!(decimal_exponent(x), e, "{x}");
            assert_eq!(decimal_exponent(-x * 9.999), e, "{x}");
        }
    }

    #[test]
    fn a_random_walk_costs_about_two_bytes_a_value() {
        // An IV of 0.5 moving 0.0005 a minute (7 digits: steps of 5,000 units).
        let mut x = 0.5f64;
        let mut seed = 1u64;
        let values: Vec<Option<f64>> = (0..120)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                x += ((seed >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 0.001;
                Some(x)
            })
            .collect();
        let mut out = Vec::new();
        put_column(&mut out, &values);
        assert!(out.len() < 120 * 2, "{} bytes for 120 values", out.len());
        let back = read_column(&out, 120).unwrap();
        for (g, w) in back.iter().zip(&values) {
            assert!(seven_digits(g.unwrap(), w.unwrap()), "{g:?} vs {w:?}");
        }
        // A value that never moves costs nothing past its first.
        let flat = vec![Some(95_000.0); 120];
        let mut out = Vec::new();
        put_column(&mut out, &flat);
        assert!(out.len() <= 1 + 2 + 4 + 4, "{} bytes", out.len());
        assert_eq!(read_column(&out, 120).unwrap(), flat);
    }

    #[test]
    fn nulls_zeros_and_non_finite_values() {
        let values = vec![
            None,
            Some(0.0),
            Some(f64::NAN),
            Some(-3.25),
            None,
            None,
            Some(1e-300),
            Some(f64::INFINITY),
            Some(12_345_678_901.0),
        ];
        let mut out = Vec::new();
        put_column(&mut out, &values);
        let back = read_column(&out, values.len()).unwrap();
        assert_eq!(back[0], None);
        assert_eq!(back[1], Some(0.0));
        assert_eq!(back[2], None, "NaN is no value");
        assert_eq!(back[3], Some(-3.25));
        assert_eq!(back[7], None, "infinity is no value");
        assert!(seven_digits(back[8].unwrap(), 12_345_678_901.0));
        for n in [values.len() - 1, values.len() + 1] {
            assert!(read_column(&out, n).is_err(), "a column read as {n} values");
        }
    }

    proptest! {
        #[test]
        fn every_value_keeps_seven_digits(
            values in proptest::collection::vec(
                proptest::option::weighted(0.9, -1e12f64..1e12), 1..300),
            scale in -8i32..8,
        ) {
            let values: Vec<Option<f64>> = values
                .into_iter()
                .map(|v| v.map(|x| x * 10f64.powi(scale)))
                .collect();
            let mut out = Vec::new();
            put_column(&mut out, &values);
            let back = read_column(&out, values.len()).unwrap();
            let xs: Vec<f64> = values.iter().flatten().copied().collect();
            let largest = xs.iter().fold(0f64, |m, x| m.max(x.abs()));
            for (g, w) in back.iter().zip(&values) {
                match (g, w) {
                    (Some(g), Some(w)) => prop_assert!(
                        seven_digits(*g, *w) || (w.abs() < largest * 1e-11 && (g - w).abs() <= largest * 1e-11),
                        "{} → {}", w, g
                    ),
                    (g, w) => prop_assert_eq!(g, w),
                }
            }
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut b = bytes;
            if let Some(first) = b.first_mut() {
                *first = MAGIC;
            }
            let _ = decode(&b, Want::All, i64::MIN, i64::MAX);
            let _ = read_column(&b, 17);
        }
    }
}
