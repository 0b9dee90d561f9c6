//! Reading an export file as a table: a header row and rows of text cells, whatever the file
//! format (CSV, gzip-compressed CSV, XLSX, ServiceNow Table API JSON).

use std::cell::Cell;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use iso20k_bundle::Error;

use crate::values;

/// One row of an export.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// The line the row starts on (the sheet row, for XLSX; the array index plus one, for JSON).
    pub line: u64,
    /// The cells, in header order.
    pub cells: Vec<String>,
}

/// An export opened for reading.
pub struct Sheet {
    /// The file.
    pub path: PathBuf,
    /// The column names, as the tool wrote them (they may repeat, as in Jira exports).
    pub headers: Vec<String>,
    rows: Rows,
    read: Rc<Cell<u64>>,
    /// The file's size in bytes, for progress.
    pub size: u64,
}

enum Rows {
    Csv {
        reader: csv::Reader<Box<dyn Read>>,
        record: csv::ByteRecord,
    },
    Memory(std::vec::IntoIter<Row>),
}

impl Sheet {
    /// Opens a file, choosing the reader from its extension.
    pub fn open(path: &Path) -> Result<Sheet, Error> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let size = std::fs::metadata(path)
            .map_err(|e| Error::file(path, format!("cannot read: {e}")))?
            .len();
        if name.ends_with(".xlsx")
            || name.ends_with(".xlsm")
            || name.ends_with(".xls")
            || name.ends_with(".ods")
        {
            return xlsx(path, size);
        }
        if name.ends_with(".json") {
            return json(path, size);
        }
        if name.ends_with(".csv")
            || name.ends_with(".csv.gz")
            || name.ends_with(".txt")
            || name.ends_with(".tsv")
        {
            return csv_file(path, size, name.ends_with(".gz"));
        }
        Err(Error::file(
            path,
            "unknown file type: iso20k reads .csv, .tsv, .txt, .csv.gz, .xlsx, .xlsm, .xls, .ods and .json exports",
        ))
    }

    /// Bytes of the file read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read.get()
    }

    /// The next row, or `None` at the end.
    pub fn next_row(&mut self, row: &mut Row) -> Result<bool, Error> {
        match &mut self.rows {
            Rows::Memory(it) => match it.next() {
                Some(r) => {
                    *row = r;
                    Ok(true)
                }
                None => Ok(false),
            },
            Rows::Csv { reader, record } => {
                let more = reader.read_byte_record(record).map_err(|e| {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    let msg = match e.kind() {
                        csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => {
                            format!("row has {len} fields but the header has {expected_len}")
                        }
                        _ => e.to_string(),
                    };
                    Error::file(&self.path, msg).at_line(line, None, "")
                })?;
                if !more {
                    return Ok(false);
                }
                row.line = record.position().map(|p| p.line()).unwrap_or(0);
                // Cells are decoded into the row's own strings, reused from row to row, so a
                // million-row export costs no allocation per cell.
                row.cells.resize_with(record.len(), String::new);
                for (cell, bytes) in row.cells.iter_mut().zip(record.iter()) {
                    cell.clear();
                    decode_into(bytes, cell);
                }
                Ok(true)
            }
        }
    }
}

/// UTF-8 when it is; otherwise Latin-1, which older exports (BPI, some GLPI) are written in.
fn decode(bytes: &[u8]) -> String {
    let mut s = String::new();
    decode_into(bytes, &mut s);
    s
}

fn decode_into(bytes: &[u8], out: &mut String) {
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        Err(_) => out.extend(bytes.iter().map(|&b| b as char)),
    }
}

