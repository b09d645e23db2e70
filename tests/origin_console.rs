//! The key console (/admin) over plain HTTP against the real binary, without a browser
//! (tests/node/console.test.mjs drives it in Chromium): the sign-in, the session cookie's
//! attributes (`Secure` behind TLS: an `https` issuer or `X-Forwarded-Proto: https`), cookies
//! that are forged, altered or made for another admin token are refused while a replica with the
//! same master key and token accepts them (stateless), CSRF (missing, wrong, or another
//! session's token: 403, nothing done), the security headers, the sessions page's counts from
//! the store on SQLite and PostgreSQL, and no credential, cookie or CSRF token in the logs.

mod origin_harness;

use origin_harness::*;

fn form(origin: &Origin, path: &str, cookie: Option<&str>, body: &str) -> Resp {
    let mut headers = vec![(
        "Content-Type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    )];
    if let Some(c) = cookie {
        headers.push(("Cookie".to_string(), format!("jwtedge_console={c}")));
    }
    http(&origin.addr, "POST", path, &headers, Some(body.as_bytes()))
}

fn page(origin: &Origin, path: &str, cookie: Option<&str>) -> Resp {
    let headers: Vec<(String, String)> = cookie
        .map(|c| vec![("Cookie".to_string(), format!("jwtedge_console={c}"))])
        .unwrap_or_default();
    http(&origin.addr, "GET", path, &headers, None)
}

/// Signs in; returns the cookie's value and the whole `Set-Cookie`.
fn sign_in(origin: &Origin, extra: &[(String, String)]) -> (String, String) {
    let mut headers = vec![(
        "Content-Type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    )];
    headers.extend(extra.iter().cloned());
    let body = format!("token={ADMIN_TOKEN}");
    let r = http(
        &origin.addr,
        "POST",
        "/admin/login",
        &headers,
        Some(body.as_bytes()),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/admin/keys"));
    let set = r.header("set-cookie").expect("Set-Cookie").to_string();
    let value = set
        .strip_prefix("jwtedge_console=")
        .and_then(|v| v.split(';').next())
        .expect("the cookie")
        .to_string();
    (value, set)
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

fn signed_in(r: &Resp) -> bool {
    r.status == 200 && r.body.contains("<h1>Keys</h1>")
}

#[test]
fn sign_in_cookie_attributes_and_refusals() {
    let dir = temp_dir("console-auth");
    let env = base_env(&dir, &Backend::Sqlite);
    let origin = Origin::start(&env, &dir);

    let r = page(&origin, "/admin/keys", None);
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/admin/login"));
    let r = page(&origin, "/admin/login", None);
    assert_eq!(r.status, 200);
    let csp = r.header("content-security-policy").expect("CSP");
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("cache-control"), Some("no-store"));

    // Wrong and empty tokens: 401, no cookie, nothing echoed.
    for body in ["token=not-the-admin-token-at-all", "token=", ""] {
        let r = form(&origin, "/admin/login", None, body);
        assert_eq!(r.status, 401, "{body}");
        assert!(r.header("set-cookie").is_none());
        assert!(r.body.contains("Sign-in refused.") && !r.body.contains("not-the-admin"));
    }
    // The API key is not the admin token.
    let r = form(&origin, "/admin/login", None, &format!("token={API_KEY}"));
    assert_eq!(r.status, 401);

    // base_env's issuer is https://…: the deployment is behind TLS, the cookie is Secure.
    let (cookie, set_cookie) = sign_in(&origin, &[]);
    let attrs: Vec<&str> = set_cookie.split("; ").skip(1).collect();
    assert_eq!(
        attrs,
        [
            "Max-Age=28800",
            "Path=/admin",
            "HttpOnly",
            "SameSite=Strict",
            "Secure"
        ]
    );
    assert!(signed_in(&page(&origin, "/admin/keys", Some(&cookie))));
    assert!(signed_in(&page(&origin, "/admin", Some(&cookie))));

    // Altered, truncated or forged cookies are no sign-in.
    let parts: Vec<&str> = cookie.split('.').collect();
    let later = format!(
        "v1.{}.{}.{}",
        parts[1].parse::<i64>().unwrap() + 3600,
        parts[2],
        parts[3]
    );
    let mut flipped = cookie.clone();
    let last = flipped.pop().unwrap();
    flipped.push(if last == 'A' { 'B' } else { 'A' });
    let expired = format!("v1.1000.{}.{}", parts[2], parts[3]);
    for bad in [
        later.as_str(),
        flipped.as_str(),
        expired.as_str(),
        &cookie[..cookie.len() - 4],
        "v1.9999999999.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ADMIN_TOKEN,
    ] {
        let r = page(&origin, "/admin/keys", Some(bad));
        assert_eq!(r.status, 303, "{bad}");
    }

    // Behind a TLS proxy or not, for an http issuer.
    let dir2 = temp_dir("console-auth-http");
    let mut env2 = base_env(&dir2, &Backend::Sqlite);
    set(&mut env2, "JWTEDGE_ISSUER", "http://127.0.0.1");
    let plain = Origin::start(&env2, &dir2);
    let (_, header) = sign_in(&plain, &[]);
    assert!(!header.contains("Secure"), "{header}");
    let (_, header) = sign_in(
        &plain,
        &[("X-Forwarded-Proto".to_string(), "https".to_string())],
    );
    assert!(header.ends_with("; Secure"), "{header}");
    let (_, header) = sign_in(
        &plain,
        &[(
            "Forwarded".to_string(),
            "for=1.2.3.4;proto=https".to_string(),
        )],
    );
    assert!(header.ends_with("; Secure"), "{header}");

    // Stateless: another replica (same master key and admin token) takes the cookie...
    assert!(signed_in(&page(&plain, "/admin/keys", Some(&cookie))));
    // ...an origin with another admin token does not (a new token signs every console out).
    let dir3 = temp_dir("console-auth-other");
    let mut env3 = base_env(&dir3, &Backend::Sqlite);
    set(
        &mut env3,
        "JWTEDGE_ADMIN_TOKEN",
        "another-admin-token-8f2c6a1d",
    );
    let other = Origin::start(&env3, &dir3);
    assert_eq!(page(&other, "/admin/keys", Some(&cookie)).status, 303);

    let logs = origin.logs() + &plain.logs();
    assert_no_secrets(&logs, &[ADMIN_TOKEN.to_string(), cookie.clone()]);
    assert!(
        logs.contains("console sign-in refused"),
        "refusals are logged"
    );
}

#[test]
fn csrf_missing_wrong_or_of_another_session_is_403_and_changes_nothing() {
    let dir = temp_dir("console-csrf");
    let env = base_env(&dir, &Backend::Sqlite);
    let origin = Origin::start(&env, &dir);
    let (a, _) = sign_in(&origin, &[]);
    let (b, _) = sign_in(&origin, &[]);
    let csrf_a = csrf_of(&page(&origin, "/admin/keys", Some(&a)).body);
    let csrf_b = csrf_of(&page(&origin, "/admin/keys", Some(&b)).body);
    assert_ne!(csrf_a, csrf_b, "one CSRF token per session");
    let before = origin.keys();
    let current = before["current"].as_str().unwrap().to_string();
    let next = before["next"].as_str().unwrap().to_string();

    let rotate = "force=true&confirm=yes";
    let revoke = format!("kid={next}&confirm_kid={next}");
    for (path, fields) in [
        ("/admin/keys/rotate", rotate.to_string()),
        ("/admin/keys/revoke", revoke.clone()),
        ("/admin/logout", String::new()),
    ] {
        for (cookie, body) in [
            (Some(a.as_str()), fields.clone()),
            (Some(a.as_str()), format!("{fields}&csrf=")),
            (Some(a.as_str()), format!("{fields}&csrf={csrf_b}")),
            (Some(a.as_str()), format!("{fields}&csrf={}x", &csrf_a)),
            (None, format!("{fields}&csrf={csrf_a}")),
        ] {
            let r = form(&origin, path, cookie, &body);
            assert_eq!(r.status, 403, "{path} {cookie:?} {body}");
            assert!(r.header("set-cookie").is_none());
            assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        }
    }
    let after = origin.keys();
    assert_eq!(after["keys"], before["keys"], "nothing changed");

    // With the token: done (forced, confirmed; not ready, a fresh next key).
    let r = form(
        &origin,
        "/admin/keys/rotate",
        Some(&a),
        &format!("csrf={csrf_a}&expect_current={current}"),
    );
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/admin/keys?flash=not_ready"));
    assert_eq!(origin.keys()["current"], current.as_str());
    let r = form(
        &origin,
        "/admin/keys/rotate",
        Some(&a),
        &format!("csrf={csrf_a}&force=true&confirm=yes&expect_current={current}"),
    );
    assert_eq!(r.status, 303);
    let loc = r.header("location").unwrap();
    assert!(
        loc.starts_with("/admin/keys?flash=forced&current="),
        "{loc}"
    );
    assert_eq!(origin.keys()["current"], next.as_str());
    let shown = page(&origin, loc, Some(&a));
    assert!(
        shown
            .body
            .contains(&format!("Rotated (forced): {next} signs from now on")),
        "{}",
        shown.body
    );
    // A flash cannot carry markup.
    let r = page(
        &origin,
        "/admin/keys?flash=revoked&kid=%3Cscript%3Ex%3C%2Fscript%3E",
        Some(&a),
    );
    assert!(
        !r.body.contains("<script>x"),
        "kids are filtered and escaped"
    );

    // Sign-out with the token clears the cookie.
    let r = form(
        &origin,
        "/admin/logout",
        Some(&b),
        &format!("csrf={csrf_b}"),
    );
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/admin/login?flash=signed_out"));
    let cleared = r.header("set-cookie").unwrap();
    assert!(cleared.starts_with("jwtedge_console=; Max-Age=0; Path=/admin"));

    let logs = origin.logs();
    assert_no_secrets(&logs, &[ADMIN_TOKEN.into(), a, b, csrf_a, csrf_b]);
}

fn figure(html: &str, id: &str) -> u64 {
    let at = html
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("{id} in {html}"))
        + id.len()
        + 6;
    html[at..at + html[at..].find('<').unwrap()]
        .parse()
        .unwrap()
}

fn sessions_page_counts(backend: Backend) {
    let dir = temp_dir("console-sessions");
    let env = base_env(&dir, &backend);
    let origin = Origin::start(&env, &dir);
    let (cookie, _) = sign_in(&origin, &[]);
    let read = |origin: &Origin| {
        let html = page(origin, "/admin/sessions", Some(&cookie)).body;
        ["live", "created", "refreshes", "thefts"].map(|id| figure(&html, id))
    };
    assert_eq!(read(&origin), [0, 0, 0, 0]);

    let s1 = origin.new_session("alice");
    let t1 = s1["refresh_token"].as_str().unwrap().to_string();
    let r1 = origin.refresh(&t1);
    assert_eq!(r1.status, 200);
    // A retry within the grace: the same successor, not a new refresh.
    assert_eq!(origin.refresh(&t1).status, 200);
    let t2 = r1.json()["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(origin.refresh(&t2).status, 200);
    assert_eq!(read(&origin), [1, 1, 2, 0]);
    // The first token after its successor was used: theft, the session is revoked.
    let theft = origin.refresh(&t1);
    assert_eq!(theft.error_code(), "token_theft_detected");
    origin.new_session("bob");
    let s3 = origin.new_session("carol");
    let r = origin.post(
        "/sessions/revoke",
        Some(API_KEY),
        &format!(
            r#"{{"session_id":"{}"}}"#,
            s3["session_id"].as_str().unwrap()
        ),
    );
    assert_eq!(r.status, 200);
    // alice: stolen; bob: live; carol: revoked (not a theft).
    assert_eq!(read(&origin), [1, 3, 2, 1]);
}

#[test]
fn sessions_page_counts_from_sqlite() {
    sessions_page_counts(Backend::Sqlite);
}

#[test]
fn sessions_page_counts_from_postgres() {
    if let Some(pg) = postgres() {
        sessions_page_counts(pg);
    }
}
