//! A latency histogram the media thread can record into without locking or allocating: one
//! atomic add to a bucket and one to the sum (the count is the buckets' total). `prometheus_client`'s own `Histogram` takes a lock per
//! observation, which the per-frame path must not.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, in seconds. Dense from 1 to 20 ms, where capture→encoded sits
/// on a 60 fps stream, then coarse up to a frame at 10 fps.
pub const LATENCY_BOUNDS: [f64; 14] = [
    0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.010, 0.012, 0.016, 0.020, 0.033, 0.050,
    0.100,
];

/// Counts per bucket (not cumulative), plus the overflow above the last bound.
#[derive(Debug, Default)]
pub struct LatencyHistogram {
    buckets: [AtomicU64; LATENCY_BOUNDS.len() + 1],
    sum_ns: AtomicU64,
}

/// A histogram as `prometheus_client` encodes it: `(upper bound, count in this bucket)`, the
/// last bound `+Inf`. The encoder makes the counts cumulative (`le`) itself.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    pub sum_seconds: f64,
    pub count: u64,
    pub buckets: Vec<(f64, u64)>,
}

impl LatencyHistogram {
    /// Records one latency.
    pub fn observe(&self, latency: Duration) {
        let seconds = latency.as_secs_f64();
        let i = LATENCY_BOUNDS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(LATENCY_BOUNDS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// The counts now; the count is the buckets' total, so the `+Inf` bucket always equals it.
    /// Read while frames are recorded, the sum may be a frame ahead of the buckets.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut total = 0;
        let mut buckets = Vec::with_capacity(LATENCY_BOUNDS.len() + 1);
        for (i, bucket) in self.buckets.iter().enumerate() {
            let n = bucket.load(Ordering::Relaxed);
            total += n;
            buckets.push((LATENCY_BOUNDS.get(i).copied().unwrap_or(f64::INFINITY), n));
        }
        HistogramSnapshot {
            sum_seconds: self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
            count: total,
            buckets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: f64) -> Duration {
        Duration::from_secs_f64(v / 1000.0)
    }

    #[test]
    fn each_latency_counts_once_in_the_first_bucket_that_holds_it() {
        let h = LatencyHistogram::default();
        for v in [0.5, 1.0, 2.5, 5.9, 7.0, 250.0] {
            h.observe(ms(v));
        }
        let s = h.snapshot();
        assert_eq!(s.count, 6);
        let at = |bound: f64| s.buckets.iter().find(|(b, _)| *b == bound).map(|(_, n)| *n);
        // A value equal to a bound counts in that bucket ("le").
        assert_eq!(at(0.001), Some(2));
        assert_eq!(at(0.002), Some(0));
        assert_eq!(at(0.003), Some(1));
        assert_eq!(at(0.006), Some(1));
        assert_eq!(at(0.008), Some(1));
        assert_eq!(at(0.100), Some(0));
        assert_eq!(s.buckets.last(), Some(&(f64::INFINITY, 1)));
        assert_eq!(s.buckets.iter().map(|(_, n)| n).sum::<u64>(), s.count);
        assert!((s.sum_seconds - 0.2669).abs() < 1e-6, "{}", s.sum_seconds);
        assert!(s.buckets.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn an_empty_histogram_has_every_bucket_at_zero() {
        let s = LatencyHistogram::default().snapshot();
        assert_eq!(s.count, 0);
        assert_eq!(s.buckets.len(), LATENCY_BOUNDS.len() + 1);
        assert!(s.buckets.iter().all(|(_, n)| *n == 0));
    }
}
