//! Decoding a chunked request body (RFC 9112, section 7.1).
//!
//! A client that does not know how long its body will be (a browser's
//! streaming `fetch`, `curl -T -` reading a pipe) cannot send a
//! `Content-Length`. It sends the body in chunks instead, each one
//! prefixed with its size in hexadecimal, and ends with a chunk of size 0:
//!
//! ```text
//! 4\r\n          size 4
//! milk\r\n       4 bytes of data
//! 0\r\n          the last chunk
//! \r\n           no trailers; the body is over
//! ```
//!
//! The decoder is fed the bytes after the head, as they arrive, and keeps
//! its place between calls: "need more bytes" is a normal answer, not an
//! error. It never holds more than [`MAX_BODY_SIZE`] decoded bytes, and
//! refuses a chunk that would pass the limit as soon as its size line is
//! read, before any of its data arrives.

use crate::request::{MAX_BODY_SIZE, MAX_HEAD_SIZE, RequestError, is_token};

/// The longest chunk-size line we read: the size, and extensions we skip.
/// Real clients send a few bytes; a limit keeps an endless line from
/// filling memory.
pub const MAX_CHUNK_LINE: usize = 4 * 1024;

/// Where the decoder is in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data, with this many bytes still to come.
    Data(usize),
    /// After a chunk's data, expecting the line end that closes it.
    DataEnd,
    /// After the last chunk, reading trailer lines until an empty one.
    Trailers,
    /// The body is complete.
    Done,
}

// ANCHOR: decoder
/// A chunked body being decoded.
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: State,
    body: Vec<u8>,
    /// Bytes of trailer lines seen so far: they are discarded, but count
    /// against the same limit as the head.
    trailer_bytes: usize,
}
// ANCHOR_END: decoder

impl Default for ChunkedDecoder {
    fn default() -> Self {
        ChunkedDecoder::new()
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a body.
    pub fn new() -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size,
            body: Vec::new(),
            trailer_bytes: 0,
        }
    }

    /// Whether the last chunk and the trailers have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The decoded body so far; all of it once [`is_done`](Self::is_done).
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// Decodes as much of `input` as it can, and returns how many bytes of
    /// it were used. The caller drops those, and calls again with them gone
    /// and more appended. A line cut in two is left unused until its end
    /// arrives, so the bytes may be split anywhere.
    pub fn decode(&mut self, input: &[u8]) -> Result<usize, RequestError> {
        let mut used = 0;
        loop {
            let rest = &input[used..];
            match self.state {
                State::Done => return Ok(used),
                // ANCHOR: decode_size
                State::Size => {
                    let Some(line) = line(rest, MAX_CHUNK_LINE)? else {
                        return Ok(used);
                    };
                    used += line.len();
                    let size = chunk_size(line)?;
                    if size > MAX_BODY_SIZE - self.body.len() {
                        return Err(RequestError::BodyTooLarge);
                    }
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::Data(size)
                    };
                }
                // ANCHOR_END: decode_size
                State::Data(left) => {
                    let take = left.min(rest.len());
                    self.body.extend_from_slice(&rest[..take]);
                    used += take;
                    if take < left {
                        self.state = State::Data(left - take);
                        return Ok(used);
                    }
                    self.state = State::DataEnd;
                }
                State::DataEnd => match rest {
                    [b'\r', b'\n', ..] => {
                        used += 2;
                        self.state = State::Size;
                    }
                    [b'\n', ..] => {
                        used += 1;
                        self.state = State::Size;
                    }
                    [] | [b'\r'] => return Ok(used),
                    _ => {
                        return Err(RequestError::Malformed(
                            "a chunk holds more data than its size says",
                        ));
                    }
                },
                State::Trailers => {
                    let left = MAX_HEAD_SIZE.saturating_sub(self.trailer_bytes);
                    let Some(line) = line(rest, left).map_err(|_| RequestError::HeadTooLarge)?
                    else {
                        return Ok(used);
                    };
                    used += line.len();
                    self.trailer_bytes += line.len();
                    let text = strip_line_end(line);
                    if text.is_empty() {
                        self.state = State::Done;
                    } else {
                        check_trailer(text)?;
                    }
                }
            }
        }
    }
}

