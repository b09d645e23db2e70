// A small upstream app on loopback: answers JSON describing what it received (path, identity
// headers), and records every request, so tests can prove what reached it and what did not.
import http from "node:http";

export async function startUpstream(handler) {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const seen = {
      method: req.method,
      path: req.url,
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    };
    requests.push(seen);
    if (handler && (await handler(req, res, seen))) return;
    const identity = Object.fromEntries(
      Object.entries(req.headers).filter(([k]) => k.startsWith("x-jwtedge-")),
    );
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify({ upstream: true, path: req.url, identity }));
  });
  server.keepAliveTimeout = 1000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    requests,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
