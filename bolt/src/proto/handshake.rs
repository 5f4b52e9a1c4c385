//! The version handshake: the 20-byte offer, the server's 4-byte reply or manifest v1, and our choice.

use super::version::Version;

/// Bytes that open every Bolt connection.
pub const MAGIC: [u8; 4] = [0x60, 0x60, 0xB0, 0x17];
const MANIFEST_V1: [u8; 4] = [0x00, 0x00, 0x01, 0xFF];

/// Handshake failures.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    /// The reply was `HTTP`: an HTTP port.
    #[error("the server answered with HTTP")]
    Http,
    /// The server chose nothing we offered (or offered nothing we speak).
    #[error("no common Bolt version")]
    NoCommonVersion,
    /// The server chose a version we did not offer.
    #[error("the server chose Bolt {0}, which was not offered")]
    Unexpected(Version),
    /// The manifest was malformed.
    #[error("malformed handshake manifest: {0}")]
    Manifest(&'static str),
}

/// The 20-byte offer: magic and four slots. With `max` set, only versions up to it are offered (4.4 alone
/// for `max <= 4.4`, and no manifest then, so a test can force the legacy path).
pub fn offer(max: Option<Version>) -> [u8; 20] {
    let max = max.unwrap_or(Version::LATEST);
    let mut slots: Vec<[u8; 4]> = Vec::with_capacity(4);
    if max.major >= 5 {
        if max.minor >= 7 {
            slots.push(MANIFEST_V1);
        }
        if max.minor >= 6 {
            let top = max.minor.min(8);
            slots.push([0, top - 6, top, 5]);
        }
        let top = max.minor.min(4);
        slots.push([0, top, top, 5]);
    }
    slots.push([0, 0, 4, 4]);
    let mut out = [0u8; 20];
    out[..4].copy_from_slice(&MAGIC);
    for (i, s) in slots.iter().take(4).enumerate() {
        out[4 + i * 4..8 + i * 4].copy_from_slice(s);
    }
    out
}

/// Whether `v` is something [`offer`]`(max)` proposed.
pub fn offered(v: Version, max: Option<Version>) -> bool {
    v.is_supported() && v <= max.unwrap_or(Version::LATEST)
}

/// What the server replied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A plain version reply; the handshake is done.
    Version(Version),
    /// A manifest: the client must write [`Reply::choice_bytes`] next.
    Manifest {
        /// The version we choose from the manifest.
        chosen: Version,
        /// Total bytes of the reply consumed.
        consumed: usize,
    },
}

impl Reply {
    /// The negotiated version.
    pub fn version(&self) -> Version {
        match self {
            Reply::Version(v) | Reply::Manifest { chosen: v, .. } => *v,
        }
    }

    /// Bytes to send back after a manifest (version, then an empty capability mask); empty otherwise.
    pub fn choice_bytes(&self) -> Vec<u8> {
        match self {
            Reply::Version(_) => Vec::new(),
            Reply::Manifest { chosen, .. } => {
                let mut v = chosen.to_bytes().to_vec();
                v.push(0);
                v
            }
        }
    }
}

/// Reads an unsigned LEB128 number from `buf` at `*pos`: `Ok(None)` if incomplete.
pub fn read_varint(buf: &[u8], pos: &mut usize) -> Result<Option<u64>, HandshakeError> {
    let mut value: u64 = 0;
    for i in 0..10 {
        let Some(&b) = buf.get(*pos + i) else {
            return Ok(None);
        };
        let payload = (b & 0x7F) as u64;
        if i == 9 && (payload > 1) {
            return Err(HandshakeError::Manifest("varint overflows u64"));
        }
        value |= payload << (7 * i);
        if b & 0x80 == 0 {
            // Reject padded encodings (a trailing zero group) as the spec demands the shortest form.
            if i > 0 && b == 0 {
                return Err(HandshakeError::Manifest("varint longer than needed"));
            }
            *pos += i + 1;
            return Ok(Some(value));
        }
    }
    Err(HandshakeError::Manifest("varint longer than 10 bytes"))
}

