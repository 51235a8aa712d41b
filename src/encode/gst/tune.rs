//! Per-element tuning: Selkies' low-latency defaults, bitrate properties and their units, and
//! setting properties from strings without the panics of glib's own setters.

use super::*;

/// `key=value` items after the element name, as given (for the description).
pub(super) fn user_props(element: &str) -> String {
    element
        .split_once(char::is_whitespace)
        .map(|(_, rest)| format!(" {}", rest.trim()))
        .unwrap_or_default()
}

/// Property names the user set in an `Element` spec; defaults must not override them.
pub(super) fn user_keys(element: &str) -> Vec<String> {
    element
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.split_once('='))
        .map(|(k, _)| k.replace('_', "-"))
        .collect()
}

/// Applies low-latency defaults and the rate settings the user did not set; returns them as
/// ` key=value` text for the description.
pub(super) fn tune(enc: &gst::Element, factory: &str, spec: &str, c: &EncoderConfig) -> String {
    let given = user_keys(spec);
    let threads = if c.threads > 0 {
        c.threads
    } else {
        // Selkies: min(4, cores - 1); more threads add latency for little gain.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        u32::try_from(cores.saturating_sub(1).clamp(1, 4)).unwrap_or(1)
    };
    let mut applied = String::new();
    let mut record = |name: &str, value: &str, res: Result<(), String>| match res {
        Ok(()) => applied.push_str(&format!(" {name}={value}")),
        Err(e) => tracing::warn!("GStreamer {factory}: not setting {name}={value}: {e}"),
    };
    for (name, value) in low_latency_defaults(factory, threads) {
        if !given.iter().any(|g| g == name) && enc.find_property(name).is_some() {
            record(name, &value, set_prop(enc, name, &value));
        }
    }
    for (name, value) in rate_settings(factory, c.bitrate_kbps, c.fps) {
        if !given.iter().any(|g| g == name) && enc.find_property(name).is_some() {
            record(name, &value.to_string(), set_number(enc, name, value));
        }
    }
    applied
}

