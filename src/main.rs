//! The `selkies-rs` command: `serve` streams a desktop; `probe` reports what this host can do;
//! `bench` measures the media path.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use selkies_rs::config::ServeConfig;

#[derive(Parser)]
#[command(
    name = "selkies-rs",
    version,
    about = "Low-latency WebRTC desktop and game streaming for Linux (X11), Selkies-compatible"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Stream an X display to browsers (starts its own Xvfb when DISPLAY is unset).
    Serve(Box<ServeConfig>),
    /// Report the encoders and display features available on this host.
    Probe,
    /// Measure capture → convert → encode against a moving display (table, or JSON lines).
    Bench(Box<selkies_rs::bench::BenchArgs>),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
                .unwrap_or_else(|_| "info,webrtc=warn,rtc=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(config) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(selkies_rs::serve::run(*config)),
        Command::Probe => {
            selkies_rs::probe::print();
            Ok(())
        }
        Command::Bench(args) => selkies_rs::bench::run(*args),
    }
}
