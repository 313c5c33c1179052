//! Logging is set up once, before Rocket starts: fern replaces Rocket's logger, so levels are
//! chosen here per module. Panics go to the log too, so a crash is visible in the log file.

use log::LevelFilter;
use rocket::config::LogLevel;

use crate::config::AppConfig;

/// Where the log goes: the server logs to standard output; a command whose output a script
/// reads (`app-password`) logs to standard error, so its first line is its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Console {
    Stdout,
    Stderr,
}

/// Rocket's own `log_level` setting (`ROCKET_LOG_LEVEL`) chooses the level of Eventide's
/// modules: `off`, `critical` (warnings and errors), `normal` (info), `debug`.
pub fn init(config: &AppConfig, rocket_level: LogLevel, console: Console) -> Result<(), String> {
    let own_level = match rocket_level {
        LogLevel::Off => LevelFilter::Off,
        LogLevel::Critical => LevelFilter::Warn,
        LogLevel::Normal => LevelFilter::Info,
        LogLevel::Debug => LevelFilter::Debug,
    };

    let mut dispatch = fern::Dispatch::new()
        .format(|out, message, record| {
            out.finish(format_args!(
                "{} {:<5} {}: {}",
                chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                record.level(),
                record.target(),
                message
            ))
        })
        .level(LevelFilter::Trace)
        .filter(move |metadata| metadata.level() <= level_for(metadata.target(), own_level));
    dispatch = match console {
        Console::Stdout => dispatch.chain(std::io::stdout()),
        Console::Stderr => dispatch.chain(std::io::stderr()),
    };

    if !config.log_file.is_empty() {
        let file = fern::log_file(&config.log_file)
            .map_err(|e| format!("cannot open log file {:?}: {e}", config.log_file))?;
        dispatch = dispatch.chain(file);
    }
    dispatch.apply().map_err(|e| e.to_string())?;

    std::panic::set_hook(Box::new(|info| {
        log::error!(target: "eventide::panic", "{info}");
    }));
    Ok(())
}

/// The level a log target is shown at, with Eventide's own modules at `own`: the most
/// specific entry (whole `::` segments) wins. A function rather than fern's `level_for` list,
/// so tests can apply the very filter the server applies.
pub fn level_for(target: &str, own: LevelFilter) -> LevelFilter {
    const LEVELS: [(&str, Option<LevelFilter>); 6] = [
        // One line per request, unmatched route or caught status, each with the whole path
        // and query (which may hold a token); panics reach the log through the hook instead.
        ("rocket::server::_", Some(LevelFilter::Off)),
        // Its warnings repeat a request's raw URI or headers.
        ("rocket::request", Some(LevelFilter::Error)),
        // Rocket's launch chatter is noise next to our own.
        ("rocket", Some(LevelFilter::Warn)),
        ("_", Some(LevelFilter::Warn)),
        ("sqlx::query", Some(LevelFilter::Warn)),
        ("eventide", None),
    ];
    let matches = |prefix: &str| {
        target.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    };
    LEVELS
        .iter()
        .filter(|(prefix, _)| matches(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map_or(LevelFilter::Warn, |(_, level)| level.unwrap_or(own))
}

/// The error of every path parameter that does not parse. Rocket logs a forwarding guard's
/// error with `{:?}`: this one says nothing of the value, which may be a secret (a feed token)
/// or as long as the request line.
pub struct Unlogged;

impl std::fmt::Debug for Unlogged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a valid value (not logged)")
    }
}

/// The longest request path a log line repeats.
const LOGGED_PATH_MAX: usize = 120;

/// A request's path as log lines show it: no query string, secret-looking segments (feed
/// tokens and any other long run of base64url) replaced, and cut at `LOGGED_PATH_MAX`
/// characters, so a log line neither leaks a bearer secret nor grows with the request.
pub fn path_for_log(uri: &rocket::http::uri::Origin<'_>) -> String {
    path_for_log_str(uri.path().as_str())
}

/// `path_for_log` of a path already taken from its URI (the CalDAV server's).
pub fn path_for_log_str(path: &str) -> String {
    let mut shown: String = path
        .split('/')
        .map(|segment| if looks_secret(segment) { "<redacted>" } else { segment })
        .collect::<Vec<_>>()
        .join("/");
    if let Some((cut, _)) = shown.char_indices().nth(LOGGED_PATH_MAX) {
        shown.truncate(cut);
        shown.push('…');
    }
    shown
}

/// Tokens are at least 128 random bits: 22 or more base64url characters, optionally with an
/// extension (`.ics`). Eventide's own path segments (ids, dates, words) are shorter.
fn looks_secret(segment: &str) -> bool {
    let stem = segment.split('.').next().unwrap_or(segment);
    stem.len() >= 22 && stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'%')
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::http::uri::Origin;

    #[test]
    fn logged_paths_hide_tokens_and_stay_short() {
        let token = "kq3ZJ0b5wL9xY7-vU2_tS1rQpOnMlKjIhGfEdCbA0aZ";
        let feed = Origin::parse_owned(format!("/feeds/{token}.ics?x={token}")).unwrap();
        assert_eq!(path_for_log(&feed), "/feeds/<redacted>");
        let plain = Origin::parse("/calendar/month/2026-06-01").unwrap();
        assert_eq!(path_for_log(&plain), "/calendar/month/2026-06-01");
        let long = Origin::parse_owned(format!("/{}", "a/".repeat(5000))).unwrap();
        assert_eq!(path_for_log(&long).chars().count(), LOGGED_PATH_MAX + 1);
    }

    #[test]
    fn levels_follow_the_most_specific_target() {
        assert_eq!(level_for("eventide::cache", LevelFilter::Debug), LevelFilter::Debug);
        assert_eq!(level_for("eventide::ical::routes::_", LevelFilter::Info), LevelFilter::Info);
        assert_eq!(level_for("rocket::launch", LevelFilter::Debug), LevelFilter::Warn);
        assert_eq!(level_for("rocket::server::_", LevelFilter::Debug), LevelFilter::Off);
        assert_eq!(level_for("eventidex", LevelFilter::Debug), LevelFilter::Warn);
        assert_eq!(level_for("hyper::proto", LevelFilter::Debug), LevelFilter::Warn);
    }
}
