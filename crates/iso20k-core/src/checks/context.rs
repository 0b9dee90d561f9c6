//! Context, scope and planning: a scope that says who delivers what from where, a context
//! analysis kept current (with the 2024 climate decision), an SMS plan that follows changes of
//! scope, and risks that are owned, treated and reviewed.

use super::{Check, Context, Evidence, Examines, RecordKind};
use crate::interval::Activity;
use crate::kb::Grade;
use crate::model::{DocStatus, DocType, Document, Lifecycle};

/// The current SMS plan last reviewed (or approved), if the register holds one.
fn current_plan<'a>(cx: &Context<'a>) -> Option<&'a Document> {
    cx.sms
        .documents
        .iter()
        .filter(|d| d.kind == DocType::SmsPlan && d.status == DocStatus::Current)
        .max_by_key(|d| d.reviewed())
}

pub(super) static SCOPE_INCOMPLETE: Check = Check {
    id: "scope-incomplete",
    pattern: "F-026",
    title: "Scope does not say who delivers which services from where",
    clauses_2018: &["4.3"],
    clauses_2011: &["4.5.1"],
    doc: "Fires when the organisation's `scope` statement is empty, when it names no units or no \
          locations, or when no service in the catalogue is in scope. Minor; major when there is \
          no scope statement at all.",
    examines: Examines::Presence,
    evaluate: |cx, out| {
        let org = &cx.sms.organisation;
        let mut evidence = Vec::new();
        let mut grade = Grade::Minor;
        if org.scope.trim().is_empty() {
            grade = Grade::Major;
            evidence.push(
                Evidence::new(
                    RecordKind::Organisation,
                    "organisation",
                    "no scope statement",
                )
                .field("scope", None::<String>),
            );
        }
        if org.units.is_empty() {
            evidence.push(
                Evidence::new(
                    RecordKind::Organisation,
                    "organisation",
                    "no delivering unit named",
                )
                .field("units", None::<String>),
            );
        }
        if org.locations.is_empty() {
            evidence.push(
                Evidence::new(
                    RecordKind::Organisation,
                    "organisation",
                    "no location named",
                )
                .field("locations", None::<String>),
            );
        }
        if !cx
            .sms
            .services
            .iter()
            .any(|s| s.in_scope && s.lifecycle != Lifecycle::Retired)
        {
            evidence.push(Evidence::new(
                RecordKind::Register,
                "services",
                "no service in the catalogue is in scope",
            ));
        }
        if !evidence.is_empty() {
            out.push(SCOPE_INCOMPLETE.finding(grade, "The SMS scope does not say which services are delivered, by whom, from where").with_all(evidence));
        }
    },
};

pub(super) static CONTEXT_NOT_REVIEWED: Check = Check {
    id: "context-not-reviewed",
    pattern: "F-109",
    title: "Context and interested parties not analysed or not reviewed",
    clauses_2018: &["4.1", "4.2"],
    clauses_2011: &[],
    doc: "2018 only. Fires when the organisation records no context analysis, when it lists no \
          issues or no interested parties, or when it was last reviewed longer ago than \
          `context_review` (default 12 months). Minor.",
    examines: Examines::Presence,
    evaluate: |cx, out| {
        let Some(c) = &cx.sms.organisation.context else {
            out.push(
                CONTEXT_NOT_REVIEWED
                    .finding(
                        Grade::Minor,
                        "No analysis of the organisation's context and interested parties",
                    )
                    .with(
                        Evidence::new(
                            RecordKind::Organisation,
                            "organisation",
                            "no context analysis",
                        )
                        .field("context", None::<String>),
                    ),
            );
            return;
        };
        let mut evidence = Vec::new();
        if c.issues.is_empty() {
            evidence.push(
                Evidence::new(
                    RecordKind::Organisation,
                    "organisation",
                    "no internal or external issues listed",
                )
                .field("context.issues", None::<String>),
            );
        }
        if c.interested_parties.is_empty() {
            evidence.push(
                Evidence::new(
                    RecordKind::Organisation,
                    "organisation",
                    "no interested parties listed",
                )
                .field("context.interested_parties", None::<String>),
            );
        }
        let interval = cx.interval(Activity::ContextReview);
        if cx.overdue(c.reviewed_on, interval) {
            evidence.push(
                Evidence::new(
                    RecordKind::Organisation,
                    "organisation",
                    format!("not reviewed in the last {interval}"),
                )
                .field("context.reviewed_on", c.reviewed_on),
            );
        }
        if !evidence.is_empty() {
            out.push(
                CONTEXT_NOT_REVIEWED
                    .finding(
                        Grade::Minor,
                        "The context analysis is incomplete or out of date",
                    )
                    .with_all(evidence),
            );
        }
    },
};

