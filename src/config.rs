//! Every `serve` setting: its flag, its Selkies environment variable, its default, and the
//! checks run at start so a bad deployment fails with a message instead of half-working.
//!
//! The variable names are Selkies' own, so an existing Selkies deployment's environment works
//! unchanged. Nothing here opens sockets or files beyond checking that named files exist.

use crate::capture::animate::Content;
use crate::encode::{CodecChoice, EncoderArg, EncoderSettings, RateControlChoice};
use crate::pipeline::{BITRATE_KBPS_RANGE, FPS_RANGE};
use clap::builder::BoolishValueParser;
use std::net::IpAddr;
use std::path::PathBuf;

/// Settings of `selkies-rs serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "SELKIES_ADDR", default_value = "0.0.0.0")]
    pub addr: IpAddr,
    /// Port for HTTP(S), the web client and the signalling WebSocket.
    #[arg(long, env = "SELKIES_PORT", default_value_t = 8080)]
    pub port: u16,
    /// Video encoder: auto (NVENC, then VA-API, then software), x264, nvenc, vaapi, software
    /// (libvpx, SVT-AV1/libaom), gstreamer; Selkies' element names (nvh264enc, vah264enc,
    /// x264enc, vp8enc, vp9enc, av1enc…) also select their codec.
    #[arg(long, env = "SELKIES_ENCODER", default_value = "auto")]
    pub encoder: EncoderArg,
    /// Video codec: auto (the first of h264, vp9, av1, vp8 that the browser accepts and an
    /// encoder here produces), or one of h264, vp9, av1, vp8, h265 to force it.
    #[arg(long, env = "SELKIES_VIDEO_CODEC", default_value = "auto")]
    pub codec: CodecChoice,
    /// For --encoder gstreamer: an encoder element with its properties (`x264enc speed-preset=1`)
    /// or a pipeline section between the raw I420 source and the encoded sink
    /// (`videoconvert ! x264enc ! h264parse`). Unset: the codec's usual element.
    #[arg(long, env = "SELKIES_GSTREAMER_ENCODER")]
    pub gstreamer_encoder: Option<String>,
    /// DRM render node for VA-API (unset: the first /dev/dri/renderD*).
    #[arg(long, env = "SELKIES_VAAPI_DEVICE")]
    pub vaapi_device: Option<PathBuf>,
    /// x264: refresh the picture with a moving intra column instead of sending whole keyframes
    /// (smaller bursts; a joining viewer sees a full picture after one refresh period).
    #[arg(long, env = "SELKIES_INTRA_REFRESH", default_value = "false", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub intra_refresh: bool,
    /// x264 rate control: selkies (our own, over constant-QP x264: cheaper per frame) or x264
    /// (x264's CBR with a 1.5-frame VBV).
    #[arg(long, env = "SELKIES_RATE_CONTROL", default_value = "selkies")]
    pub rate_control: RateControlChoice,
    /// Target frame rate (1–240).
    #[arg(long, env = "SELKIES_FRAMERATE", default_value_t = 60)]
    pub framerate: u32,
    /// Video bitrate in kbit/s (100–1000000).
    #[arg(long, env = "SELKIES_VIDEO_BITRATE", default_value_t = 8000)]
    pub video_bitrate: u32,
    /// Send the desktop's sound (PulseAudio's default sink monitor, as Opus) to viewers.
    #[arg(long, env = "SELKIES_ENABLE_AUDIO", default_value = "true", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub enable_audio: bool,
    /// Opus bitrate in bit/s (6000–510000), as Selkies' `audio_bitrate`.
    #[arg(long, env = "SELKIES_AUDIO_BITRATE", default_value_t = 128_000)]
    pub audio_bitrate: u32,
    /// PulseAudio source to record instead of the default sink's monitor (`pactl list sources`).
    #[arg(long, env = "SELKIES_AUDIO_DEVICE")]
    pub audio_device: Option<String>,
    /// Require HTTP basic auth for everything (pages, /turn, the WebSocket).
    #[arg(long, env = "SELKIES_ENABLE_BASIC_AUTH", default_value = "true", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub enable_basic_auth: bool,
    /// Basic auth user name.
    #[arg(long, env = "SELKIES_BASIC_AUTH_USER", default_value = "selkies")]
    pub basic_auth_user: String,
    /// Basic auth password. There is no built-in default: when unset, a random one is generated
    /// and printed at start.
    #[arg(long, env = "SELKIES_BASIC_AUTH_PASSWORD", hide_env_values = true)]
    pub basic_auth_password: Option<String>,
    /// A second password for the same user that logs in view-only: the stream plays, but keyboard,
    /// mouse, gamepad and clipboard input is dropped. Needs basic auth.
    #[arg(long, env = "SELKIES_VIEW_ONLY_PASSWORD", hide_env_values = true)]
    pub view_only_password: Option<String>,
    /// Serve HTTPS/WSS (needs --https-cert and --https-key, or generates a self-signed
    /// certificate for localhost when both are unset).
    #[arg(long, env = "SELKIES_ENABLE_HTTPS", default_value = "false", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub enable_https: bool,
    /// PEM certificate chain for HTTPS.
    #[arg(long, env = "SELKIES_HTTPS_CERT")]
    pub https_cert: Option<PathBuf>,
    /// PEM private key for HTTPS.
    #[arg(long, env = "SELKIES_HTTPS_KEY")]
    pub https_key: Option<PathBuf>,
    /// STUN server host given to browsers.
    #[arg(long, env = "SELKIES_STUN_HOST")]
    pub stun_host: Option<String>,
    /// STUN server port.
    #[arg(long, env = "SELKIES_STUN_PORT", default_value_t = 3478)]
    pub stun_port: u16,
    /// TURN server host (relay for browsers behind NAT/firewalls).
    #[arg(long, env = "SELKIES_TURN_HOST")]
    pub turn_host: Option<String>,
    /// TURN server port.
    #[arg(long, env = "SELKIES_TURN_PORT", default_value_t = 3478)]
    pub turn_port: u16,
    /// TURN REST shared secret (coturn `static-auth-secret`): credentials are minted per request.
    #[arg(long, env = "SELKIES_TURN_SHARED_SECRET", hide_env_values = true)]
    pub turn_shared_secret: Option<String>,
    /// Static TURN user name (instead of a shared secret).
    #[arg(long, env = "SELKIES_TURN_USERNAME")]
    pub turn_username: Option<String>,
    /// Static TURN password.
    #[arg(long, env = "SELKIES_TURN_PASSWORD", hide_env_values = true)]
    pub turn_password: Option<String>,
    /// Clipboard sharing: `true`/`both`, `in` (browser → desktop only), `out` (desktop → browser
    /// only), `false`/`off`.
    #[arg(long, env = "SELKIES_ENABLE_CLIPBOARD", default_value = "true")]
    pub enable_clipboard: crate::input::clipboard::Policy,
    /// Whether images (PNG) are shared too, not only text.
    #[arg(long, env = "SELKIES_ENABLE_BINARY_CLIPBOARD", default_value = "true", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub enable_binary_clipboard: bool,
    /// Largest clipboard content in bytes, either direction; larger is refused with a log line.
    #[arg(long, env = "SELKIES_CLIPBOARD_MAX_BYTES", default_value_t = crate::input::clipboard::DEFAULT_MAX_BYTES)]
    pub clipboard_max_bytes: usize,
    /// Directory of the gamepad sockets the joystick interposer connects to
    /// (`selkies_js0..3.sock`, `selkies_event1000..1003.sock`). The interposer reads the same
    /// variable, so one setting serves both sides.
    #[arg(long, env = "SELKIES_INTERPOSER_SOCKET_DIR", default_value = "/tmp")]
    pub gamepad_socket_dir: std::path::PathBuf,
    /// Kernel gamepads through /dev/uinput as well as the interposer sockets: auto (when usable),
    /// true (required), false.
    #[arg(
        long,
        env = "SELKIES_UINPUT_GAMEPAD",
        value_enum,
        default_value = "auto"
    )]
    pub uinput_gamepad: crate::input::gamepad::KernelPads,
    /// Let viewers resize the X screen to their window (`r,WxH`, through RandR). With our own
    /// virtual display, it is started large enough to grow to 3840x2160.
    #[arg(long, env = "SELKIES_ENABLE_RESIZE", default_value = "false", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub enable_resize: bool,
    /// Serve Prometheus metrics at `/metrics` on the main port (OpenMetrics text; behind basic
    /// auth when that is on): frames, latency, viewers, input, CPU and memory.
    #[arg(long, env = "SELKIES_ENABLE_METRICS_HTTP", default_value = "false", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub enable_metrics_http: bool,
    /// Make browsers use only TURN relays (`iceTransportPolicy: relay`).
    #[arg(long, env = "SELKIES_TURN_FORCE_RELAY", default_value = "false", value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub turn_force_relay: bool,
    /// X display to capture. When unset, selkies-rs starts its own Xvfb.
    #[arg(long, env = "DISPLAY")]
    pub display: Option<String>,
    /// Xvfb's framebuffer file for DISPLAY (Xvfb started with `-fbdir DIR -nocursor`:
    /// `DIR/Xvfb_screen0`): the screen is read in place, with no copy. It is checked against the
    /// screen at start; MIT-SHM grabs are used when it does not match. Our own virtual display
    /// always does this.
    #[arg(long, env = "SELKIES_XVFB_FRAMEBUFFER", value_name = "FILE")]
    pub xvfb_framebuffer: Option<PathBuf>,
    /// Size of the virtual display started when DISPLAY is unset.
    #[arg(long, env = "SELKIES_VIRTUAL_SIZE", default_value = "1920x1080", value_parser = parse_size)]
    pub virtual_size: (u32, u32),
    /// What to paint on the virtual display so the stream is visibly live: desktop, motion,
    /// typing, scrolling, static.
    #[arg(long, env = "SELKIES_VIRTUAL_CONTENT", default_value = "desktop")]
    pub virtual_content: Content,
    /// Local IP address WebRTC media binds to (one UDP socket per interface when unspecified).
    #[arg(long, env = "SELKIES_WEBRTC_ADDR", default_value = "0.0.0.0")]
    pub webrtc_addr: IpAddr,
    /// Encoder threads (0 = the encoder decides).
    #[arg(long, env = "SELKIES_ENCODER_THREADS", default_value_t = 0)]
    pub encoder_threads: u32,
    /// Holds every frame this long before sending it, ms: for checking latency measurements
    /// (`bench --mode glass`), never for use.
    #[arg(long, env = "SELKIES_INJECT_DELAY_MS", default_value_t = 0, hide = true,
          value_parser = clap::value_parser!(u64).range(0..=crate::rtc::delay::MAX_DELAY_MS))]
    pub inject_delay_ms: u64,
}

