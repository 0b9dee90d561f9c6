//! Reading an export file as a table: a header row and rows of text cells, whatever the file
//! format (CSV, gzip-compressed CSV, XLSX, ServiceNow Table API JSON).

use std::cell::Cell;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use iso20k_bundle::Error;

use crate::values;

/// The bounds every export is read within, so that a hostile file costs at most this much memory
/// and time. Each violation is an input error naming the file (and the row and column where it
/// can). docs/import.md lists them.
#[derive(Debug, Clone, Copy)]
pub struct Limits;

impl Limits {
    /// Rows of one export (not counting the header).
    pub const MAX_ROWS: u64 = 10_000_000;
    /// Columns of one export. For XLSX, also the widest column range a sheet may declare.
    pub const MAX_COLUMNS: usize = 2048;
    /// Bytes of one cell (of one JSON value, of one shared string of a workbook).
    pub const MAX_FIELD_BYTES: usize = 1 << 20;
    /// Bytes of one CSV row as written, delimiters, quotes and line breaks included.
    pub const MAX_ROW_BYTES: u64 = 16 << 20;
    /// Characters of a ticket number (or of any key): a record key in the team server's store
    /// has at most 500 characters.
    pub const MAX_ID_CHARS: usize = iso20k_bundle::MAX_KEY_CHARS;
    /// Bytes a gzip input may inflate to.
    pub const MAX_DECOMPRESSED_BYTES: u64 = 4 << 30;
    /// How many times its compressed size a gzip input, or an entry of a workbook, may inflate
    /// to, once it is past [`Limits::RATIO_FLOOR`] bytes (small files compress well and are
    /// harmless).
    pub const MAX_RATIO: u64 = 100;
    /// Below this many decompressed bytes the ratio is not checked.
    pub const RATIO_FLOOR: u64 = 16 << 20;
    /// Bytes one entry of a workbook (a zip archive) may inflate to.
    pub const MAX_WORKBOOK_ENTRY_BYTES: u64 = 256 << 20;
    /// Bytes all the entries of a workbook may inflate to together.
    pub const MAX_WORKBOOK_BYTES: u64 = 1 << 30;
    /// Entries of a workbook.
    pub const MAX_WORKBOOK_ENTRIES: usize = 10_000;
    /// Rows a sheet of a workbook may declare (its `<dimension>`): Excel's own maximum.
    pub const MAX_SHEET_ROWS: u64 = 1_048_576;
    /// Bytes of a JSON export.
    pub const MAX_JSON_BYTES: u64 = 256 << 20;
    /// Nesting of a JSON export: `{"result": [{"field": {"display_value": …}}]}` is 3 deep.
    pub const MAX_JSON_DEPTH: usize = 16;
    /// Keys and values of a JSON export, counted together.
    pub const MAX_JSON_VALUES: u64 = 10_000_000;
}

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
        /// Where the row being read starts, in bytes of the (decompressed) stream.
        mark: Rc<Cell<u64>>,
        rows: u64,
    },
    /// Rows held as their non-empty cells only (column index, text), so that a sparse sheet or
    /// a JSON export with many keys costs what it holds, not rows times columns.
    Sparse {
        rows: std::vec::IntoIter<(u64, Vec<(usize, String)>)>,
        width: usize,
    },
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
            Rows::Sparse { rows, width } => match rows.next() {
                Some((line, cells)) => {
                    row.line = line;
                    row.cells.clear();
                    row.cells.resize_with(*width, String::new);
                    for (i, c) in cells {
                        row.cells[i] = c;
                    }
                    Ok(true)
                }
                None => Ok(false),
            },
            Rows::Csv {
                reader,
                record,
                mark,
                rows,
            } => {
                let more = reader.read_byte_record(record).map_err(|e| {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    let msg = match e.kind() {
                        csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => {
                            format!("row has {len} fields but the header has {expected_len}")
                        }
                        csv::ErrorKind::Io(io) => io.to_string(),
                        _ => e.to_string(),
                    };
                    let e = Error::file(&self.path, msg);
                    if line > 0 {
                        e.at_line(line, None, "")
                    } else {
                        e
                    }
                })?;
                if !more {
                    return Ok(false);
                }
                mark.set(reader.position().byte());
                row.line = record.position().map(|p| p.line()).unwrap_or(0);
                *rows += 1;
                if *rows > Limits::MAX_ROWS {
                    return Err(Error::file(
                        &self.path,
                        format!("more than {} rows: split the export", Limits::MAX_ROWS),
                    )
                    .at_line(row.line, None, ""));
                }
                if let Some(i) = record
                    .iter()
                    .position(|c| c.len() > Limits::MAX_FIELD_BYTES)
                {
                    return Err(too_long(&self.path, row.line, self.headers.get(i)));
                }
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

fn too_long(path: &Path, line: u64, header: Option<&String>) -> Error {
    let e = Error::file(
        path,
        format!(
            "a cell holds more than {} bytes, the most iso20k reads in one cell",
            Limits::MAX_FIELD_BYTES
        ),
    )
    .at_line(line, None, "");
    match header {
        Some(h) => e.field(h),
        None => e,
    }
}

/// Bounds the (decompressed) stream a CSV reader reads: the bytes of one row, and for gzip the
/// bytes inflated in all and their ratio to the compressed bytes read so far. A violation ends
/// the read with an error whose text is the message shown.
struct Guarded<R> {
    inner: R,
    out: u64,
    /// Bytes of the file read so far (compressed, for gzip).
    compressed: Rc<Cell<u64>>,
    /// Where the current row starts.
    mark: Rc<Cell<u64>>,
    gzip: bool,
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        let refuse = |m: String| Err(std::io::Error::other(m));
        if self.gzip {
            if self.out > Limits::MAX_DECOMPRESSED_BYTES {
                return refuse(format!(
                    "the compressed file inflates to more than {} bytes, the most iso20k reads",
                    Limits::MAX_DECOMPRESSED_BYTES
                ));
            }
            let packed = self.compressed.get().max(1);
            if self.out > Limits::RATIO_FLOOR && self.out / packed > Limits::MAX_RATIO {
                return refuse(format!(
                    "the compressed file inflates more than {} times ({} bytes from {packed}): refused as a decompression bomb",
                    Limits::MAX_RATIO,
                    self.out
                ));
            }
        }
        if self.out.saturating_sub(self.mark.get()) > Limits::MAX_ROW_BYTES {
            return refuse(format!(
                "a row is longer than {} bytes, the most iso20k reads in one row",
                Limits::MAX_ROW_BYTES
            ));
        }
        Ok(n)
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
    let inflated: Box<dyn Read> = if gzip {
        Box::new(flate2::read::GzDecoder::new(BufReader::new(counted)))
    } else {
        Box::new(BufReader::new(counted))
    };
    let mark = Rc::new(Cell::new(0));
    let mut input: Box<dyn Read> = Box::new(Guarded {
        inner: inflated,
        out: 0,
        compressed: read.clone(),
        mark: mark.clone(),
        gzip,
    });

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
    let header_row = reader.byte_headers().map_err(|e| {
        let msg = match e.kind() {
            csv::ErrorKind::Io(io) => io.to_string(),
            _ => e.to_string(),
        };
        Error::file(path, format!("cannot read the header row: {msg}"))
    })?;
    if header_row.len() > Limits::MAX_COLUMNS {
        return Err(too_wide(path, header_row.len()));
    }
    if header_row.iter().any(|c| c.len() > Limits::MAX_FIELD_BYTES) {
        return Err(too_long(path, 1, None));
    }
    let headers: Vec<String> = header_row
        .iter()
        .map(|h| decode(h).trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    mark.set(reader.position().byte());
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
            mark,
            rows: 0,
        },
        read,
        size,
    })
}

