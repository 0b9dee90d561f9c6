//! Renders an audit [`Report`](iso20k_core::audit::Report) for the people and programs that read
//! it: [`text`] for a terminal, [`json`] for pipelines and the team server.

pub mod json;
pub mod kb;
pub mod metrics;
pub mod text;
