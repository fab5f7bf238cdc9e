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
//!
//! Every line here ends in `\r\n`. RFC 9112 lets a server read a bare
//! `\n` as a line end in the head (section 2.2), but not in chunks
//! (section 7.1), and a decoder that does anyway reads a body differently
//! from a proxy that does not: the "funky chunks" way to smuggle a
//! request. Extensions are checked against their grammar for the same
//! reason, though nothing here uses them.

// ANCHOR: uses
use crate::http::request::{MAX_BODY_SIZE, MAX_HEAD_SIZE, RequestError, is_token};
// ANCHOR_END: uses

// ANCHOR: limits
/// The longest chunk-size line we read: the size, and extensions we check
/// and drop. Real clients send a few bytes; a limit keeps an endless line
/// from filling memory.
pub const MAX_CHUNK_LINE: usize = 4 * 1024;

/// The most bytes of extensions a whole body may carry, all chunks
/// together. Each line is already under [`MAX_CHUNK_LINE`], but a body of
/// a million one-byte chunks could still make us read gigabytes of
/// extensions for one megabyte of body.
pub const MAX_EXTENSION_BYTES: usize = 4 * 1024;
// ANCHOR_END: limits

// ANCHOR: state
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
// ANCHOR_END: state

// ANCHOR: decoder
/// A chunked body being decoded.
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: State,
    body: Vec<u8>,
    /// Bytes of trailer lines seen so far: they are discarded, but count
    /// against the same limit as the head.
    trailer_bytes: usize,
    /// Bytes of chunk extensions seen so far, against
    /// [`MAX_EXTENSION_BYTES`].
    extension_bytes: usize,
}
// ANCHOR_END: decoder

// ANCHOR: decoder_impl
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
            extension_bytes: 0,
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

    // ANCHOR: decode
    /// Decodes as much of `input` as it can, and returns how many bytes of
    /// it were used. The caller drops those, and calls again with them gone
    /// and more appended. A line cut in two is left unused until its end
    /// arrives, so the bytes may be split anywhere.
    pub fn decode(&mut self, input: &[u8]) -> Result<usize, RequestError> {
        let mut used = 0;
        loop {
            let rest = &input[used..];
            // Each state uses what it can of `rest` and says how much, or
            // says `None`: it needs bytes that have not arrived yet.
            let taken = match self.state {
                State::Done => None,
                State::Size => self.size_line(rest)?,
                State::Data(left) => self.data(rest, left),
                State::DataEnd => self.data_end(rest)?,
                State::Trailers => self.trailer_line(rest)?,
            };
            match taken {
                Some(taken) => used += taken,
                None => return Ok(used),
            }
        }
    }
    // ANCHOR_END: decode

    // ANCHOR: size_line
    /// A chunk-size line, once it is all there: on to the chunk's data,
    /// or to the trailers after the last chunk, of size 0.
    fn size_line(&mut self, rest: &[u8]) -> Result<Option<usize>, RequestError> {
        let Some(line) = line(rest, MAX_CHUNK_LINE)? else {
            return Ok(None);
        };
        let (size, extensions) = chunk_size(line)?;
        self.extension_bytes += extensions;
        if self.extension_bytes > MAX_EXTENSION_BYTES {
            return Err(RequestError::Malformed(
                "the chunk extensions add up to more than 4 KiB",
            ));
        }
        if size > MAX_BODY_SIZE - self.body.len() {
            return Err(RequestError::BodyTooLarge);
        }
        self.state = if size == 0 {
            State::Trailers
        } else {
            State::Data(size)
        };
        Ok(Some(line.len()))
    }
    // ANCHOR_END: size_line

    // ANCHOR: data
    /// As much of a chunk's data as has arrived, `left` bytes at most.
    fn data(&mut self, rest: &[u8], left: usize) -> Option<usize> {
        if rest.is_empty() {
            return None;
        }
        let take = left.min(rest.len());
        self.body.extend_from_slice(&rest[..take]);
        self.state = if take < left {
            State::Data(left - take)
        } else {
            State::DataEnd
        };
        Some(take)
    }

    /// The CRLF that must follow a chunk's data, right away.
    fn data_end(&mut self, rest: &[u8]) -> Result<Option<usize>, RequestError> {
        match rest {
            [b'\r', b'\n', ..] => {
                self.state = State::Size;
                Ok(Some(2))
            }
            [] | [b'\r'] => Ok(None),
            _ => Err(RequestError::Malformed(
                "a chunk's data must be followed by CRLF, right after as many bytes as its size says",
            )),
        }
    }
    // ANCHOR_END: data

    // ANCHOR: trailer_line
    /// A trailer line, counted against the same limit as the head; the
    /// empty one ends the body.
    fn trailer_line(&mut self, rest: &[u8]) -> Result<Option<usize>, RequestError> {
        let left = MAX_HEAD_SIZE.saturating_sub(self.trailer_bytes);
        let Some(line) = line(rest, left).map_err(|_| RequestError::HeadTooLarge)? else {
            return Ok(None);
        };
        self.trailer_bytes += line.len();
        let text = crlf_line(line)?;
        if text.is_empty() {
            self.state = State::Done;
        } else {
            check_trailer(text)?;
        }
        Ok(Some(line.len()))
    }
    // ANCHOR_END: trailer_line
}
// ANCHOR_END: decoder_impl

