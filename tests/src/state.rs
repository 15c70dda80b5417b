//! What a chain holds, compared across the simulator and Redis: symbol → canonical field →
//! value. Shared by the feeder tests and the chaos run, which both end by checking that Redis
//! holds exactly the sim's latest values.

use std::collections::BTreeMap;

use options_client::cmd;
use options_core::{Field, FIELDS};
use serde_json::Value;

use crate::procs::Sim;
use crate::try_run;

/// Symbol → canonical field name → value.
pub type ChainState = BTreeMap<String, BTreeMap<&'static str, f64>>;

/// The sim's tickers for `assets`. The sim sends every value as text; one that is not is a bug
/// in the sim, and panics here.
pub fn of_sim(sim: &Sim, assets: &[&str]) -> ChainState {
    let mut out = BTreeMap::new();
    for a in assets {
        for t in sim.tickers(a) {
            let symbol = t["symbol"].as_str().unwrap().to_string();
            let mut row = BTreeMap::new();
            for (k, v) in t.as_object().unwrap() {
                if let Some(f) = Field::from_wire(k) {
                    row.insert(f.name(), v.as_str().unwrap().parse::<f64>().unwrap());
                }
            }
            out.insert(symbol, row);
        }
    }
    out
}

/// What Redis holds for `assets`, read as the web server reads it; `None` while Redis does not
/// answer (down, loading).
pub fn of_redis(con: &mut redis::Connection, assets: &[&str]) -> Option<ChainState> {
    let mut out = BTreeMap::new();
    for a in assets {
        let page = try_run(con, &cmd::Query::new(a)).ok()??;
        for row in &page.data {
            let m = FIELDS
                .iter()
                .filter_map(|f| Some((f.name(), row.number(f.name())?)))
                .collect();
            out.insert(row.symbol().to_string(), m);
        }
    }
    Some(out)
}

/// The sum of the calls' open interest among `tickers` (the sim's, REST names).
pub fn call_oi(tickers: &[Value]) -> f64 {
    tickers
        .iter()
        .filter(|t| t["symbol"].as_str().unwrap().split('-').nth(3) == Some("C"))
        .map(|t| t["openInterest"].as_str().unwrap().parse::<f64>().unwrap())
        .sum()
}
