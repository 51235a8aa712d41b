//! The test harness itself works: Xvfb + painter, headless Chromium over CDP (evaluation, extra
//! headers, reading `<video>` pixels, clean shutdown), and the FFmpeg helpers. No selkies server
//! is involved, so a failure here points at the environment or the helpers.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};
use common::{colour_close, procs, Chromium, Painter};
use selkies_rs::capture::display::VirtualDisplay;

#[test]
fn free_port_is_bindable() -> Result<()> {
    let port = common::free_port();
    assert_ne!(port, 0);
    TcpListener::bind(("127.0.0.1", port)).context("bind the port free_port returned")?;
    Ok(())
}

#[test]
fn painter_draws_on_a_virtual_display() -> Result<()> {
    let display = VirtualDisplay::start(320, 240)?;
    let mut painter = Painter::connect(&display.name())?;
    assert_eq!(painter.size(), (320, 240));
    painter.fill_screen([0, 0, 255])?;
    painter.fill_rect(10, 20, 30, 40, [200, 100, 50])?;
    painter.sync()?;
    assert_eq!(painter.pixel(10, 20)?, [200, 100, 50]);
    assert_eq!(painter.pixel(39, 59)?, [200, 100, 50]);
    assert_eq!(painter.pixel(40, 60)?, [0, 0, 255]);
    assert_eq!(painter.pixel(319, 239)?, [0, 0, 255]);
    Ok(())
}

/// A page whose `<video id="stream">` plays a canvas of one colour, like our client's video.
const VIDEO_PAGE: &str = r#"<!doctype html><html><body>
<canvas id="src" width="320" height="240"></canvas>
<video id="stream" autoplay muted playsinline></video>
<script>
const c = document.getElementById('src');
const g = c.getContext('2d');
// captureStream only emits a frame when the canvas changes: keep repainting.
function paint() { g.fillStyle = 'rgb(200, 40, 120)'; g.fillRect(0, 0, c.width, c.height); }
paint();
setInterval(paint, 30);
const v = document.getElementById('stream');
v.srcObject = c.captureStream(30);
v.play();
</script></body></html>"#;

#[test]
fn chromium_evaluates_reads_video_pixels_and_stops_cleanly() -> Result<()> {
    let server = PageServer::start(VIDEO_PAGE)?;
    let mut chrome = Chromium::launch("about:blank")?;

    let cdp = chrome.cdp();
    assert_eq!(cdp.eval("1+1")?, serde_json::json!(2));
    assert_eq!(
        cdp.eval("new Promise(r => setTimeout(() => r('later'), 10))")?,
        serde_json::json!("later")
    );
    let thrown = cdp
        .eval("(() => { throw new Error('boom'); })()")
        .expect_err("a JS exception must be an error");
    assert!(format!("{thrown:#}").contains("boom"), "{thrown:#}");
    assert!(cdp.wait_for("false", Duration::from_millis(200)).is_err());

    cdp.set_extra_headers(&[("Authorization", "Basic dXNlcjpwYXNz")])?;
    cdp.navigate(&server.url())?;
    let first = server
        .requests()
        .into_iter()
        .find(|r| r.starts_with("GET / "))
        .context("the page was never requested")?;
    assert!(
        first.contains("Authorization: Basic dXNlcjpwYXNz")
            || first.contains("authorization: Basic dXNlcjpwYXNz"),
        "extra header missing from:\n{first}"
    );

    cdp.wait_for(
        "document.getElementById('stream').videoWidth > 0",
        Duration::from_secs(20),
    )
    .with_context(|| format!("chromium stderr:\n{}", chrome.stderr_tail()))?;
    let cdp = chrome.cdp();
    let px = cdp.video_pixel(160, 120)?;
    assert!(colour_close(px, [200, 40, 120], 12), "video pixel {px:?}");
    let corners = cdp.video_pixels(&[(0, 0), (319, 239)])?;
    assert!(
        corners.iter().all(|&p| colour_close(p, [200, 40, 120], 12)),
        "{corners:?}"
    );
    assert!(
        cdp.video_pixel(320, 0).is_err(),
        "outside the video must fail"
    );

    let pids = chrome.pids();
    assert!(pids.contains(&chrome.pid()), "{pids:?}");
    assert!(pids.len() > 1, "expected renderer processes too: {pids:?}");
    drop(chrome);
    let left = procs::wait_gone(&pids, Duration::from_secs(5));
    assert!(
        left.is_empty(),
        "chromium processes still running: {left:?}"
    );
    Ok(())
}

#[test]
fn ffmpeg_helpers_decode_and_probe() -> Result<()> {
    let path = std::env::temp_dir().join(format!("selkies-selftest-{}.h264", std::process::id()));
    let _cleanup = RemoveOnDrop(path.clone());
    let status = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-f", "lavfi"])
        .args(["-i", "color=c=0x20c040:s=64x48:r=10", "-frames:v", "5"])
        .args([
            "-c:v", "libx264", "-bf", "0", "-g", "3", "-pix_fmt", "yuv420p",
        ])
        .arg(&path)
        .status()
        .context("run ffmpeg (Debian: apt-get install ffmpeg)")?;
    assert!(status.success(), "ffmpeg could not make a test stream");

    let frames = common::decode_h264_to_rgb(&path)?;
    assert_eq!(frames.len(), 5);
    for f in &frames {
        assert_eq!((f.width, f.height), (64, 48));
        let px = f.pixel(32, 24);
        assert!(colour_close(px, [0x20, 0xc0, 0x40], 6), "{px:?}");
    }
    assert_eq!(
        common::probe_pict_types(&path)?,
        vec!['I', 'P', 'P', 'I', 'P']
    );
    let keys: Vec<bool> = common::ffmpeg::probe_frames(&path)?
        .iter()
        .map(|f| f.key_frame)
        .collect();
    assert_eq!(keys, vec![true, false, false, true, false]);

    let bytes = std::fs::read(&path)?;
    assert_eq!(common::ffmpeg::decode_h264_bytes_to_rgb(&bytes)?.len(), 5);
    assert!(common::decode_h264_to_rgb("/nonexistent.h264").is_err());
    Ok(())
}

struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Serves one HTML page on loopback and records the request heads it received.
struct PageServer {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PageServer {
    fn start(html: &'static str) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").context("bind page server")?;
        let port = listener.local_addr()?.port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (reqs, stopping) = (Arc::clone(&requests), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                if let Some(head) = serve(conn, html) {
                    if let Ok(mut r) = reqs.lock() {
                        r.push(head);
                    }
                }
            }
        });
        Ok(Self {
            port,
            requests,
            stop,
            thread: Some(thread),
        })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers one request (HTTP/1.0 style: one response, then close); returns its head.
fn serve(mut conn: TcpStream, html: &str) -> Option<String> {
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let (status, body) = if head.starts_with("GET / ") {
        ("200 OK", html)
    } else {
        ("404 Not Found", "")
    };
    let _ = write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    Some(head)
}
