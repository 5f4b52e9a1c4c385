//! Bolt messages: request encoders (client side, framed in chunks straight into the caller's buffer),
//! response decoding, and the server-side mirror used by our stub server and the fuzz targets.

use super::chunk::{begin_message, end_message};
use super::version::Version;
use crate::packstream::decode::{DecodeError, Decoder};
use crate::packstream::encode::{self as enc, Encode};
use crate::value::{Map, Value};
use bytes::{Bytes, BytesMut};

/// Message tags.
pub mod tag {
    #![allow(missing_docs)]
    pub const HELLO: u8 = 0x01;
    pub const GOODBYE: u8 = 0x02;
    pub const RESET: u8 = 0x0F;
    pub const RUN: u8 = 0x10;
    pub const BEGIN: u8 = 0x11;
    pub const COMMIT: u8 = 0x12;
    pub const ROLLBACK: u8 = 0x13;
    pub const DISCARD: u8 = 0x2F;
    pub const PULL: u8 = 0x3F;
    pub const TELEMETRY: u8 = 0x54;
    pub const ROUTE: u8 = 0x66;
    pub const LOGON: u8 = 0x6A;
    pub const LOGOFF: u8 = 0x6B;
    pub const SUCCESS: u8 = 0x70;
    pub const RECORD: u8 = 0x71;
    pub const IGNORED: u8 = 0x7E;
    pub const FAILURE: u8 = 0x7F;
}

/// Credentials for HELLO (≤ 5.0) or LOGON (5.1+). `Debug` never shows the password.
#[derive(Clone)]
pub struct Auth<'a> {
    /// The user; empty with an empty password means scheme `none`.
    pub user: &'a str,
    /// The password.
    pub password: &'a str,
}

impl std::fmt::Debug for Auth<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Auth<'_> {
    fn entries(&self) -> usize {
        if self.is_none() { 1 } else { 3 }
    }
    fn is_none(&self) -> bool {
        self.user.is_empty() && self.password.is_empty()
    }
    fn write(&self, buf: &mut BytesMut) {
        enc::string(buf, "scheme");
        if self.is_none() {
            enc::string(buf, "none");
            return;
        }
        enc::string(buf, "basic");
        enc::string(buf, "principal");
        enc::string(buf, self.user);
        enc::string(buf, "credentials");
        enc::string(buf, self.password);
    }
}

/// What goes into HELLO.
#[derive(Debug, Clone)]
pub struct Hello<'a> {
    /// `user_agent`.
    pub user_agent: &'a str,
    /// Credentials (sent in HELLO before 5.1, in LOGON from 5.1: see [`logon`]).
    pub auth: Auth<'a>,
    /// The routing context for `neo4j://` (None for direct connections).
    pub routing: Option<&'a Map>,
    /// Ask for the `utc` patch (4.4 only).
    pub patch_utc: bool,
    /// `notifications_minimum_severity` (5.2+), such as `"OFF"`.
    pub notifications_min_severity: Option<&'a str>,
}

fn msg(buf: &mut BytesMut, tag: u8, fields: u8, body: impl FnOnce(&mut BytesMut)) {
    let start = begin_message(buf);
    enc::struct_header(buf, tag, fields);
    body(buf);
    end_message(buf, start);
}

/// Appends HELLO.
pub fn hello(buf: &mut BytesMut, v: Version, h: &Hello<'_>) {
    msg(buf, tag::HELLO, 1, |buf| {
        let auth_in_hello = !v.has_logon();
        let patch = h.patch_utc && !v.is_v5();
        let sev = h
            .notifications_min_severity
            .filter(|_| v.has_notification_filters());
        let n = 1
            + usize::from(h.routing.is_some())
            + usize::from(patch)
            + usize::from(sev.is_some())
            + usize::from(v.has_bolt_agent())
            + if auth_in_hello { h.auth.entries() } else { 0 };
        enc::map_header(buf, n);
        enc::string(buf, "user_agent");
        enc::string(buf, h.user_agent);
        if let Some(r) = h.routing {
            enc::string(buf, "routing");
            r.encode(buf);
        }
        if patch {
            enc::string(buf, "patch_bolt");
            enc::list_header(buf, 1);
            enc::string(buf, "utc");
        }
        if let Some(s) = sev {
            enc::string(buf, "notifications_minimum_severity");
            enc::string(buf, s);
        }
        if v.has_bolt_agent() {
            enc::string(buf, "bolt_agent");
            enc::map_header(buf, 2);
            enc::string(buf, "product");
            enc::string(
                buf,
                concat!("nodestream-rs-bolt/", env!("CARGO_PKG_VERSION")),
            );
            enc::string(buf, "language");
            enc::string(buf, "Rust");
        }
        if auth_in_hello {
            h.auth.write(buf);
        }
    });
}

