//! Picture quality per encoder backend at a fixed bitrate: 120 frames of full-screen zone-plate
//! motion at 60 fps and 8000 kbps, at 1280x720 and 1920x1080, decoded back with the `ffmpeg`
//! command; prints mean and worst-frame luma PSNR and the bits per frame each backend spent.
//!
//! `cargo bench --bench quality`. Not a criterion benchmark: it measures quality, not time.

use anyhow::Result;
use bytes::BytesMut;
use common::{backends, zone_plate_pictures};
use selkies_rs::convert::I420;
use selkies_rs::encode::{self, Codec, EncoderConfig, EncoderSettings};

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

fn measure(
    settings: &EncoderSettings,
    codec: Codec,
    w: u32,
    h: u32,
    pictures: &[I420],
) -> Result<String> {
    let config = EncoderConfig {
        width: w,
        height: h,
        fps: FPS,
        bitrate_kbps: KBPS,
        threads: 0,
    };
    let mut encoder = encode::open_one(settings.kind, settings, codec, config)?;
    let mut units = Vec::with_capacity(FRAMES);
    for t in 0..FRAMES {
        let mut out = BytesMut::new();
        encoder.encode(&pictures[t % pictures.len()], false, &mut out)?;
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
        "| {} | {w}x{h} | {} of {FRAMES} | {mean:.2} | {worst:.2} | {:.0} k |",
        encoder.name(),
        decoded.len(),
        bits_per_frame / 1000.0
    ))
}

fn main() {
    println!("| encoder | size | frames decoded | PSNR-Y mean dB | worst frame dB | bits/frame |");
    println!("|---|---|---|---|---|---|");
    for (w, h) in SIZES {
        let pictures = zone_plate_pictures(w, h);
        for (settings, codec) in backends() {
            match measure(&settings, codec, w, h, &pictures) {
                Ok(row) => println!("{row}"),
                Err(e) => eprintln!("skipped {} {codec} {w}x{h}: {e:#}", settings.kind),
            }
        }
    }
}
