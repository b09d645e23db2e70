// Which request is running: the execution context (`ctx`) of the request on whose behalf the
// current code runs, carried by AsyncLocalStorage (compatibility flag `nodejs_als`) through
// promises and timers — including into the keyset fetch the verifier starts.

import { AsyncLocalStorage } from "node:async_hooks";

const storage = new AsyncLocalStorage();

/** Runs `fn` as request `ctx`. */
export function runAs(ctx, fn) {
  return storage.run(ctx, fn);
}

/**
 * Keeps the current request's context alive until `promise` settles (`ctx.waitUntil`), so a
 * keyset fetch it started still finishes — and still answers the requests waiting for it — if
 * the request itself ends or is cancelled first. Does nothing outside a request.
 */
export function keepAlive(promise) {
  const ctx = storage.getStore();
  if (!ctx || typeof ctx.waitUntil !== "function") return;
  try {
    ctx.waitUntil(promise.then(() => {}, () => {}));
  } catch {
    // The context is already gone: nothing to extend.
  }
}
