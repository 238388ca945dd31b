//! The typed contexts templates are rendered with. Every field is always present (missing
//! values are empty text), so strict mode catches a template that names a field that does not
//! exist rather than one whose value happens to be missing today.

use serde::Serialize;

/// The municipality, as every message's footer shows it.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Municipality {
    /// "Norrvika kommun".
    pub name: String,
    /// The sender address.
    pub email: String,
    /// The switchboard.
    pub phone: String,
    /// The website.
    pub website: String,
}

/// The context of a workflow step's message (invitations, reminders, sign-off, decisions).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct MessageContext {
    /// The municipality (also flattened into `municipality_name` for short templates).
    pub kommun: Municipality,
    /// The municipality's name.
    pub municipality: String,
    /// The ärende's number.
    pub case_number: String,
    /// The ärende's public title.
    pub case_title: String,
    /// The year the follow-up concerns.
    pub year: String,
    /// The unit (förvaltning) the message concerns.
    pub unit_name: String,
    /// The recipient's name.
    pub recipient_name: String,
    /// The personal link to act on (the questionnaire, the sign-off).
    pub link: String,
    /// The answering deadline, `YYYY-MM-DD`.
    pub deadline: String,
    /// The handläggare's name.
    pub handlaggare_name: String,
    /// The handläggare's email address.
    pub handlaggare_email: String,
    /// A comment, e.g. why an answer was returned.
    pub comment: String,
}

impl MessageContext {
    /// A filled-in example: what templates are checked and snapshot-tested with.
    pub fn example() -> Self {
        Self {
            kommun: Municipality {
                name: "Norrvika kommun".into(),
                email: "kansli@norrvika.example".into(),
                phone: "0999-12 30 00".into(),
                website: "https://www.norrvika.example".into(),
            },
            municipality: "Norrvika kommun".into(),
            case_number: "KS 2026/41".into(),
            case_title: "Årlig uppföljning av aktiva åtgärder inom likabehandling 2026".into(),
            year: "2026".into(),
            unit_name: "Barn- och utbildningsförvaltningen".into(),
            recipient_name: "Oskar Lindfors".into(),
            link: "http://127.0.0.1:8080/enkat/EXEMPEL".into(),
            deadline: "2026-10-29".into(),
            handlaggare_name: "Amira Hadžić".into(),
            handlaggare_email: "amira.hadzic@norrvika.example".into(),
            comment: "Fyll i åtgärderna för lönekartläggningen.".into(),
        }
    }
}

/// The context of the notice to administrators that a message could not be delivered.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DeliveryFailureContext {
    /// The municipality.
    pub kommun: Municipality,
    /// The municipality's name.
    pub municipality: String,
    /// The ärende's number (empty when none).
    pub case_number: String,
    /// The outbox id of the failed message.
    pub message_id: String,
    /// Its recipient.
    pub recipient: String,
    /// Its subject.
    pub subject: String,
    /// Delivery attempts made.
    pub attempts: String,
    /// The last error.
    pub error: String,
}

impl DeliveryFailureContext {
    /// A filled-in example.
    pub fn example() -> Self {
        Self {
            kommun: MessageContext::example().kommun,
            municipality: "Norrvika kommun".into(),
            case_number: "KS 2026/41".into(),
            message_id: "17".into(),
            recipient: "oskar.lindfors@norrvika.example".into(),
            subject: "Uppföljning av aktiva åtgärder 2026".into(),
            attempts: "8".into(),
            error: "550 5.1.1 mailbox unavailable".into(),
        }
    }
}

