//! A strict single-pass JSON reader (RFC 8259) for the few members a JOSE header, a claims set
//! and a JWKS carry. It replaces a general JSON library in the verifier: the `.wasm` pays for
//! every byte of parser at each cold start, and the hot path for every pass over the token.
//!
//! The caller walks the document (objects member by member, arrays element by element) and
//! reads each value it cares about; everything else is skipped with its syntax checked. Two
//! levels of checking match what jwtedge always accepted:
//! - a value that is read ([`Json::string`], every member name) is decoded: escapes well formed,
//!   surrogates paired, the result valid UTF-8;
//! - a skipped value ([`Json::skip`] with `decode == false`) is checked for syntax only: escapes
//!   well formed (a lone surrogate passes, as in JavaScript), no control characters. With
//!   `decode == true` its strings are decoded and its numbers must be finite, the checks a reader
//!   of the whole document into values makes (used for keysets).
//!
//! Nesting deeper than [`MAX_JSON_DEPTH`] is an error, so hostile input cannot recurse deeply.

use std::borrow::Cow;

use super::MAX_JSON_DEPTH;

/// The input is not JSON, or not of the shape the caller asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid;

pub type Parsed<T> = Result<T, Invalid>;

/// The powers of ten an `f64` holds exactly.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A cursor over one JSON document.
pub struct Json<'a> {
    bytes: &'a [u8],
    at: usize,
    depth: usize,
}

