// Type test of the main entry ("jwtedge") and "jwtedge/workers" (tests/package/types.test.mjs
// compiles it with `tsc --strict --noEmit`, under lib ES2022 and ESNext, no DOM). Correct usage
// must compile; each mistake of issue 10 sits under `// @ts-expect-error`, so the test fails if one
// stops being an error. The test also compiles a copy without the directives and checks that each
// mistake is the error it should be (MISTAKE lines).
import init, { init as namedInit, initSync, Verifier, verifyWithKeyset } from "jwtedge";
import type { Claims, OkOutcome, Outcome, Stats, UnauthorisedReason, VerifierOptions, VerifyOptions } from "jwtedge";
import { Verifier as WorkersVerifier } from "jwtedge/workers";

async function correctUsage(token: string, jwks: string): Promise<string> {
  await init();
  await namedInit({ module_or_path: "https://cdn.example.com/jwtedge_bg.wasm" });
  initSync({ module: new Uint8Array(0) });

  const options: VerifierOptions = {
    keysetUrl: "https://auth.example.com/.well-known/jwks.json",
    keysetAuthorization: "Bearer edge-credential",
    issuer: "https://auth.example.com",
    audience: ["api", "admin"],
    algorithms: ["EdDSA", "ES256", "RS256"],
    leewaySeconds: 5,
    tokenType: "at+jwt",
    requiredClaims: ["sid"],
    maxTokenBytes: 8192,
    ed25519: "auto",
    cooldownSeconds: 30,
    maxStaleSeconds: 86400,
    fetchTimeoutSeconds: 5,
    minFreshSeconds: 30,
    maxFreshSeconds: 3600,
    defaultFreshSeconds: 300,
    maxKeysetBytes: 65536,
    maxKeys: 100,
    fetch: (input, init) => Promise.resolve({
      status: 200,
      redirected: false,
      headers: { get: (name: string) => (name === "etag" ? `"${input}:${init.redirect}"` : null) },
      body: null,
      arrayBuffer: () => Promise.resolve(new ArrayBuffer(0)),
    }),
  };
  const verifier = new Verifier(options);

  const outcome = await verifier.verify(token);
  let said: string;
  switch (outcome.status) {
    case "OK": {
      // Registered claims are typed; others are unknown until narrowed.
      const sub: string | undefined = outcome.claims.sub;
      const exp: number = outcome.claims.exp;
      const role: unknown = outcome.claims.role;
      const kid: string | undefined = outcome.kid;
      said = `${sub} ${exp} ${String(role)} ${kid} ${outcome.alg}`;
      break;
    }
    case "TRY_REFRESH_TOKEN": {
      const reason: "expired" | "unknown_key" = outcome.reason;
      said = reason;
      break;
    }
    case "UNAUTHORISED": {
      const reason: UnauthorisedReason = outcome.reason;
      said = reason;
      break;
    }
    case "KEYSET_UNAVAILABLE": {
      const reason: "fetch_failed" | "invalid_keyset" = outcome.reason;
      said = reason;
      break;
    }
    default: {
      const none: never = outcome;
      said = none;
    }
  }

  // Claims typed by the caller.
  interface MyClaims extends Claims {
    role: "admin" | "user";
  }
  const mine = await verifier.verify<MyClaims>(token);
  if (mine.status === "OK") {
    const role: "admin" | "user" = mine.claims.role;
    said += role;
  }
  const ok: OkOutcome | undefined = outcome.status === "OK" ? outcome : undefined;
  said += ok?.alg ?? "";

  const verifyOptions: VerifyOptions = { nowSeconds: 1_300_819_370, issuer: ["a", "b"], algorithms: "HS256" };
  const sync: Outcome = await verifyWithKeyset(token, jwks, verifyOptions);
  const fromObject = await verifyWithKeyset(token, { keys: [] });
  said += sync.status + fromObject.status;

  const stats: Stats = verifier.stats();
  const total: number = stats.fetches + stats.notModified + stats.failures + stats.cacheHits + stats.keys;
  verifier.free();

  const onWorkers = new WorkersVerifier({ keysetUrl: "https://auth.example.com/.well-known/jwks.json" });
  const w = await onWorkers.verify(token);
  return `${said} ${total} ${w.status}`;
}

async function mistakes(token: string): Promise<void> {
  // MISTAKE TS2353: an unknown option
  // @ts-expect-error
  new Verifier({ keysetUrl: "https://auth.example.com/jwks.json", retries: 3 });

  // MISTAKE TS2322: an option of the wrong type
  // @ts-expect-error
  new Verifier({ keysetUrl: "https://auth.example.com/jwks.json", issuer: 42 });

  const verifier = new Verifier({ keysetUrl: "https://auth.example.com/jwks.json" });
  // MISTAKE TS2345: a token that is not a string
  // @ts-expect-error
  await verifier.verify(123);

  const outcome = await verifier.verify(token);
  // MISTAKE TS2367: a misspelt status
  // @ts-expect-error
  if (outcome.status === "TRY_REFRESH_TOKN") return;

  // MISTAKE TS2551: a misspelt stats field ("did you mean 'fetches'?")
  // @ts-expect-error
  verifier.stats().fetchez;
}

export { correctUsage, mistakes };
