//! `latchkey servers set|test`, `deliver`, `undeliver` against the real `bao server -dev` (the
//! harness is core's, openbao_support) and the real keychain: the token from stdin goes to the
//! keychain, keys reach `<mount>/data/<prefix>/<label>` and are destroyed again, and every bad
//! input exits with its code and a clear message, never a secret.

use reqwest::Method;
use serde_json::json;

use super::openbao_support::DevServer;
use super::{audit_count, json, ok, seed_key, sha256_hex, stderr, Env};

pub(crate) fn full_policy(prefix: &str) -> String {
    format!(
        "path \"secret/data/{prefix}/*\" {{ capabilities = [\"create\", \"update\", \"read\"] }}\n\
         path \"secret/metadata/{prefix}/*\" {{ capabilities = [\"create\", \"update\", \"read\", \"delete\"] }}\n\
         path \"secret/destroy/{prefix}/*\" {{ capabilities = [\"update\"] }}\n\
         path \"sys/policies/acl/latchkey-host-*\" {{ capabilities = [\"create\", \"update\", \"read\", \"delete\"] }}\n\
         path \"auth/approle/role/latchkey-*\" {{ capabilities = [\"create\", \"update\", \"read\", \"delete\"] }}\n\
         path \"auth/approle/role\" {{ capabilities = [\"list\"] }}\n"
    )
}

