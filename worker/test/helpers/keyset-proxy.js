// A loopback proxy in front of the origin's keyset that can hold requests, to make a keyset fetch
// slow or never-ending on purpose. Records every keyset request: when it came, whether it carried
// If-None-Match, and whether its client gave up (closed the connection) before the answer.
import http from "node:http";

// Options, for a proxy that misbehaves: `relabel` replaces the origin's Cache-Control (e.g.
// "public, max-age=300" on a private HMAC keyset); `authorization` is sent to the origin whatever
// the client sent (a proxy that adds the edge credential itself).
export async function startKeysetProxy(targetUrl, { relabel, authorization } = {}) {
  const requests = [];
  let holdNext = 0; // how many upcoming requests to hold
  let holdMs = 0; // Infinity: until the client goes away
  const held = new Set();
  const server = http.createServer(async (req, res) => {
    const entry = {
      at: Date.now(),
      ifNoneMatch: req.headers["if-none-match"] ?? null,
      authorization: req.headers.authorization ? "present" : null,
      clientClosed: false,
      closedAt: null,
      finished: false,
      // Delivered: the whole answer went out and the client had not gone away.
      get answered() {
        return this.finished && !this.clientClosed;
      },
    };
    res.on("finish", () => (entry.finished = true));
    requests.push(entry);
    res.on("close", () => {
      if (!res.writableFinished) {
        entry.clientClosed = true;
        entry.closedAt = Date.now();
      }
    });
    if (holdNext > 0) {
      holdNext--;
      await new Promise((resolve) => {
        const timer = Number.isFinite(holdMs) ? setTimeout(resolve, holdMs) : undefined;
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        held.add(done);
        res.on("close", done);
      });
      if (entry.clientClosed) return;
    }
    try {
      const forwarded = Object.fromEntries(
        ["if-none-match", "authorization", "accept"].filter((h) => req.headers[h]).map((h) => [h, req.headers[h]]),
      );
      if (authorization) forwarded.authorization = authorization;
      const upstream = await fetch(targetUrl, {
        headers: forwarded,
        signal: AbortSignal.timeout(5_000),
      });
      const body = Buffer.from(await upstream.arrayBuffer());
      const headers = {};
      for (const h of ["content-type", "cache-control", "etag", "vary"]) {
        const v = upstream.headers.get(h);
        if (v !== null) headers[h] = v;
      }
      if (upstream.status === 200) headers["content-length"] = String(body.length);
      if (relabel && upstream.status === 200) headers["cache-control"] = relabel;
      if (entry.clientClosed || res.destroyed) return; // nobody to answer
      res.writeHead(upstream.status, headers);
      res.end(upstream.status === 304 ? undefined : body);
    } catch {
      res.destroy();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/.well-known/jwks.json`,
    requests,
    /** Holds the next `count` requests for `ms` each; with `windowMs`, only those arriving within it. */
    hold(count, ms, { windowMs } = {}) {
      holdNext = count;
      holdMs = ms;
      if (windowMs !== undefined) setTimeout(() => (holdNext = 0), windowMs).unref();
    },
    releaseAll() {
      for (const done of held) done();
      held.clear();
    },
    close() {
      this.releaseAll();
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
