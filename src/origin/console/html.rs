//! HTML building blocks of the console: escaping, the page frame (navigation, sign-out form,
//! flash message), times shown as human text with the exact UTC on hover, and the response
//! headers every console answer carries (a CSP that lets nothing load from outside the origin,
//! no caching, no framing).

use std::fmt::Write;

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Everything from this origin only; no inline script or style (the SVG uses presentation
/// attributes); forms post only here; never framed.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
     object-src 'none'";

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `2026-11-26 16:32:52 UTC` for Unix milliseconds.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000).max(0) as u64;
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .replace('T', " ")
        .replace('Z', " UTC")
}

/// ISO 8601 (`datetime` attribute).
fn iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000).max(0) as u64;
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .to_string()
}

/// A duration in words, coarse: `42 s`, `5 min`, `3 h 10 min`, `6 d 2 h`.
pub fn span(ms: i64) -> String {
    let s = ms.unsigned_abs() / 1000;
    match s {
        0..=119 => format!("{s} s"),
        120..=3599 => format!("{} min", s / 60),
        3600..=86_399 => match (s % 3600) / 60 {
            0 => format!("{} h", s / 3600),
            m => format!("{} h {m} min", s / 3600),
        },
        _ => match (s % 86_400) / 3600 {
            0 => format!("{} d", s / 86_400),
            h => format!("{} d {h} h", s / 86_400),
        },
    }
}

/// `5 min ago` / `in 6 d 2 h` relative to `now`.
pub fn relative(ms: i64, now: i64) -> String {
    if (ms - now).abs() < 1000 {
        "now".to_string()
    } else if ms < now {
        format!("{} ago", span(now - ms))
    } else {
        format!("in {}", span(ms - now))
    }
}

/// A `<time>` showing the relative time, with the exact UTC on hover.
pub fn time(ms: Option<i64>, now: i64) -> String {
    match ms {
        None => "<span class=\"none\">—</span>".to_string(),
        Some(ms) => format!(
            "<time datetime=\"{}\" title=\"{}\">{}</time>",
            iso(ms),
            utc(ms),
            relative(ms, now)
        ),
    }
}

/// A message shown at the top of a page after an action.
pub struct Flash {
    pub ok: bool,
    pub text: String,
}

/// The page frame around `body`. `csrf` is the signed-in session's token (none on the
/// sign-in page): it goes into the sign-out form.
pub fn page(
    title: &str,
    active: &str,
    csrf: Option<&str>,
    flash: Option<&Flash>,
    body: &str,
) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · jwtedge console</title>\
         <link rel=\"icon\" href=\"/admin/assets/favicon.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"/admin/assets/console.css\">\
         <script src=\"/admin/assets/console.js\" defer></script></head><body>",
        esc(title)
    );
    h.push_str("<header><span class=\"brand\">jwtedge</span>");
    if let Some(csrf) = csrf {
        h.push_str("<nav>");
        for (href, name) in [
            ("/admin/keys", "Keys"),
            ("/admin/edges", "Edges"),
            ("/admin/sessions", "Sessions"),
        ] {
            let current = if name == active {
                " aria-current=\"page\""
            } else {
                ""
            };
            let _ = write!(h, "<a href=\"{href}\"{current}>{name}</a>");
        }
        h.push_str("</nav>");
        let _ = write!(
            h,
            "<form method=\"post\" action=\"/admin/logout\" class=\"signout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\" id=\"sign-out\">Sign out</button></form>",
            esc(csrf)
        );
    }
    h.push_str("</header><main>");
    if let Some(f) = flash {
        let _ = write!(
            h,
            "<p class=\"flash {}\" role=\"status\" id=\"flash\">{}</p>",
            if f.ok { "ok" } else { "refused" },
            esc(&f.text)
        );
    }
    let _ = writeln!(h, "<h1>{}</h1>{body}</main></body></html>", esc(title));
    h
}

/// The headers every console answer carries.
pub fn secure_headers(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
}

/// An HTML answer with the console's headers.
pub fn respond(status: StatusCode, html: String) -> Response {
    let mut resp = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        html,
    )
        .into_response();
    secure_headers(&mut resp);
    resp
}

/// `303 See Other` to `location` (POST → redirect → GET), with the console's headers.
pub fn see_other(location: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    secure_headers(&mut resp);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn times() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_764_174_772_999), "2025-11-26 16:32:52 UTC");
        assert_eq!(relative(0, 42_000), "42 s ago");
        assert_eq!(relative(3 * 3_600_000 + 600_000, 0), "in 3 h 10 min");
        assert_eq!(relative(7 * 86_400_000, 0), "in 7 d");
        assert_eq!(relative(500, 0), "now");
        assert!(time(Some(0), 0).contains("title=\"1970-01-01 00:00:00 UTC\""));
    }
}
