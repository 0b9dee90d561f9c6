//! Internal audit: held at planned intervals, covering every process and clause over the cycle,
//! by auditors who do not audit their own work, with findings closed on time.

use std::collections::BTreeSet;

use super::{Check, Context, Evidence, Examines, RecordKind, n};
use crate::clause;
use crate::interval::Activity;
use crate::kb::Grade;
use crate::model::{AuditFinding, InternalAudit, Raci};
use crate::refs::Target;

/// The organisation's own audits, not outside ones.
fn internal<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a InternalAudit> {
    cx.sms.audits.iter().filter(|a| !a.kind.is_external())
}

/// Internal audits held on or before `as_of` (not cancelled), oldest first.
fn held<'a>(cx: &Context<'a>) -> Vec<&'a InternalAudit> {
    let mut v: Vec<_> = internal(cx)
        .filter(|a| !a.cancelled && a.held_on.is_some_and(|d| d <= cx.as_of))
        .collect();
    v.sort_by_key(|a| a.held_on);
    v
}

/// The programme cycle containing `as_of` (see [`crate::programme::cycle`]).
fn cycle(cx: &Context<'_>) -> (crate::Date, crate::Date) {
    let c = crate::programme::cycle(cx.sms, cx.as_of);
    (c.start, c.end)
}

/// Internal audits held or planned (not cancelled) in the current programme cycle.
fn in_cycle<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a InternalAudit> {
    let (start, end) = cycle(cx);
    internal(cx).filter(move |a| !a.cancelled && a.date().is_some_and(|d| d >= start && d < end))
}

/// The major and minor findings (not observations) of the audits held.
fn nonconformities<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a AuditFinding> {
    held(cx)
        .into_iter()
        .flat_map(|a| &a.findings)
        .filter(|f| f.grade > Grade::Observation)
}

pub(super) static AUDIT_OVERDUE: Check = Check {
    id: "audit-overdue",
    pattern: "F-031",
    title: "No internal audit within the planned interval",
    clauses_2018: &["9.2"],
    clauses_2011: &["4.5.4.2"],
    doc: "Fires when no internal audit was held in the `internal_audit` interval before the \
          as-of date (default 12 months). Always major: certification bodies expect at least one \
          full internal audit before stage 2 and every year after.",
    examines: Examines::Presence,
    evaluate: |cx, out| {
        let interval = cx.interval(Activity::InternalAudit);
        match held(cx).last() {
            None => out.push(
                AUDIT_OVERDUE
                    .finding(Grade::Major, "No internal audit has ever been held")
                    .with(Evidence::new(
                        RecordKind::Register,
                        "audits",
                        "no audit held on or before the as-of date",
                    )),
            ),
            Some(last) if cx.overdue(last.held_on, interval) => out.push(
                AUDIT_OVERDUE
                    .finding(
                        Grade::Major,
                        format!("No internal audit in the {interval} before {}", cx.as_of),
                    )
                    .with(
                        Evidence::new(RecordKind::InternalAudit, &last.id, "last audit held")
                            .field("held_on", last.held_on),
                    ),
            ),
            Some(_) => {}
        }
    },
};

