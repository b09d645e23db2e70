// Loaded with `node --import` before the README's Node example: answers its fetches of
// https://auth.example.com/.well-known/jwks.json with the test issuer's JWKS (JWTEDGE_TEST_JWKS),
// as the network would; every other fetch goes out unchanged. The example itself is untouched.
const KEYSET_URL = "https://auth.example.com/.well-known/jwks.json";
const jwks = process.env.JWTEDGE_TEST_JWKS;
const realFetch = globalThis.fetch;

globalThis.fetch = async function fetch(input, init) {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  if (url !== KEYSET_URL) return realFetch(input, init);
  return new Response(jwks, {
    status: 200,
    headers: { "content-type": "application/jwk-set+json", "cache-control": "public, max-age=300" },
  });
};
