//! Record and replay (issue 16): a feeder records what the sim sends; `bybit-sim --replay`
//! plays the recording to a second feeder writing to a second Redis; the two chains are then
//! compared contract by contract. Also: the replay is never faster than asked, and a recording
//! cut short by a crash replays up to the cut.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use options_core::recording::{self, Entry};
use options_tests::procs::{wait_for, Feeder, Sim};
use options_tests::{RedisServer, TempDir};
use serde_json::Value;

/// Every contract of a chain: symbol → (field values, updated_ms).
fn chain(redis: &RedisServer, asset: &str) -> BTreeMap<String, (Vec<(String, Value)>, i64)> {
    let mut con = redis.connection();
    let page = options_tests::run(&mut con, &options_client::cmd::Query::new(asset))
        .expect("a query page");
    page.data
        .iter()
        .map(|r| {
            let fields: Vec<(String, Value)> = options_core::FIELDS
                .iter()
                .map(|f| {
                    (
                        f.name().to_string(),
                        r.get(f.name()).cloned().unwrap_or(Value::Null),
                    )
                })
                .collect();
            let updated_ms = r.number("updated_ms").unwrap_or(0.0) as i64;
            (r.symbol().to_string(), (fields, updated_ms))
        })
        .collect()
}

fn frames_in(dir: &std::path::Path) -> Vec<(i64, Option<i64>)> {
    recording::entries(dir)
        .unwrap()
        .filter_map(|e| match e {
            Entry::Frame { recv_ms, ts, .. } => Some((recv_ms, ts)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_recorded_feed_replays_into_a_second_redis_as_it_was() {
    let dir = TempDir::new("recording");
    let rec = dir.path().join("rec");
    let live_redis = RedisServer::start(&[]);
    let sim = Sim::start(&[
        "--assets",
        "BTC,ETH",
        "--strikes",
        "3",
        "--updates-per-sec",
        "300",
        "--seed",
        "5",
    ]);
    let mut feeder = Feeder::start(
        &sim,
        &live_redis.url(),
        "BTC,ETH",
        &["--record", rec.to_str().unwrap()],
    );
    feeder.wait_ready(Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(4));
    sim.control("pause", &[]);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(feeder.metric("feeder_record_ok"), 1.0);
    assert_eq!(feeder.metric("feeder_record_dropped_total"), 0.0);
    let status = feeder
        .proc
        .terminate(Duration::from_secs(15))
        .expect("the feeder stops");
    assert!(status.success());
    let live: Vec<_> = ["BTC", "ETH"]
        .iter()
        .map(|a| chain(&live_redis, a))
        .collect();

    // What was recorded: listings and snapshots, then frames, in receive order, with the
    // exchange's timestamps.
    let entries: Vec<Entry> = recording::entries(&rec).unwrap().collect();
    assert!(entries
        .iter()
        .any(|e| matches!(e, Entry::Instruments { base, .. } if base == "BTC")));
    assert!(entries
        .iter()
        .any(|e| matches!(e, Entry::Tickers { base, .. } if base == "ETH")));
    let frames = frames_in(&rec);
    assert!(frames.len() > 200, "{} frames", frames.len());
    assert!(
        frames.windows(2).all(|w| w[0].0 <= w[1].0),
        "in receive order"
    );
    assert!(
        frames.iter().all(|f| f.1.is_some()),
        "every frame has its exchange time"
    );
    let span_ms = frames.last().unwrap().0 - frames[0].0;

    // Market time: a contract last written by a frame carries the frame's exchange time.
    let btc = &live[0];
    let stamped = btc
        .values()
        .filter(|(_, ms)| frames.iter().any(|f| f.1 == Some(*ms)))
        .count();
    assert!(
        stamped > btc.len() / 2,
        "{stamped} of {} contracts on exchange time",
        btc.len()
    );

    // Replay at 4× into a second Redis through a second feeder.
    let replay = Sim::start(&["--replay", rec.to_str().unwrap(), "--speed", "4"]);
    let replay_redis = RedisServer::start(&[]);
    let started = Instant::now();
    let mut second = Feeder::start(&replay, &replay_redis.url(), "BTC,ETH", &[]);
    second.wait_ready(Duration::from_secs(30));
    wait_for(Duration::from_secs(60), "the replay to finish", || {
        let s = replay.stats();
        (s["done"] == true).then_some(())
    });
    let took = started.elapsed();
    let s = replay.stats();
    assert_eq!(
        s["frames_sent"].as_u64(),
        Some(frames.len() as u64),
        "every frame sent"
    );
    assert!(
        took.as_millis() as i64 >= span_ms / 4,
        "never faster than asked: {span_ms} ms recorded, replayed in {took:?} at 4×"
    );
    let replayed = wait_for(Duration::from_secs(20), "the replayed chains", || {
        let got: Vec<_> = ["BTC", "ETH"]
            .iter()
            .map(|a| chain(&replay_redis, a))
            .collect();
        let same = got.iter().zip(&live).all(|(g, l)| {
            g.len() == l.len()
                && g.iter()
                    .all(|(s, (f, _))| l.get(s).is_some_and(|(lf, _)| lf == f))
        });
        same.then_some(got)
    });
    // The same contracts with the same values, and on exchange time the same updated_ms.
    for (g, l) in replayed.iter().zip(&live) {
        for (s, (_, ms)) in l {
            if frames.iter().any(|f| f.1 == Some(*ms)) {
                assert_eq!(g[s].1, *ms, "{s}: market time survives the replay");
            }
        }
    }
    // The tapes too: the recorded publicTrade frames replay into the same trades, under the same
    // entry ids (the exchange's time), field for field.
    let tape = |redis: &RedisServer, asset: &str| -> Vec<(String, Vec<(String, String)>)> {
        redis::cmd("XRANGE")
            .arg(format!("{{{asset}}}:trades"))
            .arg("-")
            .arg("+")
            .query(&mut redis.connection())
            .unwrap()
    };
    let live_tapes: Vec<_> = ["BTC", "ETH"]
        .iter()
        .map(|a| tape(&live_redis, a))
        .collect();
    assert!(
        !live_tapes[0].is_empty() && !live_tapes[1].is_empty(),
        "the sim traded"
    );
    wait_for(Duration::from_secs(20), "the replayed tapes", || {
        let got: Vec<_> = ["BTC", "ETH"]
            .iter()
            .map(|a| tape(&replay_redis, a))
            .collect();
        (got == live_tapes).then_some(())
    });
    println!(
        "recorded {} frames over {span_ms} ms; replayed at 4× in {} ms; {} + {} contracts equal",
        frames.len(),
        took.as_millis(),
        live[0].len(),
        live[1].len()
    );
    drop(second);

    // A recording cut by a crash (the last file truncated) replays up to the cut.
    let cut = dir.path().join("cut");
    std::fs::create_dir_all(&cut).unwrap();
    let files = recording::files(&rec).unwrap();
    for f in &files {
        std::fs::copy(f, cut.join(f.file_name().unwrap())).unwrap();
    }
    let last = cut.join(files.last().unwrap().file_name().unwrap());
    let len = std::fs::metadata(&last).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&last)
        .unwrap()
        .set_len(len * 2 / 3)
        .unwrap();
    let readable = frames_in(&cut).len();
    assert!(
        readable > 0 && readable < frames.len(),
        "{readable} of {} frames before the cut",
        frames.len()
    );
    let replay_cut = Sim::start(&["--replay", cut.to_str().unwrap(), "--speed", "0"]);
    let cut_redis = RedisServer::start(&[]);
    let mut third = Feeder::start(&replay_cut, &cut_redis.url(), "BTC,ETH", &[]);
    third.wait_ready(Duration::from_secs(30));
    wait_for(Duration::from_secs(60), "the cut replay to finish", || {
        (replay_cut.stats()["done"] == true).then_some(())
    });
    assert_eq!(
        replay_cut.stats()["frames_sent"].as_u64(),
        Some(readable as u64)
    );
}
