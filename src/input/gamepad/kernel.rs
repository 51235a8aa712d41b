//! Kernel virtual pads through `/dev/uinput`, where the host allows it: every program sees them
//! (SDL scanning `/dev/input`, Steam, Wine), no LD_PRELOAD needed. Each is fed like any evdev
//! reader of its slot, so the interposer's readers and the kernel pad report the same events.
//!
//! A pad is created the first time its slot attaches and stays until the hub drops, as a pad
//! that was plugged in once; a detached slot reports every control at rest.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use selkies_uinput::{Axis, Device, DeviceSpec};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use super::mapping::{self, AXIS_CODES, BUTTON_CODES};
use super::slot::{Node, Slot};
use super::wire::{is_hat, WordSize};

/// Whether kernel pads are made (Selkies 2.x `uinput_gamepad`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum KernelPads {
    /// When `/dev/uinput` is usable.
    #[default]
    Auto,
    /// Always; an unusable `/dev/uinput` is an error at start.
    True,
    /// Never: the interposer sockets only.
    False,
}

/// The uinput description of the Xbox-style pad, with the ranges the interposer reports.
pub fn device_spec() -> DeviceSpec {
    let config = mapping::device_config();
    DeviceSpec {
        name: config.name,
        vendor: config.vendor,
        product: config.product,
        version: config.version,
        keys: BUTTON_CODES.to_vec(),
        axes: AXIS_CODES
            .iter()
            .map(|&code| {
                if is_hat(code) {
                    Axis {
                        code: u16::from(code),
                        minimum: -1,
                        maximum: 1,
                        fuzz: 0,
                        flat: 0,
                    }
                } else {
                    Axis {
                        code: u16::from(code),
                        minimum: -32767,
                        maximum: 32767,
                        fuzz: 16,
                        flat: 128,
                    }
                }
            })
            .collect(),
    }
}

/// The kernel pads of a hub: one per slot, made on first attach.
pub(super) struct KernelPadSet {
    path: PathBuf,
    runtime: Handle,
    pads: Mutex<Vec<Option<JoinHandle<()>>>>,
}

impl KernelPadSet {
    pub fn new(path: PathBuf, runtime: Handle, slots: usize) -> Self {
        KernelPadSet {
            path,
            runtime,
            pads: Mutex::new((0..slots).map(|_| None).collect()),
        }
    }

    /// Makes slot `index`'s kernel pad if it has none; failures are logged, the interposer path
    /// goes on.
    pub fn ensure(&self, index: usize, slot: &Arc<Slot>) {
        let Ok(mut pads) = self.pads.lock() else {
            return;
        };
        let Some(entry) = pads.get_mut(index) else {
            return;
        };
        if entry.is_some() {
            return;
        }
        let mut device = match Device::create(&self.path, &device_spec()) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(slot = index, error = %e, path = %self.path.display(), "kernel gamepad not created");
                return;
            }
        };
        let word = if selkies_uinput::event_size() == 24 {
            WordSize::Eight
        } else {
            WordSize::Four
        };
        let Some(mut reg) = slot.register(Node::Evdev(word)) else {
            return;
        };
        let slot = Arc::clone(slot);
        tracing::info!(slot = index, "kernel gamepad created through uinput");
        *entry = Some(self.runtime.spawn(async move {
            while let Some(records) = reg.rx.recv().await {
                if let Err(e) = device.write_events(&records) {
                    tracing::warn!(error = %e, "kernel gamepad write failed");
                }
                if reg.lagged.load(Ordering::Acquire) && reg.rx.is_empty() {
                    slot.resync(reg.id);
                }
            }
            slot.unregister(reg.id);
        }));
    }
}

impl Drop for KernelPadSet {
    fn drop(&mut self) {
        if let Ok(pads) = self.pads.lock() {
            for task in pads.iter().flatten() {
                task.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_matches_the_interposer_pad() {
        let spec = device_spec();
        assert_eq!(spec.keys, BUTTON_CODES.to_vec());
        assert_eq!(spec.axes.len(), 8);
        assert_eq!((spec.axes[6].minimum, spec.axes[6].maximum), (-1, 1), "hat");
        assert_eq!(
            (spec.axes[0].minimum, spec.axes[0].maximum),
            (-32767, 32767)
        );
    }
}
