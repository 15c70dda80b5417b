//! A TCP proxy the tests put between a client and a server, which can stall (move no bytes and
//! close nothing: a hung peer, a blackholed network, a full disk on the far side look like
//! this to a client) and cut (close every connection: a network failure).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One end of a proxied connection, with the flag its pumps set when the connection ends.
type Connection = (Arc<AtomicBool>, TcpStream);

pub struct Proxy {
    pub port: u16,
    stalled: Arc<AtomicBool>,
    /// Both ends of every live connection, with a flag its pumps set when it ends.
    open: Arc<Mutex<Vec<Connection>>>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    /// Listens on a free port and forwards every connection to `127.0.0.1:target`.
    pub fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let proxy = Proxy {
            port,
            stalled: Arc::new(AtomicBool::new(false)),
            open: Arc::new(Mutex::new(Vec::new())),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (stalled, open, stop) = (
            proxy.stalled.clone(),
            proxy.open.clone(),
            proxy.stop.clone(),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let client = match listener.accept() {
                    Ok((c, _)) => c,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    Err(_) => continue,
                };
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue; // the far side is down: the client sees its connection closed
                };
                let _ = client.set_nonblocking(false);
                for s in [&client, &server] {
                    let _ = s.set_nodelay(true);
                    let _ = s.set_read_timeout(Some(Duration::from_millis(20)));
                }
                let ended = Arc::new(AtomicBool::new(false));
                if let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) {
                    let mut open = open.lock().unwrap();
                    // Ended connections' descriptors go, so a long run of reconnects leaks none.
                    open.retain(|(ended, _)| !ended.load(Ordering::Relaxed));
                    open.extend([(ended.clone(), c), (ended.clone(), s)]);
                }
                for (from, to) in [
                    (client.try_clone(), server.try_clone()),
                    (server.try_clone(), client.try_clone()),
                ] {
                    let (Ok(from), Ok(to)) = (from, to) else {
                        continue;
                    };
                    let (stalled, stop, ended) = (stalled.clone(), stop.clone(), ended.clone());
                    std::thread::spawn(move || {
                        pump(from, to, &stalled, &stop);
                        ended.store(true, Ordering::Relaxed);
                    });
                }
            }
        });
        proxy
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops (or resumes) moving bytes; connections stay open and bytes wait in the kernel's
    /// buffers, as they would behind a blackholed route.
    pub fn stall(&self, on: bool) {
        self.stalled.store(on, Ordering::Relaxed);
    }

    /// Closes every connection made so far.
    pub fn cut(&self) {
        for (_, s) in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.cut();
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, stalled: &AtomicBool, stop: &AtomicBool) {
    let mut buf = [0u8; 16 * 1024];
    while !stop.load(Ordering::Relaxed) {
        if stalled.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    let _ = to.shutdown(Shutdown::Both);
}
