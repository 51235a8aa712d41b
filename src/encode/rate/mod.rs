//! Frame-level rate control for an encoder run at a constant QP chosen frame by frame (x264 in
//! constant-QP mode).
//!
//! Why not x264's own CBR: it analyses a half-resolution copy of every frame to estimate its
//! cost, about 2.5 ms of a 1080p frame on these machines (docs/decisions.md, "Our own rate
//! control"). Here each frame's QP comes from a model of the frames just encoded instead:
//! - bits per analysed macroblock at a QP ([`model`]), learnt separately for keyframes, inter
//!   frames and refinements of a still picture;
//! - a leaky bucket ([`budget`]) that keeps the bitrate and bounds how far the stream runs
//!   ahead of the link;
//! - for damage-hinted frames, the QP each macroblock was coded at ([`coded`]), because a QP
//!   below the previous frame's makes x264 analyse every unchanged macroblock again.
//!
//! What x264's VBV did and this cannot: re-quantise later rows of a frame that turns out larger
//! than predicted. A keyframe far over its room is encoded again at the QP its real size calls
//! for ([`RateControl::retry`]): nothing refers to a keyframe that was never sent. An inter
//! frame cannot be: the encoder's next frame refers to it. A sudden change the model has not
//! seen can overshoot for one frame; the bucket then lowers the next frames' targets until the
//! backlog is paid back.

mod budget;
mod coded;
mod model;
#[cfg(test)]
mod tests;

use budget::Budget;
use coded::CodedQp;
use model::{Predictor, OVERHEAD_BITS};

/// Finest and coarsest QP used: the span x264 is opened to code in constant-QP mode
/// (`selkies_x264::CQP_RANGE`; checked by a test in `encode::x264`). Finer than 19 costs bits
/// without a visible gain on desktop content. Past 51 is x264's own coarser quantisation.
pub const QP_MIN: u8 = 19;
pub const QP_MAX: u8 = 59;

/// A lower QP on a damage-hinted frame makes x264 re-analyse the whole picture, so it is only
/// taken when it improves the picture by at least this much (a halved quantiser step)…
const DOWN_STEP: u8 = 6;
/// …and at most once in this many frames.
const DOWN_COOLDOWN: u32 = 15;

/// How far one frame's QP may rise above the previous frame's while the room holds.
const UP_STEP: u8 = 4;

/// How far one frame's QP may go below the previous frame's when most of the picture changes.
/// Upward it may go further when the room is at risk: that protects latency. Downward a wrong
/// guess costs a burst, and the model is least sure where it would step far, so it steps a
/// little at a time: two QP in H.264's range, one in x264's coarser range above 51, where bits
/// change steeply and with the quality of the reference.
fn finest_after(prev: u8) -> u8 {
    let step = if prev > 51 { 1 } else { 2 };
    prev.saturating_sub(step)
}

/// A keyframe this many times over its room is encoded again ([`RateControl::retry`]).
const RETRY_OVER: f64 = 1.5;

/// Starting coefficients of the model (bits per macroblock at QP 0): rough guesses between
/// desktop and zone-plate content. The first frame of each kind replaces them, and a keyframe
/// far off is encoded again.
const GUESS_INTRA: f64 = 4000.0;
const GUESS_INTER: f64 = 1000.0;
const GUESS_REFINE: f64 = 1000.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// A keyframe: every macroblock coded afresh.
    Intra,
    /// The next picture, coding what changed.
    Inter,
    /// The same picture again at a finer QP ("paint-over").
    Refresh,
}

/// The QP chosen for one frame, and what the choice assumed, for [`RateControl::record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub qp: u8,
    pub kind: FrameKind,
    /// Macroblocks coded because they changed.
    changed: u32,
    /// Unchanged macroblocks refined because they were coded coarser than `qp`.
    refined: u32,
}

#[derive(Debug, Clone)]
pub struct RateControl {
    budget: Budget,
    intra: Predictor,
    inter: Predictor,
    refine: Predictor,
    coded: CodedQp,
    /// The previous frame's QP: x264 skips an unchanged macroblock only at this QP or above.
    last_qp: Option<u8>,
    frames_since_down: u32,
}

fn to_qp(qp: f64) -> u8 {
    // NaN (never expected) lands on the safe, coarse side.
    if qp.is_nan() {
        return QP_MAX;
    }
    qp.round().clamp(f64::from(QP_MIN), f64::from(QP_MAX)) as u8
}

