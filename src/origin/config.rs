//! The origin's settings (SPEC §7 table): defaults, the TOML file (`--config`), `JWTEDGE_*`
//! environment variables, and command-line flags, in rising precedence. Every value is
//! validated here; a bad one is a [`ConfigError`] that names the setting and where it came
//! from, so startup stops with a clear message.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::origin::algorithm::Algorithm;

/// Every setting, by its TOML key. The environment variable is `JWTEDGE_` + the key uppercased.
pub const SETTINGS: [&str; 21] = [
    "listen",
    "data_dir",
    "database_url",
    "database_pool_size",
    "master_key",
    "api_key",
    "admin_token",
    "edge_credential",
    "algorithm",
    "issuer",
    "audience",
    "access_token_ttl",
    "refresh_token_ttl",
    "refresh_grace",
    "rotation_interval",
    "keyset_max_age",
    "leeway",
    "header_timeout",
    "idle_timeout",
    "max_connections",
    "shutdown_timeout",
];

/// One setting's documentation: the single source of `--help`, `config print` and the example
/// file's test (`jwtedge-origin.example.toml`). `default` is the text `resolve` falls back to;
/// `None` when the default is derived (SQLite in `data_dir`, generated secrets, the issuer).
#[derive(Debug, Clone, Copy)]
pub struct SettingInfo {
    pub key: &'static str,
    pub default: Option<&'static str>,
    /// What the default is when `default` is `None`.
    pub derived_default: &'static str,
    pub meaning: &'static str,
    /// Never printed (`config print` shows `(redacted)`).
    pub secret: bool,
}

const fn s(key: &'static str, default: &'static str, meaning: &'static str) -> SettingInfo {
    SettingInfo {
        key,
        default: Some(default),
        derived_default: "",
        meaning,
        secret: false,
    }
}

const fn derived(
    key: &'static str,
    derived_default: &'static str,
    meaning: &'static str,
    secret: bool,
) -> SettingInfo {
    SettingInfo {
        key,
        default: None,
        derived_default,
        meaning,
        secret,
    }
}

/// Every setting with its default and meaning, in [`SETTINGS`] order.
pub const SETTING_TABLE: [SettingInfo; 21] = [
    s("listen", "127.0.0.1:8080", "listen address; port 0 picks a free one"),
    s("data_dir", "./jwtedge-data", "SQLite file, generated master key and credentials"),
    derived("database_url", "SQLite in data_dir", "postgres://… for many replicas (sslmode, sslrootcert); sqlite://PATH for another SQLite file", false),
    s("database_pool_size", "8", "PostgreSQL connections per process at most (1-1000)"),
    derived("master_key", "generated into data_dir/master.key", "32 bytes, base64; seals private keys at rest", true),
    derived("api_key", "generated into data_dir/credentials.toml", "authorises POST /sessions, GET /sessions?sub=, revoking by session id or subject", true),
    derived("admin_token", "generated into data_dir/credentials.toml", "authorises /keys", true),
    derived("edge_credential", "generated into data_dir/credentials.toml", "authorises reading an HMAC keyset", true),
    s("algorithm", "EdDSA", "algorithm of newly generated keys: EdDSA, ES256, RS256 or HS256"),
    derived("issuer", "http://<listen address>", "iss of issued tokens", false),
    s("audience", "api", "aud of issued tokens"),
    s("access_token_ttl", "1h", "access token lifetime, whole seconds, at least 1s"),
    s("refresh_token_ttl", "100d", "lifetime of each refresh token (sliding)"),
    s("refresh_grace", "30s", "a rotated refresh token is still accepted this long"),
    s("rotation_interval", "168h", "key rotation interval, at least 1s, or off"),
    s("keyset_max_age", "300s", "Cache-Control max-age of the keyset"),
    s("leeway", "5s", "added to the retirement time of previous keys"),
    s("header_timeout", "10s", "request head (and then body) must arrive within this; 100ms-1h"),
    s("idle_timeout", "60s", "idle keep-alive connections are closed after this; 100ms-1h"),
    s("max_connections", "1024", "open connections at most (lowered to fit ulimit -n)"),
    s("shutdown_timeout", "10s", "on SIGTERM/SIGINT, requests in flight get this long"),
];

/// The built-in default text of `setting` (settings with a derived default have none).
pub fn default_text(setting: &str) -> &'static str {
    SETTING_TABLE
        .iter()
        .find(|i| i.key == setting)
        .and_then(|i| i.default)
        .unwrap_or("")
}

