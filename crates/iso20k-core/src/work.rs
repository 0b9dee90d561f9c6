//! What one person has to do, as the records assign it: the actions of management reviews and
//! nonconformities they own, the improvements they lead, the documents they must review or
//! approve. The action plan's findings come on top of these (see [`crate::plan`]); "My work",
//! the daily digest and the calendar feed all read the same list, so they never disagree.

use crate::Date;
use crate::checks::RecordKind;
use crate::interval::Activity;
use crate::model::{ActionStatus, DocStatus, Sms};

/// How far ahead a document's coming review shows: soon enough to plan it.
pub const REVIEW_HORIZON_DAYS: i64 = 30;

/// What kind of task an item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Task {
    /// An action a management review decided.
    ReviewAction,
    /// A corrective action of a nonconformity, not yet implemented.
    CorrectiveAction,
    /// The check that a nonconformity's actions worked, not yet done.
    Effectiveness,
    /// An improvement not yet completed.
    Improvement,
    /// A current document coming due for review, or past it.
    DocumentReview,
    /// A draft document waiting for its approver.
    DocumentApproval,
}

impl Task {
    /// The task in words, for a list.
    pub fn label(self) -> &'static str {
        match self {
            Task::ReviewAction => "Management review action",
            Task::CorrectiveAction => "Corrective action",
            Task::Effectiveness => "Check that corrective actions worked",
            Task::Improvement => "Improvement",
            Task::DocumentReview => "Review a document",
            Task::DocumentApproval => "Approve a document",
        }
    }

    /// A short stable name, for JSON and feeds.
    pub fn key(self) -> &'static str {
        match self {
            Task::ReviewAction => "review-action",
            Task::CorrectiveAction => "corrective-action",
            Task::Effectiveness => "effectiveness-check",
            Task::Improvement => "improvement",
            Task::DocumentReview => "document-review",
            Task::DocumentApproval => "document-approval",
        }
    }
}

/// One thing a person has to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// What kind of task.
    pub task: Task,
    /// What is to be done, in the records' words.
    pub title: String,
    /// By when, if the records say.
    pub due: Option<Date>,
    /// The record it lives in: its kind and id (a review, a nonconformity, a document).
    pub record: (RecordKind, String),
    /// The entry within the record, for an action of a review or a nonconformity.
    pub item: Option<String>,
}

impl Item {
    /// Whether it is late on `as_of`. Something that should have been done and names no date
    /// (a document never reviewed) is late too.
    pub fn overdue(&self, as_of: Date) -> bool {
        match self.due {
            Some(due) => due < as_of,
            None => self.task == Task::DocumentReview,
        }
    }

    /// A stable id within the organisation, for a calendar event or a link.
    pub fn uid(&self) -> String {
        match &self.item {
            Some(item) => format!("{}/{}/{item}", self.task.key(), self.record.1),
            None => format!("{}/{}", self.task.key(), self.record.1),
        }
    }
}

/// Everything the records assign to `person` that is still to do on `as_of`, late first, then
/// by due date, then undated.
pub fn assigned(sms: &Sms, person: &str, as_of: Date) -> Vec<Item> {
    let mine = |owner: &Option<String>| owner.as_deref() == Some(person);
    let mut items = Vec::new();
    for review in &sms.management_reviews {
        for action in &review.actions {
            if mine(&action.owner) && action.status == ActionStatus::Open {
                items.push(Item {
                    task: Task::ReviewAction,
                    title: action.description.clone(),
                    due: action.due,
                    record: (RecordKind::ManagementReview, review.id.clone()),
                    item: Some(action.id.clone()),
                });
            }
        }
    }
    for nc in sms
        .nonconformities
        .iter()
        .filter(|nc| nc.closed_on.is_none())
    {
        for action in &nc.actions {
            if mine(&action.owner) && action.implemented_on.is_none() {
                items.push(Item {
                    task: Task::CorrectiveAction,
                    title: action.description.clone(),
                    due: action.due,
                    record: (RecordKind::Nonconformity, nc.id.clone()),
                    item: Some(action.id.clone()),
                });
            }
        }
    }
    for imp in &sms.improvements {
        if mine(&imp.owner) && imp.completed_on.is_none() {
            items.push(Item {
                task: Task::Improvement,
                title: imp.title.clone(),
                due: imp.due,
                record: (RecordKind::Improvement, imp.id.clone()),
                item: None,
            });
        }
    }
    let horizon = as_of
        .checked_add(jiff::Span::new().days(REVIEW_HORIZON_DAYS))
        .unwrap_or(as_of);
    let default = sms.interval(Activity::DocumentReview);
    for doc in &sms.documents {
        match doc.status {
            DocStatus::Current if mine(&doc.owner) && !doc.kind.is_record() => {
                let due = doc
                    .reviewed()
                    .map(|last| doc.review_interval.unwrap_or(default).after(last));
                if due.is_none_or(|d| d <= horizon) {
                    items.push(Item {
                        task: Task::DocumentReview,
                        title: doc.label(),
                        due,
                        record: (RecordKind::Document, doc.id.clone()),
                        item: doc.version.clone(),
                    });
                }
            }
            DocStatus::Draft if mine(&doc.approver) => items.push(Item {
                task: Task::DocumentApproval,
                title: doc.label(),
                due: None,
                record: (RecordKind::Document, doc.id.clone()),
                item: doc.version.clone(),
            }),
            _ => {}
        }
    }
    sort(&mut items, as_of);
    items
}