/// The first line of `bytes`, its `\n` included, once it is all there;
/// an error if no line end comes within `limit` bytes.
fn line(bytes: &[u8], limit: usize) -> Result<Option<&[u8]>, RequestError> {
    match bytes.iter().position(|&b| b == b'\n') {
        Some(end) if end < limit => Ok(Some(&bytes[..=end])),
        Some(_) => Err(RequestError::Malformed("a chunk-size line is too long")),
        None if bytes.len() >= limit => {
            Err(RequestError::Malformed("a chunk-size line is too long"))
        }
        None => Ok(None),
    }
}

/// A line without its `\n` and, if there is one, the `\r` before it.
fn strip_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

// ANCHOR: chunk_size
/// The size on a chunk-size line: hex digits, then optional extensions
/// (`;name=value`), which we skip; no server is obliged to understand any.
///
/// The size is refused as too large as soon as it passes
/// [`MAX_BODY_SIZE`], digit by digit, so even a line of a hundred `f`s
/// cannot overflow the arithmetic: it is a 413 after six of them.
fn chunk_size(line: &[u8]) -> Result<usize, RequestError> {
    let line = strip_line_end(line);
    if line.iter().any(|&b| b.is_ascii_control() && b != b'\t') {
        return Err(RequestError::Malformed(
            "a chunk-size line holds a control character",
        ));
    }
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(RequestError::Malformed(
            "a chunk must start with its size, in hexadecimal",
        ));
    }
    let mut size: usize = 0;
    for &digit in &line[..digits] {
        let value = (digit as char).to_digit(16).unwrap_or_default() as usize;
        size = size * 16 + value;
        if size > MAX_BODY_SIZE {
            return Err(RequestError::BodyTooLarge);
        }
    }
    // After the digits: nothing, or an extension, which starts with `;`
    // (spaces and tabs may come before it).
    let extension = line[digits..].trim_ascii_start();
    if line.len() > digits && !extension.starts_with(b";") {
        return Err(RequestError::Malformed(
            "a chunk size must be followed by the end of the line or a ;",
        ));
    }
    Ok(size)
}
// ANCHOR_END: chunk_size

/// A trailer line must look like a header, `Name: value`; then we drop it.
/// Trailers could carry a checksum, say, but nothing in this API uses one,
/// and merging them into the headers after the handler has been chosen is
/// how some servers let a trailer override a header that was checked.
fn check_trailer(line: &[u8]) -> Result<(), RequestError> {
    let malformed = RequestError::Malformed("a trailer line is not a header");
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(malformed.clone())?;
    let name = std::str::from_utf8(&line[..colon]).map_err(|_| malformed.clone())?;
    let value = &line[colon + 1..];
    if !is_token(name) || value.iter().any(|&b| b.is_ascii_control() && b != b'\t') {
        return Err(malformed);
    }
    Ok(())
}

