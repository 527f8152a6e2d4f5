//! Accepting connections: TCP_NODELAY on every socket, and the one error
//! shape on the few responses hyper writes by itself.
//!
//! Without TCP_NODELAY a streamed page meets Nagle's algorithm and the
//! peer's delayed ACK, and every request on a kept-alive connection after
//! the first waits ~40 ms.
//!
//! hyper answers a request it cannot parse (a URI over 64 KiB, oversized
//! headers, garbage) with a bare `414`/`431`/`400` and closes the
//! connection; no handler or layer ever sees the request. [`ShapedIo`]
//! recognises that head as it is written and writes the same status in
//! the one JSON error shape instead.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use app::error::error_json;
use axum::http::StatusCode;
use axum::serve::{Listener, ListenerExt};
use axum::Router;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

use crate::layers::parser_error_message;

/// A TCP listener whose connections are [`ShapedIo`] with TCP_NODELAY.
pub struct CorralListener(TcpListener);

impl Listener for CorralListener {
    type Io = ShapedIo<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.0).await;
        if let Err(error) = stream.set_nodelay(true) {
            tracing::warn!(%error, "could not set TCP_NODELAY");
        }
        (ShapedIo::new(stream), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// Serves the application on `listener` until `shutdown` completes.
/// Handlers see the peer address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    // `tap_io` adds nothing here; it is how axum hands `ConnectInfo` the
    // address of a listener other than its own TcpListener.
    let listener = CorralListener(listener).tap_io(|_| {});
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await
}

/// The heads hyper writes for requests it could not parse: no content
/// type, an empty body. A response from Corral's own code always has a
/// content type, so it never matches.
fn parser_error_status(head: &[u8]) -> Option<StatusCode> {
    let status = [
        (&b"HTTP/1.1 400 Bad Request\r\n"[..], StatusCode::BAD_REQUEST),
        (b"HTTP/1.1 414 URI Too Long\r\n", StatusCode::URI_TOO_LONG),
        (b"HTTP/1.1 431 Request Header Fields Too Large\r\n", StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
    ]
    .into_iter()
    .find(|(line, _)| head.starts_with(line))?
    .1;
    let head = std::str::from_utf8(head).ok()?.to_ascii_lowercase();
    (head.contains("\r\ncontent-length: 0\r\n") && !head.contains("\r\ncontent-type:") && head.ends_with("\r\n\r\n")).then_some(status)
}

fn shaped_response(status: StatusCode) -> Vec<u8> {
    let request_id = Uuid::now_v7().to_string();
    let body = error_json(app::error::code_for_status(status), parser_error_message(status), None, Some(&request_id));
    let mut response = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nx-request-id: {request_id}\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(&body);
    response
}

/// A connection whose parser-error responses are rewritten (see the module
/// documentation). Everything else passes through untouched.
pub struct ShapedIo<T> {
    inner: T,
    /// A replacement being written, how much of it is written, and how many
    /// of hyper's bytes it stands for.
    replacing: Option<(Vec<u8>, usize, usize)>,
}

impl<T> ShapedIo<T> {
    pub fn new(inner: T) -> ShapedIo<T> {
        ShapedIo { inner, replacing: None }
    }
}

impl<T: AsyncWrite + Unpin> ShapedIo<T> {
    /// Writes the pending replacement; ready with the length of hyper's
    /// head once all of it is out.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let Some((bytes, written, stands_for)) = &mut self.replacing else {
            return Poll::Ready(Ok(0));
        };
        while *written < bytes.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let stands_for = *stands_for;
        self.replacing = None;
        Poll::Ready(Ok(stands_for))
    }

    fn start_replacing(&mut self, head: &[u8]) -> bool {
        if self.replacing.is_some() {
            return true;
        }
        match parser_error_status(head) {
            Some(status) => {
                self.replacing = Some((shaped_response(status), 0, head.len()));
                true
            }
            None => false,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ShapedIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ShapedIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.start_replacing(buf) {
            return this.poll_replacement(cx);
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let first = bufs.iter().find(|b| !b.is_empty()).map(|b| &b[..]).unwrap_or(&[]);
        if this.start_replacing(first) {
            return this.poll_replacement(cx);
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_parser_heads_are_rewritten() {
        let hyper_head = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Tue, 24 Nov 2026 06:00:00 GMT\r\n\r\n";
        assert_eq!(parser_error_status(hyper_head), Some(StatusCode::URI_TOO_LONG));
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(parser_error_status(ours), None);
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n";
        assert_eq!(parser_error_status(with_body), None);
        assert_eq!(parser_error_status(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"), None);
        let shaped = String::from_utf8(shaped_response(StatusCode::URI_TOO_LONG)).unwrap();
        let (head, body) = shaped.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"]["code"], "uri_too_long");
        assert!(body["error"]["request_id"].is_string());
    }
}
