use std::process::ExitCode;

use clap::Parser;
use eventide::cli::{Cli, Command};
use eventide::config::{self, AppConfig};

fn main() -> ExitCode {
    // Help, the version and mistakes are printed (and exit) here, before any configuration.
    let command = Cli::parse().command();

    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            return fail(&format!("cannot read .env: {e}"));
        }
    }
    let figment = config::figment();
    let app_config = match AppConfig::from_figment(&figment) {
        Ok(config) => config,
        Err(e) => return fail(&e.to_string()),
    };
    let log_level = figment
        .extract_inner::<rocket::config::LogLevel>("log_level")
        .unwrap_or(rocket::config::LogLevel::Normal);
    let console = match command {
        Command::AppPassword { .. } => eventide::logging::Console::Stderr,
        _ => eventide::logging::Console::Stdout,
    };
    if let Err(e) = eventide::logging::init(&app_config, log_level, console) {
        return fail(&e);
    }

    rocket::execute(async move {
        match command {
            Command::CreateAdmin { username } => {
                let stdin = tokio::io::BufReader::new(tokio::io::stdin());
                let done = eventide::create_admin(figment, &username, stdin).await?;
                println!("{done}");
                Ok(())
            }
            Command::AppPassword { username, label } => {
                println!("{}", eventide::create_app_password(figment, &username, &label).await?);
                Ok(())
            }
            Command::MigrateDb { to } => {
                for line in eventide::migrate_db(figment, &to).await? {
                    println!("{line}");
                }
                Ok(())
            }
            Command::Backup { path } => {
                println!("{}", eventide::backup(figment, &path).await?);
                Ok(())
            }
            Command::Seed { users, events, series, calendars, prefix, password } => {
                let plan = eventide::seed::SeedPlan { users, events, series, calendars, prefix, password };
                for line in eventide::seed(figment, &plan).await? {
                    println!("{line}");
                }
                Ok(())
            }
            _ => serve(figment).await,
        }
    })
    .map_or_else(|message| fail(&message), |()| ExitCode::SUCCESS)
}

async fn serve(figment: rocket::figment::Figment) -> Result<(), String> {
    let rocket = eventide::build(figment).map_err(|e| e.to_string())?;
    let rocket = rocket.ignite().await.map_err(|e| eventide::describe_launch_error(&e))?;
    if let (Some(readiness), Some(config)) =
        (rocket.state::<eventide::health::Readiness>(), rocket.state::<AppConfig>())
    {
        let drain = std::time::Duration::from_secs(config.shutdown_drain_seconds);
        eventide::health::stop_on_signals(readiness.clone(), rocket.shutdown(), drain);
    }
    match rocket.launch().await {
        Ok(stopped) => {
            if let Some(store) = stopped.state::<eventide::store::Store>() {
                store.close().await;
            }
            log::info!("stopped");
            Ok(())
        }
        Err(e) => Err(eventide::describe_launch_error(&e)),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("eventide: {message}");
    ExitCode::FAILURE
}
