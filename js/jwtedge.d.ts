// Type declarations of the jwtedge package's main entry (`jwtedge`, and `jwtedge/web`), written
// by hand: wasm-bindgen's own declarations type every value `any`. scripts/pkg-manifest.mjs copies
// this file over pkg/jwtedge.d.ts. It must match src/wasm/ exactly: option names
// (src/wasm/options.rs), outcome statuses and reasons (src/core/reason.rs), algorithm names
// (src/core/algorithm.rs), stats fields (src/wasm/verifier.rs); tests/package/types checks it.
// Self-contained on purpose: it compiles with `lib: ["ES2022"]` alone (no DOM, no Node types, no
// `Symbol.dispose`), borrowing the runtime's own types where the project has them.

/** The runtime's type `T` of global `Name` (e.g. DOM's AbortSignal), or `Fallback` without it. */
type GlobalInstance<Name extends string, Fallback> = typeof globalThis extends Record<Name, { prototype: infer T }>
  ? T
  : Fallback;

/** A JWS algorithm the verifier knows (SPEC §2, §3a). */
export type Algorithm =
  | "EdDSA"
  | "HS256"
  | "HS384"
  | "HS512"
  | "RS256"
  | "RS384"
  | "RS512"
  | "PS256"
  | "PS384"
  | "PS512"
  | "ES256"
  | "ES384"
  | "ES512";

/** One string, or a non-empty list of them (an empty list throws a `TypeError`). */
export type OneOrMany<T extends string> = T | readonly T[];

/** What a token must be to verify: shared by `Verifier` and `verifyWithKeyset`. */
export interface VerificationOptions {
  /** Accepted `iss` values: the token's `iss` must be one of them. */
  issuer?: OneOrMany<string>;
  /** Accepted audiences: one of the token's `aud` values must be one of them. */
  audience?: OneOrMany<string>;
  /** Allowed algorithms; default: all of them (each key's `alg` still pins its tokens). */
  algorithms?: OneOrMany<Algorithm>;
  /** Clock skew allowed for `exp` and `nbf`, in seconds (default 0). */
  leewaySeconds?: number;
  /** Require exactly this `typ` header (default: `at+jwt`, `JWT` or none). */
  tokenType?: string;
  /** Claims that must be present besides `exp`. */
  requiredClaims?: OneOrMany<string>;
  /** Tokens longer than this many bytes are `UNAUTHORISED/too_large` (default 8192). */
  maxTokenBytes?: number;
}

/** Options of `verifyWithKeyset`: the verification options and a clock override. */
export interface VerifyOptions extends VerificationOptions {
  /** "Now" in seconds since the epoch (tests, replay); default: the runtime's clock. */
  nowSeconds?: number;
}

/** The request the verifier makes for the keyset, as handed to a `fetch` option. */
export interface KeysetRequestInit {
  headers: Record<string, string>;
  signal: GlobalInstance<"AbortSignal", unknown>;
  /** Always "manual": a redirect is a failed fetch (SPEC §5), never followed. */
  redirect: "manual";
}

/** What the verifier reads from a keyset response. */
export interface KeysetResponse {
  readonly status: number;
  readonly redirected: boolean;
  readonly headers: { get(name: string): string | null };
  readonly body: unknown;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A function with the signature of `fetch`, used for the keyset instead of the global one. */
export type KeysetFetch = (input: string, init: KeysetRequestInit) => Promise<KeysetResponse>;

/** Options of `new Verifier(…)`: the verification options, the keyset and its cache. */
export interface VerifierOptions extends VerificationOptions {
  /** The issuer's JWKS URL (http or https). */
  keysetUrl: string;
  /** `Authorization` header value for the keyset, e.g. "Bearer …" for an HMAC keyset. */
  keysetAuthorization?: string;
  /** Fetches the keyset instead of the global `fetch` (e.g. a Cache API layer). */
  fetch?: KeysetFetch;
  /** Who checks Ed25519 signatures: "auto" (WebCrypto on Workers, wasm elsewhere). */
  ed25519?: "auto" | "wasm" | "webcrypto";
  /** At most one refetch per this many seconds for unknown kids and failures (30). */
  cooldownSeconds?: number;
  /** How long a keyset stays usable when the origin cannot be reached (86400). */
  maxStaleSeconds?: number;
  /** Keyset fetch timeout (5). */
  fetchTimeoutSeconds?: number;
  /** Freshness floor for the keyset's `max-age` (30). */
  minFreshSeconds?: number;
  /** Freshness cap for the keyset's `max-age` (3600). */
  maxFreshSeconds?: number;
  /** Freshness when the origin sends no `max-age` (300). */
  defaultFreshSeconds?: number;
  /** Largest keyset body accepted, in bytes (65536). */
  maxKeysetBytes?: number;
  /** Most keys accepted in a keyset (100). */
  maxKeys?: number;
}

/** The registered claims of a verified token, as the verifier has type-checked them. */
export interface RegisteredClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  /** Always present on a verified token: a token without `exp` is `missing_claim`. */
  exp: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  /** The session id, in tokens of jwtedge's own origin. */
  sid?: string;
}

