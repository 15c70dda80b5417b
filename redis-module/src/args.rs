//! Argument parsing shared by the commands: a cursor over the arguments, keyword matching
//! without regard to case, and the output options (`FIELDS`, `FORMAT`) several commands take.
//!
//! Every error is a complete Redis error message (`ERR …`) naming the bad argument, so a user
//! at `redis-cli` sees what to fix.

use options_core::{Column, Derived, Expiry, OptionType, Settle};

pub type ArgResult<T> = Result<T, String>;

/// Largest `LIMIT` offset or count accepted. Far above any chain; only stops absurd numbers
/// from turning into allocations.
pub const MAX_LIMIT: usize = 10_000_000;

pub struct ArgCursor<'a> {
    args: &'a [&'a str],
    pos: usize,
}

impl<'a> ArgCursor<'a> {
    pub fn new(args: &'a [&'a str]) -> Self {
        ArgCursor { args, pos: 0 }
    }

    pub fn peek(&self) -> Option<&'a str> {
        self.args.get(self.pos).copied()
    }

    pub fn is_done(&self) -> bool {
        self.pos >= self.args.len()
    }

    /// The next argument, or an error naming what `keyword` was missing.
    pub fn value_for(&mut self, keyword: &str, what: &str) -> ArgResult<&'a str> {
        self.next()
            .ok_or_else(|| format!("ERR {keyword} needs {what}"))
    }
}

impl<'a> Iterator for ArgCursor<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let a = self.peek()?;
        self.pos += 1;
        Some(a)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Resp,
    Json,
}

/// Options that shape rows: which columns, and RESP or JSON.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutputOptions {
    /// `None`: every column. `Some`: `symbol` followed by the requested columns.
    pub fields: Option<Vec<Column>>,
    pub format: Format,
}

impl OutputOptions {
    /// Consumes `FIELDS n f…` or `FORMAT RESP|JSON` when `keyword` is one of them; returns
    /// `Ok(false)` for other keywords so the caller can report them.
    pub fn try_parse(&mut self, keyword: &str, cur: &mut ArgCursor<'_>) -> ArgResult<bool> {
        if keyword.eq_ignore_ascii_case("FORMAT") {
            let f = cur.value_for("FORMAT", "RESP or JSON")?;
            self.format = if f.eq_ignore_ascii_case("JSON") {
                Format::Json
            } else if f.eq_ignore_ascii_case("RESP") {
                Format::Resp
            } else {
                return Err(format!("ERR FORMAT must be RESP or JSON, got '{f}'"));
            };
            Ok(true)
        } else if keyword.eq_ignore_ascii_case("FIELDS") {
            let n = cur.value_for("FIELDS", "a count and that many field names")?;
            let n: usize = n
                .parse()
                .ok()
                .filter(|n| (1..=64).contains(n))
                .ok_or_else(|| {
                    format!("ERR FIELDS count must be an integer from 1 to 64, got '{n}'")
                })?;
            let mut cols = Vec::with_capacity(n + 1);
            cols.push(Column::Derived(Derived::Symbol));
            for _ in 0..n {
                let name = cur.value_for("FIELDS", &format!("{n} field names"))?;
                let col = parse_column(name)?;
                if !cols.contains(&col) {
                    cols.push(col);
                }
            }
            self.fields = Some(cols);
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// Parses a whole argument tail made only of output options.
    pub fn parse_all(cur: &mut ArgCursor<'_>, command: &str) -> ArgResult<Self> {
        let mut out = OutputOptions::default();
        while let Some(kw) = cur.next() {
            if !out.try_parse(kw, cur)? {
                return Err(unknown_keyword(kw, command));
            }
        }
        Ok(out)
    }
}

pub fn unknown_keyword(kw: &str, command: &str) -> String {
    format!("ERR unknown argument '{kw}' for '{command}'")
}

pub fn parse_column(name: &str) -> ArgResult<Column> {
    Column::parse(name).ok_or_else(|| format!("ERR unknown field '{name}'"))
}

pub fn parse_expiry(text: &str) -> ArgResult<Expiry> {
    Expiry::parse(text).map_err(|e| format!("ERR {e}"))
}

pub fn parse_type(text: &str) -> ArgResult<OptionType> {
    OptionType::parse(text).ok_or_else(|| format!("ERR TYPE must be CALL or PUT, got '{text}'"))
}

pub fn parse_settle(text: &str) -> ArgResult<Settle> {
    Settle::parse(text).ok_or_else(|| format!("ERR SETTLE must be {}, got '{text}'", Settle::NAMES))
}

/// A finite number argument, named in the error.
pub fn parse_f64(name: &str, text: &str) -> ArgResult<f64> {
    options_core::parse_number(text)
        .map_err(|_| format!("ERR {name} must be a number, got '{text}'"))
}

/// `NOW ms`'s value: Unix milliseconds, not negative.
pub fn parse_now(cur: &mut ArgCursor) -> ArgResult<i64> {
    let ms = parse_i64("NOW", cur.value_for("NOW", "a time in Unix milliseconds")?)?;
    if ms < 0 {
        return Err(format!("ERR NOW must not be negative, got '{ms}'"));
    }
    Ok(ms)
}

/// `RATE r`'s value: an annual, continuously compounded rate from -1 to 1 (0.05 is 5 %).
pub fn parse_rate(cur: &mut ArgCursor) -> ArgResult<f64> {
    let text = cur.value_for("RATE", "an annual rate such as 0.05")?;
    let r = parse_f64("RATE", text)?;
    if !(-1.0..=1.0).contains(&r) {
        return Err(format!(
            "ERR RATE must be an annual rate from -1 to 1 (0.05 is 5 %), got '{text}'"
        ));
    }
    Ok(r)
}

/// The options the figure commands (`OPTIONS.ANALYTICS`, `OPTIONS.SMILE`) share: `SETTLE`,
/// `RATE`, `NOW` and `FORMAT`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FigureOptions {
    pub settle: Option<Settle>,
    pub rate: f64,
    pub now: Option<i64>,
    pub format: Format,
}

impl FigureOptions {
    /// Takes `kw` and its value when it is one of these options; false when it is not.
    pub fn try_parse(&mut self, kw: &str, cur: &mut ArgCursor) -> ArgResult<bool> {
        let is = |k: &str| kw.eq_ignore_ascii_case(k);
        if is("SETTLE") {
            self.settle = Some(parse_settle(cur.value_for("SETTLE", Settle::NAMES)?)?);
        } else if is("RATE") {
            self.rate = parse_rate(cur)?;
        } else if is("NOW") {
            self.now = Some(parse_now(cur)?);
        } else if is("FORMAT") {
            let mut opts = OutputOptions::default();
            opts.try_parse(kw, cur)?;
            self.format = opts.format;
        } else {
            return Ok(false);
        }
        Ok(true)
    }
}

pub fn parse_count(name: &str, text: &str) -> ArgResult<usize> {
    text.parse::<usize>()
        .ok()
        .filter(|n| *n <= MAX_LIMIT)
        .ok_or_else(|| format!("ERR {name} must be an integer from 0 to {MAX_LIMIT}, got '{text}'"))
}

pub fn parse_u64(name: &str, text: &str) -> ArgResult<u64> {
    text.parse::<u64>()
        .map_err(|_| format!("ERR {name} must be a non-negative integer, got '{text}'"))
}

pub fn parse_i64(name: &str, text: &str) -> ArgResult<i64> {
    text.parse::<i64>()
        .map_err(|_| format!("ERR {name} must be an integer, got '{text}'"))
}
