//! The OpenAPI document (docs/openapi.json, served at `GET /openapi.json`) against the router
//! it describes: every `.route(…)` of `router()` in src/origin/http/mod.rs (and of the key
//! console's, merged into it) is a documented path and method and every documented operation
//! is one of them; the real binary serves the document unchanged, answers each documented
//! method (not 405) and refuses every other one (405); and the response checker of the harness
//! (tests/origin_harness/openapi.rs, which validates every answer of the black-box tests it
//! lists) refuses what the document does not allow.

mod origin_harness;

use std::collections::BTreeSet;

use origin_harness::openapi::{self, Exchange};
use origin_harness::*;
use serde_json::{json, Value};

const METHODS: &[&str] = &["get", "post", "put", "delete", "patch"];

/// (method, path) of every `.route(path, get(…).post(…))` in `router()`, read from the source
/// the router is built from. `{*rest}` is written `{rest}` as in the document.
fn router_routes(src: &str) -> BTreeSet<(String, String)> {
    let start = src.find("pub fn router(").expect("router() in the source");
    let body = &src[start..];
    let body = &body[..body.find("\n}\n").expect("end of router()")];
    // The key console's routes are merged in; its router() is read by the caller.
    let merged = body.replace(".merge(super::console::router())", "");
    let body = merged.as_str();
    for unsupported in [".nest(", ".merge(", ".route_service(", ".nest_service("] {
        assert!(
            !body.contains(unsupported),
            "router() uses `{unsupported}`: teach this test to read it"
        );
    }
    let mut routes = BTreeSet::new();
    let mut rest = body;
    while let Some(i) = rest.find(".route(") {
        let args = balanced(&rest[i + ".route(".len()..]);
        let open = args.find('"').expect("a path literal");
        let close = open + 1 + args[open + 1..].find('"').expect("end of the path");
        let path = args[open + 1..close].replace("{*", "{");
        let mut methods = 0;
        for ident in called_identifiers(&args[close + 1..]) {
            if METHODS.contains(&ident.as_str()) {
                routes.insert((ident, path.clone()));
                methods += 1;
            } else {
                assert!(
                    !["any", "on", "head", "options", "trace", "connect"].contains(&ident.as_str()),
                    "route {path} uses `{ident}(…)`: document it and teach this test to read it"
                );
            }
        }
        assert!(methods > 0, "no method found in `.route({args})`");
        rest = &rest[i + ".route(".len() + args.len()..];
    }
    routes
}

/// The text up to the parenthesis that closes an already opened one.
fn balanced(s: &str) -> &str {
    let mut depth = 1;
    let mut in_str = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '(' if !in_str => depth += 1,
            ')' if !in_str => {
                depth -= 1;
                if depth == 0 {
                    return &s[..i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses in router()")
}

/// Identifiers directly followed by `(` (function calls) in `s`.
fn called_identifiers(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut ident = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            ident.push(c);
            continue;
        }
        if c == '(' && !ident.is_empty() {
            out.push(ident.clone());
        }
        ident.clear();
    }
    out
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            if METHODS.contains(&method.as_str()) {
                ops.insert((method.clone(), path.clone()));
            }
        }
    }
    ops
}

#[test]
fn every_route_of_the_router_is_documented_and_every_operation_is_a_route() {
    let mut routes = router_routes(include_str!("../src/origin/http/mod.rs"));
    routes.extend(router_routes(include_str!("../src/origin/console/mod.rs")));
    // The handlers live in the files beside the router; a route added there would be unseen.
    let mut files = Vec::new();
    rust_files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/origin/http"),
        &mut files,
    );
    assert!(files.len() > 1, "read too few files: {files:?}");
    for file in files.iter().filter(|f| !f.ends_with("http/mod.rs")) {
        let src = std::fs::read_to_string(file).unwrap();
        assert!(
            !src.contains(".route(") && !src.contains("Router::new"),
            "{}: routes outside router(): teach this test to read them",
            file.display()
        );
    }
    let doc = openapi::document();
    let ops = documented(doc);
    assert!(routes.len() >= 12, "read too few routes: {routes:?}");
    let undocumented: Vec<_> = routes.difference(&ops).collect();
    let unrouted: Vec<_> = ops.difference(&routes).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from docs/openapi.json: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "operations in docs/openapi.json the router does not have: {unrouted:?}"
    );
}

