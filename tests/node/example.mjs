// A runnable example of the JavaScript API: a keyset served on loopback, tokens minted with jose
// standing in for the origin, and each outcome printed. `node tests/node/example.mjs`
import { Verifier, verifyWithKeyset } from "jwtedge";
import { ISS, edKey, jwksOf, mint, tamper, keysetServer, now } from "./helpers.mjs";

const key = await edKey("key-2026-11");
const server = await keysetServer(jwksOf(key));
const verifier = new Verifier({ keysetUrl: server.url, issuer: ISS, audience: "api" });

const cases = {
  "a fresh token": await mint(key),
  "an expired token": await mint(key, { exp: now() - 60 }),
  "a token for another audience": await mint(key, { claims: { aud: "billing" } }),
  "a tampered token": tamper(await mint(key), { sub: "admin" }),
  "a token of a rotated-away key": await mint(await edKey("key-2026-10")),
  "not a token": "hello",
};
for (const [name, token] of Object.entries(cases)) {
  const outcome = await verifier.verify(token);
  const detail = outcome.status === "OK" ? `sub=${outcome.claims.sub} kid=${outcome.kid}` : outcome.reason;
  console.log(`${name.padEnd(32)} → ${outcome.status} (${detail})`);
}
console.log("stats:", verifier.stats());
console.log(
  "verifyWithKeyset:",
  verifyWithKeyset(cases["a fresh token"], jwksOf(key), { issuer: ISS, audience: "api" }).status,
);
await server.close();
