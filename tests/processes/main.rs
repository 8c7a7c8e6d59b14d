//! Tests that run the real `api` binary as separate processes on one
//! PostgreSQL database: several instances at once, faults, shutdown.
//!
//! The fault test stops and restarts the local PostgreSQL server, so it is
//! `#[ignore]`d in the ordinary run and `.ci/run` runs it on its own.

mod concurrency;
mod exports;
mod faults;
mod push;