fn too_wide(path: &Path, n: usize) -> Error {
    Error::file(
        path,
        format!(
            "{n} columns, more than the {} iso20k reads",
            Limits::MAX_COLUMNS
        ),
    )
}

/// Checks a zip archive (an XLSX or ODS workbook) before anything inflates it for good: the
/// entries' declared sizes and ratios from the central directory, then each entry inflated
/// into nothing, stopping as soon as it passes what it declared or the limits, while looking
/// for text runs longer than a cell may be and for worksheet dimensions wider than the limits.
/// Memory stays at one buffer whatever the archive holds.
pub fn check_archive(path: &Path) -> Result<(), Error> {
    let bad = |m: String| Error::file(path, m);
    let file = File::open(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| bad(format!("cannot read the workbook: {e}")))?;
    if zip.len() > Limits::MAX_WORKBOOK_ENTRIES {
        return Err(bad(format!(
            "the workbook has {} parts, more than the {} iso20k reads",
            zip.len(),
            Limits::MAX_WORKBOOK_ENTRIES
        )));
    }
    let ratio = |name: &str, size: u64, packed: u64| -> Result<(), Error> {
        if size > Limits::RATIO_FLOOR && size / packed.max(1) > Limits::MAX_RATIO {
            return Err(bad(format!(
                "part `{name}` of the workbook inflates more than {} times ({size} bytes from {packed}): refused as a decompression bomb",
                Limits::MAX_RATIO
            )));
        }
        if size > Limits::MAX_WORKBOOK_ENTRY_BYTES {
            return Err(bad(format!(
                "part `{name}` of the workbook inflates to {size} bytes, more than the {} iso20k reads",
                Limits::MAX_WORKBOOK_ENTRY_BYTES
            )));
        }
        Ok(())
    };
    let mut declared = Vec::with_capacity(zip.len());
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| bad(format!("cannot read the workbook: {e}")))?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        ratio(&name, entry.size(), entry.compressed_size())?;
        total = total.saturating_add(entry.size());
        declared.push((name, entry.size(), entry.compressed_size()));
    }
    if total > Limits::MAX_WORKBOOK_BYTES {
        return Err(bad(format!(
            "the workbook inflates to {total} bytes, more than the {} iso20k reads",
            Limits::MAX_WORKBOOK_BYTES
        )));
    }
    let mut buf = vec![0u8; 64 * 1024];
    for (i, (name, size, packed)) in declared.into_iter().enumerate() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| bad(format!("cannot read part `{name}` of the workbook: {e}")))?;
        let xml = name.ends_with(".xml") || name.ends_with(".rels");
        let sheet = name.starts_with("xl/worksheets/") && name.ends_with(".xml");
        let mut head: Vec<u8> = Vec::new();
        let mut tail: Vec<u8> = Vec::new();
        let mut out = 0u64;
        let mut run = 0usize;
        loop {
            let n = entry
                .read(&mut buf)
                .map_err(|e| bad(format!("cannot read part `{name}` of the workbook: {e}")))?;
            if n == 0 {
                break;
            }
            out += n as u64;
            if out > size {
                return Err(bad(format!(
                    "part `{name}` of the workbook inflates past the {size} bytes it declares: refused as a decompression bomb"
                )));
            }
            ratio(&name, out, packed)?;
            if xml {
                // Text between tags is where cell values and shared strings are: a run with
                // no `<` longer than a cell may be is a cell too long to read.
                let mut longest = 0;
                for &b in &buf[..n] {
                    if b == b'<' {
                        run = 0;
                    } else {
                        run += 1;
                        longest = longest.max(run);
                    }
                }
                if longest > Limits::MAX_FIELD_BYTES {
                    return Err(bad(format!(
                        "part `{name}` of the workbook holds a text longer than {} bytes, the most iso20k reads in one cell",
                        Limits::MAX_FIELD_BYTES
                    )));
                }
            }
            if sheet {
                if head.len() < 64 * 1024 {
                    head.extend_from_slice(&buf[..n.min(64 * 1024 - head.len())]);
                }
                // Every ` r="…"` (a row's number, a cell's reference) must lie within the
                // limits, whatever the dimension says; the tail of the previous chunk is kept
                // so a reference split between two chunks is seen whole.
                tail.extend_from_slice(&buf[..n]);
                check_refs(path, &name, &tail)?;
                let keep = tail.len().min(32);
                tail.drain(..tail.len() - keep);
            }
        }
        if sheet {
            check_dimension(path, &name, &head)?;
        }
    }
    Ok(())
}

