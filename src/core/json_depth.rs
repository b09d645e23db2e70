//! A nesting-depth guard run before a general JSON parser (the origin's serde_json) sees
//! untrusted bytes (SPEC §4, §9), so hostile input cannot drive it into deep recursion. The
//! verifier's own reader (`json.rs`) enforces the same [`MAX_JSON_DEPTH`] as it reads.

/// JSON nested deeper than this is `malformed`.
pub const MAX_JSON_DEPTH: usize = 32;

/// True when `json` opens more than `max` arrays/objects at once. Brackets inside strings do not
/// count. Linear, no allocation; it does not validate JSON (the parser does that next).
pub fn exceeds_depth(json: &[u8], max: usize) -> bool {
    // Fast path for every real token: too few brackets in all to nest that deep.
    if json.iter().filter(|&&b| b == b'{' || b == b'[').count() <= max {
        return false;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in json {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_nesting_outside_strings() {
        assert!(!exceeds_depth(br#"{"a":[1,{"b":2}]}"#, 3));
        assert!(exceeds_depth(br#"{"a":[1,{"b":2}]}"#, 2));
        assert!(!exceeds_depth(br#"{"a":"[[[[[[\"[[["}"#, 1));
        let deep = "[".repeat(10_000);
        assert!(exceeds_depth(deep.as_bytes(), MAX_JSON_DEPTH));
        let ok = format!("{}{}", "[".repeat(32), "]".repeat(32));
        assert!(!exceeds_depth(ok.as_bytes(), MAX_JSON_DEPTH));
        let over = format!("{}{}", "[".repeat(33), "]".repeat(33));
        assert!(exceeds_depth(over.as_bytes(), MAX_JSON_DEPTH));
    }
}
