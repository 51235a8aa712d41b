//! An XFixes cursor image (premultiplied ARGB words) as the PNG browsers take for a CSS cursor,
//! and the handle clients cache it under.

use std::hash::{Hash, Hasher};

/// Straight-alpha RGBA bytes from XFixes' premultiplied ARGB. Browsers composite PNGs as straight
/// alpha, so premultiplied colours would show dark fringes on antialiased edges.
pub fn argb_to_rgba(pixels: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pixels.len() * 4);
    for &p in pixels {
        let a = (p >> 24) & 0xff;
        let un = |c: u32| -> u8 {
            (c * 255 + a / 2)
                .checked_div(a)
                .map_or(0, |v| u8::try_from(v.min(255)).unwrap_or(255))
        };
        out.extend_from_slice(&[un((p >> 16) & 0xff), un((p >> 8) & 0xff), un(p & 0xff)]);
        out.push(u8::try_from(a).unwrap_or(255));
    }
    out
}

/// PNG of `width`x`height` RGBA bytes.
///
/// # Errors
/// When the sizes do not match the data.
pub fn encode_png(width: u16, height: u16, rgba: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, u32::from(width), u32::from(height));
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(rgba)?;
    }
    Ok(out)
}

/// A handle for a shape: the same pixels and hotspot give the same handle, so a shape X recreates
/// (new serial, same look) is not sent again. Kept below 2^31 so every JSON reader takes it whole;
/// never 0, which Selkies clients read as "default cursor".
pub fn handle_of(width: u16, height: u16, xhot: u16, yhot: u16, pixels: &[u32]) -> u32 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (width, height, xhot, yhot, pixels).hash(&mut h);
    let v = u32::try_from(h.finish() & 0x7fff_ffff).unwrap_or(1);
    v.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpremultiplies() {
        // Opaque red, half-transparent white (premultiplied 0x80), fully transparent.
        let rgba = argb_to_rgba(&[0xffff_0000, 0x8080_8080, 0x0000_0000]);
        assert_eq!(rgba, [255, 0, 0, 255, 255, 255, 255, 128, 0, 0, 0, 0]);
    }

    #[test]
    fn png_round_trips() {
        let pixels: Vec<u32> = (0..6u32).map(|i| 0xff00_0000 | (i * 40)).collect();
        let png_bytes = encode_png(3, 2, &argb_to_rgba(&pixels)).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (3, 2));
        assert_eq!(&buf[4..8], &[0, 0, 40, 255]);
    }

    #[test]
    fn handles_follow_content() {
        let a = handle_of(2, 1, 0, 0, &[1, 2]);
        assert_eq!(a, handle_of(2, 1, 0, 0, &[1, 2]));
        assert_ne!(a, handle_of(2, 1, 1, 0, &[1, 2]));
        assert_ne!(a, handle_of(2, 1, 0, 0, &[1, 3]));
        assert!(a > 0 && a < 1 << 31);
    }
}
