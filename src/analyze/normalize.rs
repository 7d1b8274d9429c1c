//! Normalization: one pass over the text into a token stream that keeps byte offsets.
//!
//! Case is folded, compatibility forms (NFKC) and accents are folded per character, apostrophes
//! inside words are dropped ("don't" -> "dont"), runs of three or more equal letters are squeezed
//! ("sooo" -> "soo", with the single-letter form kept for lookup), and punctuation becomes clause
//! and sentence boundaries that negation scopes stop at. Emoji end a clause too, since chat uses
//! them as punctuation; emoji the lexicon knows ("🦵") become words. Spelling variants are
//! mapped later, at lookup, so that catalogue terms and user text meet in one place.

use std::collections::BTreeMap;
use std::ops::Range;

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// What separates a token from the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Boundary {
    /// Plain space.
    None,
    /// A comma, colon, bracket, dash, slash or emoji: negation scopes stop here.
    Clause,
    /// A full stop, question or exclamation mark, semicolon or line break.
    Sentence,
}

/// One word of the message.
#[derive(Debug, Clone)]
pub struct Token {
    /// Where the word is in the original text (bytes).
    pub span: Range<usize>,
    /// The normalized word, as a range into [`Tokens::buffer`].
    pub norm: Range<usize>,
    /// The separator before this token.
    pub boundary: Boundary,
    /// Sentence number, from 0.
    pub sentence: u32,
    /// Clause number, from 0: it grows at every clause or sentence boundary.
    pub clause: u32,
    /// Phrase-group number, from 0: like `clause`, except that a short list continuation stays
    /// in its group ("went numb, cold and purple"), so signs listed together belong together.
    pub group: u32,
    /// Whether a run of three or more equal letters was squeezed.
    pub elongated: bool,
}

/// A normalized message.
#[derive(Debug, Default)]
pub struct Tokens {
    /// Normalized words, back to back.
    pub buffer: String,
    /// The words in order.
    pub tokens: Vec<Token>,
}

impl Tokens {
    /// The normalized text of token `index`.
    pub fn word(&self, index: usize) -> &str {
        &self.buffer[self.tokens[index].norm.clone()]
    }
}

/// How a character takes part in tokenizing.
enum CharClass {
    Word,
    Apostrophe,
    Space,
    Clause,
    Sentence,
    /// A full stop: a sentence end, unless it sits between two digits ("3.2").
    Period,
}

fn classify(c: char) -> CharClass {
    match c {
        c if c.is_alphanumeric() => CharClass::Word,
        '\'' | '’' | '‘' | '`' | 'ʼ' | '´' => CharClass::Apostrophe,
        '.' => CharClass::Period,
        '!' | '?' | ';' | '\n' | '\r' | '…' | '。' => CharClass::Sentence,
        c if c.is_whitespace() => CharClass::Space,
        '"' | '“' | '”' | '*' | '_' | '#' | '@' | '~' | '<' | '>' | '|' | '^' => CharClass::Space,
        // Commas, colons, brackets, dashes, slashes, plus signs, ampersands, emoji and symbols.
        _ => CharClass::Clause,
    }
}

/// Tokenizer state while scanning one text.
struct Scanner {
    out: Tokens,
    /// The strongest boundary seen since the last token.
    pending: Boundary,
    sentence: u32,
    clause: u32,
    /// Where the current word started: (byte in text, byte in buffer).
    word_start: Option<(usize, usize)>,
    last_char: Option<char>,
    run: usize,
    elongated: bool,
}

impl Scanner {
    /// Ends the current word, if any, at byte `end` of the text.
    fn finish_word(&mut self, end: usize) {
        if let Some((start, norm_start)) = self.word_start.take() {
            if self.out.buffer.len() > norm_start {
                self.push_token(start..end, norm_start, self.elongated);
            }
            self.last_char = None;
            self.run = 0;
            self.elongated = false;
        }
    }

