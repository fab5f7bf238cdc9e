//! CRC-32, the checksum that tells a whole log record from a damaged one.
//!
//! This is the IEEE polynomial, the one zip, gzip, PNG and Ethernet use,
//! computed a byte at a time with a 256-entry table that the compiler
//! builds (`const fn`), so nothing runs at start-up.
//!
//! Written by hand rather than taken from the `crc32fast` crate. That
//! crate is well kept and uses the processor's carry-less multiply to go
//! several times faster, but a record here is about a hundred bytes and a
//! disk syncs a few thousand times a second: the table version checks
//! hundreds of megabytes a second, far more than the log will ever ask of
//! it. A dozen lines the reader can check against the definition beat a
//! dependency, and the test below pins them to the standard check value.

// ANCHOR: table
/// The polynomial x³² + x²⁶ + … + 1, bit-reversed, as the IEEE CRC uses it.
const POLYNOMIAL: u32 = 0xEDB8_8320;

/// `TABLE[n]` is the CRC of the single byte `n`, before the final inversion.
const TABLE: [u32; 256] = table();

const fn table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut crc = n as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLYNOMIAL
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[n] = crc;
        n += 1;
    }
    table
}
// ANCHOR_END: table

// ANCHOR: crc32
/// The CRC-32 of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc = TABLE[usize::from(crc as u8 ^ byte)] ^ (crc >> 8);
    }
    !crc
}
// ANCHOR_END: crc32

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_check_values() {
        // The check value every CRC-32 implementation publishes.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }
}
