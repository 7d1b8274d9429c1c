//! The catalogue: causes, red flags, guidance, hydration tips and the matching lexicon.
//!
//! Everything user-facing that the bot says about health lives in `knowledge/` as TOML, so that it
//! can be reviewed, corrected or translated without touching code. This module turns those files
//! into a validated [`Catalogue`]; it does no I/O of its own (see [`Catalogue::from_files`]), so
//! the shipped catalogue and an operator's folder go through exactly the same checks.

mod embedded;
mod faq;
mod load;
pub mod lookup;

use std::collections::BTreeMap;
use std::path::Path;

pub use load::{LoadError, Problem};

/// The nine cause ids fixed by the design; other tools and the evaluation set rely on them.
pub const CAUSE_IDS: [&str; 9] = [
    "dehydration_electrolytes",
    "muscle_fatigue",
    "nerve_issues",
    "circulatory_problems",
    "medication_side_effects",
    "muscle_strain_injury",
    "neurological_conditions",
    "footwear_biomechanics",
    "nutritional_deficiencies",
];

/// The red-flag ids fixed by the design.
pub const RED_FLAG_IDS: [&str; 9] = [
    "dvt_signs",
    "pulmonary_embolism_signs",
    "acute_ischemia_signs",
    "progressive_neuro_signs",
    "cauda_equina_signs",
    "rhabdomyolysis_signs",
    "severe_injury_signs",
    "heat_illness_signs",
    "stroke_signs",
];

/// A validated catalogue. Built only by [`Catalogue::from_files`], so every instance has passed
/// validation: every id known, every tip and red flag sourced, every pattern able to match.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// The causes, in the order of [`CAUSE_IDS`].
    pub causes: Vec<Cause>,
    /// The red flags, in the order of [`RED_FLAG_IDS`].
    pub red_flags: Vec<RedFlag>,
    /// Named groups of words that red-flag patterns combine ("swelling", "warmth", ...).
    pub concepts: Vec<Concept>,
    /// Phrases that only sound like warning signs ("warm-up", "red wine"): their words never
    /// count as signs.
    pub not_signs: Vec<String>,
    /// Advice for situations a message describes (`notices.toml`).
    pub notices: Vec<Notice>,
    /// The general guidance from the source article: consult text, prevention, treatment.
    pub guidance: Guidance,
    /// Short hydration tips that daily reminders rotate through.
    pub hydration_tips: Vec<Tip>,
    /// Topic words, negation triggers, spelling variants and the common-word list.
    pub lexicon: Lexicon,
    /// Every source that tips and red flags may cite, by id.
    pub sources: BTreeMap<String, Source>,
    /// Topic questions the catalogue answers (`faq.toml`), in file order.
    pub faqs: Vec<Faq>,
    /// Follow-up questions the bot may ask to narrow a description down (`followups.toml`).
    pub followups: Vec<Followup>,
}

/// A topic question the catalogue answers ("does magnesium help?"), with its sources.
#[derive(Debug, Clone)]
pub struct Faq {
    /// Stable id, for JSON and tests.
    pub id: String,
    /// The question as a heading ("Does magnesium help with cramps?").
    pub question: String,
    /// The ways people ask it: each way is one or more phrases that must all be in the message
    /// (`"how long + last"`), matched like every other catalogue phrase (stems, typos).
    pub ways: Vec<Vec<String>>,
    /// The short answer.
    pub answer: String,
    /// The facts behind the answer, each with its source.
    pub facts: Vec<Tip>,
    /// Related causes (indices into [`Catalogue::causes`]).
    pub causes: Vec<usize>,
    /// Whether the question is answered only in a message about legs or muscles: "does alcohol
    /// help with stress?" is not asking about cramps, "is quinine safe?" is.
    pub needs_topic: bool,
    /// Whether the question is about a named thing (a supplement, a medicine, a drink): it
    /// wins over a general question the same message also matches ("is quinine safe for night
    /// cramps?" is about quinine, not night cramps).
    pub specific: bool,
    /// Whether every other answer also covers this question ("when should I worry?"): it wins
    /// only when no other question matches ("night cramps, is it serious?" is about nights).
    pub fallback: bool,
}

/// A yes/no question the bot may ask after an analysis. A yes adds an affirmed sentence built
/// from catalogue words to the description, a no a denied one, so the existing scoring and
/// red-flag rules decide what the answer means.
#[derive(Debug, Clone)]
pub struct Followup {
    /// Stable id, used in answers (`"answers": {"calf_warm": "yes"}`) and button state.
    pub id: String,
    /// The question as the user reads it.
    pub text: String,
    /// The sentence a yes adds to the description.
    pub yes: String,
    /// The sentence a no adds to the description.
    pub no: String,
    /// The red flag this question screens for, if any (index into [`Catalogue::red_flags`]).
    pub screens: Option<usize>,
    /// Concepts (indices into [`Catalogue::concepts`]) that make a screening question due when
    /// one of them is affirmed and the red flag is not raised.
    pub when: Vec<usize>,
    /// Causes a yes points to (indices into [`Catalogue::causes`]).
    pub causes: Vec<usize>,
}

