//! Checks the origin's answers against its OpenAPI document (docs/openapi.json): every
//! response any `origin_*` test receives through the harness (`http`, `try_http` and the
//! `Origin` helpers) is recorded as (method, path, status, body), matched to the document's
//! operation for that path and method, and must be a documented status whose body validates
//! against the documented schema. A request to a path the document lacks must get the
//! router's `404`/`405` error (or a body-limit error).
//!
//! The validator is a small one for the JSON Schema subset the document uses (type, enum,
//! const, properties, required, additionalProperties, items, allOf, oneOf, anyOf, string
//! lengths, minimum/maximum, local `$ref`); any other keyword is an error, so the document
//! cannot carry a constraint that goes unchecked. (The `jsonschema` crate would add some 25
//! crates to every test build on this 2-core machine for this subset.)

use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// One answer the origin gave.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

static LOG: Mutex<Vec<Exchange>> = Mutex::new(Vec::new());

pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::from_str(include_str!("../../docs/openapi.json"))
            .expect("docs/openapi.json is JSON")
    })
}

/// Every exchange checked so far in this test binary (all of them: the check is always on).
pub fn exchanges() -> Vec<Exchange> {
    LOG.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// The harness hook: records and checks one answer; panics (failing the test that made the
/// request) on an undocumented status or a body that does not validate.
pub fn record(method: &str, path: &str, status: u16, content_type: Option<&str>, body: &str) {
    let exchange = Exchange {
        method: method.to_string(),
        path: path.to_string(),
        status,
        content_type: content_type.map(str::to_string),
        body: body.to_string(),
    };
    let verdict = check(document(), &exchange);
    LOG.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(exchange.clone());
    if let Err(e) = verdict {
        panic!(
            "OpenAPI (docs/openapi.json): {} {} → {}: {e}\nbody: {}",
            exchange.method, exchange.path, exchange.status, exchange.body
        );
    }
}

/// The document's path template that `path` (query stripped) matches, preferring the one with
/// the most literal segments.
pub fn find_path<'a>(doc: &'a Value, path: &str) -> Option<&'a str> {
    let path = path.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let mut best: Option<(&str, usize)> = None;
    for (template, item) in doc["paths"].as_object()? {
        let parts: Vec<&str> = template.split('/').skip(1).collect();
        if let Some(literals) = match_template(doc, item, &parts, &segments) {
            if best.is_none_or(|(_, n)| literals > n) {
                best = Some((template.as_str(), literals));
            }
        }
    }
    best.map(|(t, _)| t)
}

/// `Some(number of literal segments)` when `segments` fit `parts`. A `{name}` part takes one
/// non-empty segment, or, as the last part and marked `x-multi-segment`, all the rest.
fn match_template(doc: &Value, item: &Value, parts: &[&str], segments: &[&str]) -> Option<usize> {
    let mut literals = 0;
    for (i, part) in parts.iter().enumerate() {
        let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) else {
            if segments.get(i) != Some(part) {
                return None;
            }
            literals += 1;
            continue;
        };
        let rest = segments.get(i..).unwrap_or(&[]);
        if rest.is_empty() || rest[0].is_empty() {
            return None;
        }
        if i + 1 == parts.len() && multi_segment(doc, item, name) {
            return Some(literals);
        }
    }
    (segments.len() == parts.len()).then_some(literals)
}

fn multi_segment(doc: &Value, item: &Value, name: &str) -> bool {
    let ops = item.as_object().into_iter().flat_map(|o| o.values());
    ops.filter_map(|op| op["parameters"].as_array())
        .flatten()
        .map(|p| resolve(doc, p))
        .any(|p| p["name"] == name && p["in"] == "path" && p["x-multi-segment"] == true)
}

/// Follows a local `$ref` (`#/a/b`), repeatedly.
pub fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let Some(r) = v.get("$ref").and_then(Value::as_str) else {
            return v;
        };
        v = r
            .strip_prefix('#')
            .and_then(|p| doc.pointer(p))
            .unwrap_or(&Value::Null);
    }
    v
}

/// Checks one exchange against the document.
pub fn check(doc: &Value, ex: &Exchange) -> Result<(), String> {
    let method = ex.method.to_ascii_lowercase();
    // axum answers HEAD for GET routes, without a body.
    let (op_method, head) = match method.as_str() {
        "head" => ("get", true),
        m => (m, false),
    };
    let operation = find_path(doc, &ex.path).map(|t| &doc["paths"][t][op_method]);
    let response = match operation {
        Some(op) if op.is_object() => {
            let status = ex.status.to_string();
            let Some(r) = op["responses"].get(status.as_str()) else {
                return Err(format!(
                    "status {} is not documented for {} (documented: {})",
                    ex.status,
                    ex.method,
                    op["responses"]
                        .as_object()
                        .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                        .unwrap_or_default()
                ));
            };
            resolve(doc, r)
        }
        // The router's own answers to what no operation covers, and the body limits that
        // apply before routing.
        other => {
            let routed = other.is_some(); // the path exists, the method does not
            let name = match ex.status {
                404 if !routed => "NotFound",
                405 if routed => "MethodNotAllowed",
                400 => "BadBody",
                408 => "RequestTimeout",
                413 => "PayloadTooLarge",
                s => {
                    return Err(format!(
                        "{s} for a {} the document does not have",
                        if routed { "method" } else { "path" }
                    ))
                }
            };
            &doc["components"]["responses"][name]
        }
    };
    check_response(doc, response, ex, head)
}

