//! `OPTIONS.QUERY`: the filter, sort and page that run inside Redis.

use std::cmp::Ordering;

use options_core::{Column, Derived, Expiry, OptionType, Settle};

use crate::args::{self, ArgCursor, ArgResult, OutputOptions};
use crate::chain::{Chain, Contract};

const COMMAND: &str = "OPTIONS.QUERY";

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    /// Sorted, without duplicates. Empty: every expiry.
    pub expiries: Vec<Expiry>,
    pub kind: Option<OptionType>,
    pub strike: Option<f64>,
    pub strike_min: Option<f64>,
    pub strike_max: Option<f64>,
    pub settle: Option<Settle>,
    pub sort: Option<(Column, bool)>,
    pub offset: usize,
    pub count: Option<usize>,
    pub output: OutputOptions,
    /// `FORMAT SEED`: rows shaped like the replaced Python system's `/api/options/{asset}`.
    pub seed: bool,
}

const KEYWORDS: [&str; 11] = [
    "EXPIRY",
    "TYPE",
    "STRIKE",
    "STRIKE_MIN",
    "STRIKE_MAX",
    "SETTLE",
    "SORTBY",
    "LIMIT",
    "FIELDS",
    "FORMAT",
    "ASC",
];

fn is_keyword(s: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(s)) || s.eq_ignore_ascii_case("DESC")
}

impl Query {
    /// Parses the arguments after the key.
    pub fn parse(argv: &[&str]) -> ArgResult<Query> {
        let mut q = Query::default();
        let mut cur = ArgCursor::new(argv);
        while let Some(kw) = cur.next() {
            let is = |k: &str| kw.eq_ignore_ascii_case(k);
            if is("EXPIRY") {
                let first = cur.value_for("EXPIRY", "at least one expiry")?;
                q.expiries.push(args::parse_expiry(first)?);
                // EXPIRY e1 e2 …: take expiries until the next keyword.
                while let Some(next) = cur.peek() {
                    if is_keyword(next) {
                        break;
                    }
                    q.expiries.push(args::parse_expiry(next)?);
                    cur.next();
                }
            } else if is("TYPE") {
                q.kind = Some(args::parse_type(cur.value_for("TYPE", "CALL or PUT")?)?);
            } else if is("STRIKE") {
                q.strike = Some(args::parse_f64(
                    "STRIKE",
                    cur.value_for("STRIKE", "a strike")?,
                )?);
            } else if is("STRIKE_MIN") {
                q.strike_min = Some(args::parse_f64(
                    "STRIKE_MIN",
                    cur.value_for("STRIKE_MIN", "a strike")?,
                )?);
            } else if is("STRIKE_MAX") {
                q.strike_max = Some(args::parse_f64(
                    "STRIKE_MAX",
                    cur.value_for("STRIKE_MAX", "a strike")?,
                )?);
            } else if is("SETTLE") {
                q.settle = Some(args::parse_settle(cur.value_for("SETTLE", Settle::NAMES)?)?);
            } else if is("SORTBY") {
                let col = args::parse_column(cur.value_for("SORTBY", "a field")?)?;
                let mut desc = false;
                if let Some(dir) = cur.peek() {
                    if dir.eq_ignore_ascii_case("DESC") {
                        desc = true;
                        cur.next();
                    } else if dir.eq_ignore_ascii_case("ASC") {
                        cur.next();
                    }
                }
                q.sort = Some((col, desc));
            } else if is("LIMIT") {
                q.offset = args::parse_count(
                    "LIMIT offset",
                    cur.value_for("LIMIT", "an offset and a count")?,
                )?;
                q.count = Some(args::parse_count(
                    "LIMIT count",
                    cur.value_for("LIMIT", "an offset and a count")?,
                )?);
            } else if is("FORMAT") && cur.peek().is_some_and(|f| f.eq_ignore_ascii_case("SEED")) {
                cur.next();
                q.seed = true;
                q.output.format = crate::args::Format::Json;
            } else if !q.output.try_parse(kw, &mut cur)? {
                return Err(args::unknown_keyword(kw, COMMAND));
            }
        }
        q.expiries.sort();
        q.expiries.dedup();
        Ok(q)
    }

    fn matches(&self, c: &Contract) -> bool {
        self.kind.is_none_or(|k| c.kind == k)
            && self.settle.is_none_or(|s| c.settle == s)
            && self.strike.is_none_or(|s| c.strike == s)
            && self.strike_min.is_none_or(|s| c.strike >= s)
            && self.strike_max.is_none_or(|s| c.strike <= s)
    }

    /// Runs the query: the number of matching live contracts, and the requested page of them.
    pub fn run<'c>(&self, chain: &'c Chain, now_ms: i64) -> (usize, Vec<&'c Contract>) {
        let mut rows: Vec<&Contract> = if self.expiries.is_empty() {
            chain.contracts().filter(|c| self.matches(c)).collect()
        } else {
            self.expiries
                .iter()
                .flat_map(|e| chain.expiry_slice(*e).iter())
                .filter(|c| self.matches(c))
                .collect()
        };
        rows.retain(|c| c.is_live(now_ms));
        if let Some((col, desc)) = self.sort {
            // Stable: ties keep chain order. Missing values go last in both directions.
            rows.sort_by(|a, b| compare_by(col, a, b, desc));
        }
        let total = rows.len();
        let start = self.offset.min(total);
        let end = match self.count {
            Some(n) => start.saturating_add(n).min(total),
            None => total,
        };
        rows.truncate(end);
        rows.drain(..start);
        (total, rows)
    }
}

