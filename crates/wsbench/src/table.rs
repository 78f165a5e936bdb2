//! The markdown tables of a `compare` run, with autostrada's ratios and the
//! goals of issue 11 checked cell by cell.

use std::fmt::Write;

use crate::cells::{Cell, Kind};
use crate::compare::{Outcome, Run};
use crate::load::LoadResult;
use crate::servers::Subject;

/// The figures of `subject` on `cell`, if it ran and succeeded.
#[must_use]
pub fn result<'a>(o: &'a Outcome, subject: Subject, cell: &Cell) -> Option<&'a LoadResult> {
    run(o, subject, cell)?.result.as_ref().ok()
}

/// The run of `subject` on `cell`, if there was one.
fn run<'a>(o: &'a Outcome, subject: Subject, cell: &Cell) -> Option<&'a Run> {
    o.runs.iter().find(|r| r.subject == subject && r.cell == *cell)
}

/// The cells in the order they were run, each once.
#[must_use]
pub fn cells(o: &Outcome) -> Vec<Cell> {
    let mut cells: Vec<Cell> = Vec::new();
    for r in &o.runs {
        if !cells.contains(&r.cell) {
            cells.push(r.cell);
        }
    }
    cells
}

fn subjects(o: &Outcome, pick: impl Fn(Subject) -> bool) -> Vec<Subject> {
    Subject::ALL.into_iter().filter(|s| pick(*s) && o.runs.iter().any(|r| r.subject == *s)).collect()
}

/// `171k`, `1.9k`, `812`.
#[must_use]
pub fn rate(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v >= 1000.0 {
        format!("{:.1}k", v / 1000.0)
    } else {
        format!("{v:.0}")
    }
}

fn micros(v: f64) -> String {
    if v >= 100.0 { format!("{v:.0}") } else { format!("{v:.2}") }
}

fn cpu(r: Option<&LoadResult>) -> Option<f64> {
    r.and_then(|r| r.server_cpu_us_per_msg)
}

/// How autostrada's server CPU per message compares on one cell.
#[derive(Debug, Clone, Copy)]
pub struct CpuCheck {
    /// autostrada ÷ the best Rust peer.
    pub vs_best: f64,
    /// The raw TCP echo ÷ the best Rust peer (the floor's share).
    pub floor_vs_best: Option<f64>,
    /// autostrada ÷ the raw TCP echo.
    pub vs_floor: Option<f64>,
    /// The goal for this cell: at most 1.0× the best peer, or within 1.05×
    /// the floor where the floor is already above 0.8× the best peer.
    pub met: bool,
    /// autostrada ÷ this cell's share of the median goal: 0.8× the best
    /// peer, or 1.05× the floor where the floor is already above 0.8× the
    /// best peer (no server can be 0.8× there). The goal holds when the
    /// median of this over the cells is at most 1.
    pub vs_median_target: f64,
}

/// autostrada's CPU check on `cell`, when autostrada and a peer both ran it.
#[must_use]
pub fn cpu_check(o: &Outcome, cell: &Cell) -> Option<CpuCheck> {
    check_cpu(|s| cpu(result(o, s, cell)))
}

/// The CPU check on the figures `cpu_of` gives for each subject (one cell,
/// as a whole or in one round).
fn check_cpu(cpu_of: impl Fn(Subject) -> Option<f64>) -> Option<CpuCheck> {
    let ours = cpu_of(Subject::Autostrada)?;
    let best = Subject::ALL.into_iter().filter(|s| s.is_rust_peer()).filter_map(&cpu_of).fold(f64::INFINITY, f64::min);
    if !best.is_finite() || best <= 0.0 {
        return None;
    }
    let raw = cpu_of(Subject::RawTcp).filter(|v| *v > 0.0);
    let floor_vs_best = raw.map(|r| r / best);
    let vs_floor = raw.map(|r| ours / r);
    let vs_best = ours / best;
    let (met, target) = match (floor_vs_best, vs_floor, raw) {
        (Some(f), Some(v), Some(r)) if f > 0.8 => (v <= 1.05 || vs_best <= 1.0, 1.05 * r),
        _ => (vs_best <= 1.0, 0.8 * best),
    };
    Some(CpuCheck { vs_best, floor_vs_best, vs_floor, met, vs_median_target: ours / target })
}

