//! A bundle as records: one JSON document per entry, by kind and key, the way the server keeps
//! an organisation's SMS.
//!
//! Every kind is one list (or the single value) of one bundle file, and its documents are that
//! file's entries exactly as serde reads them, so the same type checks a file on disk and a
//! record sent to the API, and a bundle split into records and rebuilt is the bundle it was.

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bundle::{Bundle, canonical};
use crate::files::*;

/// One kind of record: one list (or the single value) of one bundle file.
pub struct Kind {
    /// The name in the API and the store: `management-reviews`, `incidents`…
    pub name: &'static str,
    /// The bundle file the records live in.
    pub file: &'static str,
    /// One record, in words: "management review".
    pub what: &'static str,
    /// What a record's key is made of.
    pub key: &'static str,
    /// Whether the kind holds at most one record, whose key is the kind's name.
    pub singleton: bool,
    /// Whether the records are tickets (imported from ITSM tools, possibly millions).
    pub ticket: bool,
    parse: fn(&str) -> Result<Entry, Vec<FieldError>>,
    schema: fn(&mut SchemaGenerator) -> Schema,
    push: fn(&mut Bundle, &str) -> Result<(), Vec<FieldError>>,
    split: fn(&Bundle, &mut Vec<(String, String)>),
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for Kind {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Kind {}

/// A record checked against its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its key: the id written in it, or what identifies rows without one.
    pub key: String,
    /// The ids written inside it (a review's actions, a supplier's contracts…), each with the
    /// field it is in; they must not be used by any other record of the same file.
    pub nested: Vec<(String, String)>,
    /// The record in its canonical JSON form, the one stored.
    pub body: String,
}

/// One problem with a record, by the path of the field it is in (`targets[0].value`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FieldError {
    /// The field's path within the record; empty for the record as a whole.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// A record of a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its kind.
    pub kind: &'static Kind,
    /// Its key.
    pub key: String,
    /// Its canonical JSON.
    pub body: String,
}

impl Kind {
    /// Checks a record sent as JSON: its fields, its key and the ids inside it.
    pub fn parse(&self, json: &str) -> Result<Entry, Vec<FieldError>> {
        let entry = (self.parse)(json)?;
        let mut errors = Vec::new();
        if !self.singleton && entry.key.trim().is_empty() {
            errors.push(FieldError {
                field: self.key_field().to_owned(),
                message: "a value is required".to_owned(),
            });
        }
        for (i, (field, id)) in entry.nested.iter().enumerate() {
            if id.trim().is_empty() {
                errors.push(FieldError {
                    field: field.clone(),
                    message: "a value is required".to_owned(),
                });
            } else if entry.nested[..i].iter().any(|(_, x)| x == id) || *id == entry.key {
                errors.push(FieldError {
                    field: field.clone(),
                    message: format!("id `{id}` is used twice in the record"),
                });
            }
        }
        if errors.is_empty() {
            Ok(entry)
        } else {
            Err(errors)
        }
    }

    /// The JSON Schema of one record, added to `generator`'s definitions.
    pub fn schema(&self, generator: &mut SchemaGenerator) -> Schema {
        (self.schema)(generator)
    }

    /// The first field the key is made of, for errors about a missing key.
    fn key_field(&self) -> &'static str {
        self.key.split(['/', ' ']).next().unwrap_or("id")
    }

    /// The kinds whose records share this kind's file, and so one namespace of ids.
    pub fn file_mates(&self) -> impl Iterator<Item = &'static Kind> + '_ {
        KINDS.iter().filter(move |k| k.file == self.file)
    }

    /// Whether records of this kind carry ids that must be unique across their file.
    pub fn shares_ids(&self) -> bool {
        self.file.ends_with(".yaml") && !self.singleton && self.name != "checklist"
    }
}

/// Where a piece of a finding's evidence lives among the records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pointer {
    /// The kind of record.
    pub kind: &'static Kind,
    /// The record's key, when the evidence names a record of its own; `None` when it names
    /// something inside one (an action of a review) or a whole register.
    pub key: Option<String>,
}

