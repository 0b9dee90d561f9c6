use std::fmt;
use std::path::{Path, PathBuf};

/// A problem with one file of a bundle, located as precisely as the format allows.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// The file, as the user named it (bundle directory joined with the file name).
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// 1-based column, when known.
    pub column: Option<u64>,
    /// The field (YAML path such as `reviews[1].held_on`, or CSV column name), when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
    /// The offending source line, for context.
    pub excerpt: Option<String>,
}

impl Error {
    /// A problem with a whole file.
    pub fn file(file: &Path, message: impl Into<String>) -> Self {
        Error {
            file: file.to_owned(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
            excerpt: None,
        }
    }

    /// Places the problem at a line (and column) of `source`, the file's text, quoting the line.
    pub fn at(mut self, line: u64, column: Option<u64>, source: Option<&str>) -> Self {
        self.line = Some(line);
        self.column = column.filter(|c| *c > 0);
        self.excerpt = source
            .and_then(|s| s.lines().nth(line.saturating_sub(1) as usize))
            .map(|l| l.trim_end().to_owned())
            .filter(|l| !l.is_empty());
        self
    }

    /// Places the problem at a line (and column) whose text is `excerpt`, for readers that
    /// stream a file rather than hold it.
    pub fn at_line(mut self, line: u64, column: Option<u64>, excerpt: &str) -> Self {
        self.line = Some(line);
        self.column = column.filter(|c| *c > 0);
        let excerpt = excerpt.trim_end();
        self.excerpt = (!excerpt.is_empty()).then(|| excerpt.to_owned());
        self
    }

    /// Names the field at fault.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        let field = field.into();
        if !field.is_empty() {
            self.field = Some(field);
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)?;
        if let (Some(line), Some(text)) = (self.line, &self.excerpt) {
            let gutter = line.to_string().len();
            write!(f, "\n {line} | {text}")?;
            if let Some(col) = self.column {
                let pad = text
                    .chars()
                    .take(col as usize - 1)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect::<String>();
                write!(f, "\n {:gutter$} | {pad}^", "")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Every problem found while reading a bundle. Reading goes on past a bad file so that one run
/// shows everything to fix.
#[derive(Debug, Clone, PartialEq)]
pub struct Errors(pub Vec<Error>);

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Errors {}

impl From<Error> for Errors {
    fn from(e: Error) -> Self {
        Errors(vec![e])
    }
}
