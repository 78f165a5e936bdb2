//! Runs one of the deliberately flawed echo servers of wstest's tests, so
//! the reference suite can be pointed at it too (verdict agreement).
//!
//! ```text
//! cargo run -p wstest --example flawed_server -- no-utf8-check 127.0.0.1:9010
//! ```
//! Flaws: see `Flaw::ALL` in tests/fixtures/flawed_catalog.rs (no-utf8-check, waits-for-close, keeps-context, ...)
//! and `Quirk::ALL` in tests/fixtures/flawed_list2.rs (lf-line-endings, drops-late, ...).

#[path = "../tests/fixtures/flawed.rs"]
mod flawed;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let quirks = flawed::Quirk::ALL.iter().map(|(n, _)| *n);
    let names: Vec<&str> = flawed::Flaw::ALL.iter().map(|(n, _)| *n).chain(quirks).collect();
    let name = args.next().ok_or_else(|| format!("usage: flawed_server FLAW ADDR (FLAW: {})", names.join(", ")))?;
    let flaw =
        flawed::Flaw::from_name(&name).ok_or_else(|| format!("unknown flaw {name:?}; one of {}", names.join(", ")))?;
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9010".into());
    let local = flawed::start(flaw, &addr).await?;
    eprintln!("flawed_server ({name}) on ws://{local}");
    std::future::pending::<()>().await;
    Ok(())
}
