//! The bit budget: how many bits the next frame may take so the stream holds its bitrate and
//! never queues more than a buffer's worth of bits ahead of the link.
//!
//! A leaky bucket drained at the bitrate once per frame: `backlog` is what a link running at
//! exactly the bitrate would still have to send when the next frame is ready. Frames that
//! undershoot bank a little credit (a negative backlog, at most [`CREDIT`] of a frame): without
//! it every frame over its share lowers the next targets and none under it raises them, and
//! the stream settles well below the bitrate asked for.

/// Share of the backlog the next inter frame pays back. Half keeps the controller from
/// oscillating and clears a one-frame overshoot within three or four frames.
const PAYBACK: f64 = 0.5;

/// Most credit banked, in frames: what the frames after a run of cheap ones may spend beyond
/// their share, so a link running at exactly the bitrate queues at most this much.
const CREDIT: f64 = 0.5;

/// No frame is asked to fit in less than this share of a frame's bits: below it the QP
/// saturates anyway, and the picture would only get worse while the backlog drains.
const FLOOR: f64 = 0.25;

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Budget {
    frame_bits: f64,
    buffer_bits: f64,
    backlog: f64,
    buffer_frames: f64,
}

impl Budget {
    pub(super) fn new(bitrate_kbps: u32, fps: u32, buffer_frames: f64) -> Self {
        let mut budget = Budget {
            frame_bits: 0.0,
            buffer_bits: 0.0,
            backlog: 0.0,
            buffer_frames,
        };
        budget.set_rate(bitrate_kbps, fps);
        budget
    }

    /// A new bitrate or frame rate applies from the next frame; the backlog is kept (those
    /// bits are still queued).
    pub(super) fn set_rate(&mut self, bitrate_kbps: u32, fps: u32) {
        self.frame_bits = f64::from(bitrate_kbps.max(1)) * 1000.0 / f64::from(fps.max(1));
        self.buffer_bits = self.frame_bits * self.buffer_frames;
    }

    #[cfg(test)]
    pub(super) fn frame_bits(&self) -> f64 {
        self.frame_bits
    }

    /// The most the next frame may take without the backlog exceeding the buffer once the
    /// link has sent a frame's worth.
    pub(super) fn room(&self) -> f64 {
        (self.buffer_bits + self.frame_bits - self.backlog).max(self.frame_bits * FLOOR)
    }

    /// What the next inter frame should aim at: a frame's worth, less part of the backlog.
    pub(super) fn inter_target(&self) -> f64 {
        (self.frame_bits - PAYBACK * self.backlog)
            .max(self.frame_bits * FLOOR)
            .min(self.room())
    }

    /// A keyframe may fill the whole room: it is rare, and a blurred one stays on screen.
    pub(super) fn intra_target(&self) -> f64 {
        self.room()
    }

    pub(super) fn spend(&mut self, bits: f64) {
        self.backlog = (self.backlog + bits - self.frame_bits).max(-CREDIT * self.frame_bits);
    }

    #[cfg(test)]
    pub(super) fn backlog(&self) -> f64 {
        self.backlog
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_on_budget_leaves_no_backlog() {
        // 6000 kbit/s at 60 fps: 100 kbit a frame, 150 kbit of buffer.
        let mut b = Budget::new(6000, 60, 1.5);
        assert_eq!(b.frame_bits(), 100_000.0);
        assert_eq!(b.inter_target(), 100_000.0);
        assert_eq!(b.intra_target(), 250_000.0);
        b.spend(100_000.0);
        assert_eq!(b.backlog(), 0.0);
        // Undershooting banks half a frame at most.
        b.spend(10_000.0);
        assert_eq!(b.backlog(), -50_000.0);
        assert_eq!(b.inter_target(), 125_000.0);
    }

    #[test]
    fn an_overshoot_is_paid_back_over_the_next_frames() {
        let mut b = Budget::new(6000, 60, 1.5);
        b.spend(300_000.0);
        assert_eq!(b.backlog(), 200_000.0);
        // Half a frame of room is left, and the target is the floor.
        assert_eq!(b.room(), 50_000.0);
        assert_eq!(b.inter_target(), 25_000.0);
        b.spend(25_000.0);
        assert_eq!(b.backlog(), 125_000.0);
        assert_eq!(b.inter_target(), 37_500.0);
    }

    #[test]
    fn a_new_rate_keeps_what_is_queued() {
        let mut b = Budget::new(6000, 60, 1.5);
        b.spend(150_000.0);
        b.set_rate(3000, 30);
        assert_eq!(b.frame_bits(), 100_000.0);
        assert_eq!(b.backlog(), 50_000.0);
        b.set_rate(12_000, 60);
        assert_eq!(b.inter_target(), 175_000.0);
    }
}
