//! Forms for every kind of record, drawn from the record's JSON Schema (the one the bundle
//! reader's own types generate) and read back into the record's JSON. One form per kind would
//! be 28 forms to keep in step with the bundle format; this keeps them in step by construction.
//!
//! Field names are paths into the record: `held_on`, `actions.0.owner`. A list of objects shows
//! its items and one blank row to add another; a row left blank is dropped.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use iso20k_bundle::records::{KINDS, Kind};
use iso20k_core::model::Sms;
use schemars::generate::SchemaSettings;
use serde::Serialize;
use serde_json::{Map, Value};

/// One kind's schema with its definitions, to resolve `$ref`s against.
pub(crate) struct Schema {
    root: Value,
    defs: Map<String, Value>,
}

impl Schema {
    pub(crate) fn of(kind: &Kind) -> &'static Schema {
        static ALL: OnceLock<HashMap<&'static str, Schema>> = OnceLock::new();
        let all = ALL.get_or_init(|| {
            KINDS
                .iter()
                .map(|k| {
                    let mut generator = SchemaSettings::draft2020_12()
                        .with_transform(iso20k_bundle::schema::NonBlankIds)
                        .into_generator();
                    let root = k.schema(&mut generator).to_value();
                    let defs = generator
                        .take_definitions(true)
                        .into_iter()
                        .collect::<Map<String, Value>>();
                    (k.name, Schema { root, defs })
                })
                .collect()
        });
        &all[kind.name]
    }

    /// The names of the record's top-level fields, in order.
    pub(crate) fn property_names(&self) -> Vec<String> {
        self.resolve(&self.root)
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether the record's top-level field `name` holds a list.
    pub(crate) fn is_list(&self, name: &str) -> bool {
        let root = self.resolve(&self.root);
        root.get("properties")
            .and_then(|p| p.get(name))
            .is_some_and(|s| {
                matches!(
                    self.shape(s).0,
                    Shape::Lines | Shape::Checks(_) | Shape::Clauses | Shape::Rows(_) | Shape::Json
                ) && self.resolve(s).get("type").and_then(Value::as_str) != Some("object")
            })
    }

    /// `s` with its `$ref` followed.
    fn resolve<'a>(&'a self, s: &'a Value) -> &'a Value {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap_or_default();
                self.defs.get(name).map_or(s, |d| self.resolve(d))
            }
            None => s,
        }
    }

    /// What input a property takes, and whether it may be left empty.
    fn shape<'a>(&'a self, s: &'a Value) -> (Shape<'a>, bool) {
        let mut nullable = false;
        let mut s = s;
        if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
            let not_null: Vec<&Value> = any
                .iter()
                .filter(|v| v.get("type").and_then(Value::as_str) != Some("null"))
                .collect();
            if not_null.len() == 1 {
                nullable = not_null.len() < any.len();
                s = not_null[0];
            }
        }
        if is_clause(s) {
            return (Shape::Clause, nullable);
        }
        let s = self.resolve(s);
        let types: Vec<&str> = match s.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        nullable |= types.contains(&"null");
        let main = types.iter().copied().find(|t| *t != "null");
        if let Some(options) = choices(s) {
            return (Shape::Select(options), nullable);
        }
        let shape = match main {
            Some("string") => match s.get("format").and_then(Value::as_str) {
                Some("date") => Shape::Date,
                _ => Shape::Text,
            },
            Some("integer") => Shape::Integer,
            Some("number") => Shape::Number,
            Some("boolean") => Shape::Bool,
            Some("array") => {
                let raw_items = s.get("items").unwrap_or(&Value::Null);
                let items = self.resolve(raw_items);
                if is_clause(raw_items) {
                    Shape::Clauses
                } else if let Some(options) = choices(items) {
                    Shape::Checks(options)
                } else if items.get("properties").is_some() {
                    Shape::Rows(items)
                } else if matches!(
                    items.get("type").and_then(Value::as_str),
                    Some("string" | "integer" | "number")
                ) {
                    Shape::Lines
                } else {
                    Shape::Json
                }
            }
            Some("object") if s.get("properties").is_some() => Shape::Group(s),
            _ => Shape::Json,
        };
        (shape, nullable)
    }
}

/// Whether a schema is the bundle's clause number.
fn is_clause(s: &Value) -> bool {
    s.get("$ref")
        .and_then(Value::as_str)
        .is_some_and(|r| r.ends_with("/Clause"))
}

