//! Rows as JSON text, written straight into one buffer (the web server forwards it without
//! decoding) and kept in each contract's row cache; `reply` writes every other form.
//!
//! A value the exchange never sent is `null` in JSON and a nil bulk string in RESP, so every row
//! has the same columns in the same order.

use options_core::{write_number, Column, Derived, Expiry};

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
