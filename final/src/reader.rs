//! Turning bytes, in whatever pieces they arrive, into requests.
//!
//! [`RequestReader`] holds the bytes read so far and where it is in the
//! current request. The connection appends what each `read` returns and
//! asks [`RequestReader::poll`] whether a whole request is there yet.
//! "Not yet" is an answer, [`Progress::NeedHead`] or
//! [`Progress::NeedBody`], not an error: the connection reads more and
//! asks again.
//!
//! It knows nothing of sockets, timeouts or threads. That is what makes it
//! testable on its own: `tests/tests/parser_properties.rs` feeds it the
//! same request cut into every kind of piece and checks that the result
//! never depends on where the cuts fall. The alternative, a parser that
//! reads from the socket itself (as days 2 to 4 do), can only be tested
//! through a socket, with real pauses between the pieces.

// ANCHOR: decoder_use
use crate::chunked::ChunkedDecoder;
// ANCHOR_END: decoder_use
// ANCHOR: reader_use
use crate::http::request::{self, Framing, Head, Request, RequestError, Target, Version};
// ANCHOR_END: reader_use

// ANCHOR: progress
/// How far a request has got.
#[derive(Debug)]
pub enum Progress {
    /// The head is not complete: read more.
    NeedHead,
    /// The head is in, the body is not: read more. With `send_continue`,
    /// the client asked for `Expect: 100-continue` and is waiting for it;
    /// it is `true` once per request.
    NeedBody { send_continue: bool },
    /// A whole request. Bytes after it stay for the next one.
    Done(Request),
}

/// A request whose head is parsed, and whose body is being read.
#[derive(Debug)]
struct Reading {
    head: Head,
    /// Where the body starts in the buffer.
    start: usize,
    body: BodyState,
    /// Whether we still owe the client a `100 Continue`.
    owe_continue: bool,
}

#[derive(Debug)]
enum BodyState {
    Length(usize),
    // ANCHOR: chunked_body
    /// The decoder, and how many bytes after `start` it has used.
    Chunked(ChunkedDecoder, usize),
    // ANCHOR_END: chunked_body
}
// ANCHOR_END: progress

// ANCHOR: reader
/// The bytes of one connection that no request has used yet, and the
/// request being read from them.
///
/// A client may send its next request before we answer the current one
/// (HTTP pipelining), and one `read` may return the end of one request and
/// the start of the next. So whatever follows a request stays in the
/// buffer for the next call to [`poll`](RequestReader::poll).
#[derive(Debug)]
pub struct RequestReader {
    buffer: Vec<u8>,
    /// The request being read, once its head is in.
    reading: Option<Reading>,
}
// ANCHOR_END: reader

// ANCHOR: reader_basics
impl Default for RequestReader {
    fn default() -> Self {
        RequestReader::new()
    }
}

impl RequestReader {
    /// A reader with nothing read yet.
    pub fn new() -> RequestReader {
        RequestReader {
            buffer: Vec::new(),
            reading: None,
        }
    }

    /// Appends bytes that just arrived.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Whether no byte of a next request has arrived yet. Empty lines
    /// do not count: some clients send a line end after a body, and a
    /// connection idle after one is idle, not halfway through a request.
    pub fn is_empty(&self) -> bool {
        self.reading.is_none() && request::leading_empty_lines(&self.buffer) == self.buffer.len()
    }
    // ANCHOR_END: reader_basics

    // ANCHOR: poll
    /// Reads as far as the bytes so far allow.
    ///
    /// After an error the reader is spent: nobody can tell where the next
    /// request would start, so the connection answers and closes.
    pub fn poll(&mut self) -> Result<Progress, RequestError> {
        if self.reading.is_none() {
            let Some(reading) = self.read_head()? else {
                return Ok(Progress::NeedHead);
            };
            self.reading = Some(reading);
        }
        let Some(reading) = self.reading.as_mut() else {
            return Ok(Progress::NeedHead);
        };
        let end = match &mut reading.body {
            // ANCHOR: chunked_poll
            BodyState::Chunked(decoder, used) => {
                *used += decoder.decode(&self.buffer[reading.start + *used..])?;
                decoder.is_done().then_some(reading.start + *used)
            }
            // ANCHOR_END: chunked_poll
            BodyState::Length(length) => {
                let end = reading.start + *length;
                (self.buffer.len() >= end).then_some(end)
            }
        };
        match (end, self.reading.take()) {
            (Some(end), Some(reading)) => Ok(Progress::Done(self.finish(reading, end))),
            (_, reading) => {
                self.reading = reading;
                let send_continue = self
                    .reading
                    .as_mut()
                    .is_some_and(|reading| std::mem::take(&mut reading.owe_continue));
                Ok(Progress::NeedBody { send_continue })
            }
        }
    }
    // ANCHOR_END: poll

