//! A realistic multi-underlying option chain: BTC (USDC and USDT symbols), ETH (USDC), SOL and
//! XRP (USDT, XRP with decimal strikes); daily, weekly, monthly and quarterly expiries counted
//! from today so that nothing is expired; every one of the 24 fields set.
//!
//! Expected answers are computed from this list with plain iteration, not with the module's code.

use options_core::{Expiry, FIELDS, FIELD_COUNT};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Debug, Clone)]
pub struct FixtureContract {
    pub symbol: String,
    pub underlying: String,
    /// Bybit code, e.g. `3SEP25`.
    pub expiry: String,
    /// Zero-padded code, e.g. `03SEP25`.
    pub expiry_padded: String,
    pub expiry_iso: String,
    pub expiry_days: i64,
    pub strike: f64,
    pub strike_text: String,
    pub call: bool,
    pub usdt: bool,
    /// In canonical field order.
    pub values: [f64; FIELD_COUNT],
    pub updated_ms: i64,
}

impl FixtureContract {
    /// The contract as the analytics model reads it, with the fields that were stored.
    pub fn model_row(
        &self,
        fields: impl IntoIterator<Item = (String, f64)>,
    ) -> crate::analytics_model::Row {
        crate::analytics_model::Row {
            underlying: self.underlying.clone(),
            expiry: self.expiry.clone(),
            expiry_ts: self.expiry_ts(),
            strike: self.strike,
            call: self.call,
            usdt: self.usdt,
            fields: fields.into_iter().collect(),
        }
    }

    pub fn expiry_ts(&self) -> i64 {
        self.expiry_days * 86_400_000 + 8 * 3_600_000
    }
    pub fn type_name(&self) -> &'static str {
        if self.call {
            "call"
        } else {
            "put"
        }
    }
    pub fn settle(&self) -> &'static str {
        if self.usdt {
            "USDT"
        } else {
            "USDC"
        }
    }
    pub fn value(&self, field: &str) -> f64 {
        let i = FIELDS
            .iter()
            .position(|f| f.name() == field)
            .unwrap_or_else(|| panic!("no field {field}"));
        self.values[i]
    }
    /// The `OPTIONS.INGEST` arguments for every field.
    pub fn ingest_args(&self) -> Vec<String> {
        let mut a = vec![
            "OPTIONS.INGEST".to_string(),
            self.underlying.clone(),
            self.symbol.clone(),
        ];
        for (f, v) in FIELDS.iter().zip(self.values) {
            a.push(f.name().to_string());
            a.push(format!("{v:?}"));
        }
        a.push("updated_ms".into());
        a.push(self.updated_ms.to_string());
        a
    }
}

struct AssetSpec<'a> {
    base: &'a str,
    spot: f64,
    strike_step: f64,
    strikes: usize,
    expiry_offsets: &'a [i64],
    /// Settle coins: USDC-only, USDT-only, or both for the first `n` expiries.
    usdt: Usdt,
    decimals: usize,
}

enum Usdt {
    Never,
    Always,
    AlsoForFirst(usize),
}

const SPECS: [AssetSpec<'static>; 4] = [
    AssetSpec {
        base: "BTC",
        spot: 97_250.0,
        strike_step: 1000.0,
        strikes: 40,
        expiry_offsets: &[1, 2, 3, 7, 14, 35, 63, 126],
        usdt: Usdt::AlsoForFirst(2),
        decimals: 0,
    },
    AssetSpec {
        base: "ETH",
        spot: 3_610.0,
        strike_step: 50.0,
        strikes: 35,
        expiry_offsets: &[1, 2, 3, 7, 14, 35, 63, 126],
        usdt: Usdt::Never,
        decimals: 0,
    },
    AssetSpec {
        base: "SOL",
        spot: 187.3,
        strike_step: 5.0,
        strikes: 30,
        expiry_offsets: &[1, 2, 7, 14, 35, 63],
        usdt: Usdt::Always,
        decimals: 0,
    },
    AssetSpec {
        base: "XRP",
        spot: 2.31,
        strike_step: 0.05,
        strikes: 25,
        expiry_offsets: &[1, 3, 7, 14, 35, 63],
        usdt: Usdt::Always,
        decimals: 2,
    },
];

