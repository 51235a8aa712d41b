//! Which codec a browser chose: read from the video section of its SDP answer.
//!
//! The server offers every codec it can encode, best first; the answer keeps the subset the
//! browser receives, in the browser's order of preference (a page can reorder it with
//! `setCodecPreferences`). The first of those we offered is what we send.

use crate::encode::Codec;

/// The codecs in the answer's first video section that we offered, in the answer's order, each
/// with the payload type to send it under. Empty when the section is missing or rejected (port 0).
///
/// `offered` maps our payload types to codecs; anything else in the answer is ignored. Never
/// fails: an answer we cannot read yields no codec, and the caller says so.
pub fn accepted(answer_sdp: &str, offered: &[(u8, Codec)]) -> Vec<(Codec, u8)> {
    let mut lines = answer_sdp.lines().map(str::trim);
    let Some(m_line) = lines.by_ref().find(|l| l.starts_with("m=video ")) else {
        return Vec::new();
    };
    // m=video <port> <proto> <fmt> <fmt> …
    let mut fields = m_line["m=video ".len()..].split_ascii_whitespace();
    let port = fields.next();
    if port.is_none_or(|p| p == "0") {
        return Vec::new();
    }
    let _proto = fields.next();
    let mut out: Vec<(Codec, u8)> = Vec::new();
    for pt in fields.filter_map(|f| f.parse::<u8>().ok()) {
        if let Some(&(_, codec)) = offered.iter().find(|(p, _)| *p == pt) {
            if !out.iter().any(|(c, _)| *c == codec) {
                out.push((codec, pt));
            }
        }
    }
    out
}

/// The payload type the answer's first audio section keeps Opus under, or `None` when the
/// browser declined audio (no section, port 0, `a=inactive`, or no Opus in it).
pub fn audio_payload_type(answer_sdp: &str) -> Option<u8> {
    let mut lines = answer_sdp
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("m=audio "));
    let m_line = lines.next()?;
    let port = m_line["m=audio ".len()..].split_ascii_whitespace().next()?;
    if port == "0" {
        return None;
    }
    let section: Vec<&str> = lines.take_while(|l| !l.starts_with("m=")).collect();
    if section.contains(&"a=inactive") {
        return None;
    }
    section
        .iter()
        .filter_map(|l| l.strip_prefix("a=rtpmap:"))
        .find_map(|rest| {
            let (pt, encoding) = rest.split_once(' ')?;
            let name = encoding.split('/').next()?;
            // RTP carries 7 bits of payload type.
            name.eq_ignore_ascii_case("opus")
                .then(|| pt.parse::<u8>().ok().filter(|&p| p < 128))
                .flatten()
        })
}

/// The id the answer's first video section gives the RTP header extension `uri`
/// (`a=extmap:<id>[/direction] <uri>`), if the browser accepted it with an id a one-byte
/// header can carry (1–14).
pub fn extension_id(answer_sdp: &str, uri: &str) -> Option<u8> {
    answer_sdp
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("m=video "))
        .skip(1)
        .take_while(|l| !l.starts_with("m="))
        .filter_map(|l| l.strip_prefix("a=extmap:"))
        .find_map(|rest| {
            let (id, named) = rest.split_once(' ')?;
            let id: u8 = id.split('/').next()?.parse().ok()?;
            (named.split_ascii_whitespace().next() == Some(uri) && (1..=14).contains(&id))
                .then_some(id)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFERED: [(u8, Codec); 4] = [
        (102, Codec::H264),
        (98, Codec::Vp9),
        (104, Codec::Av1),
        (96, Codec::Vp8),
    ];

    #[test]
    fn opus_is_found_in_the_audio_section_only() {
        let answer = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n\
                      a=recvonly\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\na=rtpmap:102 H264/90000\r\n";
        assert_eq!(audio_payload_type(answer), Some(111));
        let other_pt = "m=audio 9 RTP/SAVPF 109\r\na=rtpmap:109 OPUS/48000/2\r\n";
        assert_eq!(audio_payload_type(other_pt), Some(109));
    }

    #[test]
    fn declined_audio_gives_no_payload_type() {
        for answer in [
            "m=video 9 RTP/SAVPF 102\r\na=rtpmap:102 H264/90000\r\n",
            "m=audio 0 RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n",
            "m=audio 9 RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=inactive\r\n",
            "m=audio 9 RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\n",
            // Opus only in a later video section does not count.
            "m=audio 9 RTP/SAVPF 0\r\nm=video 9 RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n",
            "m=audio\r\n",
            "m=audio 9 RTP/SAVPF 111\r\na=rtpmap:999 opus/48000/2\r\n",
            "m=audio 9 RTP/SAVPF 200\r\na=rtpmap:200 opus/48000/2\r\n",
        ] {
            assert_eq!(audio_payload_type(answer), None, "{answer:?}");
        }
    }

    #[test]
    fn answer_order_wins() {
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nm=video 9 UDP/TLS/RTP/SAVPF 98 96 102\r\na=rtpmap:98 VP9/90000\r\n";
        assert_eq!(
            accepted(sdp, &OFFERED),
            vec![(Codec::Vp9, 98), (Codec::Vp8, 96), (Codec::H264, 102)]
        );
    }

    #[test]
    fn rejected_missing_or_foreign_sections_give_nothing() {
        assert!(accepted("m=video 0 UDP/TLS/RTP/SAVPF 102\r\n", &OFFERED).is_empty());
        assert!(accepted(
            "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n",
            &OFFERED
        )
        .is_empty());
        assert!(accepted("m=video 9 UDP/TLS/RTP/SAVPF 127 35\r\n", &OFFERED).is_empty());
        assert!(accepted("m=video", &OFFERED).is_empty());
        assert!(accepted("m=video 9", &OFFERED).is_empty());
        assert!(accepted("", &OFFERED).is_empty());
    }

    #[test]
    fn extension_ids_come_from_the_video_section() {
        const URI: &str = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";
        let sdp = "m=audio 9 X 111\r\na=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n\
                   m=video 9 X 102\r\na=extmap:2 urn:3gpp:video-orientation\r\n\
                   a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n\
                   m=application 9 X\r\na=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n";
        assert_eq!(extension_id(sdp, URI), Some(6));
        assert_eq!(extension_id(sdp, "urn:3gpp:video-orientation"), Some(2));
        assert_eq!(extension_id(sdp, "urn:none"), None);
        assert_eq!(
            extension_id("m=video 9 X 102\r\na=extmap:15 urn:x\r\n", "urn:x"),
            None
        );
        assert_eq!(
            extension_id("m=video 9 X 102\r\na=extmap:x urn:x\r\n", "urn:x"),
            None
        );
        assert_eq!(extension_id("a=extmap:1 urn:x\r\n", "urn:x"), None);
    }
}
