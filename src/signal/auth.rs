//! HTTP basic auth: the credentials check (constant time) and password generation.
//!
//! Pure: the server passes the `Authorization` header value and acts on the answer.

use base64::Engine as _;
use rand::RngExt as _;

/// The accepted credentials, kept as the exact header value a browser sends.
#[derive(Clone)]
pub struct BasicAuth {
    expected: String,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BasicAuth(..)")
    }
}

impl BasicAuth {
    pub fn new(user: &str, password: &str) -> Self {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Self {
            expected: format!("Basic {token}"),
        }
    }

    /// Whether an `Authorization` header value carries the right credentials.
    pub fn check(&self, header: Option<&[u8]>) -> bool {
        let Some(got) = header else { return false };
        let want = self.expected.as_bytes();
        // Constant time over the expected length, so timing tells nothing about the password.
        let mut diff = u8::from(got.len() != want.len());
        for (i, w) in want.iter().enumerate() {
            diff |= w ^ got.get(i).copied().unwrap_or(0);
        }
        diff == 0
    }
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
