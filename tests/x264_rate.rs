//! Our rate control over constant-QP x264 (`--rate-control selkies`, the default), on real x264
//! with FFmpeg decoding what came out: it holds the bitrate asked for, keeps keyframes near
//! their room, follows a retune, and spends its bits at least as well as x264's own CBR.

mod common;

use anyhow::{ensure, Context, Result};
use bytes::BytesMut;
use common::{bitstream, ffmpeg};
use selkies_rs::convert::I420;
use selkies_rs::encode::{
    self, Codec, EncoderConfig, EncoderKind, EncoderSettings, RateControlChoice,
};

const W: u32 = 640;
const H: u32 = 360;
const FPS: u32 = 30;

/// A texture sliding three pixels a frame with fresh low-level grain on top: motion search
/// finds the texture, but the grain costs bits at any QP, so the rate control has work to do.
fn picture(t: usize) -> I420 {
    let mut p = I420::new(W, H);
    let (w, h) = (W as usize, H as usize);
    let hash = |x: usize, y: usize, s: usize| {
        let mut v = (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
            ^ (s as u64).wrapping_mul(0x1656_67B1_9E37_79F9);
        v ^= v >> 29;
        v = v.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        (v >> 56) as u8
    };
    for y in 0..h {
        for x in 0..w {
            let texture = hash((x + 3 * t) / 4, y / 4, 0) / 2 + 40;
            let grain = hash(x, y, t + 1) / 32;
            p.y[y * w + x] = texture + grain;
        }
    }
    for y in 0..h / 2 {
        for x in 0..w / 2 {
            p.u[y * w / 2 + x] = 96 + hash((2 * x + 3 * t) / 8, y / 2, 7) / 4;
            p.v[y * w / 2 + x] = 128;
        }
    }
    p
}

struct Encoded {
    units: Vec<Vec<u8>>,
    keyframes: Vec<usize>,
}

/// Encodes `frames` pictures at `kbps`, forcing keyframes at `force`, retuning to
/// `retune.1` kbps before frame `retune.0`.
fn encode(
    rate_control: RateControlChoice,
    kbps: u32,
    frames: usize,
    force: &[usize],
    retune: Option<(usize, u32)>,
) -> Result<Encoded> {
    let settings = EncoderSettings {
        rate_control,
        ..EncoderSettings::new(EncoderKind::X264)
    };
    let config = EncoderConfig {
        width: W,
        height: H,
        fps: FPS,
        bitrate_kbps: kbps,
        threads: 1,
    };
    let mut encoder = encode::open_one(EncoderKind::X264, &settings, Codec::H264, config)?;
    let mut units = Vec::with_capacity(frames);
    let mut keyframes = Vec::new();
    for t in 0..frames {
        if let Some((_, kbps)) = retune.filter(|r| r.0 == t) {
            encoder.reconfigure(kbps, FPS)?;
        }
        let mut out = BytesMut::new();
        let e = encoder
            .encode(&picture(t), force.contains(&t), &mut out)?
            .with_context(|| format!("no output for frame {t}"))?;
        if e.keyframe {
            keyframes.push(t);
        }
        units.push(out.to_vec());
    }
    Ok(Encoded { units, keyframes })
}

fn kbps_of(units: &[Vec<u8>]) -> f64 {
    let bytes: usize = units.iter().map(Vec::len).sum();
    bytes as f64 * 8.0 * f64::from(FPS) / units.len() as f64 / 1000.0
}

fn frame_bits(kbps: u32) -> f64 {
    f64::from(kbps) * 1000.0 / f64::from(FPS)
}

#[test]
fn holds_the_bitrate_asked_for() -> Result<()> {
    for kbps in [500, 1500] {
        let run = encode(RateControlChoice::Selkies, kbps, 150, &[], None)?;
        let steady = &run.units[30..];
        let got = kbps_of(steady);
        println!("asked {kbps} kbps, got {got:.0}");
        ensure!(
            (got / f64::from(kbps) - 1.0).abs() < 0.15,
            "asked {kbps} kbps, produced {got:.0}"
        );
        // x264's VBV re-quantises the rest of a frame that runs over; ours picks one QP per
        // frame, and this grain costs several times more a QP or two finer, so a frame can
        // overshoot. The step limits keep it to a few frames' share.
        let largest = steady.iter().map(Vec::len).max().unwrap_or(0) as f64 * 8.0;
        println!(
            "largest frame {:.1} frames' share",
            largest / frame_bits(kbps)
        );
        ensure!(
            largest < 4.0 * frame_bits(kbps),
            "a {largest:.0}-bit frame at {kbps} kbps"
        );
    }
    Ok(())
}

#[test]
fn keyframes_stay_near_their_room_and_decode() -> Result<()> {
    let kbps = 1000;
    let run = encode(RateControlChoice::Selkies, kbps, 90, &[40, 70], None)?;
    ensure!(
        run.keyframes == [0, 40, 70],
        "keyframes at {:?}",
        run.keyframes
    );
    // A keyframe may fill the buffer and the frame's own share (2.5 frames), and the model
    // misses by a little at most: a keyframe much larger is coded again, coarser.
    for &k in &run.keyframes[1..] {
        let bits = run.units[k].len() as f64 * 8.0;
        ensure!(
            bits < 1.5 * 2.5 * frame_bits(kbps),
            "keyframe {k}: {bits:.0} bits"
        );
    }
    let decoded = decode(&run.units)?;
    ensure!(
        decoded.len() == 90,
        "FFmpeg decoded {} of 90",
        decoded.len()
    );
    Ok(())
}

#[test]
fn a_retune_is_followed_within_a_second() -> Result<()> {
    let run = encode(RateControlChoice::Selkies, 2000, 150, &[], Some((60, 500)))?;
    let before = kbps_of(&run.units[20..60]);
    let after = kbps_of(&run.units[90..]);
    println!("{before:.0} kbps before, {after:.0} after retuning 2000 -> 500");
    ensure!(
        (after / 500.0 - 1.0).abs() < 0.15,
        "{after:.0} kbps after retuning to 500"
    );
    ensure!(before > 3.0 * after, "{before:.0} then {after:.0} kbps");
    Ok(())
}

/// The I420 pictures FFmpeg decodes from `units`.
fn decode(units: &[Vec<u8>]) -> Result<Vec<Vec<u8>>> {
    let file = ffmpeg::TempFile::new("h264", &units.concat())?;
    ffmpeg::decode_i420(&file.0, W, H)
}

/// Mean luma PSNR of `units` against the pictures they encode, decoded by FFmpeg.
fn mean_psnr(units: &[Vec<u8>]) -> Result<f64> {
    let decoded = decode(units)?;
    ensure!(decoded.len() == units.len(), "decoded {}", decoded.len());
    let luma = (W * H) as usize;
    let sum: f64 = decoded
        .iter()
        .enumerate()
        .map(|(t, d)| bitstream::psnr(&d[..luma], &picture(t).y))
        .sum();
    Ok(sum / units.len() as f64)
}

#[test]
fn spends_its_bits_at_least_as_well_as_x264s_cbr() -> Result<()> {
    // x264's CBR undershoots; ours is asked for what it really produced, so both spend the
    // same bits.
    let theirs = encode(RateControlChoice::X264, 1000, 120, &[], None)?;
    let theirs_kbps = kbps_of(&theirs.units);
    let ours = encode(
        RateControlChoice::Selkies,
        theirs_kbps as u32,
        120,
        &[],
        None,
    )?;
    let ours_kbps = kbps_of(&ours.units);
    let (ours_db, theirs_db) = (mean_psnr(&ours.units)?, mean_psnr(&theirs.units)?);
    println!(
        "ours {ours_kbps:.0} kbps {ours_db:.2} dB; x264 CBR {theirs_kbps:.0} kbps {theirs_db:.2} dB"
    );
    // No more bits than x264's CBR spends (5 % slack), for no worse a picture (0.3 dB).
    ensure!(
        ours_kbps < 1.05 * theirs_kbps,
        "{ours_kbps:.0} vs {theirs_kbps:.0} kbps"
    );
    ensure!(
        ours_db > theirs_db - 0.3,
        "{ours_db:.2} vs {theirs_db:.2} dB"
    );
    Ok(())
}
