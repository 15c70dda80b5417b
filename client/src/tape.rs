//! Reading a chain's trade tape (the stream `{key}:trades`, [`options_core::tape_key`]) as its
//! entries: each an id (exchange time, never going back) and the trade's fields as the module
//! wrote them.

use redis::Cmd;

use crate::connection::Redis;
use crate::error::ClientResult;

/// A tape entry: its stream id and its field–value pairs in order.
pub type TapeEntry = (String, Vec<(String, String)>);

/// The most entries one blocking read returns.
const READ_COUNT: usize = 1000;

/// The id of the tape's newest entry, `0-0` for an empty or missing tape: where a reader that
/// wants only trades from now on starts.
pub async fn newest_id(redis: &Redis, tape: &str) -> ClientResult<String> {
    let mut newest = redis::cmd("XREVRANGE");
    newest.arg(tape).arg("+").arg("-").arg("COUNT").arg(1);
    let entries: Vec<TapeEntry> = redis.query(&newest).await?;
    Ok(entries
        .into_iter()
        .next()
        .map_or_else(|| "0-0".to_string(), |(id, _)| id))
}

/// `XREAD COUNT 1000 BLOCK block_ms STREAMS tape after`: the entries after `after` (an id, or
/// `$` for those written from now), waiting up to `block_ms` for one; empty on timeout.
pub async fn read_after(
    redis: &Redis,
    tape: &str,
    after: &str,
    block_ms: u64,
) -> ClientResult<Vec<TapeEntry>> {
    let got: Option<Vec<(String, Vec<TapeEntry>)>> =
        redis.query(&read_cmd(tape, after, block_ms)).await?;
    Ok(got
        .and_then(|mut streams| streams.pop())
        .map(|(_, entries)| entries)
        .unwrap_or_default())
}

fn read_cmd(tape: &str, after: &str, block_ms: u64) -> Cmd {
    let mut read = redis::cmd("XREAD");
    read.arg("COUNT")
        .arg(READ_COUNT)
        .arg("BLOCK")
        .arg(block_ms)
        .arg("STREAMS")
        .arg(tape)
        .arg(after);
    read
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_names_its_tape_cursor_and_wait() {
        let packed =
            String::from_utf8(read_cmd("{BTC}:trades", "5-0", 250).get_packed_command()).unwrap();
        let words: Vec<&str> = packed
            .split("\r\n")
            .filter(|w| !w.starts_with(['*', '$']))
            .collect();
        assert_eq!(
            words,
            [
                "XREAD",
                "COUNT",
                "1000",
                "BLOCK",
                "250",
                "STREAMS",
                "{BTC}:trades",
                "5-0",
                ""
            ]
        );
    }
}
