//! Our own scripted Bolt server for the faults a real Neo4j will not produce on demand. Each accepted
//! connection runs a Rust closure (the "script") that reads client messages with our codec and answers.
#![allow(dead_code)]

use bolt::net::connection::Io;
use bolt::proto::chunk::Dechunker;
use bolt::proto::message::{self as m, Request};
use bolt::value::{Map, Value};
use bytes::BytesMut;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Builds a map from pairs.
#[macro_export]
macro_rules! map {
    ($($k:expr => $v:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut m = bolt::Map::new();
        $( m.insert($k.to_string(), bolt::Value::from($v)); )*
        m
    }};
}

pub type Log = Arc<Mutex<Vec<String>>>;

pub struct StubServer {
    pub addr: String,
    log: Log,
    errors: Arc<Mutex<Vec<String>>>,
    conns: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StubServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StubServer {
    /// Starts a listener on 127.0.0.1; every connection runs `script(connection_index, conn)`.
    pub async fn start<F, Fut>(script: F) -> StubServer
    where
        F: Fn(usize, StubConn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        Self::start_with(None, script).await
    }

    /// Like [`StubServer::start`], behind TLS with the test certificate for `localhost`/127.0.0.1.
    pub async fn start_tls<F, Fut>(script: F) -> StubServer
    where
        F: Fn(usize, StubConn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        Self::start_with(Some(tls_acceptor()), script).await
    }

    async fn start_with<F, Fut>(tls: Option<tokio_rustls::TlsAcceptor>, script: F) -> StubServer
    where
        F: Fn(usize, StubConn) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port");
        let addr = listener.local_addr().expect("local address").to_string();
        let log: Log = Default::default();
        let errors: Arc<Mutex<Vec<String>>> = Default::default();
        let conns = Arc::new(AtomicUsize::new(0));
        let script = Arc::new(script);
        let (l2, e2, c2) = (log.clone(), errors.clone(), conns.clone());
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let i = c2.fetch_add(1, Ordering::SeqCst);
                let (l3, e3, script, tls) = (l2.clone(), e2.clone(), script.clone(), tls.clone());
                tokio::spawn(async move {
                    let stream: Box<dyn Io> = match tls {
                        None => Box::new(tcp),
                        Some(acceptor) => match acceptor.accept(tcp).await {
                            Ok(s) => {
                                let sni =
                                    s.get_ref().1.server_name().unwrap_or("<none>").to_owned();
                                l3.lock().unwrap().push(format!("{i}:SNI {sni}"));
                                Box::new(s)
                            }
                            Err(_) => {
                                l3.lock().unwrap().push(format!("{i}:TLS failed"));
                                return;
                            }
                        },
                    };
                    let conn = StubConn {
                        stream,
                        rbuf: BytesMut::new(),
                        dechunker: Dechunker::default(),
                        log: l3,
                        id: i,
                    };
                    if let Err(e) = script(i, conn).await {
                        e3.lock().unwrap().push(format!("connection {i}: {e}"));
                    }
                });
            }
        });
        StubServer {
            addr,
            log,
            errors,
            conns,
            task,
        }
    }

    pub fn uri(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.addr)
    }

    /// Messages received, as `"<conn>:<NAME>"`.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Names of the messages received on every connection, in order.
    pub fn names(&self) -> Vec<String> {
        self.log()
            .into_iter()
            .map(|s| s.split_once(':').map(|(_, n)| n.to_owned()).unwrap_or(s))
            .collect()
    }

    pub fn connections(&self) -> usize {
        self.conns.load(Ordering::SeqCst)
    }

    /// Panics with the scripts' complaints, if any.
    pub fn assert_ok(&self) {
        let e = self.errors.lock().unwrap();
        assert!(e.is_empty(), "stub script errors: {e:?}");
    }
}

pub struct StubConn {
    stream: Box<dyn Io>,
    rbuf: BytesMut,
    dechunker: Dechunker,
    log: Log,
    pub id: usize,
}

