"""LangChain's chat models (langchain-openai's ChatOpenAI, langchain-anthropic's ChatAnthropic)
through Envoy + prompt-guard with only base_url changed, buffered (invoke) and streamed (stream):
nothing planted reaches the upstream, the placeholders do, and the chain gets every original back.
"""

import harness
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.messages import HumanMessage
from langchain_openai import ChatOpenAI
from planted import LABELS, PROMPT, leaks, missing_placeholders

REPLY = "You said: " + PROMPT


def openai_model(envoy):
    return ChatOpenAI(base_url=envoy.url("/v1"), api_key="test-key-not-secret", model="gpt-4o-mini",
                      max_retries=0, timeout=harness.REQUEST_TIMEOUT_S)


def anthropic_model(envoy):
    return ChatAnthropic(base_url=envoy.base_url, api_key="test-key-not-secret",
                         model="claude-e2e-mock", max_tokens=1024, max_retries=0,
                         timeout=harness.REQUEST_TIMEOUT_S)


MODELS = {"openai": openai_model, "anthropic": anthropic_model}


@pytest.mark.parametrize("provider", list(MODELS))
@pytest.mark.parametrize("mode", ["invoke", "stream"])
def test_langchain_masks_upstream_and_gets_originals_back(envoy, mock, provider, mode):
    model = MODELS[provider](envoy)
    messages = [HumanMessage(content=PROMPT)]
    with mock.expect_one_request() as upstream:
        if mode == "invoke":
            text = model.invoke(messages).text
        else:
            chunks = list(model.stream(messages))
            assert len(chunks) > 1, "the reply did not come as a stream"
            text = "".join(chunk.text for chunk in chunks)
    assert upstream.json().get("stream", False) is (mode == "stream")
    assert leaks(upstream.body) == [], "planted values reached the upstream"
    assert missing_placeholders(upstream.body, LABELS) == [], "placeholders missing upstream"
    assert text == REPLY
