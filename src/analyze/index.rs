//! The term index: everything the analyzer looks up, built once per catalogue.
//!
//! Every word of every catalogue term (cause vocabulary, red-flag concepts, topic words,
//! negation triggers) gets a *key*: the id of its stem. A message word is resolved to a key in
//! at most a few hash lookups: its surface form (which also knows the 30,000 common English
//! words), then its stem, then, for an unknown word of five letters or more, a deletion index in
//! the SymSpell manner that proposes the few terms within one or two edits, which
//! `strsim::osa_distance` confirms. Phrases are matched as sequences of keys, longest first, in
//! four independent layers (causes, concepts, topic, negation), so matching costs O(words), not
//! O(words × vocabulary).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::normalize::{Boundary, Tokens, single_letters, tokenize};
use super::stem::{stem, stem_into};
use crate::knowledge::{Catalogue, Strength};

/// The id of a stem known to the catalogue.
pub type Key = u32;

/// A message word that matches no catalogue word.
pub const NO_KEY: Key = Key::MAX;

/// A fast, non-cryptographic hasher for short strings and integers (the `FxHash` algorithm).
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// What the index knows about a surface word.
#[derive(Debug, Clone, Copy)]
struct WordEntry {
    /// The key of its stem, if that stem belongs to a catalogue word.
    key: Key,
}

/// How a message word was resolved to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// The key, or [`NO_KEY`].
    pub key: Key,
    /// Edit distance when the word was matched as a misspelling, else 0.
    pub distance: u8,
}

/// What a topic word says about a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[expect(clippy::struct_excessive_bools, reason = "independent signals a phrase may carry, combined with `union`")]
pub struct Topic {
    /// A leg word.
    pub leg: bool,
    /// A site that is not the legs in particular ("muscle").
    pub general_site: bool,
    /// A site other than the legs ("eyelid", "period cramps").
    pub other_site: bool,
    /// A symptom word.
    pub symptom: bool,
    /// A muscle-cramp or twitch word that is about muscles on its own ("cramps", "twitching",
    /// "fasciculation"): with no other site named, enough to be on topic.
    pub core_symptom: bool,
    /// A walking or exercise word.
    pub activity: bool,
    /// A farm word, which makes "calves" young cattle.
    pub livestock: bool,
    /// An animal ("dog", "pony").
    pub animal: bool,
    /// Words of animal care ("vet", "paws") or an animal's leg ("dog's back leg"): with an
    /// animal and no person's leg or symptom, the message is about the animal.
    pub pet: bool,
    /// Advertising ("use code", "link in bio"): a sales pitch is not a question about legs.
    pub promotion: bool,
    /// Sports coverage ("match report", "the commentators"): with no person's own leg or
    /// symptom, the cramps are a player's.
    pub coverage: bool,
}

impl Topic {
    /// Both topics' signals.
    #[must_use]
    pub fn union(self, other: Topic) -> Topic {
        Topic {
            leg: self.leg || other.leg,
            general_site: self.general_site || other.general_site,
            other_site: self.other_site || other.other_site,
            symptom: self.symptom || other.symptom,
            core_symptom: self.core_symptom || other.core_symptom,
            activity: self.activity || other.activity,
            livestock: self.livestock || other.livestock,
            animal: self.animal || other.animal,
            pet: self.pet || other.pet,
            promotion: self.promotion || other.promotion,
            coverage: self.coverage || other.coverage,
        }
    }
}

/// What a negation phrase does. A phrase may play several roles: "ruled out" negates both ways
/// ("ruled out MS", "had MS ruled out"), and "none" negates forward and answers a question.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[expect(clippy::struct_excessive_bools, reason = "a phrase may play several roles at once, combined with `union`")]
pub struct NegationRoles {
    /// Negates what follows ("no", "don't have").
    pub forward: bool,
    /// Negates what precedes ("went away", "was ruled out").
    pub backward: bool,
    /// Negates what precedes, but only at the end of a clause ("my calf is fine", not "my pee
    /// has gone the colour of cola").
    pub backward_final: bool,
    /// Looks like a negation but is not ("not only", "no change"): it negates nothing and keeps
    /// its words from being read as a trigger.
    pub pseudo: bool,
    /// A one-word answer that denies the short question before it ("Swelling? None.").
    pub answer: bool,
    /// Puts what follows in doubt, neither affirmed nor denied ("worried about MS", "in case").
    pub hypothetical: bool,
    /// Ends a negation's scope ("but", "however").
    pub terminator: bool,
}

impl NegationRoles {
    /// Both sets of roles.
    #[must_use]
    pub fn union(self, other: NegationRoles) -> NegationRoles {
        NegationRoles {
            forward: self.forward || other.forward,
            backward: self.backward || other.backward,
            backward_final: self.backward_final || other.backward_final,
            pseudo: self.pseudo || other.pseudo,
            answer: self.answer || other.answer,
            hypothetical: self.hypothetical || other.hypothetical,
            terminator: self.terminator || other.terminator,
        }
    }
}