    // ANCHOR: read_head
    /// Parses the head, once it is all there, and works out how its body
    /// is framed.
    fn read_head(&mut self) -> Result<Option<Reading>, RequestError> {
        let skip = request::leading_empty_lines(&self.buffer);
        self.buffer.drain(..skip);
        let Some((head_end, start)) = request::head_end(&self.buffer)? else {
            return Ok(None);
        };
        let head = Head::parse(&self.buffer[..head_end])?;
        let body = match request::body_framing(&head)? {
            Framing::Length(length) => BodyState::Length(length),
            /* STAND-IN: chunked_framing
            Framing::Chunked => return Err(RequestError::UnknownTransferCoding),
            */
            // ANCHOR: chunked_framing
            Framing::Chunked => BodyState::Chunked(ChunkedDecoder::new(), 0),
            // ANCHOR_END: chunked_framing
        };
        // `curl` sends bodies over 1 MiB (over 1 KiB before curl 7.69) with
        // `Expect: 100-continue`, and waits a second for a go-ahead before
        // sending them; so may any client with a chunked body. We owe it a
        // `100 Continue` if the body is not here yet (RFC 9110, section
        // 10.1.1). HTTP/1.0 had no 100 Continue, so the RFC says to ignore
        // the expectation there.
        let owe_continue = head.version == Version::Http11
            && head
                .headers
                .get("expect")
                .is_some_and(|value| value.eq_ignore_ascii_case("100-continue"));
        Ok(Some(Reading {
            head,
            start,
            body,
            owe_continue,
        }))
    }
    // ANCHOR_END: read_head

    // ANCHOR: finish
    /// Builds the request whose body ends at `end` in the buffer, and
    /// drops its bytes, keeping those that follow.
    fn finish(&mut self, reading: Reading, end: usize) -> Request {
        let Reading {
            head, start, body, ..
        } = reading;
        let body = match body {
            BodyState::Length(_) => self.buffer[start..end].to_vec(),
            // ANCHOR: chunked_finish
            BodyState::Chunked(decoder, _) => decoder.into_body(),
            // ANCHOR_END: chunked_finish
        };
        self.buffer.drain(..end);
        // The target was checked by `Head::parse`, so `form` cannot fail
        // here; an origin-form `/` is the harmless fallback all the same.
        let form = head.form().unwrap_or(Target::Origin("/".into()));
        let host_header = head.headers.get("host").cloned();
        let (target, host) = match form {
            Target::Origin(target) => (target, host_header),
            // ANCHOR: absolute_arm
            // The authority in the URL wins over `Host` (RFC 9112,
            // section 3.2.2).
            Target::Absolute { authority, path } => (path, Some(authority)),
            // ANCHOR_END: absolute_arm
            Target::Asterisk => ("*".to_string(), host_header),
        };
        let (path, query) = request::path_and_query(&target);
        Request {
            method: head.method,
            path,
            query,
            version: head.version,
            headers: head.headers,
            host,
            body,
        }
    }
    // ANCHOR_END: finish
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request's method, path and body.
    type Seen = (String, String, Vec<u8>);

    /// Feeds `pieces` one at a time and polls after each, as a connection
    /// does; returns each request's method, path and body, and the error
    /// if one came.
    fn read_all(pieces: &[&[u8]]) -> (Vec<Seen>, Option<RequestError>) {
        let mut reader = RequestReader::new();
        let mut done = Vec::new();
        for piece in pieces {
            reader.feed(piece);
            loop {
                match reader.poll() {
                    Ok(Progress::Done(request)) => {
                        done.push((request.method, request.path, request.body))
                    }
                    Ok(_) => break,
                    Err(err) => return (done, Some(err)),
                }
            }
        }
        (done, None)
    }

    #[test]
    fn pipelined_requests_come_out_one_by_one() {
        let (done, err) = read_all(&[
            b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhiGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
            b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nyo\r\n0\r\n\r\n",
        ]);
        assert_eq!(err, None);
        let paths: Vec<(&str, &[u8])> = done
            .iter()
            .map(|(_, path, body)| (path.as_str(), body.as_slice()))
            .collect();
        assert_eq!(paths, [("/a", &b"hi"[..]), ("/b", b""), ("/c", b"yo")]);
    }

    #[test]
    fn empty_lines_before_a_request_are_skipped() {
        let (done, err) = read_all(&[b"\r\n\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n"]);
        assert_eq!(err, None);
        assert_eq!(done.len(), 1);
        let mut reader = RequestReader::new();
        reader.feed(b"\r\n");
        assert!(reader.is_empty(), "a stray line end is no request yet");
        reader.feed(b"G");
        assert!(!reader.is_empty());
    }

    #[test]
    fn continue_is_owed_once_and_only_while_the_body_is_missing() {
        let mut reader = RequestReader::new();
        reader.feed(b"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert!(matches!(
            reader.poll(),
            Ok(Progress::NeedBody {
                send_continue: true
            })
        ));
        reader.feed(b"2\r\nok");
        assert!(matches!(
            reader.poll(),
            Ok(Progress::NeedBody {
                send_continue: false
            })
        ));
        reader.feed(b"\r\n0\r\n\r\n");
        assert!(matches!(reader.poll(), Ok(Progress::Done(_))));
    }

    #[test]
    fn absolute_form_routes_like_origin_form_and_names_the_host() {
        let mut reader = RequestReader::new();
        reader.feed(b"GET http://localhost:5000/todos?x=1 HTTP/1.1\r\nHost: other\r\n\r\n");
        let Ok(Progress::Done(request)) = reader.poll() else {
            panic!("a whole request");
        };
        assert_eq!(request.path, "/todos");
        assert_eq!(request.query["x"], "1");
        assert_eq!(request.host.as_deref(), Some("localhost:5000"));
    }
}
