//! The origin's secrets: the master key and the three credentials (API key, admin token, edge
//! credential). Configured values win; what is not configured is generated once into the data
//! directory — `master.key` and `credentials.toml`, both mode 0600, written atomically — and
//! read back on later starts. Logs name the files, never the values.
//!
//! Like ssh, startup refuses files another local user could have written or read: the data
//! directory and the SQLite database must belong to the running user and not be writable by
//! group or others; the secret files must belong to the running user and be private (0600).
//! Each refusal names the path and the fix. The three credentials must differ from each other.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::config::{Database, Settings};
use super::crypto_at_rest::{random_id, MasterKey};

pub const MASTER_KEY_FILE: &str = "master.key";
pub const CREDENTIALS_FILE: &str = "credentials.toml";

/// A credential compared in constant time; never printed.
#[derive(Clone)]
pub struct Credential(String);

impl Credential {
    pub fn new(value: String) -> Credential {
        Credential(value)
    }

    /// The value itself, for sealing it into the database; never for logs.
    pub(super) fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison (hashing first makes it independent of lengths too).
    pub fn matches(&self, presented: &str) -> bool {
        use sha2::{Digest, Sha256};
        use subtle::ConstantTimeEq;
        let a = Sha256::digest(self.0.as_bytes());
        let b = Sha256::digest(presented.as_bytes());
        a.ct_eq(&b).into()
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credential(<redacted>)")
    }
}

#[derive(Debug, Clone)]
pub struct Secrets {
    pub master_key: MasterKey,
    pub api_key: Credential,
    pub admin_token: Credential,
    pub edge_credential: Credential,
    /// Files generated on this start (for the log), and files in use.
    pub generated: Vec<PathBuf>,
    pub credentials_file: Option<PathBuf>,
    pub master_key_file: Option<PathBuf>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    api_key: Option<String>,
    admin_token: Option<String>,
    edge_credential: Option<String>,
}

#[derive(Debug)]
pub struct SecretsError(pub String);

impl std::fmt::Display for SecretsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a path holds, for the permission checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guarded {
    /// The data directory (or the SQLite file's directory): others could replace files in it.
    Dir,
    /// master.key, credentials.toml: others must neither read nor write them.
    Secret,
    /// The SQLite database and its journal files: others must not write them (refresh-token
    /// hashes and sealed keys live there).
    Database,
}

fn running_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Refuses `path` when another user owns it or could write it (or read it, for secrets).
/// A path that does not exist passes: what this process creates is private.
fn check_permissions(path: &Path, kind: Guarded) -> Result<(), SecretsError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(SecretsError(format!(
                "cannot inspect {}: {e}",
                path.display()
            )))
        }
    };
    let uid = running_uid();
    if meta.uid() != uid {
        return Err(SecretsError(format!(
            "refusing {}: it is owned by uid {}, not by the user running jwtedge-origin (uid {uid}), \
             so another user could have written it. Fix: check it, then `chown {uid} {}`",
            path.display(),
            meta.uid(),
            path.display()
        )));
    }
    let mode = meta.mode() & 0o7777;
    let (forbidden, exposure, fix) = match kind {
        Guarded::Dir => (0o022, "writable by group or others", "700"),
        Guarded::Secret => (0o077, "readable or writable by group or others", "600"),
        Guarded::Database => (0o022, "writable by group or others", "600"),
    };
    if mode & forbidden != 0 {
        return Err(SecretsError(format!(
            "refusing {}: mode {mode:04o} is {exposure}. Fix: check it, then `chmod {fix} {}`",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

/// Creates the data directory (mode 0700) if needed, and refuses one with loose permissions.
pub fn ensure_data_dir(dir: &Path) -> Result<(), SecretsError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| {
            SecretsError(format!(
                "invalid setting `data_dir`: cannot create {}: {e}",
                dir.display()
            ))
        })?;
    check_permissions(dir, Guarded::Dir)
        .map_err(|e| SecretsError(format!("invalid setting `data_dir`: {e}")))
}

/// The SQLite database and its journal files, and a directory of its own outside data_dir.
fn check_sqlite_files(settings: &Settings) -> Result<(), SecretsError> {
    let Database::Sqlite(db) = &settings.database else {
        return Ok(());
    };
    if let Some(dir) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
        if dir != settings.data_dir {
            check_permissions(dir, Guarded::Dir)?;
        }
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut path = db.as_os_str().to_owned();
        path.push(suffix);
        check_permissions(Path::new(&path), Guarded::Database)?;
    }
    Ok(())
}

/// Writes `contents` to `path` with mode 0600, atomically (temp file, fsync, rename), and
/// never over an existing file.
fn write_new_secret_file(path: &Path, contents: &str) -> Result<(), SecretsError> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let io = |e: std::io::Error| SecretsError(format!("cannot write {}: {e}", path.display()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    f.write_all(contents.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    // hard_link fails if `path` exists: two processes starting at once cannot both win.
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            if let Some(dir) = path.parent() {
                if let Ok(d) = std::fs::File::open(dir) {
                    let _ = d.sync_all();
                }
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io(e)),
    }
}

fn read_secret_file(path: &Path) -> Result<Option<String>, SecretsError> {
    check_permissions(path, Guarded::Secret)?;
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SecretsError(format!("cannot read {}: {e}", path.display()))),
    }
}

