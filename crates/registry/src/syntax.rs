//! Grammars of registry values shared by the registry, the alert catalogue and
//! the renderers: names, durations, hosts, units, URL paths; and the FNV-1a
//! hash the outputs use for stable identifiers. A leaf: it imports nothing of
//! the crate.

pub const NAME_RULE: &str = "use 1-63 lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit (a valid label value, file name and Kubernetes name)";

/// Service and team names: `[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?`.
pub fn is_valid_name(s: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    (1..=63).contains(&s.len())
        && s.chars().all(|c| ok_char(c) || c == '-' || c == '.')
        && s.starts_with(ok_char)
        && s.ends_with(ok_char)
}

/// A Prometheus duration such as `90s`, `5m` or `1h30m`.
/// A Prometheus metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`), or with `label` a
/// label name (no `:`).
pub(crate) fn is_metric_name(s: &str, label: bool) -> bool {
    let ok = |c: char, first: bool| {
        c.is_ascii_alphabetic()
            || c == '_'
            || (!label && c == ':')
            || (!first && c.is_ascii_digit())
    };
    let mut chars = s.chars();
    chars.next().is_some_and(|c| ok(c, true)) && chars.all(|c| ok(c, false))
}

/// Lowercase ASCII letters and digits, anything else as `-`: the readable part
/// of a dashboard uid or of a name taken from another tool.
pub fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

pub(crate) fn is_duration(s: &str) -> bool {
    const UNITS: [&str; 7] = ["y", "w", "d", "h", "m", "s", "ms"];
    let mut rest = s;
    let mut last_unit = None::<usize>;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        // `ms` before `m`, so "5ms" is not read as 5 minutes then "s".
        let Some(unit) = [6, 0, 1, 2, 3, 4, 5]
            .into_iter()
            .find(|&i| rest.starts_with(UNITS[i]))
        else {
            return false;
        };
        if last_unit.is_some_and(|l| unit <= l) {
            return false;
        }
        last_unit = Some(unit);
        rest = &rest[UNITS[unit].len()..];
    }
    true
}

pub fn is_hostname(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let numeric = |l: &&str| l.bytes().all(|b| b.is_ascii_digit());
    if labels.last().is_some_and(numeric) {
        // All-numeric last label: only a dotted IPv4 address (0-255, no leading zeros).
        return labels.len() == 4
            && labels.iter().all(|l| {
                numeric(l)
                    && !l.is_empty()
                    && l.len() <= 3
                    && (l.len() == 1 || !l.starts_with('0'))
                    && l.parse::<u16>().is_ok_and(|n| n <= 255)
            });
    }
    !s.is_empty() && s.len() <= 253 && labels.iter().all(label_ok)
}

pub(crate) fn is_unit_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || ":_.@-\\".contains(c))
}

pub(crate) fn is_host_port(s: &str) -> bool {
    s.rsplit_once(':')
        .is_some_and(|(h, p)| is_hostname(h) && p.parse::<u16>().is_ok_and(|p| p > 0))
}

/// Hours in a Prometheus duration; `None` when it is not one.
pub fn duration_hours(s: &str) -> Option<f64> {
    if !is_duration(s) {
        return None;
    }
    let mut hours = 0.0;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = if c == 'm' && chars.peek() == Some(&'s') {
            chars.next();
            1.0 / 3_600_000.0
        } else {
            match c {
                'y' => 365.0 * 24.0,
                'w' => 7.0 * 24.0,
                'd' => 24.0,
                'h' => 1.0,
                'm' => 1.0 / 60.0,
                's' => 1.0 / 3600.0,
                _ => return None,
            }
        };
        hours += num.parse::<f64>().ok()? * unit;
        num.clear();
    }
    Some(hours)
}

/// A URL path with everything but unreserved characters, `/` and sub-delims
/// percent-encoded, so any page path makes a valid probe URL.
pub(crate) fn percent_encode_path(path: &str) -> String {
    percent_encode(path, b"-._~/!$&'()*+,;=:@")
}

/// A URL query value with everything but unreserved characters
/// percent-encoded.
pub fn percent_encode_query(value: &str) -> String {
    percent_encode(value, b"-._~")
}

/// `s` with every byte but ASCII letters, digits and `kept` as `%XX`.
fn percent_encode(s: &str, kept: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || kept.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// FNV-1a, 64 bits: a stable hash (std's hasher may change between releases).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Whether a reader cannot see `c` or it can reorder the text around it:
/// control, format and bidi characters (Trojan Source), line and paragraph
/// separators, noncharacters and unassigned code points. These are exactly the
/// characters Rust's `Debug` escapes (with combining marks, harmless escaped).
///
/// Inlined: the escaping filters call it for every character they write, and
/// this crate is built unoptimised (see the workspace's Cargo.toml).
#[inline]
pub fn is_hidden(c: char) -> bool {
    !matches!(c, ' '..='~') && c.escape_debug().len() > 1
}

/// Whether `s` holds no [`is_hidden`] character; printable ASCII is decided
/// a byte at a time, without decoding.
#[inline]
pub fn has_no_hidden(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' '..=b'~')) || !s.chars().any(is_hidden)
}

/// Registry text inside a Go template (Prometheus annotations, Alertmanager
/// fields it expands): `{{` becomes `{{"{{"}}`, so the text is shown, not run.
pub fn gotmpl_str(s: &str) -> String {
    s.replace("{{", "{{\"{{\"}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_shortcut_agrees_with_the_per_character_test() {
        for s in [
            "",
            "plain a-z ~",
            "tab\t",
            "del\u{7f}",
            "é",
            "bidi \u{202e}",
            "\u{200b}",
        ] {
            assert_eq!(has_no_hidden(s), !s.chars().any(is_hidden), "{s:?}");
        }
    }

    #[test]
    fn names() {
        for ok in ["a", "awoooi-api", "db.1", "x".repeat(63).as_str()] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "A",
            "a_b",
            "a b",
            "a\"b",
            "x".repeat(64).as_str(),
        ] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn durations() {
        for ok in ["1m", "90s", "1h30m", "5ms", "1y2w3d4h5m6s7ms"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in ["", "m", "5", "5x", "1m1h", "1.5m", "-1m", "5m "] {
            assert!(!is_duration(bad), "{bad}");
        }
    }

    #[test]
    fn durations_in_hours() {
        assert_eq!(duration_hours("30d"), Some(720.0));
        assert_eq!(duration_hours("1h30m"), Some(1.5));
        assert_eq!(duration_hours("90x"), None);
    }

    #[test]
    fn hosts_are_names_or_ipv4_addresses() {
        for ok in [
            "localhost",
            "10.0.0.7",
            "0.0.0.0",
            "255.255.255.255",
            "db-1.example.org",
            "a1",
            "1a.example",
        ] {
            assert!(is_hostname(ok), "{ok}");
        }
        for bad in [
            "",
            "999.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "..",
            "a..b",
            "-",
            "-oProxyCommand",
            "a-",
            "a.-b",
            "a.example.",
            "a_b",
            &"x".repeat(64),
        ] {
            assert!(!is_hostname(bad), "{bad}");
        }
        assert!(
            is_host_port("127.0.0.1:9115")
                && !is_host_port("-x:9115")
                && !is_host_port("300.0.0.1:1")
        );
    }
}
