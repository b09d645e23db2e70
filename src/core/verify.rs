//! The verification pipeline of SPEC §4 in its order: size → structure → header → key lookup →
//! signature → claims. The first failure decides.

use super::{Keyset, Outcome, Reason, UntrustedToken, Verified, VerifyOptions};

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
        match self.check(keyset, opts, now) {
            Ok(kid) => {
                let alg = self.alg();
                let (claims, claims_json) = self.into_claims();
                Outcome::Ok(Verified {
                    claims,
                    claims_json,
                    kid,
                    alg,
                })
            }
            Err(reason) => Outcome::Rejected(reason),
        }
    }

    fn check(
        &self,
        keyset: &Keyset,
        opts: &VerifyOptions,
        now: f64,
    ) -> Result<Option<String>, Reason> {
        let key = keyset.find(&self.key_need())?;
        if !key.verify_signature(self.signing_input(), self.signature()) {
            return Err(Reason::BadSignature);
        }
        let (claims, json) = self.claims();
        claims.check(json, opts, now)?;
        Ok(key.kid.clone())
    }
}
