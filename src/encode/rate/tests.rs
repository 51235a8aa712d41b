//! The controller against a simulated encoder whose frames cost what the model says, times a
//! deterministic ±15 % jitter: does it hold the bitrate, bound the backlog, recover from a
//! sudden change, and keep damage-hinted frames from re-analysing the screen needlessly?

use super::*;

/// 1080p: 120x68 macroblocks.
const MBS: usize = 120 * 68;

struct Sim {
    rc: RateControl,
    /// The content's true bits per macroblock at QP 0, by frame kind.
    intra: f64,
    inter: f64,
    refine: f64,
    /// The QP each macroblock is really coded at (what the viewer sees).
    shown: Vec<u8>,
    last_qp: u8,
    frame: u64,
    /// Full analyses of the picture x264 would run for damage-hinted frames.
    reanalysed: u32,
}

impl Sim {
    fn new(kbps: u32) -> Self {
        Sim {
            rc: RateControl::new(kbps, 60, 1.5, MBS),
            intra: 9000.0,
            inter: 800.0,
            refine: 300.0,
            shown: vec![u8::MAX; MBS],
            last_qp: QP_MAX,
            frame: 0,
            reanalysed: 0,
        }
    }

    fn jitter(&mut self) -> f64 {
        self.frame += 1;
        // A fixed pseudo-random sequence in 0.85..1.15.
        let x = (self.frame.wrapping_mul(2_654_435_761) % 1000) as f64 / 1000.0;
        0.85 + 0.3 * x
    }

    /// Encodes one frame; returns (qp, bits).
    fn frame(&mut self, unchanged: Option<&[u8]>, keyframe: bool) -> (u8, f64) {
        let plan = self.rc.plan(unchanged, keyframe);
        self.encode(plan, unchanged, keyframe)
    }

    fn refresh(&mut self, wanted: u8) -> (u8, f64) {
        let plan = self.rc.plan_refresh(wanted);
        let flags = vec![1u8; MBS];
        self.encode(plan, Some(&flags), false)
    }

    fn encode(&mut self, plan: Plan, unchanged: Option<&[u8]>, keyframe: bool) -> (u8, f64) {
        let qp = plan.qp;
        // The model's own curve is the truth here; only the coefficients are unknown.
        let per_mb = |coeff: f64| Predictor::new(coeff).bits(1, qp);
        let jitter = self.jitter();
        let mut bits = 200.0;
        if keyframe || plan.kind == FrameKind::Intra {
            bits += per_mb(self.intra) * MBS as f64 * jitter;
            self.shown.fill(qp);
        } else {
            if unchanged.is_some() && qp < self.last_qp {
                self.reanalysed += 1;
            }
            for (i, shown) in self.shown.iter_mut().enumerate() {
                let changed =
                    unchanged.is_none_or(|f| f[i] == 0) && plan.kind != FrameKind::Refresh;
                if changed {
                    bits += per_mb(self.inter) * jitter;
                    *shown = qp;
                } else if *shown > qp {
                    bits += per_mb(self.refine) * jitter;
                    *shown = qp;
                }
            }
        }
        let bytes = (bits / 8.0).ceil() as usize;
        self.rc.record(&plan, unchanged, bytes, keyframe);
        self.last_qp = qp;
        (qp, bytes as f64 * 8.0)
    }
}

fn frame_bits(kbps: u32) -> f64 {
    f64::from(kbps) * 1000.0 / 60.0
}

#[test]
fn full_screen_motion_holds_the_bitrate_and_the_buffer() {
    let mut sim = Sim::new(8000);
    let mut sent = Vec::new();
    for i in 0..400 {
        let (qp, bits) = sim.frame(None, i == 0);
        sent.push((qp, bits));
    }
    let steady = &sent[40..];
    let mean = steady.iter().map(|(_, b)| b).sum::<f64>() / steady.len() as f64;
    let target = frame_bits(8000);
    assert!(
        (mean / target - 1.0).abs() < 0.1,
        "mean {mean:.0} bits a frame for {target:.0}"
    );
    // No frame in steady state queues more than the buffer (1.5 frames) behind it.
    let worst = steady.iter().map(|(_, b)| *b).fold(0.0, f64::max);
    assert!(worst < 2.5 * target, "largest frame {worst:.0}");
    let qps: Vec<u8> = steady.iter().map(|(q, _)| *q).collect();
    let (lo, hi) = (qps.iter().min(), qps.iter().max());
    assert!(
        hi.zip(lo).is_some_and(|(h, l)| h - l <= 3),
        "QP wanders {lo:?}..{hi:?}"
    );
}

#[test]
fn a_sudden_harder_picture_is_paid_back_within_a_few_frames() {
    let mut sim = Sim::new(8000);
    for i in 0..60 {
        sim.frame(None, i == 0);
    }
    let before = sim.rc.budget.backlog();
    assert!(before < frame_bits(8000));
    // The content becomes four times as costly to code.
    sim.inter *= 4.0;
    let (_, first) = sim.frame(None, false);
    // The model could not know: the first frame overshoots…
    assert!(first > 3.0 * frame_bits(8000), "first {first:.0}");
    // …and the backlog it leaves is gone within ten frames (a sixth of a second).
    for _ in 0..10 {
        sim.frame(None, false);
    }
    assert!(
        sim.rc.budget.backlog() <= frame_bits(8000),
        "backlog {:.0}",
        sim.rc.budget.backlog()
    );
}