/// The settings as `--help` text (`serve --help`): key, environment variable, default, meaning.
pub fn settings_help() -> String {
    let mut out = String::from(
        "Settings (TOML key in --config FILE / environment variable; variables beat the file, \
         the flags --listen, --data-dir, --database-url beat both; `config print` shows the \
         effective values):\n",
    );
    for info in SETTING_TABLE {
        let default = info.default.unwrap_or(info.derived_default);
        out.push_str(&format!(
            "  {} / {}  [default: {default}]\n      {}\n",
            info.key,
            env_name(info.key),
            info.meaning
        ));
    }
    out.push_str("Durations: 2s, 15m, 168h, 100d (a bare number is seconds). See docs/ORIGIN.md.");
    out
}

/// Configured credentials shorter than this are refused.
pub const MIN_SECRET_LEN: usize = 16;

pub fn env_name(setting: &str) -> String {
    format!("JWTEDGE_{}", setting.to_ascii_uppercase())
}

/// Where a value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    Env(String),
    Flag(String),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(p) => write!(f, "config file {}", p.display()),
            Source::Env(name) => write!(f, "environment variable {name}"),
            Source::Flag(flag) => write!(f, "command-line flag {flag}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub setting: String,
    pub source: Source,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid setting `{}` (from {}): {}",
            self.setting, self.source, self.message
        )
    }
}

impl std::error::Error for ConfigError {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// The embedded default: one SQLite file.
    Sqlite(PathBuf),
    /// `postgres://…`: many replicas share it.
    Postgres(String),
}

/// The validated settings. Secrets left unset here are generated into the data directory
/// (see `secrets.rs`).
#[derive(Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database: Database,
    /// PostgreSQL connections per process at most (the pool's size).
    pub database_pool_size: usize,
    pub master_key: Option<String>,
    pub api_key: Option<String>,
    pub admin_token: Option<String>,
    pub edge_credential: Option<String>,
    pub algorithm: Algorithm,
    /// `None`: `http://<listen address>` (the bound address when serving).
    pub issuer: Option<String>,
    pub audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub refresh_grace: Duration,
    /// `None` is `off`.
    pub rotation_interval: Option<Duration>,
    pub keyset_max_age: Duration,
    pub leeway: Duration,
    /// SPEC §7 "Serving" (see serve.rs): a request head must be complete this long after its
    /// first byte; an idle keep-alive connection is closed after `idle_timeout`.
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    /// Open connections at most (lowered to fit the open-file limit when serving).
    pub max_connections: usize,
    /// On SIGTERM/SIGINT, requests in flight get this long; then the process exits anyway.
    pub shutdown_timeout: Duration,
    /// True when nothing at all was configured (no file, no variable, no flag): the embedded
    /// default, which `serve` explains at startup.
    pub embedded_default: bool,
    /// Settings given explicitly (file, variable, flag) and where, as opposed to defaulted: on
    /// a shared database only these can conflict with the stored deployment configuration.
    pub explicit: BTreeMap<&'static str, Source>,
}

impl std::fmt::Debug for Settings {
    // Never print secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("rotation_interval", &self.rotation_interval)
            .finish_non_exhaustive()
    }
}

/// Raw values before validation: setting → (text, source).
#[derive(Debug, Default, Clone)]
pub struct RawConfig {
    values: BTreeMap<&'static str, (String, Source)>,
}

fn known(setting: &str) -> Option<&'static str> {
    SETTINGS.iter().copied().find(|s| *s == setting)
}