/// The values an enumeration allows, with their descriptions.
fn choices(s: &Value) -> Option<Vec<(String, String)>> {
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        return Some(
            values
                .iter()
                .filter_map(Value::as_str)
                .map(|v| (v.to_owned(), v.to_owned()))
                .collect(),
        );
    }
    let one_of = s.get("oneOf").and_then(Value::as_array)?;
    one_of
        .iter()
        .map(|o| {
            let value = o.get("const")?.as_str()?.to_owned();
            let label = match o.get("description").and_then(Value::as_str) {
                Some(d) => format!("{value} — {}", d.trim_end_matches('.')),
                None => value.clone(),
            };
            Some((value, label))
        })
        .collect()
}

enum Shape<'a> {
    Text,
    Date,
    Integer,
    Number,
    Bool,
    Select(Vec<(String, String)>),
    /// A list of simple values, one per line.
    Lines,
    /// A list of values from a fixed set.
    Checks(Vec<(String, String)>),
    /// A clause of the organisation's edition.
    Clause,
    /// Several clauses.
    Clauses,
    /// A list of objects.
    Rows(&'a Value),
    /// An object of its own.
    Group(&'a Value),
    /// Anything else, edited as JSON.
    Json,
}

/// A field as the template draws it.
#[derive(Serialize, Default)]
pub(crate) struct Field {
    name: String,
    id: String,
    label: String,
    help: String,
    input: &'static str,
    required: bool,
    value: String,
    checked: bool,
    options: Vec<Choice>,
    error: Option<String>,
    /// What is wrong with a value that was saved anyway: a reference that names no record.
    warning: Option<String>,
    /// For a reference: the register its choices come from.
    register: Option<&'static str>,
    /// For a list of objects: its items, then a blank one.
    rows: Vec<Vec<Field>>,
    /// For a list of objects: what one item is called ("Finding").
    item: String,
    /// The article the item takes ("a finding", "an item").
    article: &'static str,
    /// For an object: its fields.
    fields: Vec<Field>,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// A field's name as people read it: words, with the initialisms the trade writes in capitals.
fn label(name: &str) -> String {
    let words: Vec<String> = name
        .split('_')
        .filter(|w| !w.is_empty())
        .enumerate()
        .map(|(i, w)| {
            let upper = match w {
                "id" => Some("ID"),
                "ids" => Some("IDs"),
                "rto" => Some("RTO"),
                "rpo" => Some("RPO"),
                "sla" => Some("SLA"),
                "slas" => Some("SLAs"),
                "ci" => Some("CI"),
                "cis" => Some("CIs"),
                "raci" => Some("RACI"),
                "sms" => Some("SMS"),
                "url" => Some("URL"),
                "kpi" => Some("KPI"),
                "it" => Some("IT"),
                _ => None,
            };
            match upper {
                Some(u) => u.to_owned(),
                None if i == 0 => {
                    let mut chars = w.chars();
                    chars
                        .next()
                        .map(|c| c.to_uppercase().chain(chars).collect())
                        .unwrap_or_default()
                }
                None => w.to_owned(),
            }
        })
        .collect();
    words.join(" ")
}

/// A field's help from its schema description: nothing when it only repeats the label ("Id."),
/// and registers named as people know them rather than by their bundle file.
fn help(description: &str, label: &str) -> String {
    let text = description.trim();
    if text.trim_end_matches('.').eq_ignore_ascii_case(label) {
        return String::new();
    }
    let mut text = text.to_owned();
    for kind in KINDS {
        if text.contains(kind.file) {
            let register = format!("the {} register", kind.name.replace('-', " "));
            text = text.replace(kind.file, &register);
        }
    }
    // "in in the documents register" cannot arise: descriptions say "in documents.csv".
    text.replace("the the ", "the ")
}

/// One of a list's items, named from the list: "Findings" → "Finding".
/// "an" before a vowel sound as English spells it most often, else "a".
fn article(noun: &str) -> &'static str {
    match noun.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o') => "an",
        _ => "a",
    }
}

fn singular(label: &str) -> String {
    match label.strip_suffix("ies") {
        Some(stem) => format!("{stem}y"),
        None => label.strip_suffix('s').unwrap_or(label).to_owned(),
    }
}

/// Where in a record a field path points, in words: `findings[2].id` → "Finding 3 › ID".
pub(crate) fn place(path: &str) -> String {
    path.split('.')
        .filter(|p| !p.is_empty())
        .map(|part| match part.split_once('[') {
            Some((name, index)) => {
                let n: usize = index.trim_end_matches(']').parse().unwrap_or(0);
                format!("{} {}", singular(&label(name)), n + 1)
            }
            None => label(part),
        })
        .collect::<Vec<_>>()
        .join(" › ")
}