    fn push_token(&mut self, span: Range<usize>, norm_start: usize, elongated: bool) {
        if self.pending == Boundary::Sentence && !self.out.tokens.is_empty() {
            self.sentence += 1;
        }
        if self.pending >= Boundary::Clause && !self.out.tokens.is_empty() {
            self.clause += 1;
        }
        let boundary = if self.out.tokens.is_empty() { Boundary::Sentence } else { self.pending };
        self.out.tokens.push(Token {
            span,
            norm: norm_start..self.out.buffer.len(),
            boundary,
            sentence: self.sentence,
            clause: self.clause,
            group: self.clause,
            elongated,
        });
        self.pending = Boundary::None;
    }
}

/// Splits and normalizes `text`. `emoji` maps emoji the lexicon knows to words.
pub fn tokenize(text: &str, emoji: &BTreeMap<String, String>) -> Tokens {
    let mut scan = Scanner {
        out: Tokens { buffer: String::with_capacity(text.len()), tokens: Vec::with_capacity(text.len() / 5 + 1) },
        pending: Boundary::None,
        sentence: 0,
        clause: 0,
        word_start: None,
        last_char: None,
        run: 0,
        elongated: false,
    };
    let mut chars = text.char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        let next = chars.peek().map(|&(_, next)| next);
        match classify(c) {
            CharClass::Word => {
                if scan.word_start.is_none() {
                    scan.word_start = Some((offset, scan.out.buffer.len()));
                }
                push_folded(c, &mut scan);
            }
            CharClass::Apostrophe => {
                // Inside a word ("don't") it joins; elsewhere it separates like a space.
                if scan.word_start.is_none() || !next.is_some_and(char::is_alphanumeric) {
                    scan.finish_word(offset);
                }
            }
            CharClass::Period => {
                let between_digits = scan.last_char.is_some_and(|prev| prev.is_ascii_digit())
                    && next.is_some_and(|n| n.is_ascii_digit());
                scan.finish_word(offset);
                scan.pending = scan.pending.max(if between_digits { Boundary::Clause } else { Boundary::Sentence });
            }
            CharClass::Space => scan.finish_word(offset),
            CharClass::Clause | CharClass::Sentence => {
                // A hyphen or slash inside a word ("numb-ish", "ankle/calf") separates like a space.
                let inside_word = matches!(c, '-' | '/')
                    && scan.last_char.is_some_and(char::is_alphanumeric)
                    && next.is_some_and(char::is_alphanumeric);
                scan.finish_word(offset);
                if inside_word {
                    continue;
                }
                let word = emoji.get(c.encode_utf8(&mut [0; 4]) as &str);
                // A symbol that stands for a word ("&") joins like that word; an emoji ends a
                // clause, as chat uses them as punctuation.
                let joins = c.is_ascii() && word.is_some();
                if !joins {
                    let kind =
                        if matches!(classify(c), CharClass::Sentence) { Boundary::Sentence } else { Boundary::Clause };
                    scan.pending = scan.pending.max(kind);
                }
                if let Some(word) = word {
                    let norm_start = scan.out.buffer.len();
                    scan.out.buffer.push_str(word);
                    scan.push_token(offset..offset + c.len_utf8(), norm_start, false);
                    if !joins {
                        scan.pending = Boundary::Clause;
                    }
                }
            }
        }
    }
    scan.finish_word(text.len());
    let mut out = scan.out;
    join_listed_clauses(&mut out);
    out
}

/// The most words a closing fragment ("Dark as cola.", "Came on sudden.") may have to join the
/// sentence before it.
const MAX_FRAGMENT_WORDS: usize = 4;

/// How far into a clause its list word ("and", "or") may come for the clause to continue a list.
const LIST_WORD_REACH: usize = 4;

