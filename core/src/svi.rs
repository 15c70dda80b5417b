//! Raw SVI smiles (ANALYTICS.md, "Fitted smiles"): the least-squares fit of total variance
//! `w(k) = a + b·(ρ·(k − m) + sqrt((k − m)² + σ²))` to a smile's points, and Gatheral's
//! butterfly and calendar checks.
//!
//! The fit is quasi-explicit (Zeliade's method): for fixed `m` and `σ` the model is linear in
//! `(a, d, c) = (a, ρ·b·σ, b·σ)`, and the constraints (`b ≥ 0`, `|ρ| ≤ 0.999`,
//! `a + b·σ·sqrt(1 − ρ²) ≥ 0`) make that inner problem convex, so it is solved exactly: the
//! unconstrained least squares when feasible, else the best point of the boundary's faces. The
//! outer search over `(m, ln σ)` is a fixed grid, then Nelder–Mead from the two best grid
//! points (a compass search finishing where it can stall, near σ's bound), and every interval
//! between strikes searched when the best fit has σ at its bound.
//! Everything is deterministic: no randomness, one order of operations.

use serde::{Deserialize, Serialize};

/// The raw SVI parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Svi {
    pub a: f64,
    pub b: f64,
    pub rho: f64,
    pub m: f64,
    pub sigma: f64,
}

/// `|ρ|` at most this.
pub const RHO_MAX: f64 = 0.999;
/// `σ` at least this.
pub const SIGMA_MIN: f64 = 1e-4;
/// Fewer points than this are not fitted.
pub const MIN_POINTS: usize = 5;

impl Svi {
    /// Total variance at log-moneyness `k`.
    pub fn w(&self, k: f64) -> f64 {
        let x = k - self.m;
        self.a + self.b * (self.rho * x + (x * x + self.sigma * self.sigma).sqrt())
    }

    /// Gatheral's `g(k)`: the risk-neutral density is `g(k)·n(d₋)/sqrt(w)`, so `g < 0` (or a
    /// total variance that is not positive) is a butterfly arbitrage.
    pub fn density_factor(&self, k: f64) -> f64 {
        let x = k - self.m;
        let r = (x * x + self.sigma * self.sigma).sqrt();
        let w = self.w(k);
        if w.is_nan() || w <= 0.0 {
            return f64::NEG_INFINITY;
        }
        let w1 = self.b * (self.rho + x / r);
        let w2 = self.b * self.sigma * self.sigma / (r * r * r);
        let first = 1.0 - k * w1 / (2.0 * w);
        first * first - w1 * w1 / 4.0 * (1.0 / w + 0.25) + w2 / 2.0
    }
}

/// The `n` evenly spaced `k` on which the arbitrage checks look: `[k_min − 0.5, k_max + 0.5]`.
pub fn check_grid(k_min: f64, k_max: f64, n: usize) -> impl Iterator<Item = f64> {
    let (lo, hi) = (k_min - 0.5, k_max + 0.5);
    (0..n).map(move |i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
}

/// Whether the density is negative somewhere on the 201-point grid.
pub fn butterfly_arb(svi: &Svi, k_min: f64, k_max: f64) -> bool {
    check_grid(k_min, k_max, 201).any(|k| {
        let g = svi.density_factor(k);
        g.is_nan() || g < 0.0
    })
}

/// Whether `later`'s total variance falls below `earlier`'s somewhere on the 201-point grid.
pub fn calendar_arb(later: &Svi, earlier: &Svi, k_min: f64, k_max: f64) -> bool {
    check_grid(k_min, k_max, 201).any(|k| later.w(k) < earlier.w(k))
}

/// The fitted smile and its sum of squared errors in `w`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub svi: Svi,
    pub sse: f64,
}

