//! The `testeeclient` mode: an autostrada client that drives a fuzzing
//! server — wstest's or the reference's — through every case it offers,
//! echoing every message, then asks it to write its reports.
//!
//! ```text
//! wstest -m testeeclient -w ws://127.0.0.1:9001 [-i AGENT]
//! ```

use autostrada::{ClientBuilder, Connector, Message};
use futures_util::{SinkExt, StreamExt};

/// Why a run could not go on.
#[derive(Debug)]
pub struct TesteeError(pub String);

impl std::fmt::Display for TesteeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TesteeError {}

/// Percent-encodes a query value (agent names may hold spaces and slashes;
/// the reference's own testee client forgets this).
fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// How long a connection to the fuzzing server may pass without a data
/// message before we close it (5 min): far past any case's pause (the
/// suite's longest waits are seconds), so that a server that goes silent
/// costs one case that long, not the whole run for ever.
const SILENCE: std::time::Duration = std::time::Duration::from_secs(300);

/// The most cases a fuzzing server may say it runs (the suite has 517): a
/// larger count is not a fuzzing server's, and would have us ask for cases
/// for ever.
const MAX_CASES: usize = 10_000;

fn client(connector: &Connector) -> ClientBuilder {
    let mut config = crate::echo::config();
    config.idle_timeout = Some(SILENCE);
    ClientBuilder::new().config(config).connector(connector.clone())
}

/// Asks the server how many cases it runs.
async fn case_count(base: &str, connector: &Connector) -> Result<usize, TesteeError> {
    let url = format!("{base}/getCaseCount");
    let (mut ws, _) = client(connector)
        .connect(&url)
        .await
        .map_err(|e| TesteeError(format!("cannot reach the fuzzing server at {url}: {e}")))?;
    let mut count = None;
    while let Some(message) = ws.next().await {
        if let Ok(Message::Text(t)) = message {
            count = t.as_str().trim().parse().ok();
        }
    }
    match count {
        None => Err(TesteeError(format!("{url} sent no case count"))),
        Some(n) if n > MAX_CASES => Err(TesteeError(format!(
            "{url} says it runs {n} cases; a fuzzing server runs at most {MAX_CASES} (the suite has 517): is it one?"
        ))),
        Some(n) => Ok(n),
    }
}

/// Runs case `n`: echoes every data message until the server closes.
async fn run_case(base: &str, n: usize, agent: &str, connector: &Connector) -> Result<(), autostrada::Error> {
    let url = format!("{base}/runCase?case={n}&agent={}", encode(agent));
    let (mut ws, _) = client(connector).connect(&url).await?;
    while let Some(message) = ws.next().await {
        match message {
            Ok(m) if m.is_data() => ws.send(m).await?,
            Ok(_) => {}
            // Our close went out because of the error; read on to the end.
            Err(autostrada::Error::Protocol(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Drives the fuzzing server at `base` (`ws://host:port`) through all its
/// cases as `agent`, `jobs` cases at a time (1: one after the other, as the
/// reference's testee client does), then has it write its reports.
/// `progress` is told how many cases finished, of how many. Returns the
/// number of cases.
///
/// # Errors
/// When the server cannot be reached or gives no case count. A case that
/// fails on our side is only reported on stderr: the server judges it.
pub async fn run(
    base: &str,
    agent: &str,
    jobs: usize,
    progress: impl Fn(usize, usize) + Send + Sync,
) -> Result<usize, TesteeError> {
    run_with(base, agent, jobs, &Connector::default(), progress).await
}

/// As [`run`], with `connector` for a `wss://` fuzzing server (its
/// certificate checked against the roots the connector trusts).
///
/// # Errors
/// As [`run`].
pub async fn run_with(
    base: &str,
    agent: &str,
    jobs: usize,
    connector: &Connector,
    progress: impl Fn(usize, usize) + Send + Sync,
) -> Result<usize, TesteeError> {
    let base = base.trim_end_matches('/');
    let count = case_count(base, connector).await?;
    let next = std::sync::atomic::AtomicUsize::new(1);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let worker = || async {
        loop {
            let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if n > count {
                break;
            }
            if let Err(e) = run_case(base, n, agent, connector).await {
                eprintln!("wstest: testee client, case {n}: {e}");
            }
            progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1, count);
        }
    };
    futures_util::future::join_all((0..jobs.max(1)).map(|_| worker())).await;
    let url = format!("{base}/updateReports?agent={}", encode(agent));
    let (mut ws, _) = client(connector).connect(&url).await.map_err(|e| TesteeError(format!("{url}: {e}")))?;
    while ws.next().await.is_some() {}
    Ok(count)
}
