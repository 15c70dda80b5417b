//! The one reply encoder. A command computes a [`Reply`] (a value that may borrow rows from the
//! chain) and this file writes it in the form the caller asked for: JSON text, RESP2 (flat
//! `name value …` arrays, numbers as bulk strings, as `HGETALL` answers) or RESP3 (ordered
//! maps, numbers as doubles, as RedisJSON and RedisTimeSeries answer under `HELLO 3`).
//!
//! Invariants:
//! - RESP2 bytes are what the module has always sent; clients written for it keep working.
//! - A map keeps its field order in every form (the raw `ReplyWithMap`, not the crate's
//!   hash-map values, which lose it).
//! - The whole value is computed before the first byte is written, so an error or a panic in a
//!   command cannot leave half a reply on the connection.
//! - A number that is not finite (never produced from finite inputs) is null in every form.

use std::borrow::Cow;
use std::ffi::CString;
use std::sync::OnceLock;

use options_core::{format_number, Column, Derived, DERIVED, FIELDS};

use crate::args::Format;
use crate::chain::{Chain, Contract};
use crate::render;

/// A reply as a value: what a command computed, before it is written.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply<'a> {
    Null,
    Int(i64),
    Bool(bool),
    /// A number: JSON number text; a RESP2 bulk string with the same text; a RESP3 double.
    Num(f64),
    /// A number with the spelling it was listed with (a strike as its symbol writes it): RESP2
    /// sends the spelling, JSON and RESP3 the number.
    Listed(f64, &'a str),
    Text(Cow<'a, str>),
    Array(Vec<Reply<'a>>),
    /// Named fields in order: a JSON object, a flat RESP2 array of name, value, …, a RESP3 map.
    Map(Vec<(&'static str, Reply<'a>)>),
    /// One contract's row, written from the chain (JSON from the row cache).
    Row(Row<'a>),
    /// A time series: `[[ts, v, …], …]`, in two allocations however long (a month of one
    /// history metric is 43,200 points).
    Points(Points),
}

/// Rows of a time and a fixed number of optional values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Points {
    width: usize,
    times: Vec<i64>,
    values: Vec<Option<f64>>,
}

impl Points {
    /// `width` values per time.
    pub fn with_capacity(width: usize, len: usize) -> Self {
        Points {
            width,
            times: Vec::with_capacity(len),
            values: Vec::with_capacity(len * width),
        }
    }

    /// One row; `values` beyond the width are ignored, missing ones are null.
    pub fn push(&mut self, ts: i64, values: impl IntoIterator<Item = Option<f64>>) {
        self.times.push(ts);
        let start = self.values.len();
        self.values.extend(values.into_iter().take(self.width));
        self.values.resize(start + self.width, None);
    }

    fn rows(&self) -> impl Iterator<Item = (i64, &[Option<f64>])> {
        let width = self.width;
        self.times
            .iter()
            .enumerate()
            .map(move |(i, &ts)| (ts, &self.values[i * width..(i + 1) * width]))
    }
}

/// A contract's row and how it is shaped.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    pub chain: &'a Chain,
    pub contract: &'a Contract,
    /// `None`: every column, in the order a full row lists them.
    pub columns: Option<&'a [Column]>,
    /// The replaced Python system's row (`FORMAT SEED`, JSON only).
    pub seed: bool,
}

impl PartialEq for Row<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.contract, other.contract)
            && self.columns == other.columns
            && self.seed == other.seed
    }
}

