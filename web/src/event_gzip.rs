//! Gzip for the event stream, without giving up shared bytes.
//!
//! flate2 runs on zlib-rs here, not its default miniz_oxide: at the simulator's full rate
//! the deflate of every change cost the server about a tenth of its CPU more with miniz.
//!
//! A gzip stream per client would compress every event once per client. Instead each event is
//! deflated on its own — a fresh compressor, ended by a full flush, so the block refers to
//! nothing before it and ends on a byte boundary — and a client's stream is the gzip header
//! followed by such blocks in the order of its events. The blocks of an event that every
//! client gets (a change, a batch of trades, the periodic figures) are made once, by the first
//! client that wants them, and shared; a client's own small parts (its `id:` line) go as stored
//! blocks, which cost a 5-byte header and no compressor. Each block is flushed, so a browser
//! decodes every event as it arrives. The stream never ends on its own, so it has no final block
//! or trailer: a client sees it end only when the connection does.

use std::sync::OnceLock;

use flate2::{Compress, Compression, FlushCompress, Status};
use warp::hyper::body::Bytes;

/// The gzip member header: deflate, no name, no time, unknown OS.
pub const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// Parts shorter than this go as stored blocks: deflate would save next to nothing on them.
const STORE_BELOW: usize = 128;

/// Whether an `Accept-Encoding` header takes gzip (a `q=0` refuses it).
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    accept_encoding.is_some_and(|h| {
        h.split(',').any(|part| {
            let mut it = part.split(';').map(str::trim);
            let coding = it.next().unwrap_or("");
            let refused = it.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f64>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
    })
}

/// `data` as deflate blocks that stand alone: not final, byte-aligned at the end (a fresh
/// compressor refers to nothing before it; its sync flush ends on a byte boundary).
pub fn block(data: &[u8]) -> Bytes {
    if data.len() < STORE_BELOW {
        return stored(data);
    }
    // Room for deflate's worst case (stored blocks: 5 bytes per 16 KB, and the flush), so one
    // call takes all the input and the whole flush: a compressor whose output fills mid-flush
    // keeps the rest for a later call, which miniz_oxide (flate2's default backend, before
    // zlib-rs) did not always give back.
    let room = data.len() + 5 * (data.len() / 16_383 + 1) + 64;
    let mut out = Vec::with_capacity(room);
    let mut z = Compress::new(Compression::fast(), false);
    let whole = matches!(
        z.compress_vec(data, &mut out, FlushCompress::Sync),
        Ok(Status::Ok)
    ) && z.total_in() as usize == data.len()
        && out.len() < out.capacity();
    if whole {
        Bytes::from(out)
    } else {
        // Not seen; if it ever were, the data still goes, stored.
        stored(data)
    }
}

/// `data` as stored (uncompressed) blocks of at most 65,535 bytes each.
pub fn stored(data: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(data.len() + 5 * (data.len() / 65_535 + 1));
    let mut parts = data.chunks(65_535).peekable();
    if parts.peek().is_none() {
        return Bytes::new();
    }
    for part in parts {
        let len = part.len() as u16;
        // BFINAL 0, BTYPE 00, padded to the byte: one zero byte; then LEN and its complement.
        out.push(0);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(part);
    }
    Bytes::from(out)
}

/// An event's bytes as every client gets them: plain, and deflated once for all gzip clients
/// (on first use, so a server whose clients take no gzip never compresses).
#[derive(Debug)]
pub struct Shared {
    plain: Bytes,
    deflated: OnceLock<Bytes>,
}

impl Shared {
    pub fn new(plain: Bytes) -> Shared {
        Shared {
            plain,
            deflated: OnceLock::new(),
        }
    }

    /// The bytes for a client: deflate blocks when it takes gzip.
    pub fn get(&self, gzip: bool) -> Bytes {
        if gzip {
            self.deflated.get_or_init(|| block(&self.plain)).clone()
        } else {
            self.plain.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Decompress, FlushDecompress};
    use proptest::prelude::*;

    /// Inflates a header-less stream of blocks as a browser would, chunk after chunk.
    pub(super) fn inflate(blocks: &[Bytes]) -> Vec<u8> {
        let mut z = Decompress::new(false);
        let mut out = Vec::with_capacity(1 << 20);
        for b in blocks {
            let start = z.total_in();
            // Until the block is read and the inflater holds no more output for it.
            loop {
                let at = (z.total_in() - start) as usize;
                out.reserve(1 << 16);
                let before = out.len();
                z.decompress_vec(&b[at..], &mut out, FlushDecompress::Sync)
                    .expect("valid deflate");
                if (z.total_in() - start) as usize == b.len()
                    && out.len() < out.capacity()
                    && out.len() == before
                {
                    break;
                }
            }
        }
        out
    }

    #[test]
    fn blocks_made_apart_read_as_one_stream() {
        let big = "data:{\"symbol\":\"BTC-26DEC26-100000-C\",\"mark_price\":1234.5}\n".repeat(500);
        let parts = [
            block(big.as_bytes()),
            stored(b"id:BTC:7\n\n"),
            block(b"event:status\ndata:{}\n\n"),
            block(big.as_bytes()),
        ];
        assert!(parts[0].len() < big.len() / 5, "JSON rows compress");
        let mut want = big.clone().into_bytes();
        want.extend_from_slice(b"id:BTC:7\n\nevent:status\ndata:{}\n\n");
        want.extend_from_slice(big.as_bytes());
        assert_eq!(inflate(&parts), want);
    }

    #[test]
    fn a_whole_gzip_stream_decodes_with_a_standard_reader() {
        use std::io::Read;
        let mut stream = HEADER.to_vec();
        stream.extend_from_slice(&block(
            &b"event:changes\ndata:{\"asset\":\"BTC\"}\n".repeat(9),
        ));
        stream.extend_from_slice(&stored(b"id:BTC:1\n\n"));
        // A reader stops with an error where the trailer should be; what came before is read.
        let mut text = Vec::new();
        let mut reader = flate2::read::GzDecoder::new(&stream[..]);
        let mut buf = [0u8; 64];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => text.extend_from_slice(&buf[..n]),
            }
        }
        assert!(String::from_utf8(text)
            .unwrap()
            .ends_with("}\nid:BTC:1\n\n"));
    }

    #[test]
    fn accept_encoding_is_read_as_http_says() {
        assert!(accepts_gzip(Some("gzip, deflate, br")));
        assert!(accepts_gzip(Some("br;q=1.0, GZIP;q=0.5")));
        assert!(accepts_gzip(Some("*")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(Some("deflate, br")));
        assert!(!accepts_gzip(Some("identity")));
        assert!(!accepts_gzip(None));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn any_events_round_trip(events in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..70_000), 1..6)) {
            let blocks: Vec<Bytes> = events.iter().enumerate()
                .map(|(i, e)| if i % 2 == 0 { block(e) } else { stored(e) })
                .collect();
            prop_assert_eq!(inflate(&blocks), events.concat());
        }
    }
}
