//! `jwtedge-origin config print`: the effective settings, each with where its value came from
//! (default, config file, environment variable, flag, generated into the data directory).
//! Secrets are never printed, and a `database_url` loses its password. Reads nothing but the
//! configuration, whether the generated secret files exist and, on PostgreSQL, the settings
//! stored for the whole deployment (source `database`): it creates nothing.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::config::{Database, RawConfig, Settings, Source, SETTING_TABLE};
use super::secrets::{CREDENTIALS_FILE, MASTER_KEY_FILE};
use super::shared_config::SHARED;
use super::store::probe::redact_url;

/// One line of `config print`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub key: &'static str,
    pub value: String,
    pub source: String,
}

/// In the largest unit that divides it exactly (`168h` prints `7d`, `300s` prints `5m`).
fn duration(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let secs = ms / 1000;
    for (unit, n) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if secs >= n && secs.is_multiple_of(n) {
            return format!("{}{unit}", secs / n);
        }
    }
    format!("{secs}s")
}

/// The effective value of every setting, in the settings table's order.
pub fn effective(raw: &RawConfig, settings: &Settings) -> Vec<Line> {
    SETTING_TABLE
        .iter()
        .map(|info| {
            let source = raw.source_of(info.key);
            let (value, source) = match info.key {
                "master_key" | "api_key" | "admin_token" | "edge_credential" => {
                    secret(info.key, &source, settings)
                }
                key => (plain(key, settings), describe(&source)),
            };
            Line {
                key: info.key,
                value,
                source,
            }
        })
        .collect()
}

/// On a shared database: the settings this replica takes from the database (those it does
/// not set explicitly; `shared_config.rs`) show the stored value and the source `database`.
/// `stored` is what `probe::shared_settings` read (credentials sealed, so only redacted).
pub fn with_database(lines: &mut [Line], settings: &Settings, stored: &BTreeMap<String, String>) {
    for line in lines.iter_mut() {
        if !SHARED.contains(&line.key) || settings.explicit.contains_key(line.key) {
            continue;
        }
        let Some(value) = stored.get(line.key) else {
            continue;
        };
        line.value = match line.key {
            "api_key" | "admin_token" | "edge_credential" => "(redacted)".into(),
            _ => value.clone(),
        };
        line.source = "database".into();
    }
}

fn describe(source: &Source) -> String {
    match source {
        Source::Default => "default".into(),
        Source::File(p) => format!("file {}", p.display()),
        Source::Env(name) => format!("env {name}"),
        Source::Flag(flag) => format!("flag {flag}"),
    }
}

/// A secret: configured (redacted), or generated into the data directory (redacted when the
/// file exists; `serve` writes it at its first start otherwise).
fn secret(key: &str, source: &Source, settings: &Settings) -> (String, String) {
    if *source != Source::Default {
        return ("(redacted)".into(), describe(source));
    }
    let file: PathBuf = settings.data_dir.join(if key == "master_key" {
        MASTER_KEY_FILE
    } else {
        CREDENTIALS_FILE
    });
    if file.is_file() {
        ("(redacted)".into(), format!("generated {}", file.display()))
    } else {
        (
            "(not generated yet)".into(),
            format!("generated at first start into {}", file.display()),
        )
    }
}

fn plain(key: &str, s: &Settings) -> String {
    match key {
        "listen" => s.listen.to_string(),
        "data_dir" => s.data_dir.display().to_string(),
        "database_url" => match &s.database {
            Database::Sqlite(path) => format!("sqlite://{}", path.display()),
            Database::Postgres(url) => redact_url(url),
        },
        "database_pool_size" => s.database_pool_size.to_string(),
        "algorithm" => s.algorithm.name().to_string(),
        "issuer" => s.issuer_for(s.listen),
        "audience" => s.audience.clone(),
        "access_token_ttl" => duration(s.access_token_ttl),
        "refresh_token_ttl" => duration(s.refresh_token_ttl),
        "refresh_grace" => duration(s.refresh_grace),
        "rotation_interval" => s
            .rotation_interval
            .map(duration)
            .unwrap_or_else(|| "off".into()),
        "keyset_max_age" => duration(s.keyset_max_age),
        "leeway" => duration(s.leeway),
        "header_timeout" => duration(s.header_timeout),
        "idle_timeout" => duration(s.idle_timeout),
        "max_connections" => s.max_connections.to_string(),
        "shutdown_timeout" => duration(s.shutdown_timeout),
        // Every key of the table is matched above (the test below checks it).
        _ => "?".into(),
    }
}

