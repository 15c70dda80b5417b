//! The deployment files, checked without a Docker engine: docker-compose.yml parses, every
//! service has what production needs, and every command line and environment variable it uses
//! is one our binaries accept (so the image runs what `make demo` runs).

use std::path::Path;
use std::process::Command;

use serde_yaml::Value;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn help(bin: &str) -> String {
    let out = Command::new(options_tests::procs::binary(bin))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "{bin} --help");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn compose_file_is_complete_and_consistent_with_the_binaries() {
    let text = std::fs::read_to_string(root().join("docker-compose.yml")).unwrap();
    let mut doc: Value = serde_yaml::from_str(&text).expect("docker-compose.yml is valid YAML");
    doc.apply_merge().expect("merge keys resolve");
    let services = doc["services"].as_mapping().expect("services");
    for name in ["module", "redis", "feeder", "web", "sim"] {
        assert!(services.contains_key(name), "service {name}");
    }
    assert_eq!(
        doc["services"]["sim"]["profiles"][0], "sim",
        "the simulator is an optional profile"
    );
    for name in ["redis", "feeder", "web", "sim"] {
        let s = &doc["services"][name];
        assert!(
            s["healthcheck"]["test"].is_sequence(),
            "{name} has a health check"
        );
        assert_eq!(s["restart"], "unless-stopped", "{name} restarts");
    }
    // Redis: stock image, the module from the shared volume, redis.conf, persistent data
    let redis = &doc["services"]["redis"];
    assert!(redis["image"].as_str().unwrap().starts_with("redis:7"));
    let mounts: Vec<&str> = redis["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(mounts.contains(&"modules:/usr/lib/redis/modules:ro"));
    assert!(mounts.iter().any(|m| m.starts_with("redis-data:/data")));
    let conf = std::fs::read_to_string(root().join("redis.conf")).unwrap();
    let load = conf
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("loadmodule /usr/lib/redis/modules/libredis_options.so")
        })
        .expect("redis.conf loads the module from the image's path");
    // Its arguments are ones the module accepts: a server loads it with them.
    let module_args: Vec<&str> = load.split_whitespace().collect();
    let server = options_tests::RedisServer::start_with_module_args(
        options_tests::TempDir::new("conf"),
        &module_args,
        &[],
    );
    let mut con = server.connection();
    let modules: redis::Value = redis::cmd("MODULE").arg("LIST").query(&mut con).unwrap();
    assert!(format!("{modules:?}").contains("options"));
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("/usr/lib/redis/modules/libredis_options.so"));
    for v in ["modules", "redis-data"] {
        assert!(
            doc["volumes"].as_mapping().unwrap().contains_key(v),
            "volume {v}"
        );
    }

    // Every flag and environment variable handed to a binary is one it accepts.
    for name in ["feeder", "web", "sim"] {
        let s = &doc["services"][name];
        let cmd: Vec<&str> = s["command"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let bin = cmd[0];
        assert!(dockerfile.contains(bin), "the image holds {bin}");
        let usage = help(bin);
        for flag in cmd.iter().filter(|a| a.starts_with("--")) {
            assert!(
                usage.contains(&format!("{flag} ")) || usage.contains(&format!("{flag}\n")),
                "{bin} has no {flag}"
            );
        }
        if let Some(env) = s["environment"].as_mapping() {
            for k in env.keys() {
                let k = k.as_str().unwrap();
                assert!(
                    usage.contains(&format!("env: {k}=")) || usage.contains(&format!("[env: {k}]")),
                    "{bin} reads no {k}"
                );
            }
        }
    }
}

/// `make -s <target> [VAR=value…]` from the workspace root: (exit code, stdout).
fn make(args: &[&str]) -> (i32, String) {
    let out = Command::new("make")
        .args(["-s", "--no-print-directory"])
        .args(args)
        .current_dir(root())
        .output()
        .expect("run make");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn listed_packages() -> Vec<String> {
    let (code, list) = make(&["deps-list"]);
    assert_eq!(code, 0, "make deps-list");
    list.split_whitespace().map(String::from).collect()
}

/// The package dpkg says owns `path` (a symlink's own package first: `libclang.so` is what
/// libclang-dev ships, pointing into libclang1-14), else the file it resolves to.
fn owner(path: &Path) -> Option<String> {
    let ask = |p: &Path| -> Option<String> {
        let out = Command::new("dpkg-query").arg("-S").arg(p).output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let pkg = text.split(':').next()?.trim().to_string();
        (out.status.success() && !pkg.is_empty()).then_some(pkg)
    };
    ask(path).or_else(|| ask(&std::fs::canonicalize(path).ok()?))
}

#[test]
fn the_dependency_probe_asks_dpkg_per_package() {
    // A package no machine has is named; so is one whose files another package could imitate.
    let (code, out) = make(&["deps-missing", "PKGS=options-no-such-package coreutils"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        "options-no-such-package",
        "only the absent package"
    );
    let (_, out) = make(&["deps-missing", "PKGS=coreutils"]);
    assert_eq!(out.trim(), "", "an installed package is not named");
    // `make test` ran `make deps` first: nothing of the list may be missing afterwards, which
    // is what would have caught the glob that libclang-cpp14 satisfied.
    let (_, out) = make(&["deps-missing"]);
    assert_eq!(out.trim(), "", "packages of the list that dpkg lacks");
}

#[test]
fn every_tool_the_build_and_suite_run_comes_from_a_listed_package() {
    let listed = listed_packages();
    // A listed package, or a package a listed one depends on (libclang-dev → libclang-14-dev).
    let provided_by_list = |pkg: &str| {
        listed.iter().any(|l| {
            l == pkg || {
                let out = Command::new("dpkg-query")
                    .args(["-W", "-f=${Depends}", l])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout)
                    .split(',')
                    .any(|d| d.split_whitespace().next() == Some(pkg))
            }
        })
    };
    let which = |tool: &str| -> std::path::PathBuf {
        let out = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .unwrap();
        let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(!p.is_empty(), "{tool} is not on PATH after make deps");
        p.into()
    };
    let mut files: Vec<(String, std::path::PathBuf)> = [
        "redis-server",
        "redis-cli",
        "redis-benchmark",
        "wrk",
        "node",
        "npm",
        "curl",
        "openssl",
    ]
    .iter()
    .map(|t| (t.to_string(), which(t)))
    .collect();
    files.push(("chromium".into(), "/usr/bin/chromium".into()));
    // What bindgen loads: libclang.so under an llvm-N directory.
    let libclang = std::fs::read_dir("/usr/lib")
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("lib/libclang.so"))
        .find(|p| p.exists())
        .expect("libclang.so for bindgen (libclang-dev)");
    files.push(("libclang.so".into(), libclang));
    for (what, path) in files {
        let pkg = owner(&path).unwrap_or_else(|| panic!("no package owns {path:?} ({what})"));
        assert!(
            provided_by_list(&pkg),
            "{what} ({path:?}) comes from {pkg}, which the Makefile's DEPS does not list: {listed:?}"
        );
    }
}

#[test]
fn doctor_passes_after_deps() {
    let (code, out) = make(&["doctor"]);
    assert_eq!(code, 0, "make doctor:\n{out}");
    for what in ["libclang", "redis-server", "chromium", "node", "wrk"] {
        assert!(
            out.lines().any(|l| l.contains(" ok ") && l.contains(what)),
            "{what} checked:\n{out}"
        );
    }
}