/// The record a finding's evidence points at, from the evidence's kind and id as reports give
/// them (`management-review` MR-1, `register` audits).
pub fn for_evidence(evidence_kind: &str, id: &str) -> Option<Pointer> {
    let (name, own) = match evidence_kind {
        // A whole register: its id is the kind's name.
        "register" => return kind(id).map(|kind| Pointer { kind, key: None }),
        "incident" => ("incidents", true),
        "request" => ("requests", true),
        "problem" => ("problems", true),
        "change" => ("changes", true),
        "release" => ("releases", true),
        "ci" => ("cis", true),
        // A document's key carries its version; the evidence names the document.
        "document" => ("documents", false),
        "process" => ("processes", true),
        "service" => ("services", true),
        "sla" => ("slas", true),
        "supplier" => ("suppliers", true),
        "contract" => ("suppliers", false),
        "risk" => ("risks", true),
        "person" => ("people", true),
        "raci" => ("raci", false),
        "management-review" => ("management-reviews", true),
        "review-action" => ("management-reviews", false),
        "policy" => ("policy", true),
        "objective" => ("objectives", true),
        "organisation" => ("organisation", true),
        "internal-audit" => ("audits", true),
        "audit-finding" => ("audits", false),
        "nonconformity" => ("nonconformities", true),
        "improvement" => ("improvements", true),
        "continuity-plan" => ("continuity-plans", true),
        "capacity-plan" => ("capacity-plans", true),
        "training" => ("training", false),
        "customer" => ("customers", true),
        "complaint" => ("complaints", true),
        "checklist" => ("checklist", true),
        _ => return None,
    };
    let kind = kind(name)?;
    let key = if kind.singleton {
        Some(kind.name.to_owned())
    } else {
        (own && !id.trim().is_empty()).then(|| id.to_owned())
    };
    Some(Pointer { kind, key })
}

/// The kind named `name`.
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// An entry type and how it is keyed.
pub(crate) trait Keyed: Serialize + DeserializeOwned + JsonSchema {
    fn key(&self) -> String;
    fn nested(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// What is wrong with the entry beyond what its type checks as it is read.
    fn problems(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

fn parse<T: Keyed>(json: &str) -> Result<Entry, Vec<FieldError>> {
    let value = from_json::<T>(json)?;
    let problems = value.problems();
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Entry {
        key: value.key(),
        nested: value.nested(),
        body: canonical(&value).to_string(),
    })
}

fn from_json<T: DeserializeOwned>(json: &str) -> Result<T, Vec<FieldError>> {
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // serde_json ends its messages with where in the text it was; the field path says more.
        let message = inner.to_string();
        let message = match message.rfind(" at line ") {
            Some(i) => message[..i].to_owned(),
            None => message,
        };
        vec![FieldError {
            field: if path == "." { String::new() } else { path },
            message,
        }]
    })
}

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

fn nested<'a>(list: &str, ids: impl Iterator<Item = &'a Id>) -> Vec<(String, String)> {
    ids.enumerate()
        .map(|(i, id)| (format!("{list}[{i}].id"), id.value.trim().to_owned()))
        .collect()
}

fn entry<T: Keyed>(value: &T) -> (String, String) {
    (value.key(), canonical(value).to_string())
}

macro_rules! keyed_by_id {
    ($($t:ty),* $(,)?) => {$(
        impl Keyed for $t {
            fn key(&self) -> String {
                self.id.value.trim().to_owned()
            }
        }
    )*};
}

keyed_by_id!(
    ObjectiveEntry,
    ProcessEntry,
    ServiceEntry,
    SlaEntry,
    CapacityPlanEntry,
    CustomerEntry,
    ComplaintEntry,
);

macro_rules! keyed_by_plain_id {
    ($($t:ty),* $(,)?) => {$(
        impl Keyed for $t {
            fn key(&self) -> String {
                self.id.trim().to_owned()
            }
        }
    )*};
}

keyed_by_plain_id!(
    PersonRow,
    RiskRow,
    ImprovementRow,
    IncidentRow,
    RequestRow,
    ProblemRow,
    ChangeRow,
    ReleaseRow,
    CiRow,
);

impl Keyed for ReviewEntry {
    fn key(&self) -> String {
        self.id.value.trim().to_owned()
    }
    fn nested(&self) -> Vec<(String, String)> {
        nested("actions", self.actions.iter().map(|a| &a.id))
    }
}

impl Keyed for SupplierEntry {
    fn key(&self) -> String {
        self.id.value.trim().to_owned()
    }
    fn nested(&self) -> Vec<(String, String)> {
        nested("contracts", self.contracts.iter().map(|c| &c.id))
    }
}

impl Keyed for AuditEntry {
    fn key(&self) -> String {
        self.id.value.trim().to_owned()
    }
    fn nested(&self) -> Vec<(String, String)> {
        nested("findings", self.findings.iter().map(|f| &f.id))
    }
}

