//! Documents: every current document approved, versioned and reviewed, one current version of
//! each, and every document the edition asks for in place.

use std::collections::BTreeMap;

use super::{Check, Context, Evidence, Examines, RecordKind, n};
use crate::Edition;
use crate::interval::Activity;
use crate::kb::Grade;
use crate::model::{DocStatus, DocType, Document};
use crate::refs::Target;

fn current<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Document> {
    cx.sms
        .documents
        .iter()
        .filter(|d| d.status == DocStatus::Current)
}

/// Current documents the organisation wrote itself.
fn current_internal<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Document> {
    current(cx).filter(|d| !d.external)
}

/// Current documents that are reviewed, not merely kept (minutes, reports and records are kept).
fn current_reviewed<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Document> {
    current(cx).filter(|d| !d.kind.is_record())
}

/// Current documents from outside (contracts, vendor manuals, laws).
fn current_external<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Document> {
    current(cx).filter(|d| d.external)
}

fn doc(d: &Document, note: impl Into<String>) -> Evidence {
    Evidence::new(RecordKind::Document, &d.id, note)
}

pub(super) static DOC_UNCONTROLLED: Check = Check {
    id: "doc-uncontrolled",
    pattern: "F-004",
    title: "Current document without approver, approval date or version",
    clauses_2018: &["7.5.2"],
    clauses_2011: &["4.3.2"],
    doc: "Fires for each current, internally written document missing its `approver` (or \
          naming one who is not in the people register), `approved_on` or `version`. Graded by extent over the current documents.",
    examines: Examines::Records(|cx| current_internal(cx).count()),
    evaluate: |cx, out| {
        let docs: Vec<_> = current_internal(cx).collect();
        // An approver who is not in the people register counts as none.
        let bad: Vec<_> = docs
            .iter()
            .filter_map(|d| {
                let missing: Vec<_> = [
                    (
                        "approver",
                        !d.approver
                            .as_deref()
                            .is_some_and(|a| cx.resolves(Target::Person, a)),
                    ),
                    ("approved_on", d.approved_on.is_none()),
                    ("version", d.version.is_none()),
                ]
                .into_iter()
                .filter(|m| m.1)
                .map(|m| m.0)
                .collect();
                (!missing.is_empty()).then(|| {
                    doc(d, format!("no {}", missing.join(", no ")))
                        .field(missing[0], None::<String>)
                })
            })
            .collect();
        DOC_UNCONTROLLED.report_extent(
            out,
            bad,
            docs.len(),
            "current documents are not approved or not versioned",
            None,
        );
    },
};

pub(super) static DOC_REVIEW_OVERDUE: Check = Check {
    id: "doc-review-overdue",
    pattern: "F-016",
    title: "Current document past its review date",
    clauses_2018: &["7.5.3"],
    clauses_2011: &["4.3.2"],
    doc: "Fires for each current document whose last review (or approval) is older than its own \
          `review_interval`, else the `document_review` interval (default 12 months). Records \
          (minutes, reports, records) are kept, not reviewed, so they are left out. Graded by \
          extent over the current documents reviewed.",
    examines: Examines::Records(|cx| current_reviewed(cx).count()),
    evaluate: |cx, out| {
        let docs: Vec<_> = current_reviewed(cx).collect();
        let default = cx.interval(Activity::DocumentReview);
        let bad: Vec<_> = docs
            .iter()
            .filter(|d| cx.overdue(d.reviewed(), d.review_interval.unwrap_or(default)))
            .map(|d| {
                let interval = d.review_interval.unwrap_or(default);
                doc(
                    d,
                    format!("{} overdue for its {interval} review", d.label()),
                )
                .field("last_reviewed_on", d.reviewed())
            })
            .collect();
        DOC_REVIEW_OVERDUE.report_extent(
            out,
            bad,
            docs.len(),
            "current documents are past their review date",
            None,
        );
    },
};

