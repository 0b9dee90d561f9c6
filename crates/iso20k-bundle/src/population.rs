//! The population an audit sample is drawn from: the records of one kind, in a period, passing
//! some filters, as the record view of a bundle holds them.
//!
//! Working on the records' JSON rather than the model lets one definition reach every kind the
//! same way, tickets and registers alike, with the field names the bundle format documents.
//! Each kind has one date a period is judged by ([`date_field`]); filters are `field=value` or
//! `field!=value` on a top-level field, compared as text without regard to case (`true`,
//! `false` and numbers as written; an absent field is empty, so `field=` keeps records without
//! it).

use iso20k_core::model::PopulationDef;
use schemars::SchemaGenerator;
use serde_json::Value;

use crate::bundle::Bundle;
use crate::records::{self, Kind};

/// The most filters a population may have.
pub const MAX_FILTERS: usize = 20;
/// The longest filter accepted.
pub const MAX_FILTER_LEN: usize = 300;

/// The field a period is judged by for each kind: when a ticket was opened (a change requested,
/// a release deployed), when a record was raised, held or last reviewed. Kinds not listed have
/// no date, and a period cannot be asked of them.
pub fn date_field(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "incidents" | "requests" | "problems" => "opened_at",
        "changes" => "requested_at",
        "releases" => "deployed_at",
        "cis" => "last_verified_on",
        "management-reviews" | "audits" => "held_on",
        "nonconformities" | "improvements" => "raised_on",
        "complaints" => "received_on",
        "documents" => "approved_on",
        "training" => "completed_on",
        "risks" | "continuity-plans" | "capacity-plans" => "last_reviewed_on",
        _ => return None,
    })
}

/// One filter, read.
struct Filter {
    field: String,
    value: String,
    equal: bool,
}

fn fields_of(kind: &'static Kind) -> Vec<String> {
    let mut generator = SchemaGenerator::default();
    let schema = kind.schema(&mut generator);
    // A named type's schema is a reference into the generator's definitions.
    let named = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
        .and_then(|name| generator.definitions().get(name).cloned());
    let body = named.as_ref().or(Some(schema.as_value()));
    body.and_then(|b| b.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn read_filters(kind: &'static Kind, filters: &[String]) -> Result<Vec<Filter>, String> {
    if filters.len() > MAX_FILTERS {
        return Err(format!(
            "at most {MAX_FILTERS} filters, not {}",
            filters.len()
        ));
    }
    let fields = fields_of(kind);
    filters
        .iter()
        .map(|f| {
            if f.len() > MAX_FILTER_LEN {
                return Err(format!("a filter is at most {MAX_FILTER_LEN} characters"));
            }
            let (field, value, equal) = match f.split_once("!=") {
                Some((k, v)) => (k, v, false),
                None => match f.split_once('=') {
                    Some((k, v)) => (k, v, true),
                    None => {
                        return Err(format!(
                            "filter `{f}` should be `field=value` or `field!=value`"
                        ));
                    }
                },
            };
            let field = field.trim();
            if !fields.iter().any(|x| x == field) {
                return Err(format!(
                    "{} have no field `{field}`; their fields are {}",
                    kind.name,
                    fields.join(", ")
                ));
            }
            Ok(Filter {
                field: field.to_owned(),
                value: value.trim().to_lowercase(),
                equal,
            })
        })
        .collect()
}

fn as_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.to_lowercase(),
        Some(other) => other.to_string().to_lowercase(),
    }
}

/// The ids (record keys) of the population, in the file's order. Errors are sentences naming
/// what is wrong: an unknown kind, a field the kind lacks, a period on a kind without a date.
pub fn select(bundle: &Bundle, def: &PopulationDef) -> Result<Vec<String>, String> {
    let kind = records::kind(&def.kind)
        .filter(|k| !k.singleton)
        .ok_or_else(|| {
            let names: Vec<&str> = records::KINDS
                .iter()
                .filter(|k| !k.singleton)
                .map(|k| k.name)
                .collect();
            format!(
                "cannot sample `{}`: the kinds are {}",
                def.kind,
                names.join(", ")
            )
        })?;
    let filters = read_filters(kind, &def.filters)?;
    if let (Some(from), Some(to)) = (def.from, def.to)
        && from > to
    {
        return Err(format!("the period starts ({from}) after it ends ({to})"));
    }
    let period = def.from.is_some() || def.to.is_some();
    let date = date_field(kind.name);
    if period && date.is_none() {
        return Err(format!(
            "{} have no date to judge a period by: leave out --from and --to",
            kind.name
        ));
    }
    let mut ids = Vec::new();
    for (key, body) in bundle.records_of(kind) {
        let Ok(Value::Object(record)) = serde_json::from_str::<Value>(&body) else {
            continue;
        };
        if period {
            let day = record
                .get(date.unwrap_or_default())
                .and_then(Value::as_str)
                .and_then(|s| s.get(..10))
                .and_then(|s| s.parse::<iso20k_core::Date>().ok());
            let Some(day) = day else { continue };
            if def.from.is_some_and(|f| day < f) || def.to.is_some_and(|t| day > t) {
                continue;
            }
        }
        let pass = filters
            .iter()
            .all(|f| (as_text(record.get(&f.field)) == f.value) == f.equal);
        if pass {
            ids.push(key);
        }
    }
    Ok(ids)
}

