//! The vocabulary of a protocol (kommunallagen 5 kap 67-69 §§, 6 kap 35 §): the seats on an
//! organ, how someone was at a meeting, the kinds of paragraph, votes and remarks, and the
//! rules over them that need no database: who may vote, how an omröstning ends, whether a
//! meeting is beslutför, and where a meeting stands in its life.

use chrono::NaiveDate;
use serde::Serialize;

use super::organisation::vocabulary;

vocabulary! {
    /// A seat on an organ, for a mandatperiod.
    Seat, "seat" {
        /// A ledamot.
        Ledamot => "ledamot", "ledamot", ["member"];
        /// An ersättare, who serves when a ledamot is away.
        Ersattare => "ersattare", "ersättare", ["substitute"];
    }
}

vocabulary! {
    /// How someone was at a meeting, as the protocol's first page lists them.
    Presence, "presence" {
        /// A ledamot who took part (tjänstgörande).
        Ledamot => "ledamot", "tjänstgörande ledamot", ["ledamot"];
        /// An ersättare serving in an absent ledamot's place.
        TjanstgorandeErsattare => "tjanstgorande_ersattare", "tjänstgörande ersättare", ["tjänstgörande ersättare"];
        /// An ersättare present but not serving.
        Ersattare => "ersattare", "ej tjänstgörande ersättare", ["ersättare"];
        /// Anyone else present: officials, the sekreterare, a föredragande.
        Ovrig => "ovrig", "övriga närvarande", ["övrig"];
    }
}

vocabulary! {
    /// What a paragraph records.
    ParagraphKind, "paragraph kind" {
        /// A decision on an ärende: "Kommunstyrelsen beslutar att …".
        Beslut => "beslut", "beslut", ["decision"];
        /// A proposal to another organ: "… föreslår kommunstyrelsen besluta att …".
        Forslag => "forslag", "förslag", ["proposal"];
        /// An information item: "… noterar informationen".
        Information => "information", "information", [];
        /// The ärende is sent back for more preparation.
        Aterremiss => "aterremiss", "återremiss", ["återremiss"];
        /// The ärende is postponed to a later meeting.
        Bordlaggning => "bordlaggning", "bordläggning", ["bordläggning"];
        /// A paragraph without an ärende: Mötets öppnande, Val av justerare.
        Ovrigt => "ovrigt", "övrigt", ["övrigt"];
    }
}

impl ParagraphKind {
    /// Whether the paragraph settles something the organ voted on, so that the meeting must
    /// be beslutför and the paragraph is on the ärende's record.
    pub fn is_decision(self) -> bool {
        !matches!(self, ParagraphKind::Information | ParagraphKind::Ovrigt)
    }

    /// The sentence the paragraph reads as when no text is given, with the organ as subject.
    pub fn default_text(self, organ: &str) -> Option<String> {
        match self {
            ParagraphKind::Information => Some(format!("{organ} noterar informationen.")),
            ParagraphKind::Aterremiss => Some(format!(
                "{organ} beslutar att återremittera ärendet för ytterligare beredning."
            )),
            ParagraphKind::Bordlaggning => Some(format!("{organ} beslutar att bordlägga ärendet.")),
            _ => None,
        }
    }
}

vocabulary! {
    /// A ledamot's vote.
    VoteChoice, "vote" {
        /// Ja.
        Ja => "ja", "ja", ["yes"];
        /// Nej.
        Nej => "nej", "nej", ["no"];
        /// Avstår.
        Avstar => "avstar", "avstår", ["abstain"];
    }
}

vocabulary! {
    /// What a ledamot had recorded at a paragraph.
    RemarkKind, "remark" {
        /// A reservation against the decision (KL 4 kap 27 §).
        Reservation => "reservation", "reservation", [];
        /// A protokollsanteckning.
        Anteckning => "anteckning", "protokollsanteckning", ["protokollsanteckning"];
        /// Jäv: the ledamot did not take part in the matter.
        Jav => "jav", "jäv", ["jäv"];
    }
}

/// How an omröstning ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Ja votes.
    pub ja: usize,
    /// Nej votes.
    pub nej: usize,
    /// Those who abstained.
    pub avstar: usize,
    /// The side that won.
    pub result: VoteChoice,
    /// Whether the ordförande's utslagsröst decided a tie (KL 5 kap 55 §).
    pub casting_vote: bool,
}

impl Tally {
    /// Counts the votes; a tie goes the way the ordförande voted (utslagsröst). `None` when
    /// the votes are tied and the ordförande voted neither ja nor nej: the omröstning has no
    /// result and must be recorded as it was really decided.
    pub fn count(votes: &[(String, VoteChoice)], chair: &str) -> Option<Tally> {
        let of = |c| votes.iter().filter(|(_, v)| *v == c).count();
        let (ja, nej, avstar) = (
            of(VoteChoice::Ja),
            of(VoteChoice::Nej),
            of(VoteChoice::Avstar),
        );
        let (result, casting_vote) = match ja.cmp(&nej) {
            std::cmp::Ordering::Greater => (VoteChoice::Ja, false),
            std::cmp::Ordering::Less => (VoteChoice::Nej, false),
            std::cmp::Ordering::Equal => {
                let chair = votes.iter().find(|(name, _)| name == chair)?.1;
                if chair == VoteChoice::Avstar {
                    return None;
                }
                (chair, true)
            }
        };
        Some(Tally {
            ja,
            nej,
            avstar,
            result,
            casting_vote,
        })
    }