/// A worksheet's `<dimension ref="A1:XFD1048576"/>` says how large its range is; calamine would
/// make room for all of it.
fn check_dimension(path: &Path, name: &str, head: &[u8]) -> Result<(), Error> {
    let text = String::from_utf8_lossy(head);
    let Some(at) = text.find("<dimension") else {
        return Ok(());
    };
    let rest = &text[at..];
    let Some(r) = rest.find("ref=") else {
        return Ok(());
    };
    let value: String = rest[r + 5..]
        .chars()
        .take_while(|c| *c != '"' && *c != '\'')
        .take(64)
        .collect();
    let (first, last) = value.split_once(':').unwrap_or((&value, &value));
    let (Some((r0, c0)), Some((r1, c1))) = (cell_ref(first), cell_ref(last)) else {
        // A range no spreadsheet writes: the readers downstream would overflow on it.
        return Err(Error::file(
            path,
            format!("sheet `{name}` declares a range `{value}` that is not a cell range"),
        ));
    };
    let rows = r1.saturating_sub(r0) + 1;
    let cols = c1.saturating_sub(c0) + 1;
    if cols > Limits::MAX_COLUMNS as u64 || rows > Limits::MAX_SHEET_ROWS {
        return Err(Error::file(
            path,
            format!(
                "sheet `{name}` spans {value} ({rows} rows, {cols} columns), more than the {} rows and {} columns iso20k reads",
                Limits::MAX_SHEET_ROWS,
                Limits::MAX_COLUMNS
            ),
        ));
    }
    Ok(())
}