/// A serde or reader message as a sentence for the person filling the form.
pub(crate) fn plain(message: &str) -> String {
    let m = message.trim();
    if let Some(rest) = m.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or_default();
        return format!("{} is required.", label(field));
    }
    if let Some(rest) = m.strip_prefix("invalid type: ") {
        let expected = rest
            .split(", expected ")
            .nth(1)
            .unwrap_or("another kind of value");
        let expected = match expected.trim() {
            "a sequence" => "a list",
            "a map" | "struct" => "a group of fields",
            "a boolean" => "yes or no",
            "i64" | "u64" | "u32" | "i32" | "an integer" => "a whole number",
            "f64" | "a number" => "a number",
            "a string" => "text",
            other => other,
        };
        return format!("This should be {expected}.");
    }
    if let Some(rest) = m.strip_prefix("unknown variant `") {
        let (value, choices) = rest.split_once('`').unwrap_or((rest, ""));
        let choices = choices
            .split("expected one of ")
            .nth(1)
            .or_else(|| choices.split("expected ").nth(1))
            .unwrap_or_default()
            .replace('`', "");
        return format!("“{value}” is not one of the choices ({choices}).");
    }
    if let Some(rest) = m.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or_default();
        return format!("{} is not a field of this record.", label(field));
    }
    let mut chars = m.chars();
    let sentence: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if sentence.ends_with('.') {
        sentence
    } else {
        format!("{sentence}.")
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What a form knows of the other records: the registers its reference fields pick from, and
/// the warnings of the values shown, by field name.
#[derive(Default)]
pub(crate) struct Refs<'a> {
    /// The organisation's model; without it, references are plain text inputs.
    pub sms: Option<&'a Sms>,
    /// Warnings by form name (`actions.1.owner`).
    pub warnings: HashMap<String, String>,
}

/// The API's field path of a warning (`actions[1].owner`) as a form name (`actions.1.owner`).
pub(crate) fn form_name(path: &str) -> String {
    path.replace('[', ".").replace(']', "")
}

/// The fields of a record of `kind`, filled from `value`, with `errors` by field name.
pub(crate) fn fields(
    kind: &Kind,
    value: &Value,
    errors: &HashMap<String, String>,
    refs: &Refs<'_>,
) -> Vec<Field> {
    let schema = Schema::of(kind);
    let root = schema.resolve(&schema.root);
    let at = At {
        kind: kind.name,
        prefix: "",
        path: "",
        errors,
        refs,
    };
    object_fields(schema, root, value, &at, true)
}

/// Where in the record fields are being drawn.
struct At<'a> {
    kind: &'static str,
    /// The form name of the object: `actions.0`.
    prefix: &'a str,
    /// The same without list indices, as reference fields are named: `actions`.
    path: &'a str,
    errors: &'a HashMap<String, String>,
    refs: &'a Refs<'a>,
}

impl<'a> At<'a> {
    fn within<'b>(&'b self, prefix: &'b str, path: &'b str) -> At<'b>
    where
        'a: 'b,
    {
        At {
            kind: self.kind,
            prefix,
            path,
            errors: self.errors,
            refs: self.refs,
        }
    }
}

/// Makes a reference field a picker of its register: a list for one id, a multiple list with
/// a filter to type into for several. A value not in the register stays, marked as such.
fn picker(
    field: &mut Field,
    reference: &iso20k_core::refs::RefField,
    sms: &Sms,
    chosen: &[String],
) {
    let choices = crate::refs::choices(sms, reference.target);
    if choices.len() > crate::refs::MAX_CHOICES {
        return;
    }
    field.register = Some(reference.target.register());
    // What is chosen comes first, in the record's order (a browser posts options in the order
    // they stand, so the list reads back as it was), then the rest of the register.
    let mut options: Vec<Choice> = chosen
        .iter()
        .map(|value| {
            let label = match choices.iter().find(|c| c.value == *value) {
                Some(c) => c.label.clone(),
                // A service may be named by its name; anything else is not in the register.
                None if iso20k_core::refs::resolves(sms, reference.target, value) => value.clone(),
                None => format!("{value} (not in the register)"),
            };
            Choice {
                value: value.clone(),
                label,
                selected: true,
            }
        })
        .collect();
    options.extend(
        choices
            .into_iter()
            .filter(|c| !chosen.contains(&c.value))
            .map(|c| Choice {
                selected: false,
                value: c.value,
                label: c.label,
            }),
    );
    field.options = options;
    if reference.many {
        field.input = "picks";
    } else {
        field.input = "select";
        field.options.insert(
            0,
            Choice {
                value: String::new(),
                label: "—".to_owned(),
                selected: chosen.is_empty(),
            },
        );
    }
}

