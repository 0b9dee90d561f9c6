//! A bundle held in memory exactly as its files say, between the folder and the core model.
//!
//! The CLI reads a folder straight into the model; the server keeps each entry of each file as
//! a record, so it needs the entries themselves: [`Bundle`] is that middle form. It reads from a
//! folder, writes back to one, splits into records and is rebuilt from them (`records.rs`), and
//! turns into the model. Nothing is lost on any of these paths but formatting and comments.

use std::path::Path;

use iso20k_core::model::{Sms, Tickets};
use serde::Serialize;

use crate::error::{Error, Errors};
use crate::files::*;
use crate::records::Keyed;
use crate::{ORGANISATION, Reader, ids, tickets};

/// Every entry of every file of a bundle, as written.
#[derive(Debug, Default)]
pub struct Bundle {
    /// organisation.yaml; every bundle written to disk has one.
    pub organisation: Option<OrganisationFile>,
    /// policy.yaml.
    pub policy: Option<PolicyFile>,
    /// objectives.yaml.
    pub objectives: Vec<ObjectiveEntry>,
    /// people.csv.
    pub people: Vec<PersonRow>,
    /// processes.yaml.
    pub processes: Vec<ProcessEntry>,
    /// raci.csv.
    pub raci: Vec<RaciRow>,
    /// management-reviews.yaml.
    pub reviews: Vec<ReviewEntry>,
    /// documents.csv.
    pub documents: Vec<DocumentRow>,
    /// services.yaml.
    pub services: Vec<ServiceEntry>,
    /// slas.yaml.
    pub slas: Vec<SlaEntry>,
    /// suppliers.yaml.
    pub suppliers: Vec<SupplierEntry>,
    /// risks.csv.
    pub risks: Vec<RiskRow>,
    /// The `programme` of audits.yaml.
    pub programme: Option<Programme>,
    /// The `audits` of audits.yaml.
    pub audits: Vec<AuditEntry>,
    /// nonconformities.yaml.
    pub nonconformities: Vec<NonconformityEntry>,
    /// improvements.csv.
    pub improvements: Vec<ImprovementRow>,
    /// continuity.yaml.
    pub continuity: Vec<ContinuityPlanEntry>,
    /// capacity.yaml.
    pub capacity: Vec<CapacityPlanEntry>,
    /// training.csv.
    pub training: Vec<TrainingRow>,
    /// The `customers` of customers.yaml.
    pub customers: Vec<CustomerEntry>,
    /// The `complaints` of customers.yaml.
    pub complaints: Vec<ComplaintEntry>,
    /// checklist.yaml.
    pub checklist: Vec<AnswerEntry>,
    /// plan.yaml.
    pub plan: Vec<PlanItem>,
    /// The ticket tables, read straight into the model: they run to millions of rows and have
    /// nothing in them that the model does not keep.
    pub tickets: Tickets,
    /// The files the folder held, when the bundle was read from one: an import replaces the
    /// records of these files and leaves the others alone.
    pub files: Vec<&'static str>,
}

