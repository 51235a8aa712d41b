//! `read()` on a device socket: whole records only, as many as fit and are ready, like the
//! kernel's joydev and evdev. A stream socket can hold a partial record (the server wrote half
//! before its buffer filled); handing that to the application would shift every later record, so
//! a non-blocking read leaves it queued and a blocking one waits for the rest.

use std::ffi::c_int;

use crate::device::Kind;
use crate::wire::{JsEvent, WordSize};

/// Bytes of one record on `kind`'s node in this process.
pub fn record_len(kind: Kind) -> usize {
    match kind {
        Kind::Js => JsEvent::LEN,
        Kind::Evdev => WordSize::native().event_len(),
    }
}

/// Reads whole records of `record` bytes from socket `fd` into `buf`. `Ok(0)` is end of file (the
/// server went away); errors are errno values.
pub fn read_records(fd: c_int, buf: &mut [u8], record: usize) -> Result<usize, c_int> {
    if buf.is_empty() {
        return Ok(0);
    }
    if buf.len() < record {
        return Err(libc::EINVAL);
    }
    let room = buf.len() / record * record;
    let first = if nonblocking(fd)? {
        let ready = recv(fd, &mut buf[..room], libc::MSG_PEEK | libc::MSG_DONTWAIT)?;
        if ready == 0 {
            return Ok(0);
        }
        if ready < record {
            return Err(libc::EAGAIN);
        }
        record
    } else {
        record
    };
    // The first record: already buffered when non-blocking, awaited otherwise.
    if !fill(fd, &mut buf[..first])? {
        return Ok(0);
    }
    // Then whatever further whole records are already there.
    let more = match recv(
        fd,
        &mut buf[first..room],
        libc::MSG_PEEK | libc::MSG_DONTWAIT,
    ) {
        Ok(n) => n / record * record,
        Err(_) => 0,
    };
    if more > 0 && !fill(fd, &mut buf[first..first + more])? {
        return Ok(first);
    }
    Ok(first + more)
}

/// Receives exactly `buf.len()` bytes; false at end of file. Retries after signals so that a
/// record is never split.
fn fill(fd: c_int, buf: &mut [u8]) -> Result<bool, c_int> {
    let mut got = 0;
    while got < buf.len() {
        match recv(fd, &mut buf[got..], libc::MSG_WAITALL) {
            Ok(0) => return Ok(false),
            Ok(n) => got += n,
            Err(libc::EINTR) if got > 0 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

fn recv(fd: c_int, buf: &mut [u8], flags: c_int) -> Result<usize, c_int> {
    if buf.is_empty() {
        return Ok(0);
    }
    // SAFETY: `buf` is writable for its length; recv is not one of the shadowed functions.
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), flags) };
    usize::try_from(n).map_err(|_| crate::connect::errno())
}

fn nonblocking(fd: c_int) -> Result<bool, c_int> {
    // SAFETY: F_GETFL only reads the descriptor's flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(crate::connect::errno());
    }
    Ok(flags & libc::O_NONBLOCK != 0)
}

/// Overwrites the timestamps of the `input_event`s in `buf` with `clock`'s current time, for
/// readers that chose a clock with `EVIOCSCLOCKID` (the server stamps with the wall clock).
pub fn restamp(buf: &mut [u8], clock: libc::clockid_t) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write to.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return;
    }
    let long = std::mem::size_of::<libc::c_long>();
    let sec = ts.tv_sec as libc::c_long;
    let usec = (ts.tv_nsec / 1000) as libc::c_long;
    for event in buf.chunks_exact_mut(record_len(Kind::Evdev)) {
        event[..long].copy_from_slice(&sec.to_ne_bytes());
        event[long..2 * long].copy_from_slice(&usec.to_ne_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn whole_records_only() {
        let (mut server, client) = UnixStream::pair().expect("pair");
        client.set_nonblocking(true).expect("nonblocking");
        let fd = client.as_raw_fd();
        let mut buf = [0u8; 64];
        assert_eq!(read_records(fd, &mut buf, 8), Err(libc::EAGAIN));
        server.write_all(&[1; 12]).expect("write");
        assert_eq!(
            read_records(fd, &mut buf, 8),
            Ok(8),
            "the half record stays"
        );
        assert_eq!(read_records(fd, &mut buf, 8), Err(libc::EAGAIN));
        server.write_all(&[2; 20]).expect("write");
        assert_eq!(read_records(fd, &mut buf, 8), Ok(24));
        assert_eq!(&buf[..4], &[1; 4]);
        assert_eq!(&buf[4..24], &[2; 20]);
        assert_eq!(read_records(fd, &mut buf[..7], 8), Err(libc::EINVAL));
        assert_eq!(read_records(fd, &mut buf[..0], 8), Ok(0));
        server.write_all(&[3; 32]).expect("write");
        assert_eq!(
            read_records(fd, &mut buf[..20], 8),
            Ok(16),
            "as many as fit"
        );
        drop(server);
        assert_eq!(read_records(fd, &mut buf, 8), Ok(16));
        assert_eq!(read_records(fd, &mut buf, 8), Ok(0), "end of file");
    }

    #[test]
    fn blocking_reads_wait_for_the_rest_of_a_record() {
        let (mut server, client) = UnixStream::pair().expect("pair");
        let fd = client.as_raw_fd();
        server.write_all(&[7; 5]).expect("write");
        let writer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            server.write_all(&[7; 3]).expect("write");
            server
        });
        let mut buf = [0u8; 16];
        assert_eq!(read_records(fd, &mut buf, 8), Ok(8));
        assert_eq!(&buf[..8], &[7; 8]);
        drop(writer.join().expect("writer"));
        assert_eq!(read_records(fd, &mut buf, 8), Ok(0));
    }

    #[test]
    fn restamping_sets_every_timestamp() {
        let len = record_len(Kind::Evdev);
        let mut buf = vec![0u8; 2 * len];
        buf[len - 4..len].copy_from_slice(&5i32.to_ne_bytes());
        restamp(&mut buf, libc::CLOCK_MONOTONIC);
        let long = std::mem::size_of::<libc::c_long>();
        for e in buf.chunks_exact(len) {
            assert!(e[..long].iter().any(|b| *b != 0), "seconds set");
        }
        assert_eq!(&buf[len - 4..len], &5i32.to_ne_bytes(), "values kept");
    }
}
