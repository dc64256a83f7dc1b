//! The user's settings, kept in the store's `settings` table.

use serde::{Deserialize, Serialize};

use crate::model::DEFAULT_ROTATION_DAYS;
use crate::rotation::DEFAULT_DUE_SOON_DAYS;
use crate::store::Store;
use crate::validate::{self, Field, Invalid};
use crate::Result;
use ts_rs::TS;

const KEY: &str = "settings";
pub const DUE_SOON_MAX_DAYS: u32 = 90;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// The rotation policy new keys get unless the user picks another.
    pub default_rotation_days: u32,
    /// How many days before the due date a key counts as "due soon" and reminders start.
    pub due_soon_days: u32,
    pub notifications: bool,
    /// Off by default: starting at login is the user's choice.
    pub start_at_login: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_rotation_days: DEFAULT_ROTATION_DAYS,
            due_soon_days: DEFAULT_DUE_SOON_DAYS,
            notifications: true,
            start_at_login: false,
        }
    }
}

impl Settings {
    pub fn load(store: &Store) -> Result<Settings> {
        Ok(store.setting(KEY)?.unwrap_or_default())
    }

    /// Validates, then saves. Returns what was saved.
    pub fn save(self, store: &Store) -> Result<Settings> {
        validate::rotation_days(self.default_rotation_days)
            .map_err(|e| Invalid { field: Field::DefaultRotationDays, ..e })?;
        if self.due_soon_days > DUE_SOON_MAX_DAYS {
            return Err(Invalid {
                field: Field::DueSoonDays,
                message: format!(
                    "Choose a reminder window between 0 and {DUE_SOON_MAX_DAYS} days (14 is a good default)."
                ),
            }
            .into());
        }
        store.set_setting(KEY, &self)?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_until_saved_then_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        assert_eq!(Settings::load(&store).unwrap(), Settings::default());
        assert!(!Settings::default().start_at_login, "start at login is opt-in");
        let mine = Settings { default_rotation_days: 30, due_soon_days: 7, notifications: false, start_at_login: true };
        mine.clone().save(&store).unwrap();
        assert_eq!(Settings::load(&Store::open_in(dir.path()).unwrap()).unwrap(), mine);
    }

    #[test]
    fn bad_values_name_their_field_and_save_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).unwrap();
        let err = Settings { default_rotation_days: 0, ..Settings::default() }.save(&store).unwrap_err();
        assert!(matches!(err, crate::Error::Invalid(Invalid { field: Field::DefaultRotationDays, .. })));
        let err = Settings { due_soon_days: 91, ..Settings::default() }.save(&store).unwrap_err();
        assert!(matches!(err, crate::Error::Invalid(Invalid { field: Field::DueSoonDays, .. })), "{err}");
        assert_eq!(Settings::load(&store).unwrap(), Settings::default());
    }
}
