//! A real three-master Redis Cluster with the module on every node: the feeder writes each
//! underlying to the shard that owns its key, and the web server reads full chains through it.

use std::time::Duration;

use options_tests::procs::{wait_for, Feeder, Sim, Web};
use options_tests::{text, RedisServer};

fn start_cluster() -> Vec<RedisServer> {
    let nodes: Vec<RedisServer> = (0..3)
        .map(|_| {
            RedisServer::start(&[
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "5000",
            ])
        })
        .collect();
    let addrs: Vec<String> = nodes
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port))
        .collect();
    let out = std::process::Command::new("redis-cli")
        .args(["--cluster", "create"])
        .args(&addrs)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .output()
        .expect("redis-cli --cluster create");
    assert!(
        out.status.success(),
        "cluster create failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    for n in &nodes {
        let mut con = n.connection();
        wait_for(Duration::from_secs(30), "cluster_state:ok", || {
            text(&mut con, &["CLUSTER", "INFO"])
                .ok()
                .filter(|i| i.contains("cluster_state:ok"))
                .map(|_| ())
        });
    }
    nodes
}

/// The node whose slots include `key`.
fn owner<'a>(nodes: &'a [RedisServer], key: &str) -> &'a RedisServer {
    let mut con = nodes[0].connection();
    let slot: i64 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query(&mut con)
        .unwrap();
    let slots: Vec<Vec<redis::Value>> = redis::cmd("CLUSTER").arg("SLOTS").query(&mut con).unwrap();
    for range in slots {
        let (lo, hi): (i64, i64) = (
            redis::from_redis_value(&range[0]).unwrap(),
            redis::from_redis_value(&range[1]).unwrap(),
        );
        if (lo..=hi).contains(&slot) {
            let node: Vec<redis::Value> = redis::from_redis_value(&range[2]).unwrap();
            let port: i64 = redis::from_redis_value(&node[1]).unwrap();
            return nodes.iter().find(|n| n.port as i64 == port).unwrap();
        }
    }
    panic!("no node owns slot {slot}");
}

