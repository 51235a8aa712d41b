//! The layout of an XWD image file, as Xvfb keeps its screen with `-fbdir`: a header of 32-bit
//! big-endian fields, a colour map, then the pixels as a ZPixmap.
//!
//! The file is written by another process, so every field is checked before it is used to index
//! the pixels; only the one pixel format we convert (32 bits a pixel, BGRx in memory) is taken.

use thiserror::Error;

/// Bytes of the fixed header fields (25 CARD32s); the window name follows, within `header_size`.
const FIXED_HEADER: usize = 100;
/// Bytes of one colour map entry (`XWDColor`).
const COLOR_ENTRY: usize = 12;
const XWD_FILE_VERSION: u32 = 7;
const Z_PIXMAP: u32 = 2;
const LSB_FIRST: u32 = 0;
const TRUE_COLOR: u32 = 4;
const DIRECT_COLOR: u32 = 5;

/// Why a file is not a framebuffer we can read.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum XwdError {
    #[error("shorter ({0} bytes) than an XWD header")]
    Short(usize),
    #[error("not an XWD version 7 file (version {0})")]
    Version(u32),
    #[error("header size {0} is below the {FIXED_HEADER} bytes of its fields")]
    HeaderSize(usize),
    #[error("unsupported pixel format: {0}")]
    Format(String),
    #[error("pixels of {width}x{height} at {bytes_per_line} bytes a row from byte {offset} do not fit in {len} bytes")]
    Truncated {
        width: u32,
        height: u32,
        bytes_per_line: u32,
        offset: usize,
        len: usize,
    },
}

/// Where the pixels are in the file, and their size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XwdLayout {
    pub width: u32,
    pub height: u32,
    /// Bytes from one row to the next.
    pub bytes_per_line: u32,
    /// Byte offset of the first pixel.
    pub offset: usize,
    /// The window name after the fields: Xvfb writes `Xvfb <host>:<display>.<screen>`.
    pub name: String,
}

impl XwdLayout {
    /// Reads the header at the start of `file` (the whole file: its length bounds the pixels).
    ///
    /// # Errors
    /// [`XwdError`] for a short or truncated file, another version, or a pixel format other than
    /// 32-bit LSB-first TrueColor with 8-bit red, green and blue.
    pub fn parse(file: &[u8]) -> Result<Self, XwdError> {
        let field = |i: usize| -> Result<u32, XwdError> {
            file.get(i * 4..i * 4 + 4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_be_bytes)
                .ok_or(XwdError::Short(file.len()))
        };
        let header_size = field(0)? as usize;
        let version = field(1)?;
        if version != XWD_FILE_VERSION {
            return Err(XwdError::Version(version));
        }
        if header_size < FIXED_HEADER {
            return Err(XwdError::HeaderSize(header_size));
        }
        let format = |what: &str, value: u32| Err(XwdError::Format(format!("{what} {value}")));
        let (pixmap_format, depth) = (field(2)?, field(3)?);
        let (width, height) = (field(4)?, field(5)?);
        let (xoffset, byte_order) = (field(6)?, field(7)?);
        let (bits_per_pixel, bytes_per_line) = (field(11)?, field(12)?);
        let visual = field(13)?;
        let masks = (field(14)?, field(15)?, field(16)?);
        let ncolors = field(19)? as usize;
        if pixmap_format != Z_PIXMAP {
            return format("pixmap format", pixmap_format);
        }
        if !(depth == 24 || depth == 32) {
            return format("depth", depth);
        }
        if bits_per_pixel != 32 {
            return format("bits per pixel", bits_per_pixel);
        }
        if byte_order != LSB_FIRST {
            return format("byte order", byte_order);
        }
        if xoffset != 0 {
            return format("x offset", xoffset);
        }
        if !(visual == TRUE_COLOR || visual == DIRECT_COLOR) {
            return format("visual class", visual);
        }
        if masks != (0xFF_0000, 0xFF00, 0xFF) {
            return Err(XwdError::Format(format!(
                "colour masks {:#x}/{:#x}/{:#x}",
                masks.0, masks.1, masks.2
            )));
        }
        // Saturating: a sum that overflows cannot fit in the file either.
        let offset = header_size.saturating_add(ncolors.saturating_mul(COLOR_ENTRY));
        let end = offset.saturating_add((bytes_per_line as usize).saturating_mul(height as usize));
        let narrow = u64::from(bytes_per_line) < u64::from(width) * 4;
        if width == 0 || height == 0 || narrow || end > file.len() {
            return Err(XwdError::Truncated {
                width,
                height,
                bytes_per_line,
                offset,
                len: file.len(),
            });
        }
        let name = file
            .get(FIXED_HEADER..header_size)
            .map(|b| b.split(|&c| c == 0).next().unwrap_or_default())
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        Ok(Self {
            width,
            height,
            bytes_per_line,
            offset,
            name,
        })
    }

