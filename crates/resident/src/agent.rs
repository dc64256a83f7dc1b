//! The signing agent in the tray: it listens on 127.0.0.1 as soon as a bot has been issued a
//! placeholder (`latchkey agent issue`, or the key's card), and not before, so a Latchkey with no
//! bots opens no port. `LATCHKEY_AGENT_LISTEN` moves it off the default 127.0.0.1:18300 (loopback
//! only; anything else is refused). A foreground `latchkey agent` on the same port keeps it: the
//! resident logs that and tries again after the next change to the store.

use std::sync::Arc;

use latchkey_core::agent::{self, server, Agent, AgentBots};
use latchkey_core::exchange::SystemClock;
use latchkey_core::services::Services;
use latchkey_core::store::Store;
use tokio::sync::Mutex;

#[derive(Clone)]
pub struct Resident {
    services: Arc<Services>,
    running: Arc<Mutex<bool>>,
}

impl Resident {
    pub fn new(services: Arc<Services>) -> Resident {
        Resident { services, running: Arc::new(Mutex::new(false)) }
    }

    /// Starts the listener if bots exist and it does not run yet.
    pub async fn start_if_bots(&self) {
        let mut running = self.running.lock().await;
        if *running {
            return;
        }
        match self.start().await {
            Ok(true) => *running = true,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "the signing agent did not start"),
        }
    }

    async fn start(&self) -> Result<bool, String> {
        let services = self.services.clone();
        let prepared = tokio::task::spawn_blocking(move || {
            let keychain = services.keychain.clone();
            let bots = AgentBots::new(services.store.clone(), keychain.clone()).bots().map_err(|e| e.to_string())?;
            // Bots issued for a server's agent are not this machine's to serve.
            if bots.iter().all(|b| b.host.is_some()) {
                return Ok(None);
            }
            let root = agent::placeholders::root_secret(keychain.as_ref()).map_err(|e| e.to_string())?;
            // Its own connection: writes by the window or the CLI show in its `data_version` at once.
            let store = Arc::new(Store::open(services.store.path()).map_err(|e| e.to_string())?);
            // Its audit entries (counts, refusals) move the log's anchor like every other writer's.
            store.anchor_audit_in(keychain.clone());
            let agent = Agent::new(store, keychain, root, services.client.clone(), Arc::new(SystemClock))
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(Some(Arc::new(agent)))
        })
        .await
        .map_err(|e| e.to_string())??;
        let Some(agent) = prepared else { return Ok(false) };
        let addr = agent::listen_address().map_err(|e| e.to_string())?;
        let listener = server::bind(addr).await.map_err(|e| e.to_string())?;
        tracing::info!(%addr, "signing agent listening");
        let running = self.running.clone();
        tokio::spawn(async move {
            if let Err(e) = server::serve(agent, listener, std::future::pending()).await {
                tracing::error!(error = %e, "the signing agent stopped");
            }
            *running.lock().await = false;
        });
        Ok(true)
    }
}
