//! The readiness report on the server: the same checks and the same JSON as `iso20k check`,
//! computed once per revision of an organisation's records and then served from cache.
//!
//! A report is looked up by (organisation, edition, as-of date) and is current while the
//! organisation's revision is the one it was computed at. The store holds the reports, so every
//! server shares them; each server also keeps the last ones in memory, and the last model it
//! built, so another date or edition needs no reload. Concurrent requests for the same report
//! wait for one computation. After a change, the organisation's default report is recomputed
//! in the background so the next reader does not wait.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use iso20k_core::model::Sms;
use iso20k_core::{Date, Edition};
use iso20k_store::Org;

use crate::App;
use crate::error::{ApiError, ApiResult};

type Key = (i64, Edition, Date);

/// Records per kind of one organisation, by kind name.
pub(crate) type Counts = Arc<std::collections::HashMap<String, i64>>;

/// Reports held in memory before the oldest are dropped.
const MEMORY: usize = 64;

/// What is known of an organisation at one revision.
struct Facts {
    revision: i64,
    edition: Option<Edition>,
    /// The day the organisation's records declare they describe, if they are a snapshot.
    records_as_of: Option<Option<Date>>,
    counts: Option<Counts>,
}

#[derive(Default)]
pub(crate) struct Cache {
    /// Reports as the bytes of the response, so serving one copies nothing.
    reports: Mutex<HashMap<Key, (i64, Bytes)>>,
    /// Per organisation: the revision, its declared edition and its records per kind. Counting
    /// a million incidents takes a scan, so it happens once per revision, not once per page.
    facts: Mutex<HashMap<i64, Facts>>,
    flights: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
    /// The last model built: (organisation, revision, model).
    model: tokio::sync::Mutex<Option<(i64, i64, Arc<Sms>)>>,
    /// Organisations with a background refresh running, and whether they changed again since.
    refreshing: Mutex<HashMap<i64, bool>>,
}

/// Today where the server runs: the default as-of date, as for `iso20k check`.
pub(crate) fn today() -> Date {
    jiff::ZonedDateTime::now().date()
}

impl App {
    /// The edition the organisation declares, or 2018, as of the revision in `org`.
    pub(crate) async fn declared_edition(&self, org: &Org) -> ApiResult<Edition> {
        if let Some(edition) = self.inner.readiness.fact(org, |f| f.edition) {
            return Ok(edition);
        }
        let edition = self.read_declared_edition(org).await?;
        self.inner
            .readiness
            .learn(org, |f| f.edition = Some(edition));
        Ok(edition)
    }

    /// How many records of each kind `org` holds, as of the revision in `org`.
    pub(crate) async fn counts(&self, org: &Org) -> ApiResult<Counts> {
        if let Some(counts) = self.inner.readiness.fact(org, |f| f.counts.clone()) {
            return Ok(counts);
        }
        let counts: Counts = Arc::new(self.store().kinds(org.id).await?.into_iter().collect());
        self.inner
            .readiness
            .learn(org, |f| f.counts = Some(counts.clone()));
        Ok(counts)
    }

    /// The day reports judge `org` as of when no day is asked for: the day its records
    /// declare they describe (`records_as_of`, for a snapshot such as the demo), else today.
    pub(crate) async fn default_day(&self, org: &Org) -> ApiResult<Date> {
        let declared = match self.inner.readiness.fact(org, |f| f.records_as_of) {
            Some(day) => day,
            None => {
                let day = self
                    .organisation_field(org, "records_as_of")
                    .await?
                    .and_then(|d| d.parse::<Date>().ok());
                self.inner
                    .readiness
                    .learn(org, |f| f.records_as_of = Some(day));
                day
            }
        };
        Ok(declared.unwrap_or_else(today))
    }

    /// The day asked for, or else the organisation's default day.
    pub(crate) async fn day_or_default(&self, org: &Org, asked: Option<Date>) -> ApiResult<Date> {
        match asked {
            Some(day) => Ok(day),
            None => self.default_day(org).await,
        }
    }

    async fn organisation_field(&self, org: &Org, field: &str) -> ApiResult<Option<String>> {
        let record = self
            .store()
            .record(org.id, "organisation", "organisation")
            .await?;
        Ok(record
            .and_then(|r| serde_json::from_str::<serde_json::Value>(&r.body).ok())
            .and_then(|v| v.get(field).and_then(|e| e.as_str()).map(str::to_owned)))
    }

    async fn read_declared_edition(&self, org: &Org) -> ApiResult<Edition> {
        let declared = self.organisation_field(org, "edition").await?;
        Ok(match declared.as_deref() {
            Some("2011") => Edition::Y2011,
            _ => Edition::Y2018,
        })
    }

