//! Chain analytics as `../shared/ANALYTICS.md` defines them: per expiry the forward, ATM
//! volatility, 25Δ/10Δ wings, risk reversals and butterflies, open interest and volume by side,
//! put/call ratios, max pain and dealer gamma exposure; per underlying the index, totals and
//! constant-maturity tenors; per strike OI and GEX on request.
//!
//! Pure functions of the stored contracts and one instant, so they are unit-tested here and the
//! same code serves `OPTIONS.ANALYTICS` and the history samples. A value the exchange never sent
//! is skipped (never read as 0) except in the sums that say so.

use options_core::{Expiry, Field, OptionType, Settle};

use crate::chain::{Chain, Contract};
use crate::vix;
use options_core::figures::{tenors, Analytics, ExpiryFigures, StrikeFigures, Totals, YEAR_MS};
use options_core::svi::Svi;

/// Which contracts count: live at `now`, of the listed expiries (all when empty), of one
/// settle coin (both when `None`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Selection {
    pub expiries: Vec<Expiry>,
    pub settle: Option<Settle>,
}

/// What a computation includes beyond the selected contracts' figures.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Extras {
    /// Per-strike OI and GEX (`BYSTRIKE`).
    pub by_strike: bool,
    /// The annual rate of the volatility index's forwards and discounting (`RATE`).
    pub rate: f64,
    /// The smile fits (`svi` and its flags); the history's samples do without.
    pub smiles: bool,
}

/// Computes the analytics of `chain` at `now_ms` over the selected contracts.
///
/// The volatility index and each fit's calendar check look at every live expiry of the settle
/// coins asked, whatever `EXPIRY` selects, so the index is one number per underlying and an
/// expiry's flag one answer.
pub fn compute(chain: &Chain, selection: &Selection, now_ms: i64, extras: Extras) -> Analytics {
    let admitted: Vec<&Contract> = chain
        .contracts()
        .filter(|c| c.is_live(now_ms) && selection.settle.is_none_or(|s| c.settle == s))
        .collect();
    let mut expiries: Vec<ExpiryFigures> = Vec::new();
    let mut selected: Vec<&Contract> = Vec::new();
    let mut variances: Vec<(f64, f64)> = Vec::new();
    let mut previous_fit: Option<Svi> = None;
    // The chain is sorted by expiry first, so each expiry is one run of `admitted`.
    for group in admitted.chunk_by(|a, b| a.expiry == b.expiry) {
        let expiry = group[0].expiry;
        let t = (expiry.timestamp_ms() - now_ms) as f64 / YEAR_MS;
        let variance = vix::expiry_variance(&quotes(group, selection.settle), t, extras.rate)
            .map(|v| v.variance);
        if let Some(v) = variance {
            variances.push((t, v));
        }
        let wanted =
            selection.expiries.is_empty() || selection.expiries.binary_search(&expiry).is_ok();
        // A selected expiry's smile is reported whole; an unselected one counts for its fit
        // alone (the next expiry's calendar check).
        let smile = if extras.smiles && wanted {
            forward_of(group).and_then(|f| smile(chain, group, selection.settle, f, t))
        } else {
            None
        };
        if extras.smiles && !wanted {
            if let Some((svi, _)) =
                forward_of(group).and_then(|f| fitted(chain, group, selection.settle, f, t))
            {
                previous_fit = Some(svi);
            }
        }
        if wanted {
            let mut e = expiry_figures(group, now_ms);
            e.variance = variance;
            e.expected_move = e
                .forward
                .zip(e.atm_iv)
                .map(|(f, iv)| f * iv * t.max(0.0).sqrt());
            if let Some(s) = &smile {
                e.svi = Some(s.svi);
                e.svi_rmse = Some(s.rmse);
                e.butterfly_arb = Some(s.butterfly_arb);
                e.calendar_arb = Some(previous_fit.is_some_and(|p| {
                    options_core::svi::calendar_arb(&s.svi, &p, s.k_min, s.k_max)
                }));
            }
            expiries.push(e);
            selected.extend_from_slice(group);
        }
        if let Some(s) = &smile {
            previous_fit = Some(s.svi);
        }
    }
    let index = median(selected.iter().filter_map(|c| c.get(Field::IndexPrice)));
    Analytics {
        underlying: chain.underlying.to_string(),
        now: now_ms,
        index,
        vol_index: vix::vol_index(variances.into_iter()),
        totals: totals(&expiries),
        tenors: tenors(&expiries),
        strikes: extras.by_strike.then(|| strike_figures(&selected)),
        expiries,
    }
}

