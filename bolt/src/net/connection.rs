//! One Bolt connection: dialing (TCP, TLS, handshake, HELLO/LOGON pipelined), then a reader task that
//! matches responses to requests in FIFO order, and a writer shared by callers so that whole pipelines
//! (and several of them) can be in flight at once.
//!
//! Failure handling follows the server's state machine: after a FAILURE the server ignores everything
//! until a RESET; the writer puts exactly one RESET in front of the next pipeline it sends.

use super::uri::Address;
use crate::Error;
use crate::proto::chunk::Dechunker;
use crate::proto::handshake::{self, HandshakeError};
use crate::proto::message::{self as m, Auth, Hello, Params, Response, TxExtra, tag};
use crate::proto::version::Version;
use crate::value::{Map, Value};
use bytes::BytesMut;
use rustls::ClientConfig;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::mpsc;

/// A byte stream we can run Bolt over (TCP or TLS over TCP).
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// Everything needed to open a connection.
#[derive(Clone)]
pub struct ConnectOptions {
    /// User name.
    pub user: String,
    /// Password (never logged).
    pub password: String,
    /// `user_agent` for HELLO.
    pub user_agent: String,
    /// Timeout for TCP connect, TLS, handshake and authentication together.
    pub connection_timeout: Duration,
    /// TCP keep-alive.
    pub keep_alive: bool,
    /// TLS client configuration, if encrypted.
    pub tls: Option<Arc<ClientConfig>>,
    /// Highest Bolt version to offer.
    pub max_version: Option<Version>,
    /// Routing context for HELLO (neo4j schemes).
    pub routing: Option<Map>,
    /// Ask 4.4 servers for the `utc` patch.
    pub patch_utc: bool,
    /// `notifications_minimum_severity` for HELLO (5.2+).
    pub notifications_min_severity: Option<String>,
    /// Largest message accepted from the server.
    pub max_message_size: usize,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("user_agent", &self.user_agent)
            .field("tls", &self.tls.is_some())
            .field("max_version", &self.max_version)
            .finish_non_exhaustive()
    }
}

/// The server's state as this client tracks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// Ready for work.
    Ready,
    /// An auto-commit result is open.
    Streaming,
    /// Inside an explicit transaction.
    InTx,
    /// Inside an explicit transaction with a result open.
    TxStreaming,
    /// A request failed; everything is ignored until RESET.
    Failed,
    /// The connection is unusable.
    Defunct,
}

/// A request in a pipeline.
#[derive(Debug, Clone, Copy)]
pub enum Msg<'a> {
    /// BEGIN.
    Begin(TxExtra<'a>),
    /// RUN; `extra` is `None` inside a transaction.
    Run {
        /// Query text.
        query: &'a str,
        /// Parameters.
        params: Params<'a>,
        /// Auto-commit settings.
        extra: Option<TxExtra<'a>>,
    },
    /// PULL n.
    Pull(i64),
    /// DISCARD n.
    Discard(i64),
    /// COMMIT.
    Commit,
    /// ROLLBACK.
    Rollback,
    /// RESET.
    Reset,
    /// ROUTE.
    Route {
        /// Routing context.
        routing: &'a Map,
        /// Database (None = home database).
        db: Option<&'a str>,
    },
}

impl Msg<'_> {
    fn tag(&self) -> u8 {
        match self {
            Msg::Begin(_) => tag::BEGIN,
            Msg::Run { .. } => tag::RUN,
            Msg::Pull(_) => tag::PULL,
            Msg::Discard(_) => tag::DISCARD,
            Msg::Commit => tag::COMMIT,
            Msg::Rollback => tag::ROLLBACK,
            Msg::Reset => tag::RESET,
            Msg::Route { .. } => tag::ROUTE,
        }
    }
}

/// One response, with the index of the request in its pipeline.
#[derive(Debug)]
pub struct Event {
    /// Index of the request in the pipeline given to [`Connection::send`].
    pub idx: usize,
    /// The response.
    pub resp: Response,
}

/// The responses of one pipeline, in order. `None` before every summary arrived means the connection died.
#[derive(Debug)]
pub struct Responses {
    rx: mpsc::UnboundedReceiver<Event>,
}

impl Responses {
    /// The next response.
    pub async fn next(&mut self) -> Option<Event> {
        self.rx.recv().await
    }
}

struct Pending {
    pos: u64,
    tag: u8,
    idx: usize,
    sink: Option<mpsc::UnboundedSender<Event>>,
}

#[derive(Debug)]
struct SharedState {
    defunct: Option<String>,
    last_failure_pos: u64,
    force_reset: bool,
    server: ServerState,
}

