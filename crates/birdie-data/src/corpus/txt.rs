//! Plain-text files: one document per file, or documents separated by blank-line runs.
//!
//! A file that is not UTF-8, or holds NUL bytes (binary data), is skipped with a reason naming the byte offset;
//! an empty (or whitespace-only) file is skipped too. Both are reported by the caller, never dropped silently.

use std::io::Read;

use super::input::{open_bytes, InputFile};
use super::{Document, IngestError, Record, Skipped, TxtDocuments};

/// Reads one text file into records.
pub(crate) fn read(input: &InputFile, mode: TxtDocuments) -> Result<Vec<Record>, IngestError> {
    let name = input.path.display().to_string();
    let mut bytes = Vec::new();
    open_bytes(input)?.read_to_end(&mut bytes).map_err(|e| IngestError::Io { path: input.path.clone(), source: e })?;
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Ok(vec![skip(&name, format!("NUL byte at byte offset {offset} (binary file?)"))]);
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            return Ok(vec![skip(&name, format!("invalid UTF-8 at byte offset {offset}"))]);
        }
    };
    if text.trim().is_empty() {
        return Ok(vec![skip(&name, "empty file".to_string())]);
    }
    Ok(match mode {
        TxtDocuments::File => vec![Record::Document(Document { id: name, text })],
        TxtDocuments::BlankLines => split_blank_lines(&text)
            .into_iter()
            .enumerate()
            .map(|(i, t)| Record::Document(Document { id: format!("{name}#{}", i + 1), text: t.to_string() }))
            .collect(),
    })
}

fn skip(what: &str, reason: String) -> Record {
    Record::Skipped(Skipped { what: what.to_string(), reason })
}

/// Non-blank pieces of `text` separated by one or more blank (whitespace-only) lines.
fn split_blank_lines(text: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if line.trim().is_empty() {
            if let Some(s) = start.take() {
                docs.push(&text[s..end]);
            }
        } else {
            start.get_or_insert(pos);
            end = pos + line.trim_end_matches(['\n', '\r']).len();
        }
        pos += line.len();
    }
    if let Some(s) = start {
        docs.push(&text[s..end]);
    }
    docs
}

#[cfg(test)]
mod tests {
    use super::super::input::Compression;
    use super::super::Format;
    use super::*;

    fn input(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> InputFile {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        InputFile { path, format: Format::Txt, compression: Compression::None }
    }

    #[test]
    fn blank_line_runs_separate_documents() {
        assert_eq!(split_blank_lines("a\nb\n\n\n  \nc\n"), vec!["a\nb", "c"]);
        assert_eq!(split_blank_lines("\n\nonly\n"), vec!["only"]);
        assert!(split_blank_lines("\n \n").is_empty());
    }

    #[test]
    fn whole_file_is_one_document_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let f = input(&dir, "book.txt", b"one\n\ntwo\n");
        let recs = read(&f, TxtDocuments::File).unwrap();
        assert_eq!(recs.len(), 1);
        let recs = read(&f, TxtDocuments::BlankLines).unwrap();
        assert_eq!(recs.len(), 2);
    }

    #[test]
    fn empty_binary_and_non_utf8_files_are_skipped_with_reason() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes, reason) in [
            ("empty.txt", &b""[..], "empty file"),
            ("blank.txt", &b" \n\n\t"[..], "empty file"),
            ("bin.txt", &b"abc\0def"[..], "NUL byte at byte offset 3"),
            ("latin1.txt", &b"caf\xe9 au lait"[..], "invalid UTF-8 at byte offset 3"),
        ] {
            let recs = read(&input(&dir, name, bytes), TxtDocuments::File).unwrap();
            match &recs[..] {
                [Record::Skipped(s)] => {
                    assert!(s.reason.contains(reason), "{name}: {}", s.reason);
                    assert!(s.what.ends_with(name));
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}
