//! Outcomes as plain JavaScript objects: `{status:"OK", claims, kid, alg}` or
//! `{status, reason}` (SPEC §6). Codes cross the boundary as indexes into tables registered once,
//! and the last kid's JS string is reused: the hot path decodes only the claims.

use std::cell::{Cell, RefCell};

use js_sys::Array;
use wasm_bindgen::JsValue;

use super::runtime::{ok_outcome, register_codes, rejected_outcome};
use crate::core::{Algorithm, Outcome, Reason};

thread_local! {
    static REGISTERED: Cell<bool> = const { Cell::new(false) };
    static LAST_KID: RefCell<Option<(String, JsValue)>> = const { RefCell::new(None) };
}

fn ensure_registered() {
    if REGISTERED.with(Cell::get) {
        return;
    }
    let strings = |it: &mut dyn Iterator<Item = &'static str>| -> Array {
        it.map(JsValue::from_str).collect()
    };
    register_codes(
        &strings(&mut Reason::ALL.iter().map(|r| r.status().code())),
        &strings(&mut Reason::ALL.iter().map(|r| r.code())),
        &strings(&mut Algorithm::ALL.iter().map(|a| a.name())),
    );
    REGISTERED.with(|r| r.set(true));
}

fn index_of<T: PartialEq>(all: &[T], item: &T) -> u32 {
    all.iter().position(|x| x == item).unwrap_or(0) as u32
}

fn kid_js(kid: Option<String>) -> JsValue {
    let Some(kid) = kid else {
        return JsValue::UNDEFINED;
    };
    LAST_KID.with(|last| {
        let mut last = last.borrow_mut();
        match &*last {
            Some((text, value)) if *text == kid => value.clone(),
            _ => {
                let value = JsValue::from_str(&kid);
                *last = Some((kid, value.clone()));
                value
            }
        }
    })
}

pub fn to_js(outcome: Outcome) -> JsValue {
    match outcome {
        Outcome::Ok(v) => {
            ensure_registered();
            let alg = index_of(&Algorithm::ALL, &v.alg);
            ok_outcome(&v.claims_json, &kid_js(v.kid), alg)
        }
        Outcome::Rejected(reason) => rejected(reason),
    }
}

pub fn rejected(reason: Reason) -> JsValue {
    ensure_registered();
    rejected_outcome(index_of(&Reason::ALL, &reason))
}
