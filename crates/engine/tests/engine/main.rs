//! The one native integration test binary for the engine: fixtures with provenance, property
//! tests over every chunking, and outcome tables. Each area has its own module.

mod api;
mod audit;
mod benign;
mod benign_families;
mod catalogue;
mod config_docs;
mod detect;
mod encoded;
mod entities;
mod examples;
mod first_event;
mod leak;
mod leaks;
mod linear;
mod long_run;
mod memo;
mod minified_code;
mod model;
mod operator_rules;
mod ordinary;
mod outcomes;
mod policies;
mod policy_routes;
mod reply_actions;
mod reply_links;
mod secrets;
mod store;
mod stream;
mod structured;
mod suffix;
mod support;
mod threat;
