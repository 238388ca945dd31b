//! The benchmark corpus: a synthetic diarium for `kansli bench http`, made of ärenden that
//! look like a municipality's (varied Swedish titles, the demo organisation's series, five
//! years, some closed, handlingar and history on some), written in bulk.
//!
//! The same `cases` give the same diarium every time (a fixed pseudo-random sequence), so runs
//! compare. The numbers are assigned here rather than taken from the counter, which is what
//! makes 100,000 ärenden take seconds instead of minutes; that is also why it is only for
//! benchmarks' scratch databases.

use std::collections::{BTreeSet, HashMap};

use chrono::Duration;

use super::diarium::search_text;
use super::{Kansli, ServiceError};
use crate::domain::audit::Action;
use crate::domain::calendar::{local_date, local_year};
use crate::domain::case_number::{CaseNumberParts, SeriesFormat};
use crate::domain::document::Direction;
use crate::store::{CorpusAudit, CorpusCase, NewCase, NewDocument};

/// What was written, for the benchmark to ask about.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Every ärende's number, as its series renders it.
    pub numbers: Vec<String>,
    /// Searches that find ärenden: a word of the titles, or two words that occur together.
    pub searches: Vec<String>,
    /// "Series year" searches (`KS 2024`), one for each series and year written.
    pub series_years: Vec<String>,
}

/// The registrator who "registered" the corpus.
const REGISTRATOR: &str = "per.ekdahl";
/// Years of diarium, counting this one.
const YEARS: i32 = 5;

const KINDS: [&str; 14] = [
    "Ansökan om",
    "Begäran om",
    "Medborgarförslag om",
    "Motion om",
    "Remiss om",
    "Yttrande om",
    "Överklagande av beslut om",
    "Anmälan om",
    "Synpunkter på",
    "Information om",
    "Uppföljning av",
    "Avtal om",
    "Beslut om",
    "Utredning av",
];

/// Topics by series prefix; a series not listed takes the general ones.
const GENERAL: [&str; 16] = [
    "kommunens budget för nästa år",
    "internkontrollplan",
    "revisionsrapport om intern styrning",
    "kameraövervakning vid kommunhuset",
    "digitalisering av arkivet",
    "upphandling av städtjänster",
    "riktlinjer för representation",
    "taxa för avfallshantering",
    "försäljning av tomtmark",
    "markanvisning för bostäder",
    "belysning i parken",
    "vinterväghållning på enskilda vägar",
    "hastighetsbegränsning genom byn",
    "föreningsbidrag till idrottsklubb",
    "bidrag till studieförbund",
    "personalpolicy och lönekartläggning",
];
const SCHOOL: [&str; 10] = [
    "skolskjuts",
    "plats i förskola",
    "modersmålsundervisning",
    "upphandling av skolmåltider",
    "nybyggnad av förskola",
    "trafiksäkerhet vid skolan",
    "tilläggsbelopp för elev",
    "skolplacering i årskurs sju",
    "fritidshem under lovet",
    "kränkande behandling",
];
const SOCIAL: [&str; 8] = [
    "ekonomiskt bistånd",
    "kontaktperson",
    "plats i särskilt boende",
    "hemtjänst",
    "färdtjänst",
    "bostadsanpassningsbidrag",
    "ledsagarservice",
    "avlösarservice i hemmet",
];
const BUILDING: [&str; 12] = [
    "bygglov för tillbyggnad av enbostadshus",
    "bygglov för nybyggnad av garage",
    "strandskyddsdispens för brygga",
    "förhandsbesked för nybyggnad",
    "rivningslov för ekonomibyggnad",
    "ändring av detaljplan",
    "tillstånd för eldstad",
    "ovårdad tomt",
    "olovligt byggande",
    "marklov för utfyllnad",
    "strandskyddsdispens för bastu",
    "bygglov för skylt",
];
const PLACES: [&str; 12] = [
    "Norrvika",
    "Älvsbacka",
    "Strömnäs",
    "Björkudden",
    "Kvarnbyn",
    "Sjöhagen",
    "Granliden",
    "Östra hamnen",
    "Lillviken",
    "Håkansbo",
    "Tallmon",
    "Ängsholm",
];
const COUNTERPARTS: [&str; 10] = [
    "Länsstyrelsen",
    "Trafikverket",
    "Skolverket",
    "Lantmäteriet",
    "Polismyndigheten",
    "Boverket",
    "Socialstyrelsen",
    "Naturvårdsverket",
    "Norrvika Energi AB",
    "Privatperson",
];
const DESCRIPTIONS: [&str; 10] = [
    "Ansökan",
    "Kompletterande uppgifter",
    "Yttrande",
    "Tjänsteskrivelse",
    "Beslut",
    "Delgivningskvitto",
    "Protokollsutdrag",
    "Remissvar",
    "Underrättelse till grannar",
    "Fotografier och ritningar",
];