/// What a cause term says, for one cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CauseRef {
    /// Index into [`Catalogue::causes`].
    pub cause: u8,
    /// How strongly it points to the cause.
    pub strength: Strength,
    /// Whether it speaks against the cause instead ("I drink plenty of water").
    pub against: bool,
    /// Whether it names the cause as a whole ("meds"), so that denying it rules the cause out.
    pub names_cause: bool,
}

/// One phrase of one way of asking a topic question: question `faq`, way `way`, part `part`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaqPart {
    /// Index into [`Catalogue::faqs`].
    pub faq: u16,
    /// Index into that question's ways.
    pub way: u8,
    /// Index into that way's parts.
    pub part: u8,
}

/// A catalogue phrase as a sequence of keys, with what it means.
#[derive(Debug, Clone)]
pub struct Entry<P> {
    /// The phrase's keys, in order.
    pub keys: Box<[Key]>,
    /// The phrase's normalized words, to tell exact from stem matches.
    pub words: Box<[Box<str>]>,
    /// The phrase as written in the catalogue.
    pub text: String,
    /// What it means.
    pub payload: P,
}

/// A phrase found in a message: entry `entry` over tokens `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Index into the layer's entries.
    pub entry: u32,
    /// First token.
    pub start: usize,
    /// One past the last token.
    pub end: usize,
}

/// One layer of phrases: a trie over key sequences, so that finding every phrase that starts
/// at a word costs one hash lookup per word of the longest match, however many phrases share a
/// first word ("my calf", "my leg", ... thousands of them with the phrase variants).
#[derive(Debug)]
pub struct Layer<P> {
    /// Trie edges: (node, key) -> child node. Node 0 is the root.
    edges: FastMap<(u32, Key), u32>,
    /// For each trie node, the entry whose keys end there, if any.
    ends: Vec<Option<u32>>,
    /// The phrases.
    pub entries: Vec<Entry<P>>,
}

impl<P> Default for Layer<P> {
    fn default() -> Self {
        Layer { edges: FastMap::default(), ends: vec![None], entries: Vec::new() }
    }
}

impl<P> Layer<P> {
    /// The entry with exactly these keys, if there is one: phrases with the same keys are one
    /// entry ("rules out" and "ruled out").
    fn position(&self, keys: &[Key]) -> Option<usize> {
        let mut node = 0u32;
        for key in keys {
            node = *self.edges.get(&(node, *key))?;
        }
        self.ends[node as usize].map(|entry| entry as usize)
    }

    /// Adds a phrase (whose keys no entry has yet); returns its index.
    fn insert(&mut self, entry: Entry<P>) -> usize {
        let id = self.entries.len();
        let mut node = 0u32;
        for &key in &*entry.keys {
            let next = to_u32(self.ends.len());
            node = *self.edges.entry((node, key)).or_insert(next);
            if node == next {
                self.ends.push(None);
            }
        }
        self.ends[node as usize] = Some(to_u32(id));
        self.entries.push(entry);
        id
    }

    /// Calls `visit(entry, end)` for every phrase that starts at token `start`, shortest
    /// first. Phrases do not cross a comma or any other clause boundary.
    fn walk(&self, resolved: &[Resolved], tokens: &Tokens, start: usize, mut visit: impl FnMut(u32, usize)) {
        let mut node = 0u32;
        for (position, word) in resolved.iter().enumerate().skip(start) {
            if position > start && tokens.tokens[position].boundary >= Boundary::Clause {
                return;
            }
            let Some(&next) = self.edges.get(&(node, word.key)) else { return };
            node = next;
            if let Some(entry) = self.ends[node as usize] {
                visit(entry, position + 1);
            }
        }
    }

    /// Finds the phrases of this layer in a message, scanning left to right and taking the
    /// longest phrase at each position, so that "water pill" is read as one term, not as
    /// "water" and "pill".
    pub fn find(&self, resolved: &[Resolved], tokens: &Tokens) -> Vec<Found> {
        let mut found = Vec::new();
        let mut position = 0;
        while position < resolved.len() {
            let mut best: Option<(u32, usize)> = None;
            self.walk(resolved, tokens, position, |entry, end| best = Some((entry, end)));
            match best {
                Some((entry, end)) => {
                    found.push(Found { entry, start: position, end });
                    position = end;
                }
                None => position += 1,
            }
        }
        found
    }

    /// Finds every phrase of this layer in a message, overlaps included: "swollen and hot" is
    /// both swelling and warmth to the red-flag rules.
    pub fn find_overlapping(&self, resolved: &[Resolved], tokens: &Tokens) -> Vec<Found> {
        let mut found = Vec::new();
        for position in 0..resolved.len() {
            self.walk(resolved, tokens, position, |entry, end| found.push(Found { entry, start: position, end }));
        }
        found
    }
}

