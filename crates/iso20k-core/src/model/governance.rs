use crate::interval::Interval;
use crate::{Date, Edition};

/// The service management policy.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// The controlled document (id) that holds the policy.
    pub document: Option<String>,
    /// Title as issued.
    pub title: String,
    /// Who approved it (person id).
    pub approved_by: Option<String>,
    /// When it was approved.
    pub approved_on: Option<Date>,
    /// When it was last reviewed for continuing suitability.
    pub last_reviewed_on: Option<Date>,
    /// The policy's own review interval, if it sets one.
    pub review_interval: Option<Interval>,
    /// The commitments the policy makes.
    pub commitments: Vec<Commitment>,
    /// When it was last communicated to staff and interested parties.
    pub communicated_on: Option<Date>,
}

/// A commitment a service management policy makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Commitment {
    /// To meet service requirements.
    ServiceRequirements,
    /// To improve the SMS and the services continually.
    ContinualImprovement,
    /// To provide a framework for setting objectives.
    ObjectivesFramework,
}

impl Commitment {
    /// Every commitment, in the order the format documents them.
    pub const ALL: [Commitment; 3] = [
        Commitment::ServiceRequirements,
        Commitment::ContinualImprovement,
        Commitment::ObjectivesFramework,
    ];

    /// The key used in files.
    pub fn key(self) -> &'static str {
        match self {
            Commitment::ServiceRequirements => "service-requirements",
            Commitment::ContinualImprovement => "continual-improvement",
            Commitment::ObjectivesFramework => "objectives-framework",
        }
    }

    /// What the policy commits to, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Commitment::ServiceRequirements => "meeting service requirements",
            Commitment::ContinualImprovement => "continual improvement",
            Commitment::ObjectivesFramework => "a framework for setting objectives",
        }
    }
}

/// A target that is either a number or words.
///
/// Words ("best effort", "as fast as possible") are kept so a check can show them as evidence of
/// a target nobody can measure.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A numeric target.
    Number(f64),
    /// A target written in words.
    Text(String),
}

impl Target {
    /// The number, if the target is one.
    pub fn number(&self) -> Option<f64> {
        match self {
            Target::Number(n) => Some(*n),
            Target::Text(_) => None,
        }
    }
}

/// A service management objective.
#[derive(Clone, Debug, Default)]
pub struct Objective {
    /// Id, e.g. `OBJ-01`.
    pub id: String,
    /// What the objective is.
    pub title: String,
    /// What is measured, and how.
    pub measure: Option<String>,
    /// The target value.
    pub target: Option<Target>,
    /// Unit of the target, e.g. `%`.
    pub unit: Option<String>,
    /// Who owns it (person id).
    pub owner: Option<String>,
    /// When it is to be met.
    pub due: Option<Date>,
    /// Measurements taken.
    pub measurements: Vec<Measurement>,
}

/// A measurement of an objective.
#[derive(Clone, Debug)]
pub struct Measurement {
    /// When it was taken.
    pub on: Date,
    /// The value measured.
    pub value: f64,
}

/// A management review meeting and its record.
#[derive(Clone, Debug, Default)]
pub struct ManagementReview {
    /// Id, e.g. `MR-2026-1`.
    pub id: String,
    /// When it is planned for, if it is still to come or was planned ahead.
    pub planned_on: Option<Date>,
    /// When it was held; `None` while it is only planned.
    pub held_on: Option<Date>,
    /// Who attended (person ids).
    pub attendees: Vec<String>,
    /// The inputs the review covered.
    pub inputs: Vec<ReviewInput>,
    /// Decisions taken.
    pub decisions: Vec<String>,
    /// Actions raised.
    pub actions: Vec<ReviewAction>,
    /// Ids of earlier reviews' actions whose status this review examined.
    pub followed_up: Vec<String>,
    /// The minutes (document id).
    pub minutes: Option<String>,
}

/// An action raised by a management review.
#[derive(Clone, Debug, Default)]
pub struct ReviewAction {
    /// Id, unique across reviews, so later reviews can follow it up.
    pub id: String,
    /// What is to be done.
    pub description: String,
    /// Who does it (person id).
    pub owner: Option<String>,
    /// When it is due.
    pub due: Option<Date>,
    /// Where it stands.
    pub status: ActionStatus,
    /// When it was completed or cancelled.
    pub closed_on: Option<Date>,
}

/// Where an action stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ActionStatus {
    /// Not finished.
    #[default]
    Open,
    /// Finished.
    Done,
    /// Dropped, with the decision recorded.
    Cancelled,
}

macro_rules! review_inputs {
    ($($variant:ident = $key:literal, $in2011:literal, $in2018:literal, $doc:literal;)*) => {
        /// An input a management review considers.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ReviewInput {
            $(#[doc = $doc] $variant,)*
        }

        impl ReviewInput {
            /// Every input, in the order the format documents them.
            pub const ALL: &'static [ReviewInput] = &[$(ReviewInput::$variant),*];

            /// The key used in files.
            pub fn key(self) -> &'static str {
                match self { $(ReviewInput::$variant => $key,)* }
            }

            /// What the input is, in a few words.
            pub fn describe(self) -> &'static str {
                match self { $(ReviewInput::$variant => $doc,)* }
            }

            /// Whether the edition expects a review to consider this input.
            pub fn required_by(self, edition: Edition) -> bool {
                match (self, edition) {
                    $((ReviewInput::$variant, Edition::Y2011) => $in2011,
                      (ReviewInput::$variant, Edition::Y2018) => $in2018,)*
                }
            }
        }
    };
}

review_inputs! {
    PreviousActions = "previous-actions", true, true, "status of actions from previous reviews";
    ContextChanges = "context-changes", true, true, "changes that could affect the SMS or the services";
    CustomerFeedback = "customer-feedback", true, true, "customer satisfaction and complaints";
    ServicePerformance = "service-performance", true, true, "service and process performance against targets";
    Objectives = "objectives", false, true, "how far the objectives were met";
    Nonconformities = "nonconformities", true, true, "nonconformities and corrective actions";
    PreventiveActions = "preventive-actions", true, false, "status of preventive actions";
    MonitoringResults = "monitoring-results", false, true, "monitoring and measurement results";
    AuditResults = "audit-results", true, true, "results of audits and their follow-up";
    SupplierPerformance = "supplier-performance", false, true, "performance of external and internal suppliers";
    Risks = "risks", true, true, "risks and opportunities, and the actions taken on them";
    Resources = "resources", true, true, "current and forecast resources";
    ImprovementOpportunities = "improvement-opportunities", true, true, "opportunities for improvement";
}
