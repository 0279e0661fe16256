//! A loopback HTTP/1.1 test server with fault injection.
//!
//! Every connection is served by its own thread and closed after one response
//! (`Connection: close`, no keep-alive), so each request maps to exactly one
//! entry of a route's fault list. Every request is recorded (and counted per
//! path) *before* its response is written, so a test that inspects
//! [`TestServer::hits`] or [`TestServer::requests`] after the client has
//! finished always sees it.
//!
//! Range handling: normal responses honour `Range: bytes=N-`, `bytes=N-M` and
//! `bytes=-N` (206 / 416), and `If-Range` (a value that differs from the ETag
//! being served makes the server ignore `Range` and answer 200). Byte offsets
//! in [`Fault::Truncate`], [`Fault::Corrupt`] and [`Fault::Stall`] are relative
//! to the start of the slice actually being sent (the 206 slice, or the whole
//! body for a 200).
//!
//! Only std is used, so this module can be included by any test binary.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Largest request head (request line plus headers) that is accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Body bytes written per `write_all` call.
const CHUNK: usize = 64 * 1024;
/// Longest single sleep while stalling or throttling, between shutdown checks.
const POLL: Duration = Duration::from_millis(50);

/// A fault to inject into one response.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Serve normally.
    None,
    /// Respond with this status and a short text body, plus these extra
    /// headers (e.g. 429 with `("Retry-After", "1")`, 503, 404, 401).
    Status(u16, Vec<(String, String)>),
    /// Send headers with the full Content-Length, then only the first `at`
    /// body bytes, then close the connection.
    Truncate { at: usize },
    /// Serve the body with the byte at `at` flipped (XOR 0xFF); same length.
    /// Nothing is flipped if `at` is past the end of the slice being sent.
    Corrupt { at: usize },
    /// Serve these bytes instead of the route's body (with their own correct
    /// Content-Length). `Range` applies to these bytes.
    Replace(Vec<u8>),
    /// Append `n` extra bytes (0x00) after the body; Content-Length counts
    /// them. Always a 200 with the full body (`Range` is ignored).
    ExtraBytes(usize),
    /// Send no Content-Length; the body is delimited by closing the
    /// connection. Always a 200 with the full body (`Range` is ignored).
    NoContentLength,
    /// Send this Content-Length header value, but write the real body (then
    /// close). Always a 200 with the full body (`Range` is ignored).
    LieContentLength(u64),
    /// Send headers and the first `after` bytes, then sleep `secs` seconds
    /// (ending early when the server is dropped), then close without sending
    /// more.
    Stall { after: usize, secs: u64 },
    /// 302 with Location = this absolute URL.
    Redirect(String),
    /// Answer 200 with the full body even when a Range header was sent (and
    /// send no `Accept-Ranges` header).
    IgnoreRange,
    /// Serve normally, with this ETag header (written verbatim, so include
    /// the quotes, e.g. `"\"v1\""`). `If-Range` is compared against it
    /// exactly.
    ETag(String),
    /// Apply the inner fault, and send this ETag (verbatim) with the response; `If-Range` is
    /// checked against it.
    Tagged(String, Box<Fault>),
    /// Serve the body at about this many bytes per second (0 is treated as
    /// 1). Ends early when the client disconnects or the server is dropped.
    Throttle { bytes_per_sec: u64 },
}

/// One request as received by the server.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// The request method, e.g. `GET` or `HEAD`.
    pub method: String,
    /// The request path without query string, e.g. `/models/a.bin`
    /// (not percent-decoded).
    pub path: String,
    /// Headers in arrival order; names are lowercased, values trimmed.
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    /// The first header named `name` (case-insensitive), if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A route: its body and the faults to apply to its requests.
struct Route {
    body: Arc<[u8]>,
    /// `faults[i]` applies to the i-th request since the route was set.
    faults: Vec<Fault>,
    /// When set, applies to every request (and `faults` is unused).
    always: Option<Fault>,
    /// Requests served by this route since it was set.
    served: usize,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    hits: HashMap<String, usize>,
    requests: Vec<RecordedRequest>,
}

