//! Single sign-on against a small OpenID provider served by the test on 127.0.0.1: discovery,
//! a JWKS, a token endpoint that checks PKCE and lets each code be used once, and ID tokens
//! signed with RSA keys kept next to this file (test keys, nothing else).

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::State;
use axum::routing::{get, post};
use base64::Engine as _;
use iso20k_server::sso::{IdToken, OtherClaims, SsoConfig};
use openidconnect::core::{
    CoreGenderClaim, CoreHmacKey, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey,
};
use openidconnect::{IdTokenClaims, JsonWebKeyId, JsonWebKeySet, PrivateSigningKey as _};
use sha2::Digest as _;

use super::*;

const KEYS: [(&str, &str); 3] = [
    ("k1", include_str!("sso/key1.pem")),
    ("k2", include_str!("sso/key2.pem")),
    // Signed with key 1's material under a kid the provider never publishes.
    ("k3", include_str!("sso/key1.pem")),
];

struct Grant {
    challenge: String,
    claims: Value,
    kid: &'static str,
}

struct Idp {
    issuer: String,
    published: Vec<&'static str>,
    grants: HashMap<String, Grant>,
    jwks_fetches: usize,
    next_code: usize,
    /// How each token request authenticated the client: its `Authorization` header and the
    /// `client_id` in its body.
    token_requests: Vec<(Option<String>, Option<String>)>,
}

type Shared = Arc<Mutex<Idp>>;

fn key(kid: &str) -> CoreRsaPrivateSigningKey {
    let pem = KEYS.iter().find(|k| k.0 == kid).unwrap().1;
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.to_owned()))).unwrap()
}

async fn discovery(State(idp): State<Shared>) -> axum::Json<Value> {
    let issuer = idp.lock().unwrap().issuer.clone();
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks(State(idp): State<Shared>) -> axum::Json<Value> {
    let mut idp = idp.lock().unwrap();
    idp.jwks_fetches += 1;
    let keys = idp
        .published
        .iter()
        .map(|kid| key(kid).as_verification_key())
        .collect();
    axum::Json(serde_json::to_value(JsonWebKeySet::new(keys)).unwrap())
}

async fn token(
    State(idp): State<Shared>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> axum::response::Response {
    idp.lock().unwrap().token_requests.push((
        headers
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap().to_owned()),
        form.get("client_id").cloned(),
    ));
    use axum::response::IntoResponse as _;
    let refuse = |why: &str| {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_grant", "error_description": why})),
        )
            .into_response()
    };
    let grant = idp
        .lock()
        .unwrap()
        .grants
        .remove(form.get("code").map_or("", String::as_str));
    let Some(grant) = grant else {
        return refuse("unknown or used code");
    };
    let verifier = form.get("code_verifier").map_or("", String::as_str);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    if challenge != grant.challenge {
        return refuse("PKCE verifier does not match");
    }
    let claims: IdTokenClaims<OtherClaims, CoreGenderClaim> =
        serde_json::from_value(grant.claims).unwrap();
    // `hs256`: signed with the client secret instead of a key of the provider's.
    let id_token = if grant.kid == "hs256" {
        IdToken::new(
            claims,
            &CoreHmacKey::new("s3cret".as_bytes()),
            CoreJwsSigningAlgorithm::HmacSha256,
            None,
            None,
        )
    } else {
        IdToken::new(
            claims,
            &key(grant.kid),
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            None,
            None,
        )
    }
    .unwrap();
    axum::Json(json!({
        "access_token": "at",
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token.to_string(),
    }))
    .into_response()
}