pub(super) static DOC_DUPLICATE_CURRENT: Check = Check {
    id: "doc-duplicate-current",
    pattern: "F-017",
    title: "Two versions of one document both current",
    clauses_2018: &["7.5.3"],
    clauses_2011: &["4.3.2"],
    doc: "Fires for each document id with more than one version marked current: staff cannot \
          tell which one applies. Minor.",
    examines: Examines::Records(|cx| current(cx).count()),
    evaluate: |cx, out| {
        let mut by_id: BTreeMap<&str, Vec<&Document>> = BTreeMap::new();
        for d in current(cx) {
            by_id.entry(&d.id).or_default().push(d);
        }
        let bad: Vec<_> = by_id
            .into_iter()
            .filter(|(_, v)| v.len() > 1)
            .map(|(id, v)| {
                let versions: Vec<_> = v
                    .iter()
                    .map(|d| d.version.as_deref().unwrap_or("(none)"))
                    .collect();
                Evidence::new(
                    RecordKind::Document,
                    id,
                    format!("{} versions current", v.len()),
                )
                .field("version", Some(versions.join(", ")))
            })
            .collect();
        if !bad.is_empty() {
            out.push(
                DOC_DUPLICATE_CURRENT
                    .finding(
                        Grade::Minor,
                        format!(
                            "{} more than one current version",
                            n(bad.len(), "document has", "documents have")
                        ),
                    )
                    .with_all(bad),
            );
        }
    },
};

/// The clauses that ask for a document, in an edition.
pub(super) fn required_clauses(edition: Edition) -> impl Iterator<Item = &'static str> {
    DocType::ALL
        .iter()
        .filter_map(move |t| t.required_by(edition))
}

/// Documents whose absence leaves the SMS without direction rather than without one control.
const CORE: &[DocType] = &[
    DocType::Scope,
    DocType::Policy,
    DocType::Objectives,
    DocType::SmsPlan,
    DocType::ServiceCatalogue,
];