/// Appends LOGON (5.1+).
pub fn logon(buf: &mut BytesMut, auth: &Auth<'_>) {
    msg(buf, tag::LOGON, 1, |buf| {
        enc::map_header(buf, auth.entries());
        auth.write(buf);
    });
}

/// Transaction settings for BEGIN and auto-commit RUN.
#[derive(Debug, Clone, Copy, Default)]
pub struct TxExtra<'a> {
    /// Target database (`None` = home database).
    pub db: Option<&'a str>,
    /// Read access mode (`mode: "r"`).
    pub read: bool,
    /// Bookmarks to wait for.
    pub bookmarks: &'a [String],
    /// Transaction timeout in milliseconds.
    pub tx_timeout_ms: Option<i64>,
    /// Transaction metadata.
    pub tx_metadata: Option<&'a Map>,
    /// User to impersonate.
    pub imp_user: Option<&'a str>,
}

impl TxExtra<'_> {
    fn write(&self, buf: &mut BytesMut) {
        let n = usize::from(self.db.is_some())
            + usize::from(self.read)
            + usize::from(!self.bookmarks.is_empty())
            + usize::from(self.tx_timeout_ms.is_some())
            + usize::from(self.tx_metadata.is_some())
            + usize::from(self.imp_user.is_some());
        enc::map_header(buf, n);
        if let Some(db) = self.db {
            enc::string(buf, "db");
            enc::string(buf, db);
        }
        if self.read {
            enc::string(buf, "mode");
            enc::string(buf, "r");
        }
        if !self.bookmarks.is_empty() {
            enc::string(buf, "bookmarks");
            self.bookmarks.encode(buf);
        }
        if let Some(t) = self.tx_timeout_ms {
            enc::string(buf, "tx_timeout");
            enc::int(buf, t);
        }
        if let Some(m) = self.tx_metadata {
            enc::string(buf, "tx_metadata");
            m.encode(buf);
        }
        if let Some(u) = self.imp_user {
            enc::string(buf, "imp_user");
            enc::string(buf, u);
        }
    }
}