// ANCHOR: line
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
// ANCHOR_END: line

/* STAND-IN: crlf_line
// ANCHOR: any_line_end
/// A line without its line end.
fn crlf_line(line: &[u8]) -> Result<&[u8], RequestError> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    Ok(line.strip_suffix(b"\r").unwrap_or(line))
}
// ANCHOR_END: any_line_end
*/
// ANCHOR: crlf_line
/// A line without its `\r\n`, or an error if it ends in a bare `\n`.
fn crlf_line(line: &[u8]) -> Result<&[u8], RequestError> {
    line.strip_suffix(b"\r\n").ok_or(RequestError::Malformed(
        "a line in a chunked body ends with a bare LF: end every line with CRLF",
    ))
}
// ANCHOR_END: crlf_line

// ANCHOR: chunk_size
/// The size on a chunk-size line, and how many bytes of extensions
/// (`;name=value`) follow it. Extensions are checked, then dropped: no
/// server is obliged to understand any.
///
/// The size is refused as too large as soon as it passes
/// [`MAX_BODY_SIZE`], digit by digit, so even a line of a hundred `f`s
/// cannot overflow the arithmetic: it is a 413 after six of them.
fn chunk_size(line: &[u8]) -> Result<(usize, usize), RequestError> {
    let line = crlf_line(line)?;
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
    let extensions = &line[digits..];
    check_extensions(extensions)?;
    Ok((size, extensions.len()))
}
// ANCHOR_END: chunk_size

/* STAND-IN: extensions
// ANCHOR: any_extensions
/// Extensions (`;name=value`) after a chunk size: nothing here uses them.
fn check_extensions(_extensions: &[u8]) -> Result<(), RequestError> {
    Ok(())
}
// ANCHOR_END: any_extensions
*/
// ANCHOR: extensions
/// Checks the extensions after a chunk size against RFC 9112, section
/// 7.1.1: `*( BWS ";" BWS name [ BWS "=" BWS value ] )`, where a name is
/// a token, a value a token or a quoted string, and `BWS` optional spaces
/// and tabs. Skipping everything up to the line end, as this decoder used
/// to, is simpler; but then a proxy that reads a `\n` in there differently
/// ends the line somewhere else. So anything else is a 400, trailing
/// spaces included.
fn check_extensions(mut rest: &[u8]) -> Result<(), RequestError> {
    let malformed = RequestError::Malformed(
        "a chunk extension must be ;name or ;name=value, the value a token or a quoted string",
    );
    while !rest.is_empty() {
        let Some(after) = skip_bws(rest).strip_prefix(b";") else {
            return Err(malformed);
        };
        let name = skip_bws(after);
        let name_length = token_length(name);
        if name_length == 0 {
            return Err(malformed);
        }
        rest = &name[name_length..];
        if let Some(value) = skip_bws(rest).strip_prefix(b"=") {
            let value = skip_bws(value);
            let length = match value.first() {
                Some(b'"') => quoted_string(value).ok_or(malformed.clone())?,
                _ => token_length(value),
            };
            if length == 0 {
                return Err(malformed);
            }
            rest = &value[length..];
        }
    }
    Ok(())
}
// ANCHOR_END: extensions

// ANCHOR: extension_parts
/// `bytes` without the spaces and tabs it starts with.
fn skip_bws(bytes: &[u8]) -> &[u8] {
    let spaces = bytes.iter().take_while(|&&b| b == b' ' || b == b'\t');
    &bytes[spaces.count()..]
}

/// How many bytes at the start of `bytes` are token characters.
fn token_length(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|&&b| crate::http::request::is_tchar(b))
        .count()
}

/// The length of the quoted string that starts `bytes` (RFC 9110, section
/// 5.6.4), both quotes included; `None` if it is not closed, or holds a
/// byte a quoted string may not.
fn quoted_string(bytes: &[u8]) -> Option<usize> {
    // Tab, space, and visible characters, or text above ASCII.
    let text = |b: u8| b == b'\t' || b == b' ' || b.is_ascii_graphic() || b >= 0x80;
    let mut i = 1;
    loop {
        match *bytes.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' if bytes.get(i + 1).is_some_and(|&b| text(b)) => i += 2,
            b'\\' => return None,
            b if text(b) => i += 1,
            _ => return None,
        }
    }
}
// ANCHOR_END: extension_parts

