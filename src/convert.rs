//! BGRx → I420 colour conversion into reusable planes.
//!
//! The fast path is the `yuv` crate's SIMD kernel (BT.601, limited range: what the encoders tag
//! in their VUI so decoders convert back the same way). [`bgrx_to_i420_reference`] is a plain
//! scalar version of the same arithmetic that tests hold the fast path to. Nothing here allocates
//! per frame: [`I420`] planes are allocated once and reused.

use selkies_fork::ForkJoin;
use std::ops::Range;
use thiserror::Error;
use yuv::{YuvConversionMode, YuvPlanarImageMut, YuvRange, YuvStandardMatrix};

/// Why a conversion was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConvertError {
    #[error("source too small: {have} bytes for {width}x{height} at stride {stride}")]
    SourceTooSmall {
        have: usize,
        width: u32,
        height: u32,
        stride: usize,
    },
    #[error("frame size {src_w}x{src_h} smaller than the planes {dst_w}x{dst_h}")]
    SizeMismatch {
        src_w: u32,
        src_h: u32,
        dst_w: u32,
        dst_h: u32,
    },
    #[error("conversion failed: {0}")]
    Kernel(String),
}

/// Planar 4:2:0 picture (Y full size, U and V halved both ways). Width and height are even.
#[derive(Debug, Clone)]
pub struct I420 {
    pub width: u32,
    pub height: u32,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
}

impl I420 {
    /// Allocates planes for `width`×`height`, rounded down to even (4:2:0 and the encoders need
    /// even sizes; an odd last row or column of the screen is cropped).
    pub fn new(width: u32, height: u32) -> Self {
        let (w, h) = (width & !1, height & !1);
        let (cw, ch) = (w as usize / 2, h as usize / 2);
        Self {
            width: w,
            height: h,
            y: vec![16; w as usize * h as usize],
            u: vec![128; cw * ch],
            v: vec![128; cw * ch],
        }
    }

    pub fn stride_y(&self) -> usize {
        self.width as usize
    }

    pub fn stride_uv(&self) -> usize {
        self.width as usize / 2
    }
}

fn check(
    src: &[u8],
    width: u32,
    height: u32,
    stride: usize,
    dst: &I420,
) -> Result<(), ConvertError> {
    if width < dst.width || height < dst.height {
        return Err(ConvertError::SizeMismatch {
            src_w: width,
            src_h: height,
            dst_w: dst.width,
            dst_h: dst.height,
        });
    }
    let need = stride * (dst.height as usize).saturating_sub(1) + dst.width as usize * 4;
    if stride < dst.width as usize * 4 || src.len() < need {
        return Err(ConvertError::SourceTooSmall {
            have: src.len(),
            width,
            height,
            stride,
        });
    }
    Ok(())
}

/// Converts a BGRx frame (4 bytes a pixel, `stride` bytes a row) into `dst`, using the top-left
/// `dst.width`×`dst.height` pixels of the source.
///
/// # Errors
/// [`ConvertError`] when the source is smaller than the planes or too short for its stride.
pub fn bgrx_to_i420(
    src: &[u8],
    width: u32,
    height: u32,
    stride: usize,
    dst: &mut I420,
) -> Result<(), ConvertError> {
    bgrx_to_i420_rows(src, width, height, stride, dst, 0..height, None)
}

/// Bands shorter than this are converted on one thread: the hand-over would cost more than
/// half of them.
pub const FORK_MIN_ROWS: usize = 128;

