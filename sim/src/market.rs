//! The simulated market: listed option contracts per underlying and their moving tickers.
//!
//! Prices come from Black-76 on a random-walking underlying with a smile-shaped implied
//! volatility, so greeks and prices are consistent the way an exchange's are. Everything random
//! comes from one seeded generator: the same `--seed` lists the same contracts and walks the
//! same way (the interleaving with wall-clock time is the only thing that differs).

use std::collections::{HashMap, HashSet};

use options_core::{Black76, Expiry, Field, OptionType, Settle, FIELD_COUNT};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const DAY_MS: i64 = 86_400_000;

/// How one underlying is listed.
#[derive(Debug, Clone)]
pub struct AssetSpec {
    pub base: String,
    pub spot: f64,
    /// Strike step for the nearest expiries; later ones use multiples of it.
    pub strike_step: f64,
    pub decimals: usize,
    pub atm_iv: f64,
    /// USDC-settled contracts (plain symbols) for every expiry.
    pub usdc: bool,
    /// USDT-settled contracts (`-USDT` symbols) for the first `usdt_expiries` expiries.
    pub usdt_expiries: usize,
    /// Price step of the option quotes (`priceFilter.tickSize`): bids, asks and trades are
    /// multiples of it, as on Bybit (BTC 5, ETH 0.1, SOL 0.01, XRP 0.0001).
    pub price_tick: f64,
}

