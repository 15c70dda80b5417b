//! `rediss://` certificates: without `--redis-ca-file` a TLS server must have a certificate
//! from a public CA (webpki roots); with it, only that CA is trusted, as self-hosted Redis with
//! its own CA needs. Files are read and checked at start-up, so a wrong path fails then rather
//! than at every reconnect.

use std::path::{Path, PathBuf};

use redis::{ClientTlsConfig, TlsCertificates};

/// The TLS flags (part of [`crate::RedisArgs`]).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RedisTlsArgs {
    /// PEM file of the CA that signed the Redis server's certificate (rediss:// URLs only;
    /// default: public CAs).
    #[arg(long, env = "REDIS_TLS_CA_FILE")]
    pub redis_ca_file: Option<PathBuf>,
    /// PEM client certificate for Redis servers that require one (`tls-auth-clients yes`);
    /// needs --redis-key-file.
    #[arg(long, env = "REDIS_TLS_CERT_FILE", requires = "redis_key_file")]
    pub redis_cert_file: Option<PathBuf>,
    /// PEM private key of --redis-cert-file.
    #[arg(long, env = "REDIS_TLS_KEY_FILE", requires = "redis_cert_file")]
    pub redis_key_file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} {path} holds no PEM certificate or key")]
    NotPem { what: &'static str, path: PathBuf },
    #[error("TLS certificates were given but no Redis URL is rediss:// ({0})")]
    NotTls(String),
}

fn read_pem(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    let bytes = std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })?;
    if !String::from_utf8_lossy(&bytes).contains("-----BEGIN ") {
        return Err(TlsError::NotPem {
            what,
            path: path.to_path_buf(),
        });
    }
    Ok(bytes)
}

impl RedisTlsArgs {
    /// The certificates to use, read and checked now so a wrong path fails at start-up rather
    /// than at every reconnect. `None` when no file is configured.
    pub fn certificates(&self, urls: &[String]) -> Result<Option<TlsCertificates>, TlsError> {
        if self.redis_ca_file.is_none() && self.redis_cert_file.is_none() {
            return Ok(None);
        }
        if let Some(plain) = urls.iter().find(|u| !u.starts_with("rediss://")) {
            return Err(TlsError::NotTls(redact(plain)));
        }
        let root_cert = self
            .redis_ca_file
            .as_deref()
            .map(|p| read_pem("CA file", p))
            .transpose()?;
        let client_tls = match (&self.redis_cert_file, &self.redis_key_file) {
            (Some(c), Some(k)) => Some(ClientTlsConfig {
                client_cert: read_pem("client certificate", c)?,
                client_key: read_pem("client key", k)?,
            }),
            _ => None,
        };
        Ok(Some(TlsCertificates {
            client_tls,
            root_cert,
        }))
    }
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
        _ => url.to_string(),
    }
}

/// A standalone client for `url`, with `certs` when given.
pub fn client(url: &str, certs: Option<&TlsCertificates>) -> redis::RedisResult<redis::Client> {
    match certs {
        Some(c) => redis::Client::build_with_tls(url, c.clone()),
        None => redis::Client::open(url),
    }
}

/// A Cluster client seeded by `urls`, with `certs` when given.
pub fn cluster_client(
    urls: &[String],
    certs: Option<&TlsCertificates>,
) -> redis::RedisResult<redis::cluster::ClusterClient> {
    let builder = redis::cluster::ClusterClientBuilder::new(urls.to_vec());
    match certs {
        Some(c) => builder.certs(c.clone()).build(),
        None => builder.build(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(ca: Option<&str>) -> RedisTlsArgs {
        RedisTlsArgs {
            redis_ca_file: ca.map(PathBuf::from),
            ..Default::default()
        }
    }

    /// The error text (the certificates type has no Debug, so `unwrap_err` is not available).
    fn error(r: Result<Option<TlsCertificates>, TlsError>) -> String {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn no_files_no_certificates() {
        let urls = ["redis://localhost".to_string()];
        assert!(args(None).certificates(&urls).unwrap().is_none());
    }

    #[test]
    fn files_need_tls_urls_and_pem() {
        let dir = std::env::temp_dir().join(format!("redis-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pem = dir.join("ca.pem");
        std::fs::write(
            &pem,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "hello").unwrap();
        let a = args(pem.to_str());
        let err = error(a.certificates(&["redis://:secret@db:6379".to_string()]));
        assert!(
            err.contains("rediss://") && !err.contains("secret"),
            "{err}"
        );
        let tls = ["rediss://db:6380".to_string()];
        assert!(a.certificates(&tls).unwrap().unwrap().root_cert.is_some());
        let err = error(args(junk.to_str()).certificates(&tls));
        assert!(err.contains("holds no PEM"), "{err}");
        let err = error(args(Some("/nonexistent/ca.pem")).certificates(&tls));
        assert!(
            err.starts_with("cannot read CA file /nonexistent/ca.pem"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
