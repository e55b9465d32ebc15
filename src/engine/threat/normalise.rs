//! The normalised views a text is scanned through. The forwarded text is never changed; these
//! views exist only so that rules see through the usual disguises: compatibility forms
//! (fullwidth, ligatures), accents, invisible and bidi controls, look-alike letters from other
//! scripts, leetspeak and letters spaced apart.

use unicode_normalization::UnicodeNormalization;

/// Counts of characters that are invisible to a reader but not to a model. Their presence is
/// itself a signal of smuggling.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HiddenChars {
    /// Zero-width spaces and joiners, soft hyphens, word joiners, byte-order marks.
    pub invisible: u32,
    /// Bidi embeddings, overrides and isolates (text that renders in another order).
    pub bidi: u32,
    /// Unicode tag characters (U+E0000 block), which can spell hidden ASCII.
    pub tags: u32,
}

/// Two views of one text.
#[derive(Debug, Clone, Default)]
pub struct Normalised {
    /// NFKD without combining marks, hidden characters removed, look-alikes folded to ASCII,
    /// lower case, whitespace runs collapsed to one space. Punctuation is kept: payload and
    /// delimiter rules need it.
    pub plain: String,
    /// `plain` reduced to words: leetspeak folded, punctuation turned into spaces, letters spaced
    /// apart rejoined, one space between words. Natural-language rules read this view.
    pub words: String,
    pub hidden: HiddenChars,
}

/// Build both views of `text`.
pub fn normalise(text: &str) -> Normalised {
    let mut hidden = HiddenChars::default();
    // Whitespace is kept one-for-one here: runs of it separate words in spaced-out text.
    let mut folded = String::with_capacity(text.len());
    for c in text.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        match classify_hidden(c) {
            Some(Hidden::Invisible) => {
                hidden.invisible += 1;
                continue;
            }
            Some(Hidden::Bidi) => {
                hidden.bidi += 1;
                continue;
            }
            Some(Hidden::Tag) => {
                hidden.tags += 1;
                continue;
            }
            None => {}
        }
        if c.is_whitespace() || c.is_control() {
            folded.push(' ');
        } else {
            push_folded(&mut folded, c);
        }
    }
    let plain = folded.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
    let words = words_view(&folded);
    Normalised { plain, words, hidden }
}

enum Hidden {
    Invisible,
    Bidi,
    Tag,
}

fn classify_hidden(c: char) -> Option<Hidden> {
    match c {
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180E}'
        | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{FE00}'..='\u{FE0F}' => {
            Some(Hidden::Invisible)
        }
        '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => Some(Hidden::Bidi),
        '\u{E0000}'..='\u{E007F}' => Some(Hidden::Tag),
        _ => None,
    }
}

fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}')
}

/// Lower-case `c` and fold letters that look like ASCII (or are an accent-free spelling of it).
fn push_folded(out: &mut String, c: char) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    for lower in c.to_lowercase() {
        match confusable(lower) {
            Some(ascii) => out.push_str(ascii),
            None => out.push(lower),
        }
    }
}

/// Look-alike letters from Cyrillic and Greek, plus Latin letters NFKD does not decompose.
fn confusable(c: char) -> Option<&'static str> {
    Some(match c {
        'а' | 'α' => "a",
        'в' | 'β' | 'ь' => "b",
        'с' | 'ς' | 'ϲ' => "c",
        'ԁ' | 'đ' | 'ð' => "d",
        'е' | 'ё' | 'ε' | 'є' => "e",
        'ɡ' => "g",
        'һ' | 'н' => "h",
        'і' | 'ї' | 'ι' | 'ı' | 'ӏ' => "i",
        'ј' => "j",
        'к' | 'κ' => "k",
        'ł' => "l",
        'м' => "m",
        'п' | 'η' => "n",
        'о' | 'ο' | 'σ' | 'ø' => "o",
        'р' | 'ρ' => "p",
        'ԛ' => "q",
        'г' => "r",
        'ѕ' => "s",
        'т' | 'τ' => "t",
        'υ' | 'μ' => "u",
        'ν' => "v",
        'ԝ' | 'ω' | 'ш' => "w",
        'х' | 'χ' => "x",
        'у' | 'γ' => "y",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        _ => return None,
    })
}

/// Leetspeak digit or symbol inside a word, and the letter it stands for.
fn leet(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        '8' => 'b',
        _ => return None,
    })
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// Reduce `plain` to words separated by one space.
fn words_view(plain: &str) -> String {
    // Tokens are maximal runs of letters, digits and leet symbols; `gaps[i]` is the number of
    // separator characters after token i (two or more mark a word boundary in spaced-out text).
    let mut tokens: Vec<String> = Vec::new();
    let mut gaps: Vec<u32> = Vec::new();
    let mut current = String::new();
    let mut gap = 0u32;
    let chars: Vec<char> = plain.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let symbol_leet = matches!(c, '@' | '$' | '!' | '|')
            && i > 0
            && chars.get(i - 1).is_some_and(|p| p.is_alphabetic())
            && chars.get(i + 1).is_some_and(|n| n.is_alphabetic());
        if is_word_char(c) || symbol_leet || (c == '\'' && !current.is_empty()) {
            if c == '\'' {
                // "don't" reads as "dont": apostrophes never split a word.
                continue;
            }
            if current.is_empty() && !tokens.is_empty() {
                gaps.push(gap);
            }
            gap = 0;
            current.push(c);
        } else {
            if !current.is_empty() {
                tokens.push(fold_leet(&current));
                current.clear();
            }
            gap += 1;
        }
    }
    if !current.is_empty() {
        tokens.push(fold_leet(&current));
    }
    join_spaced_letters(&tokens, &gaps)
}

/// Fold leetspeak in a token that is mostly letters ("1gn0r3" -> "ignore"); numbers stay numbers.
fn fold_leet(token: &str) -> String {
    let letters = token.chars().filter(|c| c.is_alphabetic()).count();
    let leets = token.chars().filter(|&c| leet(c).is_some()).count();
    if letters < 2 || leets == 0 || letters < leets {
        return token.to_string();
    }
    token.chars().map(|c| if c.is_alphabetic() { c } else { leet(c).unwrap_or(c) }).collect()
}

/// Rejoin runs of three or more single letters separated by single separators ("i g n o r e").
fn join_spaced_letters(tokens: &[String], gaps: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < tokens.len() {
        let run_end = spaced_run_end(tokens, gaps, i);
        if !out.is_empty() {
            out.push(' ');
        }
        if run_end - i >= 3 {
            for t in tokens.get(i..run_end).unwrap_or(&[]) {
                out.push_str(t);
            }
            i = run_end;
        } else if let Some(t) = tokens.get(i) {
            out.push_str(t);
            i += 1;
        } else {
            break;
        }
    }
    out
}

fn spaced_run_end(tokens: &[String], gaps: &[u32], start: usize) -> usize {
    let single = |t: &String| t.chars().count() == 1;
    let mut end = start;
    while tokens.get(end).is_some_and(single) {
        end += 1;
        if gaps.get(end - 1).copied().unwrap_or(0) != 1 {
            break;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_fullwidth_and_accents() {
        let n = normalise("ＩＧＮＯＲＥ précédentes");
        assert_eq!(n.words, "ignore precedentes");
    }

    #[test]
    fn numbers_are_not_leet() {
        assert_eq!(normalise("call 2023 at 10").words, "call 2023 at 10");
    }

    #[test]
    fn spaced_words_keep_boundaries() {
        assert_eq!(normalise("i g n o r e  a l l  rules").words, "ignore all rules");
    }
}