/// A setting that cannot work, said in the operator's terms.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("SELKIES_ENCODER={encoder} encodes {implied}, but SELKIES_VIDEO_CODEC={codec}")]
    EncoderCodec {
        encoder: String,
        implied: String,
        codec: String,
    },
    #[error("SELKIES_FRAMERATE={0} is out of range 1–240")]
    Framerate(u32),
    #[error("SELKIES_VIDEO_BITRATE={0} kbps is out of range 100–1000000")]
    Bitrate(u32),
    #[error("SELKIES_AUDIO_BITRATE={0} bit/s is out of range 6000–510000")]
    AudioBitrate(u32),
    #[error("SELKIES_PORT=0: choose a port")]
    Port,
    #[error("SELKIES_ENABLE_HTTPS needs both SELKIES_HTTPS_CERT and SELKIES_HTTPS_KEY (or neither, for a self-signed localhost certificate)")]
    HttpsPair,
    #[error("{var}={path}: file not found")]
    MissingFile { var: &'static str, path: String },
    #[error("SELKIES_TURN_HOST is set but neither SELKIES_TURN_SHARED_SECRET nor SELKIES_TURN_USERNAME+SELKIES_TURN_PASSWORD is")]
    TurnCredentials,
    #[error("SELKIES_TURN_FORCE_RELAY needs SELKIES_TURN_HOST")]
    RelayWithoutTurn,
    #[error("SELKIES_BASIC_AUTH_USER must be non-empty and contain no ':'")]
    AuthUser,
    #[error("SELKIES_BASIC_AUTH_PASSWORD is empty; unset it to have one generated")]
    EmptyPassword,
    #[error("SELKIES_VIEW_ONLY_PASSWORD needs SELKIES_ENABLE_BASIC_AUTH=true, must be non-empty and differ from SELKIES_BASIC_AUTH_PASSWORD")]
    ViewOnlyPassword,
}