/// Encodes `body` in chunks of the given sizes (the last one repeated as
/// needed), then the last chunk: the inverse of [`ChunkedDecoder`], for
/// tests.
pub fn encode(body: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    let mut sizes = sizes.iter().copied().filter(|&size| size > 0);
    let mut size = sizes.next().unwrap_or(body.len().max(1));
    while !rest.is_empty() {
        let take = size.min(rest.len());
        out.extend_from_slice(format!("{take:x}\r\n").as_bytes());
        out.extend_from_slice(&rest[..take]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[take..];
        size = sizes.next().unwrap_or(size);
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in one go; returns the body and how many bytes were
    /// left over, or the error.
    fn decode_all(input: &[u8]) -> Result<Option<(Vec<u8>, usize)>, RequestError> {
        let mut decoder = ChunkedDecoder::new();
        let used = decoder.decode(input)?;
        Ok(decoder
            .is_done()
            .then(|| (decoder.into_body(), input.len() - used)))
    }

    #[test]
    fn decoding_table() {
        type Row = (
            &'static [u8],
            Result<Option<(&'static [u8], usize)>, RequestError>,
        );
        let rows: &[Row] = &[
            // The plain case, and what a learner should notice in each row.
            (b"4\r\nmilk\r\n0\r\n\r\n", Ok(Some((b"milk", 0)))),
            // Sizes are hex, in either case: 0xA is ten bytes.
            (
                b"A\r\n0123456789\r\n0\r\n\r\n",
                Ok(Some((b"0123456789", 0))),
            ),
            (
                b"a\r\n0123456789\r\n0\r\n\r\n",
                Ok(Some((b"0123456789", 0))),
            ),
            // Extensions are skipped, with or without a value.
            (
                b"4;name=value\r\nmilk\r\n0;last\r\n\r\n",
                Ok(Some((b"milk", 0))),
            ),
            (b"4 ; x\r\nmilk\r\n0\r\n\r\n", Ok(Some((b"milk", 0)))),
            // Trailers are read and dropped.
            (
                b"4\r\nmilk\r\n0\r\nChecksum: abc\r\nX-More: 1\r\n\r\n",
                Ok(Some((b"milk", 0))),
            ),
            // Bare \n line ends, as in the head.
            (b"4\nmilk\n0\n\n", Ok(Some((b"milk", 0)))),
            // What follows the body is the next request's: left unused.
            (
                b"4\r\nmilk\r\n0\r\n\r\nGET / HTTP/1.1\r\n",
                Ok(Some((b"milk", 16))),
            ),
            // An empty body.
            (b"0\r\n\r\n", Ok(Some((b"", 0)))),
            // Not yet complete: a result, not an error.
            (b"4\r\nmil", Ok(None)),
            (b"4\r\nmilk\r", Ok(None)),
            (b"4\r\nmilk\r\n0\r\n", Ok(None)),
            // No size, a size that is not hex, a bad character after it.
            (
                b"\r\nmilk\r\n",
                Err(RequestError::Malformed(
                    "a chunk must start with its size, in hexadecimal",
                )),
            ),
            (
                b"g\r\n",
                Err(RequestError::Malformed(
                    "a chunk must start with its size, in hexadecimal",
                )),
            ),
            (
                b"-4\r\nmilk\r\n",
                Err(RequestError::Malformed(
                    "a chunk must start with its size, in hexadecimal",
                )),
            ),
            (
                b"4x\r\nmilk\r\n",
                Err(RequestError::Malformed(
                    "a chunk size must be followed by the end of the line or a ;",
                )),
            ),
            // A CR alone inside the size line is how two parsers can be
            // made to disagree about where the line ends.
            (
                b"4\rX\r\nmilk\r\n",
                Err(RequestError::Malformed(
                    "a chunk-size line holds a control character",
                )),
            ),
            // More data than the size said.
            (
                b"3\r\nmilk\r\n",
                Err(RequestError::Malformed(
                    "a chunk holds more data than its size says",
                )),
            ),
            // A size that would overflow a u64 is refused as too large,
            // long before the arithmetic could overflow.
            (
                b"fffffffffffffffffffffffffffff\r\n",
                Err(RequestError::BodyTooLarge),
            ),
            (b"100001\r\n", Err(RequestError::BodyTooLarge)),
            // Leading zeros are allowed, and do not count as size.
            (
                b"00000000000000000000004\r\nmilk\r\n0\r\n\r\n",
                Ok(Some((b"milk", 0))),
            ),
            // A trailer that is not a header.
            (
                b"0\r\nnot a header\r\n\r\n",
                Err(RequestError::Malformed("a trailer line is not a header")),
            ),
        ];
        for (input, expected) in rows {
            let got = decode_all(input);
            let expected = expected
                .clone()
                .map(|done| done.map(|(body, left)| (body.to_vec(), left)));
            assert_eq!(got, expected, "{}", input.escape_ascii());
        }
    }

    #[test]
    fn the_limit_applies_to_the_decoded_total() {
        // Two chunks of 600 KiB: each under the limit, together over it.
        let chunk = 600 * 1024;
        let mut input = format!("{chunk:x}\r\n").into_bytes();
        input.extend(std::iter::repeat_n(b'x', chunk));
        input.extend_from_slice(format!("\r\n{chunk:x}\r\n").as_bytes());
        assert_eq!(decode_all(&input), Err(RequestError::BodyTooLarge));
    }

    #[test]
    fn an_endless_size_line_is_refused() {
        let mut input = b"4;".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_CHUNK_LINE));
        assert_eq!(
            decode_all(&input),
            Err(RequestError::Malformed("a chunk-size line is too long"))
        );
    }

    #[test]
    fn endless_trailers_are_refused() {
        let mut input = b"0\r\n".to_vec();
        for _ in 0..1000 {
            input.extend_from_slice(b"X-Trailer: some value\r\n");
        }
        assert_eq!(decode_all(&input), Err(RequestError::HeadTooLarge));
    }

    #[test]
    fn encode_then_decode_gives_the_body_back() {
        let body = b"the quick brown fox";
        for sizes in [&[1][..], &[3, 5], &[100], &[]] {
            let encoded = encode(body, sizes);
            assert_eq!(
                decode_all(&encoded),
                Ok(Some((body.to_vec(), 0))),
                "{sizes:?}"
            );
        }
    }
}
