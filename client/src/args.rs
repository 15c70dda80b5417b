//! The Redis flags, declared once and flattened into every binary that opens Redis
//! (`#[command(flatten)] redis: RedisArgs`), each also read from the replaced system's
//! environment variables (`REDIS_HOST`, `REDIS_PORT`, `REDIS_DB`, `REDIS_PASSWORD`).

use crate::tls::RedisTlsArgs;

/// Where Redis is and how to reach it.
#[derive(clap::Args, Debug, Clone)]
pub struct RedisArgs {
    /// Redis URL (`redis://[:password@]host:port/db`, `rediss://` for TLS). Several
    /// comma-separated URLs, or --redis-cluster, connect to a Redis Cluster. Defaults to one
    /// built from --redis-host, --redis-port, --redis-db and --redis-password.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// Redis host when --redis-url is not given.
    #[arg(long, env = "REDIS_HOST", default_value = "localhost")]
    pub redis_host: String,
    /// Redis port when --redis-url is not given.
    #[arg(long, env = "REDIS_PORT", default_value_t = 6379)]
    pub redis_port: u16,
    /// Redis database number when --redis-url is not given.
    #[arg(long, env = "REDIS_DB", default_value_t = 0)]
    pub redis_db: i64,
    /// Redis password when --redis-url is not given.
    #[arg(long, env = "REDIS_PASSWORD", hide_env_values = true)]
    pub redis_password: Option<String>,
    /// Treat the Redis URL(s) as the seed nodes of a Redis Cluster.
    #[arg(long, env = "REDIS_CLUSTER")]
    pub redis_cluster: bool,
    #[command(flatten)]
    pub tls: RedisTlsArgs,
}

impl RedisArgs {
    /// The Redis URLs to use: --redis-url as given (comma-separated seed nodes for a Cluster),
    /// or one built from host, port, database and password, the password percent-encoded so
    /// that `@`, `:` or `/` in it cannot change the address.
    pub fn urls(&self) -> Vec<String> {
        match &self.redis_url {
            Some(u) => u
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            None => {
                let auth = self
                    .redis_password
                    .as_deref()
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        let encoded = percent_encoding::utf8_percent_encode(
                            p,
                            percent_encoding::NON_ALPHANUMERIC,
                        );
                        format!(":{encoded}@")
                    })
                    .unwrap_or_default();
                vec![format!(
                    "redis://{auth}{}:{}/{}",
                    self.redis_host, self.redis_port, self.redis_db
                )]
            }
        }
    }

    /// A Cluster: asked for, or implied by several URLs.
    pub fn cluster(&self) -> bool {
        self.redis_cluster || self.urls().len() > 1
    }

    /// Flags for a standalone server at `url` (tests and tools that build the flags in code).
    pub fn for_url(url: &str) -> RedisArgs {
        RedisArgs {
            redis_url: Some(url.to_string()),
            redis_host: "localhost".into(),
            redis_port: 6379,
            redis_db: 0,
            redis_password: None,
            redis_cluster: false,
            tls: RedisTlsArgs::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        redis: RedisArgs,
    }

    fn parse(args: &[&str]) -> RedisArgs {
        Cli::parse_from(std::iter::once("x").chain(args.iter().copied())).redis
    }

    #[test]
    fn urls_from_a_list_or_from_parts() {
        let a = parse(&["--redis-url", " redis://a:1/ ,redis://b:2/,"]);
        assert_eq!(a.urls(), ["redis://a:1/", "redis://b:2/"]);
        assert!(a.cluster());
        let a = parse(&[
            "--redis-host",
            "db",
            "--redis-port",
            "6380",
            "--redis-db",
            "2",
            "--redis-password",
            "p@ss:/w",
        ]);
        assert_eq!(a.urls(), ["redis://:p%40ss%3A%2Fw@db:6380/2"]);
        assert!(!a.cluster());
        let a = parse(&["--redis-password", ""]);
        assert_eq!(a.urls(), ["redis://localhost:6379/0"]);
        assert!(parse(&["--redis-url", "redis://a:1", "--redis-cluster"]).cluster());
    }

    #[test]
    fn tls_files_need_each_other() {
        let r = Cli::try_parse_from(["x", "--redis-cert-file", "c.pem"]);
        assert!(r.is_err());
    }
}