/// Selkies' tuning per element (selkies-gstreamer `gstwebrtc_app.py`), minus the rate settings.
pub(super) fn low_latency_defaults(factory: &str, threads: u32) -> Vec<(&'static str, String)> {
    let fixed: &[(&'static str, &str)] = match factory {
        "x264enc" => &[
            ("speed-preset", "ultrafast"),
            ("tune", "zerolatency"),
            ("pass", "cbr"),
            ("bframes", "0"),
            ("b-adapt", "false"),
            ("dct8x8", "false"),
            ("insert-vui", "true"),
            ("key-int-max", "2147483647"),
            ("mb-tree", "false"),
            ("rc-lookahead", "0"),
            ("sync-lookahead", "0"),
            ("sliced-threads", "true"),
            ("byte-stream", "true"),
        ],
        "vp8enc" | "vp9enc" => &[
            ("deadline", "1"),
            ("cpu-used", "-16"),
            ("end-usage", "cbr"),
            ("lag-in-frames", "0"),
            ("keyframe-mode", "disabled"),
            ("keyframe-max-dist", "2147483647"),
            ("overshoot", "10"),
            ("undershoot", "25"),
            ("max-intra-bitrate", "250"),
            ("tuning", "psnr"),
            ("row-mt", "true"),
            ("frame-parallel-decoding", "true"),
        ],
        "openh264enc" => &[
            ("usage-type", "screen"),
            ("complexity", "low"),
            ("enable-frame-skip", "false"),
            ("scene-change-detection", "false"),
            ("rate-control", "bitrate"),
        ],
        "nvh264enc" | "nvh265enc" => &[
            ("rc-mode", "cbr"),
            ("gop-size", "-1"),
            ("strict-gop", "true"),
            ("aud", "false"),
            ("b-adapt", "false"),
            ("rc-lookahead", "0"),
            ("bframes", "0"),
            ("zerolatency", "true"),
            ("cabac", "true"),
            ("repeat-sequence-header", "true"),
            ("preset", "p4"),
            ("tune", "ultra-low-latency"),
            ("multi-pass", "two-pass-quarter"),
        ],
        "vah264enc" | "vah265enc" => &[
            ("rate-control", "cbr"),
            ("b-frames", "0"),
            ("dct8x8", "false"),
            ("key-int-max", "1024"),
            ("mbbrc", "disabled"),
            ("num-slices", "4"),
            ("ref-frames", "1"),
            ("target-usage", "6"),
        ],
        "av1enc" => &[
            ("usage-profile", "realtime"),
            ("end-usage", "cbr"),
            ("lag-in-frames", "0"),
        ],
        _ => &[],
    };
    let mut v: Vec<_> = fixed.iter().map(|&(k, v)| (k, v.to_string())).collect();
    // vp8enc lacks row-mt and frame-parallel-decoding: set_prop is only tried where they exist.
    match factory {
        "x264enc" | "vp8enc" | "vp9enc" => v.push(("threads", threads.to_string())),
        "openh264enc" => v.push(("num-slices", threads.min(4).to_string())),
        _ => {}
    }
    v
}

#[derive(Clone, Copy)]
pub(super) enum Unit {
    Kbps,
    Bps,
}

/// Which property holds the target bitrate, and in what unit. GStreamer's usual convention is
/// `bitrate` in kbit/s; the exceptions are listed.
pub(super) fn bitrate_property(factory: &str) -> (&'static str, Unit) {
    match factory {
        "vp8enc" | "vp9enc" => ("target-bitrate", Unit::Bps),
        "openh264enc" | "rav1enc" => ("bitrate", Unit::Bps),
        "av1enc" | "svtav1enc" => ("target-bitrate", Unit::Kbps),
        _ => ("bitrate", Unit::Kbps),
    }
}

/// Bitrate plus the rate-control buffer, 1.5 frame times as Selkies uses.
pub(super) fn rate_settings(factory: &str, kbps: u32, fps: u32) -> Vec<(&'static str, i128)> {
    let (prop, unit) = bitrate_property(factory);
    let rate = match unit {
        Unit::Kbps => i128::from(kbps),
        Unit::Bps => i128::from(kbps) * 1000,
    };
    let fps = fps.max(1);
    let buf_ms = i128::from(1000u32.div_ceil(fps)) * 3 / 2;
    let buf_kbit = i128::from(kbps.div_ceil(fps)) * 3 / 2;
    let mut v = vec![(prop, rate)];
    match factory {
        "x264enc" => v.push(("vbv-buf-capacity", buf_ms)),
        "vp8enc" | "vp9enc" => v.extend([
            ("buffer-size", buf_ms),
            ("buffer-initial-size", buf_ms),
            ("buffer-optimal-size", buf_ms),
        ]),
        "nvh264enc" | "nvh265enc" => v.push(("vbv-buffer-size", buf_kbit)),
        "vah264enc" | "vah265enc" => v.push(("cpb-size", buf_kbit)),
        _ => {}
    }
    v
}

/// The integer range of a numeric property, to check values before glib would panic on them.
pub(super) fn int_range(pspec: &glib::ParamSpec) -> Option<(i128, i128)> {
    use glib::{ParamSpecInt, ParamSpecInt64, ParamSpecLong, ParamSpecUInt, ParamSpecUInt64};
    if let Some(p) = pspec.downcast_ref::<ParamSpecInt>() {
        Some((p.minimum().into(), p.maximum().into()))
    } else if let Some(p) = pspec.downcast_ref::<ParamSpecUInt>() {
        Some((p.minimum().into(), p.maximum().into()))
    } else if let Some(p) = pspec.downcast_ref::<ParamSpecInt64>() {
        Some((p.minimum().into(), p.maximum().into()))
    } else if let Some(p) = pspec.downcast_ref::<ParamSpecUInt64>() {
        Some((p.minimum().into(), p.maximum().into()))
    } else {
        pspec
            .downcast_ref::<ParamSpecLong>()
            .map(|p| (p.minimum().into(), p.maximum().into()))
    }
}

/// Sets a property from its `gst-launch` string form, refusing (instead of panicking, as glib's
/// setters do) when it is read-only, unparsable or out of range.
pub(super) fn set_prop(obj: &gst::Element, name: &str, value: &str) -> Result<(), String> {
    let pspec = obj
        .find_property(name)
        .ok_or_else(|| format!("no property {name}"))?;
    let flags = pspec.flags();
    if !flags.contains(glib::ParamFlags::WRITABLE)
        || flags.contains(glib::ParamFlags::CONSTRUCT_ONLY)
    {
        return Err(format!("{name} is not writable"));
    }
    if let Some((lo, hi)) = int_range(&pspec) {
        let n: i128 = value
            .parse()
            .map_err(|_| format!("{name} wants an integer, not {value:?}"))?;
        if !(lo..=hi).contains(&n) {
            return Err(format!("{name}={n} outside {lo}..={hi}"));
        }
    }
    let v = glib::Value::deserialize_with_pspec(value, &pspec)
        .map_err(|_| format!("{value:?} is not a valid {name}"))?;
    if !v.type_().is_a(pspec.value_type()) {
        return Err(format!("{name} has type {}", pspec.value_type()));
    }
    obj.set_property_from_value(name, &v);
    Ok(())
}

/// Sets an integer property clamped to its range (bitrates differ in limits per element).
pub(super) fn set_number(obj: &gst::Element, name: &str, value: i128) -> Result<(), String> {
    let pspec = obj
        .find_property(name)
        .ok_or_else(|| format!("no property {name}"))?;
    let (lo, hi) = int_range(&pspec).ok_or_else(|| format!("{name} is not an integer"))?;
    set_prop(obj, name, &value.clamp(lo, hi).to_string())
}