/// State shared between the test, the accept loop and connection threads.
struct Shared {
    state: Mutex<State>,
    shutdown: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test must not turn every later call into a panic too.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stopping(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Records `req`, counts the hit, and picks the route's body and fault.
    fn record(&self, req: &RecordedRequest) -> Option<(Arc<[u8]>, Fault)> {
        let mut st = self.lock();
        st.requests.push(req.clone());
        *st.hits.entry(req.path.clone()).or_insert(0) += 1;
        let route = st.routes.get_mut(&req.path)?;
        let i = route.served;
        route.served += 1;
        let fault = match &route.always {
            Some(f) => f.clone(),
            None => route.faults.get(i).cloned().unwrap_or(Fault::None),
        };
        Some((Arc::clone(&route.body), fault))
    }
}

/// A loopback HTTP/1.1 server that stops when dropped.
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Binds 127.0.0.1:0.
    pub fn start() -> TestServer {
        TestServer::start_on("127.0.0.1")
    }

    /// Binds `ip`:0, e.g. "127.0.0.2" (any 127.0.0.0/8 address works on Linux).
    pub fn start_on(ip: &str) -> TestServer {
        let listener = TcpListener::bind((ip, 0))
            .unwrap_or_else(|e| panic!("test server: cannot bind {ip}:0: {e}"));
        let addr = listener.local_addr().expect("test server: local_addr");
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            shutdown: AtomicBool::new(false),
        });
        let accept = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name(format!("test-server-{addr}"))
                .spawn(move || accept_loop(listener, shared))
                .expect("test server: spawn accept thread")
        };
        TestServer {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// "http://IP:PORT/<path without leading slash>"
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// Serve `body` at `path` normally (every request).
    pub fn route(&self, path: &str, body: Vec<u8>) {
        self.set_route(path, body, Vec::new(), None);
    }

    /// Serve `body` at `path`; the i-th request to this path (0-based, any
    /// method, counted from this call) applies `faults[i]`; requests beyond
    /// the list are served normally.
    pub fn route_with(&self, path: &str, body: Vec<u8>, faults: Vec<Fault>) {
        self.set_route(path, body, faults, None);
    }

    /// Like [`TestServer::route_with`], but the fault applies to every request.
    pub fn route_always(&self, path: &str, body: Vec<u8>, fault: Fault) {
        self.set_route(path, body, Vec::new(), Some(fault));
    }

    /// Number of requests received for `path` (any method, any response,
    /// including 404s). The query string is not part of the path.
    pub fn hits(&self, path: &str) -> usize {
        self.shared
            .lock()
            .hits
            .get(&route_key(path))
            .copied()
            .unwrap_or(0)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    fn set_route(&self, path: &str, body: Vec<u8>, faults: Vec<Fault>, always: Option<Fault>) {
        let route = Route {
            body: Arc::from(body),
            faults,
            always,
            served: 0,
        };
        self.shared.lock().routes.insert(route_key(path), route);
    }
}

impl Drop for TestServer {
    /// Stops accepting connections and joins the accept thread. Connection
    /// threads are detached; stalls and throttles notice the shutdown flag
    /// within ~50 ms.
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the blocking `accept` so it sees the flag. If that connection
        // cannot be made, leave the thread detached rather than risk a hang.
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(handle) = self.accept.take()
            && woke
        {
            let _ = handle.join();
        }
    }
}

