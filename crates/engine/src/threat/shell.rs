//! Command injection: shell commands chained onto a value, command substitution, reverse
//! shells and downloaders, PowerShell and cmd.exe idioms, shellshock. Also the undoing of shell
//! quoting tricks (`c'a't /e"t"c/pa[s]swd`, `${IFS}` for a space) so the rules see the command.
//!
//! The families come from the POSIX shell grammar (lists, pipelines, command substitution),
//! the Bash documentation (process substitution, `IFS`, function import that CVE-2014-6271
//! abused), Microsoft's PowerShell cmdlet reference, and OWASP's command-injection page. Written
//! for this project.

use super::rules::{r, Rule, View::Payload};
use super::Category::CommandInjection;

/// Commands an attacker chains onto a value to read, download, connect or run something.
/// Short words that are also common English (`set`, `type`, `more`) are left out or need an
/// argument that only a command takes.
macro_rules! command {
    () => {
        "(?:cat|tac|nl|head|tail|ls|id|whoami|uname|hostname|ifconfig|ipconfig|netstat|ps|env|printenv|echo|printf|wget|curl|nc|ncat|netcat|socat|telnet|ssh|scp|tftp|ftp|ping|nslookup|dig|traceroute|bash|sh|zsh|ksh|csh|dash|tcsh|python[23]?|perl|ruby|php|node|lua|rm|mv|cp|chmod|chown|touch|mkdir|kill|pkill|killall|sleep|timeout|find|xargs|awk|gawk|sed|grep|egrep|base64|xxd|od|tar|gzip|crontab|sudo|su|systemctl|reboot|shutdown|useradd|passwd|mkfifo|exec|eval|nohup|type|cmd|powershell|pwsh|certutil|bitsadmin|wmic|reg|net|netsh|tasklist|taskkill|systeminfo|iwr|iex|dd|openssl|busybox|nmap|strings|uptime|lsof|getent|vi|vim|more|less|dir)"
    };
}

/// What follows a command name when it is one: an option, a path, a variable, a redirection,
/// a quote, a URL, a host or number, or the end of the command.
macro_rules! command_tail {
    () => {
        "(?:\\s+(?:-{1,2}[a-z]|/|\\\\|\\$|%[a-z]|~|\\.{1,2}[/\\\\]|[<>]|['\"]|[a-z]+://|[a-z0-9-]+(?:\\.[a-z0-9-]+)+|\\d)|\\s*(?:$|[;&`)<>]))"
    };
}

