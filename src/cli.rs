//! The command line: `eventide [serve]`, `eventide create-admin USERNAME`.

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Serve,
    CreateAdmin { username: String },
    AppPassword { username: String, label: String },
    Seed { users: u32, events: u32, series: u32, calendars: u32, prefix: String, password: String },
    Help,
    Version,
}

pub const USAGE: &str = "\
Usage:
  eventide [serve]                 start the web server
  eventide create-admin USERNAME   create an admin, or promote an existing user;
                                   the password is read from the first line of stdin
  eventide app-password USERNAME [LABEL]
                                   create an app password (for CalDAV clients) and
                                   print it alone on the first line
  eventide seed --users N --events M [--series S] [--calendars C] [--prefix NAME]
               [--password P]      add N users (NAME1..NAMEN, default prefix seed,
                                   password eventide-seed) with M events each, and
                                   S repeating events (endless, daily to yearly),
                                   spread over C calendars (default 1)
  eventide --help | --version

Configuration comes from Rocket.toml, .env and the environment (see README.md).";

pub fn parse(args: &[String]) -> Result<Command, String> {
    match args {
        [] => Ok(Command::Serve),
        [cmd] if cmd == "serve" => Ok(Command::Serve),
        [cmd] if cmd == "-h" || cmd == "--help" || cmd == "help" => Ok(Command::Help),
        [cmd] if cmd == "-V" || cmd == "--version" => Ok(Command::Version),
        [cmd, username] if cmd == "create-admin" => Ok(Command::CreateAdmin { username: username.clone() }),
        [cmd] if cmd == "create-admin" => Err("create-admin needs a USERNAME".into()),
        [cmd, username] if cmd == "app-password" => {
            Ok(Command::AppPassword { username: username.clone(), label: "App password".into() })
        }
        [cmd, username, label] if cmd == "app-password" => {
            Ok(Command::AppPassword { username: username.clone(), label: label.clone() })
        }
        [cmd, ..] if cmd == "app-password" => Err("app-password needs a USERNAME and at most a LABEL".into()),
        [cmd, options @ ..] if cmd == "seed" => parse_seed(options),
        [other, ..] => Err(format!("unknown command {other:?}")),
    }
}

fn parse_seed(options: &[String]) -> Result<Command, String> {
    let (mut users, mut events, mut series, mut calendars) = (None, None, 0, 1);
    let (mut prefix, mut password) = ("seed".to_string(), "eventide-seed".to_string());
    let mut rest = options.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || value.parse::<u32>().map_err(|_| format!("{flag} needs a number, not {value:?}"));
        match flag.as_str() {
            "--users" => users = Some(number()?),
            "--events" => events = Some(number()?),
            "--series" => series = number()?,
            "--calendars" => calendars = number()?.max(1),
            "--prefix" => prefix = value.clone(),
            "--password" => password = value.clone(),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    Ok(Command::Seed {
        users: users.ok_or("seed needs --users N")?,
        events: events.ok_or("seed needs --events M")?,
        series,
        calendars,
        prefix,
        password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn commands_parse() {
        assert_eq!(parse(&args(&[])), Ok(Command::Serve));
        assert_eq!(parse(&args(&["serve"])), Ok(Command::Serve));
        assert_eq!(
            parse(&args(&["create-admin", "root"])),
            Ok(Command::CreateAdmin { username: "root".into() })
        );
        assert!(parse(&args(&["create-admin"])).is_err());
        assert_eq!(
            parse(&args(&["app-password", "amy", "Phone"])),
            Ok(Command::AppPassword { username: "amy".into(), label: "Phone".into() })
        );
        assert!(matches!(parse(&args(&["app-password", "amy"])), Ok(Command::AppPassword { .. })));
        assert!(parse(&args(&["app-password"])).is_err());
        assert!(parse(&args(&["frobnicate"])).is_err());
        assert_eq!(
            parse(&args(&["seed", "--users", "2", "--events", "10"])),
            Ok(Command::Seed {
                users: 2,
                events: 10,
                series: 0,
                calendars: 1,
                prefix: "seed".into(),
                password: "eventide-seed".into()
            })
        );
        assert!(matches!(
            parse(&args(&["seed", "--users", "1", "--events", "0", "--series", "40"])),
            Ok(Command::Seed { series: 40, .. })
        ));
        assert!(parse(&args(&["seed", "--users", "x", "--events", "10"])).is_err());
        assert!(parse(&args(&["seed", "--users"])).is_err());
    }
}