/// One expiry's quotes for the volatility index, of one settle coin: `settle` when asked, else
/// the coin with the most strikes where both the call and the put have a bid (on a tie the
/// first of USDC, USDT, BTC, ETH). Deribit's inverse chains hold BTC- or ETH-settled contracts
/// with USD prices (the feeder converts), so the method reads them as it reads Bybit's.
fn quotes(group: &[&Contract], settle: Option<Settle>) -> Vec<vix::StrikeQuotes> {
    let coin = settle.unwrap_or_else(|| {
        let both_bid = |coin: Settle| {
            let mut n = 0;
            for line in group
                .iter()
                .filter(|c| c.settle == coin)
                .collect::<Vec<_>>()
                .chunk_by(|a, b| a.strike == b.strike)
            {
                let bid = |kind| {
                    line.iter()
                        .any(|c| c.kind == kind && c.get(Field::BidPrice).is_some_and(|b| b > 0.0))
                };
                if bid(OptionType::Call) && bid(OptionType::Put) {
                    n += 1;
                }
            }
            n
        };
        // The first coin (USDC, USDT, BTC, ETH) with the most such strikes.
        let mut best = (Settle::Usdc, both_bid(Settle::Usdc));
        for coin in &Settle::ALL[1..] {
            let n = both_bid(*coin);
            if n > best.1 {
                best = (*coin, n);
            }
        }
        best.0
    });
    let mut out: Vec<vix::StrikeQuotes> = Vec::new();
    for c in group.iter().filter(|c| c.settle == coin) {
        if out.last().is_none_or(|l| l.strike != c.strike) {
            out.push(vix::StrikeQuotes {
                strike: c.strike,
                ..Default::default()
            });
        }
        let quote = vix::Quote {
            bid: c.get(Field::BidPrice),
            ask: c.get(Field::AskPrice),
        };
        if let Some(line) = out.last_mut() {
            match c.kind {
                OptionType::Call => line.call = quote,
                OptionType::Put => line.put = quote,
            }
        }
    }
    out
}

/// A strike of a smile: `(strike, k, iv)`.
pub type SmilePoint = (f64, f64, f64);

/// An expiry's fitted smile at `t`.
#[derive(Debug, Clone, PartialEq)]
pub struct Smile {
    /// Total variance `w(k)` at `t`.
    pub svi: Svi,
    pub forward: f64,
    pub t: f64,
    /// `(strike, k, iv)` of every strike with an IV, ascending.
    pub points: Vec<(f64, f64, f64)>,
    pub rmse: f64,
    pub butterfly_arb: bool,
    pub k_min: f64,
    pub k_max: f64,
}

impl Smile {
    /// The fitted IV at log-moneyness `k`.
    pub fn fit_iv(&self, k: f64) -> f64 {
        (self.svi.w(k) / self.t).max(0.0).sqrt()
    }
}