fn check_response(doc: &Value, response: &Value, ex: &Exchange, head: bool) -> Result<(), String> {
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return if ex.body.is_empty() {
            Ok(())
        } else {
            Err("a body where the document has none".into())
        };
    };
    if head {
        return Ok(());
    }
    let media = ex
        .content_type
        .as_deref()
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .ok_or("no Content-Type")?;
    let Some(entry) = content.get(&media) else {
        return Err(format!(
            "Content-Type {media} is not documented ({})",
            content.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    };
    let schema = &entry["schema"];
    let value = if media == "application/json" {
        serde_json::from_str(&ex.body).map_err(|e| format!("not JSON: {e}"))?
    } else {
        Value::String(ex.body.clone())
    };
    validate(doc, schema, &value, "$")
}

/// Keywords that only annotate.
const ANNOTATIONS: &[&str] = &["description", "default", "title", "examples", "example"];

/// Validates `v` against `schema` (the subset above); the error names the JSON location.
pub fn validate(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    if let Some(b) = schema.as_bool() {
        return if b {
            Ok(())
        } else {
            Err(format!("{at}: not allowed"))
        };
    }
    let s = schema
        .as_object()
        .ok_or_else(|| format!("{at}: the schema is not an object"))?;
    if s.contains_key("$ref") {
        let target = resolve(doc, schema);
        if target.is_null() {
            return Err(format!("{at}: unresolvable {}", s["$ref"]));
        }
        validate(doc, target, v, at)?;
    }
    for (key, k) in s {
        match key.as_str() {
            "$ref" => {}
            "type" => {
                let types: Vec<&str> = match k {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                    _ => return Err(format!("{at}: bad `type` in the schema")),
                };
                if !types.iter().any(|t| has_type(v, t)) {
                    return Err(format!("{at}: {v} is not of type {}", types.join(" or ")));
                }
            }
            "enum" => {
                if !k.as_array().is_some_and(|a| a.contains(v)) {
                    return Err(format!("{at}: {v} is not one of {k}"));
                }
            }
            "const" => {
                if k != v {
                    return Err(format!("{at}: {v} is not {k}"));
                }
            }
            "properties" | "required" | "additionalProperties" => {
                let Some(obj) = v.as_object() else { continue };
                let props = s.get("properties").and_then(Value::as_object);
                if key == "required" {
                    for name in k.as_array().into_iter().flatten().filter_map(Value::as_str) {
                        if !obj.contains_key(name) {
                            return Err(format!("{at}: `{name}` is missing"));
                        }
                    }
                } else if key == "properties" {
                    for (name, sub) in props.into_iter().flatten() {
                        if let Some(value) = obj.get(name) {
                            validate(doc, sub, value, &format!("{at}.{name}"))?;
                        }
                    }
                } else {
                    for (name, value) in obj {
                        if !props.is_some_and(|p| p.contains_key(name)) {
                            validate(doc, k, value, &format!("{at}.{name}"))
                                .map_err(|e| format!("{e} (an undocumented member)"))?;
                        }
                    }
                }
            }
            "items" => {
                for (i, item) in v.as_array().into_iter().flatten().enumerate() {
                    validate(doc, k, item, &format!("{at}[{i}]"))?;
                }
            }
            "allOf" | "anyOf" | "oneOf" => {
                let subs = k.as_array().ok_or(format!("{at}: bad `{key}`"))?;
                let results: Vec<Result<(), String>> =
                    subs.iter().map(|sub| validate(doc, sub, v, at)).collect();
                let passed = results.iter().filter(|r| r.is_ok()).count();
                let ok = match key.as_str() {
                    "allOf" => passed == subs.len(),
                    "anyOf" => passed >= 1,
                    _ => passed == 1,
                };
                if !ok {
                    let why: Vec<String> = results.into_iter().filter_map(Result::err).collect();
                    return Err(format!(
                        "{at}: {passed} of {} `{key}` schemas match: {}",
                        subs.len(),
                        why.join("; ")
                    ));
                }
            }
            "minLength" | "maxLength" => {
                let (Some(text), Some(n)) = (v.as_str(), k.as_u64()) else {
                    continue;
                };
                let len = text.chars().count() as u64;
                if (key == "minLength" && len < n) || (key == "maxLength" && len > n) {
                    return Err(format!("{at}: length {len} breaks {key} {n}"));
                }
            }
            "minimum" | "maximum" => {
                let (Some(x), Some(n)) = (v.as_f64(), k.as_f64()) else {
                    continue;
                };
                if (key == "minimum" && x < n) || (key == "maximum" && x > n) {
                    return Err(format!("{at}: {x} breaks {key} {n}"));
                }
            }
            other if ANNOTATIONS.contains(&other) || other.starts_with("x-") => {}
            other => return Err(format!("{at}: unsupported schema keyword `{other}`")),
        }
    }
    Ok(())
}

fn has_type(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        // JSON Schema 2020-12: a number with a zero fractional part is an integer.
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}