/// RUN parameters: an owned map, or one PackStream map encoded by the caller.
#[derive(Debug, Clone, Copy)]
pub enum Params<'a> {
    /// No parameters.
    None,
    /// A map of values, encoded now.
    Map(&'a Map),
    /// A complete PackStream map, copied as is.
    Encoded(&'a [u8]),
}

/// Appends BEGIN.
pub fn begin(buf: &mut BytesMut, extra: &TxExtra<'_>) {
    msg(buf, tag::BEGIN, 1, |buf| extra.write(buf));
}

/// Appends RUN; `extra` is `None` inside an explicit transaction. `utc` selects the datetime form.
pub fn run(
    buf: &mut BytesMut,
    query: &str,
    params: Params<'_>,
    extra: Option<&TxExtra<'_>>,
    utc: bool,
) {
    msg(buf, tag::RUN, 3, |buf| {
        enc::string(buf, query);
        match params {
            Params::None => enc::map_header(buf, 0),
            Params::Map(m) => enc::map(buf, m, enc::WireFormat::from_utc(utc)),
            Params::Encoded(b) => buf.extend_from_slice(b),
        }
        match extra {
            Some(e) => e.write(buf),
            None => enc::map_header(buf, 0),
        }
    });
}

fn n_qid(buf: &mut BytesMut, t: u8, n: i64, qid: Option<i64>) {
    msg(buf, t, 1, |buf| {
        // qid -1 is the default ("last statement"), so it is left out.
        let qid = qid.filter(|&q| q != -1);
        enc::map_header(buf, 1 + usize::from(qid.is_some()));
        enc::string(buf, "n");
        enc::int(buf, n);
        if let Some(q) = qid {
            enc::string(buf, "qid");
            enc::int(buf, q);
        }
    });
}

/// Appends PULL `n` (-1 = all).
pub fn pull(buf: &mut BytesMut, n: i64, qid: Option<i64>) {
    n_qid(buf, tag::PULL, n, qid);
}

/// Appends DISCARD `n` (-1 = all).
pub fn discard(buf: &mut BytesMut, n: i64, qid: Option<i64>) {
    n_qid(buf, tag::DISCARD, n, qid);
}

/// Appends a message without fields (COMMIT, ROLLBACK, RESET, GOODBYE, LOGOFF).
pub fn bare(buf: &mut BytesMut, t: u8) {
    msg(buf, t, 0, |_| {});
}

/// Appends ROUTE (4.4/5.x shape).
pub fn route(buf: &mut BytesMut, routing: &Map, bookmarks: &[String], db: Option<&str>) {
    msg(buf, tag::ROUTE, 3, |buf| {
        routing.encode(buf);
        bookmarks.encode(buf);
        enc::map_header(buf, usize::from(db.is_some()));
        if let Some(db) = db {
            enc::string(buf, "db");
            enc::string(buf, db);
        }
    });
}

/// Appends TELEMETRY (5.4+; only when the server hinted `telemetry.enabled`).
pub fn telemetry(buf: &mut BytesMut, api: i64) {
    msg(buf, tag::TELEMETRY, 1, |buf| enc::int(buf, api));
}

/// A FAILURE, in classic (`code`) or GQL (`neo4j_code`, 5.7+) form.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Neo4j status code; `Neo.DatabaseError.General.UnknownError` if the server sent none.
    pub code: String,
    /// Message.
    pub message: String,
    /// GQL status, such as `42001`.
    pub gql_status: Option<String>,
    /// GQL status description.
    pub description: Option<String>,
    /// `_classification` from the diagnostic record.
    pub classification: Option<String>,
    /// The nested cause.
    pub cause: Option<Box<Failure>>,
}

impl Failure {
    /// Reads a FAILURE metadata map.
    pub fn from_map(m: &Map) -> Self {
        Self::from_map_depth(m, 0)
    }

    fn from_map_depth(m: &Map, depth: usize) -> Self {
        let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
        Failure {
            code: s("neo4j_code")
                .or_else(|| s("code"))
                .unwrap_or_else(|| "Neo.DatabaseError.General.UnknownError".into()),
            message: s("message").unwrap_or_default(),
            gql_status: s("gql_status"),
            description: s("description"),
            classification: m
                .get("diagnostic_record")
                .and_then(Value::as_map)
                .and_then(|d| d.get("_classification"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            cause: match m.get("cause") {
                Some(Value::Map(c)) if depth < 16 => {
                    Some(Box::new(Self::from_map_depth(c, depth + 1)))
                }
                _ => None,
            },
        }
    }
}

/// A server message.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// SUCCESS with its metadata.
    Success(Map),
    /// RECORD with its fields.
    Record(Vec<Value>),
    /// IGNORED.
    Ignored,
    /// FAILURE.
    Failure(Failure),
}

impl Response {
    /// True for SUCCESS, IGNORED and FAILURE (the end of a request's answer).
    pub fn is_summary(&self) -> bool {
        !matches!(self, Response::Record(_))
    }
}

fn fields_err(name: &str, n: usize) -> DecodeError {
    DecodeError::Struct(format!("{name} message with {n} field(s)"))
}

/// Decodes one server message.
pub fn decode_response(body: Bytes) -> Result<Response, DecodeError> {
    let mut d = Decoder::new(body);
    let (n, t) = d.struct_header()?;
    let r = match (t, n) {
        (tag::SUCCESS, 1) => Response::Success(d.map()?),
        (tag::RECORD, 1) => Response::Record(d.list()?),
        (tag::IGNORED, 0) => Response::Ignored,
        (tag::FAILURE, 1) => Response::Failure(Failure::from_map(&d.map()?)),
        (tag::SUCCESS | tag::RECORD | tag::FAILURE, n) => return Err(fields_err("response", n)),
        (t, _) => {
            return Err(DecodeError::Struct(format!(
                "unknown response message tag 0x{t:02X}"
            )));
        }
    };
    d.finish()?;
    Ok(r)
}

/// A client message as the server sees it (for the stub server and fuzzing).
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// HELLO extra.
    Hello(Map),
    /// LOGON auth.
    Logon(Map),
    /// LOGOFF.
    Logoff,
    /// GOODBYE.
    Goodbye,
    /// RESET.
    Reset,
    /// RUN.
    Run {
        /// Query text.
        query: String,
        /// Parameters.
        params: Map,
        /// Extra.
        extra: Map,
    },
    /// BEGIN extra.
    Begin(Map),
    /// COMMIT.
    Commit,
    /// ROLLBACK.
    Rollback,
    /// PULL extra.
    Pull(Map),
    /// DISCARD extra.
    Discard(Map),
    /// ROUTE.
    Route {
        /// Routing context.
        routing: Map,
        /// Bookmarks.
        bookmarks: Vec<Value>,
        /// Extra (4.4+) or db (4.3).
        extra: Value,
    },
    /// TELEMETRY api.
    Telemetry(i64),
}

