//! A simulator answer before it becomes an HTTP response, so the request log can record its code.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub(crate) struct Reply {
    pub status: u16,
    pub body: String,
    pub code: String,
    pub headers: Vec<(&'static str, String)>,
    pub content_type: &'static str,
}

impl Reply {
    pub fn json(status: u16, code: impl Into<String>, body: Value) -> Self {
        Reply {
            status,
            body: body.to_string(),
            code: code.into(),
            headers: Vec::new(),
            content_type: "application/json",
        }
    }

    pub fn raw(status: u16, code: impl Into<String>, body: impl Into<String>, content_type: &'static str) -> Self {
        Reply { status, body: body.into(), code: code.into(), headers: Vec::new(), content_type }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The same JSON object with a `"padding"` field first, so the body is `bytes` long (or its
    /// natural length, if that is longer).
    pub fn padded_to(mut self, bytes: usize) -> Self {
        if let Some(rest) = self.body.strip_prefix('{') {
            let comma = if rest.trim_start().starts_with('}') { "" } else { "," };
            // `{"padding":"` + fill + `"` + comma + rest
            let fill = "x".repeat(bytes.saturating_sub(12 + comma.len() + rest.len() + 1));
            self.body = format!("{{\"padding\":\"{fill}\"{comma}{rest}");
        }
        self
    }

    pub fn not_found() -> Self {
        Reply::raw(404, "404", "Not Found", "text/plain")
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, self.body).into_response();
        let headers = response.headers_mut();
        headers.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
        response
    }
}
