//! `OPTIONS.CHANGES`: rows changed after a sequence number, at once or, with `BLOCK`, when a
//! write brings some (`blocking`).

use options_core::clock::now_ms;
use redis_module::{Context, RedisError, RedisResult, RedisString};

use super::keyspace::{err, text_args, with_chain};
use crate::args::{self, ArgCursor, OutputOptions};
use crate::chain::{Chain, Changes};
use crate::reply::Reply;

/// `OPTIONS.CHANGES key since-seq [FIELDS n f…] [BLOCK ms] [FORMAT RESP|JSON]`, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangesArgs {
    pub since: u64,
    /// `BLOCK ms`: wait up to `ms` (0: without end) when nothing changed after `since`.
    pub block: Option<u64>,
    pub output: OutputOptions,
}

impl ChangesArgs {
    /// Parses the arguments after the key.
    pub fn parse(argv: &[&str]) -> args::ArgResult<Self> {
        let [since, rest @ ..] = argv else {
            return Err("ERR wrong number of arguments for 'OPTIONS.CHANGES' command".into());
        };
        let since = args::parse_u64("since-seq", since)?;
        let mut cur = ArgCursor::new(rest);
        let mut output = OutputOptions::default();
        let mut block = None;
        while let Some(kw) = cur.next() {
            if kw.eq_ignore_ascii_case("BLOCK") {
                let ms = cur.value_for("BLOCK", "a timeout in milliseconds")?;
                block = Some(args::parse_u64("BLOCK", ms)?);
            } else if !output.try_parse(kw, &mut cur)? {
                return Err(args::unknown_keyword(kw, "OPTIONS.CHANGES"));
            }
        }
        Ok(ChangesArgs {
            since,
            block,
            output,
        })
    }
}

/// `OPTIONS.CHANGES key since-seq [FIELDS n f…] [BLOCK ms] [FORMAT RESP|JSON]`. Without
/// `BLOCK`, or where the client may not block (MULTI, a script), or when something changed
/// after `since-seq` (a reset included), it answers at once; otherwise the client waits for a
/// write to the key, and then answers exactly what it would answer at that moment.
pub fn changes(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 3 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let parsed = ChangesArgs::parse(&argv[2..]).map_err(err)?;
    match parsed.block.filter(|_| crate::blocking::may_block(ctx)) {
        None => with_changes(ctx, &args[1], argv[1], parsed.since, |chain, ch| {
            render(ctx, chain, ch, &parsed.output)
        })?,
        Some(ms) => match news(ctx, &args[1], argv[1], &parsed)? {
            Some(reply) => reply,
            None => crate::blocking::park(ctx, &args[1], ms, serve_parked),
        },
    }
}

/// A parked reader's turn after a write (or a deletion, a flush, a load): the reply, or `None`
/// while nothing changed after its cursor.
fn serve_parked(ctx: &Context, args: &[RedisString]) -> Option<RedisResult> {
    let argv = match text_args(args) {
        Ok(a) => a,
        Err(e) => return Some(Err(e)),
    };
    let parsed = match ChangesArgs::parse(argv.get(2..).unwrap_or_default()) {
        Ok(p) => p,
        Err(e) => return Some(Err(err(e))),
    };
    news(ctx, &args[1], argv[1], &parsed).unwrap_or_else(|e| Some(Err(e)))
}

/// The reply when something changed after the cursor (a row, a removal, a reset), else `None`.
fn news(
    ctx: &Context,
    key: &RedisString,
    name: &str,
    parsed: &ChangesArgs,
) -> Result<Option<RedisResult>, RedisError> {
    with_changes(ctx, key, name, parsed.since, |chain, ch| {
        (ch.reset || !ch.rows.is_empty() || !ch.removed.is_empty())
            .then(|| render(ctx, chain, ch, &parsed.output))
    })
}

/// `f` of the chain at `key` (an empty one when missing) and its changes after `since`, now.
fn with_changes<T>(
    ctx: &Context,
    key: &RedisString,
    name: &str,
    since: u64,
    f: impl FnOnce(&Chain, &Changes) -> T,
) -> Result<T, RedisError> {
    let now = now_ms();
    with_chain(ctx, key, |chain| {
        let empty = Chain::new(name, 0);
        let chain = chain.unwrap_or(&empty);
        Ok(f(chain, &chain.changes_since(since, now)))
    })
}

fn render(ctx: &Context, chain: &Chain, ch: &Changes, opts: &OutputOptions) -> RedisResult {
    let columns = opts.fields.as_deref();
    let rows = ch.rows.iter().map(|&c| Reply::row(chain, c, columns));
    Reply::Map(vec![
        ("seq", Reply::Int(i64::try_from(ch.seq).unwrap_or(i64::MAX))),
        ("reset", Reply::Bool(ch.reset)),
        ("data", Reply::Array(rows.collect())),
        ("removed", Reply::texts(ch.removed.iter().copied())),
    ])
    .send(ctx, opts.format)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Format;

    #[test]
    fn changes_arguments() {
        let a = ChangesArgs::parse(&["42", "FORMAT", "JSON"]).unwrap();
        assert_eq!(
            (a.since, a.output.format, a.block),
            (42, Format::Json, None)
        );
        let b = ChangesArgs::parse(&["7", "block", "250", "FIELDS", "1", "mark_price"]).unwrap();
        assert_eq!((b.since, b.block), (7, Some(250)));
        assert!(b.output.fields.is_some());
        assert_eq!(
            ChangesArgs::parse(&["0", "BLOCK", "0"]).unwrap().block,
            Some(0)
        );
        assert!(ChangesArgs::parse(&["-1"])
            .unwrap_err()
            .contains("since-seq"));
        assert!(ChangesArgs::parse(&[])
            .unwrap_err()
            .contains("wrong number"));
        for bad in [
            &["1", "BLOCK"][..],
            &["1", "BLOCK", "-5"],
            &["1", "BLOCK", "soon"],
        ] {
            assert!(
                ChangesArgs::parse(bad).unwrap_err().contains("BLOCK"),
                "{bad:?}"
            );
        }
        assert!(ChangesArgs::parse(&["1", "WAIT", "5"])
            .unwrap_err()
            .contains("WAIT"));
    }
}
