//! The verification pipeline of SPEC §4 in its order: size → structure → header → key lookup →
//! signature → claims. The first failure decides.

use super::{
    Algorithm, Claims, Keyset, Outcome, Reason, UntrustedToken, Verified, VerifyKey, VerifyOptions,
};

/// Verifies `token` against `keyset` at `now` (seconds since the Unix epoch).
pub fn verify(token: &str, keyset: &Keyset, opts: &VerifyOptions, now: f64) -> Outcome {
    match UntrustedToken::parse(token, opts) {
        Ok(untrusted) => untrusted.verify_with(keyset, opts, now),
        Err(reason) => Outcome::Rejected(reason),
    }
}

impl UntrustedToken<'_> {
    /// Key lookup → signature → claims, for a token that already parsed.
    pub fn verify_with(self, keyset: &Keyset, opts: &VerifyOptions, now: f64) -> Outcome {
        let key = match keyset.find(&self.key_need()) {
            Ok(key) => key,
            Err(reason) => return Outcome::Rejected(reason),
        };
        let valid = key.verify_signature(self.signing_input(), self.signature());
        self.finish(key, valid, opts, now)
    }

    /// The key this token's signature must be checked with (SPEC §3 selection).
    pub fn find_key<'k>(&self, keyset: &'k Keyset) -> Result<&'k VerifyKey, Reason> {
        keyset.find(&self.key_need())
    }

    /// The rest of the pipeline once `key`'s check of the signature is known.
    pub fn finish(
        self,
        key: &VerifyKey,
        signature_valid: bool,
        opts: &VerifyOptions,
        now: f64,
    ) -> Outcome {
        self.awaiting_signature(key)
            .finish(signature_valid, opts, now)
    }

    /// Hands the signature check to someone else (the runtime's WebCrypto, asynchronously): the
    /// result owns what the claims stage needs and no longer borrows the token.
    pub fn awaiting_signature(self, key: &VerifyKey) -> AwaitingSignature {
        let alg = self.alg();
        let (claims, claims_json) = self.into_claims();
        AwaitingSignature {
            claims,
            claims_json,
            alg,
            kid: key.kid.clone(),
        }
    }
}

/// A token past key lookup whose signature is being checked elsewhere. Nothing in it is trusted
/// until [`AwaitingSignature::finish`] is told the signature is valid.
#[derive(Debug)]
pub struct AwaitingSignature {
    claims: Claims,
    claims_json: String,
    alg: Algorithm,
    kid: Option<String>,
}

impl AwaitingSignature {
    /// Signature → claims → outcome.
    pub fn finish(self, signature_valid: bool, opts: &VerifyOptions, now: f64) -> Outcome {
        if !signature_valid {
            return Outcome::Rejected(Reason::BadSignature);
        }
        if let Err(reason) = self.claims.check(&self.claims_json, opts, now) {
            return Outcome::Rejected(reason);
        }
        Outcome::Ok(Verified {
            claims: self.claims,
            claims_json: self.claims_json,
            kid: self.kid,
            alg: self.alg,
        })
    }
}