/// The form name of the box that removes a row of a list.
const REMOVE: &str = "_remove";

/// A blank row's choices start unchosen, so a row nobody touched reads back as blank (a first
/// option the browser would otherwise pick made it a row with a grade and no id).
fn blank_choices(row: &mut [Field]) {
    for f in row.iter_mut() {
        if f.input == "select" {
            if !f.options.iter().any(|o| o.value.is_empty()) {
                f.options.insert(
                    0,
                    Choice {
                        value: String::new(),
                        label: "—".to_owned(),
                        selected: false,
                    },
                );
            }
            for o in &mut f.options {
                o.selected = o.value.is_empty();
            }
        }
        f.checked = false;
        blank_choices(&mut f.fields);
    }
}

/// Makes a field a choice of the edition's clauses: one, or several with a filter.
fn clause_picker(field: &mut Field, edition: iso20k_core::Edition, chosen: &[String], many: bool) {
    let catalogue = iso20k_core::clause::catalogue(edition);
    let mut options: Vec<Choice> = chosen
        .iter()
        .map(|id| Choice {
            label: match iso20k_core::clause::find(edition, id) {
                Some(c) => format!("{} {}", c.id, c.title),
                None => format!("{id} (not a clause of the {edition} edition)"),
            },
            value: id.clone(),
            selected: true,
        })
        .collect();
    options.extend(
        catalogue
            .iter()
            .filter(|c| !chosen.iter().any(|id| id == c.id))
            .map(|c| Choice {
                value: c.id.to_owned(),
                label: format!("{} {}", c.id, c.title),
                selected: false,
            }),
    );
    field.register = Some("clauses");
    field.options = options;
    if many {
        field.input = "picks";
    } else {
        field.input = "select";
        field.options.insert(
            0,
            Choice {
                value: String::new(),
                label: "—".to_owned(),
                selected: chosen.is_empty(),
            },
        );
    }
}

