"""Format detection and rendering: `formats.detect` and `formats.extract`."""

from __future__ import annotations

import pytest

from analysis.formats import Malformed, Plan, detect, extract

# --- text -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["text", "content", "document", "body", "raw_content"])
def test_text_is_detected_from_each_known_field(name):
    records = [{"id": "1", "url": "https://example.com/a/very/long/url/indeed", name: "short"}]
    plan = detect(records)
    assert plan == Plan("text", text_field=name)
    doc = extract(records[0], plan)
    assert doc.text == "short"
    assert doc.parts == {}
    assert doc.turns is None


def test_known_text_fields_are_preferred_in_order():
    assert detect([{"body": "b", "content": "c", "text": "t"}]).text_field == "text"
    assert detect([{"body": "b", "raw_content": "r"}]).text_field == "body"


def test_text_falls_back_to_the_string_field_with_the_largest_mean_length():
    records = [
        {"id": "a", "passage": "a long passage of text", "title": "t", "n": 12345678901234},
        {"id": "b", "passage": "another long passage", "title": "a much longer title than usual", "n": 1},
    ]
    plan = detect(records)
    assert plan == Plan("text", text_field="passage")
    assert extract(records[1], plan).text == "another long passage"


def test_fallback_ignores_fields_that_are_mostly_not_strings():
    records = [{"mostly_null": "x" * 100, "s": "ab"}, {"mostly_null": None, "s": "cd"}, {"mostly_null": 5, "s": "ef"}]
    assert detect(records).text_field == "s"


def test_no_string_field_at_all_is_malformed():
    with pytest.raises(Malformed, match="missing text field"):
        detect([{"n": 1, "tags": ["a"]}])


# --- instruction, prompt/response -----------------------------------------------------------------


def test_instruction_with_input_joins_instruction_and_input_into_the_prompt():
    record = {"instruction": "Translate.", "input": "Bonjour", "output": "Hello"}
    plan = detect([record])
    assert plan.format == "instruction"
    doc = extract(record, plan)
    assert doc.parts == {"prompt": "Translate.\nBonjour", "response": "Hello"}
    assert doc.text == "Translate.\nBonjour\nHello"


@pytest.mark.parametrize("record", [{"instruction": "Say hi.", "output": "Hi"}, {"instruction": "Say hi.", "input": "", "output": "Hi"}])
def test_instruction_without_input_has_the_instruction_as_prompt(record):
    doc = extract(record, detect([record]))
    assert doc.parts == {"prompt": "Say hi.", "response": "Hi"}
    assert doc.text == "Say hi.\nHi"


@pytest.mark.parametrize("response_field", ["response", "completion"])
def test_prompt_with_response_or_completion_is_prompt_response(response_field):
    record = {"prompt": "2+2?", response_field: "4"}
    plan = detect([record])
    assert plan == Plan("prompt_response", response_field=response_field)
    doc = extract(record, plan)
    assert doc.parts == {"prompt": "2+2?", "response": "4"}
    assert doc.text == "2+2?\n4"


# --- chat -------------------------------------------------------------------------------------------


def test_openai_messages_are_chat_with_prompt_and_response_parts():
    record = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Bye"},
            {"role": "assistant", "content": "Goodbye."},
        ]
    }
    plan = detect([record])
    assert plan == Plan("chat", chat_field="messages")
    doc = extract(record, plan)
    assert doc.text == "Be brief.\nHi\nHello!\nBye\nGoodbye."
    assert doc.parts == {"prompt": "Be brief.\nHi\nBye", "response": "Hello!\nGoodbye."}
    assert doc.turns == 5


def test_sharegpt_conversations_are_chat():
    record = {"id": "x", "conversations": [{"from": "human", "value": "Q?"}, {"from": "gpt", "value": "A."}]}
    plan = detect([record])
    assert plan == Plan("chat", chat_field="conversations")
    doc = extract(record, plan)
    assert doc.text == "Q?\nA."
    assert doc.parts == {"prompt": "Q?", "response": "A."}
    assert doc.turns == 2


def test_chat_message_with_null_content_counts_as_an_empty_turn():
    record = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": None}]}
    doc = extract(record, Plan("chat"))
    assert doc.turns == 2
    assert doc.parts["response"] == ""


def test_chat_message_with_text_content_parts_keeps_the_text():
    record = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url"}, {"type": "text", "text": "here"}]}
        ]
    }
    doc = extract(record, Plan("chat"))
    assert doc.parts["prompt"] == "look\nhere"  # the image part adds nothing, not an empty line


