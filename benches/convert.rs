//! Micro-benchmark of the per-frame conversion, apart from X and the frame clock: BGRx → I420
//! (the `yuv` SIMD path against the scalar reference it is tested against) at 720p and 1080p.
//! Encoders are in `benches/encoders.rs`.
//!
//! `cargo bench --bench convert`. Whole-pipeline figures (capture, latency, CPU, RSS) come from
//! `selkies-rs bench`, not from here.

use common::zone_plate;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use selkies_rs::convert::{bgrx_to_i420, bgrx_to_i420_reference, I420};
use std::hint::black_box;
use std::time::Duration;

mod common;

const SIZES: [(u32, u32); 2] = [(1280, 720), (1920, 1080)];

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

criterion_group!(benches, conversion);
criterion_main!(benches);