pub(super) static CLIMATE_DECISION_MISSING: Check = Check {
    id: "climate-decision-missing",
    pattern: "F-111",
    title: "Context analysis silent on climate change",
    clauses_2018: &["4.1", "4.2"],
    clauses_2011: &[],
    doc: "2018 with its 2024 amendment. Fires when a context analysis exists but records no \
          decision, either way, on whether climate change is a relevant issue. Minor.",
    examines: Examines::Presence,
    evaluate: |cx, out| {
        let Some(c) = &cx.sms.organisation.context else {
            return;
        };
        if c.climate_change_relevant.is_none() {
            out.push(
                CLIMATE_DECISION_MISSING
                    .finding(
                        Grade::Minor,
                        "The context analysis does not decide whether climate change is relevant",
                    )
                    .with(
                        Evidence::new(
                            RecordKind::Organisation,
                            "organisation",
                            "no decision on climate change",
                        )
                        .field("context.climate_change_relevant", None::<String>),
                    ),
            );
        }
    },
};

pub(super) static SMS_PLAN_OUTDATED: Check = Check {
    id: "sms-plan-outdated",
    pattern: "F-027",
    title: "SMS plan not updated after a change of scope",
    clauses_2018: &["6.3"],
    clauses_2011: &["4.5.2"],
    doc: "Takes the last review (or approval) of the current SMS plan in the document register \
          and fires when a service has gone live or been retired since, within the \
          `sms_plan_review` interval before the as-of date (default 12 months), or when the plan \
          is older than that interval. Minor.",
    examines: Examines::Records(|cx| usize::from(current_plan(cx).is_some())),
    evaluate: |cx, out| {
        let Some(plan) = current_plan(cx) else {
            return;
        };
        let reviewed = plan.reviewed();
        let interval = cx.interval(Activity::SmsPlanReview);
        let since = cx.since(Activity::SmsPlanReview);
        let mut evidence = Vec::new();
        for s in &cx.sms.services {
            for (what, date) in [("went live", s.live_on), ("was retired", s.retired_on)] {
                let Some(d) = date.filter(|d| *d >= since && *d <= cx.as_of) else {
                    continue;
                };
                if reviewed.is_none_or(|r| r < d) {
                    evidence.push(Evidence::new(
                        RecordKind::Service,
                        &s.id,
                        format!("{} {what} on {d}, after the plan's last review", s.name),
                    ));
                }
            }
        }
        if cx.overdue(reviewed, interval) {
            evidence.insert(
                0,
                Evidence::new(
                    RecordKind::Document,
                    &plan.id,
                    format!("not reviewed in the last {interval}"),
                )
                .field("last_reviewed_on", reviewed),
            );
        } else if !evidence.is_empty() {
            evidence.insert(
                0,
                Evidence::new(RecordKind::Document, &plan.id, "last reviewed")
                    .field("last_reviewed_on", reviewed),
            );
        }
        if !evidence.is_empty() {
            out.push(
                SMS_PLAN_OUTDATED
                    .finding(
                        Grade::Minor,
                        "The service management plan no longer describes the SMS in operation",
                    )
                    .with_all(evidence),
            );
        }
    },
};