/// Whether autostrada's throughput on the figures `rate_of` gives is below
/// 0.98× the best Rust peer's (`None` without both).
fn slower(rate_of: impl Fn(Subject) -> Option<f64>) -> Option<bool> {
    let ours = rate_of(Subject::Autostrada)?;
    let best = Subject::ALL.into_iter().filter(|s| s.is_rust_peer()).filter_map(&rate_of).fold(0.0, f64::max);
    (best > 0.0).then_some(ours < 0.98 * best)
}

/// Round `i` of `subject` on `cell`, if it measured.
fn round<'a>(o: &'a Outcome, subject: Subject, cell: &Cell, i: usize) -> Option<&'a LoadResult> {
    run(o, subject, cell)?.rounds.get(i)?.as_ref().ok()
}

/// How many rounds autostrada's run of `cell` kept (none with `--repeat 1`).
fn rounds_of(o: &Outcome, cell: &Cell) -> usize {
    run(o, Subject::Autostrada, cell).map_or(0, |r| r.rounds.len())
}

/// How many rounds measured `cell`, and in how many of them autostrada
/// missed the per-cell CPU goal and the throughput goal, each round judged
/// on its own figures. The subjects of a round were measured within
/// seconds of each other, so a round's ratios are paired; a miss in every
/// round is a difference, one that comes and goes is within the machine's
/// noise. `None` without rounds (`--repeat 1`).
fn misses_by_round(o: &Outcome, cell: &Cell) -> Option<(usize, usize, usize)> {
    let (mut judged, mut cpu_missed, mut slow) = (0, 0, 0);
    for i in 0..rounds_of(o, cell) {
        let checked = check_cpu(|s| cpu(round(o, s, cell, i)));
        let behind = slower(|s| round(o, s, cell, i).map(|r| r.msgs_per_sec));
        let (Some(c), Some(sl)) = (checked, behind) else { continue };
        judged += 1;
        cpu_missed += usize::from(!c.met);
        slow += usize::from(sl);
    }
    (judged > 1).then_some((judged, cpu_missed, slow))
}

/// The whole report: throughput, CPU, compression and memory tables, and a
/// summary of the goals.
#[must_use]
pub fn markdown(o: &Outcome) -> String {
    let mut md = String::new();
    let s = &o.setup;
    let _ = writeln!(md, "# wsbench compare\n");
    let _ = writeln!(
        md,
        "`{}` — {}; servers on CPU {}, load on CPU {}; {} s warm-up, {} s measured per cell{}.\n",
        s.command,
        s.machine,
        s.server_cpus,
        s.load_cpus,
        s.warmup,
        s.secs,
        if s.repeat > 1 { format!("; each figure the median of {} rounds", s.repeat) } else { String::new() }
    );
    let all = cells(o);
    let plain: Vec<Cell> = all.iter().copied().filter(|c| c.kind != Kind::Deflate).collect();
    let deflate: Vec<Cell> = all.iter().copied().filter(|c| c.kind == Kind::Deflate).collect();
    let rust = subjects(o, |s| !s.deflate_only());
    if !plain.is_empty() {
        throughput_table(&mut md, o, &plain, &rust);
        cpu_table(&mut md, o, &plain, &rust);
        summary(&mut md, o, &plain);
    }
    if !deflate.is_empty() {
        deflate_table(&mut md, o, &deflate);
    }
    memory_table(&mut md, o);
    failures(&mut md, o);
    md
}

/// The runs that measured nothing, with the load's reason ("—" in the
/// tables), and with `--repeat` the runs whose figures come from fewer
/// rounds than asked for.
fn failures(md: &mut String, o: &Outcome) {
    let failed: Vec<_> = o.runs.iter().filter_map(|r| r.result.as_ref().err().map(|e| (r, e))).collect();
    if !failed.is_empty() {
        let _ = writeln!(md, "## Runs that measured nothing\n");
        for (r, e) in failed {
            let _ = writeln!(md, "- {} on {}: {}", r.subject.name(), r.cell, e.replace('\n', " "));
        }
        md.push('\n');
    }
    let partial: Vec<_> = o
        .runs
        .iter()
        .filter(|r| r.result.is_ok())
        .filter_map(|r| r.rounds.iter().find_map(|x| x.as_ref().err()).map(|e| (r, e)))
        .collect();
    if !partial.is_empty() {
        let _ = writeln!(md, "## Rounds that failed (the figures are the median of the others)\n");
        for (r, e) in partial {
            let bad = r.rounds.iter().filter(|x| x.is_err()).count();
            let _ = writeln!(
                md,
                "- {} on {}: {bad} of {} rounds, e.g. {}",
                r.subject.name(),
                r.cell,
                r.rounds.len(),
                e.replace('\n', " ")
            );
        }
        md.push('\n');
    }
}

