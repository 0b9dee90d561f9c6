//! Single sign-on with OpenID Connect: the authorization code flow with PKCE (S256).
//!
//! The server finds the provider by discovery (`ISSUER/.well-known/openid-configuration`) on
//! first use and keeps what it found. A sign-in starts at `/sso/login`: the browser is sent to
//! the provider with a random state, nonce and PKCE challenge, and the three secrets (with the
//! page to return to) travel in a short-lived cookie signed with HMAC-SHA256, so the server
//! keeps no state between the two legs. The provider sends the browser back to
//! `/sso/callback`, where the state must match the cookie's, the code is exchanged for tokens
//! with the PKCE verifier, and the ID token is checked: signature (against the provider's
//! JWKS; a key id the server does not know makes it fetch the JWKS again, at most once per
//! [`JWKS_REFRESH`], before refusing), issuer, audience, expiry and nonce.
//!
//! The account is the one with the token's e-mail (which the provider must call verified), or
//! a new one without a password. Roles come from a claim (`groups` and `roles` unless told
//! otherwise) through [`RoleRule`]s: `VALUE=ORG:ROLE`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use base64::Engine as _;
use hmac::{KeyInit as _, Mac as _};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenVerifier, IssuerUrl,
    JsonWebKeySet, Nonce, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, RequestTokenError, Scope, SignatureVerificationError,
    TokenResponse as _, reqwest,
};
use serde::{Deserialize, Serialize};

use crate::auth::Role;

/// The path the provider sends the browser back to; register `BASE/sso/callback` with it.
pub const CALLBACK_PATH: &str = "/sso/callback";
/// Where the provider sends the browser after signing out; register `BASE/login` with it.
pub const AFTER_LOGOUT_PATH: &str = "/login";
/// The cookie that carries the state, nonce and PKCE verifier between the two legs.
pub const STATE_COOKIE: &str = "iso20k_sso_state";
/// The cookie that keeps the ID token for signing out at the provider (`id_token_hint`).
pub const ID_TOKEN_COOKIE: &str = "iso20k_sso_id";
/// How long a sign-in may take at the provider, in seconds.
pub const STATE_SECONDS: i64 = 600;
/// The least time between two fetches of the provider's keys on an unknown key id.
pub const JWKS_REFRESH: Duration = Duration::from_secs(60);

/// One rule of the role mapping: whoever has `value` in the role claim gets `role` in the
/// organisation `org`. Written `VALUE=ORG:ROLE`, e.g. `iso20k-acme-admins=acme:admin`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleRule {
    /// The claim value (a group name or id, an app role).
    pub value: String,
    /// The organisation's slug.
    pub org: String,
    /// The role granted.
    pub role: Role,
}

impl std::str::FromStr for RoleRule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let wrong = || format!("`{s}`: write VALUE=ORG:ROLE, e.g. iso20k-acme-admins=acme:admin");
        // The value may itself hold `=` (an LDAP DN as a group name): split at the last one.
        let (value, target) = s.rsplit_once('=').ok_or_else(wrong)?;
        let (org, role) = target.split_once(':').ok_or_else(wrong)?;
        let role = Role::parse(role.trim()).ok_or_else(|| {
            format!("`{s}`: the role must be one of admin, manager, auditor, viewer")
        })?;
        let org = org.trim();
        crate::check_slug(org).map_err(|e| format!("`{s}`: {e}"))?;
        if value.is_empty() {
            return Err(wrong());
        }
        Ok(RoleRule {
            value: value.to_owned(),
            org: org.to_owned(),
            role,
        })
    }
}

/// How the server signs people in with an OpenID provider.
#[derive(Clone)]
pub struct SsoConfig {
    /// The provider's issuer URL, exactly as its ID tokens' `iss` says it.
    pub issuer: String,
    /// The client id registered for iso20k.
    pub client_id: String,
    /// The client secret; `None` for a public client (PKCE alone).
    pub client_secret: Option<String>,
    /// The server's own address as browsers reach it (`https://iso20k.example.com`), which the
    /// redirect URIs are built on. `None`: taken from each request's `Host` (and, behind a
    /// proxy, `X-Forwarded-Proto`).
    pub public_url: Option<String>,
    /// The claims that hold group or role values; a name with dots that is not itself a claim
    /// is a path into nested objects (`realm_access.roles`).
    pub role_claims: Vec<String>,
    /// The role mapping.
    pub roles: Vec<RoleRule>,
    /// Accept an e-mail the ID token does not say is verified (`email_verified` absent), for
    /// providers that never send it. An explicit `email_verified: false` is always refused.
    pub trust_unverified_email: bool,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// The key the state cookie is signed with. `None`: one derived from the client secret,
    /// or for a public client a random key per process (servers behind one load balancer must
    /// then be given one).
    pub state_key: Option<String>,
}

