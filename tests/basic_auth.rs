//! Basic auth guards the page, `/turn` and the signalling WebSocket, but not `/health`; with no
//! password configured the server generates one, prints it, and only that one works.

mod common;

use anyhow::{Context, Result};
use common::http::{basic, get, ws_upgrade, Reply};
use common::server_stdout::CapturedServer;
use common::Server;
use selkies_rs::capture::display::VirtualDisplay;

/// The accept key RFC 6455 gives for the sample key `http::ws_upgrade` sends.
const SAMPLE_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn assert_challenge(r: &Reply, what: &str) {
    assert_eq!(r.status, 401, "{what}: {r:?}");
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Basic "),
        "{what}: WWW-Authenticate should ask for Basic, got {challenge:?}"
    );
    assert!(challenge.contains("realm="), "{what}: {challenge:?}");
}

/// Every guarded resource refuses `bad` credentials (or none) and serves `good`.
fn check_guarded(port: u16, good: &str, bad: &[Option<String>]) -> Result<()> {
    for creds in bad {
        let what = |path: &str| format!("{path} with {creds:?}");
        assert_challenge(&get(port, "/", creds.as_deref())?, &what("/"));
        assert_challenge(&get(port, "/turn", creds.as_deref())?, &what("/turn"));
        assert_challenge(&get(port, "/app.js", creds.as_deref())?, &what("/app.js"));
        let up = ws_upgrade(port, "/ws", creds.as_deref())?;
        assert_ne!(
            up.status,
            101,
            "{}: upgraded without credentials",
            what("/ws")
        );
        assert_challenge(&up, &what("/ws"));
    }

    let page = get(port, "/", Some(good))?;
    assert_eq!(page.status, 200, "/ with the right credentials: {page:?}");
    assert!(
        page.body.contains("<title>selkies-rs</title>"),
        "/ should be the web client: {}",
        page.body
    );
    let turn = get(port, "/turn", Some(good))?;
    assert_eq!(
        turn.status, 200,
        "/turn with the right credentials: {turn:?}"
    );
    let json: serde_json::Value = serde_json::from_str(&turn.body).context("/turn is not JSON")?;
    assert!(
        json.get("iceServers").is_some_and(|v| v.is_array()),
        "{json}"
    );
    let up = ws_upgrade(port, "/ws", Some(good))?;
    assert_eq!(up.status, 101, "/ws with the right credentials: {up:?}");
    assert_eq!(up.header("sec-websocket-accept"), Some(SAMPLE_ACCEPT));

    // /health is open to monitoring without credentials.
    let health = get(port, "/health", None)?;
    assert_eq!(health.status, 200, "{health:?}");
    assert!(health.header("www-authenticate").is_none());
    Ok(())
}

#[test]
fn configured_credentials_guard_everything_but_health() -> Result<()> {
    let display = VirtualDisplay::start(640, 480)?;
    let server = Server::start(
        &display.name(),
        &[
            ("SELKIES_ENABLE_BASIC_AUTH", "true"),
            ("SELKIES_BASIC_AUTH_USER", "alice"),
            ("SELKIES_BASIC_AUTH_PASSWORD", "s3cret"),
        ],
    )?;
    check_guarded(
        server.port,
        &basic("alice", "s3cret"),
        &[
            None,
            Some(basic("alice", "wrong")),
            Some(basic("bob", "s3cret")),
            Some(basic("alice", "s3cret ")),
            Some("Bearer s3cret".into()),
        ],
    )
    .with_context(|| format!("server log:\n{}", server.log_text()))
}

#[test]
fn a_generated_password_is_printed_and_is_the_only_one_accepted() -> Result<()> {
    let display = VirtualDisplay::start(640, 480)?;
    let server = CapturedServer::start(
        &display.name(),
        &[("SELKIES_ENABLE_BASIC_AUTH", "true")],
        &["SELKIES_BASIC_AUTH_PASSWORD", "SELKIES_BASIC_AUTH_USER"],
    )?;
    let out = server.stdout_text();
    let line = out
        .lines()
        .find(|l| l.starts_with("Generated password for user "))
        .with_context(|| format!("no generated password on stdout:\n{out}"))?;
    let (user_part, password) = line
        .rsplit_once(": ")
        .with_context(|| format!("cannot parse {line:?}"))?;
    assert_eq!(
        user_part, "Generated password for user 'selkies'",
        "the default user is selkies"
    );
    assert!(
        password.len() >= 16 && password.chars().all(|c| c.is_ascii_alphanumeric()),
        "weak or odd generated password {password:?}"
    );
    // The generated password is printed, never logged.
    assert!(!server.log_text().contains(password), "password in the log");

    check_guarded(
        server.port,
        &basic("selkies", password),
        &[
            None,
            Some(basic("selkies", "wrong")),
            Some(basic("selkies", "")),
            Some(basic("selkies", "mypasswd")), // Selkies' own default must not work
        ],
    )
    .with_context(|| format!("server log:\n{}", server.log_text()))
}
