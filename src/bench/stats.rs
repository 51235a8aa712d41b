//! Percentiles of per-frame timings: pure arithmetic, no clocks, so it is tested on fixed data.
//!
//! Percentiles interpolate linearly between the two nearest ranks (numpy's default, and what
//! the peer measurements in DESIGN.md section 7 used), so p50 of an even count is the midpoint.

/// The distribution of one per-frame quantity, in the samples' unit (milliseconds here).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// The `p`-th percentile (0–100) of `sorted` (ascending), linearly interpolated; `None` for no
/// samples or a `p` outside 0–100.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=100.0).contains(&p) {
        return None;
    }
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    // `rank` is within 0..=len-1, so both indices are in bounds.
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    let (a, b) = (sorted[lo], sorted[hi]);
    Some(a + (b - a) * (rank - lo as f64))
}

/// Sorts `samples` in place and summarises them; `None` when there are none. NaNs sort last
/// (`total_cmp`) rather than panicking; callers only pass differences of `Instant`s.
pub fn summarize(samples: &mut [f64]) -> Option<Summary> {
    samples.sort_by(f64::total_cmp);
    let count = samples.len();
    let max = *samples.last()?;
    let mean = samples.iter().sum::<f64>() / count as f64;
    Some(Summary {
        count,
        mean,
        p50: percentile(samples, 50.0)?,
        p95: percentile(samples, 95.0)?,
        p99: percentile(samples, 99.0)?,
        max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_has_no_summary() {
        assert_eq!(summarize(&mut []), None);
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn one_sample_is_every_percentile() {
        let s = summarize(&mut [4.0]).expect("one sample");
        assert_eq!(
            (s.p50, s.p95, s.p99, s.max, s.mean),
            (4.0, 4.0, 4.0, 4.0, 4.0)
        );
    }

    #[test]
    fn interpolates_between_ranks() {
        let sorted = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&sorted, 0.0), Some(1.0));
        assert_eq!(percentile(&sorted, 50.0), Some(2.5));
        assert_eq!(percentile(&sorted, 100.0), Some(4.0));
        let p = percentile(&sorted, 95.0).expect("in range");
        assert!((p - 3.85).abs() < 1e-9, "{p}");
    }

    #[test]
    fn one_to_a_hundred() {
        let mut v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let s = summarize(&mut v).expect("samples");
        assert_eq!(s.count, 100);
        assert!((s.p50 - 50.5).abs() < 1e-9);
        assert!((s.p95 - 95.05).abs() < 1e-9);
        assert!((s.p99 - 99.01).abs() < 1e-9);
        assert_eq!(s.max, 100.0);
        assert!((s.mean - 50.5).abs() < 1e-9);
        assert!(s.p50 <= s.p95 && s.p95 <= s.p99 && s.p99 <= s.max);
    }

    #[test]
    fn rejects_percentiles_out_of_range() {
        assert_eq!(percentile(&[1.0], -1.0), None);
        assert_eq!(percentile(&[1.0], 100.5), None);
        assert_eq!(percentile(&[1.0], f64::NAN), None);
    }

    #[test]
    fn nan_does_not_panic() {
        let s = summarize(&mut [2.0, f64::NAN, 1.0]).expect("samples");
        assert_eq!(s.p50, 2.0);
    }
}
