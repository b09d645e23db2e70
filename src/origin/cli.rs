//! The command line (SPEC §7): `serve` (the default), `keys list|rotate|revoke KID|import
//! FILE`, `token issue --sub S`. Loads the settings (file < environment < flags), sets up the
//! log (stderr; level from `JWTEDGE_LOG`), and runs the command. `serve` prints where it
//! listens on stdout; configuration errors exit with status 2 and a message naming the setting.
//! `JWTEDGE_LOG_FORMAT=json` switches the log to one JSON object per line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use tokio::sync::watch;

use super::algorithm::Algorithm;
use super::config::{RawConfig, Settings};
use super::keys::KeyOutcome;
use super::secrets::CREDENTIALS_FILE;
use super::service::{now_ms, ManualRotation, Origin};

#[derive(Parser, Debug)]
#[command(
    name = "jwtedge-origin",
    version,
    about = "jwtedge key origin: signs access tokens, rotates keys, serves the keyset",
    after_help = "Every setting can also come from a TOML file (--config) or a JWTEDGE_* \
                  environment variable; variables beat the file, flags beat both. See docs/ORIGIN.md."
)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// `postgres://…` for replicas sharing a database (default: SQLite in the data directory).
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Data directory (SQLite file, generated master key and credentials).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<String>,
    /// Listen address; port 0 picks a free port.
    #[arg(long, global = true, value_name = "ADDR")]
    listen: Option<String>,
    /// Let `keys …` and `token issue` create the store (keys, generated secrets) when the data
    /// directory or database holds none; without it they refuse (`serve` always creates).
    #[arg(long, global = true)]
    init: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the HTTP server (the default command).
    Serve,
    /// Manage signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Issue tokens for local testing.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Show the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Print the effective settings, each with its source (default, file, env, flag,
    /// generated); secrets are redacted. Creates nothing.
    Print,
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// List keys with their lifecycle state and times.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Rotate now: next becomes current, current becomes previous, a fresh next is made.
    Rotate {
        /// Make the fresh next key in this algorithm (EdDSA, ES256, RS256, HS256); it signs
        /// at the rotation after this one. Set `algorithm` too, or later keys use the
        /// configured one again.
        #[arg(long, value_name = "ALG")]
        algorithm: Option<String>,
        /// Rotate although the next key is not ready (published for less than
        /// keyset_max_age), and promote a next key of another algorithm published for less
        /// than keyset_max_age (edges may not have it yet). The CLI cannot see which keyset
        /// versions edges present (the serving processes count them, in memory; see
        /// `GET /keys/adoption`), so it applies only the published-time rule.
        #[arg(long)]
        force: bool,
    },
    /// Emergency revoke: the key leaves the keyset at once (if current, next signs).
    Revoke {
        /// The key id, as `keys list` shows it.
        kid: String,
    },
    /// Install a private key as the current key: a private JWK (Ed25519 or P-256 with "d",
    /// RSA with its private members, or oct), a JWKS holding one, or a PEM private key
    /// (PKCS#8 "PRIVATE KEY" as `openssl genpkey` writes it, "EC PRIVATE KEY", "RSA PRIVATE
    /// KEY") of Ed25519, P-256 or RSA 2048-4096.
    Import {
        /// The file holding the private key (JWK, one-key JWKS or PEM).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Import a key of another algorithm than the current one (says what changes first).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Create a session and print its access token.
    Issue {
        /// The token's subject (`sub` claim).
        #[arg(long)]
        sub: String,
        /// Custom claims, a JSON object.
        #[arg(long, value_name = "JSON")]
        claims: Option<String>,
    },
}

fn load_settings(cli: &Cli) -> Result<Settings, String> {
    let raw = load_raw(cli)?;
    raw.resolve(cli.config.is_some()).map_err(|e| e.to_string())
}

