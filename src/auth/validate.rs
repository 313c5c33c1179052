//! Rules for usernames and passwords, shared by registration, the account page and the CLI.

const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;

pub fn username(name: &str) -> Result<(), &'static str> {
    let length = name.chars().count();
    if length < USERNAME_MIN {
        return Err("Use at least 3 characters.");
    }
    if length > USERNAME_MAX {
        return Err("Use at most 32 characters.");
    }
    if !name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-')) {
        return Err("Use only letters, digits, '_', '.' and '-'.");
    }
    Ok(())
}

pub fn password(password: &str) -> Result<(), &'static str> {
    let length = password.chars().count();
    if length < PASSWORD_MIN {
        return Err("Use at least 8 characters.");
    }
    if length > PASSWORD_MAX {
        return Err("Use at most 128 characters.");
    }
    let lowered = password.to_lowercase();
    if COMMON_PASSWORDS.lines().any(|common| common == lowered) {
        return Err("This password is one of the most common ones; choose another.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(username("ab").is_err());
        assert!(username("ann.b-c_1").is_ok());
        assert!(username("Zoë").is_ok());
        assert!(username("a b c").is_err());
        assert!(username("<script>").is_err());
        assert!(username(&"x".repeat(33)).is_err());
        assert!(username(&"x".repeat(32)).is_ok());
    }

    #[test]
    fn passwords() {
        assert!(password("short").is_err());
        assert!(password("Password1").is_err(), "common, whatever the case");
        assert!(password("glacier-tulip-87").is_ok());
        assert!(password(&"y".repeat(129)).is_err());
    }
}
