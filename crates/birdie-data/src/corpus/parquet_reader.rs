//! Parquet files: the text in a configurable top-level string column (default `text`), read row group by row
//! group with the column reader, so only that column is decoded. Null values are skipped and reported.

use std::collections::VecDeque;
use std::fs::File;
use std::path::{Path, PathBuf};

use parquet::basic::Type as PhysicalType;
use parquet::column::reader::ColumnReader;
use parquet::data_type::ByteArray;
use parquet::file::reader::{FileReader, SerializedFileReader};

use super::{Document, IngestError, Record, Skipped};

const BATCH_ROWS: usize = 1024;

/// Streams the records of one parquet file.
pub(crate) struct ParquetReader {
    path: PathBuf,
    column: String,
    column_index: usize,
    max_def_level: i16,
    reader: SerializedFileReader<File>,
    row_group: usize,
    current: Option<parquet::column::reader::ColumnReaderImpl<parquet::data_type::ByteArrayType>>,
    queue: VecDeque<Record>,
    row: u64,
    failed: bool,
}

impl ParquetReader {
    pub(crate) fn new(path: &Path, column: &str) -> Result<Self, IngestError> {
        let file = File::open(path).map_err(|e| IngestError::Io { path: path.to_path_buf(), source: e })?;
        let reader = SerializedFileReader::new(file)
            .map_err(|e| IngestError::Parquet { path: path.to_path_buf(), reason: e.to_string() })?;
        let schema = reader.metadata().file_metadata().schema_descr_ptr();
        let found = || schema.columns().iter().map(|c| c.path().string()).collect::<Vec<_>>().join(", ");
        let Some(column_index) = schema.columns().iter().position(|c| c.path().string() == column) else {
            return Err(IngestError::MissingColumn {
                path: path.to_path_buf(),
                column: column.to_string(),
                found: found(),
            });
        };
        let desc = schema.column(column_index);
        if desc.physical_type() != PhysicalType::BYTE_ARRAY || desc.max_rep_level() > 0 {
            return Err(IngestError::ColumnNotString {
                path: path.to_path_buf(),
                column: column.to_string(),
                found: if desc.max_rep_level() > 0 {
                    "a repeated (list) field".to_string()
                } else {
                    format!("{:?}", desc.physical_type())
                },
            });
        }
        Ok(ParquetReader {
            path: path.to_path_buf(),
            column: column.to_string(),
            column_index,
            max_def_level: desc.max_def_level(),
            reader,
            row_group: 0,
            current: None,
            queue: VecDeque::new(),
            row: 0,
            failed: false,
        })
    }

    fn parquet_err(&self, e: impl std::fmt::Display) -> IngestError {
        IngestError::Parquet { path: self.path.clone(), reason: e.to_string() }
    }

    /// Decodes the next batch of values into the queue; false at the end of the file.
    fn fill(&mut self) -> Result<bool, IngestError> {
        loop {
            if self.current.is_none() {
                if self.row_group >= self.reader.num_row_groups() {
                    return Ok(false);
                }
                let rg = self.reader.get_row_group(self.row_group).map_err(|e| self.parquet_err(e))?;
                self.row_group += 1;
                match rg.get_column_reader(self.column_index).map_err(|e| self.parquet_err(e))? {
                    ColumnReader::ByteArrayColumnReader(r) => self.current = Some(r),
                    _ => return Err(self.parquet_err("column reader of unexpected type")),
                }
            }
            let reader = self.current.as_mut().expect("set above");
            let mut values: Vec<ByteArray> = Vec::with_capacity(BATCH_ROWS);
            let mut defs: Vec<i16> = Vec::with_capacity(BATCH_ROWS);
            let (records, _, _) = reader
                .read_records(BATCH_ROWS, Some(&mut defs), None, &mut values)
                .map_err(|e| IngestError::Parquet { path: self.path.clone(), reason: e.to_string() })?;
            if records == 0 {
                self.current = None;
                continue;
            }
            let mut values = values.into_iter();
            for r in 0..records {
                let row = self.row + r as u64;
                let id = format!("{}#{row}", self.path.display());
                let present = self.max_def_level == 0 || defs.get(r) == Some(&self.max_def_level);
                if !present {
                    self.queue.push_back(Record::Skipped(Skipped { what: id, reason: "null value".into() }));
                    continue;
                }
                let value = values.next().ok_or_else(|| self.parquet_err("fewer values than definition levels"))?;
                let text = std::str::from_utf8(value.data()).map_err(|_| IngestError::InvalidUtf8Value {
                    path: self.path.clone(),
                    column: self.column.clone(),
                    row,
                })?;
                self.queue.push_back(if text.trim().is_empty() {
                    Record::Skipped(Skipped { what: id, reason: "empty text".into() })
                } else {
                    Record::Document(Document { id, text: text.to_string() })
                });
            }
            self.row += records as u64;
            return Ok(true);
        }
    }
}

