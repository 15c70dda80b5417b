//! Embeds the dashboard's static files in the binary, so `options-web` serves them itself
//! (offline, no CDN, one file to deploy).
//!
//! Our own files come from `web/assets/`; third-party ones from the npm packages pinned in
//! `web/package-lock.json`, installed by `make assets` (`npm ci` in `web/`).
//!
//! The dashboard's ES modules are served as one file: esbuild (from the same lockfile) bundles
//! `assets/app.js` and everything it imports into `app.js`, minified, with a source map beside
//! it. On a phone link each module is a round trip: loaded one by one, the ~30 modules were most
//! of the first screen's wait. `theme.js` stays apart: a classic script that runs before the
//! page paints. The modules themselves are what `node --test` and eslint read.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

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
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    for e in names {
        let name = e.file_name().to_string_lossy().into_owned();
        // The modules travel inside the bundle.
        if name.ends_with(".js") && name != "theme.js" {
            continue;
        }
        files.push((name, e.path()));
    }
    let (bundle, map) = bundle(&web, &out_dir);
    files.push(("app.js".into(), bundle));
    files.push(("app.js.map".into(), map));
    println!(
        "cargo:rerun-if-changed={}",
        web.join("package-lock.json").display()
    );
    for (name, rel) in VENDOR {
        files.push((name.to_string(), npm_file(&web, rel)));
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
    let dest = out_dir.join("assets.rs");
    std::fs::write(dest, out).expect("write assets.rs");
}

/// A file the npm packages installed (`rel` under `web/`), watched; a clear stop if missing.
fn npm_file(web: &Path, rel: &str) -> PathBuf {
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
    path
}

/// Bundles `assets/app.js` with esbuild into `out/app.js` and `out/app.js.map`.
fn bundle(web: &Path, out: &Path) -> (PathBuf, PathBuf) {
    let esbuild = npm_file(web, "node_modules/.bin/esbuild");
    let js = out.join("app.js");
    let status = Command::new(&esbuild)
        .current_dir(web)
        .arg("assets/app.js")
        .arg("--bundle")
        .arg("--format=esm")
        // The language the modules are written in (eslint's `ecmaVersion`): nothing rewritten.
        .arg("--target=es2022")
        .arg("--minify")
        .arg("--sourcemap")
        .arg("--log-level=warning")
        .arg(format!("--outfile={}", js.display()))
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", esbuild.display()));
    if !status.success() {
        panic!("esbuild could not bundle web/assets/app.js ({status}); its message is above");
    }
    // esbuild names each source relative to the map (`../../…/web/assets/store.js`, through
    // target/): renamed relative to `web/`, so a browser's debugger lists `assets/store.js`.
    let map = out.join("app.js.map");
    let text = std::fs::read_to_string(&map).expect("read app.js.map");
    let up = relative(out, web);
    std::fs::write(&map, text.replace(&format!("\"{up}"), "\"")).expect("write app.js.map");
    (js, map)
}

/// The path from directory `from` to directory `to`, with a trailing `/` (both made absolute).
fn relative(from: &Path, to: &Path) -> String {
    let (from, to) = (PathBuf::from(abs(from)), PathBuf::from(abs(to)));
    let common = from
        .components()
        .zip(to.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut rel = "../".repeat(from.components().count() - common);
    for c in to.components().skip(common) {
        rel.push_str(&c.as_os_str().to_string_lossy());
        rel.push('/');
    }
    rel
}

fn abs(p: &Path) -> String {
    p.canonicalize()
        .unwrap_or_else(|_| p.to_path_buf())
        .to_string_lossy()
        .into_owned()
}
