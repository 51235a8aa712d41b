//! SysV shared-memory segments for MIT-SHM capture, and read-only file mappings for reading
//! Xvfb's framebuffer file in place.
//!
//! The X server writes captured pixels straight into a segment that this process has mapped, so
//! a grab costs one copy (the server's) and the converter reads the pixels in place. This crate
//! owns the `shmget`/`shmat`/`shmdt`/`shmctl` calls and nothing else: what the X server is told
//! about the segment is the capture module's business.

mod file;

pub use file::{available_bytes, MappedFile};

use std::io;
use std::ptr::NonNull;

/// One private SysV shared-memory segment, mapped read-write into this process.
///
/// The segment is marked for removal by [`ShmSegment::mark_removed`] once the X server has
/// attached it (after that, no other process can attach it, and the kernel frees it when the last
/// mapping goes), and in any case on drop.
#[derive(Debug)]
pub struct ShmSegment {
    id: i32,
    ptr: NonNull<u8>,
    len: usize,
    removed: bool,
}

// SAFETY: the mapping is owned by this value alone; nothing in this process aliases it, so moving
// it to another thread is sound. It is not Sync because `as_slice` hands out reads while another
// process may write (see `as_slice`).
unsafe impl Send for ShmSegment {}

impl ShmSegment {
    /// Creates and maps a private segment of `len` bytes (readable and writable by this user only).
    ///
    /// # Errors
    /// The OS error from `shmget` or `shmat` (e.g. `ENOMEM`, or `ENOSPC` past `shmmni`).
    pub fn new(len: usize) -> io::Result<Self> {
        if len == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "shm segment of 0 bytes",
            ));
        }
        // SAFETY: plain syscall wrapper; IPC_PRIVATE always creates a new segment, no pointers.
        let id = unsafe { libc::shmget(libc::IPC_PRIVATE, len, libc::IPC_CREAT | 0o600) };
        if id < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `id` is the segment just created; a null address lets the kernel choose where
        // to map it, and flag 0 maps it read-write.
        let addr = unsafe { libc::shmat(id, std::ptr::null(), 0) };
        if addr as isize == -1 {
            let err = io::Error::last_os_error();
            // SAFETY: removing the segment we created and failed to map; no mapping refers to it.
            unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) };
            return Err(err);
        }
        let ptr = NonNull::new(addr.cast::<u8>())
            .ok_or_else(|| io::Error::other("shmat returned null"))?;
        Ok(Self {
            id,
            ptr,
            len,
            removed: false,
        })
    }

    /// The segment id to hand to the X server (`shm::Attach`).
    pub fn id(&self) -> u32 {
        // shmget never returns a negative id on success (checked in `new`).
        self.id as u32
    }

    /// Length of the mapping in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a segment has at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Marks the segment for removal so that it cannot leak past this process, even on a crash.
    /// Call it once the X server has attached the segment (after a round trip).
    pub fn mark_removed(&mut self) {
        if !self.removed {
            // SAFETY: `id` is our segment; IPC_RMID takes no buffer. Existing mappings stay valid.
            unsafe { libc::shmctl(self.id, libc::IPC_RMID, std::ptr::null_mut()) };
            self.removed = true;
        }
    }

    /// The mapped bytes.
    ///
    /// Another process (the X server) writes into the segment while it serves a request; callers
    /// read only after that request's reply has arrived, when the server has finished writing.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` bytes for as long as `self` lives (detached only in Drop), and
        // the borrow of `self` keeps it alive; u8 has no invalid bit patterns.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The mapped bytes, writable (tests fill segments to check what readers see).
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes this the only borrow in this process.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for ShmSegment {
    fn drop(&mut self) {
        self.mark_removed();
        // SAFETY: `ptr` is the address shmat returned and has not been detached yet; no slice
        // borrowed from it can outlive `self`.
        unsafe { libc::shmdt(self.ptr.as_ptr().cast()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_write_read_and_drop() {
        let mut seg = ShmSegment::new(4096 * 3).expect("shm available on Linux test hosts");
        assert_eq!(seg.len(), 4096 * 3);
        seg.as_mut_slice().fill(0xAB);
        assert!(seg.as_slice().iter().all(|&b| b == 0xAB));
        seg.mark_removed();
        // Still readable after removal: the mapping lives until detach.
        assert_eq!(seg.as_slice()[100], 0xAB);
    }

    #[test]
    fn zero_length_is_an_error() {
        assert!(ShmSegment::new(0).is_err());
    }

    #[test]
    fn segment_is_gone_after_drop() {
        let seg = ShmSegment::new(8192).expect("shm available on Linux test hosts");
        let id = seg.id() as i32;
        drop(seg);
        // SAFETY: shmid_ds is plain integers, for which all zeroes is a valid value.
        let mut ds: libc::shmid_ds = unsafe { std::mem::zeroed() };
        // SAFETY: querying a (removed) id with a valid out-buffer; EINVAL is the expected answer.
        let rc = unsafe { libc::shmctl(id, libc::IPC_STAT, &mut ds) };
        assert_eq!(rc, -1, "segment should have been removed");
    }
}
