//! Suppliers: every supplier in use has a contract in force, reviewed at planned intervals, and
//! someone who manages it.

use super::{Check, Context, Evidence, Examines, RecordKind, by_extent, n};
use crate::interval::Activity;
use crate::model::{Contract, Process, Supplier, SupplierKind};

fn external<'a>(cx: &Context<'a>) -> Vec<&'a Supplier> {
    cx.sms
        .suppliers
        .iter()
        .filter(|s| s.active && s.kind == SupplierKind::External)
        .collect()
}

fn in_force(cx: &Context<'_>, c: &Contract) -> bool {
    c.starts_on.is_none_or(|d| d <= cx.as_of) && c.ends_on.is_none_or(|d| d >= cx.as_of)
}

/// Contracts in force with active external suppliers.
fn external_contracts<'a>(cx: &Context<'a>) -> Vec<&'a Contract> {
    external(cx)
        .into_iter()
        .flat_map(|s| &s.contracts)
        .filter(|c| in_force(cx, c))
        .collect()
}

/// Processes run by another party.
fn outsourced_processes<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Process> {
    cx.sms.processes.iter().filter(|p| p.operated_by.is_some())
}

/// Active internal suppliers.
fn internal_suppliers<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a Supplier> {
    cx.sms
        .suppliers
        .iter()
        .filter(|s| s.active && s.kind == SupplierKind::Internal)
}

pub(super) static CONTRACT_REVIEW_OVERDUE: Check = Check {
    id: "contract-review-overdue",
    pattern: "F-084",
    title: "Supplier contract not reviewed within its interval",
    clauses_2018: &["8.3.4.1"],
    clauses_2011: &["7.2"],
    doc: "Fires for each contract in force with an active external supplier whose last review \
          (or start) is older than its own `review_interval`, else the `contract_review` interval \
          (default 12 months). Graded by extent over those contracts.",
    examines: Examines::Records(|cx| external_contracts(cx).len()),
    evaluate: |cx, out| {
        let default = cx.interval(Activity::ContractReview);
        let contracts = external_contracts(cx);
        let bad: Vec<_> = contracts
            .iter()
            .filter(|c| {
                cx.overdue(
                    c.last_reviewed_on.max(c.starts_on),
                    c.review_interval.unwrap_or(default),
                )
            })
            .map(|c| {
                Evidence::new(RecordKind::Contract, &c.id, "not reviewed in its interval")
                    .field("last_reviewed_on", c.last_reviewed_on.max(c.starts_on))
            })
            .collect();
        CONTRACT_REVIEW_OVERDUE.report_extent(
            out,
            bad,
            contracts.len(),
            "supplier contracts are overdue for review",
            None,
        );
    },
};

pub(super) static CONTRACT_EXPIRED: Check = Check {
    id: "contract-expired",
    pattern: "F-084",
    title: "Supplier still in use with no contract in force",
    clauses_2018: &["8.3.4.1"],
    clauses_2011: &["7.2"],
    doc: "Fires for each active external supplier none of whose contracts is in force on the \
          as-of date: the last one expired, the next has not started, or there never was one. \
          Graded by extent over the active external suppliers.",
    examines: Examines::Records(|cx| external(cx).len()),
    evaluate: |cx, out| {
        let suppliers = external(cx);
        let bad: Vec<_> = suppliers
            .iter()
            .filter(|s| !s.contracts.iter().any(|c| in_force(cx, c)))
            .map(|s| {
                // A contract signed but not yet started leaves the supplier working without one
                // until it does; otherwise the last one has run out, or there never was one.
                let upcoming = s
                    .contracts
                    .iter()
                    .filter(|c| c.starts_on.is_some_and(|d| d > cx.as_of))
                    .min_by_key(|c| c.starts_on);
                let ended = s
                    .contracts
                    .iter()
                    .filter(|c| c.ends_on.is_some_and(|d| d < cx.as_of))
                    .max_by_key(|c| c.ends_on);
                match (upcoming, ended) {
                    (Some(next), _) => Evidence::new(
                        RecordKind::Contract,
                        &next.id,
                        format!("{} is used before its contract starts", s.name),
                    )
                    .field("starts_on", next.starts_on),
                    (None, Some(last)) => Evidence::new(
                        RecordKind::Contract,
                        &last.id,
                        format!("{} still active after the contract ended", s.name),
                    )
                    .field("ends_on", last.ends_on),
                    (None, None) => Evidence::new(
                        RecordKind::Supplier,
                        &s.id,
                        "active with no contract on file",
                    )
                    .field("contracts", None::<String>),
                }
            })
            .collect();
        if !bad.is_empty() {
            out.push(
                CONTRACT_EXPIRED
                    .finding(
                        by_extent(bad.len(), suppliers.len()),
                        format!(
                            "{} no contract in force",
                            n(bad.len(), "active supplier has", "active suppliers have")
                        ),
                    )
                    .with_all(bad),
            );
        }
    },
};

