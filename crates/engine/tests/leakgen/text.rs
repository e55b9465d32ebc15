//! Texts that carry planted values: neutral filler sentences, a context lead, the value in a
//! wrapping (markdown, quotes, brackets, CJK punctuation) and sometimes in another Unicode form
//! (full-width, a zero-width space inside, no-break spaces). Every plant is recorded with the
//! field it went into, so a leak can be reported by field, kind, format, wrapping and form.

use serde_json::{json, Map, Value as Json};

use super::rng::{Rng, BASE64, HEX};
use super::values::{look_alike, value, Value};

/// One planted value and where it went.
#[derive(Debug, Clone)]
pub struct Plant {
    pub kind: String,
    pub format: String,
    pub wrap: &'static str,
    pub form: &'static str,
    pub position: &'static str,
    /// `endpoint.field` label, e.g. `chat:messages[user].content(string)`.
    pub field: String,
    /// The snippet as written (lead, wrapping, value).
    pub snippet: String,
    pub needles: Vec<String>,
    /// What a repeat of this value writes: the value the filter masks (a whole key block, the
    /// password of an assignment, the address of an e-mail with a display name).
    pub masked: String,
}

/// A harmless value (or a field the API defines as not text) that must arrive unchanged.
#[derive(Debug, Clone)]
pub struct Keep {
    pub kind: String,
    pub field: String,
    pub text: String,
}

/// Neutral sentences: no context words of any detector (no phone, order or secret words), each
/// longer than the detector's context window, so one plant's context never reaches another's.
const FILLER: &[&str] = &[
    "Please summarise the notes below for the weekly planning meeting.",
    "The garden looked lovely after the rain stopped this morning.",
    "We are moving the team lunch to Thursday at the usual place downtown.",
    "Draft a short and friendly reply that thanks them for the update.",
    "The quarterly figures look better than we expected in the spring.",
    "Translate the following paragraph into plain and simple English.",
    "Our supplier confirmed that the delivery will arrive early next week.",
    "Keep the tone polite and mention the deadline only once, at the end.",
    "List three ideas for a birthday present for a keen amateur cyclist.",
    "Il fait beau aujourd'hui et nous partons bientôt en vacances à la mer.",
    "会议改到明天下午三点，请大家准时参加，并带上上周的资料。",
    "Die Besprechung wurde auf Donnerstagnachmittag verschoben, bitte beachten.",
];

const WRAPS: &[(&str, &str, &str)] = &[
    ("md-underscore", "_", "_"),
    ("md-star", "*", "*"),
    ("md-bold", "**", "**"),
    ("md-code", "`", "`"),
    ("double-quotes", "\"", "\""),
    ("single-quotes", "'", "'"),
    ("parens", "(", ")"),
    ("brackets", "[", "]"),
    ("angle", "<", ">"),
    ("braces", "{", "}"),
    ("cjk-corner", "「", "」"),
    ("cjk-paren", "（", "）"),
    ("cjk-lenticular", "【", "】"),
    ("curly-quotes", "“", "”"),
    ("guillemets", "« ", " »"),
    ("cjk-comma", "、", "。"),
    ("sentence-end", "", "."),
    ("comma-after", "", ","),
];

/// Full-width form of printable ASCII (U+FF01..U+FF5E); spaces become ideographic spaces.
pub fn fullwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c),
            ' ' => '\u{3000}',
            _ => c,
        })
        .collect()
}

/// A zero-width space after the middle character.
pub fn zero_width_inside(s: &str) -> String {
    let n = s.chars().count();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        out.push(c);
        if i + 1 == n / 2 {
            out.push('\u{200B}');
        }
    }
    out
}

/// Builds one request's texts and records what was planted where.
#[derive(Debug)]
pub struct Planter {
    pub rng: Rng,
    pub plants: Vec<Plant>,
    pub keeps: Vec<Keep>,
    /// Endpoint label prefixed to field names.
    pub endpoint: String,
    /// How likely a text field gets a plant, in percent.
    pub density: usize,
}

impl Planter {
    pub fn new(rng: Rng, endpoint: &str) -> Planter {
        Planter { rng, plants: Vec::new(), keeps: Vec::new(), endpoint: endpoint.to_owned(), density: 45 }
    }

    fn label(&self, field: &str) -> String {
        format!("{}:{field}", self.endpoint)
    }

    /// `endpoint:field`, the label plants are recorded under.
    pub fn field_label(&self, field: &str) -> String {
        self.label(field)
    }

    fn filler(&mut self) -> String {
        (*self.rng.pick(FILLER)).to_owned()
    }