/// A string the deletion index can propose, with the key it stands for.
#[derive(Debug)]
struct FuzzyCandidate {
    text: Box<str>,
    key: Key,
}

/// Lookup structures for one catalogue.
#[derive(Debug, Default)]
pub struct TermIndex {
    /// Spelling variants and irregular forms, mapped to the form the catalogue uses.
    variants: FastMap<Box<str>, Box<str>>,
    /// Every catalogue word (and spelling variant of one), with its key.
    words: FastMap<Box<str>, WordEntry>,
    /// Hashes of the common English words: known, so never read as typos.
    common: std::collections::HashSet<u64, BuildHasherDefault<FxHasher>>,
    /// Stems of catalogue words.
    stems: FastMap<Box<str>, Key>,
    /// The stem text of each key.
    stem_texts: Vec<Box<str>>,
    /// Deletion index: hash of a string with up to two letters deleted -> a range of
    /// `delete_postings`, the candidates that share that deletion (one flat vector, so building
    /// it does not allocate per entry).
    deletes: FastMap<u64, (u32, u32)>,
    delete_postings: Vec<u32>,
    fuzzy_candidates: Vec<FuzzyCandidate>,
    /// The longest fuzzy candidate, in bytes: a word longer than this plus the allowed distance
    /// cannot be a typo of any candidate, so it is never fuzzed (which bounds the deletion
    /// search, quadratic in the word's length, by a constant).
    max_candidate_len: usize,
    /// While building: the catalogue words keyed so far, and whether each was offered for typos.
    keyed: FastMap<Box<str>, (Key, bool)>,
    /// The texts already in `fuzzy_candidates`.
    fuzzy_texts: std::collections::HashSet<Box<str>, BuildHasherDefault<FxHasher>>,
    /// Emoji that carry meaning, for the tokenizer.
    pub emoji: std::collections::BTreeMap<String, String>,
    /// Cause vocabulary, including statements against causes.
    pub causes: Layer<Vec<CauseRef>>,
    /// Red-flag concepts.
    pub concepts: Layer<Vec<u16>>,
    /// Topic words.
    pub topic: Layer<Topic>,
    /// Negation triggers and terminators.
    pub negation: Layer<NegationRoles>,
    /// Words that may follow a clause-final negation without taking away its finality ("all
    /// normal on my last bloods", "fine tbh").
    pub trailing: std::collections::HashSet<Box<str>, BuildHasherDefault<FxHasher>>,
    /// Phrases that only sound like warning signs ("warm-up", "red wine"): their words are not
    /// signs.
    pub not_signs: Layer<()>,
    /// The parts of the ways people ask the catalogue's topic questions (`faq.toml`).
    pub faq: Layer<Vec<FaqPart>>,
    /// Words for people's legs ("my", "mum"): a leg with one of them just before it is a
    /// person's.
    pub people: std::collections::HashSet<Box<str>, BuildHasherDefault<FxHasher>>,
    /// The speaker ("I", "me"): a symptom with one of them just before it is a person's.
    pub speakers: std::collections::HashSet<Box<str>, BuildHasherDefault<FxHasher>>,
    /// Linking words ("is", "so", "too"): a participle after one describes a state ("the flat is
    /// so cramped"), not an event.
    pub linking_words: std::collections::HashSet<&'static str, BuildHasherDefault<FxHasher>>,
    /// Animal words ("dog", "pony"), as typed: "my dog's limping" is the dog's.
    pub animal_words: std::collections::HashSet<Box<str>, BuildHasherDefault<FxHasher>>,
}

/// Words after which a participle describes a state, not an event ("so cramped", "that
/// cramped"): grammar, not vocabulary, so they are not in the catalogue.
const LINKING_WORDS: [&str; 20] = [
    "is", "was", "are", "were", "so", "too", "very", "bit", "quite", "really", "pretty", "that", "feel", "feels",
    "felt", "get", "gets", "getting", "its", "but",
];

/// The most variants one catalogue phrase expands to (see [`TermIndex::add_phrase_variants`]).
const MAX_PHRASE_VARIANTS: usize = 64;

/// The longest chain of spelling variants followed ("a" -> "b" -> "c"); longer chains and
/// cycles resolve to nothing, and the catalogue check reports them.
const MAX_VARIANT_STEPS: usize = 8;

/// Shortest message word that may be read as a misspelling.
const MIN_FUZZY_LEN: usize = 5;

/// Shortest catalogue word offered as a correction.
const MIN_CANDIDATE_LEN: usize = 4;