/// The text `config print` writes: `key = value  # source`, aligned.
pub fn render(lines: &[Line]) -> String {
    let key_w = lines.iter().map(|l| l.key.len()).max().unwrap_or(0);
    let val_w = lines.iter().map(|l| l.value.len()).max().unwrap_or(0);
    let mut out = String::new();
    for l in lines {
        out.push_str(&format!(
            "{:<key_w$} = {:<val_w$}  # {}\n",
            l.key, l.value, l.source
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::config::SETTINGS;

    const EXAMPLE: &str = include_str!("../../jwtedge-origin.example.toml");

    /// `key = value` lines of the example file, commented out or not.
    fn example_settings() -> Vec<(String, toml::Value)> {
        EXAMPLE
            .lines()
            .map(|l| l.trim_start_matches('#').trim())
            .filter(|l| {
                l.split_once('=')
                    .is_some_and(|(k, _)| SETTINGS.contains(&k.trim()))
            })
            .map(|l| {
                let table: toml::Table = toml::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
                table.into_iter().next().expect("one key")
            })
            .collect()
    }

    #[test]
    fn the_table_lists_every_setting_once_in_order() {
        let keys: Vec<&str> = SETTING_TABLE.iter().map(|i| i.key).collect();
        assert_eq!(keys, SETTINGS.to_vec());
        for info in SETTING_TABLE {
            assert!(!info.meaning.is_empty(), "{}", info.key);
            assert!(
                info.default.is_some() == info.derived_default.is_empty(),
                "{}: a default or a derived default",
                info.key
            );
        }
    }

    #[test]
    fn the_example_file_lists_every_setting_with_its_default() {
        let found = example_settings();
        let mut keys: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort();
        let mut expected = SETTINGS.to_vec();
        expected.sort();
        assert_eq!(
            keys, expected,
            "each setting exactly once in the example file"
        );
        for (key, value) in &found {
            let info = SETTING_TABLE.iter().find(|i| i.key == key).unwrap();
            if let Some(default) = info.default {
                let text = match value {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                assert_eq!(text, default, "example value of {key}");
            }
            // The meaning is written above each setting.
            assert!(
                EXAMPLE.contains(&format!("{key} =")),
                "{key} in the example"
            );
        }
    }

    #[test]
    fn the_example_defaults_resolve_like_the_built_in_ones() {
        // Uncommented, the example's defaulted settings must change nothing.
        let text: String = example_settings()
            .into_iter()
            .filter(|(k, _)| {
                SETTING_TABLE
                    .iter()
                    .any(|i| i.key == k && i.default.is_some())
            })
            .map(|(k, v)| format!("{k} = {v}\n"))
            .collect();
        let dir = std::env::temp_dir().join(format!("jwtedge-example-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("example.toml");
        std::fs::write(&file, &text).unwrap();
        let mut raw = RawConfig::default();
        raw.load_file(&file).unwrap();
        let from_file = raw.resolve(true).unwrap();
        let builtin_raw = RawConfig::default();
        let builtin = builtin_raw.resolve(false).unwrap();
        let values = |raw: &RawConfig, s: &Settings| -> Vec<(&str, String)> {
            effective(raw, s)
                .into_iter()
                .map(|l| (l.key, l.value))
                .collect()
        };
        assert_eq!(values(&raw, &from_file), values(&builtin_raw, &builtin));
        let sources = effective(&raw, &from_file);
        assert!(sources
            .iter()
            .filter(|l| l.key == "leeway")
            .all(|l| l.source.starts_with("file ")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn secrets_are_redacted_and_sources_named() {
        let mut raw = RawConfig::default();
        raw.load_env([
            (
                "JWTEDGE_API_KEY".to_string(),
                "SECRET-api-key-0123456789".to_string(),
            ),
            (
                "JWTEDGE_DATABASE_URL".to_string(),
                "postgres://u:SECRET@db.example/j?sslmode=require".to_string(),
            ),
        ]);
        raw.set_flag("listen", "--listen", "127.0.0.1:9".into());
        let s = raw.resolve(false).unwrap();
        let lines = effective(&raw, &s);
        let text = render(&lines);
        assert!(!text.contains("SECRET"), "{text}");
        assert!(!text.contains('?'), "every key rendered: {text}");
        let line = |k: &str| lines.iter().find(|l| l.key == k).unwrap().clone();
        assert_eq!(line("api_key").value, "(redacted)");
        assert_eq!(line("api_key").source, "env JWTEDGE_API_KEY");
        assert_eq!(line("database_url").value, "postgres://u@db.example/j");
        assert_eq!(line("listen").source, "flag --listen");
        assert_eq!(line("audience").source, "default");
        assert!(line("admin_token").source.starts_with("generated"));
        assert_eq!(line("issuer").value, "http://127.0.0.1:9");
    }
}
