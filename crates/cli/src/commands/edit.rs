//! `edit LABEL`: change a key's label, rotation policy, environment, bots access or automatic
//! rotation. A move asks for the 2FA code (when 2FA is set up) and is re-verified at the new address
//! at once; turning bots or automatic rotation on always asks for it.

use chrono::Utc;
use latchkey_core::autorotate::schedule;
use latchkey_core::edit::{reverify, Editor, KeyEdit, Reverified, ReverifyOutcome};
use latchkey_core::settings::Settings;
use serde::Serialize;

use crate::cli::EditArgs;
use crate::commands::keys::environment_from;
use crate::ctx::{runtime, Ctx};
use crate::error::{CliError, EXIT_FAILURE, EXIT_OK};
use crate::input;
use crate::views::{print_json, StatusJson};

/// `edit --json`: the key as `status --json` shows it, what changed, and the check after a move.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EditJson {
    key: StatusJson,
    changes: Vec<String>,
    reverify: Option<Reverified>,
}

pub fn edit(ctx: &Ctx, args: EditArgs) -> Result<u8, CliError> {
    let key = ctx.find_key(&args.key)?;
    let environment = match (args.environment, &args.base_url) {
        (None, None) => None,
        (env, url) => Some(environment_from(env, url)?),
    };
    let bots_allowed = match (args.allow_bots, args.no_bots) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let auto_rotate = match (args.auto_rotate, args.no_auto_rotate) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let edit = KeyEdit { label: args.label, rotation_days: args.rotation_days, environment, bots_allowed, auto_rotate };
    if edit == KeyEdit::default() {
        return Err(CliError::Usage(
            "Nothing to change: give --label, --rotation-days, --env/--base-url, --allow-bots, --no-bots, --auto-rotate or --no-auto-rotate.".to_owned(),
        ));
    }
    let editor = Editor::new(&ctx.vault, &ctx.bots, &ctx.guard);
    // Checked first, so a typo is refused before a code is asked for (and costs no try).
    let plan = editor.plan(key.id, &edit, Utc::now())?;
    let code =
        if plan.needs_code { Some(input::code_arg(args.code, "2FA code (or a recovery code): ")?) } else { None };
    let edited = editor.apply(key.id, &edit, code.as_ref().map(|c| c.as_str()), Utc::now())?;
    let (record, found) = if edited.moved {
        eprintln!("Checking the key with {} at its new address…", edited.record.exchange);
        let (found, record) = runtime()?.block_on(reverify(&ctx.vault, &ctx.client, key.id, Utc::now()))?;
        (record, Some(found))
    } else {
        (edited.record, None)
    };
    let exit = match found.as_ref().map(|f| f.outcome) {
        Some(ReverifyOutcome::Rejected | ReverifyOutcome::Failed) => EXIT_FAILURE,
        _ => EXIT_OK,
    };
    if args.json {
        let settings = Settings::load(ctx.vault.store())?;
        let key = StatusJson::build(&record, &chrono::Local::now(), settings.due_soon_days, true);
        print_json(&EditJson { key, changes: edited.changes, reverify: found })?;
        return Ok(exit);
    }
    if edited.changes.is_empty() {
        println!("Nothing changed: '{}' already has these settings.", record.label);
    } else {
        println!("Edited '{}': {}.", record.label, edited.changes.join("; "));
    }
    if auto_rotate == Some(true) {
        if let Some(at) = schedule::next_rotation(ctx.vault.store(), &record, Utc::now())? {
            println!("    Next automatic rotation: {}.", at.format("%Y-%m-%d %H:%M UTC"));
        }
    }
    if let Some(found) = &found {
        println!("    {}", found.message);
    }
    Ok(exit)
}