    /// The readiness report of `org` as JSON, exactly as `iso20k check --format json` prints it.
    pub(crate) async fn readiness(
        &self,
        org: &Org,
        edition: Option<Edition>,
        as_of: Date,
    ) -> ApiResult<Bytes> {
        let edition = match edition {
            Some(e) => e,
            None => self.declared_edition(org).await?,
        };
        let key = (org.id, edition, as_of);
        let cache = &self.inner.readiness;
        // `org` was read for this request, so its revision is current enough: a change after
        // that may or may not be seen, as with any read racing a write.
        if let Some(json) = cache.remembered(key, org.revision) {
            return Ok(json);
        }
        let flight = {
            let mut flights = cache.flights.lock().expect("not poisoned");
            flights.entry(key).or_default().clone()
        };
        let _turn = flight.lock().await;
        // Whoever held the turn before may have computed it.
        let revision = self.store().revision(org.id).await?;
        if let Some(json) = cache.remembered(key, revision) {
            return Ok(json);
        }
        let as_of_text = as_of.to_string();
        if let Some((at, json)) = self
            .store()
            .cached_readiness(org.id, edition.as_str(), &as_of_text)
            .await?
            && at == revision
        {
            return Ok(cache.remember(key, revision, json));
        }
        let (json, overall) = self.compute(org, revision, edition, as_of).await?;
        self.store()
            .put_readiness(org.id, edition.as_str(), &as_of_text, revision, &json)
            .await?;
        // The report of the organisation's own day (today, or the day a snapshot declares) is
        // what its score is now: it makes today's point of the trend.
        if as_of == self.default_day(org).await? {
            self.store()
                .record_score(
                    org.id,
                    edition.as_str(),
                    &today().to_string(),
                    revision,
                    overall,
                )
                .await?;
        }
        Ok(cache.remember(key, revision, json))
    }

    async fn compute(
        &self,
        org: &Org,
        revision: i64,
        edition: Edition,
        as_of: Date,
    ) -> ApiResult<(String, f64)> {
        let sms = self.model(org, revision).await?;
        self.metrics().readiness_computed();
        self.blocking(move || {
            let report =
                iso20k_core::audit::audit(&sms, iso20k_core::audit::Options { edition, as_of });
            (
                iso20k_report::json::render(&report),
                report.readiness.overall,
            )
        })
        .await
    }

    /// The model of `org` at `revision`, built once and kept until another is needed.
    pub(crate) async fn model(&self, org: &Org, revision: i64) -> ApiResult<Arc<Sms>> {
        let mut slot = self.inner.readiness.model.lock().await;
        if let Some((id, rev, sms)) = slot.as_ref()
            && *id == org.id
            && *rev == revision
        {
            return Ok(sms.clone());
        }
        // Drop the old model before building the next: both may be large.
        *slot = None;
        let bundle = crate::load::bundle_of(self.store(), org, |_| true)
            .await
            .map_err(ApiError::internal)?;
        let sms = Arc::new(self.blocking(move || bundle.into_sms()).await?);
        *slot = Some((org.id, revision, sms.clone()));
        Ok(sms)
    }

    /// Records of `org` changed: recompute its default report in the background, once for any
    /// burst of changes.
    pub(crate) fn changed(&self, org: &Org) {
        if !self.config().refresh_in_background {
            return;
        }
        {
            let mut refreshing = self
                .inner
                .readiness
                .refreshing
                .lock()
                .expect("not poisoned");
            if let Some(again) = refreshing.get_mut(&org.id) {
                *again = true;
                return;
            }
            refreshing.insert(org.id, false);
        }
        let app = self.clone();
        let org = org.clone();
        tokio::spawn(async move {
            loop {
                // Let a burst of writes finish first.
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                // The organisation as it is now, not as it was when the change was made.
                let current = match app.store().org(&org.slug).await {
                    Ok(Some(current)) => current,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!("background readiness of {} failed: {e}", org.slug);
                        break;
                    }
                };
                if let Err(e) = app.readiness(&current, None, today()).await {
                    tracing::warn!("background readiness of {} failed: {e}", org.slug);
                }
                let mut refreshing = app.inner.readiness.refreshing.lock().expect("not poisoned");
                if refreshing.get(&org.id) == Some(&true) {
                    refreshing.insert(org.id, false);
                } else {
                    refreshing.remove(&org.id);
                    break;
                }
            }
        });
    }
}

impl Cache {
    /// A fact about `org` learnt at its current revision, if one was.
    fn fact<T>(&self, org: &Org, get: impl Fn(&Facts) -> Option<T>) -> Option<T> {
        let facts = self.facts.lock().expect("not poisoned");
        facts
            .get(&org.id)
            .filter(|f| f.revision == org.revision)
            .and_then(get)
    }

    /// Keeps a fact about `org` at its revision, forgetting what was known at another.
    fn learn(&self, org: &Org, set: impl FnOnce(&mut Facts)) {
        let mut facts = self.facts.lock().expect("not poisoned");
        let fresh = || Facts {
            revision: org.revision,
            edition: None,
            records_as_of: None,
            counts: None,
        };
        let entry = facts.entry(org.id).or_insert_with(fresh);
        if entry.revision != org.revision {
            *entry = fresh();
        }
        set(entry);
    }

    fn remembered(&self, key: Key, revision: i64) -> Option<Bytes> {
        let reports = self.reports.lock().expect("not poisoned");
        reports
            .get(&key)
            .filter(|(at, _)| *at == revision)
            .map(|(_, json)| json.clone())
    }

    fn remember(&self, key: Key, revision: i64, json: String) -> Bytes {
        let json = Bytes::from(json);
        let mut reports = self.reports.lock().expect("not poisoned");
        if reports.len() >= MEMORY && !reports.contains_key(&key) {
            // Reports are cheap to fetch again from the store; no need for anything cleverer.
            reports.clear();
        }
        reports.insert(key, (revision, json.clone()));
        json
    }
}
