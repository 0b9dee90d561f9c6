//! Reading one CSV register into rows of its file type.
//!
//! The header row is checked first against the row type's JSON Schema, so an unknown or missing
//! column is reported by name before any row is read.

use std::path::Path;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// The columns a row type accepts, and those it requires.
pub(crate) fn columns<T: JsonSchema>() -> (Vec<String>, Vec<String>) {
    let schema = schemars::schema_for!(T);
    let names = |key: &str| -> Vec<String> {
        match schema.get(key) {
            Some(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    (names("properties"), names("required"))
}

/// The rows of a CSV file, each with the line it starts on.
pub(crate) fn read_with_lines<T: DeserializeOwned + JsonSchema>(
    file: &Path,
    text: &str,
) -> Result<Vec<(T, u64)>, Error> {
    let (known, required) = columns::<T>();
    // A line starting with `#` is a comment, so a template can carry commented example rows.
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| csv_error(file, text, &e, None))?
        .clone();
    if headers.is_empty() {
        return Err(Error::file(
            file,
            "the file is empty; it needs at least its header row",
        ));
    }
    for (i, h) in headers.iter().enumerate() {
        if !known.iter().any(|k| k == h) {
            let col = text.lines().next().map(|l| column_of(l, i)).unwrap_or(1);
            return Err(Error::file(
                file,
                format!("unknown column `{h}`; expected one of {}", known.join(", ")),
            )
            .field(h)
            .at(1, Some(col), Some(text)));
        }
        if headers.iter().take(i).any(|x| x == h) {
            return Err(Error::file(file, format!("column `{h}` appears twice"))
                .field(h)
                .at(1, None, Some(text)));
        }
    }
    if let Some(missing) = required
        .iter()
        .find(|r| !headers.iter().any(|h| h == r.as_str()))
    {
        return Err(
            Error::file(file, format!("required column `{missing}` is missing"))
                .field(missing.as_str())
                .at(1, None, Some(text)),
        );
    }
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_error(file, text, &e, Some(&headers))),
        }
        if record.iter().all(str::is_empty) {
            continue;
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        for r in &required {
            let at = headers.iter().position(|h| h == r.as_str()).unwrap_or(0);
            if record.get(at).is_none_or(str::is_empty) {
                return Err(Error::file(file, format!("`{r}` is required"))
                    .field(r.as_str())
                    .at(line, None, Some(text)));
            }
        }
        match record.deserialize::<T>(Some(&headers)) {
            Ok(row) => rows.push((row, line)),
            Err(e) => {
                let mut err = csv_error(file, text, &e, Some(&headers));
                // Errors raised by the value types carry no column index, but they quote the
                // offending value, which finds the column.
                let index = err
                    .field
                    .as_ref()
                    .and_then(|f| headers.iter().position(|h| h == f))
                    .or_else(|| {
                        let quoted = err.message.split('`').nth(1)?;
                        record.iter().position(|v| v == quoted)
                    });
                if let Some(i) = index {
                    err = err.field(&headers[i]);
                }
                let column = index.and_then(|i| {
                    text.lines()
                        .nth(line as usize - 1)
                        .and_then(|l| plain_column(l, i))
                });
                return Err(err.at(line, column, Some(text)));
            }
        }
    }
    Ok(rows)
}

fn csv_error(
    file: &Path,
    text: &str,
    e: &csv::Error,
    headers: Option<&csv::StringRecord>,
) -> Error {
    let line = e.position().map(|p| p.line());
    let (field, message) = match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => {
            let field = err
                .field()
                .and_then(|i| headers.and_then(|h| h.get(i as usize)))
                .unwrap_or_default();
            (field.to_owned(), deserialize_message(err))
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => (
            String::new(),
            format!("row has {len} fields but the header has {expected_len}"),
        ),
        csv::ErrorKind::Utf8 { .. } => (String::new(), "not valid UTF-8".to_owned()),
        _ => (String::new(), e.to_string()),
    };
    let err = Error::file(file, message).field(field);
    match line {
        Some(l) => err.at(l, None, Some(text)),
        None => err,
    }
}

fn deserialize_message(e: &csv::DeserializeError) -> String {
    match e.kind() {
        csv::DeserializeErrorKind::Message(m) => m.clone(),
        csv::DeserializeErrorKind::ParseInt(_) => {
            "not a whole number in the allowed range".to_owned()
        }
        csv::DeserializeErrorKind::ParseFloat(_) => "not a number".to_owned(),
        csv::DeserializeErrorKind::ParseBool(_) => "not true or false".to_owned(),
        other => other.to_string(),
    }
}

/// The 1-based column where the `index`-th field of a line without quotes starts.
fn plain_column(line: &str, index: usize) -> Option<u64> {
    (!line.contains('"')).then(|| column_of(line, index))
}

/// The 1-based character column where the `index`-th field of a header line starts.
fn column_of(line: &str, index: usize) -> u64 {
    let mut col = 1;
    for (i, part) in line.split(',').enumerate() {
        if i == index {
            break;
        }
        col += part.chars().count() as u64 + 1;
    }
    col
}