impl std::fmt::Debug for SsoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "…"))
            .field("public_url", &self.public_url)
            .field("role_claims", &self.role_claims)
            .field("roles", &self.roles)
            .field("trust_unverified_email", &self.trust_unverified_email)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl SsoConfig {
    /// A configuration with the defaults: scopes `email profile`, role claims `groups` and
    /// `roles`, no role mapping.
    pub fn new(issuer: &str, client_id: &str, client_secret: Option<String>) -> SsoConfig {
        SsoConfig {
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            client_secret,
            public_url: None,
            role_claims: vec!["groups".to_owned(), "roles".to_owned()],
            roles: Vec::new(),
            trust_unverified_email: false,
            scopes: vec!["email".to_owned(), "profile".to_owned()],
            state_key: None,
        }
    }
}

/// A sign-in refused, with the status and the words the page shows.
#[derive(Debug)]
pub struct SsoError {
    /// 400 for a bad or stale callback, 403 for an identity the server does not accept, 502
    /// when the provider cannot be reached or answers nonsense.
    pub status: StatusCode,
    /// A sentence for the person signing in.
    pub message: String,
}

impl SsoError {
    fn bad(message: impl Into<String>) -> SsoError {
        SsoError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    fn refused(message: impl Into<String>) -> SsoError {
        SsoError {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
        }
    }

    fn provider(what: &str, e: impl std::fmt::Display) -> SsoError {
        tracing::warn!("single sign-on: {what}: {e}");
        SsoError {
            status: StatusCode::BAD_GATEWAY,
            message: format!(
                "The sign-in provider could not be used ({what}). Try again later, or tell your administrator."
            ),
        }
    }
}

/// The claims beyond the standard ones, kept whole to read the role claim from.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct OtherClaims(#[serde(default)] pub HashMap<String, serde_json::Value>);

impl AdditionalClaims for OtherClaims {}

/// An ID token with every claim kept.
pub type IdToken = openidconnect::IdToken<
    OtherClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Who the provider says signed in.
#[derive(Debug)]
pub struct Identity {
    /// The e-mail, lower-cased.
    pub email: String,
    /// The name to show, when the token has one.
    pub name: Option<String>,
    /// The values of the role claims.
    pub groups: Vec<String>,
    /// The raw ID token, kept for signing out at the provider.
    pub id_token: String,
}

/// What the state cookie carries.
#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    next: Option<String>,
    expires: i64,
}

/// The single sign-on of one server.
pub(crate) struct Sso {
    config: SsoConfig,
    http: reqwest::Client,
    key: [u8; 32],
    provider: tokio::sync::RwLock<Option<Arc<ProviderMetadataWithLogout>>>,
    last_jwks_fetch: Mutex<Option<Instant>>,
}

impl Sso {
    pub(crate) fn new(config: SsoConfig) -> Sso {
        let http = reqwest::Client::builder()
            // The token endpoint must answer itself: following a redirect could leak the code.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap_or_default();
        // Servers sharing a database must share the key, or a sign-in started on one fails on
        // another: the key given, else one drawn from the client secret they share, else (a
        // public client) a random one.
        let shared = config.state_key.clone().or_else(|| {
            config
                .client_secret
                .as_ref()
                .map(|s| format!("iso20k sso state\n{s}"))
        });
        let key = match shared {
            Some(k) => {
                use sha2::Digest as _;
                sha2::Sha256::digest(k.as_bytes()).into()
            }
            None => {
                let mut k = [0u8; 32];
                getrandom::fill(&mut k).expect("the operating system provides randomness");
                k
            }
        };
        Sso {
            config,
            http,
            key,
            provider: tokio::sync::RwLock::new(None),
            last_jwks_fetch: Mutex::new(None),
        }
    }

    pub(crate) fn config(&self) -> &SsoConfig {
        &self.config
    }

    /// Discovers the provider now, so a wrong issuer shows at start-up rather than at the
    /// first sign-in: what went wrong, in words.
    pub(crate) async fn check(&self) -> Result<(), String> {
        self.provider().await.map(|_| ()).map_err(|e| e.message)
    }

