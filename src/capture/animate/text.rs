//! Text for the typing and scrolling scenes: a core X font and an endless, repeatable prose.

use super::canvas::Canvas;
use xcb::x;

pub(super) const PAPER: u32 = 0xFFFFFF;
pub(super) const INK: u32 = 0x202020;
const HEADING: u32 = 0x1A5FB4;

/// A core font set on the canvas's GC, with the metrics the scenes lay text out by.
pub(super) struct Font {
    pub ascent: u16,
    pub advance: u16,
    /// Height of the cell ImageText8 paints behind a glyph: ascent + descent.
    pub cell: u16,
    /// Baseline to baseline.
    pub line_height: u16,
}

impl Font {
    /// Opens the first font of a desktop-like size that the server has; "fixed" is compiled
    /// into X servers, so it is always there even without any font package.
    pub fn open(canvas: &Canvas<'_>) -> xcb::Result<Self> {
        const NAMES: [&str; 3] = [
            "-misc-fixed-medium-r-normal--18-*-*-*-c-*-iso8859-1",
            "9x15",
            "fixed",
        ];
        let conn = canvas.conn;
        // A refused OpenFont leaves the id unused, so each name is tried with the same one.
        let fid: x::Font = conn.generate_id();
        for name in NAMES {
            let opened = conn.send_request_checked(&x::OpenFont {
                fid,
                name: name.as_bytes(),
            });
            match conn.check_request(opened) {
                Ok(()) => break,
                Err(e) if name == "fixed" => return Err(xcb::Error::Protocol(e)),
                Err(_) => {}
            }
        }
        let info = conn.wait_for_reply(conn.send_request(&x::QueryFont {
            font: x::Fontable::Font(fid),
        }))?;
        conn.send_request(&x::ChangeGc {
            gc: canvas.gc,
            value_list: &[x::Gc::Background(PAPER), x::Gc::Font(fid)],
        });
        let ascent = info.font_ascent().max(1) as u16;
        let descent = info.font_descent().max(0) as u16;
        Ok(Self {
            ascent,
            advance: info.max_bounds().character_width.max(1) as u16,
            cell: ascent + descent,
            line_height: ascent + descent + 3,
        })
    }

    /// Draws `text` with its baseline at screen row `baseline`, glyph cells on paper.
    pub fn draw(&self, canvas: &Canvas<'_>, colour: u32, x: u16, baseline: i16, text: &[u8]) {
        canvas.foreground(colour);
        // ImageText8 takes at most 255 bytes a request.
        for (i, chunk) in text.chunks(255).enumerate() {
            canvas.conn.send_request(&x::ImageText8 {
                drawable: canvas.drawable(),
                gc: canvas.gc,
                x: (x + (i * 255) as u16 * self.advance) as i16,
                y: baseline,
                string: chunk,
            });
        }
    }
}

/// One line of the prose and the colour it is written in.
pub(super) struct Line {
    pub text: Vec<u8>,
    pub colour: u32,
}

/// Words drawn from a fixed list by a fixed-seed generator: the same text every run, so runs
/// compare, and lines of varied length with a heading now and then, as in a document.
pub(super) struct Prose {
    state: u64,
    lines: u64,
}

const WORDS: [&str; 32] = [
    "the", "stream", "frame", "latency", "of", "a", "desktop", "encoder", "and", "browser",
    "packet", "to", "window", "input", "is", "display", "capture", "in", "video", "server", "with",
    "each", "pixel", "change", "for", "remote", "session", "keyboard", "on", "screen", "bitrate",
    "it",
];

impl Prose {
    pub fn new() -> Self {
        Self {
            state: 0x9E37_79B9_7F4A_7C15,
            lines: 0,
        }
    }

    fn next(&mut self) -> u64 {
        // xorshift64*: plenty for picking words.
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32
    }

    /// The next line, at most `columns` characters.
    pub fn line(&mut self, columns: usize) -> Line {
        self.lines += 1;
        let heading = self.lines % 14 == 1;
        let blank = self.lines % 14 == 0;
        let target = if heading {
            columns / 3
        } else {
            columns * (40 + (self.next() % 60) as usize) / 100
        };
        let mut text = Vec::with_capacity(target + 16);
        while !blank && text.len() < target {
            let word = WORDS[(self.next() % WORDS.len() as u64) as usize].as_bytes();
            if text.len() + word.len() + 1 > columns {
                break;
            }
            if !text.is_empty() {
                text.push(b' ');
            }
            text.extend_from_slice(word);
        }
        if heading {
            text.make_ascii_uppercase();
        } else if let Some(first) = text.first_mut() {
            first.make_ascii_uppercase();
        }
        Line {
            text,
            colour: if heading { HEADING } else { INK },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_is_repeatable_and_fits_its_columns() {
        let (mut a, mut b) = (Prose::new(), Prose::new());
        for _ in 0..200 {
            let (la, lb) = (a.line(60), b.line(60));
            assert_eq!(la.text, lb.text);
            assert!(la.text.len() <= 60, "{}", la.text.len());
        }
        let lines: Vec<Vec<u8>> = (0..28).map(|_| a.line(60).text).collect();
        assert!(lines.iter().any(Vec::is_empty), "paragraph breaks");
        assert!(
            lines.iter().filter(|l| l.len() > 20).count() > 10,
            "mostly prose"
        );
    }
}
