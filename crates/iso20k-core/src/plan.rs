//! The action plan: for every finding, who fixes it, by when, and where it stands.
//!
//! The organisation's decisions are the entries of `plan.yaml` ([`PlanEntry`], one per finding
//! id). A finding without one gets the defaults an auditor would expect a plan to start from:
//!
//! - **owner**: the person accountable (A) in the RACI for the process the finding falls under,
//!   else that process's owner, else the SMS owner, else the policy's approver if top
//!   management, else the top-management member who attended most management reviews (the
//!   first in the register among equals). People who have left
//!   (or are not in the register) are skipped at every step: a dangling id is never an owner.
//! - **due**: the grade's deadline ([`Deadlines`]: 90, 180 or 365 days from the day judged),
//!   but never on or after the next booked certification audit the finding would block: a
//!   finding blocking stage 1 is due the day before the stage 1 (or, if only that is booked,
//!   stage 2) audit, a major blocking stage 2 the day before the stage 2 audit.
//! - **status**: open.
//!
//! An entry's own owner is used only while that person is active; otherwise the default applies.
//! A finding marked `done` that still fires keeps its status but says so
//! ([`Action::marked_done_but_still_fires`]): the records do not yet show the fix. Entries whose
//! finding no longer fires are the plan's closed actions.

use crate::audit::Booking;
use crate::checks::{self, Finding};
use crate::clause;
use crate::kb::Grade;
use crate::model::{PlanComment, PlanEntry, PlanStatus, Raci, Sms};
use crate::readiness::Stage;
use crate::refs;
use crate::{Date, Edition};

/// How long the action plan gives to fix a finding, by grade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlines {
    /// Days from the report's date to fix a major, a minor and an observation. The defaults
    /// follow common certification practice: majors closed before a certificate is granted
    /// (about 90 days), minors planned within about six months, observations within the year.
    pub days: [i64; 3],
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            days: [90, 180, 365],
        }
    }
}

impl Deadlines {
    /// The day a finding of `grade`, found on `as_of`, should be fixed by.
    pub fn due(&self, grade: Grade, as_of: Date) -> Date {
        let days = match grade {
            Grade::Major => self.days[0],
            Grade::Minor => self.days[1],
            Grade::Observation => self.days[2],
        };
        as_of
            .checked_add(jiff::Span::new().days(days))
            .unwrap_or(as_of)
    }
}

/// Where an action's owner came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerFrom {
    /// The plan entry names them.
    Plan,
    /// Accountable (A) in the RACI for the finding's process.
    Raci,
    /// The owner of the finding's process.
    ProcessOwner,
    /// The SMS owner.
    SmsOwner,
    /// The policy's approver, or the top-management member most present at management reviews.
    TopManagement,
}

impl OwnerFrom {
    /// The key used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerFrom::Plan => "plan",
            OwnerFrom::Raci => "raci",
            OwnerFrom::ProcessOwner => "process-owner",
            OwnerFrom::SmsOwner => "sms-owner",
            OwnerFrom::TopManagement => "top-management",
        }
    }
}

/// Where an action's due date came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DueFrom {
    /// The plan entry sets it.
    Plan,
    /// The grade's deadline.
    Grade,
    /// The day before a booked audit the finding would block (`stage-1` or `stage-2`), which
    /// comes before the grade's deadline.
    Booking(&'static str),
}

impl DueFrom {
    /// The key used in JSON: `plan`, `grade`, or the audit (`stage-1`, `stage-2`).
    pub fn as_str(self) -> &'static str {
        match self {
            DueFrom::Plan => "plan",
            DueFrom::Grade => "grade",
            DueFrom::Booking(audit) => audit,
        }
    }
}

/// What the plan says about one finding that fires.
#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    /// The finding's id.
    pub finding: String,
    /// Who fixes it (an active person), if anyone could be found.
    pub owner: Option<String>,
    /// Where the owner came from.
    pub owner_from: Option<OwnerFrom>,
    /// When it is to be fixed by.
    pub due: Date,
    /// Where the due date came from.
    pub due_from: DueFrom,
    /// Where it stands.
    pub status: PlanStatus,
    /// Whether the plan marks it done although the records still show it.
    pub marked_done_but_still_fires: bool,
    /// Why the risk is accepted, for `risk-accepted`.
    pub reason: Option<String>,
    /// Who accepted the risk, for `risk-accepted`.
    pub approved_by: Option<String>,
    /// Notes on progress.
    pub comments: Vec<PlanComment>,
    /// Whether plan.yaml has an entry for it.
    pub planned: bool,
}