impl StubConn {
    /// Reads the 20-byte preamble and answers with `reply`; returns the client's offer.
    pub async fn handshake(&mut self, reply: &[u8]) -> Result<Vec<u8>, String> {
        let mut offer = [0u8; 20];
        self.stream
            .read_exact(&mut offer)
            .await
            .map_err(|e| e.to_string())?;
        if offer[..4] != [0x60, 0x60, 0xB0, 0x17] {
            return Err(format!("bad magic {:02X?}", &offer[..4]));
        }
        self.stream
            .write_all(reply)
            .await
            .map_err(|e| e.to_string())?;
        Ok(offer.to_vec())
    }

    /// Reads exactly `n` raw bytes (e.g. the manifest choice).
    pub async fn read_raw(&mut self, n: usize) -> Result<Vec<u8>, String> {
        while self.rbuf.len() < n {
            if self
                .stream
                .read_buf(&mut self.rbuf)
                .await
                .map_err(|e| e.to_string())?
                == 0
            {
                return Err("eof".into());
            }
        }
        Ok(self.rbuf.split_to(n).to_vec())
    }

    /// Handshake on `version`, then HELLO (and LOGON from 5.1) answered with SUCCESS.
    pub async fn accept(&mut self, major: u8, minor: u8) -> Result<Map, String> {
        self.accept_with(
            major,
            minor,
            map! {"server" => "Neo4j/5.26.0", "connection_id" => "bolt-stub"},
        )
        .await
    }

    pub async fn accept_with(
        &mut self,
        major: u8,
        minor: u8,
        hello_meta: Map,
    ) -> Result<Map, String> {
        self.handshake(&[0, 0, minor, major]).await?;
        let Request::Hello(h) = self.expect("HELLO").await? else {
            unreachable!()
        };
        if (major, minor) >= (5, 1) {
            self.expect("LOGON").await?;
        }
        self.success(hello_meta).await?;
        if (major, minor) >= (5, 1) {
            self.success(Map::new()).await?;
        }
        Ok(h)
    }

    /// Complete client messages already received but not yet read by the script: shows what arrived
    /// in the same network read as the last message.
    pub fn buffered(&self) -> usize {
        let mut b = self.rbuf.clone();
        let mut d = Dechunker::default();
        let mut n = 0;
        while let Ok(Some(_)) = d.next_message(&mut b) {
            n += 1;
        }
        n
    }

    /// Answers auto-commit RUN+PULL with one row `[n]` (n = queries served so far), RESET with SUCCESS,
    /// until the client leaves.
    pub async fn serve_auto_commit(&mut self) -> Result<(), String> {
        let mut n = 0i64;
        while let Some(r) = self.recv().await? {
            match r.name() {
                "RUN" => {
                    self.expect("PULL").await?;
                    self.success(map! {"fields" => vec![Value::from("n")]})
                        .await?;
                    self.record(vec![n.into()]).await?;
                    self.success(Map::new()).await?;
                    n += 1;
                }
                "RESET" => self.success(Map::new()).await?,
                "GOODBYE" => {}
                other => return Err(format!("unexpected {other}")),
            }
        }
        Ok(())
    }

    /// The next client message, or `None` at EOF.
    pub async fn recv(&mut self) -> Result<Option<Request>, String> {
        loop {
            if let Some(msg) = self
                .dechunker
                .next_message(&mut self.rbuf)
                .map_err(|e| e.to_string())?
            {
                let r = m::decode_request(msg).map_err(|e| e.to_string())?;
                self.log
                    .lock()
                    .unwrap()
                    .push(format!("{}:{}", self.id, r.name()));
                return Ok(Some(r));
            }
            match self.stream.read_buf(&mut self.rbuf).await {
                Ok(0) | Err(_) => return Ok(None),
                Ok(_) => {}
            }
        }
    }