impl<'a> Reply<'a> {
    pub fn number(v: Option<f64>) -> Reply<'a> {
        v.map_or(Reply::Null, Reply::Num)
    }

    pub fn text(s: impl Into<Cow<'a, str>>) -> Reply<'a> {
        Reply::Text(s.into())
    }

    pub fn count(n: usize) -> Reply<'a> {
        Reply::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }

    pub fn row(chain: &'a Chain, contract: &'a Contract, columns: Option<&'a [Column]>) -> Self {
        Reply::Row(Row {
            chain,
            contract,
            columns,
            seed: false,
        })
    }

    /// A list of texts.
    pub fn texts<S: Into<Cow<'a, str>>>(items: impl IntoIterator<Item = S>) -> Reply<'a> {
        Reply::Array(items.into_iter().map(Reply::text).collect())
    }

    /// JSON text.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.json_size_hint());
        self.write_json(&mut out);
        out
    }

    fn json_size_hint(&self) -> usize {
        match self {
            Reply::Array(items) => 2 + items.iter().map(Reply::json_size_hint).sum::<usize>(),
            Reply::Map(fields) => {
                2 + fields
                    .iter()
                    .map(|(k, v)| k.len() + 4 + v.json_size_hint())
                    .sum::<usize>()
            }
            Reply::Row(_) => 720,
            Reply::Points(p) => 2 + p.times.len() * (16 + 20 * p.width),
            Reply::Text(s) => s.len() + 2,
            _ => 20,
        }
    }

    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Reply::Null => out.extend_from_slice(b"null"),
            Reply::Int(v) => out.extend_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
            Reply::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Reply::Num(v) | Reply::Listed(v, _) => options_core::write_number(out, *v),
            Reply::Text(s) => render::json_str(out, s),
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
                    render::json_key(out, k);
                    v.write_json(out);
                }
                out.push(b'}');
            }
            Reply::Row(r) if r.seed => render::seed_row_cached(out, r.chain, r.contract),
            Reply::Row(r) => render::json_row(out, r.chain, r.contract, r.columns),
            Reply::Points(p) => {
                out.push(b'[');
                for (i, (ts, values)) in p.rows().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.push(b'[');
                    out.extend_from_slice(itoa::Buffer::new().format(ts).as_bytes());
                    for v in values {
                        out.push(b',');
                        match v {
                            Some(v) => options_core::write_number(out, *v),
                            None => out.extend_from_slice(b"null"),
                        }
                    }
                    out.push(b']');
                }
                out.push(b']');
            }
        }
    }

    /// Writes the reply as RESP into `sink` (RESP2 or RESP3, as the sink's client speaks).
    pub fn write_resp(&self, sink: &mut impl RespSink) {
        match self {
            Reply::Null => sink.null(),
            Reply::Int(v) => sink.int(*v),
            Reply::Bool(b) => sink.bool(*b),
            Reply::Num(v) => resp_number(sink, *v),
            Reply::Listed(v, _) if sink.resp3() => resp_number(sink, *v),
            Reply::Listed(_, text) => sink.bulk(text.as_bytes()),
            Reply::Text(s) => sink.bulk(s.as_bytes()),
            Reply::Array(items) => {
                sink.array(items.len());
                items.iter().for_each(|item| item.write_resp(sink));
            }
            Reply::Map(fields) => {
                sink.map(fields.len());
                for (k, v) in fields {
                    sink.bulk(k.as_bytes());
                    v.write_resp(sink);
                }
            }
            Reply::Row(r) => resp_row(sink, r),
            Reply::Points(p) => {
                sink.array(p.times.len());
                for (ts, values) in p.rows() {
                    sink.array(1 + values.len());
                    sink.int(ts);
                    for v in values {
                        match v {
                            Some(v) => resp_number(sink, *v),
                            None => sink.null(),
                        }
                    }
                }
            }
        }
    }

    /// Sends the reply to the calling client in `format`. RESP is written straight into
    /// Redis's reply buffer, so the handler answers `NoReply` to the crate.
    pub fn send(self, ctx: &redis_module::Context, format: Format) -> redis_module::RedisResult {
        use redis_module::RedisValue;
        match format {
            Format::Json => Ok(RedisValue::StringBuffer(self.to_json())),
            Format::Resp => {
                self.write_resp(&mut ClientSink::new(ctx));
                Ok(RedisValue::NoReply)
            }
        }
    }
}

fn resp_number(sink: &mut impl RespSink, v: f64) {
    if !v.is_finite() {
        sink.null();
    } else if sink.resp3() {
        sink.double(v);
    } else {
        sink.bulk(format_number(v).as_bytes());
    }
}

/// A row's cells: under RESP2 every cell a bulk string (the text JSON would carry), under RESP3
/// numbers as doubles and times as integers. Names are simple strings in both.
fn resp_row(sink: &mut impl RespSink, r: &Row<'_>) {
    match r.columns {
        Some(cols) => {
            sink.map(cols.len());
            cols.iter().for_each(|col| resp_cell(sink, r, *col));
        }
        None => {
            sink.map(Column::all().count());
            Column::all().for_each(|col| resp_cell(sink, r, col));
        }
    }
}

fn resp_cell(sink: &mut impl RespSink, r: &Row<'_>, col: Column) {
    let c = r.contract;
    sink_name(sink, col);
    match col {
        Column::Value(f) => match c.get(f) {
            Some(v) => resp_number(sink, v),
            None => sink.null(),
        },
        Column::Derived(d) => match d {
            Derived::Symbol => sink.bulk(c.symbol.as_bytes()),
            Derived::Underlying => sink.bulk(r.chain.underlying.as_bytes()),
            Derived::Expiry => sink.bulk(c.expiry.code().as_bytes()),
            Derived::ExpiryTs => resp_time(sink, c.expiry_ts()),
            Derived::Strike => resp_number(sink, c.strike),
            Derived::Type => sink.bulk(c.kind.as_str().as_bytes()),
            Derived::Settle => sink.bulk(c.settle.as_str().as_bytes()),
            Derived::UpdatedMs => resp_time(sink, c.updated_ms),
        },
    }
}