#[test]
fn feeder_and_web_work_against_a_three_master_cluster() {
    let nodes = start_cluster();
    let urls: Vec<String> = nodes.iter().map(|n| n.url()).collect();
    let urls = urls.join(",");
    let sim = Sim::start(&[
        "--assets",
        "BTC,ETH,SOL",
        "--strikes",
        "3",
        "--updates-per-sec",
        "500",
    ]);
    let mut feeder = Feeder::start(&sim, &urls, "BTC,ETH,SOL", &["--mirror-hashes"]);
    feeder.wait_ready(Duration::from_secs(30));
    let web = Web::start(&urls, &["--assets", "BTC,ETH,SOL"]);

    let (btc_owner, eth_owner) = (owner(&nodes, "BTC"), owner(&nodes, "ETH"));
    assert_ne!(
        btc_owner.port, eth_owner.port,
        "BTC and ETH hash to different shards"
    );
    for (asset, node) in [("BTC", btc_owner), ("ETH", eth_owner)] {
        let listed = sim.tickers(asset).len() as u64;
        let mut con = node.connection();
        wait_for(
            Duration::from_secs(20),
            "the full chain on its shard",
            || {
                let stats = options_client::cmd::Stats {
                    key: asset.to_string(),
                };
                let s = options_tests::run(&mut con, &stats).expect("stats");
                (s.contracts == listed).then_some(())
            },
        );
        // The tape lives in the chain's slot ({BTC}:trades), so the feeder's trades reach it
        // on the same shard.
        wait_for(
            Duration::from_secs(20),
            "trades on the chain's shard",
            || {
                let n: i64 = redis::cmd("XLEN")
                    .arg(format!("{{{asset}}}:trades"))
                    .query(&mut con)
                    .unwrap();
                (n > 0).then_some(())
            },
        );
        // the other shards do not hold it
        for other in nodes.iter().filter(|n| n.port != node.port) {
            let mut c = other.connection();
            let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
            let keys: Vec<String> = redis::cmd("KEYS").arg(asset).query(&mut c).unwrap();
            assert!(
                keys.is_empty(),
                "{asset} also on node {} ({n} keys)",
                other.port
            );
        }
        let (code, rows) = web.get(&format!("/api/options/{asset}"), &[]);
        assert_eq!(code, 200, "{rows}");
        assert_eq!(
            rows.as_array().unwrap().len() as u64,
            listed,
            "the web server reads the full {asset} chain"
        );
        let (code, exp) = web.get(&format!("/api/expiries/{asset}"), &[]);
        assert_eq!(code, 200);
        assert!(!exp.as_array().unwrap().is_empty());
    }

    // The keyless OPTIONS.STATS is answered by every node for itself (no MOVED), and the web
    // server adds the nodes' totals.
    let mut per_node = 0u64;
    for n in &nodes {
        let mut con = n.connection();
        let s = options_tests::run(&mut con, &options_client::cmd::ModuleStats)
            .expect("a node's own totals");
        per_node += s.contracts as u64;
    }
    let listed_all: u64 = ["BTC", "ETH", "SOL"]
        .iter()
        .map(|a| sim.tickers(a).len() as u64)
        .sum();
    assert_eq!(per_node, listed_all);
    let (_, st) = web.get("/api/stats", &[]);
    assert_eq!(st["total_symbols"], listed_all, "{st}");

    // "All" means every underlying with data on every shard, configured or not (the seed's
    // `KEYS option:*`): XRP is written to its own shard and named nowhere.
    let xrp = "XRP-31DEC30-2.5-C-USDT";
    let mut con = owner(&nodes, "XRP").connection();
    redis::cmd("OPTIONS.INGEST")
        .arg("XRP")
        .arg(xrp)
        .arg("mark_price")
        .arg("0.1")
        .query::<()>(&mut con)
        .unwrap();
    let (code, s) = web.get("/api/symbols", &[]);
    assert_eq!(code, 200, "{s}");
    let symbols: Vec<&str> = s["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(symbols.contains(&xrp), "XRP's shard was scanned");
    for asset in ["BTC", "ETH", "SOL"] {
        let prefix = format!("{asset}-");
        assert!(
            symbols.iter().any(|s| s.starts_with(&prefix)),
            "{asset} listed"
        );
    }

    // A quiet exchange and the BTC shard restarted empty: the cluster client reconnects to it
    // by itself, so no write fails; the feeder sees the node's new module instance and rewrites.
    sim.control("pause", &[]);
    std::thread::sleep(Duration::from_secs(1));
    let listed = sim.tickers("BTC").len() as u64;
    let port = owner(&nodes, "BTC").port;
    let mut nodes = nodes;
    let node = nodes.iter_mut().find(|n| n.port == port).unwrap();
    node.restart();
    let back = std::time::Instant::now();
    wait_for(
        Duration::from_secs(30),
        "the restarted node serving",
        || {
            let mut con = node.connection_opt()?;
            text(&mut con, &["CLUSTER", "INFO"])
                .ok()
                .filter(|i| i.contains("cluster_state:ok"))
                .map(|_| ())
        },
    );
    println!(
        "cluster_state:ok {} ms after the restart",
        back.elapsed().as_millis()
    );
    wait_for(
        Duration::from_secs(30),
        "BTC rewritten to its restarted shard",
        || {
            let mut con = node.connection_opt()?;
            let s: String = redis::cmd("OPTIONS.STATS")
                .arg("BTC")
                .arg("FORMAT")
                .arg("JSON")
                .query(&mut con)
                .ok()?;
            let s: serde_json::Value = serde_json::from_str(&s).ok()?;
            (s["contracts"].as_u64() == Some(listed)).then_some(())
        },
    );
    println!(
        "BTC shard refilled {} ms after its restart",
        back.elapsed().as_millis()
    );
    println!(
        "restarts seen {}, Redis errors {}",
        feeder.metric("feeder_redis_restarts_total"),
        feeder.metric("feeder_redis_errors_total")
    );
    assert!(
        feeder.metric("feeder_redis_restarts_total") + feeder.metric("feeder_redis_errors_total")
            >= 1.0
    );
}
