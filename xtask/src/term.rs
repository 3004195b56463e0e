//! Printing for the commands. A reader that goes away (`cargo xtask gen | head -1`,
//! `check | grep -q drift`) is not an error: what is left to print is dropped and
//! the run finishes its work and exits with its own code. `println!` would panic.

use std::fmt;
use std::io::Write as _;

pub fn out(args: fmt::Arguments) {
    let _ = std::io::stdout().lock().write_fmt(args);
}

pub fn err(args: fmt::Arguments) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// `println!` to stdout that ignores a closed pipe.
#[macro_export]
macro_rules! outln {
    () => { $crate::term::out(format_args!("\n")) };
    ($($t:tt)*) => { $crate::term::out(format_args!("{}\n", format_args!($($t)*))) };
}

/// `eprintln!` to stderr that ignores a closed pipe.
#[macro_export]
macro_rules! errln {
    ($($t:tt)*) => { $crate::term::err(format_args!("{}\n", format_args!($($t)*))) };
}

/// At most `limit` lines of `items`, then "… and N more (`--verbose` lists all)".
pub fn capped<T: fmt::Display>(items: &[T], limit: usize, verbose: bool) -> String {
    let mut s = String::new();
    let shown = if verbose {
        items.len()
    } else {
        items.len().min(limit)
    };
    for item in &items[..shown] {
        s.push_str(&item.to_string());
        s.push('\n');
    }
    if shown < items.len() {
        s.push_str(&format!(
            "… and {} more (`--verbose` lists all)\n",
            items.len() - shown
        ));
    }
    s
}