impl RawConfig {
    /// Reads a TOML file: a flat table of the settings. Durations may be strings (`"2s"`) or
    /// integers (seconds). Unknown keys are errors (a typo must not silently use a default).
    pub fn load_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let file_err = |setting: &str, message: String| ConfigError {
            setting: setting.to_string(),
            source: Source::File(path.to_path_buf()),
            message,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| file_err("--config", format!("cannot read the file: {e}")))?;
        let table: toml::Table = toml::from_str(&text)
            .map_err(|e| file_err("--config", describe_toml_error(&text, &e)))?;
        for (key, value) in table {
            let setting = known(&key).ok_or_else(|| {
                file_err(
                    &key,
                    format!("unknown setting (known: {})", SETTINGS.join(", ")),
                )
            })?;
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                other => {
                    return Err(file_err(
                        setting,
                        format!("expected a string, found {}", other.type_str()),
                    ))
                }
            };
            self.values
                .insert(setting, (text, Source::File(path.to_path_buf())));
        }
        Ok(())
    }

    /// Applies `JWTEDGE_*` variables from `vars`. An empty variable counts as unset.
    pub fn load_env<I: IntoIterator<Item = (String, String)>>(&mut self, vars: I) {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        for setting in SETTINGS {
            let name = env_name(setting);
            if let Some(v) = vars.get(&name).filter(|v| !v.is_empty()) {
                self.values.insert(setting, (v.clone(), Source::Env(name)));
            }
        }
    }

    /// `JWTEDGE_*` variables that are not settings (typos), to warn about.
    pub fn unknown_env<I: IntoIterator<Item = (String, String)>>(vars: I) -> Vec<String> {
        let mut unknown: Vec<String> = vars
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with("JWTEDGE_"))
            .filter(|k| {
                !k.starts_with("JWTEDGE_TEST_") && k != "JWTEDGE_LOG" && k != "JWTEDGE_LOG_FORMAT"
            })
            .filter(|k| !SETTINGS.iter().any(|s| env_name(s) == *k))
            .collect();
        unknown.sort();
        unknown
    }

    pub fn set_flag(&mut self, setting: &'static str, flag: &str, value: String) {
        self.values
            .insert(setting, (value, Source::Flag(flag.into())));
    }

    /// Where `setting`'s value comes from (`Default` when nothing set it).
    pub fn source_of(&self, setting: &str) -> Source {
        self.get(setting)
            .map(|(_, s)| s.clone())
            .unwrap_or(Source::Default)
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    fn get(&self, setting: &str) -> Option<(&str, &Source)> {
        self.values.get(setting).map(|(v, s)| (v.as_str(), s))
    }

    /// Validates everything into [`Settings`].
    pub fn resolve(&self, config_file_given: bool) -> Result<Settings, ConfigError> {
        let err = |setting: &str, message: String| {
            let source = self
                .get(setting)
                .map(|(_, s)| s.clone())
                .unwrap_or(Source::Default);
            ConfigError {
                setting: setting.to_string(),
                source,
                message,
            }
        };
        let text = |setting: &str, default: &str| -> String {
            self.get(setting)
                .map(|(v, _)| v.to_string())
                .unwrap_or_else(|| default.to_string())
        };
        let duration = |setting: &str, default: &str| -> Result<Duration, ConfigError> {
            parse_duration(&text(setting, default)).map_err(|m| err(setting, m))
        };

        let listen_text = text("listen", default_text("listen"));
        let listen: SocketAddr = listen_text.trim().parse().map_err(|_| {
            err(
                "listen",
                format!("{listen_text:?} is not an address like 127.0.0.1:8080"),
            )
        })?;
        let data_dir = PathBuf::from(text("data_dir", default_text("data_dir")));
        if data_dir.as_os_str().is_empty() {
            return Err(err("data_dir", "must not be empty".into()));
        }
        let database = match self.get("database_url") {
            None => Database::Sqlite(data_dir.join("jwtedge.sqlite3")),
            Some((url, _)) => {
                let url = url.trim();
                if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                    // sslmode / sslrootcert included (libpq's TLS parameters).
                    super::store::pg_tls::parse_url(url).map_err(|m| err("database_url", m))?;
                    Database::Postgres(url.to_string())
                } else if let Some(path) = url.strip_prefix("sqlite://") {
                    if path.is_empty() {
                        return Err(err("database_url", "sqlite:// needs a file path".into()));
                    }
                    Database::Sqlite(PathBuf::from(path))
                } else {
                    return Err(err(
                        "database_url",
                        "expected postgres://… (or sqlite://PATH); leave it unset for SQLite in data_dir"
                            .into(),
                    ));
                }
            }
        };
        if let Some((mk, _)) = self.get("master_key") {
            super::crypto_at_rest::MasterKey::from_base64(mk)
                .map_err(|m| err("master_key", format!("{m} (expected 32 bytes in base64)")))?;
        }
        let secret = |setting: &str| -> Result<Option<String>, ConfigError> {
            match self.get(setting) {
                None => Ok(None),
                Some((v, _)) if v.len() < MIN_SECRET_LEN => Err(err(
                    setting,
                    format!("must be at least {MIN_SECRET_LEN} characters"),
                )),
                Some((v, _)) if v.chars().any(|c| c.is_whitespace() || c.is_control()) => Err(err(
                    setting,
                    "must not contain spaces or control characters".into(),
                )),
                Some((v, _)) => Ok(Some(v.to_string())),
            }
        };
        let algorithm_text = text("algorithm", default_text("algorithm"));
        let algorithm = Algorithm::from_name(algorithm_text.trim()).ok_or_else(|| {
            err(
                "algorithm",
                format!(
                    "{algorithm_text:?} is not supported: use {}",
                    Algorithm::NAMES
                ),
            )
        })?;
        let issuer = match self.get("issuer") {
            Some((v, _)) if v.trim().is_empty() => {
                return Err(err("issuer", "must not be empty".into()))
            }
            Some((v, _)) => Some(v.trim().to_string()),
            None => None,
        };
        let audience = text("audience", default_text("audience"))
            .trim()
            .to_string();
        if audience.is_empty() {
            return Err(err("audience", "must not be empty".into()));
        }
        let access_token_ttl = duration("access_token_ttl", default_text("access_token_ttl"))?;
        if access_token_ttl < Duration::from_secs(1) || access_token_ttl.subsec_nanos() != 0 {
            return Err(err(
                "access_token_ttl",
                "must be a whole number of seconds, at least 1s".into(),
            ));
        }
        let refresh_token_ttl = duration("refresh_token_ttl", default_text("refresh_token_ttl"))?;
        if refresh_token_ttl < Duration::from_secs(1) {
            return Err(err("refresh_token_ttl", "must be at least 1s".into()));
        }
        let refresh_grace = duration("refresh_grace", default_text("refresh_grace"))?;
        let rotation_text = text("rotation_interval", default_text("rotation_interval"));
        let rotation_interval = if rotation_text.trim().eq_ignore_ascii_case("off") {
            None
        } else {
            let d = parse_duration(&rotation_text)
                .map_err(|m| err("rotation_interval", format!("{m}, or \"off\"")))?;
            if d < Duration::from_secs(1) {
                return Err(err(
                    "rotation_interval",
                    "must be at least 1s, or \"off\"".into(),
                ));
            }
            Some(d)
        };
        let keyset_max_age = duration("keyset_max_age", default_text("keyset_max_age"))?;
        let leeway = duration("leeway", default_text("leeway"))?;
        let header_timeout = duration("header_timeout", default_text("header_timeout"))?;
        let idle_timeout = duration("idle_timeout", default_text("idle_timeout"))?;
        for (setting, d) in [
            ("header_timeout", header_timeout),
            ("idle_timeout", idle_timeout),
        ] {
            if d < Duration::from_millis(100) || d > Duration::from_secs(3600) {
                return Err(err(setting, "must be between 100ms and 1h".into()));
            }
        }
        let max_connections_text = text("max_connections", default_text("max_connections"));
        let max_connections = max_connections_text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| {
                err(
                    "max_connections",
                    format!("{max_connections_text:?} is not a number from 1 to 1000000"),
                )
            })?;
        let pool_text = text("database_pool_size", default_text("database_pool_size"));
        let database_pool_size = pool_text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                err(
                    "database_pool_size",
                    format!("{pool_text:?} is not a number from 1 to 1000"),
                )
            })?;
        let shutdown_timeout = duration("shutdown_timeout", default_text("shutdown_timeout"))?;
        if shutdown_timeout > Duration::from_secs(3600) {
            return Err(err("shutdown_timeout", "must be at most 1h".into()));
        }
        Ok(Settings {
            listen,
            data_dir,
            database,
            database_pool_size,
            master_key: self.get("master_key").map(|(v, _)| v.trim().to_string()),
            api_key: secret("api_key")?,
            admin_token: secret("admin_token")?,
            edge_credential: secret("edge_credential")?,
            algorithm,
            issuer,
            audience,
            access_token_ttl,
            refresh_token_ttl,
            refresh_grace,
            rotation_interval,
            keyset_max_age,
            leeway,
            header_timeout,
            idle_timeout,
            max_connections,
            shutdown_timeout,
            embedded_default: self.is_empty() && !config_file_given,
            explicit: self
                .values
                .iter()
                .map(|(k, (_, source))| (*k, source.clone()))
                .collect(),
        })
    }
}

