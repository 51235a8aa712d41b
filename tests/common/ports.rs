//! Loopback ports for servers under test.

use std::net::TcpListener;

/// A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it; another process could
/// take it before the caller binds, which is rare enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0 to find a free port")
}
