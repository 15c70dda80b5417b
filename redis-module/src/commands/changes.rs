//! `OPTIONS.CHANGES`: rows changed after a sequence number.

use super::*;

/// `OPTIONS.CHANGES key since-seq [FIELDS n f…] [FORMAT RESP|JSON]`, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangesArgs {
    pub since: u64,
    pub output: OutputOptions,
}

impl ChangesArgs {
    /// Parses the arguments after the key.
    pub fn parse(argv: &[&str]) -> args::ArgResult<Self> {
        let [since, rest @ ..] = argv else {
            return Err("ERR wrong number of arguments for 'OPTIONS.CHANGES' command".into());
        };
        Ok(ChangesArgs {
            since: args::parse_u64("since-seq", since)?,
            output: OutputOptions::parse_all(&mut ArgCursor::new(rest), "OPTIONS.CHANGES")?,
        })
    }
}

/// `OPTIONS.CHANGES key since-seq [FIELDS n f…] [FORMAT RESP|JSON]`
pub fn changes(ctx: &Context, args: &[RedisString]) -> RedisResult {
    if args.len() < 3 {
        return Err(RedisError::WrongArity);
    }
    let argv = text_args(args)?;
    let ChangesArgs {
        since,
        output: opts,
    } = ChangesArgs::parse(&argv[2..]).map_err(err)?;
    let now = now_ms();
    with_chain(ctx, &args[1], |chain| {
        let empty = Chain::new(argv[1], 0);
        let chain = chain.unwrap_or(&empty);
        let ch = chain.changes_since(since, now);
        let cols = opts.fields.as_deref();
        match opts.format {
            Format::Json => {
                let mut out = Vec::with_capacity(64 + ch.rows.len() * 700);
                out.extend_from_slice(b"{\"seq\":");
                out.extend_from_slice(itoa::Buffer::new().format(ch.seq).as_bytes());
                out.extend_from_slice(if ch.reset {
                    b",\"reset\":true"
                } else {
                    b",\"reset\":false"
                });
                out.extend_from_slice(b",\"data\":");
                json_rows(&mut out, chain, &ch.rows, cols);
                out.extend_from_slice(b",\"removed\":[");
                for (i, s) in ch.removed.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    json_str(&mut out, s);
                }
                out.extend_from_slice(b"]}");
                json_reply(out)
            }
            Format::Resp => Ok(RedisValue::Array(vec![
                bulk("seq"),
                RedisValue::Integer(ch.seq as i64),
                bulk("reset"),
                RedisValue::Integer(i64::from(ch.reset)),
                bulk("data"),
                resp_rows(&ch.rows, &chain.underlying, cols),
                bulk("removed"),
                RedisValue::Array(ch.removed.iter().map(|s| bulk(*s)).collect()),
            ])),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_arguments() {
        let a = ChangesArgs::parse(&["42", "FORMAT", "JSON"]).unwrap();
        assert_eq!((a.since, a.output.format), (42, Format::Json));
        assert!(ChangesArgs::parse(&["-1"])
            .unwrap_err()
            .contains("since-seq"));
        assert!(ChangesArgs::parse(&[])
            .unwrap_err()
            .contains("wrong number"));
    }
}