/// A small fixed pseudo-random sequence (SplitMix64): the same corpus on every run.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// True one time in `n`.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

impl Kansli {
    /// **For `kansli bench http` only: never use this to register ärenden.** Writes `cases`
    /// synthetic ärenden into an empty diarium, numbered here instead of by the counter (which
    /// is then moved past them), through [`Store::write_bench_corpus`]. The demo organisation
    /// must be imported first: its series and people are used.
    ///
    /// [`Store::write_bench_corpus`]: crate::store::Store::write_bench_corpus
    pub async fn write_bench_corpus(&self, cases: usize) -> Result<Corpus, ServiceError> {
        let org = self.store.org_snapshot().await?;
        let mut series = Vec::new();
        for row in &org.series {
            let format = SeriesFormat::parse(&row.format)
                .map_err(|e| anyhow::anyhow!("series {}: {e}", row.prefix))?;
            series.push((row, format));
        }
        if series.is_empty() || org.people.is_empty() {
            return Err(ServiceError::Invalid(
                "the corpus needs an organisation with series and people (import the demo one)"
                    .into(),
            ));
        }
        let people: Vec<i32> = org.people.iter().map(|p| p.id).collect();
        let now = self.clock.now();
        let first_year = local_year(now) - (YEARS - 1);
        let start = crate::domain::calendar::start_of_local_day(
            chrono::NaiveDate::from_ymd_opt(first_year, 1, 1).expect("1 January exists"),
        );
        let span = (now - start).num_seconds().max(1);

        let mut dice = Dice(0x6b61_6e73_6c69);
        let mut counters: HashMap<(i32, i32), u32> = HashMap::new();
        let mut series_years = BTreeSet::new();
        let mut numbers = Vec::with_capacity(cases);
        let mut corpus = Vec::with_capacity(cases);
        for i in 0..cases {
            // Spread evenly from 1 January four years ago to now, oldest first, so numbers
            // rise with the opening time as they do in a real diarium.
            let opened_at = start + Duration::seconds(span * i as i64 / cases.max(1) as i64);
            let year = local_year(opened_at);
            let (row, format) = dice.pick(&series);
            let seq = {
                let counter = counters.entry((row.id, year)).or_default();
                *counter += 1;
                *counter
            };
            let classification = row.default_classification.clone();
            let number = format.render(
                &row.prefix,
                &CaseNumberParts {
                    year,
                    seq,
                    classification: classification.clone(),
                },
            );
            series_years.insert(format!("{} {year}", row.prefix));
            let (title, public_title) = title(&mut dice, &row.prefix);
            let search = search_text(&[
                &title,
                &public_title,
                classification.as_deref().unwrap_or(""),
                &number,
            ]);
            let mut audit = vec![CorpusAudit {
                actor: REGISTRATOR.into(),
                action: Action::CaseOpened.text().into(),
                detail: Some(format!("{number}: {title}")),
                at: opened_at,
            }];
            let mut documents = Vec::new();
            if dice.one_in(4) {
                for seq in 1..=(1 + dice.below(4)) {
                    let at = (opened_at + Duration::days(3 * seq as i64)).min(now);
                    let direction = match seq {
                        1 => Direction::Incoming,
                        _ => *dice.pick(&[
                            Direction::Incoming,
                            Direction::Internal,
                            Direction::Outgoing,
                        ]),
                    };
                    documents.push(NewDocument {
                        case_id: 0,
                        date: local_date(at),
                        direction: direction.code().into(),
                        counterpart: (direction != Direction::Internal)
                            .then(|| dice.pick(&COUNTERPARTS).to_string()),
                        counterpart_protected: false,
                        description: dice.pick(&DESCRIPTIONS).to_string(),
                        description_protected: false,
                        secrecy: None,
                        file: None,
                        registered_at: at,
                        registered_by: REGISTRATOR.into(),
                    });
                    audit.push(CorpusAudit {
                        actor: REGISTRATOR.into(),
                        action: Action::DocumentRegistered.text().into(),
                        detail: Some(format!("{number}:{seq} ({})", direction.label())),
                        at,
                    });
                }
            }
            // Most ärenden older than a quarter are done; a few linger.
            let closed = ((now - opened_at).num_days() > 90 && !dice.one_in(10)).then(|| {
                let at = (opened_at + Duration::days(10 + dice.below(180) as i64)).min(now);
                (at, REGISTRATOR.to_owned())
            });
            if let Some((at, by)) = &closed {
                audit.push(CorpusAudit {
                    actor: by.clone(),
                    action: Action::CaseClosed.text().into(),
                    detail: None,
                    at: *at,
                });
            }
            corpus.push(CorpusCase {
                case: NewCase {
                    series_id: row.id,
                    year,
                    classification,
                    title,
                    public_title,
                    search_text: search,
                    handlaggare_id: (!dice.one_in(5)).then(|| *dice.pick(&people)),
                    previous_case_id: None,
                    opened_at,
                    opened_by: REGISTRATOR.into(),
                },
                seq,
                closed,
                documents,
                audit,
            });
            numbers.push(number);
        }
        self.store.write_bench_corpus(corpus).await?;

        // What people search for: a topic's telling word, or two of its words, as they occur
        // together in titles; a kind of ärende; a place.
        let mut searches = BTreeSet::new();
        for phrase in [&KINDS[..], &GENERAL, &SCHOOL, &SOCIAL, &BUILDING, &PLACES]
            .iter()
            .flat_map(|list| list.iter())
        {
            let mut words: Vec<String> = phrase
                .split_whitespace()
                .filter(|w| w.chars().count() >= 5)
                .map(str::to_lowercase)
                .collect();
            words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
            if let Some(first) = words.first() {
                searches.insert(first.clone());
            }
            if let [first, second, ..] = &words[..] {
                searches.insert(format!("{first} {second}"));
            }
        }
        Ok(Corpus {
            numbers,
            searches: searches.into_iter().collect(),
            series_years: series_years.into_iter().collect(),
        })
    }
}

/// An ärendemening and the title the public sees: the same, except in the social services'
/// series, where who the ärende is about is kept out of the public title.
fn title(dice: &mut Dice, prefix: &str) -> (String, String) {
    let topics: &[&str] = match prefix {
        "BUN" => &SCHOOL,
        "SN" => &SOCIAL,
        "SBN" => &BUILDING,
        _ => &GENERAL,
    };
    let mut title = format!("{} {}", dice.pick(&KINDS), dice.pick(topics));
    match prefix {
        "SBN" => {
            let place = dice.pick(&PLACES);
            title = format!(
                "{title}, {place} {}:{}",
                1 + dice.below(30),
                1 + dice.below(120)
            );
        }
        "SN" => {
            let initials: String = (0..2)
                .map(|_| char::from(b'A' + dice.below(26) as u8))
                .collect();
            title = format!("{title} för {initials}, född {}", 1930 + dice.below(90));
            return (title, "Ärende enligt socialtjänstlagen".into());
        }
        _ if dice.one_in(2) => title = format!("{title}, {}", dice.pick(&PLACES)),
        _ => {}
    }
    (title.clone(), title)
}