/// The raw SVI fit of one expiry's smile (`k = ln(K/forward)`, `w = iv²·t`), `None` with fewer
/// than five strikes with an IV, no time left, or nothing to fit. The fit is made on the
/// annual variance `iv²` (the same parameters up to the factor `t` on `a` and `b`, which a
/// least-squares fit in `w` scales by) and kept in the expiry's `FitCache`, so a chain that has
/// not changed is not fitted again as time passes. Its points come with it: `(strike, k, iv)`.
pub fn fitted(
    chain: &Chain,
    group: &[&Contract],
    settle: Option<Settle>,
    forward: f64,
    t: f64,
) -> Option<(Svi, Vec<SmilePoint>)> {
    if t.is_nan() || t <= 0.0 || forward.is_nan() || forward <= 0.0 {
        return None;
    }
    let points: Vec<SmilePoint> = strike_ivs(group)
        .into_iter()
        .filter(|&(k, iv)| k > 0.0 && iv > 0.0 && iv.is_finite())
        .map(|(strike, iv)| (strike, (strike / forward).ln(), iv))
        .collect();
    if points.len() < options_core::svi::MIN_POINTS {
        return None;
    }
    let expiry = group.first()?.expiry;
    let annual = || {
        let kw: Vec<(f64, f64)> = points.iter().map(|&(_, k, iv)| (k, iv * iv)).collect();
        options_core::svi::fit(&kw).map(|f| f.svi)
    };
    let annual = match chain.fit_cache(expiry) {
        Some((cache, latest, len)) => cache.get_or((latest, len, settle), annual),
        None => annual(),
    }?;
    let svi = Svi {
        a: annual.a * t,
        b: annual.b * t,
        ..annual
    };
    Some((svi, points))
}

/// `fitted` with what the reply reports of the fit: its IV error and the butterfly check.
pub fn smile(
    chain: &Chain,
    group: &[&Contract],
    settle: Option<Settle>,
    forward: f64,
    t: f64,
) -> Option<Smile> {
    let (svi, points) = fitted(chain, group, settle, forward, t)?;
    let (k_min, k_max) = (points[0].1, points[points.len() - 1].1);
    let mut smile = Smile {
        svi,
        forward,
        t,
        points,
        rmse: 0.0,
        butterfly_arb: options_core::svi::butterfly_arb(&svi, k_min, k_max),
        k_min,
        k_max,
    };
    let sq: f64 = smile
        .points
        .iter()
        .map(|&(_, k, iv)| (iv - smile.fit_iv(k)).powi(2))
        .sum();
    smile.rmse = (sq / smile.points.len() as f64).sqrt();
    Some(smile)
}

/// The fitted smile of `expiry` (settle coins as `settle` asks) at `now_ms` and whether it
/// has a calendar arbitrage against the chain's previous fitted expiry; `None` when the expiry
/// has no fit.
pub fn smile_of(
    chain: &Chain,
    expiry: Expiry,
    settle: Option<Settle>,
    now_ms: i64,
) -> Option<(Smile, bool)> {
    let mut previous: Option<Svi> = None;
    for block in chain
        .live(now_ms)
        .collect::<Vec<_>>()
        .chunk_by(|a, b| a.expiry == b.expiry)
    {
        let e = block[0].expiry;
        if e > expiry {
            break;
        }
        let group: Vec<&Contract> = block
            .iter()
            .copied()
            .filter(|c| settle.is_none_or(|s| c.settle == s))
            .collect();
        if group.is_empty() {
            continue;
        }
        let t = (e.timestamp_ms() - now_ms) as f64 / YEAR_MS;
        let forward = forward_of(&group);
        if e == expiry {
            let s = forward.and_then(|f| smile(chain, &group, settle, f, t))?;
            let calendar = previous
                .is_some_and(|p| options_core::svi::calendar_arb(&s.svi, &p, s.k_min, s.k_max));
            return Some((s, calendar));
        }
        // An earlier expiry counts for its fit alone (the calendar check's other side).
        if let Some((svi, _)) = forward.and_then(|f| fitted(chain, &group, settle, f, t)) {
            previous = Some(svi);
        }
    }
    None
}