/// How big a sample is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Size {
    /// From a confidence and a tolerable deviation rate, zero deviations expected.
    Statistical {
        /// The confidence sought, as a fraction.
        confidence: f64,
        /// The tolerable deviation rate, as a fraction.
        tdr: f64,
    },
    /// A size the auditor chose.
    Fixed(usize),
}

/// A sample drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drawn {
    /// How many records the population held.
    pub population: usize,
    /// How many the rule asked for (more than the population when it is small).
    pub required: usize,
    /// The ids drawn, in draw order: `required` of them, or the whole population.
    pub items: Vec<String>,
    /// The seed the draw used.
    pub seed: u64,
}

/// Draws a sample of the population `def` defines: the same bundle, definition, size and seed
/// always give the same items.
pub fn draw(bundle: &Bundle, def: &PopulationDef, size: Size, seed: u64) -> Result<Drawn, String> {
    use iso20k_core::sampling;
    let required = match size {
        Size::Statistical { confidence, tdr } => sampling::statistical_size(confidence, tdr)?,
        Size::Fixed(0) => return Err("a sample needs at least one item".to_owned()),
        Size::Fixed(n) if n > sampling::MAX_SIZE => {
            return Err(format!(
                "a sample is at most {} items, not {n}",
                sampling::MAX_SIZE
            ));
        }
        Size::Fixed(n) => n,
    };
    let population = select(bundle, def)?;
    let items = sampling::draw(&population, required, seed);
    Ok(Drawn {
        population: population.len(),
        required,
        items,
        seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use std::path::Path;

    fn demo() -> Bundle {
        Bundle::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo")).unwrap()
    }

    fn def(kind: &str, from: Option<iso20k_core::Date>, filters: &[&str]) -> PopulationDef {
        PopulationDef {
            kind: kind.into(),
            from,
            to: from.map(|_| date(2026, 6, 30)),
            filters: filters.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn periods_and_filters_narrow_the_population() {
        let b = demo();
        let all = select(&b, &def("changes", None, &[])).unwrap();
        assert_eq!(all.len(), b.tickets.changes.len());
        let emergency = select(&b, &def("changes", None, &["type=Emergency"])).unwrap();
        let expected = b
            .tickets
            .changes
            .iter()
            .filter(|c| c.kind == iso20k_core::model::ChangeType::Emergency)
            .count();
        assert_eq!(emergency.len(), expected);
        assert!(expected > 0);
        let other = select(&b, &def("changes", None, &["type!=emergency"])).unwrap();
        assert_eq!(other.len() + emergency.len(), all.len());
        let recent = select(&b, &def("changes", Some(date(2026, 4, 1)), &[])).unwrap();
        assert!(recent.len() < all.len() && !recent.is_empty());
        let docs = select(&b, &def("documents", None, &[])).unwrap();
        assert_eq!(docs.len(), b.documents.len());
    }

    #[test]
    fn the_same_definition_and_seed_draw_the_same_items() {
        let b = demo();
        let d = def("incidents", None, &[]);
        let size = Size::Statistical {
            confidence: 0.9,
            tdr: 0.1,
        };
        let a = draw(&b, &d, size, 7).unwrap();
        assert_eq!((a.required, a.items.len()), (22, 22));
        assert_eq!(a.population, b.tickets.incidents.len());
        assert_eq!(draw(&b, &d, size, 7).unwrap(), a);
        assert_ne!(draw(&b, &d, size, 8).unwrap().items, a.items);
        let small = draw(&b, &def("problems", None, &[]), Size::Fixed(59), 1).unwrap();
        assert_eq!(
            small.items.len(),
            small.population,
            "a small population is taken whole"
        );
        assert!(draw(&b, &d, Size::Fixed(0), 1).is_err());
    }

    #[test]
    fn bad_definitions_are_refused_in_words() {
        let b = demo();
        let e = select(&b, &def("changez", None, &[])).unwrap_err();
        assert!(
            e.starts_with("cannot sample `changez`: the kinds are"),
            "{e}"
        );
        let e = select(&b, &def("changes", None, &["colour=red"])).unwrap_err();
        assert!(e.contains("changes have no field `colour`"), "{e}");
        let e = select(&b, &def("changes", None, &["emergency"])).unwrap_err();
        assert!(e.contains("`field=value`"), "{e}");
        let e = select(&b, &def("suppliers", Some(date(2026, 1, 1)), &[])).unwrap_err();
        assert!(e.contains("no date"), "{e}");
        let mut backwards = def("changes", Some(date(2026, 7, 1)), &[]);
        backwards.to = Some(date(2026, 1, 1));
        assert!(
            select(&b, &backwards)
                .unwrap_err()
                .contains("after it ends")
        );
    }
}