/// Converts only the rows `rows` of the frame, widened to whole chroma rows (even bounds); the
/// rest of `dst` keeps what it held. When only part of the screen changed, the planes then hold
/// the new picture for the cost of the changed band. With `helper`, a band of at least
/// [`FORK_MIN_ROWS`] rows is cut in two and its lower half converted on the helper's thread
/// meanwhile.
///
/// # Errors
/// As [`bgrx_to_i420`].
pub fn bgrx_to_i420_rows(
    src: &[u8],
    width: u32,
    height: u32,
    stride: usize,
    dst: &mut I420,
    rows: Range<u32>,
    helper: Option<&mut ForkJoin>,
) -> Result<(), ConvertError> {
    check(src, width, height, stride, dst)?;
    let top = (rows.start & !1).min(dst.height) as usize;
    let bottom = (rows.end.saturating_add(1) & !1).min(dst.height) as usize;
    if top >= bottom {
        return Ok(());
    }
    let (sy, suv, w) = (dst.stride_y(), dst.stride_uv(), dst.width);
    let planes = (
        &mut dst.y[top * sy..bottom * sy],
        &mut dst.u[top / 2 * suv..bottom / 2 * suv],
        &mut dst.v[top / 2 * suv..bottom / 2 * suv],
    );
    // `check` made sure the source holds every row up to the planes' height.
    let src = &src[top * stride..];
    let rows = bottom - top;
    match helper {
        Some(helper) if rows >= FORK_MIN_ROWS => {
            // Cut on an even row: each half holds whole chroma rows.
            let upper = (rows / 2) & !1;
            let (y0, y1) = planes.0.split_at_mut(upper * sy);
            let (u0, u1) = planes.1.split_at_mut(upper / 2 * suv);
            let (v0, v1) = planes.2.split_at_mut(upper / 2 * suv);
            let (src0, src1) = src.split_at(upper * stride);
            let mut lower = Ok(());
            let upper = helper.join(
                || convert_span(src0, stride, (y0, u0, v0), w, sy, upper),
                || lower = convert_span(src1, stride, (y1, u1, v1), w, sy, rows - upper),
            );
            upper.and(lower)
        }
        _ => convert_span(src, stride, planes, w, sy, rows),
    }
}

/// The SIMD kernel over `rows` rows (even) of `src` into planes that start at the same row.
fn convert_span(
    src: &[u8],
    stride: usize,
    (y, u, v): (&mut [u8], &mut [u8], &mut [u8]),
    width: u32,
    stride_y: usize,
    rows: usize,
) -> Result<(), ConvertError> {
    let mut planar = YuvPlanarImageMut {
        y_plane: yuv::BufferStoreMut::Borrowed(y),
        y_stride: stride_y as u32,
        u_plane: yuv::BufferStoreMut::Borrowed(u),
        u_stride: (stride_y / 2) as u32,
        v_plane: yuv::BufferStoreMut::Borrowed(v),
        v_stride: (stride_y / 2) as u32,
        width,
        height: rows as u32,
    };
    yuv::bgra_to_yuv420(
        &mut planar,
        src,
        stride as u32,
        YuvRange::Limited,
        YuvStandardMatrix::Bt601,
        YuvConversionMode::Balanced,
    )
    .map_err(|e| ConvertError::Kernel(e.to_string()))
}