/// The edit distance allowed for a word of this many letters: none for short words, where a
/// single edit turns one real word into another.
pub fn allowed_distance(len: usize) -> u8 {
    match len {
        0..MIN_FUZZY_LEN => 0,
        MIN_FUZZY_LEN..=7 => 1,
        _ => 2,
    }
}

impl TermIndex {
    /// Builds the index for a validated catalogue.
    pub fn build(catalogue: &Catalogue) -> TermIndex {
        let lexicon = &catalogue.lexicon;
        let mut index = TermIndex { emoji: lexicon.emoji.clone(), ..TermIndex::default() };
        for (from, to) in lexicon.spelling.iter().chain(&lexicon.irregular) {
            index.variants.insert(from.to_lowercase().into(), to.to_lowercase().into());
        }

        index.add_causes(catalogue);
        index.add_concepts(catalogue);
        index.add_lexicon(lexicon);
        index.add_faqs(catalogue);
        // Inflections of a spelling variant meet its canonical form ("urines" is "pees").
        let mut scratch = String::new();
        let mut inflected: Vec<(Box<str>, Key)> = Vec::new();
        for (from, to) in &index.variants {
            if from.len() < 4 {
                continue;
            }
            stem_into(to, &mut scratch);
            let Some(&key) = index.stems.get(scratch.as_str()) else { continue };
            stem_into(from, &mut scratch);
            inflected.push((scratch.as_str().into(), key));
        }
        for (stemmed, key) in inflected {
            index.stems.entry(stemmed).or_insert(key);
        }
        index.trailing = lexicon.negation_trailing.iter().map(|word| word.to_lowercase().into()).collect();
        index.people = lexicon.people.iter().map(|word| word.to_lowercase().into()).collect();
        index.speakers = lexicon.speakers.iter().map(|word| word.to_lowercase().into()).collect();
        index.linking_words = LINKING_WORDS.into_iter().collect();
        // Both "dog" and the possessive "dogs" ("dog's" loses its apostrophe).
        index.animal_words = lexicon
            .animals
            .iter()
            .flat_map(|word| [word.to_lowercase(), format!("{}s", word.to_lowercase())])
            .map(String::into_boxed_str)
            .collect();
        for phrase in &catalogue.not_signs {
            index.add_phrase(Kind::NotSign, phrase, |_, _| {});
        }

        // Common words: known, so never read as typos. Only their hashes are kept; a common word
        // that shares a stem with a catalogue word ("cramping") is found through the stem.
        index.common = lexicon.common_words().map(hash_str).collect();
        // A common word that shares a stem with a catalogue word ("cramping") is entered as a
        // word, so that every common word resolves in one or two lookups, without stemming.
        let mut scratch = String::new();
        for word in lexicon.common_words() {
            // A spelling variant resolves to its canonical form, never through its own stem
            // ("her" is "my", not a form of "he").
            if index.words.contains_key(word) || index.variants.contains_key(word) {
                continue;
            }
            stem_into(word, &mut scratch);
            if let Some(&key) = index.stems.get(scratch.as_str()) {
                index.words.insert(word.into(), WordEntry { key });
            }
        }
        // Spelling variants of catalogue words resolve in one lookup.
        let variants: Vec<(Box<str>, Box<str>)> =
            index.variants.iter().map(|(from, to)| (from.clone(), to.clone())).collect();
        for (from, to) in variants {
            if let Some(found) = index.lookup(&to, &mut String::new()) {
                index.words.entry(from).or_insert(WordEntry { key: found.key });
            }
        }
        index.build_deletes();
        index.keyed = FastMap::default();
        index
    }

    /// Adds every cause's vocabulary and contrary statements to the cause layer.
    fn add_causes(&mut self, catalogue: &Catalogue) {
        for (cause_index, cause) in catalogue.causes.iter().enumerate() {
            let cause_index = u8::try_from(cause_index).unwrap_or(u8::MAX);
            for term in &cause.vocabulary {
                let reference = CauseRef {
                    cause: cause_index,
                    strength: term.strength,
                    against: false,
                    names_cause: term.names_cause,
                };
                self.add_phrase_variants(Kind::Cause, &term.text, &catalogue.lexicon, |layers, entry| {
                    push_unique(&mut layers.causes.entries[entry].payload, reference);
                });
            }
            for term in &cause.against {
                let reference =
                    CauseRef { cause: cause_index, strength: term.strength, against: true, names_cause: false };
                self.add_phrase_variants(Kind::Cause, &term.text, &catalogue.lexicon, |layers, entry| {
                    push_unique(&mut layers.causes.entries[entry].payload, reference);
                });
            }
        }
    }

    /// Adds the red-flag concepts to the concept layer.
    fn add_concepts(&mut self, catalogue: &Catalogue) {
        for (concept_index, concept) in catalogue.concepts.iter().enumerate() {
            let concept_index = u16::try_from(concept_index).unwrap_or(u16::MAX);
            for term in &concept.terms {
                self.add_phrase_variants(Kind::Concept, term, &catalogue.lexicon, |layers, entry| {
                    push_unique(&mut layers.concepts.entries[entry].payload, concept_index);
                });
            }
        }
    }

