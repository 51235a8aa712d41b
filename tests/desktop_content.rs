//! The bench's desktop contents paint what they claim, read back from the X server: typing
//! changes a glyph or two at a time on a page of text; scrolling moves the whole page up a few
//! rows a frame and brings new text in at the bottom.

use anyhow::{ensure, Context, Result};
use selkies_rs::capture::animate::{Animator, Content};
use selkies_rs::capture::display::VirtualDisplay;
use selkies_rs::capture::xshm::XshmCapture;
use std::time::Duration;

const W: usize = 640;
const H: usize = 480;

/// One grab of the screen as rows of BGRx pixels.
struct Shot(Vec<Vec<u8>>);

impl Shot {
    fn take(cap: &mut XshmCapture) -> Result<Self> {
        let f = cap.grab()?;
        Ok(Shot(
            (0..H)
                .map(|y| f.data[y * f.stride..y * f.stride + W * 4].to_vec())
                .collect(),
        ))
    }

    /// Shares of white (paper) and dark (ink) pixels.
    fn paper_and_ink(&self) -> (f64, f64) {
        let (mut paper, mut ink) = (0usize, 0usize);
        for px in self.0.iter().flat_map(|r| r.chunks_exact(4)) {
            let sum = u32::from(px[0]) + u32::from(px[1]) + u32::from(px[2]);
            paper += usize::from(sum == 3 * 255);
            ink += usize::from(sum < 3 * 128);
        }
        let n = (W * H) as f64;
        (paper as f64 / n, ink as f64 / n)
    }

    /// Rows that differ from `other`'s same row.
    fn rows_changed(&self, other: &Shot) -> Vec<usize> {
        (0..H).filter(|&y| self.0[y] != other.0[y]).collect()
    }
}

fn painted(content: Content) -> Result<(VirtualDisplay, Animator, XshmCapture)> {
    let display = VirtualDisplay::start(W as u32, H as u32)?;
    let animator = Animator::start(&display.name(), content, 60)?;
    let cap = XshmCapture::open(Some(&display.name()))?;
    std::thread::sleep(Duration::from_millis(400));
    Ok((display, animator, cap))
}

fn looks_like_text(shot: &Shot) -> Result<()> {
    let (paper, ink) = shot.paper_and_ink();
    ensure!(paper > 0.80, "mostly white paper, got {paper:.3}");
    ensure!(ink > 0.005, "some dark text, got {ink:.4}");
    Ok(())
}

#[test]
fn typing_changes_a_line_of_text_at_a_time() -> Result<()> {
    let (_display, _animator, mut cap) = painted(Content::Typing)?;
    let a = Shot::take(&mut cap)?;
    looks_like_text(&a).context("before")?;
    std::thread::sleep(Duration::from_millis(150));
    let b = Shot::take(&mut cap)?;
    looks_like_text(&b).context("after")?;
    let rows = b.rows_changed(&a);
    ensure!(!rows.is_empty(), "about 9 characters typed in 150 ms");
    // At most two text lines' worth of rows (a line may end between the grabs).
    let span = rows[rows.len() - 1] - rows[0] + 1;
    ensure!(
        span <= 50,
        "rows {}..={} changed",
        rows[0],
        rows[rows.len() - 1]
    );
    Ok(())
}

#[test]
fn scrolling_moves_the_page_up_and_brings_in_new_text() -> Result<()> {
    let (_display, _animator, mut cap) = painted(Content::Scrolling)?;
    let a = Shot::take(&mut cap)?;
    looks_like_text(&a)?;
    std::thread::sleep(Duration::from_millis(100));
    let b = Shot::take(&mut cap)?;
    looks_like_text(&b)?;
    ensure!(b.rows_changed(&a).len() > H / 2, "most rows change");
    // b's rows are a's rows moved up by whole steps; the bottom rows are new text, and may be
    // mid-paint, so only the rows both grabs must share are compared.
    let shift = (4..=120).step_by(4).find(|&s| {
        let kept = H - s - 16;
        (0..kept).all(|y| b.0[y] == a.0[y + s])
    });
    let shift = shift.context("b is a moved up by a multiple of 4 rows")?;
    ensure!(
        shift >= 8,
        "at 240 rows/s, 100 ms moves about 24 rows, got {shift}"
    );
    Ok(())
}
