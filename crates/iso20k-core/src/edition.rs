use std::fmt;
use std::str::FromStr;

/// An edition of ISO/IEC 20000-1.
///
/// 2018 is what certification audits use today; 2011 is the edition older documents cite. Both
/// are first class: every pattern and finding is keyed to both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Edition {
    /// ISO/IEC 20000-1:2011, the second edition.
    Y2011,
    /// ISO/IEC 20000-1:2018, the third edition.
    Y2018,
}

impl Edition {
    /// Both editions, oldest first.
    pub const ALL: [Edition; 2] = [Edition::Y2011, Edition::Y2018];

    /// The year as written in the standard's designation, e.g. `"2018"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Edition::Y2011 => "2011",
            Edition::Y2018 => "2018",
        }
    }

    /// The other edition.
    pub fn other(self) -> Edition {
        match self {
            Edition::Y2011 => Edition::Y2018,
            Edition::Y2018 => Edition::Y2011,
        }
    }
}

impl fmt::Display for Edition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Edition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "2018" | "ISO/IEC 20000-1:2018" => Ok(Edition::Y2018),
            "2011" | "ISO/IEC 20000-1:2011" => Ok(Edition::Y2011),
            other => Err(format!("unknown edition `{other}` (expected 2018 or 2011)")),
        }
    }
}
