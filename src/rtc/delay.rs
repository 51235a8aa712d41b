//! A fixed hold on every frame before it is packetized: `SELKIES_INJECT_DELAY_MS`, which
//! `bench --mode glass` uses to check that its glass-to-glass figure moves by a known amount.
//!
//! Frames are taken off the broadcast as they come (it holds only a few, and a held-up reader
//! would lag and drop to the next IDR) and released when due, so the stream keeps its rate and
//! only its latency grows.

use crate::pipeline::EncodedFrame;
use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;

/// Upper bound of `SELKIES_INJECT_DELAY_MS`.
pub const MAX_DELAY_MS: u64 = 10_000;

/// Frames held at most: 10 s at 240 fps. Past it the oldest goes out early rather than the
/// process growing without bound.
const MAX_HELD: usize = 2400;

/// The frames waiting to be sent and how long each waits.
pub struct DelayLine {
    delay: Duration,
    held: VecDeque<(Instant, EncodedFrame)>,
    /// The broadcast has closed: what is held still goes out, then `Closed`.
    closed: bool,
}

impl DelayLine {
    pub fn new(delay: Duration) -> Self {
        Self {
            delay,
            held: VecDeque::new(),
            closed: false,
        }
    }

    /// The next frame to send: straight from `frames` without a delay, else the oldest held
    /// one once it is due.
    ///
    /// # Errors
    /// What the broadcast says: lagged (frames lost, the caller wants an IDR) or closed.
    pub async fn next(
        &mut self,
        frames: &mut broadcast::Receiver<EncodedFrame>,
    ) -> Result<EncodedFrame, RecvError> {
        if self.delay.is_zero() {
            return frames.recv().await;
        }
        loop {
            let due = self.held.front().map(|(at, _)| *at);
            if self.closed {
                sleep_until(due).await;
                return self
                    .held
                    .pop_front()
                    .map(|(_, f)| f)
                    .ok_or(RecvError::Closed);
            }
            tokio::select! {
                received = frames.recv() => {
                    let frame = match received {
                        Err(RecvError::Closed) => {
                            self.closed = true;
                            continue;
                        }
                        other => other?,
                    };
                    let at = Instant::from_std(frame.captured_at) + self.delay;
                    self.held.push_back((at, frame));
                    if self.held.len() > MAX_HELD {
                        if let Some((_, f)) = self.held.pop_front() {
                            return Ok(f);
                        }
                    }
                }
                () = sleep_until(due), if due.is_some() => {
                    if let Some((_, f)) = self.held.pop_front() {
                        return Ok(f);
                    }
                }
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::Codec;
    use bytes::Bytes;

    fn frame(seq: u64) -> EncodedFrame {
        let now = std::time::Instant::now();
        EncodedFrame {
            data: Bytes::from_static(b"x"),
            codec: Codec::H264,
            keyframe: seq == 0,
            seq,
            width: 2,
            height: 2,
            captured_at: now,
            grabbed_at: now,
            converted_at: now,
            encoded_at: now,
            duration: Duration::from_millis(16),
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn holds_each_frame_for_the_delay_and_keeps_order() {
        let (tx, mut rx) = broadcast::channel(4);
        let mut line = DelayLine::new(Duration::from_millis(60));
        // More frames than the broadcast holds: the line must drain it while they wait.
        let sender = tokio::spawn(async move {
            for seq in 0..8 {
                let _ = tx.send(frame(seq));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        for seq in 0..8 {
            let f = line.next(&mut rx).await.expect("no frame lost");
            assert_eq!(f.seq, seq);
            assert!(f.captured_at.elapsed() >= Duration::from_millis(60));
        }
        sender.await.expect("sender");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn no_delay_passes_straight_through() {
        let (tx, mut rx) = broadcast::channel(4);
        let mut line = DelayLine::new(Duration::ZERO);
        tx.send(frame(7)).expect("a receiver");
        let f = line.next(&mut rx).await.expect("frame");
        assert_eq!(f.seq, 7);
        drop(tx);
        assert!(matches!(line.next(&mut rx).await, Err(RecvError::Closed)));
    }
}
