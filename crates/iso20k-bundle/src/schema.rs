//! JSON Schemas of the bundle's files, generated from the very types that read them.
//!
//! The schemas under `schema/` are these, written out by `iso20k schema --out schema`; a test
//! keeps the committed copies current. Editors use them to complete and check YAML as it is
//! typed; CSV registers get a schema of one row.

use schemars::transform::{Transform, transform_subschemas};
use schemars::{JsonSchema, Schema};

use crate::files::*;

/// The schema of every bundle file, by file name.
pub fn all() -> Vec<(&'static str, Schema)> {
    vec![
        ("organisation.yaml", one::<OrganisationFile>()),
        ("policy.yaml", one::<PolicyFile>()),
        ("objectives.yaml", one::<ObjectivesFile>()),
        ("processes.yaml", one::<ProcessesFile>()),
        ("management-reviews.yaml", one::<ReviewsFile>()),
        ("services.yaml", one::<ServicesFile>()),
        ("slas.yaml", one::<SlasFile>()),
        ("suppliers.yaml", one::<SuppliersFile>()),
        ("audits.yaml", one::<AuditsFile>()),
        ("nonconformities.yaml", one::<NonconformitiesFile>()),
        ("continuity.yaml", one::<ContinuityFile>()),
        ("capacity.yaml", one::<CapacityFile>()),
        ("people.csv", one::<PersonRow>()),
        ("raci.csv", one::<RaciRow>()),
        ("documents.csv", one::<DocumentRow>()),
        ("risks.csv", one::<RiskRow>()),
        ("improvements.csv", one::<ImprovementRow>()),
        ("training.csv", one::<TrainingRow>()),
        ("tickets/incidents.csv", one::<IncidentRow>()),
        ("tickets/requests.csv", one::<RequestRow>()),
        ("tickets/problems.csv", one::<ProblemRow>()),
        ("tickets/changes.csv", one::<ChangeRow>()),
        ("tickets/releases.csv", one::<ReleaseRow>()),
        ("tickets/cis.csv", one::<CiRow>()),
        ("customers.yaml", one::<CustomersFile>()),
        ("checklist.yaml", one::<ChecklistFile>()),
        ("plan.yaml", one::<PlanFile>()),
    ]
}

/// The file name a schema is written to: `management-reviews.yaml` → `management-reviews.schema.json`,
/// `tickets/incidents.csv` → `tickets-incidents.row.schema.json`.
pub fn file_name(bundle_file: &str) -> String {
    let flat = bundle_file.replace('/', "-");
    match flat.strip_suffix(".yaml") {
        Some(stem) => format!("{stem}.schema.json"),
        None => format!("{}.row.schema.json", flat.trim_end_matches(".csv")),
    }
}

/// Marks every `id` a blank value: the reader refuses blank ids (an id names a record, and other
/// records point at it), so the schema says so and editors and API clients learn it up front.
#[derive(Clone, Copy, Debug, Default)]
pub struct NonBlankIds;

impl Transform for NonBlankIds {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(id) = schema
            .get_mut("properties")
            .and_then(|p| p.get_mut("id"))
            .and_then(|id| id.as_object_mut())
            && id.get("type").and_then(|t| t.as_str()) == Some("string")
        {
            id.insert("pattern".into(), "\\S".into());
        }
        transform_subschemas(self, schema);
    }
}

fn one<T: JsonSchema>() -> Schema {
    schemars::generate::SchemaSettings::draft2020_12()
        .with_transform(NonBlankIds)
        .into_generator()
        .into_root_schema_for::<T>()
}