#[test]
fn the_route_reader_sees_what_it_must() {
    let src = r#"
pub fn router(origin: Arc<Origin>) -> Router {
    Router::new()
        .route("/a", get(a))
        .route(
            "/b/{*rest}",
            post(b).get(c),
        )
        .fallback(not_found)
}
"#;
    let got = router_routes(src);
    let want: BTreeSet<(String, String)> =
        [("get", "/a"), ("post", "/b/{rest}"), ("get", "/b/{rest}")]
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
    assert_eq!(got, want);
}

#[test]
fn every_ref_resolves_and_every_operation_is_described() {
    let doc = openapi::document();
    assert_eq!(doc["openapi"], "3.1.0");
    fn walk(doc: &Value, v: &Value, at: &str) {
        match v {
            Value::Object(o) => {
                if let Some(r) = o.get("$ref") {
                    let target = openapi::resolve(doc, v);
                    assert!(target.is_object(), "{at}: $ref {r} does not resolve");
                }
                for (k, sub) in o {
                    walk(doc, sub, &format!("{at}/{k}"));
                }
            }
            Value::Array(a) => {
                for (i, sub) in a.iter().enumerate() {
                    walk(doc, sub, &format!("{at}/{i}"));
                }
            }
            _ => {}
        }
    }
    walk(doc, doc, "#");
    let mut ids = BTreeSet::new();
    for (method, path) in documented(doc) {
        let op = &doc["paths"][&path][&method];
        let id = op["operationId"].as_str().expect("operationId");
        assert!(ids.insert(id.to_string()), "operationId {id} twice");
        assert!(op["summary"].is_string(), "{method} {path}: no summary");
        let responses = op["responses"].as_object().expect("responses");
        // The console's forms answer 303 only (POST → redirect → GET).
        let see_other = path.starts_with("/admin/") && method == "post";
        assert!(
            responses
                .keys()
                .any(|s| s.starts_with('2') || (see_other && s == "303")),
            "{method} {path}: no 2xx"
        );
        for status in ["408", "413"] {
            assert!(
                responses.contains_key(status),
                "{method} {path}: no {status} (every route reads the body under limits)"
            );
        }
        for name in path
            .split('/')
            .filter_map(|s| s.strip_prefix('{'))
            .map(|s| s.trim_end_matches('}'))
        {
            let declared = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| openapi::resolve(doc, p))
                .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true);
            assert!(
                declared,
                "{method} {path}: path parameter {name} not declared"
            );
        }
        for scheme in op["security"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .flat_map(|o| o.keys())
        {
            assert!(
                doc["components"]["securitySchemes"][scheme].is_object(),
                "{method} {path}: unknown scheme {scheme}"
            );
        }
    }
}

fn ex(method: &str, path: &str, status: u16, ct: &str, body: Value) -> Exchange {
    Exchange {
        method: method.into(),
        path: path.into(),
        status,
        content_type: Some(ct.into()),
        body: if body.is_null() {
            String::new()
        } else {
            body.to_string()
        },
    }
}

const JSON: &str = "application/json";

