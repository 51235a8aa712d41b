#!/usr/bin/env bash
# Installs the system packages selkies-rs needs to build, run and test, on Debian/Ubuntu.
# Safe to run again. Uses sudo when not root.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Build: libx264 and the XCB extension libraries we link; run: Xvfb for a display of our own;
# tests: Chromium (the browser client), FFmpeg (decodes what we encode), x11-utils (xev),
# x11-xkb-utils (setxkbmap), procps, joystick and evtest (jstest/evtest read our virtual gamepads),
# xclip (an independent X clipboard client for the clipboard tests).
# GStreamer's good/ugly plugins carry vp8enc/vp9enc and x264enc for the fallback encoder's tests.
PACKAGES=(
  build-essential pkg-config
  libx264-dev
  libxcb1-dev libxcb-shm0-dev libxcb-xtest0-dev libxcb-randr0-dev libxcb-xfixes0-dev
  libxcb-damage0-dev libxcb-xkb-dev
  # Encoders through libavcodec (NVENC, VA-API, libvpx, AV1): ffmpeg-next's bindings need clang.
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev libclang-dev
  # Desktop sound: PulseAudio's record API and libopus; the tests run a PulseAudio server.
  libpulse-dev libopus-dev pulseaudio pulseaudio-utils
  # The GStreamer fallback encoder (appsrc → element → appsink).
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  xvfb x11-utils x11-xkb-utils procps
  ffmpeg chromium coturn
  joystick evtest
  xclip
  # tests/metrics_http.rs checks /metrics with an independent OpenMetrics parser.
  python3-prometheus-client
  # bench --mode peers: the Selkies 1.x pipeline (ximagesrc → x264enc).
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
  gstreamer1.0-x
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v node >/dev/null 2>&1; then
  $SUDO apt-get install -y -qq --no-install-recommends nodejs
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "Rust is not installed: install it with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi
# bench --mode peers also runs pixelflux (PyPI); without it that peer is reported unavailable.
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import pixelflux" >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check pixelflux \
    || echo "pixelflux not installed: bench --mode peers will report it unavailable" >&2
fi
echo "dependencies ready"
