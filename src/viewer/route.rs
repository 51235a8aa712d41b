//! What one verb from a viewer does: the verb and the viewer's [`Role`] in, a typed [`Effect`]
//! out.
//!
//! Pure: no X, no sockets, no clock. The per-viewer driver ([`super::Viewer`]) carries the
//! effect out; keeping the decision here means the role policy is applied in one place, before
//! anything reaches the input thread, the gamepads, the clipboard or the shared stream.

use crate::access::Role;
use crate::input::protocol::{Category, Size, Verb};
use crate::input::settings::StreamSettings;

/// What a verb asks the server to do, once the viewer's role allowed it.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// The role may not send verbs of this kind: dropped and counted, never applied.
    Denied(Category),
    /// A keyboard or pointer verb for the input thread.
    Inject(Verb),
    /// A `js,…` verb for the gamepads.
    Gamepad(Verb),
    /// A clipboard verb for this viewer's clipboard session.
    Clipboard(Verb),
    /// `p` or `SET_NATIVE_CURSOR_RENDERING`: this viewer's vote for the pointer in the video.
    PointerInVideo(bool),
    /// `vb`: the shared stream's bitrate, kbit/s.
    SetBitrate(u32),
    /// `_arg_fps`: the shared stream's frame rate.
    SetFramerate(u32),
    /// `REQUEST_KEYFRAME`.
    RequestKeyframe,
    /// `SETTINGS`: encoder, frame rate and bitrate, each when given.
    Settings(StreamSettings),
    /// `r,WxH` or `_arg_resize,true,WxH`: resize the remote screen.
    Resize(Size),
    /// `pong,<ts>`: the echo of our ping, in Unix seconds.
    Pong(f64),
    /// `_f`: frames a second the browser shows.
    ClientFps(f64),
    /// `_l`: the latency the browser measures, ms.
    ClientLatency(f64),
    /// Allowed, and nothing for the streaming core to do (`s`, `ab`, `_stats_*`, resize off).
    Ignored(Category),
}

/// Decides what `verb` from a viewer with `role` does.
pub fn route(verb: Verb, role: Role) -> Effect {
    let category = verb.category();
    if !role.allows(category) {
        return Effect::Denied(category);
    }
    match verb {
        Verb::PointerVisible(on) | Verb::NativeCursorRendering(on) => Effect::PointerInVideo(on),
        verb if category == Category::Clipboard => Effect::Clipboard(verb),
        verb if category == Category::Gamepad => Effect::Gamepad(verb),
        verb if matches!(category, Category::Keyboard | Category::Mouse) => Effect::Inject(verb),
        Verb::VideoBitrate(kbps) => Effect::SetBitrate(kbps),
        Verb::Framerate(fps) => Effect::SetFramerate(fps),
        Verb::RequestKeyframe => Effect::RequestKeyframe,
        Verb::Settings(settings) => Effect::Settings(settings),
        Verb::Resize { size, .. }
        | Verb::ResizeMode {
            enabled: true,
            size: Some(size),
        } => Effect::Resize(size),
        Verb::Pong(start) => Effect::Pong(start),
        Verb::ClientFps(fps) => Effect::ClientFps(fps),
        Verb::ClientLatency(ms) => Effect::ClientLatency(ms),
        _ => Effect::Ignored(category),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::protocol::parse;

    fn routed(text: &str, role: Role) -> Effect {
        route(parse(text).expect("a valid verb"), role)
    }

    #[test]
    fn control_reaches_every_driver() {
        let c = Role::Control;
        assert_eq!(routed("kd,97", c), Effect::Inject(Verb::KeyDown(97)));
        assert!(matches!(
            routed("m,10,20,1,0", c),
            Effect::Inject(Verb::PointerAbsolute(_))
        ));
        assert!(matches!(
            routed("m2,1,-1,0,0", c),
            Effect::Inject(Verb::PointerRelative(_))
        ));
        assert_eq!(routed("kh,97", c), Effect::Inject(Verb::HeldKeys(vec![97])));
        assert!(matches!(
            routed("js,b,0,1,1", c),
            Effect::Gamepad(Verb::GamepadButton { .. })
        ));
        assert!(matches!(routed("js,d,1", c), Effect::Gamepad(_)));
        assert_eq!(routed("cr", c), Effect::Clipboard(Verb::ClipboardRead));
        assert_eq!(
            routed("REQUEST_CLIPBOARD", c),
            Effect::Clipboard(Verb::RequestClipboard)
        );
        assert!(matches!(
            routed("cw,aGk=", c),
            Effect::Clipboard(Verb::ClipboardText(_))
        ));
        assert_eq!(routed("p,1", c), Effect::PointerInVideo(true));
        assert_eq!(
            routed("SET_NATIVE_CURSOR_RENDERING,0", c),
            Effect::PointerInVideo(false)
        );
        assert_eq!(routed("vb,4000", c), Effect::SetBitrate(4000));
        assert_eq!(routed("_arg_fps,30", c), Effect::SetFramerate(30));
        assert_eq!(
            routed("r,1280x720", c),
            Effect::Resize(Size {
                width: 1280,
                height: 720
            })
        );
        assert_eq!(
            routed("_arg_resize,true,800x600", c),
            Effect::Resize(Size {
                width: 800,
                height: 600
            })
        );
        assert_eq!(
            routed("_arg_resize,false,800x600", c),
            Effect::Ignored(Category::Settings)
        );
        assert_eq!(
            routed("_arg_resize,true,", c),
            Effect::Ignored(Category::Settings)
        );
        assert!(matches!(
            routed(r#"SETTINGS,{"framerate":30}"#, c),
            Effect::Settings(_)
        ));
        assert_eq!(routed("s,2", c), Effect::Ignored(Category::Settings));
        assert_eq!(routed("ab,64000", c), Effect::Ignored(Category::Settings));
    }

    #[test]
    fn view_only_gets_stats_and_keyframes_and_nothing_else() {
        let v = Role::ViewOnly;
        for (text, category) in [
            ("kd,97", Category::Keyboard),
            ("kr", Category::Keyboard),
            ("m,10,20,1,0", Category::Mouse),
            ("js,c,0,eA==,2,4", Category::Gamepad),
            ("cw,aGk=", Category::Clipboard),
            ("cr", Category::Clipboard),
            ("p,1", Category::Settings),
            ("vb,4000", Category::Settings),
            ("_arg_fps,30", Category::Settings),
            ("r,1280x720", Category::Settings),
            (r#"SETTINGS,{"framerate":30}"#, Category::Settings),
        ] {
            assert_eq!(routed(text, v), Effect::Denied(category), "{text}");
        }
        assert_eq!(routed("REQUEST_KEYFRAME", v), Effect::RequestKeyframe);
        assert_eq!(routed("pong,12.5", v), Effect::Pong(12.5));
        assert_eq!(routed("_f,59.5", v), Effect::ClientFps(59.5));
        assert_eq!(routed("_l,12", v), Effect::ClientLatency(12.0));
        assert_eq!(
            routed("_stats_video,{}", v),
            Effect::Ignored(Category::Stats)
        );
    }

    #[test]
    fn the_same_verbs_from_control_are_applied() {
        assert_eq!(
            routed("REQUEST_KEYFRAME", Role::Control),
            Effect::RequestKeyframe
        );
        assert_eq!(routed("pong,12.5", Role::Control), Effect::Pong(12.5));
    }
}
