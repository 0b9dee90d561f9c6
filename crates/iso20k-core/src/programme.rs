//! The internal audit programme: its cycle, how often each process and clause must be audited,
//! and the coverage matrix that shows, year by year, what is planned, what was audited with
//! evidence and where the gaps are.
//!
//! **The cycle** runs the `audit_cycle` interval (default three years) from the programme's
//! declared start, stepped forward (or, for a start carried into a later cycle, back) to the
//! cycle holding the day judged; without a declared start it trails that day. It is split into years (the last may be shorter).
//!
//! **Frequency, by risk and past results.** A process or second-level clause is audited every
//! year of the cycle, rather than once in it, when over the last cycle's length before the day
//! judged it had a major nonconformity, or two or more major or minor ones (from the
//! nonconformity register or internal and external audit findings), or when the process is rated
//! high risk in the process register. Everything else is audited at least once per cycle. A
//! nonconformity belongs to a process when it names that process, or when its clause lies within
//! one of the process's clauses. Past results make a row yearly from the first year that begins
//! after they did (the first major, or the second nonconformity): a year already under way when
//! the need arose is not held to it. A high-risk rating holds for every year.
//!
//! Only internal audits fill the matrix: outside audits (certification, customer) are not the
//! organisation's own check of itself.

use std::collections::BTreeSet;

use crate::clause::{self, Clause};
use crate::interval::Activity;
use crate::kb::Grade;
use crate::model::{InternalAudit, Raci, RiskLevel, Sms};
use crate::{Date, Edition};

/// A programme cycle and its years.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle {
    /// Its first day.
    pub start: Date,
    /// The day after its last.
    pub end: Date,
    /// Its years: each one's first day and the day after its last.
    pub years: Vec<(Date, Date)>,
}

impl Cycle {
    /// Whether a day falls in the cycle.
    pub fn contains(&self, day: Date) -> bool {
        day >= self.start && day < self.end
    }

    /// The year (by index) a day falls in.
    pub fn year_of(&self, day: Date) -> Option<usize> {
        self.years.iter().position(|(s, e)| day >= *s && day < *e)
    }
}

/// The cycle holding `as_of`.
pub fn cycle(sms: &Sms, as_of: Date) -> Cycle {
    let length = sms.interval(Activity::AuditCycle);
    let (start, end) = match sms.audit_cycle_start {
        Some(mut start) => {
            // A start carried into the next cycle may lie ahead of the day judged: the cycle
            // holding that day is a whole number of cycles before it.
            // Each step must move the start, or a zero-length cycle would never arrive.
            while start > as_of && length.before(start) < start {
                start = length.before(start);
            }
            while length.after(start) <= as_of && length.after(start) > start {
                start = length.after(start);
            }
            (start, length.after(start))
        }
        None => (length.before(as_of), as_of.tomorrow().unwrap_or(as_of)),
    };
    let mut years = Vec::new();
    let mut from = start;
    while from < end && years.len() < 50 {
        let next = from
            .checked_add(jiff::Span::new().years(1))
            .unwrap_or(end)
            .min(end);
        years.push((from, next));
        from = next;
    }
    Cycle { start, end, years }
}

/// How often a row must be audited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frequency {
    /// Every year of the cycle.
    Yearly,
    /// At least once in the cycle.
    OncePerCycle,
}

impl Frequency {
    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            Frequency::Yearly => "every year",
            Frequency::OncePerCycle => "once per cycle",
        }
    }
}

/// What one cell of the matrix says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// Audited in that year, with evidence (a report, sample results, checklist answers or
    /// findings with evidence).
    Audited,
    /// An audit was held but recorded no evidence.
    HeldWithoutEvidence,
    /// An audit is planned and its day has not come.
    Planned,
    /// An audit was planned, its day passed and it was not held.
    Missed,
    /// Nothing in a year the frequency needs something.
    Gap,
    /// Nothing, and nothing needed this year.
    NotDue,
}

