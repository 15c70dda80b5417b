//! Redis's liveness, judged apart from the writes. The writer learns of an outage when a write
//! or its own probe fails, but a hung Redis (stopped, a full disk, a blackholed network) fails
//! nothing: a write just waits out the reply timeout. The watchdog asks on a connection of its
//! own, with a deadline far shorter than the write timeout, so the outage is on record (and on
//! Telegram) within about a second and a half of its start, whatever the writer is waiting on.

use std::sync::Arc;
use std::time::Duration;

use options_client::Redis;

use crate::metrics::Metrics;

/// How often the watchdog asks.
pub const EVERY: Duration = Duration::from_millis(500);
/// How long an answer may take before Redis counts as down: far above a healthy round trip
/// (well under a millisecond on a LAN), far below the write timeout.
pub const DEADLINE: Duration = Duration::from_secs(1);

/// Asks Redis for a `PING` every `EVERY`, forever. A missing answer marks Redis down (once per
/// outage); only the writer marks it up again, after a write or a probe succeeds, so the end of
/// an outage is announced when the data flows again.
pub async fn run(redis: Redis, metrics: Arc<Metrics>) {
    let ping = redis::cmd("PING");
    loop {
        tokio::time::sleep(EVERY).await;
        let answered = matches!(
            tokio::time::timeout(DEADLINE, redis.query::<String>(&ping)).await,
            Ok(Ok(_))
        );
        if !answered && metrics.redis_up.get() != 0 {
            tracing::error!(
                deadline_ms = DEADLINE.as_millis() as u64,
                "Redis did not answer PING in time; counting it down until a write succeeds"
            );
            metrics.redis_up.set(0);
            metrics.redis_errors.inc();
        }
    }
}
