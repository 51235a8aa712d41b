//! The media path allocates nothing per frame once warmed up: capture into the shared-memory
//! segment, conversion into pooled planes, x264 into the reused output buffer, fan-out as
//! `Bytes`. Counted with a global allocator that sees every Rust allocation in this process.
//!
//! Its own `main` (no libtest harness): libtest's threads print and allocate while tests run,
//! which a process-wide count would see. The moving content is painted by a second copy of this
//! binary (`ZERO_ALLOC_PAINT=:N`), so the painter's work is not counted either.

use anyhow::{bail, ensure, Context, Result};
use selkies_countalloc::{allocations, bytes, Counting};
use selkies_rs::capture::animate::{Animator, Content};
use selkies_rs::capture::display::VirtualDisplay;
use selkies_rs::encode::{Codec, EncoderKind, EncoderSettings};
use selkies_rs::pipeline::{Pipeline, PipelineConfig};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[global_allocator]
static ALLOC: Counting = Counting;

const WARMUP_FRAMES: usize = 120;
const FRAMES: usize = 300;

fn main() -> Result<()> {
    if let Ok(display) = std::env::var("ZERO_ALLOC_PAINT") {
        let _painter = Animator::start(&display, Content::Motion, 60)?;
        // Until the parent kills us.
        loop {
            std::thread::sleep(Duration::from_secs(60));
        }
    }
    // `cargo test -- <filter>` runs every test binary with the filter: honour it roughly.
    let name = "the_media_path_allocates_nothing_per_frame";
    if let Some(filter) = std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        if !name.contains(&filter) {
            return Ok(());
        }
    }
    let result = the_media_path_allocates_nothing_per_frame();
    println!(
        "test {name} ... {}",
        if result.is_ok() { "ok" } else { "FAILED" }
    );
    result
}

/// The painter process; killed and reaped on drop.
struct PainterProcess(Child);

impl Drop for PainterProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn the_media_path_allocates_nothing_per_frame() -> Result<()> {
    let display = VirtualDisplay::start(640, 480)?;
    let _painter = PainterProcess(
        Command::new(std::env::current_exe()?)
            .env("ZERO_ALLOC_PAINT", display.name())
            .stdin(Stdio::null())
            .spawn()
            .context("start the painter process")?,
    );
    let pipeline = Pipeline::start(PipelineConfig {
        display: Some(display.name()),
        fps: 60,
        bitrate_kbps: 4000,
        encoder: EncoderSettings::new(EncoderKind::X264),
        codec: Codec::H264,
        threads: 0,
        always_encode: false,
        skip_unchanged: true,
        framebuffer: display.framebuffer(),
    })?;
    // The counter sees this process's allocations (starting a pipeline makes plenty).
    ensure!(allocations() > 0, "the counting allocator is not installed");
    let handle = pipeline.handle();
    let mut rx = handle.subscribe();
    let mut next = || -> Result<usize> {
        match rx.blocking_recv() {
            Ok(f) => Ok(f.data.len()),
            Err(e) => bail!("frame stream: {e}"),
        }
    };
    // Warm-up: the first IDR, rate control settling, the painter getting going.
    for _ in 0..WARMUP_FRAMES {
        next()?;
    }
    let (allocs_before, bytes_before) = (allocations(), bytes());
    let mut encoded = 0;
    for _ in 0..FRAMES {
        encoded += next()?;
    }
    let (allocs, alloc_bytes) = (allocations() - allocs_before, bytes() - bytes_before);
    drop(handle);
    drop(pipeline);
    println!(
        "{FRAMES} frames ({} KB encoded): {allocs} allocations, {} KB allocated",
        encoded / 1024,
        alloc_bytes / 1024
    );
    ensure!(
        encoded > FRAMES * 100,
        "the screen did not move: {encoded} bytes"
    );
    ensure!(
        allocs == 0,
        "{allocs} allocations ({alloc_bytes} bytes) in {FRAMES} frames after warm-up"
    );
    Ok(())
}
