//! The registered claims jwtedge judges, their types, and the claim checks of SPEC §4 in its
//! order: every UNAUTHORISED check before expiry, so `expired` means "good, merely aged out".

use super::json::{Invalid, Json, Parsed};
use super::{Reason, VerifyOptions};

/// Registered claims, type-checked: a wrong type makes the token `malformed`. A registered claim
/// that is present must have its type: `null` is a wrong type, not "absent" (`"nbf": null` would
/// otherwise skip the check; jose refuses it too), except for `exp` (below).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Claims {
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Option<Audience>,
    /// `"exp": null` stays `None`: the token has no expiry, which is `missing_claim` (a vector
    /// pins it), not `malformed`.
    pub exp: Option<f64>,
    pub nbf: Option<f64>,
    pub iat: Option<f64>,
    pub jti: Option<StringCheck>,
    pub sid: Option<StringCheck>,
}

/// `aud`: one string or an array of strings (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains_any(&self, wanted: &[String]) -> bool {
        match self {
            Audience::One(a) => wanted.iter().any(|w| w == a),
            Audience::Many(list) => list.iter().any(|a| wanted.iter().any(|w| w == a)),
        }
    }

    fn read(json: &mut Json<'_>) -> Parsed<Audience> {
        if json.peek() != Some(b'[') {
            return Ok(Audience::One(json.string()?.into_owned()));
        }
        let mut all = Vec::new();
        json.array(|json| {
            all.push(json.string()?.into_owned());
            Ok(())
        })?;
        Ok(Audience::Many(all))
    }
}

/// Checks that a claim is a string without keeping it (the caller reads it from the JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StringCheck;

/// A registered member seen twice is malformed: which one would the caller's JSON.parse keep?
fn once<T>(slot: &mut Option<T>, value: Parsed<T>) -> Parsed<()> {
    if slot.is_some() {
        return Err(Invalid);
    }
    *slot = Some(value?);
    Ok(())
}

impl Claims {
    /// Parses a claims set (already depth-checked). `None` when it is not a JSON object or a
    /// registered claim has the wrong type.
    pub fn parse(json: &str) -> Option<Claims> {
        let claims = Claims::read(json.as_bytes()).ok()?;
        let finite = |v: Option<f64>| v.is_none_or(f64::is_finite);
        (finite(claims.exp) && finite(claims.nbf) && finite(claims.iat)).then_some(claims)
    }

    fn read(bytes: &[u8]) -> Parsed<Claims> {
        let mut c = Claims::default();
        let mut exp_seen = false;
        let mut json = Json::new(bytes);
        json.object(|json, name| match &*name {
            "iss" => once(&mut c.iss, json.string().map(|s| s.into_owned())),
            "sub" => once(&mut c.sub, json.string().map(|s| s.into_owned())),
            "aud" => once(&mut c.aud, Audience::read(json)),
            "exp" => {
                if exp_seen {
                    return Err(Invalid);
                }
                exp_seen = true;
                if !json.null()? {
                    c.exp = Some(json.number()?);
                }
                Ok(())
            }
            "nbf" => once(&mut c.nbf, json.number()),
            "iat" => once(&mut c.iat, json.number()),
            "jti" => once(&mut c.jti, json.string().map(|_| StringCheck)),
            "sid" => once(&mut c.sid, json.string().map(|_| StringCheck)),
            _ => json.skip(false),
        })?;
        json.end()?;
        Ok(c)
    }

    /// The claim checks, after the signature has been verified. `now` is in seconds.
    pub fn check(&self, claims_json: &str, opts: &VerifyOptions, now: f64) -> Result<(), Reason> {
        let Some(exp) = self.exp else {
            return Err(Reason::MissingClaim);
        };
        if !opts.required_claims.is_empty() && !has_claims(claims_json, &opts.required_claims) {
            return Err(Reason::MissingClaim);
        }
        if let Some(issuers) = &opts.issuer {
            if !self.iss.as_ref().is_some_and(|iss| issuers.contains(iss)) {
                return Err(Reason::InvalidIssuer);
            }
        }
        if let Some(audiences) = &opts.audience {
            if !self
                .aud
                .as_ref()
                .is_some_and(|aud| aud.contains_any(audiences))
            {
                return Err(Reason::InvalidAudience);
            }
        }
        let leeway = opts.leeway_seconds;
        if self.nbf.is_some_and(|nbf| nbf > now + leeway) {
            return Err(Reason::NotYetValid);
        }
        if exp <= now - leeway {
            return Err(Reason::Expired);
        }
        Ok(())
    }
}

