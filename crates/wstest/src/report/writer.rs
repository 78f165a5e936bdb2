//! Writes each case's `<agent>_case_<id>.json` and `.html` as soon as the case finishes,
//! on a background thread, so the files are on disk while later cases still
//! run and the run ends with only `index.json` and `index.html` left to
//! write. An interrupted run thus keeps the reports of every case that
//! finished, and an `index.json` and `index.html` (rewritten atomically as
//! cases finish) that list them.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use std::time::Instant;

use super::{CaseResult, INDEX_EVERY, html, write_case, write_index};

/// What the background thread hands back: every result it was given, and
/// the first write error, if any.
type Outcome = (Vec<CaseResult>, io::Result<()>);

/// A background writer of per-case reports.
///
/// ```no_run
/// # fn demo(results: Vec<wstest::report::CaseResult>) -> std::io::Result<()> {
/// let order = vec!["1.1.1".to_owned(), "1.1.2".to_owned()];
/// let writer = wstest::report::CaseWriter::start("./reports".as_ref(), order)?;
/// for r in results {
///     writer.submit(r);
/// }
/// let (results, written) = writer.finish();
/// written?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct CaseWriter {
    tx: Option<mpsc::Sender<CaseResult>>,
    thread: Option<JoinHandle<Outcome>>,
}

impl CaseWriter {
    /// Creates `outdir` and starts the writer thread. `order` lists the
    /// run's case ids in suite order: each case page links to its
    /// neighbours in it.
    ///
    /// # Errors
    /// When `outdir` cannot be created or the thread cannot start.
    pub fn start(outdir: &Path, order: Vec<String>) -> io::Result<Self> {
        std::fs::create_dir_all(outdir)?;
        let outdir: PathBuf = outdir.to_owned();
        let (tx, rx) = mpsc::channel::<CaseResult>();
        let thread = std::thread::Builder::new().name("wstest-reports".into()).spawn(move || {
            background_priority();
            let mut results = Vec::new();
            let mut written = Ok(());
            let mut index_written: Option<Instant> = None;
            let mut indexed = 0;
            let mut pages = html::HtmlIndex::default();
            for mut r in rx {
                // After a failure keep collecting (the summary still needs
                // every result) but stop writing.
                if written.is_ok() {
                    written = write_case(&outdir, &r, &order).map(|row| pages.add(row));
                }
                r.release_details();
                results.push(r);
                // index.json and index.html as the run goes (atomically, at
                // most twice a second): a run that is killed keeps a usable index.
                if written.is_ok() && index_written.is_none_or(|t| t.elapsed() >= INDEX_EVERY) {
                    written = write_index(&outdir, &results).and_then(|()| pages.flush(&outdir));
                    index_written = Some(Instant::now());
                    indexed = results.len();
                }
            }
            if written.is_ok() && indexed < results.len() {
                written = write_index(&outdir, &results).and_then(|()| pages.flush(&outdir));
            }
            (results, written)
        })?;
        Ok(Self { tx: Some(tx), thread: Some(thread) })
    }

    /// Queues one finished case; its file is written in the background.
    pub fn submit(&self, result: CaseResult) {
        if let Some(tx) = &self.tx {
            // The thread only stops once `tx` is dropped, so this cannot fail.
            let _ = tx.send(result);
        }
    }

    /// Waits for every queued file and returns the results in the order they
    /// were submitted, with the first write error.
    pub fn finish(mut self) -> Outcome {
        self.tx = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(outcome)) => outcome,
            Some(Err(_)) => (Vec::new(), Err(io::Error::other("the report writer thread panicked"))),
            None => (Vec::new(), Ok(())),
        }
    }
}

/// Lowers this thread to idle priority (Linux `SCHED_IDLE`): it then runs
/// only on CPU time nothing else wants, so writing reports never delays a
/// timed case or the server under test on the same machine. Best effort: on
/// failure the thread just keeps normal priority.
fn background_priority() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{
            NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy, set_thread_priority_and_policy,
            thread_native_id,
        };
        let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        let _ = set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle);
    }
}