/// Fits raw SVI to `(k, w)` points. `None` for fewer than `MIN_POINTS` points, points that are
/// not finite, or a smile with no spread in `k`.
pub fn fit(points: &[(f64, f64)]) -> Option<Fit> {
    if points.len() < MIN_POINTS || points.iter().any(|(k, w)| !k.is_finite() || !w.is_finite()) {
        return None;
    }
    let k_min = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let k_max = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let span = k_max - k_min;
    if span.is_nan() || span <= 1e-9 {
        return None;
    }
    // A scale for the objective's tolerance: the points' own spread of w.
    let w_scale = points.iter().map(|p| p.1 * p.1).sum::<f64>().max(1e-300);
    let objective = |m: f64, ln_sigma: f64| -> f64 {
        let sigma = ln_sigma.exp().max(SIGMA_MIN);
        inner(points, m, sigma).map_or(f64::INFINITY, |s| s.1)
    };

    // The grid. At σ's bound the smile is nearly a V whose vertex is m, and the objective has a
    // local minimum for nearly every interval between two strikes, so there m is tried at every
    // point's k and beyond both ends (and the interval search below finishes the edge); above
    // it the objective is smooth in m and 15 values across the range do. σ is log-spaced from
    // its bound.
    let mut ks: Vec<f64> = points.iter().map(|p| p.0).collect();
    ks.sort_by(f64::total_cmp);
    ks.dedup();
    let mut fine: Vec<f64> = ks.clone();
    for i in 1..=4 {
        fine.push(k_min - span * i as f64 / 4.0);
        fine.push(k_max + span * i as f64 / 4.0);
    }
    let coarse: Vec<f64> = (0..15)
        .map(|i| k_min - 0.5 * span + 2.0 * span * i as f64 / 14.0)
        .collect();
    const S_STEPS: usize = 12;
    const S_FINE: usize = 1;
    let (s_lo, s_hi) = (SIGMA_MIN.ln(), (2.0 * span).max(1.0).ln());
    let s_step = (s_hi - s_lo) / (S_STEPS - 1) as f64;
    let m_step = span / ks.len() as f64;
    let mut grid: Vec<(f64, f64, f64)> =
        Vec::with_capacity(S_FINE * fine.len() + S_STEPS * coarse.len());
    for j in 0..S_STEPS {
        let s = s_lo + s_step * j as f64;
        for &m in if j < S_FINE { &fine } else { &coarse } {
            grid.push((objective(m, s), m, s));
        }
    }
    grid.sort_by(|x, y| {
        x.0.total_cmp(&y.0)
            .then(x.1.total_cmp(&y.1))
            .then(x.2.total_cmp(&y.2))
    });
    let mut best: Option<(f64, f64, f64)> = None;
    for &(f0, m0, s0) in grid.iter().take(2) {
        if !f0.is_finite() {
            continue;
        }
        let (f, m, s) = nelder_mead(&objective, (m0, s0), (m_step, s_step), w_scale);
        // Nelder–Mead stalls where the objective has a kink or a flat edge, which it has near
        // σ's bound (the smile a V): there a compass search finishes from where it stopped.
        let cand = if s <= s_lo + 2.0 * s_step {
            compass(&objective, (f, m, s), (m_step / 4.0, s_step / 4.0))
        } else {
            (f, m, s)
        };
        if best.is_none_or(|b| cand.0 < b.0) {
            best = Some(cand);
        }
    }
    // At σ's bound the smile is a V whose vertex is m, with a local minimum in nearly every
    // interval between two strikes: there every interval is searched.
    if best.is_some_and(|b| b.2 <= s_lo + 1e-6) {
        let mut bounds: Vec<f64> = vec![k_min - span];
        bounds.extend(&ks);
        bounds.push(k_max + span);
        for w in bounds.windows(2) {
            let (m, f) = golden(|m| objective(m, s_lo), w[0], w[1], 24);
            if best.is_none_or(|b| f < b.0) {
                best = Some((f, m, s_lo));
            }
        }
        if let Some(b) = best {
            best = Some(compass(&objective, b, (m_step / 8.0, s_step / 4.0)));
        }
    }
    let (_, m, s) = best?;
    let sigma = s.exp().max(SIGMA_MIN);
    let ((a, d, c), sse) = inner(points, m, sigma)?;
    let b = c / sigma;
    let rho = if c > 0.0 {
        (d / c).clamp(-RHO_MAX, RHO_MAX)
    } else {
        0.0
    };
    let svi = Svi {
        a,
        b,
        rho,
        m,
        sigma,
    };
    [a, b, rho, m, sigma, sse]
        .iter()
        .all(|v| v.is_finite())
        .then_some(Fit { svi, sse })
}

