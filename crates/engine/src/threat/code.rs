//! Server-side code injection: template expressions (`{{7*7}}`), Log4j lookups (`${jndi:`),
//! PHP open tags and dangerous calls, Java runtime access and expression languages, Node.js
//! process access and prototype pollution.
//!
//! The families come from the template languages' documentation (Jinja2, Twig, Freemarker,
//! ERB, Thymeleaf/SpEL), the Log4j 2 lookup documentation and CVE-2021-44228, the PHP manual
//! (tags, program execution functions, superglobals), the Java SE API (`Runtime`,
//! `ProcessBuilder`) and the Node.js `child_process` and `process` documentation. Written for
//! this project.

use super::rules::{r, Rule, View::Payload};
use super::Category::CodeInjection;

pub static RULES: &[Rule] = &[
    // Log4j lookups, including nested lookups used to spell `jndi` in pieces.
    r("PG-CO-001", CodeInjection, 0.9, Payload, "Log4Shell and lookup injection: ${jndi:ldap://, ${env:, ${lower:, nested ${${",
        "\\$\\{\\s*(?:[a-z]*\\$\\{|jndi\\s*:|(?:lower|upper|env|sys|date|main|java|base64|ctx|marker|bundle|docker|k8s|spring|log4j|jvmrunargs)\\s*:|::-)|\\bjndi\\s*:\\s*(?:ldaps?|rmi|dns|iiop|corba|nds|nis|https?)\\b"),
    // Template expressions that compute or reach into the runtime.
    r("PG-CO-002", CodeInjection, 0.8, Payload, "template expression probes and escapes: {{7*7}}, ${7*7}, <%= 7*7 %>, {{ __class__ … __globals__ }}",
        "(?:\\{\\{|\\$\\{|#\\{|<%=?|\\{%|\\*\\{)\\s*[0-9]+\\s*[*+]\\s*['\"]?[0-9]+['\"]?\\s*(?:\\}|%>)|\\{\\{[^}]{0,80}(?:__class__|__globals__|__builtins__|__subclasses__|__mro__|__import__|\\.popen\\b|config\\.items|request\\.application|lipsum\\.|cycler\\.|joiner\\.|self\\._templatereference|_self\\.env|\\.constructor)|[#$]\\{[^}]{0,80}(?:process\\.|require\\s*\\(|getruntime|java\\.lang|new java\\.|\\bt\\s*\\()"),
    // PHP open tags and pseudo-tags; with a dangerous call after them they are a payload. A tag
    // that ends the value or is itself a name (`session=<?php`, a parameter named `<?php`)
    // opens no code: the tag must be followed by something other than the end or `=`.
    r("PG-CO-003", CodeInjection, 0.5, Payload, "a PHP opening tag with code after it: <?php …, <?= …",
        "<\\?(?:php\\b|=)\\s*[^\\s=]|<\\?\\s+php\\b\\s*[^\\s=]|[\\[{]/?php[\\]}]"),
    r("PG-CO-004", CodeInjection, 0.85, Payload, "a PHP tag followed by a dangerous call: system, exec, eval, include, base64_decode …",
        "<\\?(?:php\\b|=|\\s)[^>]{0,80}\\b(?:system|exec|passthru|shell_exec|popen|proc_open|eval|assert|include|require|file_get_contents|file_put_contents|fputs|fwrite|base64_decode|phpinfo|echo)\\b|\\b(?:system|exec|passthru|shell_exec|popen|proc_open|eval|assert|include|require(?:_once)?|include_once|file_get_contents|readfile|highlight_file|show_source|unserialize|create_function|call_user_func(?:_array)?)\\s*\\(\\s*[^)]{0,40}\\$_(?:get|post|request|cookie|server|files)\\b"),
    // PHP functions that exist to run or hide code.
    r("PG-CO-005", CodeInjection, 0.6, Payload, "PHP dangerous functions and superglobals: phpinfo(, shell_exec(, $_GET[, base64_decode(",
        "\\b(?:phpinfo|shell_exec|passthru|proc_open|pcntl_exec|gzinflate|str_rot13|assert)\\s*\\(|\\bsystem\\s*\\(\\s*['\"]|\\$_(?:get|post|request|cookie|server|files|env|session)\\s*\\[|\\bbase64_decode\\s*\\("),
    // PHP calls through a variable or a parenthesised name (`$f(1)`, `$__['o'](5)`,
    // `(system)('id')`), serialised PHP objects, and uploads named as PHP scripts.
    r("PG-CO-009", CodeInjection, 0.6, Payload, "a PHP variable function call: $x(, ${$x}[0](",
        "\\$+\\{?\\$?[a-z_][a-z0-9_]*\\}?(?:\\s*\\[[^\\]\\n]{1,20}\\])*\\s*(?:/\\*[^*]{0,20}\\*/\\s*)?\\("),
    r("PG-CO-010", CodeInjection, 0.85, Payload, "a dangerous PHP function called through a string or array ((\"system\")(, a serialised PHP object (O:8:\"…\"), a .php file name in an upload",
        "\\(\\s*(?:\\[\\s*)?['\"]?(?:system|exec|passthru|shell_exec|assert|eval|popen|proc_open)['\"]?\\s*\\]?\\s*\\)\\s*(?:\\[\\s*0\\s*\\]\\s*)?\\(|\\bo:[0-9]+:\"[a-z_\\\\][a-z0-9_\\\\]*\":[0-9]+:\\{|file-?name\\s*[=:]\\s*[\"']?[^\"'\\s]*\\.\\s*(?:php[0-9t]?|phtml|phar|pht)\\b"),
    // Java runtime access and expression-language gadgets. A class name as an XML attribute's
    // name (`<e java.lang.Runtime="v">`, a quoted value after it) names no class to load: XML
    // binders such as XStream read classes from element names and `class` attributes' values.
    r("PG-CO-006", CodeInjection, 0.8, Payload, "Java runtime access: java.lang.Runtime (not as an XML attribute name), getRuntime(), ProcessBuilder, Class.forName",
        "java\\.lang\\.(?:runtime|processbuilder|system|reflect|classloader|thread|class)(?:[^a-z0-9_=]|=[^\"']|$)|runtime\\s*\\.\\s*getruntime\\s*\\(|new processbuilder\\b|\\.getclass\\s*\\(\\s*\\)\\s*\\.\\s*forname|class\\.(?:module\\.)?classloader|@java\\.lang|org\\.apache\\.commons\\.collections\\.functors|javax\\.script\\.scriptenginemanager|#_memberaccess|xwork\\.methodaccessor"),
    // Node.js process access, constructor climbing and serialised functions. `__proto__: null`
    // in an object literal is the idiom that makes an object without a prototype (the defence
    // against pollution), not a pollution payload.
    r("PG-CO-007", CodeInjection, 0.75, Payload, "Node.js process access: child_process, process.binding, constructor.constructor",
        "require\\s*\\(\\s*['\"`]child_process|\\bchild_process\\b|process\\s*\\.\\s*(?:binding|mainmodule|dlopen)\\b|process\\s*\\[\\s*['\"]?(?:env|mainmodule|binding)|constructor\\s*\\.\\s*constructor|_\\$\\$nd_func\\$\\$_|\\b__proto__\\b(?:\\s*[^\\s:]|\\s*:\\s*[^\\sn]|\\s*$)|\\bconstructor\\s*\\[\\s*['\"]prototype"),
    r("PG-CO-008", CodeInjection, 0.4, Payload, "JavaScript code shapes: process.env, new Function(, String.fromCharCode, require( (weak alone)",
        "\\bprocess\\s*\\.\\s*env\\b|\\bnew\\s+function\\s*\\(|\\bfunction\\s*\\(\\s*\\)\\s*\\{|string\\s*\\.\\s*fromcharcode|\\bconsole\\s*[.\\[]\\s*['\"]?(?:info|log|error)\\b|\\brequire\\s*[\\[(]"),
];