/// The context of a meeting's kallelse, sent to each ledamot and ersättare.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct KallelseContext {
    /// The municipality.
    pub kommun: Municipality,
    /// The municipality's name.
    pub municipality: String,
    /// The member it goes to.
    pub recipient_name: String,
    /// Ledamot or ersättare.
    pub seat: String,
    /// The organ's name.
    pub organ_name: String,
    /// The day.
    pub meeting_date: String,
    /// When: `13.00-15.30`.
    pub starts_at: String,
    /// Where.
    pub place: String,
    /// The föredragningslista: "1. KS 2026/1 Årlig uppföljning …".
    pub items: Vec<String>,
    /// The sekreterare to answer to (an ersättare called in, an absence).
    pub secretary: String,
}

impl KallelseContext {
    /// A filled-in example.
    pub fn example() -> Self {
        Self {
            kommun: Municipality {
                name: "Norrvika kommun".into(),
                email: "kansli@norrvika.example".into(),
                phone: "0999-12 30 00".into(),
                website: "https://www.norrvika.example".into(),
            },
            municipality: "Norrvika kommun".into(),
            recipient_name: "Eva Ek".into(),
            seat: "ledamot".into(),
            organ_name: "Kommunstyrelsen".into(),
            meeting_date: "2026-12-08".into(),
            starts_at: "13.00".into(),
            place: "Sessionssalen".into(),
            items: vec!["1. KS 2026/1 Årlig uppföljning av aktiva åtgärder".into()],
            secretary: "Sara Nyqvist".into(),
        }
    }
}

/// The context of a document a workflow step registers as a handling.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DocumentContext {
    /// The municipality's name.
    pub municipality: String,
    /// The ärende's number.
    pub case_number: String,
    /// The ärende's public title.
    pub case_title: String,
    /// The year the follow-up concerns.
    pub year: String,
    /// The unit the document concerns (a förvaltning's answer), or empty.
    pub unit_name: String,
    /// The day it was drawn up or received.
    pub date: String,
    /// The handling's description.
    pub description: String,
    /// The questionnaire's title, when the document holds an answer.
    pub questionnaire_title: String,
    /// The answer, section by section (empty when the document holds none).
    pub sections: Vec<DocumentSection>,
    /// For a compiled report: how many förvaltningar answered, of how many.
    pub response_rate: String,
    /// For a compiled report: the förvaltningar that did not answer.
    pub not_answered: Vec<String>,
    /// The handläggare's name, title and email, for the header.
    pub handlaggare_name: String,
    /// Title.
    pub handlaggare_title: String,
    /// Email.
    pub handlaggare_email: String,
    /// The organ the document is addressed to (the one that decides).
    pub addressee: String,
    /// The proposal worded down the organ chain: "Kommunstyrelsens arbetsutskott föreslås
    /// besluta att föreslå kommunstyrelsen besluta".
    pub proposal: String,
    /// The handlingar the decision rests on, each with its date.
    pub beslutsunderlag: Vec<String>,
    /// Beslutet skickas till.
    pub skickas_till: Vec<String>,
    /// The handläggare's Sammanfattning, paragraph by paragraph (empty until written).
    pub sammanfattning: Vec<String>,
    /// The handläggare's Ärendet, paragraph by paragraph (empty until written).
    pub arendet: Vec<String>,
    /// The paragraph an extract is of, `KS § 12/26`; empty before any decision.
    pub paragraph: String,
    /// The organ that made it.
    pub organ_name: String,
    /// The meeting's day.
    pub meeting_date: String,
    /// Every organ that has dealt with the ärende, in order.
    pub behandlat_av: Vec<Treatment>,
    /// The decision, att-sats by att-sats.
    pub beslut: Vec<String>,
    /// What the att-satser follow, with the organ as subject: "Kommunstyrelsen beslutar",
    /// "Kommunstyrelsens arbetsutskott föreslår kommunstyrelsen besluta"; empty when the
    /// decision is a sentence of its own ("… noterar informationen.").
    pub beslut_lead: String,
    /// The meeting's sekreterare, who certifies an extract (utdragsbestyrkande).
    pub secretary: String,
    /// The meeting's ordförande.
    pub chair: String,
    /// When the meeting was held: `13.00-15.30`.
    pub starts_at: String,
    /// Where and when the protocol is justerat, as planned.
    pub justering_at: String,
    /// Tjänstgörande ledamöter: "Anna Berg (S), ordförande".
    pub ledamoter: Vec<String>,
    /// Tjänstgörande ersättare: "Eva Lind (M) för Olle Sjö (M)".
    pub tjanstgorande_ersattare: Vec<String>,
    /// Ersättare present without serving.
    pub ersattare: Vec<String>,
    /// Others present: "Kim Falk, kommundirektör".
    pub ovriga: Vec<String>,
    /// The protocol's justering and anslag; empty strings until it is justerat.
    pub justerare: String,
    /// The day it was justerat.
    pub justerad_on: String,
    /// The day the notice went up on the anslagstavla.
    pub posted_on: String,
    /// The day it is taken down.
    pub taken_down_on: String,
    /// The last day for laglighetsprövning.
    pub appeal_last_day: String,
    /// Where the meeting was held (a protocol).
    pub place: String,
    /// The meeting's paragraphs, in number order (a protocol).
    pub paragraphs: Vec<ProtocolParagraph>,
}

