//! `rediss://` end to end: a real redis-server with TLS (certificates from a private CA made
//! here with the openssl CLI), the feeder writing through it and the web server reading through
//! it, one of them with a client certificate; and a clear refusal when the CA is not trusted.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use options_tests::procs::{wait_for, Feeder, Sim, Web};
use options_tests::{free_port, RedisServer, TempDir};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl on PATH (Debian's openssl package)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed CA: ca.pem and ca.key in `dir`.
fn make_ca(dir: &Path, name: &str) {
    let subject = format!("/CN={name}");
    openssl(
        dir,
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", "ca.key",
            "-out", "ca.pem", "-subj", &subject,
        ],
    );
}

/// ca.pem, server.{pem,key} for 127.0.0.1/localhost, client.{pem,key}, all signed by the CA.
fn make_certificates(dir: &Path) {
    make_ca(dir, "options test CA");
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n",
    )
    .unwrap();
    for name in ["server", "client"] {
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={name}"),
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "san.ext",
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }
}

#[test]
fn feeder_and_web_over_tls_with_a_private_ca_and_a_client_certificate() {
    let certs = TempDir::new("tls");
    let d = certs.path();
    make_certificates(d);
    let path = |f: &str| d.join(f).display().to_string();
    let tls_port = free_port();
    // Plain port for the test's own checks; TLS port for the binaries. Client certificates are
    // required on the TLS port.
    let server = RedisServer::start(&[
        "--tls-port",
        &tls_port.to_string(),
        "--tls-cert-file",
        &path("server.pem"),
        "--tls-key-file",
        &path("server.key"),
        "--tls-ca-cert-file",
        &path("ca.pem"),
        "--tls-auth-clients",
        "yes",
    ]);
    let url = format!("rediss://127.0.0.1:{tls_port}/");
    let sim = Sim::start(&["--assets", "BTC", "--strikes", "4"]);
    let (ca, cert, key) = (path("ca.pem"), path("client.pem"), path("client.key"));
    let tls_flags = [
        "--redis-ca-file",
        ca.as_str(),
        "--redis-cert-file",
        cert.as_str(),
        "--redis-key-file",
        key.as_str(),
    ];

    let mut feeder = Feeder::start(&sim, &url, "BTC", &tls_flags);
    feeder.wait_ready(Duration::from_secs(30));
    let mut con = server.connection();
    let listed = sim.tickers("BTC").len() as u64;
    wait_for(
        Duration::from_secs(20),
        "every BTC contract written over TLS",
        || {
            let stats = options_client::cmd::Stats { key: "BTC".into() };
            let s = options_tests::run(&mut con, &stats).expect("stats");
            (s.contracts == listed).then_some(())
        },
    );

    let web = Web::start(&url, &[&tls_flags[..], &["--assets", "BTC"]].concat());
    let (code, rows) = web.get("/api/options/BTC", &[]);
    assert_eq!(code, 200, "{rows}");
    assert_eq!(rows.as_array().unwrap().len() as u64, listed);

    // Without the client certificate the server refuses the handshake: the web server stays
    // up and says Redis is unavailable.
    let no_cert = Web::start(&url, &["--redis-ca-file", ca.as_str()]);
    let (code, body) = no_cert.get("/api/options/BTC", &[]);
    assert_eq!(code, 503, "{body}");

    // A CA that did not sign the server's certificate is not trusted.
    let other = TempDir::new("tls-other");
    make_ca(other.path(), "another CA");
    let wrong_ca = other.path().join("ca.pem").display().to_string();
    let untrusted = Web::start(
        &url,
        &[
            "--redis-ca-file",
            wrong_ca.as_str(),
            "--redis-cert-file",
            cert.as_str(),
            "--redis-key-file",
            key.as_str(),
        ],
    );
    let (code, body) = untrusted.get("/api/options/BTC", &[]);
    assert_eq!(code, 503, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("Redis"), "{body}");
}

#[test]
fn tls_files_are_checked_at_start_up() {
    // A certificate file for a plain redis:// URL, and a missing file: both end the process at
    // once with a message naming the problem, instead of failing at every reconnect.
    for (url, file, want) in [
        (
            "redis://127.0.0.1:6379/",
            "/etc/hostname",
            "no Redis URL is rediss://",
        ),
        (
            "rediss://127.0.0.1:6379/",
            "/nonexistent/ca.pem",
            "cannot read CA file /nonexistent/ca.pem",
        ),
    ] {
        for bin in ["options-web", "options-feeder"] {
            let out = Command::new(options_tests::procs::binary(bin))
                .args(["--redis-url", url, "--redis-ca-file", file])
                .env_remove("REDIS_URL")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stderr).to_string()
                + &String::from_utf8_lossy(&out.stdout);
            assert!(!out.status.success(), "{bin} started with {file}");
            assert!(text.contains(want), "{bin}: {text}");
        }
    }
}
