//! Micro-benchmarks of the two per-frame kernels, apart from X and the frame clock:
//! BGRx → I420 (the `yuv` SIMD path against the scalar reference it is tested against) at 720p
//! and 1080p, and one x264 encode of a moving 720p picture with the settings the pipeline uses.
//!
//! `cargo bench --bench convert`. Whole-pipeline figures (capture, latency, CPU, RSS) come from
//! `selkies-rs bench`, not from here.

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use selkies_rs::convert::{bgrx_to_i420, bgrx_to_i420_reference, I420};
use selkies_rs::encode::{self, Codec, EncoderConfig, EncoderKind, EncoderSettings};
use std::hint::black_box;
use std::time::Duration;

const SIZES: [(u32, u32); 2] = [(1280, 720), (1920, 1080)];

/// A BGRx zone plate at `phase` (0..8): detail everywhere, different in every phase, like the
/// motion content `selkies-rs bench` paints.
fn zone_plate(w: u32, h: u32, phase: u32) -> Vec<u8> {
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

fn conversion(c: &mut Criterion) {
    let mut group = c.benchmark_group("bgrx_to_i420");
    // The scalar reference takes tens of ms a frame: fewer, longer samples keep the run short.
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(4));
    for (w, h) in SIZES {
        let src = zone_plate(w, h, 0);
        let stride = w as usize * 4;
        let mut dst = I420::new(w, h);
        let label = format!("{w}x{h}");
        group.throughput(Throughput::Elements(u64::from(w) * u64::from(h)));
        group.bench_function(BenchmarkId::new("simd", &label), |b| {
            b.iter(|| {
                bgrx_to_i420(black_box(&src), w, h, stride, &mut dst).expect("sizes match");
                black_box(&dst);
            });
        });
        group.bench_function(BenchmarkId::new("scalar_reference", &label), |b| {
            b.iter(|| {
                bgrx_to_i420_reference(black_box(&src), w, h, stride, &mut dst)
                    .expect("sizes match");
                black_box(&dst);
            });
        });
    }
    group.finish();
}

fn x264(c: &mut Criterion) {
    let (w, h) = (1280, 720);
    // Eight phases cycled: every frame differs from the last everywhere, x264's worst case.
    let pictures: Vec<I420> = (0..8)
        .map(|p| {
            let mut pic = I420::new(w, h);
            bgrx_to_i420(&zone_plate(w, h, p), w, h, w as usize * 4, &mut pic)
                .expect("sizes match");
            pic
        })
        .collect();
    let mut encoder = encode::open_one(
        EncoderKind::X264,
        &EncoderSettings::default(),
        Codec::H264,
        EncoderConfig {
            width: w,
            height: h,
            fps: 60,
            bitrate_kbps: 8000,
            threads: 0,
        },
    )
    .expect("libx264 opens at 720p");
    let mut out = BytesMut::with_capacity(1 << 20);
    let mut n = 0usize;
    let mut group = c.benchmark_group("x264_encode");
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(1));
    group.bench_function("1280x720_motion_8000kbps", |b| {
        b.iter(|| {
            out.clear();
            let pic = &pictures[n % pictures.len()];
            n += 1;
            let done = encoder.encode(pic, false, &mut out).expect("encode");
            black_box((done, out.len()));
        });
    });
    group.finish();
}

criterion_group!(benches, conversion, x264);
criterion_main!(benches);
