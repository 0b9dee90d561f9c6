//! What each tool's export looks like: which of its columns carry which ticket field, how it
//! writes priorities, which states mean closed, and how a row says what kind of ticket it is.

use std::fmt;
use std::str::FromStr;

use crate::values::PriorityScale;

/// The tool an export comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// ServiceNow: list exports (CSV, XLSX) and Table API JSON, raw or display values.
    ServiceNow,
    /// Jira Service Management CSV export.
    Jira,
    /// GLPI ticket export.
    Glpi,
    /// iTop export of user requests, incidents, problems and changes.
    Itop,
    /// Any other CSV or XLSX, read through a mapping file (or already in iso20k's own columns).
    Csv,
}

impl Source {
    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::ServiceNow => "servicenow",
            Source::Jira => "jira",
            Source::Glpi => "glpi",
            Source::Itop => "itop",
            Source::Csv => "csv",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            Source::ServiceNow,
            Source::Jira,
            Source::Glpi,
            Source::Itop,
            Source::Csv,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
        .ok_or_else(|| {
            format!("unknown source `{s}` (expected servicenow, jira, glpi, itop or csv)")
        })
    }
}

/// A kind of ticket record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Incidents.
    Incidents,
    /// Service requests.
    Requests,
    /// Problems.
    Problems,
    /// Changes.
    Changes,
    /// Releases.
    Releases,
    /// Configuration items.
    Cis,
    /// SLA records of tickets (ServiceNow task_sla): they set whether an incident met its SLA.
    Slas,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 7] = [
        Kind::Incidents,
        Kind::Requests,
        Kind::Problems,
        Kind::Changes,
        Kind::Releases,
        Kind::Cis,
        Kind::Slas,
    ];

    /// The name used on the command line and in summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Incidents => "incidents",
            Kind::Requests => "requests",
            Kind::Problems => "problems",
            Kind::Changes => "changes",
            Kind::Releases => "releases",
            Kind::Cis => "cis",
            Kind::Slas => "slas",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown kind `{s}` (expected incidents, requests, problems, changes, releases, cis or slas)"))
    }
}

/// The ticket fields an export can carry, named as in the bundle's ticket tables (see
/// [`Field::as_str`]); each variant is that column.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Id,
    OpenedAt,
    ResolvedAt,
    ClosedAt,
    State,
    Priority,
    Major,
    Category,
    Service,
    Ci,
    Problem,
    Resolution,
    SlaMet,
    ReopenCount,
    BreachReview,
    RootCause,
    KnownError,
    Change,
    Type,
    RequestedAt,
    ApprovedAt,
    Approval,
    Approver,
    ImplementedAt,
    Risk,
    BackoutPlan,
    TestPlan,
    ReviewedOn,
    Successful,
    DeployedAt,
    Tested,
    Name,
    Owner,
    LastVerifiedOn,
    Task,
    Breached,
    /// GLPI's resolution deadline, compared with the solve date to tell whether the SLA was met.
    DueAt,
    /// The column that says which kind of ticket a row is, in exports that mix kinds.
    RowKind,
}