/// "foo/bar" and "/foo/bar" both name the route "/foo/bar".
fn route_key(path: &str) -> String {
    format!("/{}", path.trim_start_matches('/'))
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stopping() {
            break;
        }
        match conn {
            Ok(stream) => {
                let shared = Arc::clone(&shared);
                // If the thread cannot be spawned the connection is dropped.
                let _ = thread::Builder::new()
                    .name("test-server-conn".into())
                    .spawn(move || handle_connection(stream, &shared));
            }
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Serves one request on `stream`, then closes it. Never panics on I/O errors.
fn handle_connection(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let Some(head) = read_head(&mut stream) else {
        return;
    };
    let _ = match parse_head(&head) {
        Some(req) => {
            let route = shared.record(&req);
            respond(&mut stream, &req, route, shared)
        }
        None => write_simple(&mut stream, 400, &[], false),
    };
    close(stream);
}

/// Reads up to the end of the request head; `None` on EOF, error or if the
/// head exceeds [`MAX_HEAD`]. Any request body is ignored.
fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        };
        // Re-scan only the part that can contain a new terminator.
        let from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = find(&buf[from..], b"\r\n\r\n") {
            buf.truncate(from + pos);
            return Some(buf);
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(head: &[u8]) -> Option<RecordedRequest> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.split_whitespace();
    let method = parts.next()?.to_string();
    let mut target = parts.next()?;
    // Absolute form ("http://host/path"), as sent to proxies.
    if let Some(rest) = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    {
        target = rest.find('/').map_or("/", |i| &rest[i..]);
    }
    let path = target.split(['?', '#']).next().unwrap_or("/").to_string();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(RecordedRequest {
        method,
        path,
        headers,
    })
}

/// Half-closes the connection, then briefly drains what the client still
/// sends, so the close is a FIN rather than a reset that could destroy the
/// response in the client's receive buffer.
fn close(mut stream: TcpStream) {
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 4096];
    let mut drained = 0usize;
    while let Ok(n) = stream.read(&mut buf) {
        drained += n;
        if n == 0 || drained > 1 << 20 {
            break;
        }
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Writes the status line, `headers`, `Connection: close` and the blank line.
fn write_head(s: &mut TcpStream, code: u16, headers: &[(String, String)]) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {code} {}\r\n", reason(code));
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    s.write_all(head.as_bytes())
}

/// A response with a short `text/plain` body (omitted for HEAD).
fn write_simple(
    s: &mut TcpStream,
    code: u16,
    extra: &[(String, String)],
    head_only: bool,
) -> io::Result<()> {
    let body = format!("{code} {}\n", reason(code));
    let mut headers = vec![
        ("Content-Type".to_string(), "text/plain".to_string()),
        ("Content-Length".to_string(), body.len().to_string()),
    ];
    headers.extend(extra.iter().cloned());
    write_head(s, code, &headers)?;
    if !head_only {
        s.write_all(body.as_bytes())?;
    }
    Ok(())
}

fn respond(
    s: &mut TcpStream,
    req: &RecordedRequest,
    route: Option<(Arc<[u8]>, Fault)>,
    shared: &Shared,
) -> io::Result<()> {
    let head_only = req.method == "HEAD";
    let Some((body, fault)) = route else {
        return write_simple(s, 404, &[], head_only);
    };
    if req.method != "GET" && !head_only {
        let allow = [("Allow".to_string(), "GET, HEAD".to_string())];
        return write_simple(s, 405, &allow, head_only);
    }
    let (tag, fault) = match fault {
        Fault::Tagged(tag, inner) => (Some(tag), *inner),
        other => (None, other),
    };
    let (body, fault) = match fault {
        Fault::Status(code, extra) => return write_simple(s, code, &extra, head_only),
        Fault::Redirect(url) => {
            return write_simple(s, 302, &[("Location".to_string(), url)], head_only);
        }
        Fault::Replace(bytes) => (Arc::from(bytes), Fault::None),
        other => (body, other),
    };

    let etag = match &fault {
        Fault::ETag(tag) => Some(tag.as_str()),
        _ => tag.as_deref(),
    };
    let honours_range = matches!(
        fault,
        Fault::None
            | Fault::ETag(_)
            | Fault::Truncate { .. }
            | Fault::Corrupt { .. }
            | Fault::Stall { .. }
            | Fault::Throttle { .. }
    );
    let if_range_ok = req.header("if-range").is_none_or(|v| Some(v) == etag);
    let range = req
        .header("range")
        .filter(|_| honours_range && if_range_ok)
        .and_then(|r| parse_range(r, body.len()));

    let total = body.len();
    let mut headers = vec![(
        "Content-Type".to_string(),
        "application/octet-stream".to_string(),
    )];
    if !matches!(fault, Fault::IgnoreRange) {
        headers.push(("Accept-Ranges".to_string(), "bytes".to_string()));
    }
    if let Some(tag) = etag {
        headers.push(("ETag".to_string(), tag.to_string()));
    }
    let (code, data) = match range {
        None => (200, &body[..]),
        Some(Err(())) => {
            headers.push(("Content-Range".to_string(), format!("bytes */{total}")));
            headers.push(("Content-Length".to_string(), "0".to_string()));
            return write_head(s, 416, &headers);
        }
        Some(Ok((start, end))) => {
            let value = format!("bytes {start}-{}/{total}", end - 1);
            headers.push(("Content-Range".to_string(), value));
            (206, &body[start..end])
        }
    };
    let len = data.len();
    let content_length = match fault {
        Fault::NoContentLength => None,
        Fault::LieContentLength(n) => Some(n),
        Fault::ExtraBytes(n) => Some((len + n) as u64),
        _ => Some(len as u64),
    };
    if let Some(n) = content_length {
        headers.push(("Content-Length".to_string(), n.to_string()));
    }
    write_head(s, code, &headers)?;
    if head_only {
        return Ok(());
    }

    match fault {
        Fault::Truncate { at } => write_body(s, &data[..at.min(len)], None, shared),
        Fault::Corrupt { at } => write_body(s, data, Some(at), shared),
        Fault::ExtraBytes(n) => {
            write_body(s, data, None, shared)?;
            let zeros = vec![0u8; n.min(CHUNK)];
            let mut left = n;
            while left > 0 {
                let k = left.min(CHUNK);
                s.write_all(&zeros[..k])?;
                left -= k;
            }
            Ok(())
        }
        Fault::Stall { after, secs } => {
            write_body(s, &data[..after.min(len)], None, shared)?;
            s.flush()?;
            sleep_unless_stopping(Duration::from_secs(secs), shared);
            Ok(())
        }
        Fault::Throttle { bytes_per_sec } => write_throttled(s, data, bytes_per_sec, shared),
        _ => write_body(s, data, None, shared),
    }
}

/// Parses a single byte range against a body of `total` bytes.
/// `None`: no usable range (ignore the header, answer 200).
/// `Some(Err(()))`: unsatisfiable (416). `Some(Ok((start, end)))`: `start..end`.
fn parse_range(value: &str, total: usize) -> Option<Result<(usize, usize), ()>> {
    let spec = value.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // Suffix range: the last `n` bytes.
        let n: usize = last.parse().ok()?;
        if n == 0 || total == 0 {
            return Some(Err(()));
        }
        return Some(Ok((total - n.min(total), total)));
    }
    let start: usize = first.parse().ok()?;
    let end = if last.is_empty() {
        total
    } else {
        let last: usize = last.parse().ok()?;
        if last < start {
            return None;
        }
        last.saturating_add(1).min(total)
    };
    if start >= total {
        return Some(Err(()));
    }
    Some(Ok((start, end)))
}

