//! Whether an ärende is being handled: open, or avslutat. An avslutat ärende takes no new
//! handlingar and no answers; it is reopened only with a reason, in its history.

use super::organisation::vocabulary;

vocabulary! {
    /// An ärende's status in the diarium.
    CaseStatus, "status" {
        /// Being handled: handlingar are registered, its workflow runs.
        Open => "open", "öppet", ["öppen", "oppen", "pågående"];
        /// Avslutat, by its workflow or by hand.
        Closed => "closed", "avslutat", ["avslutad"];
    }
}

/// Read against the stored code, as the API and the tests spell it: `status == "open"`.
impl PartialEq<&str> for CaseStatus {
    fn eq(&self, code: &&str) -> bool {
        self.code() == *code
    }
}
