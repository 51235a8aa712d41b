//! Writing encoded access units where FFmpeg can read them back (Annex-B for H.264/H.265, IVF for
//! VP8/VP9/AV1), and the PSNR of what came back (decoded by `ffmpeg::decode_i420`).

use anyhow::{Context, Result};
use selkies_rs::encode::Codec;
use std::path::{Path, PathBuf};

/// Writes `frames` to a file named for `codec` in `dir`, in a form FFmpeg reads.
pub fn write(
    dir: &Path,
    codec: Codec,
    width: u32,
    height: u32,
    fps: u32,
    frames: &[Vec<u8>],
) -> Result<PathBuf> {
    let (name, fourcc) = match codec {
        Codec::H264 => ("out.h264", None),
        Codec::H265 => ("out.h265", None),
        Codec::Vp8 => ("out.ivf", Some(*b"VP80")),
        Codec::Vp9 => ("out.ivf", Some(*b"VP90")),
        Codec::Av1 => ("out.ivf", Some(*b"AV01")),
    };
    let mut bytes = Vec::new();
    match fourcc {
        None => frames.iter().for_each(|f| bytes.extend_from_slice(f)),
        Some(fourcc) => {
            // IVF: a 32-byte file header, then each frame behind a 12-byte header.
            bytes.extend_from_slice(b"DKIF");
            bytes.extend_from_slice(&0u16.to_le_bytes());
            bytes.extend_from_slice(&32u16.to_le_bytes());
            bytes.extend_from_slice(&fourcc);
            bytes.extend_from_slice(&(width as u16).to_le_bytes());
            bytes.extend_from_slice(&(height as u16).to_le_bytes());
            bytes.extend_from_slice(&fps.to_le_bytes());
            bytes.extend_from_slice(&1u32.to_le_bytes());
            bytes.extend_from_slice(&(frames.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&0u32.to_le_bytes());
            for (i, f) in frames.iter().enumerate() {
                bytes.extend_from_slice(&(f.len() as u32).to_le_bytes());
                bytes.extend_from_slice(&(i as u64).to_le_bytes());
                bytes.extend_from_slice(f);
            }
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// PSNR in dB of two equally long 8-bit planes.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = f64::from(x) - f64::from(y);
            d * d
        })
        .sum::<f64>()
        / a.len().max(1) as f64;
    if mse == 0.0 {
        99.0
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}
