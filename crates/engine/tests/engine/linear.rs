//! Engine tests: linear time. Every public scanning entry point (PII and secret detection with its
//! folded view, the threat scanner with its decoders and normalisers, the placeholder restorers,
//! the SSE framer and each streaming restorer, the request guard per API and framing, the reply
//! scans, body decoding) is fed pathological inputs of growing size, and the time per byte at 8N
//! must stay within [`MAX_RATIO`] of the time per byte at N.
//!
//! A ratio, not a wall-clock limit: it holds on a slow or busy machine and in the unoptimised
//! test profile. N is chosen per case so the run at N takes a few milliseconds (noise stays
//! small against it), times are the best of several runs, and a ratio over the limit is measured
//! once more before it fails the test. A quadratic path shows a ratio near 8; linear ones stay
//! near 1. The ratios are printed (`cargo test --test engine linear -- --nocapture` shows them
//! with the test's own output; they also go straight to stderr).
//!
//! Provenance: every input is built here from the shapes the issue names (repeated headers and
//! prefixes, separators, nested encodings, runs of each byte class, unclosed quotes and tags,
//! deep JSON); the one real-world case is the issue's: 5,000 `-----BEGIN PRIVATE KEY-----`
//! headers took 3.2 s to detect, 10,000 took 12.3 s.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;

use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::encoding::{ContentEncoding, StreamDecoder};
use prompt_guard_engine::exchange::{guard_reply, guard_request_as, BodyKind};
use prompt_guard_engine::memo::MemoScope;
use prompt_guard_engine::placeholder::PlaceholderGrammar;
use prompt_guard_engine::protocol::Api;
use prompt_guard_engine::reply::scan_all;
use prompt_guard_engine::restore::{restore_text, Escape, RestoreCounts, RestoreSpec, StreamingTextRestorer};
use prompt_guard_engine::sse::{SseFramer, SseRestorer, StreamProtocol};
use prompt_guard_engine::threat::decode::decoded_segments;
use prompt_guard_engine::threat::normalise::normalise;
use prompt_guard_engine::threat::{check_hygiene, Source};
use prompt_guard_engine::vault::Vault;

/// Largest accepted time per byte at 8N over time per byte at N.
const MAX_RATIO: f64 = 2.5;
/// Smallest N, in bytes: a quadratic term must have room to show.
const MIN_N: usize = 4 << 10;
/// Largest N: the 8N run stays under a few MiB whatever the speed.
const MAX_N: usize = 128 << 10;
/// The run at N should take at least this long.
const TARGET: Duration = Duration::from_millis(2);

// ---------------------------------------------------------------------------------------------
// Inputs

/// `unit` repeated to at least `n` bytes.
fn rep(unit: &str, n: usize) -> String {
    unit.repeat(n.div_ceil(unit.len()))
}

