// Configuration from the Worker's bindings (wrangler.toml [vars], secrets, `wrangler dev --var`).
// Validated once per isolate; a bad value is a ConfigError naming the binding.

import { canonicalPath } from "./path.js";

export class ConfigError extends Error {
  constructor(binding, message) {
    super(`invalid binding ${binding}: ${message}`);
    this.name = "ConfigError";
    this.binding = binding;
  }
}

function text(env, name) {
  const v = env[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new ConfigError(name, "expected a string");
  const t = v.trim();
  return t === "" ? undefined : t;
}

function httpUrl(env, name, { required }) {
  const v = text(env, name);
  if (v === undefined) {
    if (required) throw new ConfigError(name, "is required (an http(s) URL)");
    return undefined;
  }
  let url;
  try {
    url = new URL(v);
  } catch {
    throw new ConfigError(name, `not a URL: ${JSON.stringify(v)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(name, "must be an http(s) URL");
  }
  return url;
}

function seconds(env, name) {
  const v = text(env, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(name, `expected a number of seconds, got ${JSON.stringify(v)}`);
  return n;
}

function list(env, name) {
  const v = text(env, name);
  if (v === undefined) return undefined;
  return v.split(",").map((s) => s.trim()).filter(Boolean);
}

function flag(env, name, fallback) {
  const v = text(env, name);
  if (v === undefined) return fallback;
  if (["1", "true", "on", "yes"].includes(v.toLowerCase())) return true;
  if (["0", "false", "off", "no"].includes(v.toLowerCase())) return false;
  throw new ConfigError(name, `expected true or false, got ${JSON.stringify(v)}`);
}

// Optional tuning bindings → Verifier options (seconds).
const TUNING = {
  LEEWAY_SECONDS: "leewaySeconds",
  COOLDOWN_SECONDS: "cooldownSeconds",
  MAX_STALE_SECONDS: "maxStaleSeconds",
  FETCH_TIMEOUT_SECONDS: "fetchTimeoutSeconds",
  MIN_FRESH_SECONDS: "minFreshSeconds",
  MAX_FRESH_SECONDS: "maxFreshSeconds",
};

// A GUARDED_PATHS prefix in the canonical form requests are judged in (path.js), so `/caf%C3%A9`
// and `/café` are one prefix, and a prefix no request could match is an error, not a silent gap.
function guardedPrefix(p) {
  const name = "GUARDED_PATHS";
  if (!p.startsWith("/")) throw new ConfigError(name, `each prefix must start with "/": ${JSON.stringify(p)}`);
  if (/[?#]/.test(p)) throw new ConfigError(name, `a prefix is a path, without "?" or "#": ${JSON.stringify(p)}`);
  // Concatenated, not resolved against a base: "//b" must stay a path, not become a host.
  const canonical = canonicalPath(new URL(`http://prefix.invalid${p}`).pathname);
  if (!canonical.ok) throw new ConfigError(name, `not a path a request could have (${canonical.code}): ${JSON.stringify(p)}`);
  return canonical.path;
}

/** Reads and validates every binding. Throws ConfigError. */
export function readConfig(env) {
  const keysetUrl = httpUrl(env, "KEYSET_URL", { required: true });
  const upstreamUrl = httpUrl(env, "UPSTREAM_URL", { required: true });
  const keysetAuthorization = text(env, "KEYSET_AUTHORIZATION");
  if (keysetAuthorization !== undefined && !/^bearer\s+\S+$/i.test(keysetAuthorization)) {
    throw new ConfigError("KEYSET_AUTHORIZATION", 'expected "Bearer <edge credential>"');
  }
  const guardedPaths = (list(env, "GUARDED_PATHS") ?? ["/"]).map(guardedPrefix);
  const tokenCookie = text(env, "TOKEN_COOKIE");
  if (tokenCookie !== undefined && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(tokenCookie)) {
    throw new ConfigError("TOKEN_COOKIE", `not a cookie name: ${JSON.stringify(tokenCookie)}`);
  }
  const verifierOptions = { keysetUrl: keysetUrl.href };
  if (keysetAuthorization) verifierOptions.keysetAuthorization = keysetAuthorization;
  const issuer = text(env, "ISSUER");
  const audience = text(env, "AUDIENCE");
  if (issuer) verifierOptions.issuer = issuer;
  if (audience) verifierOptions.audience = audience;
  const algorithms = list(env, "ALGORITHMS");
  if (algorithms) verifierOptions.algorithms = algorithms;
  for (const [binding, option] of Object.entries(TUNING)) {
    const n = seconds(env, binding);
    if (n !== undefined) verifierOptions[option] = n;
  }
  return {
    keysetUrl,
    upstreamUrl,
    guardedPaths,
    // Case-insensitive prefix matching, for upstreams that route case-insensitively.
    guardCaseInsensitive: flag(env, "GUARD_CASE_INSENSITIVE", false),
    tokenCookie,
    verifierOptions,
    // The colo-wide Cache API layer for the keyset (SPEC §5 "Across isolates"); on by default.
    keysetCache: flag(env, "KEYSET_CACHE", true),
    // Keep the request that started a keyset fetch alive until the fetch is done (ctx.waitUntil),
    // so the requests waiting for it are answered even if it ends or is cancelled first.
    keysetFetchWaitUntil: flag(env, "KEYSET_FETCH_WAIT_UNTIL", true),
    // GET /__jwtedge/stats answers the verifier's and the cache layer's counters (tests, dashboards).
    exposeStats: flag(env, "EXPOSE_STATS", false),
  };
}

/** A stable fingerprint of the bindings, so a changed configuration gets a new Verifier. */
export function configKey(env) {
  const names = [
    "KEYSET_URL", "KEYSET_AUTHORIZATION", "UPSTREAM_URL", "GUARDED_PATHS", "GUARD_CASE_INSENSITIVE", "TOKEN_COOKIE", "ISSUER",
    "AUDIENCE", "ALGORITHMS", "KEYSET_CACHE", "KEYSET_FETCH_WAIT_UNTIL", "EXPOSE_STATS", ...Object.keys(TUNING),
  ];
  return JSON.stringify(names.map((n) => env[n] ?? null));
}
