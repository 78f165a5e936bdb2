//! Runs one of the hostile servers of wstest's tests (a ping flood, a 2^40
//! frame, ...), to measure wstest — or any client — against it by hand.
//!
//! ```text
//! cargo run -p wstest --example hostile_server -- ping-flood 127.0.0.1:9011
//! ```
//! Kinds: see `Hostility::ALL` in tests/fixtures/hostile.rs.

#[path = "../tests/fixtures/hostile.rs"]
mod hostile;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let names: Vec<&str> = hostile::Hostility::ALL.iter().map(|(n, _)| *n).collect();
    let name = args.next().ok_or_else(|| format!("usage: hostile_server KIND ADDR (KIND: {})", names.join(", ")))?;
    let kind = hostile::Hostility::from_name(&name)
        .ok_or_else(|| format!("unknown kind {name:?}; one of {}", names.join(", ")))?;
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9011".into());
    let local = hostile::start(kind, &addr).await?;
    eprintln!("hostile_server ({name}) on ws://{local}");
    std::future::pending::<()>().await;
    Ok(())
}
