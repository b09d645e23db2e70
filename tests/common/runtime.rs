//! A stand-in for the runtime's crypto in native tests (SPEC §3a): ring checks the RSA and ECDSA
//! signatures the core hands out (`Step::Runtime`), as WebCrypto or `node:crypto` do in the
//! package, and signs test tokens with the fixture keys of tests/fixtures (made for the tests).
//! ring has no P-521: ES512 is checked in Node only (tests/node/issuers.test.mjs).

use jwtedge::core::{b64url_encode as b64, Algorithm, RuntimeCheck, RuntimeKeyParams};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair, RsaPublicKeyComponents};

pub const RSA_2048: &[u8] = include_bytes!("../fixtures/rsa2048-test-key.pk8");
/// A key in no keyset: what a forger signs with.
pub const RSA_2048_FORGER: &[u8] = include_bytes!("../fixtures/rsa2048-forger-key.pk8");
pub const RSA_3072: &[u8] = include_bytes!("../fixtures/rsa3072-test-key.pk8");
pub const EC_P256: &[u8] = include_bytes!("../fixtures/ec-p256-test-key.pk8");
pub const EC_P384: &[u8] = include_bytes!("../fixtures/ec-p384-test-key.pk8");

/// The runtime's verdict on `check`, `None` where ring has no such algorithm (ES512).
pub fn check(check: &RuntimeCheck<'_, '_>) -> Option<bool> {
    let msg = check.signing_input;
    let sig = check.signature.as_slice();
    match check.runtime_key.params() {
        RuntimeKeyParams::Rsa { n, e } => {
            let params: &signature::RsaParameters = match check.alg {
                Algorithm::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                Algorithm::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                Algorithm::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                Algorithm::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
                Algorithm::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
                Algorithm::Ps512 => &signature::RSA_PSS_2048_8192_SHA512,
                _ => return Some(false),
            };
            Some(
                RsaPublicKeyComponents { n, e }
                    .verify(params, msg, sig)
                    .is_ok(),
            )
        }
        RuntimeKeyParams::Ec { x, y, .. } => {
            let alg: &dyn signature::VerificationAlgorithm = match check.alg {
                Algorithm::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
                Algorithm::Es384 => &signature::ECDSA_P384_SHA384_FIXED,
                _ => return None,
            };
            let point = [&[4u8][..], x, y].concat();
            Some(
                signature::UnparsedPublicKey::new(alg, point)
                    .verify(msg, sig)
                    .is_ok(),
            )
        }
    }
}

/// Signs like an issuer: `alg` with the fixture key `pkcs8`.
pub fn sign(alg: Algorithm, pkcs8: &[u8], message: &[u8]) -> Vec<u8> {
    Signer::new(alg, pkcs8).sign(message)
}

/// A private key parsed once (parsing an RSA key costs more than signing with it).
pub struct Signer {
    alg: Algorithm,
    rsa: Option<RsaKeyPair>,
    ec: Option<EcdsaKeyPair>,
}

impl Signer {
    pub fn new(alg: Algorithm, pkcs8: &[u8]) -> Signer {
        let rng = SystemRandom::new();
        let is_rsa = alg.key_kind() == jwtedge::core::KeyKind::Rsa;
        Signer {
            alg,
            rsa: is_rsa.then(|| RsaKeyPair::from_pkcs8(pkcs8).expect("fixture RSA key")),
            ec: (!is_rsa).then(|| {
                EcdsaKeyPair::from_pkcs8(ec_alg(alg), pkcs8, &rng).expect("fixture EC key")
            }),
        }
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        if let Some(pair) = &self.rsa {
            let encoding: &'static dyn signature::RsaEncoding = match self.alg {
                Algorithm::Rs256 => &signature::RSA_PKCS1_SHA256,
                Algorithm::Rs384 => &signature::RSA_PKCS1_SHA384,
                Algorithm::Rs512 => &signature::RSA_PKCS1_SHA512,
                Algorithm::Ps256 => &signature::RSA_PSS_SHA256,
                Algorithm::Ps384 => &signature::RSA_PSS_SHA384,
                _ => &signature::RSA_PSS_SHA512,
            };
            let mut sig = vec![0; pair.public().modulus_len()];
            pair.sign(encoding, &rng, message, &mut sig)
                .expect("RSA signing");
            return sig;
        }
        let pair = self.ec.as_ref().expect("an EC key");
        pair.sign(&rng, message)
            .expect("ECDSA signing")
            .as_ref()
            .to_vec()
    }
}

fn ec_alg(alg: Algorithm) -> &'static signature::EcdsaSigningAlgorithm {
    match alg {
        Algorithm::Es384 => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        _ => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
    }
}

/// A fresh EC key (PKCS#8) for `alg` (ES256 or ES384): a forger's.
pub fn fresh_ec_key(alg: Algorithm) -> Vec<u8> {
    EcdsaKeyPair::generate_pkcs8(ec_alg(alg), &SystemRandom::new())
        .expect("EC key generation")
        .as_ref()
        .to_vec()
}

/// The raw public key (RSA `n`; EC `x||y`): what an algorithm-confusion forger uses as an HMAC
/// secret.
pub fn public_bytes(alg: Algorithm, pkcs8: &[u8]) -> Vec<u8> {
    if alg.key_kind() == jwtedge::core::KeyKind::Rsa {
        let pair = RsaKeyPair::from_pkcs8(pkcs8).expect("fixture RSA key");
        let public: RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
        return public.n;
    }
    let pair =
        EcdsaKeyPair::from_pkcs8(ec_alg(alg), pkcs8, &SystemRandom::new()).expect("fixture EC key");
    pair.public_key().as_ref()[1..].to_vec()
}

/// The public JWK members of the RSA fixture key: `"n":…,"e":…` (n as the issuer encodes it:
/// `leading_zero` adds the 0x00 byte of a signed-integer encoding).
pub fn rsa_members(pkcs8: &[u8], leading_zero: bool) -> String {
    let pair = RsaKeyPair::from_pkcs8(pkcs8).expect("fixture RSA key");
    let public: RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
    let mut n = public.n.clone();
    if leading_zero {
        n.insert(0, 0);
    }
    format!(r#""n":"{}","e":"{}""#, b64(&n), b64(&public.e))
}

/// The public JWK members of an EC fixture key: `"crv":…,"x":…,"y":…`.
pub fn ec_members(alg: Algorithm, pkcs8: &[u8]) -> String {
    let rng = SystemRandom::new();
    let pair = EcdsaKeyPair::from_pkcs8(ec_alg(alg), pkcs8, &rng).expect("fixture EC key");
    let point = pair.public_key().as_ref();
    let half = (point.len() - 1) / 2;
    let crv = if half == 48 { "P-384" } else { "P-256" };
    format!(
        r#""crv":"{crv}","x":"{}","y":"{}""#,
        b64(&point[1..1 + half]),
        b64(&point[1 + half..])
    )
}
