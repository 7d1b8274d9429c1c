//! Where a message is about: the legs, another part of the body, or an animal's legs.
//!
//! The topic words of the lexicon mark legs ("calf"), other sites ("eyelid", "period cramps"),
//! sites that are no place in particular ("muscle"), symptoms, walking, farm words and animals.
//! From them this module decides two things: whether the message is about leg symptoms at all
//! (the on-topic rule), and, sentence by sentence, whether a sign that sits on the body
//! ("swollen", "puffy", "throbbing") is a sign in the legs, so that a puffy cheek after a
//! toothache never raises a blood-clot warning.

use super::index::{Found, TermIndex, Topic};
use super::normalize::{Boundary, Tokens};

/// How far back from a leg or symptom word its owner is looked for: a person ("my", "I",
/// "mum") or an animal ("my cat keeps twitching", "my dog's limping on his front leg").
const OWNER_REACH: usize = 6;

/// Who a leg or symptom belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// A person: "my calf", "I get cramps".
    Person,
    /// An animal: "the dog's leg".
    Animal,
    /// Not said.
    Unknown,
}

/// Where a message is, as far as its topic words tell.
pub(super) struct Location {
    /// Every topic signal of the message, combined.
    topic: Topic,
    /// Per sentence: whether it names a leg.
    sentence_leg: Vec<bool>,
    /// Per sentence: whether it names another site.
    sentence_other: Vec<bool>,
    /// "Calves" on a farm are young cattle.
    cattle: bool,
    /// The message is about an animal: it names one, speaks of its care or its legs ("the vet",
    /// "my dog's back leg"), and no person owns a leg or symptom ("my calf", "I get cramp").
    animal_post: bool,
    /// A person owns a leg or symptom ("my calf", "I get cramp", "dad's legs").
    owned: bool,
}

impl Location {
    /// Reads the topic phrases found in a message. A leg or other site inside a negation ("no
    /// pain down my legs", "no headache") places nothing, and a symptom counts only in a sentence that is not about
    /// another site ("lower back pain" is not a leg symptom).
    pub(super) fn new(
        index: &TermIndex,
        tokens: &Tokens,
        topic_found: &[Found],
        negated_by: &[Option<usize>],
        hypothetical: &[bool],
    ) -> Location {
        let sentences = tokens.tokens.last().map_or(0, |token| token.sentence as usize + 1);
        let mut sentence_leg = vec![false; sentences];
        let mut sentence_other = vec![false; sentences];
        let mut owned = false;
        let mut animal_subject = false;
        // Whose leg or symptom it is: looking back from it, within its sentence, the first
        // person or animal word owns it ("my calf", "dad's leg", "I get cramps"; "my dog's
        // limping on his front leg").
        let owner_of = |found: &Found, person: &dyn Fn(&str) -> bool| {
            for i in (found.start.saturating_sub(OWNER_REACH)..found.start).rev() {
                if tokens.tokens[i + 1].boundary == Boundary::Sentence {
                    break;
                }
                let word = tokens.word(i);
                if index.animal_words.contains(word) {
                    return Owner::Animal;
                }
                if person(word) {
                    return Owner::Person;
                }
            }
            Owner::Unknown
        };
        let is_owner_word = |word: &str| index.people.contains(word);
        let is_speaker_word = |word: &str| index.people.contains(word) || index.speakers.contains(word);
        let mut animals_legs = vec![false; topic_found.len()];
        for (at, found) in topic_found.iter().enumerate() {
            let payload = index.topic.entries[found.entry as usize].payload;
            let sentence = tokens.tokens[found.start].sentence as usize;
            let negated = (found.start..found.end).any(|i| negated_by[i].is_some());
            let whose = if payload.leg {
                owner_of(found, &is_owner_word)
            } else if payload.symptom {
                owner_of(found, &is_speaker_word)
            } else {
                Owner::Unknown
            };
            owned |= whose == Owner::Person;
            animal_subject |= whose == Owner::Animal;
            animals_legs[at] = payload.leg && whose == Owner::Animal;
            sentence_leg[sentence] |= payload.leg && !negated && !animals_legs[at];
            // A denied site places nothing either: "no headache, just cramps" is about cramps.
            sentence_other[sentence] |= (payload.other_site && !negated) || payload.pet;
        }
        let mut topic = Topic::default();
        for (at, found) in topic_found.iter().enumerate() {
            let mut payload = index.topic.entries[found.entry as usize].payload;
            let sentence = tokens.tokens[found.start].sentence as usize;
            // A symptom in a sentence about another site, or one only feared or expected ("I
            // expected my calves to lock up"), is not a leg symptom.
            if (sentence_other[sentence] && !sentence_leg[sentence])
                || (found.start..found.end).any(|i| hypothetical[i])
            {
                payload.symptom = false;
                payload.core_symptom = false;
            }
            // "so cramped", "is cramped": after a linking word the participle describes a room
            // or a schedule, so there it is an ordinary symptom word, not a cramp ("my calf
            // cramped" and "Cramped a bit in the heat" stay cramps).
            let after_linking_word = found.start > 0 && index.linking_words.contains(tokens.word(found.start - 1));
            if found.end - found.start == 1 && tokens.word(found.start).ends_with("ed") && after_linking_word {
                payload.core_symptom = false;
            }
            if (found.start..found.end).any(|i| negated_by[i].is_some()) || animals_legs[at] {
                payload.leg = false;
            }
            if (found.start..found.end).any(|i| negated_by[i].is_some()) {
                payload.other_site = false;
            }
            topic = topic.union(payload);
        }
        let cattle = topic.livestock && !owned && only_calves(index, topic_found);
        if cattle {
            sentence_leg.fill(false);
        }
        let animal_post = topic.animal && (topic.pet || animal_subject) && !owned;
        Location { topic, sentence_leg, sentence_other, cattle, animal_post, owned }
    }

