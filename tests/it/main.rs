//! The integration tests, as one binary: one link for each feature set
//! instead of one for each file (CI builds four feature sets). Only a test
//! that measures its own process (tests/memory.rs) has a binary of its own.
//!
//! Each module is the file of one concern; a module that needs a feature
//! says so in its first line (`#![cfg(feature = "...")]`). Run one with
//! `cargo test --test it MODULE::` (for example `cargo test --test it upsert::`).

mod common;

mod batching;
mod consent;
mod errors;
mod export;
mod failing_reader;
mod failing_store;
mod filter;
mod generate;
mod hostile;
mod layers;
mod limits;
mod many_writers;
mod mapping;
mod memory_store;
mod not_mobile;
mod phone;
mod phone_reference;
mod plan;
mod policies;
mod postgres_store;
mod properties;
mod rows;
mod spreadsheet;
mod sqlite_crash;
mod sqlite_store;
mod suggest;
mod template;
mod unfetched_creates;
mod uploads;
mod upsert;