fn object_fields(
    schema: &Schema,
    object: &Value,
    value: &Value,
    at: &At<'_>,
    top: bool,
) -> Vec<Field> {
    let prefix = at.prefix;
    let errors = at.errors;
    let required: BTreeSet<&str> = object
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let Some(properties) = object.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(prop, s)| {
            let name = join(prefix, prop);
            let path = join(at.path, prop);
            let (shape, nullable) = schema.shape(s);
            let current = value.get(prop).unwrap_or(&Value::Null);
            let reference = crate::refs::field_at(at.kind, &path);
            let title = s
                .get("title")
                .and_then(Value::as_str)
                .map_or_else(|| label(prop), str::to_owned);
            let mut field = Field {
                id: format!("f-{}", name.replace('.', "-")),
                help: help(
                    s.get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                    &title,
                ),
                label: title,
                required: top && required.contains(prop.as_str()) && !nullable,
                error: errors.get(&name).map(|e| plain(e)),
                warning: at.refs.warnings.get(&name).cloned(),
                name: name.clone(),
                ..Field::default()
            };
            match shape {
                Shape::Text | Shape::Date | Shape::Integer | Shape::Number => {
                    field.input = match shape {
                        // ISO dates in a text box: a date input shows the browser's own order,
                        // which is mm/dd for anyone whose browser speaks US English.
                        Shape::Date => "isodate",
                        Shape::Integer | Shape::Number => "number",
                        _ => "text",
                    };
                    field.value = scalar_text(current);
                    if let (Some(r), Some(sms), Shape::Text) = (reference, at.refs.sms, &shape) {
                        let chosen: Vec<String> = Some(field.value.trim().to_owned())
                            .filter(|v| !v.is_empty())
                            .into_iter()
                            .collect();
                        picker(&mut field, r, sms, &chosen);
                    }
                }
                // Unknown is not no: a change not yet implemented is neither successful nor
                // failed, so a value that may be left out is a choice of three.
                Shape::Bool if nullable => {
                    field.input = "select";
                    let chosen = match current.as_bool() {
                        Some(true) => "yes",
                        Some(false) => "no",
                        None => "",
                    };
                    field.options = [("", "Not known yet"), ("yes", "Yes"), ("no", "No")]
                        .into_iter()
                        .map(|(value, label)| Choice {
                            selected: value == chosen,
                            value: value.to_owned(),
                            label: label.to_owned(),
                        })
                        .collect();
                }
                Shape::Bool => {
                    field.input = "checkbox";
                    field.checked = current.as_bool().unwrap_or_else(|| {
                        s.get("default").and_then(Value::as_bool).unwrap_or(false)
                    });
                }
                Shape::Clause | Shape::Clauses => {
                    let chosen: Vec<String> = match current {
                        Value::Array(items) => items.iter().map(scalar_text).collect(),
                        Value::Null => Vec::new(),
                        v => vec![scalar_text(v)],
                    };
                    let edition = at
                        .refs
                        .sms
                        .map_or(iso20k_core::Edition::Y2018, Sms::edition);
                    clause_picker(
                        &mut field,
                        edition,
                        &chosen,
                        matches!(shape, Shape::Clauses),
                    );
                }
                Shape::Select(options) => {
                    field.input = "select";
                    let chosen = match current {
                        Value::Null => s.get("default").map(scalar_text).unwrap_or_default(),
                        v => scalar_text(v),
                    };
                    field.options = options
                        .into_iter()
                        .map(|(value, label)| Choice {
                            selected: value == chosen,
                            value,
                            label,
                        })
                        .collect();
                    // Leaving it out must stay possible when the record may omit it.
                    if !required.contains(prop.as_str()) || nullable {
                        field.options.insert(
                            0,
                            Choice {
                                value: String::new(),
                                label: "—".to_owned(),
                                selected: chosen.is_empty(),
                            },
                        );
                    }
                }
                Shape::Lines => {
                    field.input = "lines";
                    field.value = current
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(scalar_text)
                        .collect::<Vec<_>>()
                        .join("\n");
                    if let (Some(r), Some(sms)) = (reference, at.refs.sms) {
                        let chosen: Vec<String> = field
                            .value
                            .lines()
                            .map(str::trim)
                            .filter(|v| !v.is_empty())
                            .map(str::to_owned)
                            .collect();
                        picker(&mut field, r, sms, &chosen);
                    }
                }
                Shape::Checks(options) => {
                    field.input = "checks";
                    let chosen: Vec<String> = current
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(scalar_text)
                        .collect();
                    field.options = options
                        .into_iter()
                        .map(|(value, label)| Choice {
                            selected: chosen.contains(&value),
                            value,
                            label,
                        })
                        .collect();
                }
                Shape::Rows(items) => {
                    field.input = "rows";
                    field.item = singular(&field.label);
                    field.article = article(&field.item);
                    let existing = current.as_array().cloned().unwrap_or_default();
                    let blank = Value::Object(Map::new());
                    let count = existing.len();
                    field.rows = existing
                        .iter()
                        .chain(std::iter::once(&blank))
                        .enumerate()
                        .map(|(i, item)| {
                            let prefix = format!("{name}.{i}");
                            let mut row = object_fields(
                                schema,
                                items,
                                item,
                                &at.within(&prefix, &path),
                                false,
                            );
                            if i == count {
                                blank_choices(&mut row);
                            } else {
                                row.push(Field {
                                    id: format!("f-{}-remove", prefix.replace('.', "-")),
                                    name: format!("{prefix}.{REMOVE}"),
                                    label: "Remove this one when saving".to_owned(),
                                    input: "checkbox",
                                    ..Field::default()
                                });
                            }
                            row
                        })
                        .collect();
                }
                Shape::Group(object) => {
                    field.input = "group";
                    field.fields =
                        object_fields(schema, object, current, &at.within(&name, &path), false);
                }
                Shape::Json => {
                    field.input = "json";
                    field.value = match current {
                        Value::Null => String::new(),
                        v => serde_json::to_string_pretty(v).unwrap_or_default(),
                    };
                }
            }
            field
        })
        .collect()
}

/// Reads a posted form back into the JSON of a record of `kind`. Values are kept as typed when
/// they do not fit (a word in a number field), so the record's own checks name the field.
pub(crate) fn read(kind: &Kind, form: &[(String, String)]) -> Value {
    let schema = Schema::of(kind);
    let root = schema.resolve(&schema.root);
    Value::Object(read_object(schema, root, form, ""))
}

