//! Value types of the bundle format: each checks its own text while it is read, so a bad value
//! is reported with the line and column it came from.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use iso20k_core::interval::{Activity, Interval};
use iso20k_core::model::{Commitment, DocType, ReviewInput};
use iso20k_core::{Date, DateTime};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The most characters a record key (a ticket number, any id) may have: the team server's store
/// refuses longer keys (`CHECK (length(key) BETWEEN 1 AND 500)` in its migrations), so the
/// importer refuses them first, naming the row.
pub const MAX_KEY_CHARS: usize = 500;

/// A calendar date written `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day(pub Date);

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<str>::deserialize(d)?;
        parse_date(&s).map(Day).map_err(de::Error::custom)
    }
}

pub(crate) fn parse_date(s: &str) -> Result<Date, String> {
    let s = s.trim();
    // jiff accepts more than a bare date (e.g. a time suffix); the format promises exactly this.
    if s.len() != 10 || s.as_bytes()[4] != b'-' || s.as_bytes()[7] != b'-' {
        return Err(format!("invalid date `{s}`: expected YYYY-MM-DD"));
    }
    s.parse()
        .map_err(|_| format!("invalid date `{s}`: no such day"))
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl JsonSchema for Day {
    fn schema_name() -> Cow<'static, str> {
        "Date".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "format": "date", "description": "A calendar date, YYYY-MM-DD." })
    }
}

/// A date and time written `YYYY-MM-DD HH:MM[:SS]` (a `T` in place of the space works too); a
/// bare date means midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp(pub DateTime);

pub(crate) fn parse_stamp(s: &str) -> Result<DateTime, String> {
    let s = s.trim();
    if s.len() == 10 {
        return parse_date(s).map(|d| d.to_datetime(jiff::civil::Time::midnight()));
    }
    s.parse()
        .map_err(|_| format!("invalid date and time `{s}`: expected YYYY-MM-DD HH:MM[:SS]"))
}

impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<str>::deserialize(d)?;
        parse_stamp(&s).map(Stamp).map_err(de::Error::custom)
    }
}

impl Serialize for Stamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // The form the ticket tables are written in; fractions only when there are some.
        s.collect_str(&self.0.strftime("%Y-%m-%d %H:%M:%S%.f"))
    }
}

impl JsonSchema for Stamp {
    fn schema_name() -> Cow<'static, str> {
        "DateTime".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?)?$" })
    }
}

/// A planned interval: `12 months`, `1 year`, `90 days`, `2 weeks`, or ISO 8601 (`P1Y`, `P6M`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period(pub Interval);

pub(crate) fn parse_period(s: &str) -> Result<Interval, String> {
    let bad = || format!("invalid interval `{s}`: expected e.g. `12 months`, `90 days` or `P1Y`");
    let span: jiff::Span = s.trim().parse().map_err(|_| bad())?;
    let months = i64::from(span.get_years()) * 12 + i64::from(span.get_months());
    let days = i64::from(span.get_weeks()) * 7 + i64::from(span.get_days());
    let finer = span.get_hours() != 0 || span.get_minutes() != 0 || span.get_seconds() != 0;
    let interval = match (months, days) {
        _ if finer || span.is_negative() => return Err(bad()),
        (m, 0) if m > 0 => Interval::Months(u32::try_from(m).map_err(|_| bad())?),
        (0, d) if d > 0 => Interval::Days(u32::try_from(d).map_err(|_| bad())?),
        (0, 0) => return Err(format!("invalid interval `{s}`: must be longer than zero")),
        _ => {
            return Err(format!(
                "invalid interval `{s}`: use months or days, not both"
            ));
        }
    };
    Ok(interval)
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<str>::deserialize(d)?;
        parse_period(&s).map(Period).map_err(de::Error::custom)
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl JsonSchema for Period {
    fn schema_name() -> Cow<'static, str> {
        "Interval".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A planned interval such as `12 months`, `1 year`, `90 days`, `2 weeks`, or ISO 8601 `P1Y`.",
            "examples": ["12 months", "6 months", "90 days", "P1Y"]
        })
    }
}

/// A target: a number, or words (which checks report as unmeasurable).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum TargetValue {
    /// A numeric target.
    Number(f64),
    /// A target in words.
    Text(String),
}

impl From<TargetValue> for iso20k_core::model::Target {
    fn from(v: TargetValue) -> Self {
        match v {
            TargetValue::Number(n) => Self::Number(n),
            TargetValue::Text(t) => match t.trim().trim_end_matches('%').trim().parse() {
                Ok(n) => Self::Number(n),
                Err(_) => Self::Text(t),
            },
        }
    }
}

/// A clause number, checked against both catalogues as it is read so that a typo such as
/// `8.55` cannot quietly leave a clause uncovered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClauseRef(pub String);

impl<'de> Deserialize<'de> for ClauseRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Clause numbers such as 10 or 9.3 may arrive as YAML numbers when left unquoted.
        struct V;
        impl Visitor<'_> for V {
            type Value = String;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a clause number such as \"9.3\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
                Ok(v.trim().to_owned())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
                Ok(v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
                Ok(v.to_string())
            }
        }
        let id = d.deserialize_any(V)?;
        let known = iso20k_core::Edition::ALL
            .iter()
            .any(|e| iso20k_core::clause::find(*e, &id).is_some());
        if known {
            Ok(ClauseRef(id))
        } else {
            Err(de::Error::custom(format!(
                "unknown clause `{id}`: not a clause of either edition (see `iso20k clauses`)"
            )))
        }
    }
}