fn resp_time(sink: &mut impl RespSink, ms: i64) {
    if sink.resp3() {
        sink.int(ms);
    } else {
        sink.bulk(itoa::Buffer::new().format(ms).as_bytes());
    }
}

/// Column names as C strings, made once: rows name every cell, and Redis's simple-string
/// reply takes a NUL-terminated name.
fn sink_name(sink: &mut impl RespSink, col: Column) {
    static NAMES: OnceLock<(Vec<CString>, Vec<CString>)> = OnceLock::new();
    let (derived, values) = NAMES.get_or_init(|| {
        let c = |s: &str| CString::new(s).unwrap_or_default();
        (
            DERIVED.iter().map(|d| c(d.name())).collect(),
            FIELDS.iter().map(|f| c(f.name())).collect(),
        )
    });
    let name = match col {
        Column::Derived(d) => DERIVED.iter().position(|x| *x == d).map(|i| &derived[i]),
        Column::Value(f) => values.get(f.index()),
    };
    match name {
        Some(name) => sink.simple(name),
        None => sink.bulk(col.name().as_bytes()),
    }
}

/// Where RESP goes: the calling client's reply buffer, or bytes in a test.
pub trait RespSink {
    /// Whether the client speaks RESP3 (`HELLO 3`).
    fn resp3(&self) -> bool;
    fn array(&mut self, len: usize);
    /// A map of `len` pairs: under RESP2 an array of `2 × len`.
    fn map(&mut self, len: usize);
    fn null(&mut self);
    fn int(&mut self, v: i64);
    /// RESP2: an integer 0/1.
    fn bool(&mut self, v: bool);
    /// Called under RESP3 only.
    fn double(&mut self, v: f64);
    fn bulk(&mut self, s: &[u8]);
    fn simple(&mut self, s: &std::ffi::CStr);
}

/// RESP as bytes, as Redis would write them; for tests and fuzzing.
pub struct BytesSink {
    pub out: Vec<u8>,
    pub resp3: bool,
}

impl BytesSink {
    pub fn new(resp3: bool) -> Self {
        BytesSink {
            out: Vec::new(),
            resp3,
        }
    }

    fn header(&mut self, kind: u8, n: usize) {
        self.out.push(kind);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }
}

