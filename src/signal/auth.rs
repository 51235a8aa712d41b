//! HTTP basic auth: the credentials check (constant time) and password generation.
//!
//! Pure: the server passes the `Authorization` header value and acts on the answer.

use crate::access::Role;
use base64::Engine as _;
use rand::RngExt as _;

/// The accepted credentials, kept as the exact header value a browser sends.
#[derive(Clone)]
pub struct BasicAuth {
    expected: String,
    view_only: Option<String>,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BasicAuth(..)")
    }
}

impl BasicAuth {
    pub fn new(user: &str, password: &str) -> Self {
        Self {
            expected: header_value(user, password),
            view_only: None,
        }
    }

    /// Also accepts `user` with `password` as a view-only login.
    #[must_use]
    pub fn with_view_only(mut self, user: &str, password: &str) -> Self {
        self.view_only = Some(header_value(user, password));
        self
    }

    /// Whether an `Authorization` header value carries the right credentials.
    pub fn check(&self, header: Option<&[u8]>) -> bool {
        self.role(header).is_some()
    }

    /// The role an `Authorization` header value logs in as; `None` for wrong or missing
    /// credentials. Both passwords are always compared, so timing tells nothing.
    pub fn role(&self, header: Option<&[u8]>) -> Option<Role> {
        let got = header?;
        let control = same(got, self.expected.as_bytes());
        let view = self
            .view_only
            .as_ref()
            .is_some_and(|v| same(got, v.as_bytes()));
        if control {
            Some(Role::Control)
        } else if view {
            Some(Role::ViewOnly)
        } else {
            None
        }
    }
}

fn header_value(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

/// Equality in time that depends only on `want`'s length.
fn same(got: &[u8], want: &[u8]) -> bool {
    let mut diff = u8::from(got.len() != want.len());
    for (i, w) in want.iter().enumerate() {
        diff |= w ^ got.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

/// A fresh random password (20 characters of [A-Za-z0-9], ~119 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_only_password_gives_the_view_only_role() {
        let auth = BasicAuth::new("user", "pass").with_view_only("user", "look");
        assert_eq!(auth.role(Some(b"Basic dXNlcjpwYXNz")), Some(Role::Control));
        // "user:look"
        assert_eq!(auth.role(Some(b"Basic dXNlcjpsb29r")), Some(Role::ViewOnly));
        assert_eq!(auth.role(Some(b"Basic dXNlcjpsb29s")), None);
        assert_eq!(auth.role(None), None);
        assert_eq!(
            BasicAuth::new("user", "pass").role(Some(b"Basic dXNlcjpsb29r")),
            None
        );
    }

    #[test]
    fn accepts_only_the_right_credentials() {
        let auth = BasicAuth::new("user", "pass");
        // "user:pass" in base64.
        assert!(auth.check(Some(b"Basic dXNlcjpwYXNz")));
        assert!(!auth.check(Some(b"Basic dXNlcjpwYXNx")));
        assert!(!auth.check(Some(b"Basic dXNlcjpwYXNzAA==")));
        assert!(!auth.check(Some(b"")));
        assert!(!auth.check(None));
    }

    #[test]
    fn generated_passwords_differ() {
        let (a, b) = (generate_password(), generate_password());
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
    }
}
