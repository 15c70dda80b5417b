//! Option flow (issue 30): the trades of a chain, as the tape stream `{<key>}:trades` holds them,
//! and what `OPTIONS.FLOW` sums over them. Pure: the index of one stream (`Tape`) and the
//! figures of a selection of its trades, unit-tested here; the commands read and write the
//! stream itself (`commands/trade.rs`, `commands/flow.rs`).
//!
//! Premium is size × price (USD), signed by the taker's side (a buyer pays it); notional is
//! size × the index price at the trade. Volumes are in the contract's unit (coins).

use std::collections::{BTreeMap, HashMap, VecDeque};

use options_core::{Expiry, OptionType};

/// The taker's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn parse(text: &str) -> Option<Side> {
        if text.eq_ignore_ascii_case("buy") {
            Some(Side::Buy)
        } else if text.eq_ignore_ascii_case("sell") {
            Some(Side::Sell)
        } else {
            None
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

/// One trade as the tape keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Trade {
    /// The stream entry id: (ms, seq).
    pub entry: (i64, u64),
    pub id: String,
    pub symbol: String,
    pub expiry: Expiry,
    pub strike: f64,
    pub kind: OptionType,
    pub side: Side,
    pub size: f64,
    pub price: f64,
    pub iv: Option<f64>,
    pub index: Option<f64>,
    pub block: bool,
    pub ts: i64,
}

impl Trade {
    /// Size × price, positive for a buyer's trade, negative for a seller's.
    pub fn signed_premium(&self) -> f64 {
        let p = self.size * self.price;
        match self.side {
            Side::Buy => p,
            Side::Sell => -p,
        }
    }
    pub fn signed_size(&self) -> f64 {
        match self.side {
            Side::Buy => self.size,
            Side::Sell => -self.size,
        }
    }
    /// Size × index price; `None` without an index price.
    pub fn notional(&self) -> Option<f64> {
        self.index.map(|i| self.size * i)
    }
}

/// The module's index of one tape: its trades in entry order and the trade ids seen, so a
/// resent trade counts once. It mirrors the stream; `matches` says whether it still does (a
/// client may trim, delete or add entries by hand), and a mismatch rebuilds it from the stream.
///
/// Trimming is paid per trade trimmed: the retention window slides with every new trade, so a
/// full tape drops a few old trades on nearly every write. (Rebuilding the id map on each trim
/// made every trade cost the whole tape: 31 ms of Redis's thread per trade at 150,000 trades,
/// 32 trades a second, where this records 29,600; a day's tape of a real venue is ~100,000.)
#[derive(Debug, Default, Clone)]
pub struct Tape {
    pub trades: VecDeque<Trade>,
    /// Each id's latest trade, by its position counted from the tape's first trade ever
    /// (`first_pos` is that of `trades[0]`), so positions survive trims.
    ids: HashMap<String, u64>,
    first_pos: u64,
}

impl Tape {
    /// From the stream's entries, in order.
    pub fn from_trades(trades: Vec<Trade>) -> Tape {
        let mut tape = Tape::default();
        for t in trades {
            tape.push(t);
        }
        tape
    }

    /// Whether the index describes a stream of `len` entries from `first` to `last`.
    pub fn matches(&self, len: usize, first: Option<(i64, u64)>, last: Option<(i64, u64)>) -> bool {
        self.trades.len() == len
            && self.trades.front().map(|t| t.entry) == first
            && self.trades.back().map(|t| t.entry) == last
    }

    pub fn seen(&self, id: &str) -> bool {
        self.ids.contains_key(id)
    }

    /// The entry id a trade at `ts` gets: its own time, or after the last entry when it is not
    /// newer (the stream's ids only grow).
    pub fn next_entry(&self, ts: i64) -> (i64, u64) {
        match self.trades.back() {
            Some(t) if ts <= t.entry.0 => (t.entry.0, t.entry.1 + 1),
            _ => (ts.max(0), 0),
        }
    }

    pub fn push(&mut self, t: Trade) {
        let pos = self.first_pos + self.trades.len() as u64;
        self.ids.insert(t.id.clone(), pos);
        self.trades.push_back(t);
    }

    /// Drops entries below `min_ms` (as `XTRIM MINID` does); returns how many.
    pub fn trim_before(&mut self, min_ms: i64) -> usize {
        let n = self.trades.partition_point(|t| t.entry.0 < min_ms);
        for _ in 0..n {
            let Some(t) = self.trades.pop_front() else {
                break;
            };
            // A stream written by hand may hold an id twice: the id stays seen while a later
            // trade of it is on the tape.
            if self.ids.get(&t.id) == Some(&self.first_pos) {
                self.ids.remove(&t.id);
            }
            self.first_pos += 1;
        }
        n
    }

