//! Content and backends shared by the benchmarks.

use selkies_rs::convert::{bgrx_to_i420, I420};
use selkies_rs::encode::{
    self, Codec, Encoder, EncoderConfig, EncoderKind, EncoderSettings, RateControlChoice,
};

/// A BGRx zone plate at `phase` (0..8): detail everywhere, different in every phase, like the
/// motion content `selkies-rs bench` paints.
pub fn zone_plate(w: u32, h: u32, phase: u32) -> Vec<u8> {
    let (w, h) = (w as usize, h as usize);
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let k = std::f32::consts::PI / (w.max(h) as f32 * 1.5);
    let shift = phase as f32 * std::f32::consts::TAU / 8.0;
    let mut buf = vec![0u8; w * h * 4];
    for (i, px) in buf.chunks_exact_mut(4).enumerate() {
        let (x, y) = ((i % w) as f32 - cx, (i / w) as f32 - cy);
        let g = (((x * x + y * y) * k + shift).sin() * 0.5 + 0.5) * 255.0;
        let g = g as u8;
        px.copy_from_slice(&[g, 255 - g, g / 2 + 64, 0xFF]);
    }
    buf
}

/// Every backend that runs without a GPU, with the codec it is measured for.
#[allow(dead_code)] // each bench compiles this module on its own
pub fn backends() -> Vec<(EncoderSettings, Codec)> {
    let gst = |element: &str| EncoderSettings {
        gstreamer: Some(element.into()),
        ..EncoderSettings::new(EncoderKind::Gstreamer)
    };
    vec![
        (EncoderSettings::new(EncoderKind::X264), Codec::H264),
        (
            EncoderSettings {
                rate_control: RateControlChoice::X264,
                ..EncoderSettings::new(EncoderKind::X264)
            },
            Codec::H264,
        ),
        (EncoderSettings::new(EncoderKind::Software), Codec::Vp8),
        (EncoderSettings::new(EncoderKind::Software), Codec::Vp9),
        (EncoderSettings::new(EncoderKind::Software), Codec::Av1),
        (gst("x264enc"), Codec::H264),
        (gst("vp8enc"), Codec::Vp8),
    ]
}

/// The eight zone-plate phases as I420, cycled by the encoder benches: every frame differs from
/// the last everywhere, the encoders' worst case.
#[allow(dead_code)] // each bench compiles this module on its own
pub fn zone_plate_pictures(w: u32, h: u32) -> Vec<I420> {
    (0..8)
        .map(|p| {
            let mut pic = I420::new(w, h);
            bgrx_to_i420(&zone_plate(w, h, p), w, h, w as usize * 4, &mut pic)
                .expect("sizes match");
            pic
        })
        .collect()
}

/// The settings every bench encodes with: 60 fps, 8000 kbps, encoder-chosen threads.
#[allow(dead_code)] // each bench compiles this module on its own
pub fn bench_config(w: u32, h: u32) -> EncoderConfig {
    EncoderConfig {
        width: w,
        height: h,
        fps: 60,
        bitrate_kbps: 8000,
        threads: 0,
    }
}

/// x264 as the pipeline opens it, at `w`x`h`.
#[allow(dead_code)] // each bench compiles this module on its own
pub fn open_x264(w: u32, h: u32) -> Box<dyn Encoder> {
    let settings = EncoderSettings::new(EncoderKind::X264);
    encode::open_one(settings.kind, &settings, Codec::H264, bench_config(w, h)).expect("x264 opens")
}