/// `layer` applied to `seed` until the result has at least `n` bytes.
fn nest(seed: &str, n: usize, layer: impl Fn(&str) -> String) -> String {
    let mut s = seed.to_owned();
    while s.len() < n {
        s = layer(&s);
    }
    s
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn percent(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

fn u_escape(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii() { format!("\\u{:04x}", c as u32) } else { c.to_string() }).collect()
}

type Make = fn(usize) -> String;

/// The pathological texts, by name. Each builds a text of about `n` bytes.
const INPUTS: &[(&str, Make)] = &[
    // The issue's case and its relatives.
    ("pem-header", |n| rep("-----BEGIN PRIVATE KEY-----\n", n)),
    ("pem-header-inline", |n| rep("-----BEGIN PRIVATE KEY-----", n)),
    ("pem-begin-end", |n| rep("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n", n)),
    ("pem-encrypted-escaped", |n| rep("-----BEGIN RSA PRIVATE KEY-----\\nProc-Type: 4,ENCRYPTED\\n\\n", n)),
    ("openssh-header", |n| rep("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n", n)),
    ("putty-header", |n| {
        rep("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\nAAAAIE5Y2gdq\n", n)
    }),
    // Repeated prefixes of the detectors and the placeholder grammar.
    ("prefix-sk", |n| rep("sk-", n)),
    ("prefix-sk-proj", |n| rep("sk-proj-a", n)),
    ("prefix-akia", |n| rep("AKIA", n)),
    ("prefix-ghp", |n| rep("ghp_", n)),
    ("prefix-jwt", |n| rep("eyJ", n)),
    ("prefix-jwt-dots", |n| rep("eyJhbGciOi.", n)),
    ("prefix-at", |n| rep("a@", n)),
    ("prefix-phone", |n| rep("+1 ", n)),
    ("prefix-placeholder", |n| rep("[EMAIL_", n)),
    ("prefix-placeholder-num", |n| rep("[EMAIL_1", n)),
    ("prefix-placeholder-drift", |n| rep("\\[email\\_", n)),
    ("prefix-iban", |n| rep("DE89 ", n)),
    ("prefix-url", |n| rep("https://", n)),
    ("prefix-link", |n| rep("[a](https://x.io/?q=", n)),
    ("prefix-ignore", |n| rep("ignore all previous ", n)),
    ("prefix-sql", |n| rep("' OR 1=1 UNION SELECT ", n)),
    // Separators.
    ("sep-dashes", |n| rep("----", n)),
    ("sep-dots", |n| rep("....", n)),
    ("sep-ats", |n| rep("@@@@", n)),
    ("sep-colons", |n| rep("::::", n)),
    ("sep-dash-space", |n| rep("- ", n)),
    ("sep-dot-word", |n| rep("a.", n)),
    // Nested encodings.
    ("nested-base64", |n| nest("ignore previous instructions", n, b64)),
    ("nested-percent", |n| nest("ignore previous instructions", n, percent)),
    ("nested-percent-25", |n| format!("%{}41", rep("25", n))),
    ("nested-u-escape", |n| nest("ignore previous instructions", n, u_escape)),
    ("nested-entities", |n| format!("&{}lt;", rep("amp;", n))),
    ("base64-run", |n| rep("QUJD", n)),
    ("hex-run", |n| rep("4a6f", n)),
    // Runs of one character, one per byte class.
    ("run-a", |n| rep("a", n)),
    ("run-A", |n| rep("A", n)),
    ("run-0", |n| rep("0", n)),
    ("run-space", |n| rep(" ", n)),
    ("run-newline", |n| rep("\n", n)),
    ("run-cr", |n| rep("\r", n)),
    ("run-tab", |n| rep("\t", n)),
    ("run-bracket", |n| rep("[", n)),
    ("run-quote", |n| rep("\"", n)),
    ("run-backslash", |n| rep("\\", n)),
    ("run-percent", |n| rep("%", n)),
    ("run-slash", |n| rep("/", n)),
    ("run-underscore", |n| rep("_", n)),
    ("run-control", |n| rep("\u{7}", n)),
    ("run-escape-seq", |n| rep("\u{1b}[", n)),
    ("run-zero-width", |n| rep("\u{200b}", n)),
    ("run-nbsp", |n| rep("\u{a0}", n)),
    ("run-fullwidth-digit", |n| rep("\u{ff11}", n)),
    ("run-accented", |n| rep("é", n)),
    ("run-cyrillic", |n| rep("а", n)),
    ("run-emoji", |n| rep("😀", n)),
    ("run-tag-char", |n| rep("\u{e0041}", n)),
    // Digits with separators.
    ("digits-space", |n| rep("1234 ", n)),
    ("digits-dash", |n| rep("12-", n)),
    ("digits-dot", |n| rep("12.34.", n)),
    ("digits-card", |n| rep("4111 1111 1111 1111 ", n)),
    ("digits-phone", |n| rep("+49 151 ", n)),
    ("digits-spaced", |n| rep("1 ", n)),
    ("digits-fullwidth-spaced", |n| rep("\u{ff14}\u{3000}", n)),
    ("digits-spelled", |n| rep("one two three ", n)),
    // Unclosed quotes, brackets and tags.
    ("unclosed-quote", |n| rep("'a ", n)),
    ("unclosed-dquote", |n| rep("\"a ", n)),
    ("unclosed-tag", |n| rep("<script>", n)),
    ("unclosed-attr", |n| rep("<a href=\"", n)),
    ("unclosed-comment", |n| rep("<!--", n)),
    ("unclosed-paren", |n| rep("(", n)),
    ("unclosed-brace", |n| rep("{{", n)),
    ("unclosed-code", |n| rep("```", n)),
    ("unclosed-chatml", |n| rep("<|im_start|>", n)),
    // JSON nested deep (as text; the guard also gets it as a body).
    ("deep-array", |n| rep("[", n)),
    ("deep-object", |n| rep("{\"a\":", n)),
];

/// The inputs the costlier entry points (the whole request guard, the protocol streams, the reply
/// guard, body decoding) get: one or two of each family. Their parts (detection, threat scanning,
/// restoring, framing) get every input on their own.
const CORE: &[&str] = &[
    "pem-header",
    "pem-begin-end",
    "prefix-sk",
    "prefix-akia",
    "prefix-jwt-dots",
    "prefix-at",
    "prefix-phone",
    "prefix-placeholder",
    "prefix-placeholder-drift",
    "prefix-link",
    "sep-dots",
    "sep-colons",
    "nested-base64",
    "nested-percent",
    "nested-u-escape",
    "run-a",
    "run-space",
    "run-newline",
    "run-backslash",
    "run-quote",
    "run-zero-width",
    "run-emoji",
    "digits-card",
    "digits-phone",
    "digits-spaced",
    "unclosed-quote",
    "unclosed-tag",
    "unclosed-brace",
    "deep-array",
    "deep-object",
];

fn core_inputs() -> Vec<(&'static str, Make)> {
    let found: Vec<(&str, Make)> = INPUTS.iter().filter(|(name, _)| CORE.contains(name)).copied().collect();
    assert_eq!(found.len(), CORE.len(), "unknown input in CORE");
    found
}

// ---------------------------------------------------------------------------------------------
// Entry points

fn config() -> &'static FilterConfig {
    static CFG: OnceLock<FilterConfig> = OnceLock::new();
    // Defaults, with the body limits raised so the largest inputs are read, not refused.
    CFG.get_or_init(|| {
        FilterConfig::from_json(br#"{"max_body_bytes": 67108864, "max_response_bytes": 67108864}"#).unwrap()
    })
}

fn spec() -> RestoreSpec {
    config().restore.clone()
}

fn vault() -> Vault {
    let g = PlaceholderGrammar::default();
    let mut v = Vault::with_capacity(16);
    v.placeholder_for(&g, "EMAIL", "ann@example.com").unwrap();
    v.placeholder_for(&g, "PHONE", "+49 151 1234567").unwrap();
    v.placeholder_for(&g, "SECRET", "p\"w\\d").unwrap();
    v
}

/// `text` cut into pieces of about `size` bytes, on character boundaries.
fn pieces(text: &str, size: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let mut end = (at + size).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push(&text[at..end]);
        at = end;
    }
    out
}

fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// `text` as the event stream of `protocol`, in deltas of about 200 bytes.
fn stream_of(protocol: StreamProtocol, text: &str) -> Vec<u8> {
    let mut out = String::new();
    let ps = pieces(text, 200);
    match protocol {
        StreamProtocol::OpenAiChat | StreamProtocol::Generic | StreamProtocol::OpenAiCompletions => {
            for p in ps {
                out.push_str(&format!(
                    "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{}}}}}]}}\n\n",
                    json_str(p)
                ));
            }
            out.push_str("data: [DONE]\n\n");
        }
        StreamProtocol::AnthropicMessages => {
            out.push_str("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
            for p in ps {
                out.push_str(&format!(
                    "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":{}}}}}\n\n",
                    json_str(p)
                ));
            }
            out.push_str("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
        }
        StreamProtocol::OpenAiResponses => {
            for p in ps {
                out.push_str(&format!(
                    "event: response.output_text.delta\ndata: {{\"type\":\"response.output_text.delta\",\"item_id\":\"m\",\"output_index\":0,\"content_index\":0,\"delta\":{}}}\n\n",
                    json_str(p)
                ));
            }
            out.push_str("event: response.output_text.done\ndata: {\"type\":\"response.output_text.done\",\"item_id\":\"m\",\"output_index\":0,\"content_index\":0}\n\n");
        }
    }
    out.into_bytes()
}

