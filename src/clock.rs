//! The frame clock: when the next frame is due, and how many ticks were missed.
//!
//! Pure (takes `now`, never sleeps) so its rules are tested without time passing. When the
//! pipeline falls behind, the missed ticks are dropped, never queued: a late frame is worth less
//! than the next fresh one.

use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct FrameClock {
    interval: Duration,
    next: Instant,
}

/// What the clock says at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Not yet: wait this long.
    Wait(Duration),
    /// A frame is due now; `missed` earlier ticks were skipped because we were late.
    Due { missed: u32 },
}

impl FrameClock {
    pub fn new(fps: u32, now: Instant) -> Self {
        Self {
            interval: interval(fps),
            next: now,
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Changes the rate; the next frame stays due when it was.
    pub fn set_fps(&mut self, fps: u32) {
        self.interval = interval(fps);
    }

    /// A frame is taken now, ahead of its slot (the screen changed after a still spell): the
    /// next slot is one interval from now, so the rate stays capped.
    pub fn fire_now(&mut self, now: Instant) {
        self.next = now + self.interval;
    }

    /// Checks the clock at `now`; when a frame is due, the clock advances to the next slot.
    pub fn poll(&mut self, now: Instant) -> Tick {
        if now < self.next {
            return Tick::Wait(self.next - now);
        }
        let late = now - self.next;
        let missed = (late.as_nanos() / self.interval.as_nanos().max(1)) as u32;
        self.next += self.interval * (missed + 1);
        Tick::Due { missed }
    }
}

fn interval(fps: u32) -> Duration {
    Duration::from_nanos(1_000_000_000 / u64::from(fps.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_at_the_rate_and_drops_when_late() {
        let t0 = Instant::now();
        let mut c = FrameClock::new(50, t0);
        assert_eq!(c.poll(t0), Tick::Due { missed: 0 });
        assert_eq!(
            c.poll(t0 + Duration::from_millis(5)),
            Tick::Wait(Duration::from_millis(15))
        );
        assert_eq!(
            c.poll(t0 + Duration::from_millis(20)),
            Tick::Due { missed: 0 }
        );
        // 75 ms late for the slot at 40 ms: slots 40, 60, 80, 100 passed; 3 missed, next at 120.
        assert_eq!(
            c.poll(t0 + Duration::from_millis(115)),
            Tick::Due { missed: 3 }
        );
        assert_eq!(
            c.poll(t0 + Duration::from_millis(116)),
            Tick::Wait(Duration::from_millis(4))
        );
    }

    #[test]
    fn rate_change_applies_from_the_next_slot() {
        let t0 = Instant::now();
        let mut c = FrameClock::new(10, t0);
        assert_eq!(c.poll(t0), Tick::Due { missed: 0 });
        c.set_fps(100);
        assert_eq!(
            c.poll(t0 + Duration::from_millis(100)),
            Tick::Due { missed: 0 }
        );
        assert_eq!(
            c.poll(t0 + Duration::from_millis(101)),
            Tick::Wait(Duration::from_millis(9))
        );
        let mut z = FrameClock::new(0, t0);
        assert_eq!(z.interval(), Duration::from_secs(1));
        assert_eq!(z.poll(t0), Tick::Due { missed: 0 });
    }

    #[test]
    fn an_early_frame_moves_the_next_slot() {
        let t0 = Instant::now();
        let mut c = FrameClock::new(50, t0);
        assert_eq!(c.poll(t0), Tick::Due { missed: 0 });
        c.fire_now(t0 + Duration::from_millis(30));
        assert_eq!(
            c.poll(t0 + Duration::from_millis(40)),
            Tick::Wait(Duration::from_millis(10))
        );
        assert_eq!(
            c.poll(t0 + Duration::from_millis(50)),
            Tick::Due { missed: 0 }
        );
    }
}
