//! Progress bars on a terminal only: hidden in pipes and CI logs.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Whether progress bars should draw: stderr is a terminal and not in CI.
pub fn enabled() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// A bar of `len` items counted in `unit`, drawn only when `show` and [`enabled`].
pub fn bar(len: u64, unit: &str, show: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    if show && enabled() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        let template =
            format!("{{bar:40}} {{pos}}/{{len}} {unit}, {{elapsed}} elapsed, ETA {{eta}}");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
    }
    bar
}