/// A paragraph of a protocol.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ProtocolParagraph {
    /// `KS § 12/26`.
    pub label: String,
    /// The ärende's number.
    pub case_number: String,
    /// The ärende's public title.
    pub title: String,
    /// The decision, att-sats by att-sats.
    pub beslut: Vec<String>,
    /// The organ the decision proposes to, or empty for a decision of the organ's own.
    pub proposal_to: String,
    /// Beslutet skickas till.
    pub skickas_till: Vec<String>,
    /// What the paragraph records, in Swedish: beslut, förslag, information, återremiss.
    pub kind: String,
    /// What the att-satser follow (see [`DocumentContext::beslut_lead`]).
    pub beslut_lead: String,
    /// Jäv: who did not take part.
    pub jav: Vec<String>,
    /// The yrkanden, one each.
    pub yrkanden: Vec<String>,
    /// The beslutsgång.
    pub beslutsgang: String,
    /// What the omröstning was between; empty when there was none.
    pub vote_question: String,
    /// Each vote: "Anna Berg (S): ja".
    pub votes: Vec<String>,
    /// The omröstning's counts and result.
    pub vote_result: String,
    /// Reservationer: "Lena Ek (V) reserverar sig mot beslutet: …".
    pub reservationer: Vec<String>,
    /// Protokollsanteckningar.
    pub anteckningar: Vec<String>,
}

/// A row of "Behandlat av | Datum | Ärende" in a protokollsutdrag.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Treatment {
    /// 1, 2, ...
    pub row: usize,
    /// The organ's name.
    pub organ: String,
    /// The meeting's day.
    pub date: String,
    /// The paragraph, `12/26`.
    pub paragraph: String,
}

/// A section of an answer in a document.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DocumentSection {
    /// A, B, ...
    pub id: String,
    /// The heading.
    pub title: String,
    /// Its questions and answers.
    pub answers: Vec<DocumentAnswer>,
}

/// A question and its answer in a document.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DocumentAnswer {
    /// B1, ...
    pub id: String,
    /// The question.
    pub question: String,
    /// The answer as text; empty when not answered.
    pub answer: String,
}

