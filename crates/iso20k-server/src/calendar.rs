//! Calendar feeds: one person's dated work ([`crate::work::of`]) and the organisation's booked
//! certification audits, as an iCalendar file a calendar app subscribes to.
//!
//! Calendar apps cannot sign in, so the feed's address carries a random secret
//! (`/calendar/SECRET.ics`); the store keeps only its SHA-256, as for API tokens. A member
//! creates, replaces and revokes their feed on My work; an unknown or revoked secret is a 404.

use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use icalendar::{Calendar, Component, Event, EventLike, Property};
use iso20k_core::Date;
use iso20k_store::{Membership, Org};
use serde_json::Value;

use crate::App;
use crate::error::{ApiError, ApiResult};

/// The path of the feed opened by `secret`.
pub(crate) fn path(secret: &str) -> String {
    format!("/calendar/{secret}.ics")
}

/// `GET /calendar/{secret}.ics`.
pub(crate) async fn feed(
    State(app): State<App>,
    Path(file): Path<String>,
    parts: Parts,
) -> Response {
    let gone = || {
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "no such calendar: the link is wrong, or was revoked or replaced on My work\n",
        )
            .into_response()
    };
    let Some(secret) = file.strip_suffix(".ics").filter(|s| !s.is_empty()) else {
        return gone();
    };
    let found = match app.store().calendar(&crate::auth::digest(secret)).await {
        Ok(found) => found,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let Some((org, membership)) = found else {
        return gone();
    };
    // A lapsed membership opens nothing, as it would not sign in.
    if membership
        .expires_at
        .as_ref()
        .is_some_and(|until| *until <= iso20k_store::now())
    {
        return gone();
    }
    let Ok(base) = crate::web::sso::base_url(&app, &parts) else {
        return (
            StatusCode::BAD_REQUEST,
            "the request has no usable Host header, so the feed cannot link back here\n",
        )
            .into_response();
    };
    match ics(&app, &org, &membership, &base).await {
        Ok(text) => {
            let mut response = text.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            );
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            headers.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("inline; filename=\"iso20k.ics\""),
            );
            response
        }
        Err(e) => e.into_response(),
    }
}

fn naive(day: Date) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(
        i32::from(day.year()),
        u32::try_from(day.month()).ok()?,
        u32::try_from(day.day()).ok()?,
    )
}

/// An all-day event on `day`.
fn all_day(uid: &str, summary: &str, day: chrono::NaiveDate, url: &str, what: &str) -> Event {
    let mut event = Event::new();
    event
        .uid(uid)
        .summary(summary)
        .starts(day)
        .ends(day + chrono::Days::new(1))
        .url(url)
        .description(&format!("{what}\n{url}"));
    event.done()
}

/// The feed of `membership`'s person in `org`, with links under `base`.
pub(crate) async fn ics(
    app: &App,
    org: &Org,
    membership: &Membership,
    base: &str,
) -> ApiResult<String> {
    let as_of = app.day_or_default(org, None).await?;
    let slug = &org.slug;
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//iso20k//reminders//EN"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", "PUBLISH"));
    let mut name = format!("iso20k: {}", org.name);
    if let Some(person) = &membership.person {
        let sms = app.current_model(org).await?;
        let who = sms
            .person(person)
            .map_or(person.clone(), |p| p.name.clone());
        name = format!("iso20k: {who} at {}", org.name);
        for todo in crate::work::of(app, org, person, as_of).await? {
            let Some(day) = todo.due.as_deref().and_then(|d| d.parse::<Date>().ok()) else {
                continue;
            };
            let Some(day) = naive(day) else { continue };
            calendar.push(all_day(
                &format!("{}@{slug}.iso20k", todo.uid),
                &format!("{}: {}", todo.what, todo.title),
                day,
                &format!("{base}{}", todo.link),
                &todo.what,
            ));
        }
    }
    calendar.name(&name);
    let report: Value = {
        let bytes = app.readiness(org, None, as_of).await?;
        serde_json::from_slice(&bytes).map_err(ApiError::internal)?
    };
    for booking in report["readiness"]["bookings"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let audit = booking["audit"].as_str().unwrap_or_default();
        let Some(day) = booking["on"]
            .as_str()
            .and_then(|d| d.parse::<Date>().ok())
            .and_then(naive)
        else {
            continue;
        };
        let title = crate::web::booking_name(audit);
        calendar.push(all_day(
            &format!("booking/{audit}@{slug}.iso20k"),
            &format!("{title} (certification), {}", org.name),
            day,
            &format!("{base}/orgs/{slug}"),
            "Booked certification audit",
        ));
    }
    Ok(calendar.done().to_string())
}