/// The action plan of a report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// One action per finding, by the finding's index in the report.
    pub actions: Vec<Action>,
    /// The plan entries whose finding no longer fires, in the plan's order.
    pub closed: Vec<PlanEntry>,
}

/// Whether `id` could be a finding's id: a known check's id (or `checklist`), then optionally
/// `/` and a part without spaces. Returns what is wrong with it otherwise.
pub fn check_finding_id(id: &str) -> Result<(), String> {
    let (check, part) = match id.split_once('/') {
        Some((c, p)) => (c, Some(p)),
        None => (id, None),
    };
    if check != "checklist" && checks::find(check).is_none() {
        return Err(format!(
            "`{id}` is not a finding id: `{check}` is not a check (see `iso20k check DIR --format json` for the ids)"
        ));
    }
    if let Some(part) = part
        && (part.is_empty() || part.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        return Err(format!(
            "`{id}` is not a finding id: what follows `/` must be a non-empty word without spaces"
        ));
    }
    Ok(())
}

/// The process a finding falls under: the one whose clauses hold the finding's most closely
/// (a process named in the evidence first).
fn process_of<'s>(sms: &'s Sms, finding: &Finding) -> Option<&'s crate::model::Process> {
    if let Some(p) = finding
        .evidence
        .iter()
        .filter(|e| e.kind == checks::RecordKind::Process)
        .find_map(|e| sms.processes.iter().find(|p| p.id == e.id))
    {
        return Some(p);
    }
    let edition: Edition = sms.edition();
    let clauses = finding.clauses(edition);
    let mut best: Option<(usize, &crate::model::Process)> = None;
    for p in &sms.processes {
        for pc in &p.clauses {
            let holds = clauses.iter().any(|fc| clause::is_within(fc, pc));
            if holds && best.is_none_or(|(len, _)| pc.len() > len) {
                best = Some((pc.len(), p));
            }
        }
    }
    best.map(|(_, p)| p)
}

/// The default owner of a finding, and where it came from.
pub fn default_owner(sms: &Sms, as_of: Date, finding: &Finding) -> Option<(String, OwnerFrom)> {
    let active = |id: &str| sms.person(id).is_some_and(|p| p.is_active(as_of));
    if let Some(p) = process_of(sms, finding) {
        let accountable = |whole: bool| {
            sms.raci
                .iter()
                .filter(|r| r.process == p.id && r.raci == Raci::Accountable)
                .filter(|r| r.activity.is_empty() == whole)
                .find(|r| active(&r.person))
                .map(|r| r.person.clone())
        };
        if let Some(a) = accountable(true).or_else(|| accountable(false)) {
            return Some((a, OwnerFrom::Raci));
        }
        if let Some(o) = p.owner.as_deref().filter(|o| active(o)) {
            return Some((o.to_owned(), OwnerFrom::ProcessOwner));
        }
    }
    if let Some(o) = sms.organisation.sms_owner.as_deref().filter(|o| active(o)) {
        return Some((o.to_owned(), OwnerFrom::SmsOwner));
    }
    let top = |id: &str| active(id) && refs::is_top_management(sms, id);
    if let Some(a) = sms
        .policy
        .as_ref()
        .and_then(|p| p.approved_by.as_deref())
        .filter(|a| top(a))
    {
        return Some((a.to_owned(), OwnerFrom::TopManagement));
    }
    // Top management directs the SMS through management review: the member who attended most
    // reviews, the first in the register among equals.
    let reviews = |id: &str| {
        sms.management_reviews
            .iter()
            .filter(|r| r.attendees.iter().any(|a| a == id))
            .count()
    };
    sms.people
        .iter()
        .filter(|p| p.top_management && p.is_active(as_of))
        .fold(None::<(&crate::model::Person, usize)>, |best, p| {
            let n = reviews(&p.id);
            match best {
                Some((_, m)) if m >= n => best,
                _ => Some((p, n)),
            }
        })
        .map(|(p, _)| (p.id.clone(), OwnerFrom::TopManagement))
}

/// The default due date of a finding of `grade` that blocks `blocks`, and where it came from.
pub fn default_due(
    grade: Grade,
    blocks: Option<Stage>,
    bookings: &[Booking],
    as_of: Date,
    deadlines: &Deadlines,
) -> (Date, DueFrom) {
    let due = deadlines.due(grade, as_of);
    let audits: &[&str] = match blocks {
        Some(Stage::One) => &["stage-1", "stage-2"],
        Some(Stage::Two) => &["stage-2"],
        None => &[],
    };
    let next = bookings
        .iter()
        .filter(|b| audits.contains(&b.audit) && b.on > as_of)
        .min_by_key(|b| b.on);
    match next {
        Some(b) => {
            let before = b.on.yesterday().unwrap_or(b.on);
            if before < due {
                (before, DueFrom::Booking(b.audit))
            } else {
                (due, DueFrom::Grade)
            }
        }
        None => (due, DueFrom::Grade),
    }
}

