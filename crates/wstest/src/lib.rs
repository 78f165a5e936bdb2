//! `wstest`: a drop-in re-implementation of the Autobahn|Testsuite fuzzer.
//!
//! - [`wire`]: the raw wire peer (any frame, chops, syncs, timers, records);
//! - [`cases`]: the case registry (all 517 cases);
//! - [`verdict`]: expected vs observed, the reference's rules;
//! - [`runner`]: scheduling, deadlines, progress;
//! - [`report`]: `index.json`, per-case JSON, JUnit, console summary;
//! - [`fuzzingserver`]: the server mode that tests clients;
//! - [`testee`]: the client mode that drives a fuzzing server;
//! - [`spec`]: spec files; [`echo`]: the echo server modes.

pub mod cases;
pub mod echo;
pub mod fuzzingserver;
pub mod report;
pub mod runner;
pub mod spec;
pub mod testee;
pub mod tls;
pub mod verdict;
pub mod wire;
