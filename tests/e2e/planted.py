"""One prompt carrying a realistic value of every entity kind the filter masks by default.

Provenance of each value (none of them is a live credential):
- EMAIL: example.com is reserved for documentation (RFC 2606).
- PHONE: 555-0100..0199 numbers are reserved for fictional use by the North American Numbering Plan.
- US_SSN: written for this project; area 536, group 90, serial 4411 satisfy the SSA's structural
  rules (area not 000/666/9xx, group and serial not zero).
- CREDIT_CARD: 4242 4242 4242 4242 is Stripe's documented test Visa number (passes Luhn).
- IBAN: GB82 WEST 1234 5698 7654 32 is the United Kingdom example of the SWIFT IBAN registry
  (passes ISO 13616 mod-97).
- IP_ADDRESS: 203.0.113.0/24 is TEST-NET-3, reserved for documentation (RFC 5737).
- AWS_ACCESS_KEY / AWS_SECRET_KEY: written for this project in the formats AWS documents (AKIA +
  16 base32 characters; 40 base64 characters). AWS's own documentation pair
  (AKIAIOSFODNN7EXAMPLE / ...EXAMPLEKEY) is deliberately not used: the detector treats documented
  stand-ins as non-secrets, and this prompt is about the masking path, not that rule.
- GITHUB_TOKEN: written for this project in GitHub's documented format: ghp_ + 30 base62 characters
  + a 6-character base62 CRC32 of those 30 (computed below, so checksum validators accept it).
- GITLAB_TOKEN: written for this project, GitLab's documented glpat- + 20 characters format.
- SLACK_TOKEN: written for this project in Slack's documented xoxb-<team>-<bot>-<secret> format.
- STRIPE_KEY: the secret test key shown in Stripe's public API reference examples.
- OPENAI_KEY: written for this project in OpenAI's project-key format (sk-proj-, T3BlbkFJ marker).
- ANTHROPIC_KEY: written for this project in Anthropic's sk-ant-api03-...AA format.
- GOOGLE_API_KEY: written for this project in Google's documented AIza + 35 characters format.
- JWT: made here: HS256 over a test payload with a test key (RFC 7519 structure).
- PRIVATE_KEY: made here: a PEM block (RFC 7468 "PRIVATE KEY" label) around deterministic bytes.
- SECRET: the password from xkcd 936, as the value of a password= assignment.
"""

import base64
import hashlib
import hmac
import json
import zlib

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(number, width):
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def github_token():
    body = "R8b2Xk9LmQ4vT7nW1pZs5Yc3Hd6Jf0"
    return "ghp_" + body + base62(zlib.crc32(body.encode("ascii")), 6)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt():
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64url(json.dumps({"sub": "e2e-user-42", "name": "E2E Test", "iat": 1700000000},
                                separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = hmac.new(b"prompt-guard-e2e-test-key", signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def pem_private_key():
    material = b"".join(hashlib.sha256(f"prompt-guard-e2e-{i}".encode()).digest() for i in range(8))
    encoded = base64.b64encode(material).decode("ascii")
    lines = [encoded[i:i + 64] for i in range(0, len(encoded), 64)]
    return "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----"


# 93 characters, the length of the random part of Anthropic API keys.
ANTHROPIC_BODY = ("Q7m2Xk9Lp4Tz8Rv1Nw6Bs3Hd5Jf0Gc2Ye7Ui4Oa9Pe1Mq6Wt3Zr8Kx5Lv2Nb7Ds0Hf4Jg9Tc1Yu6Ie3Ow8"
                  "Pa5Qs2Md7Rf0Xe4Vh9A")[:93]

# (placeholder label, value as planted). The prompt below states each in its own line, with the
# wording a person would use, avoiding "token:"/"password=" except for the SECRET line so that
# each value has one obvious kind.
PLANTED = [
    ("EMAIL", "jane.doe@example.com"),
    ("PHONE", "(212) 555-0147"),
    ("US_SSN", "536-90-4411"),
    ("CREDIT_CARD", "4242 4242 4242 4242"),
    ("IBAN", "GB82 WEST 1234 5698 7654 32"),
    ("IP_ADDRESS", "203.0.113.42"),
    ("AWS_ACCESS_KEY", "AKIA4Q7ZT2LMXK6RBW3N"),
    ("AWS_SECRET_KEY", "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"),
    ("GITHUB_TOKEN", github_token()),
    ("GITLAB_TOKEN", "glpat-x9Yv3Kq7Lm2Np5Rs8Tw1"),
    ("SLACK_TOKEN", "xoxb-2048163127-4096327145-Zq8Rt3Yw6Uv9Xp2Ks5Lm7Nb4D"),
    ("STRIPE_KEY", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
    ("OPENAI_KEY", "sk-proj-Xq4Lm9Tz2Rw7Kp1Vn6Bs3HdT3BlbkFJa8Gc5Je0Yu2Mi7Po4Qe9WfZ1"),
    ("ANTHROPIC_KEY", "sk-ant-api03-" + ANTHROPIC_BODY + "AA"),
    ("GOOGLE_API_KEY", "AIzaSyD3x9Kq7Lm2Np5Rs8Tw1Vz4Bc6Df0Gh2Jk"),
    ("JWT", jwt()),
    ("PRIVATE_KEY", pem_private_key()),
    ("SECRET", "Tr0ub4dor&3xkcd"),
]

LINES = {
    "EMAIL": "Contact email {} for the renewal.",
    "PHONE": "Her phone number is {}.",
    "US_SSN": "SSN {} is on file.",
    "CREDIT_CARD": "Charge the Visa card {} next month.",
    "IBAN": "Refunds go to IBAN {}.",
    "IP_ADDRESS": "She logs in from IP {}.",
    "AWS_ACCESS_KEY": "The AWS access key id is {}",
    "AWS_SECRET_KEY": "and the AWS secret access key is {}",
    "GITHUB_TOKEN": "GitHub personal access credential {}",
    "GITLAB_TOKEN": "GitLab personal access credential {}",
    "SLACK_TOKEN": "Slack bot credential {}",
    "STRIPE_KEY": "Stripe secret key {}",
    "OPENAI_KEY": "OpenAI API key {}",
    "ANTHROPIC_KEY": "Anthropic API key {}",
    "GOOGLE_API_KEY": "Google Maps API key {}",
    "JWT": "Session bearer {}",
    "PRIVATE_KEY": "Deploy key:\n{}",
    "SECRET": "Database settings: password={}",
}

PROMPT = "Please update the customer record.\n" + "\n".join(
    LINES[label].format(value) for label, value in PLANTED) + "\nThanks!"

LABELS = [label for label, _ in PLANTED]


def sensitive_fragments(value):
    """Substrings of a planted value that must never reach the upstream.

    A multi-line value (the PEM block) is checked line by line, because on the wire its newlines
    are JSON-escaped; its armour lines are public boilerplate, not secret.
    """
    if "\n" in value:
        return [line for line in value.splitlines() if line and not line.startswith("-----")]
    return [value]


def leaks(upstream_bytes):
    """Planted values (or parts of them) present in the bytes the upstream received."""
    text = upstream_bytes.decode("utf-8", "replace")
    found = []
    for label, value in PLANTED:
        for fragment in sensitive_fragments(value):
            if fragment in text or json.dumps(fragment)[1:-1] in text:
                found.append((label, fragment))
    return found


def missing_placeholders(upstream_bytes, labels=LABELS):
    text = upstream_bytes.decode("utf-8", "replace")
    return [label for label in labels if f"[{label}_1]" not in text]
