//! The nonconformity loop: correction, root cause, corrective actions, an effectiveness check,
//! and closure only once the check found the actions worked.
//!
//! The rules here are the ones the server enforces on every write that would close a
//! nonconformity, the board orders by, and the checks judge the records with, so the three never
//! disagree:
//!
//! - An **observation** (or opportunity for improvement) is not a nonconformity: it is never
//!   asked for a root cause, actions or a check, and may be closed at any time.
//! - A **major or minor** (or ungraded) nonconformity may be closed only when it has a root
//!   cause, at least one corrective action, every action implemented, and an effectiveness check
//!   held on or after the last implementation that found the actions worked ([`blockers`]).
//! - Its **response** is due a set time after it was raised ([`Response`]): a major must be
//!   corrected, with every action implemented, by then; a minor needs an accepted plan (root
//!   cause and actions with owners and dates). Both default to 90 days, as most certification
//!   bodies set them; `organisation.yaml` may give its body's own.

use std::fmt;

use crate::Date;
use crate::interval::Interval;
use crate::kb::Grade;
use crate::model::{Nonconformity, Organisation, Sms};

/// How long the certification body gives to answer a nonconformity, by grade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Response {
    /// For a major: corrected, with evidence.
    pub major: Interval,
    /// For a minor: a plan the auditor can accept.
    pub minor: Interval,
}

impl Default for Response {
    fn default() -> Self {
        Response {
            major: Interval::Days(90),
            minor: Interval::Days(90),
        }
    }
}

impl Response {
    /// The organisation's certification body's deadlines, or the usual ones.
    pub fn of(org: &Organisation) -> Response {
        let usual = Response::default();
        Response {
            major: org.major_response.unwrap_or(usual.major),
            minor: org.minor_response.unwrap_or(usual.minor),
        }
    }

    /// When a nonconformity's response is due: its own date, else the grade's deadline from
    /// when it was raised. Observations need no response.
    pub fn due(&self, nc: &Nonconformity) -> Option<Date> {
        if is_observation(nc) {
            return None;
        }
        nc.due.or_else(|| {
            let raised = nc.raised_on?;
            Some(match nc.grade {
                Some(Grade::Major) => self.major.after(raised),
                _ => self.minor.after(raised),
            })
        })
    }
}

/// Whether the record is an observation or opportunity for improvement, not a nonconformity.
pub fn is_observation(nc: &Nonconformity) -> bool {
    nc.grade == Some(Grade::Observation)
}

/// Whether a nonconformity has the response its grade asks for: a major corrected (a
/// correction recorded and every action implemented), a minor planned (a root cause and at
/// least one action with an owner and a due date). Observations need none.
pub fn responded(nc: &Nonconformity) -> bool {
    if is_observation(nc) {
        return true;
    }
    let planned = nc.root_cause.is_some()
        && !nc.actions.is_empty()
        && nc
            .actions
            .iter()
            .all(|a| a.owner.is_some() && a.due.is_some());
    match nc.grade {
        Some(Grade::Major) => {
            nc.correction.is_some()
                && planned
                && nc.actions.iter().all(|a| a.implemented_on.is_some())
        }
        _ => planned,
    }
}

/// Why a nonconformity may not be closed yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocker {
    /// No root cause is recorded.
    NoRootCause,
    /// No corrective action is recorded.
    NoActions,
    /// This action (id) is not implemented.
    NotImplemented(String),
    /// No effectiveness check is recorded, or it is only planned.
    NotChecked,
    /// The check was held before this action (id) was implemented.
    CheckedTooEarly(String),
    /// The check found the actions did not work.
    Ineffective,
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocker::NoRootCause => f.write_str("no root cause is recorded"),
            Blocker::NoActions => f.write_str("no corrective action is recorded"),
            Blocker::NotImplemented(id) => write!(f, "corrective action {id} is not implemented"),
            Blocker::NotChecked => {
                f.write_str("no effectiveness check has found that the actions worked")
            }
            Blocker::CheckedTooEarly(id) => write!(
                f,
                "the effectiveness check was held before corrective action {id} was implemented"
            ),
            Blocker::Ineffective => f.write_str(
                "the effectiveness check found the actions did not work: add a new action and \
                 check again",
            ),
        }
    }
}

/// What stands between a nonconformity and its closure, in the order they are met. Empty when
/// it may be closed.
pub fn blockers(nc: &Nonconformity) -> Vec<Blocker> {
    if is_observation(nc) {
        return Vec::new();
    }
    let mut out = Vec::new();
    if nc.root_cause.is_none() {
        out.push(Blocker::NoRootCause);
    }
    if nc.actions.is_empty() {
        out.push(Blocker::NoActions);
    }
    for a in nc.actions.iter().filter(|a| a.implemented_on.is_none()) {
        out.push(Blocker::NotImplemented(a.id.clone()));
    }
    match &nc.effectiveness {
        Some(e) if e.effective == Some(false) && e.checked_on.is_some() => {
            out.push(Blocker::Ineffective)
        }
        Some(e) => match e.found_effective() {
            None => out.push(Blocker::NotChecked),
            Some(on) => {
                let late = nc
                    .actions
                    .iter()
                    .filter(|a| a.implemented_on.is_some_and(|i| i > on))
                    .max_by_key(|a| a.implemented_on);
                if let Some(a) = late {
                    out.push(Blocker::CheckedTooEarly(a.id.clone()));
                }
            }
        },
        None => out.push(Blocker::NotChecked),
    }
    out
}

