//! A market that moves the way a real one does, for the analytics and history benchmarks: a
//! figure computed from it, or stored about it, changes every interval by market-sized amounts,
//! so neither a cache nor a "value unchanged" shortcut can flatter a benchmark.
//!
//! The index is a geometric random walk (50 % a year); each expiry's forward follows it with its
//! own small basis; the smile (level, skew, curvature per expiry) random-walks; every contract's
//! mark IV, price and greeks come from Black-76 at its strike, so deltas follow strikes as the
//! forward moves; open interest and 24 h volume random-walk per contract.

use options_core::{Black76, Expiry, Field, OptionType};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const YEAR_MS: f64 = 31_536_000_000.0;
const YEAR_S: f64 = 31_536_000.0;

struct ExpirySmile {
    expiry_ts: i64,
    /// Annual basis of the forward over the index.
    basis: f64,
    level: f64,
    skew: f64,
    curvature: f64,
}

struct Contract {
    symbol: String,
    expiry: usize,
    strike: f64,
    call: bool,
    open_interest: f64,
    volume: f64,
}

/// One contract's fields at an instant, as a feeder would write them.
pub struct Quote {
    pub symbol: String,
    pub values: Vec<(Field, f64)>,
}

pub struct MovingMarket {
    rng: StdRng,
    pub index: f64,
    expiries: Vec<ExpirySmile>,
    contracts: Vec<Contract>,
    /// Strikes listed per expiry.
    strikes: usize,
    /// Live expiries kept listed (`roll`).
    live_expiries: usize,
}

impl MovingMarket {
    /// `expiries` weekly expiries from tomorrow, each with up to `strikes` strikes (multiples of
    /// 100) spread over ±2.5 standard deviations of the index at that expiry, as exchanges list
    /// them (wider for later expiries), calls and puts, deterministic for `seed`.
    pub fn new(seed: u64, expiries: usize, strikes: usize, now_ms: i64) -> MovingMarket {
        let mut m = MovingMarket {
            rng: StdRng::seed_from_u64(seed),
            index: 97_000.0,
            expiries: Vec::new(),
            contracts: Vec::new(),
            strikes,
            live_expiries: expiries,
        };
        let today = now_ms.div_euclid(86_400_000);
        for e in 0..expiries {
            let expiry = Expiry::from_unix_days(today + 1 + 7 * e as i64).expect("a date");
            m.list(expiry, now_ms);
        }
        m
    }

    /// Lists `expiry`: its smile and its contracts.
    fn list(&mut self, expiry: Expiry, now_ms: i64) {
        let e = self.expiries.len();
        let expiry_ts = expiry.timestamp_ms();
        self.expiries.push(ExpirySmile {
            expiry_ts,
            basis: self.rng.random_range(0.02..0.08),
            level: 0.45 + self.rng.random_range(0.0..0.1),
            skew: -0.04,
            curvature: 0.02,
        });
        let t = ((expiry_ts - now_ms) as f64 / YEAR_MS).max(1.0 / 365.0);
        let span = (2.5 * 0.5 * t.sqrt()).max(0.05);
        let mut last = 0.0;
        for s in 0..self.strikes {
            let x = span * (2.0 * s as f64 / (self.strikes.max(2) - 1) as f64 - 1.0);
            let strike = (self.index * x.exp() / 100.0).round() * 100.0;
            if strike == last {
                continue;
            }
            last = strike;
            for call in [true, false] {
                self.contracts.push(Contract {
                    symbol: format!(
                        "BTC-{}-{}-{}",
                        expiry.code(),
                        strike as i64,
                        if call { "C" } else { "P" }
                    ),
                    expiry: e,
                    strike,
                    call,
                    open_interest: self.rng.random_range(10.0..2_000.0),
                    volume: self.rng.random_range(0.0..500.0),
                });
            }
        }
    }

    /// Lists a new weekly expiry for every one that has expired by `now_ms`, as exchanges do,
    /// so the number of live expiries stays the same.
    pub fn roll(&mut self, now_ms: i64) {
        let live = |m: &MovingMarket| m.expiries.iter().filter(|e| e.expiry_ts > now_ms).count();
        let mut latest = self
            .expiries
            .iter()
            .map(|e| e.expiry_ts)
            .max()
            .unwrap_or(now_ms);
        while live(self) < self.live_expiries {
            latest += 7 * 86_400_000;
            let expiry = Expiry::from_unix_days(latest.div_euclid(86_400_000)).expect("a date");
            self.list(expiry, now_ms);
        }
    }

    pub fn len(&self) -> usize {
        self.contracts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.contracts.is_empty()
    }