    /// Adds the parts of every way of asking a topic question to the FAQ layer.
    fn add_faqs(&mut self, catalogue: &Catalogue) {
        for (faq_index, faq) in catalogue.faqs.iter().enumerate() {
            for (way_index, way) in faq.ways.iter().enumerate() {
                for (part_index, part) in way.iter().enumerate() {
                    let reference = FaqPart {
                        faq: u16::try_from(faq_index).unwrap_or(u16::MAX),
                        way: u8::try_from(way_index).unwrap_or(u8::MAX),
                        part: u8::try_from(part_index).unwrap_or(u8::MAX),
                    };
                    self.add_phrase(Kind::Faq, part, |layers, entry| {
                        push_unique(&mut layers.faq.entries[entry].payload, reference);
                    });
                }
            }
        }
    }

    /// Adds the topic words and negation phrases.
    fn add_lexicon(&mut self, lexicon: &crate::knowledge::Lexicon) {
        for (words, topic) in [
            (&lexicon.body, Topic { leg: true, ..Topic::default() }),
            (&lexicon.general_site, Topic { general_site: true, ..Topic::default() }),
            (&lexicon.other_site, Topic { other_site: true, ..Topic::default() }),
            (&lexicon.symptom, Topic { symptom: true, ..Topic::default() }),
            (&lexicon.core_symptom, Topic { symptom: true, core_symptom: true, ..Topic::default() }),
            (&lexicon.activity, Topic { activity: true, ..Topic::default() }),
            (&lexicon.livestock, Topic { livestock: true, ..Topic::default() }),
            (&lexicon.animals, Topic { animal: true, ..Topic::default() }),
            (&lexicon.pet_care, Topic { pet: true, ..Topic::default() }),
            (&lexicon.promotion, Topic { promotion: true, ..Topic::default() }),
            (&lexicon.coverage, Topic { coverage: true, ..Topic::default() }),
            // Idioms mean nothing: they only keep their words from counting.
            (&lexicon.idioms, Topic::default()),
        ] {
            for word in words {
                self.add_phrase(Kind::Topic, word, |layers, entry| {
                    let payload = &mut layers.topic.entries[entry].payload;
                    *payload = payload.union(topic);
                });
            }
        }
        // A phrase listed both before and after ("ruled out": "ruled out MS", "had MS ruled out")
        // negates in both directions. Phrases with the same keys ("rules out", "ruled out") are
        // one entry, so the roles combine on the entry.
        for (words, role) in [
            (&lexicon.negation_pre, NegationRoles { forward: true, ..NegationRoles::default() }),
            (&lexicon.negation_post, NegationRoles { backward: true, ..NegationRoles::default() }),
            (&lexicon.negation_post_final, NegationRoles { backward_final: true, ..NegationRoles::default() }),
            (&lexicon.negation_pseudo, NegationRoles { pseudo: true, ..NegationRoles::default() }),
            (&lexicon.negation_answers, NegationRoles { answer: true, ..NegationRoles::default() }),
            (&lexicon.negation_hypothetical, NegationRoles { hypothetical: true, ..NegationRoles::default() }),
            (&lexicon.negation_terminators, NegationRoles { terminator: true, ..NegationRoles::default() }),
        ] {
            for word in words {
                self.add_phrase(Kind::Negation, word, |layers, entry| {
                    let known = &mut layers.negation.entries[entry].payload;
                    *known = known.union(role);
                });
            }
        }
    }

    /// Resolves one normalized message word to a key. `scratch` is a reusable buffer.
    pub fn resolve(&self, word: &str, elongated: bool, scratch: &mut String) -> Resolved {
        self.resolve_word(word, elongated, true, scratch)
    }

    /// [`TermIndex::resolve`], following spelling variants only when `variants` is set: a
    /// canonical spelling is resolved once more, never again, so resolving cannot recurse.
    fn resolve_word(&self, word: &str, elongated: bool, variants: bool, scratch: &mut String) -> Resolved {
        let word = measurement_word(word).unwrap_or(word);
        if let Some(entry) = self.words.get(word) {
            return Resolved { key: entry.key, distance: 0 };
        }
        // Common words that share a stem with the catalogue are in `words` already.
        if self.common.contains(&hash_str(word)) {
            return Resolved { key: NO_KEY, distance: 0 };
        }
        if let Some(found) = self.lookup(word, scratch) {
            return found;
        }
        if elongated {
            let single = single_letters(word);
            if let Some(found) = self.lookup(&single, scratch) {
                return found;
            }
            if self.common.contains(&hash_str(&single)) {
                return Resolved { key: NO_KEY, distance: 0 };
            }
        }
        if variants && let Some(canonical) = self.canonical(word) {
            return self.resolve_word(canonical, false, false, scratch);
        }
        // A dropped g ("walkin", "twitchin", "givin") is the -ing word.
        if word.len() >= 5 && word.ends_with("in") {
            let with_g = format!("{word}g");
            if let Some(found) = self.lookup(&with_g, scratch) {
                return found;
            }
        }
        // A misspelt inflection ("flutering") is closer to the catalogue through its stem.
        self.fuzzy(word)
            .or_else(|| {
                stem_into(word, scratch);
                (scratch.len() != word.len()).then(|| self.fuzzy(scratch)).flatten()
            })
            .unwrap_or(Resolved { key: NO_KEY, distance: 0 })
    }

