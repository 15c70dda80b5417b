//! Recordings of what the exchange sent (`options-feeder --record DIR`), replayed by
//! `bybit-sim --replay DIR`.
//!
//! A recording is a directory of hour files named by the UTC hour their entries were received
//! in (`2026-12-02T03.jsonl.zst`): zstd-compressed JSON lines, each an [`Entry`] — a ticker
//! frame exactly as received (its text, the exchange's timestamp, the local receive time), or
//! the instrument listing and REST ticker snapshot the feeder started from. Files are flushed every second and appended to as
//! new zstd frames, so a crash loses at most the last second and a truncated file still reads
//! up to the cut.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One line of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Entry {
    /// `instruments-info` items of one base coin, as the exchange listed them.
    Instruments {
        recv_ms: i64,
        base: String,
        items: Vec<Value>,
    },
    /// A REST `tickers` snapshot of one base coin (items as the exchange wrote them), taken
    /// when the feeder started following it or found new contracts.
    Tickers {
        recv_ms: i64,
        base: String,
        items: Vec<Value>,
    },
    /// A WebSocket ticker frame, byte for byte.
    Frame {
        recv_ms: i64,
        /// The frame's `ts` (exchange time), when it has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ts: Option<i64>,
        text: String,
    },
}

impl Entry {
    pub fn recv_ms(&self) -> i64 {
        match self {
            Entry::Instruments { recv_ms, .. }
            | Entry::Tickers { recv_ms, .. }
            | Entry::Frame { recv_ms, .. } => *recv_ms,
        }
    }
}

/// The hour file an entry received at `ms` belongs to.
pub fn file_name(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let hour = ms.rem_euclid(86_400_000) / 3_600_000;
    let date = crate::Expiry::from_unix_days(days)
        .map(|e| e.iso())
        .unwrap_or_else(|| "0000-00-00".into());
    format!("{date}T{hour:02}.jsonl.zst")
}

/// Appends entries to the hour files of a directory.
pub struct Writer {
    dir: PathBuf,
    open: Option<(
        String,
        zstd::stream::write::Encoder<'static, BufWriter<File>>,
    )>,
}

impl Writer {
    /// Creates the directory if needed; nothing is opened until the first entry.
    pub fn new(dir: &Path) -> std::io::Result<Writer> {
        std::fs::create_dir_all(dir)?;
        Ok(Writer {
            dir: dir.to_path_buf(),
            open: None,
        })
    }

    /// Writes one entry to its hour's file (finishing the previous hour's on a new hour).
    pub fn append(&mut self, e: &Entry) -> std::io::Result<()> {
        let name = file_name(e.recv_ms());
        if self.open.as_ref().map(|(n, _)| n) != Some(&name) {
            self.finish()?;
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join(&name))?;
            let enc = zstd::stream::write::Encoder::new(BufWriter::new(file), 3)?;
            self.open = Some((name, enc));
        }
        let Some((_, enc)) = self.open.as_mut() else {
            return Ok(());
        };
        serde_json::to_writer(&mut *enc, e)?;
        enc.write_all(b"\n")
    }

    /// Pushes what is buffered to the file (a complete zstd block: readable after a crash).
    pub fn flush(&mut self) -> std::io::Result<()> {
        if let Some((_, enc)) = self.open.as_mut() {
            enc.flush()?;
            enc.get_mut().flush()?;
        }
        Ok(())
    }

    /// Ends the open file's zstd frame.
    pub fn finish(&mut self) -> std::io::Result<()> {
        if let Some((_, enc)) = self.open.take() {
            let mut inner = enc.finish()?;
            inner.flush()?;
        }
        Ok(())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// The hour files of a recording, in time order.
pub fn files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".jsonl.zst"))
        .collect();
    v.sort();
    Ok(v)
}

/// Reads every entry of one file in order. A file cut short (a crash while recording) yields
/// what it holds up to the cut and then says where it stopped; a line that is not an entry is
/// skipped and counted.
pub struct FileReader {
    lines: std::io::Lines<BufReader<zstd::stream::read::Decoder<'static, BufReader<File>>>>,
    pub skipped: usize,
    /// Why reading stopped early, if it did.
    pub cut: Option<String>,
}

