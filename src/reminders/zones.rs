//! Time-zone autocomplete: typo-tolerant search over the bundled tz database's names.
//!
//! The names are read and normalized once (on first use) into a static index; a query then
//! costs one pass over about 600 short strings. Pure: no I/O beyond the compiled-in database.
//!
//! Ranking, best first: exact name or city; name or city starting with the query; query found
//! inside the name; then close spellings (Damerau-Levenshtein on the city and on the whole name,
//! so "new yrok" finds `America/New_York` and "Europe/Berln" finds `Europe/Berlin`).

use std::sync::LazyLock;

/// At most this many suggestions: Discord's autocomplete limit.
pub const MAX_SUGGESTIONS: usize = 25;

/// Discord's limit on an autocomplete choice's name and value, in characters. Every IANA name is
/// far shorter; names longer than this are left out rather than cut, since a cut name would not
/// parse back.
pub const MAX_NAME_CHARS: usize = 100;

/// The longest zone query searched, in characters: the longest IANA name is 32, so a longer
/// query is cut here before any edit distance is computed (which costs its length times each
/// name's).
pub const MAX_QUERY_CHARS: usize = 64;

/// The regions of geographic IANA names (`Area/Location`). Other names in the database
/// (`Factory`, `EST5EDT`, `Etc/GMT+3`, `US/Eastern`) are legacy aliases or not places, and are
/// refused; `UTC` and `Etc/UTC` are the only exceptions.
const AREAS: [&str; 10] =
    ["Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"];

/// Whether a zone name is one people may choose: a geographic `Area/Location` name, or UTC.
pub fn is_geographic(name: &str) -> bool {
    name == "UTC"
        || name == "Etc/UTC"
        || name.split_once('/').is_some_and(|(area, location)| AREAS.contains(&area) && !location.is_empty())
}

/// At most [`MAX_QUERY_CHARS`] characters of `query`.
pub fn clip_query(query: &str) -> &str {
    match query.char_indices().nth(MAX_QUERY_CHARS) {
        Some((end, _)) => &query[..end],
        None => query,
    }
}

/// Zones offered when the user has typed nothing yet: the most-populated ones, one per region.
const POPULAR: [&str; 16] = [
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Asia/Shanghai",
    "Asia/Singapore",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Africa/Johannesburg",
    "UTC",
];

struct Entry {
    /// The IANA name as the database spells it.
    name: String,
    /// Lowercase, underscores as spaces: "america/new york".
    key: String,
    /// The last path segment of `key`: "new york".
    city: String,
}

static INDEX: LazyLock<Vec<Entry>> = LazyLock::new(|| {
    let mut entries: Vec<Entry> = jiff::tz::db()
        .available()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.chars().count() <= MAX_NAME_CHARS && is_geographic(name))
        .map(|name| {
            let key = normalize(&name);
            let city = key.rsplit('/').next().unwrap_or(&key).to_owned();
            Entry { name, key, city }
        })
        .collect();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    entries
});

fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.trim().chars() {
        let ch = if ch == '_' || ch == '-' { ' ' } else { ch.to_ascii_lowercase() };
        if !(ch == ' ' && (out.is_empty() || out.ends_with(' ') || out.ends_with('/'))) {
            out.push(ch);
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The one zone whose city is exactly `query` ("london" -> `Europe/London`), if exactly one is;
/// ambiguous cities ("indianapolis" has two zones) give `None`, so the user picks.
pub fn by_city(query: &str) -> Option<&'static str> {
    let wanted = normalize(clip_query(query));
    if wanted.is_empty() || wanted.contains('/') {
        return None;
    }
    let mut matches = INDEX.iter().filter(|entry| entry.city == wanted);
    let first = matches.next()?;
    matches.next().is_none().then_some(first.name.as_str())
}

/// Zone names matching what the user has typed so far, best first, at most `limit` (capped at
/// [`MAX_SUGGESTIONS`]). An empty query gives the popular zones.
pub fn suggest(query: &str, limit: usize) -> Vec<&'static str> {
    let limit = limit.min(MAX_SUGGESTIONS);
    let query = normalize(clip_query(query));
    let index: &'static [Entry] = &INDEX;
    if query.is_empty() {
        return POPULAR
            .iter()
            .filter_map(|popular| index.iter().find(|entry| entry.name == *popular))
            .map(|entry| entry.name.as_str())
            .take(limit)
            .collect();
    }
    let allowed = |len: usize| match len {
        0..=3 => 0,
        4..=6 => 1,
        7..=10 => 2,
        _ => 3,
    };
    let query_len = query.chars().count();
    let query_city = query.rsplit('/').next().unwrap_or(&query).to_owned();
    let mut scored: Vec<(u32, usize, &'static str)> = index
        .iter()
        .filter_map(|entry| {
            let rank = if entry.key == query || entry.city == query {
                0
            } else if entry.city.starts_with(&query) || entry.key.starts_with(&query) {
                1
            } else if entry.key.contains(&query) {
                2
            } else {
                let city_distance = strsim::damerau_levenshtein(&entry.city, &query_city);
                let city_prefix = entry
                    .city
                    .get(..query_city.len())
                    .map_or(usize::MAX, |prefix| strsim::damerau_levenshtein(prefix, &query_city));
                let full_distance = strsim::damerau_levenshtein(&entry.key, &query);
                let distance = city_distance.min(city_prefix).min(full_distance);
                if distance == 0 || distance > allowed(query_len.min(entry.key.chars().count())) {
                    return None;
                }
                10 + u32::try_from(distance).unwrap_or(u32::MAX - 10)
            };
            Some((rank, entry.name.len(), entry.name.as_str()))
        })
        .collect();
    scored.sort_unstable();
    scored.into_iter().take(limit).map(|(_, _, name)| name).collect()
}

/// How many zone names the index holds; forces it to be built (useful at start-up).
pub fn zone_count() -> usize {
    INDEX.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_by_city_and_through_typos() {
        assert_eq!(suggest("london", 25).first(), Some(&"Europe/London"));
        assert_eq!(suggest("new yrok", 25).first(), Some(&"America/New_York"));
        assert_eq!(suggest("Europe/Berln", 25).first(), Some(&"Europe/Berlin"));
        assert_eq!(suggest("new_york", 25).first(), Some(&"America/New_York"));
        assert_eq!(suggest("tokio", 25).first(), Some(&"Asia/Tokyo"));
        assert!(suggest("lord", 25).contains(&"Australia/Lord_Howe"));
    }

    #[test]
    fn only_places_and_utc() {
        for name in ["Europe/London", "America/Argentina/Buenos_Aires", "UTC", "Etc/UTC"] {
            assert!(is_geographic(name), "{name}");
        }
        for name in ["Factory", "EST5EDT", "Etc/GMT+3", "US/Eastern", "GB", "Europe/", ""] {
            assert!(!is_geographic(name), "{name}");
        }
        assert!(!suggest("factory", 25).contains(&"Factory"));
        assert_eq!(clip_query(&"é".repeat(9_000)).chars().count(), MAX_QUERY_CHARS);
    }

    #[test]
    fn respects_discord_limits() {
        for query in ["", "a", "e", "america", "zz", "/"] {
            let found = suggest(query, 100);
            assert!(found.len() <= MAX_SUGGESTIONS, "{query}");
            assert!(found.iter().all(|name| name.chars().count() <= MAX_NAME_CHARS));
        }
        assert_eq!(suggest("", 25).first(), Some(&"Europe/London"));
        assert!(zone_count() > 300);
    }

    #[test]
    fn every_suggestion_parses_back() {
        for query in ["", "paris", "kolkata", "sao paulo", "xyzzy"] {
            for name in suggest(query, 25) {
                assert!(super::super::schedule::parse_zone(name).is_ok(), "{name}");
            }
        }
    }
}
