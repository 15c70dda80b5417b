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
    assert!(conf
        .lines()
        .any(|l| l.trim() == "loadmodule /usr/lib/redis/modules/libredis_options.so"));
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