impl AssetSpec {
    /// The built-in assets; anything else is listed with made-up but consistent parameters.
    pub fn named(base: &str) -> AssetSpec {
        let (spot, step, decimals, iv, usdc, usdt, tick) = match base {
            "BTC" => (97_000.0, 1000.0, 0, 0.48, true, 4, 5.0),
            "ETH" => (3_600.0, 50.0, 0, 0.62, true, 2, 0.1),
            "SOL" => (190.0, 5.0, 0, 0.75, false, usize::MAX, 0.01),
            "XRP" => (2.3, 0.05, 2, 0.85, false, usize::MAX, 0.0001),
            "DOGE" => (0.38, 0.01, 3, 0.95, false, usize::MAX, 0.00001),
            _ => (50.0, 1.0, 0, 0.8, false, usize::MAX, 0.001),
        };
        AssetSpec {
            base: base.to_string(),
            spot,
            strike_step: step,
            decimals,
            atm_iv: iv,
            usdc,
            usdt_expiries: usdt,
            price_tick: tick,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Contract {
    pub symbol: String,
    pub asset: usize,
    pub expiry: Expiry,
    pub strike: f64,
    pub kind: OptionType,
    pub settle: Settle,
    pub launch_ms: i64,
    pub values: [f64; FIELD_COUNT],
    /// Bumped on every change: pushes carry it as `id` material.
    pub version: u64,
}

struct Asset {
    spec: AssetSpec,
    spot: f64,
}

pub struct Market {
    rng: StdRng,
    assets: Vec<Asset>,
    contracts: Vec<Contract>,
    by_symbol: HashMap<String, usize>,
    /// Expiries delisted by hand: the calendar must not list them again.
    delisted: HashSet<(usize, Expiry)>,
    /// Round-robin position for updates.
    cursor: usize,
    /// Strikes on each side of the money for the nearest expiries.
    strikes_per_side: usize,
    pub updates: u64,
    /// Trades made since the server last took them (`take_trades`).
    trades: Vec<MarketTrade>,
    next_trade: u64,
}

impl Market {
    pub fn new(assets: &[AssetSpec], strikes_per_side: usize, seed: u64, now_ms: i64) -> Market {
        let mut m = Market {
            rng: StdRng::seed_from_u64(seed),
            assets: assets
                .iter()
                .map(|s| Asset {
                    spot: s.spot,
                    spec: s.clone(),
                })
                .collect(),
            contracts: Vec::new(),
            by_symbol: HashMap::new(),
            delisted: HashSet::new(),
            cursor: 0,
            strikes_per_side: strikes_per_side.max(1),
            updates: 0,
            trades: Vec::new(),
            // Trade ids unique across restarts of the sim, as an exchange's are.
            next_trade: (now_ms.max(0) as u64).wrapping_mul(1000) ^ seed,
        };
        m.maintain(now_ms);
        m
    }

    pub fn contracts(&self) -> &[Contract] {
        &self.contracts
    }

    pub fn get(&self, symbol: &str) -> Option<&Contract> {
        self.by_symbol.get(symbol).map(|&i| &self.contracts[i])
    }

    pub fn asset_names(&self) -> Vec<String> {
        self.assets.iter().map(|a| a.spec.base.clone()).collect()
    }

    /// Removes delivered contracts and lists the standard expiry ladder: the next three dailies,
    /// four Fridays, three month-ends and two quarter-ends. Returns (listed, removed) symbols.
    pub fn maintain(&mut self, now_ms: i64) -> (Vec<String>, Vec<String>) {
        let removed: Vec<String> = self
            .contracts
            .iter()
            .filter(|c| c.expiry.timestamp_ms() <= now_ms)
            .map(|c| c.symbol.clone())
            .collect();
        if !removed.is_empty() {
            self.contracts.retain(|c| c.expiry.timestamp_ms() > now_ms);
        }
        let ladder = expiry_ladder(now_ms);
        let mut listed = Vec::new();
        for a in 0..self.assets.len() {
            for (i, e) in ladder.iter().enumerate() {
                // An expiry's strikes are fixed when it is listed; only new expiries list here.
                if !self
                    .contracts
                    .iter()
                    .any(|c| c.asset == a && c.expiry == *e)
                {
                    listed.extend(self.list_expiry(a, *e, i, now_ms));
                }
            }
        }
        if !removed.is_empty() || !listed.is_empty() {
            self.reindex();
        }
        (listed, removed)
    }

    /// Lists an extra expiry `days` from now for `base` (what an exchange does when it adds a
    /// new weekly). Returns the new symbols.
    pub fn list_extra(&mut self, base: &str, days: i64, now_ms: i64) -> Vec<String> {
        let Some(a) = self.assets.iter().position(|a| a.spec.base == base) else {
            return Vec::new();
        };
        let Some(e) = Expiry::from_unix_days(now_ms.div_euclid(DAY_MS) + days) else {
            return Vec::new();
        };
        let listed = self.list_expiry(a, e, 0, now_ms);
        self.reindex();
        listed
    }

    /// Delists every contract of `base` with the nearest expiry. Returns the removed symbols.
    pub fn delist_nearest(&mut self, base: &str) -> Vec<String> {
        let Some(a) = self.assets.iter().position(|x| x.spec.base == base) else {
            return Vec::new();
        };
        let Some(nearest) = self
            .contracts
            .iter()
            .filter(|c| c.asset == a)
            .map(|c| c.expiry)
            .min()
        else {
            return Vec::new();
        };
        let removed: Vec<String> = self
            .contracts
            .iter()
            .filter(|c| c.asset == a && c.expiry == nearest)
            .map(|c| c.symbol.clone())
            .collect();
        self.contracts
            .retain(|c| !(c.asset == a && c.expiry == nearest));
        self.delisted.insert((a, nearest));
        self.reindex();
        removed
    }

    fn reindex(&mut self) {
        self.contracts.sort_by(|x, y| {
            (x.asset, x.expiry, x.settle)
                .cmp(&(y.asset, y.expiry, y.settle))
                .then(x.strike.total_cmp(&y.strike))
                .then(x.kind.cmp(&y.kind))
        });
        self.by_symbol = self
            .contracts
            .iter()
            .enumerate()
            .map(|(i, c)| (c.symbol.clone(), i))
            .collect();
        if self.cursor >= self.contracts.len() {
            self.cursor = 0;
        }
    }

    fn list_expiry(&mut self, a: usize, e: Expiry, rank: usize, now_ms: i64) -> Vec<String> {
        if self.delisted.contains(&(a, e)) {
            return Vec::new();
        }
        let spec = self.assets[a].spec.clone();
        let spot = self.assets[a].spot;
        let days = ((e.timestamp_ms() - now_ms) as f64 / DAY_MS as f64).max(0.0);
        // Later expiries list wider ladders with coarser steps, as exchanges do.
        let mult = if days < 8.0 {
            1.0
        } else if days < 40.0 {
            2.0
        } else {
            4.0
        };
        let step = spec.strike_step * mult;
        let side = self.strikes_per_side + if days > 40.0 { 2 } else { 0 };
        let centre = (spot / step).round() * step;
        let mut settles = Vec::new();
        if spec.usdc {
            settles.push(Settle::Usdc);
        }
        if rank < spec.usdt_expiries {
            settles.push(Settle::Usdt);
        }
        let mut listed = Vec::new();
        for k in 0..=(2 * side) {
            let strike = centre + step * (k as f64 - side as f64);
            if strike <= 0.0 {
                continue;
            }
            // Bybit writes strikes without trailing zeros (`2.35`, `1.9`, `100000`).
            let p = 10f64.powi(spec.decimals as i32);
            let strike = (strike * p).round() / p;
            let strike_text = options_core::format_number(strike);
            for &settle in &settles {
                for kind in [OptionType::Call, OptionType::Put] {
                    let symbol = format!(
                        "{}-{}-{}-{}{}",
                        spec.base,
                        e.code(),
                        strike_text,
                        kind.letter(),
                        if settle == Settle::Usdt { "-USDT" } else { "" }
                    );
                    if self.by_symbol.contains_key(&symbol) || listed.contains(&symbol) {
                        continue;
                    }
                    let mut c = Contract {
                        symbol: symbol.clone(),
                        asset: a,
                        expiry: e,
                        strike,
                        kind,
                        settle,
                        launch_ms: now_ms - self.rng.random_range(0..30) * DAY_MS,
                        values: [0.0; FIELD_COUNT],
                        version: 0,
                    };
                    let _ = reprice(&mut self.rng, &self.assets[a], &mut c, now_ms, true);
                    self.contracts.push(c);
                    listed.push(symbol);
                }
            }
        }
        listed
    }

    /// Moves the market by `n` contract updates (round robin over all contracts; each update
    /// also nudges its underlying). Returns the indices of the updated contracts.
    pub fn step(&mut self, n: usize, now_ms: i64) -> Vec<usize> {
        let mut out = Vec::with_capacity(n);
        if self.contracts.is_empty() {
            return out;
        }
        for _ in 0..n {
            let i = self.cursor;
            self.cursor = (self.cursor + 1) % self.contracts.len();
            let a = self.contracts[i].asset;
            let shock: f64 = self.rng.random_range(-1.0..1.0);
            self.assets[a].spot *= 1.0 + 0.00002 * shock;
            let traded = reprice(
                &mut self.rng,
                &self.assets[a],
                &mut self.contracts[i],
                now_ms,
                false,
            );
            if let Some(qty) = traded {
                // Now and then a block: a large size, arranged off the book.
                let block = self.rng.random_bool(0.03);
                let buy = self.rng.random_bool(0.5);
                self.next_trade += 1;
                self.trades.push(MarketTrade {
                    contract: i,
                    id: self.next_trade,
                    buy,
                    size: if block { round_to(qty * 25.0, 1) } else { qty },
                    price: self.contracts[i].values[Field::LastPrice.index()],
                    block,
                    ts: now_ms,
                });
            }
            self.updates += 1;
            out.push(i);
        }
        out
    }

    /// Sets one field directly (tests use this to move a price by a known amount).
    pub fn set_value(&mut self, symbol: &str, field: Field, value: f64) -> Option<usize> {
        let i = *self.by_symbol.get(symbol)?;
        let c = &mut self.contracts[i];
        c.values[field.index()] = value;
        c.version += 1;
        Some(i)
    }

    /// The quote step of a contract's underlying (`priceFilter.tickSize`).
    pub fn price_tick(&self, c: &Contract) -> f64 {
        self.assets.get(c.asset).map_or(0.01, |a| a.spec.price_tick)
    }

    /// The trades made since the last call, oldest first.
    pub fn take_trades(&mut self) -> Vec<MarketTrade> {
        std::mem::take(&mut self.trades)
    }

    pub fn contract(&self, i: usize) -> &Contract {
        &self.contracts[i]
    }
}

/// A trade the market made: the contract (an index into `contracts`), the taker's side, the
/// size (coins), the price (USD, the contract's new last price), and whether it was a block.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketTrade {
    pub contract: usize,
    pub id: u64,
    pub buy: bool,
    pub size: f64,
    pub price: f64,
    pub block: bool,
    pub ts: i64,
}

/// Reprices `c`; returns the size of the trade it made, if one.
fn reprice(
    rng: &mut StdRng,
    asset: &Asset,
    c: &mut Contract,
    now_ms: i64,
    fresh: bool,
) -> Option<f64> {
    let spot = asset.spot;
    let t = c.expiry.years_until(now_ms).max(1e-6);
    let forward = spot * (1.0 + 0.03 * t);
    let m = (c.strike / forward).ln() / t.sqrt().max(0.05);
    let iv = (asset.spec.atm_iv * (1.0 + 0.1 / (t * 12.0 + 1.0)) - 0.04 * m + 0.05 * m * m)
        .clamp(0.05, 5.0);
    let model = Black76 {
        kind: c.kind,
        forward,
        strike: c.strike,
        t,
        rate: 0.0,
    };
    let g = model.greeks(iv);
    let step = asset.spec.price_tick;
    let price = g.price.max(tick(spot));
    let spread = 0.02 + 0.02 * rng.random::<f64>();
    let v = &mut c.values;
    let set = |v: &mut [f64; FIELD_COUNT], f: Field, x: f64| v[f.index()] = x;
    set(v, Field::MarkPrice, round_sig(price, 8));
    set(v, Field::MarkIv, round_to(iv, 4));
    // Quotes sit on the price grid: the bid below the mark, the ask above, at least one tick
    // apart (a worthless wing is bid at 0 and offered at one tick).
    let bid = on_tick((price * (1.0 - spread) / step).floor(), step);
    let ask = on_tick(
        (price * (1.0 + spread) / step).ceil().max(bid / step + 1.0),
        step,
    );
    set(v, Field::BidPrice, bid);
    set(v, Field::AskPrice, ask);
    set(v, Field::BidIv, round_to((iv - spread / 4.0).max(0.0), 4));
    set(v, Field::AskIv, round_to(iv + spread / 4.0, 4));
    set(v, Field::BidSize, round_to(rng.random_range(0.0..50.0), 1));
    set(v, Field::AskSize, round_to(rng.random_range(0.0..50.0), 1));
    set(v, Field::UnderlyingPrice, round_sig(forward, 8));
    set(v, Field::IndexPrice, round_sig(spot, 8));
    set(v, Field::Delta, round_to(g.delta, 8));
    set(v, Field::Gamma, round_sig(g.gamma, 6));
    set(v, Field::Vega, round_to(g.vega, 8));
    set(v, Field::Theta, round_to(g.theta, 8));
    let traded = rng.random_bool(if fresh { 0.7 } else { 0.05 });
    if fresh {
        let oi = round_to(rng.random_range(0.0..2000.0), 2);
        set(v, Field::OpenInterest, oi);
        let vol = if rng.random_bool(0.3) {
            0.0
        } else {
            round_to(rng.random_range(0.0..500.0), 2)
        };
        set(v, Field::Volume24h, vol);
        set(v, Field::TotalVolume, round_to(vol * 40.0, 2));
        let last = on_tick((price / step).round().max(1.0), step);
        set(v, Field::LastPrice, last);
        set(
            v,
            Field::HighPrice24h,
            on_tick((last * 1.1 / step).ceil(), step),
        );
        set(
            v,
            Field::LowPrice24h,
            on_tick((last * 0.9 / step).floor(), step),
        );
        set(
            v,
            Field::Change24h,
            round_to(rng.random_range(-0.3..0.3), 4),
        );
    }
    let mut trade = None;
    if traded && !fresh {
        let qty = round_to(rng.random_range(0.1..5.0), 1);
        trade = Some(qty);
        let vol = v[Field::Volume24h.index()] + qty;
        set(v, Field::Volume24h, round_to(vol, 2));
        set(
            v,
            Field::TotalVolume,
            round_to(v[Field::TotalVolume.index()] + qty, 2),
        );
        let last = on_tick((price / step).round().max(1.0), step);
        set(v, Field::LastPrice, last);
        let hi = v[Field::HighPrice24h.index()].max(last);
        let lo = v[Field::LowPrice24h.index()].min(last);
        set(v, Field::HighPrice24h, hi);
        set(v, Field::LowPrice24h, lo);
        let oi = (v[Field::OpenInterest.index()] + rng.random_range(-1.0..1.5) * qty).max(0.0);
        set(v, Field::OpenInterest, round_to(oi, 2));
    }
    set(
        v,
        Field::Turnover24h,
        round_to(v[Field::Volume24h.index()] * spot, 2),
    );
    set(
        v,
        Field::TotalTurnover,
        round_to(v[Field::TotalVolume.index()] * spot, 2),
    );
    // Bybit publishes a predicted delivery price only in the last 30 minutes.
    let to_expiry = c.expiry.timestamp_ms() - now_ms;
    set(
        v,
        Field::PredictedDeliveryPrice,
        if to_expiry < 1_800_000 {
            round_sig(spot, 8)
        } else {
            0.0
        },
    );
    c.version += 1;
    trade
}

/// `ticks` price steps of `step`, without the binary noise of the multiplication.
fn on_tick(ticks: f64, step: f64) -> f64 {
    let decimals = (-step.log10().floor()).max(0.0) as i32;
    round_to(ticks * step, decimals)
}

fn tick(spot: f64) -> f64 {
    spot * 1e-6
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let p = 10f64.powi(decimals);
    (x * p).round() / p
}

fn round_sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return 0.0;
    }
    let mag = x.abs().log10().floor() as i32;
    round_to(x, (digits - 1 - mag).clamp(0, 12))
}