pub(super) static AUDIT_PROGRAMME_GAPS: Check = Check {
    id: "audit-programme-gaps",
    pattern: "F-032",
    title: "Audit programme leaves processes or clauses uncovered in its cycle",
    clauses_2018: &["9.2"],
    clauses_2011: &["4.5.4.2"],
    doc: "Takes the audits held or planned (not cancelled) in the current programme cycle \
          (`audit_cycle`, default 3 years, from the declared `cycle_start`) and fires when a \
          process is audited by none of them, or when a second-level clause of the audited \
          edition (e.g. 8.5, 9.3) is touched by none of their clauses or their processes' \
          clauses. Minor; major when a third or more of the processes or of the clauses are \
          uncovered.",
    examines: Examines::Presence,
    evaluate: |cx, out| {
        let (start, end) = cycle(cx);
        let audits: Vec<_> = in_cycle(cx).collect();
        let audited: BTreeSet<&str> = audits
            .iter()
            .flat_map(|a| a.processes.iter().map(String::as_str))
            .collect();
        let processes = &cx.sms.processes;
        let uncovered_processes: Vec<_> = processes
            .iter()
            .filter(|p| !audited.contains(p.id.as_str()))
            .collect();

        let refs = audits.iter().flat_map(|a| {
            a.clauses.iter().chain(
                a.processes
                    .iter()
                    .filter_map(|id| cx.sms.processes.iter().find(|p| &p.id == id))
                    .flat_map(|p| &p.clauses),
            )
        });
        let covered = cx.audited_clauses(refs);
        let groups: Vec<_> = clause::catalogue(cx.edition)
            .iter()
            .filter(|c| c.is_requirement() && c.depth() == 2)
            .collect();
        let uncovered_clauses: Vec<_> = groups
            .iter()
            .filter(|g| {
                !covered
                    .iter()
                    .any(|c| clause::is_within(c, g.id) || clause::is_within(g.id, c))
            })
            .map(|g| g.id)
            .collect();
        if uncovered_processes.is_empty() && uncovered_clauses.is_empty() {
            return;
        }
        let large = |n: usize, of: usize| n >= 3 && n * 3 >= of;
        let grade = if large(uncovered_processes.len(), processes.len())
            || large(uncovered_clauses.len(), groups.len())
        {
            Grade::Major
        } else {
            Grade::Minor
        };
        let mut evidence: Vec<_> = uncovered_processes
            .iter()
            .map(|p| {
                Evidence::new(
                    RecordKind::Process,
                    &p.id,
                    format!("not audited in the cycle {start} to {end}"),
                )
            })
            .collect();
        if !uncovered_clauses.is_empty() {
            evidence.push(
                Evidence::new(
                    RecordKind::Register,
                    "audits",
                    format!(
                        "{} not audited in the cycle",
                        n(uncovered_clauses.len(), "clause", "clauses")
                    ),
                )
                .field("clauses", Some(uncovered_clauses.join(", "))),
            );
        }
        out.push(
            AUDIT_PROGRAMME_GAPS
                .finding(
                    grade,
                    format!(
                        "The audit programme for {start} to {end} leaves {} unaudited",
                        [
                            (uncovered_processes.len(), "process", "processes"),
                            (uncovered_clauses.len(), "clause", "clauses")
                        ]
                        .into_iter()
                        .filter(|p| p.0 > 0)
                        .map(|(c, one, many)| n(c, one, many))
                        .collect::<Vec<_>>()
                        .join(" and ")
                    ),
                )
                .with_all(evidence),
        );
    },
};

pub(super) static AUDITOR_NOT_INDEPENDENT: Check = Check {
    id: "auditor-not-independent",
    pattern: "F-033",
    title: "Auditor audits their own process",
    clauses_2018: &["9.2"],
    clauses_2011: &["4.5.4.2"],
    doc: "Fires for each audit held or planned in the current cycle whose auditor owns one of \
          the audited processes, or is responsible or accountable for it in the RACI. Minor.",
    examines: Examines::Records(|cx| in_cycle(cx).count()),
    evaluate: |cx, out| {
        let evidence: Vec<_> = in_cycle(cx)
            .filter_map(|a| {
                let auditor = a.auditor.as_deref()?;
                let own: Vec<&str> =
                    a.processes
                        .iter()
                        .filter(|p| {
                            cx.sms.processes.iter().any(|proc| {
                                &proc.id == *p && proc.owner.as_deref() == Some(auditor)
                            }) || cx.sms.raci.iter().any(|e| {
                                &e.process == *p
                                    && e.person == auditor
                                    && matches!(e.raci, Raci::Responsible | Raci::Accountable)
                            })
                        })
                        .map(String::as_str)
                        .collect();
                (!own.is_empty()).then(|| {
                    Evidence::new(
                        RecordKind::InternalAudit,
                        &a.id,
                        format!("{auditor} audits {}, which they run", own.join(", ")),
                    )
                    .field("auditor", Some(auditor))
                })
            })
            .collect();
        if !evidence.is_empty() {
            out.push(
                AUDITOR_NOT_INDEPENDENT
                    .finding(
                        Grade::Minor,
                        format!(
                            "{} by someone auditing their own work",
                            n(
                                evidence.len(),
                                "internal audit is done",
                                "internal audits are done"
                            )
                        ),
                    )
                    .with_all(evidence),
            );
        }
    },
};