fn stopped() -> io::Error {
    io::Error::other("test server shutting down")
}

/// Writes `data` in [`CHUNK`]-sized pieces, flipping the byte at `flip`.
fn write_body(
    s: &mut TcpStream,
    data: &[u8],
    flip: Option<usize>,
    shared: &Shared,
) -> io::Result<()> {
    for (i, chunk) in data.chunks(CHUNK).enumerate() {
        if shared.stopping() {
            return Err(stopped());
        }
        let offset = i * CHUNK;
        match flip {
            Some(at) if (offset..offset + chunk.len()).contains(&at) => {
                let mut copy = chunk.to_vec();
                copy[at - offset] ^= 0xFF;
                s.write_all(&copy)?;
            }
            _ => s.write_all(chunk)?,
        }
    }
    Ok(())
}

/// Writes `data` at about `bytes_per_sec`.
fn write_throttled(
    s: &mut TcpStream,
    data: &[u8],
    bytes_per_sec: u64,
    shared: &Shared,
) -> io::Result<()> {
    let rate = bytes_per_sec.max(1);
    let piece = usize::try_from(rate / 20).unwrap_or(CHUNK).clamp(1, CHUNK);
    let started = Instant::now();
    let mut sent = 0u64;
    for chunk in data.chunks(piece) {
        s.write_all(chunk)?;
        s.flush()?;
        sent += chunk.len() as u64;
        let due = Duration::from_secs_f64(sent as f64 / rate as f64);
        sleep_unless_stopping(due.saturating_sub(started.elapsed()), shared);
        if shared.stopping() {
            return Err(stopped());
        }
    }
    Ok(())
}

