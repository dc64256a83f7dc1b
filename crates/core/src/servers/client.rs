//! The HTTP side of OpenBao: one `reqwest` client per server, sign-in, and the mapping of
//! transport failures and OpenBao's status codes to [`ServerError`].
//!
//! A standby node that cannot forward (during a failover) redirects to the active node, as Vault's
//! own client expects: redirects are followed (three at most) to https addresses, or to plain http
//! on loopback only, so the token never leaves TLS; any other redirect is an error that names the
//! address. Request bodies with secrets are built in
//! zeroizing buffers; the copy `reqwest` sends from, and the response buffer, are not zeroized
//! (a limit of the HTTP stack).

use std::time::Duration;

use reqwest::header::{HeaderValue, CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::servers::error::{policy_line, PathKind};
use crate::servers::settings::{AuthMethod, SettingField};
use crate::servers::{ServerError, ServerSettings};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
const TOKEN_HEADER: &str = "X-Vault-Token";

pub struct BaoClient {
    settings: ServerSettings,
    http: reqwest::Client,
    /// The token, or the userpass password (see `settings.auth`).
    secret: SecretString,
    /// The token a userpass sign-in returned, in memory only.
    session: tokio::sync::Mutex<Option<SecretString>>,
    /// Requests sent, for the benchmarks' round-trip bounds.
    sent: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for BaoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaoClient").field("settings", &self.settings).field("secret", &"[REDACTED]").finish()
    }
}

/// An answer from OpenBao: its status and body (which may hold a secret, hence zeroized).
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Zeroizing<Vec<u8>>,
}

impl Reply {
    pub fn json<'a, T: Deserialize<'a>>(&'a self, what: &str) -> Result<T, ServerError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| ServerError::Unexpected { what: what.into(), detail: format!("{} (HTTP {})", e, self.status) })
    }

    /// The token a sign-in (userpass, AppRole) returned.
    pub fn client_token(&self, what: &str) -> Result<SecretString, ServerError> {
        #[derive(Deserialize)]
        struct Auth {
            client_token: SecretString,
        }
        #[derive(Deserialize)]
        struct LoginReply {
            auth: Auth,
        }
        Ok(self.json::<LoginReply>(what)?.auth.client_token)
    }

