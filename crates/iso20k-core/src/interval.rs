//! Planned intervals: how often the organisation says each recurring activity happens.
//!
//! ISO/IEC 20000-1 mostly says "at planned intervals" and leaves the number to the organisation.
//! Checks therefore read the interval the organisation declared first and fall back to a
//! documented default (certification-body practice) only when none is declared.

use std::fmt;

use jiff::ToSpan;

use crate::Date;

/// A calendar length such as 12 months or 30 days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Interval {
    /// Whole days.
    Days(u32),
    /// Whole calendar months (a year is 12).
    Months(u32),
}

impl Interval {
    /// The date this interval before `date` (clamped to the start of the calendar).
    pub fn before(self, date: Date) -> Date {
        let span = match self {
            Interval::Days(d) => i64::from(d).days(),
            Interval::Months(m) => i64::from(m).months(),
        };
        date.checked_sub(span).unwrap_or(Date::MIN)
    }

    /// The date this interval after `date` (clamped to the end of the calendar).
    pub fn after(self, date: Date) -> Date {
        let span = match self {
            Interval::Days(d) => i64::from(d).days(),
            Interval::Months(m) => i64::from(m).months(),
        };
        date.checked_add(span).unwrap_or(Date::MAX)
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Interval::Days(1) => f.write_str("1 day"),
            Interval::Days(d) => write!(f, "{d} days"),
            Interval::Months(12) => f.write_str("12 months"),
            Interval::Months(m) if m % 12 == 0 => write!(f, "{} years", m / 12),
            Interval::Months(1) => f.write_str("1 month"),
            Interval::Months(m) => write!(f, "{m} months"),
        }
    }
}

macro_rules! activities {
    ($($variant:ident = $key:literal, $default:expr, $doc:literal;)*) => {
        /// A recurring activity with a planned interval.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Activity {
            $(#[doc = $doc] $variant,)*
        }

        impl Activity {
            /// Every activity, in the order the bundle format documents them.
            pub const ALL: &'static [Activity] = &[$(Activity::$variant),*];

            /// The key used in the bundle's `intervals:` section.
            pub fn key(self) -> &'static str {
                match self { $(Activity::$variant => $key,)* }
            }

            /// The default used when the organisation declares none.
            pub fn default_interval(self) -> Interval {
                match self { $(Activity::$variant => $default,)* }
            }

            /// What the activity is, in a few words.
            pub fn describe(self) -> &'static str {
                match self { $(Activity::$variant => $doc,)* }
            }

            /// Looks an activity up by its bundle key.
            pub fn from_key(key: &str) -> Option<Activity> {
                match key { $($key => Some(Activity::$variant),)* _ => None }
            }
        }
    };
}

use Interval::{Days, Months};

activities! {
    ManagementReview = "management_review", Months(12), "Management review of the SMS";
    PolicyReview = "policy_review", Months(12), "Review of the service management policy";
    ObjectiveMeasurement = "objective_measurement", Months(6), "Measurement of each service management objective";
    DocumentReview = "document_review", Months(12), "Review of a controlled document without its own review interval";
    SmsPlanReview = "sms_plan_review", Months(12), "Review of the service management plan";
    SlaReview = "sla_review", Months(12), "Review of each SLA with its customer";
    InternalAudit = "internal_audit", Months(12), "Internal audit of the SMS";
    AuditCycle = "audit_cycle", Months(36), "Cycle in which the audit programme covers every process and clause";
    NonconformityRootCause = "nonconformity_root_cause", Days(30), "Time to record the root cause of a nonconformity";
    ContractReview = "contract_review", Months(12), "Review of each supplier contract";
    ContinuityTest = "continuity_test", Months(12), "Test of each service continuity plan";
    ContinuityPlanReview = "continuity_plan_review", Months(12), "Review of each continuity or availability plan";
    CapacityPlanReview = "capacity_plan_review", Months(12), "Review of each capacity plan";
    RiskReview = "risk_review", Months(12), "Review of each risk in the register";
    CiVerification = "ci_verification", Months(12), "Verification of configuration records against reality";
    NewServiceWindow = "new_service_window", Months(12), "How long a service counts as new (or recently retired) and needs its transition plan on file";
    ContextReview = "context_review", Months(12), "Review of the context and interested-party analysis";
    SupplierPerformanceReview = "supplier_performance_review", Months(12), "Review of each supplier's performance against its contract";
    CustomerSatisfaction = "customer_satisfaction", Months(12), "Satisfaction survey of each customer";
    CustomerServiceReview = "customer_service_review", Months(12), "Service review meeting with each customer";
    ComplaintResolution = "complaint_resolution", Days(30), "Time to act on and close a service complaint";
    RecurringIncidents = "recurring_incidents", Days(30), "Window in which three incidents on one configuration item call for a problem record";
    MajorIncidentProblem = "major_incident_problem", Days(5), "Time to raise a problem record for a major incident";
    TicketWindow = "ticket_window", Months(12), "How far back measures of ticket data (such as SLA attainment) look";
    TrainingEvaluation = "training_evaluation", Months(12), "How far back training records must show their effectiveness was evaluated";
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn months_clamp_to_month_end() {
        assert_eq!(
            Interval::Months(12).before(date(2026, 6, 30)),
            date(2025, 6, 30)
        );
        assert_eq!(
            Interval::Months(1).before(date(2026, 3, 31)),
            date(2026, 2, 28)
        );
        assert_eq!(Interval::Days(30).after(date(2026, 6, 1)), date(2026, 7, 1));
    }

    #[test]
    fn keys_round_trip_and_display_reads_well() {
        for a in Activity::ALL {
            assert_eq!(Activity::from_key(a.key()), Some(*a));
        }
        assert_eq!(Interval::Months(36).to_string(), "3 years");
        assert_eq!(Interval::Days(30).to_string(), "30 days");
    }
}
