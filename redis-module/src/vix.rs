//! The 30-day volatility index by the CBOE VIX method (ANALYTICS.md, "Volatility index"): each
//! expiry's variance from its out-of-the-money bid/ask mids, then the two expiries around 30
//! days interpolated in total variance. Pure functions of quotes, unit-tested here.

/// One contract's quote. A missing bid is a zero bid.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Quote {
    pub bid: Option<f64>,
    pub ask: Option<f64>,
}

impl Quote {
    /// Whether the contract has a bid above zero (the strike walk stops on two without).
    pub fn has_bid(&self) -> bool {
        self.bid.is_some_and(|b| b > 0.0)
    }

    /// `(bid + ask)/2`, counted only with a bid above zero and an ask not below it.
    pub fn mid(&self) -> Option<f64> {
        let (bid, ask) = (self.bid?, self.ask?);
        (bid > 0.0 && ask >= bid && ask.is_finite()).then_some((bid + ask) / 2.0)
    }
}

/// A listed strike of one expiry and one settle coin: its call's and its put's quote (default
/// when that side is not listed).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StrikeQuotes {
    pub strike: f64,
    pub call: Quote,
    pub put: Quote,
}

/// What one expiry contributes: its variance and the forward and K0 it was computed with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpiryVariance {
    pub variance: f64,
    pub forward: f64,
    pub k0: f64,
}

/// The expiry's variance (`σ²`) from `strikes` (ascending, one settle coin), `t` in years and
/// the annual rate `rate`; `None` when there is no put below K0 or no call above it that counts.
pub fn expiry_variance(strikes: &[StrikeQuotes], t: f64, rate: f64) -> Option<ExpiryVariance> {
    if t.is_nan() || t <= 0.0 || strikes.is_empty() {
        return None;
    }
    let growth = (rate * t).exp();
    // The forward: the strike where call and put mids are closest (the lower on a tie).
    let mut best: Option<(f64, f64, f64)> = None; // (|C − P|, strike, C − P)
    for s in strikes {
        if let (Some(c), Some(p)) = (s.call.mid(), s.put.mid()) {
            let diff = c - p;
            if best.is_none_or(|b| diff.abs() < b.0) {
                best = Some((diff.abs(), s.strike, diff));
            }
        }
    }
    let (_, k_star, diff) = best?;
    let forward = k_star + growth * diff;
    // K0: the largest listed strike at or below the forward.
    let k0_at = strikes.iter().rposition(|s| s.strike <= forward)?;
    let k0 = strikes[k0_at].strike;
    // The strikes used, in ascending order, with their Q.
    let mut used: Vec<(f64, f64)> = Vec::with_capacity(strikes.len());
    let walk = |range: &mut dyn Iterator<Item = &StrikeQuotes>,
                side: fn(&StrikeQuotes) -> Quote| {
        let mut out = Vec::new();
        let mut zero_bids = 0;
        for s in range {
            let q = side(s);
            if q.has_bid() {
                zero_bids = 0;
                if let Some(mid) = q.mid() {
                    out.push((s.strike, mid));
                }
            } else {
                zero_bids += 1;
                if zero_bids == 2 {
                    break;
                }
            }
        }
        out
    };
    let puts = walk(&mut strikes[..k0_at].iter().rev(), |s| s.put);
    let calls = walk(&mut strikes[k0_at + 1..].iter(), |s| s.call);
    if puts.is_empty() || calls.is_empty() {
        return None;
    }
    used.extend(puts.iter().rev());
    let at = &strikes[k0_at];
    let q0 = match (at.call.mid(), at.put.mid()) {
        (Some(c), Some(p)) => Some((c + p) / 2.0),
        (c, p) => c.or(p),
    };
    if let Some(q) = q0 {
        used.push((k0, q));
    }
    used.extend(calls);
    let n = used.len();
    let mut sum = 0.0;
    for i in 0..n {
        let dk = match (
            i.checked_sub(1).map(|j| used[j].0),
            used.get(i + 1).map(|u| u.0),
        ) {
            (Some(lo), Some(hi)) => (hi - lo) / 2.0,
            (Some(lo), None) => used[i].0 - lo,
            (None, Some(hi)) => hi - used[i].0,
            (None, None) => return None,
        };
        let (k, q) = used[i];
        sum += dk / (k * k) * growth * q;
    }
    let variance = 2.0 / t * sum - (forward / k0 - 1.0).powi(2) / t;
    variance.is_finite().then_some(ExpiryVariance {
        variance,
        forward,
        k0,
    })
}

/// Thirty days in years (`N30`).
pub const THIRTY_DAYS: f64 = 30.0 / 365.0;

