// Bounded continuous traffic against the edge: clients that send their access token in a loop
// and, on 401 "try refresh token", refresh once at the origin and retry (the client contract).
import { kidOf } from "./origin.js";
import { sleep } from "./wait.js";

export class Client {
  constructor(name, session, { send, origin, refreshOnTryRefresh = true }) {
    this.name = name;
    this.session = session;
    this.send = send; // (token) => Promise<Response>
    this.origin = origin;
    this.refreshOnTryRefresh = refreshOnTryRefresh;
    this.log = []; // { at, status, message, kid }
    this.refreshes = []; // { at, reason, status }
  }

  async once() {
    const token = this.session.access_token;
    const res = await this.send(token);
    const text = await res.text();
    let message;
    try {
      message = JSON.parse(text).message;
    } catch {
      message = undefined;
    }
    const entry = { at: Date.now(), status: res.status, message, kid: kidOf(token) };
    this.log.push(entry);
    if (res.status === 401 && message === "try refresh token" && this.refreshOnTryRefresh) {
      await this.refresh("try refresh token");
      return this.once(); // retry once with the new token
    }
    return entry;
  }

  async refresh(reason) {
    const r = await this.origin.refresh(this.session.refresh_token);
    this.refreshes.push({ at: Date.now(), reason, status: r.status });
    if (r.status !== 200) throw new Error(`${this.name}: refresh failed: ${r.status} ${r.text}`);
    this.session = { ...this.session, ...r.json };
  }
}

/**
 * Runs every client in a loop until `durationMs` has passed (or `maxPerClient` requests each),
 * while `events` ({ atMs, run }) fire on their own timeline. Returns when all are done.
 */
export async function runTraffic(clients, { durationMs, maxPerClient = 500, pauseMs = 20, events = [] }) {
  const start = Date.now();
  const end = start + durationMs;
  const loops = clients.map(async (client) => {
    for (let i = 0; i < maxPerClient && Date.now() < end; i++) {
      await client.once();
      await sleep(pauseMs);
    }
  });
  const timeline = (async () => {
    for (const event of [...events].sort((a, b) => a.atMs - b.atMs)) {
      const wait = start + event.atMs - Date.now();
      if (wait > 0) await sleep(wait);
      event.firedAt = Date.now();
      event.result = await event.run();
    }
  })();
  await Promise.all([...loops, timeline]);
  return { start, end: Date.now() };
}
