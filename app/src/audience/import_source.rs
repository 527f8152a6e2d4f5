//! Reading import files record by record in bounded memory, resumable at
//! any record boundary: each record carries the byte offset and line
//! number right after it, which the job stores with the rows it committed.
//!
//! CSV goes through `csv-core`'s push parser, so a record never grows past
//! [`MAX_RECORD_BYTES`] however broken the file (an unclosed quote cannot
//! swallow a 2 GB file into memory). JSON is a top-level array of objects
//! or newline-delimited objects, split by a small scanner that tracks
//! strings and nesting, under the same limit.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};

pub const MAX_RECORD_BYTES: usize = 4 * 1024 * 1024;
pub const MAX_FIELDS: usize = 1000;

/// One record: its fields (column name, text) or why it cannot be read.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The line the record starts on (1-based, physical lines).
    pub line: u64,
    pub fields: Result<Vec<(String, String)>, String>,
    /// Where the next record starts: resume here after committing this one.
    pub end_offset: u64,
    pub end_line: u64,
}

pub trait RecordSource: Send {
    /// The next record, or `None` at the end of the file.
    fn next_record(&mut self) -> std::io::Result<Option<Record>>;
}

/// Opens `path` at a resume point (0 and line 1 for a fresh start).
pub fn open(format: &str, path: &std::path::Path, columns: &[String], offset: u64, line: u64) -> std::io::Result<Box<dyn RecordSource>> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let reader = BufReader::with_capacity(256 * 1024, file);
    Ok(match format {
        "json" => Box::new(JsonSource::new(reader, offset, line)),
        _ => Box::new(CsvSource::new(reader, columns.to_vec(), offset, line)),
    })
}

/// The column names of a file: the CSV header row, or the keys of the
/// first JSON object (in order). Also returns where the data starts.
pub fn detect_columns(format: &str, path: &std::path::Path) -> Result<(Vec<String>, u64, u64), String> {
    let file = File::open(path).map_err(|e| format!("cannot read the upload: {e}"))?;
    let reader = BufReader::new(file);
    match format {
        "json" => {
            let mut source = JsonSource::new(reader, 0, 1);
            match source.next_record().map_err(|e| e.to_string())? {
                None => Err("the file holds no JSON records".into()),
                Some(Record { fields: Err(reason), line, .. }) => Err(format!("line {line}: {reason}")),
                // JSON data starts at the beginning: the first record is data.
                Some(Record { fields: Ok(fields), .. }) => Ok((fields.into_iter().map(|(k, _)| k).collect(), 0, 1)),
            }
        }
        _ => {
            let mut source = CsvSource::new(reader, Vec::new(), 0, 1);
            let header = source.read_raw().map_err(|e| e.to_string())?.ok_or("the file is empty")?;
            let (fields, end_offset, end_line) = match header {
                RawRecord { fields: Ok(fields), end_offset, end_line, .. } => (fields, end_offset, end_line),
                RawRecord { fields: Err(reason), .. } => return Err(format!("line 1 (the header row): {reason}")),
            };
            let mut columns = Vec::with_capacity(fields.len());
            for (i, name) in fields.into_iter().enumerate() {
                let name = if i == 0 { name.trim_start_matches('\u{feff}').to_string() } else { name };
                let name = name.trim().to_string();
                if name.is_empty() {
                    return Err(format!("column {} of the header row has no name", i + 1));
                }
                if name.chars().count() > 200 {
                    return Err(format!("column {} of the header row is longer than 200 characters", i + 1));
                }
                if columns.contains(&name) {
                    return Err(format!("the header row names {name:?} twice"));
                }
                columns.push(name);
            }
            Ok((columns, end_offset, end_line))
        }
    }
}

struct RawRecord {
    line: u64,
    fields: Result<Vec<String>, String>,
    end_offset: u64,
    end_line: u64,
}

pub struct CsvSource {
    reader: BufReader<File>,
    parser: csv_core::Reader,
    columns: Vec<String>,
    offset: u64,
    line: u64,
    output: Vec<u8>,
    ends: Vec<usize>,
    done: bool,
}