pub static RULES: &[Rule] = &[
    // A list or pipeline operator, then a command with what only a command takes after it.
    r("PG-CI-001", CommandInjection, 0.85, Payload, "a shell separator (; | & or $( ) followed by a command an attacker runs (cat, id, whoami, curl …)", concat!(
        "(?:[;|&]|\\$\\()\\s*(?:(?:/usr)?/s?bin/)?", command!(), command_tail!())),
    // Command substitution around a known command, `$IFS` standing in for a space.
    // A backtick span is a substitution only when all of it is one command line that starts
    // right after the backtick (in Markdown, backticks also close an inline code span, and a
    // closing one is followed by a space, so a command word after it proves nothing).
    // Backticks glued to a value or after a shell separator; a Markdown code span after a space,
    // `(`, `*`, `_` or `-` (a list item, emphasis) names a command. (The bytes before the
    // backtick are listed in small classes so that the rule keeps its literal prefixes.)
    r("PG-CI-002", CommandInjection, 0.9, Payload, "command substitution of such a command ($(…), backticks) or ${IFS}", concat!(
        "\\$\\(\\s*(?:(?:/usr)?/s?bin/)?", command!(), "\\b|(?:^|[=;|&'\"]|[\\[{<>$]|[.,:@!%+]|[a-i]|[j-r]|[s-z]|[0-9]|[)\\]}/\\\\#~^?`]|[;|&] )`(?:(?:/usr)?/s?bin/)?", command!(),
        "(?:\\s[^`]{0,80})?`|\\$\\{?ifs\\b")),
    // Shellshock's function-import prefix and the fork bomb.
    r("PG-CI-003", CommandInjection, 0.95, Payload, "Shellshock function definitions () { …; }; and the fork bomb :(){ :|:& }",
        "\\(\\s*\\)\\s*\\{\\s*[^}]{0,20};\\s*\\}\\s*;|:\\s*\\(\\s*\\)\\s*\\{\\s*:\\s*\\|\\s*:\\s*&\\s*\\}"),
    // Reverse shells and download-and-run: piped into a shell, or saved and made executable by
    // the next command of the list (`curl -o f URL && chmod +x f`).
    r("PG-CI-004", CommandInjection, 0.85, Payload, "reverse shells: /dev/tcp, nc -e, bash -i, mkfifo, curl … | sh, curl … && chmod +x, sh -c '…'",
        "/dev/(?:tcp|udp)/|\\b(?:nc|ncat|netcat)\\b[^;|&\\n]{0,40}\\s-[a-z]*[ec]\\b|\\bbash\\s+-i\\b|\\bmkfifo\\b|\\b(?:wget|curl)\\s[^;|&\\n]{0,160}\\|\\s*(?:ba|z|k|da)?sh\\b|\\b(?:wget|curl)\\s[^;|&\\n]{0,160}(?:&&|;)\\s*chmod\\s+(?:[ugoa]*\\+[rwx]*x|[0-7]{3,4})\\b|\\b(?:sh|bash)\\s+-c\\s+['\"]"),
    // PowerShell and cmd.exe: cmdlets and switches used to fetch and run code.
    r("PG-CI-005", CommandInjection, 0.85, Payload, "PowerShell download and execute: Invoke-Expression, iex(, DownloadString, New-Object Net.WebClient",
        "\\binvoke-(?:expression|webrequest|restmethod|command|item|wmimethod|shellcode|mimikatz)\\b|\\biex\\s*\\(|\\biwr\\s+(?:-uri\\s+)?[a-z]+://|\\biwmi\\b|\\bdownload(?:string|file|data)\\s*\\(|new-object\\s+(?:system\\.)?net\\.webclient|-(?:enc|encodedcommand)\\s+[a-z0-9+/=]{16,}|\\b(?:powershell|pwsh)(?:\\.exe)?\\s+(?:-[a-z]+|[a-z]:\\\\)|\\bcmd(?:\\.exe)?\\s*/[ck]\\s|wscript\\.shell|\\bcertutil(?:\\.exe)?\\s+-urlcache|\\bstart-process\\s|\\bget-wmiobject\\s|\\b(?:regsvr32|rundll32|mshta)(?:\\.exe)?\\s"),
    // A shell or system binary by its full path, Windows shell variables.
    r("PG-CI-006", CommandInjection, 0.55, Payload, "a shell binary by path: /bin/sh, /bin/bash, \\windows\\system32\\cmd, %COMSPEC%",
        "/s?bin/(?:ba|z|k|da|tc|c)?sh\\b|\\\\windows\\\\system32\\\\(?:cmd|powershell|wscript|cscript)|%(?:comspec|systemroot|windir)%"),
    // Process substitution, here-strings, output redirected into a system directory, and
    // `find -exec`.
    r("PG-CI-007", CommandInjection, 0.6, Payload, "process substitution, here-strings, redirection into /tmp or /etc, find -exec",
        "(?:^|[\\s;|&=])[<>]\\(\\s*[a-z]|<<<\\s*['\"]?[a-z]|>{1,2}\\s*/(?:tmp|etc|var|dev/shm)/|\\bfind\\s+[^\\s;|&]+\\s[^;|&]{0,80}-exec(?:dir)?\\s"),
    // cmd.exe control flow: `FOR /F ... %%a IN (...) DO`, `IF EXIST`, `IF %x% EQU`.
    r("PG-CI-008", CommandInjection, 0.75, Payload, "Windows batch control flow: for %%i in (, if exist, if errorlevel, if %x%==",
        "\\bfor\\s+(?:/[a-z]\\s+)?[^%\\n]{0,80}%%?[a-z@~]\\s+in\\s*\\(|\\bif\\s+(?:/i\\s+)?(?:not\\s+)?(?:exist|defined|errorlevel|cmdextversion)\\s|\\bif\\s+(?:/i\\s+)?(?:not\\s+)?(?:\"?%[^%\\s]{1,30}%\"?|\\(?[0-9]+)\\s*(?:==|\\b(?:equ|neq|lss|leq|gtr|geq)\\b)"),
];

