//! Reading freshness from HTTP response headers for the keyset cache: `Cache-Control`
//! (RFC 9111 §5.2) and `Age` (RFC 9111 §5.1). The worker's JavaScript passes the raw header
//! values through; all parsing is here.

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

/// How long, in seconds, the response has already spent in caches on its way (`Age`, RFC 9111
/// §5.1). The first member of a list counts; a value too big to represent saturates. `None` when
/// the value is not delta-seconds: the caller cannot know the copy's age and must not assume 0.
pub fn age_seconds(age: &str) -> Option<u64> {
    let first = age.split(',').next().unwrap_or_default().trim();
    (!first.is_empty() && first.bytes().all(|b| b.is_ascii_digit()))
        .then(|| first.parse::<u64>().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_age() {
        assert_eq!(age_seconds("3"), Some(3));
        assert_eq!(age_seconds(" 120 "), Some(120));
        assert_eq!(age_seconds("7, 9"), Some(7));
        assert_eq!(age_seconds("99999999999999999999999"), Some(u64::MAX));
        assert_eq!(age_seconds("0"), Some(0));
        assert_eq!(age_seconds("-1"), None);
        assert_eq!(age_seconds("1.5"), None);
        assert_eq!(age_seconds("soon"), None);
        assert_eq!(age_seconds(""), None);
    }

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