fn compare_by(col: Column, a: &Contract, b: &Contract, desc: bool) -> Ordering {
    let dir = |o: Ordering| if desc { o.reverse() } else { o };
    match col {
        Column::Value(f) => match (a.get(f), b.get(f)) {
            (Some(x), Some(y)) => dir(x.total_cmp(&y)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        },
        Column::Derived(d) => dir(match d {
            Derived::Symbol => a.symbol.cmp(&b.symbol),
            Derived::Underlying => Ordering::Equal,
            Derived::Expiry | Derived::ExpiryTs => a.expiry.cmp(&b.expiry),
            Derived::Strike => a.strike.total_cmp(&b.strike),
            Derived::Type => a.kind.cmp(&b.kind),
            Derived::Settle => a.settle.cmp(&b.settle),
            Derived::UpdatedMs => a.updated_ms.cmp(&b.updated_ms),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Format;
    use crate::chain::Update;
    use options_core::{parse_symbol, Field};

    fn chain() -> Chain {
        let mut c = Chain::new("BTC", 0);
        for (i, s) in [
            "BTC-26DEC25-90000-C",
            "BTC-26DEC25-90000-P",
            "BTC-26DEC25-100000-C",
            "BTC-26DEC25-100000-P-USDT",
            "BTC-27MAR26-100000-C",
        ]
        .iter()
        .enumerate()
        {
            let mut values = vec![(Field::MarkPrice, 100.0 * (i + 1) as f64)];
            if i != 2 {
                values.push((Field::Volume24h, (10 - i) as f64));
            }
            c.upsert(
                &parse_symbol(s).unwrap(),
                &Update {
                    values,
                    updated_ms: 1,
                },
            );
        }
        c
    }

    fn symbols(rows: &[&Contract]) -> Vec<String> {
        rows.iter().map(|c| c.symbol.to_string()).collect()
    }

    #[test]
    fn parses_everything_case_insensitively() {
        let q = Query::parse(&[
            "expiry",
            "3sep25",
            "2025-12-26",
            "type",
            "put",
            "strike_min",
            "1",
            "strike_max",
            "2.5",
            "settle",
            "usdt",
            "sortby",
            "volume24h",
            "desc",
            "limit",
            "5",
            "10",
            "fields",
            "2",
            "delta",
            "MARK_IV",
            "format",
            "json",
        ])
        .unwrap();
        assert_eq!(q.expiries.len(), 2);
        assert!(q.expiries[0] < q.expiries[1]);
        assert_eq!(q.kind, Some(OptionType::Put));
        assert_eq!(q.settle, Some(Settle::Usdt));
        assert_eq!(q.sort, Some((Column::Value(Field::Volume24h), true)));
        assert_eq!((q.offset, q.count), (5, Some(10)));
        assert_eq!(q.output.fields.as_ref().unwrap().len(), 3);
        assert_eq!(q.output.format, Format::Json);
    }

    #[test]
    fn errors_name_the_argument() {
        let cases: &[(&[&str], &str)] = &[
            (&["EXPIRY"], "EXPIRY needs"),
            (&["EXPIRY", "31FEB25"], "invalid expiry '31FEB25'"),
            (&["TYPE", "straddle"], "TYPE must be CALL or PUT"),
            (&["STRIKE", "abc"], "STRIKE must be a number"),
            (&["LIMIT", "1"], "LIMIT needs"),
            (&["LIMIT", "-1", "5"], "LIMIT offset must be"),
            (&["SORTBY", "colour"], "unknown field 'colour'"),
            (&["FIELDS", "0"], "FIELDS count"),
            (&["FIELDS", "2", "delta"], "FIELDS needs"),
            (&["FORMAT", "xml"], "FORMAT must be RESP or JSON"),
            (&["BOGUS"], "unknown argument 'BOGUS'"),
            (&["SETTLE", "eur"], "SETTLE must be"),
        ];
        for (argv, want) in cases {
            let err = Query::parse(argv).unwrap_err();
            assert!(err.starts_with("ERR "), "{err}");
            assert!(err.contains(want), "{argv:?}: {err}");
        }
    }

    #[test]
    fn filters_sorts_and_pages() {
        let c = chain();
        let q = Query::parse(&["EXPIRY", "26DEC25", "TYPE", "CALL"]).unwrap();
        let (total, rows) = q.run(&c, 0);
        assert_eq!(total, 2);
        assert_eq!(
            symbols(&rows),
            ["BTC-26DEC25-90000-C", "BTC-26DEC25-100000-C"]
        );

        let q = Query::parse(&["SORTBY", "volume_24h", "DESC", "LIMIT", "1", "2"]).unwrap();
        let (total, rows) = q.run(&c, 0);
        assert_eq!(total, 5);
        assert_eq!(
            symbols(&rows),
            ["BTC-26DEC25-90000-P", "BTC-26DEC25-100000-P-USDT"]
        );

        // the contract without volume sorts last ascending too
        let q = Query::parse(&["SORTBY", "volume_24h", "ASC"]).unwrap();
        let (_, rows) = q.run(&c, 0);
        assert_eq!(&*rows[4].symbol, "BTC-26DEC25-100000-C");

        let q = Query::parse(&["STRIKE", "100000", "SETTLE", "USDT"]).unwrap();
        assert_eq!(symbols(&q.run(&c, 0).1), ["BTC-26DEC25-100000-P-USDT"]);

        let q = Query::parse(&["LIMIT", "10", "5"]).unwrap();
        let (total, rows) = q.run(&c, 0);
        assert_eq!((total, rows.len()), (5, 0));

        // expired contracts are not answered
        let after_dec = Expiry::parse("26DEC25").unwrap().timestamp_ms();
        let (total, rows) = Query::default().run(&c, after_dec);
        assert_eq!(total, 1);
        assert_eq!(&*rows[0].symbol, "BTC-27MAR26-100000-C");
    }
}
