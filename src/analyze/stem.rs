//! A light English stemmer for inflections: plurals, `-ing`, `-ed`, `-ness`, `-ly`.
//!
//! Only inflections are folded ("cramp", "cramps", "cramping", "cramped" share a stem); the
//! catalogue lists derived words ("dehydrated", "dehydration") itself. Both the catalogue terms
//! and the user's words go through this one function, so it only has to be consistent, not
//! linguistically perfect, and it is cheap: no allocation beyond the returned string.

/// The stem of a lowercase word. Words of three letters or fewer are returned unchanged.
pub fn stem(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    stem_into(word, &mut out);
    out
}

/// Writes the stem of `word` into `out` (cleared first), so hot loops can reuse one buffer.
pub fn stem_into(word: &str, out: &mut String) {
    out.clear();
    let mut stem = word;
    if stem.len() <= 3 || !stem.is_ascii() {
        out.push_str(stem);
        return;
    }
    let mut replacement: Option<&str> = None;
    // First the plural, so that "hamstrings" goes on to meet "hamstring" at "hamstr".
    if let Some(base) = stem.strip_suffix("ies").filter(|base| base.len() >= 2) {
        stem = base;
        replacement = Some("y");
    } else if let Some(base) = stem.strip_suffix("ves").filter(|base| base.len() >= 3) {
        // calves, halves, knives: the "f" comes back so "calves" meets "calf".
        stem = base;
        replacement = Some("f");
    } else if stem.ends_with('s') && !stem.ends_with("ss") && !stem.ends_with("us") && !stem.ends_with("is") {
        stem = &stem[..stem.len() - 1];
        if let Some(base) = stem.strip_suffix('e').filter(|base| ends_with_sibilant(base)) {
            // twitches -> twitch, boxes -> box
            stem = base;
        }
    }
    // Then one verb or adjective ending.
    if replacement.is_none() {
        if let Some(base) = stem.strip_suffix("ied").filter(|base| base.len() >= 2) {
            stem = base;
            replacement = Some("y");
        } else if let Some(base) = stem.strip_suffix("ness").filter(|base| base.len() >= 3) {
            stem = base;
        } else if let Some(base) = stem.strip_suffix("ing").filter(|base| base.len() >= 3 && has_vowel(base)) {
            stem = undouble(base);
        } else if let Some(base) = stem.strip_suffix("ed").filter(|base| base.len() >= 3 && has_vowel(base)) {
            stem = undouble(base);
        } else if let Some(base) = stem.strip_suffix("ly").filter(|base| base.len() >= 4) {
            stem = base;
        }
    }
    out.push_str(stem);
    if let Some(tail) = replacement {
        out.push_str(tail);
    }
    // A final silent "e" is dropped so that "tingle", "tingles" and "tingling" meet at "tingl".
    if out.len() > 3 && out.ends_with('e') && !out.ends_with("ee") {
        out.pop();
    }
}

fn has_vowel(text: &str) -> bool {
    text.bytes().any(|b| matches!(b, b'a' | b'e' | b'i' | b'o' | b'u' | b'y'))
}

fn ends_with_sibilant(text: &str) -> bool {
    text.ends_with("ch") || text.ends_with("sh") || text.ends_with('x') || text.ends_with('z') || text.ends_with("ss")
}

/// "stopp" -> "stop", "runn" -> "run", but "swell" and "stiff" keep their double letter.
fn undouble(text: &str) -> &str {
    let bytes = text.as_bytes();
    let n = bytes.len();
    if n >= 3 && bytes[n - 1] == bytes[n - 2] && !matches!(bytes[n - 1], b'l' | b's' | b'z' | b'f' | b'e' | b'o') {
        &text[..n - 1]
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::stem;

    #[track_caller]
    fn same(words: &[&str]) {
        let first = stem(words[0]);
        for word in &words[1..] {
            assert_eq!(stem(word), first, "{word} vs {}", words[0]);
        }
    }

    #[test]
    fn inflections_meet() {
        same(&["cramp", "cramps", "cramping", "cramped"]);
        same(&["twitch", "twitches", "twitching", "twitched"]);
        same(&["calf", "calves"]);
        same(&["tingle", "tingles", "tingling", "tingled"]);
        same(&["injury", "injuries"]);
        same(&["stop", "stopped", "stopping"]);
        same(&["swell", "swelling"]);
        same(&["numb", "numbness"]);
        same(&["diuretic", "diuretics"]);
        same(&["pill", "pills"]);
        same(&["hamstring", "hamstrings"]);
        same(&["feeling", "feelings", "feel"]);
    }

    #[test]
    fn short_and_special_words_are_kept() {
        assert_eq!(stem("is"), "is");
        assert_eq!(stem("bus"), "bus");
        assert_eq!(stem("loss"), "loss");
        assert_eq!(stem("sciatica"), "sciatica");
        assert_eq!(stem("diabetes"), "diabet");
    }
}
