//! Negotiated Bolt versions and the features each one has.

use std::fmt;

/// A Bolt protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major version.
    pub major: u8,
    /// Minor version.
    pub minor: u8,
}

impl Version {
    /// Bolt 4.4.
    pub const V4_4: Version = Version::new(4, 4);
    /// Bolt 5.0.
    pub const V5_0: Version = Version::new(5, 0);
    /// The newest version this client speaks.
    pub const LATEST: Version = Version::new(5, 8);

    /// Builds a version.
    pub const fn new(major: u8, minor: u8) -> Self {
        Version { major, minor }
    }

    /// Whether this client can speak the version (4.4, 5.0–5.4, 5.6–5.8; never 5.5).
    pub fn is_supported(self) -> bool {
        matches!((self.major, self.minor), (4, 4) | (5, 0..=4) | (5, 6..=8))
    }

    /// Authentication moved from HELLO to LOGON in 5.1.
    pub fn has_logon(self) -> bool {
        self >= Version::new(5, 1)
    }

    /// Bolt 5 uses UTC-based datetimes and element ids always.
    pub fn is_v5(self) -> bool {
        self.major >= 5
    }

    /// `bolt_agent` in HELLO is mandatory from 5.3.
    pub fn has_bolt_agent(self) -> bool {
        self >= Version::new(5, 3)
    }

    /// Notification filters exist from 5.2.
    pub fn has_notification_filters(self) -> bool {
        self >= Version::new(5, 2)
    }

    /// TELEMETRY exists from 5.4.
    pub fn has_telemetry(self) -> bool {
        self >= Version::new(5, 4)
    }

    /// FAILURE carries GQL fields from 5.7.
    pub fn has_gql_errors(self) -> bool {
        self >= Version::new(5, 7)
    }

    /// The 4-byte handshake form without a range.
    pub fn to_bytes(self) -> [u8; 4] {
        [0, 0, self.minor, self.major]
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl From<(u8, u8)> for Version {
    fn from((major, minor): (u8, u8)) -> Self {
        Version { major, minor }
    }
}
