use crate::Date;

/// A customer of the services, with the relationship kept with it.
#[derive(Clone, Debug, Default)]
pub struct Customer {
    /// Id, e.g. `CUST-FIN`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Who manages the relationship (person id).
    pub relationship_owner: Option<String>,
    /// Satisfaction surveys run with the customer.
    pub surveys: Vec<Survey>,
    /// Dates of service review meetings held with the customer.
    pub service_reviews: Vec<Date>,
}

/// A customer satisfaction survey.
#[derive(Clone, Debug)]
pub struct Survey {
    /// When it closed.
    pub on: Date,
    /// The score, on the organisation's own scale.
    pub score: Option<f64>,
}

/// A service complaint.
#[derive(Clone, Debug, Default)]
pub struct Complaint {
    /// Id.
    pub id: String,
    /// The customer (id) who complained.
    pub customer: Option<String>,
    /// What the complaint is about.
    pub summary: String,
    /// When it was received.
    pub received_on: Option<Date>,
    /// What was done about it.
    pub action: Option<String>,
    /// When it was closed.
    pub closed_on: Option<Date>,
}
