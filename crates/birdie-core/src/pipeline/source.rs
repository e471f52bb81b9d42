//! Where the pipeline reads documents from: token shards, or in-memory documents (tests, previews).

use std::sync::Arc;

use birdie_data::{DocTokens, ShardError, ShardSet, Split};

/// An indexed set of tokenized documents.
pub trait DocumentSource: Send + Sync {
    /// Number of documents.
    fn num_docs(&self) -> usize;
    /// Replaces `out` with the ids of document `i` from token `from` on.
    fn read(&self, i: usize, from: usize, out: &mut Vec<u32>);
    /// Length in tokens of document `i`.
    fn doc_len(&self, i: usize) -> usize;
}

impl DocumentSource for Vec<Vec<u32>> {
    fn num_docs(&self) -> usize {
        self.len()
    }
    fn read(&self, i: usize, from: usize, out: &mut Vec<u32>) {
        out.clear();
        out.extend_from_slice(&self[i][from.min(self[i].len())..]);
    }
    fn doc_len(&self, i: usize) -> usize {
        self[i].len()
    }
}

/// The documents of one split of a shard directory, indexed across its shard files.
pub struct ShardDocuments {
    set: Arc<ShardSet>,
    split: Split,
    /// First global document index of each shard.
    starts: Vec<usize>,
    total: usize,
}

impl ShardDocuments {
    /// The documents of `split`; error if the directory lacks it.
    pub fn new(set: Arc<ShardSet>, split: Split) -> Result<Self, ShardError> {
        let shards = set.require_split(split)?;
        let mut starts = Vec::with_capacity(shards.shards.len());
        let mut total = 0;
        for s in &shards.shards {
            starts.push(total);
            total += s.num_docs();
        }
        Ok(ShardDocuments { set, split, starts, total })
    }

    fn doc(&self, i: usize) -> DocTokens<'_> {
        let s = self.starts.partition_point(|&st| st <= i) - 1;
        let shards = self.set.split(self.split).expect("checked in new");
        shards.shards[s].doc(i - self.starts[s])
    }
}

impl DocumentSource for ShardDocuments {
    fn num_docs(&self) -> usize {
        self.total
    }
    fn read(&self, i: usize, from: usize, out: &mut Vec<u32>) {
        let doc = self.doc(i);
        out.clear();
        doc.extend_into(from.min(doc.len())..doc.len(), out);
    }
    fn doc_len(&self, i: usize) -> usize {
        self.doc(i).len()
    }
}
