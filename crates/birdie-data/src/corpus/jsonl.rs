//! JSON-lines files: one JSON object per line, the text in a configurable string field (default `text`).
//!
//! Blank lines are skipped. A line that is not JSON, lacks the field, has a non-string field or is not UTF-8 is an
//! error naming `file:line`; a document whose text is empty is skipped and reported.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

use super::input::{open_bytes, InputFile};
use super::{Document, IngestError, Record, Skipped};

/// Streams the records of one JSON-lines file.
pub(crate) struct JsonlReader {
    path: PathBuf,
    field: String,
    reader: BufReader<Box<dyn Read + Send>>,
    line: usize,
    offset: u64,
    buf: Vec<u8>,
    done: bool,
}

impl JsonlReader {
    pub(crate) fn new(input: &InputFile, field: &str) -> Result<Self, IngestError> {
        Ok(JsonlReader {
            path: input.path.clone(),
            field: field.to_string(),
            reader: BufReader::with_capacity(1 << 20, open_bytes(input)?),
            line: 0,
            offset: 0,
            buf: Vec::new(),
            done: false,
        })
    }

    fn next_record(&mut self) -> Result<Option<Record>, IngestError> {
        loop {
            self.buf.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| IngestError::Io { path: self.path.clone(), source: e })?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            let line_offset = self.offset;
            self.offset += n as u64;
            let text = std::str::from_utf8(&self.buf).map_err(|e| IngestError::InvalidUtf8 {
                path: self.path.clone(),
                line: self.line,
                offset: line_offset + e.valid_up_to() as u64,
            })?;
            if text.trim().is_empty() {
                continue;
            }
            let value: serde_json::Value = serde_json::from_str(text).map_err(|e| IngestError::BadJson {
                path: self.path.clone(),
                line: self.line,
                reason: e.to_string(),
            })?;
            let id = format!("{}:{}", self.path.display(), self.line);
            let Some(obj) = value.as_object() else {
                return Err(IngestError::BadJson {
                    path: self.path.clone(),
                    line: self.line,
                    reason: "expected a JSON object".into(),
                });
            };
            let Some(field) = obj.get(&self.field) else {
                let found = obj.keys().map(String::as_str).collect::<Vec<_>>().join(", ");
                return Err(IngestError::MissingField {
                    path: self.path.clone(),
                    line: self.line,
                    field: self.field.clone(),
                    found,
                });
            };
            let Some(text) = field.as_str() else {
                return Err(IngestError::FieldNotString {
                    path: self.path.clone(),
                    line: self.line,
                    field: self.field.clone(),
                });
            };
            if text.trim().is_empty() {
                return Ok(Some(Record::Skipped(Skipped { what: id, reason: "empty text".into() })));
            }
            return Ok(Some(Record::Document(Document { id, text: text.to_string() })));
        }
    }
}

impl Iterator for JsonlReader {
    type Item = Result<Record, IngestError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = self.next_record().transpose();
        if !matches!(r, Some(Ok(_))) {
            self.done = true;
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::super::input::Compression;
    use super::super::Format;
    use super::*;

    fn read_all(bytes: &[u8], field: &str) -> Result<Vec<Record>, IngestError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.jsonl");
        std::fs::write(&path, bytes).unwrap();
        let input = InputFile { path, format: Format::Jsonl, compression: Compression::None };
        JsonlReader::new(&input, field)?.collect()
    }

    #[test]
    fn reads_the_text_field_and_skips_blank_lines() {
        let recs = read_all(b"{\"text\": \"a\"}\n\n{\"text\": \"b\", \"x\": 1}\n{\"text\": \"  \"}\n", "text").unwrap();
        assert_eq!(recs.len(), 3);
        assert!(matches!(&recs[1], Record::Document(d) if d.text == "b" && d.id.ends_with("data.jsonl:3")));
        assert!(matches!(&recs[2], Record::Skipped(s) if s.reason == "empty text"));
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let err = read_all(b"{\"text\": \"a\"}\nnot json\n", "text").unwrap_err();
        assert!(matches!(err, IngestError::BadJson { line: 2, .. }), "{err}");
        assert!(err.to_string().contains("data.jsonl:2"), "{err}");

        let err = read_all(b"{\"text\": \"a\"}\n{\"body\": \"b\"}\n", "text").unwrap_err();
        assert!(matches!(err, IngestError::MissingField { line: 2, .. }), "{err}");
        assert!(err.to_string().contains("body"), "{err}");

        let err = read_all(b"{\"text\": 3}\n", "text").unwrap_err();
        assert!(matches!(err, IngestError::FieldNotString { line: 1, .. }), "{err}");

        let err = read_all(b"{\"text\": \"a\"}\n{\"text\": \"\xff\"}\n", "text").unwrap_err();
        assert!(matches!(err, IngestError::InvalidUtf8 { line: 2, offset: 24, .. }), "{err}");

        let err = read_all(b"[1, 2]\n", "text").unwrap_err();
        assert!(matches!(err, IngestError::BadJson { line: 1, .. }), "{err}");
    }

    #[test]
    fn custom_field() {
        let recs = read_all(b"{\"content\": \"hello\"}\n", "content").unwrap();
        assert!(matches!(&recs[0], Record::Document(d) if d.text == "hello"));
    }
}