pub use options_core::clock::now_ms;

pub fn today_days() -> i64 {
    now_ms().div_euclid(86_400_000)
}

/// The fixture: about 2,000 contracts, deterministic for a seed (dates move with today).
pub fn chain(seed: u64) -> Vec<FixtureContract> {
    build(&SPECS, seed)
}

/// One BTC chain of `expiries × strikes × 2` USDC contracts, for benchmarks.
pub fn btc_chain(expiries: usize, strikes: usize, seed: u64) -> Vec<FixtureContract> {
    let offsets: Vec<i64> = (0..expiries as i64).map(|i| 1 + i * 7).collect();
    let spec = AssetSpec {
        base: "BTC",
        spot: 97_250.0,
        strike_step: 500.0,
        strikes,
        expiry_offsets: &offsets,
        usdt: Usdt::Never,
        decimals: 0,
    };
    build(std::slice::from_ref(&spec), seed)
}

fn build(specs: &[AssetSpec<'_>], seed: u64) -> Vec<FixtureContract> {
    let mut rng = StdRng::seed_from_u64(seed);
    let today = today_days();
    let mut out = Vec::new();
    let mut clock = 1_760_000_000_000i64;
    for spec in specs {
        for (ei, off) in spec.expiry_offsets.iter().enumerate() {
            let days = today + off;
            let e = Expiry::from_unix_days(days).expect("date in range");
            let settles: &[bool] = match spec.usdt {
                Usdt::Never => &[false],
                Usdt::Always => &[true],
                Usdt::AlsoForFirst(n) if ei < n => &[false, true],
                Usdt::AlsoForFirst(_) => &[false],
            };
            let first = spec.spot - spec.strike_step * (spec.strikes as f64 / 2.0).floor();
            for si in 0..spec.strikes {
                let raw = first + spec.strike_step * si as f64;
                let strike_text = format!("{raw:.prec$}", prec = spec.decimals);
                let strike_text = if spec.decimals == 0 {
                    // whole strikes, rounded to the step like Bybit's
                    format!(
                        "{}",
                        ((raw / spec.strike_step).round() * spec.strike_step) as i64
                    )
                } else {
                    strike_text
                };
                let strike: f64 = strike_text.parse().expect("strike");
                for &usdt in settles {
                    for call in [true, false] {
                        clock += rng.random_range(1..50);
                        let symbol = format!(
                            "{}-{}-{}-{}{}",
                            spec.base,
                            e.code(),
                            strike_text,
                            if call { "C" } else { "P" },
                            if usdt { "-USDT" } else { "" }
                        );
                        out.push(FixtureContract {
                            symbol,
                            underlying: spec.base.to_string(),
                            expiry: e.code(),
                            expiry_padded: e.padded(),
                            expiry_iso: e.iso(),
                            expiry_days: days,
                            strike,
                            strike_text: strike_text.clone(),
                            call,
                            usdt,
                            values: values(&mut rng, spec.spot, strike, call),
                            updated_ms: clock,
                        });
                    }
                }
            }
        }
    }
    out
}

/// Plausible ticker values with awkward binary fractions, tiny greeks and some zero volumes.
fn values(rng: &mut StdRng, spot: f64, strike: f64, call: bool) -> [f64; FIELD_COUNT] {
    let mut v = [0.0; FIELD_COUNT];
    let iv = 0.4 + 0.3 * ((strike / spot).ln()).powi(2) + rng.random_range(0.0..0.05);
    let intrinsic = if call {
        (spot - strike).max(0.0)
    } else {
        (strike - spot).max(0.0)
    };
    let mark = intrinsic + spot * rng.random_range(0.001..0.08);
    let set = |v: &mut [f64; FIELD_COUNT], name: &str, x: f64| {
        let i = FIELDS.iter().position(|f| f.name() == name).expect("field");
        v[i] = x;
    };
    set(&mut v, "bid_price", mark * 0.98);
    set(&mut v, "bid_size", rng.random_range(0..500) as f64 / 10.0);
    set(&mut v, "bid_iv", iv - 0.01);
    set(&mut v, "ask_price", mark * 1.02);
    set(&mut v, "ask_size", rng.random_range(0..500) as f64 / 10.0);
    set(&mut v, "ask_iv", iv + 0.01);
    set(&mut v, "last_price", mark * rng.random_range(0.9..1.1));
    set(&mut v, "high_price_24h", mark * 1.2);
    set(&mut v, "low_price_24h", mark * 0.8);
    set(&mut v, "mark_price", mark);
    set(&mut v, "index_price", spot);
    set(&mut v, "mark_iv", iv);
    set(&mut v, "underlying_price", spot * 1.0004);
    set(
        &mut v,
        "open_interest",
        rng.random_range(0..20_000) as f64 / 100.0,
    );
    let volume = if rng.random_bool(0.2) {
        0.0
    } else {
        rng.random_range(1..100_000) as f64 / 10.0
    };
    set(&mut v, "volume_24h", volume);
    set(&mut v, "turnover_24h", volume * spot);
    set(&mut v, "total_volume", volume * 30.0);
    set(&mut v, "total_turnover", volume * 30.0 * spot);
    let delta = if call {
        rng.random_range(0.0..1.0)
    } else {
        -rng.random_range(0.0..1.0)
    };
    set(&mut v, "delta", delta);
    set(&mut v, "gamma", rng.random_range(1e-8..1e-4));
    set(&mut v, "vega", rng.random_range(0.001..200.0));
    set(&mut v, "theta", -rng.random_range(0.001..300.0));
    set(&mut v, "predicted_delivery_price", 0.0);
    set(&mut v, "change_24h", rng.random_range(-0.5..0.5));
    v
}

/// A pipeline of one full `OPTIONS.INGEST` per contract, replies ignored.
pub fn ingest_pipeline<'a>(
    contracts: impl IntoIterator<Item = &'a FixtureContract>,
) -> redis::Pipeline {
    let mut pipe = redis::pipe();
    for c in contracts {
        let args = c.ingest_args();
        let mut cmd = redis::cmd(&args[0]);
        for a in &args[1..] {
            cmd.arg(a);
        }
        pipe.add_command(cmd).ignore();
    }
    pipe
}