// ANCHOR: trailer
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
// ANCHOR_END: trailer

// ANCHOR: encode
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
// ANCHOR_END: encode

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

    fn bare_lf() -> RequestError {
        RequestError::Malformed(
            "a line in a chunked body ends with a bare LF: end every line with CRLF",
        )
    }

    fn bad_extension() -> RequestError {
        RequestError::Malformed(
            "a chunk extension must be ;name or ;name=value, the value a token or a quoted string",
        )
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
            // A quoted value may hold spaces, `;`, `=` and escaped quotes.
            (
                b"4;a=\"x; y=\\\"z\\\"\"\r\nmilk\r\n0\r\n\r\n",
                Ok(Some((b"milk", 0))),
            ),
            // Spaces and tabs around `;` and `=` (the grammar's BWS).
            (
                b"4 ;\ta = b ; c\r\nmilk\r\n0\r\n\r\n",
                Ok(Some((b"milk", 0))),
            ),
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
            (b"4x\r\nmilk\r\n", Err(bad_extension())),
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
                    "a chunk's data must be followed by CRLF, right after as many bytes as its size says",
                )),
            ),
            // A bare \n ends no line in a chunked body: not after the
            // size, nor after the data, nor after the last chunk or a
            // trailer (RFC 9112, section 7.1; the head's allowance in
            // section 2.2 does not reach here, and final refuses it there
            // too).
            (b"4\nmilk\r\n0\r\n\r\n", Err(bare_lf())),
            (
                b"4\r\nmilk\n0\r\n\r\n",
                Err(RequestError::Malformed(
                    "a chunk's data must be followed by CRLF, right after as many bytes as its size says",
                )),
            ),
            (b"4\r\nmilk\r\n0\n\r\n", Err(bare_lf())),
            (b"4\r\nmilk\r\n0\r\n\n", Err(bare_lf())),
            (b"4\r\nmilk\r\n0\r\nX: y\n\r\n", Err(bare_lf())),
            (b"4;a=b\nmilk\r\n0\r\n\r\n", Err(bare_lf())),
            // Extensions that the grammar does not produce: an empty name,
            // an unterminated or broken quoted value, a value that is not
            // a token, nothing after `=`, spaces at the end, a name that
            // is not a token, no `;` between two extensions.
            (b"2;\r\nhi\r\n0\r\n\r\n", Err(bad_extension())),
            (b"2;a=\"b\r\nhi\r\n0\r\n\r\n", Err(bad_extension())),
            (b"2;a=\"b\\\"\r\nhi\r\n0\r\n\r\n", Err(bad_extension())),
            (b"2;a=b/c\r\nhi\r\n0\r\n\r\n", Err(bad_extension())),
            (b"2;a=\r\nhi\r\n0\r\n\r\n", Err(bad_extension())),
            (b"2;a \r\nhi\r\n0\r\n\r\n", Err(bad_extension())),
            (b"2 \r\nhi\r\n0\r\n\r\n", Err(bad_extension())),
            (b"2;a@b\r\nhi\r\n0\r\n\r\n", Err(bad_extension())),
            (b"2;a=b c\r\nhi\r\n0\r\n\r\n", Err(bad_extension())),
            (b"2;=b\r\nhi\r\n0\r\n\r\n", Err(bad_extension())),
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
    fn extensions_are_limited_for_the_whole_body() {
        // Each line is short, but 300 of them carry 4.5 KiB of extensions.
        let mut input = Vec::new();
        for _ in 0..300 {
            input.extend_from_slice(b"1;extension=value\r\nx\r\n");
        }
        assert_eq!(
            decode_all(&input),
            Err(RequestError::Malformed(
                "the chunk extensions add up to more than 4 KiB"
            ))
        );
    }

    #[test]
    fn a_body_fed_one_byte_at_a_time_decodes_the_same() {
        let rows: [&[u8]; 4] = [
            b"4;a=\"x y\"\r\nmilk\r\n0\r\nX: y\r\n\r\nrest",
            b"4\r\nmilk\r\n0\r\n\n",
            b"2;\r\nhi\r\n0\r\n\r\n",
            b"4\r\nmilk\n0\r\n\r\n",
        ];
        for input in rows {
            let mut decoder = ChunkedDecoder::new();
            let mut pending = Vec::new();
            let mut result = Ok(());
            for &byte in input {
                pending.push(byte);
                match decoder.decode(&pending) {
                    Ok(used) => drop(pending.drain(..used)),
                    Err(err) => {
                        result = Err(err);
                        break;
                    }
                }
            }
            let one_by_one = result.map(|()| {
                decoder
                    .is_done()
                    .then(|| (decoder.into_body(), pending.len()))
            });
            assert_eq!(one_by_one, decode_all(input), "{}", input.escape_ascii());
        }
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
