"""RealtimeAIOptions: validation naming the field, endpoints, auth headers, key never shown."""

from __future__ import annotations

import pytest

from rtsdk.exceptions import ConfigurationError
from rtsdk.session.options import OPENAI_REALTIME_URL, RealtimeAIOptions

KEY = "sk-test-0123456789abcdefSECRET"


def test_key_from_environment_and_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    opts = RealtimeAIOptions(instructions="hi")
    assert opts.api_key == KEY
    assert KEY not in repr(opts)
    assert KEY not in str(opts)
    assert "api_key=<set>" in repr(opts)
    assert opts.auth_headers() == {"Authorization": f"Bearer {KEY}"}


def test_no_key_is_reported_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    opts = RealtimeAIOptions()
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        opts.require_key()
    RealtimeAIOptions(url="ws://127.0.0.1:1/v1/realtime").require_key()  # local: no key needed


def test_bad_key_message_does_not_quote_it() -> None:
    with pytest.raises(ConfigurationError) as info:
        RealtimeAIOptions(api_key="abc\ndef-SECRETVALUE")
    assert "SECRETVALUE" not in str(info.value)
    assert "api_key" in str(info.value)


def test_openai_url_and_custom_base() -> None:
    opts = RealtimeAIOptions(api_key=KEY, model="gpt-realtime-2.1-mini")
    assert opts.endpoint_url() == f"{OPENAI_REALTIME_URL}?model=gpt-realtime-2.1-mini"
    local = RealtimeAIOptions(url="ws://127.0.0.1:8765/v1")
    assert local.endpoint_url() == "ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime-2.1"
    local2 = RealtimeAIOptions(url="ws://127.0.0.1:8765/v1/realtime")
    assert local2.endpoint_url() == "ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime-2.1"


def test_azure_both_url_shapes_and_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    ga = RealtimeAIOptions(azure_endpoint="https://res.openai.azure.com/", azure_deployment="rt")
    assert ga.endpoint_url() == "wss://res.openai.azure.com/openai/v1/realtime?model=rt"
    assert ga.auth_headers() == {"api-key": KEY}
    assert not ga.beta_protocol
    preview = RealtimeAIOptions(
        azure_endpoint="https://res.openai.azure.com",
        azure_deployment="rt",
        api_version="2025-04-01-preview",
        azure_auth="bearer",
    )
    assert preview.endpoint_url() == (
        "wss://res.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=rt"
    )
    assert preview.auth_headers() == {"Authorization": f"Bearer {KEY}"}
    assert preview.beta_protocol
    assert KEY not in repr(preview)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"voice": ""}, "voice"),
        ({"output_modality": "video"}, "output_modality"),
        ({"input_format": "mp3"}, "input_format"),
        ({"turn_detection": "auto"}, "turn_detection"),
        ({"threshold": 2.0}, "threshold"),
        ({"eagerness": "high"}, "eagerness"),  # only with semantic_vad
        ({"speed": 9.0}, "speed"),
        ({"max_retries": -1}, "max_retries"),
        ({"base_delay": 0}, "base_delay"),
        ({"max_delay": 0.1, "base_delay": 1.0}, "max_delay"),
        ({"connect_timeout": float("nan")}, "connect_timeout"),
        ({"ping_interval": -1}, "ping_interval"),
        ({"session_max_seconds": 0}, "session_max_seconds"),
        ({"url": "http://example.com"}, "url"),
        ({"azure_endpoint": "https://x.openai.azure.com"}, "azure_deployment"),
        ({"api_version": "2025-04-01-preview"}, "api_version"),
        ({"model": ""}, "model"),
        ({"tools": {"name": "x"}}, "tools"),
        ({"audio_window": -1}, "audio_window"),
        ({"max_backlog": 0}, "max_backlog"),
    ],
)
def test_bad_values_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        RealtimeAIOptions(api_key=KEY, **kwargs)  # type: ignore[arg-type]


def test_session_settings_and_with_changes() -> None:
    opts = RealtimeAIOptions(api_key=KEY, instructions="Be brief.", turn_detection="none")
    session = opts.session_settings().to_session()
    assert session["instructions"] == "Be brief."
    assert session["audio"]["input"]["turn_detection"] is None
    changed = opts.with_changes(voice="marin")
    assert changed.voice == "marin" and opts.voice is None
    with pytest.raises(ConfigurationError, match="no field"):
        opts.with_changes(colour="blue")
    policy = opts.reconnect_policy()
    assert (policy.max_retries, policy.base_delay, policy.max_delay) == (8, 0.25, 8.0)