    /// Bytes the pixels span, from [`XwdLayout::offset`].
    pub fn pixel_bytes(&self) -> usize {
        (self.bytes_per_line as usize).saturating_mul(self.height as usize)
    }

    /// Whether the window name says the file is display `number`'s screen `screen`.
    pub fn names_display(&self, number: u32, screen: u32) -> bool {
        self.name.ends_with(&format!(":{number}.{screen}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header as Xvfb writes it for a `width`x`height`x24 screen of display :7 (the name in
    /// a 60-byte slot, 256 colours), followed by its pixels.
    fn xvfb_file(width: u32, height: u32) -> Vec<u8> {
        let mut name = b"Xvfb test:7.0".to_vec();
        name.resize(60, 0);
        let header_size = (FIXED_HEADER + name.len()) as u32;
        let fields = [
            header_size,
            XWD_FILE_VERSION,
            Z_PIXMAP,
            24,
            width,
            height,
            0,
            LSB_FIRST,
            32,
            0,
            32,
            32,
            width * 4,
            TRUE_COLOR,
            0xFF_0000,
            0xFF00,
            0xFF,
            8,
            256,
            256,
            width,
            height,
            0,
            0,
            0,
        ];
        let mut file: Vec<u8> = fields.iter().flat_map(|f| f.to_be_bytes()).collect();
        file.extend_from_slice(&name);
        file.resize(
            file.len() + 256 * COLOR_ENTRY + (width * height * 4) as usize,
            0,
        );
        file
    }

    #[test]
    fn an_xvfb_header_gives_the_pixels_place() {
        let file = xvfb_file(64, 48);
        let layout = XwdLayout::parse(&file).expect("valid");
        assert_eq!(
            layout,
            XwdLayout {
                width: 64,
                height: 48,
                bytes_per_line: 256,
                offset: 160 + 256 * 12,
                name: "Xvfb test:7.0".into(),
            }
        );
        assert!(layout.names_display(7, 0));
        assert!(!layout.names_display(17, 0) && !layout.names_display(7, 1));
        assert_eq!(layout.offset + layout.pixel_bytes(), file.len());
    }

    #[test]
    fn anything_else_is_refused_with_its_reason() {
        let good = xvfb_file(64, 48);
        let with = |index: usize, value: u32| {
            let mut f = good.clone();
            f[index * 4..index * 4 + 4].copy_from_slice(&value.to_be_bytes());
            XwdLayout::parse(&f)
        };
        assert_eq!(XwdLayout::parse(&good[..50]), Err(XwdError::Short(50)));
        assert_eq!(with(1, 6), Err(XwdError::Version(6)));
        assert_eq!(with(0, 20), Err(XwdError::HeaderSize(20)));
        for (index, value) in [
            (2, 1),
            (3, 16),
            (7, 1),
            (11, 24),
            (13, 3),
            (14, 0xFF),
            (6, 3),
        ] {
            assert!(
                matches!(with(index, value), Err(XwdError::Format(_))),
                "field {index}"
            );
        }
        // Rows narrower than the width, more rows than the file holds, a colour map past the end.
        assert!(matches!(with(12, 200), Err(XwdError::Truncated { .. })));
        assert!(matches!(with(5, 49), Err(XwdError::Truncated { .. })));
        assert!(matches!(
            with(19, u32::MAX),
            Err(XwdError::Truncated { .. })
        ));
        assert!(matches!(with(0, u32::MAX), Err(XwdError::Truncated { .. })));
        assert!(matches!(with(4, 0), Err(XwdError::Truncated { .. })));
        assert!(matches!(
            XwdLayout::parse(&good[..good.len() - 1]),
            Err(XwdError::Truncated { .. })
        ));
    }
}