/// One cause of calf twitching or hamstring cramps.
#[derive(Debug, Clone)]
pub struct Cause {
    /// Fixed id, one of [`CAUSE_IDS`].
    pub id: String,
    /// Display name.
    pub name: String,
    /// Other names people search for; used by `/cause` autocomplete.
    pub synonyms: Vec<String>,
    /// One or two sentences.
    pub summary: String,
    /// The longer explanation shown on the cause card.
    pub explanation: String,
    /// When this cause calls for a professional rather than self-care.
    pub see_a_professional: String,
    /// Preventive tips, best first.
    pub tips: Vec<Tip>,
    /// What helps once it happens.
    pub treatment: Vec<Tip>,
    /// Words and phrases that point to this cause.
    pub vocabulary: Vec<Term>,
    /// Statements that count against this cause ("I drink plenty of water").
    pub against: Vec<Term>,
    /// Sources for the explanation.
    pub sources: Vec<Source>,
}

/// How much a term says about a cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    /// A hint that needs company ("hot day").
    Weak,
    /// Good evidence on its own, but not decisive.
    Moderate,
    /// Points squarely at the cause ("water pill", "sciatica").
    Strong,
}

impl Strength {
    /// The score weight of one distinct term of this strength.
    pub fn weight(self) -> f32 {
        match self {
            Strength::Weak => 1.0,
            Strength::Moderate => 2.0,
            Strength::Strong => 4.0,
        }
    }
}

/// A word or phrase of a cause's vocabulary.
#[derive(Debug, Clone)]
pub struct Term {
    /// The term as written in the catalogue.
    pub text: String,
    /// How strongly it points to the cause.
    pub strength: Strength,
    /// Whether the term names the cause as a whole ("meds", "my shoes"): denying it ("it's not
    /// the meds") rules the cause out like a contrary statement, not just one symptom.
    pub names_cause: bool,
}

/// A tip with the source that backs it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Tip {
    /// The tip, in plain words.
    pub text: String,
    /// Where it comes from.
    pub source: Source,
    /// What kind of advice it is (`drink_more`, `stretch`, `massage`), so that a notice can
    /// hold it back from someone it does not suit (someone on dialysis, a fresh injury).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// Advice for a situation the message describes, shown right after any red flag: a statin user
/// with muscle pain, someone on dialysis, a fresh injury. It can hold back tips that do not
/// suit the situation ("drink more" for someone with a fluid limit).
#[derive(Debug, Clone)]
pub struct Notice {
    /// Stable id, for JSON and tests.
    pub id: String,
    /// Short headline.
    pub title: String,
    /// The advice.
    pub text: String,
    /// Where the advice comes from.
    pub sources: Vec<Source>,
    /// Combinations of concepts that call for it, as for red flags; any one is enough.
    pub patterns: Vec<Pattern>,
    /// Tip tags it holds back.
    pub hides: Vec<String>,
}

/// A cited source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Source {
    /// Id used in the catalogue files.
    pub id: String,
    /// Who publishes it ("NHS", "MedlinePlus").
    pub publisher: String,
    /// Page title.
    pub title: String,
    /// Where to read it.
    pub url: String,
}

/// How soon a red flag needs attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    /// See a doctor within days.
    Soon,
    /// Same day: urgent appointment or a non-emergency line.
    Urgent,
    /// Call emergency services now.
    Emergency,
}

impl Urgency {
    /// The id used in JSON and the catalogue.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Soon => "soon",
            Urgency::Urgent => "urgent",
            Urgency::Emergency => "emergency",
        }
    }
}

/// A warning sign that is shown before anything else.
#[derive(Debug, Clone)]
pub struct RedFlag {
    /// Fixed id, one of [`RED_FLAG_IDS`].
    pub id: String,
    /// What the signs mean and what to do, and the patterns that raise the flag.
    pub base: RedFlagLevel,
    /// Signs that make the same warning more urgent, with their own advice: heat exhaustion
    /// becomes heatstroke. Checked before the base patterns.
    pub escalation: Option<RedFlagLevel>,
    /// Sources for the message and action.
    pub sources: Vec<Source>,
    /// Causes these signs belong to (indices into [`Catalogue::causes`]): a raised flag counts
    /// as strong evidence for them, since the warning sign is itself a symptom of that group.
    pub causes: Vec<usize>,
    /// Concepts that explain the signs away when they share a sentence with them (indices into
    /// [`Catalogue::concepts`]): an Achilles rupture "two years ago", a numb lip after a filling.
    pub explained_by: Vec<usize>,
    /// Red flags this one replaces when it is raised on the same words (indices into
    /// [`Catalogue::red_flags`]): sudden slurred speech is a stroke sign, not a slow nerve sign.
    pub supersedes: Vec<usize>,
}

