#!/usr/bin/env python3
"""Build the developer-traffic corpus (eval/dev_traffic/*.jsonl) from public sources.

Every item is text as a coding or support assistant receives it: a statement, snippet, question,
log or documentation passage taken as it stands from a public source (never written for this
corpus), tagged with a category and with the role it arrives in (`user`: a person's message,
`tool`: a tool result or retrieved document). Items are labelled benign (0).

Sources (see eval/README.md for licences and the pinned versions):
  git repositories, read at a pinned commit with `git show` (pass each one's git directory):
    --tldr        tldr-pages/tldr                  shell commands with their descriptions
    --owasp       OWASP/CheatSheetSeries           security prose and code (SQLi, XSS, ...)
    --cookbook    anthropics/anthropic-cookbook    LLM API notebooks (prompts, roles, tools)
    --openai      openai/openai-python             LLM API README, examples and helpers
    --jsq         lydiahallie/javascript-questions JavaScript questions with code
    --mdn         mdn/learning-area                HTML and JavaScript examples
    --airbnb      airbnb/javascript                JavaScript style guide (prose and code)
    --flask       pallets/flask                    code review: diff hunks of recent commits
  Debian documentation packages, read from their installed files (version from dpkg):
    postgresql-doc-15, sqlite3-doc, python3.11-doc

Usage: python3 scripts/build_dev_corpus.py --tldr DIR --owasp DIR ... [--out eval/dev_traffic]
The selection is deterministic (sorted inputs, a seeded shuffle, fixed caps per source).
"""

import argparse
import hashlib
import html
import html.parser
import json
import os
import random
import re
import subprocess
import sys

PINS = {
    "tldr": "08e345f42639f67d99282813247ac670dc6e87cb",
    "owasp": "6b8819da79e0537d072e04296ffa3adfc94ba881",
    "cookbook": "4b36a1e1f64361397f4cbe4fbc7cdace338f16f8",
    "openai": "e43b422412a9e96c9cc5192c61fffbe2d7e04836",
    "jsq": "a8b427b9f7f94f1a2965144ba544b475c5f65829",
    "mdn": "ca1ff0bd06e12b96a6742ffdf040bb22966e5a5e",
    "airbnb": "8ed19247bef145e3cc41b24a02dd1fe6d9b5e681",
    "flask": "2ac89889f4cc330eabd50f295dcef02828522c69",
}
DEBIAN = {
    "postgresql-doc-15": "/usr/share/doc/postgresql-doc-15/html",
    "sqlite3-doc": "/usr/share/doc/sqlite3",
    "python3.11-doc": "/usr/share/doc/python3.11/html/_sources",
}
MIN_CHARS = 20
MAX_CHARS = 3000
SEED = 12


# ---------------------------------------------------------------- reading sources


def git_files(gitdir, commit, prefix="", suffixes=()):
    out = subprocess.run(
        ["git", "--git-dir", gitdir, "ls-tree", "-r", "--name-only", commit, "--", prefix] if prefix else
        ["git", "--git-dir", gitdir, "ls-tree", "-r", "--name-only", commit],
        check=True, capture_output=True, text=True).stdout.splitlines()
    return sorted(p for p in out if not suffixes or p.endswith(suffixes))


def git_text(gitdir, commit, path):
    r = subprocess.run(["git", "--git-dir", gitdir, "show", f"{commit}:{path}"], capture_output=True)
    if r.returncode != 0:
        return None
    return r.stdout.decode("utf-8", "replace")


def debian_version(package):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    return r.stdout.strip() or None


def clean(text):
    text = text.replace("\r\n", "\n").strip("\n")
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def md_blocks(text):
    """Markdown split into ("code", lang, body) and ("para", "", body) blocks."""
    blocks, para, code, lang, fence = [], [], None, "", None
    for line in text.split("\n"):
        stripped = line.strip()
        if code is not None:
            if stripped.startswith(fence):
                blocks.append(("code", lang, "\n".join(code)))
                code = None
            else:
                code.append(line)
            continue
        m = re.match(r"^\s*(```+|~~~+)\s*([\w+-]*)", line)
        if m:
            if para:
                blocks.append(("para", "", "\n".join(para)))
                para = []
            fence, lang, code = m.group(1), m.group(2).lower(), []
            continue
        if not stripped:
            if para:
                blocks.append(("para", "", "\n".join(para)))
                para = []
            continue
        para.append(line)
    if para:
        blocks.append(("para", "", "\n".join(para)))
    return blocks


