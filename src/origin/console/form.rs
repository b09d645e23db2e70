//! HTML form bodies (`application/x-www-form-urlencoded`) of the console's POSTs: decoded into
//! name → value pairs. Invalid UTF-8 or percent-escapes make the field unreadable rather than
//! a panic; a repeated field keeps its first value.

use percent_encoding::percent_decode;

/// The fields of one form submission.
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        let mut fields = Vec::new();
        for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            if let (Some(n), Some(v)) = (decode(name), decode(value)) {
                fields.push((n, v));
            }
        }
        Form(fields)
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A checkbox or flag: present with a value other than empty/`false`/`off`.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| !matches!(v, "" | "false" | "off" | "0"))
    }
}

fn decode(raw: &[u8]) -> Option<String> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_decode(&spaced)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let f = Form::parse(b"csrf=a%2Bb&kid=k+1&force=on&force=off&empty&bad=%FF");
        assert_eq!(f.get("csrf"), Some("a+b"));
        assert_eq!(f.get("kid"), Some("k 1"));
        assert!(f.flag("force"));
        assert_eq!(f.get("empty"), Some(""));
        assert!(!f.flag("empty"));
        assert_eq!(f.get("bad"), None);
        assert_eq!(f.get("missing"), None);
    }
}
