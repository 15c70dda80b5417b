//! Black-76: European options on a forward `F`, discounted at rate `r`.
//!
//! Conventions follow Bybit's ticker: `vega` is per one volatility point (0.01), `theta` is per
//! calendar day, volatilities are fractions (0.65 = 65%).

use crate::symbol::OptionType;

/// The inputs that define one option's price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Black76 {
    pub kind: OptionType,
    /// Forward (or underlying) price.
    pub forward: f64,
    pub strike: f64,
    /// Years to expiry.
    pub t: f64,
    /// Continuously compounded rate used for discounting.
    pub rate: f64,
}

/// Price and sensitivities of one option.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Greeks {
    pub price: f64,
    pub delta: f64,
    pub gamma: f64,
    /// Per 0.01 change of volatility.
    pub vega: f64,
    /// Per calendar day.
    pub theta: f64,
}

/// Standard normal density.
pub fn norm_pdf(x: f64) -> f64 {
    const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
    INV_SQRT_2PI * (-0.5 * x * x).exp()
}

/// Standard normal distribution function, accurate to about 1e-15 absolute (Hart's 1968 rational
/// approximation as given by West, 2005).
pub fn norm_cdf(x: f64) -> f64 {
    let a = x.abs();
    let tail = if a > 37.0 {
        0.0
    } else {
        let e = (-a * a / 2.0).exp();
        if a < 7.071_067_811_865_47 {
            // Highest power first, evaluated by Horner's rule: the operations in the
            // order West gives them, so the results are bit for bit his.
            const NUM: [f64; 7] = [
                3.526_249_659_989_11e-2,
                0.700_383_064_443_688,
                6.373_962_203_531_65,
                33.912_866_078_383,
                112.079_291_497_871,
                221.213_596_169_931,
                220.206_867_912_376,
            ];
            const DEN: [f64; 8] = [
                8.838_834_764_831_84e-2,
                1.755_667_163_182_64,
                16.064_177_579_207,
                86.780_732_202_946_1,
                296.564_248_779_674,
                637.333_633_378_831,
                793.826_512_519_948,
                440.413_735_824_752,
            ];
            let horner = |c: &[f64]| c[1..].iter().fold(c[0], |acc, k| acc * a + k);
            let (n, d) = (horner(&NUM), horner(&DEN));
            e * n / d
        } else {
            let mut b = a + 0.65;
            b = a + 4.0 / b;
            b = a + 3.0 / b;
            b = a + 2.0 / b;
            b = a + 1.0 / b;
            e / b / 2.506_628_274_631
        }
    };
    if x > 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

impl Black76 {
    fn discount(&self) -> f64 {
        (-self.rate * self.t).exp()
    }

    /// Value at expiry (or with zero volatility): the discounted intrinsic value.
    pub fn intrinsic(&self) -> f64 {
        let iv = match self.kind {
            OptionType::Call => self.forward - self.strike,
            OptionType::Put => self.strike - self.forward,
        };
        self.discount() * iv.max(0.0)
    }

    fn d1_d2(&self, sigma: f64) -> (f64, f64) {
        let st = sigma * self.t.sqrt();
        let d1 = ((self.forward / self.strike).ln() + 0.5 * sigma * sigma * self.t) / st;
        (d1, d1 - st)
    }

    /// Option price for volatility `sigma`.
    pub fn price(&self, sigma: f64) -> f64 {
        if self.t <= 0.0 || sigma <= 0.0 {
            return self.intrinsic();
        }
        let (d1, d2) = self.d1_d2(sigma);
        let df = self.discount();
        match self.kind {
            OptionType::Call => df * (self.forward * norm_cdf(d1) - self.strike * norm_cdf(d2)),
            OptionType::Put => df * (self.strike * norm_cdf(-d2) - self.forward * norm_cdf(-d1)),
        }
    }

    /// Price and greeks for volatility `sigma`. At or past expiry the greeks are those of the
    /// payoff: delta 0 or ±1, everything else 0.
    pub fn greeks(&self, sigma: f64) -> Greeks {
        let df = self.discount();
        if self.t <= 0.0 || sigma <= 0.0 {
            let itm = match self.kind {
                OptionType::Call => self.forward > self.strike,
                OptionType::Put => self.forward < self.strike,
            };
            let delta = match (self.kind, itm) {
                (_, false) => 0.0,
                (OptionType::Call, true) => df,
                (OptionType::Put, true) => -df,
            };
            return Greeks {
                price: self.intrinsic(),
                delta,
                gamma: 0.0,
                vega: 0.0,
                theta: 0.0,
            };
        }
        let (d1, d2) = self.d1_d2(sigma);
        let sqrt_t = self.t.sqrt();
        let pdf = norm_pdf(d1);
        let price = self.price(sigma);
        let delta = match self.kind {
            OptionType::Call => df * norm_cdf(d1),
            OptionType::Put => -df * norm_cdf(-d1),
        };
        let gamma = df * pdf / (self.forward * sigma * sqrt_t);
        let vega_unit = df * self.forward * pdf * sqrt_t;
        // dV/dt for Black-76: the decay of the volatility term plus the discounting drift.
        let theta_year = -df * self.forward * pdf * sigma / (2.0 * sqrt_t) + self.rate * price;
        let _ = d2;
        Greeks {
            price,
            delta,
            gamma,
            vega: vega_unit / 100.0,
            theta: theta_year / 365.0,
        }
    }

    /// Volatility whose price equals `price`, or `None` when no volatility in (0, 10] gives
    /// it (below intrinsic, above the forward/strike bound, or no time left).
    pub fn implied_vol(&self, price: f64) -> Option<f64> {
        if !price.is_finite() || self.t <= 0.0 || self.forward <= 0.0 || self.strike <= 0.0 {
            return None;
        }
        let df = self.discount();
        let upper = match self.kind {
            OptionType::Call => df * self.forward,
            OptionType::Put => df * self.strike,
        };
        let lower = self.intrinsic();
        if price <= lower || price >= upper {
            return None;
        }
        // Bisection bracket, refined by Newton steps whenever they stay inside it: Newton alone
        // diverges far from the money where vega is tiny.
        let (mut lo, mut hi) = (1e-9_f64, 10.0_f64);
        if self.price(hi) < price {
            return None;
        }
        let mut sigma = ((2.0 * std::f64::consts::PI / self.t).sqrt() * price
            / (df * self.forward))
            .clamp(0.01, 5.0);
        for _ in 0..200 {
            let p = self.price(sigma);
            let diff = p - price;
            if diff.abs() <= 1e-14 * price.max(1e-300) {
                return Some(sigma);
            }
            if diff > 0.0 {
                hi = sigma;
            } else {
                lo = sigma;
            }
            let vega = df * self.forward * norm_pdf(self.d1_d2(sigma).0) * self.t.sqrt();
            let newton = sigma - diff / vega;
            sigma = if vega > 0.0 && newton > lo && newton < hi {
                newton
            } else {
                0.5 * (lo + hi)
            };
            if hi - lo < 1e-15 * hi {
                return Some(sigma);
            }
        }
        Some(sigma)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn opt(kind: OptionType, f: f64, k: f64, t: f64) -> Black76 {
        Black76 {
            kind,
            forward: f,
            strike: k,
            t,
            rate: 0.0,
        }
    }

    #[test]
    fn cdf_known_values() {
        assert!((norm_cdf(0.0) - 0.5).abs() < 1e-16);
        assert!((norm_cdf(1.0) - 0.841_344_746_068_542_9).abs() < 1e-15);
        assert!((norm_cdf(-1.96) - 0.024_997_895_148_220_435).abs() < 1e-15);
        let tail = norm_cdf(-8.0);
        // The far tail is accurate in absolute terms (what prices need), to 1e-8 relative.
        assert!(
            (tail / 6.220_960_574_271_784e-16 - 1.0).abs() < 1e-7,
            "{tail:e}"
        );
        assert_eq!(norm_cdf(-40.0), 0.0);
        assert_eq!(norm_cdf(40.0), 1.0);
    }

    #[test]
    fn known_price() {
        // F=100, K=100, T=1, sigma=0.2, r=0: ATM Black price = F*(2N(0.1)-1) = 7.965567455405804
        let p = opt(OptionType::Call, 100.0, 100.0, 1.0).price(0.2);
        assert!((p - 7.965_567_455_405_804).abs() < 1e-12, "{p}");
    }

    #[test]
    fn iv_outside_bounds_is_none() {
        let o = opt(OptionType::Call, 100.0, 90.0, 0.5);
        assert_eq!(o.implied_vol(5.0), None); // below intrinsic 10
        assert_eq!(o.implied_vol(100.0), None); // at the forward bound
        assert_eq!(
            opt(OptionType::Put, 100.0, 90.0, 0.0).implied_vol(1.0),
            None
        );
    }

    proptest! {
        #[test]
        fn put_call_parity(f in 1.0f64..200_000.0, m in 0.3f64..3.0, t in 0.001f64..3.0,
                           sigma in 0.05f64..3.0, rate in 0.0f64..0.1) {
            let k = f * m;
            let c = Black76 { kind: OptionType::Call, forward: f, strike: k, t, rate };
            let p = Black76 { kind: OptionType::Put, ..c };
            let lhs = c.price(sigma) - p.price(sigma);
            let rhs = (-rate * t).exp() * (f - k);
            prop_assert!((lhs - rhs).abs() <= 1e-9 * f.max(k), "{lhs} vs {rhs}");
            // delta parity: call delta - put delta = discount factor
            let dc = c.greeks(sigma).delta - p.greeks(sigma).delta;
            prop_assert!((dc - (-rate * t).exp()).abs() < 1e-12);
        }

        #[test]
        fn iv_inverts_price(f in 1.0f64..200_000.0, m in 0.7f64..1.4, t in 0.01f64..2.0,
                            sigma in 0.05f64..2.5, call in any::<bool>()) {
            let kind = if call { OptionType::Call } else { OptionType::Put };
            let o = opt(kind, f, f * m, t);
            let price = o.price(sigma);
            // Only where the price is informative about sigma (vega not lost in rounding).
            let vega = o.greeks(sigma).vega * 100.0;
            prop_assume!(vega > 1e-6 * f);
            let iv = o.implied_vol(price).expect("a price inside the bounds has an IV");
            prop_assert!((iv - sigma).abs() < 1e-7, "sigma {sigma} iv {iv}");
        }

        #[test]
        fn greeks_match_finite_differences(f in 10.0f64..100_000.0, m in 0.8f64..1.25,
                                           t in 0.05f64..1.0, sigma in 0.2f64..1.5) {
            let o = opt(OptionType::Call, f, f * m, t);
            let g = o.greeks(sigma);
            let h = f * 1e-4;
            let up = Black76 { forward: f + h, ..o }.price(sigma);
            let dn = Black76 { forward: f - h, ..o }.price(sigma);
            prop_assert!(((up - dn) / (2.0 * h) - g.delta).abs() < 1e-6);
            prop_assert!(((up - 2.0 * g.price + dn) / (h * h) - g.gamma).abs() < 1e-3 * g.gamma.max(1e-9) + 1e-9);
            let dv = (o.price(sigma + 1e-5) - o.price(sigma - 1e-5)) / 2e-5 / 100.0;
            prop_assert!((dv - g.vega).abs() < 1e-6 * f);
            let dt = 1.0 / 365.0 / 100.0;
            let theta = (Black76 { t: t - dt, ..o }.price(sigma) - g.price) / dt / 365.0;
            prop_assert!((theta - g.theta).abs() < 1e-3 * g.theta.abs() + 1e-9 * f);
        }
    }
}