/// A TOML syntax error told by line, column and setting only. toml's own rendering quotes the
/// offending line, which may hold a secret (`admin_token = "…` with its closing quote missing),
/// and its message can quote the text too: neither is used.
pub fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    let Some(span) = error.span() else {
        return "not valid TOML (the text is not shown: it may hold a secret)".into();
    };
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..start].chars().count() + 1;
    // The key of that line, named only when it is a setting (anything else could be a secret
    // pasted without its key).
    let key = text[line_start..]
        .lines()
        .next()
        .and_then(|l| l.split_once('='))
        .map(|(k, _)| k.trim().trim_matches(|c| c == '"' || c == '\''))
        .and_then(known);
    match key {
        Some(key) => format!(
            "not valid TOML at line {line}, column {column}, the line of setting `{key}` (its text is not shown: it may hold a secret)"
        ),
        None => format!(
            "not valid TOML at line {line}, column {column} (the line is not shown: it may hold a secret)"
        ),
    }
}

/// Largest duration accepted (100 years): keeps every time computation far from overflow.
const MAX_DURATION: Duration = Duration::from_secs(100 * 366 * 24 * 3600);

/// humantime durations (`2s`, `15m`, `168h`, `100d`); a bare integer is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let d = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| format!("{text:?} is too large"))?
    } else {
        humantime::parse_duration(text)
            .map_err(|e| format!("{text:?} is not a duration like 2s, 15m, 168h ({e})"))?
    };
    if d > MAX_DURATION {
        return Err(format!("{text:?} is longer than 100 years"));
    }
    Ok(d)
}

