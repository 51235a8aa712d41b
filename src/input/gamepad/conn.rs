//! The interposer sockets: binding them (and clearing stale ones), accepting connections, and one
//! task per connection that does the handshake and writes the reader's queue to the socket.

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

use super::error::GamepadError;
use super::slot::{Node, Slot};
use super::wire::{WireVersion, WordSize};

/// How long a new connection may take to send its word-size byte.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Which kind of device node a socket serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// `/dev/input/jsN`: `js_event` records.
    Js,
    /// `/dev/input/event100N` (Selkies 2.x numbering): `input_event` records.
    Evdev,
}

/// The socket file of `kind` for `slot` in `dir`: Selkies' names, so its interposer finds them.
pub fn socket_path(dir: &Path, kind: NodeKind, slot: u8) -> PathBuf {
    match kind {
        NodeKind::Js => dir.join(format!("selkies_js{slot}.sock")),
        NodeKind::Evdev => dir.join(format!("selkies_event{}.sock", 1000 + u32::from(slot))),
    }
}

/// A bound socket file, remembered so that only our own file is removed on shutdown.
pub(super) struct BoundSocket {
    pub path: PathBuf,
    ino: u64,
    dev: u64,
}

impl BoundSocket {
    /// Removes the file if it is still the one we bound.
    pub fn unlink(&self) {
        if let Ok(meta) = std::fs::symlink_metadata(&self.path) {
            if meta.ino() == self.ino && meta.dev() == self.dev {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

/// Binds `path`, replacing a stale socket file left by a server that died. A socket somebody
/// still answers on, or a file that is not a socket, is an error.
pub(super) fn bind(path: &Path) -> Result<(UnixListener, BoundSocket), GamepadError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_socket() => {
            return Err(GamepadError::NotASocket(path.to_owned()))
        }
        Ok(_) => match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => return Err(GamepadError::InUse(path.to_owned())),
            Err(_) => {
                let _ = std::fs::remove_file(path);
            }
        },
        Err(_) => {}
    }
    let bind_err = |source| GamepadError::Bind {
        path: path.to_owned(),
        source,
    };
    let listener = UnixListener::bind(path).map_err(bind_err)?;
    let meta = std::fs::symlink_metadata(path).map_err(bind_err)?;
    Ok((
        listener,
        BoundSocket {
            path: path.to_owned(),
            ino: meta.ino(),
            dev: meta.dev(),
        },
    ))
}

/// Accepts connections on `listener` for ever, one task each.
pub(super) async fn accept_loop(
    listener: UnixListener,
    slot: Arc<Slot>,
    kind: NodeKind,
    wire: WireVersion,
    config: Bytes,
) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let slot = Arc::clone(&slot);
                let config = config.clone();
                tokio::spawn(async move {
                    if let Err(e) = serve(stream, slot, kind, wire, config).await {
                        tracing::debug!(error = %e, "gamepad reader connection ended");
                    }
                });
            }
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(error = %e, "gamepad socket accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// One interposer connection: config, (word size), then the reader's queue until either side
/// closes.
async fn serve(
    mut stream: UnixStream,
    slot: Arc<Slot>,
    kind: NodeKind,
    wire: WireVersion,
    config: Bytes,
) -> io::Result<()> {
    stream.write_all(&config).await?;
    let word = if wire.has_arch_byte() {
        let mut byte = [0u8; 1];
        tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.read_exact(&mut byte))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no word-size byte"))??;
        WordSize::from_arch_byte(byte[0]).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unsupported word size {}", byte[0]),
            )
        })?
    } else {
        // Selkies 1.x interposers do not say; they run on this machine, most likely as we do.
        WordSize::native()
    };
    let node = match kind {
        NodeKind::Js => Node::Js,
        NodeKind::Evdev => Node::Evdev(word),
    };
    let Some(mut reg) = slot.register(node) else {
        return Ok(());
    };
    let (mut rd, mut wr) = stream.into_split();
    let mut sink = [0u8; 256];
    let result = loop {
        tokio::select! {
            bytes = reg.rx.recv() => match bytes {
                Some(bytes) => {
                    if let Err(e) = wr.write_all(&bytes).await {
                        break Err(e);
                    }
                    if reg.lagged.load(Ordering::Acquire) && reg.rx.is_empty() {
                        slot.resync(reg.id);
                    }
                }
                // The slot dropped us: the hub is shutting down.
                None => break Ok(()),
            },
            // The interposer sends nothing after the handshake (a game's writes, e.g. force
            // feedback, are dropped); end of file means the device was closed.
            n = rd.read(&mut sink) => match n {
                Ok(0) => break Ok(()),
                Ok(_) => {}
                Err(e) => break Err(e),
            },
        }
    };
    slot.unregister(reg.id);
    result
}
