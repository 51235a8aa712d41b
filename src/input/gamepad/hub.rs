//! [`GamepadHub`]: the four pad slots, their interposer sockets, and the `js,*` verbs that drive
//! them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use super::conn::{self, BoundSocket, NodeKind};
use super::error::GamepadError;
use super::kernel::{KernelPadSet, KernelPads};
use super::mapping;
use super::slot::Slot;
use super::wire::WireVersion;
use crate::input::protocol::{Verb, MAX_GAMEPADS};

/// Where and how the hub serves its sockets.
///
/// ```
/// use selkies_rs::input::gamepad::GamepadConfig;
/// let config = GamepadConfig::default();
/// assert_eq!(config.socket_dir, std::path::Path::new("/tmp"));
/// assert_eq!(config.heartbeat_timeout.as_secs(), 5);
/// ```
#[derive(Debug, Clone)]
pub struct GamepadConfig {
    /// Directory of the sockets (`selkies_js{0..3}.sock`, `selkies_event{1000..1003}.sock`).
    /// Selkies uses `/tmp`; the interposer reads `SELKIES_INTERPOSER_SOCKET_DIR` to match another.
    pub socket_dir: PathBuf,
    /// The socket protocol: Selkies 2.x (default; joystick and evdev sockets) or 1.x (joystick
    /// sockets only, for the interposer shipped with selkies-gstreamer).
    pub wire: WireVersion,
    /// A pad whose client sends heartbeats (`js,h`) and then goes quiet this long is released.
    pub heartbeat_timeout: Duration,
    /// Whether each attached slot also gets a kernel pad through uinput.
    pub kernel: KernelPads,
    /// The uinput device node.
    pub uinput_path: PathBuf,
}

impl Default for GamepadConfig {
    fn default() -> Self {
        GamepadConfig {
            socket_dir: PathBuf::from("/tmp"),
            wire: WireVersion::default(),
            heartbeat_timeout: Duration::from_secs(5),
            kernel: KernelPads::Auto,
            uinput_path: PathBuf::from(selkies_uinput::DEFAULT_PATH),
        }
    }
}

/// The four virtual gamepads. Each slot listens on its sockets from start to drop, whether or not
/// a browser pad is attached, so a game can open the device at any time; an unattached pad sits
/// at rest. Dropping the hub closes every reader's connection and removes the socket files.
pub struct GamepadHub {
    slots: Vec<Arc<Slot>>,
    sockets: Vec<BoundSocket>,
    tasks: Vec<JoinHandle<()>>,
    kernel: Option<KernelPadSet>,
}

impl GamepadHub {
    /// Binds every slot's sockets and starts serving them on the current Tokio runtime.
    ///
    /// # Errors
    /// Outside a Tokio runtime, when the directory cannot be created, or when a socket path is
    /// taken (by a live server or by something that is not a socket).
    pub fn start(config: GamepadConfig) -> Result<Self, GamepadError> {
        let runtime = Handle::try_current().map_err(|_| GamepadError::NoRuntime)?;
        std::fs::create_dir_all(&config.socket_dir).map_err(|source| GamepadError::SocketDir {
            path: config.socket_dir.clone(),
            source,
        })?;
        let device = Bytes::from(mapping::device_config().encode(config.wire)?);
        let epoch = Instant::now();
        let mut hub = GamepadHub {
            slots: (0..MAX_GAMEPADS)
                .map(|i| Arc::new(Slot::new(i, epoch)))
                .collect(),
            sockets: Vec::new(),
            tasks: Vec::new(),
            kernel: None,
        };
        hub.kernel = match config.kernel {
            KernelPads::False => None,
            mode => match selkies_uinput::probe(&config.uinput_path) {
                Ok(()) => Some(KernelPadSet::new(
                    config.uinput_path.clone(),
                    runtime.clone(),
                    hub.slots.len(),
                )),
                Err(reason) if mode == KernelPads::True => {
                    return Err(GamepadError::Uinput(reason));
                }
                Err(reason) => {
                    tracing::info!(%reason, "kernel gamepads unavailable; the interposer sockets serve games");
                    None
                }
            },
        };
        let kinds: &[NodeKind] = match config.wire {
            WireVersion::Selkies1 => &[NodeKind::Js],
            WireVersion::Selkies2 => &[NodeKind::Js, NodeKind::Evdev],
        };
        for (index, slot) in (0..MAX_GAMEPADS).zip(&hub.slots) {
            for kind in kinds {
                let path = conn::socket_path(&config.socket_dir, *kind, index);
                // On error `hub` drops here, removing the sockets bound so far.
                let (listener, bound) = conn::bind(&path)?;
                hub.sockets.push(bound);
                hub.tasks.push(runtime.spawn(conn::accept_loop(
                    listener,
                    Arc::clone(slot),
                    *kind,
                    config.wire,
                    device.clone(),
                )));
            }
        }
        hub.tasks
            .push(runtime.spawn(expire_loop(hub.slots.clone(), config.heartbeat_timeout)));
        tracing::info!(
            dir = %config.socket_dir.display(),
            wire = ?config.wire,
            "gamepad sockets ready"
        );
        Ok(hub)
    }