#[test]
#[ignore = "needs a Secret Service: run scripts/test-all.sh"]
fn servers_set_test_deliver_and_undeliver() {
    let mut env = Env::new();
    let Some(bao) = env._rt.block_on(DevServer::start("servers_set_test_deliver_and_undeliver")) else { return };
    let okx = seed_key("okx-read-only");
    ok(&env.add_via_stdin(&okx, "okx-bot", &[]));
    // Delivering and adding a host give bots access: each needs a code (a recovery code here,
    // one per call, since a TOTP code works once).
    let (_, recovery) = super::enroll(&env);
    let mut codes = recovery.into_iter();
    let mut code = move || codes.next().expect("a recovery code left");

    // Nothing set up yet.
    let out = env.latchkey(&["deliver", "okx-bot"], "");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("latchkey servers set"), "{}", stderr(&out));

    // A bad address is refused before the token is read; a wrong token saves nothing.
    let out = env.latchkey(&["servers", "set", "--addr", "http://10.0.0.5:8200"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("https://"), "{}", stderr(&out));
    let out = env.latchkey(&["servers", "set", "--addr", &bao.addr], "\n");
    assert_eq!(out.status.code(), Some(2), "an empty token: {}", stderr(&out));
    env.secrets.push("s.WrongToken000000000000".into());
    let out = env.latchkey(&["servers", "set", "--addr", &bao.addr], "s.WrongToken000000000000\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("refused Latchkey's token"), "{}", stderr(&out));
    assert_eq!(env.latchkey(&["servers", "test"], "").status.code(), Some(2), "still not set up");

    let token = env._rt.block_on(bao.token_with_policy("desk", &full_policy("latchkey/desk")));
    env.secrets.push(token.clone());
    let set = json(&env.latchkey(
        &["servers", "set", "--addr", &bao.addr, "--prefix", "latchkey/desk", "--json"],
        &format!("{token}\n"),
    ));
    assert_eq!(set["settings"]["prefix"], "latchkey/desk");
    assert_eq!(set["connection"]["serverVersion"], "2.7.2");
    let text = ok(&env.latchkey(&["servers", "test"], ""));
    assert!(text.contains("connection works") && text.contains("secret/data/latchkey/desk/<label>"), "{text}");
    // Only in the keychain: not in the data folder.
    for entry in walk(env.dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()), "the token is in {}", entry.display());
    }

    // Deliver: the bot's exact values at the path, then nothing new the second time.
    let unknown = env.latchkey(&["deliver", "okx-bot", "no-such-key"], "");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("No key labelled 'no-such-key'"), "before a code is asked for");
    let out = env.latchkey(&["deliver", "okx-bot", "--code", "000000"], "");
    assert_eq!(out.status.code(), Some(3), "a wrong code: {}", stderr(&out));
    let out = json(&env.latchkey(&["deliver", "okx-bot", "--json", "--code", &code()], ""));
    assert_eq!(
        out,
        json!([{ "label": "okx-bot", "outcome": "delivered", "path": "secret/data/latchkey/desk/okx-bot", "version": 1 }])
    );
    let (status, read) = env._rt.block_on(bao.admin(Method::GET, "secret/data/latchkey/desk/okx-bot", None));
    assert_eq!(status, 200);
    let data = &read["data"]["data"];
    let got = format!(
        "{}|{}|{}",
        data["api_key"].as_str().unwrap(),
        data["api_secret"].as_str().unwrap(),
        data["passphrase"].as_str().unwrap()
    );
    assert_eq!(
        sha256_hex(&got),
        sha256_hex(&format!("{}|{}|{}", okx.api_key, okx.secret, okx.passphrase.clone().unwrap()))
    );
    assert_eq!(read["data"]["metadata"]["custom_metadata"]["exchange"], "okx");
    let text = ok(&env.latchkey(&["deliver", "okx-bot", "--code", &code()], ""));
    assert!(text.contains("up to date") && text.contains("version 1"), "{text}");

    // Someone else writes: the next delivery fails with the conflict, exit 1.
    let theirs = json!({ "options": { "cas": 1 }, "data": { "api_key": "theirs" } });
    let (status, _) = env._rt.block_on(bao.admin(Method::POST, "secret/data/latchkey/desk/okx-bot", Some(theirs)));
    assert_eq!(status, 200);
    let out = env.latchkey(&["deliver", "okx-bot", "--json", "--code", &code()], "");
    assert_eq!(out.status.code(), Some(1));
    let failed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(failed[0]["outcome"], "failed");
    assert_eq!(failed[0]["code"], "cas_conflict");
    assert!(failed[0]["message"].as_str().unwrap().contains("Someone else wrote the key"));

    // A host that may read it: role-id and a wrapped secret-id, which sign in once on the server.
    let (status, _) = env._rt.block_on(bao.admin(Method::POST, "sys/auth/approle", Some(json!({ "type": "approle" }))));
    assert_eq!(status, 204);
    let added = json(&env.latchkey(&["host", "add", "vps1", "--keys", "okx-bot", "--json", "--code", &code()], ""));
    assert_eq!(added["paths"], json!(["secret/data/latchkey/desk/okx-bot"]));
    assert_eq!(added["wrapTtlSecs"], 600);
    let settings = latchkey_core::servers::ServerSettings { prefix: "latchkey/desk".into(), ..bao.settings() };
    let wrapped = secrecy::SecretString::from(added["wrappedSecretId"].as_str().unwrap().to_owned());
    let host = env
        ._rt
        .block_on(latchkey_core::servers::BaoClient::host_sign_in(settings, added["roleId"].as_str().unwrap(), wrapped))
        .unwrap();
    assert_eq!(env._rt.block_on(host.current_version("okx-bot")).unwrap().unwrap().current, 2, "it sees the versions");
    let read = env._rt.block_on(host.read_version("okx-bot", Some(1))).unwrap();
    assert_eq!(sha256_hex(secrecy::ExposeSecret::expose_secret(&read.credentials.api_secret)), sha256_hex(&okx.secret));
    let (e, theirs) = match env._rt.block_on(host.read_version("okx-bot", None)) {
        Err(e) => (e.kind(), e.to_string()),
        Ok(_) => panic!("version 2 is not a key"),
    };
    assert_eq!(e, latchkey_core::error::ErrorCode::UnexpectedResponse);
    assert!(theirs.contains("someone else wrote it"), "{theirs}");
    let listed = json(&env.latchkey(&["host", "list", "--json"], ""));
    assert_eq!(listed, json!([{ "name": "vps1", "keys": ["okx-bot"] }]));
    let out = env.latchkey(&["host", "add", "vps 1", "--keys", "okx-bot", "--code", &code()], "");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = ok(&env.latchkey(&["host", "remove", "vps1"], ""));
    assert!(text.contains("Removed host 'vps1'"), "{text}");
    assert!(env._rt.block_on(host.read_version("okx-bot", None)).is_err(), "its token reads nothing now");
    assert_eq!(audit_count(&env, "host_access", "ok"), 2);

    // A key bots may not use is refused (exit 3), and nothing is written for it.
    ok(&env.latchkey(&["bots", "deny", "okx-bot"], ""));
    let out = env.latchkey(&["deliver", "okx-bot", "--code", &code()], "");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("not allowed for bots"), "{}", stderr(&out));

    // Undeliver: every version gone; a second time there is nothing left.
    let out = json(&env.latchkey(&["undeliver", "okx-bot", "--json"], ""));
    assert_eq!(out, json!([{ "label": "okx-bot", "outcome": "destroyed" }]));
    let (status, _) = env._rt.block_on(bao.admin(Method::GET, "secret/metadata/latchkey/desk/okx-bot", None));
    assert_eq!(status, 404);
    let text = ok(&env.latchkey(&["undeliver", "okx-bot"], ""));
    assert!(text.contains("nothing to destroy"), "{text}");
    assert_eq!(audit_count(&env, "deliver", "ok"), 1);
    assert_eq!(audit_count(&env, "deliver", "failed"), 1);
    assert_eq!(audit_count(&env, "undeliver", "ok"), 2);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
