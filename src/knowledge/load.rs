//! Parsing and validation of the catalogue files.
//!
//! The files are first read into `Raw*` structs that keep the byte span of every value
//! (`toml::Spanned`), then checked as a whole; each problem is reported as `file:line: message`
//! and any problem rejects the whole catalogue.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{
    CAUSE_IDS, Catalogue, Cause, Concept, Guidance, Lexicon, Notice, Pattern, RED_FLAG_IDS, RedFlag, RedFlagLevel,
    Source, Strength, Term, Tip, Urgency,
};

/// Why a catalogue could not be loaded: every problem found, not just the first.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path that failed.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The files were read but are not a valid catalogue.
    #[error("the catalogue has {} problem(s):\n{}", .0.len(), ProblemList(.0))]
    Invalid(Vec<Problem>),
}

/// One problem in one catalogue file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, relative to the catalogue folder (`causes/muscle_fatigue.toml`).
    pub file: String,
    /// 1-based line, when the problem has a place in the file.
    pub line: Option<usize>,
    /// What is wrong, in lowercase with no trailing period.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

struct ProblemList<'a>(&'a [Problem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, problem) in self.0.iter().enumerate() {
            if n > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// The largest catalogue file read, in bytes: the biggest shipped file is a few hundred
/// kilobytes, so anything larger is a mistake (or `/dev/zero`), reported instead of read.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The deepest folder nesting walked below the catalogue folder.
const MAX_DEPTH: usize = 8;

/// What [`read_dir`] found: the files it read, and the problems with the ones it did not.
pub(super) struct Folder {
    /// `(name relative to the folder, contents)`, in name order.
    pub(super) files: Vec<(String, String)>,
    /// Files refused: not regular, too large, not UTF-8, or a symlink that loops or leaves.
    pub(super) problems: Vec<Problem>,
}

/// Reads every `.toml` and `.txt` file below `dir` (the extension in any case), named relative
/// to it with `/` separators. Only regular files are read, and only up to [`MAX_FILE_BYTES`]:
/// a FIFO, a device or a symlink to one is refused from its metadata, without being opened. A
/// symlink may point within the folder; one that leaves it, or loops, is reported once. A file
/// that is not UTF-8 is reported at the line of its first bad byte, and the walk goes on.
///
/// # Errors
/// Only when `dir` itself cannot be read.
pub(super) fn read_dir(dir: &Path) -> Result<Folder, LoadError> {
    let root =
        std::fs::canonicalize(dir).map_err(|source| LoadError::Io { path: dir.display().to_string(), source })?;
    let mut walker = Walker { root, folder: Folder { files: Vec::new(), problems: Vec::new() }, seen: Vec::new() };
    let root = walker.root.clone();
    walker.walk(&root, "", 0).map_err(|source| LoadError::Io { path: dir.display().to_string(), source })?;
    Ok(walker.folder)
}

struct Walker {
    /// The catalogue folder, canonical.
    root: std::path::PathBuf,
    folder: Folder,
    /// Canonical folders already walked, so a symlink back to one is not walked again.
    seen: Vec<std::path::PathBuf>,
}

impl Walker {
    fn problem(&mut self, name: &str, line: Option<usize>, message: impl Into<String>) {
        self.folder.problems.push(Problem { file: name.to_owned(), line, message: message.into() });
    }

    /// Walks the canonical folder `dir`, whose name relative to the root is `prefix`.
    fn walk(&mut self, dir: &Path, prefix: &str, depth: usize) -> std::io::Result<()> {
        if self.seen.iter().any(|seen| seen == dir) {
            return Ok(());
        }
        self.seen.push(dir.to_owned());
        let mut entries = std::fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            let path = entry.path();
            let Ok(own) = std::fs::symlink_metadata(&path) else { continue };
            let wanted = path
                .extension()
                .and_then(|ext| ext.to_str())
                .is_some_and(|ext| ext.eq_ignore_ascii_case("toml") || ext.eq_ignore_ascii_case("txt"));
            // What the entry is, following a symlink only when it stays inside the folder.
            let target = if own.file_type().is_symlink() {
                match std::fs::canonicalize(&path) {
                    Err(_) => {
                        self.problem(&name, None, "symlink loops or leads to nothing; not read");
                        continue;
                    }
                    Ok(target) if !target.starts_with(&self.root) => {
                        if wanted || target.is_dir() {
                            self.problem(&name, None, "symlink leads outside the catalogue folder; not read");
                        }
                        continue;
                    }
                    Ok(target) => target,
                }
            } else {
                path.clone()
            };
            let Ok(metadata) = std::fs::metadata(&target) else { continue };
            if metadata.is_dir() {
                if depth >= MAX_DEPTH {
                    self.problem(&name, None, format!("folder nested more than {MAX_DEPTH} deep; not read"));
                } else {
                    let target = std::fs::canonicalize(&target)?;
                    self.walk(&target, &format!("{name}/"), depth + 1)?;
                }
                continue;
            }
            if !wanted {
                continue;
            }
            if !metadata.is_file() {
                self.problem(&name, None, "not a regular file (a pipe, a socket or a device); not read");
                continue;
            }
            if metadata.len() > MAX_FILE_BYTES {
                let megabytes = MAX_FILE_BYTES / (1024 * 1024);
                self.problem(&name, None, format!("file is larger than {megabytes} MB; not read"));
                continue;
            }
            let mut bytes = Vec::new();
            let read = std::fs::File::open(&target).and_then(|file| {
                std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_FILE_BYTES + 1), &mut bytes)
            });
            if let Err(err) = read {
                self.problem(&name, None, format!("cannot read: {err}"));
                continue;
            }
            if bytes.len() as u64 > MAX_FILE_BYTES {
                let megabytes = MAX_FILE_BYTES / (1024 * 1024);
                self.problem(&name, None, format!("file is larger than {megabytes} MB; not read"));
                continue;
            }
            match String::from_utf8(bytes) {
                Ok(text) => self.folder.files.push((name, text)),
                Err(err) => {
                    let valid = err.utf8_error().valid_up_to();
                    let bytes = err.as_bytes();
                    let line = bytes[..valid].split(|&b| b == b'\n').count();
                    let column = valid - bytes[..valid].iter().rposition(|&b| b == b'\n').map_or(0, |at| at + 1) + 1;
                    self.problem(
                        &name,
                        Some(line),
                        format!(
                            "not UTF-8 text: byte {column} of this line (0x{:02x}) is invalid; save the file as UTF-8",
                            bytes[valid]
                        ),
                    );
                }
            }
        }
        Ok(())
    }
}

