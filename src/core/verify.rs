//! The verification pipeline of SPEC §4 in its order: size → structure → header → key lookup →
//! signature → claims. The first failure decides.
//!
//! Signatures of RSA and ECDSA keys are checked by the runtime's crypto, not here: the pipeline
//! then returns a [`Step::Runtime`] naming the algorithm, the key, the signing input and the
//! signature, and the claims stage runs once the runtime's verdict is known.

use super::{
    Algorithm, Claims, Keyset, Outcome, Reason, RuntimeKey, UntrustedToken, Verified, VerifyKey,
    VerifyOptions,
};

/// Verifies `token` against `keyset` at `now` (seconds since the Unix epoch), for keysets whose
/// signatures the core checks itself (EdDSA, HMAC). A token that needs the runtime's crypto
/// (RSA, ECDSA) is `unsupported_algorithm` here: use [`verify_using`] with a runtime check.
pub fn verify(token: &str, keyset: &Keyset, opts: &VerifyOptions, now: f64) -> Outcome {
    verify_using(token, keyset, opts, now, |_| None)
}

/// [`verify`], with `runtime` checking RSA and ECDSA signatures: `Some(verdict)`, or `None` when
/// it cannot (the token is then `unsupported_algorithm`).
pub fn verify_using(
    token: &str,
    keyset: &Keyset,
    opts: &VerifyOptions,
    now: f64,
    runtime: impl FnOnce(&RuntimeCheck<'_, '_>) -> Option<bool>,
) -> Outcome {
    let untrusted = match UntrustedToken::parse(token, opts) {
        Ok(untrusted) => untrusted,
        Err(reason) => return Outcome::Rejected(reason),
    };
    match untrusted.check(keyset, opts, now) {
        Step::Done(outcome) => outcome,
        Step::Runtime(check) => match runtime(&check) {
            Some(valid) => check.finish(valid, opts, now),
            None => Outcome::Rejected(Reason::UnsupportedAlgorithm),
        },
    }
}

/// Where the pipeline stands after key lookup and every check the core can make.
#[derive(Debug)]
pub enum Step<'t, 'k> {
    Done(Outcome),
    /// The signature must be checked by the runtime; [`RuntimeCheck::finish`] takes its verdict.
    Runtime(RuntimeCheck<'t, 'k>),
}

/// A signature for the runtime to check, and the token waiting for its verdict.
#[derive(Debug)]
pub struct RuntimeCheck<'t, 'k> {
    pub alg: Algorithm,
    /// The key as selected (its `index` keys the runtime's cache of imported keys).
    pub key: &'k VerifyKey,
    pub runtime_key: &'k RuntimeKey,
    pub signing_input: &'t [u8],
    pub signature: Vec<u8>,
    pub pending: AwaitingSignature,
}

impl RuntimeCheck<'_, '_> {
    /// Signature → claims → outcome, with the runtime's verdict.
    pub fn finish(self, signature_valid: bool, opts: &VerifyOptions, now: f64) -> Outcome {
        self.pending.finish(signature_valid, opts, now)
    }
}

impl<'t> UntrustedToken<'t> {
    /// Key lookup → signature → claims, for a token that already parsed (core-checked keys only;
    /// see [`verify`]).
    pub fn verify_with(self, keyset: &Keyset, opts: &VerifyOptions, now: f64) -> Outcome {
        match self.check(keyset, opts, now) {
            Step::Done(outcome) => outcome,
            Step::Runtime(_) => Outcome::Rejected(Reason::UnsupportedAlgorithm),
        }
    }

    /// Key lookup, then the signature when the core can check it, then claims.
    pub fn check<'k>(self, keyset: &'k Keyset, opts: &VerifyOptions, now: f64) -> Step<'t, 'k> {
        match keyset.find(&self.key_need()) {
            Ok(key) => self.check_with(key, opts, now),
            Err(reason) => Step::Done(Outcome::Rejected(reason)),
        }
    }

    /// The signature with `key` (already selected) when the core can check it, then claims; or
    /// the runtime check to make. A signature of the wrong length for an RSA or EC key is
    /// `bad_signature` here (a DER-encoded ECDSA signature among them), before any runtime sees it.
    pub fn check_with<'k>(
        self,
        key: &'k VerifyKey,
        opts: &VerifyOptions,
        now: f64,
    ) -> Step<'t, 'k> {
        let Some(runtime_key) = key.runtime_key() else {
            let valid = key.verify_signature(self.signing_input(), self.signature());
            return Step::Done(self.finish(key, valid, opts, now));
        };
        if !runtime_key.signature_fits(self.signature()) {
            return Step::Done(Outcome::Rejected(Reason::BadSignature));
        }
        let alg = self.alg();
        let signing_input = self.signing_input();
        let signature = self.signature().to_vec();
        Step::Runtime(RuntimeCheck {
            alg,
            key,
            runtime_key,
            signing_input,
            signature,
            pending: self.awaiting_signature(key),
        })
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