pub(super) static AUDIT_FINDINGS_OVERDUE: Check = Check {
    id: "audit-findings-overdue",
    pattern: "F-034",
    title: "Internal audit nonconformities open past their due date",
    clauses_2018: &["9.2"],
    clauses_2011: &["4.5.4.2"],
    doc: "Fires for each major or minor internal-audit finding still open on the as-of date \
          after its `due` date. Minor; major when one of them is itself a major nonconformity.",
    examines: Examines::Records(|cx| nonconformities(cx).count()),
    evaluate: |cx, out| {
        let mut worst = Grade::Minor;
        let evidence: Vec<_> = nonconformities(cx)
            .filter(|f| {
                f.due.is_some_and(|d| d < cx.as_of) && f.closed_on.is_none_or(|c| c > cx.as_of)
            })
            .map(|f| {
                worst = worst.max(f.grade);
                Evidence::new(
                    RecordKind::AuditFinding,
                    &f.id,
                    format!("{} nonconformity open past its due date", f.grade),
                )
                .field("due", f.due)
            })
            .collect();
        if !evidence.is_empty() {
            out.push(
                AUDIT_FINDINGS_OVERDUE
                    .finding(
                        worst,
                        format!(
                            "{} overdue",
                            n(
                                evidence.len(),
                                "internal audit nonconformity is",
                                "internal audit nonconformities are"
                            )
                        ),
                    )
                    .with_all(evidence),
            );
        }
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Edition;
    use crate::checks::testing::{clean, fires, ids, quiet, run_in};
    use crate::model::{InternalAudit, Process};
    use jiff::civil::date;

    #[test]
    fn an_audit_is_due_every_interval() {
        quiet(&AUDIT_OVERDUE, &clean());
        let mut sms = clean();
        sms.audits[0].held_on = Some(date(2025, 4, 1));
        assert_eq!(ids(&fires(&AUDIT_OVERDUE, &sms)), ["IA-1"]);
        sms.audits[0].held_on = None;
        assert_eq!(
            ids(&fires(&AUDIT_OVERDUE, &sms)),
            ["audits"],
            "a planned audit is not a held one"
        );
    }

    #[test]
    fn the_programme_covers_every_process_and_clause_group() {
        quiet(&AUDIT_PROGRAMME_GAPS, &clean());
        let mut sms = clean();
        sms.processes.push(Process {
            id: "problem".into(),
            owner: Some("ops".into()),
            ..Default::default()
        });
        sms.audits[0].clauses = vec![
            "8".into(),
            "9".into(),
            "10".into(),
            "4".into(),
            "5".into(),
            "6".into(),
        ];
        let f = fires(&AUDIT_PROGRAMME_GAPS, &sms);
        assert_eq!(ids(&f), ["problem", "audits"]);
        assert_eq!(
            f.evidence[1].value.as_deref(),
            Some("7.1, 7.2, 7.3, 7.4, 7.5, 7.6")
        );
        assert_eq!(f.grade, Grade::Minor);
    }

    #[test]
    fn coverage_is_judged_in_the_audited_edition() {
        let mut sms = clean();
        sms.audits[0].clauses = vec!["9.2".into(), "9.3".into()];
        sms.audits[0].processes.clear();
        let in_2011 = run_in(&AUDIT_PROGRAMME_GAPS, &sms, Edition::Y2011);
        let gaps = in_2011[0].evidence.last().unwrap().value.clone().unwrap();
        assert!(
            gaps.starts_with("4.2, 4.3, 4.4, 5.1,"),
            "9.3 maps to 2011's 4.1.1 and 4.5.4.3: {gaps}"
        );
        assert_eq!(in_2011[0].grade, Grade::Major);
    }

    #[test]
    fn a_planned_audit_in_the_cycle_counts_and_a_cancelled_one_does_not() {
        let mut sms = clean();
        sms.processes.push(Process {
            id: "problem".into(),
            ..Default::default()
        });
        sms.audits.push(InternalAudit {
            id: "IA-2".into(),
            planned_on: Some(date(2026, 10, 1)),
            processes: vec!["problem".into()],
            ..Default::default()
        });
        quiet(&AUDIT_PROGRAMME_GAPS, &sms);
        sms.audits[1].cancelled = true;
        assert_eq!(ids(&fires(&AUDIT_PROGRAMME_GAPS, &sms)), ["problem"]);
    }

    #[test]
    fn auditors_do_not_audit_their_own_process() {
        quiet(&AUDITOR_NOT_INDEPENDENT, &clean());
        let mut sms = clean();
        sms.audits[0].auditor = Some("cm".into());
        let f = fires(&AUDITOR_NOT_INDEPENDENT, &sms);
        assert_eq!(f.evidence[0].note, "cm audits change, which they run");
        sms.audits[0].auditor = Some("sm".into());
        assert_eq!(
            fires(&AUDITOR_NOT_INDEPENDENT, &sms).evidence[0].note,
            "sm audits incident, slm, which they run"
        );
    }

    #[test]
    fn audit_findings_are_closed_by_their_due_date() {
        quiet(&AUDIT_FINDINGS_OVERDUE, &clean());
        let mut sms = clean();
        sms.audits[0].findings[0].closed_on = None;
        let f = fires(&AUDIT_FINDINGS_OVERDUE, &sms);
        assert_eq!((ids(&f), f.grade), (vec!["IA-1-F1"], Grade::Minor));
        sms.audits[0].findings[0].grade = Grade::Observation;
        quiet(&AUDIT_FINDINGS_OVERDUE, &sms);
    }
}

pub(super) static AUDIT_NO_SCOPE: Check = Check {
    id: "audit-no-scope",
    pattern: "F-035",
    title: "Internal audit without a defined scope or auditor",
    clauses_2018: &["9.2"],
    clauses_2011: &["4.5.4.2"],
    doc: "Fires for each audit held or planned in the current cycle that names no process in the \
          process register and no clause, or no auditor: nobody can tell what was audited or by whom. Minor.",
    examines: Examines::Records(|cx| in_cycle(cx).count()),
    evaluate: |cx, out| {
        let evidence: Vec<_> = in_cycle(cx)
            .filter_map(|a| {
                let mut gaps = Vec::new();
                // A process the register lacks scopes nothing.
                let processes = a.processes.iter().any(|p| cx.resolves(Target::Process, p));
                if !processes && a.clauses.is_empty() {
                    gaps.push("scope");
                }
                if a.auditor.is_none() {
                    gaps.push("auditor");
                }
                (!gaps.is_empty()).then(|| {
                    Evidence::new(
                        RecordKind::InternalAudit,
                        &a.id,
                        format!("no {}", gaps.join(", no ")),
                    )
                })
            })
            .collect();
        if !evidence.is_empty() {
            out.push(
                AUDIT_NO_SCOPE
                    .finding(
                        Grade::Minor,
                        format!(
                            "{} without a defined scope or auditor",
                            n(evidence.len(), "internal audit is", "internal audits are")
                        ),
                    )
                    .with_all(evidence),
            );
        }
    },
};

#[cfg(test)]
mod scope_tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};

    #[test]
    fn audits_say_what_they_cover_and_who_audits() {
        quiet(&AUDIT_NO_SCOPE, &clean());
        let mut sms = clean();
        sms.audits[0].processes.clear();
        sms.audits[0].clauses.clear();
        let f = fires(&AUDIT_NO_SCOPE, &sms);
        assert_eq!(
            (ids(&f), f.evidence[0].note.as_str()),
            (vec!["IA-1"], "no scope")
        );
    }

    #[test]
    fn processes_the_register_lacks_are_no_scope() {
        let mut sms = clean();
        sms.audits[0].processes = vec!["billing".into()];
        sms.audits[0].clauses.clear();
        let f = fires(&AUDIT_NO_SCOPE, &sms);
        assert_eq!(f.evidence[0].note, "no scope");
        sms.audits[0].processes.push("change".into());
        quiet(&AUDIT_NO_SCOPE, &sms);
    }
}