#[test]
fn keyframes_fill_the_room_once_the_model_has_seen_one() {
    let mut sim = Sim::new(8000);
    sim.frame(None, true);
    for _ in 0..30 {
        sim.frame(None, false);
    }
    let room = sim.rc.budget.room();
    let (_, bits) = sim.frame(None, true);
    assert!(
        bits < 1.3 * room && bits > 0.5 * room,
        "keyframe {bits:.0} bits for {room:.0} of room"
    );
}

/// Typing: a few macroblocks change a frame.
fn typing_flags(frame: usize) -> Vec<u8> {
    let mut flags = vec![1u8; MBS];
    flags[(frame * 3) % MBS] = 0;
    flags[(frame * 3 + 1) % MBS] = 0;
    flags
}

#[test]
fn small_changes_refine_the_screen_once_then_keep_skipping() {
    let mut sim = Sim::new(8000);
    let (first_qp, _) = sim.frame(None, true);
    let mut qps = Vec::new();
    for i in 0..120 {
        let flags = typing_flags(i);
        qps.push(sim.frame(Some(&flags), false).0);
    }
    let last = *qps.last().unwrap_or(&QP_MAX);
    // The keyframe's coarse QP is refined, in few steps, to a fine one…
    assert!(
        last + 10 <= first_qp,
        "keyframe QP {first_qp}, now {last}: {qps:?}"
    );
    assert!(last <= 24, "typing stays at QP {last}: {qps:?}");
    // …without analysing the whole screen again frame after frame.
    assert!(
        sim.reanalysed <= 4,
        "{} full analyses: {qps:?}",
        sim.reanalysed
    );
    // Never finer than a refresh at QP_MIN would give.
    assert!(qps.iter().all(|&q| q >= QP_MIN));
}

#[test]
fn a_refresh_refines_within_the_room_and_converges() {
    let mut sim = Sim::new(8000);
    sim.frame(None, true);
    for _ in 0..60 {
        sim.frame(None, false);
    }
    let mut qps = Vec::new();
    for _ in 0..5 {
        let room = sim.rc.budget.room();
        let (qp, bits) = sim.refresh(18);
        assert!(bits <= 1.3 * room, "refresh {bits:.0} bits for {room:.0}");
        qps.push(qp);
    }
    assert!(qps.windows(2).all(|w| w[1] <= w[0]), "{qps:?}");
    // The paint-over QP, or the finest this rate control uses if that is coarser.
    let finest = 18.max(QP_MIN);
    assert_eq!(qps.last(), Some(&finest), "{qps:?}");
    // A refined picture is cheap to keep: nothing coarser is left.
    assert_eq!(sim.rc.plan_refresh(18).refined, 0);
}

#[test]
fn a_new_bitrate_is_followed() {
    let mut sim = Sim::new(4000);
    for i in 0..100 {
        sim.frame(None, i == 0);
    }
    sim.rc.set_rate(12_000, 60);
    let bits: f64 = (0..200).map(|_| sim.frame(None, false).1).skip(20).sum();
    let mean = bits / 180.0;
    assert!(
        (mean / frame_bits(12_000) - 1.0).abs() < 0.1,
        "mean {mean:.0} for {:.0}",
        frame_bits(12_000)
    );
}

#[test]
fn hinted_full_screen_motion_moves_freely() {
    // Damage covering the whole screen: there is nothing to keep skipping, so the QP follows
    // the budget down as well as up.
    let mut sim = Sim::new(8000);
    let all = vec![0u8; MBS];
    let mut sent = Vec::new();
    for i in 0..200 {
        sent.push(sim.frame(Some(&all), i == 0));
    }
    let mean = sent[40..].iter().map(|(_, b)| b).sum::<f64>() / 160.0;
    assert!(
        (mean / frame_bits(8000) - 1.0).abs() < 0.1,
        "mean {mean:.0}: {:?}",
        sent.iter().map(|(q, _)| q).collect::<Vec<_>>()
    );
}

#[test]
fn a_keyframe_far_over_its_room_is_coded_again_coarser() {
    // Content ten times as costly as the starting guess: the first keyframe's QP is too fine.
    let mut sim = Sim::new(8000);
    sim.intra = GUESS_INTRA * 10.0;
    let plan = sim.rc.plan(None, true);
    let bits = Predictor::new(sim.intra).bits(MBS as u32, plan.qp);
    let room = sim.rc.budget.room();
    assert!(bits > 2.0 * room, "the guess should have been far off");
    let again = sim
        .rc
        .retry(&plan, (bits / 8.0) as usize, true)
        .expect("a second try");
    assert!(again.qp > plan.qp);
    let bits_again = Predictor::new(sim.intra).bits(MBS as u32, again.qp);
    assert!(bits_again < 1.2 * room, "{bits_again:.0} for {room:.0}");
    // Nothing was spent on the dropped try; a keyframe near its room is kept.
    assert_eq!(sim.rc.budget.backlog(), 0.0);
    assert_eq!(
        sim.rc.retry(&again, (bits_again / 8.0) as usize, true),
        None
    );
    sim.rc
        .record(&again, None, (bits_again / 8.0) as usize, true);
    // Inter frames are never coded twice.
    let inter = sim.rc.plan(None, false);
    assert_eq!(sim.rc.retry(&inter, usize::MAX / 16, false), None);
}