    /// The result as the protocol states it.
    pub fn in_swedish(&self) -> String {
        let mut text = format!(
            "Omröstningen utföll med {} ja-röster och {} nej-röster",
            self.ja, self.nej
        );
        if self.avstar > 0 {
            text.push_str(&format!("; {} avstod", self.avstar));
        }
        text.push_str(match (self.result, self.casting_vote) {
            (VoteChoice::Ja, false) => ". Ja har vunnit.",
            (VoteChoice::Nej, false) => ". Nej har vunnit.",
            (VoteChoice::Ja, true) => ". Ordförandens utslagsröst avgör för ja.",
            _ => ". Ordförandens utslagsröst avgör för nej.",
        });
        text
    }
}

/// Whether as many serve as the law asks for the organ to decide: more than half of its
/// ledamöter (KL 5 kap 45 § for fullmäktige, 6 kap 27 § for nämnder).
pub fn beslutfor(serving: usize, ledamoter: usize) -> bool {
    serving * 2 > ledamoter
}

/// Where a meeting stands. Each step is recorded by the sekreterare, except the last two,
/// which follow from the protocol's dates: the anslag goes up on its day and comes down when
/// the appeal period has run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStage {
    /// Planned: date, place and agenda are being prepared.
    Planerat,
    /// The kallelse with the föredragningslista has gone out.
    Kallat,
    /// The meeting is held: the närvaro is recorded and paragraphs are being written.
    Genomfort,
    /// The protocol is justerat; the anslag is not up yet.
    Justerat,
    /// The anslag is up on the anslagstavla.
    Anslaget,
    /// The anslag has been taken down.
    Nedtaget,
}

impl MeetingStage {
    /// The stage from what is recorded: when the kallelse went out, whether the närvaro is
    /// recorded, and the protocol's anslag dates, on `today`.
    pub fn of(
        kallat: bool,
        held: bool,
        anslag: Option<(NaiveDate, NaiveDate)>,
        today: NaiveDate,
    ) -> MeetingStage {
        match anslag {
            Some((_, down)) if today >= down => MeetingStage::Nedtaget,
            Some((up, _)) if today >= up => MeetingStage::Anslaget,
            Some(_) => MeetingStage::Justerat,
            None if held => MeetingStage::Genomfort,
            None if kallat => MeetingStage::Kallat,
            None => MeetingStage::Planerat,
        }
    }

    /// The stage in Swedish.
    pub fn label(self) -> &'static str {
        match self {
            MeetingStage::Planerat => "planerat",
            MeetingStage::Kallat => "kallelse skickad",
            MeetingStage::Genomfort => "genomfört; protokoll upprättas",
            MeetingStage::Justerat => "justerat",
            MeetingStage::Anslaget => "anslaget",
            MeetingStage::Nedtaget => "anslaget nedtaget",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn votes(list: &[(&str, VoteChoice)]) -> Vec<(String, VoteChoice)> {
        list.iter().map(|(n, v)| ((*n).to_owned(), *v)).collect()
    }

    #[test]
    fn the_majority_wins_and_a_tie_goes_the_way_the_ordforande_voted() {
        use VoteChoice::*;
        let t = Tally::count(&votes(&[("A", Ja), ("B", Ja), ("C", Nej)]), "C").unwrap();
        assert_eq!((t.ja, t.nej, t.result, t.casting_vote), (2, 1, Ja, false));
        let t = Tally::count(&votes(&[("A", Ja), ("B", Nej), ("C", Avstar)]), "B").unwrap();
        assert_eq!((t.result, t.casting_vote, t.avstar), (Nej, true, 1));
        assert!(
            t.in_swedish().contains("utslagsröst avgör för nej"),
            "{}",
            t.in_swedish()
        );
        let t = Tally::count(&votes(&[("A", Ja), ("B", Nej)]), "A").unwrap();
        assert_eq!(t.result, Ja);
        // A tie where the ordförande abstained, or did not vote, has no result.
        assert_eq!(
            Tally::count(&votes(&[("A", Ja), ("B", Nej), ("C", Avstar)]), "C"),
            None
        );
        assert_eq!(Tally::count(&votes(&[("A", Ja), ("B", Nej)]), "X"), None);
    }

    #[test]
    fn more_than_half_must_serve() {
        assert!(!beslutfor(3, 7));
        assert!(beslutfor(4, 7));
        assert!(!beslutfor(2, 4));
        assert!(beslutfor(3, 4));
    }

    #[test]
    fn a_meeting_moves_through_its_stages_in_order() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        let anslag = Some((day(10), day(31)));
        assert_eq!(
            MeetingStage::of(false, false, None, day(1)),
            MeetingStage::Planerat
        );
        assert_eq!(
            MeetingStage::of(true, false, None, day(1)),
            MeetingStage::Kallat
        );
        assert_eq!(
            MeetingStage::of(true, true, None, day(1)),
            MeetingStage::Genomfort
        );
        assert_eq!(
            MeetingStage::of(true, true, anslag, day(9)),
            MeetingStage::Justerat
        );
        assert_eq!(
            MeetingStage::of(true, true, anslag, day(10)),
            MeetingStage::Anslaget
        );
        assert_eq!(
            MeetingStage::of(true, true, anslag, day(31)),
            MeetingStage::Nedtaget
        );
    }

    #[test]
    fn words_parse_in_swedish() {
        assert_eq!(
            "återremiss".parse::<ParagraphKind>(),
            Ok(ParagraphKind::Aterremiss)
        );
        assert_eq!("avstår".parse::<VoteChoice>(), Ok(VoteChoice::Avstar));
        assert_eq!("jäv".parse::<RemarkKind>(), Ok(RemarkKind::Jav));
        assert!(
            "kanske"
                .parse::<VoteChoice>()
                .unwrap_err()
                .to_string()
                .contains("ja, nej, avstår")
        );
    }
}