fn read_object(
    schema: &Schema,
    object: &Value,
    form: &[(String, String)],
    prefix: &str,
) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(properties) = object.get("properties").and_then(Value::as_object) else {
        return out;
    };
    let first = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
    };
    for (prop, s) in properties {
        let name = join(prefix, prop);
        let (shape, nullable) = schema.shape(s);
        let value = match shape {
            Shape::Text | Shape::Date => first(&name).filter(|v| !v.is_empty()).map(Value::String),
            Shape::Select(_) => {
                let default = s.get("default").map(scalar_text);
                // Leave the default unsaid, as the files do.
                first(&name)
                    .filter(|v| !v.is_empty() && Some(v) != default.as_ref())
                    .map(Value::String)
            }
            Shape::Integer => first(&name).filter(|v| !v.is_empty()).map(|v| {
                v.parse::<i64>()
                    .map(Value::from)
                    .unwrap_or(Value::String(v))
            }),
            Shape::Number => first(&name).filter(|v| !v.is_empty()).map(|v| {
                v.parse::<f64>()
                    .ok()
                    .and_then(|n| serde_json::Number::from_f64(n).map(Value::Number))
                    .unwrap_or(Value::String(v))
            }),
            Shape::Bool if nullable => match first(&name).as_deref() {
                Some("yes") => Some(Value::Bool(true)),
                Some("no") => Some(Value::Bool(false)),
                _ => None,
            },
            Shape::Clause => first(&name).filter(|v| !v.is_empty()).map(Value::String),
            Shape::Clauses => {
                let mut seen = BTreeSet::new();
                let items: Vec<Value> = form
                    .iter()
                    .filter(|(k, _)| *k == name)
                    .map(|(_, v)| v.trim())
                    .filter(|v| !v.is_empty() && seen.insert(v.to_owned()))
                    .map(|v| Value::String(v.to_owned()))
                    .collect();
                (!items.is_empty()).then_some(Value::Array(items))
            }
            Shape::Bool => {
                let on = first(&name).is_some();
                let default = s.get("default").and_then(Value::as_bool);
                // Leave the default unsaid, as the files do.
                (default != Some(on)).then_some(Value::Bool(on))
            }
            Shape::Lines => {
                // A textarea posts one value of lines; a picker of several posts each choice,
                // and its filter what was typed into it.
                let posted: Vec<&str> = form
                    .iter()
                    .filter(|(k, _)| *k == name)
                    .map(|(_, v)| v.as_str())
                    .collect();
                let mut items: Vec<Value> = posted
                    .iter()
                    .flat_map(|v| v.lines())
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| Value::String(l.to_owned()))
                    .collect();
                if posted.len() > 1 {
                    // An id both picked and typed into the filter is named once.
                    let mut seen = BTreeSet::new();
                    items.retain(|v| seen.insert(v.to_string()));
                }
                (!items.is_empty()).then_some(Value::Array(items))
            }
            Shape::Checks(_) => {
                let items: Vec<Value> = form
                    .iter()
                    .filter(|(k, _)| *k == name)
                    .map(|(_, v)| Value::String(v.clone()))
                    .collect();
                (!items.is_empty()).then_some(Value::Array(items))
            }
            Shape::Rows(items) => {
                let start = format!("{name}.");
                let indices: BTreeSet<usize> = form
                    .iter()
                    .filter_map(|(k, _)| k.strip_prefix(&start))
                    .filter_map(|rest| rest.split('.').next()?.parse().ok())
                    .collect();
                let rows: Vec<Value> = indices
                    .into_iter()
                    .filter(|i| first(&format!("{name}.{i}.{REMOVE}")).is_none())
                    .map(|i| read_object(schema, items, form, &format!("{name}.{i}")))
                    .filter(|row| filled(schema, items, row))
                    .map(Value::Object)
                    .collect();
                (!rows.is_empty()).then_some(Value::Array(rows))
            }
            Shape::Group(object) => {
                let inner = read_object(schema, object, form, &name);
                // An unticked box alone does not bring an optional part into being.
                meaningful(&inner).then_some(Value::Object(inner))
            }
            Shape::Json => first(&name)
                .filter(|v| !v.is_empty())
                .map(|v| serde_json::from_str(&v).unwrap_or(Value::String(v))),
        };
        if let Some(value) = value {
            out.insert(prop.clone(), value);
        }
    }
    out
}

fn meaningful(object: &Map<String, Value>) -> bool {
    object.values().any(|v| *v != Value::Bool(false))
}

