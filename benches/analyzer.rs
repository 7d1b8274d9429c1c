//! Analyzer benchmarks: a typical message, Discord's longest, growth with length, catalogue load
//! and index build, batch mode end to end (JSON in, JSON out), and inputs built to be slow
//! (long letter runs, many long unknown words, near-misses, sentences and commas) beside
//! ordinary text of the same size.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use crampbot::analyze::Analyzer;
use crampbot::analyze::followups::{self, Answer, Answers};
use crampbot::bot::Bot;
use crampbot::cli::{Format, ask_batch};
use crampbot::knowledge::Catalogue;

/// Sentences in the style of the bot's users, mixed so that a long message is not one sentence
/// repeated: typos, negations, phrases, emoji.
const SENTENCES: [&str; 8] = [
    "my calves twitch on long walks and I just started water pills. ",
    "no swelling or redness, but the hamstring cramps after about a mile 😭 ",
    "so dehidrated after the weekend, calfs been twitching all day at work. ",
    "doc thinks its sciatica, pins and needles down the back of my leg. ",
    "I drink plenty of water and my shoes are proper running shoes tbh. ",
    "not on any meds, never injured my legs, walk the dog twice a day. ",
    "flat feet and old trainers, calves tight and twitchy by the evening. ",
    "had a stroke 2 yrs ago and the affected leg spasms when I walk. ",
];

/// A message of about `len` bytes.
fn message(len: usize) -> String {
    let mut text = String::with_capacity(len + 80);
    let mut i = 0;
    while text.len() < len {
        text.push_str(SENTENCES[i % SENTENCES.len()]);
        i += 1;
    }
    let mut end = len.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

fn analyzer() -> Analyzer {
    Analyzer::new(Arc::new(Catalogue::embedded().expect("the shipped catalogue loads")))
}

fn typical(c: &mut Criterion) {
    let analyzer = analyzer();
    let text = message(200);
    c.bench_function("analyze/typical_200_chars", |b| b.iter(|| analyzer.analyze(black_box(&text))));
    // The analysis with follow-up selection, as every reply does it.
    let catalogue = Arc::clone(analyzer.catalogue());
    let none = Answers::new();
    c.bench_function("analyze/typical_200_chars_with_followups", |b| {
        b.iter(|| {
            let analysis = analyzer.analyze(black_box(&text));
            followups::select(&catalogue, &analysis, &none)
        });
    });
    // A thin message and one answer: the text plus the answer's sentence, then selection.
    let mut answered = Answers::new();
    answered.insert(catalogue.followup_index("calf_warm").expect("shipped"), Answer::Yes);
    c.bench_function("analyze/thin_with_answer_and_followups", |b| {
        b.iter(|| {
            let analysis = analyzer.analyze_with(black_box("my left calf is swollen"), &answered);
            followups::select(&catalogue, &analysis, &answered)
        });
    });
    let text = message(2_000);
    c.bench_function("analyze/discord_max_2000_chars", |b| b.iter(|| analyzer.analyze(black_box(&text))));
}

fn growth(c: &mut Criterion) {
    let analyzer = analyzer();
    let mut group = c.benchmark_group("analyze/by_length");
    for len in [100, 1_000, 10_000, 100_000] {
        let text = message(len);
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::from_parameter(len), &text, |b, text| b.iter(|| analyzer.analyze(text)));
    }
    group.finish();
}

fn load(c: &mut Criterion) {
    c.bench_function("catalogue/load_and_index", |b| {
        b.iter(|| Analyzer::new(Arc::new(Catalogue::embedded().expect("loads"))));
    });
}

fn batch(c: &mut Criterion) {
    let bot = Bot::new(Catalogue::embedded().expect("loads"));
    let lines: usize = 1_000;
    let mut input = String::new();
    for n in 0..lines {
        let text = SENTENCES[n % SENTENCES.len()].trim();
        input.push_str(&serde_json::json!({ "id": n, "text": text }).to_string());
        input.push('\n');
    }
    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Elements(lines as u64));
    group.bench_function("json_lines_1000", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(lines * 600);
            let failures =
                ask_batch(&bot, Format::Json, input.as_bytes(), &mut out, &mut std::io::sink()).expect("in memory");
            assert_eq!(failures, 0);
            out
        });
    });
    group.finish();
}

/// Inputs built to be slow, each exactly 10,000 bytes (the limit), beside ordinary text of the
/// same size: the per-byte cost of each should stay within a small factor of the ordinary one.
fn adversarial_inputs() -> Vec<(&'static str, String)> {
    let exact = |text: String| {
        let mut text = text;
        let mut end = text.len().min(10_000);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text
    };
    // A simple deterministic generator, so that every run measures the same words.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut letter = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        char::from(b'a' + u8::try_from(state % 26).expect("below 26"))
    };
    let mut random_words = String::new();
    while random_words.len() < 10_000 {
        let len = 8 + random_words.len() % 23;
        random_words.extend((0..len).map(|_| letter()));
        random_words.push(' ');
    }
    vec![
        ("ordinary", message(10_000)),
        ("one_long_word_ab", "ab".repeat(5_000)),
        ("one_long_letter_run", "a".repeat(10_000)),
        ("many_long_unknown_words", exact(random_words)),
        ("repeated_near_misses", exact("dehidratedd twitchinng hamstrng cramppss ".repeat(300))),
        ("many_sentences", exact("no. ".repeat(2_500))),
        ("many_commas", exact("calf, ".repeat(1_700))),
        ("negations_everywhere", exact("not no never without denies ".repeat(400))),
        ("phrase_prefixes", exact("down the back of my down the back of ".repeat(300))),
        ("combining_marks", exact("e\u{301}\u{302}\u{303}".repeat(1_500))),
        ("emoji", exact("😭🦵💧".repeat(900))),
    ]
}

fn adversarial(c: &mut Criterion) {
    let analyzer = analyzer();
    let mut group = c.benchmark_group("analyze/adversarial_10000_bytes");
    for (name, text) in adversarial_inputs() {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), &text, |b, text| b.iter(|| analyzer.analyze(text)));
    }
    group.finish();
    // How the worst case grows: one long word of each length.
    let mut group = c.benchmark_group("analyze/long_word_by_length");
    for len in [100, 1_000, 10_000] {
        let text = "ab".repeat(len / 2);
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::from_parameter(len), &text, |b, text| b.iter(|| analyzer.analyze(text)));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = typical, growth, load, batch, adversarial
}
criterion_main!(benches);
