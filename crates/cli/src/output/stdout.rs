use std::io::{ErrorKind, Write};

/// Writes `text` to stdout. A reader that went away (`flatsim … | head`)
/// ends the output quietly; `println!` would panic on the closed pipe.
pub fn print_until_closed(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        result => result,
    }
}

/// `println!` that ends quietly when stdout's reader has gone away
/// (`flatsim … | head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = $crate::output::print_until_closed(&format!("{}\n", format_args!($($arg)*)));
    }};
}