impl ServeConfig {
    /// The codec choice, with the codec a Selkies element name implies when none is forced.
    pub fn codec_choice(&self) -> CodecChoice {
        match (self.codec, self.encoder.codec) {
            (CodecChoice::Auto, Some(implied)) => CodecChoice::Only(implied),
            (choice, _) => choice,
        }
    }

    /// The encoder settings the pipelines open with.
    pub fn encoder_settings(&self) -> EncoderSettings {
        EncoderSettings {
            kind: self.encoder.kind,
            gstreamer: self.gstreamer_encoder.clone(),
            render_node: self.vaapi_device.clone(),
            intra_refresh: self.intra_refresh,
            rate_control: self.rate_control,
        }
    }

    /// Checks the settings together.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let (Some(implied), CodecChoice::Only(codec)) = (self.encoder.codec, self.codec) {
            if implied != codec {
                return Err(ConfigError::EncoderCodec {
                    encoder: self.encoder.to_string(),
                    implied: implied.to_string(),
                    codec: codec.to_string(),
                });
            }
        }
        if !FPS_RANGE.contains(&self.framerate) {
            return Err(ConfigError::Framerate(self.framerate));
        }
        if !BITRATE_KBPS_RANGE.contains(&self.video_bitrate) {
            return Err(ConfigError::Bitrate(self.video_bitrate));
        }
        if !(6_000..=510_000).contains(&self.audio_bitrate) {
            return Err(ConfigError::AudioBitrate(self.audio_bitrate));
        }
        if self.port == 0 {
            return Err(ConfigError::Port);
        }
        if self.enable_https {
            match (&self.https_cert, &self.https_key) {
                (Some(c), Some(k)) => {
                    for (var, p) in [("SELKIES_HTTPS_CERT", c), ("SELKIES_HTTPS_KEY", k)] {
                        if !p.is_file() {
                            return Err(ConfigError::MissingFile {
                                var,
                                path: p.display().to_string(),
                            });
                        }
                    }
                }
                (None, None) => {}
                _ => return Err(ConfigError::HttpsPair),
            }
        }
        if self.turn_host.is_some()
            && self.turn_shared_secret.is_none()
            && (self.turn_username.is_none() || self.turn_password.is_none())
        {
            return Err(ConfigError::TurnCredentials);
        }
        if self.turn_force_relay && self.turn_host.is_none() {
            return Err(ConfigError::RelayWithoutTurn);
        }
        if self.enable_basic_auth {
            if self.basic_auth_user.is_empty() || self.basic_auth_user.contains(':') {
                return Err(ConfigError::AuthUser);
            }
            if self.basic_auth_password.as_deref() == Some("") {
                return Err(ConfigError::EmptyPassword);
            }
        }
        if let Some(view) = &self.view_only_password {
            if !self.enable_basic_auth
                || view.is_empty()
                || self.basic_auth_password.as_ref() == Some(view)
            {
                return Err(ConfigError::ViewOnlyPassword);
            }
        }
        Ok(())
    }
}

