//! Logical streams: each reads its own share of the documents (document `d` belongs to stream `d mod S`) in an
//! order shuffled per epoch from (seed, stream, epoch). A stream's [`Cursor`] is all the state needed to continue
//! it, so pipeline state is a list of cursors. Long documents are consumed in consecutive samples; the ids of the
//! current document stay in memory between samples (never re-tokenized).

use rand::seq::SliceRandom;

use super::source::DocumentSource;
use crate::rng::SampleRng;

/// RNG stream ids for document order live above this offset, clear of the batch streams.
const ORDER_STREAM_BASE: u64 = 1 << 40;

/// Position of one stream: epoch, index in that epoch's document order, and tokens consumed of that document; and
/// the arms drawn for this stream's batches that did not fit where they were drawn (placed first where they fit,
/// in this batch or the stream's next, so every draw of the mixture becomes a sample).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    pub epoch: u64,
    pub pos: usize,
    pub offset: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deferred: Vec<usize>,
}

/// A stream being read.
pub(crate) struct StreamReader {
    seed: u64,
    stream: u64,
    docs: Vec<usize>,
    order: Vec<usize>,
    pub cursor: Cursor,
    buf: Vec<u32>,
    start: usize,
    loaded: bool,
}

impl StreamReader {
    /// Stream `stream` of `streams` over `num_docs` documents, at `cursor`.
    pub fn new(seed: u64, stream: usize, streams: usize, num_docs: usize, cursor: Cursor) -> Self {
        let docs: Vec<usize> = (stream..num_docs).step_by(streams.max(1)).collect();
        let mut r = StreamReader {
            seed,
            stream: stream as u64,
            docs,
            order: Vec::new(),
            cursor,
            buf: Vec::new(),
            start: 0,
            loaded: false,
        };
        r.shuffle();
        r
    }

    fn shuffle(&mut self) {
        self.order = self.docs.clone();
        let mut rng = SampleRng::derive(self.seed, ORDER_STREAM_BASE + self.stream, self.cursor.epoch);
        self.order.shuffle(&mut rng);
    }

    /// The unconsumed tokens of the current document (never empty unless every document is empty).
    pub fn current(&mut self, source: &dyn DocumentSource) -> &[u32] {
        for _ in 0..=self.order.len() {
            if !self.loaded {
                let doc = self.order[self.cursor.pos];
                source.read(doc, self.cursor.offset, &mut self.buf);
                self.start = 0;
                self.loaded = true;
            }
            if self.start < self.buf.len() {
                return &self.buf[self.start..];
            }
            self.next_doc();
        }
        &[]
    }

    /// Marks `n` tokens of the current document as used.
    pub fn consume(&mut self, n: usize) {
        self.start += n;
        self.cursor.offset += n;
        if self.start >= self.buf.len() {
            self.next_doc();
        }
    }

    /// Leaves the rest of the current document unused; returns how many tokens that skipped.
    pub fn skip_doc(&mut self) -> usize {
        let skipped = self.buf.len().saturating_sub(self.start);
        self.next_doc();
        skipped
    }

    fn next_doc(&mut self) {
        self.loaded = false;
        self.cursor.offset = 0;
        self.cursor.pos += 1;
        if self.cursor.pos >= self.order.len() {
            self.cursor.pos = 0;
            self.cursor.epoch += 1;
            self.shuffle();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_reads_its_documents_in_chunks_and_wraps() {
        let docs: Vec<Vec<u32>> = (0..6).map(|d| vec![d as u32; 5]).collect();
        let mut r = StreamReader::new(1, 1, 3, docs.len(), Cursor::default()); // documents 1 and 4
        let mut seen = Vec::new();
        for _ in 0..6 {
            let t = r.current(&docs).to_vec();
            seen.push(t[0]);
            r.consume(t.len().min(3));
        }
        assert!(seen.iter().all(|&d| d == 1 || d == 4));
        assert_eq!(r.cursor.epoch, 1);
        // Resuming from a cursor gives the same continuation.
        let mut a = StreamReader::new(1, 1, 3, docs.len(), r.cursor.clone());
        assert_eq!(a.current(&docs).len(), r.current(&docs).len());
    }
}