    /// Resolves every token of a message. A word of typo length is resolved once per message,
    /// however often it is repeated: the typo search is the costliest step per word.
    pub fn resolve_all(&self, tokens: &Tokens) -> Vec<Resolved> {
        let mut scratch = String::with_capacity(32);
        let mut known: FastMap<(&str, bool), Resolved> = FastMap::default();
        (0..tokens.tokens.len())
            .map(|i| {
                let (word, elongated) = (tokens.word(i), tokens.tokens[i].elongated);
                if word.len() < MIN_FUZZY_LEN {
                    return self.resolve(word, elongated, &mut scratch);
                }
                *known.entry((word, elongated)).or_insert_with(|| self.resolve(word, elongated, &mut scratch))
            })
            .collect()
    }

    /// The stem text of a key, for debugging and tests.
    pub fn key_text(&self, key: Key) -> Option<&str> {
        self.stem_texts.get(key as usize).map(|text| &**text)
    }

    /// A catalogue word, or a word sharing a stem with one.
    fn lookup(&self, word: &str, scratch: &mut String) -> Option<Resolved> {
        if let Some(entry) = self.words.get(word) {
            return Some(Resolved { key: entry.key, distance: 0 });
        }
        stem_into(word, scratch);
        let stemmed = self.variants.get(scratch.as_str()).map_or(scratch.as_str(), |canonical| canonical);
        self.stems.get(stemmed).map(|&key| Resolved { key, distance: 0 })
    }

    /// The canonical spelling of a variant, following a chain of variants ("a" -> "b" -> "c")
    /// for at most [`MAX_VARIANT_STEPS`] steps; a word mapped to itself is its own canonical
    /// spelling. `None` for a word that is no variant, or whose chain goes round in a circle
    /// (the catalogue check reports such a cycle). Never recursive.
    fn canonical(&self, word: &str) -> Option<&str> {
        let mut current: &str = self.variants.get(word)?;
        for _ in 0..MAX_VARIANT_STEPS {
            match self.variants.get(current) {
                Some(next) if **next != *current => current = next,
                _ => return Some(current),
            }
        }
        None
    }

    /// The closest catalogue word within the allowed edit distance. Its cost is bounded by a
    /// constant: a word longer than the longest candidate plus the distance is never fuzzed.
    fn fuzzy(&self, word: &str) -> Option<Resolved> {
        // Only ASCII words are fuzzed, so bytes are letters.
        if word.len() > self.max_candidate_len + 2 || !word.bytes().all(|b| b.is_ascii_lowercase()) {
            return None;
        }
        let max = allowed_distance(word.len());
        if max == 0 || word.len() > self.max_candidate_len + usize::from(max) {
            return None;
        }
        let bytes = word.as_bytes();
        // A candidate shares many deletions with the word: gather them first, so each one's
        // edit distance is computed once.
        let mut candidates: Vec<u32> = Vec::new();
        for_each_delete(bytes, max, |hash| {
            if let Some(&(start, end)) = self.deletes.get(&hash) {
                candidates.extend(self.delete_postings[start as usize..end as usize].iter().copied().filter(
                    |&candidate| {
                        let text = self.fuzzy_candidates[candidate as usize].text.as_bytes();
                        text[0] == bytes[0] && text.len().abs_diff(bytes.len()) <= usize::from(max)
                    },
                ));
            }
        });
        candidates.sort_unstable();
        candidates.dedup();
        let mut best: Option<(u8, u32)> = None;
        for candidate in candidates {
            let distance = strsim::osa_distance(word, &self.fuzzy_candidates[candidate as usize].text);
            if let Ok(distance) = u8::try_from(distance)
                && distance <= max
                && best.is_none_or(|(d, _)| distance < d)
            {
                best = Some((distance, candidate));
            }
        }
        best.map(|(distance, candidate)| Resolved { key: self.fuzzy_candidates[candidate as usize].key, distance })
    }