pub(super) static AUDIT_FREQUENCY_NOT_MET: Check = Check {
    id: "audit-frequency-not-met",
    pattern: "F-032",
    title: "A process or clause that needs a yearly audit has none in a year of the cycle",
    clauses_2018: &["9.2"],
    clauses_2011: &["4.5.4.2"],
    doc: "Builds the programme's coverage matrix (`programme::matrix`) and fires for each \
          process or second-level clause whose risk-based frequency is yearly (a major \
          nonconformity, or two or more, in the last cycle's length; or a process rated high \
          risk) and that has no internal audit held or planned in a year of the cycle that has \
          begun. Minor.",
    examines: Examines::Records(|cx| in_cycle(cx).count()),
    evaluate: |cx, out| {
        use crate::programme::{Frequency, State, matrix};
        let m = matrix(cx.sms, cx.as_of);
        let begun: Vec<usize> = (0..m.cycle.years.len())
            .filter(|&y| m.cycle.years[y].0 <= cx.as_of)
            .collect();
        let mut evidence = Vec::new();
        for (kind, rows) in [
            (RecordKind::Process, &m.processes),
            (RecordKind::Register, &m.clauses),
        ] {
            for row in rows.iter().filter(|r| r.frequency == Frequency::Yearly) {
                let missing: Vec<String> = begun
                    .iter()
                    .filter(|&&y| matches!(row.cells[y].state, State::Gap | State::Missed))
                    .map(|&y| {
                        let (s, e) = m.cycle.years[y];
                        format!("{s} to {}", e.yesterday().unwrap_or(e))
                    })
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                let (id, what) = match kind {
                    RecordKind::Process => (row.key.clone(), String::new()),
                    _ => ("audits".to_owned(), format!("clause {} ", row.key)),
                };
                evidence.push(
                    Evidence::new(
                        kind,
                        &id,
                        format!(
                            "{what}audited {} ({}), but no audit in {}",
                            row.frequency.label(),
                            row.reasons.join("; "),
                            missing.join(", ")
                        ),
                    )
                    .field("frequency", Some(row.frequency.label())),
                );
            }
        }
        if !evidence.is_empty() {
            out.push(
                AUDIT_FREQUENCY_NOT_MET
                    .finding(
                        Grade::Minor,
                        format!(
                            "{} that risk and past results say must be audited every year {}",
                            n(evidence.len(), "area", "areas"),
                            if evidence.len() == 1 {
                                "goes a year without an audit"
                            } else {
                                "go a year without an audit"
                            }
                        ),
                    )
                    .with_all(evidence),
            );
        }
    },
};

