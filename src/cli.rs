//! The command line, derived with clap: every subcommand answers `--help`, and a mistake names
//! the argument at fault. Configuration is not here: it comes from `Rocket.toml`, `.env` and
//! the environment, for the server and every command alike.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "eventide",
    version,
    about = "A self-hosted, multi-user event calendar",
    after_help = "Configuration comes from Rocket.toml, .env and the environment (see README.md)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

impl Cli {
    /// What to do; no subcommand serves.
    pub fn command(self) -> Command {
        self.command.unwrap_or(Command::Serve)
    }
}

#[derive(Debug, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Start the web server (and the CalDAV server); the default.
    Serve,
    /// Create an admin, or promote an existing user (password unchanged). The new admin's
    /// password is read from the first line of standard input.
    CreateAdmin {
        /// The admin's username.
        username: String,
    },
    /// Create an app password for a calendar app (CalDAV) and print it alone on the first line.
    AppPassword {
        /// Whose app password it is.
        username: String,
        /// What it is for, as the account page lists it.
        #[arg(default_value = "App password")]
        label: String,
    },
    /// Copy the SQLite database to PATH, consistently, while the server runs (PostgreSQL:
    /// use pg_dump). To restore, stop Eventide and put the copy in the database's place.
    Backup {
        /// The copy's path; an existing file is never overwritten.
        path: std::path::PathBuf,
    },
    /// Copy everything from the SQLite database (DATABASE_URL) into a new, empty PostgreSQL
    /// database, from one consistent snapshot, and verify it (counts and checksums).
    MigrateDb {
        /// The target, postgres://USER@HOST:PORT/DATABASE; it must hold no data.
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Add users with events, for trying Eventide out and for benchmarks.
    Seed {
        /// How many users to add (PREFIX1 … PREFIXN).
        #[arg(long, value_name = "N")]
        users: u32,
        /// Single events per user.
        #[arg(long, value_name = "M")]
        events: u32,
        /// Repeating events per user (endless, daily to yearly).
        #[arg(long, value_name = "S", default_value_t = 0)]
        series: u32,
        /// Calendars per user, the events spread over them.
        #[arg(long, value_name = "C", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        calendars: u32,
        /// The usernames' prefix.
        #[arg(long, value_name = "NAME", default_value = "seed")]
        prefix: String,
        /// Every seeded user's password.
        #[arg(long, value_name = "P", default_value = "eventide-seed")]
        password: String,
    },
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;

    use super::*;

    fn parse(list: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("eventide").chain(list.iter().copied())).map(Cli::command)
    }

    #[test]
    fn commands_parse() {
        assert_eq!(parse(&[]).ok(), Some(Command::Serve));
        assert_eq!(parse(&["serve"]).ok(), Some(Command::Serve));
        assert_eq!(
            parse(&["create-admin", "root"]).ok(),
            Some(Command::CreateAdmin { username: "root".into() })
        );
        assert_eq!(
            parse(&["app-password", "amy", "Phone"]).ok(),
            Some(Command::AppPassword { username: "amy".into(), label: "Phone".into() })
        );
        assert_eq!(
            parse(&["app-password", "amy"]).ok(),
            Some(Command::AppPassword { username: "amy".into(), label: "App password".into() })
        );
        assert_eq!(
            parse(&["seed", "--users", "2", "--events", "10"]).ok(),
            Some(Command::Seed {
                users: 2,
                events: 10,
                series: 0,
                calendars: 1,
                prefix: "seed".into(),
                password: "eventide-seed".into()
            })
        );
        assert!(matches!(
            parse(&["seed", "--users", "1", "--events", "0", "--series", "40"]),
            Ok(Command::Seed { series: 40, .. })
        ));
    }

    #[test]
    fn mistakes_name_the_argument_and_help_is_help() {
        let error = |list: &[&str]| match parse(list) {
            Ok(command) => panic!("{list:?} parsed as {command:?}"),
            Err(e) => (e.kind(), e.to_string()),
        };
        let (kind, message) = error(&["seed", "--users", "x", "--events", "10"]);
        assert_eq!(kind, ErrorKind::ValueValidation);
        assert!(message.contains("--users"), "{message}");
        let (_, message) = error(&["seed", "--users", "1"]);
        assert!(message.contains("--events"), "{message}");
        let (_, message) = error(&["seed", "--users", "1", "--events", "1", "--calendars", "0"]);
        assert!(message.contains("--calendars"), "{message}");
        assert_eq!(error(&["create-admin"]).0, ErrorKind::MissingRequiredArgument);
        assert_eq!(error(&["frobnicate"]).0, ErrorKind::InvalidSubcommand);
        assert_eq!(error(&["app-password", "amy", "Phone", "extra"]).0, ErrorKind::UnknownArgument);
        for help in [&["--help"][..], &["seed", "--help"], &["create-admin", "--help"]] {
            assert_eq!(error(help).0, ErrorKind::DisplayHelp, "{help:?}");
        }
        assert_eq!(error(&["--version"]).0, ErrorKind::DisplayVersion);
    }
}
