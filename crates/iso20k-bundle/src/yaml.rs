//! Reading one YAML file into its file type, with the path of the field at fault.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::Error;

pub(crate) fn parse<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, Error> {
    let mut path = None;
    let options = serde_saphyr::options! { with_snippet: false };
    let result = serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            path = Some(e.path().to_string());
            e.into_inner()
        })
    });
    result.map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), Some(l.column())))
            .unwrap_or((0, None));
        let field = path.unwrap_or_default();
        // Spanned ids show up as `.value`; `.` alone means the document root.
        let field = field
            .trim_end_matches(".value")
            .trim_end_matches(".?")
            .trim_start_matches('.')
            .to_owned();
        let blank = text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
        let err = Error::file(file, message(&e, blank)).field(field);
        if line > 0 {
            err.at(line, column, Some(text))
        } else {
            err
        }
    })
}

/// The message without the location prefix serde-saphyr puts in front of it.
fn message(e: &serde_saphyr::Error, text_is_blank: bool) -> String {
    let full = e.to_string();
    let msg = full.trim_start_matches("error: ");
    let msg = match msg.strip_prefix("line ") {
        Some(rest) => rest.split_once(": ").map(|(_, m)| m).unwrap_or(rest),
        None => msg,
    };
    let msg = msg.lines().next().unwrap_or(msg);
    // Some messages speak to programmers; say what they mean to someone editing the file.
    if msg.contains("cannot deserialize null") {
        return "a value is required here".to_owned();
    }
    if let Some(key) = msg.strip_prefix("duplicate mapping key: ") {
        let key = key.split(',').next().unwrap_or(key);
        return format!("key `{key}` appears twice");
    }
    if msg.starts_with("unexpected end of input") && text_is_blank {
        return "the file is empty; fill in its fields, or delete it if it holds nothing yet"
            .to_owned();
    }
    // Some messages repeat the location at the end; the error already carries it.
    match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(", column ") => msg[..i].to_owned(),
        _ => msg.to_owned(),
    }
}
