//! The Python client's overhead (issue 31): `Options.query` of one expiry of a 2,500-contract
//! chain, as typed rows and as a DataFrame, against the raw command's bytes on the same
//! connection, in alternating rounds (`clients/python/bench.py` measures; this owns the server,
//! the chain and the `python` section of BENCHMARKS.md). Run with `make bench`.

use std::process::Command;

use options_tests::bench::{cannot_run, median, spread};
use options_tests::market::MovingMarket;
use options_tests::RedisServer;

const ROUNDS: usize = 3;
const SECONDS: f64 = 3.0;

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join("target/py-venv/bin/python");
    if !python.exists() {
        cannot_run(
            "python_client",
            "target/py-venv is missing (`make test` makes it: the client, pandas, pytest, mypy)",
        );
    }
    let server = RedisServer::start(&[]);
    let mut con = server.connection();
    let clock = options_core::clock::now_ms();
    let market = MovingMarket::new(7, 10, 125, clock);
    market
        .ingest_pipeline(clock)
        .query::<()>(&mut con)
        .expect("the chain");
    let expiries: Vec<String> = redis::cmd("OPTIONS.EXPIRIES")
        .arg("BTC")
        .query(&mut con)
        .expect("expiries");
    let expiry = &expiries[expiries.len() / 2];
    let out = Command::new(&python)
        .arg(root.join("clients/python/bench.py"))
        .arg(server.url())
        .arg("BTC")
        .arg(expiry)
        .arg(ROUNDS.to_string())
        .arg(SECONDS.to_string())
        .output()
        .expect("run bench.py");
    if !out.status.success() {
        cannot_run(
            "python_client",
            &format!("bench.py failed: {}", String::from_utf8_lossy(&out.stderr)),
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("bench.py's JSON");
    let rates = |k: &str| -> Vec<f64> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let med = |k: &str| {
        let mut r = rates(k);
        r.sort_by(f64::total_cmp);
        median(&r)
    };
    let (raw, typed, frame) = (med("raw"), med("typed"), med("frame"));
    let section = format!(
        "<!-- python:begin -->\n\
## Python client (issue 31)\n\n\
`Options.query(\"BTC\", expiry=\"{expiry}\")` of a {n}-contract chain: {rows} rows, {bytes} bytes of JSON, over one \
redis-py connection on the same machine (Python {py}). Calls per second: the median of {ROUNDS} alternating rounds of \
{SECONDS} s, their range in brackets.\n\n\
| measurement | calls/s | of the raw command | target |\n\
|---|---|---|---|\n\
| the raw command (`execute_command(\"OPTIONS.QUERY\", …, \"FORMAT\", \"JSON\")`, bytes, not decoded) | {raw_s} | 1.00× | — |\n\
| typed rows (`Options.query`: JSON decoded, every row's keys checked) | {typed_s} | {r1:.2}× | — |\n\
| a DataFrame (`.to_pandas()`: dtypes set, expiry and update times as UTC timestamps) | {frame_s} | {r2:.2}× | — |\n\
\n<!-- python:end -->",
        n = market.len(),
        rows = v["rows"],
        bytes = v["bytes"],
        py = String::from_utf8_lossy(
            &Command::new(&python)
                .arg("-c")
                .arg("import platform; print(platform.python_version())")
                .output()
                .map(|o| o.stdout)
                .unwrap_or_default()
        )
        .trim(),
        raw_s = spread(&rates("raw"), 0),
        typed_s = spread(&rates("typed"), 0),
        frame_s = spread(&rates("frame"), 0),
        r1 = typed / raw,
        r2 = frame / raw,
    );
    println!("{section}");
    options_tests::write_benchmark_section("python", "python_client", &section);
}
