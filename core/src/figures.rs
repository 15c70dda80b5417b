//! The analytics' figures (ANALYTICS.md): what `OPTIONS.ANALYTICS` answers, as one set of types
//! that the module computes and fills, its history samples keep, and the client decodes (the
//! names are the reply's field names, so the JSON is `serde`'s), and the maths on figures alone
//! (constant-maturity tenors) that the module's reply and its history reads share.

use serde::{Deserialize, Serialize};

use crate::svi::Svi;

/// Milliseconds in a year of 365 days (`t`).
pub const YEAR_MS: f64 = 31_536_000_000.0;
/// The constant maturities of `tenors`, in days.
pub const TENOR_DAYS: [u32; 5] = [7, 30, 60, 90, 180];

/// The figures of one expiry.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpiryFigures {
    /// Bybit's code, e.g. `3DEC26`.
    pub expiry: String,
    pub expiry_ts: i64,
    pub t: f64,
    pub forward: Option<f64>,
    pub atm_strike: Option<f64>,
    pub atm_iv: Option<f64>,
    pub call25_iv: Option<f64>,
    pub put25_iv: Option<f64>,
    pub call10_iv: Option<f64>,
    pub put10_iv: Option<f64>,
    pub rr25: Option<f64>,
    pub bf25: Option<f64>,
    pub rr10: Option<f64>,
    pub bf10: Option<f64>,
    pub oi_calls: f64,
    pub oi_puts: f64,
    pub volume_calls: f64,
    pub volume_puts: f64,
    pub pcr_oi: Option<f64>,
    pub pcr_volume: Option<f64>,
    pub max_pain: Option<f64>,
    pub gex: f64,
    pub notional_oi: f64,
    /// The CBOE method's variance of the expiry (`σ²`), from its bid/ask mids.
    pub variance: Option<f64>,
    /// `forward · atm_iv · sqrt(t)`: the one-σ move to expiry, USD.
    pub expected_move: Option<f64>,
    /// The raw SVI fit of the expiry's total variance in log-moneyness.
    pub svi: Option<Svi>,
    /// Root mean square of market − fitted IV over the fitted strikes.
    pub svi_rmse: Option<f64>,
    /// The fit's density is negative somewhere near the strikes (`null` without a fit).
    pub butterfly_arb: Option<bool>,
    /// The fit's total variance falls below the previous fitted expiry's somewhere near the
    /// strikes (`null` without a fit; false for the first fitted expiry).
    pub calendar_arb: Option<bool>,
}

/// Sums over the selected expiries, with the ratios recomputed from the sums.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    pub oi_calls: f64,
    pub oi_puts: f64,
    pub volume_calls: f64,
    pub volume_puts: f64,
    pub gex: f64,
    pub notional_oi: f64,
    pub pcr_oi: Option<f64>,
    pub pcr_volume: Option<f64>,
}

/// ATM volatility and skew at a constant maturity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenor {
    pub days: u32,
    pub atm_iv: Option<f64>,
    pub rr25: Option<f64>,
    pub bf25: Option<f64>,
}

/// Open interest and gamma exposure at one strike, over the selected expiries.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrikeFigures {
    pub strike: f64,
    pub oi_calls: f64,
    pub oi_puts: f64,
    pub gex: f64,
}

/// Everything `OPTIONS.ANALYTICS` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Analytics {
    pub underlying: String,
    /// The instant the figures are of (Unix ms).
    pub now: i64,
    pub index: Option<f64>,
    /// The 30-day volatility index (percent), from every live expiry of the settle coins asked.
    pub vol_index: Option<f64>,
    pub totals: Totals,
    pub tenors: Vec<Tenor>,
    pub expiries: Vec<ExpiryFigures>,
    /// `Some` when asked for (`BYSTRIKE`), in strike order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strikes: Option<Vec<StrikeFigures>>,
}

impl Analytics {
    /// The figures at a constant maturity of `days`, if the reply has that tenor.
    pub fn tenor(&self, days: u32) -> Option<&Tenor> {
        self.tenors.iter().find(|t| t.days == days)
    }

