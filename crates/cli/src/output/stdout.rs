use std::io::{ErrorKind, Write};
use std::sync::Mutex;

/// The first failed write to stdout other than a closed pipe; `main` turns
/// it into exit 1, so a full disk never passes for success.
static STDOUT_ERROR: Mutex<Option<String>> = Mutex::new(None);

/// Writes `text` to stdout. A reader that went away (`flatsim … | head`)
/// ends the output quietly; `println!` would panic on the closed pipe.
/// Any other error is returned and remembered for [`stdout_error`].
pub fn print_until_closed(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        Err(e) => {
            if let Ok(mut first) = STDOUT_ERROR.lock() {
                first.get_or_insert_with(|| e.to_string());
            }
            Err(e)
        }
        ok => ok,
    }
}

/// The first error writing to stdout, if any.
pub fn stdout_error() -> Option<String> {
    STDOUT_ERROR.lock().ok().and_then(|e| e.clone())
}

/// `println!` that ends quietly when stdout's reader has gone away
/// (`flatsim … | head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = $crate::output::print_until_closed(&format!("{}\n", format_args!($($arg)*)));
    }};
}
