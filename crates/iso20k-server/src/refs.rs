//! References as the server sees them: which fields of a record of a server kind name another
//! record (through `iso20k_core::refs`), what each of that record's values resolves to in the
//! organisation's model, and what a form offers to pick from.
//!
//! The core names its records by [`RecordKind`]; the server by the bundle's kind names. The one
//! mapping between the two is [`server_kind`].

use std::collections::BTreeSet;

use iso20k_core::checks::RecordKind;
use iso20k_core::model::Sms;
use iso20k_core::refs::{FIELDS, Index, RefField, Target};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// The server kind (bundle kind name) whose records hold the core's `kind`, if any does.
pub(crate) fn server_kind(kind: RecordKind) -> Option<&'static str> {
    Some(match kind {
        RecordKind::Organisation => "organisation",
        RecordKind::Policy => "policy",
        RecordKind::Objective => "objectives",
        RecordKind::Person => "people",
        RecordKind::Process => "processes",
        RecordKind::Raci => "raci",
        RecordKind::ManagementReview => "management-reviews",
        RecordKind::Document => "documents",
        RecordKind::Service => "services",
        RecordKind::Sla => "slas",
        RecordKind::Supplier => "suppliers",
        RecordKind::Risk => "risks",
        RecordKind::InternalAudit => "audits",
        RecordKind::Nonconformity => "nonconformities",
        RecordKind::Improvement => "improvements",
        RecordKind::ContinuityPlan => "continuity-plans",
        RecordKind::CapacityPlan => "capacity-plans",
        RecordKind::Training => "training",
        RecordKind::Incident => "incidents",
        RecordKind::ServiceRequest => "requests",
        RecordKind::Problem => "problems",
        RecordKind::Change => "changes",
        RecordKind::Release => "releases",
        RecordKind::ConfigurationItem => "cis",
        RecordKind::Checklist => "checklist",
        RecordKind::Customer => "customers",
        RecordKind::Complaint => "complaints",
        // Parts of other records, or no record at all.
        RecordKind::Register
        | RecordKind::ReviewAction
        | RecordKind::Contract
        | RecordKind::AuditFinding => return None,
    })
}

/// The reference fields of records of the server kind `kind`.
pub(crate) fn fields_of(kind: &str) -> impl Iterator<Item = &'static RefField> + '_ {
    FIELDS
        .iter()
        .filter(move |f| server_kind(f.kind) == Some(kind))
}

/// The reference field at `path` (list indices left out: `actions.owner`) of a server kind.
pub(crate) fn field_at(kind: &str, path: &str) -> Option<&'static RefField> {
    fields_of(kind).find(|f| f.field == path)
}

/// A reference of a saved record that names no record.
#[derive(Clone, Debug, Serialize, JsonSchema, PartialEq, Eq)]
pub(crate) struct Warning {
    /// The field, as in the record: `approved_by`, `actions[0].owner`.
    pub field: String,
    /// What is wrong, in words: `names person helena, which is not in the people register`.
    pub message: String,
}

/// What a reference to `target` that names `value` but does not resolve means, in words.
pub(crate) fn message(target: Target, value: &str) -> String {
    format!(
        "names {} {value}, which is not in the {}",
        target.noun(),
        target.register()
    )
}

/// The references of `record` (a record of server kind `kind`, as JSON) that do not resolve in
/// `sms`, one per value, in field order.
pub(crate) fn warnings(sms: &Sms, kind: &str, record: &Value) -> Vec<Warning> {
    let index = Index::new(sms);
    let mut out = Vec::new();
    for field in fields_of(kind) {
        let segments: Vec<&str> = field.field.split('.').collect();
        walk(record, &segments, String::new(), &mut |path, value| {
            if !index.has(field.target, value) {
                out.push(Warning {
                    field: path.to_owned(),
                    message: message(field.target, value),
                });
            }
        });
    }
    // An audit planned with an auditor who owns or runs a process it covers is kept too, with
    // the sentence beside the auditor's (or team member's) field.
    if kind == "audits" {
        out.extend(crate::audits::independence(sms, record));
    }
    out
}

/// Calls `f(path, value)` for every non-empty text at `segments` under `v`, going into lists
/// of objects on the way (`actions.owner` → `actions[0].owner`) and through a list of ids at
/// the end.
fn walk(v: &Value, segments: &[&str], at: String, f: &mut dyn FnMut(&str, &str)) {
    let Some((first, rest)) = segments.split_first() else {
        match v {
            Value::String(s) if !s.trim().is_empty() => f(&at, s),
            Value::Array(items) => {
                for item in items {
                    if let Value::String(s) = item
                        && !s.trim().is_empty()
                    {
                        f(&at, s);
                    }
                }
            }
            _ => {}
        }
        return;
    };
    let path = if at.is_empty() {
        (*first).to_owned()
    } else {
        format!("{at}.{first}")
    };
    match v.get(first) {
        Some(Value::Array(items)) if !rest.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                walk(item, rest, format!("{path}[{i}]"), f);
            }
        }
        Some(next) => walk(next, rest, path, f),
        None => {}
    }
}

/// One entry of a register a picker offers.
#[derive(Clone, Debug)]
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
}