    /// A tenor figure (`atm_iv`, `rr25`, `bf25`) or an underlying-wide figure by name (the
    /// totals, `index`, `vol_index`, `term_spread`, `arbitrage_flags`); `None` when missing or
    /// `null`.
    pub fn metric(&self, name: &str, tenor: Option<u32>) -> Option<f64> {
        if let Some(days) = tenor {
            let t = self.tenor(days)?;
            return match name {
                "atm_iv" => t.atm_iv,
                "rr25" => t.rr25,
                "bf25" => t.bf25,
                _ => None,
            };
        }
        let t = &self.totals;
        match name {
            "oi_calls" => Some(t.oi_calls),
            "oi_puts" => Some(t.oi_puts),
            "volume_calls" => Some(t.volume_calls),
            "volume_puts" => Some(t.volume_puts),
            "gex" => Some(t.gex),
            "notional_oi" => Some(t.notional_oi),
            "pcr_oi" => t.pcr_oi,
            "pcr_volume" => t.pcr_volume,
            "index" => self.index,
            "vol_index" => self.vol_index,
            // 7-day minus 30-day ATM IV: positive when the term structure is inverted.
            "term_spread" => Some(self.tenor(7)?.atm_iv? - self.tenor(30)?.atm_iv?),
            // Expiries whose fit has an arbitrage flag up.
            "arbitrage_flags" => Some(
                self.expiries
                    .iter()
                    .filter(|e| e.butterfly_arb == Some(true) || e.calendar_arb == Some(true))
                    .count() as f64,
            ),
            _ => None,
        }
    }
}

/// Constant-maturity ATM IV (total variance interpolated in t), RR25 and BF25 (interpolated in
/// t); no extrapolation.
pub fn tenors(expiries: &[ExpiryFigures]) -> Vec<Tenor> {
    let points = expiries.iter().map(|e| (e.t, e.atm_iv, e.rr25, e.bf25));
    TENOR_DAYS
        .iter()
        .map(|&days| {
            let [atm_iv, rr25, bf25] = tenor_at(points.clone(), days, [true; 3]);
            Tenor {
                days,
                atm_iv,
                rr25,
                bf25,
            }
        })
        .collect()
}

/// One expiry's `(t, atm_iv, rr25, bf25)`: what a tenor interpolates.
pub type TenorPoint = (f64, Option<f64>, Option<f64>, Option<f64>);

/// `[atm_iv, rr25, bf25]` at `days` from the expiries' `(t, atm_iv, rr25, bf25)` in
/// chronological order, only those `wanted` (the rest `None`): the one computation of a tenor,
/// which `OPTIONS.ANALYTICS` and the history's reads share. Nothing is collected, so a read of a
/// month of history (a tenor per sample) allocates nothing for it.
pub fn tenor_at(
    expiries: impl Iterator<Item = TenorPoint> + Clone,
    days: u32,
    wanted: [bool; 3],
) -> [Option<f64>; 3] {
    let t = f64::from(days) / 365.0;
    let series = |pick: fn(&TenorPoint) -> Option<f64>| {
        expiries.clone().filter_map(move |e| Some((e.0, pick(&e)?)))
    };
    [
        wanted[0]
            .then(|| {
                let variance = series(|e| e.1).map(|(t, iv)| (t, iv * iv * t));
                interpolate_ascending(variance, t).map(|w| (w / t).max(0.0).sqrt())
            })
            .flatten(),
        wanted[1]
            .then(|| interpolate_ascending(series(|e| e.2), t))
            .flatten(),
        wanted[2]
            .then(|| interpolate_ascending(series(|e| e.3), t))
            .flatten(),
    ]
}

/// `interpolate` over points that come in ascending x without repeats, read once and never
/// collected: the same answer, without the list.
pub fn interpolate_ascending(points: impl Iterator<Item = (f64, f64)>, x: f64) -> Option<f64> {
    let mut below: Option<(f64, f64)> = None;
    for p in points {
        if p.0 == x {
            return Some(p.1);
        }
        if p.0 < x {
            below = Some(p);
        } else {
            let b = below?;
            let w = (x - b.0) / (p.0 - b.0);
            return Some(b.1 + w * (p.1 - b.1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenor(days: u32, atm_iv: Option<f64>) -> Tenor {
        Tenor {
            days,
            atm_iv,
            rr25: None,
            bf25: None,
        }
    }

    #[test]
    fn derived_figures_by_name() {
        let flagged = |b, c| ExpiryFigures {
            butterfly_arb: b,
            calendar_arb: c,
            ..ExpiryFigures::default()
        };
        let a = Analytics {
            underlying: "BTC".into(),
            now: 0,
            index: Some(97_000.0),
            vol_index: Some(55.5),
            totals: Totals::default(),
            tenors: vec![tenor(7, Some(0.62)), tenor(30, Some(0.55)), tenor(60, None)],
            expiries: vec![
                flagged(Some(true), Some(false)),
                flagged(Some(false), Some(true)),
                flagged(Some(false), Some(false)),
                flagged(None, None),
            ],
            strikes: None,
        };
        assert_eq!(a.metric("vol_index", None), Some(55.5));
        let spread = a.metric("term_spread", None).unwrap();
        assert!(
            (spread - 0.07).abs() < 1e-12,
            "inverted: 7-day above 30-day"
        );
        assert_eq!(a.metric("arbitrage_flags", None), Some(2.0));
        let flat = Analytics {
            tenors: vec![tenor(7, None), tenor(30, Some(0.5))],
            ..a
        };
        assert_eq!(flat.metric("term_spread", None), None, "needs both tenors");
    }
}
