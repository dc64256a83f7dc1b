//! The properties the fuzz targets check. Each `check` takes the raw fuzz input and panics when a
//! property fails; the targets in `fuzz_targets/` are one line each.
//!
//! The harness has no unsafe code (libfuzzer-sys's `fuzz_target!` in the target files exports the
//! one `extern "C"` entry point, which is why the root workspace's `forbid(unsafe_code)` is not
//! applied to the targets themselves).

#![forbid(unsafe_code)]

pub mod agent;
pub mod exchange;
pub mod guard;
pub mod input;
pub mod scan;

/// Whether `value` is long and varied enough that finding it inside other text means it was copied
/// there, not that it happens to spell a common word: 12+ characters with a letter and a digit.
pub fn distinctive(value: &str) -> bool {
    value.chars().count() >= 12 && value.chars().any(|c| c.is_ascii_digit()) && value.chars().any(|c| c.is_alphabetic())
}

/// Splits `data` at the first line break: (`head`, `rest`). No line break: the head is empty.
pub fn head_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&[], data),
    }
}
