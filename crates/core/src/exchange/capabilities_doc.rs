//! `docs/CAPABILITIES.md`: what each exchange's API allows for a key and what Latchkey does with
//! it, generated from the adapters' [`Capabilities`] so a user can read it before adding a key. A
//! test keeps the committed file current (`LATCHKEY_BLESS=1` rewrites it).

use super::adapter::{Capabilities, DeleteMethod, ExpiryRule, IpUpdate, Profile, Support};
use crate::model::{Exchange, Need, Permission};

/// The whole document.
pub fn capabilities_markdown() -> String {
    let profiles: Vec<&Profile> = Exchange::ALL.into_iter().map(Exchange::profile).collect();
    let mut out = String::from(
        "# What Latchkey can do for each exchange\n\n\
         Generated from the exchange adapters (`crates/core/src/exchange/<exchange>.rs`) by a test that fails\n\
         when this file is out of date (`LATCHKEY_BLESS=1 cargo test -p latchkey-core --lib capabilities` rewrites it).\n\
         \"yes\" and \"no\" are what the exchange documents; \"unknown\" means nothing read confirms it, and Latchkey\n\
         treats it as not available. Latchkey uses inspection (the Add key check, re-checks, the daily look) and\n\
         deletion (emergency revoke, retiring a rotated key), and a master key's sub-account calls (listing\n\
         sub-accounts, minting a bot key).\n\n",
    );
    let header: Vec<&str> = profiles.iter().map(|p| p.name).collect();
    out.push_str(&format!("| | {} |\n", header.join(" | ")));
    out.push_str(&format!("| --- |{}\n", " --- |".repeat(profiles.len())));
    let mut row = |what: &str, cell: &dyn Fn(&Profile) -> String| {
        let cells: Vec<String> = profiles.iter().map(|p| cell(p).replace('|', "\\|")).collect();
        out.push_str(&format!("| {what} | {} |\n", cells.join(" | ")));
    };
    row("Inspect the calling key", &|p| support(p.capabilities.inspect).to_owned());
    row("The inspection reports the key's permissions", &|p| {
        if p.exchange.reports_permissions() { "yes" } else { "no: Latchkey shows them as unknown, never as read-only" }
            .to_owned()
    });
    row("Revoke: a key deletes itself", &|p| delete_self(&p.capabilities));
    row("Revoke: a master deletes a sub-account key", &|p| delete_sub_key(&p.capabilities));
    row("Revoke when neither applies", &|p| format!("a checklist that links {}", p.environments.api_page));
    row("Emergency: a master locks a whole sub-account (`latchkey lock-sub-account`)", &|p| match super::adapter(
        p.exchange,
    )
    .sub_key_api()
    .and_then(|api| api.lock_sub_account("{id}"))
    {
        Some(call) => format!("yes (`{} {}`)", call.method, call.path),
        None => "no".to_owned(),
    });
    row("A master lists a sub-account's keys", &|p| support(p.capabilities.list_sub_keys).to_owned());
    row("A master creates a sub-account key", &|p| support(p.capabilities.create_sub_key).to_owned());
    row("A master changes a sub key's IP whitelist", &|p| support(p.capabilities.modify_sub_key_ips).to_owned());
    row("A master changes a sub key's permissions", &|p| support(p.capabilities.modify_sub_key_permissions).to_owned());
    row("A master lists its sub-accounts", &|p| if p.sub_keys.is_some() { "yes" } else { "no" }.to_owned());
    row("What a master key needs to manage sub keys", &|p| match &p.sub_keys {
        Some(facts) => facts.prerequisites.iter().map(|r| need(r.need)).collect::<Vec<_>>().join("; "),
        None => "—".to_owned(),
    });
    row("IPs per sub key", &|p| match &p.sub_keys {
        Some(facts) => match (facts.max_ips, facts.max_ip_chars) {
            (Some(n), _) => format!("at most {n}"),
            (None, Some(chars)) => format!("at most {chars} characters"),
            (None, None) => "unknown".to_owned(),
        },
        None => "—".to_owned(),
    });
    row("Setting a sub key's IPs", &|p| match p.sub_keys.as_ref().map(|f| f.ip_update) {
        Some(IpUpdate::Replaces) => "the list sent replaces the key's list".to_owned(),
        Some(IpUpdate::ReplacesAndOmissionUnbinds) => {
            "the list sent replaces it, and leaving it out unbinds the key (Latchkey always sends it)".to_owned()
        }
        Some(IpUpdate::AddsThenRemoves) => {
            "unknown whether it adds or replaces: Latchkey sets it, reads it back and removes the rest".to_owned()
        }
        None => "—".to_owned(),
    });
    row("A sub key without an IP whitelist", &|p| match &p.sub_keys {
        Some(facts) => facts.no_ip_whitelist.to_owned(),
        None => "—".to_owned(),
    });
    row("Permissions a master can grant a new sub key", &|p| match (p.capabilities.grantable, &p.sub_keys) {
        (Some(permissions), _) => permission_list(permissions),
        (None, None)
            if !p.capabilities.create_sub_key.is_yes() && p.capabilities.create_sub_key != Support::Unknown =>
        {
            "—".to_owned()
        }
        (None, _) => "unknown".to_owned(),
    });
    row("Keys expire by themselves", &|p| match p.capabilities.expiry {
        Some([]) => "no".to_owned(),
        Some(rules) => rules.iter().map(expiry).collect::<Vec<_>>().join("; "),
        None => "unknown".to_owned(),
    });
    row("Passphrase", &|p| if p.form.passphrase.is_some() { "yes" } else { "no" }.to_owned());
    row("Demo / testnet", &demo);
    row("Documented rate limits", &|p| p.limits.documented.to_owned());
    out.push_str("\nSources (cited in detail in the project's exchange-keys reference):\n\n");
    for p in &profiles {
        out.push_str(&format!("- {}: {}\n", p.name, p.sources.join("; ")));
    }
    out
}