fn new_credential() -> String {
    random_id::<32>()
}

/// Resolves every secret (see the module comment).
pub fn resolve(settings: &Settings) -> Result<Secrets, SecretsError> {
    check_sqlite_files(settings)?;
    let mut generated = Vec::new();
    let mut master_key_file = None;
    let master_key = match &settings.master_key {
        Some(text) => MasterKey::from_base64(text)
            .map_err(|m| SecretsError(format!("invalid setting `master_key`: {m}")))?,
        None => {
            ensure_data_dir(&settings.data_dir)?;
            let path = settings.data_dir.join(MASTER_KEY_FILE);
            if read_secret_file(&path)?.is_none() {
                write_new_secret_file(&path, &format!("{}\n", MasterKey::generate().to_base64()))?;
                generated.push(path.clone());
            }
            let text = read_secret_file(&path)?.unwrap_or_default();
            master_key_file = Some(path.clone());
            MasterKey::from_base64(&text).map_err(|m| {
                SecretsError(format!(
                    "{}: {m} (expected 32 bytes in base64)",
                    path.display()
                ))
            })?
        }
    };

    let configured = [
        &settings.api_key,
        &settings.admin_token,
        &settings.edge_credential,
    ];
    let mut credentials_file = None;
    let mut from_file = CredentialsFile::default();
    if configured.iter().any(|c| c.is_none()) {
        ensure_data_dir(&settings.data_dir)?;
        let path = settings.data_dir.join(CREDENTIALS_FILE);
        if read_secret_file(&path)?.is_none() {
            let fresh = CredentialsFile {
                api_key: Some(new_credential()),
                admin_token: Some(new_credential()),
                edge_credential: Some(new_credential()),
            };
            let text = format!(
                "# jwtedge-origin credentials, generated once. Keep this file secret (mode 0600).\n# api_key: POST /sessions; admin_token: /keys; edge_credential: reading an HMAC keyset.\n{}",
                toml::to_string(&fresh).expect("plain strings serialize")
            );
            write_new_secret_file(&path, &text)?;
            generated.push(path.clone());
        }
        let text = read_secret_file(&path)?.unwrap_or_default();
        from_file = toml::from_str(&text).map_err(|e| {
            SecretsError(format!(
                "{} is not valid: {}",
                path.display(),
                super::config::describe_toml_error(&text, &e)
            ))
        })?;
        credentials_file = Some(path);
    }
    let pick = |configured: &Option<String>, filed: Option<String>, name: &str| {
        configured
            .clone()
            .or(filed)
            .map(Credential::new)
            .ok_or_else(|| {
                SecretsError(format!(
                    "setting `{name}` is not configured and {} has no {name}",
                    settings.data_dir.join(CREDENTIALS_FILE).display()
                ))
            })
    };
    let api_key = pick(&settings.api_key, from_file.api_key, "api_key")?;
    let admin_token = pick(&settings.admin_token, from_file.admin_token, "admin_token")?;
    let edge_credential = pick(
        &settings.edge_credential,
        from_file.edge_credential,
        "edge_credential",
    )?;
    // Each credential opens its own routes only: equal values would let one open the others'.
    let named = [
        ("api_key", &api_key),
        ("admin_token", &admin_token),
        ("edge_credential", &edge_credential),
    ];
    for (i, (a, first)) in named.iter().enumerate() {
        for (b, second) in &named[i + 1..] {
            if first.matches(&second.0) {
                return Err(SecretsError(format!(
                    "settings `{a}` and `{b}` have the same value: each credential must be \
                     different (a leaked `{a}` must not also open what `{b}` guards)"
                )));
            }
        }
    }
    Ok(Secrets {
        master_key,
        api_key,
        admin_token,
        edge_credential,
        generated,
        credentials_file,
        master_key_file,
    })
}