    /// The provider's metadata and keys, discovered on first use.
    async fn provider(&self) -> Result<Arc<ProviderMetadataWithLogout>, SsoError> {
        if let Some(p) = self.provider.read().await.as_ref() {
            return Ok(p.clone());
        }
        let mut slot = self.provider.write().await;
        if let Some(p) = slot.as_ref() {
            return Ok(p.clone());
        }
        let issuer = IssuerUrl::new(self.config.issuer.clone())
            .map_err(|e| SsoError::provider("the issuer URL is not a URL", e))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| SsoError::provider("discovery failed", error_chain(&e)))?;
        let metadata = Arc::new(metadata);
        *slot = Some(metadata.clone());
        Ok(metadata)
    }

    /// Fetches the provider's keys again for a key id it did not know, unless an unknown key
    /// id made it do so less than [`JWKS_REFRESH`] ago (a stream of forged tokens must not
    /// turn into a stream of fetches): the new metadata, or `None` when it is too soon.
    async fn refresh_keys(&self) -> Result<Option<Arc<ProviderMetadataWithLogout>>, SsoError> {
        {
            let mut last = self.last_jwks_fetch.lock().expect("not poisoned");
            if last.is_some_and(|t| t.elapsed() < JWKS_REFRESH) {
                return Ok(None);
            }
            *last = Some(Instant::now());
        }
        let current = self.provider().await?;
        let jwks: JsonWebKeySet<CoreJsonWebKey> =
            JsonWebKeySet::fetch_async(current.jwks_uri(), &self.http)
                .await
                .map_err(|e| SsoError::provider("the signing keys could not be fetched", e))?;
        let mut metadata = (*current).clone();
        metadata = metadata.set_jwks(jwks);
        let metadata = Arc::new(metadata);
        *self.provider.write().await = Some(metadata.clone());
        Ok(Some(metadata))
    }

    fn client(
        &self,
        metadata: &ProviderMetadataWithLogout,
        base: &str,
    ) -> Result<Client, SsoError> {
        let redirect = RedirectUrl::new(format!("{base}{CALLBACK_PATH}"))
            .map_err(|e| SsoError::bad(format!("this server's address is not usable: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }

    /// Where to send the browser to sign in, and the state cookie's value.
    pub(crate) async fn start(
        &self,
        base: &str,
        next: Option<String>,
    ) -> Result<(String, String), SsoError> {
        let metadata = self.provider().await?;
        let client = self.client(&metadata, base)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let pending = Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            next,
            expires: jiff::Timestamp::now().as_second() + STATE_SECONDS,
        };
        Ok((url.to_string(), self.seal(&pending)))
    }

    fn mac(&self) -> hmac::Hmac<sha2::Sha256> {
        hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.key).expect("HMAC takes any key")
    }

    fn seal(&self, pending: &Pending) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let body = b64.encode(serde_json::to_vec(pending).expect("plain fields serialise"));
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        format!("{body}.{}", b64.encode(mac.finalize().into_bytes()))
    }

    fn open(&self, cookie: &str) -> Option<Pending> {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (body, tag) = cookie.split_once('.')?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&b64.decode(tag).ok()?).ok()?;
        let pending: Pending = serde_json::from_slice(&b64.decode(body).ok()?).ok()?;
        (pending.expires > jiff::Timestamp::now().as_second()).then_some(pending)
    }

    /// Checks the provider's answer and the ID token: who signed in, and where they go next.
    pub(crate) async fn finish(
        &self,
        base: &str,
        cookie: Option<&str>,
        code: &str,
        state: &str,
    ) -> Result<(Identity, Option<String>), SsoError> {
        let again = "Start again from the sign-in page.";
        let Some(cookie) = cookie else {
            return Err(SsoError::bad(format!(
                "This sign-in was not started in this browser, or it was already used. {again}"
            )));
        };
        let Some(pending) = self.open(cookie) else {
            return Err(SsoError::bad(format!(
                "This sign-in took too long or its cookie was changed. {again}"
            )));
        };
        if !constant_eq(pending.state.as_bytes(), state.as_bytes()) {
            return Err(SsoError::bad(format!(
                "The answer from the sign-in provider does not belong to the sign-in this browser started (wrong state). {again}"
            )));
        }
        let metadata = self.provider().await?;
        let client = self.client(&metadata, base)?;
        let exchange = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| SsoError::provider("it has no token endpoint", e))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()));
        let tokens = match exchange.request_async(&self.http).await {
            Ok(t) => t,
            Err(RequestTokenError::ServerResponse(e)) => {
                let said = e
                    .error_description()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default();
                return Err(SsoError::bad(format!(
                    "The sign-in provider refused the sign-in code ({}{said}); it may have been used already or expired. {again}",
                    e.error()
                )));
            }
            Err(e) => {
                return Err(SsoError::provider(
                    "the code exchange failed",
                    error_chain(&e),
                ));
            }
        };
        let Some(raw) = tokens.id_token().map(ToString::to_string) else {
            return Err(SsoError::provider("it sent no ID token", "no id_token"));
        };
        let token: IdToken = raw
            .parse()
            .map_err(|e| SsoError::bad(format!("The ID token is not a token ({e}). {again}")))?;
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = match self.verify(&token, &metadata, &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => match self.refresh_keys().await? {
                Some(fresh) => self.verify(&token, &fresh, &nonce),
                None => Err(ClaimsVerificationError::SignatureVerification(
                    SignatureVerificationError::NoMatchingKey,
                )),
            },
            other => other,
        }
        .map_err(|e| SsoError::bad(format!("{} {again}", refusal(&e))))?;

        let Some(email) = claims.email() else {
            return Err(SsoError::refused(
                "The sign-in provider did not say your e-mail address (the `email` claim), which iso20k needs to know who you are. Ask its administrator to release it to iso20k.",
            ));
        };
        match claims.email_verified() {
            Some(true) => {}
            None if self.config.trust_unverified_email => {}
            _ => {
                return Err(SsoError::refused(format!(
                    "The sign-in provider does not say that your e-mail address {} is verified, so iso20k cannot match it to an account.",
                    email.as_str()
                )));
            }
        }
        let name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned());
        let groups = role_values(&claims.additional_claims().0, &self.config.role_claims);
        Ok((
            Identity {
                email: email.as_str().trim().to_lowercase(),
                name,
                groups,
                id_token: raw,
            },
            pending.next,
        ))
    }

    fn verify(
        &self,
        token: &IdToken,
        metadata: &ProviderMetadataWithLogout,
        nonce: &Nonce,
    ) -> Result<openidconnect::IdTokenClaims<OtherClaims, CoreGenderClaim>, ClaimsVerificationError>
    {
        let client_id = ClientId::new(self.config.client_id.clone());
        let issuer = metadata.issuer().clone();
        let jwks = metadata.jwks().clone();
        let verifier: IdTokenVerifier<'_, CoreJsonWebKey> = match &self.config.client_secret {
            Some(secret) => IdTokenVerifier::new_confidential_client(
                client_id,
                ClientSecret::new(secret.clone()),
                issuer,
                jwks,
            ),
            None => IdTokenVerifier::new_public_client(client_id, issuer, jwks),
        };
        // The provider's public-key signatures, never `none`, nor HMAC with the client
        // secret (a public client has none, and a leaked secret would let anyone mint tokens).
        use CoreJwsSigningAlgorithm as A;
        let verifier = verifier.set_allowed_algs([
            A::RsaSsaPkcs1V15Sha256,
            A::RsaSsaPkcs1V15Sha384,
            A::RsaSsaPkcs1V15Sha512,
            A::RsaSsaPssSha256,
            A::RsaSsaPssSha384,
            A::RsaSsaPssSha512,
            A::EcdsaP256Sha256,
            A::EcdsaP384Sha384,
            A::EcdsaP521Sha512,
            A::EdDsa,
        ]);
        token.claims(&verifier, nonce).cloned()
    }

    /// Where to send the browser to sign out at the provider too, when it offers that.
    pub(crate) async fn logout_url(&self, base: &str, id_token: &str) -> Option<String> {
        let metadata = self.provider().await.ok()?;
        let endpoint = metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()?;
        let token: IdToken = id_token.parse().ok()?;
        let after = PostLogoutRedirectUrl::new(format!("{base}{AFTER_LOGOUT_PATH}")).ok()?;
        let url = openidconnect::LogoutRequest::from(endpoint)
            .set_id_token_hint(&token)
            .set_client_id(ClientId::new(self.config.client_id.clone()))
            .set_post_logout_redirect_uri(after)
            .http_get_url();
        Some(url.to_string())
    }
}

