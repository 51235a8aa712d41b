//! Reading Xvfb's screen in place: with `-fbdir`, Xvfb keeps its framebuffer in a file, and a
//! mapping of that file is the screen itself. A grab is then no copy at all: the server is held
//! (GrabServer) while the converter reads the rows it needs, so no client draws meanwhile.
//!
//! Xvfb's RandR only shrinks the visible screen inside the framebuffer it started with, so the
//! mapping stays right across resizes: the screen is its top-left corner, at the file's stride.

use super::{CaptureError, XshmCapture};
use crate::area::Area;
use crate::capture::xwd::{XwdError, XwdLayout};
use selkies_shm::MappedFile;
use std::path::{Path, PathBuf};
use thiserror::Error;
use xcb::{shm, x};

/// Bytes of the segment one band of the framebuffer check grabs into.
const CHECK_BAND_BYTES: usize = 512 * 1024;

/// Why a framebuffer file is not used (capture then goes through MIT-SHM).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FramebufferError {
    #[error("cannot map {path}: {source}")]
    Map {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a framebuffer we read: {source}")]
    Layout { path: PathBuf, source: XwdError },
    #[error("{path} is the screen of {name:?}, not of this display")]
    OtherDisplay { path: PathBuf, name: String },
    #[error("{path} holds {file_w}x{file_h}, smaller than the {screen_w}x{screen_h} screen")]
    TooSmall {
        path: PathBuf,
        file_w: u32,
        file_h: u32,
        screen_w: u32,
        screen_h: u32,
    },
    #[error(
        "{path} differs from the screen at row {row}: it is another display's, or the server \
         draws its cursor into it (start Xvfb with -nocursor)"
    )]
    Differs { path: PathBuf, row: u32 },
    #[error(transparent)]
    Capture(#[from] CaptureError),
}

/// A mapped framebuffer file and where its pixels are.
pub(super) struct Framebuffer {
    map: MappedFile,
    layout: XwdLayout,
}

impl Framebuffer {
    /// The pixel rows, `layout.bytes_per_line` apart.
    pub(super) fn pixels(&self) -> &[u8] {
        let end = self.layout.offset + self.layout.pixel_bytes();
        // `XwdLayout::parse` checked the pixels fit in the file that was mapped whole.
        self.map
            .as_slice()
            .get(self.layout.offset..end)
            .unwrap_or_default()
    }

    pub(super) fn stride(&self) -> usize {
        self.layout.bytes_per_line as usize
    }
}

impl XshmCapture {
    /// Grabs from the framebuffer file at `path` (Xvfb `-fbdir`) from now on, after checking it
    /// shows exactly what MIT-SHM grabs of this screen show. With the pointer drawn into the video,
    /// grabs still go through MIT-SHM (the pointer is drawn onto the grabbed copy).
    ///
    /// # Errors
    /// [`FramebufferError`] when the file cannot be mapped, is not a 32-bit framebuffer as large
    /// as the screen, or differs from the screen; the capture is unchanged then.
    pub fn use_framebuffer(&mut self, path: &Path) -> Result<(), FramebufferError> {
        let map = MappedFile::open(path).map_err(|source| FramebufferError::Map {
            path: path.to_owned(),
            source,
        })?;
        let layout =
            XwdLayout::parse(map.as_slice()).map_err(|source| FramebufferError::Layout {
                path: path.to_owned(),
                source,
            })?;
        if let Some(number) = self.display_number {
            // Two idle screens of one size look alike: the name tells them apart.
            if !layout.names_display(number, self.screen) {
                return Err(FramebufferError::OtherDisplay {
                    path: path.to_owned(),
                    name: layout.name,
                });
            }
        }
        if layout.width < self.width || layout.height < self.height {
            return Err(FramebufferError::TooSmall {
                path: path.to_owned(),
                file_w: layout.width,
                file_h: layout.height,
                screen_w: self.width,
                screen_h: self.height,
            });
        }
        let fb = Framebuffer { map, layout };
        if fb.pixels().len() != fb.layout.pixel_bytes() {
            // `parse` checked the pixels fit in the mapped file; this keeps that promise visible.
            return Err(FramebufferError::Layout {
                path: path.to_owned(),
                source: XwdError::Short(fb.map.len()),
            });
        }
        if let Some(row) = self.first_difference(&fb)? {
            return Err(FramebufferError::Differs {
                path: path.to_owned(),
                row,
            });
        }
        self.framebuffer = Some(fb);
        Ok(())
    }