/// The index from `(t, variance)` of each expiry (any order): the expiry with the largest
/// `t ≤ 30 days` and the one with the smallest `t > 30 days`, interpolated in total variance,
/// as a volatility in percent. `None` without both (an expiry at exactly 30 days is its own).
pub fn vol_index(expiries: impl Iterator<Item = (f64, f64)>) -> Option<f64> {
    let mut near: Option<(f64, f64)> = None;
    let mut next: Option<(f64, f64)> = None;
    for (t, v) in expiries {
        if t.is_nan() || t <= 0.0 || !v.is_finite() {
            continue;
        }
        if t <= THIRTY_DAYS {
            if near.is_none_or(|n| t > n.0) {
                near = Some((t, v));
            }
        } else if next.is_none_or(|n| t < n.0) {
            next = Some((t, v));
        }
    }
    let total = match (near, next) {
        (Some((t1, v1)), _) if t1 == THIRTY_DAYS => t1 * v1,
        (Some((t1, v1)), Some((t2, v2))) => {
            t1 * v1 * (t2 - THIRTY_DAYS) / (t2 - t1) + t2 * v2 * (THIRTY_DAYS - t1) / (t2 - t1)
        }
        _ => return None,
    };
    let annual = total / THIRTY_DAYS;
    (annual >= 0.0).then(|| 100.0 * annual.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(bid: f64, ask: f64) -> Quote {
        Quote {
            bid: Some(bid),
            ask: Some(ask),
        }
    }

    fn line(strike: f64, call: Quote, put: Quote) -> StrikeQuotes {
        StrikeQuotes { strike, call, put }
    }

    #[test]
    fn mids_need_a_bid_and_a_sane_ask() {
        assert_eq!(q(1.0, 2.0).mid(), Some(1.5));
        assert_eq!(q(0.0, 2.0).mid(), None);
        assert_eq!(q(2.0, 1.0).mid(), None);
        assert_eq!(Quote::default().mid(), None);
        assert!(!Quote::default().has_bid());
    }

    /// A small chain worked by hand: strikes 80…120 by 10, T = 0.1, r = 0.
    #[test]
    fn a_chain_worked_by_hand() {
        let none = Quote::default();
        let chain = [
            line(70.0, none, q(0.0, 0.1)),
            line(80.0, q(20.0, 22.0), q(0.4, 0.6)),
            line(90.0, q(11.0, 13.0), q(1.5, 2.5)),
            line(100.0, q(5.0, 6.0), q(4.5, 5.5)),
            line(110.0, q(2.0, 3.0), q(11.0, 12.0)),
            line(120.0, q(0.5, 0.7), q(20.0, 21.0)),
        ];
        let v = expiry_variance(&chain, 0.1, 0.0).unwrap();
        // K* = 100 (|5.5 − 5.0| = 0.5 is least), F = 100 + 0.5 = 100.5, K0 = 100.
        assert_eq!(v.forward, 100.5);
        assert_eq!(v.k0, 100.0);
        // Used: puts 80 (0.5), 90 (2.0); K0 100 ((5.5 + 5.0)/2); calls 110 (2.5), 120 (0.6).
        let terms = [
            (10.0 / 6400.0) * 0.5,
            (10.0 / 8100.0) * 2.0,
            (10.0 / 10000.0) * 5.25,
            (10.0 / 12100.0) * 2.5,
            (10.0 / 14400.0) * 0.6,
        ];
        let want = 2.0 / 0.1 * terms.iter().sum::<f64>() - (100.5f64 / 100.0 - 1.0).powi(2) / 0.1;
        assert!(
            (v.variance - want).abs() < 1e-15,
            "{} vs {want}",
            v.variance
        );
    }

    #[test]
    fn two_zero_bids_in_a_row_end_the_walk() {
        let none = Quote::default();
        let z = q(0.0, 0.05);
        let chain = [
            line(60.0, none, q(0.1, 0.2)), // beyond two zero bids: not used
            line(70.0, none, z),
            line(75.0, none, z),
            line(80.0, none, q(0.3, 0.4)),
            line(90.0, q(10.5, 11.5), q(0.9, 1.1)),
            line(100.0, q(4.0, 4.2), q(4.0, 4.2)),
            line(110.0, q(1.0, 1.2), none),
        ];
        let with = expiry_variance(&chain, 0.05, 0.0).unwrap();
        let mut cut = chain;
        cut[0].put = Quote::default();
        let without = expiry_variance(&cut, 0.05, 0.0).unwrap();
        assert_eq!(with.variance, without.variance);
        // No call above K0 with a bid: no variance.
        let mut no_calls = chain;
        no_calls[6].call = z;
        assert!(expiry_variance(&no_calls, 0.05, 0.0).is_none());
    }

    #[test]
    fn the_rate_moves_the_forward() {
        let chain = [
            line(90.0, q(11.0, 12.0), q(1.0, 1.2)),
            line(100.0, q(5.0, 6.0), q(4.0, 5.0)),
            line(110.0, q(1.5, 2.0), q(10.0, 11.0)),
        ];
        let r = 0.05;
        let v = expiry_variance(&chain, 0.5, r).unwrap();
        assert_eq!(v.forward, 100.0 + (r * 0.5f64).exp() * 1.0);
    }

    #[test]
    fn the_index_interpolates_total_variance_around_30_days() {
        let (t1, t2) = (20.0 / 365.0, 40.0 / 365.0);
        let (v1, v2) = (0.25, 0.36);
        let want = 100.0
            * ((t1 * v1 * (t2 - THIRTY_DAYS) + t2 * v2 * (THIRTY_DAYS - t1)) / (t2 - t1) * 365.0
                / 30.0)
                .sqrt();
        let got = vol_index([(t2, v2), (t1, v1), (100.0 / 365.0, 1.0)].into_iter()).unwrap();
        assert!((got - want).abs() < 1e-12);
        assert_eq!(vol_index([(THIRTY_DAYS, 0.49)].into_iter()), Some(70.0));
        assert_eq!(vol_index([(t1, v1)].into_iter()), None, "no extrapolation");
        assert_eq!(vol_index([(t2, v2)].into_iter()), None);
    }
}