/// Restore a stream fed in 1,000-byte network chunks.
fn restore_stream(protocol: StreamProtocol, body: &[u8]) {
    let (vault, spec) = (vault(), spec());
    let mut r = SseRestorer::new(protocol);
    let mut out = Vec::with_capacity(body.len());
    for chunk in body.chunks(1000) {
        r.push(chunk, &vault, &spec, &mut out);
        let _ = r.take_text();
    }
    r.finish(&vault, &spec, &mut out);
    std::hint::black_box(out);
}

/// Guard one request; whether it goes on or is refused does not matter here.
fn guard(api: Api, kind: BodyKind<'_>, body: &[u8]) {
    let mut vault = Vault::with_capacity(config().max_entities);
    let _ = guard_request_as(config(), api, body, kind, &mut vault, MemoScope::NONE);
}

const MULTIPART: &str = "multipart/form-data; boundary=B0undary";

/// An entry point: what it runs on a prepared input. `prepare` is not timed.
struct Entry {
    name: &'static str,
    prepare: fn(&str) -> Vec<u8>,
    run: fn(&[u8]),
}

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap()
}

fn as_is(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

const ENTRIES: &[Entry] = &[
    Entry {
        name: "detect",
        prepare: as_is,
        run: |b| {
            let mut found = Vec::new();
            config().detector.detect(text(b), &mut found);
        },
    },
    Entry { name: "threat-user", prepare: as_is, run: |b| drop(config().threats.scanner.scan(text(b), Source::User)) },
    Entry { name: "threat-tool", prepare: as_is, run: |b| drop(config().threats.scanner.scan(text(b), Source::Tool)) },
    Entry {
        name: "decode+normalise+hygiene",
        prepare: as_is,
        run: |b| {
            let t = text(b);
            drop(decoded_segments(t));
            drop(normalise(t));
            let _ = check_hygiene(t, &config().threats.hygiene);
        },
    },
    Entry {
        name: "restore-buffered",
        prepare: as_is,
        run: |b| {
            let (vault, spec) = (vault(), spec());
            for escape in [Escape::None, Escape::JsonString] {
                drop(restore_text(text(b), &vault, &spec, escape, &mut RestoreCounts::default()));
            }
        },
    },
    Entry {
        name: "restore-streamed",
        prepare: as_is,
        run: |b| {
            let (vault, spec) = (vault(), spec());
            let mut r = StreamingTextRestorer::new(Escape::JsonString);
            let (mut out, mut counts) = (String::new(), RestoreCounts::default());
            for p in pieces(text(b), 61) {
                r.push(p, &vault, &spec, &mut counts, &mut out);
            }
            r.finish(&vault, &spec, &mut counts, &mut out);
        },
    },
    Entry {
        name: "sse-framer",
        prepare: as_is,
        run: |b| {
            let mut f = SseFramer::default();
            let mut n = 0usize;
            for chunk in b.chunks(1000) {
                f.push(chunk, |_| n += 1);
            }
            f.finish(|_| n += 1);
        },
    },
    Entry { name: "sse-generic-raw", prepare: as_is, run: |b| restore_stream(StreamProtocol::Generic, b) },
    Entry {
        name: "sse-openai-chat",
        prepare: |s| stream_of(StreamProtocol::OpenAiChat, s),
        run: |b| restore_stream(StreamProtocol::OpenAiChat, b),
    },
    Entry {
        name: "sse-openai-responses",
        prepare: |s| stream_of(StreamProtocol::OpenAiResponses, s),
        run: |b| restore_stream(StreamProtocol::OpenAiResponses, b),
    },
    Entry {
        name: "sse-anthropic",
        prepare: |s| stream_of(StreamProtocol::AnthropicMessages, s),
        run: |b| restore_stream(StreamProtocol::AnthropicMessages, b),
    },
    Entry {
        name: "sse-generic",
        prepare: |s| stream_of(StreamProtocol::Generic, s),
        run: |b| restore_stream(StreamProtocol::Generic, b),
    },
    Entry {
        name: "guard-openai-chat",
        prepare: |s| {
            format!("{{\"model\":\"m\",\"messages\":[{{\"role\":\"user\",\"content\":{}}}]}}", json_str(s)).into_bytes()
        },
        run: |b| guard(Api::OpenAiChat, BodyKind::Json, b),
    },
    Entry {
        name: "guard-openai-responses",
        prepare: |s| {
            format!("{{\"model\":\"m\",\"input\":[{{\"role\":\"user\",\"content\":{}}}]}}", json_str(s)).into_bytes()
        },
        run: |b| guard(Api::OpenAiResponses, BodyKind::Json, b),
    },
    Entry {
        name: "guard-anthropic",
        prepare: |s| {
            format!("{{\"model\":\"m\",\"max_tokens\":9,\"messages\":[{{\"role\":\"user\",\"content\":[{{\"type\":\"text\",\"text\":{}}}]}}]}}", json_str(s))
                .into_bytes()
        },
        run: |b| guard(Api::AnthropicMessages, BodyKind::Json, b),
    },
    Entry {
        name: "guard-tool-output",
        prepare: |s| {
            format!(
                "{{\"model\":\"m\",\"messages\":[{{\"role\":\"tool\",\"tool_call_id\":\"c\",\"content\":{}}}]}}",
                json_str(s)
            )
            .into_bytes()
        },
        run: |b| guard(Api::OpenAiChat, BodyKind::Json, b),
    },
    Entry { name: "guard-json-raw", prepare: as_is, run: |b| guard(Api::Generic, BodyKind::Json, b) },
    Entry {
        name: "guard-text",
        prepare: as_is,
        run: |b| {
            guard(Api::Generic, BodyKind::Text, b);
        },
    },
    Entry {
        name: "guard-form",
        prepare: |s| format!("a={}&b=1", s.replace('&', "%26")).into_bytes(),
        run: |b| guard(Api::Generic, BodyKind::Form, b),
    },
    Entry {
        name: "guard-multipart",
        prepare: |s| {
            format!("--B0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n{s}\r\n--B0undary--\r\n")
                .into_bytes()
        },
        run: |b| guard(Api::OpenAiFiles, BodyKind::Multipart { content_type: MULTIPART }, b),
    },
    Entry {
        name: "reply-scans",
        prepare: as_is,
        run: |b| drop(scan_all(config(), &Vault::with_capacity(0), text(b), &mut Vec::new())),
    },
    Entry {
        name: "guard-reply",
        prepare: |s| {
            format!(
                "{{\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":{}}}}}]}}",
                json_str(s)
            )
            .into_bytes()
        },
        run: |b| drop(guard_reply(config(), b, &vault())),
    },
    Entry {
        name: "gzip-decode",
        prepare: |s| ContentEncoding::Gzip.encode(s.as_bytes().to_vec()),
        run: |b| {
            drop(ContentEncoding::Gzip.decode(b, 64 << 20));
            let mut d = StreamDecoder::new(ContentEncoding::Gzip);
            let mut out = Vec::new();
            for chunk in b.chunks(1000) {
                let _ = d.push(chunk, &mut out);
            }
        },
    },
];