async fn provider() -> Shared {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let idp = Arc::new(Mutex::new(Idp {
        issuer,
        published: vec!["k1"],
        grants: HashMap::new(),
        jwks_fetches: 0,
        next_code: 0,
        token_requests: Vec::new(),
    }));
    let router = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .with_state(idp.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    idp
}

fn query(url: &str) -> HashMap<String, String> {
    let q = url.split_once('?').map_or("", |p| p.1);
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

/// The provider's part: the person signs in as `email`, and the provider remembers a code for
/// the authorization request at `location`, whose ID token has `patch` over the usual claims
/// (a null removes one).
fn grant(idp: &Shared, location: &str, email: &str, patch: Value, kid: &'static str) -> String {
    let q = query(location);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["response_type"], "code");
    assert!(q["scope"].split(' ').any(|s| s == "openid"));
    let mut idp = idp.lock().unwrap();
    let now = jiff::Timestamp::now().as_second();
    let mut claims = json!({
        "iss": idp.issuer,
        "aud": ["iso20k"],
        "exp": now + 300,
        "iat": now,
        "sub": email,
        "email": email,
        "email_verified": true,
        "name": "Sam Single",
        "nonce": q["nonce"],
        "groups": ["acme-viewers"],
    });
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    idp.next_code += 1;
    let code = format!("code-{}", idp.next_code);
    idp.grants.insert(
        code.clone(),
        Grant {
            challenge: q["code_challenge"].clone(),
            claims,
            kid,
        },
    );
    code
}

/// A browser's cookie jar, as far as these tests need one.
#[derive(Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn take(&mut self, reply: &Reply) {
        for set in reply.headers.get_all(header::SET_COOKIE) {
            let first = set.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = first.split_once('=').unwrap();
            self.0.retain(|(n, _)| n != name);
            if !value.is_empty() {
                self.0.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|c| c.0 == name).map(|c| c.1.as_str())
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

async fn get_with(router: &Router, uri: &str, jar: &Jar) -> Reply {
    let cookies = jar.header();
    let extra: Vec<(&str, &str)> = if cookies.is_empty() {
        vec![]
    } else {
        vec![("cookie", cookies.as_str())]
    };
    send(router, Method::GET, uri, &Cred::None, None, &extra).await
}

/// Starts a sign-in: the provider's authorization URL, with the state cookie in `jar`.
async fn start(router: &Router, jar: &mut Jar, next: Option<&str>) -> String {
    let uri = match next {
        Some(n) => format!("/sso/login?next={}", enc(n)),
        None => "/sso/login".to_owned(),
    };
    let reply = get_with(router, &uri, jar).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    jar.take(&reply);
    assert!(jar.get("iso20k_sso_state").is_some());
    reply.headers[header::LOCATION].to_str().unwrap().to_owned()
}

async fn callback(router: &Router, jar: &mut Jar, code: &str, state: &str) -> Reply {
    let reply = get_with(
        router,
        &format!("/sso/callback?code={}&state={}", enc(code), enc(state)),
        jar,
    )
    .await;
    jar.take(&reply);
    reply
}

fn sso_config(idp: &Shared) -> Config {
    let issuer = idp.lock().unwrap().issuer.clone();
    let mut sso = SsoConfig::new(&issuer, "iso20k", Some("s3cret".to_owned()));
    sso.public_url = Some("http://iso20k.test".to_owned());
    sso.roles = ["acme-admins=acme:admin", "acme-viewers=acme:viewer"]
        .iter()
        .map(|r| r.parse().unwrap())
        .collect();
    Config {
        sso: Some(sso),
        ..quiet()
    }
}

/// A complete sign-in as `email` with `patch` over the usual claims: the callback's answer.
async fn sign_in_as(
    router: &Router,
    idp: &Shared,
    email: &str,
    patch: Value,
    kid: &'static str,
) -> (Reply, Jar) {
    let mut jar = Jar::default();
    let location = start(router, &mut jar, None).await;
    let code = grant(idp, &location, email, patch, kid);
    let reply = callback(router, &mut jar, &code, &query(&location)["state"]).await;
    (reply, jar)
}

async fn whoami(router: &Router, jar: &Jar) -> Value {
    let reply = get_with(router, "/api/v1/session", jar).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    reply.json()
}

fn refused(reply: &Reply, status: StatusCode, words: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    let page = reply.html();
    assert!(page.contains(words), "no `{words}` in {page}");
    assert!(page.contains("<html"), "a page, not bare text");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_sign_on_provisions_maps_roles_and_signs_out_at_the_provider() {
    let idp = provider().await;
    for f in fixtures(sso_config(&idp)).await {
        let r = &f.router;

        // The sign-in page offers it, and the password form stays (no --sso-only).
        let page = get_with(r, "/login?next=/orgs/acme", &Jar::default()).await;
        assert!(page.html().contains("/sso/login?next=%2Forgs%2Facme"));
        assert!(page.html().contains("name=\"password\""));

        // First sign-in: the account is created and the group gives viewer in acme.
        let mut jar = Jar::default();
        let location = start(r, &mut jar, Some("/orgs/acme/kb")).await;
        let issuer = idp.lock().unwrap().issuer.clone();
        assert!(
            location.starts_with(&format!("{issuer}/auth?")),
            "{location}"
        );
        let q = query(&location);
        assert_eq!(q["client_id"], "iso20k");
        assert_eq!(q["redirect_uri"], "http://iso20k.test/sso/callback");
        let code = grant(&idp, &location, "New.Person@Acme.example", json!({}), "k1");
        let state = q["state"].clone();
        let state_cookie = jar.get("iso20k_sso_state").unwrap().to_owned();
        let reply = callback(r, &mut jar, &code, &state).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
        assert_eq!(reply.headers[header::LOCATION], "/orgs/acme/kb");
        assert!(jar.get("iso20k_sso_state").is_none(), "the state is spent");
        assert!(
            jar.get("iso20k_sso_id").is_some(),
            "the ID token is kept for sign-out"
        );
        let me = whoami(r, &jar).await;
        assert_eq!(me["user"]["email"], "new.person@acme.example");
        assert_eq!(me["user"]["name"], "Sam Single");
        assert_eq!(me["orgs"][0]["slug"], "acme");
        assert_eq!(me["orgs"][0]["role"], "viewer");
        let user = f
            .store()
            .user_by_email("new.person@acme.example")
            .await
            .unwrap()
            .unwrap();
        assert!(
            user.password_hash.is_none(),
            "no password for an SSO account"
        );

        // The same answer again: the provider refuses the used code.
        let mut replay = Jar::default();
        replay
            .0
            .push(("iso20k_sso_state".to_owned(), state_cookie.clone()));
        let again = callback(r, &mut replay, &code, &state).await;
        refused(&again, StatusCode::BAD_REQUEST, "used already");

        // A wrong state, no state cookie, a changed cookie.
        let mut j = Jar::default();
        let loc = start(r, &mut j, None).await;
        let code = grant(&idp, &loc, "new.person@acme.example", json!({}), "k1");
        let wrong = callback(r, &mut j, &code, "not-the-state").await;
        refused(&wrong, StatusCode::BAD_REQUEST, "wrong state");
        let none = callback(r, &mut Jar::default(), &code, &query(&loc)["state"]).await;
        refused(
            &none,
            StatusCode::BAD_REQUEST,
            "not started in this browser",
        );
        let mut forged = Jar::default();
        forged
            .0
            .push(("iso20k_sso_state".to_owned(), format!("{state_cookie}x")));
        let changed = callback(r, &mut forged, &code, &state).await;
        refused(&changed, StatusCode::BAD_REQUEST, "cookie was changed");
        // An answer that says it comes from another provider (RFC 9207).
        let mixed = get_with(
            r,
            &format!(
                "/sso/callback?code=c&state=s&iss={}",
                enc("https://evil.example")
            ),
            &Jar::default(),
        )
        .await;
        refused(&mixed, StatusCode::BAD_REQUEST, "another sign-in provider");
        // No code at all, and the provider's own refusal.
        let bare = get_with(r, "/sso/callback", &Jar::default()).await;
        refused(&bare, StatusCode::BAD_REQUEST, "no code");
        let denied = get_with(
            r,
            "/sso/callback?error=access_denied&error_description=User%20said%20no",
            &Jar::default(),
        )
        .await;
        refused(
            &denied,
            StatusCode::FORBIDDEN,
            "access_denied: User said no",
        );

        // ID tokens the server must refuse.
        let cases = [
            (json!({"aud": ["another-app"]}), "another application"),
            (
                json!({"exp": jiff::Timestamp::now().as_second() - 600}),
                "expired",
            ),
            (json!({"nonce": "someone-elses"}), "wrong nonce"),
            (json!({"iss": "http://127.0.0.1:1"}), "wrong issuer"),
        ];
        for (patch, words) in cases {
            let (reply, jar) = sign_in_as(r, &idp, "new.person@acme.example", patch, "k1").await;
            refused(&reply, StatusCode::BAD_REQUEST, words);
            assert!(jar.get(auth::SESSION_COOKIE).is_none());
        }
        for patch in [
            json!({"email_verified": false}),
            json!({"email_verified": null}),
        ] {
            let (reply, _) = sign_in_as(r, &idp, "new.person@acme.example", patch, "k1").await;
            refused(&reply, StatusCode::FORBIDDEN, "is verified");
        }
        let (reply, _) = sign_in_as(r, &idp, "x@acme.example", json!({}), "hs256").await;
        refused(&reply, StatusCode::BAD_REQUEST, "signature is not valid");
        let (reply, _) = sign_in_as(r, &idp, "x@acme.example", json!({"email": null}), "k1").await;
        refused(&reply, StatusCode::FORBIDDEN, "e-mail address");

        // The provider rotates its key: an unknown kid makes the server fetch the keys again,
        // once; a kid still unknown right after is refused without another fetch. Only on the
        // first engine: every engine's server shares the one provider state the configuration
        // holds, which has seen the rotation by the second round.
        let first_round = idp.lock().unwrap().published == ["k1"];
        if first_round {
            let fetches = idp.lock().unwrap().jwks_fetches;
            idp.lock().unwrap().published = vec!["k1", "k2"];
            let (reply, _) = sign_in_as(r, &idp, "new.person@acme.example", json!({}), "k2").await;
            assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
            assert_eq!(idp.lock().unwrap().jwks_fetches, fetches + 1);
            let (reply, _) = sign_in_as(r, &idp, "new.person@acme.example", json!({}), "k3").await;
            refused(
                &reply,
                StatusCode::BAD_REQUEST,
                "key the provider does not publish",
            );
            assert_eq!(
                idp.lock().unwrap().jwks_fetches,
                fetches + 1,
                "rate-limited"
            );
        }

        // An existing account is matched by e-mail; the mapping sets its role in acme every
        // time, and withdraws it when no group maps; globex, which the mapping does not
        // name, is left alone.
        let (reply, jar) = sign_in_as(
            r,
            &idp,
            "Outsider@acme.example",
            json!({"groups": ["acme-admins", "acme-viewers"]}),
            "k1",
        )
        .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
        let roles: BTreeSet<String> = whoami(r, &jar).await["orgs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                format!(
                    "{}:{}",
                    o["slug"].as_str().unwrap(),
                    o["role"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            roles,
            BTreeSet::from(["acme:admin".to_owned(), "globex:admin".to_owned()])
        );
        let (reply, jar) =
            sign_in_as(r, &idp, "viewer@acme.example", json!({"groups": []}), "k1").await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
        assert_eq!(reply.headers[header::LOCATION], "/orgs");
        assert_eq!(whoami(r, &jar).await["orgs"], json!([]));
        // Signed in, but nowhere to go: the page says so.
        let orgs = get_with(r, "/orgs", &jar).await;
        assert_eq!(orgs.status, StatusCode::OK);
        assert!(
            orgs.html().contains("no role in any organisation"),
            "{}",
            orgs.html()
        );
        // The last admin of acme stays admin whatever the provider says; once someone else is
        // admin (Outsider, above), the mapping may take the role.
        let (_, jar) = sign_in_as(
            r,
            &idp,
            "outsider@acme.example",
            json!({"groups": []}),
            "k1",
        )
        .await;
        let acme = |me: Value| {
            me["orgs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["slug"] == "acme")
                .map(|o| o["role"].as_str().unwrap().to_owned())
        };
        assert_eq!(acme(whoami(r, &jar).await), None, "admin@ is still admin");
        let (_, jar) = sign_in_as(r, &idp, "admin@acme.example", json!({"groups": []}), "k1").await;
        assert_eq!(
            acme(whoami(r, &jar).await).as_deref(),
            Some("admin"),
            "the last admin stays"
        );
        // The external auditor's time-limited access is the administrators' to manage.
        let (reply, jar) = sign_in_as(
            r,
            &idp,
            "external@acme.example",
            json!({"groups": []}),
            "k1",
        )
        .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert_eq!(whoami(r, &jar).await["orgs"][0]["role"], "auditor");

        // Signing out ends the session and goes on to the provider's end-session endpoint.
        let (_, jar) = sign_in_as(r, &idp, "new.person@acme.example", json!({}), "k1").await;
        let page = get_with(r, "/orgs/acme", &jar).await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = whoami(r, &jar).await["csrf_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let body = format!("csrf={}", enc(&csrf));
        let cookies = jar.header();
        let out = send(
            r,
            Method::POST,
            "/logout",
            &Cred::None,
            Some(("application/x-www-form-urlencoded", body.into_bytes())),
            &[("cookie", cookies.as_str())],
        )
        .await;
        assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.text());
        let to = out.headers[header::LOCATION].to_str().unwrap();
        assert!(to.starts_with(&format!("{issuer}/logout?")), "{to}");
        let q = query(to);
        assert_eq!(q["id_token_hint"], jar.get("iso20k_sso_id").unwrap());
        assert_eq!(q["post_logout_redirect_uri"], "http://iso20k.test/login");
        let after = get_with(r, "/api/v1/session", &jar).await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_only_refuses_passwords_but_lets_the_break_glass_administrator_in() {
    let mut sso = SsoConfig::new("http://127.0.0.1:9", "iso20k", None);
    sso.public_url = Some("http://iso20k.test".to_owned());
    let config = Config {
        sso: Some(sso),
        sso_only: true,
        break_glass: vec!["admin@acme.example".to_owned()],
        ..quiet()
    };
    for f in fixtures(config).await {
        let r = &f.router;
        let hash = auth::hash_password("correct horse battery").unwrap();
        for who in ["admin", "manager"] {
            let user = f
                .store()
                .user_by_email(&format!("{who}@acme.example"))
                .await
                .unwrap()
                .unwrap();
            f.store().set_password(user.id, &hash).await.unwrap();
        }
        // The form is hidden; the single sign-on button and a break-glass link are shown.
        let page = get_with(r, "/login", &Jar::default()).await.html();
        assert!(!page.contains("name=\"password\""), "{page}");
        assert!(page.contains("href=\"/sso/login\""));
        assert!(page.contains("/login?password=1"));
        let page = get_with(r, "/login?password=1", &Jar::default())
            .await
            .html();
        assert!(page.contains("name=\"password\""));

        // A manager's right password is refused, on the page and through the API.
        let reply = post_form(
            r,
            "/login",
            None,
            &[
                ("email", "manager@acme.example"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
        assert!(reply.html().contains("Password sign-in is turned off"));
        assert!(reply.headers.get(header::SET_COOKIE).is_none());
        let api = call(
            r,
            Method::POST,
            "/api/v1/session",
            &Cred::None,
            Some(json!({"email": "manager@acme.example", "password": "correct horse battery"})),
        )
        .await;
        assert_eq!(api.status, StatusCode::FORBIDDEN, "{}", api.text());

        // The break-glass administrator gets in, and still needs the right password.
        let wrong = post_form(
            r,
            "/login",
            None,
            &[
                ("email", "admin@acme.example"),
                ("password", "wrong horse battery"),
            ],
        )
        .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        let cookie = browser_sign_in(r, "Admin@acme.example", "correct horse battery").await;
        let me = call(
            r,
            Method::GET,
            "/api/v1/session",
            &Cred::Cookie { cookie, csrf: None },
            None,
        )
        .await;
        assert_eq!(me.json()["user"]["email"], "admin@acme.example");

        // With the provider unreachable, the start-up check says so, and single sign-on says
        // so in a page (502, not 500).
        let app = App::new(
            Arc::new(iso20k_store::open(&f.db.url).await.unwrap()),
            Config {
                sso: Some({
                    let mut sso = SsoConfig::new("http://127.0.0.1:9", "iso20k", None);
                    sso.roles = vec!["g=nowhere:viewer".parse().unwrap()];
                    sso
                }),
                ..quiet()
            },
        );
        let problems = app.check_sso().await;
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("could not be used"), "{problems:?}");
        assert!(
            problems[1].contains("`nowhere`, which does not exist"),
            "{problems:?}"
        );
        let down = get_with(r, "/sso/login", &Jar::default()).await;
        refused(&down, StatusCode::BAD_GATEWAY, "could not be used");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_client_signs_in_with_pkce_alone() {
    let idp = provider().await;
    let issuer = idp.lock().unwrap().issuer.clone();
    let mut sso = SsoConfig::new(&issuer, "iso20k-public", None);
    sso.roles = vec!["acme-viewers=acme:viewer".parse().unwrap()];
    let config = Config {
        sso: Some(sso),
        ..quiet()
    };
    for f in fixtures(config).await {
        let r = &f.router;
        // No --public-url: the redirect URI is built from the request's Host.
        let reply = send(
            r,
            Method::GET,
            "/sso/login",
            &Cred::None,
            None,
            &[("host", "iso20k.internal:8020")],
        )
        .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
        let location = reply.headers[header::LOCATION].to_str().unwrap().to_owned();
        assert_eq!(
            query(&location)["redirect_uri"],
            "http://iso20k.internal:8020/sso/callback"
        );
        let mut jar = Jar::default();
        jar.take(&reply);
        let before = idp.lock().unwrap().token_requests.len();
        let mut patch = json!({});
        patch["aud"] = json!(["iso20k-public"]);
        let code = grant(&idp, &location, "pub@acme.example", patch, "k1");
        let cookies = jar.header();
        let reply = send(
            r,
            Method::GET,
            &format!(
                "/sso/callback?code={code}&state={}",
                enc(&query(&location)["state"])
            ),
            &Cred::None,
            None,
            &[
                ("host", "iso20k.internal:8020"),
                ("cookie", cookies.as_str()),
            ],
        )
        .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
        jar.take(&reply);
        assert_eq!(whoami(r, &jar).await["orgs"][0]["role"], "viewer");
        let requests = &idp.lock().unwrap().token_requests;
        assert_eq!(requests.len(), before + 1);
        let (authorization, client_id) = &requests[before];
        assert_eq!(*authorization, None, "no secret to send");
        assert_eq!(client_id.as_deref(), Some("iso20k-public"));
    }
}
