//! What each connected viewer reports about itself (`_f`, `_l`, the ping's round trip), kept
//! while its data channel is open, and the data-channel messages rejected server-wide.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One viewer's latest reports; `None` until it sent one.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ViewerReport {
    /// Frames a second the browser shows (`_f`).
    pub fps: Option<f64>,
    /// The latency the browser measures, in milliseconds (`_l`).
    pub latency_ms: Option<f64>,
    /// Half the data channel's ping round trip, in milliseconds.
    pub one_way_ms: Option<f64>,
}

/// Every open data channel's reports, by peer id.
#[derive(Debug, Default)]
pub struct Viewers {
    reports: Mutex<BTreeMap<String, ViewerReport>>,
    rejected_messages: AtomicU64,
}

impl Viewers {
    /// Registers `peer`; its reports are dropped with the returned handle.
    pub fn join(self: &Arc<Self>, peer: &str) -> ViewerHandle {
        if let Ok(mut reports) = self.reports.lock() {
            reports.insert(peer.to_owned(), ViewerReport::default());
        }
        ViewerHandle {
            viewers: Arc::clone(self),
            peer: peer.to_owned(),
        }
    }

    /// The open channels' reports, by peer id.
    pub fn reports(&self) -> Vec<(String, ViewerReport)> {
        self.reports
            .lock()
            .map(|r| r.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    }

    /// Data-channel messages that failed to parse, from any viewer, since start.
    pub fn rejected_messages(&self) -> u64 {
        self.rejected_messages.load(Ordering::Relaxed)
    }
}

/// One viewer's place in [`Viewers`], removed when dropped.
#[derive(Debug)]
pub struct ViewerHandle {
    viewers: Arc<Viewers>,
    peer: String,
}

impl ViewerHandle {
    /// Records one of this viewer's reports.
    pub fn update(&self, change: impl FnOnce(&mut ViewerReport)) {
        if let Ok(mut reports) = self.viewers.reports.lock() {
            if let Some(report) = reports.get_mut(&self.peer) {
                change(report);
            }
        }
    }

    /// Counts a message from this viewer that did not parse.
    pub fn rejected(&self) {
        self.viewers
            .rejected_messages
            .fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for ViewerHandle {
    fn drop(&mut self) {
        if let Ok(mut reports) = self.viewers.reports.lock() {
            reports.remove(&self.peer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_viewer_reports_while_it_is_connected() {
        let viewers = Arc::new(Viewers::default());
        let a = viewers.join("1");
        let b = viewers.join("2");
        a.update(|r| r.fps = Some(59.5));
        b.update(|r| r.latency_ms = Some(21.0));
        b.rejected();
        b.rejected();
        assert_eq!(
            viewers.reports(),
            vec![
                (
                    "1".to_owned(),
                    ViewerReport {
                        fps: Some(59.5),
                        ..ViewerReport::default()
                    }
                ),
                (
                    "2".to_owned(),
                    ViewerReport {
                        latency_ms: Some(21.0),
                        ..ViewerReport::default()
                    }
                ),
            ]
        );
        drop(a);
        assert_eq!(viewers.reports().len(), 1);
        drop(b);
        assert!(viewers.reports().is_empty());
        // The count outlives the viewers that caused it.
        assert_eq!(viewers.rejected_messages(), 2);
    }
}