// ---------------------------------------------------------------------------------------------
// Measuring

/// CPU time of this thread so far, so that time the thread spent waiting for a core on a busy
/// machine is not counted (Linux: `clock_gettime(CLOCK_THREAD_CPUTIME_ID)` from the C library std
/// already links); elsewhere `None`, and wall time is used.
#[cfg(target_os = "linux")]
fn thread_clock() -> Option<Duration> {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec (64-bit `time_t` and `long` on the 64-bit
    // Linux targets this runs on); the call writes only into it.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.sec as u64, ts.nsec as u32))
}

#[cfg(not(target_os = "linux"))]
fn thread_clock() -> Option<Duration> {
    None
}

/// Time one call of `run` takes: this thread's CPU time where the platform gives it, else wall
/// time. The other linearity tests of this binary measure with it too.
pub(crate) fn time_of(run: impl FnOnce()) -> Duration {
    match thread_clock() {
        Some(start) => {
            run();
            thread_clock().map_or(Duration::ZERO, |end| end.saturating_sub(start))
        }
        None => {
            let t = Instant::now();
            run();
            t.elapsed()
        }
    }
}

fn best_of(run: fn(&[u8]), input: &[u8], runs: usize) -> Duration {
    (0..runs)
        .map(|_| match thread_clock() {
            Some(start) => {
                run(std::hint::black_box(input));
                thread_clock().map_or(Duration::ZERO, |end| end.saturating_sub(start))
            }
            None => {
                let t = Instant::now();
                run(std::hint::black_box(input));
                t.elapsed()
            }
        })
        .min()
        .unwrap()
}

struct Measured {
    n: usize,
    small: Duration,
    big: Duration,
    ratio: f64,
}

/// Time per byte at 8N over time per byte at N, with N grown until the run at N takes [`TARGET`].
fn measure(entry: &Entry, make: Make) -> Measured {
    let mut n = MIN_N;
    let mut input = (entry.prepare)(&make(n));
    while n < MAX_N && best_of(entry.run, &input, 2) < TARGET {
        n *= 2;
        input = (entry.prepare)(&make(n));
    }
    let big_input = (entry.prepare)(&make(8 * n));
    let per_byte = |d: Duration, len: usize| d.as_secs_f64() / len as f64;
    let once = || {
        let small = best_of(entry.run, &input, 3);
        // The big run is the expensive one: stop at the first that is within the limit.
        let mut big = Duration::MAX;
        let mut ratio = f64::MAX;
        for _ in 0..3 {
            big = big.min(best_of(entry.run, &big_input, 1));
            ratio = per_byte(big, big_input.len()) / per_byte(small, input.len()).max(1e-12);
            if ratio <= MAX_RATIO {
                break;
            }
        }
        (small, big, ratio)
    };
    let (mut small, mut big, mut ratio) = once();
    if ratio > MAX_RATIO {
        // Measure once more before calling it non-linear.
        let again = once();
        if again.2 < ratio {
            (small, big, ratio) = again;
        }
    }
    Measured { n: input.len(), small, big, ratio }
}

/// Run every input through the entries, print the ratios, fail on any over the limit.
fn check(entries: &[&Entry], inputs: &[(&str, Make)]) {
    let mut failures = Vec::new();
    let mut report = String::new();
    for entry in entries {
        let mut worst = (0.0f64, "");
        for (name, make) in inputs {
            let m = measure(entry, *make);
            if std::env::var_os("LINEAR_DETAIL").is_some() {
                let _ = writeln!(
                    std::io::stderr(),
                    "linear: {:<26} {name:<26} n {:>8} {:>12?} 8n {:>12?} ratio {:.2}",
                    entry.name,
                    m.n,
                    m.small,
                    m.big,
                    m.ratio
                );
            }
            if m.ratio > worst.0 {
                worst = (m.ratio, name);
            }
            if m.ratio > MAX_RATIO {
                failures.push(format!(
                    "{} on {name}: time per byte x{:.2} from {} to {} bytes ({:?} -> {:?})",
                    entry.name,
                    m.ratio,
                    m.n,
                    8 * m.n,
                    m.small,
                    m.big
                ));
            }
        }
        report.push_str(&format!("linear: {:<26} worst ratio {:.2} ({})\n", entry.name, worst.0, worst.1));
    }
    // Straight to stderr: shown by `make test` too, not only under --nocapture.
    let _ = std::io::stderr().write_all(report.as_bytes());
    println!("{report}");
    assert!(failures.is_empty(), "non-linear (limit x{MAX_RATIO}):\n{}", failures.join("\n"));
}

fn entries(names: &[&str]) -> Vec<&'static Entry> {
    let found: Vec<&Entry> = ENTRIES.iter().filter(|e| names.contains(&e.name)).collect();
    assert_eq!(found.len(), names.len(), "unknown entry in {names:?}");
    found
}