    /// The next client message, which must be `name`. GOODBYE is never expected implicitly.
    pub async fn expect(&mut self, name: &str) -> Result<Request, String> {
        match self.recv().await? {
            Some(r) if r.name() == name => Ok(r),
            Some(r) => Err(format!("expected {name}, got {r:?}")),
            None => Err(format!("expected {name}, got EOF")),
        }
    }

    async fn send(&mut self, f: impl FnOnce(&mut BytesMut)) -> Result<(), String> {
        let mut b = BytesMut::new();
        f(&mut b);
        self.stream.write_all(&b).await.map_err(|e| e.to_string())
    }

    pub async fn success(&mut self, meta: Map) -> Result<(), String> {
        self.send(|b| m::success(b, &meta)).await
    }

    pub async fn record(&mut self, fields: Vec<Value>) -> Result<(), String> {
        self.send(|b| m::record(b, &fields)).await
    }

    pub async fn failure(&mut self, code: &str, message: &str) -> Result<(), String> {
        self.send(|b| m::failure(b, code, message)).await
    }

    pub async fn failure_map(&mut self, meta: Map) -> Result<(), String> {
        self.send(|b| {
            let s = bolt::proto::chunk::begin_message(b);
            bolt::packstream::encode::struct_header(b, 0x7F, 1);
            bolt::packstream::Encode::encode(&meta, b);
            bolt::proto::chunk::end_message(b, s);
        })
        .await
    }

    pub async fn ignored(&mut self) -> Result<(), String> {
        self.send(|b| m::bare(b, 0x7E)).await
    }

    pub async fn noops(&mut self, n: usize) -> Result<(), String> {
        self.send(|b| b.extend(std::iter::repeat_n(0u8, 2 * n)))
            .await
    }

    pub async fn raw(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|e| e.to_string())
    }

    /// Answers one pipelined explicit transaction (BEGIN, RUN, PULL, COMMIT) with `rows` under `keys`.
    pub async fn serve_tx(&mut self, keys: &[&str], rows: Vec<Vec<Value>>) -> Result<(), String> {
        self.expect("BEGIN").await?;
        self.expect("RUN").await?;
        self.expect("PULL").await?;
        self.expect("COMMIT").await?;
        self.success(Map::new()).await?;
        let fields: Vec<Value> = keys.iter().map(|k| Value::from(*k)).collect();
        self.success(map! {"fields" => fields}).await?;
        for r in rows {
            self.record(r).await?;
        }
        self.success(map! {"type" => "w"}).await?;
        self.success(map! {"bookmark" => "bm:1"}).await
    }

    /// Reads until the client closes (answering nothing); GOODBYE is allowed.
    pub async fn drain(&mut self) -> Result<(), String> {
        while let Some(r) = self.recv().await? {
            if r.name() != "GOODBYE" {
                return Err(format!("unexpected {r:?} after the script ended"));
            }
        }
        Ok(())
    }

    /// Closes the socket now.
    pub async fn exit(mut self) -> Result<(), String> {
        let _ = self.stream.shutdown().await;
        Ok(())
    }
}

/// A routing table map for ROUTE's SUCCESS.
pub fn routing_table(ttl: i64, routers: &[&str], readers: &[&str], writers: &[&str]) -> Map {
    let entry = |role: &str, a: &[&str]| {
        Value::Map(
            map! {"role" => role, "addresses" => a.iter().map(|s| Value::from(*s)).collect::<Vec<_>>()},
        )
    };
    map! {"rt" => map! {"ttl" => ttl, "db" => "neo4j", "servers" => vec![entry("ROUTE", routers), entry("READ", readers), entry("WRITE", writers)]}}
}

pub fn test_data(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(test_data("server.pem"))
            .expect("server.pem")
            .collect::<Result<_, _>>()
            .expect("certificate");
    let key = PrivateKeyDer::from_pem_file(test_data("server.key")).expect("server.key");
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("server config");
    tokio_rustls::TlsAcceptor::from(Arc::new(cfg))
}
