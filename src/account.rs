//! [`Account`]: which business a database store's handle works for, so that
//! one database holds many businesses' contact books.

use std::fmt;
use std::str::FromStr;

/// The name of one business (tenant) in a shared database: a database
/// store's handle reads and writes only that account's contacts, catalog
/// and import history (the same phone in two accounts is two contacts).
///
/// An account is text, not a number: it is the id your service already
/// gives the business (a number such as `"42"`, a UUID, or a slug such as
/// `"acme"`), stored as it is, so no table of this crate has to map it.
/// Citus and PostgreSQL's hash partitioning hash text as well as integers.
/// It is 1 to 64 ASCII letters, digits, `-`, `_`, `.` or `:`: no spaces or
/// case tricks that would make two spellings look like one business.
///
/// [`Account::DEFAULT`] (`default`) is the account of the stores' plain
/// constructors, and the one that a database of an older schema migrates
/// its data into.
///
/// ```
/// use contact_import::Account;
/// let acme: Account = "acme".parse()?;
/// assert_eq!(acme.as_str(), "acme");
/// assert_eq!(Account::default().as_str(), "default");
/// assert!("two words".parse::<Account>().is_err());
/// # Ok::<(), contact_import::AccountError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Account(String);

/// The longest account name, in bytes.
const MAX_LEN: usize = 64;

impl Account {
    /// The account of `SqliteStore::open`, `PostgresStore::connect` and the
    /// other constructors that name none.
    pub const DEFAULT: &'static str = "default";

    /// The account named `name`, if it is a valid account name (see
    /// [`Account`]).
    pub fn new(name: &str) -> Result<Account, AccountError> {
        let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':');
        if name.is_empty() || name.len() > MAX_LEN || !name.chars().all(valid_char) {
            return Err(AccountError {
                name: name.to_owned(),
            });
        }
        Ok(Account(name.to_owned()))
    }

    /// The account's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Account {
    fn default() -> Account {
        Account(Account::DEFAULT.to_owned())
    }
}

impl FromStr for Account {
    type Err = AccountError;

    fn from_str(name: &str) -> Result<Account, AccountError> {
        Account::new(name)
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An account name that [`Account::new`] refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error(
    "{name:?} is not an account name: use 1 to 64 ASCII letters, digits, '-', '_', '.' or ':' (e.g. \"acme\" or \"42\")"
)]
pub struct AccountError {
    /// The refused name.
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_every_usual_kind_are_accounts() {
        for name in [
            "default",
            "42",
            "acme-corp",
            "3f2a9c1e-0b7d-4e8f-9a61-2c5d7e8f9a0b",
            "org:7",
        ] {
            assert_eq!(Account::new(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn blank_spaced_long_or_non_ascii_names_are_refused() {
        let long = "a".repeat(MAX_LEN + 1);
        for name in [
            "",
            " acme",
            "two words",
            "acmé",
            "a/b",
            "a'b",
            long.as_str(),
        ] {
            let error = Account::new(name).unwrap_err();
            assert_eq!(error.name, name);
            assert!(error.to_string().contains("not an account name"));
        }
        assert!(Account::new(&"a".repeat(MAX_LEN)).is_ok());
    }
}