/// Sleeps for `total`, waking every [`POLL`] to return early on shutdown.
fn sleep_unless_stopping(total: Duration, shared: &Shared) {
    let deadline = Instant::now() + total;
    while !shared.stopping() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        thread::sleep(left.min(POLL));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends a raw request and returns (response head, body read until close).
    fn send(server: &TestServer, request_line: &str, extra_headers: &str) -> (String, Vec<u8>) {
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let req = format!(
            "{request_line} HTTP/1.1\r\nHost: {}\r\n{extra_headers}\r\n",
            server.addr()
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let pos = find(&raw, b"\r\n\r\n").expect("complete response head");
        let head = String::from_utf8(raw[..pos].to_vec()).unwrap();
        (head, raw[pos + 4..].to_vec())
    }

    fn status(head: &str) -> u16 {
        head.split(' ').nth(1).unwrap().parse().unwrap()
    }

    fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
        head.lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    fn body(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn serves_body_with_content_length() {
        let server = TestServer::start();
        server.route("a.bin", b"hello world".to_vec());
        let (head, got) = send(&server, "GET /a.bin", "");
        assert_eq!(status(&head), 200);
        assert_eq!(header(&head, "content-length"), Some("11"));
        assert_eq!(header(&head, "connection"), Some("close"));
        assert_eq!(got, b"hello world");

        let (head, got) = send(&server, "HEAD /a.bin", "");
        assert_eq!(status(&head), 200);
        assert_eq!(header(&head, "content-length"), Some("11"));
        assert!(got.is_empty());

        let (head, _) = send(&server, "GET /missing", "");
        assert_eq!(status(&head), 404);
    }

    #[test]
    fn large_body_is_served_whole() {
        let server = TestServer::start();
        let data = body(3 * CHUNK + 17);
        server.route("big", data.clone());
        let (head, got) = send(&server, "GET /big", "");
        assert_eq!(status(&head), 200);
        assert_eq!(got, data);
    }

    #[test]
    fn range_gives_206_slice() {
        let server = TestServer::start();
        let data = body(100);
        server.route("r", data.clone());

        let (head, got) = send(&server, "GET /r", "Range: bytes=10-19\r\n");
        assert_eq!(status(&head), 206);
        assert_eq!(header(&head, "content-range"), Some("bytes 10-19/100"));
        assert_eq!(header(&head, "content-length"), Some("10"));
        assert_eq!(got, &data[10..20]);

        let (head, got) = send(&server, "GET /r", "Range: bytes=90-\r\n");
        assert_eq!(status(&head), 206);
        assert_eq!(header(&head, "content-range"), Some("bytes 90-99/100"));
        assert_eq!(got, &data[90..]);

        let (head, got) = send(&server, "GET /r", "Range: bytes=100-\r\n");
        assert_eq!(status(&head), 416);
        assert_eq!(header(&head, "content-range"), Some("bytes */100"));
        assert!(got.is_empty());

        // If-Range that does not match the (absent) ETag: full 200.
        let (head, got) = send(&server, "GET /r", "Range: bytes=10-\r\nIf-Range: \"x\"\r\n");
        assert_eq!(status(&head), 200);
        assert_eq!(got, data);
    }

    #[test]
    fn truncate_closes_early() {
        let server = TestServer::start();
        let data = body(1000);
        server.route_with("t", data.clone(), vec![Fault::Truncate { at: 100 }]);
        let (head, got) = send(&server, "GET /t", "");
        assert_eq!(status(&head), 200);
        assert_eq!(header(&head, "content-length"), Some("1000"));
        assert_eq!(got, &data[..100]);
        // Faults beyond the list: served normally.
        let (_, got) = send(&server, "GET /t", "");
        assert_eq!(got, data);
    }

    #[test]
    fn status_fault_sends_extra_headers() {
        let server = TestServer::start();
        let retry = vec![("Retry-After".to_string(), "1".to_string())];
        server.route_always("s", body(10), Fault::Status(429, retry));
        for _ in 0..2 {
            let (head, _) = send(&server, "GET /s", "");
            assert_eq!(status(&head), 429);
            assert_eq!(header(&head, "retry-after"), Some("1"));
        }
        assert_eq!(server.hits("/s"), 2);
    }

    #[test]
    fn records_hits_and_headers() {
        let server = TestServer::start();
        server.route("h", body(5));
        send(&server, "GET /h?x=1", "X-Custom: Hello There\r\n");
        send(&server, "HEAD /h", "");
        assert_eq!(server.hits("h"), 2);
        assert_eq!(server.hits("/h"), 2);
        assert_eq!(server.hits("/other"), 0);
        let reqs = server.requests();
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0].method, "GET");
        assert_eq!(reqs[0].path, "/h");
        assert_eq!(reqs[0].header("x-custom"), Some("Hello There"));
        assert_eq!(reqs[0].header("X-CUSTOM"), Some("Hello There"));
        assert!(reqs[0].headers.iter().any(|(n, _)| n == "x-custom"));
        assert_eq!(reqs[1].method, "HEAD");
        assert_eq!(reqs[1].header("x-custom"), None);
    }

    #[test]
    fn redirect_gives_302_and_location() {
        let server = TestServer::start();
        let target = server.url("/elsewhere");
        server.route_with("from", body(5), vec![Fault::Redirect(target.clone())]);
        let (head, _) = send(&server, "GET /from", "");
        assert_eq!(status(&head), 302);
        assert_eq!(header(&head, "location"), Some(target.as_str()));
        assert!(target.starts_with("http://127.0.0.1:"));
        assert!(target.ends_with("/elsewhere"));
    }

    #[test]
    fn drop_does_not_wait_for_stalled_connection() {
        let server = TestServer::start();
        server.route_always(
            "stall",
            body(100),
            Fault::Stall {
                after: 10,
                secs: 60,
            },
        );
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"GET /stall HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut first = [0u8; 1];
        s.read_exact(&mut first).unwrap();
        let started = Instant::now();
        drop(server);
        // The stalled connection thread notices the flag and closes.
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap();
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn starts_on_other_loopback_address() {
        let server = TestServer::start_on("127.0.0.2");
        assert_eq!(server.addr().ip().to_string(), "127.0.0.2");
        server.route("x", b"ok".to_vec());
        let (head, got) = send(&server, "GET /x", "");
        assert_eq!(status(&head), 200);
        assert_eq!(got, b"ok");
        assert!(server.url("x").starts_with("http://127.0.0.2:"));
    }
}
