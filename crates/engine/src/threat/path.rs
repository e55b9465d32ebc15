//! Path traversal and file inclusion: `../` in its encodings, files an attacker reads first,
//! stream wrappers that turn an include into code or a request, null bytes that cut off an
//! extension.
//!
//! The families come from OWASP's path-traversal and file-inclusion pages, the PHP manual's
//! list of supported protocols and wrappers, RFC 3986 (percent-encoding) and the overlong UTF-8
//! forms RFC 3629 forbids. Written for this project. The rules read the plain view of the text
//! and of its percent-decoded form (see `decode`), so `%2e%2e%2f` is seen as `../` there; the
//! encodings below are those that decoding leaves alone.

use super::rules::{r, Rule, View::Payload};
use super::Category::PathTraversal;

/// One `..` followed by a separator, in the spellings that survive percent-decoding once.
macro_rules! up {
    () => {
        "(?:\\.|%2e|0x2e|%c0%ae|%e0%80%ae|%u002e|%252e){2,}(?:/|\\\\|%2f|%5c|0x2f|0x5c|%c0%af|%c1%9c|%e0%80%af|%u2215|%u2216|%252f|%255c|;)"
    };
}

pub static RULES: &[Rule] = &[
    // Climbing two or more levels: a relative import climbs one or two, a traversal keeps going
    // or mixes separators, so two steps weigh less than three.
    r("PG-PT-001", PathTraversal, 0.85, Payload, "three or more ../ steps in any encoding (%2e%2e%2f, ..%5c, double encoding)", concat!(up!(), "[^\\s]{0,4}", up!(), "[^\\s]{0,4}", up!())),
    r("PG-PT-002", PathTraversal, 0.6, Payload, "two ../ steps in any encoding", concat!(up!(), "[^\\s]{0,4}", up!())),
    // One step at the start of a value, with separators a developer would not write.
    r("PG-PT-003", PathTraversal, 0.55, Payload, "..\\ and ..; steps, and overlong or Unicode-encoded dots and slashes (%c0%ae, %u2215)", "(?:\\.\\.\\\\|\\.\\.;)|(?:0x2e|%c0%ae|%u002e)(?:\\.|0x2e|%c0%ae|%u002e)|(?:0x5c|0x2f|%c0%af|%c1%9c|%u2215)(?:\\.|0x2e)"),
    // Files read first after a traversal or by an inclusion.
    r("PG-PT-004", PathTraversal, 0.85, Payload, "sensitive system files: /etc/passwd, /etc/shadow and other /etc files, /proc/…, .ssh keys …",
        "/etc/(?:passwd|shadow|group|gshadow|hosts|master\\.passwd|subuid|subgid|sudoers|issue|crontab|fstab|apache2|httpd|nginx|mysql|ssh/|security/|environment|profile|bashrc|motd|resolv\\.conf|hostname|os-release|inetd\\.conf)|/proc/[a-z0-9]|\\.ssh/(?:id_[a-z0-9]+|authorized_keys|known_hosts)|\\.(?:htaccess|htpasswd|bash_history|aws/credentials|docker/config\\.json|git/config|kube/config)\\b|[/\\\\](?:windows|winnt)[/\\\\]+(?:win\\.ini|system\\.ini|repair[/\\\\]|debug[/\\\\])|\\b(?:win|boot|system)\\.ini\\b|/var/log/|/sys/(?:class|kernel|devices)\\b|\\bweb\\.config\\b|/(?:root|home/[a-z0-9_.-]+)/\\."),
    // Dotfiles that hold credentials or tool settings, requested as a path.
    r("PG-PT-008", PathTraversal, 0.55, Payload, "secrets in dot-files and dot-directories: /.env, /.git/, /.npmrc, /.netrc, /.kube/, coding-agent configs",
        "/\\.(?:env\\b|git/|svn/|hg/|history\\b|npmrc|pypirc|netrc|docker/|kube/|claude/|cursor/|codex/|continue/|aider|windsurf/|vscode/)"),
    // PHP and other stream wrappers that read files, run code or reach internal services.
    r("PG-PT-005", PathTraversal, 0.85, Payload, "PHP stream wrappers: php://filter, phar://, zip://, expect://, data://",
        "\\b(?:php|phar|zip|expect|glob|compress\\.zlib|compress\\.bzip2|ogg|rar|ssh2\\.[a-z]+|zlib)://|\\bdata://|\\bphp://(?:filter|input|fd|memory|temp)"),
    r("PG-PT-006", PathTraversal, 0.6, Payload, "file:// URLs and gopher://, dict://, ldap://, tftp://, jar:// schemes", "\\bfile:/{1,3}[a-z/.%~]|\\b(?:gopher|dict|ldap|tftp|jar)://"),
    // A null byte cutting off the extension the application appends.
    r("PG-PT-007", PathTraversal, 0.6, Payload, "a null byte cutting an extension off: %00, \\x00, \\u0000 next to .ext", "%00(?:$|[\\s&])|(?:%00|\\\\x00|\\\\u0000)\\.[a-z0-9]{1,5}\\b|\\.[a-z0-9]{1,5}(?:%00|\\\\x00|\\\\u0000)"),
];
