//! Credential checks: the `Authorization: Bearer` credential compared in constant time
//! (`Credential::matches`) with the one an endpoint requires; each failure counted.

use axum::http::{header, HeaderMap};

use crate::origin::error::ApiError;
use crate::origin::secrets::Credential;
use crate::origin::service::Origin;

pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

pub(super) fn require(
    origin: &Origin,
    credential: &Credential,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    match bearer(headers) {
        None => {
            origin.metrics.auth_failures.inc();
            Err(ApiError::unauthorized(
                "missing credential: send Authorization: Bearer <credential>",
            ))
        }
        Some(presented) if credential.matches(presented) => Ok(()),
        Some(_) => {
            origin.metrics.auth_failures.inc();
            Err(ApiError::unauthorized("invalid credential"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::headers_for_tests as headers;
    use super::*;

    #[test]
    fn bearer_parsing() {
        assert_eq!(
            bearer(&headers(&[("authorization", "Bearer abc")])),
            Some("abc")
        );
        assert_eq!(
            bearer(&headers(&[("authorization", "bearer  abc ")])),
            Some("abc")
        );
        assert_eq!(bearer(&headers(&[("authorization", "Basic abc")])), None);
        assert_eq!(bearer(&headers(&[("authorization", "Bearer ")])), None);
        assert_eq!(bearer(&headers(&[("authorization", "Bearer")])), None);
        assert_eq!(bearer(&headers(&[])), None);
    }
}