impl RespSink for BytesSink {
    fn resp3(&self) -> bool {
        self.resp3
    }
    fn array(&mut self, len: usize) {
        self.header(b'*', len);
    }
    fn map(&mut self, len: usize) {
        if self.resp3 {
            self.header(b'%', len);
        } else {
            self.header(b'*', 2 * len);
        }
    }
    fn null(&mut self) {
        self.out
            .extend_from_slice(if self.resp3 { b"_\r\n" } else { b"$-1\r\n" });
    }
    fn int(&mut self, v: i64) {
        self.out.push(b':');
        self.out
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }
    fn bool(&mut self, v: bool) {
        if self.resp3 {
            self.out
                .extend_from_slice(if v { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(i64::from(v));
        }
    }
    fn double(&mut self, v: f64) {
        self.out.push(b',');
        self.out.extend_from_slice(format_number(v).as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }
    fn bulk(&mut self, s: &[u8]) {
        self.header(b'$', s.len());
        self.out.extend_from_slice(s);
        self.out.extend_from_slice(b"\r\n");
    }
    fn simple(&mut self, s: &std::ffi::CStr) {
        self.out.push(b'+');
        self.out.extend_from_slice(s.to_bytes());
        self.out.extend_from_slice(b"\r\n");
    }
}

/// The calling client's reply buffer, through Redis's `RedisModule_ReplyWith*` calls.
pub struct ClientSink {
    ctx: *mut redis_module::raw::RedisModuleCtx,
    resp3: bool,
    /// `RedisModule_ReplyWithMap` and `…WithBool` arrived in Redis 7.0. On 6.2 a RESP3 client
    /// gets what a RESP2 client gets for maps and booleans (flat arrays, 0/1).
    has_map: bool,
    has_bool: bool,
}

impl ClientSink {
    pub fn new(ctx: &redis_module::Context) -> Self {
        use redis_module::{raw, ContextFlags};
        ClientSink {
            ctx: ctx.ctx,
            resp3: ctx.get_flags().contains(ContextFlags::FLAGS_RESP3),
            // SAFETY: reading the function-pointer tables Redis filled in when the module
            // loaded; nothing writes them afterwards.
            has_map: unsafe { (*std::ptr::addr_of!(raw::RedisModule_ReplyWithMap)).is_some() },
            has_bool: unsafe { (*std::ptr::addr_of!(raw::RedisModule_ReplyWithBool)).is_some() },
        }
    }
}

impl RespSink for ClientSink {
    fn resp3(&self) -> bool {
        self.resp3
    }
    fn array(&mut self, len: usize) {
        redis_module::raw::reply_with_array(self.ctx, len as std::os::raw::c_long);
    }
    fn map(&mut self, len: usize) {
        if self.has_map {
            redis_module::raw::reply_with_map(self.ctx, len as std::os::raw::c_long);
        } else {
            self.array(2 * len);
        }
    }
    fn null(&mut self) {
        redis_module::raw::reply_with_null(self.ctx);
    }
    fn int(&mut self, v: i64) {
        redis_module::raw::reply_with_long_long(self.ctx, v);
    }
    fn bool(&mut self, v: bool) {
        if self.resp3 && self.has_bool {
            redis_module::raw::reply_with_bool(self.ctx, i32::from(v));
        } else {
            self.int(i64::from(v));
        }
    }
    fn double(&mut self, v: f64) {
        redis_module::raw::reply_with_double(self.ctx, v);
    }
    fn bulk(&mut self, s: &[u8]) {
        redis_module::raw::reply_with_string_buffer(self.ctx, s.as_ptr().cast(), s.len());
    }
    fn simple(&mut self, s: &std::ffi::CStr) {
        redis_module::raw::reply_with_simple_string(self.ctx, s.as_ptr());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Update;
    use options_core::{parse_symbol, Field};

    fn resp(r: &Reply, resp3: bool) -> String {
        let mut sink = BytesSink::new(resp3);
        r.write_resp(&mut sink);
        String::from_utf8(sink.out).unwrap()
    }

    #[test]
    fn one_value_in_three_forms() {
        let r = Reply::Map(vec![
            ("a", Reply::Num(0.5)),
            ("b", Reply::Null),
            ("c", Reply::Array(vec![Reply::Int(-3), Reply::text("x\"y")])),
            ("d", Reply::Num(f64::NAN)),
            ("e", Reply::Bool(true)),
            ("f", Reply::Listed(2.5, "2.50")),
        ]);
        assert_eq!(
            String::from_utf8(r.to_json()).unwrap(),
            r#"{"a":0.5,"b":null,"c":[-3,"x\"y"],"d":null,"e":true,"f":2.5}"#
        );
        assert_eq!(
            resp(&r, false),
            "*12\r\n$1\r\na\r\n$3\r\n0.5\r\n$1\r\nb\r\n$-1\r\n$1\r\nc\r\n*2\r\n:-3\r\n$3\r\nx\"y\r\n\
             $1\r\nd\r\n$-1\r\n$1\r\ne\r\n:1\r\n$1\r\nf\r\n$4\r\n2.50\r\n"
        );
        assert_eq!(
            resp(&r, true),
            "%6\r\n$1\r\na\r\n,0.5\r\n$1\r\nb\r\n_\r\n$1\r\nc\r\n*2\r\n:-3\r\n$3\r\nx\"y\r\n\
             $1\r\nd\r\n_\r\n$1\r\ne\r\n#t\r\n$1\r\nf\r\n,2.5\r\n"
        );
    }

    #[test]
    fn rows_name_their_cells_and_type_them_under_resp3() {
        let mut chain = Chain::new("XRP", 0);
        let s = parse_symbol("XRP-28NOV26-2.35-C-USDT").unwrap();
        chain.upsert(
            &s,
            &Update {
                values: vec![(Field::MarkPrice, 0.1234)],
                updated_ms: 42,
            },
        );
        let c = chain.get(&s).unwrap();
        let cols = [
            Column::Derived(Derived::Symbol),
            Column::Derived(Derived::Strike),
            Column::Value(Field::MarkPrice),
            Column::Value(Field::Delta),
            Column::Derived(Derived::UpdatedMs),
        ];
        let row = Reply::row(&chain, c, Some(&cols));
        assert_eq!(
            resp(&row, false),
            "*10\r\n+symbol\r\n$23\r\nXRP-28NOV26-2.35-C-USDT\r\n+strike\r\n$4\r\n2.35\r\n\
             +mark_price\r\n$6\r\n0.1234\r\n+delta\r\n$-1\r\n+updated_ms\r\n$2\r\n42\r\n"
        );
        assert_eq!(
            resp(&row, true),
            "%5\r\n+symbol\r\n$23\r\nXRP-28NOV26-2.35-C-USDT\r\n+strike\r\n,2.35\r\n\
             +mark_price\r\n,0.1234\r\n+delta\r\n_\r\n+updated_ms\r\n:42\r\n"
        );
        assert_eq!(
            String::from_utf8(row.to_json()).unwrap(),
            r#"{"symbol":"XRP-28NOV26-2.35-C-USDT","strike":2.35,"mark_price":0.1234,"delta":null,"updated_ms":42}"#
        );
        let full = resp(&Reply::row(&chain, c, None), true);
        assert!(full.starts_with(&format!("%{}\r\n+symbol\r\n", Column::all().count())));
    }
}
