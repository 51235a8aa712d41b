//! The one port: HTTP(S) for the web client, `/health`, `/turn`, `/metrics` (when enabled), and
//! the signalling WebSocket.
//!
//! Routing matches on the end of the path so the server works behind a reverse proxy that adds
//! a prefix (`/desktop/ws`, `/app/signalling/`), as Selkies does. Basic auth, when on, guards
//! everything but `/health`. This module must not touch media: it hands upgraded sockets to
//! [`super::session`].

use super::state::ServerState;
use super::{assets, session, turn};
use crate::access::Role as Access;
use crate::metrics;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

type Body = Full<Bytes>;

fn respond(status: StatusCode, mime: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

fn unauthorized() -> Response<Body> {
    let mut r = respond(StatusCode::UNAUTHORIZED, "text/plain", "401 Unauthorized\n");
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"selkies\", charset=\"UTF-8\""),
    );
    r
}

fn is_signalling_path(path: &str) -> bool {
    let p = path.trim_end_matches('/');
    p == "/ws" || p.ends_with("/ws") || p.ends_with("/signalling")
}

/// Serves connections from `listener` until the task is dropped.
pub async fn run(listener: TcpListener, state: Arc<ServerState>, tls: Option<TlsAcceptor>) {
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                Some(acceptor) => {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(s)) => serve_connection(TokioIo::new(s), state, remote).await,
                        Ok(Err(e)) => tracing::debug!(%remote, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
                    }
                }
                None => serve_connection(TokioIo::new(stream), state, remote).await,
            }
        });
    }
}

async fn serve_connection<I>(io: I, state: Arc<ServerState>, remote: SocketAddr)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let state = Arc::clone(&state);
        async move { Ok::<_, std::convert::Infallible>(route(req, state, remote)) }
    });
    if let Err(e) = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .with_upgrades()
        .await
    {
        tracing::debug!(%remote, error = %e, "HTTP connection ended with an error");
    }
}

fn route(req: Request<Incoming>, state: Arc<ServerState>, remote: SocketAddr) -> Response<Body> {
    let path = req.uri().path().to_owned();
    if path.trim_end_matches('/').ends_with("/health") {
        return respond(StatusCode::OK, "text/plain", "OK\n");
    }
    let role = match &state.auth {
        None => Access::Control,
        Some(auth) => match auth.role(
            req.headers()
                .get(header::AUTHORIZATION)
                .map(HeaderValue::as_bytes),
        ) {
            Some(role) => role,
            None => {
                tracing::debug!(%remote, %path, "rejected: missing or wrong credentials");
                return unauthorized();
            }
        },
    };
    if is_signalling_path(&path) {
        return upgrade(req, state, remote, role);
    }
    if req.method() != hyper::Method::GET && req.method() != hyper::Method::HEAD {
        return respond(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "405 Method Not Allowed\n",
        );
    }
    if path.trim_end_matches('/').ends_with("/turn") {
        return match turn::rtc_configuration_now(&state.turn) {
            Ok(rtc) => respond(StatusCode::OK, "application/json", rtc.to_json()),
            Err(e) => {
                tracing::error!(error = %e, "cannot build /turn");
                respond(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    "TURN configuration error\n",
                )
            }
        };
    }
    if state.metrics && path.trim_end_matches('/').ends_with("/metrics") {
        return match metrics::render(state.snapshot()) {
            Ok(text) => respond(StatusCode::OK, metrics::CONTENT_TYPE, text),
            Err(e) => {
                tracing::error!(error = %e, "cannot write /metrics");
                respond(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    "metrics error\n",
                )
            }
        };
    }
    // Static files live at the last path segment, whatever prefix a proxy added.
    let name = path.rsplit('/').next().unwrap_or("");
    match assets::lookup(name) {
        Some((body, mime)) => respond(StatusCode::OK, mime, Bytes::from_static(body)),
        None => respond(StatusCode::NOT_FOUND, "text/plain", "404 Not Found\n"),
    }
}

fn upgrade(
    mut req: Request<Incoming>,
    state: Arc<ServerState>,
    remote: SocketAddr,
    access: Access,
) -> Response<Body> {
    let headers = req.headers();
    let wants_ws = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .map(|k| derive_accept_key(k.as_bytes()));
    let (true, Some(accept)) = (wants_ws, key) else {
        return respond(
            StatusCode::BAD_REQUEST,
            "text/plain",
            "400 expected a WebSocket upgrade\n",
        );
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                // Room for a large SDP; the protocol layer enforces its own, smaller limit with
                // a clear ERROR, rather than tungstenite dropping the socket without a reason.
                let config = WebSocketConfig::default()
                    .max_message_size(Some(1 << 20))
                    .max_frame_size(Some(1 << 20));
                let ws = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await;
                session::run(ws, state, remote, access).await;
            }
            Err(e) => tracing::debug!(%remote, error = %e, "WebSocket upgrade failed"),
        }
    });
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signalling_paths() {
        for p in ["/ws", "/ws/", "/app/ws", "/app/signalling/", "/signalling"] {
            assert!(is_signalling_path(p), "{p}");
        }
        for p in ["/", "/wss", "/app.js", "/turn"] {
            assert!(!is_signalling_path(p), "{p}");
        }
    }
}