impl FileReader {
    pub fn open(path: &Path) -> std::io::Result<FileReader> {
        let dec = zstd::stream::read::Decoder::new(File::open(path)?)?;
        Ok(FileReader {
            lines: BufReader::new(dec).lines(),
            skipped: 0,
            cut: None,
        })
    }
}

impl Iterator for FileReader {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        loop {
            match self.lines.next()? {
                Ok(line) => match serde_json::from_str::<Entry>(&line) {
                    Ok(e) => return Some(e),
                    Err(_) => self.skipped += 1,
                },
                Err(e) => {
                    self.cut = Some(e.to_string());
                    return None;
                }
            }
        }
    }
}

/// Every entry of a recording, file after file.
pub fn entries(dir: &Path) -> std::io::Result<impl Iterator<Item = Entry> + Send> {
    let files = files(dir)?;
    Ok(files.into_iter().flat_map(|p| match FileReader::open(&p) {
        Ok(r) => Box::new(r) as Box<dyn Iterator<Item = Entry> + Send>,
        Err(_) => Box::new(std::iter::empty()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rec-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn hour_files_round_trip_and_append() {
        let dir = temp("rt");
        let t0 = 1_796_176_800_000; // 2026-12-02T02:00:00Z
        let frame = |ms: i64, n: i64| Entry::Frame {
            recv_ms: ms,
            ts: Some(ms - 3),
            text: format!(r#"{{"topic":"tickers.BTC-X","ts":{n}}}"#),
        };
        let mut w = Writer::new(&dir).unwrap();
        w.append(&Entry::Instruments {
            recv_ms: t0,
            base: "BTC".into(),
            items: vec![serde_json::json!({"symbol": "BTC-X"})],
        })
        .unwrap();
        w.append(&frame(t0 + 1, 1)).unwrap();
        w.append(&frame(t0 + 3_600_000, 2)).unwrap();
        drop(w);
        // A restart within the hour appends a new zstd frame to the same file.
        let mut w = Writer::new(&dir).unwrap();
        w.append(&frame(t0 + 3_600_001, 3)).unwrap();
        drop(w);
        let names: Vec<String> = files(&dir)
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["2026-12-02T02.jsonl.zst", "2026-12-02T03.jsonl.zst"]
        );
        let all: Vec<Entry> = entries(&dir).unwrap().collect();
        assert_eq!(all.len(), 4);
        assert_eq!(all[3], frame(t0 + 3_600_001, 3));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_cut_by_a_crash_reads_up_to_the_cut() {
        let dir = temp("cut");
        let mut w = Writer::new(&dir).unwrap();
        for i in 0..2000 {
            w.append(&Entry::Frame {
                recv_ms: 1_796_176_800_000 + i,
                ts: None,
                text: format!(
                    "frame number {i} with some padding to fill blocks {}",
                    "x".repeat(i as usize % 97)
                ),
            })
            .unwrap();
            if i == 999 {
                w.flush().unwrap();
            }
        }
        w.flush().unwrap();
        std::mem::forget(w); // a crash: the frame is never finished
        let path = files(&dir).unwrap().remove(0);
        let len = std::fs::metadata(&path).unwrap().len();
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(len - 40).unwrap();
        let mut r = FileReader::open(&path).unwrap();
        let got: Vec<Entry> = r.by_ref().collect();
        assert!(
            got.len() >= 1000,
            "the flushed first half is there: {}",
            got.len()
        );
        assert!(got.len() < 2000);
        for (i, e) in got.iter().enumerate() {
            assert_eq!(
                e.recv_ms(),
                1_796_176_800_000 + i as i64,
                "in order, none skipped"
            );
        }
        assert!(r.cut.is_some(), "the cut is reported");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names_are_utc_hours() {
        assert_eq!(file_name(1_796_169_600_000), "2026-12-02T00.jsonl.zst");
        assert_eq!(file_name(1_796_183_999_999), "2026-12-02T03.jsonl.zst");
    }
}