/// The row and cell references (` r="12"`, ` r="XFD12"`) in a piece of worksheet XML.
fn check_refs(path: &Path, name: &str, xml: &[u8]) -> Result<(), Error> {
    const NEEDLE: &[u8] = b" r=\"";
    let mut at = 0;
    while let Some(i) = xml[at..].windows(NEEDLE.len()).position(|w| w == NEEDLE) {
        let start = at + i + NEEDLE.len();
        let value: Vec<u8> = xml[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'$')
            .take(24)
            .copied()
            .collect();
        at = start;
        let value = String::from_utf8_lossy(&value);
        let (row, col) = if value.bytes().all(|b| b.is_ascii_digit()) {
            (value.parse::<u64>().unwrap_or(u64::MAX), 1)
        } else {
            // A reference that is not letters then digits, or too long to be one, is refused:
            // skipped, it reaches readers that overflow on it.
            cell_ref(&value).unwrap_or((u64::MAX, u64::MAX))
        };
        if row > Limits::MAX_SHEET_ROWS || col > Limits::MAX_COLUMNS as u64 {
            return Err(Error::file(
                path,
                format!(
                    "sheet `{name}` has a cell at {value}, beyond the {} rows and {} columns iso20k reads",
                    Limits::MAX_SHEET_ROWS,
                    Limits::MAX_COLUMNS
                ),
            ));
        }
    }
    Ok(())
}

/// `XFD1048576` as (row, column), both counting from 1.
fn cell_ref(s: &str) -> Option<(u64, u64)> {
    let s = s.trim().replace('$', "");
    let letters = s.bytes().take_while(u8::is_ascii_alphabetic).count();
    if letters == 0 || letters > 7 {
        return None;
    }
    let col = s[..letters].bytes().fold(0u64, |c, b| {
        c * 26 + u64::from(b.to_ascii_uppercase() - b'A' + 1)
    });
    let row = s[letters..].parse::<u64>().ok()?;
    Some((row, col))
}

fn xl_cell(d: &calamine::Data) -> String {
    use calamine::Data;
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
}

/// Turns non-empty cells at (row, column), counting from 0, into a sheet: the first row that
/// holds anything is the header.
fn sparse_sheet(
    path: &Path,
    size: u64,
    mut cells: Vec<(u32, u32, String)>,
) -> Result<Sheet, Error> {
    cells.sort_by_key(|c| (c.0, c.1));
    let Some(first_row) = cells.first().map(|c| c.0) else {
        return Err(Error::file(
            path,
            "the first sheet is empty: an export needs at least its header row",
        ));
    };
    let first_col = cells.iter().map(|c| c.1).min().unwrap_or(0);
    let last_col = cells.iter().map(|c| c.1).max().unwrap_or(0);
    let width = (last_col - first_col) as usize + 1;
    if width > Limits::MAX_COLUMNS {
        return Err(too_wide(path, width));
    }
    let mut headers = vec![String::new(); width];
    let mut rows: Vec<(u64, Vec<(usize, String)>)> = Vec::new();
    for (r, c, text) in cells {
        let col = (c - first_col) as usize;
        if r == first_row {
            headers[col] = text.trim().to_owned();
            continue;
        }
        if text.trim().is_empty() {
            continue;
        }
        let line = u64::from(r) + 1;
        match rows.last_mut() {
            Some(last) if last.0 == line => last.1.push((col, text)),
            _ => rows.push((line, vec![(col, text)])),
        }
    }
    if headers.iter().all(String::is_empty) {
        return Err(Error::file(
            path,
            "the first sheet is empty: an export needs at least its header row",
        ));
    }
    if rows.len() as u64 > Limits::MAX_ROWS {
        return Err(Error::file(
            path,
            format!("more than {} rows: split the export", Limits::MAX_ROWS),
        ));
    }
    Ok(Sheet {
        path: path.to_owned(),
        headers,
        rows: Rows::Sparse {
            rows: rows.into_iter(),
            width,
        },
        read: Rc::new(Cell::new(size)),
        size,
    })
}

