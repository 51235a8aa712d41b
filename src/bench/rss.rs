//! Resident memory of this process, from `/proc/self/status` (no `unsafe` `getrusage`).

/// Peak resident set size (`VmHWM`) in bytes, or `None` when procfs cannot be read.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status_kib(&status, "VmHWM").map(|k| k * 1024)
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
    fn finds_the_key() {
        let status =
            "Name:\tselkies-rs\nVmPeak:\t  300000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40000 kB\n";
        assert_eq!(status_kib(status, "VmHWM"), Some(51200));
        assert_eq!(status_kib(status, "VmRSS"), Some(40000));
        assert_eq!(status_kib(status, "VmSwap"), None);
        assert_eq!(status_kib("VmHWM:\tlots\n", "VmHWM"), None);
    }

    #[test]
    fn this_process_has_a_peak() {
        assert!(peak_rss_bytes().is_some_and(|b| b > 0));
    }
}