/// Shell quoting removed from `text`: quotes and backslashes inside words (`c'a't`), one
/// character bracket globs (`pa[s]swd`), and `$IFS`/`$@` fillers. `None` when the text has
/// none of these tricks, so ordinary texts cost one pass.
pub fn unquoted(text: &str) -> Option<String> {
    if !has_quoting_trick(text) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let lower = lower
        .replace("${ifs}", " ")
        .replace("$ifs", " ")
        .replace("$@", "")
        .replace("$*", "")
        .replace("$()", "")
        .replace("${}", "");
    let lower = without_empty_variables(&lower);
    let mut out = String::with_capacity(lower.len());
    let mut chars = lower.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '\\' => {}
            '[' => {
                // `[s]`, `[!q]`, `[m-z]`: keep one letter of the class, enough for the names.
                let mut class = String::new();
                while let Some(&d) = chars.peek() {
                    if d == ']' || class.len() > 6 {
                        break;
                    }
                    class.push(d);
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    chars.next();
                    out.extend(class.chars().find(char::is_ascii_alphanumeric));
                } else {
                    out.push('[');
                    out.push_str(&class);
                }
            }
            _ => out.push(c),
        }
    }
    (out != text).then_some(out)
}

/// `cat$u /etc$u/passwd`: a short variable glued to the end of a word is an unset variable
/// used as a separator-free filler; it is dropped.
fn without_empty_variables(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'$' && i > 0 && b.get(i - 1).is_some_and(|p| p.is_ascii_alphanumeric() || *p == b'/') {
            let name_len = b.iter().skip(i + 1).take_while(|d| d.is_ascii_alphabetic() || **d == b'_').count();
            let after = b.get(i + 1 + name_len);
            if (1..=3).contains(&name_len) && !after.is_some_and(u8::is_ascii_alphanumeric) {
                i += 1 + name_len;
                continue;
            }
        }
        let width = text.get(i..).and_then(|r| r.chars().next()).map_or(1, char::len_utf8);
        out.push_str(text.get(i..i + width).unwrap_or(""));
        i += width;
    }
    out
}

/// Whether a word has quotes or backslashes between its letters more than once, a bracket glob
/// sits inside a path, or `$IFS`-style fillers appear.
fn has_quoting_trick(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr_iter(b'$', b).any(|i| dollar_trick(b, i)) || quoted_word(text)
}

/// The tricks a `$` at `at` can start: `$IFS`, `${IFS}`, `$@`, `$()`, or a `$` glued to the
/// end of a word (`cat$u`, `sh$XX`).
fn dollar_trick(b: &[u8], at: usize) -> bool {
    let rest = b.get(at + 1..).unwrap_or(&[]);
    let starts = |p: &[u8]| rest.get(..p.len()).is_some_and(|r| r.eq_ignore_ascii_case(p));
    if starts(b"ifs") || starts(b"{ifs}") || starts(b"@") || starts(b"()") {
        return true;
    }
    let before = at.checked_sub(1).and_then(|p| b.get(p)).is_some_and(|p| p.is_ascii_alphanumeric() || *p == b'/');
    before && rest.first().is_some_and(u8::is_ascii_alphabetic)
}

