//! TURN credentials and the RTC configuration served at `GET /turn`, computed the way Selkies
//! does: pure functions of the settings and the current time, no I/O.
//!
//! With a shared secret, credentials follow the TURN REST scheme coturn implements
//! (`use-auth-secret`): username `<unix expiry>:<user>`, password
//! `base64(HMAC-SHA1(secret, username))`. Static credentials, when configured, are used as is.
//! The same [`RtcConfiguration`] also feeds the server's own peer connection, so both ends use
//! the same ICE servers.

use std::net::Ipv6Addr;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha1::Sha1;

/// Longest accepted host name, in bytes (the DNS limit).
const MAX_HOST_LEN: usize = 253;

/// Why an RTC configuration could not be built. These are configuration mistakes, reported once
/// at start-up or per `/turn` request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TurnError {
    /// A STUN or TURN host is empty, too long, or has characters that do not belong in a host.
    #[error("invalid {0} host: expected a host name or an IP address")]
    InvalidHost(&'static str),
    /// A STUN or TURN port is 0.
    #[error("invalid {0} port: must be in 1..=65535")]
    InvalidPort(&'static str),
    /// A TURN host is set but neither a shared secret nor a username and password: browsers
    /// refuse a `turn:` URL without credentials.
    #[error("TURN host is set but no shared secret or username/password")]
    MissingCredentials,
    /// Only one of the static TURN username and password is set.
    #[error("TURN username and password must be set together")]
    IncompleteStaticCredentials,
    /// Relay-only ICE was requested with no TURN server to relay through.
    #[error("relay-only ICE requires a TURN host")]
    RelayWithoutTurn,
}

/// Everything the `/turn` answer depends on. Empty strings in the optional credentials count as
/// unset, as an empty environment variable does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnConfig {
    /// STUN server `(host, port)`.
    pub stun: Option<(String, u16)>,
    /// TURN server `(host, port)`; offered over both UDP and TCP.
    pub turn: Option<(String, u16)>,
    /// TURN REST shared secret (coturn's `static-auth-secret`).
    pub shared_secret: Option<String>,
    /// Static TURN username; takes precedence over the shared secret.
    pub username: Option<String>,
    /// Static TURN password.
    pub password: Option<String>,
    /// The user the REST credential is issued to (e.g. the basic-auth user).
    pub user: String,
    /// Credential lifetime; Selkies uses 24 hours.
    pub ttl: Duration,
    /// Restrict ICE to relayed candidates (`iceTransportPolicy: "relay"`).
    pub force_relay: bool,
    /// The current time, in seconds since the Unix epoch.
    pub now_unix: u64,
}

/// A TURN username and password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnCredentials {
    /// The TURN username.
    pub username: String,
    /// The TURN password (`credential` in `RTCIceServer`).
    pub credential: String,
}

/// One entry of `iceServers`, as in the browser's `RTCIceServer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceServer {
    /// `stun:` or `turn:` URLs.
    pub urls: Vec<String>,
    /// TURN username, absent for STUN.
    pub username: Option<String>,
    /// TURN password, absent for STUN.
    pub credential: Option<String>,
}

/// The RTC configuration served at `/turn` (a browser `RTCConfiguration` plus the two fields
/// Selkies' client expects from Google's TURN API format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtcConfiguration {
    /// How long the credentials are valid.
    pub lifetime: Duration,
    /// STUN first, then TURN.
    pub ice_servers: Vec<IceServer>,
    /// `iceTransportPolicy: "relay"` instead of `"all"`.
    pub relay_only: bool,
}

impl RtcConfiguration {
    /// The JSON document served at `/turn`.
    pub fn to_json(&self) -> String {
        let servers: Vec<Value> = self
            .ice_servers
            .iter()
            .map(|server| {
                let mut obj = Map::new();
                obj.insert("urls".to_owned(), json!(server.urls));
                if let Some(username) = &server.username {
                    obj.insert("username".to_owned(), json!(username));
                }
                if let Some(credential) = &server.credential {
                    obj.insert("credential".to_owned(), json!(credential));
                }
                Value::Object(obj)
            })
            .collect();
        json!({
            "lifetimeDuration": format!("{}s", self.lifetime.as_secs()),
            "iceServers": servers,
            "blockStatus": "NOT_BLOCKED",
            "iceTransportPolicy": if self.relay_only { "relay" } else { "all" },
        })
        .to_string()
    }
}