impl Request {
    /// The message name, as in the spec.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Hello(_) => "HELLO",
            Request::Logon(_) => "LOGON",
            Request::Logoff => "LOGOFF",
            Request::Goodbye => "GOODBYE",
            Request::Reset => "RESET",
            Request::Run { .. } => "RUN",
            Request::Begin(_) => "BEGIN",
            Request::Commit => "COMMIT",
            Request::Rollback => "ROLLBACK",
            Request::Pull(_) => "PULL",
            Request::Discard(_) => "DISCARD",
            Request::Route { .. } => "ROUTE",
            Request::Telemetry(_) => "TELEMETRY",
        }
    }
}

/// Decodes one client message.
#[doc(hidden)]
pub fn decode_request(body: Bytes) -> Result<Request, DecodeError> {
    let mut d = Decoder::new(body);
    let (n, t) = d.struct_header()?;
    let r = match (t, n) {
        (tag::HELLO, 1) => Request::Hello(d.map()?),
        (tag::LOGON, 1) => Request::Logon(d.map()?),
        (tag::LOGOFF, 0) => Request::Logoff,
        (tag::GOODBYE, 0) => Request::Goodbye,
        (tag::RESET, 0) => Request::Reset,
        (tag::RUN, 3) => Request::Run {
            query: d.string()?,
            params: d.map()?,
            extra: d.map()?,
        },
        (tag::BEGIN, 1) => Request::Begin(d.map()?),
        (tag::COMMIT, 0) => Request::Commit,
        (tag::ROLLBACK, 0) => Request::Rollback,
        (tag::PULL, 1) => Request::Pull(d.map()?),
        (tag::DISCARD, 1) => Request::Discard(d.map()?),
        (tag::ROUTE, 3) => Request::Route {
            routing: d.map()?,
            bookmarks: d.list()?,
            extra: d.value()?,
        },
        (tag::TELEMETRY, 1) => Request::Telemetry(
            d.value()?
                .as_int()
                .ok_or_else(|| fields_err("TELEMETRY", 1))?,
        ),
        (t, n) => {
            return Err(DecodeError::Struct(format!(
                "unknown request tag 0x{t:02X} with {n} field(s)"
            )));
        }
    };
    d.finish()?;
    Ok(r)
}

/// Appends SUCCESS (server side).
#[doc(hidden)]
pub fn success(buf: &mut BytesMut, meta: &Map) {
    msg(buf, tag::SUCCESS, 1, |buf| meta.encode(buf));
}

/// Appends RECORD (server side).
#[doc(hidden)]
pub fn record(buf: &mut BytesMut, fields: &[Value]) {
    msg(buf, tag::RECORD, 1, |buf| fields.encode(buf));
}

