//! A 3-node OpenBao cluster on loopback with integrated (Raft) storage: three `bao server`
//! processes, initialised (one unseal key) and unsealed by the test, nodes 2 and 3 joined to node
//! 1, KV v2 at `secret/`. Each node can be killed by its PID; the rest stop on drop. Raft runs
//! with `performance_multiplier = 1` (tight timings, as for a LAN): a failover takes 2 to 3 s
//! instead of 8 to 16 s.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use super::free_port_pair;

pub struct Node {
    child: Option<Child>,
    pub addr: String,
    log: PathBuf,
}

pub struct Cluster {
    pub nodes: Vec<Node>,
    pub root: String,
    unseal_key: String,
    _dir: tempfile::TempDir,
    http: reqwest::Client,
    pub formed_in: Duration,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            if let Some(mut c) = n.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

const WAIT: Duration = Duration::from_secs(60);

impl Cluster {
    pub async fn start(bin: PathBuf) -> Cluster {
        let t0 = Instant::now();
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut nodes = Vec::new();
        for i in 1..=3 {
            let port = free_port_pair();
            let home = dir.path().join(format!("node{i}"));
            std::fs::create_dir_all(home.join("data")).expect("the node's folder");
            let config = format!(
                "storage \"raft\" {{\n  path = \"{data}\"\n  node_id = \"node{i}\"\n  performance_multiplier = 1\n}}\n\
                 listener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  cluster_address = \"127.0.0.1:{cport}\"\n  tls_disable = true\n}}\n\
                 api_addr = \"http://127.0.0.1:{port}\"\ncluster_addr = \"https://127.0.0.1:{cport}\"\n",
                data = home.join("data").display(),
                cport = port + 1,
            );
            let cfg = home.join("config.hcl");
            std::fs::write(&cfg, config).expect("the node's config");
            let log = home.join("bao.log");
            let out = std::fs::File::create(&log).expect("the node's log");
            let child = Command::new(&bin)
                .arg("server")
                .arg(format!("-config={}", cfg.display()))
                .env("HOME", &home)
                .env_remove("BAO_ADDR")
                .env_remove("VAULT_ADDR")
                .stdin(Stdio::null())
                .stdout(out.try_clone().expect("the log"))
                .stderr(out)
                .spawn()
                .expect("bao starts");
            nodes.push(Node { child: Some(child), addr: format!("http://127.0.0.1:{port}"), log });
        }
        // Initialising takes seconds: a request that timed out there could not be repeated.
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let mut cluster = Cluster {
            nodes,
            root: String::new(),
            unseal_key: String::new(),
            _dir: dir,
            http,
            formed_in: Duration::ZERO,
        };

        // Node 1: initialise with one key share, unseal, wait until it is active.
        let (status, init) = cluster
            .until(0, Method::PUT, "sys/init", Some(json!({ "secret_shares": 1, "secret_threshold": 1 })), |s, _| {
                s == 200
            })
            .await;
        assert_eq!(status, 200, "initialised: {init}");
        cluster.root = init["root_token"].as_str().expect("a root token").to_owned();
        cluster.unseal_key = init["keys_base64"][0].as_str().expect("an unseal key").to_owned();
        cluster.unseal(0).await;
        cluster.until(0, Method::GET, "sys/health", None, |s, _| s == 200).await;
        // Autopilot promotes a joined node to voter once it has been healthy this long (10 s by default).
        let (status, reply) = cluster
            .admin(
                0,
                Method::POST,
                "sys/storage/raft/autopilot/configuration",
                Some(json!({ "server_stabilization_time": "1s" })),
            )
            .await;
        assert_eq!(status, 204, "autopilot configured: {reply}");
        // Nodes 2 and 3 join node 1, then are unsealed with the same key.
        let leader = cluster.nodes[0].addr.clone();
        for i in 1..3 {
            cluster
                .until(i, Method::POST, "sys/storage/raft/join", Some(json!({ "leader_api_addr": leader })), |s, v| {
                    s == 200 && v["joined"] == true
                })
                .await;
            cluster.unseal(i).await;
        }
        for i in 1..3 {
            // 429: an unsealed standby.
            cluster.until(i, Method::GET, "sys/health", None, |s, _| s == 429).await;
        }
        // Joined nodes vote only once autopilot promotes them: before that, losing node 1 would
        // lose the quorum.
        cluster
            .until(0, Method::GET, "sys/storage/raft/configuration", None, |s, v| {
                let servers = v["data"]["config"]["servers"].as_array().cloned().unwrap_or_default();
                s == 200 && servers.len() == 3 && servers.iter().all(|n| n["voter"] == true)
            })
            .await;
        let (status, reply) = cluster
            .admin(0, Method::POST, "sys/mounts/secret", Some(json!({ "type": "kv", "options": { "version": "2" } })))
            .await;
        assert_eq!(status, 204, "KV v2 mounted: {reply}");
        // KV v2 upgrades its storage once after mounting: writable when a write goes through.
        for i in 0..3 {
            let path = format!("secret/data/ready-{i}");
            cluster.until(i, Method::POST, &path, Some(json!({ "data": { "ready": "yes" } })), |s, _| s == 200).await;
            cluster.until(i, Method::GET, "secret/data/ready-0", None, |s, _| s == 200).await;
        }
        cluster.formed_in = t0.elapsed();
        eprintln!("3-node OpenBao cluster formed in {} ms", cluster.formed_in.as_millis());
        cluster
    }

    async fn unseal(&self, i: usize) {
        let key = json!({ "key": self.unseal_key });
        self.until(i, Method::PUT, "sys/unseal", Some(key), |s, _| s == 200).await;
    }

    /// Repeats a call (token-less unless it is an admin path) until `done` holds, or fails the test.
    async fn until(
        &self,
        i: usize,
        method: Method,
        path: &str,
        body: Option<Value>,
        done: impl Fn(u16, &Value) -> bool,
    ) -> (u16, Value) {
        let t0 = Instant::now();
        let mut last = (0, Value::Null);
        while t0.elapsed() < WAIT {
            last = self.admin(i, method.clone(), path, body.clone()).await;
            if done(last.0, &last.1) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = std::fs::read_to_string(&self.nodes[i].log).unwrap_or_default();
        panic!("node {} never answered {path} as hoped: last {last:?}\n{log}", i + 1);
    }

    /// A call to node `i` with the root token (none before init); status 0 when it cannot be reached.
    pub async fn admin(&self, i: usize, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}/v1/{path}", self.nodes[i].addr));
        if !self.root.is_empty() {
            req = req.header("X-Vault-Token", &self.root);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let text = resp.text().await.unwrap_or_default();
                (status, serde_json::from_str(&text).unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    /// The node that answers health with 200 (the active one), if any is up.
    pub async fn active(&self) -> Option<usize> {
        for i in 0..self.nodes.len() {
            if self.nodes[i].child.is_some() && self.admin(i, Method::GET, "sys/health", None).await.0 == 200 {
                return Some(i);
            }
        }
        None
    }

    /// Kills node `i` by its PID (SIGKILL: no chance to hand over).
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