/// Parses the server's reply from the bytes received so far: `Ok(None)` means more bytes are needed.
pub fn parse_reply(buf: &[u8], max: Option<Version>) -> Result<Option<Reply>, HandshakeError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let head = [buf[0], buf[1], buf[2], buf[3]];
    if &head == b"HTTP" {
        return Err(HandshakeError::Http);
    }
    if head == [0, 0, 0, 0] {
        return Err(HandshakeError::NoCommonVersion);
    }
    if head != MANIFEST_V1 {
        let v = Version::new(head[3], head[2]);
        if head[0] != 0 || head[1] != 0 || !offered(v, max) {
            return Err(HandshakeError::Unexpected(v));
        }
        return Ok(Some(Reply::Version(v)));
    }
    let mut pos = 4;
    let Some(count) = read_varint(buf, &mut pos)? else {
        return Ok(None);
    };
    // Each entry is 4 bytes: refuse counts that cannot be real before waiting for them.
    if count > 1024 {
        return Err(HandshakeError::Manifest("too many versions"));
    }
    let need = pos + count as usize * 4;
    if buf.len() < need {
        return Ok(None);
    }
    let mut best: Option<Version> = None;
    for e in buf[pos..need].chunks_exact(4) {
        let (range, minor, major) = (e[1], e[2], e[3]);
        for m in (minor.saturating_sub(range)..=minor).rev() {
            let v = Version::new(major, m);
            if offered(v, max) && best.is_none_or(|b| v > b) {
                best = Some(v);
            }
        }
    }
    pos = need;
    let Some(_caps) = read_varint(buf, &mut pos)? else {
        return Ok(None);
    };
    match best {
        Some(chosen) => Ok(Some(Reply::Manifest {
            chosen,
            consumed: pos,
        })),
        None => Err(HandshakeError::NoCommonVersion),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_offer_matches_spec() {
        assert_eq!(
            offer(None),
            [
                0x60, 0x60, 0xB0, 0x17, 0, 0, 1, 0xFF, 0, 2, 8, 5, 0, 4, 4, 5, 0, 0, 4, 4
            ]
        );
        assert_eq!(
            offer(Some(Version::V4_4))[4..],
            [0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(
            offer(Some(Version::new(5, 2)))[4..12],
            [0, 2, 2, 5, 0, 0, 4, 4]
        );
    }

    #[test]
    fn plain_replies() {
        assert_eq!(
            parse_reply(&[0, 0, 4, 5], None),
            Ok(Some(Reply::Version(Version::new(5, 4))))
        );
        assert_eq!(parse_reply(&[0, 0, 4], None), Ok(None));
        assert_eq!(
            parse_reply(b"HTTP/1.1 400", None),
            Err(HandshakeError::Http)
        );
        assert_eq!(
            parse_reply(&[0; 4], None),
            Err(HandshakeError::NoCommonVersion)
        );
        assert!(matches!(
            parse_reply(&[0, 0, 5, 5], None),
            Err(HandshakeError::Unexpected(_))
        ));
        assert!(matches!(
            parse_reply(&[0, 0, 4, 5], Some(Version::V4_4)),
            Err(HandshakeError::Unexpected(_))
        ));
    }

    #[test]
    fn manifest_reply() {
        // 3 entries: 6.0, a junk entry, 5.8..5.0; capabilities 0.
        let r = [0, 0, 1, 0xFF, 3, 0, 0, 0, 6, 0, 7, 7, 0xF2, 0, 8, 8, 5, 0];
        let reply = parse_reply(&r, None).unwrap().unwrap();
        assert_eq!(
            reply,
            Reply::Manifest {
                chosen: Version::new(5, 8),
                consumed: r.len()
            }
        );
        assert_eq!(reply.choice_bytes(), vec![0, 0, 8, 5, 0]);
        assert_eq!(parse_reply(&r[..10], None), Ok(None));
        // Only 5.5 offered: refuse.
        assert_eq!(
            parse_reply(&[0, 0, 1, 0xFF, 1, 0, 0, 5, 5, 0], None),
            Err(HandshakeError::NoCommonVersion)
        );
    }

    #[test]
    fn varints() {
        let mut p = 0;
        assert_eq!(
            read_varint(&[0xFF, 0x82, 0x71], &mut p),
            Ok(Some(1_851_775))
        );
        assert_eq!(p, 3);
        p = 0;
        assert_eq!(read_varint(&[0x7F], &mut p), Ok(Some(127)));
        p = 0;
        assert!(read_varint(&[0x80, 0x00], &mut p).is_err());
        p = 0;
        assert_eq!(read_varint(&[0x80], &mut p), Ok(None));
    }
}