fn header(md: &mut String, first: &str, subjects: &[Subject], extra: &[&str]) {
    let names: Vec<&str> = subjects.iter().map(|s| s.name()).collect();
    let cols: Vec<&str> = std::iter::once(first).chain(names.iter().copied()).chain(extra.iter().copied()).collect();
    let _ = writeln!(md, "| {} |", cols.join(" | "));
    let _ = writeln!(md, "|{}", "---|".repeat(cols.len()));
}

fn throughput_table(md: &mut String, o: &Outcome, cells: &[Cell], subjects: &[Subject]) {
    let _ = writeln!(md, "## Throughput (echoes per second)\n");
    header(md, "cell (conns:size:in flight)", subjects, &["autostrada ÷ best peer", "autostrada ÷ raw TCP"]);
    for cell in cells {
        let mut row = vec![cell.to_string()];
        for s in subjects {
            row.push(result(o, *s, cell).map_or_else(|| "—".into(), |r| rate(r.msgs_per_sec)));
        }
        let ours = result(o, Subject::Autostrada, cell).map(|r| r.msgs_per_sec);
        let best = subjects
            .iter()
            .filter(|s| s.is_rust_peer())
            .filter_map(|s| result(o, *s, cell).map(|r| r.msgs_per_sec))
            .fold(0.0, f64::max);
        let raw = result(o, Subject::RawTcp, cell).map(|r| r.msgs_per_sec);
        row.push(ours.filter(|_| best > 0.0).map_or_else(|| "—".into(), |v| format!("{:.2}×", v / best)));
        row.push(ours.zip(raw).map_or_else(|| "—".into(), |(v, r)| format!("{:.2}×", v / r)));
        let _ = writeln!(md, "| {} |", row.join(" | "));
    }
    md.push('\n');
}

fn cpu_table(md: &mut String, o: &Outcome, cells: &[Cell], subjects: &[Subject]) {
    let _ = writeln!(md, "## Server CPU per echoed message (µs, user + system)\n");
    header(md, "cell", subjects, &["autostrada ÷ best peer", "raw TCP ÷ best peer", "autostrada ÷ raw TCP", "goal"]);
    for cell in cells {
        let mut row = vec![cell.to_string()];
        for s in subjects {
            row.push(cpu(result(o, *s, cell)).map_or_else(|| "—".into(), micros));
        }
        let ratio = |v: Option<f64>| v.map_or_else(|| "—".into(), |v| format!("{v:.2}×"));
        match cpu_check(o, cell) {
            Some(c) => {
                row.push(ratio(Some(c.vs_best)));
                row.push(ratio(c.floor_vs_best));
                row.push(ratio(c.vs_floor));
                row.push(if c.met { "met" } else { "**missed**" }.into());
            }
            None => row.extend(["—".into(), "—".into(), "—".into(), "—".into()]),
        }
        let _ = writeln!(md, "| {} |", row.join(" | "));
    }
    md.push('\n');
}

