"""pixelflux's x264 path on an X display, measured the way `selkies-rs bench` measures itself.

Usage: python3 pixelflux_bench.py DISPLAY WIDTH HEIGHT FPS KBPS WARMUP_S WINDOW_S
Prints one JSON object. Exit 3 when pixelflux is not installed (pip install pixelflux).
Embedded in the selkies-rs binary for `bench --mode peers`; kept here to be read and run by hand.
"""
import json
import os
import resource
import sys
import time

try:
    import pixelflux
except ImportError as e:  # the bench reports the peer as unavailable
    print(f"pixelflux is not installed ({e}); pip install pixelflux", file=sys.stderr)
    sys.exit(3)

display, width, height, fps, kbps, warmup, window = sys.argv[1:8]
os.environ["DISPLAY"] = display
s = pixelflux.CaptureSettings()
s.capture_width, s.capture_height = int(width), int(height)
s.capture_x = s.capture_y = 0
s.target_fps = float(fps)
s.use_cpu = True
s.video_fullframe = True
s.video_streaming_mode = True  # encode every frame, as the other peers do
s.video_cbr_mode = True
s.video_bitrate_kbps = int(kbps)
s.capture_cursor = False
s.codec = "h264"

state = {"frames": 0, "bytes": 0, "lat": [], "on": False}


def on_frame(frame):
    if not state["on"]:
        return
    state["frames"] += 1
    try:
        state["bytes"] += len(memoryview(frame))
    except TypeError:
        pass
    state["lat"].append((frame.encode_end_ns - frame.capture_ns) / 1e6)


cap = pixelflux.ScreenCapture()
cap.start_capture(on_frame, s)
time.sleep(float(warmup))
r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
state["on"] = True
time.sleep(float(window))
state["on"] = False
r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
cap.stop_capture()

n = max(state["frames"], 1)
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
lat = sorted(state["lat"])


def pct(q):
    return lat[int(q * (len(lat) - 1))] if lat else None


print(json.dumps({
    "frames": state["frames"],
    "seconds": t1 - t0,
    "cpu_ms_per_frame": cpu * 1000 / n,
    "kbps": state["bytes"] * 8 / (t1 - t0) / 1000,
    "latency_p50_ms": pct(0.5),
    "latency_p95_ms": pct(0.95),
    "rss_mb": r1.ru_maxrss / 1024,
}))