/// The blockers joined into one sentence, for an error message.
pub fn refusal(nc: &Nonconformity) -> Option<String> {
    let b = blockers(nc);
    if b.is_empty() {
        return None;
    }
    let reasons: Vec<String> = b.iter().map(ToString::to_string).collect();
    Some(format!(
        "{} cannot be closed yet: {}.",
        nc.id,
        reasons.join("; ")
    ))
}

/// Where a nonconformity is in the loop: the next thing it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// Nothing done yet: correct the instance.
    Correction,
    /// Corrected (or not correctable); find the cause.
    RootCause,
    /// The cause is known; decide what removes it.
    Actions,
    /// Actions chosen, some not implemented.
    Implementation,
    /// Every action implemented; check that they worked.
    Verification,
    /// Shown effective; ready to close.
    ReadyToClose,
    /// Closed.
    Closed,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Step; 7] = [
        Step::Correction,
        Step::RootCause,
        Step::Actions,
        Step::Implementation,
        Step::Verification,
        Step::ReadyToClose,
        Step::Closed,
    ];

    /// The step in words, as a board column.
    pub fn label(self) -> &'static str {
        match self {
            Step::Correction => "Needs a correction",
            Step::RootCause => "Needs a root cause",
            Step::Actions => "Needs corrective actions",
            Step::Implementation => "Actions under way",
            Step::Verification => "Awaiting the effectiveness check",
            Step::ReadyToClose => "Ready to close",
            Step::Closed => "Closed",
        }
    }

    /// A short stable name, for JSON.
    pub fn key(self) -> &'static str {
        match self {
            Step::Correction => "correction",
            Step::RootCause => "root-cause",
            Step::Actions => "actions",
            Step::Implementation => "implementation",
            Step::Verification => "verification",
            Step::ReadyToClose => "ready-to-close",
            Step::Closed => "closed",
        }
    }
}

/// The step a nonconformity is at. An observation goes from open straight to closed.
pub fn step(nc: &Nonconformity) -> Step {
    if nc.closed_on.is_some() {
        return Step::Closed;
    }
    if is_observation(nc) {
        return Step::ReadyToClose;
    }
    if nc.correction.is_none() && nc.root_cause.is_none() && nc.actions.is_empty() {
        return Step::Correction;
    }
    if nc.root_cause.is_none() {
        return Step::RootCause;
    }
    if nc.actions.is_empty() {
        return Step::Actions;
    }
    if nc.actions.iter().any(|a| a.implemented_on.is_none()) {
        return Step::Implementation;
    }
    if blockers(nc).is_empty() {
        Step::ReadyToClose
    } else {
        Step::Verification
    }
}

/// Who answers a nonconformity: its own owner, else the owner of its process.
pub fn owner<'a>(sms: &'a Sms, nc: &'a Nonconformity) -> Option<&'a str> {
    nc.owner.as_deref().or_else(|| {
        let process = nc.process.as_deref()?;
        sms.processes
            .iter()
            .find(|p| p.id == process)?
            .owner
            .as_deref()
    })
}

/// One card of the nonconformity board.
#[derive(Clone, Debug)]
pub struct Card<'a> {
    /// The nonconformity.
    pub nc: &'a Nonconformity,
    /// Where it is in the loop.
    pub step: Step,
    /// When its response is due, if it needs one.
    pub due: Option<Date>,
    /// Whether it is open and its response is late on the day judged.
    pub overdue: bool,
    /// Who answers it.
    pub owner: Option<&'a str>,
}