impl Settings {
    /// The `iss` of issued tokens: the configured issuer, or `http://<addr>`.
    pub fn issuer_for(&self, addr: SocketAddr) -> String {
        self.issuer
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"))
    }

    pub fn lifecycle_policy(&self) -> super::keys::Policy {
        super::keys::Policy {
            algorithm: self.algorithm,
            rotation_interval_ms: self.rotation_interval.map(|d| d.as_millis() as i64),
            retire_after_ms: (self.access_token_ttl + self.leeway + super::PROPAGATION_BOUND)
                .as_millis() as i64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults() {
        let s = RawConfig::default().resolve(false).unwrap();
        assert!(s.embedded_default);
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.data_dir, PathBuf::from("./jwtedge-data"));
        assert_eq!(
            s.database,
            Database::Sqlite(PathBuf::from("./jwtedge-data/jwtedge.sqlite3"))
        );
        assert_eq!(s.algorithm, Algorithm::EdDsa);
        assert_eq!(s.audience, "api");
        assert_eq!(s.access_token_ttl, Duration::from_secs(3600));
        assert_eq!(s.refresh_token_ttl, Duration::from_secs(100 * 86400));
        assert_eq!(s.refresh_grace, Duration::from_secs(30));
        assert_eq!(s.rotation_interval, Some(Duration::from_secs(168 * 3600)));
        assert_eq!(s.keyset_max_age, Duration::from_secs(300));
        assert_eq!(s.leeway, Duration::from_secs(5));
        assert_eq!(
            s.issuer_for("127.0.0.1:9".parse().unwrap()),
            "http://127.0.0.1:9"
        );
    }

    #[test]
    fn env_beats_file_and_flags_beat_env() {
        let dir = std::env::temp_dir().join(format!("jwtedge-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(
            &file,
            "algorithm = \"HS256\"\naudience = \"from-file\"\naccess_token_ttl = 60\nrotation_interval = \"off\"\n",
        )
        .unwrap();
        let mut raw = RawConfig::default();
        raw.load_file(&file).unwrap();
        raw.load_env(env(&[
            ("JWTEDGE_AUDIENCE", "from-env"),
            ("JWTEDGE_LISTEN", "127.0.0.1:1"),
            ("JWTEDGE_ISSUER", ""),
        ]));
        raw.set_flag("listen", "--listen", "127.0.0.1:2".into());
        let s = raw.resolve(true).unwrap();
        assert!(!s.embedded_default);
        assert_eq!(s.algorithm, Algorithm::Hs256);
        assert_eq!(s.audience, "from-env");
        assert_eq!(s.access_token_ttl, Duration::from_secs(60));
        assert_eq!(s.rotation_interval, None);
        assert_eq!(s.listen.port(), 2);
        assert_eq!(s.issuer, None, "empty variable counts as unset");
        std::fs::write(&file, "rotation_intervall = \"1h\"\n").unwrap();
        let e = RawConfig::default().load_file(&file).unwrap_err();
        assert_eq!(e.setting, "rotation_intervall");
        assert!(e.to_string().contains("unknown setting"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_values_name_the_setting_and_source() {
        let cases = [
            ("JWTEDGE_LISTEN", "nowhere", "listen"),
            ("JWTEDGE_ALGORITHM", "RS384", "algorithm"),
            ("JWTEDGE_ALGORITHM", "none", "algorithm"),
            ("JWTEDGE_ACCESS_TOKEN_TTL", "soon", "access_token_ttl"),
            ("JWTEDGE_ACCESS_TOKEN_TTL", "0s", "access_token_ttl"),
            ("JWTEDGE_ACCESS_TOKEN_TTL", "1500ms", "access_token_ttl"),
            ("JWTEDGE_ROTATION_INTERVAL", "never", "rotation_interval"),
            ("JWTEDGE_ROTATION_INTERVAL", "10ms", "rotation_interval"),
            ("JWTEDGE_MASTER_KEY", "c2hvcnQ=", "master_key"),
            ("JWTEDGE_API_KEY", "short", "api_key"),
            ("JWTEDGE_ADMIN_TOKEN", "has a space in it!", "admin_token"),
            ("JWTEDGE_DATABASE_URL", "mysql://x", "database_url"),
            ("JWTEDGE_KEYSET_MAX_AGE", "999999999999d", "keyset_max_age"),
        ];
        for (var, value, setting) in cases {
            let mut raw = RawConfig::default();
            raw.load_env(env(&[(var, value)]));
            let e = raw
                .resolve(false)
                .err()
                .unwrap_or_else(|| panic!("{var}={value} accepted"));
            assert_eq!(e.setting, setting, "{var}={value}");
            assert_eq!(e.source, Source::Env(var.into()));
            assert!(e.to_string().contains(var), "{e}");
            assert!(
                !e.to_string().contains("has a space"),
                "no secret echoed: {e}"
            );
        }
    }

    #[test]
    fn serving_settings() {
        let s = RawConfig::default().resolve(false).unwrap();
        assert_eq!(s.header_timeout, Duration::from_secs(10));
        assert_eq!(s.idle_timeout, Duration::from_secs(60));
        assert_eq!(s.max_connections, 1024);
        assert_eq!(s.shutdown_timeout, Duration::from_secs(10));
        let mut raw = RawConfig::default();
        raw.load_env(env(&[
            ("JWTEDGE_HEADER_TIMEOUT", "1500ms"),
            ("JWTEDGE_MAX_CONNECTIONS", "10"),
            ("JWTEDGE_SHUTDOWN_TIMEOUT", "0s"),
        ]));
        let s = raw.resolve(false).unwrap();
        assert_eq!(s.header_timeout, Duration::from_millis(1500));
        assert_eq!(s.max_connections, 10);
        assert_eq!(s.shutdown_timeout, Duration::ZERO);
        for (var, value) in [
            ("JWTEDGE_HEADER_TIMEOUT", "0s"),
            ("JWTEDGE_IDLE_TIMEOUT", "2h"),
            ("JWTEDGE_MAX_CONNECTIONS", "0"),
            ("JWTEDGE_MAX_CONNECTIONS", "many"),
            ("JWTEDGE_SHUTDOWN_TIMEOUT", "2h"),
        ] {
            let mut raw = RawConfig::default();
            raw.load_env(env(&[(var, value)]));
            let e = raw.resolve(false).expect_err(var);
            assert_eq!(e.source, Source::Env(var.into()));
        }
    }

    #[test]
    fn toml_errors_never_quote_the_text() {
        let cases = [
            (
                "a = 1\nadmin_token = \"SECRET-abc\n",
                2,
                Some("admin_token"),
            ),
            ("\n\n\"api_key\" = 'SECRET-x\n", 3, Some("api_key")),
            ("SECRET-pasted-alone\n", 1, None),
            ("listen = \"x\"\nlisten = \"SECRET\"\n", 2, Some("listen")),
            ("é = 1\nx = [\"SECRET\"\n", 2, None),
        ];
        for (text, line, key) in cases {
            let e = toml::from_str::<toml::Table>(text).unwrap_err();
            let told = describe_toml_error(text, &e);
            assert!(!told.contains("SECRET"), "{told}");
            assert!(told.contains(&format!("line {line},")), "{text:?}: {told}");
            match key {
                Some(k) => assert!(told.contains(&format!("`{k}`")), "{told}"),
                None => assert!(!told.contains('`'), "{told}"),
            }
        }
    }

    #[test]
    fn unknown_env_vars_are_reported() {
        let vars = env(&[
            ("JWTEDGE_ROTATION_INTERVALL", "1h"),
            ("JWTEDGE_LISTEN", "x"),
            ("JWTEDGE_TEST_DATABASE_URL", "x"),
            ("PATH", "x"),
        ]);
        assert_eq!(
            RawConfig::unknown_env(vars),
            vec!["JWTEDGE_ROTATION_INTERVALL".to_string()]
        );
    }
}
