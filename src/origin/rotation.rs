//! The background scheduler of a serving process. Every tick (250 ms) it polls the store's
//! key generation and reloads when another process changed the keys (so a rotation or revoke
//! made anywhere reaches this replica well within 1 s), runs the scheduled rotation when the
//! current key is due (re-checked inside the store transaction: replicas rotate once), retires
//! previous keys whose last token has expired, and now and then purges dead refresh tokens.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::keys::{next_retirement_at, rotation_due_at};
use super::service::{now_ms, Origin, Trigger};

pub const TICK: Duration = Duration::from_millis(250);
const PURGE_EVERY: Duration = Duration::from_secs(600);

pub async fn run(origin: Arc<Origin>, mut shutdown: watch::Receiver<bool>) {
    let mut last_purge = std::time::Instant::now();
    let mut failing = false;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = shutdown.changed() => break,
        }
        if *shutdown.borrow() {
            break;
        }
        let result = tick(&origin, &mut last_purge).await;
        match (result, failing) {
            (Err(e), false) => {
                tracing::warn!(error = %e, "key maintenance failed; retrying");
                failing = true;
            }
            (Ok(()), true) => {
                tracing::info!("key maintenance recovered");
                failing = false;
            }
            _ => {}
        }
    }
}

async fn tick(
    origin: &Origin,
    last_purge: &mut std::time::Instant,
) -> Result<(), super::error::ApiError> {
    origin.reload_if_changed().await?;
    let records = origin.keyring().records();
    let now = now_ms();
    if rotation_due_at(&records, &origin.policy).is_some_and(|due| due <= now) {
        origin.rotate(None, Trigger::Scheduled).await?;
    }
    let records = origin.keyring().records();
    if next_retirement_at(&records, &origin.policy).is_some_and(|at| at <= now_ms()) {
        origin.retire_due().await?;
    }
    if last_purge.elapsed() >= PURGE_EVERY {
        *last_purge = std::time::Instant::now();
        let purged = origin
            .store
            .purge_expired(now_ms())
            .await
            .map_err(super::error::ApiError::from)?;
        if purged > 0 {
            tracing::info!(count = purged, "expired refresh tokens purged");
        }
    }
    Ok(())
}