#[test]
fn detection_is_linear() {
    check(&entries(&["detect"]), INPUTS);
}

#[test]
fn threat_scanning_is_linear() {
    check(&entries(&["threat-user", "threat-tool", "decode+normalise+hygiene"]), INPUTS);
}

#[test]
fn restoring_and_streaming_are_linear() {
    check(&entries(&["restore-buffered", "restore-streamed", "sse-framer", "sse-generic-raw"]), INPUTS);
    check(&entries(&["sse-openai-chat", "sse-openai-responses", "sse-anthropic", "sse-generic"]), &core_inputs());
}

#[test]
fn request_guard_is_linear() {
    check(
        &entries(&[
            "guard-openai-chat",
            "guard-openai-responses",
            "guard-anthropic",
            "guard-tool-output",
            "guard-json-raw",
            "guard-text",
            "guard-form",
            "guard-multipart",
        ]),
        &core_inputs(),
    );
}

#[test]
fn reply_scans_and_decoding_are_linear() {
    check(&entries(&["reply-scans"]), INPUTS);
    check(&entries(&["guard-reply", "gzip-decode"]), &core_inputs());
}

/// The issue's case at its own scale, through the whole request guard: 5,000 headers took 3.2 s
/// and 10,000 took 12.3 s (x3.8 for twice the input). Now twice the headers take about twice the
/// time.
#[test]
fn the_issues_private_key_headers() {
    let body = |k: usize| {
        let text = "-----BEGIN PRIVATE KEY-----\n".repeat(k);
        format!("{{\"model\":\"m\",\"messages\":[{{\"role\":\"user\",\"content\":{}}}]}}", json_str(&text)).into_bytes()
    };
    let (a, b) = (body(2_500), body(20_000));
    let run = |x: &[u8]| guard(Api::OpenAiChat, BodyKind::Json, x);
    // Thread CPU time, as everywhere in this file: wall time failed under load on a linear scan.
    let time = |x: &[u8]| (0..3).map(|_| time_of(|| run(x))).min().unwrap();
    let (ta, tb) = (time(&a), time(&b));
    let ratio = (tb.as_secs_f64() / b.len() as f64) / (ta.as_secs_f64() / a.len() as f64);
    let _ =
        writeln!(std::io::stderr(), "linear: the issue's headers, 2,500 -> 20,000: {ta:?} -> {tb:?}, ratio {ratio:.2}");
    assert!(ratio <= MAX_RATIO, "private key headers: time per byte x{ratio:.2} ({ta:?} -> {tb:?})");
}