impl Keyed for NonconformityEntry {
    fn key(&self) -> String {
        self.id.value.trim().to_owned()
    }
    fn nested(&self) -> Vec<(String, String)> {
        nested("actions", self.actions.iter().map(|a| &a.id))
    }
}

impl Keyed for ContinuityPlanEntry {
    fn key(&self) -> String {
        self.id.value.trim().to_owned()
    }
    fn nested(&self) -> Vec<(String, String)> {
        nested("tests", self.tests.iter().map(|t| &t.id))
    }
}

impl Keyed for RaciRow {
    fn key(&self) -> String {
        let letter = match self.raci {
            RaciKey::R => "R",
            RaciKey::A => "A",
            RaciKey::C => "C",
            RaciKey::I => "I",
        };
        match self.activity.as_deref().map(str::trim) {
            Some(a) if !a.is_empty() => format!(
                "{}/{a}/{}/{letter}",
                self.process.trim(),
                self.person.trim()
            ),
            _ => format!("{}/{}/{letter}", self.process.trim(), self.person.trim()),
        }
    }
}

impl Keyed for DocumentRow {
    fn key(&self) -> String {
        match self.version.as_deref().map(str::trim) {
            Some(v) if !v.is_empty() => format!("{}/{v}", self.id.trim()),
            _ => self.id.trim().to_owned(),
        }
    }
}

impl Keyed for TrainingRow {
    fn key(&self) -> String {
        let on = self.completed_on.map(|d| d.0.to_string());
        format!(
            "{}/{}/{}",
            self.person.trim(),
            self.course.trim(),
            on.as_deref().unwrap_or("-")
        )
    }
}

impl Keyed for PlanItem {
    fn key(&self) -> String {
        self.finding.value.trim().to_owned()
    }
    fn problems(&self) -> Vec<FieldError> {
        PlanItem::problems(self)
            .into_iter()
            .map(|(field, message)| FieldError {
                field: field.to_owned(),
                message,
            })
            .collect()
    }
}

impl Keyed for AnswerEntry {
    fn key(&self) -> String {
        self.pattern.0.to_owned()
    }
}

macro_rules! singleton {
    ($($t:ty => $name:literal),* $(,)?) => {$(
        impl Keyed for $t {
            fn key(&self) -> String {
                $name.to_owned()
            }
        }
    )*};
}

singleton!(OrganisationFile => "organisation", PolicyFile => "policy", Programme => "audit-programme");

macro_rules! kinds {
    ($(
        $name:literal, $file:literal, $what:literal, $key:literal, $ty:ty,
        $mode:ident $(($model:ty))? => $($field:ident).+;
    )*) => {
        /// Every kind of record, in the order of the bundle's files.
        pub static KINDS: &[Kind] = &[$(
            Kind {
                name: $name,
                file: $file,
                what: $what,
                key: $key,
                singleton: kinds!(@singleton $mode),
                ticket: kinds!(@ticket $mode),
                parse: parse::<$ty>,
                schema: schema_of::<$ty>,
                push: |b, json| {
                    let value = from_json::<$ty>(json)?;
                    kinds!(@push $mode b value $(($model))? => $($field).+);
                    Ok(())
                },
                split: |b, out| kinds!(@split $mode b out $ty => $($field).+),
            },
        )*];
    };
    (@singleton one) => { true };
    (@singleton $other:ident) => { false };
    (@ticket ticket) => { true };
    (@ticket $other:ident) => { false };
    (@push one $b:ident $v:ident => $($field:ident).+) => { $b.$($field).+ = Some($v) };
    (@push list $b:ident $v:ident => $($field:ident).+) => { $b.$($field).+.push($v) };
    (@push ticket $b:ident $v:ident ($model:ty) => $($field:ident).+) => {
        $b.$($field).+.push(<$model>::from($v))
    };
    (@split one $b:ident $out:ident $ty:ty => $($field:ident).+) => {
        $out.extend($b.$($field).+.iter().map(entry))
    };
    (@split list $b:ident $out:ident $ty:ty => $($field:ident).+) => {
        $out.extend($b.$($field).+.iter().map(entry))
    };
    (@split ticket $b:ident $out:ident $ty:ty => $($field:ident).+) => {
        $out.extend($b.$($field).+.iter().map(|t| entry(&<$ty>::from(t))))
    };
}