/// The same conversion in plain scalar arithmetic (BT.601 limited range, chroma averaged over
/// each 2×2 block): the reference the SIMD path is checked against.
///
/// # Errors
/// As [`bgrx_to_i420`].
pub fn bgrx_to_i420_reference(
    src: &[u8],
    width: u32,
    height: u32,
    stride: usize,
    dst: &mut I420,
) -> Result<(), ConvertError> {
    check(src, width, height, stride, dst)?;
    let (w, h) = (dst.width as usize, dst.height as usize);
    let px = |x: usize, y: usize| {
        let o = y * stride + x * 4;
        (
            f32::from(src[o + 2]),
            f32::from(src[o + 1]),
            f32::from(src[o]),
        )
    };
    for y in 0..h {
        for x in 0..w {
            let (r, g, b) = px(x, y);
            let luma = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
            dst.y[y * w + x] = luma.round().clamp(0.0, 255.0) as u8;
        }
    }
    let cw = w / 2;
    for cy in 0..h / 2 {
        for cx in 0..cw {
            let (mut r, mut g, mut b) = (0.0, 0.0, 0.0);
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let (pr, pg, pb) = px(cx * 2 + dx, cy * 2 + dy);
                r += pr / 4.0;
                g += pg / 4.0;
                b += pb / 4.0;
            }
            let u = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0;
            let v = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0;
            dst.u[cy * cw + cx] = u.round().clamp(0.0, 255.0) as u8;
            dst.v[cy * cw + cx] = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(w: u32, h: u32, stride: usize) -> Vec<u8> {
        let mut buf = vec![0u8; stride * h as usize];
        for y in 0..h as usize {
            for x in 0..w as usize {
                let o = y * stride + x * 4;
                buf[o] = (x * 7 + y) as u8;
                buf[o + 1] = (x * 3 + y * 5) as u8;
                buf[o + 2] = 255u8.wrapping_sub((x + y * 2) as u8);
                buf[o + 3] = 0xFF;
            }
        }
        buf
    }

    fn max_diff(a: &[u8], b: &[u8]) -> u8 {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.abs_diff(*y))
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn a_converted_band_updates_just_those_rows() {
        let (w, h) = (320u32, 240u32);
        let stride = w as usize * 4;
        let before = pattern(w, h, stride);
        let mut after = before.clone();
        // Rows 101..=136 change (odd start: the band widens to whole chroma rows).
        for px in after[101 * stride..137 * stride].chunks_exact_mut(4) {
            px[0] = px[0].wrapping_add(90);
            px[2] = px[2].wrapping_mul(3);
        }
        let mut whole = I420::new(w, h);
        bgrx_to_i420(&after, w, h, stride, &mut whole).expect("sizes");
        let mut banded = I420::new(w, h);
        bgrx_to_i420(&before, w, h, stride, &mut banded).expect("sizes");
        assert_ne!(banded.y, whole.y);
        bgrx_to_i420_rows(&after, w, h, stride, &mut banded, 101..137, None).expect("sizes");
        assert_eq!(banded.y, whole.y);
        assert_eq!(banded.u, whole.u);
        assert_eq!(banded.v, whole.v);
        // Empty and out-of-range bands change nothing.
        bgrx_to_i420_rows(&before, w, h, stride, &mut banded, 50..50, None).expect("sizes");
        bgrx_to_i420_rows(&before, w, h, stride, &mut banded, 300..400, None).expect("sizes");
        assert_eq!(banded.y, whole.y);
    }

    #[test]
    fn a_band_converted_in_two_halves_equals_it_converted_on_one_thread() {
        let mut helper = ForkJoin::new("convert-test").expect("thread starts");
        for (w, h, pad, rows) in [
            (1920u32, 1080u32, 0usize, 0..1080u32),
            (322, 402, 64, 31..389),
            (320, 240, 0, 100..120),
        ] {
            let stride = w as usize * 4 + pad;
            let src = pattern(w, h, stride);
            let mut one = I420::new(w, h);
            bgrx_to_i420_rows(&src, w, h, stride, &mut one, rows.clone(), None).expect("sizes");
            let mut two = I420::new(w, h);
            bgrx_to_i420_rows(&src, w, h, stride, &mut two, rows, Some(&mut helper))
                .expect("sizes");
            assert_eq!(one.y, two.y);
            assert_eq!(one.u, two.u);
            assert_eq!(one.v, two.v);
        }
    }

    #[test]
    fn simd_matches_scalar_reference() {
        for (w, h, pad) in [(64, 48, 0), (1280, 720, 0), (322, 202, 64), (17, 9, 12)] {
            let stride = w as usize * 4 + pad;
            let src = pattern(w, h, stride);
            let mut fast = I420::new(w, h);
            let mut slow = I420::new(w, h);
            bgrx_to_i420(&src, w, h, stride, &mut fast).expect("fast conversion");
            bgrx_to_i420_reference(&src, w, h, stride, &mut slow).expect("reference conversion");
            assert!(max_diff(&fast.y, &slow.y) <= 2, "luma differs at {w}x{h}");
            assert!(max_diff(&fast.u, &slow.u) <= 3, "U differs at {w}x{h}");
            assert!(max_diff(&fast.v, &slow.v) <= 3, "V differs at {w}x{h}");
        }
    }

    #[test]
    fn known_colours() {
        // Pure red, green, blue, white and black in BT.601 limited range.
        let cases = [
            ([0, 0, 255], (81, 90, 240)),
            ([0, 255, 0], (145, 54, 34)),
            ([255, 0, 0], (41, 240, 110)),
            ([255, 255, 255], (235, 128, 128)),
            ([0, 0, 0], (16, 128, 128)),
        ];
        for (bgr, (y, u, v)) in cases {
            let src: Vec<u8> = (0..16).flat_map(|_| [bgr[0], bgr[1], bgr[2], 0]).collect();
            let mut out = I420::new(4, 4);
            bgrx_to_i420(&src, 4, 4, 16, &mut out).expect("conversion");
            assert!(
                out.y[0].abs_diff(y) <= 1 && out.u[0].abs_diff(u) <= 1 && out.v[0].abs_diff(v) <= 1,
                "{bgr:?} -> {} {} {}",
                out.y[0],
                out.u[0],
                out.v[0]
            );
        }
    }

    #[test]
    fn odd_sizes_crop_to_even_and_short_sources_are_rejected() {
        let out = I420::new(1921, 1081);
        assert_eq!((out.width, out.height), (1920, 1080));
        let mut small = I420::new(8, 8);
        assert!(bgrx_to_i420(&[0u8; 10], 8, 8, 32, &mut small).is_err());
        assert!(bgrx_to_i420(&[0u8; 8 * 8 * 4], 4, 4, 16, &mut small).is_err());
    }
}
