//! This process's (or another's) CPU time and memory, read from procfs.
//!
//! `getrusage` and `sysconf` would need `unsafe`; procfs gives the same counters for any process
//! we may read, which also lets the bench count the painter thread and the X server apart from
//! the pipeline. Nothing here spawns a process, so `/metrics` may call it on a tokio worker.

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

/// `AT_CLKTCK` in the ELF auxiliary vector: the kernel's `USER_HZ`.
const AT_CLKTCK: u64 = 17;

/// The kernel's `USER_HZ` (what `sysconf(_SC_CLK_TCK)` returns), from `/proc/self/auxv`; 100,
/// its value on every Linux architecture we run on, when that cannot be read.
pub fn ticks_per_second() -> u64 {
    std::fs::read("/proc/self/auxv")
        .ok()
        .and_then(|auxv| auxv_value(&auxv, AT_CLKTCK))
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// The value of `key` in an auxiliary vector: native-endian (type, value) pairs of machine words,
/// ended by type 0.
fn auxv_value(auxv: &[u8], key: u64) -> Option<u64> {
    const WORD: usize = std::mem::size_of::<usize>();
    let word = |b: &[u8]| -> Option<u64> {
        let mut buf = [0u8; WORD];
        buf.copy_from_slice(b.get(..WORD)?);
        u64::try_from(usize::from_ne_bytes(buf)).ok()
    };
    auxv.chunks_exact(2 * WORD).find_map(|pair| {
        let kind = word(pair)?;
        (kind == key).then(|| word(&pair[WORD..])).flatten()
    })
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

/// Resident set size (`VmRSS`) of this process in bytes, or `None` when procfs cannot be read.
pub fn rss_bytes() -> Option<u64> {
    own_status_kib("VmRSS").map(|k| k * 1024)
}

/// Peak resident set size (`VmHWM`) in bytes, or `None` when procfs cannot be read.
pub fn peak_rss_bytes() -> Option<u64> {
    own_status_kib("VmHWM").map(|k| k * 1024)
}

fn own_status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status_kib(&status, key)
}

/// The value of a `Key:   123 kB` line of a `status` file, in KiB.
pub fn status_kib(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        if k != key {
            return None;
        }
        v.trim().strip_suffix("kB")?.trim().parse().ok()
    })
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
    fn the_aux_vector_gives_what_getconf_says() {
        let getconf = std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse::<u64>().ok());
        if let Some(expected) = getconf {
            assert_eq!(ticks_per_second(), expected);
        }
        let word = |v: usize| v.to_ne_bytes().to_vec();
        let auxv: Vec<u8> = [6, 4096, 17, 250, 0, 0]
            .into_iter()
            .flat_map(word)
            .collect();
        assert_eq!(auxv_value(&auxv, AT_CLKTCK), Some(250));
        assert_eq!(auxv_value(&auxv, 99), None);
        assert_eq!(auxv_value(&auxv[..5], AT_CLKTCK), None);
    }

    #[test]
    fn reads_this_process() {
        let hz = ticks_per_second();
        assert!(hz > 0);
        assert!(Task::Process(std::process::id()).cpu_time(hz).is_some());
        assert_eq!(Task::Process(u32::MAX).cpu_time(hz), None);
        assert!(peak_rss_bytes().is_some_and(|b| b > 0));
        assert!(rss_bytes().is_some_and(|b| b > 0));
    }

    #[test]
    fn finds_the_key() {
        let status =
            "Name:\tselkies-rs\nVmPeak:\t  300000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40000 kB\n";
        assert_eq!(status_kib(status, "VmHWM"), Some(51200));
        assert_eq!(status_kib(status, "VmRSS"), Some(40000));
        assert_eq!(status_kib(status, "VmSwap"), None);
        assert_eq!(status_kib("VmHWM:\tlots\n", "VmHWM"), None);
    }
}