impl<'a> Json<'a> {
    pub fn new(bytes: &'a [u8]) -> Json<'a> {
        Json {
            bytes,
            at: 0,
            depth: 0,
        }
    }

    /// The next byte that is not JSON whitespace, not consumed.
    #[inline(always)]
    pub fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes.get(self.at) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(b);
            }
            self.at += 1;
        }
        None
    }

    #[inline(always)]
    fn eat(&mut self, byte: u8) -> Parsed<()> {
        if self.peek() != Some(byte) {
            return Err(Invalid);
        }
        self.at += 1;
        Ok(())
    }

    #[inline(always)]
    fn next_byte(&mut self) -> Parsed<u8> {
        let b = *self.bytes.get(self.at).ok_or(Invalid)?;
        self.at += 1;
        Ok(b)
    }

    /// Only whitespace may follow the document's one value.
    pub fn end(&mut self) -> Parsed<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(Invalid),
        }
    }

    fn open(&mut self, byte: u8) -> Parsed<()> {
        self.eat(byte)?;
        self.depth += 1;
        if self.depth > MAX_JSON_DEPTH {
            return Err(Invalid);
        }
        Ok(())
    }

    /// Reads an object: `member(self, name)` is called for each member, its name decoded, and
    /// must read or skip the value.
    pub fn object(
        &mut self,
        member: impl FnMut(&mut Json<'a>, Cow<'a, str>) -> Parsed<()>,
    ) -> Parsed<()> {
        self.members(true, member)
    }

    /// [`Json::object`]; with `decode_names == false` names are only skipped (and passed as "").
    fn members(
        &mut self,
        decode_names: bool,
        mut member: impl FnMut(&mut Json<'a>, Cow<'a, str>) -> Parsed<()>,
    ) -> Parsed<()> {
        self.open(b'{')?;
        if self.peek() == Some(b'}') {
            self.at += 1;
        } else {
            loop {
                let name = if decode_names {
                    self.string()?
                } else {
                    self.skip_string()?;
                    Cow::Borrowed("")
                };
                self.eat(b':')?;
                member(self, name)?;
                match self.peek() {
                    Some(b',') => self.at += 1,
                    Some(b'}') => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(Invalid),
                }
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// Reads an array: `element(self)` is called for each element and must read or skip it.
    pub fn array(&mut self, mut element: impl FnMut(&mut Json<'a>) -> Parsed<()>) -> Parsed<()> {
        self.open(b'[')?;
        if self.peek() == Some(b']') {
            self.at += 1;
        } else {
            loop {
                element(self)?;
                match self.peek() {
                    Some(b',') => self.at += 1,
                    Some(b']') => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(Invalid),
                }
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// Consumes `null` when it comes next; false (nothing consumed) for any other value.
    pub fn null(&mut self) -> Parsed<bool> {
        if self.peek() != Some(b'n') {
            return Ok(false);
        }
        self.literal(b"null")?;
        Ok(true)
    }

    fn literal(&mut self, word: &[u8]) -> Parsed<()> {
        let end = self.at + word.len();
        if self.bytes.get(self.at..end) != Some(word) {
            return Err(Invalid);
        }
        self.at = end;
        Ok(())
    }

    /// A string, decoded: borrowed from the input when it has no escapes.
    pub fn string(&mut self) -> Parsed<Cow<'a, str>> {
        self.eat(b'"')?;
        let mut run = self.at;
        let mut decoded: Option<Vec<u8>> = None;
        loop {
            match self.next_byte()? {
                b'"' => break,
                b'\\' => {
                    let out = decoded.get_or_insert_with(Vec::new);
                    out.extend_from_slice(&self.bytes[run..self.at - 1]);
                    self.escape(Some(out))?;
                    run = self.at;
                }
                0..=0x1f => return Err(Invalid),
                _ => {}
            }
        }
        let tail = &self.bytes[run..self.at - 1];
        match decoded {
            None => std::str::from_utf8(tail)
                .map(Cow::Borrowed)
                .map_err(|_| Invalid),
            Some(mut out) => {
                out.extend_from_slice(tail);
                String::from_utf8(out).map(Cow::Owned).map_err(|_| Invalid)
            }
        }
    }

    /// Skips a string, checking its syntax only (see the module comment).
    fn skip_string(&mut self) -> Parsed<()> {
        self.eat(b'"')?;
        loop {
            match self.next_byte()? {
                b'"' => return Ok(()),
                b'\\' => self.escape(None)?,
                0..=0x1f => return Err(Invalid),
                _ => {}
            }
        }
    }

    /// After a backslash: one escape, appended decoded to `out` (surrogates must then pair), or
    /// only checked when `out` is `None`.
    fn escape(&mut self, out: Option<&mut Vec<u8>>) -> Parsed<()> {
        let plain = match self.next_byte()? {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let unit = self.hex4()?;
                let Some(out) = out else {
                    return Ok(());
                };
                let code = match unit {
                    0xd800..=0xdbff => {
                        self.literal(b"\\u")?;
                        let low = self.hex4()?;
                        if !(0xdc00..=0xdfff).contains(&low) {
                            return Err(Invalid);
                        }
                        0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00)
                    }
                    0xdc00..=0xdfff => return Err(Invalid),
                    _ => unit,
                };
                let c = char::from_u32(code).ok_or(Invalid)?;
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                return Ok(());
            }
            _ => return Err(Invalid),
        };
        if let Some(out) = out {
            out.push(plain);
        }
        Ok(())
    }

    fn hex4(&mut self) -> Parsed<u32> {
        let mut unit = 0;
        for _ in 0..4 {
            let digit = (self.next_byte()? as char).to_digit(16).ok_or(Invalid)?;
            unit = unit * 16 + digit;
        }
        Ok(unit)
    }

    /// A number's text, its syntax checked (`-`, no leading zeros, digits after `.` and `e`).
    fn number_text(&mut self) -> Parsed<&'a str> {
        self.peek();
        let start = self.at;
        let digits = |json: &mut Json<'a>| -> Parsed<usize> {
            let from = json.at;
            while json.bytes.get(json.at).is_some_and(u8::is_ascii_digit) {
                json.at += 1;
            }
            if json.at == from {
                return Err(Invalid);
            }
            Ok(json.at - from)
        };
        if self.bytes.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        let first = self.bytes.get(self.at).copied();
        if digits(self)? > 1 && first == Some(b'0') {
            return Err(Invalid);
        }
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            digits(self)?;
        }
        if matches!(self.bytes.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.bytes.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            digits(self)?;
        }
        // Only ASCII was consumed.
        std::str::from_utf8(&self.bytes[start..self.at]).map_err(|_| Invalid)
    }

    /// A number as an `f64`; one too large for it is an error. Exact (correctly rounded)
    /// whenever the number has at most 15 significant digits and a decimal exponent within ±22
    /// (every timestamp, every real claim); otherwise within a few units in the last place, as
    /// the general JSON library it replaced was. Written out rather than `str::parse`, whose
    /// exact algorithm and its tables would cost the `.wasm` some 15 KiB.
    pub fn number(&mut self) -> Parsed<f64> {
        let text = self.number_text()?.as_bytes();
        let (negative, digits) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, text),
        };
        // Up to 19 significant digits in `mantissa`; `exponent` is the power of ten it scales by.
        let (mut mantissa, mut kept, mut exponent) = (0u64, 0, 0i64);
        let mut in_fraction = false;
        let mut rest = digits.iter();
        for &b in rest.by_ref() {
            match b {
                b'.' => in_fraction = true,
                b'e' | b'E' => break,
                _ if kept < 19 => {
                    mantissa = mantissa * 10 + u64::from(b - b'0');
                    kept += usize::from(mantissa != 0);
                    exponent -= i64::from(in_fraction);
                }
                _ => exponent += i64::from(!in_fraction),
            }
        }
        let mut stated = 0i64;
        let mut sign = 1;
        for &b in rest {
            match b {
                b'-' => sign = -1,
                b'+' => {}
                // Saturates: past 10^±100000 the value is infinite or zero anyway.
                _ => stated = (stated * 10 + i64::from(b - b'0')).min(100_000),
            }
        }
        exponent += sign * stated;
        let m = mantissa as f64;
        let value = match exponent {
            0..=22 if mantissa < 1 << 53 => m * POW10[exponent as usize],
            -22..=-1 if mantissa < 1 << 53 => m / POW10[(-exponent) as usize],
            _ => m * 10f64.powi(exponent.clamp(-400, 400) as i32),
        };
        if !value.is_finite() {
            return Err(Invalid);
        }
        Ok(if negative { -value } else { value })
    }

    /// Skips one value of any kind; `decode` as described in the module comment.
    pub fn skip(&mut self, decode: bool) -> Parsed<()> {
        match self.peek().ok_or(Invalid)? {
            b'{' => self.members(decode, |json, _| json.skip(decode)),
            b'[' => self.array(|json| json.skip(decode)),
            b'"' if decode => self.string().map(drop),
            b'"' => self.skip_string(),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ if decode => self.number().map(drop),
            _ => self.number_text().map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whole-document checks in both modes.
    fn valid(text: &[u8], decode: bool) -> bool {
        let mut json = Json::new(text);
        json.skip(decode).and_then(|()| json.end()).is_ok()
    }

    fn string_of(text: &str) -> Parsed<String> {
        let mut json = Json::new(text.as_bytes());
        let s = json.string()?;
        json.end()?;
        Ok(s.into_owned())
    }

    #[test]
    fn accepts_valid_json() {
        for text in [
            r#"{}"#,
            r#" { "a" : [ 1 , -0 , 0.5 , 1e3 , 1E+3 , -2.5e-3 , true , false , null , "x" ] } "#,
            r#"[]"#,
            r#""\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00""#,
            "\"caf\u{e9} \u{1f600}\"",
            r#"{"a":{"b":{"c":[[[]]]}}}"#,
            "0",
            "123456789012345678901234567890",
        ] {
            assert!(valid(text.as_bytes(), true), "{text}");
            assert!(valid(text.as_bytes(), false), "{text}");
        }
    }

    #[test]
    fn rejects_invalid_json() {
        for text in [
            "",
            " ",
            "{",
            "}",
            "[1,]",
            "[,1]",
            "{\"a\":1,}",
            "{\"a\"1}",
            "{a:1}",
            "{'a':1}",
            "[1 2]",
            "01",
            "-",
            "1.",
            ".5",
            "+1",
            "1e",
            "1e+",
            "0x10",
            "NaN",
            "Infinity",
            "tru",
            "nul",
            "\"abc",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\u12G4\"",
            "\"a\u{1}\"",
            "\"tab\t\"",
            "{} {}",
            "[] x",
            "{\"a\":1}}",
            "[1]]",
            "\u{feff}{}",
        ] {
            assert!(!valid(text.as_bytes(), true), "decode {text:?}");
            assert!(!valid(text.as_bytes(), false), "skip {text:?}");
        }
    }

    #[test]
    fn decodes_escapes_and_pairs_surrogates() {
        assert_eq!(string_of(r#""a\u0062\n\/""#).unwrap(), "ab\n/");
        assert_eq!(string_of(r#""\uD83D\uDE00""#).unwrap(), "\u{1f600}");
        assert_eq!(string_of(r#""\u00E9""#).unwrap(), "\u{e9}");
        // Lone or reversed surrogates are not text.
        for lone in [
            r#""\uD83D""#,
            r#""\uDE00""#,
            r#""\uD83Dx""#,
            r#""\uD83D\n""#,
            r#""\uDE00\uD83D""#,
            r#""\uD83D\uD83D""#,
        ] {
            assert_eq!(string_of(lone), Err(Invalid), "{lone}");
            // Skipped, their syntax is fine (a JSON.parse accepts them too).
            assert!(valid(lone.as_bytes(), false), "{lone}");
            assert!(!valid(lone.as_bytes(), true), "{lone}");
        }
    }

    #[test]
    fn checks_utf8_of_read_strings_only() {
        let bad = b"\"\xff\"";
        let mut json = Json::new(bad);
        assert!(json.string().is_err());
        assert!(valid(bad, false), "skipped strings are not decoded");
        assert!(!valid(bad, true));
        let bad_escaped = b"\"\\n\xc3\"";
        assert!(Json::new(bad_escaped).string().is_err());
    }

    #[test]
    fn borrows_unescaped_strings() {
        let mut json = Json::new(br#""plain""#);
        assert!(matches!(json.string(), Ok(Cow::Borrowed("plain"))));
    }

    #[test]
    fn limits_nesting() {
        let ok = format!("{}{}", "[".repeat(32), "]".repeat(32));
        assert!(valid(ok.as_bytes(), false));
        let over = format!("{}{}", "[".repeat(33), "]".repeat(33));
        assert!(!valid(over.as_bytes(), false));
        let objects = format!("{}1{}", r#"{"a":"#.repeat(33), "}".repeat(33));
        assert!(!valid(objects.as_bytes(), true));
        let hostile = "[".repeat(100_000);
        assert!(!valid(hostile.as_bytes(), false));
    }

    #[test]
    fn numbers() {
        let n = |text: &str| Json::new(text.as_bytes()).number();
        assert_eq!(n("1700000000"), Ok(1_700_000_000.0));
        assert_eq!(n("-12"), Ok(-12.0));
        assert_eq!(n("1.5e1"), Ok(15.0));
        assert_eq!(n("9007199254740993"), Ok(9_007_199_254_740_992.0));
        assert_eq!(
            n("123456789012345678901234567890"),
            Ok(1.2345678901234568e29)
        );
        assert_eq!(n("1e-400"), Ok(0.0));
        assert_eq!(n("0.1"), Ok(0.1));
        assert_eq!(n("-0.000123"), Ok(-0.000123));
        assert_eq!(n("1700000000.5"), Ok(1_700_000_000.5));
        assert_eq!(n("17e8"), Ok(1.7e9));
        assert_eq!(n("00"), Err(Invalid));
        // Beyond the exact range: close to the correctly rounded value.
        for text in [
            "3.141592653589793238462643",
            "1.2345e-300",
            "9.87654321e200",
            "123e-30",
            "0.0000000000000000000000000001",
            "1.7976931348623157e307",
            "12345678901234567890123",
        ] {
            let got = n(text).unwrap();
            let want: f64 = text.parse().unwrap();
            assert!(
                ((got - want) / want).abs() < 1e-14,
                "{text}: {got} vs {want}"
            );
        }
        assert_eq!(n("1e999"), Err(Invalid), "out of range");
        assert_eq!(n(&"9".repeat(400)), Err(Invalid), "out of range");
        // Skipped, a huge number is only syntax; decoded, it must be finite.
        assert!(valid(b"[1e999]", false));
        assert!(!valid(b"[1e999]", true));
    }

    #[test]
    fn members_in_order_with_names_decoded() {
        let mut names = Vec::new();
        let mut json = Json::new(br#"{"a":1,"\u0062":[2],"a":{"x":null}}"#);
        json.object(|json, name| {
            names.push(name.into_owned());
            json.skip(false)
        })
        .unwrap();
        json.end().unwrap();
        assert_eq!(names, ["a", "b", "a"]);
        let mut json = Json::new(br#"{"\uDE00":1}"#);
        assert!(json.object(|json, _| json.skip(false)).is_err());
    }

    #[test]
    fn null_is_consumed_only_when_there() {
        let mut json = Json::new(b" null");
        assert_eq!(json.null(), Ok(true));
        assert!(json.end().is_ok());
        let mut json = Json::new(b"nul");
        assert!(json.null().is_err());
        let mut json = Json::new(b"1");
        assert_eq!(json.null(), Ok(false));
    }

    /// The differential check: on mutated documents, decoding agrees with serde_json reading
    /// values, and skipping with serde_json ignoring them (its own checks before this reader
    /// replaced it in the verifier). Deterministic: a fixed xorshift seed.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn agrees_with_serde_json_on_mutations() {
        let seeds: [&[u8]; 4] = [
            br#"{"alg":"HS256","kid":"a\u00e9","crit":["x"],"n":[1,-2.5e3,true,null,{"x":"\uD83D\uDE00"}]}"#,
            br#"{"keys":[{"kty":"oct","k":"QUFB","key_ops":["verify"],"x5c":["MII"]}],"e":1e308}"#,
            b"[0, 10, 0.0, -0, 1E+2, \"\\\"\\/\\b\\f\\n\\r\\t\", {\"a\":{}}]",
            "{\"caf\u{e9}\":\"\u{1f600}\",\"x\":[[],[[]],{}]}".as_bytes(),
        ];
        let pieces: [&[u8]; 16] = [
            b"\"", b"\\", b"\\u", b"D83D", b"DE00", b"{", b"}", b"[", b"]", b",", b":", b"-", b"0",
            b"e", b"\xff", b"\x01",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % below as u64) as usize
        };
        for _ in 0..30_000 {
            let mut text = seeds[next(seeds.len())].to_vec();
            for _ in 0..=next(3) {
                let at = next(text.len() + 1);
                match next(3) {
                    0 if at < text.len() => {
                        text.remove(at);
                    }
                    1 if at < text.len() => text[at] = pieces[next(pieces.len())][0],
                    _ => {
                        let piece = pieces[next(pieces.len())];
                        text.splice(at..at, piece.iter().copied());
                    }
                }
            }
            if super::super::exceeds_depth(&text, MAX_JSON_DEPTH) {
                continue;
            }
            let values = serde_json::from_slice::<serde_json::Value>(&text).is_ok();
            let ignored = serde_json::from_slice::<serde::de::IgnoredAny>(&text).is_ok();
            let shown = String::from_utf8_lossy(&text);
            assert_eq!(valid(&text, true), values, "decode {shown}");
            assert_eq!(valid(&text, false), ignored, "skip {shown}");
        }
    }
}