impl CsvSource {
    fn new(reader: BufReader<File>, columns: Vec<String>, offset: u64, line: u64) -> CsvSource {
        CsvSource {
            reader,
            parser: csv_core::Reader::new(),
            columns,
            offset,
            line,
            output: vec![0; 64 * 1024],
            ends: vec![0; 64],
            done: false,
        }
    }

    fn read_raw(&mut self) -> std::io::Result<Option<RawRecord>> {
        use csv_core::ReadRecordResult::*;
        if self.done {
            return Ok(None);
        }
        let (mut out_len, mut ends_len) = (0usize, 0usize);
        let mut start_line: Option<u64> = None;
        let mut problem: Option<String> = None;
        loop {
            let input = self.reader.fill_buf()?;
            let (result, n_in, n_out, n_ends) = self.parser.read_record(input, &mut self.output[out_len..], &mut self.ends[ends_len..]);
            for &b in &input[..n_in] {
                if start_line.is_none() && b != b'\n' && b != b'\r' {
                    start_line = Some(self.line);
                }
                if b == b'\n' {
                    self.line += 1;
                }
            }
            self.reader.consume(n_in);
            self.offset += n_in as u64;
            out_len += n_out;
            ends_len += n_ends;
            match result {
                InputEmpty => continue,
                OutputFull => {
                    if self.output.len() >= MAX_RECORD_BYTES {
                        // Keep parsing to find the record's end, but drop
                        // its text: memory stays bounded.
                        problem.get_or_insert_with(|| format!("the record is larger than {} MiB", MAX_RECORD_BYTES / (1024 * 1024)));
                        out_len = 0;
                        ends_len = 0;
                    } else {
                        let grown = (self.output.len() * 2).min(MAX_RECORD_BYTES);
                        self.output.resize(grown, 0);
                    }
                }
                OutputEndsFull => {
                    if self.ends.len() >= MAX_FIELDS {
                        problem.get_or_insert_with(|| format!("the record has more than {MAX_FIELDS} fields"));
                        out_len = 0;
                        ends_len = 0;
                    } else {
                        let grown = (self.ends.len() * 2).min(MAX_FIELDS);
                        self.ends.resize(grown, 0);
                    }
                }
                Record => {
                    let line = start_line.unwrap_or(self.line);
                    let fields = match problem {
                        Some(p) => Err(p),
                        None => self.decode(out_len, ends_len),
                    };
                    return Ok(Some(RawRecord { line, fields, end_offset: self.offset, end_line: self.line }));
                }
                End => {
                    self.done = true;
                    return Ok(None);
                }
            }
        }
    }

    fn decode(&self, out_len: usize, ends_len: usize) -> Result<Vec<String>, String> {
        let mut fields = Vec::with_capacity(ends_len);
        let mut start = 0;
        for (i, &end) in self.ends[..ends_len].iter().enumerate() {
            let bytes = &self.output[start..end.min(out_len)];
            match std::str::from_utf8(bytes) {
                Ok(text) => fields.push(text.to_string()),
                Err(_) => return Err(format!("field {} is not valid UTF-8 (save the file as UTF-8)", i + 1)),
            }
            start = end;
        }
        Ok(fields)
    }
}

impl RecordSource for CsvSource {
    fn next_record(&mut self) -> std::io::Result<Option<Record>> {
        loop {
            let Some(raw) = self.read_raw()? else { return Ok(None) };
            let fields = match raw.fields {
                // A line holding only separators or whitespace is padding.
                Ok(values) if values.iter().all(|v| v.trim().is_empty()) => continue,
                Ok(values) if values.len() != self.columns.len() => {
                    Err(format!("expected {} fields like the header row, found {}", self.columns.len(), values.len()))
                }
                Ok(values) => Ok(self.columns.iter().cloned().zip(values).collect()),
                Err(reason) => Err(reason),
            };
            return Ok(Some(Record { line: raw.line, fields, end_offset: raw.end_offset, end_line: raw.end_line }));
        }
    }
}

