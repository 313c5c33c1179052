//! Accounts: passwords, validation and (in `session`) who is logged in.

pub mod password;
pub mod validate;
