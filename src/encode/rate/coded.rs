//! The QP each macroblock of the picture on the viewer's screen was last coded at.
//!
//! x264 skips a macroblock flagged unchanged only if the previous frame's QP there is no
//! higher than this frame's; otherwise it analyses it again and refines what was coded
//! coarsely. This map tells the rate control which macroblocks a lower QP would refine, and so
//! what such a frame costs.

/// QPs are 0..=51.
const QPS: usize = 52;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CodedQp {
    qp: Vec<u8>,
}

/// How many unchanged macroblocks were coded at each QP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Histogram([u32; QPS]);

impl Histogram {
    /// Unchanged macroblocks a frame at `qp` refines: those coded coarser.
    pub(super) fn coarser_than(&self, qp: u8) -> u32 {
        self.0.iter().skip(usize::from(qp) + 1).sum()
    }
}

impl CodedQp {
    pub(super) fn new(macroblocks: usize) -> Self {
        CodedQp {
            qp: vec![u8::MAX; macroblocks],
        }
    }

    pub(super) fn len(&self) -> usize {
        self.qp.len()
    }

    /// The unchanged macroblocks (`unchanged[i] != 0`; every one when `None`) by coded QP.
    pub(super) fn histogram(&self, unchanged: Option<&[u8]>) -> Histogram {
        let mut h = [0u32; QPS];
        let mut count = |qp: u8| {
            // Never coded (u8::MAX) counts as the coarsest.
            h[usize::from(qp).min(QPS - 1)] += 1;
        };
        match unchanged {
            Some(flags) => self
                .qp
                .iter()
                .zip(flags)
                .filter(|(_, &f)| f != 0)
                .for_each(|(&q, _)| count(q)),
            None => self.qp.iter().for_each(|&q| count(q)),
        }
        Histogram(h)
    }

    /// After a frame at `qp`: changed macroblocks (`unchanged[i] == 0`, or all when `None`) are
    /// coded at `qp`, and unchanged ones coded coarser were refined to it.
    pub(super) fn coded(&mut self, unchanged: Option<&[u8]>, qp: u8) {
        match unchanged {
            Some(flags) => {
                for (q, &f) in self.qp.iter_mut().zip(flags) {
                    if f == 0 || *q > qp {
                        *q = qp;
                    }
                }
            }
            None => self.qp.fill(qp),
        }
    }

    /// After a refresh of the unchanged picture at `qp`: whatever was coded coarser is now `qp`.
    pub(super) fn refined(&mut self, qp: u8) {
        for q in &mut self.qp {
            *q = (*q).min(qp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lower_qp_refines_only_what_was_coded_coarser() {
        let mut map = CodedQp::new(4);
        map.coded(None, 30);
        // Macroblock 1 changes and is coded finer.
        map.coded(Some(&[1, 0, 1, 1]), 20);
        // Everything was refined to 20 (x264 re-analyses the unchanged ones at a lower QP).
        assert_eq!(map.histogram(None).coarser_than(20), 0);
        map.coded(Some(&[1, 1, 0, 1]), 40);
        let unchanged = [1, 1, 0, 1];
        let h = map.histogram(Some(&unchanged));
        assert_eq!(h.coarser_than(19), 3);
        assert_eq!(h.coarser_than(20), 0);
        assert_eq!(map.histogram(None).coarser_than(20), 1);
    }

    #[test]
    fn never_coded_counts_as_coarsest() {
        let map = CodedQp::new(3);
        assert_eq!(map.len(), 3);
        assert_eq!(map.histogram(None).coarser_than(50), 3);
        assert_eq!(map.histogram(Some(&[0, 1, 0])).coarser_than(50), 1);
    }
}
