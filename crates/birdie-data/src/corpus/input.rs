//! Finding input files, telling their format, and opening them as record streams.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::{jsonl, parquet_reader, txt, IngestError, Record};

/// A corpus file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Plain UTF-8 text.
    Txt,
    /// One JSON object per line, text in a string field.
    Jsonl,
    /// Apache Parquet, text in a string column (the layout of Hugging Face datasets).
    Parquet,
}

/// A name that is not one of a setting's values (parsing a format, split or mode from a flag or a config).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} \"{value}\" (expected {expected})")]
pub struct UnknownName {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl std::str::FromStr for Format {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        match s {
            "txt" | "text" => Ok(Format::Txt),
            "jsonl" | "json" | "ndjson" => Ok(Format::Jsonl),
            "parquet" => Ok(Format::Parquet),
            other => Err(UnknownName { what: "format", value: other.into(), expected: "txt, jsonl or parquet" }),
        }
    }
}

/// Transparent decompression by file suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Zstd,
    Gzip,
}

/// A file to read, with its format and compression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    pub path: PathBuf,
    pub format: Format,
    pub compression: Compression,
}

/// How plain-text files are cut into documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TxtDocuments {
    /// Each file is one document (the default: books and articles stay whole).
    #[default]
    File,
    /// Runs of blank lines separate documents.
    BlankLines,
}

impl std::str::FromStr for TxtDocuments {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        match s {
            "file" => Ok(TxtDocuments::File),
            "blank-lines" | "blank_lines" => Ok(TxtDocuments::BlankLines),
            other => {
                Err(UnknownName { what: "text document mode", value: other.into(), expected: "file or blank-lines" })
            }
        }
    }
}

/// How records are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// JSON field (jsonl) or column (parquet) holding the text. Default `text`.
    pub text_field: String,
    /// Plain-text document boundaries.
    pub txt_documents: TxtDocuments,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { text_field: "text".to_string(), txt_documents: TxtDocuments::File }
    }
}

/// The files found under the given paths, and the files in directories that were passed over.
#[derive(Debug, Clone, Default)]
pub struct InputSelection {
    pub files: Vec<InputFile>,
    /// Files inside directories whose name matched no readable format (reported, not read).
    pub ignored: Vec<PathBuf>,
}

/// Format and compression from a file name (`x.jsonl.zst` → Jsonl + Zstd).
fn detect(path: &Path) -> (Option<Format>, Compression) {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let (stem, compression) = if let Some(s) = name.strip_suffix(".zst") {
        (s.to_string(), Compression::Zstd)
    } else if let Some(s) = name.strip_suffix(".gz") {
        (s.to_string(), Compression::Gzip)
    } else {
        (name, Compression::None)
    };
    let format = match stem.rsplit_once('.').map(|(_, ext)| ext) {
        Some("txt" | "text" | "md") => Some(Format::Txt),
        Some("jsonl" | "json" | "ndjson") => Some(Format::Jsonl),
        Some("parquet") => Some(Format::Parquet),
        _ => None,
    };
    (format, compression)
}

/// Expands `paths` (files and directories, walked recursively in sorted order) into input files.
///
/// A file named explicitly takes `format` if given, else its extension's format. Inside directories only files
/// whose extension names a format (and, with `format`, that format) are taken; hidden files are skipped.
///
/// # Errors
/// [`IngestError::NotFound`], [`IngestError::UnknownFormat`] for an explicit file of unknown type, and
/// [`IngestError::NoUsableFiles`] for a directory that yields nothing.
pub fn collect_inputs(paths: &[PathBuf], format: Option<Format>) -> Result<InputSelection, IngestError> {
    let mut sel = InputSelection::default();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => IngestError::NotFound { path: path.clone() },
            _ => IngestError::Io { path: path.clone(), source: e },
        })?;
        if meta.is_dir() {
            let before = sel.files.len();
            walk(path, format, &mut sel)?;
            if sel.files.len() == before {
                return Err(IngestError::NoUsableFiles { path: path.clone() });
            }
        } else {
            let (detected, compression) = detect(path);
            let format = format.or(detected).ok_or_else(|| IngestError::UnknownFormat { path: path.clone() })?;
            sel.files.push(InputFile { path: path.clone(), format, compression });
        }
    }
    Ok(sel)
}

