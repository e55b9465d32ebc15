"""Fixtures for the end-to-end tests: the mock LLM, Envoy with the built prompt-guard filter, and a
factory for Envoy instances with a custom filter configuration.

Environment:
    ENVOY_BIN           envoy binary (default: `envoy` on PATH, then the one next to this Python)
    PROMPT_GUARD_WASM   filter module (default: target/wasm32-wasip1/release/prompt_guard.wasm)

If something cannot start, the test fails with the process's log tail; nothing is skipped.
Every process is stopped by its PID at teardown, also when the test failed.
"""

import harness
import pytest

# The filter's defaults, spelled out only where a test depends on them.
DEFAULT_FILTER_CONFIG = {}


def pytest_configure(config):
    config.addinivalue_line("markers", "threats: prompt-attack detection (a later issue of the filter)")


@pytest.fixture(scope="session")
def mock(tmp_path_factory):
    server = harness.start_mock(tmp_path_factory.mktemp("mock"))
    yield server
    server.stop()


def _start_or_fail(work_dir, mock, **kwargs):
    return harness.start_envoy_or_fail(work_dir, mock.port, **kwargs)


@pytest.fixture(scope="module")
def envoy(mock, tmp_path_factory):
    """Envoy with the filter and its default configuration, shared by one test module."""
    instance = _start_or_fail(tmp_path_factory.mktemp("envoy"), mock,
                              filter_config=DEFAULT_FILTER_CONFIG)
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def bare_envoy(mock, tmp_path_factory):
    """Envoy without any wasm filter: proves the harness itself, and is the benchmark baseline."""
    instance = _start_or_fail(tmp_path_factory.mktemp("bare-envoy"), mock, with_filter=False)
    yield instance
    instance.stop()


class EnvoyFactory:
    """Starts Envoy instances with custom filter configurations for one test; stops them all."""

    def __init__(self, mock, tmp_path):
        self.mock = mock
        self.tmp_path = tmp_path
        self.instances = []

    def _work_dir(self):
        path = self.tmp_path / f"envoy-{len(self.instances)}"
        self.instances.append(None)
        return path

    def start(self, filter_config, **kwargs):
        work_dir = self._work_dir()
        instance = _start_or_fail(work_dir, self.mock, filter_config=filter_config, **kwargs)
        self.instances[-1] = instance
        return instance

    def expect_refusal(self, filter_config):
        """(exit code, log) of an Envoy that must refuse this filter configuration."""
        return harness.expect_refusal(self._work_dir(), self.mock.port, filter_config)

    def stop_all(self):
        for instance in self.instances:
            if instance is not None:
                instance.stop()


@pytest.fixture
def envoy_factory(mock, tmp_path):
    factory = EnvoyFactory(mock, tmp_path)
    yield factory
    factory.stop_all()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the tail of every Envoy log the test used, to find filter errors fast."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for name, value in getattr(item, "funcargs", {}).items():
        if isinstance(value, harness.Envoy):
            report.sections.append((f"{name} log tail", value.log_tail()))
        elif isinstance(value, EnvoyFactory):
            for index, instance in enumerate(value.instances):
                if instance is not None:
                    report.sections.append((f"{name}[{index}] log tail", instance.log_tail()))
