//! Every encoder backend that can run on this machine, through the `Encoder` trait: a known
//! moving pattern goes in, FFmpeg decodes what came out, and the picture, the frame types and
//! the keyframes are checked. Hardware backends must report why they are unavailable.

mod common;

use anyhow::{ensure, Context, Result};
use common::{bitstream, decode_i420, probe_pict_types};
use selkies_rs::convert::I420;
use selkies_rs::encode::{
    self, Codec, EncodeError, Encoder, EncoderConfig, EncoderKind, EncoderSettings,
};

const W: u32 = 320;
const H: u32 = 240;
const FPS: u32 = 30;
const FRAMES: usize = 60;
/// Mean luma PSNR a healthy encode of this pattern at 1.5 Mbit/s clears easily (measured 38–60 dB
/// across backends); a shifted, garbled or wrong-colour picture lands far below it.
const MIN_MEAN_PSNR_DB: f64 = 32.0;
/// The worst single frame (the first, intra-coded at a CBR budget, is usually the lowest).
const MIN_FRAME_PSNR_DB: f64 = 25.0;

fn config(kbps: u32) -> EncoderConfig {
    EncoderConfig {
        width: W,
        height: H,
        fps: FPS,
        bitrate_kbps: kbps,
        threads: 1,
    }
}

/// A gradient that slides and a bright box that moves: every frame differs from the last.
fn pattern(t: usize) -> I420 {
    let mut p = I420::new(W, H);
    let (w, h) = (W as usize, H as usize);
    for y in 0..h {
        for x in 0..w {
            let mut v = 16 + ((x + 2 * t) % 200) as u8 + (y % 20) as u8;
            let bx = (t * 4) % (w - 60);
            if (bx..bx + 60).contains(&x) && (80..140).contains(&y) {
                v = 230;
            }
            p.y[y * w + x] = v;
        }
    }
    for y in 0..h / 2 {
        for x in 0..w / 2 {
            p.u[y * w / 2 + x] = (64 + (x + t) % 128) as u8;
            p.v[y * w / 2 + x] = (192 - (y % 128)) as u8;
        }
    }
    p
}

struct Run {
    units: Vec<Vec<u8>>,
    keyframes: Vec<usize>,
    inputs: Vec<I420>,
}

/// Encodes `FRAMES` pictures, forcing a keyframe at `force`; returns the access units in order.
fn run(encoder: &mut dyn Encoder, force: &[usize]) -> Result<Run> {
    let mut units = Vec::new();
    let mut keyframes = Vec::new();
    let mut inputs = Vec::new();
    for t in 0..FRAMES {
        let pic = pattern(t);
        let mut out = bytes::BytesMut::new();
        let encoded = encoder.encode(&pic, force.contains(&t), &mut out)?;
        let e = encoded.with_context(|| {
            format!(
                "{}: no output for frame {t} (a delaying encoder)",
                encoder.name()
            )
        })?;
        if e.keyframe {
            keyframes.push(t);
        }
        units.push(out.to_vec());
        inputs.push(pic);
    }
    Ok(Run {
        units,
        keyframes,
        inputs,
    })
}

