//! Serving connections (SPEC §7 "Serving"): the accept loop, the per-connection timeouts, the
//! cap on open connections, lingering close, and graceful shutdown with a deadline. The routes
//! themselves are `http/`; this module only moves bytes between sockets and the router.
//!
//! - Header timeout: a request's headers must be complete `header_timeout` after its first byte
//!   (for a new connection: after accept), or the connection is closed.
//! - Idle timeout: a keep-alive connection with no request in flight is closed after
//!   `idle_timeout`. hyper's own `header_read_timeout` cannot express both: its clock starts
//!   when hyper begins waiting for a head, so it would close idle keep-alive connections at the
//!   header timeout. The [`Guarded`] socket wrapper keeps both clocks instead.
//! - Connection cap: at most `max_connections` connections are open; beyond that the listener
//!   is not polled (new connections wait in the kernel's backlog), and the cap is kept below
//!   the open-file limit so the database never runs out of descriptors.
//! - Lingering close: when hyper closes a connection whose request body it did not read (413),
//!   the socket first sends FIN, then reads and discards what the client still sends (bounded
//!   in bytes and time) before closing, so the client reads the answer instead of a reset.
//! - Shutdown: stop accepting, close connections with no request in flight, let requests in
//!   flight finish, and abort whatever is left when `shutdown_timeout` has passed.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};

/// How much a lingering close reads and discards at most, and for how long.
const LINGER_MAX_BYTES: usize = 16 << 20;
const LINGER_MAX_TIME: Duration = Duration::from_secs(5);

/// Descriptors kept free beside the connections: the listener, the database (SQLite file and
/// journal, or PostgreSQL connections), stdio, the runtime's own.
const RESERVED_FDS: u64 = 64;

/// The serving limits (from the settings; see config.rs).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_timeout: Duration,
}

/// The connection cap actually used: `configured`, lowered to stay under the soft open-file
/// limit (`RLIMIT_NOFILE`) with [`RESERVED_FDS`] to spare.
pub fn effective_max_connections(configured: usize) -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass and nothing else.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    if !ok || limit.rlim_cur == libc::RLIM_INFINITY {
        return configured;
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not on every Unix
    let room = (limit.rlim_cur as u64).saturating_sub(RESERVED_FDS).max(1);
    configured.min(usize::try_from(room).unwrap_or(usize::MAX))
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains (see the module comment).
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let cap = effective_max_connections(limits.max_connections);
    if cap < limits.max_connections {
        tracing::warn!(
            max_connections = limits.max_connections,
            used = cap,
            "max_connections lowered to stay under the open-file limit (ulimit -n)"
        );
    }
    let slots = Arc::new(Semaphore::new(cap));
    let (drain_tx, drain_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // A slot first: at the cap the listener is not polled at all.
        let slot = tokio::select! {
            _ = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    // EMFILE/ENFILE and aborted handshakes: not fatal; pause so a full
                    // descriptor table does not spin the loop.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        while connections.try_join_next().is_some() {}
        connections.spawn(connection(
            stream,
            app.clone(),
            limits,
            drain_rx.clone(),
            slot,
        ));
    }
    drop(listener);
    let _ = drain_tx.send(true);
    let open = connections.len();
    if open > 0 {
        tracing::info!(
            connections = open,
            "finishing requests in flight (at most shutdown_timeout)"
        );
    }
    let drained = tokio::time::timeout(limits.shutdown_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "shutdown_timeout reached: closing the connections still open"
        );
        connections.shutdown().await;
    }
}

