//! A sample of a chain's analytics (ANALYTICS.md, History): what it holds and how a metric is
//! read from it.

use options_core::Expiry;

use options_core::figures::{Analytics, TENOR_DAYS};

/// Per-expiry figures of a sample, in this order.
pub const EXPIRY_METRICS: [&str; 7] = [
    "forward", "atm_iv", "rr25", "bf25", "pcr_oi", "max_pain", "gex",
];
/// Per-tenor figures of a sample, in this order.
pub const TENOR_METRICS: [&str; 3] = ["atm_iv", "rr25", "bf25"];
/// Underlying-wide figures: the index, the totals (ratios computed from the sums) and the
/// volatility index.
pub const TOTAL_METRICS: [&str; 10] = [
    "index",
    "oi_calls",
    "oi_puts",
    "volume_calls",
    "volume_puts",
    "gex",
    "notional_oi",
    "pcr_oi",
    "pcr_volume",
    "vol_index",
];
/// How many totals are stored (the rest are ratios of them).
pub(super) const STORED_TOTALS: usize = 6;
/// The fixed series of a sample, in encoding order: index, totals, the tenors' 15 figures, the
/// volatility index.
pub(super) const FIXED: usize = 1 + STORED_TOTALS + 15 + 1;
/// The fixed series of samples encoded before the volatility index was recorded.
pub(super) const LEGACY_FIXED: usize = FIXED - 1;

/// One expiry's figures in a sample (`EXPIRY_METRICS`).
pub type ExpiryValues = (Expiry, [Option<f64>; 7]);

/// One sample, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub ts: i64,
    pub index: Option<f64>,
    /// The 30-day volatility index (computed with r = 0); `None` in samples recorded before
    /// the module recorded it.
    pub vol_index: Option<f64>,
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
            vol_index: a.vol_index,
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
                        Expiry::parse(&e.expiry).ok()?,
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
            "vol_index" => self.vol_index,
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

    /// The values in encoding order: index, totals, tenors, volatility index (the fixed
    /// series).
    pub(super) fn fixed(&self) -> [Option<f64>; FIXED] {
        let mut out = [None; FIXED];
        out[0] = self.index;
        out[1..=STORED_TOTALS].copy_from_slice(&self.totals);
        for (i, t) in self.tenors.iter().enumerate() {
            out[1 + STORED_TOTALS + 3 * i..1 + STORED_TOTALS + 3 * i + 3].copy_from_slice(t);
        }
        out[FIXED - 1] = self.vol_index;
        out
    }
}