impl Bundle {
    /// Reads a bundle folder, reporting every problem in every file at once.
    pub fn read(dir: &Path) -> Result<Bundle, Errors> {
        if !dir.is_dir() {
            return Err(Error::file(
                dir,
                "no such folder (create a bundle with `iso20k init DIR`)",
            )
            .into());
        }
        if !dir.join(ORGANISATION).is_file() {
            return Err(Error::file(
                &dir.join(ORGANISATION),
                "missing: every bundle starts with this file (create one with `iso20k init DIR`)",
            )
            .into());
        }
        let mut reader = Reader::new(dir);
        reader.unknown_files();
        let mut b = Bundle {
            organisation: reader.yaml::<OrganisationFile>(ORGANISATION, |_| vec![]),
            policy: reader.yaml::<PolicyFile>("policy.yaml", |_| vec![]),
            files: crate::FILES
                .iter()
                .map(|f| f.0)
                .filter(|f| dir.join(f).is_file())
                .collect(),
            ..Bundle::default()
        };
        if let Some(f) =
            reader.yaml::<ObjectivesFile>("objectives.yaml", |f| ids(&f.objectives, |o| &o.id))
        {
            b.objectives = f.objectives;
        }
        b.people = reader.csv::<PersonRow>("people.csv", |r| vec![r.id.clone()]);
        if let Some(f) =
            reader.yaml::<ProcessesFile>("processes.yaml", |f| ids(&f.processes, |p| &p.id))
        {
            b.processes = f.processes;
        }
        b.raci = reader.csv::<RaciRow>("raci.csv", |r| vec![r.key()]);
        if let Some(f) = reader.yaml::<ReviewsFile>("management-reviews.yaml", |f| {
            let mut v = ids(&f.reviews, |r| &r.id);
            v.extend(ids(f.reviews.iter().flat_map(|r| &r.actions), |a| &a.id));
            v
        }) {
            b.reviews = f.reviews;
        }
        b.documents = reader.csv::<DocumentRow>("documents.csv", |r| vec![r.key()]);
        if let Some(f) =
            reader.yaml::<ServicesFile>("services.yaml", |f| ids(&f.services, |s| &s.id))
        {
            b.services = f.services;
        }
        if let Some(f) = reader.yaml::<SlasFile>("slas.yaml", |f| ids(&f.slas, |s| &s.id)) {
            b.slas = f.slas;
        }
        if let Some(f) = reader.yaml::<SuppliersFile>("suppliers.yaml", |f| {
            let mut v = ids(&f.suppliers, |s| &s.id);
            v.extend(ids(f.suppliers.iter().flat_map(|s| &s.contracts), |c| {
                &c.id
            }));
            v
        }) {
            b.suppliers = f.suppliers;
        }
        b.risks = reader.csv::<RiskRow>("risks.csv", |r| vec![r.id.clone()]);
        if let Some(f) = reader.yaml::<AuditsFile>("audits.yaml", |f| {
            let mut v = ids(&f.audits, |a| &a.id);
            v.extend(ids(f.audits.iter().flat_map(|a| &a.findings), |x| &x.id));
            v
        }) {
            b.programme = f.programme;
            b.audits = f.audits;
        }
        if let Some(f) = reader.yaml::<NonconformitiesFile>("nonconformities.yaml", |f| {
            let mut v = ids(&f.nonconformities, |n| &n.id);
            v.extend(ids(
                f.nonconformities.iter().flat_map(|n| &n.actions),
                |a| &a.id,
            ));
            v
        }) {
            b.nonconformities = f.nonconformities;
        }
        b.improvements = reader.csv::<ImprovementRow>("improvements.csv", |r| vec![r.id.clone()]);
        if let Some(f) = reader.yaml::<ContinuityFile>("continuity.yaml", |f| {
            let mut v = ids(&f.plans, |p| &p.id);
            v.extend(ids(f.plans.iter().flat_map(|p| &p.tests), |t| &t.id));
            v
        }) {
            b.continuity = f.plans;
        }
        if let Some(f) = reader.yaml::<CapacityFile>("capacity.yaml", |f| ids(&f.plans, |p| &p.id))
        {
            b.capacity = f.plans;
        }
        b.training = reader.csv::<TrainingRow>("training.csv", |r| vec![r.key()]);
        b.tickets = tickets::read_with(&mut reader);
        if let Some(f) = reader.yaml::<CustomersFile>("customers.yaml", |f| {
            let mut v = ids(&f.customers, |c| &c.id);
            v.extend(ids(&f.complaints, |c| &c.id));
            v
        }) {
            b.customers = f.customers;
            b.complaints = f.complaints;
        }
        if let Some(f) = reader.yaml::<ChecklistFile>("checklist.yaml", |_| vec![]) {
            b.checklist = f.answers;
        }
        if let Some(f) = reader.yaml::<PlanFile>(PLAN, |f| ids(&f.actions, |a| &a.finding)) {
            b.plan = f.actions;
            plan_problems(&mut reader, dir, &b);
        }

        if reader.errors.is_empty() {
            Ok(b)
        } else {
            Err(Errors(reader.errors))
        }
    }