/// Registers larger than this are not offered as a list: a field naming a ticket of a table
/// of a hundred thousand stays a text input.
pub(crate) const MAX_CHOICES: usize = 2000;

/// What a field naming `target` may pick from in `sms`, in register order, as "id — name".
pub(crate) fn choices(sms: &Sms, target: Target) -> Vec<Choice> {
    fn labelled(id: &str, name: &str) -> Choice {
        Choice {
            value: id.to_owned(),
            label: if name.trim().is_empty() || name == id {
                id.to_owned()
            } else {
                format!("{id} — {name}")
            },
        }
    }
    let t = &sms.tickets;
    match target {
        Target::Person => sms
            .people
            .iter()
            .map(|p| {
                let mut about = p.name.clone();
                if !p.role.trim().is_empty() {
                    about = format!("{about}, {}", p.role);
                }
                if p.left_on.is_some() {
                    about = format!("{about} (left)");
                }
                labelled(&p.id, &about)
            })
            .collect(),
        Target::Process => sms
            .processes
            .iter()
            .map(|p| labelled(&p.id, &p.name))
            .collect(),
        Target::Service => sms
            .services
            .iter()
            .map(|s| labelled(&s.id, &s.name))
            .collect(),
        Target::Customer => sms
            .customers
            .iter()
            .map(|c| labelled(&c.id, &c.name))
            .collect(),
        Target::Supplier => sms
            .suppliers
            .iter()
            .map(|s| labelled(&s.id, &s.name))
            .collect(),
        Target::Document => {
            // One choice per document, whatever its versions: references name the id.
            let mut seen = BTreeSet::new();
            sms.documents
                .iter()
                .rev()
                .filter(|d| seen.insert(d.id.as_str()))
                .map(|d| labelled(&d.id, &d.title))
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect()
        }
        Target::ReviewAction => sms
            .management_reviews
            .iter()
            .flat_map(|r| &r.actions)
            .map(|a| labelled(&a.id, &a.description))
            .collect(),
        Target::Nonconformity => sms
            .nonconformities
            .iter()
            .map(|n| labelled(&n.id, &n.description))
            .collect(),
        Target::Problem => t.problems.iter().map(|p| labelled(&p.id, "")).collect(),
        Target::Change => t.changes.iter().map(|c| labelled(&c.id, "")).collect(),
        Target::ConfigurationItem => t.cis.iter().map(|c| labelled(&c.id, &c.name)).collect(),
    }
}

impl crate::App {
    /// The organisation's model as its records are now: the one readiness judges.
    pub(crate) async fn current_model(
        &self,
        org: &iso20k_store::Org,
    ) -> crate::ApiResult<std::sync::Arc<Sms>> {
        let revision = self.store().revision(org.id).await?;
        self.model(org, revision).await
    }

    /// The warnings of a record of `kind` (its stored body) against the organisation's
    /// records as they are now.
    pub(crate) async fn reference_warnings(
        &self,
        org: &iso20k_store::Org,
        kind: &iso20k_bundle::records::Kind,
        body: &str,
    ) -> crate::ApiResult<Vec<Warning>> {
        if fields_of(kind.name).next().is_none() {
            return Ok(Vec::new());
        }
        let record: Value = serde_json::from_str(body).map_err(crate::ApiError::internal)?;
        let sms = self.current_model(org).await?;
        Ok(warnings(&sms, kind.name, &record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iso20k_bundle::records::{KINDS, kind};

    #[test]
    fn every_reference_field_maps_to_a_server_kind_holding_the_field() {
        for f in FIELDS {
            let name = server_kind(f.kind).unwrap_or_else(|| panic!("{f:?} has no server kind"));
            let k = kind(name).unwrap_or_else(|| panic!("{f:?}: no server kind `{name}`"));
            let top = f.field.split('.').next().unwrap();
            assert!(
                crate::web::form::Schema::of(k)
                    .property_names()
                    .iter()
                    .any(|p| p == top),
                "{f:?}: `{name}` has no field `{top}`"
            );
            assert!(std::ptr::eq(field_at(name, f.field).unwrap(), f));
        }
        // And no two core kinds land on one server kind by mistake.
        let mut names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
        names.sort();
        for f in FIELDS {
            assert!(names.binary_search(&server_kind(f.kind).unwrap()).is_ok());
        }
    }

    #[test]
    fn a_dangling_approver_warns_on_its_field_and_a_list_names_its_entry() {
        let sms = Sms::default();
        let policy = serde_json::json!({ "title": "P", "approved_by": "helena" });
        assert_eq!(
            warnings(&sms, "policy", &policy),
            vec![Warning {
                field: "approved_by".into(),
                message: "names person helena, which is not in the people register".into(),
            }]
        );
        let review = serde_json::json!({
            "id": "MR-1",
            "attendees": ["a", ""],
            "actions": [{ "id": "A-1" }, { "id": "A-2", "owner": "b" }],
        });
        let fields: Vec<String> = warnings(&sms, "management-reviews", &review)
            .into_iter()
            .map(|w| w.field)
            .collect();
        assert_eq!(fields, ["attendees", "actions[1].owner"]);
    }
}