/// Over every round of every cell in which autostrada and all the Rust
/// peers of the run measured: how often each of them had the lowest server CPU per
/// message, and how often the highest throughput, in that order of
/// subjects ([`Subject::ALL`]'s, autostrada first). With several subjects
/// this close, "at most the best peer" fails by chance most of the time
/// (a subject no better nor worse than three others is the best of four in
/// a quarter of the rounds); how often each comes first says more.
fn firsts(o: &Outcome, cells: &[Cell]) -> (usize, Vec<(Subject, usize, usize)>) {
    let subjects = subjects(o, |s| s == Subject::Autostrada || s.is_rust_peer());
    let mut counts: Vec<(Subject, usize, usize)> = subjects.iter().map(|s| (*s, 0, 0)).collect();
    let mut rounds = 0;
    for c in cells {
        for i in 0..rounds_of(o, c) {
            let Some(figures) = subjects.iter().map(|s| round(o, *s, c, i)).collect::<Option<Vec<_>>>() else {
                continue;
            };
            let Some(cpus) = figures.iter().map(|r| r.server_cpu_us_per_msg).collect::<Option<Vec<f64>>>() else {
                continue;
            };
            rounds += 1;
            let cheapest = (0..cpus.len()).min_by(|&a, &b| cpus[a].total_cmp(&cpus[b])).unwrap_or(0);
            let fastest =
                (0..figures.len()).max_by(|&a, &b| figures[a].msgs_per_sec.total_cmp(&figures[b].msgs_per_sec));
            counts[cheapest].1 += 1;
            counts[fastest.unwrap_or(0)].2 += 1;
        }
    }
    (rounds, counts)
}

/// The median of a non-empty list; the upper of the two middle values when
/// the count is even (the stricter one for a goal of "at most").
fn upper_median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn summary(md: &mut String, o: &Outcome, cells: &[Cell]) {
    let checks: Vec<CpuCheck> = cells.iter().filter_map(|c| cpu_check(o, c)).collect();
    if checks.is_empty() {
        return;
    }
    let median = upper_median(checks.iter().map(|c| c.vs_best));
    let worst = checks.iter().map(|c| c.vs_best).fold(f64::NEG_INFINITY, f64::max);
    let median_to_target = upper_median(checks.iter().map(|c| c.vs_median_target));
    let within_target = checks.iter().filter(|c| c.vs_median_target <= 1.0).count();
    let missed = checks.iter().filter(|c| !c.met).count();
    let slow_cells: Vec<String> = cells
        .iter()
        .filter(|c| slower(|s| result(o, s, c).map(|r| r.msgs_per_sec)) == Some(true))
        .map(ToString::to_string)
        .collect();
    // Cells where every round missed, and how many rounds judged them.
    let (mut rounds, mut cpu_always, mut slow_always) = (0, Vec::new(), Vec::new());
    for c in cells {
        let Some((judged, cpu_missed, slow)) = misses_by_round(o, c) else { continue };
        rounds = rounds.max(judged);
        if cpu_missed == judged {
            cpu_always.push(c.to_string());
        }
        if slow == judged {
            slow_always.push(c.to_string());
        }
    }
    let list = |cells: &[String]| if cells.is_empty() { "none".to_owned() } else { cells.join(", ") };
    let _ = writeln!(md, "## Summary\n");
    let _ = writeln!(
        md,
        "- Server CPU per message, autostrada ÷ best Rust peer: median {median:.2}× (goal ≤ 0.80×), worst {worst:.2}× \
         (goal ≤ 1.00×, or within 1.05× of the raw TCP floor where the floor is above 0.8× the best peer); \
         cells missing the per-cell goal: {missed} of {}.",
        checks.len()
    );
    let _ = writeln!(
        md,
        "- The median goal with the floor rule applied to it (each cell's target is 0.8× the best peer, or 1.05× \
         the raw TCP floor where the floor is above 0.8× the best peer): {within_target} of {} cells within their \
         target; median autostrada ÷ target {median_to_target:.2}× (goal ≤ 1.00×, {}).",
        checks.len(),
        if median_to_target <= 1.0 { "met" } else { "missed" }
    );
    let _ = writeln!(md, "- Throughput below 0.98× the best Rust peer: {}.", list(&slow_cells));
    if rounds > 1 {
        let _ = writeln!(
            md,
            "- Round by round (a round measures every subject on a cell within seconds, so its ratios are paired; \
             a miss that comes and goes between rounds is within this machine's noise): the per-cell CPU goal missed \
             in every round in {}; throughput below 0.98× the best Rust peer in every round in {}.",
            list(&cpu_always),
            list(&slow_always)
        );
        let (cell_rounds, counts) = firsts(o, cells);
        if cell_rounds > 0 {
            let said = |pick: fn(&(Subject, usize, usize)) -> usize| {
                counts.iter().map(|c| format!("{} {}", c.0.name(), pick(c))).collect::<Vec<_>>().join(", ")
            };
            let _ = writeln!(
                md,
                "- First among autostrada and the Rust peers, over {cell_rounds} rounds of cells: lowest server CPU per \
                 message {}; highest throughput {}.",
                said(|c| c.1),
                said(|c| c.2)
            );
        }
    }
    md.push('\n');
}