/// The minimum of `f` on `[lo, hi]` by golden-section search (`iterations` steps), and its
/// value; the ends are candidates too.
fn golden(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64, iterations: usize) -> (f64, f64) {
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    let mut best = [(lo, f(lo)), (hi, f(hi))]
        .into_iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((lo, f64::INFINITY));
    let (mut x1, mut x2) = (hi - phi * (hi - lo), lo + phi * (hi - lo));
    let (mut f1, mut f2) = (f(x1), f(x2));
    for _ in 0..iterations {
        if f1 <= f2 {
            hi = x2;
            (x2, f2) = (x1, f1);
            x1 = hi - phi * (hi - lo);
            f1 = f(x1);
        } else {
            lo = x1;
            (x1, f1) = (x2, f2);
            x2 = lo + phi * (hi - lo);
            f2 = f(x2);
        }
    }
    for (x, v) in [(x1, f1), (x2, f2)] {
        if v < best.1 {
            best = (x, v);
        }
    }
    best
}

/// Compass search on `f(m, ln σ)` from `start` (its value first): try a step each way along
/// each axis, move on improvement, halve the steps when none improves.
fn compass(
    f: &impl Fn(f64, f64) -> f64,
    start: (f64, f64, f64),
    step: (f64, f64),
) -> (f64, f64, f64) {
    let (mut v, mut m, mut s) = start;
    let (mut dm, mut ds) = step;
    for _ in 0..2000 {
        let mut moved = false;
        for (tm, ts) in [(dm, 0.0), (-dm, 0.0), (0.0, ds), (0.0, -ds)] {
            let fv = f(m + tm, s + ts);
            if fv < v {
                (v, m, s, moved) = (fv, m + tm, s + ts, true);
            }
        }
        if !moved {
            dm /= 2.0;
            ds /= 2.0;
            if dm < 1e-11 && ds < 1e-11 {
                break;
            }
        }
    }
    (v, m, s)
}

/// Nelder–Mead on `f(m, ln σ)` from `start`, steps `step`: the local minimum and its value.
fn nelder_mead(
    f: &impl Fn(f64, f64) -> f64,
    start: (f64, f64),
    step: (f64, f64),
    scale: f64,
) -> (f64, f64, f64) {
    let mut p = [
        [start.0, start.1],
        [start.0 + step.0, start.1],
        [start.0, start.1 + step.1],
    ];
    let mut v = p.map(|x| f(x[0], x[1]));
    for _ in 0..400 {
        // Order: best first.
        let mut idx = [0, 1, 2];
        idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        p = idx.map(|i| p[i]);
        v = idx.map(|i| v[i]);
        let spread = (v[2] - v[0]).abs();
        let size = (p[1][0] - p[0][0])
            .abs()
            .max((p[2][0] - p[0][0]).abs())
            .max((p[1][1] - p[0][1]).abs())
            .max((p[2][1] - p[0][1]).abs());
        if spread <= 1e-15 * scale && size < 1e-8 {
            break;
        }
        if size < 1e-13 {
            break;
        }
        let c = [(p[0][0] + p[1][0]) / 2.0, (p[0][1] + p[1][1]) / 2.0];
        let at = |t: f64| [c[0] + t * (p[2][0] - c[0]), c[1] + t * (p[2][1] - c[1])];
        let r = at(-1.0);
        let fr = f(r[0], r[1]);
        if fr < v[0] {
            let e = at(-2.0);
            let fe = f(e[0], e[1]);
            if fe < fr {
                (p[2], v[2]) = (e, fe);
            } else {
                (p[2], v[2]) = (r, fr);
            }
        } else if fr < v[1] {
            (p[2], v[2]) = (r, fr);
        } else {
            let (k, fk) = if fr < v[2] {
                let k = at(-0.5);
                (k, f(k[0], k[1]))
            } else {
                let k = at(0.5);
                (k, f(k[0], k[1]))
            };
            if fk < v[2].min(fr) {
                (p[2], v[2]) = (k, fk);
            } else {
                // Shrink towards the best.
                for i in 1..3 {
                    p[i] = [
                        p[0][0] + 0.5 * (p[i][0] - p[0][0]),
                        p[0][1] + 0.5 * (p[i][1] - p[0][1]),
                    ];
                    v[i] = f(p[i][0], p[i][1]);
                }
            }
        }
    }
    let best = (0..3).min_by(|&i, &j| v[i].total_cmp(&v[j])).unwrap_or(0);
    (v[best], p[best][0], p[best][1])
}