pub(super) static DOC_REQUIRED_MISSING: Check = Check {
    id: "doc-required-missing",
    pattern: "F-014",
    title: "A document the edition requires is missing",
    clauses_2018: &["7.5.1", "7.5.4"],
    clauses_2011: &["4.3.1"],
    doc: "For each document type the audited edition requires (scope, policy, objectives, SMS \
          plan, service catalogue, SLA, change management policy, information security policy, \
          continuity plan, capacity plan; in 2011 also availability plan, release policy and \
          improvement policy), fires when the register holds no current document of that type. \
          One finding per type, also filed under the clause that asks for the document. Major for \
          the scope, policy, objectives, SMS plan and catalogue, or when three or more are \
          missing; minor otherwise.",
    examines: Examines::Presence,
    evaluate: |cx, out| {
        let docs: Vec<_> = current(cx).collect();
        let missing: Vec<_> = DocType::ALL
            .iter()
            .filter(|t| t.required_by(cx.edition).is_some() && !docs.iter().any(|d| d.kind == **t))
            .collect();
        let systemic = missing.len() >= 3;
        for t in missing {
            let grade = if systemic || CORE.contains(t) {
                Grade::Major
            } else {
                Grade::Minor
            };
            out.push(
                DOC_REQUIRED_MISSING
                    .finding(
                        grade,
                        format!("No current {} in the document register", t.describe()),
                    )
                    .also_under(t.required_by(Edition::Y2011), t.required_by(Edition::Y2018))
                    .part(t.key())
                    .with(
                        Evidence::new(
                            RecordKind::Register,
                            "documents",
                            "no current document of this type",
                        )
                        .field("type", Some(t.key())),
                    ),
            );
        }
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{clean, document, fires, ids, quiet, run, run_in};
    use jiff::civil::date;

    #[test]
    fn current_documents_need_approval_and_version() {
        quiet(&DOC_UNCONTROLLED, &clean());
        let mut sms = clean();
        sms.documents[0].approver = None;
        sms.documents[1].version = None;
        sms.documents[2].status = DocStatus::Draft;
        sms.documents[2].approved_on = None;
        let f = fires(&DOC_UNCONTROLLED, &sms);
        assert_eq!(
            ids(&f),
            ["DOC-scope", "DOC-policy"],
            "drafts are not yet controlled"
        );
        assert_eq!(f.grade, Grade::Minor);
        sms.documents[1].external = true;
        assert_eq!(
            ids(&fires(&DOC_UNCONTROLLED, &sms)),
            ["DOC-scope"],
            "external documents are approved by their source"
        );
    }

    #[test]
    fn review_dates_follow_each_documents_interval() {
        quiet(&DOC_REVIEW_OVERDUE, &clean());
        let mut sms = clean();
        sms.documents[0].review_interval = Some(crate::interval::Interval::Months(3));
        sms.documents[1].last_reviewed_on = Some(date(2024, 1, 1));
        sms.documents[1].approved_on = Some(date(2024, 1, 1));
        let f = fires(&DOC_REVIEW_OVERDUE, &sms);
        assert_eq!(ids(&f), ["DOC-scope", "DOC-policy"]);
        assert_eq!(f.evidence[1].value.as_deref(), Some("2024-01-01"));
    }

    #[test]
    fn one_current_version_per_document() {
        quiet(&DOC_DUPLICATE_CURRENT, &clean());
        let mut sms = clean();
        let mut v2 = document("DOC-policy", DocType::Policy);
        v2.version = Some("2.0".into());
        sms.documents.push(v2);
        let f = fires(&DOC_DUPLICATE_CURRENT, &sms);
        assert_eq!(
            (ids(&f), f.evidence[0].value.as_deref()),
            (vec!["DOC-policy"], Some("1.0, 2.0"))
        );
    }

    #[test]
    fn required_documents_depend_on_the_edition() {
        quiet(&DOC_REQUIRED_MISSING, &clean());
        let mut sms = clean();
        sms.documents
            .retain(|d| d.kind != DocType::ReleasePolicy && d.kind != DocType::CapacityPlan);
        let f = fires(&DOC_REQUIRED_MISSING, &sms);
        assert_eq!(
            (f.grade, f.clauses_2018.clone()),
            (Grade::Minor, vec!["7.5.1", "7.5.4", "8.4.3"])
        );
        let in_2011 = run_in(&DOC_REQUIRED_MISSING, &sms, Edition::Y2011);
        assert_eq!(in_2011.len(), 2, "2011 also requires a release policy");
        assert!(in_2011.iter().all(|f| f.clauses_2011.len() == 2));

        sms.documents.retain(|d| d.kind != DocType::SmsPlan);
        let found = run(&DOC_REQUIRED_MISSING, &sms);
        assert!(
            found
                .iter()
                .any(|f| f.grade == Grade::Major && f.title.contains("service management plan"))
        );
    }
}

pub(super) static EXTERNAL_DOC_UNCONTROLLED: Check = Check {
    id: "external-doc-uncontrolled",
    pattern: "F-018",
    title: "External document in use without an owner or a review",
    clauses_2018: &["7.5.3"],
    clauses_2011: &["4.3.2"],
    doc: "Fires for each current external document (contract, vendor manual, law) with no owner \
          or never reviewed by the organisation: nobody would notice a new edition. Graded by \
          extent over the current external documents.",
    examines: Examines::Records(|cx| current_external(cx).count()),
    evaluate: |cx, out| {
        let external: Vec<_> = current_external(cx).collect();
        let bad: Vec<_> = external
            .iter()
            .filter_map(|d| {
                let missing: Vec<_> = [
                    (
                        "owner",
                        d.owner.as_deref().is_none_or(|o| !cx.is_active_person(o)),
                    ),
                    ("last_reviewed_on", d.last_reviewed_on.is_none()),
                ]
                .into_iter()
                .filter(|m| m.1)
                .map(|m| m.0)
                .collect();
                (!missing.is_empty()).then(|| {
                    doc(d, format!("external, no {}", missing.join(", no ")))
                        .field(missing[0], None::<String>)
                })
            })
            .collect();
        EXTERNAL_DOC_UNCONTROLLED.report_extent(
            out,
            bad,
            external.len(),
            "external documents in use have no owner or review",
            None,
        );
    },
};

#[cfg(test)]
mod external_tests {
    use super::*;
    use crate::checks::testing::{clean, document, fires, ids, quiet};

    #[test]
    fn external_documents_have_an_owner_and_a_review() {
        quiet(&EXTERNAL_DOC_UNCONTROLLED, &clean());
        let mut sms = clean();
        let mut manual = document("EXT-1", DocType::Other);
        manual.external = true;
        manual.owner = None;
        sms.documents.push(manual);
        assert_eq!(ids(&fires(&EXTERNAL_DOC_UNCONTROLLED, &sms)), ["EXT-1"]);
    }

    #[test]
    fn an_approver_outside_the_people_register_is_no_approver() {
        let mut sms = clean();
        sms.documents[0].approver = Some("helena".into());
        let f = fires(&DOC_UNCONTROLLED, &sms);
        assert_eq!(
            (ids(&f), f.evidence[0].field),
            (vec!["DOC-scope"], Some("approver"))
        );
        sms.documents[0].approver = Some("sm".into());
        quiet(&DOC_UNCONTROLLED, &sms);
    }
}
