//! `xclip` (Debian `xclip`) as the other X client in clipboard tests, and a PNG made by hand
//! (no image crate), so tests check our clipboard against a real, independent peer.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};

/// How long one `xclip -o` may take (multi-MB INCR reads included).
pub const XCLIP_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `xclip -display <d> <args>` to completion and returns its stdout; fails on a non-zero
/// exit or after [`XCLIP_TIMEOUT`] (the process is then killed).
pub fn xclip_out(display: &str, args: &[&str]) -> Result<Vec<u8>> {
    let child = Command::new("xclip")
        .arg("-display")
        .arg(display)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("start xclip (Debian/Ubuntu: apt-get install xclip)")?;
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(XCLIP_TIMEOUT) {
        Ok(output) => {
            let output = output.context("wait for xclip")?;
            ensure!(
                output.status.success(),
                "xclip {args:?} failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
            Ok(output.stdout)
        }
        Err(_) => {
            kill(pid);
            bail!("xclip {args:?} did not finish within {XCLIP_TIMEOUT:?}")
        }
    }
}

pub fn kill(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A file that is removed on drop.
pub struct TempFile(PathBuf);

impl TempFile {
    pub fn new(tag: &str, data: &[u8]) -> Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "selkies-rs-clipboard-{}-{tag}-{:?}",
            std::process::id(),
            std::thread::current().id()
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

/// `xclip -i` kept in the foreground (`-quiet`) as the selection owner; killed on drop.
pub struct XclipOwner {
    child: Child,
    _file: TempFile,
}

impl XclipOwner {
    pub fn start(display: &str, target: Option<&str>, data: &[u8]) -> Result<Self> {
        let file = TempFile::new("in", data)?;
        let mut cmd = Command::new("xclip");
        cmd.args(["-display", display, "-selection", "clipboard", "-quiet"]);
        if let Some(target) = target {
            cmd.args(["-t", target]);
        }
        let child = cmd
            .arg("-i")
            .arg(&file.0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start xclip (Debian/Ubuntu: apt-get install xclip)")?;
        Ok(Self { child, _file: file })
    }
}

impl Drop for XclipOwner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A valid PNG of `width`x`height` RGB pixels in a pattern. Its zlib stream uses stored
/// (uncompressed) deflate blocks, so the file is about `3 * width * height` bytes.
pub fn make_png(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut raw = Vec::with_capacity((width as usize * 3 + 1) * height as usize);
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            let v = x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503) ^ seed;
            raw.extend_from_slice(&[v as u8, (v >> 8) as u8, (v >> 16) as u8]);
        }
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter/interlace
    png_chunk(&mut png, b"IHDR", &ihdr);
    png_chunk(&mut png, b"IDAT", &zlib);
    png_chunk(&mut png, b"IEND", &[]);
    png
}

pub fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

pub fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= 65_521;
        b %= 65_521;
    }
    (b << 16) | a
}