    /// The key of a catalogue word, creating it if new.
    fn key_of(&mut self, word: &str, fuzzy: bool) -> Key {
        // Catalogue phrases repeat their words thousands of times (with the phrase variants):
        // a word already keyed, and offered for typos when asked, is one lookup.
        if let Some(&(key, offered)) = self.keyed.get(word)
            && (offered || !fuzzy)
        {
            return key;
        }
        let key = self.key_of_new(word, fuzzy);
        self.keyed.insert(word.into(), (key, fuzzy));
        key
    }

    fn key_of_new(&mut self, word: &str, fuzzy: bool) -> Key {
        let word = self.variants.get(word).map_or_else(|| word.to_owned(), ToString::to_string);
        let stemmed = stem(&word);
        let next = Key::try_from(self.stem_texts.len()).unwrap_or(NO_KEY - 1);
        let key = *self.stems.entry(stemmed.as_str().into()).or_insert(next);
        if key == next {
            self.stem_texts.push(stemmed.as_str().into());
        }
        let is_new_word = !self.words.contains_key(word.as_str());
        if is_new_word {
            self.words.insert(word.as_str().into(), WordEntry { key });
        }
        if fuzzy {
            for text in [word.as_str(), stemmed.as_str()] {
                if text.len() >= MIN_CANDIDATE_LEN
                    && text.bytes().all(|b| b.is_ascii_lowercase())
                    && self.fuzzy_texts.insert(text.into())
                {
                    self.max_candidate_len = self.max_candidate_len.max(text.len());
                    self.fuzzy_candidates.push(FuzzyCandidate { text: text.into(), key });
                }
            }
        }
        key
    }

    /// Adds a phrase and the ways people say the same with other words: a phrase with "cant" in
    /// it is also added with "unable to" and "not able to", one with "my" also with "his" and
    /// "her" (people write for a parent or partner). At most [`MAX_PHRASE_VARIANTS`] per phrase.
    fn add_phrase_variants(
        &mut self,
        kind: Kind,
        text: &str,
        lexicon: &crate::knowledge::Lexicon,
        merge: impl Fn(&mut TermIndex, usize),
    ) {
        let words = self.phrase_words(text);
        if words.len() < 2 || words.iter().all(|word| !lexicon.phrase_variants.contains_key(&**word)) {
            let words: Vec<&str> = words.iter().map(|word| &**word).collect();
            self.add_words(kind, text, &words, merge);
            return;
        }
        // For each word of the phrase, the ways to say it: itself, then its variants ("cant":
        // "unable to", "not able to", ...), each as normalized words.
        let choices: Vec<Vec<Vec<Box<str>>>> = words
            .iter()
            .map(|word| {
                let mut ways = vec![vec![word.clone()]];
                if let Some(alternatives) = lexicon.phrase_variants.get(&**word) {
                    ways.extend(alternatives.iter().map(|alternative| self.phrase_words(alternative)));
                }
                ways
            })
            .collect();
        // The phrase itself, then every variant with one word changed, so that a word with many
        // variants ("cant") cannot crowd out another's ("my" → "her"); then combinations of
        // changes, counted like an odometer, up to MAX_PHRASE_VARIANTS in all.
        let mut picks: Vec<Vec<usize>> = vec![vec![0; choices.len()]];
        for (slot, ways) in choices.iter().enumerate() {
            for choice in 1..ways.len() {
                let mut picked = vec![0; choices.len()];
                picked[slot] = choice;
                picks.push(picked);
            }
        }
        let mut picked = vec![0usize; choices.len()];
        while picks.len() < MAX_PHRASE_VARIANTS {
            let Some(slot) = (0..picked.len()).find(|&slot| picked[slot] + 1 < choices[slot].len()) else { break };
            picked[slot] += 1;
            picked[..slot].iter_mut().for_each(|choice| *choice = 0);
            if picked.iter().filter(|&&choice| choice != 0).count() > 1 {
                picks.push(picked.clone());
            }
        }
        let mut flat: Vec<&str> = Vec::new();
        for picked in picks.iter().take(MAX_PHRASE_VARIANTS) {
            flat.clear();
            for (slot, &choice) in picked.iter().enumerate() {
                flat.extend(choices[slot][choice].iter().map(|word| &**word));
            }
            self.add_words(kind, text, &flat, &merge);
        }
    }

    /// The normalized words of a catalogue phrase, spelling variants mapped.
    fn phrase_words(&self, text: &str) -> Vec<Box<str>> {
        let tokens = tokenize(text, &self.emoji);
        (0..tokens.tokens.len())
            .map(|i| {
                let word = tokens.word(i);
                self.variants.get(word).map_or_else(|| word.into(), Clone::clone)
            })
            .collect()
    }

    fn add_phrase(&mut self, kind: Kind, text: &str, merge: impl FnOnce(&mut TermIndex, usize)) {
        let words = self.phrase_words(text);
        let words: Vec<&str> = words.iter().map(|word| &**word).collect();
        self.add_words(kind, text, &words, merge);
    }