fn load_raw(cli: &Cli) -> Result<RawConfig, String> {
    let mut raw = RawConfig::default();
    if let Some(path) = &cli.config {
        raw.load_file(path).map_err(|e| e.to_string())?;
    }
    raw.load_env(std::env::vars());
    if let Some(v) = &cli.database_url {
        raw.set_flag("database_url", "--database-url", v.clone());
    }
    if let Some(v) = &cli.data_dir {
        raw.set_flag("data_dir", "--data-dir", v.clone());
    }
    if let Some(v) = &cli.listen {
        raw.set_flag("listen", "--listen", v.clone());
    }
    Ok(raw)
}

/// The command line, with `serve --help` listing every setting from the settings table.
pub fn command() -> clap::Command {
    Cli::command().mut_subcommand("serve", |serve| {
        serve.after_help(super::config::settings_help())
    })
}

fn init_logging() {
    let level = std::env::var("JWTEDGE_LOG")
        .ok()
        .and_then(|v| v.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_ansi(false)
        .with_target(false);
    // One JSON object per line for log pipelines; key=value text otherwise.
    let _ = if std::env::var("JWTEDGE_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

pub fn main() -> ExitCode {
    let cli = match Cli::from_arg_matches(&command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    init_logging();
    for name in RawConfig::unknown_env(std::env::vars()) {
        tracing::warn!(variable = %name, "unknown JWTEDGE_* environment variable ignored");
    }
    let settings = match load_settings(&cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("jwtedge-origin: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("jwtedge-origin: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let init = cli.init;
    if let Some(Command::Config {
        command: ConfigCommand::Print,
    }) = &cli.command
    {
        return match load_raw(&cli) {
            Ok(raw) => {
                let mut lines = super::config_print::effective(&raw, &settings);
                let database = &settings.database;
                match runtime.block_on(super::store::probe::shared_settings(database)) {
                    Ok(stored) => {
                        super::config_print::with_database(&mut lines, &settings, &stored)
                    }
                    Err(e) => eprintln!(
                        "jwtedge-origin: the settings stored in the database are not shown: {e}"
                    ),
                }
                print!("{}", super::config_print::render(&lines));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("jwtedge-origin: {e}");
                ExitCode::from(2)
            }
        };
    }
    let result = runtime.block_on(async move {
        let command = cli.command.unwrap_or(Command::Serve);
        if !matches!(command, Command::Serve) {
            require_store(&settings, init).await?;
        }
        match command {
            Command::Serve => serve(settings).await,
            Command::Keys { command } => keys(settings, command).await,
            Command::Token {
                command: TokenCommand::Issue { sub, claims },
            } => issue_token(settings, sub, claims).await,
            Command::Config { .. } => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jwtedge-origin: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Operator commands never create a store by accident (a mistyped `--data-dir`, the wrong
/// working directory, an empty database): they refuse unless `--init` is given.
async fn require_store(settings: &Settings, init: bool) -> Result<(), String> {
    use super::store::probe;
    if init || probe::store_exists(&settings.database).await? {
        return Ok(());
    }
    Err(format!(
        "no jwtedge store at {}; start `serve` once, or pass `--init`",
        probe::describe(&settings.database, &settings.data_dir)
    ))
}

async fn open_for_cli(settings: Settings) -> Result<Arc<Origin>, String> {
    let issuer = settings.issuer_for(settings.listen);
    Origin::open(settings, issuer).await
}

async fn serve(settings: Settings) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| {
            format!(
                "invalid setting `listen`: cannot listen on {}: {e}",
                settings.listen
            )
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    let issuer = settings.issuer_for(addr);
    let embedded = settings.embedded_default;
    let data_dir = settings.data_dir.clone();
    if let Some(interval) = settings.rotation_interval {
        let policy = settings.lifecycle_policy();
        let published = 2 + policy.retire_after_ms / (interval.as_millis() as i64).max(1);
        if published > 100 {
            tracing::warn!(
                keys = published,
                "rotation_interval is so short against access_token_ttl + leeway that the keyset will hold more keys than edges accept (100)"
            );
        }
        // A next key is published one interval before it signs; edges revalidate every
        // keyset_max_age. A shorter interval means edges meet keys as unknown kids and lean on
        // the refetch, which each edge does at most once per cooldown.
        if interval <= settings.keyset_max_age {
            tracing::warn!(
                rotation_interval = ?interval,
                keyset_max_age = ?settings.keyset_max_age,
                "rotation_interval is not longer than keyset_max_age: edges may see a new signing key only through an unknown-kid refetch"
            );
        }
    }
    let origin = Origin::open(settings, issuer).await?;
    let ring = origin.keyring();
    tracing::info!(
        addr = %addr,
        store = origin.store.backend(),
        algorithm = origin.settings.algorithm.name(),
        current = ring.current().map(|k| k.record.kid.as_str()).unwrap_or("-"),
        issuer = %origin.issuer,
        "jwtedge-origin listening"
    );
    print_banner(&origin, addr, embedded, &data_dir);

    let (stop_tx, stop_rx) = watch::channel(false);
    let scheduler = tokio::spawn(super::rotation::run(origin.clone(), stop_rx));
    let app = super::http::router(origin.clone());
    let limits = super::serve::Limits {
        header_timeout: origin.settings.header_timeout,
        idle_timeout: origin.settings.idle_timeout,
        max_connections: origin.settings.max_connections,
        shutdown_timeout: origin.settings.shutdown_timeout,
    };
    // axum::serve has no header or idle timeout and no shutdown deadline: serve.rs does.
    super::serve::run(listener, app, limits, shutdown_signal()).await;
    let _ = stop_tx.send(true);
    let _ = scheduler.await;
    tracing::info!("jwtedge-origin stopped");
    Ok(())
}

fn print_banner(
    origin: &Origin,
    addr: std::net::SocketAddr,
    embedded: bool,
    data_dir: &std::path::Path,
) {
    use std::io::Write;
    let base = format!("http://{addr}");
    let creds = origin
        .secrets
        .credentials_file
        .clone()
        .unwrap_or_else(|| data_dir.join(CREDENTIALS_FILE));
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "jwtedge-origin listening on {base}");
    let _ = writeln!(out, "  keyset:      curl {base}/.well-known/jwks.json");
    if origin.secrets.credentials_file.is_some() {
        let _ = writeln!(
            out,
            "  credentials: {} (api_key, admin_token, edge_credential; mode 0600)",
            creds.display()
        );
        let _ = writeln!(
            out,
            "  first token: curl -s -X POST {base}/sessions -H \"Authorization: Bearer $(sed -n 's/^api_key = \"\\(.*\\)\"/\\1/p' {})\" -d '{{\"sub\":\"alice\"}}'",
            creds.display()
        );
    } else {
        let _ = writeln!(
            out,
            "  first token: curl -s -X POST {base}/sessions -H \"Authorization: Bearer $JWTEDGE_API_KEY\" -d '{{\"sub\":\"alice\"}}'"
        );
    }
    let _ = writeln!(
        out,
        "  or:          jwtedge-origin token issue --sub alice{}",
        if embedded {
            String::new()
        } else {
            " (with the same configuration)".to_string()
        }
    );
    if embedded {
        let _ = writeln!(
            out,
            "  (embedded default: SQLite and generated secrets in {}; see docs/ORIGIN.md to configure)",
            data_dir.display()
        );
    }
    let _ = out.flush();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutdown requested; finishing requests in flight");
}

async fn keys(settings: Settings, command: KeysCommand) -> Result<(), String> {
    let origin = open_for_cli(settings).await?;
    match command {
        KeysCommand::List { json } => {
            let listing = origin.key_listing(now_ms());
            if json {
                println!("{}", serde_json::to_string_pretty(&listing).expect("json"));
            } else {
                print_key_table(&listing);
            }
        }
        KeysCommand::Rotate { algorithm, force } => match origin
            .rotate_manually(ManualRotation {
                expect_current: None,
                algorithm: match algorithm {
                    None => None,
                    Some(name) => Some(Algorithm::from_name(&name).ok_or_else(|| {
                        format!("--algorithm {name:?}: use {}", Algorithm::NAMES)
                    })?),
                },
                force,
            })
            .await
            .map_err(|e| {
                if e.code == "next_key_not_ready" {
                    // This process has seen no edge: only the published-time rule applied.
                    format!(
                        "{e}\n(the CLI applies only the published-time rule: which keyset \
                         versions edges present is counted by the serving processes, see \
                         GET /keys/adoption)"
                    )
                } else {
                    e.to_string()
                }
            })? {
            KeyOutcome::Rotated {
                previous,
                current,
                next,
            } => {
                println!(
                    "rotated: previous {} current {current} next {next}",
                    previous.as_deref().unwrap_or("-")
                );
                let ring = origin.keyring();
                let alg_of = |kid: &str| {
                    ring.keys
                        .iter()
                        .find(|k| k.record.kid == kid)
                        .map(|k| k.record.alg)
                };
                if let Some(next_alg) = alg_of(&next).filter(|a| *a != origin.policy.algorithm) {
                    println!(
                        "note: the next key is {next_alg}, the configured algorithm is {}: set \
                         algorithm = \"{next_alg}\" in the configuration, or the rotation after \
                         next makes {} keys again",
                        origin.policy.algorithm, origin.policy.algorithm
                    );
                }
            }
            other => println!("{other:?}"),
        },
        KeysCommand::Revoke { kid } => {
            match origin.revoke_key(kid).await.map_err(|e| e.to_string())? {
                KeyOutcome::Revoked {
                    kid,
                    was,
                    current,
                    next,
                } => println!(
                    "revoked {kid} (was {}); current {current} next {next}",
                    was.name()
                ),
                other => println!("{other:?}"),
            }
        }
        KeysCommand::Import { file, force } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            match origin
                .import_key(text, force)
                .await
                .map_err(|e| e.to_string())?
            {
                KeyOutcome::Imported { kid, previous } => println!(
                    "imported {kid} as current; previous {}",
                    previous.as_deref().unwrap_or("-")
                ),
                other => println!("{other:?}"),
            }
        }
    }
    Ok(())
}

fn print_key_table(listing: &serde_json::Value) {
    let fmt_time = |v: &serde_json::Value| -> String {
        v.as_f64()
            .map(|s| {
                humantime::format_rfc3339_seconds(
                    std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(s.max(0.0)),
                )
                .to_string()
            })
            .unwrap_or_else(|| "-".into())
    };
    println!(
        "{:<18} {:<6} {:<9} {:<21} {:<21} {:<21}",
        "KID", "ALG", "STATE", "CREATED", "ACTIVATED", "RETIRES"
    );
    for k in listing["keys"].as_array().into_iter().flatten() {
        println!(
            "{:<18} {:<6} {:<9} {:<21} {:<21} {:<21}",
            k["kid"].as_str().unwrap_or("?"),
            k["alg"].as_str().unwrap_or("?"),
            k["state"].as_str().unwrap_or("?"),
            fmt_time(&k["created_at"]),
            fmt_time(&k["activated_at"]),
            fmt_time(&k["retires_at"]),
        );
    }
}

async fn issue_token(
    settings: Settings,
    sub: String,
    claims: Option<String>,
) -> Result<(), String> {
    let claims = match claims {
        None => serde_json::Map::new(),
        Some(text) => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Err("--claims must be a JSON object".into()),
        },
    };
    let origin = open_for_cli(settings).await?;
    let tokens = origin
        .create_session(sub, claims)
        .await
        .map_err(|e| e.to_string())?;
    println!("{}", tokens.access_token);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every argument and subcommand of the whole tree has a description.
    #[test]
    fn every_argument_and_command_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                let sub_path = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() && sub.get_name() != "help" {
                    missing.push(sub_path.clone());
                }
                walk(sub, &sub_path, missing);
            }
        }
        let mut cmd = command();
        cmd.build();
        let mut missing = Vec::new();
        walk(&cmd, "jwtedge-origin", &mut missing);
        assert!(missing.is_empty(), "without help: {missing:?}");
        let serve = cmd.find_subcommand("serve").unwrap();
        let after = serve.get_after_help().unwrap().to_string();
        for setting in super::super::config::SETTINGS {
            assert!(after.contains(setting), "{setting}");
            assert!(after.contains(&super::super::config::env_name(setting)));
        }
    }
}