fn xlsx(path: &Path, size: u64) -> Result<Sheet, Error> {
    use calamine::Reader as _;
    let name = path.to_string_lossy().to_ascii_lowercase();
    let zipped = !name.ends_with(".xls");
    if zipped {
        check_archive(path)?;
    }
    let cant =
        |e: &dyn std::fmt::Display| Error::file(path, format!("cannot read the workbook: {e}"));
    let mut cells: Vec<(u32, u32, String)> = Vec::new();
    let mut keep = |pos: (u32, u32), text: String| -> Result<(), Error> {
        if u64::from(pos.0) >= Limits::MAX_SHEET_ROWS || pos.1 as usize >= Limits::MAX_COLUMNS {
            return Err(Error::file(
                path,
                format!(
                    "the first sheet has a cell at row {}, column {}: beyond the {} rows and {} columns iso20k reads",
                    pos.0 + 1,
                    pos.1 + 1,
                    Limits::MAX_SHEET_ROWS,
                    Limits::MAX_COLUMNS
                ),
            ));
        }
        if text.len() > Limits::MAX_FIELD_BYTES {
            return Err(too_long(path, u64::from(pos.0) + 1, None));
        }
        if !text.is_empty() {
            cells.push((pos.0, pos.1, text));
        }
        Ok(())
    };
    if name.ends_with(".xlsx") || name.ends_with(".xlsm") {
        // Cells are streamed and kept sparse: calamine's own range would make room for every
        // cell between the first and the last.
        let mut book: calamine::Xlsx<_> = calamine::open_workbook(path).map_err(|e| cant(&e))?;
        let sheet = book
            .sheet_names()
            .first()
            .cloned()
            .ok_or_else(|| Error::file(path, "the workbook has no sheet"))?;
        let mut reader = book
            .worksheet_cells_reader(&sheet)
            .map_err(|e| Error::file(path, format!("cannot read the first sheet: {e}")))?;
        let dim = reader.dimensions();
        let rows = u64::from(dim.end.0.saturating_sub(dim.start.0)) + 1;
        let cols = u64::from(dim.end.1.saturating_sub(dim.start.1)) + 1;
        if rows > Limits::MAX_SHEET_ROWS || cols > Limits::MAX_COLUMNS as u64 {
            return Err(Error::file(
                path,
                format!(
                    "the first sheet spans {rows} rows and {cols} columns, more than the {} rows and {} columns iso20k reads",
                    Limits::MAX_SHEET_ROWS,
                    Limits::MAX_COLUMNS
                ),
            ));
        }
        while let Some(c) = reader
            .next_cell()
            .map_err(|e| Error::file(path, format!("cannot read the first sheet: {e}")))?
        {
            let pos = c.get_position();
            let data: calamine::Data = c.get_value().clone().into();
            keep(pos, xl_cell(&data))?;
        }
    } else {
        let mut book = calamine::open_workbook_auto(path).map_err(|e| cant(&e))?;
        let range = book
            .worksheet_range_at(0)
            .ok_or_else(|| Error::file(path, "the workbook has no sheet"))?
            .map_err(|e| Error::file(path, format!("cannot read the first sheet: {e}")))?;
        for (r, c, d) in range.used_cells() {
            let (r0, c0) = range.start().unwrap_or((0, 0));
            keep((r0 + r as u32, c0 + c as u32), xl_cell(d))?;
        }
    }
    sparse_sheet(path, size, cells)
}

