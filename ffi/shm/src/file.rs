//! A file mapped read-only and shared: another process's writes to it show through.
//!
//! For Xvfb's `-fbdir` framebuffer: the X server keeps its screen in a file it has mapped, and
//! mapping the same file lets the converter read the screen without any copy.

use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::ptr::NonNull;

/// A whole file mapped read-only (`MAP_SHARED`) into this process.
#[derive(Debug)]
pub struct MappedFile {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping belongs to this value alone; moving it to another thread is sound.
unsafe impl Send for MappedFile {}

impl MappedFile {
    /// Maps `path` as it is now, whole.
    ///
    /// The writer must never shrink the file while it is mapped (reading past its new end would
    /// be a SIGBUS). Xvfb does not: it unlinks its framebuffer file on exit, which leaves this
    /// mapping valid. Only regular files are mapped (a FIFO would block the open's reader).
    ///
    /// # Errors
    /// The OS error from `open`, `fstat` or `mmap`; `InvalidInput` for an empty file.
    pub fn open(path: &Path) -> io::Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        // Non-blocking: opening a FIFO for reading would otherwise wait for a writer.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        let len = usize::try_from(meta.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file too large to map"))?;
        if len == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty file"));
        }
        // SAFETY: a fresh read-only shared mapping of an open descriptor; the kernel picks the
        // address. The descriptor may be closed afterwards: the mapping keeps the file.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| io::Error::other("mmap returned a null mapping"))?;
        Ok(Self { ptr, len })
    }

    /// Length of the mapping in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: an empty file is refused.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The mapped bytes.
    ///
    /// The writing process may change them at any time; callers read only while it is known not
    /// to write (for the X server: while this client holds the server grab).
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` readable bytes until Drop; the borrow of `self` keeps them;
        // u8 has no invalid bit patterns.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly what mmap returned, not unmapped yet; no borrow of the
        // bytes outlives `self`.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// Bytes an unprivileged user may still write on the filesystem holding `path` (`statvfs`), to
/// choose where a framebuffer file fits and leaves room for others.
///
/// # Errors
/// The OS error from `statvfs`; `InvalidInput` for a path with a NUL byte.
pub fn available_bytes(path: &Path) -> io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path has a NUL byte"))?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c_path` is a NUL-terminated string that outlives the call; `stat` is a buffer of
    // the struct's size that statvfs fills on success.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), stat.as_mut_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so it initialised the whole struct.
    let stat = unsafe { stat.assume_init() };
    // Both fields are `c_ulong`: 32 bits on some targets, where the product needs widening.
    #[allow(clippy::useless_conversion)]
    let (blocks, size) = (u64::from(stat.f_bavail), u64::from(stat.f_frsize));
    Ok(blocks.saturating_mul(size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::{Seek, SeekFrom, Write};

    #[test]
    fn writes_by_another_handle_show_through() {
        let path = std::env::temp_dir().join(format!("selkies-shm-map-{}", std::process::id()));
        let mut writer = File::create(&path).expect("temp file");
        writer.write_all(&[1, 2, 3, 4]).expect("write");
        let map = MappedFile::open(&path).expect("maps");
        assert_eq!(map.as_slice(), &[1, 2, 3, 4]);
        writer.seek(SeekFrom::Start(2)).expect("seek");
        writer.write_all(&[9]).expect("write");
        writer.flush().expect("flush");
        assert_eq!(map.as_slice(), &[1, 2, 9, 4]);
        // Unlinked, as Xvfb does on exit: the mapping stays readable.
        std::fs::remove_file(&path).expect("unlink");
        assert_eq!(map.len(), 4);
        assert_eq!(map.as_slice()[2], 9);
        let empty = std::env::temp_dir().join(format!("selkies-shm-empty-{}", std::process::id()));
        File::create(&empty).expect("temp file");
        assert!(MappedFile::open(&empty).is_err());
        let _ = std::fs::remove_file(&empty);
        assert!(MappedFile::open(Path::new("/nonexistent/selkies")).is_err());
    }

    #[test]
    fn free_space_is_known_for_real_paths_only() {
        let free = available_bytes(&std::env::temp_dir()).expect("temp dir has a filesystem");
        assert!(free > 0);
        assert!(available_bytes(Path::new("/nonexistent/selkies")).is_err());
        let nul = available_bytes(Path::new("a\0b")).map_err(|e| e.kind());
        assert_eq!(nul, Err(io::ErrorKind::InvalidInput));
    }
}
