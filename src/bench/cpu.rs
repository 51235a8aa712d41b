//! CPU time of a process or one of its threads, read from `/proc/<pid>[/task/<tid>]/stat`.
//!
//! `getrusage` would need `unsafe`; procfs gives the same counters (`utime` + `stime`, in clock
//! ticks) for any process we may read, which also lets the bench count the painter thread and
//! the X server apart from the pipeline.

use std::time::Duration;

/// Where to read CPU time from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// A whole process: every thread it has or had (the kernel adds up exited threads).
    Process(u32),
    /// One thread of a process.
    Thread { pid: u32, tid: u32 },
}

impl Task {
    fn stat_path(self) -> String {
        match self {
            Task::Process(pid) => format!("/proc/{pid}/stat"),
            Task::Thread { pid, tid } => format!("/proc/{pid}/task/{tid}/stat"),
        }
    }

    /// CPU time used so far (user + system), or `None` when the task is gone or unreadable.
    pub fn cpu_time(self, ticks_per_second: u64) -> Option<Duration> {
        let stat = std::fs::read_to_string(self.stat_path()).ok()?;
        let ticks = parse_stat_ticks(&stat)?;
        Some(ticks_to_duration(ticks, ticks_per_second))
    }
}

/// `utime + stime` from a `stat` line. The command name (field 2) is in parentheses and may hold
/// spaces or `)`, so fields are counted from the last `)`.
pub fn parse_stat_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_ascii_whitespace();
    // After the name: state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
    // cmajflt utime(14) stime(15).
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn ticks_to_duration(ticks: u64, per_second: u64) -> Duration {
    let per_second = per_second.max(1);
    Duration::from_secs(ticks / per_second)
        + Duration::from_nanos((ticks % per_second) * 1_000_000_000 / per_second)
}

/// The kernel's `USER_HZ`, from `getconf CLK_TCK`; 100 (its value on every Linux architecture
/// we run on) when `getconf` is missing.
pub fn ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// The thread ids of this process whose name (`comm`) is `name`.
pub fn threads_named(name: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| {
            let e = e.ok()?;
            let tid: u32 = e.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(e.path().join("comm")).ok()?;
            (comm.trim_end() == name).then_some(tid)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utime_and_stime() {
        let stat = "1234 (selkies-rs) S 1 1234 1234 0 -1 4194560 500 0 0 0 \
                    250 37 0 0 20 0 9 0 100 123456 789 18446744073709551615";
        assert_eq!(parse_stat_ticks(stat), Some(287));
    }

    #[test]
    fn names_with_spaces_and_parentheses() {
        let stat = "77 (a) b (c)) R 1 77 77 0 -1 0 0 0 0 0 5 6 0 0";
        assert_eq!(parse_stat_ticks(stat), Some(11));
    }

    #[test]
    fn truncated_lines_are_none() {
        assert_eq!(parse_stat_ticks("1 (x) S 1 2 3"), None);
        assert_eq!(parse_stat_ticks("garbage"), None);
    }

    #[test]
    fn ticks_convert_exactly() {
        assert_eq!(ticks_to_duration(250, 100), Duration::from_millis(2500));
        assert_eq!(ticks_to_duration(3, 1000), Duration::from_millis(3));
        assert_eq!(ticks_to_duration(1, 0), Duration::from_secs(1));
    }

    #[test]
    fn reads_this_process() {
        let hz = ticks_per_second();
        assert!(hz > 0);
        assert!(Task::Process(std::process::id()).cpu_time(hz).is_some());
        assert_eq!(Task::Process(u32::MAX).cpu_time(hz), None);
    }
}
