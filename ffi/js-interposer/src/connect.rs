//! Connecting a device node's socket: connect, read the device record, send our word size.
//!
//! Only libc calls this library does not shadow are used here (socket, connect, recv, send,
//! setsockopt, fcntl, and the raw close syscall), so nothing re-enters the hooks.

use std::ffi::c_int;
use std::mem;
use std::time::Duration;

use crate::device::Device;
use crate::wire::{DeviceConfig, WireVersion, WordSize};

/// The protocol this library speaks (Selkies 2.x).
const WIRE: WireVersion = WireVersion::Selkies2;

/// How long `open()` waits for a connected server to send the device record.
const CONFIG_TIMEOUT: Duration = Duration::from_secs(5);

/// A connected, configured device socket.
pub struct Connected {
    pub fd: c_int,
    pub config: DeviceConfig,
}

/// Opens `device`'s socket at `path`, honouring the `O_NONBLOCK` and `O_CLOEXEC` of the
/// application's `open()` flags. The error is the errno `open()` should fail with: `ENOENT` when
/// no server listens there, as for a device that does not exist.
pub fn connect(device: Device, path: &[u8], flags: c_int) -> Result<Connected, c_int> {
    let mut addr = sockaddr(path)?;
    let cloexec = if flags & libc::O_CLOEXEC != 0 {
        libc::SOCK_CLOEXEC
    } else {
        0
    };
    // SAFETY: plain system call with constant arguments.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | cloexec, 0) };
    if fd < 0 {
        return Err(errno());
    }
    let result = handshake(fd, &mut addr).and_then(|config| {
        if flags & libc::O_NONBLOCK != 0 {
            set_nonblocking(fd)?;
        }
        Ok(config)
    });
    match result {
        Ok(config) => {
            crate::log!(
                "{:?} {} open: {}",
                device.kind,
                device.slot,
                crate::device::display(path)
            );
            Ok(Connected { fd, config })
        }
        Err(e) => {
            close_raw(fd);
            crate::log!(
                "{:?} {}: {} ({})",
                device.kind,
                device.slot,
                crate::device::display(path),
                std::io::Error::from_raw_os_error(e)
            );
            Err(e)
        }
    }
}

fn handshake(fd: c_int, addr: &mut libc::sockaddr_un) -> Result<DeviceConfig, c_int> {
    // SAFETY: `addr` is a valid sockaddr_un and the length passed is its size.
    let rc = unsafe {
        libc::connect(
            fd,
            (addr as *mut libc::sockaddr_un).cast(),
            socklen(mem::size_of::<libc::sockaddr_un>()),
        )
    };
    if rc != 0 {
        return Err(match errno() {
            // A socket file nobody listens on is a server that is gone.
            libc::ENOENT | libc::ECONNREFUSED => libc::ENOENT,
            e => e,
        });
    }
    set_recv_timeout(fd, Some(CONFIG_TIMEOUT))?;
    let mut record = vec![0u8; WIRE.config_len()];
    recv_all(fd, &mut record)?;
    set_recv_timeout(fd, None)?;
    let config = DeviceConfig::decode(&record, WIRE).map_err(|e| {
        crate::log!("bad device record: {e}");
        libc::EIO
    })?;
    let arch = [WordSize::native().arch_byte()];
    // SAFETY: `arch` is one readable byte; MSG_NOSIGNAL turns a closed peer into EPIPE instead of
    // a signal the application did not expect.
    let sent = unsafe { libc::send(fd, arch.as_ptr().cast(), 1, libc::MSG_NOSIGNAL) };
    if sent != 1 {
        return Err(libc::EIO);
    }
    Ok(config)
}

/// Reads exactly `buf.len()` bytes, or fails with `EIO` (end of stream, timeout).
fn recv_all(fd: c_int, buf: &mut [u8]) -> Result<(), c_int> {
    let mut got = 0;
    while got < buf.len() {
        let rest = &mut buf[got..];
        // SAFETY: `rest` is writable for its length.
        let n = unsafe { libc::recv(fd, rest.as_mut_ptr().cast(), rest.len(), libc::MSG_WAITALL) };
        match n {
            0 => return Err(libc::EIO),
            n if n < 0 => match errno() {
                libc::EINTR => {}
                _ => return Err(libc::EIO),
            },
            // recv returns at most the length asked for, so this is positive and in range.
            n => got += n as usize,
        }
    }
    Ok(())
}

fn sockaddr(path: &[u8]) -> Result<libc::sockaddr_un, c_int> {
    // SAFETY: sockaddr_un is plain data; all zeroes is a valid (empty) value.
    let mut addr: libc::sockaddr_un = unsafe { mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    // Keep the terminating NUL.
    if path.is_empty() || path.len() >= addr.sun_path.len() || path.contains(&0) {
        return Err(libc::ENAMETOOLONG);
    }
    for (dst, src) in addr.sun_path.iter_mut().zip(path) {
        *dst = *src as libc::c_char;
    }
    Ok(addr)
}

fn set_recv_timeout(fd: c_int, timeout: Option<Duration>) -> Result<(), c_int> {
    let t = timeout.unwrap_or_default();
    let tv = libc::timeval {
        tv_sec: t.as_secs() as libc::time_t,
        tv_usec: libc::suseconds_t::from(t.subsec_micros() as i32),
    };
    // SAFETY: `tv` is a valid timeval and the length passed is its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            socklen(mem::size_of::<libc::timeval>()),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(errno())
    }
}

fn set_nonblocking(fd: c_int) -> Result<(), c_int> {
    // SAFETY: F_GETFL/F_SETFL on a descriptor we own; fcntl is not shadowed here.
    let rc = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 {
            flags
        } else {
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK)
        }
    };
    if rc < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// Closes a socket we never handed out, without passing through our own `close()`.
pub fn close_raw(fd: c_int) {
    // SAFETY: `fd` is a descriptor this library opened and still owns.
    unsafe {
        libc::syscall(libc::SYS_close, libc::c_long::from(fd));
    }
}

fn socklen(n: usize) -> libc::socklen_t {
    // Socket address and option sizes are a few hundred bytes at most.
    n as libc::socklen_t
}

/// The calling thread's errno.
pub fn errno() -> c_int {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}