/// Encodes, decodes with FFmpeg and checks picture, frame types and keyframes.
fn check_backend(kind: EncoderKind, settings: &EncoderSettings, codec: Codec) -> Result<String> {
    let mut encoder = encode::open_one(kind, settings, codec, config(1500))?;
    let name = encoder.name().to_owned();
    ensure!(
        encoder.codec() == codec && encoder.kind() == kind,
        "{name}: wrong codec or kind"
    );
    let run = run(encoder.as_mut(), &[30])?;
    ensure!(
        run.keyframes.first() == Some(&0),
        "{name}: the stream must start with a keyframe: {:?}",
        run.keyframes
    );
    ensure!(
        run.keyframes.contains(&30),
        "{name}: the forced keyframe at 30 is missing: {:?}",
        run.keyframes
    );
    ensure!(
        run.keyframes.len() <= 3,
        "{name}: keyframes only on request: {:?}",
        run.keyframes
    );
    let dir = tempdir()?;
    let path = bitstream::write(&dir, codec, W, H, FPS, &run.units)?;
    let decoded = decode_i420(&path, W, H)?;
    ensure!(
        decoded.len() == FRAMES,
        "{name}: FFmpeg decoded {} of {FRAMES} frames",
        decoded.len()
    );
    let luma = (W * H) as usize;
    let psnrs: Vec<f64> = decoded
        .iter()
        .zip(&run.inputs)
        .map(|(d, s)| bitstream::psnr(&d[..luma], &s.y))
        .collect();
    let mean = psnrs.iter().sum::<f64>() / psnrs.len() as f64;
    let min = psnrs.iter().copied().fold(f64::INFINITY, f64::min);
    ensure!(
        mean > MIN_MEAN_PSNR_DB && min > MIN_FRAME_PSNR_DB,
        "{name}: PSNR mean {mean:.1} dB, min {min:.1} dB"
    );
    let types = probe_pict_types(&path)?;
    ensure!(
        types.first() == Some(&'I'),
        "{name}: first picture is {:?}",
        types.first()
    );
    ensure!(
        !types.contains(&'B'),
        "{name}: B-frames in a low-latency stream"
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(format!("{name}: PSNR mean {mean:.1} dB, min {min:.1} dB"))
}

fn tempdir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "selkies-enc-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[test]
fn x264_h264() -> Result<()> {
    println!(
        "{}",
        check_backend(EncoderKind::X264, &EncoderSettings::default(), Codec::H264)?
    );
    Ok(())
}

#[test]
fn libvpx_vp8() -> Result<()> {
    println!(
        "{}",
        check_backend(
            EncoderKind::Software,
            &EncoderSettings::default(),
            Codec::Vp8
        )?
    );
    Ok(())
}

#[test]
fn libvpx_vp9() -> Result<()> {
    println!(
        "{}",
        check_backend(
            EncoderKind::Software,
            &EncoderSettings::default(),
            Codec::Vp9
        )?
    );
    Ok(())
}

#[test]
fn software_av1() -> Result<()> {
    println!(
        "{}",
        check_backend(
            EncoderKind::Software,
            &EncoderSettings::default(),
            Codec::Av1
        )?
    );
    Ok(())
}

#[test]
fn gstreamer_x264enc_and_vp8enc() -> Result<()> {
    for (element, codec) in [("x264enc", Codec::H264), ("vp8enc", Codec::Vp8)] {
        let settings = EncoderSettings {
            gstreamer: Some(element.into()),
            ..EncoderSettings::new(EncoderKind::Gstreamer)
        };
        println!(
            "{}",
            check_backend(EncoderKind::Gstreamer, &settings, codec)?
        );
    }
    Ok(())
}

#[test]
fn hardware_backends_say_why_they_are_unavailable() {
    // This machine has no GPU: NVENC must name the missing driver library, VA-API the missing
    // render node (or the driver that refused it).
    match encode::open_one(
        EncoderKind::Nvenc,
        &EncoderSettings::default(),
        Codec::H264,
        config(1000),
    ) {
        Err(EncodeError::Open {
            backend: "nvenc",
            reason,
        }) => {
            assert!(
                reason.contains("libcuda.so.1") || reason.contains("nvenc"),
                "{reason}"
            );
        }
        Err(e) => panic!("unexpected error: {e}"),
        Ok(e) => eprintln!("NVENC works here ({}); nothing to check", e.name()),
    }
    match encode::open_one(
        EncoderKind::Vaapi,
        &EncoderSettings::default(),
        Codec::H264,
        config(1000),
    ) {
        Err(EncodeError::Open {
            backend: "vaapi",
            reason,
        }) => {
            assert!(
                reason.contains("/dev/dri") || reason.contains("VA-API"),
                "{reason}"
            );
        }
        Err(e) => panic!("unexpected error: {e}"),
        Ok(e) => eprintln!("VA-API works here ({}); nothing to check", e.name()),
    }
}

#[test]
fn a_broken_choice_falls_back_with_its_reason() -> Result<()> {
    // A GStreamer pipeline that does not parse, asked for explicitly: the stream still gets an
    // encoder (the automatic order), never a crash.
    let settings = EncoderSettings {
        gstreamer: Some("videoconvert ! !".into()),
        ..EncoderSettings::new(EncoderKind::Gstreamer)
    };
    let err = encode::open_one(EncoderKind::Gstreamer, &settings, Codec::H264, config(1000))
        .err()
        .context("a broken pipeline must not open")?;
    ensure!(
        err.to_string().contains("syntax error"),
        "unclear reason: {err}"
    );
    let encoder = encode::open(&settings, Codec::H264, config(1000))?;
    ensure!(
        encoder.kind() == EncoderKind::X264,
        "fell back to {}",
        encoder.name()
    );
    // x264 cannot make VP8: asked for anyway, the chain moves on to one that can.
    let encoder = encode::open(
        &EncoderSettings::new(EncoderKind::X264),
        Codec::Vp8,
        config(1000),
    )?;
    ensure!(encoder.codec() == Codec::Vp8, "got {}", encoder.name());
    Ok(())
}

/// Bytes produced for frames 10..40 of noisy content at `kbps`, retuning from 3000 kbps at
/// frame 10 when `retune` is set.
fn bytes_after_retune(kind: EncoderKind, codec: Codec, kbps: u32) -> Result<(usize, Vec<usize>)> {
    let mut encoder = encode::open_one(kind, &EncoderSettings::default(), codec, config(3000))?;
    let mut total = 0;
    let mut keyframes = Vec::new();
    let mut seed = 1u32;
    for t in 0..40 {
        if t == 10 {
            encoder.reconfigure(kbps, FPS)?;
        }
        let mut pic = pattern(t);
        for v in pic.y.iter_mut() {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            *v = v.wrapping_add((seed >> 27) as u8);
        }
        let mut out = bytes::BytesMut::new();
        if let Some(e) = encoder.encode(&pic, false, &mut out)? {
            if e.keyframe {
                keyframes.push(t);
            }
        }
        if t >= 12 {
            total += out.len();
        }
    }
    Ok((total, keyframes))
}

#[test]
fn bitrate_changes_take_effect_at_once() -> Result<()> {
    for (kind, codec) in [
        (EncoderKind::X264, Codec::H264),
        (EncoderKind::Software, Codec::Vp8),
        (EncoderKind::Software, Codec::Vp9),
    ] {
        let (high, _) = bytes_after_retune(kind, codec, 3000)?;
        let (low, keys) = bytes_after_retune(kind, codec, 300)?;
        println!("{kind} {codec}: {high} bytes at 3000 kbps, {low} after retuning to 300 (keyframes {keys:?})");
        ensure!(
            high > low * 3,
            "{kind} {codec}: {high} vs {low} bytes: the retune did not bite"
        );
    }
    Ok(())
}
