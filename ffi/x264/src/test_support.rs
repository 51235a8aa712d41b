//! Test-only helpers: synthetic I420 pictures and a minimal reader for the
//! parts of an H.264 Annex-B stream the tests assert on (NAL types, slice types,
//! SPS profile bytes). Not a general parser.

use crate::Picture;

pub struct I420 {
    pub width: usize,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
}

impl I420 {
    pub fn picture(&self, pts: i64) -> Picture<'_> {
        Picture {
            y: &self.y,
            u: &self.u,
            v: &self.v,
            stride_y: self.width,
            stride_uv: self.width / 2,
            pts,
        }
    }

    /// Diagonal gradient with a bright box that moves 4 pixels per frame, like a
    /// dragged window: mostly predictable from the previous frame.
    pub fn moving(width: usize, height: usize, t: usize) -> I420 {
        let mut y = vec![0u8; width * height];
        for (row, line) in y.chunks_exact_mut(width).enumerate() {
            for (col, px) in line.iter_mut().enumerate() {
                *px = (16 + (row + col) % 200) as u8;
            }
        }
        let side = (width.min(height) / 4).max(2);
        let x0 = (t * 4) % (width - side);
        let y0 = (t * 2) % (height - side);
        for line in y.chunks_exact_mut(width).skip(y0).take(side) {
            line[x0..x0 + side].fill(235);
        }
        let chroma = (width / 2) * (height / 2);
        let u = (0..chroma).map(|i| (64 + (i + t) % 128) as u8).collect();
        I420 {
            width,
            y,
            u,
            v: vec![128; chroma],
        }
    }

    /// Fresh pseudo-random noise every frame: nothing to predict, so the frame
    /// size is whatever the rate control allows.
    pub fn noise(width: usize, height: usize, seed: u64) -> I420 {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        };
        let chroma = (width / 2) * (height / 2);
        I420 {
            width,
            y: (0..width * height).map(|_| next()).collect(),
            u: (0..chroma).map(|_| next()).collect(),
            v: (0..chroma).map(|_| next()).collect(),
        }
    }
}

/// NAL units of an Annex-B stream, start codes removed.
pub fn nal_units(stream: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut nals = Vec::new();
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(stream.len(), |next| next - 3);
        let mut nal = &stream[start..end];
        // The extra zero of a 4-byte start code belongs to the next unit.
        while let [rest @ .., 0] = nal {
            nal = rest;
        }
        nals.push(nal);
    }
    nals
}

pub fn nal_type(nal: &[u8]) -> u8 {
    nal.first().map_or(0xff, |b| b & 0x1f)
}

pub fn nal_types(stream: &[u8]) -> Vec<u8> {
    nal_units(stream).into_iter().map(nal_type).collect()
}

/// `slice_type % 5` of a coded slice (0 = P, 1 = B, 2 = I), `None` otherwise.
pub fn slice_type(nal: &[u8]) -> Option<u32> {
    if !matches!(nal_type(nal), 1 | 5) {
        return None;
    }
    let mut rbsp = Vec::with_capacity(16);
    let mut zeros = 0;
    for &b in nal.iter().skip(1).take(32) {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        rbsp.push(b);
    }
    let mut bits = Bits {
        data: &rbsp,
        pos: 0,
    };
    bits.ue()?; // first_mb_in_slice
    Some(bits.ue()? % 5)
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Option<u32> {
        let byte = self.data.get(self.pos / 8)?;
        let bit = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(bit))
    }

    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let mut value = 1u64;
        for _ in 0..zeros {
            value = (value << 1) | u64::from(self.bit()?);
        }
        u32::try_from(value - 1).ok()
    }
}

#[test]
fn splits_three_and_four_byte_start_codes() {
    let stream = [
        0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 0x88,
    ];
    let nals = nal_units(&stream);
    assert_eq!(
        nals,
        vec![&[0x67, 1, 2][..], &[0x68, 3][..], &[0x65, 0x88][..]]
    );
    assert_eq!(nal_types(&stream), vec![7, 8, 5]);
}

#[test]
fn reads_slice_type_after_first_mb() {
    // first_mb_in_slice = 0 ("1"), slice_type = 5 ("00110"): 1001_1000.
    assert_eq!(slice_type(&[0x65, 0b1001_1000]), Some(0));
    // slice_type = 7 ("0001000"): 1000_1000 0...
    assert_eq!(slice_type(&[0x65, 0b1000_1000, 0]), Some(2));
    assert_eq!(slice_type(&[0x67, 0xff]), None);
}