/// Late first, then by due date, then undated; ties by task and title.
pub fn sort(items: &mut [Item], as_of: Date) {
    items.sort_by(|a, b| {
        let key = |i: &Item| {
            (
                !i.overdue(as_of),
                i.due.is_none(),
                i.due,
                i.task,
                i.title.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        CorrectiveAction, DocType, Document, Improvement, ManagementReview, Nonconformity,
        ReviewAction,
    };

    fn day(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn records() -> Sms {
        let doc =
            |id: &str, status, owner: &str, approver: &str, reviewed: Option<&str>| Document {
                id: id.into(),
                title: format!("Doc {id}"),
                kind: DocType::Procedure,
                owner: Some(owner.into()),
                approver: Some(approver.into()),
                status,
                last_reviewed_on: reviewed.map(day),
                ..Document::default()
            };
        Sms {
            management_reviews: vec![ManagementReview {
                id: "MR-1".into(),
                actions: vec![
                    ReviewAction {
                        id: "A-1".into(),
                        description: "Fund the DR site".into(),
                        owner: Some("ann".into()),
                        due: Some(day("2026-05-01")),
                        ..ReviewAction::default()
                    },
                    ReviewAction {
                        id: "A-2".into(),
                        description: "Done already".into(),
                        owner: Some("ann".into()),
                        status: ActionStatus::Done,
                        ..ReviewAction::default()
                    },
                    ReviewAction {
                        id: "A-3".into(),
                        description: "Someone else's".into(),
                        owner: Some("bo".into()),
                        ..ReviewAction::default()
                    },
                ],
                ..ManagementReview::default()
            }],
            nonconformities: vec![Nonconformity {
                id: "NC-1".into(),
                actions: vec![
                    CorrectiveAction {
                        id: "CA-1".into(),
                        description: "Update the RACI".into(),
                        owner: Some("ann".into()),
                        due: Some(day("2026-08-01")),
                        ..CorrectiveAction::default()
                    },
                    CorrectiveAction {
                        id: "CA-2".into(),
                        description: "Implemented".into(),
                        owner: Some("ann".into()),
                        implemented_on: Some(day("2026-01-01")),
                        ..CorrectiveAction::default()
                    },
                ],
                ..Nonconformity::default()
            }],
            improvements: vec![Improvement {
                id: "IMP-1".into(),
                title: "Self-service portal".into(),
                owner: Some("ann".into()),
                ..Improvement::default()
            }],
            documents: vec![
                // Reviewed 2025-07-10: due 2026-07-10, within 30 days of 2026-06-30.
                doc("D-1", DocStatus::Current, "ann", "bo", Some("2025-07-10")),
                // Reviewed recently: not due for months.
                doc("D-2", DocStatus::Current, "ann", "bo", Some("2026-06-01")),
                // Never reviewed: late.
                doc("D-3", DocStatus::Current, "ann", "bo", None),
                // A draft waiting for ann's approval.
                doc("D-4", DocStatus::Draft, "bo", "ann", None),
                doc("D-5", DocStatus::Obsolete, "ann", "ann", None),
            ],
            ..Sms::default()
        }
    }

    #[test]
    fn a_person_gets_what_the_records_assign_them_late_first() {
        let items = assigned(&records(), "ann", day("2026-06-30"));
        let got: Vec<(&str, &str, bool)> = items
            .iter()
            .map(|i| {
                (
                    i.task.key(),
                    i.record.1.as_str(),
                    i.overdue(day("2026-06-30")),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("review-action", "MR-1", true),
                ("document-review", "D-3", true),
                ("document-review", "D-1", false),
                ("corrective-action", "NC-1", false),
                ("improvement", "IMP-1", false),
                ("document-approval", "D-4", false),
            ]
        );
        assert_eq!(items[0].uid(), "review-action/MR-1/A-1");
        assert_eq!(items[2].due, Some(day("2026-07-10")));
    }

    #[test]
    fn someone_with_nothing_assigned_gets_nothing() {
        assert!(assigned(&records(), "zed", day("2026-06-30")).is_empty());
        assert!(assigned(&Sms::default(), "ann", day("2026-06-30")).is_empty());
    }
}
