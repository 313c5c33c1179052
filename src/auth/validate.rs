//! Rules for usernames and passwords, shared by registration, the account page and the CLI.

const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;

/// A username as typed, made canonical before it is checked, stored or looked up: NFKC (so
/// full-width `ａｄｍｉｎ` is `admin`), control and invisible formatting characters (NUL, bidi
/// overrides, zero-width joiners) removed, spaces trimmed.
pub fn normalise_username(typed: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    crate::domain::text::strip_controls(typed, false).nfkc().collect::<String>().trim().to_string()
}

/// Checks a normalised name (see `normalise_username`). Letters may come from any script,
/// but from one script per name (with digits and `_.-`) and from TR 39's everyday set, so
/// `pаypal` with a Cyrillic а or `ᴀdmin` with a small capital are refused even before a
/// `paypal` or `admin` exists; look-alikes of existing names (`rn` for `m`, `0` for `o`)
/// are refused by the store's skeleton index.
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
    // TR 39's identifier profile: letters in everyday use, not small capitals, letter-like
    // symbols or historic scripts, which exist mostly to look like something else.
    let everyday = |c: char| {
        matches!(c, '_' | '.' | '-') || unicode_security::GeneralSecurityProfile::identifier_allowed(c)
    };
    if !name.chars().all(everyday) {
        return Err("Use everyday letters: this one contains characters that imitate others.");
    }
    if !unicode_security::MixedScript::is_single_script(name) {
        return Err("Use letters of one alphabet: names that mix scripts can imitate others.");
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
    fn look_alikes_normalise_or_are_refused() {
        assert_eq!(normalise_username("ａｄｍｉｎ"), "admin");
        assert_eq!(normalise_username(" ad\u{0}mi\u{202E}n "), "admin");
        assert!(username(&normalise_username("аdmin")).is_err(), "Cyrillic а among Latin letters");
        assert!(username("Ωμέγα").is_ok() && username("東京タワー").is_ok());
        use crate::store::users::username_skeleton;
        assert!(username("ᴀdmin").is_err(), "a small capital imitating a");
        assert_eq!(username_skeleton("аdmin"), username_skeleton("Admin"));
        assert_ne!(username_skeleton("alice"), username_skeleton("admin"));
    }

    #[test]
    fn passwords() {
        assert!(password("short").is_err());
        assert!(password("Password1").is_err(), "common, whatever the case");
        assert!(password("glacier-tulip-87").is_ok());
        assert!(password(&"y".repeat(129)).is_err());
    }
}