#[cfg(test)]
mod frequency_tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};
    use crate::model::{Nonconformity, RiskLevel};
    use jiff::civil::date;

    #[test]
    fn a_high_risk_or_repeatedly_failing_process_needs_an_audit_every_year() {
        quiet(&AUDIT_FREQUENCY_NOT_MET, &clean());
        let mut sms = clean();
        sms.processes[0].risk = Some(RiskLevel::High);
        sms.audits[0]
            .processes
            .retain(|p| *p != sms.processes[0].id);
        let f = fires(&AUDIT_FREQUENCY_NOT_MET, &sms);
        assert_eq!(ids(&f), [sms.processes[0].id.as_str()]);
        assert!(
            f.evidence[0].note.contains("rated high risk"),
            "{:?}",
            f.evidence
        );

        let mut sms = clean();
        for (i, day) in [date(2025, 9, 1), date(2026, 2, 1)].into_iter().enumerate() {
            sms.nonconformities.push(Nonconformity {
                id: format!("NC-X{i}"),
                raised_on: Some(day),
                grade: Some(Grade::Major),
                clauses: vec!["9.1".into()],
                ..Default::default()
            });
        }
        sms.audits[0].clauses.retain(|c| c != "9");
        let f = fires(&AUDIT_FREQUENCY_NOT_MET, &sms);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.note.starts_with("clause 9.1 audited every year"))
        );
    }
}

/// The outside audits held on or before the day judged.
fn outside<'a>(cx: &Context<'a>) -> impl Iterator<Item = &'a InternalAudit> {
    cx.sms
        .audits
        .iter()
        .filter(|a| a.kind.is_external() && !a.cancelled)
        .filter(|a| a.held_on.is_some_and(|d| d <= cx.as_of))
}