impl State {
    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            State::Audited => "audited with evidence",
            State::HeldWithoutEvidence => "held, no evidence recorded",
            State::Planned => "planned",
            State::Missed => "planned, not held",
            State::Gap => "gap",
            State::NotDue => "not due",
        }
    }

    /// A short stable name, for JSON and styles.
    pub fn key(self) -> &'static str {
        match self {
            State::Audited => "audited",
            State::HeldWithoutEvidence => "held-without-evidence",
            State::Planned => "planned",
            State::Missed => "missed",
            State::Gap => "gap",
            State::NotDue => "not-due",
        }
    }
}

/// One cell: a row in one year of the cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// What it says.
    pub state: State,
    /// The audits (ids) that fall in it.
    pub audits: Vec<String>,
}

/// One row of the matrix: a process or a second-level clause.
#[derive(Clone, Debug)]
pub struct Row {
    /// The process id or the clause number.
    pub key: String,
    /// Its name.
    pub title: String,
    /// How often it must be audited.
    pub frequency: Frequency,
    /// Why it is audited every year, when it is.
    pub reasons: Vec<String>,
    /// When past results made it yearly: years beginning after this day need an audit each.
    /// `None` with a yearly frequency means every year (a high-risk process).
    pub yearly_from: Option<Date>,
    /// One cell per year of the cycle.
    pub cells: Vec<Cell>,
}

impl Row {
    /// Whether any cell is a gap.
    pub fn has_gap(&self) -> bool {
        self.cells.iter().any(|c| c.state == State::Gap)
    }
}

/// The coverage matrix of a cycle.
#[derive(Clone, Debug)]
pub struct Matrix {
    /// The cycle.
    pub cycle: Cycle,
    /// The edition whose clauses the rows are.
    pub edition: Edition,
    /// One row per process in the register.
    pub processes: Vec<Row>,
    /// One row per second-level requirement clause of the edition.
    pub clauses: Vec<Row>,
}

impl Matrix {
    /// How many cells of each row kind are gaps.
    pub fn gaps(&self) -> usize {
        self.processes
            .iter()
            .chain(&self.clauses)
            .flat_map(|r| &r.cells)
            .filter(|c| c.state == State::Gap)
            .count()
    }
}

/// Whether an audit records evidence of its own: a report, sample results, checklist answers,
/// or findings with evidence.
pub fn has_evidence(a: &InternalAudit) -> bool {
    a.report.is_some()
        || a.samples
            .iter()
            .any(|s| s.items.iter().any(|i| i.result.is_some()))
        || a.checklist.iter().any(|q| q.result.is_some())
        || a.findings.iter().any(|f| !f.evidence.is_empty())
}

/// A nonconformity as the frequency rule counts it: its day, grade, process and clauses.
struct Past<'a> {
    on: Date,
    grade: Grade,
    process: Option<&'a str>,
    clauses: Vec<&'a str>,
}

fn past_nonconformities(sms: &Sms, since: Date, as_of: Date) -> Vec<Past<'_>> {
    let mut out = Vec::new();
    let mut raised: BTreeSet<&str> = BTreeSet::new();
    for n in &sms.nonconformities {
        let (Some(on), grade) = (n.raised_on, n.grade.unwrap_or(Grade::Minor)) else {
            continue;
        };
        if on < since || on > as_of || grade == Grade::Observation {
            continue;
        }
        raised.insert(&n.id);
        out.push(Past {
            on,
            grade,
            process: n.process.as_deref(),
            clauses: n.clauses.iter().map(String::as_str).collect(),
        });
    }
    for a in sms.audits.iter().filter(|a| !a.cancelled) {
        let Some(on) = a.held_on.filter(|d| *d >= since && *d <= as_of) else {
            continue;
        };
        for f in &a.findings {
            // A finding already raised as a nonconformity is counted once, as that.
            if f.grade == Grade::Observation
                || f.nonconformity
                    .as_deref()
                    .is_some_and(|id| raised.contains(id))
            {
                continue;
            }
            out.push(Past {
                on,
                grade: f.grade,
                process: f.process.as_deref(),
                clauses: f.clause.as_deref().into_iter().collect(),
            });
        }
    }
    out
}