    /// OpenBao's `errors` list, in one line.
    pub fn message(&self) -> String {
        #[derive(Deserialize)]
        struct Errors {
            #[serde(default)]
            errors: Vec<String>,
        }
        let text = match serde_json::from_slice::<Errors>(&self.body) {
            Ok(e) if !e.errors.is_empty() => e.errors.join("; "),
            Ok(_) => "no details given".into(),
            // Not OpenBao's JSON: the start of the body (a proxy's page), never a secret of ours.
            Err(_) => String::from_utf8_lossy(&self.body[..self.body.len().min(200)]).into_owned(),
        };
        // "1 error occurred:\n\t* permission denied\n\n" → "permission denied".
        let text = text.replace("1 error occurred:", "").replace("\n\t* ", " ");
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// Serializes a request body into a zeroizing buffer.
pub(crate) fn body(value: &impl serde::Serialize) -> Zeroizing<Vec<u8>> {
    let mut buf = Zeroizing::new(Vec::with_capacity(1024));
    // Writing plain data into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *buf, value);
    buf
}

impl BaoClient {
    /// A client for the (validated) settings; `secret` is the token or the userpass password.
    pub fn new(settings: ServerSettings, secret: SecretString) -> Result<Self, ServerError> {
        let settings = settings.validate()?;
        if secret.expose_secret().trim().is_empty() {
            return Err(ServerError::Setting {
                field: SettingField::Credential,
                message: match settings.auth {
                    AuthMethod::Token => "Enter the OpenBao token Latchkey should use.".into(),
                    AuthMethod::Userpass { .. } => "Enter the OpenBao password Latchkey should use.".into(),
                },
            });
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let safe = match attempt.url().scheme() {
                    "https" => true,
                    "http" => attempt.url().host().is_some_and(|h| match h {
                        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
                        url::Host::Ipv4(ip) => ip.is_loopback(),
                        url::Host::Ipv6(ip) => ip.is_loopback(),
                    }),
                    _ => false,
                };
                if attempt.previous().len() > 3 || !safe {
                    attempt.stop()
                } else {
                    attempt.follow()
                }
            }));
        if let Some(path) = &settings.ca_file {
            let unusable = |detail: String| {
                ServerError::Setting {
                field: SettingField::CaFile,
                message: format!(
                    "The CA file {} is not usable ({detail}): give the PEM file of the CA that signed the server's certificate.",
                    path.display()
                ),
            }
            };
            let pem = std::fs::read(path).map_err(|e| unusable(e.to_string()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| unusable(e.to_string()))?;
            if certs.is_empty() {
                return Err(unusable("no certificate in it".into()));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| ServerError::Unexpected {
            what: "setting up the HTTP client".into(),
            detail: e.to_string(),
        })?;
        Ok(BaoClient { settings, http, secret, session: tokio::sync::Mutex::new(None), sent: Default::default() })
    }

    pub fn settings(&self) -> &ServerSettings {
        &self.settings
    }

    /// How many requests this client sent so far (each one round trip).
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn addr(&self) -> &str {
        &self.settings.addr
    }

    /// One request to `/v1/<api_path>`, with `token` if given. Transport failures become errors;
    /// any HTTP status is returned for the caller to judge.
    pub(crate) async fn send(
        &self,
        method: Method,
        api_path: &str,
        body: Option<&[u8]>,
        token: Option<&SecretString>,
    ) -> Result<Reply, ServerError> {
        self.send_wrapped(method, api_path, body, token, None).await
    }

    /// [`Self::send`], asking OpenBao to wrap the answer in a single-use token living `wrap_ttl`.
    async fn send_wrapped(
        &self,
        method: Method,
        api_path: &str,
        body: Option<&[u8]>,
        token: Option<&SecretString>,
        wrap_ttl: Option<&str>,
    ) -> Result<Reply, ServerError> {
        let url = format!("{}/v1/{api_path}", self.addr());
        let mut req = self.http.request(method, url);
        if let Some(ttl) = wrap_ttl {
            req = req.header("X-Vault-Wrap-TTL", ttl);
        }
        if let Some(token) = token {
            // EXPOSE: the token goes in OpenBao's auth header, marked sensitive so no Debug shows it.
            let mut value = HeaderValue::from_str(token.expose_secret()).map_err(|_| ServerError::TokenRefused)?;
            value.set_sensitive(true);
            req = req.header(TOKEN_HEADER, value);
        }
        if let Some(body) = body {
            req = req.header(CONTENT_TYPE, "application/json").body(body.to_vec());
        }
        self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let resp = req.send().await.map_err(|e| self.transport(e))?;
        let status = resp.status();
        if status.is_redirection() {
            let location = resp.headers().get(LOCATION).and_then(|l| l.to_str().ok()).unwrap_or("another address");
            return Err(ServerError::Redirect { location: location.to_owned() });
        }
        let bytes = resp.bytes().await.map_err(|e| self.transport(e))?;
        let reply = Reply { status, body: Zeroizing::new(bytes.to_vec()) };
        // Plain http to an https listener: Go's server answers 400 with this sentence.
        if status == StatusCode::BAD_REQUEST && reply.message().contains("HTTP request to an HTTPS server") {
            return Err(ServerError::Tls {
                addr: self.addr().into(),
                detail: "the server speaks https on this port".into(),
                hint: "Use the https:// address.",
            });
        }
        Ok(reply)
    }

    fn transport(&self, e: reqwest::Error) -> ServerError {
        let addr = self.addr().to_owned();
        if e.is_timeout() {
            return ServerError::Timeout { addr, secs: REQUEST_TIMEOUT.as_secs() };
        }
        // The innermost cause says what happened ("Connection refused", "invalid peer certificate").
        let mut chain = Vec::new();
        let mut source: Option<&dyn std::error::Error> = Some(&e);
        while let Some(s) = source {
            chain.push(s.to_string());
            source = s.source();
        }
        let all = chain.join(": ").to_ascii_lowercase();
        let detail = chain.last().cloned().unwrap_or_default();
        if all.contains("certificate") || all.contains("unknownissuer") {
            ServerError::Tls {
                addr,
                detail,
                hint: "The server's certificate is not trusted: if a private CA signed it, give Latchkey that CA's PEM file (--ca-file).",
            }
        } else if all.contains("tls")
            || all.contains("handshake")
            || all.contains("corrupt message")
            || all.contains("invalidcontenttype")
        {
            ServerError::Tls {
                addr,
                detail,
                hint: "The server may not speak https on this port: check the address and port.",
            }
        } else {
            ServerError::Unreachable { addr, detail }
        }
    }

    /// The token to send: the configured one, or a userpass session's (signing in the first time).
    pub(crate) async fn token(&self) -> Result<SecretString, ServerError> {
        let AuthMethod::Userpass { username, mount } = &self.settings.auth else { return Ok(self.secret.clone()) };
        let mut session = self.session.lock().await;
        if let Some(token) = session.as_ref() {
            return Ok(token.clone());
        }
        #[derive(serde::Serialize)]
        struct Login<'a> {
            password: &'a str,
        }
        // EXPOSE: the password goes to OpenBao's userpass login only.
        let payload = body(&Login { password: self.secret.expose_secret() });
        let what = "the sign-in";
        let reply = self.send(Method::POST, &format!("auth/{mount}/login/{username}"), Some(&payload), None).await?;
        if !reply.status.is_success() {
            return Err(match reply.status.as_u16() {
                400 | 403 | 404 => ServerError::LoginRefused { username: username.clone(), mount: mount.clone() },
                _ => self.refusal(&reply, what),
            });
        }
        let token = reply.client_token(what)?;
        *session = Some(token.clone());
        Ok(token)
    }

    /// A request with Latchkey's token.
    pub(crate) async fn call(&self, method: Method, api_path: &str, body: Option<&[u8]>) -> Result<Reply, ServerError> {
        let token = self.token().await?;
        self.send(method, api_path, body, Some(&token)).await
    }

    /// A request with Latchkey's token whose answer comes back response-wrapped.
    pub(crate) async fn call_wrapped(
        &self,
        method: Method,
        api_path: &str,
        wrap_ttl: &str,
    ) -> Result<Reply, ServerError> {
        let token = self.token().await?;
        self.send_wrapped(method, api_path, None, Some(&token), Some(wrap_ttl)).await
    }

    /// The error for an answer no caller expected: sealed, uninitialised, or OpenBao's own words.
    pub(crate) fn refusal(&self, reply: &Reply, what: &str) -> ServerError {
        let message = reply.message();
        match reply.status.as_u16() {
            503 if message.contains("sealed") => ServerError::Sealed { addr: self.addr().into() },
            501 => ServerError::NotInitialized { addr: self.addr().into() },
            404 if message.contains("no handler for route") => {
                ServerError::MountNotFound { mount: self.settings.mount.clone() }
            }
            status => ServerError::Server { status, what: what.into(), message },
        }
    }

    /// A 403 on `path`: the token itself may be refused (expired, revoked), or only this path.
    /// `lookup-self`, which every token with the `default` policy may call, tells them apart.
    pub(crate) async fn denied(&self, path: &str, kinds: &[PathKind]) -> ServerError {
        match self.call(Method::GET, "auth/token/lookup-self", None).await {
            Ok(r) if r.status == StatusCode::FORBIDDEN => {
                if matches!(self.settings.auth, AuthMethod::Userpass { .. }) {
                    // The session token expired: sign in again next time.
                    *self.session.lock().await = None;
                }
                ServerError::TokenRefused
            }
            Err(e) => e,
            Ok(_) => self.permission_denied(path, kinds),
        }
    }

    pub(crate) fn permission_denied(&self, path: &str, kinds: &[PathKind]) -> ServerError {
        ServerError::PermissionDenied {
            denied: path.into(),
            needed: kinds.iter().map(|k| policy_line(&self.settings.mount, *k, &self.settings.prefix)).collect(),
        }
    }
}