impl Field {
    /// Every field, in the order mapping files document them.
    pub const ALL: &'static [Field] = &[
        Field::Id,
        Field::OpenedAt,
        Field::ResolvedAt,
        Field::ClosedAt,
        Field::State,
        Field::Priority,
        Field::Major,
        Field::Category,
        Field::Service,
        Field::Ci,
        Field::Problem,
        Field::Resolution,
        Field::SlaMet,
        Field::ReopenCount,
        Field::BreachReview,
        Field::RootCause,
        Field::KnownError,
        Field::Change,
        Field::Type,
        Field::RequestedAt,
        Field::ApprovedAt,
        Field::Approval,
        Field::Approver,
        Field::ImplementedAt,
        Field::Risk,
        Field::BackoutPlan,
        Field::TestPlan,
        Field::ReviewedOn,
        Field::Successful,
        Field::DeployedAt,
        Field::Tested,
        Field::Name,
        Field::Owner,
        Field::LastVerifiedOn,
        Field::Task,
        Field::Breached,
        Field::DueAt,
    ];

    /// The name used in mapping files and in iso20k's own ticket tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::OpenedAt => "opened_at",
            Field::ResolvedAt => "resolved_at",
            Field::ClosedAt => "closed_at",
            Field::State => "state",
            Field::Priority => "priority",
            Field::Major => "major",
            Field::Category => "category",
            Field::Service => "service",
            Field::Ci => "ci",
            Field::Problem => "problem",
            Field::Resolution => "resolution",
            Field::SlaMet => "sla_met",
            Field::ReopenCount => "reopen_count",
            Field::BreachReview => "breach_review",
            Field::RootCause => "root_cause",
            Field::KnownError => "known_error",
            Field::Change => "change",
            Field::Type => "type",
            Field::RequestedAt => "requested_at",
            Field::ApprovedAt => "approved_at",
            Field::Approval => "approval",
            Field::Approver => "approver",
            Field::ImplementedAt => "implemented_at",
            Field::Risk => "risk",
            Field::BackoutPlan => "backout_plan",
            Field::TestPlan => "test_plan",
            Field::ReviewedOn => "reviewed_on",
            Field::Successful => "successful",
            Field::DeployedAt => "deployed_at",
            Field::Tested => "tested",
            Field::Name => "name",
            Field::Owner => "owner",
            Field::LastVerifiedOn => "last_verified_on",
            Field::Task => "task",
            Field::Breached => "breached",
            Field::DueAt => "due_at",
            Field::RowKind => "row_kind",
        }
    }

    /// Whether the field holds a date or time.
    pub fn is_time(self) -> bool {
        matches!(
            self,
            Field::OpenedAt
                | Field::ResolvedAt
                | Field::ClosedAt
                | Field::RequestedAt
                | Field::ApprovedAt
                | Field::ImplementedAt
                | Field::ReviewedOn
                | Field::DeployedAt
                | Field::LastVerifiedOn
                | Field::DueAt
        )
    }
}

/// How one tool's export of one kind of ticket is read.
#[derive(Clone, Debug)]
pub struct Profile {
    /// The tool.
    pub source: Source,
    /// The fields and the columns that may carry each, best first.
    pub columns: Vec<(Field, Vec<String>)>,
    /// How the tool writes priorities.
    pub priorities: PriorityScale,
    /// State values (lower case) that mean the ticket is closed.
    pub closed_states: Vec<String>,
    /// For changes: state values (lower case) that mean the change was implemented. Until then
    /// a start date in the export is a plan, not an implementation.
    pub implemented_states: Vec<String>,
    /// A date format to use instead of sniffing one.
    pub date_format: Option<String>,
}

fn cols(list: &[(Field, &[&str])]) -> Vec<(Field, Vec<String>)> {
    list.iter()
        .map(|(f, c)| (*f, c.iter().map(|s| s.to_string()).collect()))
        .collect()
}

