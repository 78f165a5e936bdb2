//! `wstest`: a drop-in re-implementation of the Autobahn|Testsuite fuzzer.
//!
//! - [`wire`]: the raw wire peer (any frame, chops, syncs, timers, records);
//! - [`cases`]: the case registry (categories 1–10);
//! - [`verdict`]: expected vs observed, the reference's rules;
//! - [`runner`]: scheduling, deadlines, progress;
//! - [`report`]: `index.json`, per-case JSON, JUnit, console summary;
//! - [`spec`]: spec files; [`echo`]: the echo server modes.

pub mod cases;
pub mod echo;
pub mod report;
pub mod runner;
pub mod spec;
pub mod verdict;
pub mod wire;
