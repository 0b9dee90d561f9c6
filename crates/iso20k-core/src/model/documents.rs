use crate::interval::Interval;
use crate::{Date, Edition};

/// One version of a controlled document, as listed in the document register.
///
/// The register holds a row per version; `id` stays the same across versions of one document.
#[derive(Clone, Debug, Default)]
pub struct Document {
    /// Document number, shared by its versions, e.g. `POL-001`.
    pub id: String,
    /// Version label, e.g. `2.1`.
    pub version: Option<String>,
    /// Title.
    pub title: String,
    /// What kind of document it is.
    pub kind: DocType,
    /// Who owns it (person id).
    pub owner: Option<String>,
    /// Who approved this version (person id).
    pub approver: Option<String>,
    /// When this version was approved.
    pub approved_on: Option<Date>,
    /// Where it is in its lifecycle.
    pub status: DocStatus,
    /// The document's own review interval, if it sets one.
    pub review_interval: Option<Interval>,
    /// When it was last reviewed (its approval counts as a review).
    pub last_reviewed_on: Option<Date>,
    /// Whether it comes from outside (a contract, a vendor manual, a law).
    pub external: bool,
}

impl Document {
    /// The id and version as one label, e.g. `POL-001 v2.1`.
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{} v{v}", self.id),
            None => self.id.clone(),
        }
    }

    /// The last date the document was reviewed or approved.
    pub fn reviewed(&self) -> Option<Date> {
        self.last_reviewed_on.max(self.approved_on)
    }
}

/// Lifecycle state of a document version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DocStatus {
    /// Being written or awaiting approval.
    #[default]
    Draft,
    /// Issued and in use.
    Current,
    /// Withdrawn or superseded.
    Obsolete,
}

macro_rules! doc_types {
    ($($variant:ident = $key:literal, $c2011:expr, $c2018:expr, $doc:literal;)*) => {
        /// What kind of document a register entry is.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum DocType {
            $(#[doc = $doc] $variant,)*
            /// Anything else.
            #[default]
            Other,
        }

        impl DocType {
            /// Every type, in the order the format documents them.
            pub const ALL: &'static [DocType] = &[$(DocType::$variant,)* DocType::Other];

            /// The key used in files.
            pub fn key(self) -> &'static str {
                match self { $(DocType::$variant => $key,)* DocType::Other => "other" }
            }

            /// What the document is, in a few words.
            pub fn describe(self) -> &'static str {
                match self { $(DocType::$variant => $doc,)* DocType::Other => "other document" }
            }

            /// Whether this is a record of something that happened (minutes, a report), kept
            /// rather than reviewed.
            pub fn is_record(self) -> bool {
                matches!(self, DocType::Minutes | DocType::Report | DocType::Record)
            }

            /// The clause of an edition that asks for this document, if that edition requires it.
            pub fn required_by(self, edition: Edition) -> Option<&'static str> {
                match (self, edition) {
                    $((DocType::$variant, Edition::Y2011) => $c2011,
                      (DocType::$variant, Edition::Y2018) => $c2018,)*
                    (DocType::Other, _) => None,
                }
            }
        }
    };
}

doc_types! {
    Scope = "scope", Some("4.5.1"), Some("4.3"), "scope of the SMS";
    Policy = "policy", Some("4.1.2"), Some("5.2.1"), "service management policy";
    Objectives = "objectives", Some("4.1.1"), Some("6.2.1"), "service management objectives";
    SmsPlan = "sms-plan", Some("4.5.2"), Some("6.3"), "service management plan";
    ServiceCatalogue = "service-catalogue", Some("6.1"), Some("8.2.4"), "service catalogue";
    Sla = "sla", Some("6.1"), Some("8.3.3"), "service level agreement";
    ChangePolicy = "change-policy", Some("9.2"), Some("8.5.1.1"), "change management policy";
    SecurityPolicy = "security-policy", Some("6.6.1"), Some("8.7.3.1"), "information security policy";
    ContinuityPlan = "continuity-plan", Some("6.3.2"), Some("8.7.2"), "service continuity plan";
    AvailabilityPlan = "availability-plan", Some("6.3.2"), None, "availability plan";
    CapacityPlan = "capacity-plan", Some("6.5"), Some("8.4.3"), "capacity plan";
    ReleasePolicy = "release-policy", Some("9.3"), None, "release policy";
    ImprovementPolicy = "improvement-policy", Some("4.5.5.1"), None, "continual improvement policy";
    Procedure = "procedure", None, None, "documented procedure";
    Process = "process", None, None, "process description";
    TransitionPlan = "transition-plan", None, None, "design and transition plan for a new or changed service";
    Contract = "contract", None, None, "contract with a supplier";
    Agreement = "agreement", None, None, "agreement with an internal supplier or a customer acting as one";
    Report = "report", None, None, "report";
    Minutes = "minutes", None, None, "minutes of a meeting";
    Record = "record", None, None, "record";
}
