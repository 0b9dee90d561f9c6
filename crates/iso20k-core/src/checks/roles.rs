//! Roles: every process owned by someone still here, one accountable person per process
//! activity, and a named owner of the SMS as a whole.

use std::collections::BTreeMap;

use super::{Check, Context, Evidence, Examines, RecordKind, by_extent, n};
use crate::kb::Grade;
use crate::model::Raci;

fn person_problem(cx: &Context<'_>, id: &str) -> Option<&'static str> {
    match cx.sms.person(id) {
        None => Some("not in the people register"),
        Some(p) if !p.is_active(cx.as_of) => Some("has left the organisation"),
        Some(_) => None,
    }
}

pub(super) static PROCESS_NO_OWNER: Check = Check {
    id: "process-no-owner",
    pattern: "F-003",
    title: "Process without an owner",
    clauses_2018: &["5.3"],
    clauses_2011: &["4.1.3"],
    doc: "Fires when no processes are defined (major), or for each process whose `owner` is empty, \
          unknown to the people register or has left (graded by extent).",
    examines: Examines::Records(|cx| cx.sms.processes.len()),
    evaluate: |cx, out| {
        let processes = &cx.sms.processes;
        if processes.is_empty() {
            out.push(
                PROCESS_NO_OWNER
                    .finding(
                        Grade::Major,
                        "No SMS processes are defined, so none has an owner",
                    )
                    .with(Evidence::new(
                        RecordKind::Register,
                        "processes",
                        "no processes",
                    )),
            );
            return;
        }
        let bad: Vec<_> = processes
            .iter()
            .filter_map(|p| match &p.owner {
                None => Some(
                    Evidence::new(RecordKind::Process, &p.id, "no owner")
                        .field("owner", None::<String>),
                ),
                Some(o) => person_problem(cx, o).map(|why| {
                    Evidence::new(RecordKind::Process, &p.id, format!("owner {why}"))
                        .field("owner", Some(o))
                }),
            })
            .collect();
        PROCESS_NO_OWNER.report_extent(out, bad, processes.len(), "processes have no owner", None);
    },
};

pub(super) static RACI_ACCOUNTABLE: Check = Check {
    id: "raci-accountable",
    pattern: "F-003",
    title: "Process activity with no accountable person, or several",
    clauses_2018: &["5.3"],
    clauses_2011: &["4.1.3"],
    doc: "Groups the RACI by process and activity. Fires when the RACI is empty while processes \
          exist (major), for processes with no RACI entry, and for each process activity with no \
          `A` or more than one. Graded by extent over the processes.",
    examines: Examines::Records(|cx| cx.sms.processes.len()),
    evaluate: |cx, out| {
        let processes = &cx.sms.processes;
        if processes.is_empty() {
            return;
        }
        if cx.sms.raci.is_empty() {
            out.push(
                RACI_ACCOUNTABLE
                    .finding(Grade::Major, "No RACI is recorded for any process")
                    .with(Evidence::new(RecordKind::Register, "raci", "no entries")),
            );
            return;
        }
        let mut groups: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
        for e in &cx.sms.raci {
            let accountable = groups.entry((&e.process, &e.activity)).or_default();
            if e.raci == Raci::Accountable {
                accountable.push(&e.person);
            }
        }
        let mut bad = Vec::new();
        let mut processes_affected = std::collections::BTreeSet::new();
        for p in processes {
            if !groups.keys().any(|(proc, _)| *proc == p.id) {
                bad.push(Evidence::new(RecordKind::Process, &p.id, "no RACI entries"));
                processes_affected.insert(p.id.as_str());
            }
        }
        for ((process, activity), accountable) in &groups {
            let what = if activity.is_empty() {
                String::new()
            } else {
                format!(" for activity {activity}")
            };
            let note = match accountable.len() {
                1 => continue,
                0 => format!("nobody is accountable{what}"),
                n => format!("{n} people are accountable{what}"),
            };
            processes_affected.insert(process);
            bad.push(Evidence::new(RecordKind::Raci, *process, note).field(
                "accountable",
                (!accountable.is_empty()).then(|| accountable.join(", ")),
            ));
        }
        if !bad.is_empty() {
            out.push(
                RACI_ACCOUNTABLE
                    .finding(
                        by_extent(processes_affected.len(), processes.len()),
                        format!(
                            "{} exactly one accountable person",
                            n(
                                bad.len(),
                                "process activity lacks",
                                "process activities lack"
                            )
                        ),
                    )
                    .with_all(bad),
            );
        }
    },
};

pub(super) static RACI_UNKNOWN_PERSON: Check = Check {
    id: "raci-unknown-person",
    pattern: "F-003",
    title: "RACI names someone absent from the people register or gone",
    clauses_2018: &["5.3"],
    clauses_2011: &["4.1.3"],
    doc: "Fires for each RACI entry whose person is not in the people register or has left. \
          Graded by extent over the RACI entries.",
    examines: Examines::Records(|cx| cx.sms.raci.len()),
    evaluate: |cx, out| {
        let raci = &cx.sms.raci;
        let bad: Vec<_> = raci
            .iter()
            .filter_map(|e| {
                person_problem(cx, &e.person).map(|why| {
                    let activity = if e.activity.is_empty() {
                        String::new()
                    } else {
                        format!(" (activity {})", e.activity)
                    };
                    Evidence::new(
                        RecordKind::Raci,
                        &e.process,
                        format!("{} {why}{activity}", e.person),
                    )
                    .field("person", Some(&e.person))
                })
            })
            .collect();
        if !bad.is_empty() {
            out.push(
                RACI_UNKNOWN_PERSON
                    .finding(
                        by_extent(bad.len(), raci.len()),
                        format!(
                            "{} unknown or have left",
                            n(
                                bad.len(),
                                "RACI entry names someone who is",
                                "RACI entries name people who are"
                            )
                        ),
                    )
                    .with_all(bad),
            );
        }
    },
};

pub(super) static SMS_OWNER_MISSING: Check = Check {
    id: "sms-owner-missing",
    pattern: "F-011",
    title: "No SMS owner (management representative)",
    clauses_2018: &["5.3"],
    clauses_2011: &["4.1.4"],
    doc: "Fires when the organisation names no `sms_owner`, or names someone unknown or gone. \
          Minor.",
    examines: Examines::Presence,
    evaluate: |cx, out| {
        let org = &cx.sms.organisation;
        let evidence = match &org.sms_owner {
            None => Evidence::new(
                RecordKind::Organisation,
                "organisation",
                "no SMS owner named",
            )
            .field("sms_owner", None::<String>),
            Some(id) => match person_problem(cx, id) {
                None => return,
                Some(why) => Evidence::new(
                    RecordKind::Organisation,
                    "organisation",
                    format!("SMS owner {why}"),
                )
                .field("sms_owner", Some(id)),
            },
        };
        out.push(
            SMS_OWNER_MISSING
                .finding(
                    Grade::Minor,
                    "Nobody in post has authority for the SMS as a whole",
                )
                .with(evidence),
        );
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};
    use crate::model::RaciEntry;
    use jiff::civil::date;

    #[test]
    fn processes_need_an_owner_still_here() {
        quiet(&PROCESS_NO_OWNER, &clean());
        let mut sms = clean();
        sms.processes[0].owner = None;
        assert_eq!(ids(&fires(&PROCESS_NO_OWNER, &sms)), ["incident"]);
        sms.people
            .iter_mut()
            .find(|p| p.id == "cm")
            .unwrap()
            .left_on = Some(date(2026, 5, 1));
        let f = fires(&PROCESS_NO_OWNER, &sms);
        assert_eq!(
            (ids(&f), f.grade),
            (vec!["incident", "change"], Grade::Minor)
        );
        sms.processes[2].owner = Some("nobody".into());
        assert_eq!(
            fires(&PROCESS_NO_OWNER, &sms).grade,
            Grade::Major,
            "every process is affected"
        );
    }

    #[test]
    fn each_activity_has_exactly_one_accountable() {
        quiet(&RACI_ACCOUNTABLE, &clean());
        let mut sms = clean();
        sms.raci.push(RaciEntry {
            process: "change".into(),
            activity: String::new(),
            person: "sm".into(),
            raci: Raci::Accountable,
        });
        sms.raci
            .retain(|e| !(e.process == "slm" && e.raci == Raci::Accountable));
        let f = fires(&RACI_ACCOUNTABLE, &sms);
        assert_eq!(ids(&f), ["change", "slm"]);
        assert_eq!(f.evidence[0].note, "2 people are accountable");
        sms.raci.clear();
        assert_eq!(fires(&RACI_ACCOUNTABLE, &sms).grade, Grade::Major);
    }

    #[test]
    fn raci_people_must_exist_and_be_here() {
        quiet(&RACI_UNKNOWN_PERSON, &clean());
        let mut sms = clean();
        sms.raci[1].person = "ghost".into();
        let f = fires(&RACI_UNKNOWN_PERSON, &sms);
        assert_eq!(
            (ids(&f), f.evidence[0].value.as_deref()),
            (vec!["incident"], Some("ghost"))
        );
    }

    #[test]
    fn the_sms_needs_an_owner() {
        quiet(&SMS_OWNER_MISSING, &clean());
        let mut sms = clean();
        sms.organisation.sms_owner = Some("ghost".into());
        assert_eq!(
            fires(&SMS_OWNER_MISSING, &sms).evidence[0].note,
            "SMS owner not in the people register"
        );
    }
}

pub(super) static PROCESS_NO_KPI: Check = Check {
    id: "process-no-kpi",
    pattern: "F-030",
    title: "Process without indicators to measure it",
    clauses_2018: &["9.1"],
    clauses_2011: &["4.5.4.1"],
    doc: "Fires for each process with no `kpis`: nobody can say whether it works. Graded by \
          extent over the processes.",
    examines: Examines::Records(|cx| cx.sms.processes.len()),
    evaluate: |cx, out| {
        let processes = &cx.sms.processes;
        let bad: Vec<_> = processes
            .iter()
            .filter(|p| p.kpis.is_empty())
            .map(|p| {
                Evidence::new(RecordKind::Process, &p.id, "no indicators defined")
                    .field("kpis", None::<String>)
            })
            .collect();
        PROCESS_NO_KPI.report_extent(
            out,
            bad,
            processes.len(),
            "processes have no indicators",
            None,
        );
    },
};

#[cfg(test)]
mod kpi_tests {
    use super::*;
    use crate::checks::testing::{clean, fires, ids, quiet};

    #[test]
    fn processes_have_indicators() {
        quiet(&PROCESS_NO_KPI, &clean());
        let mut sms = clean();
        sms.processes[1].kpis.clear();
        assert_eq!(ids(&fires(&PROCESS_NO_KPI, &sms)), ["change"]);
    }
}
