#!/usr/bin/env python3
"""Build eval/llm_docs/llm_docs.jsonl: benign text about LLM APIs (prompts, messages, models,
tools, system prompts), a training source of the learned attack model (`make train`).

Every row is the docstring of a module, class or function of two client libraries pinned in
tests/requirements.txt, taken as it stands (dedented by `inspect.cleandoc`): the Anthropic
Python SDK (`anthropic` 2.12.0, Apache-2.0) and LangChain's core package (`langchain-core`
1.8.3, MIT). Such prose talks about prompts, roles and models the way developers do, which the
attack data's benign files do not; without it the model takes "system prompt" or "you are an
assistant" for attack vocabulary.

Rows: 40 to 3,000 characters, deduplicated by text, at most `CAP` per package chosen by a seeded
shuffle of the sorted docstrings. Format: the attack data's injection format,
`{"id","text","label","category","source","meta"}`, label 0, category `benign:llm_docs`.

Usage: .venv/bin/python scripts/build_llm_docs_corpus.py [--out eval/llm_docs]
(the interpreter of the virtualenv, where the packages are installed). Deterministic: sorted
files, sorted docstrings, one seeded generator.
"""

import argparse
import ast
import importlib
import importlib.metadata
import inspect
import json
import os
import random
import sys

PACKAGES = [("anthropic", "anthropic", "2.12.0", "Apache-2.0"), ("langchain_core", "langchain-core", "1.8.3", "MIT")]
CAP = 900
MIN_CHARS = 40
MAX_CHARS = 3000
SEED = 16


def docstrings(path):
    """The docstrings of a Python file's module, classes and functions, in file order."""
    with open(path, encoding="utf-8") as f:
        try:
            tree = ast.parse(f.read())
        except SyntaxError:
            return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                out.append(inspect.cleandoc(doc))
    return out


def package_rows(module, dist, version, licence):
    installed = importlib.metadata.version(dist)
    if installed != version:
        sys.exit(f"{dist} {installed} is installed; this corpus is built from {version}")
    root = os.path.dirname(importlib.import_module(module).__file__)
    texts = set()
    for base, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                for doc in docstrings(os.path.join(base, name)):
                    if MIN_CHARS <= len(doc) <= MAX_CHARS:
                        texts.add(doc)
    texts = sorted(texts)
    random.Random(SEED).shuffle(texts)
    return [
        {
            "id": f"llm_docs:{dist}:{i}",
            "text": text,
            "label": 0,
            "category": "benign:llm_docs",
            "source": f"{dist} {version} ({licence})",
            "meta": {"package": dist, "version": version, "licence": licence},
        }
        for i, text in enumerate(texts[:CAP])
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="eval/llm_docs")
    args = parser.parse_args()
    rows = []
    for module, dist, version, licence in PACKAGES:
        rows.extend(package_rows(module, dist, version, licence))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "llm_docs.jsonl"), "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} rows")


if __name__ == "__main__":
    main()
