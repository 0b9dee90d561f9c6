//! Proving an organisation's audit trail, for the API (`GET /api/v1/orgs/{slug}/trail`) and
//! the trail page. The proof itself is the store's ([`iso20k_store::Store::verify_trail`]);
//! this decides who may ask and how the answer reads.

use axum::Json;
use axum::extract::State;
use schemars::JsonSchema;
use serde::Serialize;

use crate::App;
use crate::auth::{Access, Auth, Role};
use crate::error::{ApiError, ApiResult};
use crate::extract::Path;

/// What a proof of the audit trail found.
#[derive(Serialize, JsonSchema)]
pub(crate) struct TrailProof {
    /// Every entry is chained to the one before, the organisation's record of the last entry
    /// meets the chain, and every record is as its last change left it.
    pub intact: bool,
    /// Entries proved, from the first, before anything broke.
    pub entries: i64,
    /// The hash of the last entry proved (empty for an empty trail). Kept somewhere else, it
    /// shows later whether the trail was rewritten from an earlier entry on.
    pub head: String,
    /// The first thing that does not hold.
    pub broken: Option<BrokenLink>,
}

/// The first broken link.
#[derive(Serialize, JsonSchema)]
pub(crate) struct BrokenLink {
    /// The entry to blame (the id the changes list shows), when one is.
    pub id: Option<i64>,
    /// Its place in the trail, 1 for the first.
    pub seq: i64,
    /// What is wrong, in words.
    pub reason: String,
}

/// Administrators and auditors (an external auditor included) may prove the trail: it reads
/// every record, which is more than a viewer's page shows, and it is the auditor's question.
pub(crate) fn require_prover(access: &Access) -> ApiResult<()> {
    if matches!(access.role, Role::Admin | Role::Auditor) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "your role {} in `{}` does not allow you to prove the audit trail: administrators \
             and auditors may",
            access.role.as_str(),
            access.org.slug
        )))
    }
}

/// Proves the trail of the organisation `access` is for.
pub(crate) async fn prove(app: &App, access: &Access) -> ApiResult<TrailProof> {
    require_prover(access)?;
    let check = app.store().verify_trail(access.org.id).await?;
    Ok(TrailProof {
        intact: check.broken.is_none(),
        entries: check.entries,
        head: check.head,
        broken: check.broken.map(|b| BrokenLink {
            id: b.id,
            seq: b.seq,
            reason: b.reason,
        }),
    })
}

pub(crate) async fn show(
    State(app): State<App>,
    auth: Auth,
    Path(slug): Path<String>,
) -> ApiResult<Json<TrailProof>> {
    let access = app.access(auth, &slug).await?;
    Ok(Json(prove(&app, &access).await?))
}