    /// The core model of these records, each list in the order of its records' keys.
    ///
    /// Sorting makes the report a function of the records alone: a bundle whose rows were
    /// shuffled, or the same records read back from the server's store (which keeps them by
    /// key), gives the same report, evidence in the same order.
    pub fn into_sms(self) -> Sms {
        let mut sms = Sms::default();
        if let Some(org) = self.organisation {
            org.apply(&mut sms);
        }
        fn all<A: Keyed, B: From<A>>(mut v: Vec<A>) -> Vec<B> {
            v.sort_by_cached_key(Keyed::key);
            v.into_iter().map(Into::into).collect()
        }
        let mut tickets = self.tickets;
        // Ticket ids are their keys; exports usually list them in order already, which the
        // sort notices in one pass.
        tickets.incidents.sort_by(|a, b| a.id.cmp(&b.id));
        tickets.requests.sort_by(|a, b| a.id.cmp(&b.id));
        tickets.problems.sort_by(|a, b| a.id.cmp(&b.id));
        tickets.changes.sort_by(|a, b| a.id.cmp(&b.id));
        tickets.releases.sort_by(|a, b| a.id.cmp(&b.id));
        tickets.cis.sort_by(|a, b| a.id.cmp(&b.id));
        sms.policy = self.policy.map(Into::into);
        sms.objectives = all(self.objectives);
        sms.people = all(self.people);
        sms.processes = all(self.processes);
        sms.raci = all(self.raci);
        sms.management_reviews = all(self.reviews);
        sms.documents = all(self.documents);
        sms.services = all(self.services);
        sms.slas = all(self.slas);
        sms.suppliers = all(self.suppliers);
        sms.risks = all(self.risks);
        sms.audit_cycle_start = self.programme.and_then(|p| p.cycle_start).map(|d| d.0);
        sms.audits = all(self.audits);
        sms.nonconformities = all(self.nonconformities);
        sms.improvements = all(self.improvements);
        sms.continuity_plans = all(self.continuity);
        sms.capacity_plans = all(self.capacity);
        sms.training = all(self.training);
        sms.tickets = tickets;
        sms.customers = all(self.customers);
        sms.complaints = all(self.complaints);
        sms.checklist = all(self.checklist);
        sms.plan = all(self.plan);
        sms
    }

    /// Writes the bundle into `dir`, which must not exist or be empty. Files with nothing in
    /// them are left out. The folder appears complete or not at all: everything is written into
    /// a sibling folder first, which then takes its name.
    pub fn write(&self, dir: &Path) -> Result<(), Error> {
        let non_empty = std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some());
        if non_empty {
            return Err(Error::file(
                dir,
                "already holds files; export into a new or empty folder",
            ));
        }
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        let staging = dir.with_file_name(format!(
            ".{}.iso20k-{}",
            name.unwrap_or_default(),
            std::process::id()
        ));
        let result = self.write_into(&staging).and_then(|()| {
            if dir.exists() {
                std::fs::remove_dir(dir)
                    .map_err(|e| Error::file(dir, format!("cannot replace: {e}")))?;
            }
            std::fs::rename(&staging, dir)
                .map_err(|e| Error::file(dir, format!("cannot create: {e}")))
        });
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        result
    }

    fn write_into(&self, dir: &Path) -> Result<(), Error> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::file(dir, format!("cannot create: {e}")))?;
        if let Some(org) = &self.organisation {
            yaml(dir, ORGANISATION, org)?;
        }
        if let Some(policy) = &self.policy {
            yaml(dir, "policy.yaml", policy)?;
        }
        list(dir, "objectives.yaml", "objectives", &self.objectives)?;
        csv(dir, "people.csv", &self.people)?;
        list(dir, "processes.yaml", "processes", &self.processes)?;
        csv(dir, "raci.csv", &self.raci)?;
        list(dir, "management-reviews.yaml", "reviews", &self.reviews)?;
        csv(dir, "documents.csv", &self.documents)?;
        list(dir, "services.yaml", "services", &self.services)?;
        list(dir, "slas.yaml", "slas", &self.slas)?;
        list(dir, "suppliers.yaml", "suppliers", &self.suppliers)?;
        csv(dir, "risks.csv", &self.risks)?;
        if self.programme.is_some() || !self.audits.is_empty() {
            yaml(
                dir,
                "audits.yaml",
                &AuditsFileRef {
                    programme: self.programme.as_ref(),
                    audits: &self.audits,
                },
            )?;
        }
        list(
            dir,
            "nonconformities.yaml",
            "nonconformities",
            &self.nonconformities,
        )?;
        csv(dir, "improvements.csv", &self.improvements)?;
        list(dir, "continuity.yaml", "plans", &self.continuity)?;
        list(dir, "capacity.yaml", "plans", &self.capacity)?;
        csv(dir, "training.csv", &self.training)?;
        if !self.customers.is_empty() || !self.complaints.is_empty() {
            yaml(
                dir,
                "customers.yaml",
                &CustomersFileRef {
                    customers: &self.customers,
                    complaints: &self.complaints,
                },
            )?;
        }
        list(dir, "checklist.yaml", "answers", &self.checklist)?;
        list(dir, PLAN, "actions", &self.plan)?;
        tickets::write(dir, &self.tickets)?;
        Ok(())
    }
}

