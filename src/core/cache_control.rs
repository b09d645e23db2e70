//! Reading freshness from an HTTP `Cache-Control` header (RFC 9111 §5.2), for the keyset cache.

/// The `max-age` the header grants, in seconds. `no-store`/`no-cache` grant 0. `None` when the
/// header says nothing about freshness (the caller then uses its default).
pub fn max_age_seconds(cache_control: &str) -> Option<u64> {
    let mut max_age = None;
    for directive in cache_control.split(',') {
        let directive = directive.trim();
        let (name, value) = match directive.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (directive, None),
        };
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return Some(0);
        }
        if name.eq_ignore_ascii_case("max-age") {
            // A huge value saturates rather than failing; the caller clamps anyway.
            max_age = value.and_then(|v| {
                (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| v.parse::<u64>().unwrap_or(u64::MAX))
            });
        }
    }
    max_age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_directives() {
        assert_eq!(max_age_seconds("public, max-age=300"), Some(300));
        assert_eq!(max_age_seconds("MAX-AGE=\"60\""), Some(60));
        assert_eq!(
            max_age_seconds("max-age=99999999999999999999999"),
            Some(u64::MAX)
        );
        assert_eq!(max_age_seconds("private, no-store"), Some(0));
        assert_eq!(max_age_seconds("max-age=-1"), None);
        assert_eq!(max_age_seconds("max-age=abc"), None);
        assert_eq!(max_age_seconds("public"), None);
        assert_eq!(max_age_seconds(""), None);
    }
}
