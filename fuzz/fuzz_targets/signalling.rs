//! Fuzzes the signalling parser and the per-connection session state machine.
//!
//! Input layout: the first byte picks when the driver reports `offer_sent()`; the rest is split
//! at 0xFF bytes (never part of UTF-8, so they cannot collide with text) into the messages of one
//! connection. The whole rest is also parsed as a single message, in both directions.
//!
//! Checked: nothing panics; every parsed message formats back to text that parses to the same
//! value; error reasons are single-line; the state machine only takes its documented steps and a
//! rejected message changes nothing.

#![no_main]

use libfuzzer_sys::fuzz_target;
use selkies_rs::signal::protocol::{
    parse_client, parse_server, Action, OwnedServerMessage, ProtocolError, ServerMessage,
    SessionState, SignalSession, MAX_MESSAGE_BYTES, MAX_REASON_BYTES,
};

const SEPARATOR: u8 = 0xFF;

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };

    let whole = String::from_utf8_lossy(rest);
    check_client(&whole);
    check_server(&whole);
    check_error_line(&whole);

    let messages: Vec<&[u8]> = rest.split(|&b| b == SEPARATOR).collect();
    let offer_at = usize::from(control) % (messages.len() + 1);
    let mut session = SignalSession::new();
    for (i, raw) in messages.iter().enumerate() {
        if i == offer_at {
            offer(&mut session);
        }
        let text = String::from_utf8_lossy(raw);
        check_client(&text);
        feed(&mut session, &text);
    }
    if offer_at == messages.len() {
        offer(&mut session);
    }
});

fn assert_reason(error: &ProtocolError) {
    let reason = error.to_string();
    assert!(!reason.is_empty());
    assert!(
        !reason
            .chars()
            .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')),
        "reason not single-line: {reason:?}"
    );
}

fn check_client(text: &str) {
    match parse_client(text) {
        Ok(message) => {
            assert!(text.len() <= MAX_MESSAGE_BYTES);
            let formatted = message.to_text();
            assert_eq!(
                parse_client(&formatted).as_ref(),
                Ok(&message),
                "{text:?} -> {formatted:?}"
            );
        }
        Err(error) => assert_reason(&error),
    }
}

fn check_server(text: &str) {
    match parse_server(text) {
        Ok(message) => {
            let once = message.as_message().to_text();
            let reparsed = match parse_server(&once) {
                Ok(m) => m,
                Err(e) => panic!("formatted {once:?} does not parse: {e}"),
            };
            // ERROR reasons are sanitised when formatted, so only the second round is exact.
            assert_eq!(reparsed.as_message().to_text(), once);
            if !matches!(message, OwnedServerMessage::Error(_)) {
                assert_eq!(reparsed, message);
            }
        }
        Err(error) => assert_reason(&error),
    }
}

fn check_error_line(reason: &str) {
    let text = ServerMessage::Error(reason).to_text();
    let Some(line) = text.strip_prefix("ERROR ") else {
        panic!("{text:?}");
    };
    assert!(line.len() <= MAX_REASON_BYTES);
    assert!(!line
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')));
    assert!(matches!(
        parse_server(&text),
        Ok(OwnedServerMessage::Error(_))
    ));
}

fn offer(session: &mut SignalSession) {
    let before = session.state();
    let accepted = session.offer_sent();
    assert_eq!(accepted, before != SessionState::AwaitHello);
    let want = if accepted {
        SessionState::OfferSent
    } else {
        before
    };
    assert_eq!(session.state(), want);
}

fn feed(session: &mut SignalSession, text: &str) {
    let before = session.state();
    let uid_before = session.uid().map(str::to_owned);
    let after = match session.on_text(text) {
        Err(error) => {
            assert_reason(&error);
            assert_eq!(
                session.state(),
                before,
                "a rejected message changed the state"
            );
            assert_eq!(session.uid().map(str::to_owned), uid_before);
            return;
        }
        Ok(Action::ReplyHello { uid, .. }) => {
            assert_eq!(before, SessionState::AwaitHello);
            assert_eq!(session.uid(), Some(uid.as_str()));
            SessionState::Ready
        }
        Ok(Action::ApplyAnswer(sdp)) => {
            assert_eq!(before, SessionState::OfferSent);
            assert!(!sdp.trim().is_empty());
            SessionState::Answered
        }
        Ok(Action::AddIce(candidate)) => {
            assert!(matches!(
                before,
                SessionState::OfferSent | SessionState::Answered
            ));
            assert!(!candidate.candidate.is_empty());
            before
        }
        Ok(Action::EndOfCandidates) => {
            assert!(matches!(
                before,
                SessionState::OfferSent | SessionState::Answered
            ));
            before
        }
        Ok(Action::Ignore) => {
            assert_ne!(before, SessionState::AwaitHello);
            before
        }
    };
    assert_eq!(session.state(), after);
}
