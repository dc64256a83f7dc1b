//! Pins the web view's limits in a test: the capability grants exactly the commands the shell
//! registers (and nothing from core or plugins), and the CSP allows no inline or remote code.

#[cfg(test)]
mod tests {
    const CONF: &str = include_str!("../tauri.conf.json");
    const LIB: &str = include_str!("lib.rs");
    const BUILD: &str = include_str!("build.rs");

    fn conf() -> serde_json::Value {
        serde_json::from_str(CONF).expect("tauri.conf.json is JSON")
    }

    /// `commands::area::name` entries of `generate_handler!`.
    fn registered() -> Vec<String> {
        let start = LIB.find("generate_handler![").expect("handler list");
        let end = start + LIB[start..].find("])").expect("end of handler list");
        let mut names: Vec<String> = LIB[start..end]
            .split(',')
            .filter_map(|s| s.trim().rsplit("::").next())
            .map(str::trim)
            .filter(|s| !s.is_empty() && !s.contains('['))
            .map(str::to_owned)
            .collect();
        names.sort();
        names
    }

    #[test]
    fn capability_grants_exactly_our_commands() {
        let conf = conf();
        let caps = conf["app"]["security"]["capabilities"].as_array().expect("inline capabilities");
        assert_eq!(caps.len(), 1, "one capability, for the main window");
        assert_eq!(caps[0]["windows"], serde_json::json!(["main"]));
        let mut granted: Vec<String> = caps[0]["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .map(|p| p.as_str().expect("plain permission names").to_owned())
            .collect();
        assert!(
            granted.iter().all(|p| p.starts_with("allow-") && !p.contains(':')),
            "no core or plugin permission: {granted:?}"
        );
        granted = granted.iter().map(|p| p.trim_start_matches("allow-").replace('-', "_")).collect();
        granted.sort();
        let registered = registered();
        assert_eq!(granted, registered, "every registered command is granted, and nothing else");
        for name in &registered {
            assert!(BUILD.contains(&format!("\"{name}\"")), "{name} has a generated permission in build.rs");
        }
        // Cancel, Escape and closing the window end a begun 2FA setup: the page must be able to ask.
        assert!(registered.iter().any(|c| c == "guard_cancel_enrollment"), "{registered:?}");
    }

    #[test]
    fn csp_allows_no_inline_or_remote_code() {
        let conf = conf();
        let csp = conf["app"]["security"]["csp"].as_str().expect("a CSP string");
        for directive in ["default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'"] {
            assert!(csp.contains(directive), "CSP has {directive}: {csp}");
        }
        for forbidden in ["unsafe-inline", "unsafe-eval", "https:", "http://*", "*"] {
            assert!(!csp.contains(forbidden), "CSP must not allow {forbidden}: {csp}");
        }
        assert_eq!(conf["app"]["withGlobalTauri"], false, "no global __TAURI__ object for injected scripts");
    }
}