pub(super) static RISKS_UNTREATED: Check = Check {
    id: "risks-untreated",
    pattern: "F-029",
    title: "Risks to the services not assessed, owned, treated or reviewed",
    clauses_2018: &["6.1"],
    clauses_2011: &["4.5.2", "4.5.3"],
    doc: "Fires when the risk register is empty (major), or for each open risk without an \
          owner, a treatment, a likelihood and impact, or a review within `risk_review` (default \
          12 months). Graded by extent over the open risks.",
    examines: Examines::Presence,
    evaluate: |cx, out| {
        if cx.sms.risks.is_empty() {
            out.push(
                RISKS_UNTREATED
                    .finding(Grade::Major, "No risks to the services are recorded")
                    .with(Evidence::new(
                        RecordKind::Register,
                        "risks",
                        "the risk register is empty",
                    )),
            );
            return;
        }
        let open: Vec<_> = cx.sms.risks.iter().filter(|r| r.open).collect();
        let interval = cx.interval(Activity::RiskReview);
        let bad: Vec<_> = open
            .iter()
            .filter_map(|r| {
                let mut gaps = Vec::new();
                if r.owner.as_deref().is_none_or(|o| !cx.is_active_person(o)) {
                    gaps.push("owner");
                }
                if r.treatment.is_none() {
                    gaps.push("treatment");
                }
                if r.likelihood.is_none() || r.impact.is_none() {
                    gaps.push("assessment");
                }
                if cx.overdue(r.last_reviewed_on, interval) {
                    gaps.push("review");
                }
                (!gaps.is_empty()).then(|| {
                    Evidence::new(
                        RecordKind::Risk,
                        &r.id,
                        format!("no {}", gaps.join(", no ")),
                    )
                    .field("last_reviewed_on", r.last_reviewed_on)
                })
            })
            .collect();
        RISKS_UNTREATED.report_extent(
            out,
            bad,
            open.len(),
            "open risks lack an owner, treatment, assessment or review",
            None,
        );
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};
    use jiff::civil::date;

    #[test]
    fn the_scope_names_units_locations_and_services() {
        quiet(&SCOPE_INCOMPLETE, &clean());
        let mut sms = clean();
        sms.organisation.locations.clear();
        assert_eq!(fires(&SCOPE_INCOMPLETE, &sms).grade, Grade::Minor);
        sms.organisation.scope.clear();
        assert_eq!(fires(&SCOPE_INCOMPLETE, &sms).grade, Grade::Major);
    }

    #[test]
    fn the_context_is_analysed_and_reviewed() {
        quiet(&CONTEXT_NOT_REVIEWED, &clean());
        let mut sms = clean();
        sms.organisation.context.as_mut().unwrap().reviewed_on = Some(date(2025, 1, 1));
        assert_eq!(
            fires(&CONTEXT_NOT_REVIEWED, &sms).evidence[0].field,
            Some("context.reviewed_on")
        );
        sms.organisation.context = None;
        assert_eq!(ids(&fires(&CONTEXT_NOT_REVIEWED, &sms)), ["organisation"]);
        let in_2011 =
            crate::checks::testing::run_in(&CONTEXT_NOT_REVIEWED, &sms, crate::Edition::Y2011);
        assert!(
            in_2011
                .iter()
                .all(|f| f.clauses(crate::Edition::Y2011).is_empty()),
            "2018 only"
        );
    }

    #[test]
    fn the_context_decides_on_climate_change() {
        quiet(&CLIMATE_DECISION_MISSING, &clean());
        let mut sms = clean();
        sms.organisation
            .context
            .as_mut()
            .unwrap()
            .climate_change_relevant = Some(false);
        quiet(&CLIMATE_DECISION_MISSING, &sms);
        sms.organisation
            .context
            .as_mut()
            .unwrap()
            .climate_change_relevant = None;
        assert_eq!(
            ids(&fires(&CLIMATE_DECISION_MISSING, &sms)),
            ["organisation"]
        );
    }

    #[test]
    fn the_plan_follows_changes_of_scope() {
        quiet(&SMS_PLAN_OUTDATED, &clean());
        let mut sms = clean();
        sms.services[0].live_on = Some(date(2026, 3, 1));
        assert_eq!(
            ids(&fires(&SMS_PLAN_OUTDATED, &sms)),
            ["DOC-sms-plan", "S-MAIL"]
        );
        let plan = sms
            .documents
            .iter_mut()
            .find(|d| d.kind == DocType::SmsPlan)
            .unwrap();
        plan.last_reviewed_on = Some(date(2026, 3, 15));
        quiet(&SMS_PLAN_OUTDATED, &sms);
    }

    #[test]
    fn risks_are_owned_treated_and_reviewed() {
        quiet(&RISKS_UNTREATED, &clean());
        let mut sms = clean();
        sms.risks[0].treatment = None;
        sms.risks[0].last_reviewed_on = Some(date(2025, 1, 1));
        let f = fires(&RISKS_UNTREATED, &sms);
        assert_eq!(f.evidence[0].note, "no treatment, no review");
        sms.risks.clear();
        assert_eq!(fires(&RISKS_UNTREATED, &sms).grade, Grade::Major);
    }
}