impl Iterator for ParquetReader {
    type Item = Result<Record, IngestError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        while self.queue.is_empty() {
            match self.fill() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
        self.queue.pop_front().map(Ok)
    }
}

/// Writes a small parquet file with one optional string column (tests of this crate and others).
#[doc(hidden)]
pub fn write_test_parquet(path: &Path, column: &str, values: &[Option<&str>]) -> parquet::errors::Result<()> {
    use parquet::data_type::ByteArrayType;
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;
    use std::sync::Arc;

    let schema = Arc::new(parse_message_type(&format!(
        "message doc {{ OPTIONAL BYTE_ARRAY {column} (UTF8); OPTIONAL INT64 id; }}"
    ))?);
    let file = File::create(path)?;
    let mut writer = SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::builder().build()))?;
    let mut rg = writer.next_row_group()?;
    let mut col = rg.next_column()?.expect("first column");
    let data: Vec<ByteArray> = values.iter().flatten().map(|s| ByteArray::from(*s)).collect();
    let defs: Vec<i16> = values.iter().map(|v| i16::from(v.is_some())).collect();
    col.typed::<ByteArrayType>().write_batch(&data, Some(&defs), None)?;
    col.close()?;
    let mut col = rg.next_column()?.expect("second column");
    let ids: Vec<i64> = (0..values.len() as i64).collect();
    col.typed::<parquet::data_type::Int64Type>().write_batch(&ids, Some(&vec![1; ids.len()]), None)?;
    col.close()?;
    rg.close()?;
    writer.close()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_string_column_and_reports_nulls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.parquet");
        write_test_parquet(&path, "text", &[Some("first doc"), None, Some(""), Some("third")]).unwrap();
        let recs: Vec<Record> = ParquetReader::new(&path, "text").unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(recs.len(), 4);
        assert!(matches!(&recs[0], Record::Document(d) if d.text == "first doc"));
        assert!(matches!(&recs[1], Record::Skipped(s) if s.reason == "null value"));
        assert!(matches!(&recs[2], Record::Skipped(s) if s.reason == "empty text"));
        assert!(matches!(&recs[3], Record::Document(d) if d.text == "third" && d.id.ends_with("#3")));
    }

    #[test]
    fn missing_column_lists_the_columns_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.parquet");
        write_test_parquet(&path, "content", &[Some("x")]).unwrap();
        let err = ParquetReader::new(&path, "text").err().unwrap();
        assert!(matches!(err, IngestError::MissingColumn { .. }));
        let msg = err.to_string();
        assert!(msg.contains("content") && msg.contains("id") && msg.contains("d.parquet"), "{msg}");
        let err = ParquetReader::new(&path, "id").err().unwrap();
        assert!(matches!(err, IngestError::ColumnNotString { .. }), "{err}");
    }

    #[test]
    fn not_a_parquet_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fake.parquet");
        std::fs::write(&path, b"not parquet at all").unwrap();
        let err = ParquetReader::new(&path, "text").err().unwrap();
        assert!(matches!(err, IngestError::Parquet { .. }), "{err}");
    }
}
