//! `selkies-rs serve`: puts the pieces together (display, pipeline, HTTP/signalling server) and
//! runs until SIGINT/SIGTERM.

use crate::audio::{AudioConfig, AudioHub};
use crate::capture::animate::Animator;
use crate::capture::display::VirtualDisplay;
use crate::capture::randr::Resizer;
use crate::config::ServeConfig;
use crate::cursor::watch::CursorWatcher;
use crate::input::clipboard::{Clipboard, ClipboardConfig};
use crate::input::gamepad::{GamepadConfig, GamepadHub};
use crate::input::service::InputService;
use crate::media::MediaHub;
use crate::pipeline::PipelineConfig;
use crate::rtc::RtcConfig;
use crate::services::Services;
use crate::signal::auth::{self, BasicAuth};
use crate::signal::server;
use crate::signal::state::{ServerState, Sessions};
use crate::signal::{tls, turn};
use anyhow::Context as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Runs the server.
///
/// # Errors
/// The largest size our own virtual display can be resized to when resizing is enabled.
const GROWABLE: (u32, u32) = (3840, 2160);

/// A message for the operator when something cannot start (bad setting, no X display, port in
/// use, unreadable certificate).
pub async fn run(config: ServeConfig) -> anyhow::Result<()> {
    config.validate()?;
    // Our own display when none is given: the virtual display and its painter live as long as
    // the server.
    let (display, framebuffer, _own_display, _animator) = match &config.display {
        Some(d) => (d.clone(), config.xvfb_framebuffer.clone(), None, None),
        None => {
            let (w, h) = config.virtual_size;
            // Xvfb cannot grow past its start size: start it large when viewers may resize.
            let (start_w, start_h) = if config.enable_resize {
                (w.max(GROWABLE.0), h.max(GROWABLE.1))
            } else {
                (w, h)
            };
            let vd = VirtualDisplay::start(start_w, start_h)
                .context("DISPLAY is unset and a virtual display could not start")?;
            let name = vd.name();
            if (start_w, start_h) != (w, h) {
                Resizer::open(&name)
                    .and_then(|r| r.resize(w, h))
                    .context("setting the virtual display's size")?;
            }
            let anim = Animator::start(&name, config.virtual_content, 30)
                .context("painting the virtual display")?;
            tracing::info!(display = %name, width = w, height = h, pid = vd.pid(), "started a virtual X display (Xvfb)");
            (name, vd.framebuffer(), Some(vd), Some(anim))
        }
    };
    let media = MediaHub::start(
        PipelineConfig {
            display: Some(display.clone()),
            fps: config.framerate,
            bitrate_kbps: config.video_bitrate,
            encoder: config.encoder_settings(),
            codec: crate::encode::Codec::H264,
            threads: config.encoder_threads,
            always_encode: false,
            skip_unchanged: true,
            framebuffer,
        },
        config.codec_choice(),
    )
    .with_context(|| format!("cannot stream display {display}"))?;
    let media = Arc::new(media);

    let input = match InputService::start(Some(&display)) {
        Ok(input) => Some(input),
        Err(e) => {
            tracing::error!(error = %e, "input injection is off: viewers can watch but not control");
            None
        }
    };

    let resizer = if config.enable_resize {
        match Resizer::open(&display) {
            Ok(r) => Some(Arc::new(r)),
            Err(e) => {
                tracing::error!(error = %e, "resizing is off");
                None
            }
        }
    } else {
        None
    };
    let gamepads = match GamepadHub::start(GamepadConfig {
        socket_dir: config.gamepad_socket_dir.clone(),
        kernel: config.uinput_gamepad,
        ..GamepadConfig::default()
    }) {
        Ok(hub) => {
            tracing::info!(dir = %config.gamepad_socket_dir.display(), "gamepads: interposer sockets ready");
            Some(Arc::new(hub))
        }
        Err(e) => {
            tracing::error!(error = %e, "gamepads are off");
            None
        }
    };
    let clipboard = if config.enable_clipboard.allows_in() || config.enable_clipboard.allows_out() {
        match Clipboard::start(
            &display,
            ClipboardConfig {
                policy: config.enable_clipboard,
                max_bytes: config.clipboard_max_bytes,
                binary: config.enable_binary_clipboard,
            },
        ) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(error = %e, "clipboard sharing is off");
                None
            }
        }
    } else {
        None
    };
    let cursor = match CursorWatcher::start(&display) {
        Ok(cursor) => Some(cursor),
        Err(e) => {
            tracing::warn!(error = %e, "the cursor is not sent to viewers");
            None
        }
    };

    let audio = if config.enable_audio {
        let audio_config = AudioConfig {
            bitrate_bps: config.audio_bitrate,
            device: config.audio_device.clone(),
        };
        match AudioHub::start(audio_config) {
            Ok(hub) => {
                tracing::info!(
                    kbps = config.audio_bitrate / 1000,
                    "audio: PulseAudio ready"
                );
                Some(Arc::new(hub))
            }
            Err(e) => {
                tracing::warn!("audio unavailable: {e}");
                None
            }
        }
    } else {
        None
    };
    let auth = if config.enable_basic_auth {
        let password = config
            .basic_auth_password
            .clone()
            .unwrap_or_else(auth::generate_password);
        if config.basic_auth_password.is_none() {
            println!(
                "Generated password for user '{}': {password}",
                config.basic_auth_user
            );
            println!("(set SELKIES_BASIC_AUTH_PASSWORD to choose one)");
        }
        let auth = BasicAuth::new(&config.basic_auth_user, &password);
        Some(match &config.view_only_password {
            Some(view) => auth.with_view_only(&config.basic_auth_user, view),
            None => auth,
        })
    } else {
        tracing::warn!("basic auth is disabled: anyone who reaches the port controls this desktop");
        None
    };
    let acceptor = if config.enable_https {
        Some(match (&config.https_cert, &config.https_key) {
            (Some(c), Some(k)) => tls::from_pem_files(c, k)?,
            _ => {
                tracing::warn!("no certificate given: using a self-signed one for localhost");
                tls::self_signed()?
            }
        })
    } else {
        None
    };
    let turn = turn::TurnConfig {
        stun: config.stun_host.clone().map(|h| (h, config.stun_port)),
        turn: config.turn_host.clone().map(|h| (h, config.turn_port)),
        shared_secret: config.turn_shared_secret.clone(),
        username: config.turn_username.clone(),
        password: config.turn_password.clone(),
        user: config.basic_auth_user.clone(),
        ttl: Duration::from_secs(24 * 3600),
        force_relay: config.turn_force_relay,
        now_unix: 0,
    };
    let rtc = RtcConfig {
        udp_addr: config.webrtc_addr,
        ice: turn.clone(),
        inject_delay: Duration::from_millis(config.inject_delay_ms),
    };
    let state = Arc::new(ServerState {
        services: Services {
            media: Arc::clone(&media),
            input,
            cursor,
            resizer,
            gamepads,
            clipboard,
            audio,
            viewers: Arc::default(),
        },
        rtc,
        auth,
        turn,
        sessions: Sessions::default(),
        metrics: config.enable_metrics_http,
    });
    let addr = SocketAddr::new(config.addr, config.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    let shown = if config.addr.is_unspecified() {
        "localhost".to_owned()
    } else {
        config.addr.to_string()
    };
    println!(
        "selkies-rs streaming display {display} at {scheme}://{shown}:{}/",
        config.port
    );
    if config.enable_basic_auth {
        println!("Log in as user '{}'", config.basic_auth_user);
    }
    let server = tokio::spawn(server::run(listener, state, acceptor));
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.abort();
    drop(media);
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = ctrl_c.await;
}
