//! One encode of a moving picture per backend that runs here, with the settings the pipeline
//! uses, at 1280x720 and 1920x1080: x264, libvpx VP8/VP9, libaom AV1, and the GStreamer
//! fallback with x264enc and vp8enc. Backends that cannot open here are skipped with their reason.
//!
//! `cargo bench --bench encoders`. The end-to-end figures per backend (CPU per frame, latency,
//! kbps) come from `selkies-rs bench --encoder … --codec …`; PSNR from `tests/encoders.rs`.

use bytes::BytesMut;
use common::{backends, zone_plate_pictures};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use selkies_rs::encode::{self, EncoderConfig};
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
            let config = EncoderConfig {
                width: w,
                height: h,
                fps: 60,
                bitrate_kbps: 8000,
                threads: 0,
            };
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

criterion_group!(benches, encoders);
criterion_main!(benches);
