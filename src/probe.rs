//! `selkies-rs probe`: which encoders and display features this host has, with the reason for
//! each one that is missing.

/// One capability and whether it is usable here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capability {
    pub name: &'static str,
    pub available: Result<String, String>,
}

/// Checks every backend without starting a stream.
pub fn capabilities() -> Vec<Capability> {
    let x264 = {
        let params = selkies_x264::Params {
            width: 64,
            height: 64,
            ..Default::default()
        };
        match selkies_x264::Encoder::open(&params) {
            Ok(_) => Ok(format!("libx264 build {}", selkies_x264::version())),
            Err(e) => Err(e.to_string()),
        }
    };
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
            name: "encoder x264",
            available: x264,
        },
        Capability {
            name: "capture (DISPLAY)",
            available: display,
        },
        Capability {
            name: "virtual display",
            available: xvfb,
        },
        Capability {
            name: "kernel gamepads",
            available: selkies_uinput::probe(std::path::Path::new(selkies_uinput::DEFAULT_PATH))
                .map(|()| format!("{} (uinput)", selkies_uinput::DEFAULT_PATH)),
        },
        Capability {
            name: "interposer gamepads",
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
            Ok(detail) => println!("{:<22} available: {detail}", c.name),
            Err(reason) => println!("{:<22} unavailable: {reason}", c.name),
        }
    }
}
