//! The leak generator: valid requests of every shape of every endpoint the filter guards (and
//! of the endpoints it should guard), written from the providers' public API references, with
//! values of every kind the filter masks planted at random positions in random fields and
//! formats, and harmless look-alikes beside them. Each case is reproducible from its seed.
//!
//! Used by the native property test (`tests/engine/leak.rs`) and by the `leakgen` binary, which
//! prints cases as JSON lines for the end-to-end test (`tests/e2e/test_leakgen.py`).
//!
//! Layout: `rng` (splitmix64), `values` (planted values and look-alikes), `text` (texts that
//! carry them, and the record of what went where), `openai` and `anthropic` (request shapes),
//! `containers` (structured documents with values under keys that name them), `case`
//! (endpoint, path spelling, body), `turns` (echo replies and next turns), `check` (what
//! survived in a forwarded body).

// Shared by the native test and the `leakgen` binary; each uses a part.
#![allow(dead_code)]

pub mod anthropic;
pub mod case;
pub mod check;
pub mod containers;
pub mod openai;
pub mod rng;
pub mod text;
pub mod turns;
pub mod values;
