"""The filter's counters as an operator sees them: Envoy's /stats/prometheus, with the labels that
the bootstrap's stats_tags cut out of the metric names.
"""

import json
import time

import harness
import httpx
from planted import LABELS, PLANTED, PROMPT

CHAT = "/v1/chat/completions"


def chat(envoy, text):
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": text}]})
    reply = httpx.post(envoy.url(CHAT), content=body,
                       headers={"content-type": "application/json"}, timeout=harness.REQUEST_TIMEOUT_S)
    assert reply.status_code == 200, reply.text[:500]
    return reply.json()["choices"][0]["message"]["content"]


def delta(before, after, name, **labels):
    return after.value(name, **labels) - before.value(name, **labels)


def test_masking_and_restoring_move_labelled_counters(envoy, mock):
    before = envoy.metrics()
    assert chat(envoy, PROMPT) == "You said: " + PROMPT
    after = envoy.metrics()
    assert delta(before, after, "prompt_guard_requests_inspected") == 1
    assert delta(before, after, "prompt_guard_requests_with_findings") == 1
    moved = {label: delta(before, after, "prompt_guard_entities_masked", type=label)
             for label in LABELS}
    assert moved == {label: 1 for label in LABELS}
    # The reply echoed every placeholder once.
    assert delta(before, after, "prompt_guard_placeholders_restored") == len(PLANTED)


def test_clean_request_is_inspected_without_findings(envoy, mock):
    before = envoy.metrics()
    assert chat(envoy, "What is the capital of France?") == "You said: What is the capital of France?"
    after = envoy.metrics()
    assert delta(before, after, "prompt_guard_requests_inspected") == 1
    assert delta(before, after, "prompt_guard_requests_with_findings") == 0


def test_placeholder_we_did_not_issue_is_left_alone_and_counted(envoy, mock):
    # A user typing placeholder-shaped text must not get someone's value back in the reply; the
    # real address in the same message makes sure the reply goes through the restorer.
    email = dict(PLANTED)["EMAIL"]
    before = envoy.metrics()
    text = f"Literal [EMAIL_7] and [PHONE_2] are not ours, {email} is."
    with mock.expect_one_request() as upstream:
        reply = chat(envoy, text)
    sent = upstream.json()["messages"][0]["content"]
    assert sent.startswith("Literal [EMAIL_7] and [PHONE_2] are not ours, [EMAIL_")
    assert email not in sent
    assert reply == "You said: " + text
    after = envoy.metrics()
    assert delta(before, after, "prompt_guard_restore_misses") == 2
    assert delta(before, after, "prompt_guard_placeholders_restored") == 1


def test_labels_come_from_stats_tags_not_names(envoy, mock):
    chat(envoy, f"mail {dict(PLANTED)['EMAIL']}")
    names = {name for (name, _labels) in envoy.metrics().samples}
    flattened = [n for n in names if n.startswith(("prompt_guard_entities_masked_type_",
                                                   "prompt_guard_rejections_reason_",
                                                   "prompt_guard_fail_open_reason_",
                                                   "prompt_guard_threat_verdicts_category_"))]
    assert flattened == [], "stats_tags did not turn name segments into labels"
    assert envoy.metrics().value("prompt_guard_entities_masked", type="EMAIL") >= 1


REQUEST_US = "prompt_guard_request_processing_us"
REPLY_US = "prompt_guard_reply_processing_us"
# Envoy merges histograms from its workers at each stats flush (every 5 s by default).
HISTOGRAM_FLUSH_WAIT_S = 30


def histogram_counts(metrics):
    return metrics.value(REQUEST_US + "_count"), metrics.value(REPLY_US + "_count")


def wait_for_counts(envoy, expected):
    """Scrape until the histograms' counts reach `expected` (or the wait is over): the last scrape."""
    deadline = time.monotonic() + HISTOGRAM_FLUSH_WAIT_S
    while True:
        metrics = envoy.metrics()
        counts = histogram_counts(metrics)
        if all(got >= want for got, want in zip(counts, expected, strict=True)) or time.monotonic() > deadline:
            return metrics
        time.sleep(0.5)


def test_processing_time_histograms_count_each_inspected_request_and_reply(envoy_factory, mock):
    # A fresh Envoy: earlier tests' samples may still be waiting for a flush in the shared one.
    envoy = envoy_factory.start({})
    # Buffered and streamed, each with a value to mask and restore.
    for stream in (False, True):
        body = harness.chat_request_bytes(CHAT, PROMPT, stream)
        reply = httpx.post(envoy.url(CHAT), content=body, headers={"content-type": "application/json"},
                           timeout=harness.REQUEST_TIMEOUT_S)
        assert reply.status_code == 200, reply.text[:500]
        assert harness.reply_text(CHAT, stream, reply.content) == "You said: " + PROMPT
    # Refused by the filter: the request's time counts, our own local reply is not a reply.
    refused = httpx.post(envoy.url(CHAT), content=b"hello", headers={"content-type": "text/plain"},
                         timeout=harness.REQUEST_TIMEOUT_S)
    assert refused.status_code >= 400
    assert refused.headers.get("x-prompt-guard-rejected")
    # Not a guarded route with a body: not timed.
    httpx.get(envoy.url("/v1/models"), timeout=harness.REQUEST_TIMEOUT_S)

    after = wait_for_counts(envoy, (3, 2))
    assert histogram_counts(after) == (3, 2)
    for name in (REQUEST_US, REPLY_US):
        buckets = {float(labels["le"]): value for labels, value in after.with_name(name + "_bucket")
                   if labels["le"] != "+Inf"}
        # The bootstrap's microsecond buckets, not Envoy's millisecond defaults (which start at 0.5).
        assert 250000.0 in buckets and 0.5 not in buckets, sorted(buckets)
        # Cumulative buckets: the +Inf one holds every sample.
        assert after.value(name + "_bucket", le="+Inf") == after.value(name + "_count")
        assert after.value(name + "_sum") > 0
