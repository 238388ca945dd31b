//! The vocabulary of the organisation: roles people hold in units, and the kinds of units and
//! organs. Each parses from the Swedish word a registrator writes, and from the ASCII spelling.

/// Generates a closed vocabulary enum: its stored code (ASCII, stable), its Swedish label, and
/// the spellings accepted when parsing.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $what:literal {
        $($(#[$vmeta:meta])* $variant:ident => $code:literal, $label:literal, [$($alias:literal),*];)+
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The code stored in the database.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The Swedish label shown to users.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::organisation::UnknownWord;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let word = s.trim().to_lowercase();
                $(if word == $code || word == $label.to_lowercase() $(|| word == $alias)* {
                    return Ok($name::$variant);
                })+
                Err($crate::domain::organisation::UnknownWord::new(
                    $what,
                    s,
                    &[$($label,)+],
                ))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}
pub(crate) use vocabulary;

/// A word that is not in one of the closed vocabularies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {word:?}; expected one of: {}", expected.join(", "))]
pub struct UnknownWord {
    what: &'static str,
    word: String,
    expected: Vec<&'static str>,
}

impl UnknownWord {
    pub(crate) fn new(what: &'static str, word: &str, expected: &[&'static str]) -> Self {
        Self {
            what,
            word: word.to_owned(),
            expected: expected.to_vec(),
        }
    }
}

vocabulary! {
    /// What a person may do in a unit.
    Role, "role" {
        /// Registers ärenden and handlingar.
        Registrator => "registrator", "registrator", [];
        /// Prepares ärenden (the HR handläggare of the yearly follow-up).
        Handlaggare => "handlaggare", "handläggare", ["case_officer"];
        /// Answers the questionnaire for a unit.
        Chef => "chef", "chef", ["manager"];
        /// Heads a förvaltning and signs off its answer.
        Forvaltningschef => "forvaltningschef", "förvaltningschef", ["head_of_administration"];
        /// Keeps an organ's meetings and protocols.
        Sekreterare => "sekreterare", "sekreterare", ["namndsekreterare", "nämndsekreterare", "secretary"];
        /// Administers the system.
        Admin => "admin", "administratör", ["administrator", "administratör"];
    }
}

impl Role {
    /// Whether the role is held only within a unit, its work that unit's own: a chef answers,
    /// and a förvaltningschef signs off, for their own förvaltning only.
    pub fn unit_bound(self) -> bool {
        matches!(self, Role::Chef | Role::Forvaltningschef)
    }

    /// Whether the role, held in the unit `held_in`, acts in a workflow instance of `unit`
    /// (None for the ärende's own): a role bound to a unit only in that unit's.
    pub fn acts_in(self, held_in: &str, unit: Option<&str>) -> bool {
        !self.unit_bound() || unit == Some(held_in)
    }
}

vocabulary! {
    /// The kind of an organisational unit.
    UnitKind, "unit kind" {
        /// An administration serving a nämnd.
        Forvaltning => "forvaltning", "förvaltning", [];
        /// A department within a förvaltning.
        Avdelning => "avdelning", "avdelning", [];
        /// A municipal company.
        Bolag => "bolag", "bolag", [];
        /// Any other unit.
        Other => "other", "övrig", ["ovrig"];
    }
}

vocabulary! {
    /// The kind of a political organ.
    OrganKind, "organ kind" {
        /// Kommunfullmäktige.
        Fullmaktige => "fullmaktige", "fullmäktige", ["kommunfullmäktige"];
        /// Kommunstyrelsen.
        Styrelse => "styrelse", "styrelse", ["kommunstyrelse"];
        /// A committee preparing for its parent organ (arbetsutskott, arbetsgivarutskott).
        Utskott => "utskott", "utskott", [];
        /// A nämnd.
        Namnd => "namnd", "nämnd", [];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_parse_in_swedish_and_ascii_and_unknown_words_list_the_choices() {
        assert_eq!(
            "Förvaltningschef".parse::<Role>(),
            Ok(Role::Forvaltningschef)
        );
        assert_eq!(
            "forvaltningschef".parse::<Role>(),
            Ok(Role::Forvaltningschef)
        );
        assert_eq!("nämndsekreterare".parse::<Role>(), Ok(Role::Sekreterare));
        assert_eq!("nämnd".parse::<OrganKind>(), Ok(OrganKind::Namnd));
        let err = "kung".parse::<Role>().unwrap_err().to_string();
        assert!(err.contains("unknown role \"kung\""), "{err}");
        assert!(err.contains("handläggare"), "{err}");
    }

    #[test]
    fn every_code_reads_back_as_itself() {
        for role in Role::ALL {
            assert_eq!(role.code().parse::<Role>(), Ok(*role));
        }
        for kind in UnitKind::ALL {
            assert_eq!(kind.code().parse::<UnitKind>(), Ok(*kind));
        }
    }
}
