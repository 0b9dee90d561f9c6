//! Business relationships: every customer has someone managing the relationship, is asked how
//! satisfied it is and meets the organisation to review its services, and its complaints are
//! acted on and closed.

use super::{Check, Context, Evidence, Examines, RecordKind, by_extent, n};
use crate::interval::Activity;
use crate::kb::Grade;
use crate::model::{Complaint, Service};

/// Customers a service names that the customer register lacks, with the service naming them.
fn unregistered<'a>(cx: &Context<'a>) -> impl Iterator<Item = (&'a Service, &'a String)> {
    let customers = &cx.sms.customers;
    cx.sms.services.iter().flat_map(move |s| {
        s.customers
            .iter()
            .filter(move |n| !customers.iter().any(|c| &c.id == *n))
            .map(move |n| (s, n))
    })
}

/// The customer relationships there are to look at: the customers in the register, and those
/// only a service names.
fn relationships(cx: &Context<'_>) -> usize {
    cx.sms.customers.len() + unregistered(cx).count()
}

/// Complaints received on or before the as-of date (or undated).
fn received<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Complaint> {
    let as_of = cx.as_of;
    cx.sms
        .complaints
        .iter()
        .filter(move |c| c.received_on.is_none_or(|d| d <= as_of))
}

pub(super) static CUSTOMER_NO_RELATIONSHIP_OWNER: Check = Check {
    id: "customer-no-relationship-owner",
    pattern: "F-079",
    title: "Customer without a relationship owner",
    clauses_2018: &["8.3.2"],
    clauses_2011: &["7.1"],
    doc: "Fires when services name customers but no customer is recorded (minor), for each \
          customer whose `relationship_owner` is empty, unknown or gone, and for each customer a \
          service names that the customer register lacks. Graded by extent over the customers.",
    examines: Examines::Records(relationships),
    evaluate: |cx, out| {
        let customers = &cx.sms.customers;
        if customers.is_empty() {
            if cx.sms.services.iter().any(|s| !s.customers.is_empty()) {
                out.push(
                    CUSTOMER_NO_RELATIONSHIP_OWNER
                        .finding(Grade::Minor, "Services name customers, but no customer is recorded with a relationship owner")
                        .with(Evidence::new(RecordKind::Register, "customers", "no customers recorded")),
                );
            }
            return;
        }
        let mut bad: Vec<_> = customers
            .iter()
            .filter(|c| {
                c.relationship_owner
                    .as_deref()
                    .is_none_or(|o| !cx.is_active_person(o))
            })
            .map(|c| {
                Evidence::new(
                    RecordKind::Customer,
                    &c.id,
                    "nobody in post manages the relationship",
                )
                .field("relationship_owner", c.relationship_owner.as_ref())
            })
            .collect();
        // A customer a service names but the customer register lacks has no relationship at all.
        for (s, name) in unregistered(cx) {
            bad.push(
                Evidence::new(
                    RecordKind::Service,
                    &s.id,
                    format!("names customer {name}, which the customer register lacks"),
                )
                .field("customers", Some(name)),
            );
        }
        if !bad.is_empty() {
            out.push(
                CUSTOMER_NO_RELATIONSHIP_OWNER
                    .finding(
                        by_extent(bad.len(), customers.len().max(bad.len())),
                        format!(
                            "{} without anyone managing it",
                            n(
                                bad.len(),
                                "customer relationship is",
                                "customer relationships are"
                            )
                        ),
                    )
                    .with_all(bad),
            );
        }
    },
};

pub(super) static CUSTOMER_SATISFACTION_OVERDUE: Check = Check {
    id: "customer-satisfaction-overdue",
    pattern: "F-080",
    title: "Customer satisfaction not measured within the interval",
    clauses_2018: &["8.3.2"],
    clauses_2011: &["7.1"],
    doc: "Fires for each customer with no satisfaction survey in the `customer_satisfaction` \
          interval (default 12 months). Graded by extent over the customers.",
    examines: Examines::Records(|cx| cx.sms.customers.len()),
    evaluate: |cx, out| {
        let customers = &cx.sms.customers;
        let interval = cx.interval(Activity::CustomerSatisfaction);
        let bad: Vec<_> = customers
            .iter()
            .filter_map(|c| {
                let last = c
                    .surveys
                    .iter()
                    .map(|s| s.on)
                    .filter(|d| *d <= cx.as_of)
                    .max();
                cx.overdue(last, interval).then(|| {
                    Evidence::new(
                        RecordKind::Customer,
                        &c.id,
                        format!("no survey in the last {interval}"),
                    )
                    .field("surveys", last)
                })
            })
            .collect();
        CUSTOMER_SATISFACTION_OVERDUE.report_extent(
            out,
            bad,
            customers.len(),
            &format!("customers were not asked about their satisfaction in the last {interval}"),
            None,
        );
    },
};