impl RedFlag {
    /// The base level, or the escalation when `escalated` (and there is one).
    pub fn level(&self, escalated: bool) -> &RedFlagLevel {
        match &self.escalation {
            Some(escalation) if escalated => escalation,
            _ => &self.base,
        }
    }
}

/// One level of a red flag: how urgent, what to say, and which signs raise it.
#[derive(Debug, Clone)]
pub struct RedFlagLevel {
    /// How soon to act.
    pub urgency: Urgency,
    /// Short headline.
    pub title: String,
    /// What these signs can mean, without claiming a diagnosis.
    pub message: String,
    /// What to do now.
    pub action: String,
    /// Combinations of concepts that raise this level; any one pattern is enough.
    pub patterns: Vec<Pattern>,
}

/// A combination of concepts that must all be present, affirmed, for a red flag to fire.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// Indices into [`Catalogue::concepts`].
    pub concepts: Vec<usize>,
    /// Whether the concepts must share one sentence, or may be anywhere in the message.
    pub within_sentence: bool,
}

/// A named group of words used by red-flag patterns.
#[derive(Debug, Clone)]
pub struct Concept {
    /// The name patterns use.
    pub id: String,
    /// Words and phrases that express the concept.
    pub terms: Vec<String>,
    /// Other ways to express it: concepts that together, in one clause, mean this one ("pee"
    /// and "brown" mean dark urine). Each is a list of indices into [`Catalogue::concepts`] of
    /// concepts that have terms only.
    pub in_one_clause: Vec<Vec<usize>>,
    /// Whether the concept is a sign that sits on the body ("swollen", "throbbing"): it counts
    /// only in a sentence about the legs, never for a puffy cheek or a dog's leg.
    pub located: bool,
}

/// The general guidance from the source article and the health research.
#[derive(Debug, Clone)]
pub struct Guidance {
    /// The consult-a-professional line carried by every reply.
    pub consult: String,
    /// What to do in an emergency; shown with emergency red flags.
    pub emergency: String,
    /// The overview shown when a message is on topic but points to no cause.
    pub overview: String,
    /// The friendly redirect for messages that are not about leg symptoms.
    pub off_topic: String,
    /// When to see a professional, in general.
    pub see_a_professional: Vec<String>,
    /// General preventive measures.
    pub prevention: Vec<Tip>,
    /// General treatment strategies.
    pub treatment: Vec<Tip>,
}