struct Writer {
    io: WriteHalf<Box<dyn Io>>,
    buf: BytesMut,
    pos: u64,
    last_reset_pos: u64,
    pending: mpsc::UnboundedSender<Pending>,
}

/// An open, authenticated Bolt connection.
pub struct Connection {
    address: Address,
    version: Version,
    server_agent: String,
    connection_id: String,
    utc: bool,
    telemetry: bool,
    created: Instant,
    shared: Arc<Mutex<SharedState>>,
    writer: tokio::sync::Mutex<Writer>,
    reader: tokio::task::JoinHandle<()>,
    /// Work currently using this connection (maintained by the pool).
    pub(crate) in_flight: AtomicUsize,
    /// Held exclusively (a paged result is open).
    pub(crate) exclusive: AtomicBool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("address", &self.address)
            .field("version", &self.version)
            .field("connection_id", &self.connection_id)
            .finish_non_exhaustive()
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Dropping the read half (and the write half with us) closes the socket.
        self.reader.abort();
    }
}

fn io_err(address: &Address) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        address: address.to_string(),
        source,
    }
}

async fn dial(address: &Address, keep_alive: bool) -> Result<tokio::net::TcpStream, Error> {
    let addrs = tokio::net::lookup_host((address.host.as_str(), address.port))
        .await
        .map_err(io_err(address))?;
    let mut last = None;
    for sa in addrs {
        let socket = if sa.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        };
        let socket = socket.map_err(io_err(address))?;
        if keep_alive {
            socket.set_keepalive(true).map_err(io_err(address))?;
        }
        match socket.connect(sa).await {
            Ok(s) => {
                s.set_nodelay(true).map_err(io_err(address))?;
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(io_err(address)(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "host name resolved to no address",
        )
    })))
}

fn auth_or_server(f: m::Failure) -> Error {
    if f.code.starts_with("Neo.ClientError.Security.") {
        Error::Auth {
            code: f.code,
            message: f.message,
        }
    } else {
        Error::Server {
            code: f.code,
            message: f.message,
            gql_status: f.gql_status,
        }
    }
}