    /// A value with its lead, wrapping and form, recorded as planted in `field`.
    fn snippet(&mut self, field: &str, position: &'static str, bare: bool) -> String {
        let v: Value = value(&mut self.rng);
        let mut text = v.text.clone();
        let mut needles = v.needles.clone();
        let is_block = v.kind == "PRIVATE_KEY";
        // Another Unicode form, sometimes (the needles change with it, the originals stay banned).
        let mut form = "ascii";
        if !bare && self.rng.chance(1, 12) {
            let which = self.rng.below(3);
            let mut new_needles = Vec::new();
            for n in &needles {
                let t = match which {
                    0 if !is_block => fullwidth(n),
                    1 => zero_width_inside(n),
                    _ => n.replace(' ', "\u{A0}"),
                };
                if t != *n {
                    text = text.replace(n.as_str(), &t);
                    if which == 1 {
                        // Either side of the zero-width space is a part of the value that must
                        // not reach the upstream either.
                        if let Some((a, b)) = t.split_once('\u{200B}') {
                            new_needles
                                .extend([a, b].iter().filter(|h| h.chars().count() >= 6).map(|h| (*h).to_owned()));
                        }
                    }
                    new_needles.push(t);
                }
            }
            if !new_needles.is_empty() {
                form = match which {
                    0 => "fullwidth",
                    1 => "zero-width-inside",
                    _ => "nbsp",
                };
                needles.extend(new_needles);
            }
        }
        let masked = if is_block { text.clone() } else { needles.first().cloned().unwrap_or_default() };
        let mut wrap = "none";
        if !bare && !is_block && self.rng.chance(1, 3) {
            let (name, open, close) = *self.rng.pick(WRAPS);
            wrap = name;
            text = format!("{open}{text}{close}");
        } else if !bare && is_block && self.rng.chance(1, 3) {
            wrap = "code-fence";
            text = format!("```\n{text}\n```");
        }
        let lead = if !v.needs_lead.is_empty() {
            *self.rng.pick(&v.needs_lead)
        } else if bare || v.leads.is_empty() {
            ""
        } else {
            *self.rng.pick(&v.leads)
        };
        let snippet = if bare && v.needs_lead.is_empty() { text } else { format!("{lead}{text}") };
        self.plants.push(Plant {
            kind: v.kind,
            format: v.format,
            wrap,
            form,
            position,
            field: self.label(field),
            snippet: snippet.clone(),
            needles,
            masked,
        });
        snippet
    }

    /// A value planted earlier in this request, again, bare (no lead, no wrapping): once masked,
    /// it must be masked wherever it occurs, even where nothing around it says what it is.
    fn repeat(&mut self, field: &str) -> String {
        let earlier: Vec<&Plant> = self.plants.iter().filter(|p| p.form == "ascii" && p.position != "repeat").collect();
        let Some(p) = earlier.get(self.rng.below(earlier.len())) else { return self.filler() };
        let needle = p.needles.first().cloned().unwrap_or_default();
        let written = p.masked.clone();
        let plant = Plant {
            kind: p.kind.clone(),
            format: format!("{} repeated-bare", p.format),
            wrap: "none",
            form: "ascii",
            position: "repeat",
            field: self.label(field),
            snippet: written.clone(),
            needles: vec![needle],
            masked: written.clone(),
        };
        self.plants.push(plant);
        written
    }

    fn look(&mut self, field: &str) -> String {
        let l = look_alike(&mut self.rng);
        self.keeps.push(Keep {
            kind: format!("look-alike/{}", l.kind),
            field: self.label(field),
            text: l.text.clone(),
        });
        l.text
    }

    /// Prose for a free-text field: filler, sometimes values and look-alikes between sentences.
    pub fn text(&mut self, field: &str) -> String {
        let mut parts = vec![self.filler()];
        if self.rng.chance(self.density, 100) {
            let n = self.rng.range(1, 2);
            for _ in 0..n {
                match self.rng.below(12) {
                    2 if self.plants.iter().any(|p| p.form == "ascii" && p.position != "repeat") => {
                        let s = self.repeat(field);
                        parts.push(s);
                    }
                    0 => {
                        // The value on the line after an assignment with an empty value.
                        let key = *self.rng.pick(&["API_KEY=", "CONTACT=", "export SECRET_VALUE=", "VALUE:"]);
                        let s = self.snippet(field, "after-key-newline", true);
                        let s = format!("{key}\n{s}");
                        if let Some(last) = self.plants.last_mut() {
                            last.snippet = s.clone();
                        }
                        parts.push(s);
                    }
                    1 => {
                        let s = self.snippet(field, "list-item", false);
                        parts.push(format!("\n- {s}\n"));
                    }
                    3 | 4 => {
                        // A structured document pasted into the text (a config, a table, a
                        // request): values under keys that name them.
                        let s = self.structured(field);
                        parts.push(format!("\n{s}\n"));
                    }
                    _ => {
                        let s = self.snippet(field, "prose", false);
                        parts.push(s);
                    }
                }
                parts.push(self.filler());
            }
        }
        if self.rng.chance(1, 4) {
            let l = self.look(field);
            parts.push(format!("Reference: {l}."));
            parts.push(self.filler());
        }
        parts.join(" ")
    }

