//! The figures a service report and a management review need, computed from the ticket tables:
//! SLA attainment, resolution times by priority, reopen rate, backlog, change success and the
//! share of emergency changes, in total, per service and per month.

use std::collections::BTreeMap;

use crate::model::{ChangeType, Incident, Tickets};
use crate::{Date, DateTime};

/// Which tickets count.
#[derive(Clone, Copy, Debug, Default)]
pub struct Period {
    /// Tickets opened (changes: implemented) on or after this day.
    pub from: Option<Date>,
    /// Tickets opened (changes: implemented) on or before this day.
    pub to: Option<Date>,
}

impl Period {
    fn holds(&self, t: Option<DateTime>) -> bool {
        match t {
            None => self.from.is_none() && self.to.is_none(),
            Some(t) => {
                self.from.is_none_or(|f| t.date() >= f) && self.to.is_none_or(|to| t.date() <= to)
            }
        }
    }
}

/// Resolution times of one priority, in hours.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolution {
    /// The priority (`None` for incidents without one).
    pub priority: Option<u8>,
    /// Resolved incidents of that priority.
    pub count: usize,
    /// Median hours from opening to resolution.
    pub median_hours: f64,
    /// 90th percentile of the same.
    pub p90_hours: f64,
}

/// Incident figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IncidentFigures {
    /// Incidents opened in the period.
    pub count: usize,
    /// Of those, closed by the end of the period.
    pub closed: usize,
    /// Share of closed incidents whose SLA was met, over those whose outcome is known.
    pub sla_met_ratio: Option<f64>,
    /// Closed incidents whose SLA outcome is known.
    pub sla_known: usize,
    /// Share of incidents reopened at least once.
    pub reopen_rate: Option<f64>,
    /// Incidents opened in the period and not closed by its end (or by now).
    pub backlog: usize,
    /// Priority 1 or major incidents.
    pub major: usize,
    /// Resolution times by priority, highest priority first.
    pub resolution: Vec<Resolution>,
}

/// Change figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChangeFigures {
    /// Changes implemented in the period.
    pub count: usize,
    /// Share of those with a known outcome that succeeded.
    pub success_rate: Option<f64>,
    /// Share of them that were emergency changes.
    pub emergency_ratio: Option<f64>,
}

/// Figures for one service or one month.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Slice {
    /// The service id, or the month as `YYYY-MM`.
    pub key: String,
    /// Incident figures.
    pub incidents: IncidentFigures,
    /// Change figures.
    pub changes: ChangeFigures,
}

/// All the figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    /// The period the figures cover.
    pub from: Option<Date>,
    /// The period the figures cover.
    pub to: Option<Date>,
    /// Incidents.
    pub incidents: IncidentFigures,
    /// Service requests opened in the period, and the share that met their SLA.
    pub requests: (usize, Option<f64>),
    /// Problems opened in the period, and how many were open at its end (or are open now).
    pub problems: (usize, usize),
    /// Changes.
    pub changes: ChangeFigures,
    /// By service (tickets without a service under `(none)`).
    pub by_service: Vec<Slice>,
    /// By month of opening (changes: of implementation).
    pub by_month: Vec<Slice>,
}

