//! Rows out: JSON text written straight into one buffer (the web server forwards it without
//! decoding), or RESP arrays of `field value` pairs like `HGETALL`.
//!
//! A value the exchange never sent is `null` in JSON and a nil bulk string in RESP, so every row
//! has the same columns in the same order.

use options_core::{write_number, Column, Derived, Expiry};
use redis_module::RedisValue;

use crate::chain::{Chain, Contract};
use crate::stats;

const MONTHS: [&[u8; 3]; 12] = [
    b"JAN", b"FEB", b"MAR", b"APR", b"MAY", b"JUN", b"JUL", b"AUG", b"SEP", b"OCT", b"NOV", b"DEC",
];

/// `"3SEP25"` without allocating (this runs for every row of every reply).
fn json_expiry(out: &mut Vec<u8>, e: Expiry) {
    out.push(b'"');
    if e.day() >= 10 {
        out.push(b'0' + e.day() / 10);
    }
    out.push(b'0' + e.day() % 10);
    out.extend_from_slice(MONTHS[e.month() as usize - 1]);
    let yy = (e.year() % 100) as u8;
    out.push(b'0' + yy / 10);
    out.push(b'0' + yy % 10);
    out.push(b'"');
}

/// Strings that are known to need no escaping (symbols, names, enums).
fn json_plain(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        json_str(out, s);
    }
}

pub fn json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0..=0x1f => {
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

fn json_int(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

pub fn json_key(out: &mut Vec<u8>, key: &str) {
    json_plain(out, key);
    out.push(b':');
}

/// Appends one cell's JSON value.
fn json_cell(out: &mut Vec<u8>, c: &Contract, underlying: &str, col: Column) {
    match col {
        Column::Value(f) => match c.get(f) {
            Some(v) => write_number(out, v),
            None => out.extend_from_slice(b"null"),
        },
        Column::Derived(d) => match d {
            Derived::Symbol => json_plain(out, &c.symbol),
            Derived::Underlying => json_plain(out, underlying),
            Derived::Expiry => json_expiry(out, c.expiry),
            Derived::ExpiryTs => json_int(out, c.expiry_ts()),
            Derived::Strike => write_number(out, c.strike),
            Derived::Type => json_str(out, c.kind.as_str()),
            Derived::Settle => json_str(out, c.settle.as_str()),
            Derived::UpdatedMs => json_int(out, c.updated_ms),
        },
    }
}

/// Appends one row as a JSON object with `columns`, or every column when `None` (served from
/// the contract's cached rendering, made here on first use).
pub fn json_row(out: &mut Vec<u8>, chain: &Chain, c: &Contract, columns: Option<&[Column]>) {
    match columns {
        Some(_) => render_row(out, c, &chain.underlying, columns),
        None => out.extend_from_slice(cached_row(chain, c)),
    }
}

fn cached_row<'a>(chain: &Chain, c: &'a Contract) -> &'a [u8] {
    cached(chain, &c.json, |buf| {
        render_row(buf, c, &chain.underlying, None)
    })
}

/// A rendering kept in `cell` until the contract changes; made here on first use.
fn cached<'a>(
    chain: &Chain,
    cell: &'a std::cell::OnceCell<Box<[u8]>>,
    render: impl FnOnce(&mut Vec<u8>),
) -> &'a [u8] {
    if let Some(row) = cell.get() {
        return row;
    }
    let mut buf = Vec::with_capacity(1024);
    render(&mut buf);
    let row = cell.get_or_init(|| buf.into_boxed_slice());
    chain.note_cached(row.len());
    stats::add_memory(row.len() as i64);
    row
}

/// The seed-shaped row, from the contract's cache.
pub fn seed_row_cached(out: &mut Vec<u8>, chain: &Chain, c: &Contract) {
    out.extend_from_slice(cached(chain, &c.seed, |buf| seed_row(buf, c)));
}

