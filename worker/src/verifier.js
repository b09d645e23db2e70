// One Verifier per isolate (SPEC §8), made on the first request from the bindings and kept while
// they stay the same. The jwtedge package (a file: dependency on ../pkg) is used as any Worker
// uses it: its Workers entry imports the .wasm as a module (compiled by the runtime) and
// instantiates it once per isolate, when the module graph loads.

import { Verifier } from "jwtedge/workers";
import { configKey, readConfig } from "./config.js";
import { cachedKeysetFetch } from "./keyset-cache.js";
import { keepAlive } from "./request-context.js";

let current; // { key, config, verifier, keysetFetch } | { key, error }

/** The isolate's verifier for `env`: `{ config, verifier, keysetFetch }`. Throws ConfigError. */
export function verifierFor(env) {
  const key = configKey(env);
  if (current?.key !== key) current = build(key, env);
  if (current.error) throw current.error;
  return current;
}

function build(key, env) {
  try {
    const config = readConfig(env);
    // Every keyset fetch goes through this layer: the colo cache when KEYSET_CACHE is on, and
    // ctx.waitUntil of the request that started it when KEYSET_FETCH_WAIT_UNTIL is on.
    const keysetFetch = cachedKeysetFetch({
      cache: config.keysetCache ? () => caches.default : () => undefined,
      keepAlive: config.keysetFetchWaitUntil ? keepAlive : undefined,
    });
    const options = { ...config.verifierOptions, fetch: keysetFetch };
    // The verifier throws a TypeError naming a bad option (e.g. an unknown algorithm).
    const verifier = new Verifier(options);
    return { key, config, verifier, keysetFetch };
  } catch (error) {
    return { key, error };
  }
}