    /// Whether the message names a person's leg.
    fn leg(&self) -> bool {
        self.topic.leg && !self.cattle && !self.animal_post
    }

    /// Whether the message is placed on the legs, or on no site in particular: not only on an
    /// eyelid, a stomach, a farm's calves or a pet.
    pub(super) fn on_the_legs(&self) -> bool {
        self.leg() || !(self.topic.other_site || self.cattle || self.animal_post)
    }

    /// Whether a sign in sentence `sentence` is a sign in the legs: its sentence names a leg, or
    /// names no other site while the message is on the legs.
    pub(super) fn sign_in_legs(&self, sentence: u32) -> bool {
        let sentence = sentence as usize;
        if self.cattle || self.animal_post {
            return false;
        }
        self.sentence_leg.get(sentence).copied().unwrap_or(false)
            || (!self.sentence_other.get(sentence).copied().unwrap_or(false) && self.on_the_legs())
    }

    /// Whether the message is about leg symptoms: a cramp or twitch word, which needs no site
    /// ("do bananas stop cramps?"); a symptom with a leg, a muscle or walking; a leg with a
    /// cause; or a strong cause term on its own (a follow-up such as "forgot to say
    /// I take bumetanide"). Negated words count too: "no
    /// swelling in my calf" is still about a calf.
    pub(super) fn about_legs(&self, cause_signal: bool, strong_signal: bool) -> bool {
        let body = self.leg() || (self.topic.general_site && !self.topic.other_site);
        let about = self.topic.core_symptom
            || (self.topic.symptom && (body || self.topic.activity))
            || (body && cause_signal)
            || strong_signal;
        // A sales pitch, or a match report about players' cramps, is not a question about legs.
        let players_only = self.topic.coverage && !self.owned;
        self.on_the_legs() && about && !self.topic.promotion && !players_only
    }
}

/// Whether the only leg words of a message are "calf" and "calves", which farm words turn into
/// young cattle.
fn only_calves(index: &TermIndex, topic_found: &[Found]) -> bool {
    topic_found.iter().all(|found| {
        let entry = &index.topic.entries[found.entry as usize];
        !entry.payload.leg || entry.words.iter().all(|word| matches!(&**word, "calf" | "calves" | "calfs"))
    })
}