pub struct JsonSource {
    reader: BufReader<File>,
    offset: u64,
    line: u64,
    buffer: Vec<u8>,
    done: bool,
}

impl JsonSource {
    fn new(reader: BufReader<File>, offset: u64, line: u64) -> JsonSource {
        JsonSource { reader, offset, line, buffer: Vec::new(), done: false }
    }

    fn peek_byte(&mut self) -> std::io::Result<Option<u8>> {
        Ok(self.reader.fill_buf()?.first().copied())
    }

    fn take_byte(&mut self) -> std::io::Result<Option<u8>> {
        let b = self.peek_byte()?;
        if let Some(b) = b {
            self.reader.consume(1);
            self.offset += 1;
            if b == b'\n' {
                self.line += 1;
            }
        }
        Ok(b)
    }
}

impl RecordSource for JsonSource {
    fn next_record(&mut self) -> std::io::Result<Option<Record>> {
        if self.done {
            return Ok(None);
        }
        // Between records: whitespace, the array's brackets and commas.
        loop {
            match self.peek_byte()? {
                None => {
                    self.done = true;
                    return Ok(None);
                }
                Some(b' ' | b'\t' | b'\r' | b'\n' | b',' | b'[') => {
                    self.take_byte()?;
                }
                Some(b']') => {
                    self.take_byte()?;
                }
                Some(_) => break,
            }
        }
        let line = self.line;
        self.buffer.clear();
        let (mut depth, mut in_string, mut escaped, mut too_large) = (0usize, false, false, false);
        let first = self.peek_byte()?.unwrap_or(b' ');
        let scalar = first != b'{' && first != b'[';
        loop {
            let Some(b) = self.take_byte()? else {
                self.done = true;
                if depth > 0 || in_string {
                    return Ok(Some(Record {
                        line,
                        fields: Err("the JSON record is not closed before the end of the file".into()),
                        end_offset: self.offset,
                        end_line: self.line,
                    }));
                }
                break;
            };
            if self.buffer.len() < MAX_RECORD_BYTES {
                self.buffer.push(b);
            } else {
                too_large = true;
            }
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                // A bare value (number, literal) ends at a separator.
                b',' | b'\n' if scalar && depth == 0 => {
                    self.buffer.pop();
                    break;
                }
                _ => {}
            }
        }
        let fields = if too_large {
            Err(format!("the record is larger than {} MiB", MAX_RECORD_BYTES / (1024 * 1024)))
        } else {
            match serde_json::from_slice::<serde_json::Value>(&self.buffer) {
                Err(e) => Err(format!("not valid JSON: {}", strip_position(&e.to_string()))),
                Ok(serde_json::Value::Object(map)) => flatten(map),
                Ok(_) => Err("each record must be a JSON object".into()),
            }
        };
        Ok(Some(Record { line, fields, end_offset: self.offset, end_line: self.line }))
    }
}

fn strip_position(message: &str) -> &str {
    message.find(" at line ").map(|i| &message[..i]).unwrap_or(message)
}

