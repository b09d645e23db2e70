//! One configuration per deployment (docs/ORIGIN.md "Many replicas"): on a PostgreSQL
//! database, which many replicas share, the issuer, audience, algorithm and the three
//! credentials live in the database's `meta` table. The first replica to start writes its
//! values (credentials sealed with the master key, which every replica shares); the others
//! read them. A replica that did not set a value explicitly adopts the stored one; an explicit
//! value that differs is a startup error naming the setting (and, except for credentials, both
//! values). `algorithm` is the exception: it may change over time (a changed algorithm takes
//! effect at the next rotation), so an explicit new value replaces the stored one, logged.

use super::algorithm::Algorithm;
use super::config::{Database, Settings, Source};
use super::crypto_at_rest::MasterKey;
use super::secrets::{Credential, Secrets};
use super::store::Store;
use crate::core::{b64url_decode, b64url_encode};

/// The settings that live in the database, by their setting name.
pub const SHARED: [&str; 6] = [
    "issuer",
    "audience",
    "algorithm",
    "api_key",
    "admin_token",
    "edge_credential",
];

fn meta_key(setting: &str) -> String {
    format!("shared.{setting}")
}

fn aad(setting: &str) -> Vec<u8> {
    format!("jwtedge/shared-credential/v1/{setting}").into_bytes()
}

/// Whether this database is shared by replicas (SQLite is one process's file).
pub fn applies(settings: &Settings) -> bool {
    matches!(settings.database, Database::Postgres(_))
}

/// The effect of reconciling: the settings adopted from the database (for logs and
/// `config print`).
#[derive(Debug, Default)]
pub struct Reconciled {
    pub adopted: Vec<&'static str>,
}

fn conflict(setting: &str, source: &Source, local: &str, stored: &str) -> String {
    format!(
        "invalid setting `{setting}` (from {source}): {local:?} conflicts with {stored:?}, the \
         value stored in the shared database by the first replica (one configuration per \
         deployment: unset `{setting}` to adopt the stored value, or set it to the same value)"
    )
}

fn conflict_secret(setting: &str, source: &Source) -> String {
    format!(
        "invalid setting `{setting}` (from {source}): it differs from the one stored in the \
         database (the shared one, written by the first replica; one configuration per deployment: unset \
         `{setting}` to adopt the stored value, or set it to the same value)"
    )
}

/// Writes this replica's values where none are stored, then makes `settings`, `issuer` and
/// `secrets` the deployment's. Errors are startup errors.
pub async fn reconcile(
    store: &dyn Store,
    settings: &mut Settings,
    issuer: &mut String,
    secrets: &mut Secrets,
) -> Result<Reconciled, String> {
    let mut done = Reconciled::default();
    let db = |e: super::store::StoreError| format!("cannot read the database: {e}");

    // Plain values: issuer, audience.
    for setting in ["issuer", "audience"] {
        let local = match setting {
            "issuer" => issuer.clone(),
            _ => settings.audience.clone(),
        };
        let stored = store
            .meta_init(&meta_key(setting), &local)
            .await
            .map_err(db)?;
        if stored == local {
            continue;
        }
        if let Some(source) = settings.explicit.get(setting) {
            return Err(conflict(setting, source, &local, &stored));
        }
        match setting {
            "issuer" => *issuer = stored,
            _ => settings.audience = stored,
        }
        done.adopted.push(setting);
    }

    // The algorithm: an explicit change replaces the stored value (issue 9 migration).
    let local = settings.algorithm.name().to_string();
    let stored = store
        .meta_init(&meta_key("algorithm"), &local)
        .await
        .map_err(db)?;
    if stored != local {
        if settings.explicit.contains_key("algorithm") {
            store
                .meta_set(&meta_key("algorithm"), &local)
                .await
                .map_err(db)?;
            tracing::info!(
                stored = %stored,
                configured = %local,
                "algorithm explicitly changed: the shared database now holds the configured one; restart the other replicas with it (it takes effect at the next rotation)"
            );
        } else {
            settings.algorithm = Algorithm::from_name(&stored).ok_or_else(|| {
                format!("the shared database holds an unknown algorithm {stored:?}")
            })?;
            done.adopted.push("algorithm");
        }
    }

    // Credentials, sealed with the master key.
    let master = secrets.master_key.clone();
    for setting in ["api_key", "admin_token", "edge_credential"] {
        let local = match setting {
            "api_key" => &mut secrets.api_key,
            "admin_token" => &mut secrets.admin_token,
            _ => &mut secrets.edge_credential,
        };
        let sealed = b64url_encode(&master.seal(&aad(setting), local.expose().as_bytes()));
        let stored = store
            .meta_init(&meta_key(setting), &sealed)
            .await
            .map_err(db)?;
        let stored = open(&master, setting, &stored)?;
        if local.matches(&stored) {
            continue;
        }
        if let Some(source) = settings.explicit.get(setting) {
            return Err(conflict_secret(setting, source));
        }
        *local = Credential::new(stored);
        done.adopted.push(setting);
    }
    Ok(done)
}

fn open(master: &MasterKey, setting: &str, stored: &str) -> Result<String, String> {
    b64url_decode(stored.as_bytes())
        .and_then(|sealed| master.open(&aad(setting), &sealed).ok())
        .and_then(|plain| String::from_utf8(plain).ok())
        .ok_or_else(|| {
            format!("the shared database's `{setting}` cannot be opened with this master key")
        })
}
