//! How many bits a frame will take at a QP: `bits = coeff * macroblocks / scale(qp)`, with one
//! coefficient per kind of frame learnt from the frames just encoded. Up to QP 51, `scale` is
//! H.264's rule that six QP steps double the quantiser and so roughly halve the bits. Above
//! it x264 zeroes coefficients with a dead zone that grows with the QP ("emergency" noise
//! reduction), and bits fall far faster.

/// Weight of the newest frame in the running coefficient when it cost more than predicted:
/// content changes fast on a desktop, and an underestimate is paid for in latency.
const LEARN_UP: f64 = 0.6;
/// …and when it cost less: trusted less, because a cheap frame (content whose detail fell
/// below the quantiser) says little about the next one at a finer QP.
const LEARN_DOWN: f64 = 0.5;

/// Frames analysing fewer macroblocks than this say more about slice headers than about the
/// content, so they do not move the coefficient.
const MIN_MACROBLOCKS: u32 = 8;

/// Bits a frame costs whatever its content (slice headers, skip runs), not counted against
/// the macroblocks it codes.
pub(super) const OVERHEAD_BITS: f64 = 256.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Predictor {
    coeff: f64,
    learnt: bool,
}

/// The last QP H.264 itself can signal.
const SPEC_MAX: f64 = 51.0;

/// log2 of the bit ratio per QP step above [`SPEC_MAX`]: 1080p zone-plate motion took about
/// 20 times fewer bits at QP 59 than at 51 (`bench --mode pipeline`, x264 build 164).
const EMERGENCY_SLOPE: f64 = 0.54;

fn log2_scale(qp: f64) -> f64 {
    if qp <= SPEC_MAX {
        qp / 6.0
    } else {
        SPEC_MAX / 6.0 + (qp - SPEC_MAX) * EMERGENCY_SLOPE
    }
}

fn qp_of_log2_scale(e: f64) -> f64 {
    if e <= SPEC_MAX / 6.0 {
        e * 6.0
    } else {
        SPEC_MAX + (e - SPEC_MAX / 6.0) / EMERGENCY_SLOPE
    }
}

fn scale(qp: f64) -> f64 {
    log2_scale(qp).exp2()
}

impl Predictor {
    /// `coeff`: the guess until a frame of this kind was encoded.
    pub(super) const fn new(coeff: f64) -> Self {
        Predictor {
            coeff,
            learnt: false,
        }
    }

    pub(super) fn bits(&self, macroblocks: u32, qp: u8) -> f64 {
        self.coeff * f64::from(macroblocks) / scale(f64::from(qp))
    }

    /// The (fractional) QP at which `macroblocks` take `bits`.
    pub(super) fn qp_for(&self, bits: f64, macroblocks: u32) -> f64 {
        if macroblocks == 0 {
            return f64::NEG_INFINITY;
        }
        qp_of_log2_scale((self.coeff * f64::from(macroblocks) / bits.max(1.0)).log2())
    }

    pub(super) fn learn(&mut self, bits: f64, qp: u8, macroblocks: u32) {
        if macroblocks < MIN_MACROBLOCKS {
            return;
        }
        let seen = bits.max(1.0) * scale(f64::from(qp)) / f64::from(macroblocks);
        self.coeff = if self.learnt {
            let learn = if seen > self.coeff {
                LEARN_UP
            } else {
                LEARN_DOWN
            };
            self.coeff * (1.0 - learn) + seen * learn
        } else {
            seen
        };
        self.learnt = true;
    }

    #[cfg(test)]
    pub(super) fn learnt(&self) -> bool {
        self.learnt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_qp_steps_halve_the_bits() {
        let p = Predictor::new(1000.0);
        let at_30 = p.bits(100, 30);
        assert!((at_30 / p.bits(100, 36) - 2.0).abs() < 1e-9);
        assert!((p.bits(200, 30) / at_30 - 2.0).abs() < 1e-9);
        assert!((p.qp_for(at_30, 100) - 30.0).abs() < 1e-9);
    }

    #[test]
    fn past_qp_51_bits_fall_steeply() {
        let p = Predictor::new(1000.0);
        let ratio = p.bits(100, 51) / p.bits(100, 59);
        assert!((15.0..25.0).contains(&ratio), "{ratio}");
        for qp in [20, 51, 52, 59] {
            let bits = p.bits(100, qp);
            assert!((p.qp_for(bits, 100) - f64::from(qp)).abs() < 1e-9, "{qp}");
        }
    }

    #[test]
    fn the_first_frame_replaces_the_guess_and_later_ones_blend() {
        let mut p = Predictor::new(1000.0);
        let truth = Predictor::new(4000.0);
        p.learn(truth.bits(500, 28), 28, 500);
        assert!(p.learnt());
        assert!((p.bits(500, 28) - truth.bits(500, 28)).abs() < 1e-6);
        // Cheaper than predicted: half the way.
        p.learn(Predictor::new(2000.0).bits(500, 28), 28, 500);
        assert!((p.bits(1, 0) - 3000.0).abs() < 1e-6);
        // Dearer: trusted faster.
        p.learn(Predictor::new(8000.0).bits(500, 28), 28, 500);
        assert!((p.bits(1, 0) - 6000.0).abs() < 1e-6);
    }

    #[test]
    fn tiny_frames_teach_nothing() {
        let mut p = Predictor::new(1000.0);
        p.learn(50_000.0, 20, MIN_MACROBLOCKS - 1);
        assert!(!p.learnt());
        assert_eq!(p.bits(1, 0), 1000.0);
    }
}