/// Every nonconformity as a board card: open ones first, overdue before the rest, each group
/// by due date (undated last), then closed ones, latest closed first.
pub fn board(sms: &Sms, as_of: Date) -> Vec<Card<'_>> {
    let response = Response::of(&sms.organisation);
    let mut cards: Vec<Card<'_>> = sms
        .nonconformities
        .iter()
        .map(|nc| {
            let step = step(nc);
            let due = response.due(nc);
            Card {
                nc,
                step,
                due,
                overdue: step != Step::Closed && !responded(nc) && due.is_some_and(|d| d < as_of),
                owner: owner(sms, nc),
            }
        })
        .collect();
    cards.sort_by(|a, b| {
        let closed = |c: &Card<'_>| c.step == Step::Closed;
        closed(a)
            .cmp(&closed(b))
            .then(b.overdue.cmp(&a.overdue))
            .then_with(|| match (closed(a), a.due, b.due) {
                (true, _, _) => b.nc.closed_on.cmp(&a.nc.closed_on),
                (false, Some(x), Some(y)) => x.cmp(&y),
                (false, Some(_), None) => std::cmp::Ordering::Less,
                (false, None, Some(_)) => std::cmp::Ordering::Greater,
                (false, None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| a.nc.id.cmp(&b.nc.id))
    });
    cards
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CorrectiveAction, EffectivenessReview};
    use jiff::civil::date;

    fn nc(grade: Grade) -> Nonconformity {
        Nonconformity {
            id: "NC-1".into(),
            description: "x".into(),
            raised_on: Some(date(2026, 1, 10)),
            grade: Some(grade),
            ..Default::default()
        }
    }

    fn action(id: &str, implemented: Option<Date>) -> CorrectiveAction {
        CorrectiveAction {
            id: id.into(),
            description: "do it".into(),
            owner: Some("p".into()),
            due: Some(date(2026, 3, 1)),
            implemented_on: implemented,
            ..Default::default()
        }
    }

    fn check(on: Option<Date>, effective: Option<bool>) -> Option<EffectivenessReview> {
        Some(EffectivenessReview {
            checked_on: on,
            effective,
            ..Default::default()
        })
    }

    #[test]
    fn closure_waits_for_every_action_and_an_effective_later_check() {
        let mut n = nc(Grade::Minor);
        assert_eq!(
            blockers(&n),
            [
                Blocker::NoRootCause,
                Blocker::NoActions,
                Blocker::NotChecked
            ]
        );
        assert_eq!(step(&n), Step::Correction);
        n.correction = Some("fixed".into());
        assert_eq!(step(&n), Step::RootCause);
        n.root_cause = Some("why".into());
        assert_eq!(step(&n), Step::Actions);
        n.actions = vec![action("A1", Some(date(2026, 2, 1))), action("A2", None)];
        assert_eq!(step(&n), Step::Implementation);
        assert_eq!(
            blockers(&n),
            [Blocker::NotImplemented("A2".into()), Blocker::NotChecked]
        );
        n.actions[1].implemented_on = Some(date(2026, 2, 20));
        assert_eq!(step(&n), Step::Verification);
        n.effectiveness = check(None, None);
        assert_eq!(
            blockers(&n),
            [Blocker::NotChecked],
            "a planned check is not a check"
        );
        n.effectiveness = check(Some(date(2026, 2, 10)), Some(true));
        assert_eq!(blockers(&n), [Blocker::CheckedTooEarly("A2".into())]);
        n.effectiveness = check(Some(date(2026, 4, 1)), Some(false));
        assert_eq!(blockers(&n), [Blocker::Ineffective]);
        n.effectiveness = check(Some(date(2026, 4, 1)), Some(true));
        assert!(blockers(&n).is_empty());
        assert_eq!(step(&n), Step::ReadyToClose);
        assert_eq!(refusal(&n), None);
        n.closed_on = Some(date(2026, 4, 2));
        assert_eq!(step(&n), Step::Closed);
    }

    #[test]
    fn observations_need_no_root_cause_nor_response() {
        let n = nc(Grade::Observation);
        assert!(blockers(&n).is_empty());
        assert_eq!(step(&n), Step::ReadyToClose);
        assert_eq!(Response::default().due(&n), None);
        assert!(responded(&n));
    }

    #[test]
    fn responses_are_due_by_grade_or_the_bodys_own_rule() {
        let major = nc(Grade::Major);
        assert_eq!(Response::default().due(&major), Some(date(2026, 4, 10)));
        let body = Response {
            major: Interval::Days(30),
            minor: Interval::Months(3),
        };
        assert_eq!(body.due(&major), Some(date(2026, 2, 9)));
        assert_eq!(body.due(&nc(Grade::Minor)), Some(date(2026, 4, 10)));
        let mut own = nc(Grade::Minor);
        own.due = Some(date(2026, 1, 31));
        assert_eq!(body.due(&own), Some(date(2026, 1, 31)));
    }

    #[test]
    fn a_major_is_answered_when_corrected_a_minor_when_planned() {
        let mut minor = nc(Grade::Minor);
        minor.root_cause = Some("why".into());
        minor.actions = vec![action("A1", None)];
        assert!(responded(&minor));
        let mut major = minor.clone();
        major.grade = Some(Grade::Major);
        assert!(!responded(&major));
        major.correction = Some("fixed".into());
        major.actions[0].implemented_on = Some(date(2026, 2, 1));
        assert!(responded(&major));
    }

    #[test]
    fn the_board_puts_overdue_first_and_closed_last() {
        let mut sms = Sms::default();
        let mut late = nc(Grade::Minor);
        late.id = "NC-LATE".into();
        let mut fresh = nc(Grade::Minor);
        fresh.id = "NC-FRESH".into();
        fresh.raised_on = Some(date(2026, 6, 1));
        let mut closed = nc(Grade::Minor);
        closed.id = "NC-CLOSED".into();
        closed.closed_on = Some(date(2026, 3, 1));
        sms.nonconformities = vec![closed, fresh, late];
        let cards = board(&sms, date(2026, 6, 30));
        let ids: Vec<_> = cards.iter().map(|c| c.nc.id.as_str()).collect();
        assert_eq!(ids, ["NC-LATE", "NC-FRESH", "NC-CLOSED"]);
        assert!(cards[0].overdue && !cards[1].overdue && !cards[2].overdue);
    }
}
