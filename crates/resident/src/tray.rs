//! The tray icon: a StatusNotifierItem with its menu over D-Bus (ksni), which KDE, GNOME's
//! AppIndicator extension, Xfce, Cinnamon and the wlroots bars show. No GTK is loaded for it.
//!
//! The menu: Open Latchkey, how many keys are due, how many are still live at their exchange after
//! a revoke (to delete on the website), Emergency revoke…, Quit. With no StatusNotifier host yet
//! (a panel that starts after the session), the item waits for one; reminders run either way.

use tokio::sync::mpsc::UnboundedSender;

use crate::Request;

/// The counts the menu shows, from the reminder timer's looks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub due: usize,
    pub still_live: usize,
}

pub fn due_text(n: usize) -> String {
    match n {
        0 => "No keys due".to_owned(),
        1 => "1 key due for rotation".to_owned(),
        n => format!("{n} keys due for rotation"),
    }
}

pub fn still_live_text(n: usize) -> String {
    match n {
        0 => "No keys still live after a revoke".to_owned(),
        1 => "1 key still live: delete it on the website".to_owned(),
        n => format!("{n} keys still live: delete them on the website"),
    }
}

/// A menu line: its id (the dbusmenu item's label is what a person reads), text, whether it can be
/// clicked, and what a click asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    pub enabled: bool,
    pub asks: Option<Request>,
}

pub fn menu_lines(counts: Counts) -> Vec<Line> {
    vec![
        Line { text: "Open Latchkey".to_owned(), enabled: true, asks: Some(Request::Open) },
        Line { text: due_text(counts.due), enabled: false, asks: None },
        Line { text: still_live_text(counts.still_live), enabled: counts.still_live > 0, asks: Some(Request::Open) },
        Line { text: "Emergency revoke…".to_owned(), enabled: true, asks: Some(Request::OpenRevoke) },
        Line { text: "Quit Latchkey".to_owned(), enabled: true, asks: Some(Request::Quit) },
    ]
}

/// The tray as the rest of the resident sees it: counts go in, clicks come out as requests.
#[derive(Clone)]
pub struct Tray {
    #[cfg(target_os = "linux")]
    handle: Option<ksni::Handle<linux::Item>>,
}

impl Tray {
    pub async fn set_counts(&self, counts: Counts) {
        #[cfg(target_os = "linux")]
        if let Some(handle) = &self.handle {
            handle.update(|item| item.counts = counts).await;
        }
        #[cfg(not(target_os = "linux"))]
        let _ = counts;
    }

    pub async fn shutdown(&self) {
        #[cfg(target_os = "linux")]
        if let Some(handle) = &self.handle {
            handle.shutdown().await;
        }
    }
}

pub async fn install(requests: UnboundedSender<Request>) -> Tray {
    #[cfg(target_os = "linux")]
    {
        use ksni::TrayMethods;
        let item = linux::Item { counts: Counts::default(), requests };
        // A host that appears later (the panel starting after us) still gets the item.
        match item.assume_sni_available(true).spawn().await {
            Ok(handle) => Tray { handle: Some(handle) },
            Err(e) => {
                tracing::warn!(error = %e, "no tray icon: reminders still run");
                Tray { handle: None }
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        // No tray of our own here yet: notifications and the window still work (README).
        let _ = requests;
        tracing::warn!("no tray icon on this platform: reminders still run");
        Tray {}
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::{menu_lines, Counts};
    use crate::Request;
    use tokio::sync::mpsc::UnboundedSender;

    pub struct Item {
        pub counts: Counts,
        pub requests: UnboundedSender<Request>,
    }

    static ICON_PNG: &[u8] = include_bytes!("../../../icons/32x32.png");

    impl ksni::Tray for Item {
        fn id(&self) -> String {
            "latchkey".into()
        }

        fn title(&self) -> String {
            "Latchkey".into()
        }

        // The installed icon by name (the .deb puts it in hicolor); the pixels for a session
        // without it (a build run from its folder).
        fn icon_name(&self) -> String {
            "latchkey-desktop".into()
        }

        fn icon_pixmap(&self) -> Vec<ksni::Icon> {
            match icon() {
                Ok(icon) => vec![icon],
                Err(e) => {
                    tracing::warn!(error = %e, "tray icon pixels unreadable");
                    Vec::new()
                }
            }
        }

        fn tool_tip(&self) -> ksni::ToolTip {
            ksni::ToolTip {
                title: "Latchkey".into(),
                description: super::due_text(self.counts.due),
                ..Default::default()
            }
        }

        /// A left click opens the window, as in every tray app.
        fn activate(&mut self, _x: i32, _y: i32) {
            let _ = self.requests.send(Request::Open);
        }

        fn menu(&self) -> Vec<ksni::MenuItem<Self>> {
            menu_lines(self.counts)
                .into_iter()
                .map(|line| {
                    let asks = line.asks.clone();
                    ksni::menu::StandardItem {
                        label: line.text,
                        enabled: line.enabled,
                        activate: Box::new(move |item: &mut Self| {
                            if let Some(r) = &asks {
                                let _ = item.requests.send(r.clone());
                            }
                        }),
                        ..Default::default()
                    }
                    .into()
                })
                .collect()
        }
    }

    /// The app icon as the StatusNotifierItem wants it: ARGB32, network byte order.
    fn icon() -> Result<ksni::Icon, png::DecodingError> {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(ICON_PNG));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
        let mut reader = decoder.read_info()?;
        let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
        let frame = reader.next_frame(&mut buf)?;
        let rgba = &buf[..frame.buffer_size()];
        let data = rgba.chunks_exact(4).flat_map(|p| [p[3], p[0], p[1], p[2]]).collect();
        Ok(ksni::Icon { width: frame.width as i32, height: frame.height as i32, data })
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn the_icon_is_32_by_32_argb() {
            let icon = super::icon().unwrap();
            assert_eq!((icon.width, icon.height), (32, 32));
            assert_eq!(icon.data.len(), 32 * 32 * 4);
            assert!(icon.data.chunks_exact(4).any(|p| p[0] > 0), "some pixel is not transparent");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_menu_says_what_is_due_and_what_is_still_live() {
        let lines = menu_lines(Counts { due: 0, still_live: 0 });
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            ["Open Latchkey", "No keys due", "No keys still live after a revoke", "Emergency revoke…", "Quit Latchkey"]
        );
        assert!(!lines[2].enabled, "nothing to open for");
        let lines = menu_lines(Counts { due: 3, still_live: 1 });
        assert_eq!(lines[1].text, "3 keys due for rotation");
        assert_eq!(lines[2].text, "1 key still live: delete it on the website");
        assert!(lines[2].enabled);
        assert_eq!(lines[3].asks, Some(Request::OpenRevoke));
        assert_eq!(lines[4].asks, Some(Request::Quit));
        assert_eq!(due_text(1), "1 key due for rotation");
        assert_eq!(still_live_text(2), "2 keys still live: delete them on the website");
    }
}
