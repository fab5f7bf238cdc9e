//! How records sit in the log file, and how reading tells a whole record
//! from a torn or a damaged one.
//!
//! The file starts with [`MAGIC`], eight bytes that name the format. Then
//! come the records, each framed like this:
//!
//! ```text
//! length   u32, little-endian: how many payload bytes follow the header
//! !length  u32: the same length with every bit flipped
//! crc      u32: CRC-32 of the payload
//! payload  `length` bytes: the record as JSON
//! ```
//!
//! The length is written twice because everything after it depends on
//! it. If a flipped bit made a middle record's length point past the end
//! of the file, that record would look like a torn last record, and
//! recovery would cut away every record after it, acknowledged ones
//! included. With the check, a damaged length is corruption, never a
//! tear. (LevelDB's log gets the same protection from its fixed-size
//! blocks; a second copy of four bytes is simpler.)
//!
//! The payload is JSON rather than a binary encoding: it costs some bytes,
//! and lets `strings todos.json.log` show a human what the log says.

// ANCHOR: uses
use std::io;

use super::crc32::crc32;
// ANCHOR_END: uses

// ANCHOR: constants
/// The first bytes of every log file: the format's name and version.
pub const MAGIC: &[u8; 8] = b"todolog1";

/// Bytes of framing before each payload.
pub const HEADER: usize = 12;
// ANCHOR_END: constants

// ANCHOR: encode
/// Appends `payload`, framed, to `out`.
pub fn encode(payload: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    let length =
        u32::try_from(payload.len()).map_err(|_| io::Error::other("a record longer than 4 GiB"))?;
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(&(!length).to_le_bytes());
    out.extend_from_slice(&crc32(payload).to_le_bytes());
    out.extend_from_slice(payload);
    Ok(())
}
// ANCHOR_END: encode

// ANCHOR: frame
/// What [`read`] found at an offset of the log.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A whole record, whose next neighbour starts at `end`.
    Record { payload: &'a [u8], end: usize },
    /// The end of the file, exactly after a record.
    End,
    /// An unfinished last record: the process died while writing it, so
    /// it was never acknowledged. Recovery drops it.
    Torn,
    /// A damaged record with more after it: not something a crash can
    /// do. Recovery refuses to go on, and says why.
    Corrupt(&'static str),
}
// ANCHOR_END: frame

// ANCHOR: read
/// Reads the frame that starts at `at` in `log`.
///
/// A crash while appending leaves a *prefix* of what was being written:
/// part of a header, or a header whose length runs past the end of the
/// file. A power cut on some file systems can also leave the end of the
/// file full of zeros (space allocated for data that never arrived), or
/// a last record whose bytes are wrong. All of those are at the end of
/// the file, so they are `Torn`. The same damage with a whole record
/// after it is `Corrupt`.
pub fn read(log: &[u8], at: usize) -> Frame<'_> {
    let rest = &log[at..];
    if rest.is_empty() {
        return Frame::End;
    }
    let frame = whole_or_torn(rest, at);
    // Zeros from here to the end are space that was never written. Only
    // checked when something looks wrong, to keep reading linear.
    if matches!(frame, Frame::Corrupt(_)) && rest.iter().all(|byte| *byte == 0) {
        return Frame::Torn;
    }
    frame
}
// ANCHOR_END: read

// ANCHOR: whole_or_torn
fn whole_or_torn(rest: &[u8], at: usize) -> Frame<'_> {
    let Some((header, body)) = rest.split_first_chunk::<HEADER>() else {
        return Frame::Torn;
    };
    let word =
        |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let (length, check, crc) = (word(0), word(4), word(8));
    if check != !length {
        return Frame::Corrupt("its length is damaged");
    }
    let Some(payload) = usize::try_from(length)
        .ok()
        .and_then(|length| body.get(..length))
    else {
        return Frame::Torn;
    };
    let end = at + HEADER + payload.len();
    if crc32(payload) != crc {
        // The last record with wrong bytes: written, but not all of it
        // reached the disk before the power went.
        return if payload.len() == body.len() {
            Frame::Torn
        } else {
            Frame::Corrupt("its checksum does not match")
        };
    }
    Frame::Record { payload, end }
}
// ANCHOR_END: whole_or_torn

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(payloads: &[&[u8]]) -> Vec<u8> {
        let mut log = Vec::new();
        for payload in payloads {
            encode(payload, &mut log).expect("small");
        }
        log
    }

    #[test]
    fn reads_back_what_it_wrote() {
        let log = framed(&[b"one", b"", b"three"]);
        let mut at = 0;
        let mut seen = Vec::new();
        while let Frame::Record { payload, end } = read(&log, at) {
            seen.push(payload.to_vec());
            at = end;
        }
        assert_eq!(seen, [b"one".to_vec(), b"".to_vec(), b"three".to_vec()]);
        assert_eq!(read(&log, at), Frame::End);
    }

    #[test]
    fn every_prefix_of_a_last_record_is_torn() {
        let log = framed(&[b"first", b"second record"]);
        let second = HEADER + 5;
        for cut in second + 1..log.len() {
            assert_eq!(read(&log[..cut], second), Frame::Torn, "cut at {cut}");
        }
    }

    #[test]
    fn damage_before_the_end_is_corrupt_and_zeros_at_the_end_are_torn() {
        let log = framed(&[b"first", b"second"]);
        for byte in 0..HEADER + 5 {
            let mut damaged = log.clone();
            damaged[byte] ^= 0x40;
            assert!(
                matches!(read(&damaged, 0), Frame::Corrupt(_)),
                "flipped byte {byte}"
            );
        }
        let mut zeros = log.clone();
        zeros.extend([0; 40]);
        assert_eq!(read(&zeros, log.len()), Frame::Torn);
    }
}
