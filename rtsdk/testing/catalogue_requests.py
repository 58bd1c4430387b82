"""The catalogue's errors of client events: frames that are not events, what the schema
rejects, input audio, conversation items, responses and session updates.

Rows of :data:`rtsdk.testing.catalogue.ERRORS` (see there); each cites its source.
"""

from __future__ import annotations

from .errors import (
    LIVEKIT,
    OURS,
    PIPECAT,
    PROBE,
    SPEACHES,
    SUPPORTED_CLIENT_EVENTS,
    ErrorEntry,
    listed,
)

__all__ = ["REQUEST_ERRORS"]

REQUEST_ERRORS: tuple[ErrorEntry, ...] = (
    # -- frames that are not events -------------------------------------------------------------
    ErrorEntry(
        key="invalid_json",
        trigger="a text frame that is not JSON",
        client_event=None,
        code="invalid_json",
        message=(
            "Invalid event: failed to parse JSON value. Please check the value to ensure it is "
            "valid JSON. (Common errors include trailing commas, missing closing brackets, "
            "missing quotation marks, etc.)"
        ),
        echoes_event_id=False,
        evidence="partly seen",
        source=f"{PROBE}, probe 8 ('not json': code invalid_json, param null, message "
        "'Invalid event: failed to parse JSON value. ...', elided there); the rest of the "
        "sentence is the service's REST wording for a body that is not JSON",
    ),
    ErrorEntry(
        key="binary_frame",
        trigger="a binary WebSocket frame (whatever it holds)",
        client_event=None,
        code="invalid_event",
        message="Expected a text WebSocket message; binary frames are not supported.",
        echoes_event_id=False,
        evidence="seen",
        source=f"{PROBE}, probe 8 (a 64-byte binary frame)",
    ),
    ErrorEntry(
        key="event_not_object",
        trigger="a JSON frame that is not an object (an array, a string, a number, null)",
        client_event=None,
        code="invalid_type",
        message="Invalid type for event: expected an object, but got {got} instead.",
        echoes_event_id=False,
        evidence="not seen",
        source=OURS + "worded as the service's invalid_type errors (see invalid_type)",
    ),
    ErrorEntry(
        key="unknown_event_type",
        trigger="an event whose type the server does not serve (also output_audio_buffer.clear, "
        "which the service serves on WebRTC and SIP only)",
        client_event="(any unknown type)",
        code="invalid_value",
        param="type",
        message="Invalid value: {value}. Supported values are: "
        + listed(SUPPORTED_CLIENT_EVENTS)
        + ".",
        evidence="seen",
        source=f"{PROBE}, probe 8 (event type 'nope': invalid_value, param 'type'); the same "
        "words for 'ping' and 'transcription_session.update' are quoted by many clients, e.g. "
        "crmitchelmore/justspeaktoit#427",
        differs="the service's list of supported values also names session.close and "
        "session.input_audio_buffer.append, which this server does not serve",
    ),
    # -- what the schema rejects (param: the dotted path to the value at fault) -----------------
    ErrorEntry(
        key="unknown_parameter",
        trigger="a key the service does not know, anywhere in a client event",
        client_event="(any)",
        code="unknown_parameter",
        param="{param}",
        message="Unknown parameter: '{param}'.",
        evidence="seen",
        source=f"{PROBE}, probe 8 (session.bogus_field); pipecat-ai/pipecat#1324 and "
        "openai/openai-realtime-api-beta#9 (the client's event_id echoed in error.event_id)",
    ),
    ErrorEntry(
        key="missing_required_parameter",
        trigger="a required key left out (session.type, item.type, the event's type, ...)",
        client_event="(any)",
        code="missing_required_parameter",
        param="{param}",
        message="Missing required parameter: '{param}'.",
        evidence="seen",
        source="TanStack/ai#586 (session.type); openai/openai-agents-js#963 (item.content[0].text)",
    ),
    ErrorEntry(
        key="invalid_type",
        trigger="a value of the wrong JSON type",
        client_event="(any)",
        code="invalid_type",
        param="{param}",
        message="Invalid type for '{param}': expected {expected}, but got {got} instead.",
        evidence="partly seen",
        source="the message 'Invalid type for 'item.content': expected an array of objects' is "
        "quoted by clients of the service; the code and the ', but got ... instead' tail are "
        "the service's REST wording (no Realtime capture shows them)",
    ),
    ErrorEntry(
        key="invalid_enum_value",
        trigger="a value outside the values a field allows (reasoning.effort, a format type, "
        "response.conversation, ...)",
        client_event="(any)",
        code="invalid_value",
        param="{param}",
        message="Invalid value: {value}. Supported values are: {supported}.",
        evidence="partly seen",
        source=f"{PROBE}, probe 8 (code, param and words seen for the event type); the same "
        "words for a value outside an enumeration in the service's other APIs; not captured "
        "for a Realtime field",
    ),
    ErrorEntry(
        key="integer_below_min_value",
        trigger="an integer under its minimum (audio_end_ms < 0, format rate 16000, ...)",
        client_event="(any)",
        code="integer_below_min_value",
        param="{param}",
        message="Invalid '{param}': integer below minimum value. Expected a value >= {minimum}, "
        "but got {value} instead.",
        evidence="seen",
        source="livekit/agents-js#304 (audio_end_ms -11, the whole error object quoted); "
        f"{PROBE}, probe 7d (session.audio.input.format.rate 16000, 'Expected a value >= 24000')",
    ),
    ErrorEntry(
        key="integer_above_max_value",
        trigger="an integer over its maximum (content_index > 0, ...)",
        client_event="(any)",
        code="integer_above_max_value",
        param="{param}",
        message="Invalid '{param}': integer above maximum value. Expected a value <= {maximum}, "
        "but got {value} instead.",
        evidence="partly seen",
        source="worded as integer_below_min_value (seen); the code and words are the service's "
        "for the same fault in its other APIs",
    ),
    ErrorEntry(
        key="decimal_below_min_value",
        trigger="a number under its minimum (a VAD threshold < 0, ...)",
        client_event="(any)",
        code="decimal_below_min_value",
        param="{param}",
        message="Invalid '{param}': decimal below minimum value. Expected a value >= {minimum}, "
        "but got {value} instead.",
        evidence="partly seen",
        source="worded as integer_below_min_value (seen); the code and words are the service's "
        "for the same fault in its other APIs (temperature, top_p)",
    ),
    ErrorEntry(
        key="decimal_above_max_value",
        trigger="a number over its maximum (a VAD threshold > 1, speed > 1.5, ...)",
        client_event="(any)",
        code="decimal_above_max_value",
        param="{param}",
        message="Invalid '{param}': decimal above maximum value. Expected a value <= {maximum}, "
        "but got {value} instead.",
        evidence="partly seen",
        source="worded as integer_below_min_value (seen); the code and words are the service's "
        "for the same fault in its other APIs (temperature, top_p)",
    ),
    ErrorEntry(
        key="invalid_value",
        trigger="a value the schema refuses for another reason (output_modalities with both "
        "values, metadata over its limits, ...)",
        client_event="(any)",
        code="invalid_value",
        param="{param}",
        message="Invalid value for '{param}': {reason}.",
        evidence="partly seen",
        source=OURS + "the code is the service's for a bad value (seen for the event type and "
        "enumerations); the words name the rule from the API reference",
    ),
    # -- input audio ----------------------------------------------------------------------------
    ErrorEntry(
        key="append_bad_base64",
        trigger="input_audio_buffer.append whose audio is not base64",
        client_event="input_audio_buffer.append",
        code="invalid_value",
        param="audio",
        message="Invalid 'audio'. Expected base64-encoded audio bytes (mono PCM16 at 24kHz) but "
        "got an invalid value.",
        evidence="partly seen",
        source="Azure-Samples/aoai-realtime-audio-sdk#95 (the whole error object, Azure OpenAI; "
        "its param reads 'audio.audio' for that reporter's malformed event, 'audio' here)",
    ),
    ErrorEntry(
        key="append_empty",
        trigger="input_audio_buffer.append with empty audio",
        client_event="input_audio_buffer.append",
        code="invalid_value",
        param="audio",
        message="Invalid 'audio'. Expected base64-encoded audio bytes (mono PCM16 at 24kHz) but "
        "got empty bytes.",
        evidence="partly seen",
        source="the message is quoted by clients that drop empty chunks because of it (public "
        "code index: '... but got empty bytes'); the code is not shown, invalid_value as for "
        "append_bad_base64",
    ),
    ErrorEntry(
        key="append_too_large",
        trigger="input_audio_buffer.append of more than 15 MiB of audio",
        client_event="input_audio_buffer.append",
        code="invalid_value",
        param="audio",
        message="Invalid 'audio'. Expected at most 15 MiB of audio bytes per append, but got "
        "{size} bytes.",
        evidence="not seen",
        source=OURS + "the 15 MiB limit is the API reference's (input_audio_buffer.append); "
        "the service's answer past it is not public",
    ),
    ErrorEntry(
        key="commit_empty",
        trigger="input_audio_buffer.commit with less than 100 ms of audio",
        client_event="input_audio_buffer.commit",
        code="input_audio_buffer_commit_empty",
        message="Error committing input audio buffer: buffer too small. Expected at least "
        "{minimum}ms of audio, but buffer only has {duration:.2f}ms of audio.",
        evidence="seen",
        source="betalgo/openai#674 (the message); openai/openai-agents-js#748 (the code); "
        f"{LIVEKIT} (routes on the code)",
    ),
    # -- conversation items ---------------------------------------------------------------------
    ErrorEntry(
        key="item_retrieve_missing",
        trigger="conversation.item.retrieve of an item not in the conversation (never there, or "
        "deleted)",
        client_event="conversation.item.retrieve",
        code="item_retrieve_invalid_item_id",
        message="Error retrieving item: the item with id '{item_id}' does not exist.",
        evidence="seen",
        source=f"{SPEACHES} (the whole error object, param null); {PIPECAT} (relies on the "
        "echoed event_id)",
    ),
    ErrorEntry(
        key="item_delete_missing",
        trigger="conversation.item.delete of an item not in the conversation",
        client_event="conversation.item.delete",
        code="item_delete_invalid_item_id",
        message="Error deleting item: the item with id '{item_id}' does not exist.",
        evidence="seen",
        source=f"{SPEACHES} (the whole error object, param null); clients treat the code as a "
        "benign race",
    ),
    ErrorEntry(
        key="item_truncate_missing",
        trigger="conversation.item.truncate of an item not in the conversation",
        client_event="conversation.item.truncate",
        code="item_truncate_invalid_item_id",
        message="Error truncating item: the item with id '{item_id}' does not exist.",
        evidence="partly seen",
        source="the code: many clients route on it as a benign barge-in race (public code "
        "index, e.g. Telnyx and WebRTC bridges); the message and param null by analogy with "
        "item_retrieve_missing / item_delete_missing (seen)",
    ),
    ErrorEntry(
        key="truncate_not_audio",
        trigger="conversation.item.truncate of an item that is not assistant audio (a user "
        "item, a text or function call item, an assistant item before its first audio)",
        client_event="conversation.item.truncate",
        code="unsupported_content_type",
        message="Only model output audio messages can be truncated",
        evidence="seen",
        source="livekit/agents#6157 (type, code and message quoted); livekit/agents#1016; the "
        "param is not shown (null here)",
    ),
    ErrorEntry(
        key="truncate_past_audio",
        trigger="conversation.item.truncate with audio_end_ms past the audio of the item (for "
        "an item still streaming: past the audio generated so far)",
        client_event="conversation.item.truncate",
        code=None,
        message="Audio content of {length}ms is already shorter than {end}ms",
        evidence="seen",
        source="pipecat-ai/pipecat#925 (RealtimeError type invalid_request_error, code None, "
        "param None); twilio-samples/speech-assistant-openai-realtime-api-python#45, "
        "pipecat-ai/pipecat#3677 (the message)",
    ),
    ErrorEntry(
        key="item_create_missing_previous",
        trigger="conversation.item.create after a previous_item_id not in the conversation",
        client_event="conversation.item.create",
        code="item_create_invalid_previous_item_id",
        message="Error adding item: the previous item with id '{previous_item_id}' does not exist.",
        evidence="partly seen",
        source="one public client that says it copies the service's code and words (public "
        "code index; repository not resolved); speaches' server uses the same message; "
        f"{SPEACHES} shows an error (content not asserted); param null as the item_* family",
    ),
    ErrorEntry(
        key="item_create_duplicate_id",
        trigger="conversation.item.create with the id of an item already in the conversation",
        client_event="conversation.item.create",
        code="invalid_value",
        param="item.id",
        message="Error adding item: the item with id '{item_id}' already exists.",
        evidence="not seen",
        source=OURS + "the words are those of speaches' server",
        differs=f"the service does not refuse it: {SPEACHES} shows it adds the item again "
        "(test_realtime_conversation_item_duplicate_id_replaces_content); this server keeps ids "
        "unique",
    ),
    ErrorEntry(
        key="item_create_assistant_audio",
        trigger="conversation.item.create of an assistant message with an output_audio part",
        client_event="conversation.item.create",
        code="missing_required_parameter",
        param="item.content[{index}].text",
        message="Missing required parameter: 'item.content[{index}].text'.",
        evidence="seen",
        source="openai/openai-agents-js#963 (an assistant output_audio item replayed: the whole "
        "error object); the API reference: items cannot populate assistant audio",
    ),
    ErrorEntry(
        key="item_create_bad_audio",
        trigger="conversation.item.create with an input_audio part whose audio is not base64",
        client_event="conversation.item.create",
        code="invalid_value",
        param="item.content[{index}].audio",
        message="Invalid 'item.content[{index}].audio'. Expected base64-encoded audio bytes "
        "(mono PCM16 at 24kHz) but got an invalid value.",
        evidence="partly seen",
        source="the message is quoted in a public client's comments (public code index); the "
        "code as append_bad_base64 (seen)",
    ),
    ErrorEntry(
        key="mcp_approval_unknown_request",
        trigger="conversation.item.create of an mcp_approval_response for no approval request "
        "in the conversation",
        client_event="conversation.item.create",
        code="invalid_value",
        param="item.approval_request_id",
        message="Invalid value for 'item.approval_request_id': no MCP approval request with id "
        "'{request_id}' in the conversation.",
        evidence="not seen",
        source=OURS + "closest documented behaviour: the API reference has the response answer "
        "a pending mcp_approval_request",
    ),
    ErrorEntry(
        key="response_input_unknown_item",
        trigger="response.create whose input has an item_reference to no item of the conversation",
        client_event="response.create",
        code="invalid_value",
        param="response.input[{index}].id",
        message="Item with id '{item_id}' not found.",
        evidence="not seen",
        source=OURS + "closest documented behaviour: item_reference names an existing item "
        "(API reference, response.create input)",
    ),
    # -- responses ------------------------------------------------------------------------------
    ErrorEntry(
        key="response_already_active",
        trigger="response.create (default conversation) while a response is active",
        client_event="response.create",
        code="conversation_already_has_active_response",
        message="Conversation already has an active response in progress: {response_id}. Wait "
        "until the response is finished before creating a new one.",
        evidence="seen",
        source="tleyden/arty#81 (the whole error event); openai/openai-agents-python#1466; "
        "livekit/agents#6818 (error.event_id is the client's); "
        f"{PIPECAT} (routes on the code)",
    ),
    ErrorEntry(
        key="response_cancel_not_active",
        trigger="response.cancel with no active response (or a response_id that is not one)",
        client_event="response.cancel",
        code="response_cancel_not_active",
        message="Cancellation failed: no active response found",
        evidence="seen",
        source=f"{PIPECAT} (routes on the code); {LIVEKIT} (on the message); the message is "
        "quoted by many clients; param not shown (null here)",
    ),
    # -- session.update -------------------------------------------------------------------------
    ErrorEntry(
        key="session_type_to_realtime",
        trigger="session.update with session.type 'transcription' on a realtime session",
        client_event="session.update",
        code="invalid_parameter",
        param="session.type",
        message="Passing a transcription session update event to a realtime session is not "
        "allowed.",
        evidence="seen",
        source="crmitchelmore/justspeaktoit#427 ('OpenAI Realtime error (invalid_parameter): "
        "...'); the param is not shown (session.type here)",
    ),
    ErrorEntry(
        key="session_type_to_transcription",
        trigger="session.update with session.type 'realtime' on a transcription session",
        client_event="session.update",
        code="invalid_parameter",
        param="session.type",
        message="Passing a realtime session update to a transcription session is not allowed.",
        evidence="partly seen",
        source="the message is quoted verbatim in a public write-up (public code index); code "
        "and param as session_type_to_realtime",
    ),
    ErrorEntry(
        key="session_model_change",
        trigger="session.update naming another model than the session's",
        client_event="session.update",
        code="invalid_value",
        param="session.model",
        message="Invalid value for 'session.model': the model of a session cannot be changed.",
        evidence="not seen",
        source=OURS + "closest documented behaviour: the model is chosen at connection (?model=)",
    ),
    ErrorEntry(
        key="tracing_locked",
        trigger="session.update changing tracing once it is enabled",
        client_event="session.update",
        code="invalid_value",
        param="session.tracing",
        message="Invalid value for 'session.tracing': tracing cannot be modified once it is "
        "enabled for a session.",
        evidence="not seen",
        source=OURS + "the API reference (session.tracing): once enabled for a session, the "
        "configuration cannot be modified",
    ),
    ErrorEntry(
        key="voice_locked",
        trigger="session.update changing the voice after the session has produced audio",
        client_event="session.update",
        code="cannot_update_voice",
        message="Cannot update a conversation's voice if assistant audio is present.",
        evidence="seen",
        source="openai/openai-agents-python#1661 and openai/openai-python#2607 (the whole "
        "error object, param None)",
    ),
    ErrorEntry(
        key="transcription_turn_detection",
        trigger="session.update giving turn detection to a gpt-realtime-whisper transcription "
        "session",
        client_event="session.update",
        code="invalid_value",
        param="session.audio.input.turn_detection",
        message="Turn detection is not supported for this transcription model.",
        evidence="seen",
        source="a public client's test fixture of the service's answer (public code index: "
        "code invalid_value, param session.audio.input.turn_detection); the message is quoted "
        "by several clients",
    ),
    ErrorEntry(
        key="unsupported_parameter",
        trigger="reasoning or parallel_tool_calls (session.update or response.create) on a "
        "catalogue model that does not reason",
        client_event="session.update / response.create",
        code="unsupported_parameter",
        param="{param}",
        message="Unsupported parameter: '{name}' is not supported with this model.",
        evidence="partly seen",
        source="the service's code and words for a reasoning field sent to a model without "
        "reasoning in its other APIs; no Realtime capture shows them",
    ),
    ErrorEntry(
        key="not_in_transcription_session",
        trigger="response.create, response.cancel, conversation.item.create or "
        "conversation.item.truncate on a transcription session",
        client_event="(conversation events)",
        code="invalid_value",
        param="type",
        message="The event type '{event_type}' is not supported in transcription sessions: "
        "they have no responses and no assistant items.",
        evidence="not seen",
        source=OURS + f"the service accepts these type names there ({PROBE}, probe 7b lists "
        "them) and its refusal is not public",
    ),
)