/// Expiry dates an exchange keeps listed at `now_ms`: three dailies, four Fridays, the last
/// Friday of the next three months, and the last Friday of the next two quarter-end months.
pub fn expiry_ladder(now_ms: i64) -> Vec<Expiry> {
    let today = now_ms.div_euclid(DAY_MS);
    let mut days: Vec<i64> = (1..=3).map(|d| today + d).collect();
    if now_ms.rem_euclid(DAY_MS) < 8 * 3_600_000 {
        days.push(today);
    }
    // 1970-01-01 was a Thursday: weekday 0 = Thursday, Friday = 1.
    let next_friday = today + (1 - today.rem_euclid(7)).rem_euclid(7);
    days.extend((0..4).map(|w| next_friday + 7 * w));
    let mut month_ends = Vec::new();
    if let Some(e) = Expiry::from_unix_days(today) {
        let (mut y, mut m) = (e.year() as i64, e.month() as i64);
        for _ in 0..12 {
            month_ends.push((y, m, last_friday(y, m)));
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
    }
    let upcoming: Vec<&(i64, i64, i64)> =
        month_ends.iter().filter(|(_, _, d)| *d > today).collect();
    days.extend(upcoming.iter().take(3).map(|(_, _, d)| *d));
    days.extend(
        upcoming
            .iter()
            .filter(|(_, m, _)| m % 3 == 0)
            .take(2)
            .map(|(_, _, d)| *d),
    );
    days.sort();
    days.dedup();
    days.into_iter()
        .filter_map(Expiry::from_unix_days)
        .filter(|e| e.timestamp_ms() > now_ms)
        .collect()
}

fn last_friday(year: i64, month: i64) -> i64 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let first_next = Expiry::from_ymd(ny as u16, nm as u8, 1)
        .map(|e| e.days_since_epoch())
        .unwrap_or(0);
    let last = first_next - 1;
    last - (last - 1).rem_euclid(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000_000; // 2025-11-24T16:00:00Z

    #[test]
    fn ladder_has_dailies_weeklies_monthlies_quarterlies() {
        let l = expiry_ladder(NOW);
        assert!(l.len() >= 9, "{l:?}");
        assert!(l.windows(2).all(|w| w[0] < w[1]));
        assert!(l.iter().all(|e| e.timestamp_ms() > NOW));
        let dec = Expiry::parse("26DEC25").unwrap();
        assert!(l.contains(&dec), "last Friday of December listed: {l:?}");
    }

    #[test]
    fn listing_is_deterministic_and_realistic() {
        let assets: Vec<AssetSpec> = ["BTC", "ETH", "SOL", "XRP"]
            .iter()
            .map(|a| AssetSpec::named(a))
            .collect();
        let a = Market::new(&assets, 10, 42, NOW);
        let b = Market::new(&assets, 10, 42, NOW);
        assert_eq!(a.contracts().len(), b.contracts().len());
        assert!(a
            .contracts()
            .iter()
            .zip(b.contracts())
            .all(|(x, y)| x.symbol == y.symbol && x.values == y.values));
        assert!(a
            .contracts()
            .iter()
            .any(|c| c.symbol.ends_with("-USDT") && c.symbol.starts_with("BTC")));
        assert!(a
            .contracts()
            .iter()
            .any(|c| c.symbol.starts_with("XRP") && c.symbol.contains('.')));
        for c in a.contracts() {
            let parsed = options_core::parse_symbol(&c.symbol).unwrap();
            assert_eq!(parsed.canonical(), c.symbol);
            assert!(c.values[Field::MarkPrice.index()] > 0.0);
            let d = c.values[Field::Delta.index()];
            match c.kind {
                OptionType::Call => assert!((0.0..=1.0).contains(&d)),
                OptionType::Put => assert!((-1.0..=0.0).contains(&d)),
            }
        }
    }

    #[test]
    fn smile_is_higher_in_the_wings() {
        let m = Market::new(&[AssetSpec::named("BTC")], 10, 1, NOW);
        let e = m.contracts()[m.contracts().len() / 2].expiry;
        let calls: Vec<&Contract> = m
            .contracts()
            .iter()
            .filter(|c| c.expiry == e && c.kind == OptionType::Call && c.settle == Settle::Usdc)
            .collect();
        let iv = |c: &Contract| c.values[Field::MarkIv.index()];
        let atm = calls
            .iter()
            .min_by(|a, b| {
                (a.strike - 97_000.0)
                    .abs()
                    .total_cmp(&(b.strike - 97_000.0).abs())
            })
            .unwrap();
        assert!(iv(calls[0]) > iv(atm) && iv(calls[calls.len() - 1]) > iv(atm));
    }

    #[test]
    fn steps_move_prices_and_maintenance_rolls_expiries() {
        let mut m = Market::new(&[AssetSpec::named("ETH")], 5, 3, NOW);
        let before = m.contracts()[0].values;
        let n = m.contracts().len();
        m.step(n, NOW + 1000);
        assert_ne!(m.contracts()[0].values, before);
        let first = m.contracts().iter().map(|c| c.expiry).min().unwrap();
        // Two days on, two dailies have been delivered and the ladder needs a new date.
        let later = first.timestamp_ms() + 2 * DAY_MS;
        let (listed, removed) = m.maintain(later);
        assert!(!removed.is_empty());
        assert!(m
            .contracts()
            .iter()
            .all(|c| c.expiry.timestamp_ms() > later));
        assert!(
            !listed.is_empty(),
            "new dailies are listed as old ones roll off"
        );
    }
}
