//! Real GStreamer elements, decoded back with FFmpeg.

use super::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const W: u32 = 320;
const H: u32 = 240;
const FPS: u32 = 30;
/// Below this the picture is visibly damaged; a healthy encode of the test pattern at
/// 1.5 Mbit/s is well above it.
const MIN_PSNR_DB: f64 = 30.0;

fn config(bitrate_kbps: u32) -> EncoderConfig {
    EncoderConfig {
        width: W,
        height: H,
        fps: FPS,
        bitrate_kbps,
        threads: 0,
    }
}

fn installed(element: &str) -> bool {
    gst::init().is_ok() && gst::ElementFactory::find(element).is_some()
}

/// A diagonal gradient sliding right with a bright box moving across it.
fn pattern(n: u32) -> I420 {
    let mut p = I420::new(W, H);
    for y in 0..H {
        for x in 0..W {
            let g = 16 + ((x + y / 2 + 3 * n) % W) * 200 / W;
            let (bx, by) = ((4 * n) % (W - 48), (2 * n) % (H - 48));
            let inside = (bx..bx + 48).contains(&x) && (by..by + 48).contains(&y);
            p.y[(y * W + x) as usize] = if inside { 235 } else { g as u8 };
        }
    }
    for y in 0..H / 2 {
        for x in 0..W / 2 {
            let i = (y * W / 2 + x) as usize;
            p.u[i] = (64 + (x + n) % 128) as u8;
            p.v[i] = (64 + y % 128) as u8;
        }
    }
    p
}

/// Incompressible content, so the rate control decides the size.
fn noise(seed: u32) -> I420 {
    let mut p = I420::new(W, H);
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    for b in p.y.iter_mut().chain(p.u.iter_mut()).chain(p.v.iter_mut()) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        *b = (s >> 24) as u8;
    }
    p
}

/// Per input frame: the output bytes and keyframe flag, or None when nothing came out.
fn encode_all(
    enc: &mut GstEncoder,
    frames: &[I420],
    force_at: Option<usize>,
) -> Vec<Option<(Vec<u8>, bool)>> {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut out = BytesMut::new();
            let r = enc.encode(f, force_at == Some(i), &mut out);
            r.expect("encode").map(|e| (out.to_vec(), e.keyframe))
        })
        .collect()
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("selkies-gst-{}-{name}", std::process::id()))
}

/// IVF: 32-byte file header, then a 12-byte header (size, pts) before each frame.
fn write_ivf(path: &Path, fourcc: &[u8; 4], frames: &[Vec<u8>]) {
    let mut f = Vec::new();
    f.extend_from_slice(b"DKIF");
    f.extend_from_slice(&0u16.to_le_bytes());
    f.extend_from_slice(&32u16.to_le_bytes());
    f.extend_from_slice(fourcc);
    f.extend_from_slice(&(W as u16).to_le_bytes());
    f.extend_from_slice(&(H as u16).to_le_bytes());
    f.extend_from_slice(&FPS.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&(frames.len() as u32).to_le_bytes());
    f.extend_from_slice(&0u32.to_le_bytes());
    for (pts, frame) in frames.iter().enumerate() {
        f.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        f.extend_from_slice(&(pts as u64).to_le_bytes());
        f.extend_from_slice(frame);
    }
    std::fs::write(path, f).expect("write ivf");
}

/// Decodes with the ffmpeg CLI to raw yuv420p frames.
fn ffmpeg_decode(path: &Path, width: u32, height: u32) -> Vec<Vec<u8>> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let frame = (width * height * 3 / 2) as usize;
    out.stdout.chunks_exact(frame).map(<[u8]>::to_vec).collect()
}

