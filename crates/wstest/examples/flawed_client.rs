//! Runs one of the deliberately flawed clients of wstest's tests against a
//! fuzzing server — the reference's or wstest's — so both can judge the same
//! client (verdict agreement in fuzzingserver mode).
//!
//! ```text
//! cargo run -p wstest --example flawed_client -- unmasked ws://127.0.0.1:9001 [AGENT]
//! ```
//! Flaws: see `Flaw::ALL` in tests/fixtures/flawed_client.rs (unmasked, no-utf8-check, drops-on-close, ...).
//! The agent defaults to the flaw's name; cases run one after the other.

#[path = "../tests/fixtures/flawed_client.rs"]
mod flawed_client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let more = flawed_client::More::ALL.iter().map(|(n, _)| *n);
    let names: Vec<&str> = flawed_client::Flaw::ALL.iter().map(|(n, _)| *n).chain(more).collect();
    let usage = || format!("usage: flawed_client FLAW BASE_URL [AGENT] (FLAW: {})", names.join(", "));
    let name = args.next().ok_or_else(usage)?;
    let flaw = flawed_client::Flaw::from_name(&name)
        .ok_or_else(|| format!("unknown flaw {name:?}; one of {}", names.join(", ")))?;
    let base = args.next().ok_or_else(usage)?;
    let agent = args.next().unwrap_or_else(|| name.clone());
    let count = flawed_client::run(flaw, &base, &agent, 1).await?;
    eprintln!("flawed_client ({name}): {count} cases run against {base}");
    Ok(())
}