/// The figures of one expiry's contracts (all of the same expiry, in chain order).
pub fn expiry_figures(contracts: &[&Contract], now_ms: i64) -> ExpiryFigures {
    let Some(first) = contracts.first() else {
        return ExpiryFigures::default();
    };
    let expiry = first.expiry;
    let forward = median(
        contracts
            .iter()
            .filter_map(|c| c.get(Field::UnderlyingPrice)),
    );
    let strikes = distinct_strikes(contracts);
    let atm_strike = forward.and_then(|f| nearest(&strikes, f));
    let atm_iv = forward.and_then(|f| interpolate(&strike_ivs(contracts), f));
    let (call_smile, put_smile) = (
        delta_smile(contracts, OptionType::Call),
        delta_smile(contracts, OptionType::Put),
    );
    let call25_iv = interpolate(&call_smile, 0.25);
    let put25_iv = interpolate(&put_smile, -0.25);
    let call10_iv = interpolate(&call_smile, 0.10);
    let put10_iv = interpolate(&put_smile, -0.10);
    let side_sum = |kind, field| -> f64 {
        contracts
            .iter()
            .filter(|c| c.kind == kind)
            .filter_map(|c| c.get(field))
            .fold(0.0, add)
    };
    let oi_calls = side_sum(OptionType::Call, Field::OpenInterest);
    let oi_puts = side_sum(OptionType::Put, Field::OpenInterest);
    let volume_calls = side_sum(OptionType::Call, Field::Volume24h);
    let volume_puts = side_sum(OptionType::Put, Field::Volume24h);
    ExpiryFigures {
        expiry: expiry.code(),
        expiry_ts: expiry.timestamp_ms(),
        t: (expiry.timestamp_ms() - now_ms) as f64 / YEAR_MS,
        forward,
        atm_strike,
        atm_iv,
        call25_iv,
        put25_iv,
        call10_iv,
        put10_iv,
        rr25: risk_reversal(call25_iv, put25_iv),
        bf25: butterfly(call25_iv, put25_iv, atm_iv),
        rr10: risk_reversal(call10_iv, put10_iv),
        bf10: butterfly(call10_iv, put10_iv, atm_iv),
        oi_calls,
        oi_puts,
        volume_calls,
        volume_puts,
        pcr_oi: ratio(oi_puts, oi_calls),
        pcr_volume: ratio(volume_puts, volume_calls),
        max_pain: max_pain(contracts, &strikes),
        gex: contracts.iter().filter_map(|c| gex_of(c)).fold(0.0, add),
        notional_oi: contracts
            .iter()
            .filter_map(|c| Some(c.get(Field::OpenInterest)? * c.get(Field::UnderlyingPrice)?))
            .fold(0.0, add),
        variance: None,
        expected_move: None,
        svi: None,
        svi_rmse: None,
        butterfly_arb: None,
        calendar_arb: None,
    }
}

/// The forward of one expiry's contracts: the median of their `underlying_price`.
fn forward_of(contracts: &[&Contract]) -> Option<f64> {
    median(
        contracts
            .iter()
            .filter_map(|c| c.get(Field::UnderlyingPrice)),
    )
}

/// The forward and the ATM strike (the listed strike nearest the forward, the lower on a tie)
/// of one expiry's contracts: the rule `OPTIONS.CHAIN` and the dashboard's ATM row follow.
pub fn forward_and_atm(contracts: &[&Contract]) -> (Option<f64>, Option<f64>) {
    let forward = forward_of(contracts);
    let atm = forward.and_then(|f| nearest(&distinct_strikes(contracts), f));
    (forward, atm)
}

fn risk_reversal(call: Option<f64>, put: Option<f64>) -> Option<f64> {
    Some(call? - put?)
}

fn butterfly(call: Option<f64>, put: Option<f64>, atm: Option<f64>) -> Option<f64> {
    Some((call? + put?) / 2.0 - atm?)
}

/// `num / den`, `None` when the divisor is 0.
pub fn ratio(num: f64, den: f64) -> Option<f64> {
    (den != 0.0).then(|| num / den)
}

/// Dealer gamma exposure of one contract in USD per 1 % move: dealers long calls, short puts.
fn gex_of(c: &Contract) -> Option<f64> {
    let (gamma, oi, s) = (
        c.get(Field::Gamma)?,
        c.get(Field::OpenInterest)?,
        c.get(Field::UnderlyingPrice)?,
    );
    let sign = match c.kind {
        OptionType::Call => 1.0,
        OptionType::Put => -1.0,
    };
    Some(sign * gamma * oi * s * s * 0.01)
}