/// Values as text, the way a CSV cell would hold them; lists (tags) join
/// with ";". Nested objects have no column to go to.
fn flatten(map: serde_json::Map<String, serde_json::Value>) -> Result<Vec<(String, String)>, String> {
    use serde_json::Value;
    let mut fields = Vec::with_capacity(map.len());
    for (key, value) in map {
        let text = match value {
            Value::Null => String::new(),
            Value::String(s) => s,
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Array(items) => {
                let mut parts = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) => parts.push(s),
                        Value::Number(n) => parts.push(n.to_string()),
                        _ => return Err(format!("{key}: lists may hold only text and numbers")),
                    }
                }
                parts.join(";")
            }
            Value::Object(_) => return Err(format!("{key}: nested objects are not supported; flatten them into fields")),
        };
        fields.push((key, text));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(bytes: &[u8]) -> tempfile_path::TempPath {
        tempfile_path::TempPath::new(bytes)
    }

    /// A tiny temp-file helper; the test suite has no tempfile crate.
    mod tempfile_path {
        pub struct TempPath(pub std::path::PathBuf);
        impl TempPath {
            pub fn new(bytes: &[u8]) -> TempPath {
                let path = std::env::temp_dir().join(format!("corral-src-{}", uuid::Uuid::now_v7()));
                std::fs::write(&path, bytes).unwrap();
                TempPath(path)
            }
        }
        impl Drop for TempPath {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    fn read_all(format: &str, bytes: &[u8]) -> (Vec<String>, Vec<Record>) {
        let file = file_with(bytes);
        let (columns, offset, line) = detect_columns(format, &file.0).unwrap();
        let mut source = open(format, &file.0, &columns, offset, line).unwrap();
        let mut records = Vec::new();
        while let Some(r) = source.next_record().unwrap() {
            records.push(r);
        }
        (columns, records)
    }

    #[test]
    fn csv_reports_bad_rows_by_line_and_keeps_good_ones() {
        let mut bytes = b"\xef\xbb\xbfname,email\nAda,ada@x.io\n\"Multi\nline\",m@x.io\nragged\n".to_vec();
        bytes.extend_from_slice(b"Bad \xff byte,b@x.io\n\"quoted, comma\",\"q\"\"uote@x.io\"\nlast,l@x.io");
        let (columns, records) = read_all("csv", &bytes);
        assert_eq!(columns, vec!["name", "email"]);
        let lines: Vec<u64> = records.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![2, 3, 5, 6, 7, 8]);
        assert_eq!(records[1].fields.as_ref().unwrap()[0].1, "Multi\nline");
        assert!(records[2].fields.as_ref().unwrap_err().contains("expected 2 fields"));
        assert!(records[3].fields.as_ref().unwrap_err().contains("UTF-8"));
        assert_eq!(records[4].fields.as_ref().unwrap()[1].1, "q\"uote@x.io");
        assert_eq!(records[5].fields.as_ref().unwrap()[0].1, "last");
    }

    #[test]
    fn csv_resumes_at_a_record_boundary_with_the_right_line_numbers() {
        let bytes = b"name,email\na,a@x.io\nb,b@x.io\nc,c@x.io\n";
        let (_, all) = read_all("csv", bytes);
        let file = file_with(bytes);
        let columns = vec!["name".to_string(), "email".to_string()];
        let mut resumed = open("csv", &file.0, &columns, all[0].end_offset, all[0].end_line).unwrap();
        let rest: Vec<Record> = std::iter::from_fn(|| resumed.next_record().unwrap()).collect();
        assert_eq!(rest, all[1..].to_vec());
    }

    #[test]
    fn csv_bounds_memory_for_an_unclosed_quote() {
        let mut bytes = b"name,email\n\"never closed,".to_vec();
        let chunk = vec![b'x'; 1024 * 1024];
        for _ in 0..6 {
            bytes.extend_from_slice(&chunk);
        }
        let (_, records) = read_all("csv", &bytes);
        assert_eq!(records.len(), 1);
        assert!(records[0].fields.as_ref().unwrap_err().contains("larger than 4 MiB"));
    }

    #[test]
    fn json_arrays_and_lines_split_into_records() {
        let (columns, records) = read_all(
            "json",
            b"[\n {\"name\": \"A}\", \"tags\": [\"x\", \"y\"]},\n 42,\n {\"name\": \"B\", \"n\": {\"deep\": 1}},\n {\"name\": \"C\" \n]",
        );
        assert_eq!(columns, vec!["name", "tags"]);
        assert_eq!(records[0].fields.as_ref().unwrap(), &vec![("name".into(), "A}".into()), ("tags".into(), "x;y".into())]);
        assert_eq!(records[1].line, 3);
        assert!(records[1].fields.is_err());
        assert!(records[2].fields.as_ref().unwrap_err().contains("nested"));
        assert!(records[3].fields.is_err());
        let (_, ndjson) = read_all("json", b"{\"name\": \"A\"}\n{\"name\": \"B\"}\n");
        assert_eq!(ndjson.len(), 2);
        assert_eq!(ndjson[1].line, 2);
        let _ = std::io::sink().write(b"");
    }
}