    /// The trades whose exchange time is within `[from, to]`. Entry times follow exchange
    /// times (an older trade takes the last entry's time), so the search narrows by entry time
    /// and then checks each trade's own `ts`.
    pub fn between(&self, from: i64, to: i64) -> impl Iterator<Item = &Trade> {
        let lo = self
            .trades
            .partition_point(|t| t.entry.0 < from.saturating_sub(MAX_LATE_MS));
        self.trades
            .range(lo..)
            .take_while(move |t| t.entry.0 <= to.saturating_add(MAX_LATE_MS))
            .filter(move |t| t.ts >= from && t.ts <= to)
    }
}

/// How far behind the newest entry a trade's own time may be and still be found by time: a
/// trade older than the last entry is stored at the last entry's time.
const MAX_LATE_MS: i64 = 3_600_000;

/// The sums `OPTIONS.FLOW` reports for a set of trades.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sums {
    pub trades: u64,
    pub buy_volume: f64,
    pub sell_volume: f64,
    pub buy_premium: f64,
    pub sell_premium: f64,
    pub block_trades: u64,
    pub block_volume: f64,
}

impl Sums {
    pub fn add(&mut self, t: &Trade) {
        self.trades += 1;
        let premium = t.size * t.price;
        match t.side {
            Side::Buy => {
                self.buy_volume += t.size;
                self.buy_premium += premium;
            }
            Side::Sell => {
                self.sell_volume += t.size;
                self.sell_premium += premium;
            }
        }
        if t.block {
            self.block_trades += 1;
            self.block_volume += t.size;
        }
    }
    pub fn net_volume(&self) -> f64 {
        self.buy_volume - self.sell_volume
    }
    pub fn net_premium(&self) -> f64 {
        self.buy_premium - self.sell_premium
    }
}

/// Per strike: calls' and puts' net premium and net volume.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StrikeFlow {
    pub call_net_premium: f64,
    pub call_net_volume: f64,
    pub put_net_premium: f64,
    pub put_net_volume: f64,
}

/// What to sum.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Selection {
    pub expiries: Vec<Expiry>,
    pub from: i64,
    pub to: i64,
    /// Trades below this notional (size × index) are left out; a trade without an index
    /// price has no notional and is left out when a minimum is asked.
    pub min_notional: Option<f64>,
    pub by_strike: bool,
    /// Bucket width in ms for the time series.
    pub bucket_ms: Option<i64>,
}

/// Most buckets one answer may hold.
pub const MAX_BUCKETS: i64 = 100_000;

/// More buckets between the first and the last selected trade than [`MAX_BUCKETS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyBuckets(pub i64);

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Flow {
    pub totals: Sums,
    pub expiries: Vec<(Expiry, Sums)>,
    pub strikes: Vec<(f64, StrikeFlow)>,
    /// `(bucket start, net premium, block volume)` for every bucket (aligned to `from`) from the
    /// first to the last holding a selected trade, empty ones between as zeros: the span is
    /// bounded by the tape's, whatever window was asked.
    pub buckets: Vec<(i64, f64, f64)>,
}