/// The sums over the points at fixed `(m, σ)` (`y = (k − m)/σ`, `z = sqrt(y² + 1)`) from which
/// every candidate of the inner problem and its error follow in O(1).
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    n: f64,
    y: f64,
    z: f64,
    yy: f64,
    yz: f64,
    zz: f64,
    w: f64,
    yw: f64,
    zw: f64,
    ww: f64,
}

impl Sums {
    /// `Σ (a + d·y + c·z − w)²`, expanded.
    fn sse(&self, a: f64, d: f64, c: f64) -> f64 {
        let s = self;
        (a * a * s.n
            + d * d * s.yy
            + c * c * s.zz
            + s.ww
            + 2.0 * (a * d * s.y + a * c * s.z + d * c * s.yz - a * s.w - d * s.yw - c * s.zw))
            .max(0.0)
    }

    /// On the a-boundary at `ρ`: the least-squares `c ≥ 0` of `w = c·(ρ·y + z − sqrt(1 − ρ²))`.
    fn edge_c(&self, rho: f64) -> Option<f64> {
        let s = self;
        let f = (1.0 - rho * rho).sqrt();
        let gw = rho * s.yw + s.zw - f * s.w;
        let gg = rho * rho * s.yy + s.zz + f * f * s.n + 2.0 * rho * s.yz
            - 2.0 * rho * f * s.y
            - 2.0 * f * s.z;
        (gg > 1e-300).then(|| (gw / gg).max(0.0))
    }
}

