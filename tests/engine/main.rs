//! The one native integration test binary for the engine: fixtures with provenance, property
//! tests over every chunking, and outcome tables. Each area has its own module.

mod detect;
mod examples;
mod leak;
mod leaks;
mod linear;
mod memo;
mod store;
mod stream;
mod threat;