/// True when every name in `required` is a top-level member of the claims object.
fn has_claims(claims_json: &str, required: &[String]) -> bool {
    let mut found = vec![false; required.len()];
    let mut json = Json::new(claims_json.as_bytes());
    let read = json.object(|json, name| {
        for (wanted, found) in required.iter().zip(found.iter_mut()) {
            *found |= *wanted == *name;
        }
        json.skip(false)
    });
    read.is_ok() && found.iter().all(|f| *f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(json: &str, opts: &VerifyOptions, now: f64) -> Result<(), Reason> {
        Claims::parse(json)
            .ok_or(Reason::Malformed)?
            .check(json, opts, now)
    }

    #[test]
    fn types_are_checked() {
        assert!(Claims::parse(r#"{"exp":"1"}"#).is_none());
        assert!(Claims::parse(r#"{"exp":1,"iss":5}"#).is_none());
        assert!(Claims::parse(r#"{"exp":1,"aud":[1]}"#).is_none());
        assert!(Claims::parse(r#"{"exp":1,"jti":{}}"#).is_none());
        assert!(
            Claims::parse(r#"{"exp":1,"exp":2}"#).is_none(),
            "duplicate claim"
        );
        assert!(Claims::parse(r#"[1]"#).is_none());
        for claim in ["iss", "sub", "aud", "nbf", "iat", "jti", "sid"] {
            let json = format!(r#"{{"exp":1,"{claim}":null}}"#);
            assert!(
                Claims::parse(&json).is_none(),
                "{claim}: null is not absent"
            );
        }
        assert!(Claims::parse(r#"{"exp":1e999}"#).is_none());
        let c = Claims::parse(r#"{"exp":1.5,"aud":["a","b"],"custom":{"x":[1]}}"#).unwrap();
        assert_eq!(c.exp, Some(1.5));
    }

    #[test]
    fn order_and_boundaries() {
        let o = VerifyOptions {
            issuer: Some(vec!["i".into()]),
            audience: Some(vec!["api".into()]),
            leeway_seconds: 5.0,
            ..VerifyOptions::default()
        };
        let good = r#"{"iss":"i","aud":"api","exp":100}"#;
        assert_eq!(check(good, &o, 104.9), Ok(()));
        assert_eq!(check(good, &o, 105.0), Err(Reason::Expired));
        assert_eq!(
            check(r#"{"iss":"i","aud":"api"}"#, &o, 0.0),
            Err(Reason::MissingClaim)
        );
        // An expired token with a wrong issuer is unauthorised, not "try refresh".
        assert_eq!(
            check(r#"{"iss":"x","aud":"api","exp":1}"#, &o, 500.0),
            Err(Reason::InvalidIssuer)
        );
        assert_eq!(
            check(r#"{"iss":"i","aud":["x"],"exp":1}"#, &o, 500.0),
            Err(Reason::InvalidAudience)
        );
        assert_eq!(
            check(r#"{"iss":"i","exp":1000}"#, &o, 500.0),
            Err(Reason::InvalidAudience)
        );
        let nbf = r#"{"iss":"i","aud":"api","exp":1000,"nbf":110}"#;
        assert_eq!(check(nbf, &o, 105.0), Ok(()));
        assert_eq!(check(nbf, &o, 104.0), Err(Reason::NotYetValid));
        // iat in the future is not judged.
        assert_eq!(
            check(r#"{"iss":"i","aud":"api","exp":1000,"iat":9999}"#, &o, 1.0),
            Ok(())
        );
        let req = VerifyOptions {
            required_claims: vec!["sid".into()],
            ..o.clone()
        };
        assert_eq!(check(good, &req, 1.0), Err(Reason::MissingClaim));
        assert_eq!(
            check(r#"{"iss":"i","aud":"api","exp":100,"sid":"s"}"#, &req, 1.0),
            Ok(())
        );
    }
}