/// The flow of the trades `tape` holds that `sel` selects.
pub fn flow(tape: &Tape, sel: &Selection) -> Result<Flow, TooManyBuckets> {
    let mut out = Flow::default();
    let mut by_expiry: BTreeMap<Expiry, Sums> = BTreeMap::new();
    let mut by_strike: BTreeMap<u64, (f64, StrikeFlow)> = BTreeMap::new();
    let bucket = sel.bucket_ms.filter(|b| *b > 0);
    let first_bucket = bucket.map(|b| sel.from.div_euclid(b) * b);
    // Bucket number → (net premium, block volume), of buckets holding a trade.
    let mut filled: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
    for t in tape.between(sel.from, sel.to) {
        if !sel.expiries.is_empty() && !sel.expiries.contains(&t.expiry) {
            continue;
        }
        if let Some(min) = sel.min_notional {
            if t.notional().is_none_or(|n| n < min) {
                continue;
            }
        }
        out.totals.add(t);
        by_expiry.entry(t.expiry).or_default().add(t);
        if sel.by_strike {
            let slot = &mut by_strike
                .entry(t.strike.to_bits())
                .or_insert((t.strike, StrikeFlow::default()))
                .1;
            match t.kind {
                OptionType::Call => {
                    slot.call_net_premium += t.signed_premium();
                    slot.call_net_volume += t.signed_size();
                }
                OptionType::Put => {
                    slot.put_net_premium += t.signed_premium();
                    slot.put_net_volume += t.signed_size();
                }
            }
        }
        if let (Some(b), Some(start)) = (bucket, first_bucket) {
            let slot = filled.entry((t.ts - start).div_euclid(b)).or_default();
            slot.0 += t.signed_premium();
            if t.block {
                slot.1 += t.size;
            }
        }
    }
    let mut buckets = Vec::new();
    if let (Some(b), Some(start), Some((&lo, _)), Some((&hi, _))) = (
        bucket,
        first_bucket,
        filled.first_key_value(),
        filled.last_key_value(),
    ) {
        let n = hi - lo + 1;
        if n > MAX_BUCKETS {
            return Err(TooManyBuckets(n));
        }
        buckets = (lo..=hi)
            .map(|i| {
                let (net, block) = filled.get(&i).copied().unwrap_or_default();
                (start + i * b, net, block)
            })
            .collect();
    }
    out.expiries = by_expiry.into_iter().collect();
    let mut strikes: Vec<(f64, StrikeFlow)> = by_strike.into_values().collect();
    strikes.sort_by(|a, b| a.0.total_cmp(&b.0));
    out.strikes = strikes;
    out.buckets = buckets;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::too_many_arguments)]
    fn trade(
        n: u64,
        ts: i64,
        strike: f64,
        kind: OptionType,
        side: Side,
        size: f64,
        price: f64,
        block: bool,
    ) -> Trade {
        Trade {
            entry: (ts, 0),
            id: format!("t{n}"),
            symbol: format!("BTC-26DEC26-{strike}-C"),
            expiry: Expiry::parse(if n.is_multiple_of(2) {
                "26DEC26"
            } else {
                "25JUN27"
            })
            .unwrap(),
            strike,
            kind,
            side,
            size,
            price,
            iv: None,
            index: Some(100_000.0),
            block,
            ts,
        }
    }

    #[test]
    fn entries_follow_exchange_time_and_never_go_back() {
        let mut tape = Tape::default();
        assert_eq!(tape.next_entry(1000), (1000, 0));
        tape.push(trade(
            0,
            1000,
            1.0,
            OptionType::Call,
            Side::Buy,
            1.0,
            1.0,
            false,
        ));
        assert_eq!(tape.next_entry(1000), (1000, 1));
        assert_eq!(
            tape.next_entry(900),
            (1000, 1),
            "an older trade goes after the last entry"
        );
        assert_eq!(tape.next_entry(1001), (1001, 0));
        assert!(tape.seen("t0") && !tape.seen("t1"));
        assert!(tape.matches(1, Some((1000, 0)), Some((1000, 0))));
        assert!(!tape.matches(2, Some((1000, 0)), Some((1000, 0))));
        assert_eq!(tape.trim_before(1001), 1);
        assert!(!tape.seen("t0"));
    }

    fn plain(id: &str, ms: i64) -> Trade {
        let mut t = trade(0, ms, 1.0, OptionType::Call, Side::Buy, 1.0, 1.0, false);
        t.id = id.to_string();
        t.entry = (ms, 0);
        t
    }

    #[test]
    fn a_sliding_window_forgets_exactly_the_trimmed_ids() {
        let mut tape = Tape::default();
        for ms in 0..1000 {
            tape.push(plain(&format!("t{ms}"), ms));
            // As OPTIONS.TRADE does: the window slides with every trade.
            tape.trim_before(ms - 99);
        }
        assert_eq!(tape.trades.len(), 100);
        assert_eq!(tape.trades.front().map(|t| t.entry.0), Some(900));
        assert!((900..1000).all(|ms| tape.seen(&format!("t{ms}"))));
        assert!((0..900).all(|ms| !tape.seen(&format!("t{ms}"))));
        assert!(tape.matches(100, Some((900, 0)), Some((999, 0))));
        assert_eq!(tape.between(950, 959).count(), 10);
    }

    #[test]
    fn an_id_on_the_tape_twice_stays_seen_until_its_last_trade_goes() {
        // A stream written by hand may repeat an id; the module keeps it seen while any trade
        // of it is left.
        let mut tape = Tape::from_trades(vec![plain("a", 1), plain("b", 2), plain("a", 3)]);
        assert_eq!(tape.trim_before(2), 1);
        assert!(tape.seen("a") && tape.seen("b"));
        assert_eq!(tape.trim_before(4), 2);
        assert!(!tape.seen("a") && !tape.seen("b"));
        assert!(tape.trades.is_empty());
        tape.push(plain("a", 5));
        assert!(tape.seen("a"));
        assert!(tape.matches(1, Some((5, 0)), Some((5, 0))));
    }

    proptest::proptest! {
        /// Against a plain list: after any pushes and trims, an id is seen exactly when a
        /// trade of it is still on the tape.
        #[test]
        fn seen_ids_are_the_ids_on_the_tape(
            steps in proptest::collection::vec((0u8..20, 0i64..3, proptest::bool::ANY), 1..200)
        ) {
            let mut tape = Tape::default();
            let mut model: Vec<(String, i64)> = Vec::new();
            let mut ms = 0;
            for (id, advance, trim) in steps {
                ms += advance;
                let id = format!("x{id}");
                tape.push(plain(&id, ms));
                model.push((id, ms));
                if trim {
                    let min = ms - 5;
                    tape.trim_before(min);
                    model.retain(|(_, at)| *at >= min);
                }
                proptest::prop_assert_eq!(tape.trades.len(), model.len());
                for n in 0..20 {
                    let id = format!("x{n}");
                    proptest::prop_assert_eq!(tape.seen(&id), model.iter().any(|(i, _)| *i == id));
                }
            }
        }
    }

    #[test]
    fn sums_sign_premium_by_the_takers_side() {
        let mut tape = Tape::default();
        tape.push(trade(
            0,
            1_000,
            90_000.0,
            OptionType::Call,
            Side::Buy,
            2.0,
            1_000.0,
            true,
        ));
        tape.push(trade(
            1,
            2_000,
            90_000.0,
            OptionType::Put,
            Side::Sell,
            1.0,
            500.0,
            false,
        ));
        tape.push(trade(
            2,
            3_000,
            110_000.0,
            OptionType::Call,
            Side::Sell,
            0.5,
            200.0,
            false,
        ));
        tape.push(trade(
            3,
            90_000,
            110_000.0,
            OptionType::Call,
            Side::Buy,
            1.0,
            300.0,
            false,
        ));
        let sel = Selection {
            from: 0,
            to: 60_000,
            by_strike: true,
            bucket_ms: Some(2_000),
            ..Selection::default()
        };
        let f = flow(&tape, &sel).unwrap();
        assert_eq!(f.totals.trades, 3, "the last trade is after `to`");
        assert_eq!(f.totals.buy_premium, 2_000.0);
        assert_eq!(f.totals.sell_premium, 600.0);
        assert_eq!(f.totals.net_premium(), 1_400.0);
        assert_eq!(f.totals.net_volume(), 0.5);
        assert_eq!((f.totals.block_trades, f.totals.block_volume), (1, 2.0));
        assert_eq!(f.expiries.len(), 2);
        assert_eq!(f.strikes[0].0, 90_000.0);
        assert_eq!(f.strikes[0].1.call_net_premium, 2_000.0);
        assert_eq!(f.strikes[0].1.put_net_premium, -500.0);
        assert_eq!(f.strikes[1].1.call_net_volume, -0.5);
        // From the first trade's bucket to the last's, not the whole window.
        assert_eq!(f.buckets.len(), 2);
        assert_eq!(f.buckets[0], (0, 2_000.0, 2.0));
        assert_eq!(f.buckets[1], (2_000, -500.0 - 100.0, 0.0));
        let far = Selection {
            to: i64::MAX / 2,
            ..sel.clone()
        };
        let wide = flow(&tape, &far).unwrap().buckets;
        assert_eq!(wide.len(), 46, "to the bucket of the trade at 90 s");
        assert!(wide[2..45].iter().all(|b| *b == (b.0, 0.0, 0.0)));
        assert_eq!(wide[45], (90_000, 300.0, 0.0));
        // A minimum notional leaves out the small trades (0.5 × 100,000 = 50,000).
        let big = flow(
            &tape,
            &Selection {
                min_notional: Some(60_000.0),
                ..sel.clone()
            },
        )
        .unwrap();
        assert_eq!(big.totals.trades, 2);
        let one = flow(
            &tape,
            &Selection {
                expiries: vec![Expiry::parse("25JUN27").unwrap()],
                ..sel
            },
        )
        .unwrap();
        assert_eq!(one.totals.trades, 1);
        // A span of trades cut too finely is refused, however narrow the window asked.
        tape.push(trade(
            4,
            200_000,
            90_000.0,
            OptionType::Put,
            Side::Buy,
            1.0,
            1.0,
            false,
        ));
        let fine = Selection {
            to: i64::MAX / 2,
            bucket_ms: Some(1),
            ..far
        };
        assert_eq!(flow(&tape, &fine).unwrap_err(), TooManyBuckets(199_001));
    }
}