#[test]
fn the_checker_refuses_what_the_document_does_not_allow() {
    let doc = openapi::document();
    let tokens = json!({"access_token": "a.b.c", "refresh_token": "rt_x", "session_id": "s_x", "access_token_expires_at": 1_800_000_000});
    let check = |e: Exchange| openapi::check(doc, &e);
    // What is documented passes…
    check(ex("POST", "/sessions", 201, JSON, tokens.clone())).unwrap();
    check(ex(
        "POST",
        "/sessions/refresh",
        401,
        "application/json",
        json!({"error": "token_theft_detected", "message": "m"}),
    ))
    .unwrap();
    check(ex("GET", "/sessions?sub=alice", 200, JSON, json!({"sub": "alice", "sessions": [{"session_id": "s", "created_at": 1, "last_refreshed_at": null, "revoked": false, "revoked_at": null}], "truncated": false}))).unwrap();
    check(ex(
        "POST",
        "/keys/k1/revoke",
        404,
        JSON,
        json!({"error": "key_not_found", "message": "m"}),
    ))
    .unwrap();
    check(ex("GET", "/.well-known/oauth-authorization-server/tenant/a", 200, JSON, json!({"issuer": "https://x/tenant/a", "jwks_uri": "https://x/tenant/a/.well-known/jwks.json", "access_token_signing_alg_values_supported": ["ES256"]}))).unwrap();
    check(ex("GET", "/.well-known/jwks.json", 304, JSON, Value::Null)).unwrap();
    check(ex(
        "GET",
        "/nope",
        404,
        JSON,
        json!({"error": "not_found", "message": "m"}),
    ))
    .unwrap();
    check(ex(
        "GET",
        "/sessions/refresh",
        405,
        JSON,
        json!({"error": "method_not_allowed", "message": "m"}),
    ))
    .unwrap();
    check(ex(
        "GET",
        "/metrics",
        200,
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
        Value::String("# x".into()),
    ))
    .unwrap();

    // …and each of these is refused, with a reason.
    let refused = [
        (
            "an undocumented status",
            ex("POST", "/sessions", 200, JSON, tokens.clone()),
        ),
        (
            "a missing member",
            ex(
                "POST",
                "/sessions",
                201,
                JSON,
                json!({"access_token": "a", "refresh_token": "r", "session_id": "s"}),
            ),
        ),
        (
            "an extra member",
            ex("POST", "/sessions", 201, JSON, {
                let mut t = tokens.clone();
                t["extra"] = json!(1);
                t
            }),
        ),
        (
            "a wrong type",
            ex("POST", "/sessions", 201, JSON, {
                let mut t = tokens.clone();
                t["access_token_expires_at"] = json!(1.5);
                t
            }),
        ),
        (
            "a code not listed for the status",
            ex(
                "POST",
                "/sessions/refresh",
                401,
                JSON,
                json!({"error": "unauthorized", "message": "m"}),
            ),
        ),
        (
            "an error without a message",
            ex("GET", "/keys", 401, JSON, json!({"error": "unauthorized"})),
        ),
        (
            "an undocumented content type",
            ex("GET", "/metrics", 200, JSON, json!({})),
        ),
        (
            "the Prometheus 0.0.4 text format",
            ex(
                "GET",
                "/metrics",
                200,
                "text/plain; version=0.0.4",
                Value::Null,
            ),
        ),
        (
            "no oneOf branch",
            ex(
                "POST",
                "/sessions/revoke",
                200,
                JSON,
                json!({"revoked": true}),
            ),
        ),
        (
            "a body on 304",
            ex(
                "GET",
                "/.well-known/jwks.json",
                304,
                JSON,
                json!({"keys": []}),
            ),
        ),
        (
            "a 200 for an unknown path",
            ex("GET", "/nope", 200, JSON, json!({})),
        ),
        (
            "404 where the path exists",
            ex(
                "PUT",
                "/keys",
                404,
                JSON,
                json!({"error": "not_found", "message": "m"}),
            ),
        ),
        (
            "405 with the wrong code",
            ex(
                "PUT",
                "/keys",
                405,
                JSON,
                json!({"error": "not_found", "message": "m"}),
            ),
        ),
        (
            "a JWK of an unknown type",
            ex(
                "GET",
                "/.well-known/jwks.json",
                200,
                JSON,
                json!({"keys": [{"kty": "XYZ", "kid": "k", "alg": "EdDSA", "use": "sig"}]}),
            ),
        ),
        (
            "a path the document lacks (a kid with a slash)",
            ex("POST", "/keys/a/b/revoke", 200, JSON, json!({})),
        ),
    ];
    for (what, e) in refused {
        let err = check(e.clone()).expect_err(what);
        assert!(!err.is_empty(), "{what}");
    }
}