def is_prose_para(body):
    """A paragraph of sentences (not a heading, table, list of links or HTML)."""
    s = body.strip()
    if s.startswith(("#", "|", "<", "!", "[", ">", "---", "===")):
        return False
    return len(re.findall(r"[A-Za-z]{2,}", s)) >= 6


def strip_md_links(text):
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)


class HtmlPieces(html.parser.HTMLParser):
    """Text of <pre> blocks (with their class) and of <p> paragraphs of an HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pres, self.paras = [], []
        self._pre, self._p, self._cls = None, None, ""

    def handle_starttag(self, tag, attrs):
        if tag == "pre":
            self._pre, self._cls = [], dict(attrs).get("class", "") or ""
        elif tag == "p" and self._pre is None:
            self._p = []

    def handle_endtag(self, tag):
        if tag == "pre" and self._pre is not None:
            self.pres.append((self._cls, "".join(self._pre)))
            self._pre = None
        elif tag == "p" and self._p is not None:
            self.paras.append(re.sub(r"\s+", " ", "".join(self._p)).strip())
            self._p = None

    def handle_data(self, data):
        if self._pre is not None:
            self._pre.append(data)
        elif self._p is not None:
            self._p.append(data)


def html_pieces(path):
    p = HtmlPieces()
    with open(path, encoding="utf-8", errors="replace") as f:
        p.feed(f.read())
    return p


# ---------------------------------------------------------------- items

SQL_START = re.compile(r"^\s*(SELECT|WITH|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|GRANT|REVOKE|BEGIN|COMMIT|"
                       r"EXPLAIN|VACUUM|COPY|TRUNCATE|PREPARE|EXECUTE|DECLARE|SET|SHOW|REINDEX|ANALYZE|ATTACH|"
                       r"PRAGMA|CALL|DO|LISTEN|NOTIFY|COMMENT|VALUES|UNION|MERGE)\b")

IMPERATIVE = re.compile(
    r"(?:^|[.!?:]\s+)(?:Please\s+)?(?:Add|Avoid|Call|Change|Check|Choose|Click|Configure|Consider|Copy|Create|Define|"
    r"Delete|Do|Don't|Enable|Ensure|Enter|Format|Give|Go|Install|Keep|Let|List|Look|Make|Note|Open|Pass|Read|"
    r"Refer|Remember|Remove|Replace|Return|Run|See|Select|Set|Start|Summari[sz]e|Take|Try|Type|Update|Use|"
    r"Write|Could you|Can you|Would you)\b")


class Corpus:
    def __init__(self):
        self.items = {}

    def add(self, category, role, source, origin, text):
        text = clean(text)
        if not (MIN_CHARS <= len(text) <= MAX_CHARS):
            return
        digest = hashlib.sha1(text.encode()).hexdigest()[:12]
        key = (category, digest)
        if key in self.items:
            return
        self.items[key] = {
            "id": f"dev-{category}-{digest}",
            "text": text,
            "label": 0,
            "category": f"benign:dev_{category}",
            "source": source,
            "meta": {"dev_category": category, "role": role, "origin": origin},
        }


def capped(items, cap, rng):
    items = list(items)
    rng.shuffle(items)
    return items[:cap]


def tldr_render(command):
    """A tldr command as a tldr client prints it: placeholders without braces, long options."""
    command = re.sub(r"\{\{\[([^|\]]*)\|([^\]]*)\]\}\}", r"\2", command)
    return command.replace("{{", "").replace("}}", "")


def from_tldr(c, gitdir, rng):
    pin = PINS["tldr"]
    examples = []
    for path in git_files(gitdir, pin, "pages/", (".md",)):
        if not path.startswith(("pages/common/", "pages/linux/", "pages/osx/")):
            continue
        text = git_text(gitdir, pin, path) or ""
        pairs = re.findall(r"^- (.+?)\n\n`(.+?)`$", text, re.M)
        for desc, cmd in pairs:
            examples.append((path, desc.strip().rstrip(":"), tldr_render(cmd)))
    for path, desc, cmd in capped(examples, 700, rng):
        # Half as a person writes them (the command with what it should do), half the bare command.
        if int(hashlib.sha1(cmd.encode()).hexdigest(), 16) % 2:
            c.add("shell", "user", "tldr", path, f"{desc}\n\n{cmd}")
        else:
            c.add("shell", "user", "tldr", path, cmd if len(cmd) >= MIN_CHARS else f"{desc}: {cmd}")
    # Page descriptions read as tool output (a help lookup).
    pages = []
    for path in git_files(gitdir, pin, "pages/common/", (".md",)):
        text = git_text(gitdir, pin, path) or ""
        body = "\n".join(line for line in text.split("\n") if not line.startswith("#"))
        pages.append((path, strip_md_links(body)))
    for path, body in capped(pages, 150, rng):
        c.add("tool_output_imperatives", "tool", "tldr", path, body)


def from_owasp(c, gitdir, rng):
    pin = PINS["owasp"]
    paras, codes = [], []
    for path in git_files(gitdir, pin, "cheatsheets/", (".md",)):
        # Catalogues of attack strings (the XSS filter evasion list, quoted prompt injections)
        # are attacks as examples, not ordinary traffic: left out, like the cookbook's below.
        if re.search(r"Filter_Evasion|Prompt_Injection", path):
            continue
        for kind, _lang, body in md_blocks(git_text(gitdir, pin, path) or ""):
            if kind == "code":
                codes.append((path, body))
            elif is_prose_para(body):
                paras.append((path, strip_md_links(body)))
    for path, body in capped(paras, 500, rng):
        c.add("security_concepts", "user", "owasp_cheatsheets", path, body)
    for path, body in capped(codes, 250, rng):
        c.add("security_concepts", "user", "owasp_cheatsheets", path, body)


def notebook_cells(text):
    try:
        nb = json.loads(text)
    except ValueError:
        return []
    out = []
    for cell in nb.get("cells", []):
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        out.append((cell.get("cell_type", ""), src))
    return out


def from_cookbook(c, gitdir, rng):
    pin = PINS["cookbook"]
    pieces = []
    for path in git_files(gitdir, pin, "", (".ipynb", ".md")):
        # Notebooks about attacking or moderating models hold attacks as examples: not ordinary traffic.
        if re.search(r"jailbreak|injection|moderation", path, re.I) or path.startswith(".claude"):
            continue
        text = git_text(gitdir, pin, path) or ""
        if path.endswith(".ipynb"):
            for kind, src in notebook_cells(text):
                if kind == "code":
                    pieces.append(("llm_api", "user", path, src))
                elif kind == "markdown":
                    for k, _, body in md_blocks(src):
                        if k == "code" or is_prose_para(body):
                            pieces.append(("llm_api", "user", path, strip_md_links(body)))
        else:
            for k, _, body in md_blocks(text):
                if k == "code" or is_prose_para(body):
                    pieces.append(("llm_api", "tool", path, strip_md_links(body)))
    for cat, role, path, body in capped(pieces, 600, rng):
        c.add(cat, role, "anthropic_cookbook", path, body)


def from_openai(c, gitdir, rng):
    pin = PINS["openai"]
    pieces = []
    for path in ["README.md", "helpers.md", "api.md"] + git_files(gitdir, pin, "examples/", (".py",)):
        text = git_text(gitdir, pin, path)
        if text is None:
            continue
        if path.endswith(".py"):
            pieces.append(("user", path, text))
            continue
        for k, _, body in md_blocks(text):
            if k == "code" or is_prose_para(body):
                pieces.append(("tool" if path == "api.md" else "user", path, strip_md_links(body)))
    for role, path, body in capped(pieces, 300, rng):
        c.add("llm_api", role, "openai_python", path, body)


def from_jsq(c, gitdir, rng):
    pin = PINS["jsq"]
    text = git_text(gitdir, pin, "README.md") or ""
    questions = re.findall(r"###### \d+\. (.+?)\n\n```(?:javascript|js|html)?\n(.*?)\n```", text, re.S)
    for q, code in questions:
        c.add("html_js", "user", "javascript_questions", "README.md", f"{q.strip()}\n\n{code}")


def from_mdn(c, gitdir, rng):
    pin = PINS["mdn"]
    chunks = []
    for path in git_files(gitdir, pin, "", (".html", ".js")):
        text = git_text(gitdir, pin, path) or ""
        if path.endswith(".js"):
            chunks.append((path, text))
            continue
        # Script elements and the body markup of the example pages, as a person pastes them.
        for m in re.finditer(r"<script\b[^>]*>.*?</script>", text, re.S | re.I):
            chunks.append((path, m.group(0)))
        body = re.search(r"<body\b[^>]*>(.*?)</body>", text, re.S | re.I)
        if body:
            chunks.append((path, body.group(1)))
    for path, body in capped(chunks, 500, rng):
        lines = body.strip("\n").split("\n")
        c.add("html_js", "user", "mdn_learning_area", path, "\n".join(lines[:60]))


def from_airbnb(c, gitdir, rng):
    pin = PINS["airbnb"]
    pieces = []
    for path in ["README.md", "react/README.md", "css-in-javascript/README.md"]:
        for k, _, body in md_blocks(git_text(gitdir, pin, path) or ""):
            if k == "code" or is_prose_para(body):
                pieces.append((path, strip_md_links(re.sub(r"<a name=[^>]*></a>", "", body))))
    for path, body in capped(pieces, 300, rng):
        c.add("html_js", "user", "airbnb_javascript", path, body)


def from_flask(c, gitdir, rng):
    pin = PINS["flask"]
    commits = subprocess.run(["git", "--git-dir", gitdir, "rev-list", "--no-merges", "--max-count=400", pin],
                             check=True, capture_output=True, text=True).stdout.split()
    hunks = []
    for sha in commits:
        diff = subprocess.run(["git", "--git-dir", gitdir, "show", "--format=", "--no-color", "-U3", sha],
                              capture_output=True).stdout.decode("utf-8", "replace")
        for file_diff in re.split(r"(?m)^diff --git ", diff)[1:]:
            header, _, rest = file_diff.partition("\n@@")
            name = header.split("\n")[0].split(" b/")[-1]
            if not name.endswith((".py", ".html", ".rst", ".toml", ".cfg", ".txt", ".md", ".yaml", ".yml", ".js")):
                continue
            for h in re.split(r"(?m)^@@", "@@" + rest)[1:]:
                hunks.append((sha, name, f"--- a/{name}\n+++ b/{name}\n@@{h}"))
    for sha, name, body in capped(hunks, 600, rng):
        lines = body.split("\n")[:60]
        c.add("code_review", "user", "flask_history", f"{sha[:12]}:{name}", "\n".join(lines))


def from_postgres(c, root, rng):
    listings, screens, paras = [], [], []
    for name in sorted(os.listdir(root)):
        if not name.endswith(".html"):
            continue
        p = html_pieces(os.path.join(root, name))
        for cls, body in p.pres:
            if cls == "programlisting" and SQL_START.search(body):
                listings.append((name, body))
            elif cls == "screen" and re.search(r"ERROR|LOG|DETAIL|HINT|WARNING|FATAL", body):
                screens.append((name, body))
        for para in p.paras:
            if len(para) >= 80:
                paras.append((name, para))
    for name, body in capped(listings, 650, rng):
        c.add("sql", "user", "postgresql_docs", name, body)
    for name, body in capped(screens, 120, rng):
        c.add("logs_traces", "tool", "postgresql_docs", name, body)
    imper = [(n, p) for n, p in paras if IMPERATIVE.search(p)]
    for name, body in capped(imper, 250, rng):
        c.add("tool_output_imperatives", "tool", "postgresql_docs", name, body)


def from_sqlite(c, root, rng):
    listings = []
    for name in sorted(os.listdir(root)):
        if not name.endswith(".html"):
            continue
        p = html_pieces(os.path.join(root, name))
        for _, body in p.pres:
            if SQL_START.search(body) or re.search(r"\b(SELECT|CREATE TABLE|INSERT INTO)\b", body):
                listings.append((name, body))
    for name, body in capped(listings, 250, rng):
        c.add("sql", "user", "sqlite_docs", name, body)


def rst_blocks(text):
    """reST split into literal blocks (after `::` or doctest `>>>`) and paragraphs."""
    blocks, cur, literal = [], [], False
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == "":
            if cur:
                blocks.append(("literal" if literal else "para", "\n".join(cur)))
                cur, literal = [], False
            i += 1
            continue
        if line.startswith((" ", "\t")) and not cur:
            # An indented block: collect it (blank lines inside allowed) as a literal block.
            block = []
            while i < len(lines) and (lines[i].startswith((" ", "\t")) or lines[i].strip() == ""):
                block.append(lines[i])
                i += 1
            body = "\n".join(block).strip("\n")
            indent = min((len(line) - len(line.lstrip()) for line in block if line.strip()), default=0)
            blocks.append(("literal", "\n".join(line[indent:] for line in body.split("\n"))))
            continue
        cur.append(line)
        i += 1
    if cur:
        blocks.append(("para", "\n".join(cur)))
    return blocks


def rst_plain(text):
    text = re.sub(r":[a-z:]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`", r"\1", text)
    return text.replace("``", "`")


def from_python_docs(c, root, rng):
    traces, sqlite_code, imper, questions, shell = [], [], [], [], []
    for dirpath, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            if not f.endswith(".rst.txt"):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, root)
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            if rel.startswith("faq/"):
                for q in re.findall(r"^(.+\?)\n[-=^~]{4,}$", text, re.M):
                    questions.append((rel, q.strip()))
            for kind, body in rst_blocks(text):
                if kind == "literal":
                    if "Traceback (most recent call last)" in body or re.search(r"^\w*(Error|Exception|Warning):", body, re.M):
                        traces.append((rel, body))
                    elif rel == "library/sqlite3.rst.txt":
                        sqlite_code.append((rel, body))
                    elif body.startswith("$ ") or re.match(r"^(python3?|pip|git|make|\./)\s", body):
                        shell.append((rel, body))
                elif kind == "para" and not body.lstrip().startswith(("..", ":", "*", "-", "=")):
                    plain = rst_plain(body)
                    if IMPERATIVE.search(plain) and len(plain) >= 80:
                        imper.append((rel, plain))
    for rel, body in capped(traces, 500, rng):
        role = "tool" if int(hashlib.sha1(body.encode()).hexdigest(), 16) % 2 else "user"
        c.add("logs_traces", role, "python_docs", rel, body)
    for rel, body in capped(sqlite_code, 120, rng):
        c.add("sql", "user", "python_docs", rel, body)
    for rel, body in capped(imper, 300, rng):
        c.add("tool_output_imperatives", "tool", "python_docs", rel, body)
    for rel, q in questions:
        c.add("dev_questions", "user", "python_docs", rel, q)
    for rel, body in capped(shell, 150, rng):
        c.add("shell", "user", "python_docs", rel, body)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for key in PINS:
        ap.add_argument(f"--{key}", required=True, help=f"git directory of the {key} source")
    ap.add_argument("--out", default="eval/dev_traffic")
    args = ap.parse_args()
    for pkg, path in DEBIAN.items():
        if not os.path.isdir(path) or debian_version(pkg) is None:
            sys.exit(f"install the Debian package {pkg} first (apt-get install {pkg})")
    c = Corpus()
    rng = random.Random(SEED)
    from_tldr(c, args.tldr, rng)
    from_owasp(c, args.owasp, rng)
    from_cookbook(c, args.cookbook, rng)
    from_openai(c, args.openai, rng)
    from_jsq(c, args.jsq, rng)
    from_mdn(c, args.mdn, rng)
    from_airbnb(c, args.airbnb, rng)
    from_flask(c, args.flask, rng)
    from_postgres(c, DEBIAN["postgresql-doc-15"], rng)
    from_sqlite(c, DEBIAN["sqlite3-doc"], rng)
    from_python_docs(c, DEBIAN["python3.11-doc"], rng)
    os.makedirs(args.out, exist_ok=True)
    by_cat = {}
    for item in c.items.values():
        by_cat.setdefault(item["meta"]["dev_category"], []).append(item)
    for cat, items in sorted(by_cat.items()):
        items.sort(key=lambda i: i["id"])
        with open(os.path.join(args.out, f"{cat}.jsonl"), "w", encoding="utf-8") as f:
            for item in items:
                f.write(json.dumps(item, ensure_ascii=False) + "\n")
        roles = {r: sum(1 for i in items if i["meta"]["role"] == r) for r in ("user", "tool")}
        print(f"{cat}: {len(items)} items ({roles['user']} user, {roles['tool']} tool)")
    versions = {pkg: debian_version(pkg) for pkg in DEBIAN}
    print("debian packages:", json.dumps(versions))


if __name__ == "__main__":
    main()