/// Whether a word (split at white space) has two quotes or backslashes between letters, as in
/// `c'a't`, or is a path with a glob class, as in `/e[t]c`. Only the quote and bracket bytes are
/// visited (found with memchr), so prose costs a vectorised search, not a step per byte: two
/// quotes are in one word when no white space lies between them, and a `[` is in a path when
/// its word has a `/` and a `]`. A quote's neighbours are checked in the whole text, which is
/// the same as within its word, since white space is neither a letter, a digit nor `/`.
fn quoted_word(text: &str) -> bool {
    let b = text.as_bytes();
    let mut last_quote: Option<usize> = None;
    for at in memchr::memchr3_iter(b'\'', b'"', b'\\', b) {
        let before = at.checked_sub(1).and_then(|p| b.get(p)).is_some_and(u8::is_ascii_alphanumeric);
        let after = b.get(at + 1).is_some_and(|n| n.is_ascii_alphanumeric() || *n == b'/');
        if !(before && after) {
            continue;
        }
        // Quote bytes are ASCII, so both ends are char boundaries; each byte between two
        // quotes is read once.
        if last_quote.is_some_and(|q| !text.get(q..at).unwrap_or(" ").contains(char::is_whitespace)) {
            return true;
        }
        last_quote = Some(at);
    }
    // Each word is read once, however many `[` it has.
    let mut read_to = 0;
    for at in memchr::memchr_iter(b'[', b) {
        if at < read_to {
            continue;
        }
        let start = text.get(..at).and_then(|t| t.rfind(char::is_whitespace)).map_or(0, |p| p + 1);
        let end = text.get(at..).and_then(|t| t.find(char::is_whitespace)).map_or(b.len(), |p| at + p);
        let word = b.get(start..end).unwrap_or(&[]);
        if word.contains(&b'/') && word.contains(&b']') {
            return true;
        }
        read_to = end;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `quoted_word` as one step per character, as first written: the memchr version must agree.
    fn quoted_word_stepwise(text: &str) -> bool {
        let b = text.as_bytes();
        let (mut quotes, mut slash, mut open, mut close) = (0u32, false, false, false);
        for (i, ch) in text.char_indices() {
            if ch.is_whitespace() {
                (quotes, slash, open, close) = (0, false, false, false);
                continue;
            }
            match ch {
                '\'' | '"' | '\\' => {
                    let before = i.checked_sub(1).and_then(|p| b.get(p)).is_some_and(u8::is_ascii_alphanumeric);
                    let after = b.get(i + 1).is_some_and(|n| n.is_ascii_alphanumeric() || *n == b'/');
                    if before && after {
                        quotes += 1;
                    }
                }
                '/' => slash = true,
                '[' => open = true,
                ']' => close = true,
                _ => {}
            }
            if quotes >= 2 || (slash && open && close) {
                return true;
            }
        }
        false
    }

    proptest::proptest! {
        #[test]
        fn quoted_word_agrees_with_the_stepwise_reading(text in "[ac'\"\\\\/\\[\\] \u{a0}\u{2003}é\t]{0,40}") {
            proptest::prop_assert_eq!(quoted_word(&text), quoted_word_stepwise(&text), "{:?}", text);
        }
    }

    #[test]
    fn quoted_word_cases() {
        for (text, want) in [
            ("c'a't", true),
            ("c'a t'x", false),
            ("don't won't", false),
            ("/e[t]c", true),
            ("/e[t c]", false),
            ("[x] /y]", false),
            ("a[b [c]/d", true),
            ("c'a\u{2003}t'x", false),
        ] {
            assert_eq!(quoted_word(text), want, "{text:?}");
            assert_eq!(quoted_word_stepwise(text), want, "{text:?}");
        }
    }

    #[test]
    fn quoting_tricks_are_undone() {
        assert_eq!(unquoted("c'a't /e\"t\"c/pa[s]swd").as_deref(), Some("cat /etc/passwd"));
        assert_eq!(unquoted("cat${IFS}/etc/hosts").as_deref(), Some("cat /etc/hosts"));
        assert_eq!(unquoted("don't worry, it's fine"), None);
        assert_eq!(unquoted("cat$u /etc$u/passwd").as_deref(), Some("cat /etc/passwd"));
        assert_eq!(unquoted("ping$() 192.0.2.1").as_deref(), Some("ping 192.0.2.1"));
    }
}