/// The TURN REST username: `<expiry>:<user>`. A `:` in `user` becomes `-`, as in Selkies, since
/// the TURN server splits the username at the first `:` to find the expiry.
pub fn rest_username(user: &str, expiry_unix: u64) -> String {
    format!("{expiry_unix}:{}", user.replace(':', "-"))
}

/// The TURN REST password for `username`: `base64(HMAC-SHA1(secret, username))`.
///
/// # Panics
/// Never: HMAC takes keys of any length (longer ones are hashed first).
pub fn rest_password(secret: &str, username: &str) -> String {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(username.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// TURN REST credentials for `user`, valid until `expiry_unix`.
pub fn rest_credentials(secret: &str, user: &str, expiry_unix: u64) -> TurnCredentials {
    let username = rest_username(user, expiry_unix);
    let credential = rest_password(secret, &username);
    TurnCredentials {
        username,
        credential,
    }
}

/// Builds the RTC configuration: a STUN entry when a STUN host is set, and a TURN entry (UDP and
/// TCP URLs) when a TURN host is set, with static credentials if given, else REST credentials
/// from the shared secret expiring `ttl` after `now_unix`.
///
/// # Errors
/// Returns a [`TurnError`] for an invalid host or port, a TURN host without credentials, half a
/// static credential pair, or relay-only ICE without TURN.
pub fn rtc_configuration(config: &TurnConfig) -> Result<RtcConfiguration, TurnError> {
    let mut ice_servers = Vec::with_capacity(2);
    if let Some((host, port)) = &config.stun {
        let authority = authority("STUN", host, *port)?;
        ice_servers.push(IceServer {
            urls: vec![format!("stun:{authority}")],
            username: None,
            credential: None,
        });
    }
    if let Some((host, port)) = &config.turn {
        let authority = authority("TURN", host, *port)?;
        let credentials = turn_credentials(config)?;
        ice_servers.push(IceServer {
            urls: vec![
                format!("turn:{authority}?transport=udp"),
                format!("turn:{authority}?transport=tcp"),
            ],
            username: Some(credentials.username),
            credential: Some(credentials.credential),
        });
    } else if config.force_relay {
        return Err(TurnError::RelayWithoutTurn);
    }
    Ok(RtcConfiguration {
        lifetime: config.ttl,
        ice_servers,
        relay_only: config.force_relay,
    })
}

/// [`rtc_configuration`] with REST credentials issued now: what `/turn` serves and what the
/// server's own peer gathers with.
///
/// # Errors
/// As [`rtc_configuration`].
pub fn rtc_configuration_now(config: &TurnConfig) -> Result<RtcConfiguration, TurnError> {
    let now_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rtc_configuration(&TurnConfig {
        now_unix,
        ..config.clone()
    })
}

fn turn_credentials(config: &TurnConfig) -> Result<TurnCredentials, TurnError> {
    let set = |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    match (set(&config.username), set(&config.password)) {
        (Some(username), Some(credential)) => Ok(TurnCredentials {
            username,
            credential,
        }),
        (Some(_), None) | (None, Some(_)) => Err(TurnError::IncompleteStaticCredentials),
        (None, None) => {
            let secret = set(&config.shared_secret).ok_or(TurnError::MissingCredentials)?;
            let expiry = config.now_unix.saturating_add(config.ttl.as_secs());
            Ok(rest_credentials(&secret, &config.user, expiry))
        }
    }
}

/// `host:port` for a STUN/TURN URL (RFC 7064/7065), with IPv6 literals in brackets.
fn authority(what: &'static str, host: &str, port: u16) -> Result<String, TurnError> {
    if port == 0 {
        return Err(TurnError::InvalidPort(what));
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if bare.parse::<Ipv6Addr>().is_ok() {
        return Ok(format!("[{bare}]:{port}"));
    }
    let valid = !host.is_empty()
        && host.len() <= MAX_HOST_LEN
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if !valid {
        return Err(TurnError::InvalidHost(what));
    }
    Ok(format!("{host}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected passwords computed independently:
    //   python3 -c "import hmac,hashlib,base64; print(base64.b64encode(
    //     hmac.new(SECRET.encode(), USERNAME.encode(), hashlib.sha1).digest()).decode())"
    // and cross-checked with `openssl dgst -sha1 -hmac SECRET -binary | base64`.
    #[test]
    fn hmac_vectors() {
        for (secret, username, want) in [
            (
                "openrelayprojectsecret",
                "1700086400:selkies",
                "qamNhhxGq8jviTMh42Ai6dHWDkM=",
            ),
            ("s3cr3t", "1700000000:alice", "81mjszbESz91Gv1n2xG/SVLX+uY="),
            ("", "0:", "OMULkEY8i3k1y1l5jqF6MXE1eYs="),
            (
                "clé-ü",
                "4102444800:user-name",
                "u0BTLpZVHDFEqUJ91Ff8yQBcp4Y=",
            ),
            // A key longer than SHA-1's 64-byte block is hashed first.
            (&"k".repeat(100), "1:u", "SM6kw0/iFRgPDjWIPVbG6QN3mJI="),
        ] {
            assert_eq!(
                rest_password(secret, username),
                want,
                "{secret:?} {username:?}"
            );
        }
    }

    #[test]
    fn rest_username_format() {
        assert_eq!(rest_username("alice", 1_700_000_000), "1700000000:alice");
        assert_eq!(rest_username("a:b:c", 5), "5:a-b-c");
        assert_eq!(rest_username("", 0), "0:");
        assert_eq!(rest_username("ünï", 1), "1:ünï");
        assert_eq!(
            rest_credentials("s3cr3t", "alice", 1_700_000_000),
            TurnCredentials {
                username: "1700000000:alice".into(),
                credential: "81mjszbESz91Gv1n2xG/SVLX+uY=".into(),
            }
        );
    }

    fn base() -> TurnConfig {
        TurnConfig {
            stun: Some(("stun.example.org".into(), 3478)),
            turn: Some(("turn.example.org".into(), 3478)),
            shared_secret: Some("s3cr3t".into()),
            username: None,
            password: None,
            user: "alice".into(),
            ttl: Duration::from_secs(86_400),
            force_relay: false,
            now_unix: 1_700_000_000 - 86_400,
        }
    }

    fn json_of(config: &TurnConfig) -> Value {
        let text = rtc_configuration(config).unwrap().to_json();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn full_rest_configuration() {
        assert_eq!(
            json_of(&base()),
            json!({
                "lifetimeDuration": "86400s",
                "iceServers": [
                    {"urls": ["stun:stun.example.org:3478"]},
                    {
                        "urls": [
                            "turn:turn.example.org:3478?transport=udp",
                            "turn:turn.example.org:3478?transport=tcp"
                        ],
                        "username": "1700000000:alice",
                        "credential": "81mjszbESz91Gv1n2xG/SVLX+uY="
                    }
                ],
                "blockStatus": "NOT_BLOCKED",
                "iceTransportPolicy": "all"
            })
        );
    }

    #[test]
    fn static_credentials_take_precedence() {
        let config = TurnConfig {
            username: Some("bob".into()),
            password: Some("pä:ss\"word".into()),
            ..base()
        };
        let v = json_of(&config);
        assert_eq!(v["iceServers"][1]["username"], "bob");
        assert_eq!(v["iceServers"][1]["credential"], "pä:ss\"word");
    }

    #[test]
    fn empty_strings_count_as_unset() {
        let config = TurnConfig {
            username: Some(String::new()),
            password: Some(String::new()),
            ..base()
        };
        assert_eq!(json_of(&config), json_of(&base()));
        let config = TurnConfig {
            shared_secret: Some(String::new()),
            ..base()
        };
        assert_eq!(
            rtc_configuration(&config),
            Err(TurnError::MissingCredentials)
        );
    }

    #[test]
    fn credential_errors() {
        let no_creds = TurnConfig {
            shared_secret: None,
            ..base()
        };
        assert_eq!(
            rtc_configuration(&no_creds),
            Err(TurnError::MissingCredentials)
        );
        let half = TurnConfig {
            username: Some("bob".into()),
            ..base()
        };
        assert_eq!(
            rtc_configuration(&half),
            Err(TurnError::IncompleteStaticCredentials)
        );
        let half = TurnConfig {
            password: Some("pw".into()),
            ..base()
        };
        assert_eq!(
            rtc_configuration(&half),
            Err(TurnError::IncompleteStaticCredentials)
        );
    }

    #[test]
    fn no_turn_host_means_no_turn_entry() {
        let config = TurnConfig {
            turn: None,
            shared_secret: None,
            ..base()
        };
        let v = json_of(&config);
        assert_eq!(
            v["iceServers"],
            json!([{"urls": ["stun:stun.example.org:3478"]}])
        );
        let nothing = TurnConfig {
            stun: None,
            ..config
        };
        assert_eq!(json_of(&nothing)["iceServers"], json!([]));
    }

    #[test]
    fn force_relay() {
        let config = TurnConfig {
            force_relay: true,
            ..base()
        };
        assert_eq!(json_of(&config)["iceTransportPolicy"], "relay");
        let config = TurnConfig {
            turn: None,
            ..config
        };
        assert_eq!(rtc_configuration(&config), Err(TurnError::RelayWithoutTurn));
    }

    #[test]
    fn ttl_sets_expiry_and_lifetime() {
        let config = TurnConfig {
            ttl: Duration::from_secs(3600),
            now_unix: 1000,
            ..base()
        };
        let v = json_of(&config);
        assert_eq!(v["lifetimeDuration"], "3600s");
        assert_eq!(v["iceServers"][1]["username"], "4600:alice");
        let config = TurnConfig {
            ttl: Duration::MAX,
            now_unix: u64::MAX - 1,
            ..base()
        };
        let v = json_of(&config);
        assert_eq!(
            v["iceServers"][1]["username"],
            format!("{}:alice", u64::MAX)
        );
    }

    #[test]
    fn hosts() {
        let with_turn = |host: &str, port: u16| {
            rtc_configuration(&TurnConfig {
                stun: None,
                turn: Some((host.into(), port)),
                ..base()
            })
            .map(|c| c.ice_servers[0].urls[0].clone())
        };
        assert_eq!(
            with_turn("192.0.2.7", 443).unwrap(),
            "turn:192.0.2.7:443?transport=udp"
        );
        assert_eq!(
            with_turn("2001:db8::1", 3478).unwrap(),
            "turn:[2001:db8::1]:3478?transport=udp"
        );
        assert_eq!(
            with_turn("[::1]", 3478).unwrap(),
            "turn:[::1]:3478?transport=udp"
        );
        assert_eq!(
            with_turn("my_turn-1.local", 1).unwrap(),
            "turn:my_turn-1.local:1?transport=udp"
        );
        for bad in [
            "",
            "a b",
            "host?transport=tcp",
            "user@host",
            "host:3478",
            "[not-ipv6]",
            "hôst",
            "h\nx",
        ] {
            assert_eq!(
                with_turn(bad, 3478),
                Err(TurnError::InvalidHost("TURN")),
                "{bad:?}"
            );
        }
        assert_eq!(
            with_turn(&"a".repeat(MAX_HOST_LEN + 1), 3478),
            Err(TurnError::InvalidHost("TURN"))
        );
        assert_eq!(
            with_turn("turn.example.org", 0),
            Err(TurnError::InvalidPort("TURN"))
        );
        let bad_stun = TurnConfig {
            stun: Some(("stun.example.org".into(), 0)),
            ..base()
        };
        assert_eq!(
            rtc_configuration(&bad_stun),
            Err(TurnError::InvalidPort("STUN"))
        );
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            TurnError::InvalidHost("STUN").to_string(),
            "invalid STUN host: expected a host name or an IP address"
        );
        assert_eq!(
            TurnError::MissingCredentials.to_string(),
            "TURN host is set but no shared secret or username/password"
        );
    }
}