/// Not a check: `LINEAR_ENTRY=<entry> LINEAR_INPUT=<input> cargo test --test engine linear::curve`
/// prints the time per byte of one pair from 16 KiB to 4 MiB, for looking into a failure.
#[test]
fn curve() {
    let (Ok(entry), Ok(input)) = (std::env::var("LINEAR_ENTRY"), std::env::var("LINEAR_INPUT")) else { return };
    let e = ENTRIES.iter().find(|e| e.name == entry).expect("no such entry");
    let make = INPUTS.iter().find(|(n, _)| *n == input).expect("no such input").1;
    let mut n = 16 << 10;
    while n <= 4 << 20 {
        let b = (e.prepare)(&make(n));
        let t = best_of(e.run, &b, 3);
        let per_byte = t.as_secs_f64() * 1e9 / b.len() as f64;
        let _ =
            writeln!(std::io::stderr(), "curve {entry} {input} {:>9} bytes {t:>12?} {per_byte:.2} ns/byte", b.len());
        n *= 2;
    }
}

fn only(names: &[&str]) -> Vec<(&'static str, Make)> {
    INPUTS.iter().filter(|(name, _)| names.contains(name)).copied().collect()
}

/// Found by this harness: many unmatched quotes. The SQL check lower-cased all the text after
/// each quote to compare its first word (32 KB: 0.6 s in the test profile, quadratic).
#[test]
fn regression_many_unmatched_quotes() {
    check(&entries(&["threat-user"]), &only(&["unclosed-quote"]));
}

/// Found by this harness: a run of dots. Each `.` is a literal hit of the path traversal rule
/// `(?:\.|%2e|…){2,}(?:/|…)`, whose anchored search read the whole run after it (32 KB: 2.3 s in
/// the test profile, quadratic).
#[test]
fn regression_runs_of_dots() {
    check(&entries(&["threat-user", "threat-tool"]), &only(&["sep-dots", "sep-dot-word", "nested-percent-25"]));
}

/// Found by this harness: a body of white space fed in chunks. The framer looked through all of
/// it again for the first byte that was not white space on every chunk (quadratic).
#[test]
fn regression_leading_white_space() {
    check(&entries(&["sse-framer", "sse-generic-raw"]), &only(&["run-space", "run-newline", "run-cr", "run-tab"]));
}