/// The median; an even count takes the mean of the two middle values. `None` when empty.
pub fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return None;
    }
    // A selection, not a sort: the index of a 2,500-contract chain is read on every call.
    let (len, mid) = (v.len(), v.len() / 2);
    let (lower, upper, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    Some(if mid * 2 < len {
        upper
    } else {
        let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (below + upper) / 2.0
    })
}

/// Listed strikes, ascending, without repeats. Contracts of one expiry come in strike order.
fn distinct_strikes(contracts: &[&Contract]) -> Vec<f64> {
    debug_assert!(contracts.windows(2).all(|w| w[0].strike <= w[1].strike));
    let mut s: Vec<f64> = contracts.iter().map(|c| c.strike).collect();
    s.dedup();
    s
}

/// The value of `sorted` nearest `x`, the lower on a tie. `sorted` ascends.
pub fn nearest(sorted: &[f64], x: f64) -> Option<f64> {
    let i = sorted.partition_point(|v| *v < x);
    let above = sorted.get(i).copied();
    let below = i.checked_sub(1).map(|j| sorted[j]);
    match (below, above) {
        (Some(b), Some(a)) => Some(if a - x < x - b { a } else { b }),
        (b, a) => b.or(a),
    }
}

/// `(strike, mean mark_iv)` for each strike with at least one `mark_iv`, ascending.
fn strike_ivs(contracts: &[&Contract]) -> Vec<(f64, f64)> {
    points(
        contracts
            .iter()
            .filter_map(|c| Some((c.strike, c.get(Field::MarkIv)?))),
    )
}

/// Points grouped by equal x (the mean of their y), ascending in x.
fn points(raw: impl Iterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    let mut raw: Vec<(f64, f64)> = raw.collect();
    // Often already in order (strikes) or reversed (call deltas): pdqsort takes both in O(n).
    raw.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    raw.chunk_by(|a, b| a.0 == b.0)
        .map(|g| (g[0].0, g.iter().map(|p| p.1).sum::<f64>() / g.len() as f64))
        .collect()
}

/// `y` at `x` on the line between the nearest points at or below and at or above `x`; a
/// point at exactly `x` gives its own `y`. `None` when `x` is not bracketed. Points ascend in
/// x without repeats.
pub fn interpolate(points: &[(f64, f64)], x: f64) -> Option<f64> {
    let i = points.partition_point(|p| p.0 < x);
    let above = *points.get(i)?;
    if above.0 == x {
        return Some(above.1);
    }
    let below = points[i.checked_sub(1)?];
    let w = (x - below.0) / (above.0 - below.0);
    Some(below.1 + w * (above.1 - below.1))
}

/// `(delta, mark_iv)` of the contracts of `kind` having both, equal deltas merged, ascending:
/// the smile in delta that the wings are read from.
fn delta_smile(contracts: &[&Contract], kind: OptionType) -> Vec<(f64, f64)> {
    points(
        contracts
            .iter()
            .filter(|c| c.kind == kind)
            .filter_map(|c| Some((c.get(Field::Delta)?, c.get(Field::MarkIv)?))),
    )
}

/// Payouts this close (relative) are a tie: they differ by rounding alone, which depends on the
/// order of the additions, so no computation can rank them.
pub const PAIN_TIE: f64 = 1e-12;