/// One connection: HTTP/1.1 through hyper over a [`Guarded`] socket. The slot is held until
/// the connection is closed.
async fn connection(
    stream: TcpStream,
    app: Router,
    limits: Limits,
    mut drain: watch::Receiver<bool>,
    _slot: tokio::sync::OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let in_flight = Arc::new(Requests::default());
    let io = TokioIo::new(Guarded::new(stream, in_flight.clone(), limits));
    let counter = in_flight.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        // Counted from the moment hyper has the whole head until the handler answered: the
        // socket's timeouts do not apply meanwhile.
        let guard = InFlight::enter(&counter);
        let mut app = app.clone();
        async move {
            let resp = tower::Service::call(&mut app, req).await;
            drop(guard);
            resp
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        // The header and idle clocks are Guarded's (see the module comment).
        .header_read_timeout(None)
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let draining = async {
        let _ = drain.wait_for(|draining| *draining).await;
    };
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = draining => {}
    }
    // Shutting down. Nothing in flight (idle, or a head still arriving): close now. This runs
    // on the task that polls hyper, so no request can start in between.
    if !in_flight.busy() {
        return;
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// The requests of one connection that are with the handler, shared by the service and the
/// socket.
#[derive(Default)]
struct Requests {
    count: AtomicUsize,
    /// Requests answered so far: a change tells the socket that a new idle period began.
    answered: AtomicUsize,
    /// The connection task, woken when a request is answered: hyper does not read again by
    /// itself after answering, and the idle clock starts on the socket's next read.
    reader: Mutex<Option<Waker>>,
}

impl Requests {
    fn busy(&self) -> bool {
        self.count.load(Ordering::SeqCst) > 0
    }
}

/// Counts a request in flight for as long as it lives.
struct InFlight(Arc<Requests>);

impl InFlight {
    fn enter(requests: &Arc<Requests>) -> InFlight {
        requests.count.fetch_add(1, Ordering::SeqCst);
        InFlight(requests.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.answered.fetch_add(1, Ordering::SeqCst);
        self.0.count.fetch_sub(1, Ordering::SeqCst);
        let waker = self.0.reader.lock().map(|mut w| w.take()).unwrap_or(None);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Where a connection is, as far as its read clocks are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for (the rest of) a request head: `header_timeout` runs.
    Head,
    /// Between requests on a keep-alive connection: `idle_timeout` runs.
    Idle,
    /// A request is with the handler: no read clock.
    Busy,
}

/// A TCP stream that enforces the header and idle timeouts on reads and closes lingeringly.
struct Guarded {
    inner: TcpStream,
    in_flight: Arc<Requests>,
    limits: Limits,
    phase: Phase,
    /// `Requests::answered` as of the last read.
    answered: usize,
    deadline: Pin<Box<Sleep>>,
    /// Lingering close: set once the write side is shut; bytes discarded since.
    lingering: Option<usize>,
}

impl Guarded {
    fn new(inner: TcpStream, in_flight: Arc<Requests>, limits: Limits) -> Guarded {
        Guarded {
            inner,
            in_flight,
            limits,
            // A new connection owes its first head within the header timeout.
            phase: Phase::Head,
            answered: 0,
            deadline: Box::pin(tokio::time::sleep(limits.header_timeout)),
            lingering: None,
        }
    }

    fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        let after = match phase {
            Phase::Head => self.limits.header_timeout,
            Phase::Idle => self.limits.idle_timeout,
            Phase::Busy => return,
        };
        self.deadline.as_mut().reset(Instant::now() + after);
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Ok(mut reader) = this.in_flight.reader.lock() {
            if !reader.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *reader = Some(cx.waker().clone());
            }
        }
        let answered = this.in_flight.answered.load(Ordering::SeqCst);
        if this.in_flight.busy() {
            this.phase = Phase::Busy;
        } else if answered != this.answered {
            // The handler answered: idle until the next request's first byte.
            this.answered = answered;
            this.enter(Phase::Idle);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before && this.phase == Phase::Idle {
                    this.enter(Phase::Head);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                if this.phase != Phase::Busy && this.deadline.as_mut().poll(cx).is_ready() {
                    let what = if this.phase == Phase::Head {
                        "request headers did not arrive within header_timeout"
                    } else {
                        "keep-alive connection idle for idle_timeout"
                    };
                    tracing::debug!(reason = what, "closing connection");
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)));
                }
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    /// hyper's end of a connection: FIN first (the answer is complete for the client), then
    /// discard what the client still sends until it closes, or LINGER_MAX_BYTES / _TIME.
    /// Closing with unread data would send a reset, which can destroy the answer unread.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.lingering.is_none() {
            std::task::ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
            this.lingering = Some(0);
            this.deadline
                .as_mut()
                .reset(Instant::now() + LINGER_MAX_TIME);
        }
        let mut scratch = [0u8; 16 * 1024];
        loop {
            let discarded = this.lingering.unwrap_or(0);
            if discarded >= LINGER_MAX_BYTES {
                return Poll::Ready(Ok(()));
            }
            let mut rb = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) if rb.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => this.lingering = Some(discarded + rb.filled().len()),
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Pending => {
                    if this.deadline.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Ok(()));
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}