fn pict_types(path: &Path) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v", "-show_frames"])
        .args(["-show_entries", "frame=pict_type", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("run ffprobe");
    // A frame's side data may follow its type on the line, or come on lines of its own.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(',').next())
        .map(str::trim)
        .filter(|t| t.len() == 1)
        .collect()
}

fn psnr_y(src: &I420, decoded: &[u8]) -> f64 {
    let n = src.y.len();
    let sse: f64 = src
        .y
        .iter()
        .zip(&decoded[..n])
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
        .sum();
    if sse == 0.0 {
        return 99.0;
    }
    10.0 * (255.0f64.powi(2) * n as f64 / sse).log10()
}

/// Encodes 60 frames of the moving pattern, decodes them with ffmpeg and checks quality,
/// the leading keyframe and the absence of B-frames.
fn roundtrip(element: &str, codec: Codec) {
    let mut enc =
        GstEncoder::open(&GstSpec::Element(element.into()), codec, config(1500)).expect("open");
    assert_eq!(enc.name(), format!("gstreamer:{element}"));
    let frames: Vec<I420> = (0..60).map(pattern).collect();
    let out: Vec<(Vec<u8>, bool)> = encode_all(&mut enc, &frames, None)
        .into_iter()
        .map(|o| o.expect("low-latency encoders output every frame"))
        .collect();
    assert!(out[0].1, "first frame must be a keyframe");
    assert!(
        out[1..].iter().all(|o| !o.1),
        "infinite GOP: no other keyframes"
    );
    let path = match codec {
        Codec::H264 => {
            let p = tmp(&format!("{element}.h264"));
            std::fs::write(&p, out.iter().flat_map(|o| o.0.clone()).collect::<Vec<_>>())
                .expect("write");
            p
        }
        Codec::Vp8 | Codec::Vp9 => {
            let p = tmp(&format!("{element}.ivf"));
            let fourcc = if codec == Codec::Vp8 {
                b"VP80"
            } else {
                b"VP90"
            };
            let frames: Vec<Vec<u8>> = out.iter().map(|o| o.0.clone()).collect();
            write_ivf(&p, fourcc, &frames);
            p
        }
        _ => unreachable!(),
    };
    let decoded = ffmpeg_decode(&path, W, H);
    assert_eq!(decoded.len(), 60, "decoded frame count");
    let psnr: Vec<f64> = frames
        .iter()
        .zip(&decoded)
        .map(|(s, d)| psnr_y(s, d))
        .collect();
    let min = psnr.iter().copied().fold(f64::INFINITY, f64::min);
    let mean = psnr.iter().sum::<f64>() / psnr.len() as f64;
    eprintln!(
        "{} PSNR-Y: min {min:.2} dB, mean {mean:.2} dB",
        enc.description()
    );
    assert!(min > MIN_PSNR_DB, "PSNR {min:.2} dB <= {MIN_PSNR_DB} dB");
    let types = pict_types(&path);
    assert_eq!(types.len(), 60, "ffprobe frames: {types}");
    assert!(!types.contains('B'), "B-frames in {types}");
    let _ = std::fs::remove_file(path);
}

#[test]
fn x264enc_h264_roundtrip() {
    roundtrip("x264enc", Codec::H264);
}

#[test]
fn vp8enc_roundtrip() {
    roundtrip("vp8enc", Codec::Vp8);
}

#[test]
fn vp9enc_roundtrip() {
    if !installed("vp9enc") {
        eprintln!("skipped: vp9enc not installed");
        return;
    }
    roundtrip("vp9enc", Codec::Vp9);
}

/// Annex-B NAL unit types in `au`.
fn nal_types(au: &[u8]) -> Vec<u8> {
    au.windows(4)
        .filter(|w| w[..3] == [0, 0, 1])
        .map(|w| w[3] & 0x1f)
        .collect()
}

fn forced_keyframe(element: &str, codec: Codec) {
    let mut enc =
        GstEncoder::open(&GstSpec::Element(element.into()), codec, config(1000)).expect("open");
    let frames: Vec<I420> = (0..40).map(pattern).collect();
    let out = encode_all(&mut enc, &frames, Some(30));
    let keys: Vec<usize> = (0..out.len())
        .filter(|&i| out[i].as_ref().is_some_and(|o| o.1))
        .collect();
    assert_eq!(keys.first(), Some(&0));
    let forced = keys.iter().find(|&&i| i >= 30).copied();
    assert!(
        matches!(forced, Some(30 | 31)),
        "keyframe forced at 30 came at {forced:?} (keys {keys:?})"
    );
    assert!(keys.iter().all(|&k| k == 0 || k >= 30), "keys {keys:?}");
    eprintln!("{element}: keyframes at {keys:?} (forced at 30)");
    if codec == Codec::H264 {
        let au = &out[forced.unwrap_or(30)].as_ref().expect("output").0;
        let types = nal_types(au);
        assert!(
            types.contains(&7) && types.contains(&8) && types.contains(&5),
            "IDR without SPS/PPS: NAL types {types:?}"
        );
    }
}

#[test]
fn x264enc_forced_keyframe() {
    forced_keyframe("x264enc", Codec::H264);
}

#[test]
fn vp8enc_forced_keyframe() {
    forced_keyframe("vp8enc", Codec::Vp8);
}

fn open_error(spec: GstSpec, codec: Codec) -> String {
    match GstEncoder::open(&spec, codec, config(1000)) {
        Err(EncodeError::Open { backend, reason }) => {
            assert_eq!(backend, "gstreamer");
            eprintln!("{spec:?}: {reason}");
            reason
        }
        Err(e) => panic!("{spec:?}: wrong error {e}"),
        Ok(e) => panic!("{spec:?} opened: {}", e.description()),
    }
}

#[test]
fn bad_descriptions_are_open_errors() {
    let r = open_error(
        GstSpec::Pipeline("videoconvert ! notanelement".into()),
        Codec::H264,
    );
    assert!(r.contains("notanelement"), "{r}");
    let r = open_error(GstSpec::Pipeline("videoconvert ! !".into()), Codec::H264);
    assert!(
        r.to_lowercase().contains("syntax") || r.contains("link"),
        "{r}"
    );
    let r = open_error(GstSpec::Element("notanelement".into()), Codec::H264);
    assert!(r.contains("notanelement"), "{r}");
    let r = open_error(
        GstSpec::Element("x264enc notaproperty=1".into()),
        Codec::H264,
    );
    assert!(r.contains("notaproperty"), "{r}");
}

#[test]
fn element_of_the_wrong_codec_is_an_open_error() {
    let r = open_error(GstSpec::Element("vp8enc".into()), Codec::H264);
    assert!(r.contains("vp8enc cannot produce video/x-h264"), "{r}");
    let r = open_error(
        GstSpec::Pipeline("videoconvert ! vp8enc".into()),
        Codec::H264,
    );
    assert!(r.contains("vp8enc"), "{r}");
}

#[test]
fn user_pipeline_encodes() {
    let spec = GstSpec::Pipeline("videoconvert ! x264enc tune=zerolatency bframes=0".into());
    let mut enc = GstEncoder::open(&spec, Codec::H264, config(1000)).expect("open");
    let frames: Vec<I420> = (0..5).map(pattern).collect();
    let out = encode_all(&mut enc, &frames, None);
    assert!(out[0]
        .as_ref()
        .is_some_and(|o| o.1 && nal_types(&o.0).contains(&7)));
    enc.reconfigure(500, FPS)
        .expect("x264enc found in the pipeline");
}

#[test]
fn user_properties_win_over_defaults() {
    let spec = GstSpec::Element("x264enc key-int-max=10 bitrate=700".into());
    let enc = GstEncoder::open(&spec, Codec::H264, config(1000)).expect("open");
    let d = enc.description();
    assert!(
        d.contains("key-int-max=10") && !d.contains("key-int-max=2147483647"),
        "{d}"
    );
    assert!(
        d.contains("bitrate=700") && !d.contains("bitrate=1000"),
        "{d}"
    );
    assert!(
        d.contains("tune=zerolatency") && d.contains("vbv-buf-capacity=51"),
        "{d}"
    );
}

#[test]
fn bitrate_reconfigure_changes_output_size() {
    let mut enc = GstEncoder::open(
        &GstSpec::Element("x264enc".into()),
        Codec::H264,
        config(300),
    )
    .expect("open");
    let frames: Vec<I420> = (0..30).map(noise).collect();
    let bytes = |out: Vec<Option<(Vec<u8>, bool)>>| -> usize {
        // Skip the first frames: the keyframe and the rate control settling.
        out.iter().skip(5).flatten().map(|o| o.0.len()).sum()
    };
    let low = bytes(encode_all(&mut enc, &frames, None));
    enc.reconfigure(3000, FPS).expect("reconfigure");
    assert_eq!(enc.config().bitrate_kbps, 3000);
    let high = bytes(encode_all(&mut enc, &frames, None));
    eprintln!("25 noisy frames: {low} bytes at 300 kbit/s, {high} bytes at 3000 kbit/s");
    assert!(
        high > 3 * low,
        "{high} bytes at 3000 kbit/s vs {low} at 300"
    );
}

#[test]
fn fps_reconfigure_keeps_encoding() {
    let mut enc = GstEncoder::open(&GstSpec::Element("vp8enc".into()), Codec::Vp8, config(800))
        .expect("open");
    let frames: Vec<I420> = (0..10).map(pattern).collect();
    assert!(encode_all(&mut enc, &frames, None)
        .iter()
        .all(Option::is_some));
    enc.reconfigure(800, 60).expect("reconfigure");
    assert_eq!(enc.config().fps, 60);
    assert!(encode_all(&mut enc, &frames, None)
        .iter()
        .all(Option::is_some));
    assert!(matches!(
        enc.reconfigure(800, 0),
        Err(EncodeError::Reconfigure { .. })
    ));
}

/// 330 wide: GStreamer pads I420 rows to 4 bytes (332 and 168), ours are tight.
#[test]
fn padded_strides_are_copied_row_by_row() {
    let (w, h) = (330, 240);
    let cfg = EncoderConfig {
        width: w,
        height: h,
        ..config(2000)
    };
    let mut enc =
        GstEncoder::open(&GstSpec::Element("x264enc".into()), Codec::H264, cfg).expect("open");
    let mut p = I420::new(w, h);
    for (i, y) in p.y.iter_mut().enumerate() {
        *y = (16 + (i as u32 % w) * 200 / w) as u8;
    }
    let mut out = BytesMut::new();
    for _ in 0..3 {
        enc.encode(&p, false, &mut out).expect("encode");
    }
    let path = tmp("stride.h264");
    std::fs::write(&path, &out).expect("write");
    let decoded = ffmpeg_decode(&path, w, h);
    assert_eq!(decoded.len(), 3);
    let psnr = psnr_y(&p, &decoded[2]);
    assert!(psnr > MIN_PSNR_DB, "{psnr:.2} dB: rows sheared?");
    let _ = std::fs::remove_file(path);
}

#[test]
fn wrong_picture_size_is_an_encode_error() {
    let mut enc = GstEncoder::open(
        &GstSpec::Element("x264enc".into()),
        Codec::H264,
        config(800),
    )
    .expect("open");
    let r = enc.encode(&I420::new(64, 64), false, &mut BytesMut::new());
    assert!(matches!(r, Err(EncodeError::Encode { .. })), "{r:?}");
}

#[test]
fn probe_and_registry() {
    let version = probe().expect("GStreamer initialises");
    assert!(version.starts_with("GStreamer 1."), "{version}");
    let available = encoders_available();
    assert!(available.contains(&"x264enc") && available.contains(&"vp8enc"));
    assert_eq!(default_element(Codec::H264), Some("x264enc"));
    assert_eq!(default_element(Codec::Vp8), Some("vp8enc"));
    eprintln!(
        "{version}; encoders: {available:?}; AV1: {:?}",
        default_element(Codec::Av1)
    );
}