fn ratio(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The value at `q` (0–1) of sorted values, by nearest rank.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn hours(from: DateTime, to: DateTime) -> Option<f64> {
    // An exact duration: a span in calendar units cannot be totalled without a reference date.
    let secs = to.duration_since(from).as_secs_f64();
    (secs >= 0.0).then_some(secs / 3600.0)
}

fn incident_figures(
    incidents: &[&Incident],
    end: Option<Date>,
    major_priority: u8,
) -> IncidentFigures {
    // Closed means closed by the end of the period, so that closed and backlog add up.
    let closed: Vec<_> = incidents
        .iter()
        .filter(|i| {
            i.closed_at
                .is_some_and(|c| end.is_none_or(|e| c.date() <= e))
        })
        .collect();
    let known: Vec<_> = closed.iter().filter_map(|i| i.sla_met).collect();
    let met = known.iter().filter(|m| **m).count();
    let backlog = incidents
        .iter()
        .filter(|i| match (i.closed_at, end) {
            (None, _) => true,
            (Some(c), Some(end)) => c.date() > end,
            (Some(_), None) => false,
        })
        .count();
    let mut by_priority: BTreeMap<Option<u8>, Vec<f64>> = BTreeMap::new();
    for i in incidents {
        if let (Some(o), Some(r)) = (i.opened_at, i.resolved_at.or(i.closed_at))
            && let Some(h) = hours(o, r)
        {
            by_priority.entry(i.priority).or_default().push(h);
        }
    }
    let mut resolution: Vec<Resolution> = by_priority
        .into_iter()
        .map(|(priority, mut hs)| {
            hs.sort_by(f64::total_cmp);
            Resolution {
                priority,
                count: hs.len(),
                median_hours: quantile(&hs, 0.5),
                p90_hours: quantile(&hs, 0.9),
            }
        })
        .collect();
    // Incidents without a priority last.
    resolution.sort_by_key(|r| r.priority.unwrap_or(u8::MAX));
    IncidentFigures {
        count: incidents.len(),
        closed: closed.len(),
        sla_met_ratio: ratio(met, known.len()),
        sla_known: known.len(),
        reopen_rate: ratio(
            incidents.iter().filter(|i| i.reopen_count > 0).count(),
            incidents.len(),
        ),
        backlog,
        major: incidents
            .iter()
            .filter(|i| i.major || i.priority.is_some_and(|p| p <= major_priority))
            .count(),
        resolution,
    }
}

fn change_figures(changes: &[&crate::model::Change]) -> ChangeFigures {
    let known: Vec<_> = changes.iter().filter_map(|c| c.successful).collect();
    ChangeFigures {
        count: changes.len(),
        success_rate: ratio(known.iter().filter(|s| **s).count(), known.len()),
        emergency_ratio: ratio(
            changes
                .iter()
                .filter(|c| c.kind == ChangeType::Emergency)
                .count(),
            changes.len(),
        ),
    }
}

/// Computes the figures for tickets opened within `period`. Incidents of priority
/// `major_priority` or higher count as major.
pub fn compute(tickets: &Tickets, period: Period, major_priority: u8) -> Metrics {
    let incidents: Vec<&Incident> = tickets
        .incidents
        .iter()
        .filter(|i| period.holds(i.opened_at))
        .collect();
    let changes: Vec<_> = tickets
        .changes
        .iter()
        .filter(|c| period.holds(c.implemented_at.or(c.requested_at)))
        .collect();
    let requests: Vec<_> = tickets
        .requests
        .iter()
        .filter(|r| period.holds(r.opened_at))
        .collect();
    let req_known: Vec<_> = requests
        .iter()
        .filter(|r| {
            r.closed_at
                .is_some_and(|c| period.to.is_none_or(|e| c.date() <= e))
        })
        .filter_map(|r| r.sla_met)
        .collect();
    let problems: Vec<_> = tickets
        .problems
        .iter()
        .filter(|p| period.holds(p.opened_at))
        .collect();

    let mut services: BTreeMap<&str, (Vec<&Incident>, Vec<&crate::model::Change>)> =
        BTreeMap::new();
    let mut months: BTreeMap<String, (Vec<&Incident>, Vec<&crate::model::Change>)> =
        BTreeMap::new();
    for i in &incidents {
        services
            .entry(i.service.as_deref().unwrap_or("(none)"))
            .or_default()
            .0
            .push(i);
        if let Some(o) = i.opened_at {
            months
                .entry(o.strftime("%Y-%m").to_string())
                .or_default()
                .0
                .push(i);
        }
    }
    for c in &changes {
        services
            .entry(c.service.as_deref().unwrap_or("(none)"))
            .or_default()
            .1
            .push(c);
        if let Some(t) = c.implemented_at.or(c.requested_at) {
            months
                .entry(t.strftime("%Y-%m").to_string())
                .or_default()
                .1
                .push(c);
        }
    }
    let slice = |key: String,
                 (i, c): (Vec<&Incident>, Vec<&crate::model::Change>),
                 end: Option<Date>| Slice {
        key,
        incidents: incident_figures(&i, end, major_priority),
        changes: change_figures(&c),
    };
    Metrics {
        from: period.from,
        to: period.to,
        incidents: incident_figures(&incidents, period.to, major_priority),
        requests: (
            requests.len(),
            ratio(req_known.iter().filter(|m| **m).count(), req_known.len()),
        ),
        problems: (
            problems.len(),
            problems
                .iter()
                .filter(|p| {
                    p.closed_at
                        .is_none_or(|c| period.to.is_some_and(|e| c.date() > e))
                })
                .count(),
        ),
        changes: change_figures(&changes),
        by_service: services
            .into_iter()
            .map(|(k, v)| slice(k.to_owned(), v, period.to))
            .collect(),
        by_month: months
            .into_iter()
            .map(|(k, v)| {
                // A month's backlog is what was still open at its end.
                let end = jiff::civil::Date::strptime("%Y-%m-%d", format!("{k}-01"))
                    .ok()
                    .map(|d| d.last_of_month());
                slice(k, v, end)
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Change;
    use jiff::civil::date;

    fn incident(
        id: &str,
        day: i8,
        hours_to_resolve: i64,
        priority: u8,
        met: Option<bool>,
    ) -> Incident {
        let opened = date(2026, 5, day).at(8, 0, 0, 0);
        let resolved = opened
            .checked_add(jiff::Span::new().hours(hours_to_resolve))
            .unwrap();
        Incident {
            id: id.into(),
            opened_at: Some(opened),
            resolved_at: Some(resolved),
            closed_at: Some(resolved),
            priority: Some(priority),
            service: Some("S-MAIL".into()),
            sla_met: met,
            ..Default::default()
        }
    }

    #[test]
    fn sla_attainment_counts_closed_incidents_with_a_known_outcome() {
        let mut t = Tickets {
            incidents: vec![
                incident("A", 1, 2, 1, Some(true)),
                incident("B", 2, 4, 1, Some(false)),
                incident("C", 3, 10, 3, Some(true)),
                incident("D", 4, 30, 3, None),
            ],
            ..Default::default()
        };
        t.incidents[3].closed_at = None;
        t.incidents[3].resolved_at = None;
        let m = compute(&t, Period::default(), 1);
        assert_eq!(
            (m.incidents.count, m.incidents.closed, m.incidents.sla_known),
            (4, 3, 3)
        );
        assert_eq!(m.incidents.sla_met_ratio, Some(2.0 / 3.0));
        assert_eq!(m.incidents.backlog, 1);
        assert_eq!(m.incidents.major, 2);
        assert_eq!(
            m.incidents.resolution[0],
            Resolution {
                priority: Some(1),
                count: 2,
                median_hours: 2.0,
                p90_hours: 4.0
            }
        );
        assert_eq!(m.by_month[0].key, "2026-05");
        assert_eq!(m.by_service[0].key, "S-MAIL");
    }

    #[test]
    fn resolution_times_count_incidents_of_any_length() {
        let t = Tickets {
            incidents: vec![
                incident("A", 1, 30, 3, Some(true)),
                incident("B", 2, 2, 3, Some(true)),
            ],
            ..Default::default()
        };
        let m = compute(&t, Period::default(), 1);
        assert_eq!(
            m.incidents.resolution[0].count, 2,
            "an incident taking more than a day counts"
        );
        assert_eq!(m.incidents.resolution[0].p90_hours, 30.0);
    }

    #[test]
    fn the_period_filters_by_opening_and_sets_the_backlog_date() {
        let t = Tickets {
            incidents: vec![
                incident("A", 1, 2, 3, Some(true)),
                incident("B", 20, 24 * 20, 3, Some(false)),
            ],
            ..Default::default()
        };
        let m = compute(
            &t,
            Period {
                from: Some(date(2026, 5, 10)),
                to: Some(date(2026, 5, 31)),
            },
            1,
        );
        assert_eq!(m.incidents.count, 1);
        assert_eq!(m.incidents.backlog, 1, "B closed only in June");
    }

    #[test]
    fn change_success_and_emergency_share() {
        let change = |id: &str, kind, ok| Change {
            id: id.into(),
            kind,
            implemented_at: Some(date(2026, 5, 1).at(22, 0, 0, 0)),
            successful: ok,
            ..Default::default()
        };
        let t = Tickets {
            changes: vec![
                change("1", ChangeType::Normal, Some(true)),
                change("2", ChangeType::Emergency, Some(false)),
                change("3", ChangeType::Normal, None),
            ],
            ..Default::default()
        };
        let m = compute(&t, Period::default(), 1);
        assert_eq!(m.changes.success_rate, Some(0.5));
        assert_eq!(m.changes.emergency_ratio, Some(1.0 / 3.0));
    }
}