    /// Applies a `js,*` verb: attach (`c`), detach (`d`), button (`b`), axis (`a`), heartbeat
    /// (`h`). Buttons and axes the Xbox layout has no place for are ignored.
    ///
    /// # Errors
    /// For a verb that is not a gamepad verb, or a slot index out of range.
    pub fn apply(&self, verb: &Verb) -> Result<(), GamepadError> {
        let now = Instant::now();
        let slot = |index: u8| {
            self.slots
                .get(usize::from(index))
                .ok_or(GamepadError::NoSuchSlot(index))
        };
        match verb {
            Verb::GamepadConnect {
                index,
                name,
                axes,
                buttons,
            } => {
                if *axes < 4 || *buttons < 17 {
                    tracing::debug!(
                        slot = index,
                        axes,
                        buttons,
                        "gamepad without the standard layout; mapping what it has"
                    );
                }
                let s = slot(*index)?;
                s.attach(name, now);
                if let Some(kernel) = &self.kernel {
                    kernel.ensure(usize::from(*index), s);
                }
            }
            Verb::GamepadDisconnect { index } => slot(*index)?.detach("client detached it"),
            Verb::GamepadButton {
                index,
                button,
                value,
            } => slot(*index)?.button(*button, *value, now),
            Verb::GamepadAxis { index, axis, value } => slot(*index)?.axis(*axis, *value, now),
            Verb::GamepadHeartbeat { index } => slot(*index)?.heartbeat(now),
            _ => return Err(GamepadError::NotGamepad),
        }
        Ok(())
    }

    /// Releases and detaches every pad: buttons up, sticks and d-pad centred, triggers out. Call
    /// it when the controlling client goes away.
    pub fn release_all(&self) {
        for slot in &self.slots {
            slot.detach("client gone");
        }
    }

    /// Releases and detaches one pad, for a server that tracks which client drives which slot.
    ///
    /// # Errors
    /// When `index` is not a slot.
    pub fn release(&self, index: u8) -> Result<(), GamepadError> {
        self.slots
            .get(usize::from(index))
            .ok_or(GamepadError::NoSuchSlot(index))?
            .detach("client gone");
        Ok(())
    }

    /// The socket files being served.
    pub fn socket_paths(&self) -> impl Iterator<Item = &Path> {
        self.sockets.iter().map(|s| s.path.as_path())
    }

    /// How many interposer connections (open device nodes) read slot `index`.
    pub fn reader_count(&self, index: u8) -> usize {
        self.slots
            .get(usize::from(index))
            .map_or(0, |s| s.reader_count())
    }
}

impl Drop for GamepadHub {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        for slot in &self.slots {
            slot.close();
        }
        for socket in &self.sockets {
            socket.unlink();
        }
    }
}

