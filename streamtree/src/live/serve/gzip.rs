//! gzip for event streams, flushed per event: each frame of the stream (an event or a
//! keep-alive comment) goes out as complete deflate blocks ending on a byte boundary, so
//! a client's decoder yields every event as soon as its bytes arrive. tower-http's
//! encoder cannot do that: it writes compressed bytes out only when its buffer fills.
//!
//! One gzip member, one deflate stream, built from pieces (RFC 1951 allows any sequence of
//! blocks): small frames are stored blocks (no compressor needed, 5 bytes of framing);
//! larger ones (whole pages) are compressed on their own by a per-thread raw-deflate
//! compressor that is reset per frame and ended with a sync flush. No frame refers back to
//! an earlier one, so a stream keeps no compressor state: an open stream costs a CRC, not
//! the hundreds of KB of a deflate window and hash tables.
//!
//! Invariants: after every [`Gzip::frame`] the bytes written so far decode to exactly the
//! frames given so far; [`Gzip::finish`] ends the member (final block, CRC, length).

use std::cell::RefCell;

use flate2::{Compress, Compression, Crc, FlushCompress};

/// Frames up to this size go out as stored blocks.
const STORED_UP_TO: usize = 512;

/// The gzip header: deflate, no name or time, unknown OS.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

thread_local! {
    /// Reset before each use: frames are compressed independently.
    static COMPRESS: RefCell<Compress> = RefCell::new(Compress::new(Compression::fast(), false));
}

/// One gzip-encoded event stream.
#[derive(Default)]
pub(super) struct Gzip {
    /// Of the uncompressed bytes so far, for the trailer.
    crc: Crc,
    started: bool,
}

impl Gzip {
    /// The encoded bytes for `frame` (the header first, on the first call).
    pub(super) fn frame(&mut self, frame: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(frame.len().min(STORED_UP_TO) + 64);
        if !std::mem::replace(&mut self.started, true) {
            out.extend_from_slice(&HEADER);
        }
        self.crc.update(frame);
        if frame.len() <= STORED_UP_TO {
            stored(&mut out, frame, false);
        } else {
            deflate(&mut out, frame);
        }
        out
    }

    /// The bytes that end the stream: a final empty block and the trailer.
    pub(super) fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32);
        if !std::mem::replace(&mut self.started, true) {
            out.extend_from_slice(&HEADER);
        }
        stored(&mut out, &[], true);
        out.extend_from_slice(&self.crc.sum().to_le_bytes());
        out.extend_from_slice(&self.crc.amount().to_le_bytes());
        out
    }
}

/// `data` as stored blocks (at most 65,535 bytes each), the last one final if `last`.
/// Starts and ends on a byte boundary, as every piece here does.
fn stored(out: &mut Vec<u8>, data: &[u8], last: bool) {
    let mut chunks = data.chunks(u16::MAX as usize).peekable();
    if chunks.peek().is_none() {
        block(out, &[], last);
    }
    while let Some(chunk) = chunks.next() {
        block(out, chunk, last && chunks.peek().is_none());
    }
}

fn block(out: &mut Vec<u8>, chunk: &[u8], last: bool) {
    let len = u16::try_from(chunk.len()).expect("stored blocks hold at most 65,535 bytes");
    // BFINAL, BTYPE 00 (stored), then padding to the byte boundary.
    out.push(u8::from(last));
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(chunk);
}

/// `data` compressed as non-final blocks, ended by a sync flush (byte aligned).
fn deflate(out: &mut Vec<u8>, data: &[u8]) {
    COMPRESS.with(|c| {
        let mut c = c.borrow_mut();
        c.reset();
        let (start_in, mut consumed) = (c.total_in(), 0);
        loop {
            out.reserve(data.len() / 2 + 64);
            c.compress_vec(&data[consumed..], out, FlushCompress::Sync)
                .expect("raw deflate into a Vec with room does not fail");
            consumed = usize::try_from(c.total_in() - start_in).expect("fits: it was a slice");
            // Done when all input is in and the flush did not stop for lack of room.
            if consumed == data.len() && out.len() < out.capacity() {
                return;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// Decodes what was written so far, as a streaming client does.
    fn decoded(written: &[u8]) -> Vec<u8> {
        let mut decoder = flate2::write::GzDecoder::new(Vec::new());
        decoder.write_all(written).unwrap();
        decoder.flush().unwrap();
        decoder.get_ref().clone()
    }

    #[test]
    fn every_frame_decodes_as_soon_as_it_is_written() {
        let mut gz = Gzip::default();
        let big = "data: {\"html\":\"<div>row</div>\"}\n".repeat(200);
        let frames = [
            ":\n\n".to_owned(),
            big.clone(),
            "data: small\n\n".into(),
            big,
        ];
        let (mut written, mut plain) = (Vec::new(), Vec::new());
        for frame in &frames {
            written.extend(gz.frame(frame.as_bytes()));
            plain.extend_from_slice(frame.as_bytes());
            assert_eq!(decoded(&written), plain, "a frame is whole once written");
        }
        let big_len = frames[1].len();
        assert!(written.len() < big_len, "large frames are compressed");
        written.extend(gz.finish());
        let mut all = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&written[..]), &mut all)
            .expect("a complete gzip member, CRC and length checked");
        assert_eq!(all.as_bytes(), plain);
    }

    #[test]
    fn an_empty_stream_is_a_valid_member() {
        let written = Gzip::default().finish();
        let mut all = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&written[..]), &mut all)
            .unwrap();
        assert!(all.is_empty());
    }
}