/// The real binary: serves the document unchanged, and its router answers every documented
/// method of every documented path (not 405) and only those (405 for the others). Every
/// answer here also passes through the harness's checker.
#[test]
fn the_served_document_matches_the_running_router() {
    let dir = temp_dir("openapi");
    let env = base_env(&dir, &Backend::Sqlite);
    let origin = Origin::start(&env, &dir);

    let r = origin.get("/openapi.json", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.body, include_str!("../docs/openapi.json"));

    let doc = openapi::document();
    let ops = documented(doc);
    let paths: BTreeSet<&String> = ops.iter().map(|(_, p)| p).collect();
    for template in paths {
        let concrete: String = template
            .split('/')
            .map(|s| if s.starts_with('{') { "probe" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in METHODS {
            let upper = method.to_ascii_uppercase();
            let body = (upper != "GET").then_some(&b""[..]);
            let r = http(&origin.addr, &upper, &concrete, &[], body);
            if ops.contains(&(method.to_string(), template.clone())) {
                // (404 may be documented, e.g. metadata for another issuer path: the checker
                // has already held it to the document.)
                assert_ne!(
                    r.status, 405,
                    "{upper} {concrete}: documented, not routed: {}",
                    r.body
                );
            } else {
                assert_eq!(
                    r.status, 405,
                    "{upper} {concrete}: not documented, yet answered: {}",
                    r.body
                );
            }
        }
    }
    let checked = openapi::exchanges();
    assert!(
        checked.len() > 5 * 5,
        "the harness checked {} answers",
        checked.len()
    );
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literals in `s` (no escapes needed for codes).
fn literals(s: &str) -> Vec<String> {
    s.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The arguments of a call whose text starts after its `(`, split at top-level commas.
fn arguments(s: &str) -> Vec<&str> {
    let args = balanced(s);
    let (mut out, mut depth, mut in_str, mut from) = (Vec::new(), 0, false, 0);
    for (i, c) in args.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '(' | '[' | '{' if !in_str => depth += 1,
            ')' | ']' | '}' if !in_str => depth -= 1,
            ',' if !in_str && depth == 0 => {
                out.push(args[from..i].trim());
                from = i + 1;
            }
            _ => {}
        }
    }
    out.push(args[from..].trim());
    out
}

/// The error codes the origin can send, read from its source: the code argument of every
/// `ApiError::new(status, code, …)` and `ApiError::bad_request(code, …)`, and the literals of
/// the `code()` functions of the error enums that become `ApiError`s.
fn source_error_codes() -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/origin"),
        &mut files,
    );
    let mut codes = BTreeSet::new();
    for file in files {
        let src = std::fs::read_to_string(&file).unwrap();
        for (call, index) in [("ApiError::new(", 1), ("ApiError::bad_request(", 0)] {
            for (at, _) in src.match_indices(call) {
                let args = arguments(&src[at + call.len()..]);
                if let Some(code) = args.get(index).and_then(|a| a.strip_prefix('"')) {
                    codes.insert(code.trim_end_matches('"').to_string());
                }
            }
        }
        for (at, _) in src.match_indices("fn code(") {
            let body_start = at + src[at..].find('{').unwrap() + 1;
            let body = &src[body_start..];
            let mut depth = 1;
            let end = body
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '{' => 1,
                        '}' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map(|(i, _)| i)
                .unwrap();
            codes.extend(literals(&body[..end]));
        }
    }
    codes
}

#[test]
fn the_documented_error_codes_are_the_ones_the_source_sends() {
    let from_source = source_error_codes();
    assert!(
        from_source.len() >= 20 && from_source.contains("token_theft_detected"),
        "read too few codes: {from_source:?}"
    );
    let doc = openapi::document();
    let documented: BTreeSet<String> = doc["components"]["schemas"]["Error"]["properties"]["error"]
        ["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let undocumented: Vec<_> = from_source.difference(&documented).collect();
    let unsent: Vec<_> = documented.difference(&from_source).collect();
    assert!(
        undocumented.is_empty(),
        "codes the origin sends, missing from the Error schema: {undocumented:?}"
    );
    assert!(
        unsent.is_empty(),
        "codes in the Error schema the origin never sends: {unsent:?}"
    );
    // Each code is listed for at least one response (the per-response `enum`s).
    let text = doc["paths"].to_string() + &doc["components"]["responses"].to_string();
    for code in &documented {
        assert!(
            text.contains(&format!("\"{code}\"")),
            "code {code} is listed for no response"
        );
    }
}