async fn expire_loop(slots: Vec<Arc<Slot>>, timeout: Duration) {
    let mut tick = tokio::time::interval((timeout / 4).max(Duration::from_millis(50)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = Instant::now();
        for slot in &slots {
            slot.expire(now, timeout);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::gamepad::wire::{DeviceConfig, InputEvent, JsEvent, WordSize};
    use crate::input::protocol::parse;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::UnixStream;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("selkies-gamepad-{tag}-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn config(dir: &TempDir, wire: WireVersion) -> GamepadConfig {
        GamepadConfig {
            socket_dir: dir.0.clone(),
            wire,
            heartbeat_timeout: Duration::from_millis(300),
            // Unit tests must not touch a real /dev/uinput where one exists.
            kernel: KernelPads::False,
            ..GamepadConfig::default()
        }
    }

    async fn open(dir: &TempDir, name: &str, wire: WireVersion) -> (UnixStream, DeviceConfig) {
        let mut s = UnixStream::connect(dir.0.join(name))
            .await
            .expect("connect");
        let mut config = vec![0u8; wire.config_len()];
        s.read_exact(&mut config).await.expect("config");
        if wire.has_arch_byte() {
            s.write_all(&[8]).await.expect("word size");
        }
        let config = DeviceConfig::decode(&config, wire).expect("valid config");
        (s, config)
    }

    async fn js_events(s: &mut UnixStream, n: usize) -> Vec<(u8, u8, i16)> {
        let mut out = Vec::new();
        for _ in 0..n {
            let mut b = [0u8; JsEvent::LEN];
            tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut b))
                .await
                .expect("event in time")
                .expect("event");
            let e = JsEvent::decode(&b);
            out.push((e.kind, e.number, e.value));
        }
        out
    }

    async fn wait_readers(hub: &GamepadHub, slot: u8, n: usize) {
        for _ in 0..500 {
            if hub.reader_count(slot) == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("slot {slot} never had {n} readers");
    }

    #[tokio::test]
    async fn serves_config_initial_state_and_events_to_every_reader() {
        let dir = TempDir::new("hub");
        let hub = GamepadHub::start(config(&dir, WireVersion::Selkies2)).expect("start");
        assert_eq!(hub.socket_paths().count(), 8);
        hub.apply(&parse("js,c,1,UGFk,4,17").expect("verb"))
            .expect("attach");
        hub.apply(&parse("js,b,1,0,1").expect("verb"))
            .expect("press");
        let (mut a, cfg) = open(&dir, "selkies_js1.sock", WireVersion::Selkies2).await;
        assert_eq!(cfg, mapping::device_config());
        let (mut b, _) = open(&dir, "selkies_js1.sock", WireVersion::Selkies2).await;
        let (mut ev, _) = open(&dir, "selkies_event1001.sock", WireVersion::Selkies2).await;
        wait_readers(&hub, 1, 3).await;
        for s in [&mut a, &mut b] {
            let init = js_events(s, 19).await;
            assert_eq!(init[0], (0x81, 0, 1));
            assert!(init[1..].iter().all(|e| e.0 & 0x80 != 0));
        }
        let mut frame = [0u8; 48];
        ev.read_exact(&mut frame).await.expect("opening frame");
        let key = InputEvent::decode(&frame[..24], WordSize::Eight).expect("event");
        assert_eq!((key.kind, key.code, key.value), (1, 0x130, 1));
        hub.apply(&parse("js,a,1,3,-1").expect("verb"))
            .expect("axis");
        assert_eq!(js_events(&mut a, 1).await, vec![(2, 4, -32767)]);
        assert_eq!(js_events(&mut b, 1).await, vec![(2, 4, -32767)]);
        ev.read_exact(&mut frame).await.expect("axis frame");
        let axis = InputEvent::decode(&frame[..24], WordSize::Eight).expect("event");
        assert_eq!((axis.kind, axis.code, axis.value), (3, 4, -32767));
        let syn = InputEvent::decode(&frame[24..], WordSize::Eight).expect("event");
        assert_eq!((syn.kind, syn.code), (0, 0));
        drop(b);
        wait_readers(&hub, 1, 2).await;
        assert!(matches!(hub.release(4), Err(GamepadError::NoSuchSlot(4))));
        hub.release(0).expect("slot 0");
        hub.release(1).expect("slot 1");
        assert_eq!(
            js_events(&mut a, 2).await,
            vec![(1, 0, 0), (2, 4, 0)],
            "released"
        );
    }

    #[tokio::test]
    async fn selkies1_wire_has_no_handshake_and_no_evdev_sockets() {
        let dir = TempDir::new("v1");
        let hub = GamepadHub::start(config(&dir, WireVersion::Selkies1)).expect("start");
        assert_eq!(hub.socket_paths().count(), 4);
        assert!(!dir.0.join("selkies_event1000.sock").exists());
        let (mut s, cfg) = open(&dir, "selkies_js0.sock", WireVersion::Selkies1).await;
        assert_eq!(cfg.buttons.len(), 11);
        assert_eq!(js_events(&mut s, 19).await.len(), 19);
        hub.apply(&parse("js,b,0,6,1").expect("verb"))
            .expect("trigger");
        assert_eq!(js_events(&mut s, 1).await, vec![(2, 2, 32767)]);
    }

    #[tokio::test]
    async fn a_silent_client_loses_its_pad_after_heartbeats_stop() {
        let dir = TempDir::new("beat");
        let hub = GamepadHub::start(config(&dir, WireVersion::Selkies2)).expect("start");
        let (mut s, _) = open(&dir, "selkies_js2.sock", WireVersion::Selkies2).await;
        wait_readers(&hub, 2, 1).await;
        js_events(&mut s, 19).await;
        hub.apply(&parse("js,c,2,UGFk,4,17").expect("verb"))
            .expect("attach");
        hub.apply(&parse("js,h,2").expect("verb")).expect("beat");
        hub.apply(&parse("js,b,2,1,1").expect("verb"))
            .expect("press");
        assert_eq!(js_events(&mut s, 1).await, vec![(1, 1, 1)]);
        let started = Instant::now();
        assert_eq!(js_events(&mut s, 1).await, vec![(1, 1, 0)], "released");
        assert!(started.elapsed() >= Duration::from_millis(250));
    }

    #[tokio::test]
    async fn sockets_are_replaced_when_stale_and_removed_on_drop() {
        let dir = TempDir::new("stale");
        let path = dir.0.join("selkies_js0.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).expect("stale socket"));
        let hub = GamepadHub::start(config(&dir, WireVersion::Selkies2)).expect("start");
        assert!(matches!(
            GamepadHub::start(config(&dir, WireVersion::Selkies2)),
            Err(GamepadError::InUse(_))
        ));
        let (mut s, _) = open(&dir, "selkies_js0.sock", WireVersion::Selkies2).await;
        wait_readers(&hub, 0, 1).await;
        assert!(matches!(
            hub.apply(&parse("kd,65").expect("verb")),
            Err(GamepadError::NotGamepad)
        ));
        drop(hub);
        assert!(!path.exists());
        let mut rest = Vec::new();
        let n = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut rest))
            .await
            .expect("closed in time")
            .expect("read");
        assert_eq!(n % JsEvent::LEN, 0, "whole records, then end of file");
    }

    #[test]
    fn start_needs_a_runtime() {
        let dir = TempDir::new("nort");
        assert!(matches!(
            GamepadHub::start(config(&dir, WireVersion::Selkies2)),
            Err(GamepadError::NoRuntime)
        ));
    }

    #[test]
    fn a_file_in_the_way_is_left_alone() {
        let dir = TempDir::new("file");
        std::fs::write(dir.0.join("selkies_js0.sock"), b"keep").expect("file");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let _guard = rt.enter();
        assert!(matches!(
            GamepadHub::start(config(&dir, WireVersion::Selkies2)),
            Err(GamepadError::NotASocket(_))
        ));
        assert_eq!(
            std::fs::read(dir.0.join("selkies_js0.sock")).expect("still there"),
            b"keep"
        );
    }
}
