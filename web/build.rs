//! Embeds the dashboard's static files in the binary, so `options-web` serves them itself
//! (offline, no CDN, one file to deploy).
//!
//! Our own files come from `web/assets/`; third-party ones from the npm packages pinned in
//! `web/package-lock.json`, installed by `make assets` (`npm ci` in `web/`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// (served name, path under `web/`) of each file taken from `node_modules`.
const VENDOR: &[(&str, &str)] = &[
    (
        "uPlot.iife.min.js",
        "node_modules/uplot/dist/uPlot.iife.min.js",
    ),
    ("uPlot.min.css", "node_modules/uplot/dist/uPlot.min.css"),
];

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

fn main() {
    let web = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let own = web.join("assets");
    println!("cargo:rerun-if-changed={}", own.display());
    let mut names: Vec<_> = std::fs::read_dir(&own)
        .expect("web/assets")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .collect();
    names.sort_by_key(|e| e.file_name());
    for e in names {
        files.push((e.file_name().to_string_lossy().into_owned(), e.path()));
    }
    println!(
        "cargo:rerun-if-changed={}",
        web.join("package-lock.json").display()
    );
    for (name, rel) in VENDOR {
        let path = web.join(rel);
        println!("cargo:rerun-if-changed={}", path.display());
        if !path.is_file() {
            panic!(
                "{} is missing: the dashboard's npm packages are not installed. \
                 Run `make assets` (or `npm ci` in {}).",
                path.display(),
                web.display()
            );
        }
        files.push((name.to_string(), path));
    }
    let templates = web.join("templates");
    println!("cargo:rerun-if-changed={}", templates.display());

    let mut out = String::from("/// (name, content type, bytes) of every embedded static file.\n");
    out.push_str("pub static ASSETS: &[(&str, &str, &[u8])] = &[\n");
    for (name, path) in &files {
        let _ = writeln!(
            out,
            "    ({name:?}, {:?}, include_bytes!({:?})),",
            content_type(name),
            abs(path)
        );
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("assets.rs");
    std::fs::write(dest, out).expect("write assets.rs");
}

fn abs(p: &Path) -> String {
    p.canonicalize()
        .unwrap_or_else(|_| p.to_path_buf())
        .to_string_lossy()
        .into_owned()
}