    /// A short value for a field that usually holds one thing (a user name, a city, a metadata
    /// value): sometimes exactly a planted value, sometimes a look-alike, else a plain word.
    pub fn short(&mut self, field: &str) -> String {
        match self.rng.below(10) {
            0..=3 => self.snippet(field, "whole", true),
            4 => self.look(field),
            5 => self.text(field),
            _ => super::values::name(&mut self.rng),
        }
    }

    /// A small JSON object with texts and short values (tool arguments, metadata-like data).
    pub fn object(&mut self, field: &str) -> Json {
        let keys = ["query", "note", "recipient", "details", "comment", "summary", "contact", "target"];
        let n = self.rng.range(1, 3);
        let mut m = Map::new();
        let first = self.rng.below(keys.len());
        for i in 0..n {
            // Distinct keys: a repeated key would drop what was planted under it.
            let k = keys[(first + i) % keys.len()];
            let f = format!("{field}.{k}");
            let v = match self.rng.below(5) {
                0 => Json::String(self.text(&f)),
                1 => json!([self.short(&format!("{f}[]")), self.short(&format!("{f}[]"))]),
                2 => json!({ "value": self.short(&format!("{f}.value")), "limit": self.rng.range(1, 50) }),
                _ => Json::String(self.short(&f)),
            };
            m.insert(k.to_owned(), v);
        }
        Json::Object(m)
    }

    /// A JSON document as text (tool arguments, a tool result holding JSON).
    pub fn json_text(&mut self, field: &str) -> String {
        if self.rng.chance(1, 4) {
            return self.structured_json(&format!("{field}<json>"));
        }
        let v = self.object(&format!("{field}<json>"));
        v.to_string()
    }

    /// A metadata map (string values only, as the APIs require).
    pub fn metadata(&mut self, field: &str) -> Json {
        let mut m = Map::new();
        for k in ["customer", "ticket_note", "owner"].iter().take(self.rng.range(1, 3)) {
            let v = self.short(&format!("{field}.{k}"));
            m.insert((*k).to_owned(), Json::String(v));
        }
        if self.rng.chance(1, 6) {
            // Keys are the caller's data too (an address used as a key).
            let k = self.snippet(&format!("{field}.<key>"), "whole", true);
            m.insert(k, Json::String("vip".to_owned()));
        }
        Json::Object(m)
    }

    /// A string the filter must forward byte for byte (ids, signatures, base64 media).
    pub fn keep(&mut self, kind: &str, field: &str, text: String) -> String {
        self.keeps.push(Keep { kind: kind.to_owned(), field: self.label(field), text: text.clone() });
        text
    }

    pub fn id(&mut self, prefix: &str) -> String {
        format!("{prefix}{}", self.rng.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 24))
    }

    /// Random bytes as base64 (image or PDF data), recorded as kept.
    pub fn base64_data(&mut self, field: &str) -> String {
        let n = self.rng.range(16, 60) * 4;
        let data = self.rng.chars(BASE64, n);
        self.keep("base64-data", field, data)
    }

    pub fn signature(&mut self, field: &str) -> String {
        let n = self.rng.range(20, 40) * 4;
        let s = format!("Eq{}", self.rng.chars(BASE64, n));
        self.keep("signature", field, s)
    }

    pub fn hex(&mut self, n: usize) -> String {
        self.rng.chars(HEX, n)
    }

    /// A JSON schema whose descriptions, enum values, defaults and examples are texts.
    pub fn schema(&mut self, field: &str) -> Json {
        let mut props = Map::new();
        props.insert(
            "recipient".into(),
            json!({"type": "string", "description": self.text(&format!("{field}.properties.*.description"))}),
        );
        if self.rng.chance(1, 2) {
            props.insert(
                "channel".into(),
                json!({"type": "string", "enum": [self.short(&format!("{field}.properties.*.enum[]")), "default"]}),
            );
        }
        if self.rng.chance(1, 2) {
            props.insert(
                "sender".into(),
                json!({"type": "string", "default": self.short(&format!("{field}.properties.*.default")),
                       "examples": [self.short(&format!("{field}.properties.*.examples[]"))]}),
            );
        }
        json!({"type": "object", "description": self.text(&format!("{field}.description")), "properties": props, "required": ["recipient"]})
    }
}