/// Appends FAILURE in classic form (server side).
#[doc(hidden)]
pub fn failure(buf: &mut BytesMut, code: &str, message: &str) {
    msg(buf, tag::FAILURE, 1, |buf| {
        enc::map_header(buf, 2);
        enc::string(buf, "code");
        enc::string(buf, code);
        enc::string(buf, "message");
        enc::string(buf, message);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::chunk::Dechunker;

    fn one(buf: &mut BytesMut) -> Bytes {
        Dechunker::default().next_message(buf).unwrap().unwrap()
    }

    #[test]
    fn fixed_encodings_from_spec() {
        let mut b = BytesMut::new();
        pull(&mut b, -1, None);
        assert_eq!(&b[..], &[0, 6, 0xB1, 0x3F, 0xA1, 0x81, b'n', 0xFF, 0, 0]);
        b.clear();
        bare(&mut b, tag::RESET);
        assert_eq!(&b[..], &[0, 2, 0xB0, 0x0F, 0, 0]);
        b.clear();
        begin(&mut b, &TxExtra::default());
        assert_eq!(&b[..], &[0, 3, 0xB1, 0x11, 0xA0, 0, 0]);
        b.clear();
        run(&mut b, "RETURN 1", Params::None, None, true);
        let expect = [
            0, 0x0D, 0xB3, 0x10, 0x88, b'R', b'E', b'T', b'U', b'R', b'N', b' ', b'1', 0xA0, 0xA0,
            0, 0,
        ];
        assert_eq!(&b[..], &expect);
    }

    #[test]
    fn requests_round_trip() {
        let mut b = BytesMut::new();
        let mut params = Map::new();
        params.insert("x".into(), Value::Integer(1));
        let extra = TxExtra {
            db: Some("neo4j"),
            read: true,
            ..Default::default()
        };
        run(
            &mut b,
            "RETURN $x",
            Params::Map(&params),
            Some(&extra),
            true,
        );
        match decode_request(one(&mut b)).unwrap() {
            Request::Run {
                query,
                params: p,
                extra,
            } => {
                assert_eq!(query, "RETURN $x");
                assert_eq!(p, params);
                assert_eq!(extra.get("db"), Some(&Value::String("neo4j".into())));
                assert_eq!(extra.get("mode"), Some(&Value::String("r".into())));
            }
            other => panic!("{other:?}"),
        }
        let auth = Auth {
            user: "neo4j",
            password: "secret",
        };
        let h = Hello {
            user_agent: "ua/1",
            auth: auth.clone(),
            routing: None,
            patch_utc: true,
            notifications_min_severity: None,
        };
        hello(&mut b, Version::V4_4, &h);
        let Request::Hello(m) = decode_request(one(&mut b)).unwrap() else {
            panic!()
        };
        assert_eq!(m.get("credentials"), Some(&Value::String("secret".into())));
        assert!(m.contains_key("patch_bolt"));
        hello(&mut b, Version::new(5, 8), &h);
        let Request::Hello(m) = decode_request(one(&mut b)).unwrap() else {
            panic!()
        };
        assert!(
            !m.contains_key("credentials")
                && !m.contains_key("patch_bolt")
                && m.contains_key("bolt_agent")
        );
        assert!(!format!("{auth:?}").contains("secret"));
    }

    #[test]
    fn failures_classic_and_gql() {
        let mut m = Map::new();
        m.insert(
            "code".into(),
            "Neo.ClientError.Statement.SyntaxError".into(),
        );
        m.insert("message".into(), "bad".into());
        let f = Failure::from_map(&m);
        assert_eq!(f.code, "Neo.ClientError.Statement.SyntaxError");
        let mut g = Map::new();
        g.insert(
            "neo4j_code".into(),
            "Neo.TransientError.Transaction.DeadlockDetected".into(),
        );
        g.insert("gql_status".into(), "50N05".into());
        let mut diag = Map::new();
        diag.insert("_classification".into(), "TRANSIENT_ERROR".into());
        g.insert("diagnostic_record".into(), Value::Map(diag));
        g.insert("cause".into(), Value::Map(m));
        let f = Failure::from_map(&g);
        assert_eq!(f.code, "Neo.TransientError.Transaction.DeadlockDetected");
        assert_eq!(f.gql_status.as_deref(), Some("50N05"));
        assert_eq!(f.classification.as_deref(), Some("TRANSIENT_ERROR"));
        assert_eq!(
            f.cause.unwrap().code,
            "Neo.ClientError.Statement.SyntaxError"
        );
        assert_eq!(
            Failure::from_map(&Map::new()).code,
            "Neo.DatabaseError.General.UnknownError"
        );
    }
}
