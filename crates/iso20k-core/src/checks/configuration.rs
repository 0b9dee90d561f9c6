//! Configuration information: every item has an owner, a type and a service, and the records
//! are checked against reality at planned intervals.

use super::{Check, Evidence, Examines, RecordKind};
use crate::interval::Activity;
use crate::refs::{Index, Target};

pub(super) static CI_INCOMPLETE: Check = Check {
    id: "ci-incomplete",
    pattern: "F-095",
    title: "Configuration items without owner, type or service",
    clauses_2018: &["8.2.6"],
    clauses_2011: &["9.1"],
    doc: "Fires for each configuration item with no owner, no type, or no service it supports (a \
          service the catalogue lacks by id or name counts as none). \
          Graded by extent over the configuration items.",
    examines: Examines::Records(|cx| cx.sms.tickets.cis.len()),
    evaluate: |cx, out| {
        let cis = &cx.sms.tickets.cis;
        // A service the catalogue lacks counts as none.
        let index = Index::new(cx.sms);
        let bad: Vec<_> = cis
            .iter()
            .filter_map(|c| {
                let missing: Vec<_> = [
                    ("owner", c.owner.is_none()),
                    ("type", c.kind.is_none()),
                    (
                        "service",
                        !c.service
                            .as_deref()
                            .is_some_and(|s| index.has(Target::Service, s)),
                    ),
                ]
                .into_iter()
                .filter(|m| m.1)
                .map(|m| m.0)
                .collect();
                (!missing.is_empty()).then(|| {
                    Evidence::new(
                        RecordKind::ConfigurationItem,
                        &c.id,
                        format!("no {}", missing.join(", no ")),
                    )
                    .field(missing[0], None::<String>)
                })
            })
            .collect();
        CI_INCOMPLETE.report_extent(
            out,
            bad,
            cis.len(),
            "configuration items lack an owner, type or service",
            Some("cis"),
        );
    },
};

pub(super) static CI_NOT_VERIFIED: Check = Check {
    id: "ci-not-verified",
    pattern: "F-096",
    title: "Configuration records not verified within the interval",
    clauses_2018: &["8.2.6"],
    clauses_2011: &["9.1"],
    doc: "Fires for each configuration item not verified against reality within \
          `ci_verification` (default 12 months). Graded by extent over the configuration items.",
    examines: Examines::Records(|cx| cx.sms.tickets.cis.len()),
    evaluate: |cx, out| {
        let cis = &cx.sms.tickets.cis;
        let interval = cx.interval(Activity::CiVerification);
        let bad: Vec<_> = cis
            .iter()
            .filter(|c| cx.overdue(c.last_verified_on, interval))
            .map(|c| {
                Evidence::new(
                    RecordKind::ConfigurationItem,
                    &c.id,
                    format!("not verified in the last {interval}"),
                )
                .field("last_verified_on", c.last_verified_on)
            })
            .collect();
        CI_NOT_VERIFIED.report_extent(
            out,
            bad,
            cis.len(),
            &format!("configuration items were not verified in the last {interval}"),
            Some("cis"),
        );
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};

    #[test]
    fn items_have_owner_type_and_service() {
        quiet(&CI_INCOMPLETE, &clean());
        let mut sms = clean();
        sms.tickets.cis[0].owner = None;
        assert_eq!(ids(&fires(&CI_INCOMPLETE, &sms)), ["CI-1"]);
    }

    #[test]
    fn items_are_verified() {
        quiet(&CI_NOT_VERIFIED, &clean());
        let mut sms = clean();
        sms.tickets.cis[0].last_verified_on = None;
        assert_eq!(ids(&fires(&CI_NOT_VERIFIED, &sms)), ["CI-1"]);
    }

    #[test]
    fn a_service_the_catalogue_lacks_is_no_service() {
        let mut sms = clean();
        sms.tickets.cis[0].service = Some("S-NONE".into());
        let f = fires(&CI_INCOMPLETE, &sms);
        assert_eq!(ids(&f), ["CI-1"]);
        sms.tickets.cis[0].service = Some("Managed e-mail".into());
        quiet(&CI_INCOMPLETE, &sms);
    }
}
