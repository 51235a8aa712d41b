//! Picture quality per encoder backend at a fixed bitrate: 120 frames of full-screen zone-plate
//! motion at 60 fps and 8000 kbps, at 1280x720 and 1920x1080, decoded back with the `ffmpeg`
//! command; prints mean and worst-frame luma PSNR and the bits per frame each backend spent.
//! Then x264 under each rate control (ours and x264's CBR) over a range of bitrates, with the
//! wall time of an encode call, to compare them at equal bits spent.
//!
//! `cargo bench --bench quality`. Not a criterion benchmark: it measures quality, not time.

use anyhow::Result;
use bytes::BytesMut;
use common::{backends, zone_plate_pictures};
use selkies_rs::convert::I420;
use selkies_rs::encode::{
    self, Codec, EncoderConfig, EncoderKind, EncoderSettings, RateControlChoice,
};

// The same writer, decoder and PSNR as the encoder tests; the bench uses part of them.
#[allow(dead_code)]
#[path = "../tests/common/bitstream.rs"]
mod bitstream;
mod common;
#[allow(dead_code)]
#[path = "../tests/common/ffmpeg.rs"]
mod ffmpeg;

const SIZES: [(u32, u32); 2] = [(1280, 720), (1920, 1080)];
const FRAMES: usize = 120;
const FPS: u32 = 60;
const KBPS: u32 = 8000;
/// Bitrates of the rate-control comparison: from x264's emergency quantisation (above QP 51)
/// at 8000 up to where the zone plate codes at ordinary QPs.
const SWEEP_KBPS: [u32; 5] = [6000, 8000, 20_000, 40_000, 80_000];

fn measure(
    settings: &EncoderSettings,
    codec: Codec,
    (w, h): (u32, u32),
    kbps: u32,
    pictures: &[I420],
) -> Result<String> {
    let config = EncoderConfig {
        width: w,
        height: h,
        fps: FPS,
        bitrate_kbps: kbps,
        threads: 0,
    };
    let mut encoder = encode::open_one(settings.kind, settings, codec, config)?;
    let mut units = Vec::with_capacity(FRAMES);
    let mut encoding = std::time::Duration::ZERO;
    for t in 0..FRAMES {
        let mut out = BytesMut::new();
        let start = std::time::Instant::now();
        encoder.encode(&pictures[t % pictures.len()], false, &mut out)?;
        encoding += start.elapsed();
        units.push(out.to_vec());
    }
    let dir = std::env::temp_dir().join(format!("selkies-quality-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = bitstream::write(&dir, codec, w, h, FPS, &units)?;
    let decoded = ffmpeg::decode_i420(&path, w, h)?;
    let _ = std::fs::remove_dir_all(&dir);
    let luma = (w * h) as usize;
    let psnr: Vec<f64> = decoded
        .iter()
        .enumerate()
        .map(|(t, d)| bitstream::psnr(&d[..luma], &pictures[t % pictures.len()].y))
        .collect();
    let mean = psnr.iter().sum::<f64>() / psnr.len().max(1) as f64;
    let worst = psnr.iter().copied().fold(f64::INFINITY, f64::min);
    let bits_per_frame = units.iter().map(Vec::len).sum::<usize>() as f64 * 8.0 / FRAMES as f64;
    Ok(format!(
        "| {} | {w}x{h} | {kbps} | {} of {FRAMES} | {mean:.2} | {worst:.2} | {:.0} k | {:.2} |",
        encoder.name(),
        decoded.len(),
        bits_per_frame / 1000.0,
        encoding.as_secs_f64() * 1000.0 / FRAMES as f64
    ))
}

fn header() {
    println!(
        "| encoder | size | kbps asked | frames decoded | PSNR-Y mean dB | worst frame dB | bits/frame | encode ms/frame |"
    );
    println!("|---|---|---|---|---|---|---|---|");
}

fn main() {
    header();
    for (w, h) in SIZES {
        let pictures = zone_plate_pictures(w, h);
        for (settings, codec) in backends() {
            match measure(&settings, codec, (w, h), KBPS, &pictures) {
                Ok(row) => println!("{row}"),
                Err(e) => eprintln!("skipped {} {codec} {w}x{h}: {e:#}", settings.kind),
            }
        }
    }
    println!();
    header();
    let (w, h) = SIZES[1];
    let pictures = zone_plate_pictures(w, h);
    for kbps in SWEEP_KBPS {
        for rate_control in [RateControlChoice::Selkies, RateControlChoice::X264] {
            let settings = EncoderSettings {
                rate_control,
                ..EncoderSettings::new(EncoderKind::X264)
            };
            match measure(&settings, Codec::H264, (w, h), kbps, &pictures) {
                Ok(row) => println!("{row}"),
                Err(e) => eprintln!("skipped x264 ({rate_control}) at {kbps} kbps: {e:#}"),
            }
        }
    }
}