# --- preference -------------------------------------------------------------------------------------


def test_preference_with_strings():
    record = {"prompt": "Pick one.", "chosen": "Good answer.", "rejected": "Bad answer."}
    plan = detect([record])
    assert plan == Plan("preference")
    doc = extract(record, plan)
    assert doc.text == "Pick one.\nGood answer.\nBad answer."
    assert doc.parts == {"prompt": "Pick one.", "chosen": "Good answer.", "rejected": "Bad answer."}
    assert doc.turns is None


def test_preference_with_message_lists():
    record = {
        "prompt": [{"role": "user", "content": "Q"}],
        "chosen": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "good"}],
        "rejected": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "bad"}],
    }
    plan = detect([record])
    assert plan.format == "preference"
    doc = extract(record, plan)
    assert doc.parts == {"prompt": "Q", "chosen": "Q\ngood", "rejected": "Q\nbad"}
    assert doc.text == "Q\nQ\ngood\nQ\nbad"
    assert doc.turns == 2


def test_preference_without_prompt():
    record = {"chosen": "yes", "rejected": "no"}
    plan = detect([record])
    assert plan.format == "preference"
    doc = extract(record, plan)
    assert doc.text == "yes\nno"
    assert doc.parts == {"prompt": "", "chosen": "yes", "rejected": "no"}


def test_preference_wins_over_chat_and_prompt_response_fields():
    assert detect([{"prompt": "p", "response": "r", "chosen": "c", "rejected": "x"}]).format == "preference"
    assert detect([{"messages": [], "instruction": "i", "output": "o"}]).format == "chat"


# --- overrides --------------------------------------------------------------------------------------


def test_text_field_override_picks_that_field():
    records = [{"text": "the usual", "summary": "the other"}]
    plan = detect(records, text_field="summary")
    assert plan == Plan("text", text_field="summary")
    assert extract(records[0], plan).text == "the other"


def test_text_field_override_that_is_missing_is_malformed_naming_it():
    with pytest.raises(Malformed, match="summary"):
        detect([{"text": "x"}], text_field="summary")


def test_text_field_override_with_another_format_is_malformed():
    with pytest.raises(Malformed):
        detect([{"prompt": "p", "response": "r"}], text_field="prompt", fmt="chat")


def test_format_override_wins_over_detection():
    records = [{"prompt": "p", "response": "r", "text": "t"}]
    assert detect(records).format == "prompt_response"
    plan = detect(records, fmt="text")
    assert plan == Plan("text", text_field="text")
    assert extract(records[0], plan).text == "t"


def test_unknown_format_override_is_malformed():
    with pytest.raises(Malformed, match="unknown format"):
        detect([{"text": "x"}], fmt="markdown")


# --- malformed records ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "record, plan",
    [
        (["a", "list"], Plan("text", text_field="text")),
        ("a string", Plan("text", text_field="text")),
        (None, Plan("text", text_field="text")),
        ({"text": 5}, Plan("text", text_field="text")),
        ({"text": None}, Plan("text", text_field="text")),
        ({"text": ["a"]}, Plan("text", text_field="text")),
        ({"other": "x"}, Plan("text", text_field="text")),
        ({"instruction": "i"}, Plan("instruction")),
        ({"instruction": "i", "input": 3, "output": "o"}, Plan("instruction")),
        ({"instruction": 1, "output": "o"}, Plan("instruction")),
        ({"prompt": "p"}, Plan("prompt_response")),
        ({"prompt": "p", "response": {"a": 1}}, Plan("prompt_response")),
        ({"messages": "hi"}, Plan("chat")),
        ({"messages": None}, Plan("chat")),
        ({"messages": ["hi"]}, Plan("chat")),
        ({"messages": [{"role": "user", "content": 7}]}, Plan("chat")),
        ({"prompt": "p", "chosen": "c"}, Plan("preference")),
        ({"prompt": 3, "chosen": "c", "rejected": "r"}, Plan("preference")),
        ({"prompt": "p", "chosen": 1, "rejected": "r"}, Plan("preference")),
        ({"prompt": "p", "chosen": "c", "rejected": [1]}, Plan("preference")),
    ],
)
def test_wrong_types_and_missing_fields_are_malformed(record, plan):
    with pytest.raises(Malformed):
        extract(record, plan)


def test_empty_string_text_is_a_document_not_malformed():
    doc = extract({"text": ""}, Plan("text", text_field="text"))
    assert doc.text == ""