/// The action plan's file.
const PLAN: &str = "plan.yaml";

/// What is wrong with plan.yaml's entries, each at the line its entry starts on: an entry on
/// its own ([`PlanItem::problems`]), and a risk accepted by someone who is not top management
/// in people.csv.
fn plan_problems(reader: &mut Reader<'_>, dir: &Path, b: &Bundle) {
    let path = dir.join(PLAN);
    let source = std::fs::read_to_string(&path).unwrap_or_default();
    // Approvers are looked up only in a people register that read cleanly: one with errors
    // already says what is wrong.
    let people = dir.join("people.csv");
    let people_read = !reader.errors.iter().any(|e| e.file == people);
    for (i, item) in b.plan.iter().enumerate() {
        let mut problems = item.problems();
        if let Some(by) = item
            .approved_by
            .as_deref()
            .map(str::trim)
            .filter(|s| people_read && !s.is_empty())
        {
            match b.people.iter().find(|p| p.id.trim() == by) {
                None => problems.push((
                    "approved_by",
                    format!("`{by}` is not in people.csv: a risk is accepted by top management"),
                )),
                Some(p) if !p.top_management.0 => problems.push((
                    "approved_by",
                    format!(
                        "`{by}` is not top management (people.csv, column top_management): \
                         only top management accepts a risk"
                    ),
                )),
                Some(_) => {}
            }
        }
        for (field, message) in problems {
            reader.errors.push(
                Error::file(&path, message)
                    .field(format!("actions[{i}].{field}"))
                    .at(
                        item.finding.referenced.line(),
                        Some(item.finding.referenced.column()),
                        Some(&source),
                    ),
            );
        }
    }
}

#[derive(Serialize)]
struct AuditsFileRef<'a> {
    programme: Option<&'a Programme>,
    audits: &'a [AuditEntry],
}

#[derive(Serialize)]
struct CustomersFileRef<'a> {
    customers: &'a [CustomerEntry],
    complaints: &'a [ComplaintEntry],
}

/// The JSON form every record is kept in: what serde writes, less the fields that say nothing
/// (nulls and empty lists or maps, which every file type reads as their default).
pub(crate) fn canonical<T: Serialize>(value: &T) -> serde_json::Value {
    fn prune(v: &mut serde_json::Value) -> bool {
        match v {
            serde_json::Value::Null => false,
            serde_json::Value::Array(a) => {
                a.iter_mut().for_each(|x| {
                    prune(x);
                });
                !a.is_empty()
            }
            serde_json::Value::Object(m) => {
                m.retain(|_, x| prune(x));
                !m.is_empty()
            }
            _ => true,
        }
    }
    let mut v = serde_json::to_value(value).expect("bundle types serialize to JSON");
    prune(&mut v);
    v
}

fn yaml<T: Serialize>(dir: &Path, name: &str, value: &T) -> Result<(), Error> {
    let path = dir.join(name);
    let text = serde_saphyr::to_string(&canonical(value))
        .map_err(|e| Error::file(&path, format!("cannot write: {e}")))?;
    std::fs::write(&path, text).map_err(|e| Error::file(&path, format!("cannot write: {e}")))
}

fn list<T: Serialize>(dir: &Path, name: &str, key: &str, items: &[T]) -> Result<(), Error> {
    if items.is_empty() {
        return Ok(());
    }
    yaml(dir, name, &serde_json::json!({ key: canonical(&items) }))
}

fn csv<T: Serialize>(dir: &Path, name: &str, rows: &[T]) -> Result<(), Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let path = dir.join(name);
    let err = |e: csv::Error| Error::file(&path, format!("cannot write: {e}"));
    let mut w = csv::Writer::from_path(&path).map_err(err)?;
    for row in rows {
        w.serialize(row).map_err(err)?;
    }
    w.flush()
        .map_err(|e| Error::file(&path, format!("cannot write: {e}")))
}
