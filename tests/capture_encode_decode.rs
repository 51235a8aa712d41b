//! Capture → convert → encode → decode: a pattern painted on Xvfb, grabbed through MIT-SHM,
//! converted and encoded by our x264 backend, decoded by FFmpeg, comes back with its colours,
//! starts with a keyframe and has no B-frames; a forced keyframe yields an IDR.

mod common;

use anyhow::Result;
use bytes::BytesMut;
use common::{colour_close, Painter};
use selkies_rs::capture::display::VirtualDisplay;
use selkies_rs::capture::XshmCapture;
use selkies_rs::convert::{bgrx_to_i420, I420};
use selkies_rs::encode::{self, Codec, EncoderConfig, EncoderKind, EncoderSettings};

const COLOURS: [[u8; 3]; 4] = [[200, 40, 40], [40, 180, 60], [50, 70, 210], [235, 235, 235]];

#[test]
fn painted_pattern_survives_capture_encode_and_ffmpeg_decode() -> Result<()> {
    let display = VirtualDisplay::start(1280, 720)?;
    let mut painter = Painter::connect(&display.name())?;
    let mut capture = XshmCapture::open(Some(&display.name()))?;
    assert_eq!(capture.size(), (1280, 720));
    let mut planes = I420::new(1280, 720);
    let config = EncoderConfig {
        width: 1280,
        height: 720,
        fps: 30,
        bitrate_kbps: 6000,
        threads: 0,
    };
    let mut encoder = encode::open_one(
        EncoderKind::X264,
        &EncoderSettings::default(),
        Codec::H264,
        config,
    )?;
    let mut stream = BytesMut::new();
    let mut keyframes = Vec::new();
    // Quadrants in the four colours, rotating each frame so every frame differs.
    for frame in 0..20usize {
        for q in 0..4usize {
            let c = COLOURS[(q + frame / 5) % 4];
            painter.fill_rect((q as u32 % 2) * 640, (q as u32 / 2) * 360, 640, 360, c)?;
        }
        painter.sync()?;
        let grabbed = capture.grab()?;
        bgrx_to_i420(
            grabbed.data,
            grabbed.width,
            grabbed.height,
            grabbed.stride,
            &mut planes,
        )?;
        let force = frame == 12;
        let out = encoder.encode(&planes, force, &mut stream)?;
        if let Some(e) = out {
            keyframes.push(e.keyframe);
        }
    }
    assert_eq!(
        keyframes.len(),
        20,
        "zerolatency x264 emits one access unit per picture"
    );
    assert!(keyframes[0], "the stream starts with a keyframe");
    assert!(keyframes[12], "a forced keyframe is an IDR");
    assert_eq!(
        keyframes.iter().filter(|k| **k).count(),
        2,
        "infinite GOP: no keyframes unasked"
    );

    let file = common::ffmpeg::TempFile::new("h264", &stream)?;
    let types = common::probe_pict_types(&file.0)?;
    assert_eq!(types.len(), 20);
    assert!(!types.contains(&'B'), "no B-frames: {types:?}");
    assert_eq!(types[0], 'I');
    let frames = common::decode_h264_to_rgb(&file.0)?;
    assert_eq!(frames.len(), 20);
    for (i, f) in frames.iter().enumerate() {
        assert_eq!((f.width, f.height), (1280, 720));
        for q in 0..4usize {
            let want = COLOURS[(q + i / 5) % 4];
            let (x, y) = ((q as u32 % 2) * 640 + 320, (q as u32 / 2) * 360 + 180);
            let got = f.pixel(x, y);
            assert!(
                colour_close(got, want, 12),
                "frame {i} quadrant {q}: got {got:?}, painted {want:?}"
            );
        }
    }
    Ok(())
}