fn need(need: Need) -> String {
    match need {
        Need::MasterAccount => "a key of the master account".to_owned(),
        Need::IpBound => "bound to IP addresses".to_owned(),
        Need::AnyPermission(any) => format!("holding {}", permission_list(any).replace(", ", " or ")),
    }
}

fn support(s: Support) -> &'static str {
    match s {
        Support::Yes => "yes",
        Support::No => "no",
        Support::Unknown => "unknown",
    }
}

fn permission_list(permissions: &[Permission]) -> String {
    let names: Vec<String> = permissions.iter().map(|p| format!("{p:?}")).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

fn delete_self(c: &Capabilities) -> String {
    let Some(route) = &c.delete_self else { return "no".to_owned() };
    // One route for every kind of key (Deribit): said once.
    if let (Some(m), Some(s)) = (&route.master, &route.sub) {
        if m.path == s.path {
            let holding = permission_list(m.needs_any).replace(", ", " or ");
            return format!("yes: a key of any account holding {holding} (`{}`)", m.path);
        }
    }
    let mut ways = Vec::new();
    for (kind, r) in [("master key", &route.master), ("sub key", &route.sub)] {
        if let Some(r) = r {
            ways.push(format!(
                "{kind} holding {} (`POST {}`)",
                permission_list(r.needs_any).replace(", ", " or "),
                r.path
            ));
        }
    }
    format!("yes: {}", ways.join("; "))
}

fn delete_sub_key(c: &Capabilities) -> String {
    let Some(route) = &c.delete_sub_key else { return "no".to_owned() };
    let method = match route.method {
        DeleteMethod::Post => "POST",
        DeleteMethod::Delete => "DELETE",
        DeleteMethod::Get => "GET",
    };
    let passphrase = if route.passphrase_param.is_some() { " and its own passphrase" } else { "" };
    match &route.account {
        Some(account) => {
            format!("yes (`{method} {}`; Latchkey needs the key's {}{passphrase})", route.path, account.noun)
        }
        None => format!("yes (`{method} {}`)", route.path),
    }
}

fn expiry(rule: &ExpiryRule) -> String {
    match rule {
        ExpiryRule::IdleWithoutIp { days, permissions } => format!(
            "after {days} days without use, when not bound to IPs and holding {} (live keys)",
            permission_list(permissions).replace(", ", " or ")
        ),
        ExpiryRule::WithoutIp { days } => format!("after {days} days when not bound to IPs"),
        ExpiryRule::AfterPasswordChange { days } => format!("{days} days after the account password changes"),
        ExpiryRule::Reported => "the inspection reports the expiry date".to_owned(),
    }
}

fn demo(p: &Profile) -> String {
    let e = &p.environments;
    // The live host with neither a demo header nor key endpoints: no demo environment (KuCoin).
    if e.demo_url == e.live_url && e.demo_header.is_none() && e.demo_lacks_key_endpoints.is_some() {
        return "none Latchkey can confirm: demo keys can be neither inspected nor revoked through the API".to_owned();
    }
    let mut text =
        if e.demo_url == e.live_url { "demo trading on the live host".to_owned() } else { format!("`{}`", e.demo_url) };
    if let Some((name, value)) = e.demo_header {
        text.push_str(&format!(" (header `{name}: {value}`)"));
    }
    if e.demo_lacks_key_endpoints.is_some() {
        text.push_str("; no key endpoints there, so demo keys can be neither inspected nor revoked through the API");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_doc_is_current() {
        let doc = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/CAPABILITIES.md");
        let table = capabilities_markdown();
        if std::env::var_os("LATCHKEY_BLESS").is_some() {
            std::fs::write(&doc, &table).expect("docs/ is writable");
        }
        let committed = std::fs::read_to_string(&doc).unwrap_or_default();
        assert!(
            committed == table,
            "docs/CAPABILITIES.md is out of date: review the adapters' capabilities and run \
             LATCHKEY_BLESS=1 cargo test -p latchkey-core --lib capabilities\n\n{table}"
        );
    }

    #[test]
    fn unknown_facts_are_shown_as_unknown() {
        // Binance's key expiry is UNCONFIRMED in the reference: never shown as "no".
        let doc = capabilities_markdown();
        let cells = |prefix: &str| -> Vec<String> {
            let line = doc.lines().find(|l| l.starts_with(prefix)).expect("the row");
            line.split(" | ").map(|c| c.trim_matches(|ch| ch == '|' || ch == ' ').to_owned()).collect()
        };
        let column = cells("| | ").iter().position(|c| c == "Binance").expect("a Binance column");
        assert_eq!(cells("| Keys expire by themselves")[column], "unknown");
        assert!(Exchange::Binance.capabilities().expiry.is_none());
    }
}