/// The inner problem at fixed `(m, σ)`: the best `(a, d, c)` under the constraints and its
/// sum of squared errors. `None` when the points cannot determine it.
pub fn inner(points: &[(f64, f64)], m: f64, sigma: f64) -> Option<((f64, f64, f64), f64)> {
    let mut s = Sums {
        n: points.len() as f64,
        ..Sums::default()
    };
    for &(k, w) in points {
        let y = (k - m) / sigma;
        let z = (y * y + 1.0).sqrt();
        s.y += y;
        s.z += z;
        s.yy += y * y;
        s.yz += y * z;
        s.zz += z * z;
        s.w += w;
        s.yw += y * w;
        s.zw += z * w;
        s.ww += w * w;
    }
    let exact = |a: f64, d: f64, c: f64| -> f64 {
        points
            .iter()
            .map(|&(k, w)| {
                let y = (k - m) / sigma;
                let e = a + d * y + c * (y * y + 1.0).sqrt() - w;
                e * e
            })
            .sum()
    };
    let feasible = |a: f64, d: f64, c: f64| -> bool {
        let tol = 1e-12 * (1.0 + a.abs() + c.abs());
        c >= -tol && d.abs() <= RHO_MAX * c + tol && a + (c * c - d * d).max(0.0).sqrt() >= -tol
    };

    // 1. Unconstrained least squares (normal equations, Cramer's rule): the answer whenever
    //    it is feasible, the problem being convex.
    let mat = [[s.n, s.y, s.z], [s.y, s.yy, s.yz], [s.z, s.yz, s.zz]];
    if let Some([a, d, c]) = solve3(mat, [s.w, s.yw, s.zw]) {
        if [a, d, c].iter().all(|v| v.is_finite()) && feasible(a, d, c) {
            return Some(((a, d, c), exact(a, d, c)));
        }
    }
    // Otherwise the best point of the boundary's faces.
    let mut best: Option<((f64, f64, f64), f64)> = None;
    let mut consider = |a: f64, d: f64, c: f64| {
        if [a, d, c].iter().all(|v| v.is_finite()) && feasible(a, d, c) {
            let e = s.sse(a, d, c);
            if best.is_none_or(|b| e < b.1) {
                best = Some(((a, d, c), e));
            }
        }
    };
    // 2. The apex c = 0 (so d = 0): a constant a ≥ 0.
    consider((s.w / s.n).max(0.0), 0.0, 0.0);
    // 3. The faces ρ = ±RHO_MAX: w = a + c·u with u = ρ·y + z, and their edges with the
    //    a-boundary a = −c·sqrt(1 − ρ²).
    let floor = (1.0 - RHO_MAX * RHO_MAX).sqrt();
    for rho in [RHO_MAX, -RHO_MAX] {
        let su = rho * s.y + s.z;
        let suu = rho * rho * s.yy + 2.0 * rho * s.yz + s.zz;
        let suw = rho * s.yw + s.zw;
        let det = s.n * suu - su * su;
        if det.abs() > 1e-300 {
            let c = (s.n * suw - su * s.w) / det;
            let a = (s.w - c * su) / s.n;
            consider(a, rho * c, c);
        }
        if let Some(c) = s.edge_c(rho) {
            consider(-c * floor, rho * c, c);
        }
    }
    // 4. The a-boundary for ρ inside: c by least squares for each ρ, ρ by a scan and a
    //    golden-section refinement.
    let cost = |rho: f64| -> f64 {
        match s.edge_c(rho) {
            Some(c) => s.sse(-c * (1.0 - rho * rho).sqrt(), rho * c, c),
            None => f64::INFINITY,
        }
    };
    const SCAN: usize = 24;
    let at = |i: usize| -RHO_MAX + 2.0 * RHO_MAX * i as f64 / SCAN as f64;
    let best_i = (0..=SCAN)
        .min_by(|&i, &j| cost(at(i)).total_cmp(&cost(at(j))))
        .unwrap_or(0);
    let (lo, hi) = (at(best_i.saturating_sub(1)), at((best_i + 1).min(SCAN)));
    let (refined, _) = golden(cost, lo, hi, 45);
    for rho in [at(best_i), refined] {
        if let Some(c) = s.edge_c(rho) {
            consider(-c * (1.0 - rho * rho).sqrt(), rho * c, c);
        }
    }
    best.map(|(p, _)| (p, exact(p.0, p.1, p.2)))
}

