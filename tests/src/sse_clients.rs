//! Event-stream clients for the benches that measure `/api/stream` under load (push, soak):
//! tasks on one runtime of two threads speaking HTTP/1.0 over plain sockets. A thread per
//! client (and reqwest's runtime thread per client behind its blocking reader) made the
//! clients' own context switches most of the machine's load, which measured the bench more
//! than the server.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The runtime the clients run on: two worker threads, however many clients.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// What a client does with each `data:` line.
pub type OnData<'a> = dyn FnMut(&[u8]) + Send + 'a;

/// How the measuring thread ends its clients: each client's socket is shut down, which wakes
/// a client waiting to read. (A timeout around every read, to look at a flag now and then, put
/// a timer in and took it out again 100,000 times a second at 1,000 clients.)
#[derive(Clone)]
pub struct Stop {
    sockets: Arc<Mutex<Option<Vec<std::net::TcpStream>>>>,
}

impl Default for Stop {
    fn default() -> Stop {
        Stop {
            sockets: Arc::new(Mutex::new(Some(Vec::new()))),
        }
    }
}

impl Stop {
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Keeps a handle on `sock` to shut it down at the stop (at once if that has come).
    pub fn watch(&self, sock: TcpStream) -> std::io::Result<TcpStream> {
        let sock = sock.into_std()?;
        let handle = sock.try_clone()?;
        match self.sockets.lock().unwrap().as_mut() {
            Some(all) => all.push(handle),
            None => handle.shutdown(std::net::Shutdown::Both)?,
        }
        TcpStream::from_std(sock)
    }

    /// Every client's stream ends.
    pub fn now(&self) {
        for sock in self.sockets.lock().unwrap().take().unwrap_or_default() {
            let _ = sock.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// One client of `path` until `stop`; returns the bytes of the response it read. It speaks
/// HTTP/1.0, so the body is the event stream itself, not chunks, and hands each `data:` line
/// to `on_data`; without `on_data`, it only reads (and drops) what comes, as fast as it comes.
pub async fn follow(
    port: u16,
    path: String,
    stop: Stop,
    gzip: bool,
    mut on_data: Option<&mut OnData<'_>>,
) -> u64 {
    let Ok(sock) = TcpStream::connect(("127.0.0.1", port)).await else {
        return 0;
    };
    let Ok(mut sock) = stop.watch(sock) else {
        return 0;
    };
    let encoding = if gzip {
        "Accept-Encoding: gzip\r\n"
    } else {
        ""
    };
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n{encoding}\r\n"
    );
    if sock.write_all(request.as_bytes()).await.is_err() {
        return 0;
    }
    // The body as it comes (`raw`), and as text (`buf`: inflated when gzipped, as a browser's
    // decoder does, chunk by chunk). Past the head of a plain stream, bytes are read straight
    // into `buf`.
    let mut raw: Vec<u8> = Vec::with_capacity(1 << 16);
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    let mut inflate = flate2::Decompress::new(false);
    // Bytes of the body still to skip: the gzip header.
    let mut header_left = if gzip { 10 } else { 0 };
    let mut in_body = false;
    let mut chunk = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let straight = in_body && !gzip && on_data.is_some();
        let read = if straight {
            buf.reserve(1 << 16);
            sock.read_buf(&mut buf).await
        } else {
            sock.read(&mut chunk).await
        };
        // The end of the stream, or the stop.
        let Ok(n) = read else { return total };
        if n == 0 {
            return total;
        }
        total += n as u64;
        let Some(on_data) = on_data.as_mut() else {
            continue;
        };
        if !straight {
            raw.extend_from_slice(&chunk[..n]);
            if !in_body {
                let Some(end) = memchr::memmem::find(&raw, b"\r\n\r\n") else {
                    continue;
                };
                raw.drain(..end + 4);
                in_body = true;
            }
            let skip = header_left.min(raw.len());
            raw.drain(..skip);
            header_left -= skip;
            if !gzip {
                buf.append(&mut raw);
            } else {
                let start = inflate.total_in();
                loop {
                    buf.reserve(1 << 16);
                    let before = buf.len();
                    let at = (inflate.total_in() - start) as usize;
                    if inflate
                        .decompress_vec(&raw[at..], &mut buf, flate2::FlushDecompress::Sync)
                        .is_err()
                    {
                        return total;
                    }
                    if (inflate.total_in() - start) as usize == raw.len() && buf.len() == before {
                        break;
                    }
                }
                raw.clear();
            }
        }
        let mut used = 0;
        while let Some(nl) = memchr::memchr(b'\n', &buf[used..]) {
            let line = &buf[used..used + nl];
            if let Some(data) = line.strip_prefix(b"data:") {
                on_data(data);
            }
            used += nl + 1;
        }
        buf.drain(..used);
    }
}

/// The push time of each row a `changes` event brings (its `updated_ms`: the sim's push time,
/// on the clients' machine and clock), read from the event's `data:` line.
pub struct PushTimes(memchr::memmem::Finder<'static>);

impl Default for PushTimes {
    fn default() -> PushTimes {
        PushTimes(memchr::memmem::Finder::new(b"\"updated_ms\":"))
    }
}

impl PushTimes {
    /// The rows' push times; none for another event (stats, status, trades: no `updated_ms`,
    /// or no `asset`) or for a reset, which carries the whole chain, old rows included: not a
    /// push.
    pub fn of(&self, data: &[u8]) -> Vec<u64> {
        if !data.starts_with(b"{\"asset\"")
            || memchr::memmem::find(data, b"\"reset\":true").is_some()
        {
            return Vec::new();
        }
        number_after(data, &self.0)
    }
}

/// Every whole number that follows `name`'s needle in `text`. The search is memchr's SIMD one,
/// its searcher built once per client: the timed clients scan every byte they get (22 MB/s
/// each at full rate), and a byte-by-byte search there cost the machine more CPU than the
/// server's own fan-out.
pub fn number_after(text: &[u8], name: &memchr::memmem::Finder) -> Vec<u64> {
    let mut out = Vec::new();
    for at in name.find_iter(text) {
        let rest = &text[at + name.needle().len()..];
        let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if let Some(v) = std::str::from_utf8(&rest[..digits])
            .ok()
            .and_then(|d| d.parse().ok())
        {
            out.push(v);
        }
    }
    out
}