/// The action plan for `findings` (whose stage blockers are `blocks`, by index), from the
/// plan's entries and the defaults.
pub fn plan(
    sms: &Sms,
    findings: &[Finding],
    blocks: &[Option<Stage>],
    bookings: &[Booking],
    as_of: Date,
    deadlines: &Deadlines,
) -> Plan {
    let active = |id: &str| sms.person(id).is_some_and(|p| p.is_active(as_of));
    let actions = findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let entry = sms.plan.iter().find(|e| e.finding == f.id);
            let (owner, owner_from) = match entry.and_then(|e| e.owner.as_deref()) {
                Some(o) if active(o) => (Some(o.to_owned()), Some(OwnerFrom::Plan)),
                _ => match default_owner(sms, as_of, f) {
                    Some((o, from)) => (Some(o), Some(from)),
                    None => (None, None),
                },
            };
            let (due, due_from) = match entry.and_then(|e| e.due) {
                Some(d) => (d, DueFrom::Plan),
                None => default_due(
                    f.grade,
                    blocks.get(i).copied().flatten(),
                    bookings,
                    as_of,
                    deadlines,
                ),
            };
            let status = entry.map(|e| e.status).unwrap_or_default();
            Action {
                finding: f.id.clone(),
                owner,
                owner_from,
                due,
                due_from,
                status,
                marked_done_but_still_fires: status == PlanStatus::Done,
                reason: entry.and_then(|e| e.reason.clone()),
                approved_by: entry.and_then(|e| e.approved_by.clone()),
                comments: entry.map(|e| e.comments.clone()).unwrap_or_default(),
                planned: entry.is_some(),
            }
        })
        .collect();
    let closed = sms
        .plan
        .iter()
        .filter(|e| findings.iter().all(|f| f.id != e.finding))
        .cloned()
        .collect();
    Plan { actions, closed }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Options, audit};
    use crate::checks::testing;
    use jiff::civil::date;

    fn run(sms: &Sms) -> crate::audit::Report {
        audit(
            sms,
            Options {
                edition: Edition::Y2018,
                as_of: testing::as_of(),
            },
        )
    }

    fn entry(finding: &str, status: PlanStatus) -> PlanEntry {
        PlanEntry {
            finding: finding.into(),
            status,
            ..PlanEntry::default()
        }
    }

    #[test]
    fn finding_ids_must_name_a_check() {
        assert!(check_finding_id("mr-overdue").is_ok());
        assert!(check_finding_id("doc-review-overdue/pol-001").is_ok());
        assert!(check_finding_id("checklist/F-012").is_ok());
        assert!(check_finding_id("no-such-check").is_err());
        assert!(check_finding_id("mr-overdue/").is_err());
        assert!(check_finding_id("mr-overdue/a b").is_err());
    }

    #[test]
    fn the_default_owner_is_accountable_then_process_owner_then_sms_owner() {
        let mut sms = testing::clean();
        sms.slas[0].last_reviewed_on = Some(date(2024, 1, 1));
        let r = run(&sms);
        let i = r
            .findings
            .iter()
            .position(|f| f.check == "sla-review-overdue")
            .unwrap();
        let f = &r.findings[i];
        let accountable = sms
            .raci
            .iter()
            .find(|e| e.process == "slm" && e.raci == Raci::Accountable)
            .map(|e| e.person.clone());
        let (owner, from) = default_owner(&sms, r.as_of, f).unwrap();
        match accountable {
            Some(a) => assert_eq!((owner.as_str(), from), (a.as_str(), OwnerFrom::Raci)),
            None => assert_eq!((owner.as_str(), from), ("sm", OwnerFrom::ProcessOwner)),
        }

        // Nobody accountable and the process owner gone: the SMS owner.
        sms.raci.retain(|e| e.process != "slm");
        for p in &mut sms.people {
            if p.id == "sm" {
                p.left_on = Some(date(2026, 1, 1));
            }
        }
        sms.organisation.sms_owner = Some("cm".into());
        assert_eq!(
            default_owner(&sms, r.as_of, f),
            Some(("cm".into(), OwnerFrom::SmsOwner))
        );
        // The SMS owner unknown: top management.
        sms.organisation.sms_owner = Some("nobody".into());
        assert_eq!(
            default_owner(&sms, r.as_of, f),
            Some(("ceo".into(), OwnerFrom::TopManagement))
        );
        // Without a policy approver, the top-management member at most reviews.
        sms.policy.as_mut().unwrap().approved_by = None;
        let mut second = sms.people[0].clone();
        second.id = "aaa-board".into();
        sms.people.insert(0, second);
        let attended = sms
            .management_reviews
            .iter()
            .filter(|m| m.attendees.iter().any(|a| a == "ceo"))
            .count();
        assert!(attended > 0);
        assert_eq!(
            default_owner(&sms, r.as_of, f),
            Some(("ceo".into(), OwnerFrom::TopManagement))
        );
        for m in &mut sms.management_reviews {
            m.attendees.retain(|a| a != "ceo");
        }
        assert_eq!(
            default_owner(&sms, r.as_of, f),
            Some(("aaa-board".into(), OwnerFrom::TopManagement)),
            "among equals, the first in the register"
        );
    }

    #[test]
    fn the_default_due_date_stops_short_of_the_audit_a_finding_blocks() {
        let as_of = date(2026, 6, 30);
        let d = Deadlines::default();
        let stage2 = Booking {
            audit: "stage-2",
            on: date(2026, 8, 1),
            days: 32,
        };
        assert_eq!(
            default_due(Grade::Major, Some(Stage::Two), &[stage2], as_of, &d),
            (date(2026, 7, 31), DueFrom::Booking("stage-2"))
        );
        assert_eq!(
            default_due(Grade::Major, None, &[stage2], as_of, &d),
            (date(2026, 9, 28), DueFrom::Grade)
        );
        assert_eq!(
            default_due(Grade::Minor, Some(Stage::Two), &[], as_of, &d),
            (date(2026, 12, 27), DueFrom::Grade)
        );
        let late = Booking {
            on: date(2027, 1, 1),
            ..stage2
        };
        assert_eq!(
            default_due(Grade::Major, Some(Stage::Two), &[late], as_of, &d),
            (date(2026, 9, 28), DueFrom::Grade)
        );
        let past = Booking {
            on: date(2026, 6, 1),
            ..stage2
        };
        assert_eq!(
            default_due(Grade::Major, Some(Stage::One), &[past], as_of, &d).1,
            DueFrom::Grade
        );
    }

    #[test]
    fn plan_entries_override_defaults_and_closed_ones_are_kept_apart() {
        let mut sms = testing::clean();
        sms.slas[0].last_reviewed_on = Some(date(2024, 1, 1));
        let id = run(&sms).findings[0].id.clone();
        sms.plan = vec![
            PlanEntry {
                owner: Some("ops".into()),
                due: Some(date(2026, 7, 15)),
                ..entry(&id, PlanStatus::Done)
            },
            entry("mr-overdue", PlanStatus::InProgress),
        ];
        let r = run(&sms);
        let a = &r.plan.actions[0];
        assert_eq!(a.finding, id);
        assert_eq!(
            (a.owner.as_deref(), a.owner_from, a.due, a.due_from),
            (
                Some("ops"),
                Some(OwnerFrom::Plan),
                date(2026, 7, 15),
                DueFrom::Plan
            )
        );
        assert_eq!(a.status, PlanStatus::Done);
        assert!(a.marked_done_but_still_fires);
        assert_eq!(r.plan.closed.len(), 1);
        assert_eq!(r.plan.closed[0].finding, "mr-overdue");

        // An owner who has left is no owner: the default applies.
        for p in &mut sms.people {
            if p.id == "ops" {
                p.left_on = Some(date(2026, 1, 1));
            }
        }
        let r = run(&sms);
        assert_ne!(r.plan.actions[0].owner.as_deref(), Some("ops"));
        assert_ne!(r.plan.actions[0].owner_from, Some(OwnerFrom::Plan));
    }

    #[test]
    fn without_an_entry_an_action_is_open_and_every_finding_has_one() {
        let mut sms = testing::clean();
        sms.management_reviews.clear();
        sms.organisation.sms_owner = None;
        let r = run(&sms);
        assert_eq!(r.plan.actions.len(), r.findings.len());
        for (a, f) in r.plan.actions.iter().zip(&r.findings) {
            assert_eq!(a.finding, f.id);
            assert_eq!(a.status, PlanStatus::Open);
            assert!(!a.marked_done_but_still_fires && !a.planned);
            assert!(a.owner.is_some(), "{} has an owner", f.id);
        }
    }
}
