//! Outcomes as plain JavaScript objects: `{status:"OK", claims, kid, alg}` or
//! `{status, reason}` (SPEC §6).

use wasm_bindgen::JsValue;

use super::runtime::{ok_outcome, rejected_outcome};
use crate::core::{Outcome, Reason};

pub fn to_js(outcome: Outcome) -> JsValue {
    match outcome {
        Outcome::Ok(v) => ok_outcome(&v.claims_json, v.kid, v.alg.name()),
        Outcome::Rejected(reason) => rejected(reason),
    }
}

pub fn rejected(reason: Reason) -> JsValue {
    rejected_outcome(reason.status().code(), reason.code())
}