/// Checks a JSON text before it is parsed: nesting, the number of keys and values, and the
/// length of each string, so a bomb is refused before any of it is built. Returns the byte
/// offset and the problem.
fn scan_json(bytes: &[u8]) -> Result<(), (usize, String)> {
    let mut depth = 0usize;
    let mut values = 0u64;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if i - start > Limits::MAX_FIELD_BYTES {
                    return Err((
                        start,
                        format!(
                            "a string longer than {} bytes, the most iso20k reads in one value",
                            Limits::MAX_FIELD_BYTES
                        ),
                    ));
                }
                values += 1;
            }
            b'{' | b'[' => {
                depth += 1;
                values += 1;
                if depth > Limits::MAX_JSON_DEPTH {
                    return Err((
                        i,
                        format!(
                            "nested more than {} levels deep, deeper than any export",
                            Limits::MAX_JSON_DEPTH
                        ),
                    ));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' | b':' => values += 1,
            _ => {}
        }
        if values > Limits::MAX_JSON_VALUES {
            return Err((
                i,
                format!(
                    "more than {} keys and values, the most iso20k reads from one JSON export",
                    Limits::MAX_JSON_VALUES
                ),
            ));
        }
        i += 1;
    }
    Ok(())
}

/// ServiceNow's Table API answers `{"result": [...]}`; reference fields come as
/// `{"link", "value"}` objects, or `{"display_value", "value"}` when display values were asked for.
fn json(path: &Path, size: u64) -> Result<Sheet, Error> {
    if size > Limits::MAX_JSON_BYTES {
        return Err(Error::file(
            path,
            format!(
                "{size} bytes, more than the {} iso20k reads from one JSON export: split it",
                Limits::MAX_JSON_BYTES
            ),
        ));
    }
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| f.take(Limits::MAX_JSON_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::file(path, format!("cannot read: {e}")))?;
    if bytes.len() as u64 > Limits::MAX_JSON_BYTES {
        return Err(Error::file(
            path,
            format!(
                "more than the {} bytes iso20k reads from one JSON export: split it",
                Limits::MAX_JSON_BYTES
            ),
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| Error::file(path, format!("cannot read: not UTF-8: {e}")))?;
    if let Err((at, message)) = scan_json(text.as_bytes()) {
        let before = &text.as_bytes()[..at];
        let line = before.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        let column = (at
            - before
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |p| p + 1)) as u64
            + 1;
        return Err(Error::file(path, message).at_line(line, Some(column), ""));
    }
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        let e2 = Error::file(path, format!("not valid JSON: {e}"));
        // Quote the line only when it is short enough to read.
        let short = text
            .lines()
            .nth(e.line().saturating_sub(1))
            .is_some_and(|l| l.len() <= 1000);
        e2.at(
            e.line() as u64,
            Some(e.column() as u64),
            short.then_some(text.as_str()),
        )
    })?;
    drop(text);
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
    if records.len() as u64 > Limits::MAX_ROWS {
        return Err(Error::file(
            path,
            format!("more than {} records: split the export", Limits::MAX_ROWS),
        ));
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
    let mut headers: Vec<String> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut rows: Vec<(u64, Vec<(usize, String)>)> = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        let line = i as u64 + 1;
        let mut cells = Vec::new();
        if let Some(o) = r.as_object() {
            for (k, v) in o {
                let col = match index.get(k) {
                    Some(c) => *c,
                    None => {
                        if headers.len() >= Limits::MAX_COLUMNS {
                            return Err(Error::file(
                                path,
                                format!(
                                    "the records have more than {} distinct keys, the most columns iso20k reads",
                                    Limits::MAX_COLUMNS
                                ),
                            )
                            .at_line(line, None, ""));
                        }
                        index.insert(k.clone(), headers.len());
                        headers.push(k.clone());
                        headers.len() - 1
                    }
                };
                let text = scalar(v);
                if text.len() > Limits::MAX_FIELD_BYTES {
                    return Err(too_long(path, line, Some(k)));
                }
                if !text.is_empty() {
                    cells.push((col, text));
                }
            }
        }
        rows.push((line, cells));
    }
    let width = headers.len();
    Ok(Sheet {
        path: path.to_owned(),
        headers,
        rows: Rows::Sparse {
            rows: rows.into_iter(),
            width,
        },
        read: Rc::new(Cell::new(size)),
        size,
    })
}
