//! Email addresses, checked once when they enter the system.

use std::fmt;

/// A syntactically plausible email address, stored in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an email address (name@domain.se)")]
pub struct InvalidEmail(String);

impl EmailAddress {
    /// Parses an address: one `@`, a local part, a domain with a dot, no white space.
    pub fn parse(text: &str) -> Result<Self, InvalidEmail> {
        let text = text.trim();
        let bad = || InvalidEmail(text.to_owned());
        let (local, domain) = text.split_once('@').ok_or_else(bad)?;
        let plausible = !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && text.len() <= 254
            && !text
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
        if plausible {
            Ok(Self(text.to_lowercase()))
        } else {
            Err(bad())
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_addresses_pass_and_are_lower_cased() {
        assert_eq!(
            EmailAddress::parse(" Anna.Lind@Norrvika.example ")
                .unwrap()
                .as_str(),
            "anna.lind@norrvika.example"
        );
        for bad in [
            "", "anna", "anna@", "@x.se", "anna@se", "a b@x.se", "a@x.se.", "<a@x.se>",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }
}
