//! The one native integration test binary for the engine: fixtures with provenance, property
//! tests over every chunking, and outcome tables. Each area has its own module.

mod benign;
mod catalogue;
mod config_docs;
mod detect;
mod entities;
mod examples;
mod first_event;
mod leak;
mod leaks;
mod linear;
mod memo;
mod ordinary;
mod outcomes;
mod policies;
mod reply_actions;
mod secrets;
mod store;
mod stream;
mod structured;
mod threat;