/// Renders one row without the cache.
pub fn render_row(out: &mut Vec<u8>, c: &Contract, underlying: &str, columns: Option<&[Column]>) {
    out.push(b'{');
    let mut first = true;
    let mut cell = |out: &mut Vec<u8>, col: Column| {
        if !first {
            out.push(b',');
        }
        first = false;
        json_key(out, col.name());
        json_cell(out, c, underlying, col);
    };
    match columns {
        Some(cols) => cols.iter().for_each(|col| cell(out, *col)),
        None => Column::all().for_each(|col| cell(out, col)),
    }
    out.push(b'}');
}

/// Appends a JSON array of rows.
pub fn json_rows(out: &mut Vec<u8>, chain: &Chain, rows: &[&Contract], columns: Option<&[Column]>) {
    out.push(b'[');
    for (i, c) in rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json_row(out, chain, c, columns);
    }
    out.push(b']');
}

/// The seed's numeric row columns: (name in the seed's JSON, field).
const SEED_COLUMNS: [(&str, options_core::Field); 11] = {
    use options_core::Field::*;
    [
        ("last_price", LastPrice),
        ("mark_price", MarkPrice),
        ("volume_24h", Volume24h),
        ("open_interest", OpenInterest),
        ("delta", Delta),
        ("gamma", Gamma),
        ("theta", Theta),
        ("vega", Vega),
        ("iv", MarkIv),
        ("underlying", UnderlyingPrice),
        ("index_price", IndexPrice),
    ]
};

/// One row as the seed's web app wrote it: `symbol`, padded `expiry`, `strike` as text,
/// `type` `Call`/`Put`, then floats in Python's spelling (`100000.0`), 0.0 when missing.
pub fn seed_row(out: &mut Vec<u8>, c: &Contract) {
    out.extend_from_slice(b"{\"symbol\":");
    json_plain(out, &c.symbol);
    out.extend_from_slice(b",\"expiry\":");
    json_plain(out, &c.expiry.padded());
    out.extend_from_slice(b",\"strike\":");
    json_plain(out, c.strike_text());
    out.extend_from_slice(match c.kind {
        options_core::OptionType::Call => b",\"type\":\"Call\"".as_slice(),
        options_core::OptionType::Put => b",\"type\":\"Put\"".as_slice(),
    });
    for (name, f) in SEED_COLUMNS {
        out.push(b',');
        json_key(out, name);
        out.extend_from_slice(options_core::python_float(c.get(f).unwrap_or(0.0)).as_bytes());
    }
    out.push(b'}');
}

fn resp_cell(c: &Contract, underlying: &str, col: Column) -> RedisValue {
    let text = match col {
        Column::Value(f) => match c.get(f) {
            Some(v) => options_core::format_number(v),
            None => return RedisValue::Null,
        },
        Column::Derived(d) => match d {
            Derived::Symbol => c.symbol.to_string(),
            Derived::Underlying => underlying.to_string(),
            Derived::Expiry => c.expiry.code(),
            Derived::ExpiryTs => c.expiry_ts().to_string(),
            Derived::Strike => options_core::format_number(c.strike),
            Derived::Type => c.kind.as_str().to_string(),
            Derived::Settle => c.settle.as_str().to_string(),
            Derived::UpdatedMs => c.updated_ms.to_string(),
        },
    };
    RedisValue::BulkString(text)
}

/// One row as a flat RESP array: `field value field value …`.
pub fn resp_row(c: &Contract, underlying: &str, columns: Option<&[Column]>) -> RedisValue {
    let mut out = Vec::with_capacity(64);
    let mut cell = |col: Column| {
        out.push(RedisValue::SimpleStringStatic(col.name()));
        out.push(resp_cell(c, underlying, col));
    };
    match columns {
        Some(cols) => cols.iter().for_each(|col| cell(*col)),
        None => Column::all().for_each(cell),
    }
    RedisValue::Array(out)
}

