//! What reached the upstream: every string of a forwarded body with its JSON path, strings that
//! hold JSON decoded recursively, JSON lines (batch files, multipart parts) each decoded; then
//! which planted values survived and which kept strings did not.

use serde_json::Value as Json;

use super::text::{Keep, Plant};

/// A decoded string and where it sits (`messages[1].content[0].text`, `<json>` marks a JSON
/// document inside a string, `line3` a JSON line of a text body).
#[derive(Debug, Clone)]
pub struct Located {
    pub path: String,
    pub text: String,
}

fn walk(v: &Json, path: &str, out: &mut Vec<Located>, depth: usize) {
    match v {
        Json::String(s) => {
            out.push(Located { path: path.to_owned(), text: s.clone() });
            let t = s.trim_start();
            if depth < 8 && (t.starts_with('{') || t.starts_with('[')) {
                if let Ok(inner) = serde_json::from_str::<Json>(s) {
                    walk(&inner, &format!("{path}<json>"), out, depth + 1);
                }
            }
        }
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"), out, depth);
            }
        }
        Json::Object(map) => {
            for (k, item) in map {
                out.push(Located { path: format!("{path}.{k}<key>"), text: k.clone() });
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                walk(item, &p, out, depth);
            }
        }
        _ => {}
    }
}

/// Every string of a body: the whole body as JSON, or else each line that is JSON.
pub fn strings(body: &[u8]) -> Vec<Located> {
    let mut out = Vec::new();
    let text = String::from_utf8_lossy(body);
    if let Ok(doc) = serde_json::from_str::<Json>(&text) {
        walk(&doc, "", &mut out, 0);
        return out;
    }
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.starts_with('{') {
            if let Ok(doc) = serde_json::from_str::<Json>(l) {
                walk(&doc, &format!("line{i}"), &mut out, 0);
            }
        }
    }
    out
}

/// Array indices replaced by `[]`, for counting paths across cases.
pub fn shape_of(path: &str) -> String {
    let mut out = String::new();
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            d if in_index && d.is_ascii_digit() => {}
            _ => out.push(c),
        }
    }
    if out.starts_with("line") {
        let rest = out.trim_start_matches(|c: char| c == 'l' || c == 'i' || c == 'n' || c == 'e' || c.is_ascii_digit());
        return format!("line{rest}");
    }
    out
}

/// A planted value found in a forwarded body.
#[derive(Debug, Clone)]
pub struct Leak {
    pub plant: Plant,
    pub needle: String,
    /// Path of the string it was found in (`<raw>` when only the raw bytes hold it).
    pub found_at: String,
}

/// Planted values whose needles survive in `body` (raw bytes, JSON-escaped raw bytes, or any
/// decoded string).
pub fn leaks(body: &[u8], located: &[Located], plants: &[Plant]) -> Vec<Leak> {
    let raw = String::from_utf8_lossy(body);
    // Signed thinking goes back as the provider wrote it, by design (docs/masking.md): a value
    // the generator put there is not a leak of the filter's.
    let signed = |l: &Located| l.path.ends_with(".thinking");
    let in_signed = |n: &str| located.iter().any(|l| signed(l) && l.text.contains(n));
    let located: Vec<Located> = located.iter().filter(|l| !signed(l)).cloned().collect();
    let located = located.as_slice();
    let mut out = Vec::new();
    // Values whose first occurrence survived whole: a bare repeat of them is not counted again.
    let survived: Vec<&str> = plants
        .iter()
        .filter(|p| p.position != "repeat" && located.iter().any(|l| l.text.contains(p.snippet.as_str())))
        .filter_map(|p| p.needles.first().map(String::as_str))
        .collect();
    for plant in plants {
        if plant.position == "repeat" && plant.needles.first().is_some_and(|n| survived.contains(&n.as_str())) {
            continue;
        }
        for needle in &plant.needles {
            if needle.is_empty() {
                continue;
            }
            let escaped = Json::String(needle.clone()).to_string();
            let escaped = escaped.trim_matches('"');
            let holding: Vec<&Located> = located.iter().filter(|l| l.text.contains(needle.as_str())).collect();
            // A value planted twice (once in context, once repeated bare) is charged to the
            // occurrence that survived: its own snippet if that is still whole, else the repeat.
            let own = holding.iter().find(|l| l.text.contains(plant.snippet.as_str()));
            let repeated = plant.position != "repeat"
                && plants.iter().any(|p| p.position == "repeat" && p.needles.first() == plant.needles.first());
            if own.is_none() && repeated && !holding.is_empty() {
                continue;
            }
            let found = own.or(holding.first()).copied();
            let found_at = match found {
                Some(l) => Some(l.path.clone()),
                None if (raw.contains(needle.as_str()) || raw.contains(escaped)) && !in_signed(needle) => {
                    Some("<raw>".to_owned())
                }
                None => None,
            };
            if let Some(found_at) = found_at {
                out.push(Leak { plant: plant.clone(), needle: needle.clone(), found_at });
                break;
            }
        }
    }
    out
}

/// Kept strings (look-alikes, ids, signatures, media) missing from the forwarded body.
pub fn lost<'a>(located: &[Located], keeps: &'a [Keep]) -> Vec<&'a Keep> {
    keeps.iter().filter(|k| !located.iter().any(|l| l.text.contains(k.text.as_str()))).collect()
}