kinds! {
    "organisation", "organisation.yaml", "organisation", "organisation", OrganisationFile, one => organisation;
    "policy", "policy.yaml", "policy", "policy", PolicyFile, one => policy;
    "objectives", "objectives.yaml", "objective", "id", ObjectiveEntry, list => objectives;
    "people", "people.csv", "person", "id", PersonRow, list => people;
    "processes", "processes.yaml", "process", "id", ProcessEntry, list => processes;
    "raci", "raci.csv", "RACI assignment", "process/[activity/]person/letter", RaciRow, list => raci;
    "management-reviews", "management-reviews.yaml", "management review", "id", ReviewEntry, list => reviews;
    "documents", "documents.csv", "document version", "id[/version]", DocumentRow, list => documents;
    "services", "services.yaml", "service", "id", ServiceEntry, list => services;
    "slas", "slas.yaml", "service level agreement", "id", SlaEntry, list => slas;
    "suppliers", "suppliers.yaml", "supplier", "id", SupplierEntry, list => suppliers;
    "risks", "risks.csv", "risk", "id", RiskRow, list => risks;
    "audit-programme", "audits.yaml", "audit programme", "audit-programme", Programme, one => programme;
    "audits", "audits.yaml", "internal audit", "id", AuditEntry, list => audits;
    "nonconformities", "nonconformities.yaml", "nonconformity", "id", NonconformityEntry, list => nonconformities;
    "improvements", "improvements.csv", "improvement", "id", ImprovementRow, list => improvements;
    "continuity-plans", "continuity.yaml", "continuity or availability plan", "id", ContinuityPlanEntry, list => continuity;
    "capacity-plans", "capacity.yaml", "capacity plan", "id", CapacityPlanEntry, list => capacity;
    "training", "training.csv", "training record", "person/course/completed_on", TrainingRow, list => training;
    "customers", "customers.yaml", "customer", "id", CustomerEntry, list => customers;
    "complaints", "customers.yaml", "complaint", "id", ComplaintEntry, list => complaints;
    "checklist", "checklist.yaml", "checklist answer", "pattern", AnswerEntry, list => checklist;
    "plan", "plan.yaml", "action plan entry", "finding", PlanItem, list => plan;
    "incidents", "tickets/incidents.csv", "incident", "id", IncidentRow, ticket(iso20k_core::model::Incident) => tickets.incidents;
    "requests", "tickets/requests.csv", "service request", "id", RequestRow, ticket(iso20k_core::model::ServiceRequest) => tickets.requests;
    "problems", "tickets/problems.csv", "problem", "id", ProblemRow, ticket(iso20k_core::model::Problem) => tickets.problems;
    "changes", "tickets/changes.csv", "change", "id", ChangeRow, ticket(iso20k_core::model::Change) => tickets.changes;
    "releases", "tickets/releases.csv", "release", "id", ReleaseRow, ticket(iso20k_core::model::Release) => tickets.releases;
    "cis", "tickets/cis.csv", "configuration item", "id", CiRow, ticket(iso20k_core::model::ConfigurationItem) => tickets.cis;
}

/// A record that could not be added to a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError {
    /// The record's kind.
    pub kind: &'static str,
    /// What is wrong, by field.
    pub errors: Vec<FieldError>,
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a record of {} is invalid:", self.kind)?;
        for e in &self.errors {
            if e.field.is_empty() {
                write!(f, " {}", e.message)?;
            } else {
                write!(f, " {}: {}", e.field, e.message)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for RecordError {}

impl Bundle {
    /// Every record of the bundle, kind by kind in [`KINDS`] order, each in its file's order.
    pub fn records(&self) -> Vec<Record> {
        let mut out = Vec::new();
        let mut pairs = Vec::new();
        for kind in KINDS {
            (kind.split)(self, &mut pairs);
            out.extend(
                pairs
                    .drain(..)
                    .map(|(key, body)| Record { kind, key, body }),
            );
        }
        out
    }

    /// The records of one kind, in their file's order, as (key, canonical JSON).
    pub fn records_of(&self, kind: &'static Kind) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        (kind.split)(self, &mut pairs);
        pairs
    }

    /// Adds one record, read from its JSON.
    pub fn push(&mut self, kind: &'static Kind, json: &str) -> Result<(), RecordError> {
        (kind.push)(self, json).map_err(|errors| RecordError {
            kind: kind.name,
            errors,
        })
    }
}