pub(super) static EXTERNAL_FINDING_UNANSWERED: Check = Check {
    id: "external-finding-unanswered",
    pattern: "F-118",
    title: "A certification or customer audit's nonconformity is not answered by its deadline",
    clauses_2018: &["10.1"],
    clauses_2011: &["4.5.5.1"],
    doc: "Fires for each major or minor finding of an outside audit (stage 1, stage 2, \
          surveillance, recertification, customer) held on or before the as-of date, still open, \
          whose response was due before that date (its own `due`, else the certification body's \
          response period for its grade from the day the audit was held, 90 days by default) and \
          which has no answer: no nonconformity raised for it, or one without the response its \
          grade needs (a major corrected with every action implemented; a minor with a root \
          cause and owned, dated actions). Minor; major when one is a major from a certification \
          audit, which puts the certificate at risk.",
    examines: Examines::Records(|cx| {
        outside(cx)
            .flat_map(|a| &a.findings)
            .filter(|f| f.grade > Grade::Observation)
            .count()
    }),
    evaluate: |cx, out| {
        let response = crate::nc::Response::of(&cx.sms.organisation);
        let mut worst = Grade::Minor;
        let mut evidence = Vec::new();
        for a in outside(cx) {
            let held = a.held_on.unwrap_or(cx.as_of);
            for f in a.findings.iter().filter(|f| f.grade > Grade::Observation) {
                let due = f.due.unwrap_or_else(|| match f.grade {
                    Grade::Major => response.major.after(held),
                    _ => response.minor.after(held),
                });
                if due >= cx.as_of || f.closed_on.is_some_and(|c| c <= cx.as_of) {
                    continue;
                }
                let nc = f
                    .nonconformity
                    .as_deref()
                    .and_then(|id| cx.sms.nonconformities.iter().find(|n| n.id == id));
                let note = match nc {
                    None => "no nonconformity raised to answer it",
                    Some(n) if !crate::nc::responded(n) => match f.grade {
                        Grade::Major => "its nonconformity is not yet corrected",
                        _ => "its nonconformity has no accepted plan (root cause, owned actions)",
                    },
                    Some(_) => continue,
                };
                if f.grade == Grade::Major && a.kind.is_certification() {
                    worst = Grade::Major;
                }
                evidence.push(
                    Evidence::new(
                        RecordKind::AuditFinding,
                        &f.id,
                        format!(
                            "{} from the {}: {note}",
                            f.grade,
                            a.kind.label().to_lowercase()
                        ),
                    )
                    .field("due", Some(due)),
                );
            }
        }
        if !evidence.is_empty() {
            out.push(
                EXTERNAL_FINDING_UNANSWERED
                    .finding(
                        worst,
                        format!(
                            "{} past the response deadline",
                            n(
                                evidence.len(),
                                "outside audit nonconformity is unanswered",
                                "outside audit nonconformities are unanswered"
                            )
                        ),
                    )
                    .with_all(evidence),
            );
        }
    },
};

#[cfg(test)]
mod external_tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};
    use crate::model::{AuditKind, Nonconformity};
    use jiff::civil::date;

    fn with_stage2(grade: Grade) -> crate::model::Sms {
        let mut sms = clean();
        let mut finding = sms.audits[0].findings[0].clone();
        finding.id = "S2-F1".into();
        finding.grade = grade;
        finding.due = None;
        finding.closed_on = None;
        finding.verified_on = None;
        finding.nonconformity = None;
        sms.audits.push(InternalAudit {
            id: "S2".into(),
            kind: AuditKind::Stage2,
            held_on: Some(date(2026, 1, 15)),
            findings: vec![finding],
            ..Default::default()
        });
        sms
    }

    #[test]
    fn an_unanswered_major_from_stage_2_past_its_deadline_is_a_major() {
        quiet(&EXTERNAL_FINDING_UNANSWERED, &clean());
        let sms = with_stage2(Grade::Major);
        let f = fires(&EXTERNAL_FINDING_UNANSWERED, &sms);
        assert_eq!((ids(&f), f.grade), (vec!["S2-F1"], Grade::Major));
        let f = fires(&EXTERNAL_FINDING_UNANSWERED, &with_stage2(Grade::Minor));
        assert_eq!(f.grade, Grade::Minor);
        quiet(
            &EXTERNAL_FINDING_UNANSWERED,
            &with_stage2(Grade::Observation),
        );
    }

    #[test]
    fn an_answered_finding_or_one_not_yet_due_is_quiet() {
        let mut sms = with_stage2(Grade::Major);
        let mut answer: Nonconformity = sms.nonconformities[0].clone();
        answer.id = "NC-S2".into();
        answer.grade = Some(Grade::Major);
        answer.closed_on = None;
        sms.nonconformities.push(answer);
        sms.audits[1].findings[0].nonconformity = Some("NC-S2".into());
        quiet(&EXTERNAL_FINDING_UNANSWERED, &sms);
        sms.nonconformities[1].actions[0].implemented_on = None;
        fires(&EXTERNAL_FINDING_UNANSWERED, &sms);
        sms.organisation.major_response = Some(crate::interval::Interval::Months(12));
        quiet(&EXTERNAL_FINDING_UNANSWERED, &sms);
    }
}
