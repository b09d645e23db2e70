//! The JavaScript adapter (SPEC §6).
