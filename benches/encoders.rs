//! One encode of a moving picture per backend that runs here, with the settings the pipeline
//! uses, at 1280x720 and 1920x1080: x264, libvpx VP8/VP9, libaom AV1, and the GStreamer
//! fallback with x264enc and vp8enc. Backends that cannot open here are skipped with their reason.
//!
//! `cargo bench --bench encoders`. The end-to-end figures per backend (CPU per frame, latency,
//! kbps) come from `selkies-rs bench --encoder … --codec …`; PSNR from `tests/encoders.rs`.

use bytes::BytesMut;
use common::{backends, bench_config, open_x264, zone_plate_pictures};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use selkies_rs::area::Area;
use selkies_rs::encode;
use std::hint::black_box;
use std::time::Duration;

mod common;

const SIZES: [(u32, u32); 2] = [(1280, 720), (1920, 1080)];

fn encoders(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(1));
    for (w, h) in SIZES {
        // Eight phases cycled: every frame differs from the last everywhere, the worst case.
        let pictures = zone_plate_pictures(w, h);
        for (settings, codec) in backends() {
            let config = bench_config(w, h);
            let mut encoder = match encode::open_one(settings.kind, &settings, codec, config) {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("skipped: {e}");
                    continue;
                }
            };
            let mut out = BytesMut::with_capacity(1 << 20);
            let mut n = 0usize;
            let name = format!("{}_{codec}_{w}x{h}", encoder.name().replace(':', "-"));
            group.bench_function(name, |b| {
                b.iter(|| {
                    out.clear();
                    let pic = &pictures[n % pictures.len()];
                    n += 1;
                    let done = encoder.encode(pic, false, &mut out).expect("encode");
                    black_box((done, out.len()));
                });
            });
        }
    }
    group.finish();
}

/// x264 on a screen where little changes, as on a desktop: the same 1080p picture again with a
/// 32x32 block changed each frame, with and without the pipeline's "unchanged" hint.
fn x264_small_changes(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode_small_change");
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(1));
    let (w, h) = (1920, 1080);
    let still = zone_plate_pictures(w, h).swap_remove(0);
    for (name, hinted) in [("x264_hinted", true), ("x264_unhinted", false)] {
        let mut encoder = open_x264(w, h);
        let mut pic = still.clone();
        let mut out = BytesMut::with_capacity(1 << 20);
        let mut n = 0u32;
        group.bench_function(name, |b| {
            b.iter(|| {
                // A block moving along a row, as a cursor or a glyph being typed.
                let x = (n * 32) % (w - 32);
                n += 1;
                for row in 500..532 {
                    let start = (row * w + x) as usize;
                    pic.y[start..start + 32].fill((n % 200) as u8 + 20);
                }
                let changed = Area {
                    x: x..x + 32,
                    y: 500..532,
                };
                encoder.hint_changed(hinted.then_some(&changed));
                out.clear();
                black_box(encoder.encode(&pic, false, &mut out).expect("encode"));
            });
        });
    }
    group.finish();
}

criterion_group!(benches, encoders, x264_small_changes);
criterion_main!(benches);