fn count_changed(unchanged: &[u8]) -> u32 {
    let n = unchanged.iter().filter(|&&f| f == 0).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl RateControl {
    /// `buffer_frames`: how many frames' worth of bits may queue ahead of the link.
    pub fn new(bitrate_kbps: u32, fps: u32, buffer_frames: f64, macroblocks: usize) -> Self {
        RateControl {
            budget: Budget::new(bitrate_kbps, fps, buffer_frames),
            intra: Predictor::new(GUESS_INTRA),
            inter: Predictor::new(GUESS_INTER),
            refine: Predictor::new(GUESS_REFINE),
            coded: CodedQp::new(macroblocks),
            last_qp: None,
            frames_since_down: DOWN_COOLDOWN,
        }
    }

    pub fn set_rate(&mut self, bitrate_kbps: u32, fps: u32) {
        self.budget.set_rate(bitrate_kbps, fps);
    }

    fn macroblocks(&self) -> u32 {
        u32::try_from(self.coded.len()).unwrap_or(u32::MAX)
    }

    /// The QP of the next picture. `unchanged`: one flag per macroblock, non-zero where the
    /// picture is the same as the last one (what the encoder is told), or `None`.
    pub fn plan(&self, unchanged: Option<&[u8]>, keyframe: bool) -> Plan {
        let total = self.macroblocks();
        let prev = match self.last_qp {
            Some(prev) if !keyframe => prev,
            _ => {
                let target = self.budget.intra_target() - OVERHEAD_BITS;
                return Plan {
                    qp: to_qp(self.intra.qp_for(target, total)),
                    kind: FrameKind::Intra,
                    changed: total,
                    refined: 0,
                };
            }
        };
        let changed = unchanged.map_or(total, count_changed);
        let target = self.budget.inter_target() - OVERHEAD_BITS;
        let wanted = to_qp(self.inter.qp_for(target, changed));
        let plan = |qp, refined| Plan {
            qp,
            kind: FrameKind::Inter,
            changed,
            refined,
        };
        if wanted >= prev {
            // Step up a little unless even that would overflow the room: frame to frame the
            // model is extrapolated from one QP to another, and far from where it was learnt
            // it is wrong (content whose grain falls below the quantiser costs nothing).
            let room = self.budget.room() - OVERHEAD_BITS;
            let step = prev.saturating_add(UP_STEP).min(QP_MAX);
            let qp = if wanted <= step || self.inter.bits(changed, step) <= room {
                wanted.min(step)
            } else {
                to_qp(self.inter.qp_for(room, changed)).clamp(step, wanted)
            };
            return plan(qp, 0);
        }
        let Some(flags) = unchanged else {
            return plan(wanted.max(finest_after(prev)), 0);
        };
        // With most of the picture changed, x264 analyses nearly all of it anyway.
        let mostly_changed = changed.saturating_mul(4) >= total.saturating_mul(3);
        if !mostly_changed && (prev - wanted < DOWN_STEP || self.frames_since_down < DOWN_COOLDOWN)
        {
            return plan(prev, 0);
        }
        // Going finer refines every unchanged macroblock coded coarser: find the finest QP
        // whose whole cost fits, and take it only if it is worth a full analysis. Like a
        // keyframe, such a frame may use the whole room: it pays for the frames after it.
        let coarse = self.coded.histogram(Some(flags));
        let room = self.budget.room() - OVERHEAD_BITS;
        let fits = |qp: &u8| {
            self.inter.bits(changed, *qp) + self.refine.bits(coarse.coarser_than(*qp), *qp) <= room
        };
        match (wanted..prev).find(fits) {
            Some(qp) if mostly_changed => {
                let qp = qp.max(finest_after(prev));
                plan(qp, coarse.coarser_than(qp))
            }
            Some(qp) if prev - qp >= DOWN_STEP => plan(qp, coarse.coarser_than(qp)),
            _ => plan(prev, 0),
        }
    }

    /// The QP of a refresh of the unchanged picture: `wanted` or, if refining everything
    /// coded coarser than that would not fit the room left, the finest QP that does.
    pub fn plan_refresh(&self, wanted: u8) -> Plan {
        let coarse = self.coded.histogram(None);
        let room = self.budget.room() - OVERHEAD_BITS;
        let from = wanted.clamp(QP_MIN, QP_MAX);
        let qp = (from..=QP_MAX)
            .find(|&qp| self.refine.bits(coarse.coarser_than(qp), qp) <= room)
            .unwrap_or(QP_MAX);
        Plan {
            qp,
            kind: FrameKind::Refresh,
            changed: 0,
            refined: coarse.coarser_than(qp),
        }
    }

    /// After a keyframe came out at `bytes`: if that is far over its room, the QP to encode it
    /// again at (as a keyframe), with the model corrected by what was just seen. `None`: keep
    /// it. Call before [`RateControl::record`], which then takes the frame finally kept.
    pub fn retry(&mut self, plan: &Plan, bytes: usize, keyframe: bool) -> Option<Plan> {
        let bits = bytes as f64 * 8.0;
        let room = self.budget.intra_target();
        if !(keyframe || plan.kind == FrameKind::Intra) || bits <= RETRY_OVER * room {
            return None;
        }
        let total = self.macroblocks();
        // What this picture just showed replaces whatever the model held.
        self.intra = Predictor::new(GUESS_INTRA);
        self.intra
            .learn((bits - OVERHEAD_BITS).max(0.0), plan.qp, total);
        (plan.qp < QP_MAX).then(|| Plan {
            qp: to_qp(self.intra.qp_for(room - OVERHEAD_BITS, total)).max(plan.qp + 1),
            kind: FrameKind::Intra,
            changed: total,
            refined: 0,
        })
    }

    /// Accounts for a frame encoded as `plan` said: `bytes` long, a keyframe or not (the
    /// encoder has the last word), with the same `unchanged` flags `plan` was given.
    pub fn record(&mut self, plan: &Plan, unchanged: Option<&[u8]>, bytes: usize, keyframe: bool) {
        let bits = bytes as f64 * 8.0;
        self.budget.spend(bits);
        let coded_bits = (bits - OVERHEAD_BITS).max(0.0);
        let qp = plan.qp;
        if keyframe || plan.kind == FrameKind::Intra {
            self.intra.learn(coded_bits, qp, self.macroblocks());
            self.coded.coded(None, qp);
        } else if plan.kind == FrameKind::Refresh {
            self.refine.learn(coded_bits, qp, plan.refined);
            self.coded.refined(qp);
        } else {
            if plan.refined == 0 {
                self.inter.learn(coded_bits, qp, plan.changed);
            } else {
                let changes = self.inter.bits(plan.changed, qp);
                self.refine
                    .learn((coded_bits - changes).max(0.0), qp, plan.refined);
            }
            self.coded.coded(unchanged, qp);
        }
        let finer = self.last_qp.is_some_and(|prev| qp < prev);
        self.frames_since_down = if finer {
            0
        } else {
            self.frames_since_down.saturating_add(1)
        };
        self.last_qp = Some(qp);
    }
}