/// Parses `WxH` (both even-sized later by the converter).
///
/// # Errors
/// A message naming the expected form.
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let err = || format!("{s:?} is not WIDTHxHEIGHT (e.g. 1920x1080, each 64–7680)");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(err)?;
    let (w, h): (u32, u32) = (
        w.trim().parse().map_err(|_| err())?,
        h.trim().parse().map_err(|_| err())?,
    );
    if !(64..=7680).contains(&w) || !(64..=7680).contains(&h) {
        return Err(err());
    }
    Ok((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        c: ServeConfig,
    }

    fn parse(args: &[&str]) -> ServeConfig {
        T::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
            .expect("valid flags")
            .c
    }

    #[test]
    fn defaults_are_valid() {
        let c = parse(&[]);
        assert_eq!((c.port, c.framerate, c.video_bitrate), (8080, 60, 8000));
        assert!(c.enable_basic_auth);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn rejects_what_cannot_work() {
        assert_eq!(
            parse(&["--framerate", "0"]).validate(),
            Err(ConfigError::Framerate(0))
        );
        assert_eq!(
            parse(&["--video-bitrate", "5"]).validate(),
            Err(ConfigError::Bitrate(5))
        );
        assert_eq!(
            parse(&["--audio-bitrate", "600000"]).validate(),
            Err(ConfigError::AudioBitrate(600_000))
        );
        assert_eq!(
            parse(&["--enable-https", "true", "--https-cert", "/x"]).validate(),
            Err(ConfigError::HttpsPair)
        );
        assert!(matches!(
            parse(&[
                "--enable-https",
                "1",
                "--https-cert",
                "/nonexistent.pem",
                "--https-key",
                "/nonexistent.key"
            ])
            .validate(),
            Err(ConfigError::MissingFile { .. })
        ));
        assert_eq!(
            parse(&["--turn-host", "turn.example"]).validate(),
            Err(ConfigError::TurnCredentials)
        );
        assert_eq!(
            parse(&["--turn-force-relay", "yes"]).validate(),
            Err(ConfigError::RelayWithoutTurn)
        );
        assert_eq!(
            parse(&["--basic-auth-user", "a:b"]).validate(),
            Err(ConfigError::AuthUser)
        );
        assert_eq!(
            parse(&["--basic-auth-password", ""]).validate(),
            Err(ConfigError::EmptyPassword)
        );
        assert_eq!(
            parse(&["--turn-host", "t", "--turn-shared-secret", "s"]).validate(),
            Ok(())
        );
        for bad in [
            &["--enable-basic-auth", "false", "--view-only-password", "v"][..],
            &["--view-only-password", ""],
            &["--basic-auth-password", "p", "--view-only-password", "p"],
        ] {
            assert_eq!(
                parse(bad).validate(),
                Err(ConfigError::ViewOnlyPassword),
                "{bad:?}"
            );
        }
        assert_eq!(parse(&["--view-only-password", "v"]).validate(), Ok(()));
    }

    #[test]
    fn selkies_boolean_spellings() {
        assert!(!parse(&["--enable-basic-auth", "false"]).enable_basic_auth);
        assert!(!parse(&["--enable-basic-auth", "0"]).enable_basic_auth);
        assert!(parse(&["--enable-basic-auth", "True"]).enable_basic_auth);
        assert!(T::try_parse_from(["t", "--enable-basic-auth", "maybe"]).is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1280x720"), Ok((1280, 720)));
        assert!(parse_size("1280").is_err());
        assert!(parse_size("0x0").is_err());
        assert!(parse_size("99999x10").is_err());
    }
}
