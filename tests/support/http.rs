//! A plain HTTP/1.1 client for the probe, metrics and monitoring endpoints; no client crate.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

/// A plain HTTP/1.1 `GET` to `addr` (e.g. `127.0.0.1:9090`): the status code and the body, or
/// `None` when nothing answers. Enough for the probe and metrics endpoints; no client crate.
pub fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = &raw[split + 4..];
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Some((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Decodes a chunked HTTP/1.1 body.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&body[..line_end]).ok()?;
        let n = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if n == 0 {
            return Some(out);
        }
        let chunk = body.get(line_end + 2..line_end + 2 + n)?;
        out.extend_from_slice(chunk);
        body = body.get(line_end + 2 + n + 2..)?;
    }
}

/// Whether `GET path` on `addr` answers 200.
pub fn get_ok(addr: &str, path: &str) -> bool {
    get(addr, path).is_some_and(|(status, _)| status == 200)
}