    /// Adds a phrase given as normalized words; `text` is the catalogue's phrase, which evidence
    /// names (a variant "unable to walk" is reported as the term "can't walk").
    fn add_words(&mut self, kind: Kind, text: &str, words: &[&str], merge: impl FnOnce(&mut TermIndex, usize)) {
        if words.is_empty() {
            return;
        }
        let fuzzy = kind != Kind::Negation;
        let keys: Box<[Key]> = words.iter().map(|word| self.key_of(word, fuzzy)).collect();
        let existing = match kind {
            Kind::Cause => self.causes.position(&keys),
            Kind::Concept => self.concepts.position(&keys),
            Kind::Topic => self.topic.position(&keys),
            Kind::Negation => self.negation.position(&keys),
            Kind::NotSign => self.not_signs.position(&keys),
            Kind::Faq => self.faq.position(&keys),
        };
        let entry = if let Some(entry) = existing {
            entry
        } else {
            let words: Box<[Box<str>]> = words.iter().map(|&word| word.into()).collect();
            let text = text.trim().to_owned();
            match kind {
                Kind::Cause => self.causes.insert(Entry { keys, words, text, payload: Vec::new() }),
                Kind::Concept => self.concepts.insert(Entry { keys, words, text, payload: Vec::new() }),
                Kind::Topic => self.topic.insert(Entry { keys, words, text, payload: Topic::default() }),
                Kind::Negation => self.negation.insert(Entry { keys, words, text, payload: NegationRoles::default() }),
                Kind::NotSign => self.not_signs.insert(Entry { keys, words, text, payload: () }),
                Kind::Faq => self.faq.insert(Entry { keys, words, text, payload: Vec::new() }),
            }
        };
        merge(self, entry);
    }

    fn build_deletes(&mut self) {
        let mut pairs: Vec<(u64, u32)> = Vec::new();
        for (id, candidate) in self.fuzzy_candidates.iter().enumerate() {
            // Two deletions only where a two-edit match is possible: two edits are allowed for
            // words of eight letters or more, and a shorter candidate meets such a word through
            // its single deletions (an insertion and a substitution) or itself (two insertions).
            let max = if candidate.text.len() >= 8 { 2 } else { 1 };
            let id = u32::try_from(id).unwrap_or(u32::MAX);
            for_each_delete(candidate.text.as_bytes(), max, |hash| {
                pairs.push((hash, id));
            });
        }
        pairs.sort_unstable();
        pairs.dedup();
        self.delete_postings = pairs.iter().map(|&(_, id)| id).collect();
        self.deletes = FastMap::with_capacity_and_hasher(pairs.len(), BuildHasherDefault::default());
        let mut start = 0;
        while start < pairs.len() {
            let hash = pairs[start].0;
            let end = start + pairs[start..].iter().take_while(|(h, _)| *h == hash).count();
            self.deletes.insert(hash, (to_u32(start), to_u32(end)));
            start = end;
        }
    }
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn hash_str(text: &str) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(text.as_bytes());
    hasher.write_u64(text.len() as u64);
    hasher.finish()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cause,
    Concept,
    Topic,
    Negation,
    NotSign,
    Faq,
}

/// Reads measurements as words: a hot temperature ("38c", "95f") as "hot", a dose ("40mg") as
/// "mg". Other numbers stay as they are.
fn measurement_word(word: &str) -> Option<&'static str> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits == word.len() {
        return None;
    }
    let value: u32 = word[..digits].parse().ok()?;
    match &word[digits..] {
        "c" if (28..=60).contains(&value) => Some("hot"),
        "f" if (85..=140).contains(&value) => Some("hot"),
        "mg" | "mcg" | "ug" => Some("mg"),
        _ => None,
    }
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, value: T) {
    if !list.contains(&value) {
        list.push(value);
    }
}

/// Calls `visit` with the hash of `bytes` itself and of every string made by deleting one, and
/// (when `max` is 2) two, of its bytes; no allocation.
fn for_each_delete(bytes: &[u8], max: u8, mut visit: impl FnMut(u64)) {
    let hash_without = |skip_a: usize, skip_b: usize| {
        let mut hasher = FxHasher::default();
        let mut kept = 0u64;
        for (i, &b) in bytes.iter().enumerate() {
            if i != skip_a && i != skip_b {
                hasher.write_u8(b);
                kept += 1;
            }
        }
        hasher.write_u64(kept);
        hasher.finish()
    };
    let none = usize::MAX;
    visit(hash_without(none, none));
    for a in 0..bytes.len() {
        visit(hash_without(a, none));
        if max >= 2 {
            for b in a + 1..bytes.len() {
                visit(hash_without(a, b));
            }
        }
    }
}