/// Solves a symmetric 3×3 system by Cramer's rule; `None` when it is singular.
fn solve3(m: [[f64; 3]; 3], r: [f64; 3]) -> Option<[f64; 3]> {
    let det = |m: [[f64; 3]; 3]| -> f64 {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(m);
    let scale = m.iter().flatten().map(|v| v.abs()).fold(0.0, f64::max);
    if d.is_nan() || d.abs() <= 1e-12 * scale.powi(3) {
        return None;
    }
    let mut out = [0.0; 3];
    for (i, o) in out.iter_mut().enumerate() {
        let mut mi = m;
        for row in 0..3 {
            mi[row][i] = r[row];
        }
        *o = det(mi) / d;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smile(svi: &Svi, ks: &[f64]) -> Vec<(f64, f64)> {
        ks.iter().map(|&k| (k, svi.w(k))).collect()
    }

    fn ks(n: usize, lo: f64, hi: f64) -> Vec<f64> {
        (0..n)
            .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
            .collect()
    }

    #[test]
    fn an_exact_svi_smile_comes_back() {
        let cases = [
            Svi {
                a: 0.04,
                b: 0.1,
                rho: -0.3,
                m: 0.05,
                sigma: 0.2,
            },
            Svi {
                a: 0.01,
                b: 0.25,
                rho: 0.4,
                m: -0.1,
                sigma: 0.1,
            },
            Svi {
                a: 0.002,
                b: 0.05,
                rho: -0.7,
                m: 0.0,
                sigma: 0.05,
            },
        ];
        for truth in cases {
            let pts = smile(&truth, &ks(25, -0.6, 0.5));
            let got = fit(&pts).unwrap();
            for &(k, w) in &pts {
                let rel = (got.svi.w(k) - w).abs() / w;
                assert!(rel < 1e-8, "{truth:?} → {:?}: k {k} rel {rel}", got.svi);
            }
        }
    }

    #[test]
    fn degenerate_smiles_give_nothing_or_a_flat_fit_never_a_panic() {
        assert!(fit(&[(0.0, 0.01), (0.1, 0.02)]).is_none(), "two strikes");
        assert!(fit(&[(0.0, 0.01); 6]).is_none(), "no spread in k");
        assert!(fit(&[
            (0.0, f64::NAN),
            (0.1, 0.1),
            (0.2, 0.1),
            (0.3, 0.1),
            (0.4, 0.1)
        ])
        .is_none());
        let flat = fit(&smile(
            &Svi {
                a: 0.04,
                b: 0.0,
                rho: 0.0,
                m: 0.0,
                sigma: 0.1,
            },
            &ks(9, -0.3, 0.3),
        ))
        .unwrap();
        assert!(flat.sse < 1e-20, "{flat:?}");
        for scale in [1e-10, 1e6] {
            let pts: Vec<(f64, f64)> = ks(11, -0.5, 0.5)
                .iter()
                .map(|&k| (k, scale * (0.04 + k * k)))
                .collect();
            let f = fit(&pts);
            assert!(f.is_none_or(|f| f.svi.a.is_finite() && f.svi.b >= 0.0));
        }
    }

    #[test]
    fn the_fit_respects_its_constraints() {
        // A smile that wants a negative minimum variance and a steep wing.
        let pts: Vec<(f64, f64)> = ks(15, -0.8, 0.8)
            .iter()
            .map(|&k| (k, (0.3 * k - 0.05).max(0.0) + 0.001 * (k * 7.0).sin().abs()))
            .collect();
        let f = fit(&pts).unwrap().svi;
        assert!(f.b >= 0.0 && f.rho.abs() <= RHO_MAX && f.sigma >= SIGMA_MIN);
        assert!(
            f.a + f.b * f.sigma * (1.0 - f.rho * f.rho).sqrt() >= -1e-12,
            "{f:?}"
        );
    }

    #[test]
    fn arbitrage_checks() {
        let fine = Svi {
            a: 0.04,
            b: 0.1,
            rho: -0.3,
            m: 0.0,
            sigma: 0.2,
        };
        assert!(!butterfly_arb(&fine, -0.5, 0.5));
        // Gatheral & Jacquier's example of a smile with butterfly arbitrage.
        let bad = Svi {
            a: -0.0410,
            b: 0.1331,
            rho: 0.3060,
            m: 0.3586,
            sigma: 0.4153,
        };
        assert!(butterfly_arb(&bad, -1.0, 1.0));
        let lower = Svi { a: 0.02, ..fine };
        assert!(calendar_arb(&lower, &fine, -0.5, 0.5));
        assert!(!calendar_arb(&fine, &lower, -0.5, 0.5));
    }

    /// A generic optimiser written independently of `fit`: Nelder–Mead over all five
    /// parameters with the constraints as penalties, from many pseudo-random starts.
    fn generic_best(points: &[(f64, f64)], seed: u64) -> f64 {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let cost = |p: &[f64; 5]| -> f64 {
            let svi = Svi {
                a: p[0],
                b: p[1],
                rho: p[2],
                m: p[3],
                sigma: p[4],
            };
            let mut v = 0.0;
            v += (-p[1]).max(0.0).powi(2) + (p[2].abs() - RHO_MAX).max(0.0).powi(2);
            v += (SIGMA_MIN - p[4]).max(0.0).powi(2);
            let floor = p[0] + p[1] * p[4].max(0.0) * (1.0 - p[2].clamp(-1.0, 1.0).powi(2)).sqrt();
            v += (-floor).max(0.0).powi(2);
            let sse: f64 = points.iter().map(|&(k, w)| (svi.w(k) - w).powi(2)).sum();
            if v > 0.0 {
                sse + 1e6 * v + 1.0
            } else {
                sse
            }
        };
        let mut best = f64::INFINITY;
        for _ in 0..24 {
            let start = [
                0.1 * next(),
                0.5 * next(),
                1.8 * next() - 0.9,
                next() - 0.5,
                0.01 + 0.5 * next(),
            ];
            let mut simplex: Vec<[f64; 5]> = vec![start];
            for i in 0..5 {
                let mut p = start;
                p[i] += [0.02, 0.05, 0.2, 0.1, 0.05][i];
                simplex.push(p);
            }
            let mut vals: Vec<f64> = simplex.iter().map(cost).collect();
            for _ in 0..3000 {
                let mut order: Vec<usize> = (0..6).collect();
                order.sort_by(|&i, &j| vals[i].total_cmp(&vals[j]));
                simplex = order.iter().map(|&i| simplex[i]).collect();
                vals = order.iter().map(|&i| vals[i]).collect();
                let mut c = [0.0; 5];
                for p in &simplex[..5] {
                    for i in 0..5 {
                        c[i] += p[i] / 5.0;
                    }
                }
                let along = |t: f64| {
                    let mut q = [0.0; 5];
                    for i in 0..5 {
                        q[i] = c[i] + t * (simplex[5][i] - c[i]);
                    }
                    q
                };
                let r = along(-1.0);
                let fr = cost(&r);
                if fr < vals[0] {
                    let e = along(-2.0);
                    let fe = cost(&e);
                    if fe < fr {
                        simplex[5] = e;
                        vals[5] = fe;
                    } else {
                        simplex[5] = r;
                        vals[5] = fr;
                    }
                } else if fr < vals[4] {
                    simplex[5] = r;
                    vals[5] = fr;
                } else {
                    let k = along(if fr < vals[5] { -0.5 } else { 0.5 });
                    let fk = cost(&k);
                    if fk < vals[5].min(fr) {
                        simplex[5] = k;
                        vals[5] = fk;
                    } else {
                        let first = simplex[0];
                        for (p, v) in simplex.iter_mut().zip(vals.iter_mut()).skip(1) {
                            for (x, x0) in p.iter_mut().zip(first) {
                                *x = x0 + 0.5 * (*x - x0);
                            }
                            *v = cost(p);
                        }
                    }
                }
            }
            best = best.min(vals.iter().copied().fold(f64::INFINITY, f64::min));
        }
        best
    }

    #[test]
    fn noisy_smiles_fit_no_worse_than_a_generic_optimiser() {
        let truths = [
            Svi {
                a: 0.03,
                b: 0.12,
                rho: -0.4,
                m: 0.02,
                sigma: 0.15,
            },
            Svi {
                a: 0.01,
                b: 0.3,
                rho: 0.2,
                m: -0.05,
                sigma: 0.08,
            },
            Svi {
                a: 0.05,
                b: 0.05,
                rho: -0.8,
                m: 0.1,
                sigma: 0.3,
            },
            Svi {
                a: 0.002,
                b: 0.08,
                rho: 0.0,
                m: 0.0,
                sigma: 0.02,
            },
            Svi {
                a: 0.0005,
                b: 0.02,
                rho: -0.95,
                m: 0.2,
                sigma: 0.05,
            },
            Svi {
                a: 0.08,
                b: 0.4,
                rho: 0.6,
                m: -0.2,
                sigma: 0.5,
            },
            Svi {
                a: 0.015,
                b: 0.15,
                rho: -0.1,
                m: 0.3,
                sigma: 0.01,
            },
            Svi {
                a: 0.04,
                b: 0.01,
                rho: 0.9,
                m: -0.3,
                sigma: 0.2,
            },
        ];
        let mut noise_state = 7u64;
        for (n, truth) in truths.iter().enumerate() {
            let pts: Vec<(f64, f64)> = ks(13, -0.5, 0.4)
                .iter()
                .map(|&k| {
                    noise_state = noise_state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1);
                    let u = (noise_state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                    (k, truth.w(k) * (1.0 + 0.04 * u))
                })
                .collect();
            let ours = fit(&pts).unwrap().sse;
            let generic = generic_best(&pts, 99 + n as u64);
            assert!(
                ours <= generic * 1.001 + 1e-18,
                "smile {n}: ours {ours:e}, generic {generic:e}"
            );
        }
    }

    /// A noisy, nearly flat smile (the test fixture's nearest expiry) whose best fit has σ at its
    /// bound: the outer search must find the minimum along that edge too.
    #[test]
    fn a_flat_noisy_smile_with_sigma_at_its_bound() {
        let pts: Vec<(f64, f64)> = vec![
            (-0.23387948066619868, 0.0013944315891436627),
            (-0.2209760758302908, 0.001338355726714809),
            (-0.20823705005286106, 0.0014396912842361428),
            (-0.19565826784600096, 0.001253874372945512),
            (-0.18323574784744384, 0.0012767596095509392),
            (-0.17096565525562937, 0.0012757184935917353),
            (-0.1588442947232846, 0.0012799113116395886),
            (-0.1468681036765689, 0.0012741422313830983),
            (-0.1350336460295661, 0.0013676100576801632),
            (-0.12333760626637484, 0.0012828972187815132),
            (-0.11177678386529886, 0.0013871438286206053),
            (-0.10034808804167614, 0.0013241092160974728),
            (-0.08904853278774266, 0.0012706953810938098),
            (-0.07787523218961746, 0.0014170629131756345),
            (-0.0668253960030325, 0.0013309471426227013),
            (-0.05589632547084225, 0.001345983110632276),
            (-0.04508540936662664, 0.0012982026428807797),
            (-0.0343901202498787, 0.0013107812838151504),
            (-0.023808010919341663, 0.001224287572164259),
            (-0.013336711052046276, 0.0013700698140650782),
            (-0.002973924016499711, 0.0012634653833760005),
            (0.00728257615068948, 0.0013241588034007417),
            (0.01743494761470736, 0.0012954425344541749),
            (0.027485283468208895, 0.0012265817429187292),
            (0.037435614321376855, 0.0012929720245550439),
            (0.04728791076438857, 0.0012522017750963338),
            (0.05704408570975314, 0.0012730450959915708),
            (0.06670599662149013, 0.0014152171394340618),
            (0.07627544763764092, 0.0012264085862621627),
            (0.08575419159218457, 0.0013410586163406769),
            (0.09514393194202368, 0.0012407963543783701),
            (0.10444632460433709, 0.00137859105296353),
            (0.11366297970926117, 0.001414727841448781),
            (0.1227954632725336, 0.0012635701964417774),
            (0.13184529879245158, 0.0013180633798641176),
            (0.14081396877521207, 0.0013471979757686235),
            (0.14970291619245799, 0.001326323952494039),
            (0.15851354587461297, 0.0014183062752347044),
            (0.16724722584336746, 0.0012765994821768315),
            (0.1759052885864821, 0.0013835480514296451),
        ];
        let ours = fit(&pts).unwrap().sse;
        let generic = generic_best(&pts, 5);
        assert!(
            ours <= generic * 1.001 + 1e-18,
            "ours {ours:e}, generic {generic:e}"
        );
    }
}
