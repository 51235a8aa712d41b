//! Writing encoded access units where FFmpeg can read them back (Annex-B for H.264/H.265, IVF for
//! VP8/VP9/AV1), decoding them to I420, and the PSNR of what came back.

use anyhow::{bail, Context, Result};
use selkies_rs::encode::Codec;
use std::path::{Path, PathBuf};
use std::process::Command;

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

/// Decodes `path` to I420 frames of `width`×`height` with the `ffmpeg` command.
pub fn decode_i420(path: &Path, width: u32, height: u32) -> Result<Vec<Vec<u8>>> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args([
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
            "-",
        ])
        .output()
        .context("running ffmpeg (apt-get install ffmpeg)")?;
    if !out.status.success() {
        bail!(
            "ffmpeg failed on {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let size = (width * height * 3 / 2) as usize;
    if out.stdout.len() % size != 0 {
        bail!(
            "ffmpeg gave {} bytes, not whole {width}x{height} frames",
            out.stdout.len()
        );
    }
    Ok(out.stdout.chunks_exact(size).map(<[u8]>::to_vec).collect())
}

/// Picture types FFmpeg sees ("I", "P", "B"), in order.
pub fn pict_types(path: &Path) -> Result<Vec<String>> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_entries",
            "frame=pict_type",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .context("running ffprobe (apt-get install ffmpeg)")?;
    if !out.status.success() {
        bail!("ffprobe failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().trim_end_matches(',').to_owned())
        .filter(|l| !l.is_empty())
        .collect())
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