/// The listed strike minimising what option holders are paid at expiry, the lower on a tie
/// (within `PAIN_TIE`); `None` when there is no open interest. `strikes` ascend and hold every
/// contract's strike.
///
/// O(n): from one strike to the next, calls below pay the step times their open interest more,
/// and puts above the step times theirs less, so both sides are swept once, in sums of
/// positive terms (no cancellation).
fn max_pain(contracts: &[&Contract], strikes: &[f64]) -> Option<f64> {
    let mut call_oi = vec![0.0; strikes.len()];
    let mut put_oi = vec![0.0; strikes.len()];
    let mut any = false;
    let mut i = 0;
    for c in contracts {
        let oi = c.get(Field::OpenInterest).unwrap_or(0.0);
        any |= oi != 0.0;
        // Contracts come in strike order: the strike's index only moves forward.
        while i + 1 < strikes.len() && strikes[i] < c.strike {
            i += 1;
        }
        match c.kind {
            OptionType::Call => call_oi[i] += oi,
            OptionType::Put => put_oi[i] += oi,
        }
    }
    if !any {
        return None;
    }
    let n = strikes.len();
    // paid[i]: what holders get if the expiry settles at strikes[i].
    let mut paid = vec![0.0; n];
    let (mut calls_below, mut acc) = (0.0, 0.0);
    for i in 1..n {
        calls_below += call_oi[i - 1];
        acc += calls_below * (strikes[i] - strikes[i - 1]);
        paid[i] = acc;
    }
    let (mut puts_above, mut acc) = (0.0, 0.0);
    for i in (0..n - 1).rev() {
        puts_above += put_oi[i + 1];
        acc += puts_above * (strikes[i + 1] - strikes[i]);
        paid[i] += acc;
    }
    let least = paid.iter().copied().fold(f64::INFINITY, f64::min);
    let i = paid
        .iter()
        .position(|p| *p <= least + least.abs() * PAIN_TIE)?;
    Some(strikes[i])
}

/// A sum that starts at +0: `Iterator::sum` of no floats is -0.0, which JSON would show as `-0`
/// for an expiry without open interest.
fn add(a: f64, b: f64) -> f64 {
    a + b
}

fn totals(expiries: &[ExpiryFigures]) -> Totals {
    let sum = |f: fn(&ExpiryFigures) -> f64| expiries.iter().map(f).fold(0.0, add);
    let (oi_calls, oi_puts) = (sum(|e| e.oi_calls), sum(|e| e.oi_puts));
    let (volume_calls, volume_puts) = (sum(|e| e.volume_calls), sum(|e| e.volume_puts));
    Totals {
        oi_calls,
        oi_puts,
        volume_calls,
        volume_puts,
        gex: sum(|e| e.gex),
        notional_oi: sum(|e| e.notional_oi),
        pcr_oi: ratio(oi_puts, oi_calls),
        pcr_volume: ratio(volume_puts, volume_calls),
    }
}