pub(super) static SUPPLIER_NO_CONTRACT_MANAGER: Check = Check {
    id: "supplier-no-contract-manager",
    pattern: "F-086",
    title: "Supplier without a contract manager",
    clauses_2018: &["8.3.4.1"],
    clauses_2011: &["7.2"],
    doc: "Fires for each active external supplier whose `contract_manager` is empty, unknown or \
          gone. Graded by extent over the active external suppliers.",
    examines: Examines::Records(|cx| external(cx).len()),
    evaluate: |cx, out| {
        let suppliers = external(cx);
        let bad: Vec<_> = suppliers
            .iter()
            .filter_map(|s| match &s.contract_manager {
                None => Some(
                    Evidence::new(RecordKind::Supplier, &s.id, "no contract manager")
                        .field("contract_manager", None::<String>),
                ),
                Some(m) if !cx.is_active_person(m) => Some(
                    Evidence::new(
                        RecordKind::Supplier,
                        &s.id,
                        "contract manager unknown or gone",
                    )
                    .field("contract_manager", Some(m)),
                ),
                Some(_) => None,
            })
            .collect();
        SUPPLIER_NO_CONTRACT_MANAGER.report_extent(
            out,
            bad,
            suppliers.len(),
            "suppliers have nobody managing the contract",
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
    fn contracts_in_force_are_reviewed() {
        quiet(&CONTRACT_REVIEW_OVERDUE, &clean());
        let mut sms = clean();
        sms.suppliers[0].contracts[0].last_reviewed_on = Some(date(2025, 1, 1));
        assert_eq!(ids(&fires(&CONTRACT_REVIEW_OVERDUE, &sms)), ["C-1"]);
        sms.suppliers[0].active = false;
        quiet(&CONTRACT_REVIEW_OVERDUE, &sms);
    }

    #[test]
    fn suppliers_in_use_have_a_contract_in_force() {
        quiet(&CONTRACT_EXPIRED, &clean());
        let mut sms = clean();
        sms.suppliers[0].contracts[0].ends_on = Some(date(2026, 3, 31));
        let f = fires(&CONTRACT_EXPIRED, &sms);
        assert_eq!(
            (ids(&f), f.evidence[0].value.as_deref()),
            (vec!["C-1"], Some("2026-03-31"))
        );
        sms.suppliers[0].contracts[0].starts_on = Some(date(2026, 9, 1));
        sms.suppliers[0].contracts[0].ends_on = Some(date(2028, 8, 31));
        assert_eq!(
            fires(&CONTRACT_EXPIRED, &sms).evidence[0].note,
            "Hosting Co is used before its contract starts"
        );
        sms.suppliers[0].contracts.clear();
        assert_eq!(ids(&fires(&CONTRACT_EXPIRED, &sms)), ["SUP-1"]);
    }

    #[test]
    fn suppliers_have_a_contract_manager() {
        quiet(&SUPPLIER_NO_CONTRACT_MANAGER, &clean());
        let mut sms = clean();
        sms.suppliers[0].contract_manager = None;
        assert_eq!(ids(&fires(&SUPPLIER_NO_CONTRACT_MANAGER, &sms)), ["SUP-1"]);
    }
}

pub(super) static OUTSOURCED_PROCESS_UNGOVERNED: Check = Check {
    id: "outsourced-process-ungoverned",
    pattern: "F-013",
    title: "Process run by another party without a governing agreement",
    clauses_2018: &["8.2.3"],
    clauses_2011: &["4.2"],
    doc: "Fires for each process whose `operated_by` names a supplier that is unknown, no longer \
          active, or has no contract or agreement in force: nothing binds the party to the \
          process. Minor; major when it is most of the outsourced processes (at least three).",
    examines: Examines::Records(|cx| outsourced_processes(cx).count()),
    evaluate: |cx, out| {
        let outsourced: Vec<_> = outsourced_processes(cx).collect();
        let bad: Vec<_> = outsourced
            .iter()
            .filter_map(|p| {
                let by = p.operated_by.as_deref()?;
                let note = match cx.sms.suppliers.iter().find(|s| s.id == by) {
                    None => format!("operated by {by}, who is not in the supplier register"),
                    Some(s) if !s.active => format!("operated by {by}, marked inactive"),
                    Some(s) if !s.contracts.iter().any(|c| in_force(cx, c)) => {
                        format!("operated by {by} with no agreement in force")
                    }
                    Some(_) => return None,
                };
                Some(Evidence::new(RecordKind::Process, &p.id, note).field("operated_by", Some(by)))
            })
            .collect();
        if !bad.is_empty() {
            out.push(
                OUTSOURCED_PROCESS_UNGOVERNED
                    .finding(
                        by_extent(bad.len(), outsourced.len()),
                        format!(
                            "{} run by another party without an agreement",
                            n(bad.len(), "process is", "processes are")
                        ),
                    )
                    .with_all(bad),
            );
        }
    },
};

pub(super) static INTERNAL_SUPPLIER_NO_AGREEMENT: Check = Check {
    id: "internal-supplier-no-agreement",
    pattern: "F-057",
    title: "Internal supplier without an agreement",
    clauses_2018: &["8.3.4.2"],
    clauses_2011: &["6.1"],
    doc: "Fires for each active internal supplier (an internal group, or a customer acting as a \
          supplier) with no agreement in force: the targets it must meet for the SLAs are \
          written nowhere. Graded by extent over the active internal suppliers.",
    examines: Examines::Records(|cx| internal_suppliers(cx).count()),
    evaluate: |cx, out| {
        let internal: Vec<_> = internal_suppliers(cx).collect();
        let bad: Vec<_> = internal
            .iter()
            .filter(|s| !s.contracts.iter().any(|c| in_force(cx, c)))
            .map(|s| {
                Evidence::new(
                    RecordKind::Supplier,
                    &s.id,
                    format!("{} supports services with no agreement in force", s.name),
                )
            })
            .collect();
        if !bad.is_empty() {
            out.push(
                INTERNAL_SUPPLIER_NO_AGREEMENT
                    .finding(
                        by_extent(bad.len(), internal.len()),
                        format!(
                            "{} no agreement in force",
                            n(
                                bad.len(),
                                "internal supplier has",
                                "internal suppliers have"
                            )
                        ),
                    )
                    .with_all(bad),
            );
        }
    },
};

pub(super) static SUPPLIER_PERFORMANCE_NOT_REVIEWED: Check = Check {
    id: "supplier-performance-not-reviewed",
    pattern: "F-085",
    title: "Supplier performance not reviewed within the interval",
    clauses_2018: &["8.3.4.1"],
    clauses_2011: &["7.2"],
    doc: "Fires for each active external supplier whose performance was not reviewed within \
          `supplier_performance_review` (default 12 months). Graded by extent over the active \
          external suppliers.",
    examines: Examines::Records(|cx| external(cx).len()),
    evaluate: |cx, out| {
        let suppliers = external(cx);
        let interval = cx.interval(Activity::SupplierPerformanceReview);
        let bad: Vec<_> = suppliers
            .iter()
            .filter(|s| cx.overdue(s.performance_reviewed_on, interval))
            .map(|s| {
                Evidence::new(
                    RecordKind::Supplier,
                    &s.id,
                    format!("performance not reviewed in the last {interval}"),
                )
                .field("performance_reviewed_on", s.performance_reviewed_on)
            })
            .collect();
        SUPPLIER_PERFORMANCE_NOT_REVIEWED.report_extent(
            out,
            bad,
            suppliers.len(),
            &format!("suppliers had no performance review in the last {interval}"),
            None,
        );
    },
};

#[cfg(test)]
mod governance_tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};
    use crate::model::Supplier;
    use jiff::civil::date;

    #[test]
    fn outsourced_processes_are_bound_by_an_agreement() {
        quiet(&OUTSOURCED_PROCESS_UNGOVERNED, &clean());
        let mut sms = clean();
        sms.processes[0].operated_by = Some("SUP-9".into());
        assert_eq!(
            ids(&fires(&OUTSOURCED_PROCESS_UNGOVERNED, &sms)),
            ["incident"]
        );
        sms.processes[0].operated_by = Some("SUP-1".into());
        quiet(&OUTSOURCED_PROCESS_UNGOVERNED, &sms);
        sms.suppliers[0].contracts[0].ends_on = Some(date(2026, 1, 1));
        assert_eq!(
            ids(&fires(&OUTSOURCED_PROCESS_UNGOVERNED, &sms)),
            ["incident"]
        );
    }

    #[test]
    fn internal_suppliers_have_an_agreement() {
        quiet(&INTERNAL_SUPPLIER_NO_AGREEMENT, &clean());
        let mut sms = clean();
        sms.suppliers.push(Supplier {
            id: "NET".into(),
            name: "Network team".into(),
            kind: SupplierKind::Internal,
            active: true,
            ..Default::default()
        });
        assert_eq!(ids(&fires(&INTERNAL_SUPPLIER_NO_AGREEMENT, &sms)), ["NET"]);
    }

    #[test]
    fn supplier_performance_is_reviewed() {
        quiet(&SUPPLIER_PERFORMANCE_NOT_REVIEWED, &clean());
        let mut sms = clean();
        sms.suppliers[0].performance_reviewed_on = None;
        assert_eq!(
            ids(&fires(&SUPPLIER_PERFORMANCE_NOT_REVIEWED, &sms)),
            ["SUP-1"]
        );
    }
}
