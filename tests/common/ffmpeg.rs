//! Decoding and inspecting encoded video with the `ffmpeg`/`ffprobe` command-line tools, as an
//! independent check on our encoders.

use std::path::Path;
use std::process::{Command, Output};

use anyhow::{bail, Context, Result};

/// One decoded picture, RGB24, rows top to bottom without padding.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

impl Frame {
    /// The colour at (`x`, `y`). Panics outside the frame (a test bug).
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        assert!(
            x < self.width && y < self.height,
            "({x},{y}) outside the frame"
        );
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Frame({}x{}, {} bytes)",
            self.width,
            self.height,
            self.rgb.len()
        )
    }
}

/// Decodes every picture of an H.264 elementary stream (Annex B, or any container FFmpeg reads)
/// to RGB24. A size change mid-stream is scaled to the first size, as FFmpeg does.
pub fn decode_h264_to_rgb(path: impl AsRef<Path>) -> Result<Vec<Frame>> {
    let path = path.as_ref();
    let (width, height) = probe_size(path)?;
    let out = run(
        "ffmpeg",
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i"])
            .arg(path)
            // Every decoded picture exactly once: no frame-rate guessing, dropping or duplicating.
            .args([
                "-fps_mode",
                "passthrough",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "rgb24",
                "-",
            ]),
    )?;
    let size = width as usize * height as usize * 3;
    if size == 0 || out.stdout.len() % size != 0 {
        bail!(
            "ffmpeg produced {} bytes, not a whole number of {width}x{height} RGB frames",
            out.stdout.len()
        );
    }
    Ok(out
        .stdout
        .chunks_exact(size)
        .map(|c| Frame {
            width,
            height,
            rgb: c.to_vec(),
        })
        .collect())
}

/// Like [`decode_h264_to_rgb`] for a stream in memory (written to a temporary file first).
pub fn decode_h264_bytes_to_rgb(annex_b: &[u8]) -> Result<Vec<Frame>> {
    let tmp = TempFile::new("h264", annex_b)?;
    decode_h264_to_rgb(&tmp.0)
}

/// Decodes every picture of `path` (any stream FFmpeg reads: Annex-B, IVF…) to I420 frames of
/// `width`×`height`, each Y, U and V planes back to back.
pub fn decode_i420(path: impl AsRef<Path>, width: u32, height: u32) -> Result<Vec<Vec<u8>>> {
    let out = run(
        "ffmpeg",
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i"])
            .arg(path.as_ref())
            .args([
                "-fps_mode",
                "passthrough",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "yuv420p",
                "-",
            ]),
    )?;
    let size = (width * height * 3 / 2) as usize;
    if size == 0 || out.stdout.len() % size != 0 {
        bail!(
            "ffmpeg produced {} bytes, not a whole number of {width}x{height} I420 frames",
            out.stdout.len()
        );
    }
    Ok(out.stdout.chunks_exact(size).map(<[u8]>::to_vec).collect())
}

/// The picture type of every frame in decode order: `'I'`, `'P'`, `'B'` (or `'?'`).
pub fn probe_pict_types(path: impl AsRef<Path>) -> Result<Vec<char>> {
    Ok(probe_frames(path)?
        .into_iter()
        .map(|f| f.pict_type)
        .collect())
}

/// What ffprobe reports for one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    pub pict_type: char,
    pub key_frame: bool,
}

/// Picture type and key-frame flag of every frame.
pub fn probe_frames(path: impl AsRef<Path>) -> Result<Vec<FrameInfo>> {
    let path = path.as_ref();
    let out = run(
        "ffprobe",
        Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-show_frames"])
            .args([
                "-show_entries",
                "frame=key_frame,pict_type",
                "-of",
                "csv=p=0",
            ])
            .arg(path),
    )?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            // `-show_entries` prints in the section's field order: key_frame, pict_type.
            let mut fields = l.trim().split(',');
            let key = fields.next().unwrap_or_default();
            let pict = fields.next().unwrap_or_default();
            Ok(FrameInfo {
                key_frame: key == "1",
                pict_type: pict.chars().next().unwrap_or('?'),
            })
        })
        .collect()
}

/// Width and height of the first video stream.
pub fn probe_size(path: impl AsRef<Path>) -> Result<(u32, u32)> {
    let path = path.as_ref();
    let out = run(
        "ffprobe",
        Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0"])
            .args(["-show_entries", "stream=width,height", "-of", "csv=p=0:s=x"])
            .arg(path),
    )?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next().unwrap_or_default().trim();
    let (w, h) = line
        .split_once('x')
        .with_context(|| format!("ffprobe gave no size for {}: {text:?}", path.display()))?;
    Ok((
        w.parse().with_context(|| format!("bad width {w:?}"))?,
        h.parse().with_context(|| format!("bad height {h:?}"))?,
    ))
}

/// Runs an FFmpeg tool; a missing binary or a failure becomes an error with its stderr.
fn run(tool: &str, cmd: &mut Command) -> Result<Output> {
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("{tool} not found: install ffmpeg (Debian: apt-get install ffmpeg)")
        }
        Err(e) => return Err(e).with_context(|| format!("run {tool}")),
    };
    if !out.status.success() {
        bail!(
            "{tool} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out)
}

/// A file in the temp directory, removed on drop.
pub struct TempFile(pub std::path::PathBuf);

impl TempFile {
    /// Writes `data` to a new uniquely named file ending in `.ext`.
    pub fn new(ext: &str, data: &[u8]) -> Result<Self> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "selkies-test-{}-{}.{ext}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, data).with_context(|| format!("write {}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
