//! From what was painted and what the browser showed to glass-to-glass figures: pure arithmetic
//! on the two logs, so it is tested on fixed data.

use super::super::stamp::Painted;
use super::super::stats::{summarize, Summary};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One frame the browser showed (a `requestVideoFrameCallback` record from
/// `window.selkies.bench.glass.take()`); times in ms since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Shown {
    /// The stamp the frame carried, if one could be read.
    pub stamp: Option<u32>,
    /// When the browser expected the frame to be on screen.
    pub displayed: f64,
    /// When its last packet arrived (Chromium reports it for WebRTC video).
    #[serde(default)]
    pub received: Option<f64>,
    /// When the browser handed it to the compositor.
    #[serde(default)]
    pub presented: Option<f64>,
}

/// The window measured, ms since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub start: f64,
    pub end: f64,
}

impl Window {
    fn contains(self, t: f64) -> bool {
        (self.start..=self.end).contains(&t)
    }
}

/// What the two logs say about the window.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Stamps painted in the window.
    pub stamps: usize,
    /// Of those, how many the browser showed (at least one frame carried it).
    pub shown: usize,
    /// Painted and never shown: encoded over, dropped, or superseded before display.
    pub missed: usize,
    /// Paint → first displayed, per shown stamp, ms.
    pub latency: Option<Summary>,
    /// Paint → its frame's last packet received, ms (when the browser reports it).
    pub received: Option<Summary>,
    /// Paint → its frame handed to the compositor, ms.
    pub presented: Option<Summary>,
    /// Every latency sample (for plots).
    pub samples: Vec<f64>,
    /// Frames the browser showed in the window (stamped or not).
    pub frames: usize,
    /// Gaps between shown frames longer than three frame intervals: the picture froze.
    pub freezes: usize,
    /// The longest gap between two shown frames, ms.
    pub longest_gap_ms: f64,
}

/// Matches each stamp painted in `window` with the first frame that showed it.
pub fn analyse(painted: &[Painted], shown: &[Shown], window: Window, fps: u32) -> Analysis {
    let mut first: HashMap<u32, Shown> = HashMap::new();
    for s in shown {
        if let Some(stamp) = s.stamp {
            first
                .entry(stamp)
                .and_modify(|f| {
                    if s.displayed < f.displayed {
                        *f = *s;
                    }
                })
                .or_insert(*s);
        }
    }
    let in_window: Vec<&Painted> = painted
        .iter()
        .filter(|p| window.contains(p.at_ms))
        .collect();
    let mut samples = Vec::with_capacity(in_window.len());
    let (mut received, mut presented) = (Vec::new(), Vec::new());
    for p in &in_window {
        if let Some(s) = first.get(&p.counter) {
            samples.push(s.displayed - p.at_ms);
            received.extend(s.received.map(|r| r - p.at_ms));
            presented.extend(s.presented.map(|r| r - p.at_ms));
        }
    }
    let mut times: Vec<f64> = shown
        .iter()
        .map(|s| s.displayed)
        .filter(|&t| window.contains(t))
        .collect();
    times.sort_by(f64::total_cmp);
    let frame_ms = 1000.0 / f64::from(fps.max(1));
    let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let shown_count = samples.len();
    // Sorted in place: the plot draws them as a CDF, which sorts anyway.
    let latency = summarize(&mut samples);
    Analysis {
        stamps: in_window.len(),
        shown: shown_count,
        missed: in_window.len() - shown_count,
        latency,
        received: summarize(&mut received),
        presented: summarize(&mut presented),
        samples,
        frames: times.len(),
        freezes: gaps.iter().filter(|&&g| g > 3.0 * frame_ms).count(),
        longest_gap_ms: gaps.iter().copied().fold(0.0, f64::max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn painted(counter: u32, at_ms: f64) -> Painted {
        Painted { counter, at_ms }
    }

    fn shown(stamp: Option<u32>, displayed: f64) -> Shown {
        Shown {
            stamp,
            displayed,
            received: Some(displayed - 5.0),
            presented: None,
        }
    }

    #[test]
    fn latency_is_paint_to_first_display() {
        let p = [painted(1, 1000.0), painted(2, 1020.0), painted(3, 1040.0)];
        let s = [
            shown(None, 1005.0),
            shown(Some(1), 1015.0),
            shown(Some(1), 1031.0),
            shown(Some(2), 1035.0),
            shown(Some(3), 1060.0),
        ];
        let a = analyse(
            &p,
            &s,
            Window {
                start: 990.0,
                end: 1100.0,
            },
            60,
        );
        assert_eq!((a.stamps, a.shown, a.missed), (3, 3, 0));
        let l = a.latency.expect("samples");
        assert_eq!((l.p50, l.max), (15.0, 20.0));
        assert_eq!(a.received.expect("received").p50, 10.0);
        assert_eq!(a.frames, 5);
        assert_eq!(a.freezes, 0);
    }

    #[test]
    fn missed_stamps_and_freezes() {
        let p = [
            painted(1, 0.0),
            painted(2, 20.0),
            painted(3, 40.0),
            painted(4, 60.0),
        ];
        // Stamp 2 never shows; nothing is shown for 120 ms between 30 and 150.
        let s = [
            shown(Some(1), 10.0),
            shown(Some(1), 30.0),
            shown(Some(4), 150.0),
        ];
        let a = analyse(
            &p,
            &s,
            Window {
                start: 0.0,
                end: 200.0,
            },
            60,
        );
        assert_eq!((a.stamps, a.shown, a.missed), (4, 2, 2));
        assert_eq!(a.freezes, 1);
        assert_eq!(a.longest_gap_ms, 120.0);
    }

    #[test]
    fn only_the_window_counts() {
        let p = [painted(1, 0.0), painted(2, 500.0)];
        let s = [shown(Some(1), 9.0), shown(Some(2), 509.0)];
        let a = analyse(
            &p,
            &s,
            Window {
                start: 100.0,
                end: 1000.0,
            },
            60,
        );
        assert_eq!((a.stamps, a.shown, a.frames), (1, 1, 1));
    }

    #[test]
    fn nothing_shown_is_all_missed() {
        let p = [painted(1, 0.0)];
        let a = analyse(
            &p,
            &[],
            Window {
                start: 0.0,
                end: 10.0,
            },
            60,
        );
        assert_eq!((a.missed, a.latency, a.frames), (1, None, 0));
    }
}