impl Serialize for ClauseRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl JsonSchema for ClauseRef {
    fn schema_name() -> Cow<'static, str> {
        "Clause".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "number"], "pattern": "^\\d+(\\.\\d+)*$", "description": "A clause number, e.g. \"9.3\"." })
    }
}

/// The id of a knowledge-base pattern, checked against the knowledge base as it is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PatternId(pub &'static str);

impl<'de> Deserialize<'de> for PatternId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<str>::deserialize(d)?;
        iso20k_core::kb::find(s.trim())
            .map(|p| PatternId(p.id))
            .ok_or_else(|| {
                de::Error::custom(format!("unknown pattern `{s}` (see `iso20k kb list`)"))
            })
    }
}

impl Serialize for PatternId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl JsonSchema for PatternId {
    fn schema_name() -> Cow<'static, str> {
        "PatternId".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": "^[Ff]-\\d{3}$" })
    }
}

/// Reads a list or map that may be written with nothing after its key (`intervals:` with every
/// entry commented out), which YAML reads as null, as empty.
pub fn or_empty<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A yes/no cell in a CSV file: `true`/`false`, `yes`/`no`, `y`/`n`, `1`/`0`; empty is no.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true or false")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            // CSV cells that look like numbers arrive as numbers.
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Flag, E> {
                match v {
                    0 => Ok(Flag(false)),
                    1 => Ok(Flag(true)),
                    _ => Err(E::custom(format!(
                        "invalid yes/no value `{v}`: expected true or false"
                    ))),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Flag, E> {
                self.visit_u64(u64::try_from(v).unwrap_or(u64::MAX))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Flag, E> {
                match v.trim().to_ascii_lowercase().as_str() {
                    "true" | "yes" | "y" | "1" => Ok(Flag(true)),
                    "false" | "no" | "n" | "0" | "" => Ok(Flag(false)),
                    _ => Err(E::custom(format!(
                        "invalid yes/no value `{v}`: expected true or false"
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Flag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(self.0)
    }
}

impl JsonSchema for Flag {
    fn schema_name() -> Cow<'static, str> {
        "Flag".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["boolean", "string"] })
    }
}

/// A core enumeration written as its kebab-case key.
pub trait Keyed: Sized + Copy + 'static {
    /// What the value names, for error messages.
    const WHAT: &'static str;
    /// Every value.
    fn all() -> &'static [Self];
    /// The key written in files.
    fn key(self) -> &'static str;
}

macro_rules! keyed {
    ($($t:ty, $what:literal;)*) => {$(
        impl Keyed for $t {
            const WHAT: &'static str = $what;
            fn all() -> &'static [Self] { &<$t>::ALL }
            fn key(self) -> &'static str { <$t>::key(self) }
        }
    )*};
}

keyed! {
    DocType, "document type";
    ReviewInput, "review input";
    Commitment, "commitment";
    Activity, "activity";
}

/// A value of a core enumeration, read from its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key<T>(pub T);

impl<T: Keyed> Key<T> {
    fn parse(s: &str) -> Result<Self, String> {
        T::all()
            .iter()
            .find(|v| v.key() == s)
            .map(|v| Key(*v))
            .ok_or_else(|| {
                let keys: Vec<_> = T::all().iter().map(|v| v.key()).collect();
                format!(
                    "unknown {} `{s}`: expected one of {}",
                    T::WHAT,
                    keys.join(", ")
                )
            })
    }
}

impl<'de, T: Keyed> Deserialize<'de> for Key<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<T: Keyed> Visitor<'_> for V<T> {
            type Value = Key<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a {}", T::WHAT)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<T>, E> {
                Key::parse(v.trim()).map_err(E::custom)
            }
        }
        d.deserialize_str(V(PhantomData))
    }
}

impl<T: Keyed> Serialize for Key<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.key())
    }
}

impl<T: Keyed> JsonSchema for Key<T> {
    fn schema_name() -> Cow<'static, str> {
        let mut name: String = T::WHAT
            .split(' ')
            .map(|w| w[..1].to_uppercase() + &w[1..])
            .collect();
        name.push_str("Key");
        name.into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let keys: Vec<_> = T::all().iter().map(|v| v.key()).collect();
        json_schema!({ "type": "string", "enum": keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_accept_friendly_and_iso_forms() {
        for (text, want) in [
            ("12 months", Interval::Months(12)),
            ("1 year", Interval::Months(12)),
            ("P1Y", Interval::Months(12)),
            ("P6M", Interval::Months(6)),
            ("90 days", Interval::Days(90)),
            ("2 weeks", Interval::Days(14)),
        ] {
            assert_eq!(parse_period(text), Ok(want), "{text}");
        }
        for bad in ["soon", "0 days", "1 year 3 days", "4 hours", "-1 year"] {
            assert!(parse_period(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2026-06-30").is_ok());
        assert_eq!(
            parse_date("2026-02-30").unwrap_err(),
            "invalid date `2026-02-30`: no such day"
        );
        assert!(parse_date("30/06/2026").is_err());
        assert!(parse_date("2026-06-30T10:00").is_err());
        assert_eq!(
            parse_stamp("2026-06-30").unwrap().to_string(),
            "2026-06-30T00:00:00"
        );
        assert_eq!(
            parse_stamp("2026-06-30 10:15").unwrap().to_string(),
            "2026-06-30T10:15:00"
        );
    }

    #[test]
    fn targets_in_words_stay_words_unless_they_are_numbers() {
        use iso20k_core::model::Target;
        assert_eq!(
            Target::from(TargetValue::Text("99.5 %".into())),
            Target::Number(99.5)
        );
        assert_eq!(
            Target::from(TargetValue::Text("best effort".into())),
            Target::Text("best effort".into())
        );
    }
}
