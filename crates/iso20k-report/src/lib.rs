//! Renders an audit [`Report`](iso20k_core::audit::Report) for the people and programs that read
//! it: [`text`] for a terminal, [`json`] for pipelines and the team server, [`markdown`] for a
//! wiki, [`junit`] and [`sarif`] for CI systems, [`findings_csv`] for spreadsheets.

pub mod findings_csv;
pub mod json;
pub mod junit;
pub mod kb;
pub mod markdown;
pub mod metrics;
pub mod sarif;
pub mod text;
