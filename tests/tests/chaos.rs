//! A short chaos run (`options_tests::chaos`): about 40 s of Redis, the feeder and the web server
//! killed and restarted and the network stalled, every kind of fault at least once, then every
//! chain, every SSE client and the history checked against the simulator. `make bench` runs
//! the ten-minute one at full rate.

use options_tests::chaos::{self, Plan};

#[test]
fn every_fault_recovers_and_leaves_chains_streams_and_history_true() {
    let plan = Plan {
        seconds: 40,
        assets: "BTC,ETH",
        sim_args: [
            "--strikes",
            "10",
            "--updates-per-sec",
            "400",
            "--seed",
            "11",
        ]
        .map(String::from)
        .to_vec(),
        clients: 10,
        between: (1.0, 2.5),
        seed: 7,
    };
    let report = chaos::run(&plan);
    eprintln!("{}", report.markdown_rows());
    let kinds: std::collections::BTreeSet<_> = report.faults.iter().map(|f| f.fault).collect();
    assert_eq!(
        kinds.len(),
        5,
        "every kind of fault happened: {:?}",
        report.faults
    );
    assert!(
        report.sse_events > 0 && report.history_samples > 0,
        "the run streamed and sampled: {report:?}"
    );
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
}
