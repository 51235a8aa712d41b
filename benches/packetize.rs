//! Per-viewer cost of sending one encoded frame, apart from the network: the access unit cut
//! into RTP packets by the H.264 payloader with our playout-delay extension
//! (`FramePacketizer`, what each viewer's task runs per frame), and then each packet marshalled
//! and SRTP-protected as webrtc-rs does before the socket, with the two profiles browsers
//! negotiate. Real x264 output of the zone plate: an IDR and a P frame at 720p and 1080p.
//!
//! `cargo bench --bench packetize`.

use bytes::BytesMut;
use common::{open_x264, zone_plate_pictures};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rtc::shared::marshal::Marshal;
use rtc::srtp::context::Context;
use rtc::srtp::protection_profile::ProtectionProfile;
use selkies_rs::encode::Codec;
use selkies_rs::pipeline::EncodedFrame;
use selkies_rs::rtc::packetize::FramePacketizer;
use std::hint::black_box;
use std::time::{Duration, Instant};

mod common;

const SIZES: [(u32, u32); 2] = [(1280, 720), (1920, 1080)];
/// Any id 1–14 the answer could give the playout-delay extension.
const PLAYOUT_DELAY_ID: u8 = 5;

/// An IDR and the P frame after it, as the pipeline would broadcast them.
fn frames(w: u32, h: u32) -> [(&'static str, EncodedFrame); 2] {
    let mut encoder = open_x264(w, h);
    let pictures = zone_plate_pictures(w, h);
    let mut encode_one = |i: usize, keyframe: bool| {
        let mut out = BytesMut::with_capacity(1 << 20);
        encoder
            .encode(&pictures[i], keyframe, &mut out)
            .expect("encode");
        let now = Instant::now();
        EncodedFrame {
            data: out.freeze(),
            codec: Codec::H264,
            keyframe,
            seq: i as u64,
            width: w,
            height: h,
            captured_at: now,
            grabbed_at: now,
            converted_at: now,
            encoded_at: now,
            duration: Duration::from_secs(1) / 60,
        }
    };
    let idr = encode_one(0, true);
    let p = encode_one(1, false);
    [("idr", idr), ("p", p)]
}

fn srtp(profile: ProtectionProfile) -> Context {
    let provider = rtc::crypto::default_provider().expect("ring is built in");
    Context::new(
        &vec![0x11; profile.key_len()],
        &vec![0x22; profile.salt_len()],
        profile,
        None,
        None,
        provider.crypto(),
    )
    .expect("key and salt sized for the profile")
}

fn packetize(c: &mut Criterion) {
    let mut group = c.benchmark_group("packetize");
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(3));
    for (w, h) in SIZES {
        for (kind, frame) in frames(w, h) {
            let label = format!("{kind}_{w}x{h}_{}B", frame.data.len());
            group.throughput(Throughput::Bytes(frame.data.len() as u64));
            let mut packetizer =
                FramePacketizer::new(Codec::H264, 102, 0x1234_5678, Some(PLAYOUT_DELAY_ID))
                    .expect("H.264 payloader");
            group.bench_function(BenchmarkId::new("rtp", &label), |b| {
                b.iter(|| black_box(packetizer.packetize(black_box(&frame)).expect("packetize")));
            });
            for (name, profile) in [
                ("rtp_srtp_aes128gcm", ProtectionProfile::AeadAes128Gcm),
                (
                    "rtp_srtp_aes128cm_sha1_80",
                    ProtectionProfile::Aes128CmHmacSha1_80,
                ),
            ] {
                let mut context = srtp(profile);
                group.bench_function(BenchmarkId::new(name, &label), |b| {
                    b.iter(|| {
                        let packets = packetizer.packetize(&frame).expect("packetize");
                        let mut wire = 0usize;
                        for packet in &packets {
                            let plain = packet.marshal().expect("marshal");
                            let sealed = context
                                .encrypt_rtp_with_header(&plain, &packet.header)
                                .expect("encrypt");
                            wire += sealed.len();
                        }
                        black_box(wire)
                    });
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, packetize);
criterion_main!(benches);