impl Connection {
    /// Dials `address`, negotiates the version and authenticates, all within the connection timeout.
    pub async fn open(address: &Address, opts: &ConnectOptions) -> Result<Connection, Error> {
        match tokio::time::timeout(opts.connection_timeout, Self::open_inner(address, opts)).await {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout(format!(
                "connecting to {address} after {:?}",
                opts.connection_timeout
            ))),
        }
    }

    async fn open_inner(address: &Address, opts: &ConnectOptions) -> Result<Connection, Error> {
        let tcp = dial(address, opts.keep_alive).await?;
        let mut io: Box<dyn Io> = match &opts.tls {
            None => Box::new(tcp),
            Some(cfg) => {
                let name =
                    rustls::pki_types::ServerName::try_from(address.host.clone()).map_err(|e| {
                        Error::Config(format!("invalid TLS server name {:?}: {e}", address.host))
                    })?;
                let tls = tokio_rustls::TlsConnector::from(cfg.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| Error::Tls {
                        address: address.to_string(),
                        message: e.to_string(),
                    })?;
                Box::new(tls)
            }
        };
        let ioe = io_err(address);
        io.write_all(&handshake::offer(opts.max_version))
            .await
            .map_err(&ioe)?;
        io.flush().await.map_err(&ioe)?;
        let mut rbuf = BytesMut::with_capacity(64 * 1024);
        let reply = loop {
            match handshake::parse_reply(&rbuf, opts.max_version) {
                Ok(Some(r)) => break r,
                Ok(None) => {}
                Err(HandshakeError::Http) => return Err(Error::HttpPort(address.to_string())),
                Err(HandshakeError::NoCommonVersion) => {
                    return Err(Error::NoCommonVersion(address.to_string()));
                }
                Err(e) => return Err(Error::protocol(format!("handshake with {address}: {e}"))),
            }
            if io.read_buf(&mut rbuf).await.map_err(&ioe)? == 0 {
                return Err(Error::ConnectionLost {
                    address: address.to_string(),
                    reason: "closed during the handshake".into(),
                    commit_unknown: false,
                });
            }
        };
        let version = reply.version();
        tracing::debug!(%address, %version, manifest = matches!(reply, handshake::Reply::Manifest { .. }), "handshake");
        let consumed = match reply {
            handshake::Reply::Version(_) => 4,
            handshake::Reply::Manifest { consumed, .. } => consumed,
        };
        let _ = rbuf.split_to(consumed);

        let auth = Auth {
            user: &opts.user,
            password: &opts.password,
        };
        let hello = Hello {
            user_agent: &opts.user_agent,
            auth: auth.clone(),
            routing: opts.routing.as_ref(),
            patch_utc: opts.patch_utc,
            notifications_min_severity: opts.notifications_min_severity.as_deref(),
        };
        let mut wbuf = BytesMut::with_capacity(512);
        wbuf.extend_from_slice(&reply.choice_bytes());
        m::hello(&mut wbuf, version, &hello);
        if version.has_logon() {
            m::logon(&mut wbuf, &auth);
        }
        io.write_all(&wbuf).await.map_err(&ioe)?;
        io.flush().await.map_err(&ioe)?;
        // The buffer held the password: wipe it before it is dropped.
        wbuf.iter_mut().for_each(|b| *b = 0);

        let mut dechunker = Dechunker::new(opts.max_message_size);
        let mut next = async |rbuf: &mut BytesMut| -> Result<Response, Error> {
            loop {
                if let Some(msg) = dechunker.next_message(rbuf).map_err(Error::protocol)? {
                    return Ok(m::decode_response(msg)?);
                }
                if io.read_buf(rbuf).await.map_err(&ioe)? == 0 {
                    return Err(Error::ConnectionLost {
                        address: address.to_string(),
                        reason: "closed during authentication".into(),
                        commit_unknown: false,
                    });
                }
            }
        };
        let meta = match next(&mut rbuf).await? {
            Response::Success(meta) => meta,
            Response::Failure(f) => return Err(auth_or_server(f)),
            other => {
                return Err(Error::protocol(format!(
                    "unexpected reply to HELLO: {other:?}"
                )));
            }
        };
        if version.has_logon() {
            match next(&mut rbuf).await? {
                Response::Success(_) => {}
                Response::Failure(f) => return Err(auth_or_server(f)),
                other => {
                    return Err(Error::protocol(format!(
                        "unexpected reply to LOGON: {other:?}"
                    )));
                }
            }
        }
        let server_agent = meta
            .get("server")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !server_agent.starts_with("Neo4j/") {
            tracing::warn!(%address, server_agent, "server agent does not start with Neo4j/");
        }
        let connection_id = meta
            .get("connection_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let utc = version.is_v5()
            || meta
                .get("patch_bolt")
                .and_then(Value::as_list)
                .is_some_and(|l| l.iter().any(|p| p.as_str() == Some("utc")));
        let hints = meta.get("hints").and_then(Value::as_map);
        let recv_timeout = hints
            .and_then(|h| h.get("connection.recv_timeout_seconds"))
            .and_then(Value::as_int)
            .filter(|&s| s > 0)
            .map(|s| Duration::from_secs(s as u64));
        let telemetry = hints
            .and_then(|h| h.get("telemetry.enabled"))
            .and_then(Value::as_bool)
            == Some(true);
        tracing::debug!(%address, %version, server_agent, connection_id, utc, "connected");

        let (rd, wr) = tokio::io::split(io);
        let (ptx, prx) = mpsc::unbounded_channel();
        let shared = Arc::new(Mutex::new(SharedState {
            defunct: None,
            last_failure_pos: 0,
            force_reset: false,
            server: ServerState::Ready,
        }));
        let reader = tokio::spawn(read_loop(
            rd,
            rbuf,
            dechunker,
            prx,
            shared.clone(),
            recv_timeout,
        ));
        Ok(Connection {
            address: address.clone(),
            version,
            server_agent,
            connection_id,
            utc,
            telemetry,
            created: Instant::now(),
            shared,
            writer: tokio::sync::Mutex::new(Writer {
                io: wr,
                buf: BytesMut::with_capacity(64 * 1024),
                pos: 0,
                last_reset_pos: 0,
                pending: ptx,
            }),
            reader,
            in_flight: AtomicUsize::new(0),
            exclusive: AtomicBool::new(false),
        })
    }

    /// The negotiated version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The server's agent string, such as `Neo4j/5.26.0`.
    pub fn server_agent(&self) -> &str {
        &self.server_agent
    }

    /// The address dialed.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// Whether zoned datetimes travel in the UTC form (Bolt 5, or 4.4 with the utc patch).
    pub fn utc(&self) -> bool {
        self.utc
    }

    /// Whether the server asked for TELEMETRY messages.
    pub fn telemetry_enabled(&self) -> bool {
        self.telemetry
    }

    /// When the connection was opened.
    pub fn created(&self) -> Instant {
        self.created
    }

    /// The server state as tracked from the responses seen so far.
    pub fn server_state(&self) -> ServerState {
        let st = self.lock_shared();
        if st.defunct.is_some() {
            ServerState::Defunct
        } else {
            st.server
        }
    }

    /// True once the connection can no longer be used.
    pub fn is_defunct(&self) -> bool {
        self.lock_shared().defunct.is_some()
    }

    fn lock_shared(&self) -> std::sync::MutexGuard<'_, SharedState> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The error to report for work lost on this connection.
    pub fn lost(&self, commit_unknown: bool) -> Error {
        let reason = self
            .lock_shared()
            .defunct
            .clone()
            .unwrap_or_else(|| "closed".into());
        Error::ConnectionLost {
            address: self.address.to_string(),
            reason,
            commit_unknown,
        }
    }

    /// Makes the next pipeline start with a RESET (used when a paged result is abandoned).
    pub fn mark_needs_reset(&self) {
        self.lock_shared().force_reset = true;
    }

    /// Writes a pipeline in one write (preceded by a RESET if an earlier request failed) and returns its
    /// responses. Callers may send further pipelines before reading these.
    pub async fn send(&self, msgs: &[Msg<'_>]) -> Result<Responses, Error> {
        let mut w = self.writer.lock().await;
        let w = &mut *w;
        let needs_reset = {
            let mut st = self.lock_shared();
            if st.defunct.is_some() {
                drop(st);
                return Err(self.lost(false));
            }
            std::mem::take(&mut st.force_reset) || st.last_failure_pos > w.last_reset_pos
        };
        let (tx, rx) = mpsc::unbounded_channel();
        w.buf.clear();
        let mut pendings = Vec::with_capacity(msgs.len() + 1);
        if needs_reset {
            m::bare(&mut w.buf, tag::RESET);
            w.pos += 1;
            w.last_reset_pos = w.pos;
            pendings.push(Pending {
                pos: w.pos,
                tag: tag::RESET,
                idx: usize::MAX,
                sink: None,
            });
        }
        for (idx, msg) in msgs.iter().enumerate() {
            match msg {
                Msg::Begin(e) => m::begin(&mut w.buf, e),
                Msg::Run {
                    query,
                    params,
                    extra,
                } => m::run(&mut w.buf, query, *params, extra.as_ref(), self.utc),
                Msg::Pull(n) => m::pull(&mut w.buf, *n, None),
                Msg::Discard(n) => m::discard(&mut w.buf, *n, None),
                Msg::Commit => m::bare(&mut w.buf, tag::COMMIT),
                Msg::Rollback => m::bare(&mut w.buf, tag::ROLLBACK),
                Msg::Reset => {
                    m::bare(&mut w.buf, tag::RESET);
                    w.last_reset_pos = w.pos + 1;
                }
                Msg::Route { routing, db } => m::route(&mut w.buf, routing, &[], *db),
            }
            w.pos += 1;
            pendings.push(Pending {
                pos: w.pos,
                tag: msg.tag(),
                idx,
                sink: Some(tx.clone()),
            });
        }
        tracing::trace!(first_pos = w.pos + 1 - pendings.len() as u64, tags = ?pendings.iter().map(|p| p.tag).collect::<Vec<_>>(), needs_reset, "send");
        // Register before writing: the reader must know what a response answers before it can arrive.
        for p in pendings {
            if w.pending.send(p).is_err() {
                return Err(self.lost(false));
            }
        }
        let res = async {
            w.io.write_all(&w.buf).await?;
            w.io.flush().await
        }
        .await;
        if w.buf.capacity() > 16 * 1024 * 1024 {
            // Don't keep a huge batch buffer alive for the connection's whole life.
            w.buf = BytesMut::with_capacity(64 * 1024);
        }
        if let Err(e) = res {
            self.lock_shared()
                .defunct
                .get_or_insert_with(|| format!("write failed: {e}"));
            return Err(io_err(&self.address)(e));
        }
        Ok(Responses { rx })
    }

    /// Sends GOODBYE and closes the socket.
    pub async fn close(&self) {
        let mut w = self.writer.lock().await;
        let mut buf = BytesMut::new();
        m::bare(&mut buf, tag::GOODBYE);
        let _ = w.io.write_all(&buf).await;
        let _ = w.io.shutdown().await;
        self.lock_shared()
            .defunct
            .get_or_insert_with(|| "closed by the client".into());
    }
}

async fn read_loop(
    mut rd: ReadHalf<Box<dyn Io>>,
    mut rbuf: BytesMut,
    mut dechunker: Dechunker,
    mut prx: mpsc::UnboundedReceiver<Pending>,
    shared: Arc<Mutex<SharedState>>,
    recv_timeout: Option<Duration>,
) {
    let mut queue: VecDeque<Pending> = VecDeque::new();
    let reason = 'outer: loop {
        loop {
            let msg = match dechunker.next_message(&mut rbuf) {
                Ok(Some(msg)) => msg,
                Ok(None) => break,
                Err(e) => break 'outer e.to_string(),
            };
            let resp = match m::decode_response(msg) {
                Ok(r) => r,
                Err(e) => break 'outer format!("protocol error: {e}"),
            };
            while queue.is_empty() {
                match prx.try_recv() {
                    Ok(p) => queue.push_back(p),
                    Err(_) => break 'outer format!("unexpected message from the server: {resp:?}"),
                }
            }
            let Some(head) = queue.front() else {
                break 'outer "internal: empty queue".into();
            };
            if let Response::Record(_) = resp {
                if head.tag != tag::PULL {
                    break 'outer "RECORD for a request that is not PULL".into();
                }
                if let Some(s) = &head.sink {
                    let _ = s.send(Event {
                        idx: head.idx,
                        resp,
                    });
                }
                continue;
            }
            let Some(head) = queue.pop_front() else {
                break 'outer "internal: empty queue".into();
            };
            tracing::trace!(pos = head.pos, tag = head.tag, resp = ?resp, "summary");
            let mut resp = resp;
            {
                let mut st = shared.lock().unwrap_or_else(|p| p.into_inner());
                match &resp {
                    Response::Failure(_) if head.tag == tag::RESET => {
                        break 'outer "RESET failed".into();
                    }
                    // A request reaching a server already in the failed state was not executed, whatever
                    // the server says (Neo4j 5 answers a BEGIN there with Request.Invalid, then closes).
                    Response::Failure(_) if st.server == ServerState::Failed => {
                        resp = Response::Ignored
                    }
                    Response::Failure(_) => {
                        st.last_failure_pos = st.last_failure_pos.max(head.pos);
                        st.server = ServerState::Failed;
                    }
                    Response::Success(meta) => {
                        st.server = next_state(st.server, head.tag, meta);
                    }
                    _ => {}
                }
            }
            if let Some(s) = &head.sink {
                let _ = s.send(Event {
                    idx: head.idx,
                    resp,
                });
            }
        }
        rbuf.reserve(64 * 1024);
        let read = match recv_timeout {
            Some(t) => match tokio::time::timeout(t, rd.read_buf(&mut rbuf)).await {
                Ok(r) => r,
                Err(_) if queue.is_empty() && prx.is_empty() => continue,
                // The server promised a chunk (at least a NOOP) within this time while working.
                Err(_) => {
                    break format!(
                        "no data from the server for {t:?} (connection.recv_timeout_seconds)"
                    );
                }
            },
            None => rd.read_buf(&mut rbuf).await,
        };
        match read {
            Ok(0) => break "the server closed the connection".into(),
            Ok(_) => {}
            Err(e) => break format!("read failed: {e}"),
        }
    };
    tracing::debug!(reason, "connection closed");
    let failed = {
        let mut st = shared.lock().unwrap_or_else(|p| p.into_inner());
        st.defunct.get_or_insert(reason);
        st.server == ServerState::Failed
    };
    // Requests queued behind a FAILURE (and before any RESET) were certainly not executed: report them as
    // IGNORED so callers can re-send them. (Neo4j 5 closes the connection when a BEGIN arrives in the
    // failed state instead of ignoring it, which is what ends a pipeline of several transactions.)
    prx.close();
    while let Ok(p) = prx.try_recv() {
        queue.push_back(p);
    }
    let mut failed = failed;
    for p in queue {
        if p.tag == tag::RESET {
            failed = false;
        } else if failed && let Some(s) = &p.sink {
            let _ = s.send(Event {
                idx: p.idx,
                resp: Response::Ignored,
            });
        }
    }
    // Dropping the queue and the channel drops every sink: waiting callers see the end of their responses.
}

fn next_state(s: ServerState, t: u8, meta: &Map) -> ServerState {
    let has_more = meta.get("has_more").and_then(Value::as_bool) == Some(true);
    match t {
        tag::BEGIN => ServerState::InTx,
        tag::RUN if matches!(s, ServerState::InTx | ServerState::TxStreaming) => {
            ServerState::TxStreaming
        }
        tag::RUN => ServerState::Streaming,
        tag::PULL | tag::DISCARD if has_more => s,
        tag::PULL | tag::DISCARD if s == ServerState::TxStreaming => ServerState::InTx,
        tag::PULL | tag::DISCARD => ServerState::Ready,
        tag::COMMIT | tag::ROLLBACK | tag::RESET => ServerState::Ready,
        _ => s,
    }
}
