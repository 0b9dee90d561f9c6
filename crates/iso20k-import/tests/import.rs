//! Importing real and realistic exports into a bundle.

#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

fn bundle() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sms");
    iso20k_bundle::init(&dir).unwrap();
    (tmp, dir)
}

fn import(dir: &Path, files: &[PathBuf]) -> Result<iso20k_import::Summary, iso20k_bundle::Error> {
    iso20k_import::import(
        dir,
        files,
        &iso20k_import::Options::default(),
        &mut |_, _, _| {},
    )
}

#[test]
fn the_uci_servicenow_event_log_imports_without_a_mapping_and_keeps_its_figures() {
    let (_tmp, dir) = bundle();
    let log = shared("data/uci-incident-event-log/incident_event_log_120k.csv.gz");
    let summary = import(&dir, std::slice::from_ref(&log)).unwrap();
    assert_eq!(summary.files[0].source, iso20k_import::Source::ServiceNow);
    assert_eq!(summary.files[0].rows, 119_998);
    let incidents = iso20k_bundle::tickets::read(&dir).unwrap().incidents;
    assert_eq!(incidents.len(), 20_769);
    let closed: Vec<_> = incidents.iter().filter(|i| i.closed_at.is_some()).collect();
    assert_eq!(closed.len(), 20_768);
    let known: Vec<_> = closed.iter().filter_map(|i| i.sla_met).collect();
    let met = known.iter().filter(|m| **m).count() as f64 / known.len() as f64;
    assert_eq!(format!("{:.1}", met * 100.0), "60.6");
    let p1: Vec<_> = incidents.iter().filter(|i| i.priority == Some(1)).collect();
    assert_eq!(
        (p1.len(), p1.iter().filter(|i| i.problem.is_none()).count()),
        (220, 13)
    );
    assert_eq!(closed.iter().filter(|i| i.ci.is_none()).count(), 20_716);

    // The same export again changes nothing.
    let again = import(&dir, &[log]).unwrap();
    assert!(again.written.is_empty());
    assert_eq!(again.tables[0].1.unchanged, 20_769);
}