/// A row's frequency, why, and from when past results made it yearly (`None`: from the start,
/// for a high-risk process).
fn frequency(past: &[&Past<'_>], high_risk: bool) -> (Frequency, Vec<String>, Option<Date>) {
    let mut reasons = Vec::new();
    let mut days: Vec<Date> = past.iter().map(|p| p.on).collect();
    days.sort();
    let majors: Vec<Date> = {
        let mut v: Vec<Date> = past
            .iter()
            .filter(|p| p.grade == Grade::Major)
            .map(|p| p.on)
            .collect();
        v.sort();
        v
    };
    let mut since = None;
    if !majors.is_empty() {
        reasons.push(match majors.len() {
            1 => "a major nonconformity in the last cycle".to_owned(),
            n => format!("{n} major nonconformities in the last cycle"),
        });
        since = Some(majors[0]);
    }
    if days.len() >= 2 {
        if majors.is_empty() {
            reasons.push(format!("{} nonconformities in the last cycle", past.len()));
        }
        since = Some(since.map_or(days[1], |d: Date| d.min(days[1])));
    }
    if high_risk {
        reasons.push("rated high risk".to_owned());
        since = None;
    } else if reasons.is_empty() {
        return (Frequency::OncePerCycle, reasons, None);
    }
    (Frequency::Yearly, reasons, since)
}

fn cells(
    cycle: &Cycle,
    audits: &[&InternalAudit],
    (frequency, since): (Frequency, Option<Date>),
    as_of: Date,
) -> Vec<Cell> {
    let mut cells: Vec<Cell> = cycle
        .years
        .iter()
        .map(|_| Cell {
            state: State::NotDue,
            audits: Vec::new(),
        })
        .collect();
    for a in audits {
        let Some(year) = a.date().and_then(|d| cycle.year_of(d)) else {
            continue;
        };
        let state = match (a.held_on, a.planned_on) {
            (Some(h), _) if h <= as_of && has_evidence(a) => State::Audited,
            (Some(h), _) if h <= as_of => State::HeldWithoutEvidence,
            (_, Some(p)) if p < as_of => State::Missed,
            _ => State::Planned,
        };
        let cell = &mut cells[year];
        cell.audits.push(a.id.clone());
        if cell.audits.len() == 1 || state < cell.state {
            cell.state = state;
        }
    }
    let covers = |c: &Cell| !c.audits.is_empty() && c.state != State::Missed;
    let covered = cells.iter().any(covers);
    for (c, (start, _)) in cells.iter_mut().zip(&cycle.years) {
        if covers(c) {
            continue;
        }
        let needed = match frequency {
            Frequency::Yearly => !covered || since.is_none_or(|t| *start > t),
            Frequency::OncePerCycle => !covered,
        };
        // A missed audit leaves the need open, but its cell keeps saying what was missed.
        if needed && c.audits.is_empty() {
            c.state = State::Gap;
        }
    }
    cells
}

/// The coverage matrix of the cycle holding `as_of`, in the records' own edition.
pub fn matrix(sms: &Sms, as_of: Date) -> Matrix {
    let edition = sms.edition();
    let cycle = cycle(sms, as_of);
    let since = sms.interval(Activity::AuditCycle).before(as_of);
    let past = past_nonconformities(sms, since, as_of);
    let audits: Vec<&InternalAudit> = sms
        .audits
        .iter()
        .filter(|a| !a.cancelled && !a.kind.is_external())
        .filter(|a| a.date().is_some_and(|d| cycle.contains(d)))
        .collect();

    let processes = sms
        .processes
        .iter()
        .map(|p| {
            let within = |c: &str| p.clauses.iter().any(|pc| clause::is_within(c, pc));
            let mine: Vec<&Past<'_>> = past
                .iter()
                .filter(|n| match n.process {
                    Some(id) => id == p.id,
                    None => n.clauses.iter().any(|c| within(c)),
                })
                .collect();
            let (frequency, reasons, since) = frequency(&mine, p.risk == Some(RiskLevel::High));
            let theirs: Vec<_> = audits
                .iter()
                .copied()
                .filter(|a| a.processes.contains(&p.id))
                .collect();
            Row {
                key: p.id.clone(),
                title: if p.name.is_empty() {
                    p.id.clone()
                } else {
                    p.name.clone()
                },
                frequency,
                reasons,
                yearly_from: since,
                cells: cells(&cycle, &theirs, (frequency, since), as_of),
            }
        })
        .collect();

    let groups: Vec<&Clause> = clause::catalogue(edition)
        .iter()
        .filter(|c| c.is_requirement() && c.depth() == 2)
        .collect();
    let clauses = groups
        .iter()
        .map(|g| {
            let touches = |c: &str| clause::is_within(c, g.id) || clause::is_within(g.id, c);
            let mine: Vec<&Past<'_>> = past
                .iter()
                .filter(|n| n.clauses.iter().any(|c| clause::is_within(c, g.id)))
                .collect();
            let (frequency, reasons, since) = frequency(&mine, false);
            let theirs: Vec<_> = audits
                .iter()
                .copied()
                .filter(|a| {
                    a.clauses.iter().any(|c| touches(c))
                        || a.processes.iter().any(|id| {
                            sms.processes
                                .iter()
                                .find(|p| &p.id == id)
                                .is_some_and(|p| p.clauses.iter().any(|c| touches(c)))
                        })
                })
                .collect();
            Row {
                key: g.id.to_owned(),
                title: g.title.to_owned(),
                frequency,
                reasons,
                yearly_from: since,
                cells: cells(&cycle, &theirs, (frequency, since), as_of),
            }
        })
        .collect();

    Matrix {
        cycle,
        edition,
        processes,
        clauses,
    }
}

/// Why an auditor (or a member of the team) is not independent of what an audit covers: each
/// sentence names the person and the process they own, or are responsible or accountable for.
pub fn conflicts(sms: &Sms, audit: &InternalAudit) -> Vec<String> {
    let people = audit.auditor.iter().chain(&audit.team);
    let mut out = Vec::new();
    for who in people {
        for p in &audit.processes {
            let owns = sms
                .processes
                .iter()
                .any(|proc| &proc.id == p && proc.owner.as_deref() == Some(who.as_str()));
            let runs = sms.raci.iter().any(|e| {
                &e.process == p
                    && &e.person == who
                    && matches!(e.raci, Raci::Responsible | Raci::Accountable)
            });
            if owns {
                out.push(format!("{who} owns the {p} process this audit covers"));
            } else if runs {
                out.push(format!(
                    "{who} is responsible or accountable for the {p} process this audit covers"
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AuditFinding, Nonconformity, Process};
    use jiff::civil::date;

    fn sms() -> Sms {
        Sms {
            audit_cycle_start: Some(date(2024, 9, 1)),
            processes: vec![
                Process {
                    id: "change".into(),
                    name: "Change management".into(),
                    owner: Some("cm".into()),
                    clauses: vec!["8.5.1".into()],
                    ..Default::default()
                },
                Process {
                    id: "incident".into(),
                    name: "Incident management".into(),
                    clauses: vec!["8.6.1".into()],
                    ..Default::default()
                },
            ],
            audits: vec![InternalAudit {
                id: "IA-1".into(),
                held_on: Some(date(2024, 10, 1)),
                report: Some("RPT".into()),
                processes: vec!["change".into()],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn the_cycle_is_split_into_years() {
        let c = cycle(&sms(), date(2026, 6, 30));
        assert_eq!((c.start, c.end), (date(2024, 9, 1), date(2027, 9, 1)));
        assert_eq!(c.years.len(), 3);
        assert_eq!(c.years[2], (date(2026, 9, 1), date(2027, 9, 1)));
        assert_eq!(c.year_of(date(2025, 9, 1)), Some(1));
    }

    #[test]
    fn a_start_carried_ahead_still_finds_the_cycle_holding_the_day() {
        let mut s = sms();
        s.audit_cycle_start = Some(date(2027, 9, 1));
        let c = cycle(&s, date(2026, 6, 30));
        assert_eq!((c.start, c.end), (date(2024, 9, 1), date(2027, 9, 1)));
    }

    #[test]
    fn cells_say_audited_planned_missed_or_gap() {
        let mut s = sms();
        s.audits.push(InternalAudit {
            id: "IA-2".into(),
            planned_on: Some(date(2026, 3, 1)),
            processes: vec!["incident".into()],
            ..Default::default()
        });
        s.audits.push(InternalAudit {
            id: "IA-3".into(),
            planned_on: Some(date(2027, 3, 1)),
            processes: vec!["incident".into()],
            ..Default::default()
        });
        let m = matrix(&s, date(2026, 6, 30));
        let change = &m.processes[0];
        let states: Vec<_> = change.cells.iter().map(|c| c.state).collect();
        assert_eq!(states, [State::Audited, State::NotDue, State::NotDue]);
        let incident = &m.processes[1];
        let states: Vec<_> = incident.cells.iter().map(|c| c.state).collect();
        assert_eq!(states, [State::NotDue, State::Missed, State::Planned]);
        assert_eq!(incident.cells[1].audits, ["IA-2"]);
    }

    #[test]
    fn a_process_with_a_major_or_high_risk_is_audited_every_year() {
        let mut s = sms();
        s.nonconformities.push(Nonconformity {
            id: "NC-1".into(),
            raised_on: Some(date(2025, 1, 1)),
            grade: Some(Grade::Major),
            clauses: vec!["8.5.1.3".into()],
            ..Default::default()
        });
        s.processes[1].risk = Some(RiskLevel::High);
        let m = matrix(&s, date(2026, 6, 30));
        assert_eq!(m.processes[0].frequency, Frequency::Yearly);
        assert_eq!(
            m.processes[0].reasons,
            ["a major nonconformity in the last cycle"]
        );
        let states: Vec<_> = m.processes[0].cells.iter().map(|c| c.state).collect();
        assert_eq!(states, [State::Audited, State::Gap, State::Gap]);
        assert_eq!(m.processes[1].reasons, ["rated high risk"]);
        assert!(m.processes[1].cells.iter().all(|c| c.state == State::Gap));
    }

    #[test]
    fn past_results_bind_only_the_years_that_begin_after_them() {
        let mut s = sms();
        s.nonconformities.push(Nonconformity {
            id: "NC-1".into(),
            raised_on: Some(date(2026, 1, 1)),
            grade: Some(Grade::Major),
            process: Some("change".into()),
            ..Default::default()
        });
        let m = matrix(&s, date(2026, 6, 30));
        assert_eq!(m.processes[0].yearly_from, Some(date(2026, 1, 1)));
        let states: Vec<_> = m.processes[0].cells.iter().map(|c| c.state).collect();
        assert_eq!(states, [State::Audited, State::NotDue, State::Gap]);
    }

    #[test]
    fn two_minors_make_it_yearly_and_one_does_not() {
        let mut s = sms();
        s.audits[0].findings.push(AuditFinding {
            id: "F1".into(),
            grade: Grade::Minor,
            clause: Some("8.6.1".into()),
            statement: "x".into(),
            due: None,
            closed_on: None,
            verified_on: None,
            nonconformity: None,
            process: None,
            evidence: Vec::new(),
            sample: None,
        });
        let m = matrix(&s, date(2025, 6, 30));
        assert_eq!(m.processes[1].frequency, Frequency::OncePerCycle);
        let mut f2 = s.audits[0].findings[0].clone();
        f2.id = "F2".into();
        s.audits[0].findings.push(f2);
        let m = matrix(&s, date(2025, 6, 30));
        assert_eq!(m.processes[1].frequency, Frequency::Yearly);
    }

    #[test]
    fn clause_rows_count_processes_clauses_and_held_audits_need_evidence() {
        let mut s = sms();
        s.audits[0].report = None;
        let m = matrix(&s, date(2026, 6, 30));
        let row = m.clauses.iter().find(|r| r.key == "8.5").unwrap();
        assert_eq!(row.cells[0].state, State::HeldWithoutEvidence);
        let row = m.clauses.iter().find(|r| r.key == "4.1").unwrap();
        assert!(row.cells.iter().all(|c| c.state == State::Gap));
    }

    #[test]
    fn planning_an_auditor_into_their_own_process_is_a_conflict() {
        let s = sms();
        let mut a = s.audits[0].clone();
        a.auditor = Some("cm".into());
        assert_eq!(
            conflicts(&s, &a),
            ["cm owns the change process this audit covers"]
        );
        a.auditor = Some("ia".into());
        assert!(conflicts(&s, &a).is_empty());
        a.team = vec!["cm".into()];
        assert_eq!(conflicts(&s, &a).len(), 1);
    }
}