pub fn resp_rows(rows: &[&Contract], underlying: &str, columns: Option<&[Column]>) -> RedisValue {
    RedisValue::Array(
        rows.iter()
            .map(|c| resp_row(c, underlying, columns))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{Chain, Update};
    use options_core::{parse_symbol, Field};

    #[test]
    fn json_row_is_valid_and_complete() {
        let mut chain = Chain::new("XRP", 0);
        let s = parse_symbol("XRP-28NOV26-2.35-C-USDT").unwrap();
        chain.upsert(
            &s,
            &Update {
                values: vec![(Field::MarkPrice, 0.1234), (Field::Delta, -1e-9)],
                updated_ms: 42,
            },
        );
        let mut out = Vec::new();
        render_row(&mut out, chain.get(&s).unwrap(), "XRP", None);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(
            r#"{"symbol":"XRP-28NOV26-2.35-C-USDT","underlying":"XRP","expiry":"28NOV26","expiry_ts":"#
        ));
        assert!(text.contains(r#""strike":2.35,"type":"call","settle":"USDT","bid_price":null"#));
        assert!(text.contains(r#""mark_price":0.1234"#));
        assert!(text.contains(r#""delta":-1e-9"#));
        assert!(text.ends_with(r#""updated_ms":42}"#));
    }

    #[test]
    fn escapes_strings() {
        let mut out = Vec::new();
        json_str(&mut out, "a\"b\\c\n");
        assert_eq!(out, br#""a\"b\\c\u000a""#);
    }
}

/// A reply as a value: what a command computed, before it is written as RESP or as JSON. One
/// encoder for both, so the two shapes of a command cannot drift apart.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Null,
    Int(i64),
    /// A number: JSON number text, a RESP bulk string with the same text (as `OPTIONS.CHAIN`).
    Num(f64),
    Text(String),
    Array(Vec<Reply>),
    /// Named fields in order: a JSON object, a flat RESP array of name, value, … (as `HGETALL`).
    Map(Vec<(&'static str, Reply)>),
}

impl Reply {
    pub fn number(v: Option<f64>) -> Reply {
        v.map_or(Reply::Null, Reply::Num)
    }

    pub fn text(s: impl Into<String>) -> Reply {
        Reply::Text(s.into())
    }

    pub fn render(self, format: crate::args::Format) -> RedisValue {
        match format {
            crate::args::Format::Resp => self.into_resp(),
            crate::args::Format::Json => {
                let mut out = Vec::with_capacity(1024);
                self.write_json(&mut out);
                RedisValue::StringBuffer(out)
            }
        }
    }

    pub fn into_resp(self) -> RedisValue {
        match self {
            Reply::Null => RedisValue::Null,
            Reply::Int(v) => RedisValue::Integer(v),
            Reply::Num(v) => RedisValue::BulkString(options_core::format_number(v)),
            Reply::Text(s) => RedisValue::BulkString(s),
            Reply::Array(items) => {
                RedisValue::Array(items.into_iter().map(Reply::into_resp).collect())
            }
            Reply::Map(fields) => RedisValue::Array(
                fields
                    .into_iter()
                    .flat_map(|(k, v)| [RedisValue::BulkString(k.into()), v.into_resp()])
                    .collect(),
            ),
        }
    }

    /// JSON text; a number that is not finite (never produced from finite inputs) is `null`.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Reply::Null => out.extend_from_slice(b"null"),
            Reply::Int(v) => json_int(out, *v),
            Reply::Num(v) => write_number(out, *v),
            Reply::Text(s) => json_str(out, s),
            Reply::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write_json(out);
                }
                out.push(b']');
            }
            Reply::Map(fields) => {
                out.push(b'{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    json_key(out, k);
                    v.write_json(out);
                }
                out.push(b'}');
            }
        }
    }
}

#[cfg(test)]
mod reply_tests {
    use super::*;

    #[test]
    fn one_value_written_as_json_and_as_resp() {
        let r = Reply::Map(vec![
            ("a", Reply::Num(0.5)),
            ("b", Reply::Null),
            ("c", Reply::Array(vec![Reply::Int(-3), Reply::text("x\"y")])),
            ("d", Reply::Num(f64::NAN)),
        ]);
        let mut out = Vec::new();
        r.write_json(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":0.5,"b":null,"c":[-3,"x\"y"],"d":null}"#
        );
        let RedisValue::Array(flat) = r.into_resp() else {
            panic!("a map is a flat array")
        };
        assert_eq!(flat.len(), 8);
        assert!(matches!(&flat[1], RedisValue::BulkString(s) if s == "0.5"));
        assert!(matches!(flat[3], RedisValue::Null));
    }
}