pub(super) static CUSTOMER_REVIEW_OVERDUE: Check = Check {
    id: "customer-review-overdue",
    pattern: "F-082",
    title: "No service review with a customer within the interval",
    clauses_2018: &["8.3.2"],
    clauses_2011: &["7.1"],
    doc: "Fires for each customer with no service review meeting in the \
          `customer_service_review` interval (default 12 months). Graded by extent over the \
          customers.",
    examines: Examines::Records(|cx| cx.sms.customers.len()),
    evaluate: |cx, out| {
        let customers = &cx.sms.customers;
        let interval = cx.interval(Activity::CustomerServiceReview);
        let bad: Vec<_> = customers
            .iter()
            .filter_map(|c| {
                let last = c
                    .service_reviews
                    .iter()
                    .copied()
                    .filter(|d| *d <= cx.as_of)
                    .max();
                cx.overdue(last, interval).then(|| {
                    Evidence::new(
                        RecordKind::Customer,
                        &c.id,
                        format!("no service review in the last {interval}"),
                    )
                    .field("service_reviews", last)
                })
            })
            .collect();
        CUSTOMER_REVIEW_OVERDUE.report_extent(
            out,
            bad,
            customers.len(),
            &format!("customers had no service review in the last {interval}"),
            None,
        );
    },
};

pub(super) static COMPLAINT_UNRESOLVED: Check = Check {
    id: "complaint-unresolved",
    pattern: "F-081",
    title: "Service complaint not acted on or not closed in time",
    clauses_2018: &["8.3.2"],
    clauses_2011: &["7.1"],
    doc: "Fires for each complaint received longer ago than `complaint_resolution` (default 30 \
          days) that is still open or has no recorded action, and for each complaint closed with \
          no action recorded. Graded by extent over the complaints.",
    examines: Examines::Records(|cx| received(cx).count()),
    evaluate: |cx, out| {
        let complaints: Vec<_> = received(cx).collect();
        let deadline = cx.since(Activity::ComplaintResolution);
        let bad: Vec<_> = complaints
            .iter()
            .filter_map(|c| {
                let old = c.received_on.is_none_or(|d| d < deadline);
                let open = c.closed_on.is_none_or(|d| d > cx.as_of);
                let note = match (open, c.action.is_none()) {
                    (false, true) => "closed with no action recorded",
                    (true, true) if old => "open past the deadline with no action recorded",
                    (true, false) if old => "open past the deadline",
                    _ => return None,
                };
                Some(
                    Evidence::new(RecordKind::Complaint, &c.id, note)
                        .field("received_on", c.received_on),
                )
            })
            .collect();
        COMPLAINT_UNRESOLVED.report_extent(
            out,
            bad,
            complaints.len(),
            "complaints were not handled to closure",
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
    fn customers_have_a_relationship_owner() {
        quiet(&CUSTOMER_NO_RELATIONSHIP_OWNER, &clean());
        let mut sms = clean();
        sms.customers[0].relationship_owner = Some("ghost".into());
        assert_eq!(ids(&fires(&CUSTOMER_NO_RELATIONSHIP_OWNER, &sms)), ["Acme"]);
        sms.customers[0].relationship_owner = Some("sm".into());
        sms.services[0].customers.push("Globex".into());
        assert_eq!(
            ids(&fires(&CUSTOMER_NO_RELATIONSHIP_OWNER, &sms)),
            ["S-MAIL"]
        );
        sms.customers.clear();
        assert_eq!(
            ids(&fires(&CUSTOMER_NO_RELATIONSHIP_OWNER, &sms)),
            ["customers"]
        );
    }

    #[test]
    fn customers_are_surveyed_and_reviewed() {
        quiet(&CUSTOMER_SATISFACTION_OVERDUE, &clean());
        quiet(&CUSTOMER_REVIEW_OVERDUE, &clean());
        let mut sms = clean();
        sms.customers[0].surveys[0].on = date(2025, 5, 1);
        sms.customers[0].service_reviews.clear();
        assert_eq!(ids(&fires(&CUSTOMER_SATISFACTION_OVERDUE, &sms)), ["Acme"]);
        assert_eq!(ids(&fires(&CUSTOMER_REVIEW_OVERDUE, &sms)), ["Acme"]);
    }

    #[test]
    fn complaints_are_acted_on_and_closed() {
        quiet(&COMPLAINT_UNRESOLVED, &clean());
        let mut sms = clean();
        sms.complaints[0].closed_on = None;
        assert_eq!(
            fires(&COMPLAINT_UNRESOLVED, &sms).evidence[0].note,
            "open past the deadline"
        );
        sms.complaints[0].received_on = Some(date(2026, 6, 20));
        quiet(&COMPLAINT_UNRESOLVED, &sms);
        sms.complaints[0].closed_on = Some(date(2026, 6, 25));
        sms.complaints[0].action = None;
        assert_eq!(
            fires(&COMPLAINT_UNRESOLVED, &sms).evidence[0].note,
            "closed with no action recorded"
        );
    }
}