/// OI by side and GEX at each listed strike of the selected contracts.
fn strike_figures(contracts: &[&Contract]) -> Vec<StrikeFigures> {
    let mut by_strike: Vec<&Contract> = contracts.to_vec();
    by_strike.sort_by(|a, b| a.strike.total_cmp(&b.strike));
    by_strike
        .chunk_by(|a, b| a.strike == b.strike)
        .map(|g| {
            let oi = |kind| -> f64 {
                g.iter()
                    .filter(|c| c.kind == kind)
                    .filter_map(|c| c.get(Field::OpenInterest))
                    .fold(0.0, add)
            };
            StrikeFigures {
                strike: g[0].strike,
                oi_calls: oi(OptionType::Call),
                oi_puts: oi(OptionType::Put),
                gex: g.iter().filter_map(|c| gex_of(c)).fold(0.0, add),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Update;
    use options_core::figures::interpolate_ascending;
    use options_core::parse_symbol;
    use proptest::prelude::*;

    const NOW: i64 = 1_796_115_600_000; // 2026-12-01T09:00:00Z

    fn chain(rows: &[(&str, &[(Field, f64)])]) -> Chain {
        let mut c = Chain::new("BTC", 1);
        for (sym, values) in rows {
            let s = parse_symbol(sym).unwrap();
            c.upsert(
                &s,
                &Update {
                    values: values.to_vec(),
                    updated_ms: NOW,
                },
            );
        }
        c
    }

    #[test]
    fn median_takes_the_middle_or_the_mean_of_two() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), Some(2.0));
        assert_eq!(median([4.0, 1.0, 2.0, 3.0].into_iter()), Some(2.5));
        assert_eq!(median(std::iter::empty()), None);
    }

    #[test]
    fn nearest_prefers_the_lower_on_a_tie() {
        let s = [90.0, 100.0, 110.0];
        assert_eq!(nearest(&s, 105.0), Some(100.0));
        assert_eq!(nearest(&s, 105.1), Some(110.0));
        assert_eq!(nearest(&s, 10.0), Some(90.0));
        assert_eq!(nearest(&s, 1e9), Some(110.0));
        assert_eq!(nearest(&[], 1.0), None);
    }

    #[test]
    fn interpolation_is_exact_at_points_and_refuses_to_extrapolate() {
        let p = [(1.0, 10.0), (2.0, 20.0), (4.0, 0.0)];
        assert_eq!(interpolate(&p, 2.0), Some(20.0));
        assert_eq!(interpolate(&p, 1.5), Some(15.0));
        assert_eq!(interpolate(&p, 3.0), Some(10.0));
        assert_eq!(interpolate(&p, 0.5), None);
        assert_eq!(interpolate(&p, 4.5), None);
        assert_eq!(interpolate(&p, 4.0), Some(0.0));
    }

    #[test]
    fn one_expiry_from_the_definitions() {
        use Field::*;
        let c = chain(&[
            (
                "BTC-26DEC26-90000-C",
                &[
                    (UnderlyingPrice, 100.0),
                    (MarkIv, 0.6),
                    (Delta, 0.8),
                    (OpenInterest, 10.0),
                    (Gamma, 0.01),
                ],
            ),
            (
                "BTC-26DEC26-100000-C",
                &[
                    (UnderlyingPrice, 101.0),
                    (MarkIv, 0.5),
                    (Delta, 0.5),
                    (OpenInterest, 5.0),
                ],
            ),
            (
                "BTC-26DEC26-110000-C",
                &[
                    (UnderlyingPrice, 300.0),
                    (MarkIv, 0.4),
                    (Delta, 0.2),
                    (Volume24h, 7.0),
                ],
            ),
            (
                "BTC-26DEC26-100000-P",
                &[
                    (MarkIv, 0.7),
                    (Delta, -0.5),
                    (OpenInterest, 20.0),
                    (Volume24h, 14.0),
                ],
            ),
        ]);
        let a = compute(
            &c,
            &Selection::default(),
            NOW,
            Extras {
                by_strike: true,
                ..Extras::default()
            },
        );
        let e = &a.expiries[0];
        assert_eq!(e.forward, Some(101.0), "median of 100, 101, 300");
        // Strikes are 90000.. and the forward 101: the nearest listed strike is the lowest.
        assert_eq!(e.atm_strike, Some(90_000.0));
        assert_eq!(e.atm_iv, None, "forward below every strike");
        // Calls: delta 0.2 → 0.4, 0.5 → 0.5: at 0.25, 0.4 + (0.05/0.3)·0.1.
        let c25 = 0.4 + 0.05 / 0.3 * 0.1;
        assert!((e.call25_iv.unwrap() - c25).abs() < 1e-15);
        assert_eq!(e.put25_iv, None, "one put delta cannot bracket −0.25");
        assert_eq!(e.rr25, None);
        assert_eq!((e.oi_calls, e.oi_puts), (15.0, 20.0));
        assert_eq!((e.volume_calls, e.volume_puts), (7.0, 14.0));
        assert_eq!(e.pcr_oi, Some(20.0 / 15.0));
        assert_eq!(e.pcr_volume, Some(2.0));
        assert_eq!(e.gex, 0.01 * 10.0 * 100.0 * 100.0 * 0.01);
        assert_eq!(e.notional_oi, 10.0 * 100.0 + 5.0 * 101.0);
        // Pain at 90000: puts 20·10000; at 100000: calls 10·10000; at 110000: 10·20000 + 5·10000.
        assert_eq!(e.max_pain, Some(100_000.0));
        let s = a.strikes.unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(
            (s[1].strike, s[1].oi_calls, s[1].oi_puts),
            (100_000.0, 5.0, 20.0)
        );
    }

    #[test]
    fn tenors_interpolate_total_variance() {
        let e = |t: f64, iv: f64| ExpiryFigures {
            t,
            atm_iv: Some(iv),
            rr25: Some(t),
            ..ExpiryFigures::default()
        };
        let t7 = 7.0 / 365.0;
        let tn = tenors(&[e(t7 / 2.0, 0.5), e(t7 * 2.0, 0.7)]);
        let w = 0.25 * t7 / 2.0 + (0.49 * t7 * 2.0 - 0.25 * t7 / 2.0) * (t7 / 2.0) / (t7 * 1.5);
        assert!((tn[0].atm_iv.unwrap() - (w / t7).sqrt()).abs() < 1e-15);
        assert!((tn[0].rr25.unwrap() - t7).abs() < 1e-15);
        assert_eq!(tn[0].bf25, None);
        assert!(
            tn[1..].iter().all(|t| t.atm_iv.is_none()),
            "no extrapolation"
        );
    }

    proptest! {
        #[test]
        fn interpolation_stays_between_its_neighbours(
            ys in proptest::collection::vec(-5.0f64..5.0, 2..20),
            frac in 0.0f64..1.0,
        ) {
            let pts: Vec<(f64, f64)> = ys.iter().enumerate().map(|(i, y)| (i as f64, *y)).collect();
            let x = frac * (pts.len() - 1) as f64;
            let v = interpolate(&pts, x).unwrap();
            let lo = x.floor() as usize;
            let hi = x.ceil() as usize;
            let (a, b) = (pts[lo].1, pts[hi].1);
            prop_assert!(v >= a.min(b) - 1e-12 && v <= a.max(b) + 1e-12);
            prop_assert_eq!(interpolate(&pts, lo as f64), Some(pts[lo].1));
        }

        #[test]
        fn reading_points_once_answers_as_the_list_does(
            steps in proptest::collection::vec((0.001f64..1.0, -5.0f64..5.0), 0..20),
            x in -0.5f64..12.0,
        ) {
            let mut at = 0.0;
            let pts: Vec<(f64, f64)> = steps
                .iter()
                .map(|(dx, y)| {
                    at += dx;
                    (at, *y)
                })
                .collect();
            prop_assert_eq!(interpolate_ascending(pts.iter().copied(), x), interpolate(&pts, x));
            if let Some(p) = pts.first() {
                prop_assert_eq!(interpolate_ascending(pts.iter().copied(), p.0), Some(p.1));
            }
        }

        #[test]
        fn max_pain_is_the_strike_of_least_payout(
            rows in proptest::collection::vec((1u32..30, any::<bool>(), 0u32..100), 1..30),
        ) {
            let syms: Vec<(String, Vec<(Field, f64)>)> = rows.iter().map(|(k, call, oi)| (
                format!("BTC-26DEC26-{}-{}", k * 1000, if *call { "C" } else { "P" }),
                vec![(Field::OpenInterest, f64::from(*oi))],
            )).collect();
            let refs: Vec<(&str, &[(Field, f64)])> = syms.iter().map(|(s, v)| (s.as_str(), v.as_slice())).collect();
            let c = chain(&refs);
            let a = compute(&c, &Selection::default(), NOW, Extras::default());
            // The stored contract per symbol is the last write of it.
            let all: Vec<&Contract> = c.contracts().collect();
            let pay = |at: f64| all.iter().map(|c| {
                let n = c.get(Field::OpenInterest).unwrap_or(0.0);
                match c.kind { OptionType::Call => n * (at - c.strike).max(0.0), OptionType::Put => n * (c.strike - at).max(0.0) }
            }).sum::<f64>();
            match a.expiries[0].max_pain {
                None => prop_assert!(all.iter().all(|c| c.get(Field::OpenInterest) == Some(0.0))),
                Some(mp) => {
                    for c in &all {
                        prop_assert!(pay(mp) <= pay(c.strike));
                        if c.strike < mp { prop_assert!(pay(c.strike) > pay(mp)); }
                    }
                }
            }
        }
    }
}
