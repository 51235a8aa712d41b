//! Hardware plumbing: driver library probes, DRM render nodes, and VA-API device and surface
//! pools (`AVHWDeviceContext` / `AVHWFramesContext`).

use crate::AvError;
use ffmpeg_next::ffi;
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::ptr;

/// Loads (and unloads) the shared library `name` the way FFmpeg will, to report a missing driver
/// before an encoder is tried: `Err` carries the loader's reason.
///
/// # Errors
/// The `dlerror()` text, e.g. "libcuda.so.1: cannot open shared object file".
pub fn probe_library(name: &str) -> Result<(), String> {
    let c = CString::new(name).map_err(|_| format!("{name:?}: not a library name"))?;
    // SAFETY: dlopen with a valid C string; the handle is closed at once and no symbol is used.
    // Loading runs the library's constructors, as FFmpeg would when opening the encoder.
    unsafe {
        let handle = libc::dlopen(c.as_ptr(), libc::RTLD_LAZY | libc::RTLD_LOCAL);
        if handle.is_null() {
            let err = libc::dlerror();
            return Err(if err.is_null() {
                format!("{name}: cannot be loaded")
            } else {
                CStr::from_ptr(err).to_string_lossy().into_owned()
            });
        }
        libc::dlclose(handle);
    }
    Ok(())
}

/// The DRM render nodes (`/dev/dri/renderD128`…) in `dir`, sorted.
pub fn render_nodes(dir: &Path) -> Vec<PathBuf> {
    let mut nodes: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("renderD"))
        })
        .collect();
    nodes.sort();
    nodes
}

pub(crate) fn video_encoder_names() -> Vec<String> {
    let mut names = Vec::new();
    let mut opaque: *mut libc::c_void = ptr::null_mut();
    loop {
        // SAFETY: av_codec_iterate walks a static table; `opaque` is its cursor.
        let codec = unsafe { ffi::av_codec_iterate(&mut opaque) };
        if codec.is_null() {
            break;
        }
        // SAFETY: a non-null AVCodec from the static table, with a static name.
        unsafe {
            if ffi::av_codec_is_encoder(codec) != 0
                && (*codec).type_ == ffi::AVMediaType::AVMEDIA_TYPE_VIDEO
            {
                names.push(CStr::from_ptr((*codec).name).to_string_lossy().into_owned());
            }
        }
    }
    names
}

/// A VA-API device and a pool of NV12 surfaces of one size, owned by one encoder.
pub(crate) struct VaapiFrames {
    device: *mut ffi::AVBufferRef,
    frames: *mut ffi::AVBufferRef,
}

// SAFETY: the buffers are reference-counted FFmpeg objects used by one encoder on one thread at a
// time; FFmpeg's VA-API contexts have no thread affinity.
unsafe impl Send for VaapiFrames {}

impl VaapiFrames {
    /// Opens the VA-API driver on `node` and allocates a surface pool for `width`×`height`.
    pub(crate) fn open(node: &Path, width: u32, height: u32) -> Result<Self, AvError> {
        let path =
            CString::new(node.as_os_str().as_encoded_bytes()).map_err(|_| AvError::Ffmpeg {
                what: "VA-API device",
                reason: format!("{}: not a device path", node.display()),
            })?;
        let mut device: *mut ffi::AVBufferRef = ptr::null_mut();
        // SAFETY: out-pointer to a null AVBufferRef; the path outlives the call.
        let ret = unsafe {
            ffi::av_hwdevice_ctx_create(
                &mut device,
                ffi::AVHWDeviceType::AV_HWDEVICE_TYPE_VAAPI,
                path.as_ptr(),
                ptr::null_mut(),
                0,
            )
        };
        if ret < 0 {
            return Err(AvError::ffmpeg(
                "VA-API device",
                format!("{}: {}", node.display(), ffmpeg_next::Error::from(ret)),
            ));
        }
        let mut this = Self {
            device,
            frames: ptr::null_mut(),
        };
        // SAFETY: `device` is a valid device reference; the frames context it returns is filled
        // in before av_hwframe_ctx_init, as hwcontext.h requires.
        unsafe {
            let frames = ffi::av_hwframe_ctx_alloc(this.device);
            if frames.is_null() {
                return Err(AvError::ffmpeg("VA-API surfaces", "out of memory"));
            }
            this.frames = frames;
            let ctx = (*frames).data.cast::<ffi::AVHWFramesContext>();
            (*ctx).format = ffi::AVPixelFormat::AV_PIX_FMT_VAAPI;
            (*ctx).sw_format = ffi::AVPixelFormat::AV_PIX_FMT_NV12;
            (*ctx).width = width as i32;
            (*ctx).height = height as i32;
            // One surface being uploaded, one being encoded, plus the encoder's references.
            (*ctx).initial_pool_size = 4;
            let ret = ffi::av_hwframe_ctx_init(frames);
            if ret < 0 {
                return Err(AvError::ffmpeg(
                    "VA-API surfaces",
                    ffmpeg_next::Error::from(ret),
                ));
            }
        }
        Ok(this)
    }

    /// A new reference to the surface pool, for `AVCodecContext.hw_frames_ctx`.
    pub(crate) fn frames_ref(&self) -> *mut ffi::AVBufferRef {
        // SAFETY: `frames` is a valid, initialised frames context.
        unsafe { ffi::av_buffer_ref(self.frames) }
    }

    /// Uploads the NV12 picture in `sw` into a fresh surface `hw`.
    pub(crate) fn upload(
        &self,
        sw: &ffmpeg_next::frame::Video,
        hw: &mut ffmpeg_next::frame::Video,
    ) -> Result<(), AvError> {
        // SAFETY: `hw` is an owned AVFrame; get_buffer replaces its contents with a pool surface,
        // and transfer_data copies between two frames of the pool's size and sw_format.
        unsafe {
            ffi::av_frame_unref(hw.as_mut_ptr());
            let ret = ffi::av_hwframe_get_buffer(self.frames, hw.as_mut_ptr(), 0);
            if ret < 0 {
                return Err(AvError::ffmpeg(
                    "VA-API surface",
                    ffmpeg_next::Error::from(ret),
                ));
            }
            let ret = ffi::av_hwframe_transfer_data(hw.as_mut_ptr(), sw.as_ptr(), 0);
            if ret < 0 {
                return Err(AvError::ffmpeg(
                    "VA-API upload",
                    ffmpeg_next::Error::from(ret),
                ));
            }
        }
        Ok(())
    }
}

impl Drop for VaapiFrames {
    fn drop(&mut self) {
        // SAFETY: each pointer is null or a reference this struct owns.
        unsafe {
            ffi::av_buffer_unref(&mut self.frames);
            ffi::av_buffer_unref(&mut self.device);
        }
    }
}
