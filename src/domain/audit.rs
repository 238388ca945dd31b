//! What a history entry says was done, for the actions that are Kansli's own: the diarium's,
//! the meetings', the mail's and the administrators'. A workflow's steps are recorded by their
//! own event, which is the workflow's word, not one of these. The words are Swedish, as the
//! ärende's history shows them, and are stored as they read.

use super::protocol::ParagraphKind;

/// An action of Kansli's own in an ärende's history or the system's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// An ärende was registered.
    CaseOpened,
    /// An ärende was closed (avslutat), by its workflow or by hand.
    CaseClosed,
    /// A closed ärende was opened again.
    CaseReopened,
    /// A handling was registered.
    DocumentRegistered,
    /// An email was queued for sending.
    EmailQueued,
    /// An email was delivered to the mail server.
    EmailSent,
    /// A failed email was queued again by an administrator.
    EmailQueuedAgain,
    /// An email could not be delivered and was given up.
    EmailFailed,
    /// The ärende was referred to an organ for beredning.
    ReferredToOrgan,
    /// The ärende was put on a meeting's agenda (anmält).
    ReferredToMeeting,
    /// A child instance ended because its parent did.
    EndedWithParent,
    /// The decision was sent to "Beslutet skickas till" (expedierat).
    DecisionDispatched,
    /// A name on "Beslutet skickas till" has no address to send the decision to.
    DispatchUnaddressed,
    /// A nämnd's decision was forwarded to the ärende it concerns.
    DecisionForwarded,
    /// A decision the workflow did not take waits for a registrator.
    DecisionAwaitsRegistrator,
    /// A registrator took care of such a decision.
    DecisionHandled,
    /// A meeting was planned.
    MeetingPlanned,
    /// An item without an ärende was put on the agenda.
    AgendaItemAdded,
    /// The agenda was put in order.
    AgendaOrdered,
    /// The kallelse went out.
    KallelseSent,
    /// The närvaro was recorded.
    AttendanceRecorded,
    /// The protocol was justerat.
    ProtocolJusterat,
    /// A paragraph of this kind was recorded.
    Paragraph(ParagraphKind),
    /// A secret handling was read.
    SecretRead,
    /// Access to an ärende's secret handlingar was given.
    AccessGiven,
    /// Access to an ärende's secret handlingar was taken back.
    AccessTaken,
    /// An account was created.
    AccountCreated,
    /// An account was opened again.
    AccountEnabled,
    /// An account was turned off.
    AccountDisabled,
    /// A password was changed.
    PasswordChanged,
    /// A person's roles were changed.
    RolesChanged,
    /// A diarium series was created.
    SeriesCreated,
    /// A diarium series was changed.
    SeriesChanged,
    /// The organisation file was imported.
    OrganisationImported,
    /// A failed timer was put back by an administrator.
    TimerRetried,
}

impl Action {
    /// The words the history shows, as they are stored.
    pub fn text(self) -> &'static str {
        match self {
            Action::CaseOpened => "ärende öppnat",
            Action::CaseClosed => "ärende avslutat",
            Action::CaseReopened => "ärende återöppnat",
            Action::DocumentRegistered => "handling registrerad",
            Action::EmailQueued => "e-post köad",
            Action::EmailSent => "e-post skickad",
            Action::EmailQueuedAgain => "e-post köad igen",
            Action::EmailFailed => "e-post kunde inte levereras",
            Action::ReferredToOrgan => "anmält till organ",
            Action::ReferredToMeeting => "anmält till sammanträde",
            Action::EndedWithParent => "avslutad med överordnat flöde",
            Action::DecisionDispatched => "beslut expedierat",
            Action::DispatchUnaddressed => "expediering saknar mottagare",
            Action::DecisionForwarded => "beslut översänt",
            Action::DecisionAwaitsRegistrator => "beslut väntar på registrator",
            Action::DecisionHandled => "beslut omhändertaget av registrator",
            Action::MeetingPlanned => "sammanträde planerat",
            Action::AgendaItemAdded => "punkt på föredragningslistan",
            Action::AgendaOrdered => "föredragningslistan ordnad",
            Action::KallelseSent => "kallelse skickad",
            Action::AttendanceRecorded => "närvaro registrerad",
            Action::ProtocolJusterat => "protokoll justerat",
            Action::Paragraph(kind) => kind.label(),
            Action::SecretRead => "sekretessmarkerad handling läst",
            Action::AccessGiven => "åtkomst till sekretessmarkerade handlingar given",
            Action::AccessTaken => "åtkomst till sekretessmarkerade handlingar återtagen",
            Action::AccountCreated => "konto skapat",
            Action::AccountEnabled => "konto öppnat igen",
            Action::AccountDisabled => "konto avstängt",
            Action::PasswordChanged => "lösenord bytt",
            Action::RolesChanged => "roller ändrade",
            Action::SeriesCreated => "diarieserie skapad",
            Action::SeriesChanged => "diarieserie ändrad",
            Action::OrganisationImported => "organisation importerad",
            Action::TimerRetried => "timer försökt igen",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}
