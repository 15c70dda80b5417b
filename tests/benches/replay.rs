//! Record and replay benchmark, side by side in one run: a feeder records the sim's full market
//! streaming at a high rate for 10 s; then `bybit-sim --replay --speed 0` plays it to a second
//! feeder as fast as it reads, into a second Redis. Reports bytes per recorded frame, the
//! recorder's drops, and the replay rate end to end (frames sent by the replay per second until
//! every frame is in Redis).
//!
//! Results replace the `replay` section of BENCHMARKS.md. Run with `make bench`.

use std::time::{Duration, Instant};

use options_core::recording::{self, Entry};
use options_tests::procs::{wait_for, Feeder, Sim};
use options_tests::{RedisServer, TempDir};

fn main() {
    let dir = TempDir::new("bench-recording");
    let rec = dir.path().join("rec");
    let live_redis = RedisServer::start(&[]);
    let sim = Sim::start(&["--updates-per-sec", "20000"]);
    let mut feeder = Feeder::start(
        &sim,
        &live_redis.url(),
        "BTC,ETH,SOL,XRP",
        &["--record", rec.to_str().unwrap()],
    );
    feeder.wait_ready(Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(10));
    sim.control("pause", &[]);
    std::thread::sleep(Duration::from_secs(2));
    let dropped = feeder.metric("feeder_record_dropped_total");
    let received = feeder.metric("feeder_messages_received_total");
    feeder.proc.terminate(Duration::from_secs(20));

    let frames: Vec<i64> = recording::entries(&rec)
        .unwrap()
        .filter_map(|e| match e {
            Entry::Frame { recv_ms, .. } => Some(recv_ms),
            _ => None,
        })
        .collect();
    let bytes: u64 = recording::files(&rec)
        .unwrap()
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let span_s = (frames.last().unwrap() - frames[0]) as f64 / 1000.0;

    let replay = Sim::start(&["--replay", rec.to_str().unwrap(), "--speed", "0"]);
    let replay_redis = RedisServer::start(&[]);
    let mut second = Feeder::start(&replay, &replay_redis.url(), "BTC,ETH,SOL,XRP", &[]);
    second.wait_ready(Duration::from_secs(60));
    let t = Instant::now();
    wait_for(Duration::from_secs(300), "the replay to finish", || {
        (replay.stats()["done"] == true).then_some(())
    });
    let sent = replay.stats()["frames_sent"].as_f64().unwrap_or(0.0);
    // Every frame in Redis: the second feeder has received them all.
    wait_for(
        Duration::from_secs(120),
        "every replayed frame received",
        || (second.metric("feeder_messages_received_total") >= sent).then_some(()),
    );
    let secs = t.elapsed().as_secs_f64();

    let section = format!(
        "<!-- replay:begin -->\n\
## Record and replay (issue 16)\n\n\
Shared by two redis-servers, two sims, two feeders and the benchmark. \
Recorded: every contract of BTC, ETH, SOL and XRP with the sim pushing 20,000 updates/s for 10 s. \
\n\n\
| measurement | result |\n\
|---|---|\n\
| frames recorded (of {received:.0} received; dropped by the bounded queue: {dropped:.0}) over {span_s:.1} s | {n} |\n\
| bytes per recorded frame on disk (zstd level 3, JSON lines with receive and exchange times) | {per:.1} B ({mb:.2} MB in all) |\n\
| replay `--speed 0` → second feeder → Redis, end to end | {rate:.0} frames/s ({sent:.0} frames in {secs:.1} s) |\n\
\n<!-- replay:end -->",
        n = frames.len(),
        per = bytes as f64 / frames.len() as f64,
        mb = bytes as f64 / 1e6,
        rate = sent / secs,
    );
    println!("{section}");
    options_tests::write_benchmark_section("replay", "replay", &section);
}