fn states(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

use Field::*;

/// The profile of a tool for a kind of ticket.
pub fn profile(source: Source, kind: Kind) -> Profile {
    let (columns, closed): (Vec<(Field, Vec<String>)>, Vec<String>) = match (source, kind) {
        (Source::ServiceNow, Kind::Incidents) => (
            cols(&[
                (Id, &["number"]),
                (OpenedAt, &["opened_at", "sys_created_on"]),
                (ResolvedAt, &["resolved_at"]),
                (ClosedAt, &["closed_at"]),
                (State, &["incident_state", "state"]),
                (Priority, &["priority"]),
                (Major, &["major_incident_state"]),
                (Category, &["category"]),
                (
                    Service,
                    &["business_service", "service_offering", "u_service"],
                ),
                (Ci, &["cmdb_ci"]),
                (Problem, &["problem_id"]),
                (Resolution, &["close_code", "closed_code", "close_notes"]),
                (SlaMet, &["made_sla"]),
                (ReopenCount, &["reopen_count"]),
                (
                    BreachReview,
                    &["u_breach_reason", "u_sla_breach_reason", "breach_reason"],
                ),
            ]),
            states(&["closed", "canceled", "cancelled", "7", "8"]),
        ),
        (Source::ServiceNow, Kind::Requests) => (
            cols(&[
                (Id, &["number"]),
                (OpenedAt, &["opened_at", "sys_created_on"]),
                (ClosedAt, &["closed_at"]),
                (State, &["state", "request_state"]),
                (Category, &["cat_item", "category"]),
                (Service, &["business_service", "service_offering"]),
                (SlaMet, &["made_sla"]),
            ]),
            states(&[
                "closed complete",
                "closed incomplete",
                "closed skipped",
                "closed",
                "3",
                "4",
                "7",
            ]),
        ),
        (Source::ServiceNow, Kind::Problems) => (
            cols(&[
                (Id, &["number"]),
                (OpenedAt, &["opened_at", "sys_created_on"]),
                (ClosedAt, &["closed_at", "resolved_at"]),
                (State, &["problem_state", "state"]),
                (Service, &["business_service", "cmdb_ci"]),
                (RootCause, &["cause_notes"]),
                (KnownError, &["known_error"]),
                (Change, &["rfc"]),
            ]),
            states(&[
                "closed",
                "resolved",
                "closed/resolved",
                "canceled",
                "4",
                "106",
                "107",
            ]),
        ),
        (Source::ServiceNow, Kind::Changes) => (
            cols(&[
                (Id, &["number"]),
                (State, &["state"]),
                (Type, &["type"]),
                (Service, &["business_service", "cmdb_ci"]),
                (RequestedAt, &["opened_at", "sys_created_on"]),
                (ApprovedAt, &["approval_set"]),
                (Approval, &["approval"]),
                (Approver, &["approved_by", "u_approved_by"]),
                (ImplementedAt, &["work_start", "start_date"]),
                (Risk, &["risk"]),
                (BackoutPlan, &["backout_plan"]),
                (TestPlan, &["test_plan"]),
                (ReviewedOn, &["review_date"]),
                (Successful, &["close_code"]),
            ]),
            states(&[]),
        ),
        (Source::ServiceNow, Kind::Cis) => (
            cols(&[
                (Id, &["name", "sys_id"]),
                (Name, &["name"]),
                (Type, &["sys_class_name", "category"]),
                (Owner, &["owned_by", "managed_by", "support_group"]),
                (Service, &["business_service", "u_service"]),
                (LastVerifiedOn, &["attested_date", "last_discovered"]),
            ]),
            states(&[]),
        ),
        (Source::ServiceNow, Kind::Slas) => (
            cols(&[
                (Task, &["task"]),
                (Breached, &["has_breached"]),
                (State, &["stage"]),
            ]),
            states(&[]),
        ),
        (Source::ServiceNow, Kind::Releases) => (
            cols(&[
                (Id, &["number"]),
                (Change, &["change_request", "rfc", "parent"]),
                (Service, &["business_service", "cmdb_ci"]),
                (DeployedAt, &["work_end", "end_date", "closed_at"]),
                (Tested, &["u_tested", "test_plan"]),
            ]),
            states(&[]),
        ),
        (Source::Jira, _) => (
            cols(&[
                (Id, &["Issue key"]),
                (RowKind, &["Issue Type"]),
                (OpenedAt, &["Created"]),
                (RequestedAt, &["Created"]),
                (ResolvedAt, &["Resolved"]),
                (ClosedAt, &["Resolved"]),
                (State, &["Status Category", "Status"]),
                (Priority, &["Priority"]),
                (
                    Category,
                    &[
                        "Custom field (Request Type)",
                        "Custom field (Category)",
                        "Component/s",
                    ],
                ),
                (
                    Service,
                    &[
                        "Custom field (Affected services)",
                        "Custom field (Affected Service)",
                    ],
                ),
                (Resolution, &["Resolution"]),
                (Type, &["Custom field (Change type)"]),
                (Risk, &["Custom field (Change risk)"]),
                (
                    ImplementedAt,
                    &[
                        "Custom field (Change start date)",
                        "Custom field (Change completion date)",
                    ],
                ),
                (RootCause, &["Custom field (Root cause)"]),
            ]),
            states(&[
                "done",
                "closed",
                "resolved",
                "canceled",
                "cancelled",
                "completed",
            ]),
        ),
        (Source::Glpi, _) => (
            cols(&[
                (Id, &["id", "ID"]),
                (RowKind, &["type", "Type"]),
                (OpenedAt, &["date", "Opening date"]),
                (ResolvedAt, &["solvedate", "Resolution date"]),
                (ClosedAt, &["closedate", "Closing date"]),
                (State, &["status", "Status"]),
                (Priority, &["priority", "Priority"]),
                (Category, &["itilcategories_id", "Category"]),
                (DueAt, &["time_to_resolve", "Time to resolve"]),
            ]),
            states(&["6", "closed"]),
        ),
        (Source::Itop, _) => (
            cols(&[
                (Id, &["ref", "Ref", "Reference"]),
                (RowKind, &["finalclass", "ref", "Ref"]),
                (Type, &["finalclass"]),
                (OpenedAt, &["start_date", "Start date"]),
                (RequestedAt, &["creation_date", "start_date"]),
                (ResolvedAt, &["resolution_date", "Resolution date"]),
                (ClosedAt, &["close_date", "Close date"]),
                (State, &["status", "Status"]),
                (Priority, &["priority", "Priority"]),
                (
                    Service,
                    &[
                        "service_id_friendlyname",
                        "service_name",
                        "service_id",
                        "Service",
                    ],
                ),
                (
                    Problem,
                    &[
                        "parent_problem_id_friendlyname",
                        "parent_problem_ref",
                        "parent_problem_id",
                    ],
                ),
                (Resolution, &["resolution_code", "Resolution code"]),
                (Breached, &["sla_ttr_passed", "SLA ttr passed"]),
                (ApprovedAt, &["approval_date"]),
                (ImplementedAt, &["start_date"]),
                (BackoutPlan, &["fallback"]),
            ]),
            states(&["closed", "resolved", "rejected"]),
        ),
        (Source::Csv, _) => (
            Field::ALL
                .iter()
                .map(|f| (*f, vec![f.as_str().to_owned()]))
                .collect(),
            states(&["closed", "done", "resolved"]),
        ),
    };
    let priorities = match source {
        Source::Jira => PriorityScale::Jira,
        Source::Glpi => PriorityScale::Glpi,
        _ => PriorityScale::OneIsHighest,
    };
    let implemented = match source {
        Source::ServiceNow => states(&["implement", "review", "closed", "-1", "0", "3"]),
        Source::Jira => states(&["done", "closed", "completed"]),
        Source::Itop => states(&["implemented", "monitored", "closed"]),
        _ => Vec::new(),
    };
    Profile {
        source,
        columns,
        priorities,
        closed_states: closed,
        implemented_states: implemented,
        date_format: None,
    }
}

/// Which kind of ticket a row of a mixed export is, from the value of its kind column.
pub fn row_kind(source: Source, value: &str) -> Option<Kind> {
    let v = value.trim().to_ascii_lowercase();
    match source {
        Source::Jira => match v.trim_start_matches("[system] ") {
            "incident" => Some(Kind::Incidents),
            "problem" => Some(Kind::Problems),
            "change" | "emergency change" | "standard change" | "normal change" => {
                Some(Kind::Changes)
            }
            s if s.contains("service request") || s == "request" => Some(Kind::Requests),
            _ => None,
        },
        Source::Glpi => match v.as_str() {
            "1" | "incident" => Some(Kind::Incidents),
            "2" | "request" => Some(Kind::Requests),
            _ => None,
        },
        Source::Itop => match v.as_str() {
            "incident" => Some(Kind::Incidents),
            "userrequest" | "user request" => Some(Kind::Requests),
            "problem" => Some(Kind::Problems),
            s if s.ends_with("change") => Some(Kind::Changes),
            s if s.starts_with("i-") => Some(Kind::Incidents),
            s if s.starts_with("r-") => Some(Kind::Requests),
            s if s.starts_with("p-") => Some(Kind::Problems),
            s if s.starts_with("c-") => Some(Kind::Changes),
            _ => None,
        },
        _ => None,
    }
}

/// Guesses the tool and, for single-kind exports, the kind, from the header row.
pub fn detect(headers: &[String]) -> Option<(Source, Option<Kind>)> {
    let has = |name: &str| headers.iter().any(|h| h.eq_ignore_ascii_case(name));
    if let Some(kind) = own_table(headers) {
        return Some((Source::Csv, Some(kind)));
    }
    if has("Issue key") && has("Issue Type") {
        return Some((Source::Jira, None));
    }
    if has("entities_id") || has("itilcategories_id") {
        return Some((Source::Glpi, None));
    }
    if has("ref")
        && (has("org_id")
            || has("finalclass")
            || has("team_id")
            || has("caller_id") && has("start_date"))
    {
        return Some((Source::Itop, None));
    }
    let servicenow = has("sys_id")
        || has("sys_updated_on")
        || has("sys_created_on")
        || has("opened_at")
        || has("sys_class_name");
    let sla_records = has("task") && has("has_breached");
    if servicenow || has("number") || sla_records {
        // Table API answers carry every field of the table (and of `task`, which incidents,
        // problems and changes share), so the fields only one table has decide first.
        let kind = if sla_records {
            Some(Kind::Slas)
        } else if has("backout_plan")
            || has("cab_required")
            || has("change_plan")
            || has("chg_model")
        {
            Some(Kind::Changes)
        } else if has("problem_state") || has("known_error") || has("cause_notes") {
            Some(Kind::Problems)
        } else if has("incident_state") || has("caller_id") || has("problem_id") {
            Some(Kind::Incidents)
        } else if has("cat_item") || has("request_state") || has("requested_for") {
            Some(Kind::Requests)
        } else if has("type") && has("start_date") {
            Some(Kind::Changes)
        } else if has("made_sla") && has("priority") {
            Some(Kind::Incidents)
        } else if has("sys_class_name") || has("name") && !has("number") {
            Some(Kind::Cis)
        } else {
            None
        };
        if servicenow || kind.is_some() {
            return Some((Source::ServiceNow, kind));
        }
    }
    None
}

/// The ticket table whose columns (iso20k's own) the header row uses, when it uses nothing else.
fn own_table(headers: &[String]) -> Option<Kind> {
    use iso20k_bundle::tickets::*;
    if !headers.iter().any(|h| h == "id") {
        return None;
    }
    let tables = [
        (Kind::Incidents, INCIDENT_COLUMNS),
        (Kind::Requests, REQUEST_COLUMNS),
        (Kind::Problems, PROBLEM_COLUMNS),
        (Kind::Changes, CHANGE_COLUMNS),
        (Kind::Releases, RELEASE_COLUMNS),
        (Kind::Cis, CI_COLUMNS),
    ];
    tables
        .into_iter()
        .filter(|(_, cols)| headers.iter().all(|h| cols.contains(&h.as_str())))
        // The table that explains the most columns; ties go to the smaller table.
        .max_by_key(|(_, cols)| {
            (
                headers
                    .iter()
                    .filter(|h| cols.contains(&h.as_str()))
                    .count(),
                usize::MAX - cols.len(),
            )
        })
        .map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn exports_are_recognised_by_their_headers() {
        let uci = h(&[
            "number",
            "incident_state",
            "active",
            "opened_at",
            "priority",
            "made_sla",
            "problem_id",
            "closed_at",
        ]);
        assert_eq!(
            detect(&uci),
            Some((Source::ServiceNow, Some(Kind::Incidents)))
        );
        assert_eq!(
            detect(&h(&["number", "problem_state", "known_error"])),
            Some((Source::ServiceNow, Some(Kind::Problems)))
        );
        assert_eq!(
            detect(&h(&["number", "type", "start_date", "backout_plan"])),
            Some((Source::ServiceNow, Some(Kind::Changes)))
        );
        assert_eq!(
            detect(&h(&["name", "sys_class_name", "owned_by"])),
            Some((Source::ServiceNow, Some(Kind::Cis)))
        );
        assert_eq!(
            detect(&h(&["task", "sla", "has_breached", "stage"])),
            Some((Source::ServiceNow, Some(Kind::Slas)))
        );
        assert_eq!(
            detect(&h(&[
                "Summary",
                "Issue key",
                "Issue id",
                "Issue Type",
                "Status"
            ])),
            Some((Source::Jira, None))
        );
        assert_eq!(
            detect(&h(&["id", "entities_id", "name", "date", "type"])),
            Some((Source::Glpi, None))
        );
        assert_eq!(
            detect(&h(&["ref", "org_id", "title", "status"])),
            Some((Source::Itop, None))
        );
        assert_eq!(detect(&h(&["Ticket", "Opened", "Prio"])), None);
    }

    #[test]
    fn mixed_exports_say_the_kind_per_row() {
        assert_eq!(
            row_kind(Source::Jira, "[System] Incident"),
            Some(Kind::Incidents)
        );
        assert_eq!(
            row_kind(Source::Jira, "Service Request with Approvals"),
            Some(Kind::Requests)
        );
        assert_eq!(row_kind(Source::Jira, "Task"), None);
        assert_eq!(row_kind(Source::Glpi, "2"), Some(Kind::Requests));
        assert_eq!(row_kind(Source::Itop, "I-000123"), Some(Kind::Incidents));
        assert_eq!(row_kind(Source::Itop, "NormalChange"), Some(Kind::Changes));
    }
}