/// The best role per organisation the mapping gives for these claim values.
pub fn mapped_roles(rules: &[RoleRule], groups: &[String]) -> BTreeMap<String, Role> {
    let mut best: BTreeMap<String, Role> = BTreeMap::new();
    for rule in rules.iter().filter(|r| groups.contains(&r.value)) {
        let rank = |r: Role| Role::ALL.iter().position(|x| *x == r).unwrap_or(usize::MAX);
        best.entry(rule.org.clone())
            .and_modify(|r| {
                if rank(rule.role) < rank(*r) {
                    *r = rule.role;
                }
            })
            .or_insert(rule.role);
    }
    best
}

/// The string values of the role claims: each a list of strings or one string.
fn role_values(claims: &HashMap<String, serde_json::Value>, names: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for name in names {
        let value = claims.get(name).or_else(|| {
            let mut parts = name.split('.');
            let first = claims.get(parts.next()?)?;
            parts.try_fold(first, |v, p| v.get(p))
        });
        match value {
            Some(serde_json::Value::String(s)) => out.push(s.clone()),
            Some(serde_json::Value::Array(items)) => {
                out.extend(items.iter().filter_map(|v| v.as_str()).map(str::to_owned))
            }
            _ => {}
        }
    }
    out
}

/// The reason an ID token was refused, in words.
fn refusal(e: &ClaimsVerificationError) -> String {
    match e {
        ClaimsVerificationError::Expired(_) => "The sign-in token has expired.".to_owned(),
        ClaimsVerificationError::InvalidAudience(_) => {
            "The sign-in token was issued for another application (wrong audience).".to_owned()
        }
        ClaimsVerificationError::InvalidIssuer(_) => {
            "The sign-in token comes from another provider (wrong issuer).".to_owned()
        }
        ClaimsVerificationError::InvalidNonce(_) => {
            "The sign-in token does not belong to the sign-in this browser started (wrong nonce)."
                .to_owned()
        }
        ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        ) => "The sign-in token is signed with a key the provider does not publish.".to_owned(),
        ClaimsVerificationError::SignatureVerification(_) => {
            "The sign-in token's signature is not valid.".to_owned()
        }
        other => format!("The sign-in token was refused ({other})."),
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_rules_parse() {
        let r: RoleRule = "iso20k-acme-admins=acme:admin".parse().unwrap();
        assert_eq!(r.value, "iso20k-acme-admins");
        assert_eq!(r.org, "acme");
        assert_eq!(r.role, Role::Admin);
        let dn: RoleRule = "cn=auditors,ou=groups=acme:auditor".parse().unwrap();
        assert_eq!(dn.value, "cn=auditors,ou=groups");
        assert!("acme:admin".parse::<RoleRule>().is_err());
        assert!("g=acme:owner".parse::<RoleRule>().is_err());
        assert!("g=Not A Slug:viewer".parse::<RoleRule>().is_err());
    }

    #[test]
    fn the_best_role_wins() {
        let rules: Vec<RoleRule> = ["v=acme:viewer", "a=acme:admin", "m=beta:manager"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let got = mapped_roles(&rules, &["v".to_owned(), "a".to_owned()]);
        assert_eq!(got.get("acme"), Some(&Role::Admin));
        assert_eq!(got.get("beta"), None);
    }

    #[test]
    fn role_claims_nest_and_take_strings() {
        let claims: HashMap<String, serde_json::Value> =
            serde_json::from_value(serde_json::json!({
                "groups": ["a", "b", 3],
                "roles": "c",
                "realm_access": {"roles": ["d"]},
                "https://example.com/roles": ["e"],
            }))
            .unwrap();
        let names: Vec<String> = [
            "groups",
            "roles",
            "realm_access.roles",
            "https://example.com/roles",
            "missing",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(role_values(&claims, &names), ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn the_state_cookie_is_signed_and_expires() {
        let sso = Sso::new(SsoConfig::new("http://127.0.0.1:1", "c", None));
        let pending = Pending {
            state: "s".into(),
            nonce: "n".into(),
            verifier: "v".into(),
            next: Some("/orgs".into()),
            expires: jiff::Timestamp::now().as_second() + 60,
        };
        let sealed = sso.seal(&pending);
        assert_eq!(sso.open(&sealed).unwrap().state, "s");
        let (body, _) = sealed.split_once('.').unwrap();
        assert!(sso.open(&format!("{body}.AAAA")).is_none());
        let other = Sso::new(SsoConfig::new("http://127.0.0.1:1", "c", None));
        assert!(
            other.open(&sealed).is_none(),
            "another key does not open it"
        );
        let old = Pending {
            expires: jiff::Timestamp::now().as_second() - 1,
            ..pending
        };
        assert!(sso.open(&sso.seal(&old)).is_none());
    }
}