impl DocumentContext {
    /// A filled-in example.
    pub fn example() -> Self {
        Self {
            municipality: "Norrvika kommun".into(),
            case_number: "KS 2026/41".into(),
            case_title: "Årlig uppföljning av aktiva åtgärder inom likabehandling 2026".into(),
            year: "2026".into(),
            unit_name: "Barn- och utbildningsförvaltningen".into(),
            date: "2026-10-20".into(),
            description: "Svar på uppföljningsenkät om aktiva åtgärder 2026".into(),
            questionnaire_title: "Uppföljning av aktiva åtgärder mot diskriminering".into(),
            response_rate: "6 av 7 förvaltningar har svarat (86 %)".into(),
            not_answered: vec!["Miljö- och hälsoskyddsförvaltningen".into()],
            sections: vec![DocumentSection {
                id: "B".into(),
                title: "Arbetsförhållanden".into(),
                answers: vec![DocumentAnswer {
                    id: "B1".into(),
                    question: "Har risker undersökts?".into(),
                    answer: "ja".into(),
                }],
            }],
            handlaggare_name: "Amira Hadžić".into(),
            handlaggare_title: "HR-konsult".into(),
            handlaggare_email: "amira.hadzic@norrvika.example".into(),
            addressee: "Kommunstyrelsen".into(),
            proposal: "Kommunstyrelsens arbetsutskott föreslås besluta att föreslå kommunstyrelsen besluta".into(),
            beslutsunderlag: vec!["Sammanställning av förvaltningarnas uppföljning, 2026-11-05".into()],
            skickas_till: vec!["Samtliga nämnder".into()],
            sammanfattning: vec!["Samtliga förvaltningar har besvarat enkäten.".into()],
            arendet: vec!["Kommunstyrelsen har samordningsansvar.".into()],
            paragraph: "KS § 12/26".into(),
            organ_name: "Kommunstyrelsen".into(),
            meeting_date: "2026-12-09".into(),
            behandlat_av: vec![Treatment {
                row: 1,
                organ: "Kommunstyrelsens arbetsutskott".into(),
                date: "2026-11-25".into(),
                paragraph: "31/26".into(),
            }],
            beslut: vec!["att godkänna rapporten.".into()],
            beslut_lead: "Kommunstyrelsen beslutar".into(),
            secretary: "Sara Nyqvist".into(),
            chair: "Agneta Almqvist".into(),
            starts_at: "13.00-15.30".into(),
            justering_at: "Kommunkansliet 2026-12-14".into(),
            ledamoter: vec!["Agneta Almqvist (S), ordförande".into(), "Per Holm (C)".into()],
            tjanstgorande_ersattare: vec!["Eva Lind (M) för Olle Sjö (M)".into()],
            ersattare: vec!["Ivar Rydberg (KD)".into()],
            ovriga: vec!["Kim Falk, kommundirektör".into()],
            justerare: "Per Holm, Lena Ek".into(),
            justerad_on: "2026-12-14".into(),
            posted_on: "2026-12-15".into(),
            taken_down_on: "2027-01-06".into(),
            appeal_last_day: "2027-01-05".into(),
            place: "Sessionssalen, kommunhuset".into(),
            paragraphs: vec![ProtocolParagraph {
                label: "KS § 12/26".into(),
                case_number: "KS 2026/41".into(),
                title: "Årlig uppföljning av aktiva åtgärder inom likabehandling 2026".into(),
                beslut: vec!["att godkänna rapporten.".into()],
                proposal_to: String::new(),
                skickas_till: vec!["Samtliga nämnder".into()],
                kind: "beslut".into(),
                beslut_lead: "Kommunstyrelsen beslutar".into(),
                jav: vec!["Ivar Rydberg (KD) deltar inte i handläggningen på grund av jäv.".into()],
                yrkanden: vec!["Lena Ek (V): avslag".into()],
                beslutsgang: "Ordföranden ställer förslagen mot varandra.".into(),
                vote_question: "Ja för arbetsutskottets förslag, nej för avslag".into(),
                votes: vec!["Agneta Almqvist (S): ja".into(), "Lena Ek (V): nej".into()],
                vote_result: "Omröstningen utföll med 1 ja-röster och 1 nej-röster. Ordförandens utslagsröst avgör för ja.".into(),
                reservationer: vec!["Lena Ek (V) reserverar sig mot beslutet.".into()],
                anteckningar: vec!["Per Holm (C): Vi följer frågan.".into()],
            }],
        }
    }
}
