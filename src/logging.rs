//! Logging is set up once, before Rocket starts: fern replaces Rocket's logger, so levels are
//! chosen here per module. Panics go to the log too, so a crash is visible in the log file.

use log::LevelFilter;
use rocket::config::LogLevel;

use crate::config::AppConfig;

/// Rocket's own `log_level` setting (`ROCKET_LOG_LEVEL`) chooses the level of Eventide's
/// modules: `off`, `critical` (warnings and errors), `normal` (info), `debug`.
pub fn init(config: &AppConfig, rocket_level: LogLevel) -> Result<(), String> {
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
        .level(LevelFilter::Warn)
        .level_for("eventide", own_level)
        // Rocket's launch chatter and per-request lines are noise next to our own.
        .level_for("rocket", LevelFilter::Warn)
        .level_for("_", LevelFilter::Warn)
        // One line per unmatched route or caught status; panics reach the log through the
        // hook below instead.
        .level_for("rocket::server::_", LevelFilter::Off)
        .level_for("sqlx::query", LevelFilter::Warn)
        .chain(std::io::stdout());

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