// ---- raw file shapes -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSourcesFile {
    sources: BTreeMap<String, Spanned<RawSource>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    publisher: String,
    title: String,
    url: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCause {
    id: Spanned<String>,
    name: Spanned<String>,
    #[serde(default)]
    synonyms: Vec<String>,
    summary: Spanned<String>,
    explanation: Spanned<String>,
    see_a_professional: Spanned<String>,
    sources: Spanned<Vec<Spanned<String>>>,
    tips: Spanned<Vec<RawTip>>,
    #[serde(default)]
    treatment: Vec<RawTip>,
    vocabulary: Spanned<RawVocabulary>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTip {
    text: Spanned<String>,
    source: Spanned<String>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNoticesFile {
    notice: Vec<RawNotice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotice {
    id: Spanned<String>,
    title: Spanned<String>,
    text: Spanned<String>,
    sources: Spanned<Vec<Spanned<String>>>,
    patterns: Vec<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    hides: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawVocabulary {
    #[serde(default)]
    strong: Vec<Spanned<RawTerm>>,
    #[serde(default)]
    moderate: Vec<Spanned<RawTerm>>,
    #[serde(default)]
    weak: Vec<Spanned<RawTerm>>,
    /// Words that name the cause as a whole: moderate when affirmed, a full denial when negated.
    #[serde(default)]
    names: Vec<Spanned<RawTerm>>,
    #[serde(default)]
    against: Vec<Spanned<RawTerm>>,
}

/// A vocabulary entry: a plain string, or a table that marks a term as shared between causes.
enum RawTerm {
    Plain(String),
    Marked { term: String, shared: bool },
}

/// The table form of a vocabulary entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMarkedTerm {
    term: String,
    #[serde(default)]
    shared: bool,
}

impl<'de> Deserialize<'de> for RawTerm {
    /// By hand rather than `#[serde(untagged)]`, whose error ("data did not match any variant
    /// of untagged enum") names neither the value nor what was expected.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<RawTerm, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawTerm;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a term: a string such as \"calf cramp\", or a table such as { term = \"cramp\", shared = true }",
                )
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<RawTerm, E> {
                Ok(RawTerm::Plain(text.to_owned()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawTerm, A::Error> {
                let marked = RawMarkedTerm::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(RawTerm::Marked { term: marked.term, shared: marked.shared })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl RawTerm {
    pub(super) fn text(&self) -> &str {
        match self {
            RawTerm::Plain(text) | RawTerm::Marked { term: text, .. } => text,
        }
    }

    fn shared(&self) -> bool {
        matches!(self, RawTerm::Marked { shared: true, .. })
    }
}

/// Alternative combinations of concept names, as written in `[clause_concepts]`.
type Combinations = Vec<Spanned<Vec<Spanned<String>>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedFlagsFile {
    concepts: BTreeMap<String, Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    clause_concepts: BTreeMap<String, Spanned<Combinations>>,
    #[serde(default)]
    located: Vec<Spanned<String>>,
    #[serde(default)]
    not_signs: Vec<String>,
    red_flag: Vec<RawRedFlag>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedFlag {
    id: Spanned<String>,
    urgency: Spanned<String>,
    title: Spanned<String>,
    message: Spanned<String>,
    action: Spanned<String>,
    #[serde(default)]
    patterns: Vec<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    sentence_patterns: Vec<Spanned<Vec<Spanned<String>>>>,
    sources: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    causes: Vec<Spanned<String>>,
    #[serde(default)]
    explained_by: Vec<Spanned<String>>,
    #[serde(default)]
    supersedes: Vec<Spanned<String>>,
    escalation: Option<RawLevel>,
}

impl RawRedFlag {
    /// The flag's own fields as its base level.
    fn base(&self) -> RawLevel {
        RawLevel {
            urgency: self.urgency.clone(),
            title: self.title.clone(),
            message: self.message.clone(),
            action: self.action.clone(),
            patterns: self.patterns.clone(),
            sentence_patterns: self.sentence_patterns.clone(),
        }
    }
}

/// A more urgent level of a red flag (`[red_flag.escalation]`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    urgency: Spanned<String>,
    title: Spanned<String>,
    message: Spanned<String>,
    action: Spanned<String>,
    #[serde(default)]
    patterns: Vec<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    sentence_patterns: Vec<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuidance {
    consult: Spanned<String>,
    emergency: Spanned<String>,
    overview: Spanned<String>,
    off_topic: Spanned<String>,
    see_a_professional: Spanned<Vec<Spanned<String>>>,
    prevention: Spanned<Vec<RawTip>>,
    treatment: Spanned<Vec<RawTip>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHydration {
    tips: Spanned<Vec<RawTip>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLexicon {
    topic: RawTopic,
    negation: RawNegation,
    #[serde(default)]
    spelling: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    irregular: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    emoji: BTreeMap<String, String>,
    #[serde(default)]
    phrase_variants: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    body: Spanned<Vec<String>>,
    symptom: Spanned<Vec<String>>,
    #[serde(default)]
    core_symptom: Option<Spanned<Vec<String>>>,
    activity: Spanned<Vec<String>>,
    #[serde(default)]
    general_site: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    other_site: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    idioms: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    animals: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    livestock: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    people: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    speakers: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pet_care: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    promotion: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    coverage: Option<Spanned<Vec<String>>>,
}

impl RawTopic {
    /// Every list, for the words of the catalogue.
    fn lists(&self) -> impl Iterator<Item = &Vec<String>> {
        [&self.body, &self.symptom, &self.activity].into_iter().map(Spanned::get_ref).chain(
            [
                &self.core_symptom,
                &self.general_site,
                &self.other_site,
                &self.idioms,
                &self.animals,
                &self.livestock,
                &self.people,
                &self.speakers,
                &self.pet_care,
                &self.promotion,
                &self.coverage,
            ]
            .into_iter()
            .filter_map(|list| list.as_ref().map(Spanned::get_ref)),
        )
    }
}

impl RawNegation {
    /// Every list, for the words of the catalogue.
    fn lists(&self) -> impl Iterator<Item = &Vec<String>> {
        [&self.pre, &self.post, &self.pseudo, &self.terminators].into_iter().map(Spanned::get_ref).chain(
            [&self.post_final, &self.answers, &self.hypothetical, &self.trailing]
                .into_iter()
                .filter_map(|list| list.as_ref().map(Spanned::get_ref)),
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNegation {
    pre: Spanned<Vec<String>>,
    post: Spanned<Vec<String>>,
    #[serde(default)]
    post_final: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    answers: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    hypothetical: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    trailing: Option<Spanned<Vec<String>>>,
    pseudo: Spanned<Vec<String>>,
    terminators: Spanned<Vec<String>>,
}

/// What an emergency red flag's action must name, at least one: an emergency number or A&E.
const EMERGENCY_HELP: [&str; 7] = ["999", "112", "911", "000", "emergency number", "A&E", "emergency department"];

/// What an urgent red flag's action must name, at least one: a way to get help the same day.
const SAME_DAY_HELP: [&str; 9] = [
    "111",
    "GP",
    "doctor",
    "urgent care",
    "urgent treatment centre",
    "A&E",
    "999",
    "emergency number",
    "minor injuries",
];

/// The kinds of advice a tip may be tagged with, so that notices can hold them back.
const TIP_TAGS: [&str; 4] = ["drink_more", "stretch", "massage", "heat"];

// ---- building --------------------------------------------------------------------------------

/// Collects problems for one file at a time, turning byte offsets into line numbers.
pub(super) struct Checker {
    problems: Vec<Problem>,
    /// Whether sources.toml was read: when it could not be, every citation would be reported
    /// as unknown, so citations are not checked.
    sources_read: bool,
}

pub(super) struct FileRef<'a> {
    pub(super) name: &'a str,
    pub(super) text: &'a str,
    /// The byte offset of every newline, found in one pass on first use, so that each line
    /// number is a binary search, not a count from the start of the file.
    newlines: std::cell::OnceCell<Vec<usize>>,
}

impl<'a> FileRef<'a> {
    pub(super) fn new(name: &'a str, text: &'a str) -> FileRef<'a> {
        FileRef { name, text, newlines: std::cell::OnceCell::new() }
    }

    fn line_of(&self, offset: usize) -> usize {
        let newlines = self
            .newlines
            .get_or_init(|| self.text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(at, _)| at).collect());
        newlines.partition_point(|&at| at < offset) + 1
    }
}

impl Checker {
    pub(super) fn at(&mut self, file: &FileRef<'_>, offset: usize, message: impl Into<String>) {
        self.problems.push(Problem {
            file: file.name.to_owned(),
            line: Some(file.line_of(offset)),
            message: message.into(),
        });
    }

    fn whole(&mut self, file: &str, message: impl Into<String>) {
        self.problems.push(Problem { file: file.to_owned(), line: None, message: message.into() });
    }

    pub(super) fn parse<T: for<'de> Deserialize<'de>>(&mut self, file: &FileRef<'_>) -> Option<T> {
        match toml::from_str::<T>(file.text) {
            Ok(value) => Some(value),
            Err(err) => {
                let message = err.message().trim().to_owned();
                match err.span() {
                    Some(span) => self.at(file, span.start, message),
                    None => self.whole(file.name, message),
                }
                None
            }
        }
    }

    /// A string field that must say something.
    pub(super) fn text(&mut self, file: &FileRef<'_>, field: &str, value: &Spanned<String>) -> String {
        let text = value.get_ref().trim();
        if text.is_empty() {
            self.at(file, value.span().start, format!("`{field}` is empty"));
        }
        text.to_owned()
    }

    pub(super) fn source(
        &mut self,
        file: &FileRef<'_>,
        sources: &BTreeMap<String, Source>,
        id: &Spanned<String>,
    ) -> Option<Source> {
        let found = sources.get(id.get_ref()).cloned();
        if found.is_none() && self.sources_read {
            self.at(
                file,
                id.span().start,
                format!("unknown source `{}` (sources are listed in sources.toml)", id.get_ref()),
            );
        }
        found
    }

    pub(super) fn tips(&mut self, file: &FileRef<'_>, sources: &BTreeMap<String, Source>, raw: &[RawTip]) -> Vec<Tip> {
        let mut tips = Vec::new();
        for tip in raw {
            let text = self.text(file, "text", &tip.text);
            let tags: Vec<String> = tip.tags.iter().map(|tag| tag.get_ref().clone()).collect();
            for tag in &tip.tags {
                if !TIP_TAGS.contains(&tag.get_ref().as_str()) {
                    self.at(
                        file,
                        tag.span().start,
                        format!("unknown tip tag {:?}; the tags are {}", tag.get_ref(), TIP_TAGS.join(", ")),
                    );
                }
            }
            if let Some(source) = self.source(file, sources, &tip.source) {
                tips.push(Tip { text, source, tags });
            }
        }
        tips
    }

    fn source_list(
        &mut self,
        file: &FileRef<'_>,
        sources: &BTreeMap<String, Source>,
        ids: &Spanned<Vec<Spanned<String>>>,
    ) -> Vec<Source> {
        if ids.get_ref().is_empty() {
            self.at(file, ids.span().start, "`sources` is empty: every claim needs a source");
        }
        ids.get_ref().iter().filter_map(|id| self.source(file, sources, id)).collect()
    }
}

/// Whether a term has a letter or digit that survives normalization: combining marks alone
/// (accents, vowel signs) are folded away, so a term made only of them can never match.
fn has_word(text: &str) -> bool {
    use unicode_normalization::UnicodeNormalization as _;
    text.nfkd().any(|c| c.is_alphanumeric() && !unicode_normalization::char::is_combining_mark(c))
}

/// Where a vocabulary term was claimed, for the "claimed by two causes" check.
struct Claim {
    cause: String,
    file: String,
    line: usize,
    shared: bool,
}

pub(super) fn build(files: &[(String, String)]) -> Result<Catalogue, LoadError> {
    let mut check = Checker { problems: Vec::new(), sources_read: false };
    let mut by_kind: HashMap<&str, &(String, String)> = HashMap::new();
    let mut cause_files = Vec::new();
    for file in files {
        let name = file.0.as_str();
        match name {
            "sources.toml" | "red_flags.toml" | "notices.toml" | "guidance.toml" | "hydration.toml" | "lexicon.toml"
            | "common_words.txt" | "faq.toml" | "followups.toml" => {
                by_kind.insert(name, file);
            }
            _ if name.starts_with("causes/")
                && std::path::Path::new(name).extension().is_some_and(|ext| ext.eq_ignore_ascii_case("toml")) => cause_files.push(file),
            _ => check.whole(name, "unexpected file: the catalogue has sources.toml, causes/*.toml, red_flags.toml, notices.toml, guidance.toml, hydration.toml, lexicon.toml, faq.toml, followups.toml and common_words.txt"),
        }
    }
    let file_ref = |kind: &str| by_kind.get(kind).map(|(name, text)| FileRef::new(name, text));

    // Sources first: everything else cites them.
    let mut sources = BTreeMap::new();
    match file_ref("sources.toml") {
        None => check.whole("sources.toml", "missing file"),
        Some(file) => {
            if let Some(raw) = check.parse::<RawSourcesFile>(&file) {
                check.sources_read = true;
                for (id, source) in raw.sources {
                    let offset = source.span().start;
                    let source = source.into_inner();
                    if !(source.url.starts_with("https://") || source.url.starts_with("http://")) {
                        check.at(&file, offset, format!("source `{id}` has no http(s) url"));
                    }
                    if source.publisher.trim().is_empty() || source.title.trim().is_empty() {
                        check.at(&file, offset, format!("source `{id}` needs a publisher and a title"));
                    }
                    sources.insert(
                        id.clone(),
                        Source { id, publisher: source.publisher, title: source.title, url: source.url },
                    );
                }
            }
        }
    }

    let causes = build_causes(&mut check, &cause_files, &sources);
    // Notices name concepts of red_flags.toml, which must not then be reported as unused.
    // notices.toml is optional: a catalogue may give no situational advice.
    let raw_notices = file_ref("notices.toml").and_then(|file| check.parse::<RawNoticesFile>(&file));
    let used_by_notices: Vec<String> = raw_notices
        .iter()
        .flat_map(|raw| raw.notice.iter())
        .flat_map(|notice| notice.patterns.iter().flat_map(|pattern| pattern.get_ref().iter()))
        .map(|name| name.get_ref().clone())
        .collect();
    let (concepts, red_flags, not_signs) = match file_ref("red_flags.toml") {
        None => {
            check.whole("red_flags.toml", "missing file");
            (Vec::new(), Vec::new(), Vec::new())
        }
        Some(file) => build_red_flags(&mut check, &file, &sources, &used_by_notices),
    };
    let notices = match (file_ref("notices.toml"), raw_notices) {
        (Some(file), Some(raw)) => build_notices(&mut check, &file, &sources, &concepts, raw),
        _ => Vec::new(),
    };
    let guidance = match file_ref("guidance.toml") {
        None => {
            check.whole("guidance.toml", "missing file");
            None
        }
        Some(file) => check.parse::<RawGuidance>(&file).map(|raw| Guidance {
            consult: check.text(&file, "consult", &raw.consult),
            emergency: check.text(&file, "emergency", &raw.emergency),
            overview: check.text(&file, "overview", &raw.overview),
            off_topic: check.text(&file, "off_topic", &raw.off_topic),
            see_a_professional: raw
                .see_a_professional
                .get_ref()
                .iter()
                .map(|line| check.text(&file, "see_a_professional", line))
                .collect(),
            prevention: non_empty_tips(&mut check, &file, &sources, "prevention", &raw.prevention),
            treatment: non_empty_tips(&mut check, &file, &sources, "treatment", &raw.treatment),
        }),
    };
    let hydration_tips = match file_ref("hydration.toml") {
        None => {
            check.whole("hydration.toml", "missing file");
            Vec::new()
        }
        Some(file) => check
            .parse::<RawHydration>(&file)
            .map(|raw| non_empty_tips(&mut check, &file, &sources, "tips", &raw.tips))
            .unwrap_or_default(),
    };
    let mut lexicon = match file_ref("lexicon.toml") {
        None => {
            check.whole("lexicon.toml", "missing file");
            None
        }
        Some(file) => check.parse::<RawLexicon>(&file).map(|raw| {
            // The core lists must say something; the finer ones (sites, idioms, answers, ...) may
            // be left out of a small catalogue.
            let required = [
                ("topic.body", &raw.topic.body),
                ("topic.symptom", &raw.topic.symptom),
                ("topic.activity", &raw.topic.activity),
                ("negation.pre", &raw.negation.pre),
                ("negation.post", &raw.negation.post),
                ("negation.pseudo", &raw.negation.pseudo),
                ("negation.terminators", &raw.negation.terminators),
            ];
            let optional = [
                ("topic.core_symptom", &raw.topic.core_symptom),
                ("topic.general_site", &raw.topic.general_site),
                ("topic.other_site", &raw.topic.other_site),
                ("topic.idioms", &raw.topic.idioms),
                ("topic.animals", &raw.topic.animals),
                ("topic.livestock", &raw.topic.livestock),
                ("topic.people", &raw.topic.people),
                ("topic.speakers", &raw.topic.speakers),
                ("topic.pet_care", &raw.topic.pet_care),
                ("topic.promotion", &raw.topic.promotion),
                ("topic.coverage", &raw.topic.coverage),
                ("negation.post_final", &raw.negation.post_final),
                ("negation.answers", &raw.negation.answers),
                ("negation.hypothetical", &raw.negation.hypothetical),
                ("negation.trailing", &raw.negation.trailing),
            ];
            for (field, list) in required
                .into_iter()
                .chain(optional.into_iter().filter_map(|(field, list)| Some((field, list.as_ref()?))))
            {
                if list.get_ref().is_empty() && !optional.iter().any(|(name, _)| *name == field) {
                    check.at(&file, list.span().start, format!("`{field}` is empty"));
                }
                if let Some(bad) = list.get_ref().iter().find(|word| !has_word(word)) {
                    check.at(&file, list.span().start, format!("`{field}` has an entry with no letters: {bad:?}"));
                }
            }
            // The words of every catalogue phrase: `a = "a"` marks a catalogue word that is also
            // a common English word, and does nothing for any other word.
            let mut catalogue_words: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
            let phrases =
                causes
                    .iter()
                    .flat_map(|cause| cause.vocabulary.iter().chain(&cause.against).map(|term| term.text.as_str()))
                    .chain(concepts.iter().flat_map(|concept| concept.terms.iter().map(String::as_str)))
                    .chain(raw.topic.lists().flat_map(|list| list.iter().map(String::as_str)))
                    .chain(raw.negation.lists().flat_map(|list| list.iter().map(String::as_str)))
                    .chain(raw.phrase_variants.iter().flat_map(|(word, ways)| {
                        std::iter::once(word.as_str()).chain(ways.iter().map(String::as_str))
                    }));
            for phrase in phrases {
                for word in phrase.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’')) {
                    catalogue_words
                        .insert(word.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase());
                }
            }
            check_spelling_chains(&mut check, &file, &raw.spelling, &raw.irregular, &catalogue_words);
            let words = |list: Option<Spanned<Vec<String>>>| list.map(Spanned::into_inner).unwrap_or_default();
            let plain = |map: BTreeMap<String, Spanned<String>>| {
                map.into_iter().map(|(from, to)| (from, to.into_inner())).collect::<BTreeMap<_, _>>()
            };
            Lexicon {
                body: raw.topic.body.into_inner(),
                symptom: raw.topic.symptom.into_inner(),
                core_symptom: words(raw.topic.core_symptom),
                activity: raw.topic.activity.into_inner(),
                general_site: words(raw.topic.general_site),
                other_site: words(raw.topic.other_site),
                idioms: words(raw.topic.idioms),
                animals: words(raw.topic.animals),
                livestock: words(raw.topic.livestock),
                people: words(raw.topic.people),
                speakers: words(raw.topic.speakers),
                pet_care: words(raw.topic.pet_care),
                promotion: words(raw.topic.promotion),
                coverage: words(raw.topic.coverage),
                negation_pre: raw.negation.pre.into_inner(),
                negation_post: raw.negation.post.into_inner(),
                negation_post_final: words(raw.negation.post_final),
                negation_answers: words(raw.negation.answers),
                negation_hypothetical: words(raw.negation.hypothetical),
                negation_trailing: words(raw.negation.trailing),
                negation_pseudo: raw.negation.pseudo.into_inner(),
                negation_terminators: raw.negation.terminators.into_inner(),
                spelling: plain(raw.spelling),
                irregular: plain(raw.irregular),
                emoji: raw.emoji,
                phrase_variants: raw.phrase_variants,
                common_words_text: String::new(),
            }
        }),
    };
    match (file_ref("common_words.txt"), lexicon.as_mut()) {
        (None, _) => check.whole("common_words.txt", "missing file"),
        (Some(file), Some(lexicon)) => {
            lexicon.common_words_text = file.text.to_lowercase();
            if lexicon.common_words().next().is_none() {
                check.whole(file.name, "no words");
            }
        }
        (Some(_), None) => {}
    }

    // faq.toml and followups.toml are optional: a catalogue may answer no questions.
    let faqs = file_ref("faq.toml")
        .map(|file| super::faq::build_faqs(&mut check, &file, &sources, &causes))
        .unwrap_or_default();
    let followups = file_ref("followups.toml")
        .map(|file| super::faq::build_followups(&mut check, &file, &causes, &concepts, &red_flags))
        .unwrap_or_default();

    if !check.problems.is_empty() {
        return Err(LoadError::Invalid(check.problems));
    }
    match (guidance, lexicon) {
        (Some(guidance), Some(lexicon)) => Ok(Catalogue {
            causes,
            red_flags,
            concepts,
            not_signs,
            notices,
            guidance,
            hydration_tips,
            lexicon,
            sources,
            faqs,
            followups,
        }),
        // Unreachable in practice: a missing or unparsable file has already been reported.
        _ => Err(LoadError::Invalid(vec![Problem {
            file: "knowledge".into(),
            line: None,
            message: "incomplete catalogue".into(),
        }])),
    }
}

/// The longest chain of spelling variants the analyzer follows ("a" -> "b" -> "c"); it
/// must agree with the analyzer's own bound.
pub(crate) const MAX_SPELLING_STEPS: usize = 8;

/// Reports spelling variants that lead in a circle (`a = "b"` and `b = "a"`, or `a = "a"`) or
/// through more than [`MAX_SPELLING_STEPS`] variants, once per cycle, at the first entry's line.
/// `[spelling]` and `[irregular]` are one map to the analyzer, so they are checked together.
fn check_spelling_chains(
    check: &mut Checker,
    file: &FileRef<'_>,
    spelling: &BTreeMap<String, Spanned<String>>,
    irregular: &BTreeMap<String, Spanned<String>>,
    catalogue_words: &std::collections::BTreeSet<String>,
) {
    let mut map: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for (from, to) in spelling.iter().chain(irregular) {
        let (from, to_text) = (from.to_lowercase(), to.get_ref().to_lowercase());
        // A catalogue word mapped to itself is kept as a word of the catalogue even where it
        // is also common English ("im"): the analyzer stops there.
        if from == to_text {
            if !catalogue_words.contains(&from) {
                check.at(
                    file,
                    to.span().start,
                    format!(
                        "spelling variant {from:?} maps to itself but is in no catalogue phrase, so it does nothing"
                    ),
                );
            }
            continue;
        }
        map.insert(from, (to_text, to.span().start));
    }
    let mut reported: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for (start, (first, offset)) in &map {
        if reported.contains(start) {
            continue;
        }
        let mut chain = vec![start.as_str()];
        let mut current = first.as_str();
        loop {
            if reported.contains(current) {
                break;
            }
            if let Some(at) = chain.iter().position(|word| *word == current) {
                let cycle: Vec<&str> = chain[at..].to_vec();
                reported.extend(cycle.iter().map(|word| (*word).to_owned()));
                let shown =
                    cycle.iter().chain(std::iter::once(&cycle[0])).map(|word| format!("{word:?}")).collect::<Vec<_>>();
                check.at(
                    file,
                    map.get(cycle[0]).map_or(*offset, |(_, at)| *at),
                    format!(
                        "spelling variants go round in a circle ({}), so none of them has a spelling to use",
                        shown.join(" -> ")
                    ),
                );
                break;
            }
            let Some((next, _)) = map.get(current) else { break };
            chain.push(current);
            if chain.len() > MAX_SPELLING_STEPS + 1 {
                check.at(
                    file,
                    *offset,
                    format!("spelling variant {start:?} leads through more than {MAX_SPELLING_STEPS} variants; map it to the final spelling"),
                );
                break;
            }
            current = next;
        }
    }
}

fn non_empty_tips(
    check: &mut Checker,
    file: &FileRef<'_>,
    sources: &BTreeMap<String, Source>,
    field: &str,
    raw: &Spanned<Vec<RawTip>>,
) -> Vec<Tip> {
    if raw.get_ref().is_empty() {
        check.at(file, raw.span().start, format!("`{field}` is empty"));
    }
    check.tips(file, sources, raw.get_ref())
}

fn build_causes(
    check: &mut Checker,
    cause_files: &[&(String, String)],
    sources: &BTreeMap<String, Source>,
) -> Vec<Cause> {
    let mut found: BTreeMap<usize, Cause> = BTreeMap::new();
    let mut claims: BTreeMap<String, Vec<Claim>> = BTreeMap::new();
    // Files that failed to parse, reported already: the cause each is named after is not
    // reported again as missing.
    let mut unparsed: Vec<&str> = Vec::new();
    for (name, text) in cause_files {
        let file = FileRef::new(name, text);
        let Some(raw) = check.parse::<RawCause>(&file) else {
            unparsed.push(name.as_str());
            continue;
        };
        let id = raw.id.get_ref().clone();
        let Some(position) = CAUSE_IDS.iter().position(|known| *known == id) else {
            check.at(
                &file,
                raw.id.span().start,
                format!("unknown cause id `{id}`; the ids are fixed: {}", CAUSE_IDS.join(", ")),
            );
            continue;
        };
        if found.contains_key(&position) {
            check.at(&file, raw.id.span().start, format!("cause `{id}` is defined twice"));
            continue;
        }
        let tips = check.tips(&file, sources, raw.tips.get_ref());
        if raw.tips.get_ref().is_empty() {
            check.at(&file, raw.tips.span().start, "`tips` is empty");
        }
        let vocabulary_span = raw.vocabulary.span().start;
        let vocabulary = raw.vocabulary.into_inner();
        if vocabulary.strong.is_empty() && vocabulary.moderate.is_empty() && vocabulary.names.is_empty() {
            check.at(&file, vocabulary_span, "the vocabulary needs at least one strong or moderate term");
        }
        let terms = vocabulary_terms(check, &file, &id, &vocabulary, &mut claims);
        let against = vocabulary
            .against
            .iter()
            .filter_map(|term| {
                let text = term.get_ref().text().trim().to_owned();
                if has_word(&text) {
                    Some(Term { text, strength: Strength::Moderate, names_cause: false })
                } else {
                    check.at(&file, term.span().start, format!("term {text:?} has no letters (combining marks alone are folded away), so it can never match"));
                    None
                }
            })
            .collect();
        let cause = Cause {
            name: check.text(&file, "name", &raw.name),
            summary: check.text(&file, "summary", &raw.summary),
            explanation: check.text(&file, "explanation", &raw.explanation),
            see_a_professional: check.text(&file, "see_a_professional", &raw.see_a_professional),
            synonyms: raw.synonyms,
            treatment: check.tips(&file, sources, &raw.treatment),
            sources: check.source_list(&file, sources, &raw.sources),
            tips,
            vocabulary: terms,
            against,
            id,
        };
        found.insert(position, cause);
    }
    check_shared_claims(check, &claims);
    for (position, id) in CAUSE_IDS.iter().enumerate() {
        let name = format!("causes/{id}.toml");
        if !found.contains_key(&position) && !unparsed.iter().any(|file| file.eq_ignore_ascii_case(&name)) {
            check.whole(&name, format!("missing cause `{id}`"));
        }
    }
    found.into_values().collect()
}

/// The strong, moderate and weak terms of one cause, recording where each was claimed.
fn vocabulary_terms(
    check: &mut Checker,
    file: &FileRef<'_>,
    id: &str,
    vocabulary: &RawVocabulary,
    claims: &mut BTreeMap<String, Vec<Claim>>,
) -> Vec<Term> {
    let mut terms = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (strength, names_cause, list) in [
        (Strength::Strong, false, &vocabulary.strong),
        (Strength::Moderate, false, &vocabulary.moderate),
        (Strength::Weak, false, &vocabulary.weak),
        (Strength::Moderate, true, &vocabulary.names),
    ] {
        for term in list {
            let text = term.get_ref().text().trim().to_owned();
            let line = file.line_of(term.span().start);
            if !has_word(&text) {
                check.at(
                    file,
                    term.span().start,
                    format!(
                        "term {text:?} has no letters (combining marks alone are folded away), so it can never match"
                    ),
                );
                continue;
            }
            let key = text.to_lowercase();
            if let Some(first) = seen.insert(key.clone(), line) {
                check.at(file, term.span().start, format!("term {text:?} is listed twice (first on line {first})"));
                continue;
            }
            claims.entry(key).or_default().push(Claim {
                cause: id.to_owned(),
                file: file.name.to_owned(),
                line,
                shared: term.get_ref().shared(),
            });
            terms.push(Term { text, strength, names_cause });
        }
    }
    terms
}

/// Reports every term claimed by two causes where a claim is not marked shared.
fn check_shared_claims(check: &mut Checker, claims: &BTreeMap<String, Vec<Claim>>) {
    for (term, claims) in claims {
        let causes: Vec<&str> = claims.iter().map(|claim| claim.cause.as_str()).collect();
        if claims.len() > 1 {
            for claim in claims.iter().filter(|claim| !claim.shared) {
                check.problems.push(Problem {
                    file: claim.file.clone(),
                    line: Some(claim.line),
                    message: format!(
                        "term {term:?} is claimed by {}; mark it `{{ term = {term:?}, shared = true }}` in each if that is meant",
                        causes.join(" and ")
                    ),
                });
            }
        }
    }
}

/// The concepts of `red_flags.toml`, and their index by name: `[concepts]` lists words, and
/// `[clause_concepts]` lists combinations of those concepts that mean another within one
/// sentence. A name may have both.
fn build_concepts(
    check: &mut Checker,
    file: &FileRef<'_>,
    raw: &RawRedFlagsFile,
) -> (Vec<Concept>, HashMap<String, usize>) {
    let mut concepts = Vec::new();
    let mut concept_index = HashMap::new();
    for (id, terms) in &raw.concepts {
        if terms.get_ref().is_empty() && !raw.clause_concepts.contains_key(id) {
            check.at(
                file,
                terms.span().start,
                format!("concept `{id}` has no terms, so no pattern using it can match"),
            );
        }
        for term in terms.get_ref() {
            if !has_word(term.get_ref()) {
                check.at(
                    file,
                    term.span().start,
                    format!("concept `{id}` has a term with no letters: {:?}", term.get_ref()),
                );
            }
        }
        concept_index.insert(id.clone(), concepts.len());
        concepts.push(Concept {
            id: id.clone(),
            terms: terms.get_ref().iter().map(|t| t.get_ref().trim().to_owned()).collect(),
            in_one_clause: Vec::new(),
            located: false,
        });
    }
    for id in raw.clause_concepts.keys() {
        if !concept_index.contains_key(id) {
            concept_index.insert(id.clone(), concepts.len());
            concepts.push(Concept { id: id.clone(), terms: Vec::new(), in_one_clause: Vec::new(), located: false });
        }
    }
    for (id, combinations) in &raw.clause_concepts {
        let mut parsed = Vec::new();
        for combination in combinations.get_ref() {
            if combination.get_ref().is_empty() {
                check.at(file, combination.span().start, format!("clause concept `{id}` has an empty combination"));
                continue;
            }
            let mut parts = Vec::new();
            for name in combination.get_ref() {
                let part = concept_index.get(name.get_ref()).copied();
                match part {
                    Some(index) if !raw.clause_concepts.contains_key(name.get_ref()) => parts.push(index),
                    Some(_) => check.at(
                        file,
                        name.span().start,
                        format!("`{}` is itself a clause concept; combine concepts with terms only", name.get_ref()),
                    ),
                    None => check.at(
                        file,
                        name.span().start,
                        format!("unknown concept `{}`, so `{id}` cannot match this way", name.get_ref()),
                    ),
                }
            }
            parsed.push(parts);
        }
        concepts[concept_index[id]].in_one_clause = parsed;
    }
    for name in &raw.located {
        match concept_index.get(name.get_ref()) {
            Some(&index) => concepts[index].located = true,
            None => {
                check.at(file, name.span().start, format!("`located` names an unknown concept `{}`", name.get_ref()));
            }
        }
    }
    (concepts, concept_index)
}

/// One level's patterns, as concept indices; marks the concepts used.
fn build_patterns(
    check: &mut Checker,
    file: &FileRef<'_>,
    level: &RawLevel,
    concept_index: &HashMap<String, usize>,
    used: &mut [bool],
) -> Vec<Pattern> {
    let mut patterns = Vec::new();
    for (within_sentence, list) in [(false, &level.patterns), (true, &level.sentence_patterns)] {
        for pattern in list {
            if pattern.get_ref().is_empty() {
                check.at(file, pattern.span().start, "an empty pattern would match every message");
                continue;
            }
            let mut indices = Vec::new();
            for name in pattern.get_ref() {
                match concept_index.get(name.get_ref()) {
                    Some(&index) => {
                        used[index] = true;
                        indices.push(index);
                    }
                    None => check.at(
                        file,
                        name.span().start,
                        format!("unknown concept `{}`, so this pattern cannot match", name.get_ref()),
                    ),
                }
            }
            patterns.push(Pattern { concepts: indices, within_sentence });
        }
    }
    patterns
}

/// One level of a red flag: its urgency, texts and patterns.
fn build_level(
    check: &mut Checker,
    file: &FileRef<'_>,
    raw: &RawLevel,
    concept_index: &HashMap<String, usize>,
    used: &mut [bool],
) -> RedFlagLevel {
    let urgency = match raw.urgency.get_ref().as_str() {
        "emergency" => Urgency::Emergency,
        "urgent" => Urgency::Urgent,
        "soon" => Urgency::Soon,
        other => {
            check.at(
                file,
                raw.urgency.span().start,
                format!("urgency {other:?} is not one of emergency, urgent, soon"),
            );
            Urgency::Emergency
        }
    };
    let action = check.text(file, "action", &raw.action);
    // A warning that says "get help" must say where: an emergency names an emergency number or
    // A&E; an urgent flag names a way to get help the same day.
    let ways: &[&str] = match urgency {
        Urgency::Emergency => &EMERGENCY_HELP,
        Urgency::Urgent => &SAME_DAY_HELP,
        Urgency::Soon => &[],
    };
    if !ways.is_empty() && !ways.iter().any(|way| action.contains(way)) {
        check.at(
            file,
            raw.action.span().start,
            format!("an {} red flag's action must name a way to get help ({})", urgency.as_str(), ways.join(", ")),
        );
    }
    RedFlagLevel {
        urgency,
        title: check.text(file, "title", &raw.title),
        message: check.text(file, "message", &raw.message),
        action,
        patterns: build_patterns(check, file, raw, concept_index, used),
    }
}

fn build_red_flags(
    check: &mut Checker,
    file: &FileRef<'_>,
    sources: &BTreeMap<String, Source>,
    used_elsewhere: &[String],
) -> (Vec<Concept>, Vec<RedFlag>, Vec<String>) {
    let Some(raw) = check.parse::<RawRedFlagsFile>(file) else {
        return (Vec::new(), Vec::new(), Vec::new());
    };
    let (concepts, concept_index) = build_concepts(check, file, &raw);
    let mut used = vec![false; concepts.len()];
    let mut found: BTreeMap<usize, RedFlag> = BTreeMap::new();
    for flag in &raw.red_flag {
        let id = flag.id.get_ref().clone();
        let Some(position) = RED_FLAG_IDS.iter().position(|known| *known == id) else {
            check.at(
                file,
                flag.id.span().start,
                format!("unknown red flag id `{id}`; the ids are fixed: {}", RED_FLAG_IDS.join(", ")),
            );
            continue;
        };
        if found.contains_key(&position) {
            check.at(file, flag.id.span().start, format!("red flag `{id}` is defined twice"));
            continue;
        }
        let base = build_level(check, file, &flag.base(), &concept_index, &mut used);
        if base.patterns.is_empty() {
            check.at(file, flag.id.span().start, format!("red flag `{id}` has no patterns, so it can never be raised"));
        }
        let escalation = flag.escalation.as_ref().map(|raw| {
            let level = build_level(check, file, raw, &concept_index, &mut used);
            if level.patterns.is_empty() {
                check.at(file, raw.urgency.span().start, format!("the escalation of `{id}` has no patterns"));
            }
            if level.urgency <= base.urgency {
                check.at(
                    file,
                    raw.urgency.span().start,
                    format!("the escalation of `{id}` must be more urgent than its base level"),
                );
            }
            level
        });
        let mut causes = Vec::new();
        for cause in &flag.causes {
            match CAUSE_IDS.iter().position(|known| known == cause.get_ref()) {
                Some(index) => causes.push(index),
                None => check.at(file, cause.span().start, format!("unknown cause id `{}`", cause.get_ref())),
            }
        }
        let (explained_by, supersedes) = explanations(check, file, flag, &concept_index, &mut used);
        let red_flag = RedFlag {
            causes,
            base,
            escalation,
            sources: check.source_list(file, sources, &flag.sources),
            explained_by,
            supersedes,
            id,
        };
        found.insert(position, red_flag);
    }
    for name in used_elsewhere {
        if let Some(&index) = concept_index.get(name) {
            used[index] = true;
        }
    }
    // A concept that a used clause concept combines is used too.
    for index in 0..concepts.len() {
        if used[index] {
            for &part in concepts[index].in_one_clause.iter().flatten() {
                used[part] = true;
            }
        }
    }
    for (index, concept) in concepts.iter().enumerate() {
        if !used[index] {
            let span = raw
                .concepts
                .get(&concept.id)
                .map(|terms| terms.span().start)
                .or_else(|| raw.clause_concepts.get(&concept.id).map(|combinations| combinations.span().start))
                .unwrap_or(0);
            check.at(file, span, format!("concept `{}` is used by no pattern", concept.id));
        }
    }
    for (position, id) in RED_FLAG_IDS.iter().enumerate() {
        if !found.contains_key(&position) {
            check.whole(file.name, format!("missing red flag `{id}`"));
        }
    }
    (concepts, found.into_values().collect(), raw.not_signs)
}

/// A red flag's `explained_by` concepts and the flags it `supersedes`, as indices.
fn explanations(
    check: &mut Checker,
    file: &FileRef<'_>,
    flag: &RawRedFlag,
    concept_index: &HashMap<String, usize>,
    used: &mut [bool],
) -> (Vec<usize>, Vec<usize>) {
    let mut explained_by = Vec::new();
    for name in &flag.explained_by {
        match concept_index.get(name.get_ref()) {
            Some(&index) => {
                used[index] = true;
                explained_by.push(index);
            }
            None => check.at(file, name.span().start, format!("unknown concept `{}`", name.get_ref())),
        }
    }
    let mut supersedes = Vec::new();
    for other in &flag.supersedes {
        match RED_FLAG_IDS.iter().position(|known| known == other.get_ref()) {
            Some(index) if other.get_ref() != flag.id.get_ref() => supersedes.push(index),
            _ => check.at(
                file,
                other.span().start,
                format!("`supersedes` names no other red flag: `{}`", other.get_ref()),
            ),
        }
    }
    (explained_by, supersedes)
}

/// The notices of `notices.toml`: their patterns name concepts of `red_flags.toml`.
fn build_notices(
    check: &mut Checker,
    file: &FileRef<'_>,
    sources: &BTreeMap<String, Source>,
    concepts: &[Concept],
    raw: RawNoticesFile,
) -> Vec<Notice> {
    let mut notices: Vec<Notice> = Vec::new();
    for notice in raw.notice {
        let id = notice.id.get_ref().clone();
        if notices.iter().any(|known| known.id == id) {
            check.at(file, notice.id.span().start, format!("notice `{id}` is defined twice"));
            continue;
        }
        let mut patterns = Vec::new();
        for pattern in &notice.patterns {
            let mut indices = Vec::new();
            for name in pattern.get_ref() {
                match concepts.iter().position(|concept| concept.id == *name.get_ref()) {
                    Some(index) => indices.push(index),
                    None => check.at(
                        file,
                        name.span().start,
                        format!("unknown concept `{}` (concepts live in red_flags.toml)", name.get_ref()),
                    ),
                }
            }
            if indices.is_empty() {
                check.at(file, pattern.span().start, "an empty pattern would match every message");
            } else {
                patterns.push(Pattern { concepts: indices, within_sentence: false });
            }
        }
        if patterns.is_empty() {
            check.at(file, notice.id.span().start, format!("notice `{id}` has no patterns, so it can never be shown"));
        }
        for tag in &notice.hides {
            if !TIP_TAGS.contains(&tag.get_ref().as_str()) {
                check.at(
                    file,
                    tag.span().start,
                    format!("unknown tip tag {:?}; the tags are {}", tag.get_ref(), TIP_TAGS.join(", ")),
                );
            }
        }
        notices.push(Notice {
            title: check.text(file, "title", &notice.title),
            text: check.text(file, "text", &notice.text),
            sources: check.source_list(file, sources, &notice.sources),
            hides: notice.hides.iter().map(|tag| tag.get_ref().clone()).collect(),
            patterns,
            id,
        });
    }
    notices
}