/// Counts the bytes read from the file, compressed or not, for a progress bar.
struct Counting<R> {
    inner: R,
    read: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

fn csv_file(path: &Path, size: u64, gzip: bool) -> Result<Sheet, Error> {
    let cant = |e: std::io::Error| Error::file(path, format!("cannot read: {e}"));
    let read = Rc::new(Cell::new(0));
    let counted = Counting {
        inner: File::open(path).map_err(cant)?,
        read: read.clone(),
    };
    let mut input: Box<dyn Read> = if gzip {
        Box::new(flate2::read::GzDecoder::new(BufReader::new(counted)))
    } else {
        Box::new(BufReader::new(counted))
    };

    // Peek at the header line to choose the delimiter: exports from European locales use `;`.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while head.len() < 64 * 1024 {
        match input.read(&mut byte).map_err(cant)? {
            0 => break,
            _ if byte[0] == b'\n' => {
                head.push(b'\n');
                break;
            }
            _ => head.push(byte[0]),
        }
    }
    let delimiter = [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|d| head.iter().filter(|b| *b == d).count())
        .unwrap_or(b',');
    let input: Box<dyn Read> = Box::new(std::io::Cursor::new(head).chain(input));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(false)
        .from_reader(input);
    let headers: Vec<String> = reader
        .byte_headers()
        .map_err(|e| Error::file(path, format!("cannot read the header row: {e}")))?
        .iter()
        .map(|h| decode(h).trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(Error::file(
            path,
            "the file is empty: an export needs at least its header row",
        ));
    }
    Ok(Sheet {
        path: path.to_owned(),
        headers,
        rows: Rows::Csv {
            reader,
            record: csv::ByteRecord::new(),
        },
        read,
        size,
    })
}

fn xlsx(path: &Path, size: u64) -> Result<Sheet, Error> {
    use calamine::{Data, Reader as _};
    let mut book = calamine::open_workbook_auto(path)
        .map_err(|e| Error::file(path, format!("cannot read the workbook: {e}")))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| Error::file(path, "the workbook has no sheet"))?
        .map_err(|e| Error::file(path, format!("cannot read the first sheet: {e}")))?;
    let cell = |d: &Data| -> String {
        match d {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Data::Float(f) => f.to_string(),
            Data::Int(i) => i.to_string(),
            Data::Bool(b) => b.to_string(),
            Data::DateTime(dt) => values::excel_serial(dt.as_f64())
                .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_else(|| dt.to_string()),
            Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
            Data::Error(e) => format!("#{e:?}"),
        }
    };
    let (first_row, _) = range.start().unwrap_or((0, 0));
    let mut rows = range.rows();
    let headers: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(|c| cell(c).trim().to_owned()).collect())
        .unwrap_or_default();
    if headers.iter().all(String::is_empty) {
        return Err(Error::file(
            path,
            "the first sheet is empty: an export needs at least its header row",
        ));
    }
    let data: Vec<Row> = rows
        .enumerate()
        .map(|(i, r)| Row {
            line: u64::from(first_row) + i as u64 + 2,
            cells: r.iter().map(cell).collect(),
        })
        .filter(|r| r.cells.iter().any(|c| !c.trim().is_empty()))
        .collect();
    Ok(Sheet {
        path: path.to_owned(),
        headers,
        rows: Rows::Memory(data.into_iter()),
        read: Rc::new(Cell::new(size)),
        size,
    })
}

/// ServiceNow's Table API answers `{"result": [...]}`; reference fields come as
/// `{"link", "value"}` objects, or `{"display_value", "value"}` when display values were asked for.
fn json(path: &Path, size: u64) -> Result<Sheet, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::file(path, format!("cannot read: {e}")))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::file(path, format!("not valid JSON: {e}")).at(
            e.line() as u64,
            Some(e.column() as u64),
            Some(&text),
        )
    })?;
    let records = match &doc {
        serde_json::Value::Object(o) => o.get("result").and_then(|r| r.as_array()),
        serde_json::Value::Array(a) => Some(a),
        _ => None,
    }
    .ok_or_else(|| {
        Error::file(
            path,
            "expected a Table API answer: {\"result\": [ … ]} or an array of records",
        )
    })?;
    let mut headers: Vec<String> = Vec::new();
    for r in records {
        if let Some(o) = r.as_object() {
            for k in o.keys() {
                if !headers.contains(k) {
                    headers.push(k.clone());
                }
            }
        }
    }
    let scalar = |v: &serde_json::Value| -> String {
        match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Object(o) => o
                .get("display_value")
                .or_else(|| o.get("value"))
                .and_then(|x| x.as_str())
                .unwrap_or_default()
                .to_owned(),
            other => other.to_string(),
        }
    };
    let data: Vec<Row> = records
        .iter()
        .enumerate()
        .map(|(i, r)| Row {
            line: i as u64 + 1,
            cells: headers
                .iter()
                .map(|h| r.get(h).map(scalar).unwrap_or_default())
                .collect(),
        })
        .collect();
    Ok(Sheet {
        path: path.to_owned(),
        headers,
        rows: Rows::Memory(data.into_iter()),
        read: Rc::new(Cell::new(size)),
        size,
    })
}
