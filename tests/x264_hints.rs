//! The "unchanged" hint reaches x264: macroblocks outside the changed area are coded as skipped
//! without analysis, so a hint that covers the change shows the new picture, and a hint that
//! wrongly leaves a change out shows the old one there (which is why the pipeline only ever
//! hints what XDamage reported). FFmpeg decodes what came out.

mod common;

use anyhow::{ensure, Context, Result};
use bytes::BytesMut;
use common::ffmpeg::decode_h264_bytes_to_rgb;
use selkies_rs::area::Area;
use selkies_rs::convert::{bgrx_to_i420, I420};
use selkies_rs::encode::{self, Codec, EncoderConfig, EncoderKind, EncoderSettings};

const W: u32 = 320;
const H: u32 = 240;

/// A grey screen with a coloured square at (x, y), 32x32.
fn screen(square: Option<(u32, u32, [u8; 3])>) -> I420 {
    let mut bgrx = vec![0u8; (W * H * 4) as usize];
    for (i, px) in bgrx.chunks_exact_mut(4).enumerate() {
        let (x, y) = (i as u32 % W, i as u32 / W);
        let [r, g, b] = match square {
            Some((sx, sy, c)) if (sx..sx + 32).contains(&x) && (sy..sy + 32).contains(&y) => c,
            _ => [128, 128, 128],
        };
        px.copy_from_slice(&[b, g, r, 0xFF]);
    }
    let mut pic = I420::new(W, H);
    bgrx_to_i420(&bgrx, W, H, W as usize * 4, &mut pic).expect("sizes match");
    pic
}

/// Encodes the grey screen, then the same screen with a square at (64, 96) under `hint`, and
/// returns the colour decoded at the square's centre in the second picture.
fn square_seen_with(hint: Option<Area>) -> Result<[u8; 3]> {
    let settings = EncoderSettings::new(EncoderKind::X264);
    let config = EncoderConfig {
        width: W,
        height: H,
        fps: 30,
        bitrate_kbps: 4000,
        threads: 1,
    };
    let mut encoder = encode::open_one(settings.kind, &settings, Codec::H264, config)?;
    let mut stream = BytesMut::new();
    // A few grey pictures: rate control settles and the reference is good.
    for _ in 0..4 {
        encoder.encode(&screen(None), false, &mut stream)?;
    }
    encoder.hint_changed(hint.as_ref());
    encoder.encode(&screen(Some((64, 96, [250, 20, 20]))), false, &mut stream)?;
    let frames = decode_h264_bytes_to_rgb(&stream)?;
    ensure!(frames.len() == 5, "{} frames decoded", frames.len());
    Ok(frames.last().context("no frame")?.pixel(80, 112))
}

fn near(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(p, q)| p.abs_diff(q) <= 16)
}

#[test]
fn a_hint_covering_the_change_shows_it() -> Result<()> {
    let seen = square_seen_with(Some(Area {
        x: 64..96,
        y: 96..128,
    }))?;
    ensure!(near(seen, [250, 20, 20]), "{seen:?}");
    Ok(())
}

#[test]
fn no_hint_analyses_everything() -> Result<()> {
    let seen = square_seen_with(None)?;
    ensure!(near(seen, [250, 20, 20]), "{seen:?}");
    Ok(())
}

#[test]
fn a_hint_leaving_the_change_out_skips_it() -> Result<()> {
    // The hint is honoured, not merely accepted: the square's macroblocks are skipped.
    let seen = square_seen_with(Some(Area {
        x: 200..240,
        y: 0..32,
    }))?;
    ensure!(near(seen, [128, 128, 128]), "{seen:?}");
    Ok(())
}
