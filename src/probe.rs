//! `selkies-rs probe`: which encoders and display features this host has, with the reason for
//! each one that is missing.

/// One capability and whether it is usable here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capability {
    pub name: String,
    pub available: Result<String, String>,
}

/// Checks every backend without starting a stream.
pub fn capabilities() -> Vec<Capability> {
    let mut caps = encoders();
    caps.extend(platform());
    caps
}

/// Every encoder backend for every codec it could make, opened for real at a small size.
fn encoders() -> Vec<Capability> {
    use crate::encode::{self, Codec, EncoderConfig, EncoderKind, EncoderSettings};
    let config = EncoderConfig::PROBE;
    let mut caps = Vec::new();
    for kind in EncoderKind::AUTO_ORDER {
        for codec in Codec::PREFERENCE {
            if !kind.supports(codec) {
                continue;
            }
            let available = match encode::open_one(kind, &EncoderSettings::new(kind), codec, config)
            {
                Ok(e) => Ok(e.name().to_owned()),
                Err(e) => Err(e.to_string()),
            };
            caps.push(Capability {
                name: format!("encoder {kind} {codec}"),
                available,
            });
        }
    }
    caps.push(Capability {
        name: "FFmpeg video encoders".into(),
        available: Ok(format!(
            "libavcodec {}: {}",
            selkies_av::libavcodec_version(),
            selkies_av::video_encoders()
                .into_iter()
                .filter(|n| INTERESTING.iter().any(|i| n.contains(i)))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    });
    caps.push(Capability {
        name: "GStreamer encoders".into(),
        available: encode::gst::probe()
            .map(|v| format!("{v}: {}", encode::gst::encoders_available().join(", "))),
    });
    caps
}

/// The FFmpeg encoders worth listing: the codecs browsers receive.
const INTERESTING: [&str; 7] = ["264", "265", "hevc", "vp8", "vp9", "av1", "libvpx"];

fn platform() -> Vec<Capability> {
    let display = match crate::capture::XshmCapture::open(None) {
        Ok(c) => {
            let (w, h) = c.size();
            Ok(format!(
                "{w}x{h} via MIT-SHM on {}",
                std::env::var("DISPLAY").unwrap_or_default()
            ))
        }
        Err(e) => Err(e.to_string()),
    };
    let xvfb = which("Xvfb")
        .map(|p| format!("{p} (used when DISPLAY is unset)"))
        .ok_or_else(|| "Xvfb not found: install xvfb".to_owned());
    vec![
        Capability {
            name: "capture (DISPLAY)".into(),
            available: display,
        },
        Capability {
            name: "virtual display".into(),
            available: xvfb,
        },
        Capability {
            name: "kernel gamepads".into(),
            available: selkies_uinput::probe(std::path::Path::new(selkies_uinput::DEFAULT_PATH))
                .map(|()| format!("{} (uinput)", selkies_uinput::DEFAULT_PATH)),
        },
        Capability {
            name: "interposer gamepads".into(),
            available: Ok("LD_PRELOAD=libselkies_js_interposer.so <game>".to_owned()),
        },
    ]
}

fn which(bin: &str) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(bin))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

/// Prints the report.
pub fn print() {
    for c in capabilities() {
        match c.available {
            Ok(detail) => println!("{:<28} available: {detail}", c.name),
            Err(reason) => println!("{:<28} unavailable: {reason}", c.name),
        }
    }
}