    /// Moves the market on by `secs` seconds.
    pub fn step(&mut self, secs: f64) {
        let sqrt_dt = (secs / YEAR_S).sqrt();
        let rng = &mut self.rng;
        let mut normal = || {
            // Box-Muller: a standard normal from two uniforms.
            let (u, v): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random_range(0.0..1.0));
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        };
        self.index *= (0.5 * sqrt_dt * normal()).exp();
        for e in &mut self.expiries {
            e.basis = (e.basis + 0.05 * sqrt_dt * normal()).clamp(-0.05, 0.15);
            e.level = (e.level * (1.0 + 0.9 * sqrt_dt * normal())).clamp(0.15, 1.5);
            e.skew = (e.skew + 0.05 * sqrt_dt * normal()).clamp(-0.2, 0.1);
            e.curvature = (e.curvature + 0.02 * sqrt_dt * normal()).clamp(0.0, 0.1);
        }
        // Open interest and volume: a few lots a minute per contract, up or down.
        let lots = (secs / 60.0).sqrt() * 3.0;
        for c in &mut self.contracts {
            c.open_interest = (c.open_interest + lots * normal()).max(0.0);
            c.volume = (c.volume + lots * normal()).max(0.0);
        }
    }

    /// Every live contract's fields at `now_ms`.
    pub fn quotes(&self, now_ms: i64) -> Vec<Quote> {
        (0..self.contracts.len())
            .filter_map(|i| self.quote(i, now_ms))
            .collect()
    }

    /// Contract `i`'s fields at `now_ms` (None once it has expired).
    pub fn quote(&self, i: usize, now_ms: i64) -> Option<Quote> {
        let c = &self.contracts[i];
        let e = &self.expiries[c.expiry];
        let t = (e.expiry_ts - now_ms) as f64 / YEAR_MS;
        if t <= 0.0 {
            return None;
        }
        let forward = self.index * (e.basis * t).exp();
        let x = ((c.strike / forward).ln() / t.sqrt()).clamp(-3.0, 3.0);
        let iv = (e.level + e.skew * x + e.curvature * x * x).max(0.05);
        let model = Black76 {
            kind: if c.call {
                OptionType::Call
            } else {
                OptionType::Put
            },
            forward,
            strike: c.strike,
            t,
            rate: 0.0,
        };
        let g = model.greeks(iv);
        let half_spread = (0.02 * g.price).max(5.0);
        let values = vec![
            (Field::BidPrice, (g.price - half_spread).max(0.0)),
            (Field::BidSize, 10.0),
            (Field::BidIv, iv - 0.01),
            (Field::AskPrice, g.price + half_spread),
            (Field::AskSize, 10.0),
            (Field::AskIv, iv + 0.01),
            (Field::MarkPrice, g.price),
            (Field::MarkIv, iv),
            (Field::IndexPrice, self.index),
            (Field::UnderlyingPrice, forward),
            (Field::OpenInterest, c.open_interest),
            (Field::Volume24h, c.volume),
            (Field::Turnover24h, c.volume * self.index),
            (Field::Delta, g.delta),
            (Field::Gamma, g.gamma),
            (Field::Vega, g.vega),
            (Field::Theta, g.theta),
        ];
        Some(Quote {
            symbol: c.symbol.clone(),
            values,
        })
    }

    /// `OPTIONS.INGEST BTC symbol field value … updated_ms now` for every live contract.
    pub fn ingest_pipeline(&self, now_ms: i64) -> redis::Pipeline {
        let mut pipe = redis::pipe();
        for q in self.quotes(now_ms) {
            let cmd = pipe.cmd("OPTIONS.INGEST").arg("BTC").arg(&q.symbol);
            for (f, v) in &q.values {
                cmd.arg(f.name()).arg(*v);
            }
            cmd.arg("updated_ms").arg(now_ms).ignore();
        }
        pipe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_figure_moves_and_deltas_follow_strikes() {
        let now = 1_780_000_000_000;
        let mut m = MovingMarket::new(1, 4, 21, now);
        let before = m.quotes(now);
        assert_eq!(m.len(), before.len());
        m.step(60.0);
        let after = m.quotes(now + 60_000);
        assert!(before.len() > 4 * 15 * 2, "{} contracts", before.len());
        for f in [
            Field::IndexPrice,
            Field::UnderlyingPrice,
            Field::MarkIv,
            Field::OpenInterest,
            Field::Delta,
        ] {
            let v = |q: &Quote| q.values.iter().find(|(g, _)| *g == f).unwrap().1;
            let moved = before
                .iter()
                .zip(&after)
                .filter(|(a, b)| v(a) != v(b))
                .count();
            assert!(
                moved > before.len() * 9 / 10,
                "{f:?} moved in {moved} contracts"
            );
        }
        // Call deltas fall as strikes rise, within each expiry.
        let deltas: Vec<f64> = after
            .iter()
            .filter(|q| q.symbol.ends_with("-C"))
            .take(21)
            .map(|q| q.values.iter().find(|(g, _)| *g == Field::Delta).unwrap().1)
            .collect();
        assert!(deltas.windows(2).all(|w| w[0] > w[1]), "{deltas:?}");
        // A minute moves the index by market-sized amounts, not by nothing or by half.
        let moved = (m.index / 97_000.0 - 1.0).abs();
        assert!(moved > 0.0 && moved < 0.01, "{moved}");

        // Expiries roll: as one expires, a new one is listed a week after the last.
        let later = now + 3 * 86_400_000;
        m.roll(later);
        let live: std::collections::BTreeSet<&str> = m
            .contracts
            .iter()
            .zip(0..)
            .filter(|(_, i)| m.quote(*i, later).is_some())
            .map(|(c, _)| c.symbol.split('-').nth(1).unwrap())
            .collect();
        assert_eq!(live.len(), 4, "{live:?}");
    }
}
