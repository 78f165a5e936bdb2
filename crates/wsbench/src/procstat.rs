//! What the kernel says about a server process: CPU time and resident memory.

use std::path::PathBuf;

/// CPU time (user + system, every thread) of process `pid`, in microseconds,
/// from `/proc/PID/stat`. Counted in clock ticks, so a window of a few
/// seconds measures it to within about 1%.
///
/// # Errors
/// When the process is gone or the file does not parse.
pub fn cpu_micros(pid: u32) -> Result<u64, String> {
    let path = PathBuf::from(format!("/proc/{pid}/stat"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    // The command name (field 2) may hold spaces: fields are counted after its ')'.
    let rest =
        text.rsplit_once(')').map(|(_, r)| r).ok_or_else(|| format!("{}: no ')' in {text:?}", path.display()))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let ticks = |i: usize| -> Result<u64, String> {
        fields.get(i).and_then(|f| f.parse().ok()).ok_or_else(|| format!("{}: field {} missing", path.display(), i + 3))
    };
    Ok((ticks(11)? + ticks(12)?) * 1_000_000 / clock_ticks())
}

/// Resident set size of process `pid` in KiB (`VmRSS` of `/proc/PID/status`).
///
/// # Errors
/// When the process is gone or the line is missing.
pub fn rss_kib(pid: u32) -> Result<u64, String> {
    let path = PathBuf::from(format!("/proc/{pid}/status"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("{}: no VmRSS line", path.display()))
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`); 100 on every
/// Linux build in common use, which is what is assumed when `getconf` fails.
fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        assert!(rss_kib(me).unwrap() > 0);
        // Burn a little CPU so the figure cannot stay at zero by accident.
        let start = cpu_micros(me).unwrap();
        let mut x = 0u64;
        while cpu_micros(me).unwrap() == start {
            for i in 0..100_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
            std::hint::black_box(x);
        }
    }

    #[test]
    fn a_missing_process_is_an_error_that_names_the_file() {
        let err = rss_kib(u32::MAX).unwrap_err();
        assert!(err.contains(&format!("/proc/{}/status", u32::MAX)), "{err}");
    }
}