/// Words the analyzer needs beyond the causes: topic words, negation, spelling and common words.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    /// Leg and muscle words ("calf", "hamstring").
    pub body: Vec<String>,
    /// Symptom words ("twitch", "cramp", "charley horse").
    pub symptom: Vec<String>,
    /// Cramp and twitch words that are about muscles on their own ("cramps", "fasciculation").
    pub core_symptom: Vec<String>,
    /// Walking and exercise words that make a symptom leg-related ("walk", "hike").
    pub activity: Vec<String>,
    /// Sites that are neither the legs nor any muscle in particular ("muscle", "all over"): on
    /// topic unless the message names a site other than the legs.
    pub general_site: Vec<String>,
    /// Body sites and kinds of cramp that are not about the legs ("eyelid", "period cramps",
    /// "writer's cramp"): a message about them alone is off topic.
    pub other_site: Vec<String>,
    /// Phrases that contain leg or symptom words but mean neither ("cramped flat", "pulling my
    /// leg"): they consume their words and count for nothing.
    pub idioms: Vec<String>,
    /// Animals: "dog's leg" and "horse's calf" are not the user's legs.
    pub animals: Vec<String>,
    /// Words of animal care ("vet", "paws", "box rest"): with an animal and no person's leg, the
    /// message is about the animal.
    pub pet_care: Vec<String>,
    /// Advertising ("use code", "link in bio"): a sales pitch is off topic.
    pub promotion: Vec<String>,
    /// Sports coverage ("match report", "commentary"): a player's cramp in a report, with no
    /// person's own leg or symptom, is not a question about the reader's legs.
    pub coverage: Vec<String>,
    /// Farm words: with them, "calves" are young cattle unless another leg word says otherwise.
    pub livestock: Vec<String>,
    /// Words for people's legs ("my", "mum"): a leg right after one is a person's, so a message
    /// that also names a dog is still about a person.
    pub people: Vec<String>,
    /// The speaker ("I", "me"): a symptom right after one is the speaker's.
    pub speakers: Vec<String>,
    /// Negation triggers that scope forward ("no", "don't have").
    pub negation_pre: Vec<String>,
    /// Negation triggers that scope backward ("ruled out", "went away").
    pub negation_post: Vec<String>,
    /// Backward triggers that negate only at the end of a clause: "my calf is fine" denies, but
    /// "my pee has gone the colour of cola" does not.
    pub negation_post_final: Vec<String>,
    /// Phrases that look like negations but are not ("not only", "no change").
    pub negation_pseudo: Vec<String>,
    /// One-word answers that deny the short question before them ("Swelling? None.").
    pub negation_answers: Vec<String>,
    /// Phrases that put what follows in doubt ("worried about", "in case").
    pub negation_hypothetical: Vec<String>,
    /// Words that may follow a clause-final trigger without ending its clause ("on my bloods").
    pub negation_trailing: Vec<String>,
    /// Words that end a negation's scope ("but", "however").
    pub negation_terminators: Vec<String>,
    /// Spelling variants mapped to one canonical spelling ("anaemia" -> "anemia").
    pub spelling: BTreeMap<String, String>,
    /// Irregular forms mapped to their base ("calves" -> "calf").
    pub irregular: BTreeMap<String, String>,
    /// Emoji that carry meaning, mapped to words ("🦵" -> "leg").
    pub emoji: BTreeMap<String, String>,
    /// Other ways to say a word inside a catalogue phrase: "cant walk" is also "unable to walk"
    /// and "not able to walk"; "my leg" is also "his leg".
    pub phrase_variants: BTreeMap<String, Vec<String>>,
    /// Common English words, one per line, lowercase: correctly spelled, so never treated as
    /// typos of a term. Kept as one string; see [`Lexicon::common_words`].
    pub common_words_text: String,
}

impl Lexicon {
    /// The common English words.
    pub fn common_words(&self) -> impl Iterator<Item = &str> {
        self.common_words_text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#'))
    }
}

/// Every file of the built-in catalogue, as `(name relative to knowledge/, contents)`: for the
/// fuzz targets, which replace one of them.
#[doc(hidden)]
pub fn embedded_files() -> impl Iterator<Item = (&'static str, &'static str)> {
    embedded::FILES.iter().copied()
}

impl Catalogue {
    /// The catalogue compiled into the binary from the repository's `knowledge/`.
    ///
    /// # Errors
    /// Only if the shipped files are broken, which a test rules out.
    pub fn embedded() -> Result<Catalogue, LoadError> {
        Catalogue::from_files(embedded::FILES.iter().map(|(name, text)| ((*name).to_owned(), (*text).to_owned())))
    }

    /// Parses and validates a catalogue from `(file name, contents)` pairs; the names are used
    /// in error messages and to tell the kinds of file apart (`causes/*.toml`, `red_flags.toml`,
    /// ...). Nothing is half-loaded: any problem fails the whole catalogue.
    ///
    /// # Errors
    /// Every problem found, each with its file and line.
    pub fn from_files(files: impl IntoIterator<Item = (String, String)>) -> Result<Catalogue, LoadError> {
        load::build(&files.into_iter().collect::<Vec<_>>())
    }

    /// Reads every catalogue file under `dir` and validates them as [`Catalogue::from_files`].
    ///
    /// # Errors
    /// Unreadable files, or every validation problem.
    pub fn from_dir(dir: &Path) -> Result<Catalogue, LoadError> {
        let folder = load::read_dir(dir)?;
        if folder.problems.is_empty() {
            return Catalogue::from_files(folder.files);
        }
        // A file that could not be read is reported once: not again as missing.
        let refused: Vec<String> = folder.problems.iter().map(|problem| problem.file.clone()).collect();
        let mut problems = folder.problems;
        if let Err(LoadError::Invalid(more)) = Catalogue::from_files(folder.files) {
            problems.extend(
                more.into_iter()
                    .filter(|problem| !(problem.message == "missing file" && refused.contains(&problem.file))),
            );
        }
        Err(LoadError::Invalid(problems))
    }

    /// The cause with this id.
    pub fn cause(&self, id: &str) -> Option<&Cause> {
        self.causes.iter().find(|cause| cause.id == id)
    }

    /// The red flag with this id.
    pub fn red_flag(&self, id: &str) -> Option<&RedFlag> {
        self.red_flags.iter().find(|flag| flag.id == id)
    }

    /// The index of the follow-up question with this id.
    pub fn followup_index(&self, id: &str) -> Option<usize> {
        self.followups.iter().position(|followup| followup.id == id)
    }
}
