//! The command line: `eventide [serve]`, `eventide create-admin USERNAME`.

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Serve,
    CreateAdmin { username: String },
    Help,
    Version,
}

pub const USAGE: &str = "\
Usage:
  eventide [serve]                 start the web server
  eventide create-admin USERNAME   create an admin, or promote an existing user;
                                   the password is read from the first line of stdin
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
        [other, ..] => Err(format!("unknown command {other:?}")),
    }
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
        assert!(parse(&args(&["frobnicate"])).is_err());
    }
}
