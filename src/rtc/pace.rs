//! Packet pacing: a frame much larger than the average (a keyframe, a scene change) is sent in a
//! few groups spread over half a frame interval instead of in one burst, so a router queue or a
//! TURN relay sees a rate it can hold. Ordinary frames go out at once: pacing them would only add
//! latency.

use std::time::Duration;

/// A frame up to this many average frames goes out in one burst.
const BURST_FRAMES: usize = 2;
/// Groups never closer than this (the tokio timer's resolution).
const MIN_GAP: Duration = Duration::from_millis(1);

/// How one frame's packets go out: `group` packets at a time, `gap` apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub group: usize,
    pub gap: Duration,
}

impl Plan {
    /// Everything at once.
    pub const BURST: Plan = Plan {
        group: usize::MAX,
        gap: Duration::ZERO,
    };
}

/// The plan for a frame of `bytes` in `packets` packets at `kbps` and `fps`.
pub fn plan(bytes: usize, packets: usize, kbps: u32, fps: u32) -> Plan {
    let fps = fps.max(1);
    let average = (u64::from(kbps) * 1000 / 8 / u64::from(fps)).max(1) as usize;
    let burst = average.saturating_mul(BURST_FRAMES);
    if bytes <= burst || packets < 2 {
        return Plan::BURST;
    }
    let spread = Duration::from_secs(1) / (2 * fps);
    // One group per burst's worth of bytes, as many as fit in the spread at the timer's
    // resolution; the first group goes at once, the last at the end of the spread.
    let max_groups = (spread.as_micros() / MIN_GAP.as_micros()) as usize + 1;
    let groups = bytes
        .div_ceil(burst)
        .clamp(2, max_groups.max(2))
        .min(packets);
    let gap = spread / (groups as u32 - 1).max(1);
    Plan {
        group: packets.div_ceil(groups),
        gap: gap.max(MIN_GAP),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_frames_go_at_once() {
        // 8000 kbps at 60 fps: 16.7 KB a frame on average, 33 KB before pacing starts.
        assert_eq!(plan(16_000, 14, 8000, 60), Plan::BURST);
        assert_eq!(plan(33_000, 28, 8000, 60), Plan::BURST);
        assert_eq!(plan(1_000_000, 1, 8000, 60), Plan::BURST);
    }

    #[test]
    fn a_keyframe_is_spread_over_half_a_frame() {
        // 200 KB in 170 packets: 7 groups (capped by 8.3 ms at 1 ms steps would allow 9).
        let p = plan(200_000, 170, 8000, 60);
        let groups = 170usize.div_ceil(p.group);
        assert!((2..=9).contains(&groups), "{p:?}");
        let total = p.gap * (groups as u32 - 1);
        assert!(
            total <= Duration::from_micros(8_400),
            "{p:?} spans {total:?}"
        );
        assert!(p.gap >= MIN_GAP);
    }

    #[test]
    fn a_huge_frame_is_capped_by_the_timer() {
        // 2 MB at 1000 kbps: hundreds of bursts' worth, but at most 9 groups 1 ms apart.
        let p = plan(2_000_000, 1700, 1000, 60);
        assert!(
            p.gap >= MIN_GAP && p.gap < Duration::from_micros(1100),
            "{p:?}"
        );
        assert!(1700usize.div_ceil(p.group) <= 9, "{p:?}");
    }

    #[test]
    fn low_frame_rates_spread_wider() {
        let p = plan(100_000, 80, 1000, 10);
        let groups = 80usize.div_ceil(p.group) as u32;
        assert!(p.gap * (groups - 1) <= Duration::from_millis(50), "{p:?}");
        assert!(groups >= 2);
    }
}