/** The claims of a verified token: the registered ones typed, any other kept as `unknown`. */
export type Claims = RegisteredClaims & Record<string, unknown>;

/** What the caller should do with the token. */
export type Status = "OK" | "TRY_REFRESH_TOKEN" | "UNAUTHORISED" | "KEYSET_UNAVAILABLE";

/** Why a token must be refreshed: the client refreshes it and retries. */
export type TryRefreshReason = "expired" | "unknown_key";

/** Why a token is refused. */
export type UnauthorisedReason =
  | "malformed"
  | "too_large"
  | "unsupported_algorithm"
  | "bad_signature"
  | "not_yet_valid"
  | "invalid_issuer"
  | "invalid_audience"
  | "invalid_type"
  | "missing_claim";

/** Why no keyset is usable: retry later, refreshing would not help. */
export type KeysetUnavailableReason = "fetch_failed" | "invalid_keyset";

/** Every reason code. */
export type Reason = TryRefreshReason | UnauthorisedReason | KeysetUnavailableReason;

/** A verified token. */
export interface OkOutcome<C = Claims> {
  status: "OK";
  claims: C;
  /** The `kid` of the key that verified it (absent from a token without `kid`). */
  kid: string | undefined;
  alg: Algorithm;
}

export interface TryRefreshOutcome {
  status: "TRY_REFRESH_TOKEN";
  reason: TryRefreshReason;
}

export interface UnauthorisedOutcome {
  status: "UNAUTHORISED";
  reason: UnauthorisedReason;
}

export interface KeysetUnavailableOutcome {
  status: "KEYSET_UNAVAILABLE";
  reason: KeysetUnavailableReason;
}

/** Exactly one of these for every token (SPEC §4); narrow it with `status`. */
export type Outcome<C = Claims> = OkOutcome<C> | TryRefreshOutcome | UnauthorisedOutcome | KeysetUnavailableOutcome;

/** A `Verifier`'s counters, for tests and dashboards. */
export interface Stats {
  /** Keyset fetches that answered 200. */
  fetches: number;
  /** Revalidations the origin answered 304. */
  notModified: number;
  /** Keyset fetches that failed (network, status, limits, unusable keyset). */
  failures: number;
  /** Verifications served from the cached keyset. */
  cacheHits: number;
  /** Usable keys in the cached keyset. */
  keys: number;
}

/** A JWKS: a JSON string, or the parsed object. */
export type Jwks = string | { keys: readonly object[] };

/** Verifies tokens against the keyset at `keysetUrl`, fetched and cached by the verifier. */
export class Verifier {
  /** Throws a `TypeError` naming an unknown option or one of the wrong type. */
  constructor(options: VerifierOptions);
  /** Resolves to the outcome; never rejects, whatever the token. */
  verify<C = Claims>(token: string): Promise<Outcome<C>>;
  stats(): Stats;
  /** Releases the verifier's wasm memory now rather than when it is garbage-collected. */
  free(): void;
}

/**
 * Verifies `token` against a keyset the caller holds. The outcome itself, or a promise of it when
 * an RSA/ECDSA signature goes to WebCrypto (Workers, browsers): `await` it everywhere.
 * Throws a `TypeError` for bad options only.
 */
export function verifyWithKeyset<C = Claims>(
  token: string,
  jwks: Jwks,
  options?: VerifyOptions,
): Outcome<C> | Promise<Outcome<C>>;

/** `WebAssembly.Module` where the project's types declare it. */
export type WasmModule = typeof globalThis extends { WebAssembly: { Module: { prototype: infer M } } } ? M : never;

/** The compiled module, or its bytes, for `initSync`. */
export type SyncInitInput = ArrayBuffer | ArrayBufferView | WasmModule;

/** Where `init` gets the `.wasm`: a URL, a fetch `Response`, bytes or a compiled module. */
export type InitInput = string | GlobalInstance<"URL", never> | GlobalInstance<"Response", never> | SyncInitInput;

/** The instantiated module's exports (internal; returned for completeness). */
export interface InitOutput {
  readonly memory: unknown;
}

/**
 * Loads the `.wasm` in a browser (default: next to this module, `new URL("jwtedge_bg.wasm",
 * import.meta.url)`). Needed once before the first `Verifier` with the web build; the Node and
 * Workers entries are already initialised, and calling it there does nothing.
 */
export function init(
  input?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;
export default init;

/** Instantiates the module synchronously from a compiled module or its bytes. */
export function initSync(input: { module: SyncInitInput } | SyncInitInput): InitOutput;