fn deflate_table(md: &mut String, o: &Outcome, cells: &[Cell]) {
    let subjects = subjects(o, Subject::deflates);
    let _ = writeln!(md, "## permessage-deflate (JSON-like text): echoes per second / server CPU µs per message\n");
    header(md, "cell", &subjects, &["autostrada CPU ÷ best other"]);
    for cell in cells {
        let mut row = vec![cell.to_string()];
        for s in &subjects {
            row.push(result(o, *s, cell).map_or_else(
                || "—".into(),
                |r| {
                    format!("{} / {}", rate(r.msgs_per_sec), r.server_cpu_us_per_msg.map_or_else(|| "—".into(), micros))
                },
            ));
        }
        let ours = cpu(result(o, Subject::Autostrada, cell));
        let best = subjects
            .iter()
            .filter(|s| !matches!(s, Subject::Autostrada | Subject::AutostradaLowMemory))
            .filter_map(|s| cpu(result(o, *s, cell)))
            .fold(f64::INFINITY, f64::min);
        row.push(ours.filter(|_| best.is_finite()).map_or_else(|| "—".into(), |v| format!("{:.2}×", v / best)));
        let _ = writeln!(md, "| {} |", row.join(" | "));
    }
    md.push('\n');
}

fn memory_table(md: &mut String, o: &Outcome) {
    if o.memory.is_empty() {
        return;
    }
    let _ =
        writeln!(md, "## Memory per idle connection (server RSS growth ÷ connections, after one small echo each)\n");
    let _ = writeln!(md, "| subject | without compression | with permessage-deflate |");
    let _ = writeln!(md, "|---|---|---|");
    let cell = |r: &Option<Result<crate::idle::IdleResult, String>>| match r {
        None => "—".to_owned(),
        Some(Ok(r)) => format!("{:.2} KiB ({} conns)", r.bytes_per_conn / 1024.0, r.conns),
        Some(Err(e)) => format!("failed: {}", e.replace('|', "/")),
    };
    for m in &o.memory {
        let _ = writeln!(md, "| {} | {} | {} |", m.subject.name(), cell(&m.plain), cell(&m.deflate));
    }
    md.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::Setup;

    fn outcome(cpu: &[(Subject, f64)]) -> Outcome {
        let cell = Cell::parse("100:20:1").unwrap();
        let runs = cpu
            .iter()
            .map(|&(subject, us)| Run {
                subject,
                cell,
                result: Ok(LoadResult {
                    messages: 1000,
                    secs: 1.0,
                    msgs_per_sec: 1000.0,
                    mb_per_sec: 0.02,
                    latency_us: [1.0; 5],
                    server_cpu_us_per_msg: Some(us),
                    errors: 0,
                }),
                rounds: Vec::new(),
            })
            .collect();
        let setup = Setup {
            command: "wsbench compare".into(),
            server_cpus: "0".into(),
            load_cpus: "1".into(),
            secs: 1.0,
            warmup: 0.5,
            repeat: 1,
            machine: "test".into(),
        };
        Outcome { setup, runs, memory: Vec::new() }
    }

    #[test]
    fn the_cpu_goal_is_the_best_peer_or_near_the_floor_when_the_floor_is_close() {
        let cell = Cell::parse("100:20:1").unwrap();
        // Floor far below the peers: at most 1.0× the best peer.
        let o = outcome(&[(Subject::RawTcp, 2.0), (Subject::Autostrada, 5.5), (Subject::Fastwebsockets, 5.0)]);
        let c = cpu_check(&o, &cell).unwrap();
        assert!(!c.met && (c.vs_best - 1.1).abs() < 1e-9);
        // Floor above 0.8× the best peer: within 1.05× of the floor is enough.
        let o = outcome(&[(Subject::RawTcp, 4.5), (Subject::Autostrada, 4.7), (Subject::TokioWebsockets, 4.6)]);
        assert!(cpu_check(&o, &cell).unwrap().met);
        let o = outcome(&[(Subject::RawTcp, 4.5), (Subject::Autostrada, 4.9), (Subject::TokioWebsockets, 4.6)]);
        assert!(!cpu_check(&o, &cell).unwrap().met);
        let md = markdown(&o);
        assert!(md.contains("| 100:20 B:1 |") && md.contains("**missed**"), "{md}");
    }

    #[test]
    fn the_median_target_is_the_floor_where_the_floor_is_close_to_the_best_peer() {
        let cell = Cell::parse("100:20:1").unwrap();
        // Floor far below: the target is 0.8× the best peer (4.0 here).
        let o = outcome(&[(Subject::RawTcp, 2.0), (Subject::Autostrada, 4.4), (Subject::Fastwebsockets, 5.0)]);
        assert!((cpu_check(&o, &cell).unwrap().vs_median_target - 1.1).abs() < 1e-9);
        // Floor at 0.9× the best peer: the target is 1.05× the floor (4.2).
        let o = outcome(&[(Subject::RawTcp, 4.0), (Subject::Autostrada, 4.2), (Subject::TokioWebsockets, 4.44)]);
        assert!((cpu_check(&o, &cell).unwrap().vs_median_target - 1.0).abs() < 1e-9);
        let md = markdown(&o);
        assert!(
            md.contains("1 of 1 cells within their target; median autostrada ÷ target 1.00× (goal ≤ 1.00×, met)"),
            "{md}"
        );
    }

    /// `outcome`, with rounds: each subject's (CPU µs, msg/s) per round.
    fn outcome_with_rounds(rounds: &[(Subject, &[(f64, f64)])]) -> Outcome {
        let mut o = outcome(&rounds.iter().map(|(s, r)| (*s, r[0].0)).collect::<Vec<_>>());
        for (run, (_, figures)) in o.runs.iter_mut().zip(rounds) {
            let template = run.result.clone().unwrap();
            run.rounds = figures
                .iter()
                .map(|&(cpu, rate)| {
                    Ok(LoadResult { server_cpu_us_per_msg: Some(cpu), msgs_per_sec: rate, ..template.clone() })
                })
                .collect();
        }
        o
    }

    #[test]
    fn misses_are_told_apart_from_noise_round_by_round() {
        let cell = Cell::parse("100:20:1").unwrap();
        // CPU above the peer's in every round, throughput behind it in one.
        let o = outcome_with_rounds(&[
            (Subject::RawTcp, &[(2.0, 300.0), (2.0, 300.0), (2.0, 300.0)]),
            (Subject::Autostrada, &[(5.5, 101.0), (5.2, 100.0), (5.1, 90.0)]),
            (Subject::Fastwebsockets, &[(5.0, 100.0), (5.0, 95.0), (5.0, 100.0)]),
        ]);
        assert_eq!(misses_by_round(&o, &cell), Some((3, 3, 1)));
        let md = markdown(&o);
        assert!(
            md.contains("the per-cell CPU goal missed in every round in 100:20 B:1; throughput below 0.98× the best Rust peer in every round in none."),
            "{md}"
        );
        assert!(
            md.contains("over 3 rounds of cells: lowest server CPU per message autostrada 0, fastwebsockets 3; highest throughput autostrada 2, fastwebsockets 1."),
            "{md}"
        );
        // Without rounds (`--repeat 1`) there is no such line.
        assert!(
            !markdown(&outcome(&[(Subject::Autostrada, 5.5), (Subject::Fastwebsockets, 5.0)]))
                .contains("Round by round")
        );
    }

    #[test]
    fn rounds_that_failed_are_listed_under_the_tables() {
        let mut o = outcome(&[(Subject::RawTcp, 2.0), (Subject::Autostrada, 2.5)]);
        assert!(!markdown(&o).contains("Rounds that failed"));
        let ok = o.runs[1].result.clone();
        o.runs[1].rounds = vec![ok.clone(), Err("server went away".into()), ok];
        let md = markdown(&o);
        assert!(md.contains("- autostrada on 100:20 B:1: 1 of 3 rounds, e.g. server went away"), "{md}");
    }
}
