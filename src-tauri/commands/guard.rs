//! Two-factor enrolment and status. The TOTP secret leaves Rust exactly once, at enrolment, so the
//! user can scan or type it into an authenticator; recovery codes likewise, once.

use chrono::{DateTime, Duration, Utc};
use latchkey_core::guard::GuardStatus;
use secrecy::ExposeSecret;
use serde::Serialize;
use tauri::State;

use super::blocking;
use crate::{AppState, IpcError};
use ts_rs::TS;

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "GuardStatus")]
pub struct GuardView {
    pub enrolled: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub recovery_codes_left: u32,
    /// The user chose to go without 2FA for now: the wizard stops asking (the header still reminds).
    pub setup_skipped: bool,
}

impl GuardView {
    fn new(s: GuardStatus, now: DateTime<Utc>) -> Self {
        let locked_until = (s.locked_for_secs > 0)
            .then(|| now + Duration::seconds(i64::try_from(s.locked_for_secs).unwrap_or(i64::MAX / 1000)));
        GuardView {
            enrolled: s.enrolled,
            locked_until,
            recovery_codes_left: s.recovery_codes_left,
            setup_skipped: s.setup_skipped,
        }
    }
}

#[derive(Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "Enrollment")]
pub struct EnrollmentView {
    otpauth_uri: String,
    qr_svg: String,
    secret_base32: String,
}

#[derive(Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "EnrollmentConfirmed")]
pub struct RecoveryCodesView {
    recovery_codes: Vec<String>,
}

#[tauri::command]
pub async fn guard_status(state: State<'_, AppState>) -> Result<GuardView, IpcError> {
    let core = state.core()?;
    blocking(move || {
        let now = Utc::now();
        Ok(GuardView::new(core.guard.status(now)?, now))
    })
    .await
}

/// Starts (or, with a current code, restarts) enrolment. Nothing is active until a first code
/// from the authenticator confirms it.
#[tauri::command]
pub async fn guard_begin_enrollment(
    state: State<'_, AppState>,
    code: Option<String>,
    destroy_old_seed: Option<bool>,
) -> Result<EnrollmentView, IpcError> {
    let core = state.core()?;
    blocking(move || {
        // Only the user's explicit choice in the dialog sets `destroyOldSeed`; an enrolled guard
        // still needs its code either way (the core refuses).
        let e = if destroy_old_seed == Some(true) && code.is_none() {
            core.guard.begin_enrollment_destroying_old_seed(Utc::now())?
        } else {
            core.guard.begin_enrollment(code.as_deref(), Utc::now())?
        };
        // EXPOSE: enrolment is the one moment the user must see the TOTP secret (QR and text).
        Ok(EnrollmentView {
            otpauth_uri: e.uri.expose_secret().to_owned(),
            qr_svg: e.qr_svg.expose_secret().to_owned(),
            secret_base32: e.secret_base32.expose_secret().to_owned(),
        })
    })
    .await
}

#[tauri::command]
pub async fn guard_confirm_enrollment(state: State<'_, AppState>, code: String) -> Result<RecoveryCodesView, IpcError> {
    let core = state.core()?;
    blocking(move || {
        let codes = core.guard.confirm_enrollment(&code, Utc::now())?;
        // EXPOSE: recovery codes are shown once, to be written down; only their hashes are kept.
        Ok(RecoveryCodesView { recovery_codes: codes.codes.iter().map(|c| c.expose_secret().to_owned()).collect() })
    })
    .await
}

#[tauri::command]
pub async fn guard_disable(state: State<'_, AppState>, code: String) -> Result<(), IpcError> {
    let core = state.core()?;
    blocking(move || Ok(core.guard.disable(&code, Utc::now())?)).await
}

/// Drops a begun enrolment: the dialog's Cancel and Escape, and the window closing (the window
/// closes to the tray; the app and the begun secret would live on otherwise).
#[tauri::command]
pub async fn guard_cancel_enrollment(state: State<'_, AppState>) -> Result<bool, IpcError> {
    let core = state.core()?;
    blocking(move || Ok(core.guard.cancel_enrollment(Utc::now())?)).await
}

/// "Skip 2FA for now", after the wizard's explicit acceptance: `accepted` is the sentence the user
/// ticked, kept in the audit log with the choice. Returns the new status.
#[tauri::command]
pub async fn guard_skip_setup(state: State<'_, AppState>, accepted: String) -> Result<GuardView, IpcError> {
    let core = state.core()?;
    blocking(move || {
        let now = Utc::now();
        core.guard.skip_setup(&accepted, now)?;
        Ok(GuardView::new(core.guard.status(now)?, now))
    })
    .await
}