fn walk(dir: &Path, format: Option<Format>, sel: &mut InputSelection) -> Result<(), IngestError> {
    let io = |e| IngestError::Io { path: dir.to_path_buf(), source: e };
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).map_err(io)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>().map_err(io)?;
    entries.sort();
    for path in entries {
        if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
            continue;
        }
        if path.is_dir() {
            walk(&path, format, sel)?;
            continue;
        }
        match detect(&path) {
            (Some(f), compression) if format.is_none_or(|want| want == f) => {
                sel.files.push(InputFile { path, format: f, compression })
            }
            _ => sel.ignored.push(path),
        }
    }
    Ok(())
}

/// A byte stream over a (possibly compressed) file.
pub(crate) fn open_bytes(input: &InputFile) -> Result<Box<dyn Read + Send>, IngestError> {
    let io = |e| IngestError::Io { path: input.path.clone(), source: e };
    let file = BufReader::with_capacity(1 << 20, File::open(&input.path).map_err(io)?);
    Ok(match input.compression {
        Compression::None => Box::new(file),
        Compression::Zstd => Box::new(zstd::Decoder::with_buffer(file).map_err(io)?),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(file)),
    })
}

/// The records of one input file, in file order.
pub fn open_input(
    input: &InputFile,
    opts: &ReadOptions,
) -> Result<Box<dyn Iterator<Item = Result<Record, IngestError>> + Send>, IngestError> {
    match input.format {
        Format::Txt => Ok(Box::new(txt::read(input, opts.txt_documents)?.into_iter().map(Ok))),
        Format::Jsonl => Ok(Box::new(jsonl::JsonlReader::new(input, &opts.text_field)?)),
        Format::Parquet => {
            if input.compression != Compression::None {
                return Err(IngestError::Parquet {
                    path: input.path.clone(),
                    reason: "compressed parquet files are not supported (parquet compresses internally)".into(),
                });
            }
            Ok(Box::new(parquet_reader::ParquetReader::new(&input.path, &opts.text_field)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats_and_compression() {
        assert_eq!(detect(Path::new("a/b.jsonl.zst")), (Some(Format::Jsonl), Compression::Zstd));
        assert_eq!(detect(Path::new("b.TXT")), (Some(Format::Txt), Compression::None));
        assert_eq!(detect(Path::new("c.parquet")), (Some(Format::Parquet), Compression::None));
        assert_eq!(detect(Path::new("d.txt.gz")), (Some(Format::Txt), Compression::Gzip));
        assert_eq!(detect(Path::new("e.bin")).0, None);
    }

    #[test]
    fn directory_without_usable_files_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("image.png"), [0u8, 1, 2]).unwrap();
        let err = collect_inputs(&[dir.path().to_path_buf()], None).unwrap_err();
        assert!(matches!(err, IngestError::NoUsableFiles { .. }), "{err}");
        assert!(err.to_string().contains(&dir.path().display().to_string()));
    }

    #[test]
    fn directories_are_walked_in_order_and_unknown_files_listed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for name in ["b.txt", "a.jsonl", "sub/c.txt", "notes.bin", ".hidden.txt"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        let sel = collect_inputs(&[dir.path().to_path_buf()], None).unwrap();
        let names: Vec<_> = sel.files.iter().map(|f| f.path.strip_prefix(dir.path()).unwrap().to_owned()).collect();
        assert_eq!(names, vec![PathBuf::from("a.jsonl"), "b.txt".into(), "sub/c.txt".into()]);
        assert_eq!(sel.ignored, vec![dir.path().join("notes.bin")]);
        let only_txt = collect_inputs(&[dir.path().to_path_buf()], Some(Format::Txt)).unwrap();
        assert_eq!(only_txt.files.len(), 2);
    }

    #[test]
    fn missing_path_is_named() {
        let err = collect_inputs(&[PathBuf::from("/no/such/corpus")], None).unwrap_err();
        assert!(err.to_string().contains("/no/such/corpus"));
    }
}