/// Whether a row of a list was filled in: something typed or picked beyond its choices and
/// boxes, which a blank row may carry from the browser. A row made only of choices counts when
/// any is made.
fn filled(schema: &Schema, items: &Value, row: &Map<String, Value>) -> bool {
    let Some(properties) = items.get("properties").and_then(Value::as_object) else {
        return meaningful(row);
    };
    let typed: Vec<&String> = properties
        .iter()
        .filter(|(_, s)| !matches!(schema.shape(s).0, Shape::Select(_) | Shape::Bool))
        .map(|(name, _)| name)
        .collect();
    if typed.is_empty() {
        meaningful(row)
    } else {
        typed.iter().any(|name| row.contains_key(*name))
    }
}

/// The record's field errors by form name: `record.actions[1].id` → `actions.1.id`.
pub(crate) fn error_names(
    fields: &[iso20k_bundle::records::FieldError],
) -> HashMap<String, String> {
    fields
        .iter()
        .map(|f| {
            let path = f.field.strip_prefix("record.").unwrap_or(&f.field);
            let path = if path == "record" { "" } else { path };
            (path.replace('[', ".").replace(']', ""), f.message.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use iso20k_bundle::records::kind;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_management_review_form_reads_back_into_a_record_the_reader_accepts() {
        let k = kind("management-reviews").unwrap();
        let form = pairs(&[
            ("id", " MR-9 "),
            ("held_on", "2026-06-01"),
            ("planned_on", ""),
            ("attendees", "c.penhale\n\n m.castell \n"),
            ("inputs", "customer-feedback"),
            ("inputs", "risks"),
            ("actions.0.id", "A-1"),
            ("actions.0.description", "Fix it"),
            ("actions.0.status", "open"),
            ("actions.1.id", ""),
            ("actions.1.description", ""),
            ("actions.1.status", ""),
        ]);
        let json = read(k, &form);
        assert_eq!(
            json,
            serde_json::json!({
                "id": "MR-9",
                "held_on": "2026-06-01",
                "attendees": ["c.penhale", "m.castell"],
                "inputs": ["customer-feedback", "risks"],
                "actions": [{ "id": "A-1", "description": "Fix it" }],
            })
        );
        let entry = k.parse(&json.to_string()).expect("the reader accepts it");
        assert_eq!(entry.key, "MR-9");
    }

    #[test]
    fn every_kind_draws_a_form_and_an_empty_one_reads_back_as_nothing() {
        for k in KINDS {
            let drawn = fields(k, &Value::Null, &HashMap::new(), &Refs::default());
            assert!(!drawn.is_empty(), "{}", k.name);
            // Only the unticked boxes of fields that have no default say anything.
            let empty = read(k, &[]);
            assert!(
                !meaningful(empty.as_object().unwrap()),
                "{}: {empty}",
                k.name
            );
        }
    }

    /// What a browser posts for the fields as drawn, nothing changed (a picker's filter empty).
    fn post(fields: &[Field], out: &mut Vec<(String, String)>) {
        for f in fields {
            match f.input {
                "checkbox" if f.checked => out.push((f.name.clone(), "on".into())),
                "checkbox" => {}
                "select" | "checks" | "picks" => {
                    for o in f.options.iter().filter(|o| o.selected) {
                        out.push((f.name.clone(), o.value.clone()));
                    }
                    if f.input == "picks" {
                        out.push((f.name.clone(), String::new()));
                    }
                }
                "rows" => f.rows.iter().for_each(|r| post(r, out)),
                "group" => post(&f.fields, out),
                _ => out.push((f.name.clone(), f.value.clone())),
            }
        }
    }

    fn people() -> Sms {
        let person = |id: &str, name: &str, role: &str| iso20k_core::model::Person {
            id: id.into(),
            name: name.into(),
            role: role.into(),
            ..Default::default()
        };
        Sms {
            people: vec![
                person("a", "Ann Ash", "Service owner"),
                person("b", "Bo Birch", ""),
                person("h.strand", "Helena Strand", "Managing director"),
            ],
            ..Sms::default()
        }
    }

    fn find<'f>(fields: &'f [Field], name: &str) -> &'f Field {
        fields
            .iter()
            .flat_map(|f| {
                std::iter::once(f)
                    .chain(f.rows.iter().flatten())
                    .chain(&f.fields)
            })
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no field {name}"))
    }

    #[test]
    fn references_are_pickers_of_their_register_and_round_trip() {
        let sms = people();
        let refs = Refs {
            sms: Some(&sms),
            ..Refs::default()
        };
        let k = kind("management-reviews").unwrap();
        let record = serde_json::json!({
            "id": "MR-1",
            "held_on": "2026-03-02",
            "attendees": ["a", "ghost"],
            "actions": [{ "id": "A-1", "description": "Do", "owner": "h.strand" }],
        });
        let drawn = fields(k, &record, &HashMap::new(), &refs);
        let attendees = find(&drawn, "attendees");
        assert_eq!(attendees.input, "picks");
        let labels: Vec<(&str, &str, bool)> = attendees
            .options
            .iter()
            .map(|o| (o.value.as_str(), o.label.as_str(), o.selected))
            .collect();
        assert_eq!(
            labels,
            [
                ("a", "a — Ann Ash, Service owner", true),
                ("ghost", "ghost (not in the register)", true),
                ("b", "b — Bo Birch", false),
                (
                    "h.strand",
                    "h.strand — Helena Strand, Managing director",
                    false
                ),
            ]
        );
        let owner = find(&drawn, "actions.0.owner");
        assert_eq!(owner.input, "select");
        assert_eq!(owner.options[0].value, "");
        assert!(
            owner
                .options
                .iter()
                .any(|o| o.value == "h.strand" && o.selected)
        );
        // The blank row offers the register too, nothing chosen.
        assert!(find(&drawn, "actions.1.owner").options[0].selected);
        let mut posted = Vec::new();
        post(&drawn, &mut posted);
        let canonical = |v: &Value| k.parse(&v.to_string()).unwrap().body;
        assert_eq!(canonical(&read(k, &posted)), canonical(&record));
        // Picking one and typing another into the filter adds both, once each.
        posted.push(("attendees".into(), "b".into()));
        posted.push(("attendees".into(), "b".into()));
        assert_eq!(
            read(k, &posted)["attendees"],
            serde_json::json!(["a", "ghost", "b"])
        );

        let policy = kind("policy").unwrap();
        let drawn = fields(
            policy,
            &serde_json::json!({ "approved_by": "helena" }),
            &HashMap::new(),
            &refs,
        );
        let approver = find(&drawn, "approved_by");
        assert_eq!(approver.input, "select");
        assert_eq!(approver.options[0].value, "");
        assert_eq!(approver.options[1].label, "helena (not in the register)");
        assert!(approver.options[1].selected);
        assert_eq!(approver.options.len(), 5);
    }

    #[test]
    fn every_reference_field_of_every_kind_is_drawn_as_a_picker() {
        let sms = people();
        let refs = Refs {
            sms: Some(&sms),
            ..Refs::default()
        };
        for f in iso20k_core::refs::FIELDS {
            let name = crate::refs::server_kind(f.kind).unwrap();
            let k = kind(name).unwrap();
            let drawn = fields(k, &Value::Null, &HashMap::new(), &refs);
            // The first row of a list stands for all of them.
            let form_name = f.field.replacen('.', ".0.", 1);
            let form_name = if f.field.starts_with("effectiveness.") {
                f.field.to_owned()
            } else {
                form_name
            };
            let field = find(&drawn, &form_name);
            let wanted = if f.many { "picks" } else { "select" };
            assert_eq!(field.input, wanted, "{name}.{}", f.field);
        }
    }

    #[test]
    fn a_record_drawn_and_posted_unchanged_comes_back_the_same() {
        let k = kind("management-reviews").unwrap();
        let record = serde_json::json!({
            "id": "MR-1",
            "held_on": "2026-03-02",
            "attendees": ["a", "b"],
            "decisions": ["Keep going"],
            "actions": [{ "id": "A-1", "description": "Do", "owner": "a", "due": "2026-04-01" }],
        });
        let drawn = fields(k, &record, &HashMap::new(), &Refs::default());
        let mut posted = Vec::new();
        post(&drawn, &mut posted);
        let back = read(k, &posted);
        let canonical = |v: &Value| k.parse(&v.to_string()).unwrap().body;
        assert_eq!(canonical(&back), canonical(&record));
    }

    #[test]
    fn errors_land_on_their_fields() {
        let names = error_names(&[
            iso20k_bundle::records::FieldError {
                field: "record.actions[1].id".into(),
                message: "a value is required".into(),
            },
            iso20k_bundle::records::FieldError {
                field: "record".into(),
                message: "missing field `id`".into(),
            },
        ]);
        assert_eq!(names["actions.1.id"], "a value is required");
        assert_eq!(names[""], "missing field `id`");
    }
}