/// Gives a clause that continues a list the group of the clause before it (and a closing
/// fragment the group and sentence of the sentence before it): a clause after a
/// comma (not a full stop) with "and" or "or" among its first [`LIST_WORD_REACH`] words
/// ("numb, cold and purple"), or a single word followed by another comma.
fn join_listed_clauses(tokens: &mut Tokens) {
    let n = tokens.tokens.len();
    let mut start = 0;
    let mut group = 0;
    while start < n {
        let end = (start + 1..n).find(|&i| tokens.tokens[i].boundary >= Boundary::Clause).unwrap_or(n);
        let words = end - start;
        // "cold and purple during my walk": the list word comes early in a listed clause.
        let joins = (start..end.min(start + LIST_WORD_REACH)).any(|i| matches!(tokens.word(i), "and" | "or" | "nor"));
        let next_is_comma = end < n && tokens.tokens[end].boundary == Boundary::Clause;
        // A fragment of a few words after a full stop ("Went for a pee. Dark as cola.") belongs
        // with the sentence before it.
        let fragment = start > 0
            && tokens.tokens[start].boundary == Boundary::Sentence
            && (end == n || tokens.tokens[end].boundary == Boundary::Sentence)
            && words <= MAX_FRAGMENT_WORDS;
        let continues = start > 0
            && ((tokens.tokens[start].boundary == Boundary::Clause && (joins || (words == 1 && next_is_comma)))
                || fragment);
        if start > 0 && !continues {
            group += 1;
        }
        let previous_sentence = if fragment { Some(tokens.tokens[start - 1].sentence) } else { None };
        for token in &mut tokens.tokens[start..end] {
            token.group = group;
            if let Some(sentence) = previous_sentence {
                token.sentence = sentence;
            }
        }
        start = end;
    }
}

/// Appends `c` lowercased and folded (NFKC, accents removed), squeezing letter runs to two.
fn push_folded(c: char, scan: &mut Scanner) {
    let mut push = |folded: char| {
        if scan.last_char == Some(folded) {
            scan.run += 1;
            if scan.run >= 2 && folded.is_alphabetic() {
                scan.elongated = true;
                return;
            }
        } else {
            scan.run = 0;
        }
        scan.last_char = Some(folded);
        scan.out.buffer.push(folded);
    };
    if c.is_ascii() {
        push(c.to_ascii_lowercase());
    } else {
        decompose_compatible(c, |part| {
            if !is_combining_mark(part) {
                for lower in part.to_lowercase() {
                    push(lower);
                }
            }
        });
    }
}

/// The form of an elongated word with every double letter made single ("feeel" -> "feel" is
/// already covered by the squeeze; this gives "soo" -> "so", "nooo" -> "no").
pub fn single_letters(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut last = None;
    for c in word.chars() {
        if last != Some(c) {
            out.push(c);
        }
        last = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let tokens = tokenize(text, &BTreeMap::new());
        (0..tokens.tokens.len()).map(|i| tokens.word(i).to_owned()).collect()
    }

    #[test]
    fn folds_case_accents_apostrophes_and_repeats() {
        assert_eq!(words("I DON'T have Crampsss"), ["i", "dont", "have", "crampss"]);
        assert_eq!(words("café naïve ＣＡＬＦ"), ["cafe", "naive", "calf"]);
        assert_eq!(words("it’s sooooo bad"), ["its", "soo", "bad"]);
        assert_eq!(single_letters("soo"), "so");
    }

    #[test]
    fn keeps_offsets_into_the_original() {
        let text = "Mé calf, twitchy!";
        let tokens = tokenize(text, &BTreeMap::new());
        let spans: Vec<&str> = tokens.tokens.iter().map(|t| &text[t.span.clone()]).collect();
        assert_eq!(spans, ["Mé", "calf", "twitchy"]);
    }

    #[test]
    fn marks_clause_and_sentence_boundaries() {
        let tokens = tokenize("no meds, calves cramp. level 3.2 ok", &BTreeMap::new());
        let boundaries: Vec<Boundary> = tokens.tokens.iter().map(|t| t.boundary).collect();
        assert_eq!(
            boundaries,
            [
                Boundary::Sentence,
                Boundary::None,
                Boundary::Clause,
                Boundary::None,
                Boundary::Sentence,
                Boundary::None,
                Boundary::Clause,
                Boundary::None
            ]
        );
        assert_eq!(tokens.tokens[4].sentence, 1);
    }

    #[test]
    fn emoji_end_clauses_and_known_ones_become_words() {
        let emoji = BTreeMap::from([("🦵".to_owned(), "leg".to_owned())]);
        let tokens = tokenize("ouch 😭 my 🦵", &emoji);
        let words: Vec<&str> = (0..tokens.tokens.len()).map(|i| tokens.word(i)).collect();
        assert_eq!(words, ["ouch", "my", "leg"]);
        assert_eq!(tokens.tokens[1].boundary, Boundary::Clause);
    }
}