    /// Whether grabs read the framebuffer file in place.
    pub fn reads_framebuffer(&self) -> bool {
        self.framebuffer.is_some()
    }

    /// With the server held, grabs the screen through MIT-SHM band by band and compares each
    /// band with `fb`, colour bytes only (the fourth byte of a depth-24 pixel means nothing);
    /// returns the first row that differs. The bands all land at the start of the segment, so
    /// this touches about [`CHECK_BAND_BYTES`] of it: while the file is read, the segment's pages
    /// stay unused and out of our resident memory.
    fn first_difference(&mut self, fb: &Framebuffer) -> Result<Option<u32>, CaptureError> {
        self.hold_server()?;
        let checked = self.compare_bands(fb);
        // The segment holds a band at its start now.
        self.segment_stale = true;
        self.release_server()?;
        checked
    }

    fn compare_bands(&mut self, fb: &Framebuffer) -> Result<Option<u32>, CaptureError> {
        let row_bytes = self.width as usize * 4;
        let band = (CHECK_BAND_BYTES / row_bytes.max(1)).clamp(1, self.height.max(1) as usize);
        let mut top = 0;
        while top < self.height as usize {
            let rows = band.min(self.height as usize - top);
            let grabbed = self.conn.send_request(&shm::GetImage {
                drawable: x::Drawable::Window(self.root),
                x: 0,
                y: top as i16,
                width: self.width as u16,
                height: rows as u16,
                plane_mask: u32::MAX,
                format: x::ImageFormat::ZPixmap as u8,
                shmseg: self.seg_id,
                offset: 0,
            });
            self.conn.wait_for_reply(grabbed)?;
            let grabbed = self.segment.as_slice().chunks_exact(row_bytes).take(rows);
            let file = fb.pixels().chunks(fb.stride()).skip(top).take(rows);
            let differs = grabbed.zip(file).position(|(a, b)| {
                b.len() < row_bytes
                    || a.chunks_exact(4)
                        .zip(b.chunks_exact(4))
                        .any(|(p, q)| p[..3] != q[..3])
            });
            if let Some(row) = differs {
                return Ok(Some((top + row) as u32));
            }
            top += rows;
        }
        Ok(None)
    }

    /// Holds the server for this connection alone: once the reply to a request sent after
    /// GrabServer arrives, no other client's request runs until [`XshmCapture::release_server`]
    /// (the one being served when the grab came has finished), so no client draws meanwhile.
    fn hold_server(&mut self) -> Result<(), CaptureError> {
        self.conn.send_request(&x::GrabServer {});
        self.conn
            .wait_for_reply(self.conn.send_request(&x::GetInputFocus {}))?;
        Ok(())
    }

    /// Lets the other clients' requests through again.
    fn release_server(&mut self) -> Result<(), CaptureError> {
        self.conn.send_request(&x::UngrabServer {});
        self.conn.flush().map_err(xcb::Error::from)?;
        Ok(())
    }

    /// The framebuffer path of a grab: hold the server, hand the rows to `read`, release.
    pub(super) fn read_framebuffer<T>(
        &mut self,
        fb: &Framebuffer,
        area: Area,
        read: impl FnOnce(super::Frame<'_>, &Area) -> T,
    ) -> Result<T, CaptureError> {
        let area = self.area_to_grab(area, false);
        self.hold_server()?;
        self.fresh = false;
        // The segment keeps an older screen: a later MIT-SHM grab (the pointer drawn into the
        // video) must take the whole screen, not just the damage.
        self.segment_stale = true;
        let dirty = std::mem::replace(&mut self.dirty, Area::EMPTY).union(&area);
        let frame = super::Frame {
            data: fb.pixels(),
            width: self.width,
            height: self.height,
            stride: fb.stride(),
        };
        let out = read(frame, &dirty);
        self.release_server()?;
        Ok(out)
    }
}