/// After credentials were adopted from a shared database: a credentials file generated on
/// this very start holds values nobody uses, so it is written again with the adopted ones (an
/// operator reads the deployment's credentials on any replica). A file that existed before is
/// left alone (the log says which settings were adopted).
pub fn rewrite_generated_credentials(
    settings: &Settings,
    secrets: &Secrets,
) -> Result<(), SecretsError> {
    let Some(path) = secrets
        .credentials_file
        .as_ref()
        .filter(|p| secrets.generated.contains(p))
    else {
        return Ok(());
    };
    let keep = |configured: &Option<String>, c: &Credential| {
        configured.is_none().then(|| c.expose().to_string())
    };
    let adopted = CredentialsFile {
        api_key: keep(&settings.api_key, &secrets.api_key),
        admin_token: keep(&settings.admin_token, &secrets.admin_token),
        edge_credential: keep(&settings.edge_credential, &secrets.edge_credential),
    };
    let text = format!(
        "# jwtedge-origin credentials, adopted from the shared database. Keep this file secret (mode 0600).\n# api_key: POST /sessions; admin_token: /keys; edge_credential: reading an HMAC keyset.\n{}",
        toml::to_string(&adopted).expect("plain strings serialize")
    );
    std::fs::remove_file(path)
        .map_err(|e| SecretsError(format!("cannot replace {}: {e}", path.display())))?;
    write_new_secret_file(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn credentials_compare_exactly() {
        let c = Credential::new("abcdefghijklmnop".into());
        assert!(c.matches("abcdefghijklmnop"));
        assert!(!c.matches("abcdefghijklmnoq"));
        assert!(!c.matches(""));
        assert!(!format!("{c:?}").contains("abc"));
    }

    #[test]
    fn generates_once_with_mode_0600() {
        let dir = std::env::temp_dir().join(format!("jwtedge-secrets-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut raw = super::super::config::RawConfig::default();
        raw.set_flag("data_dir", "--data-dir", dir.display().to_string());
        raw.set_flag("api_key", "--api-key", "configured-api-key-0123".into());
        let settings = raw.resolve(false).unwrap();
        let first = resolve(&settings).unwrap();
        assert_eq!(first.generated.len(), 2);
        for f in &first.generated {
            let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", f.display());
        }
        assert!(first.api_key.matches("configured-api-key-0123"));
        let again = resolve(&settings).unwrap();
        assert!(again.generated.is_empty());
        assert_eq!(again.master_key.to_base64(), first.master_key.to_base64());
        let text = std::fs::read_to_string(dir.join(CREDENTIALS_FILE)).unwrap();
        let parsed: CredentialsFile = toml::from_str(&text).unwrap();
        assert!(again
            .admin_token
            .matches(parsed.admin_token.as_deref().unwrap()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