/// Ingests contracts with one pipeline per 500 commands.
pub fn ingest(con: &mut redis::Connection, contracts: &[FixtureContract]) {
    for chunk in contracts.chunks(500) {
        ingest_pipeline(chunk)
            .query::<()>(con)
            .expect("ingest pipeline");
    }
}

/// Contracts of one underlying in chain order.
pub fn of<'a>(contracts: &'a [FixtureContract], underlying: &str) -> Vec<&'a FixtureContract> {
    let mut v: Vec<&FixtureContract> = contracts
        .iter()
        .filter(|c| c.underlying == underlying)
        .collect();
    v.sort_by(|a, b| {
        a.expiry_days
            .cmp(&b.expiry_days)
            .then(a.strike.total_cmp(&b.strike))
            .then(b.call.cmp(&a.call))
            .then(a.usdt.cmp(&b.usdt))
    });
    v
}

/// The keys of the data API's option object, in the seed's order (SEED-API.md): the symbol,
/// then the 14 numbers its tracker wrote into each `option:{symbol}` hash.
pub const SEED_OBJECT_KEYS: [&str; 15] = [
    "symbol",
    "last_price",
    "mark_price",
    "index_price",
    "mark_iv",
    "underlying_price",
    "open_interest",
    "volume_24h",
    "turnover_24h",
    "delta",
    "gamma",
    "theta",
    "vega",
    "bid_iv",
    "ask_iv",
];

/// Writes the seed's `option:{symbol}` hash (symbol + 14 floats, EXPIRE 86400).
pub fn write_seed_hashes(con: &mut redis::Connection, contracts: &[FixtureContract]) {
    let mut pipe = redis::pipe();
    for c in contracts {
        let key = format!("option:{}", c.symbol);
        let mut cmd = redis::cmd("HSET");
        cmd.arg(&key).arg("symbol").arg(&c.symbol);
        for f in &SEED_OBJECT_KEYS[1..] {
            cmd.arg(f).arg(options_core::python_float(c.value(f)));
        }
        pipe.add_command(cmd).ignore();
        pipe.cmd("EXPIRE").arg(&key).arg(86_400).ignore();
    }
    pipe.query::<()>(con).expect("seed hashes");
}
