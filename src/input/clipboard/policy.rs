//! Which clipboard directions are allowed, parsed from Selkies' `enable_clipboard` values.

use std::fmt;
use std::str::FromStr;

/// Which directions the clipboard may flow. "In" is browser → X server (`cw` and friends), "out"
/// is X server → browser (ownership changes, `cr`), as in Selkies.
///
/// ```
/// use selkies_rs::input::clipboard::Policy;
/// assert_eq!("true".parse::<Policy>(), Ok(Policy::Both));
/// assert_eq!("out".parse::<Policy>(), Ok(Policy::Out));
/// assert!(Policy::In.allows_in() && !Policy::In.allows_out());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Policy {
    /// Both directions (`true`, `both`). The default, as in Selkies.
    #[default]
    Both,
    /// Browser → server only (`in`).
    In,
    /// Server → browser only (`out`).
    Out,
    /// Neither (`false`, `off`).
    Off,
}

/// One direction of the clipboard, for errors and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Browser → X server.
    In,
    /// X server → browser.
    Out,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::In => "in (browser to server)",
            Direction::Out => "out (server to browser)",
        })
    }
}

impl Policy {
    /// Whether the browser may set the server clipboard.
    pub fn allows_in(self) -> bool {
        matches!(self, Policy::Both | Policy::In)
    }

    /// Whether the server clipboard may be sent to the browser.
    pub fn allows_out(self) -> bool {
        matches!(self, Policy::Both | Policy::Out)
    }

    /// Whether `direction` is allowed.
    pub fn allows(self, direction: Direction) -> bool {
        match direction {
            Direction::In => self.allows_in(),
            Direction::Out => self.allows_out(),
        }
    }
}

/// A value that is not one of `true`, `false`, `in`, `out`, `both`, `off`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid clipboard policy {0:?} (expected true, false, in, out, both or off)")]
pub struct PolicyParseError(String);

impl FromStr for Policy {
    type Err = PolicyParseError;

    /// Case-insensitive; surrounding spaces are ignored (environment files often carry them).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "true" | "both" => Ok(Policy::Both),
            "false" | "off" => Ok(Policy::Off),
            "in" => Ok(Policy::In),
            "out" => Ok(Policy::Out),
            _ => Err(PolicyParseError(s.chars().take(32).collect())),
        }
    }
}

impl fmt::Display for Policy {
    /// The Selkies spelling, so a parsed value prints back as an `enable_clipboard` value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Policy::Both => "true",
            Policy::In => "in",
            Policy::Out => "out",
            Policy::Off => "false",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_selkies_values() {
        for (text, policy) in [
            ("true", Policy::Both),
            ("TRUE", Policy::Both),
            (" both ", Policy::Both),
            ("false", Policy::Off),
            ("off", Policy::Off),
            ("in", Policy::In),
            ("Out", Policy::Out),
        ] {
            assert_eq!(text.parse::<Policy>(), Ok(policy), "{text:?}");
            assert_eq!(policy.to_string().parse::<Policy>(), Ok(policy));
        }
        for bad in ["", "yes", "1", "inout", "t"] {
            assert!(bad.parse::<Policy>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn directions() {
        assert!(Policy::Both.allows(Direction::In) && Policy::Both.allows(Direction::Out));
        assert!(Policy::In.allows(Direction::In) && !Policy::In.allows(Direction::Out));
        assert!(!Policy::Out.allows(Direction::In) && Policy::Out.allows(Direction::Out));
        assert!(!Policy::Off.allows_in() && !Policy::Off.allows_out());
    }
}
