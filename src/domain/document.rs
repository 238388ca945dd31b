//! A handling's register entry: its direction, and what OSL lets the public see of it.

use chrono::NaiveDate;
use serde::Serialize;

use super::organisation::UnknownWord;

/// Whether a handling came in, was drawn up here, or was sent out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Inkommande: received from outside.
    Incoming,
    /// Upprättad: drawn up here (a tjänsteskrivelse, a protocol extract).
    Internal,
    /// Utgående: sent out.
    Outgoing,
}

impl Direction {
    /// The code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Direction::Incoming => "in",
            Direction::Internal => "internal",
            Direction::Outgoing => "out",
        }
    }

    /// The Swedish word used in the diarium and the postlista.
    pub fn label(self) -> &'static str {
        match self {
            Direction::Incoming => "inkommande",
            Direction::Internal => "upprättad",
            Direction::Outgoing => "utgående",
        }
    }
}

impl std::str::FromStr for Direction {
    type Err = UnknownWord;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "in" | "incoming" | "inkommande" | "i" => Ok(Direction::Incoming),
            "internal" | "upprättad" | "upprattad" | "u" => Ok(Direction::Internal),
            "out" | "outgoing" | "utgående" | "utgaende" | "ut" => Ok(Direction::Outgoing),
            _ => Err(UnknownWord::new(
                "direction",
                s,
                &["inkommande (in)", "upprättad (internal)", "utgående (out)"],
            )),
        }
    }
}

/// A sekretessmarkering (OSL 5 kap 5 §): a warning that the handling is presumed to hold secret
/// information. The law wants all three parts, so there is no marking with one of them missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecrecyMarking {
    /// The provision, e.g. "OSL 39 kap 3 §".
    pub provision: String,
    /// The day the marking was made.
    pub date: NaiveDate,
    /// The authority that made it.
    pub authority: String,
}

/// What the postlista shows in place of a protected value.
pub const MASK: &str = "[skyddad uppgift]";
