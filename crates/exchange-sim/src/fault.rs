//! Faults the simulator injects on request, so the client's handling of each can be tested.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum FaultKind {
    /// Answer normally, but only after this delay.
    #[serde(rename_all = "camelCase")]
    Latency { ms: u64 },
    /// Answer with this HTTP status (e.g. 502) and an HTML body, as a load balancer would.
    #[serde(rename_all = "camelCase")]
    ServerError { status: u16 },
    /// HTTP 429 with the exchange's rate-limit body and `Retry-After`.
    #[serde(rename_all = "camelCase")]
    RateLimited { retry_after_secs: u64 },
    /// Never answer (well, after a minute): the client's timeout must fire.
    Hang,
    /// HTTP 200 with a truncated JSON body.
    MalformedJson,
    /// The normal answer, padded with a JSON field until the body is `bytes` long: a well-formed
    /// answer far too big to be a real one.
    #[serde(rename_all = "camelCase")]
    HugeBody { bytes: usize },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Only requests whose path starts with this; all exchange requests when absent.
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// Only requests with this method (`POST`), where one path serves several (OKX's
    /// `subaccount/apikey` lists with GET and creates with POST); every method when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// How many requests it hits before it clears itself; forever when absent.
    #[serde(default)]
    pub times: Option<u32>,
    /// The exchange handles the request (a key is made, a key is deleted) and only then does the
    /// fault strike: a create that times out although the key exists, a delete answered 5xx
    /// although it happened. For `hang` and `serverError`.
    #[serde(default)]
    pub after_acting: bool,
}

impl Fault {
    pub fn new(kind: FaultKind) -> Self {
        Fault { kind, path_prefix: None, method: None, times: None, after_acting: false }
    }

    pub fn on(mut self, path_prefix: &str) -> Self {
        self.path_prefix = Some(path_prefix.to_owned());
        self
    }

    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    /// The exchange acts on the request first; the fault replaces its answer.
    pub fn after_acting(mut self) -> Self {
        self.after_acting = true;
        self
    }

    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }

    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        self.path_prefix.as_deref().is_none_or(|prefix| path.starts_with(prefix))
            && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}
