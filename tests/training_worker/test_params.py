"""The parameters base every job kind builds on: the checks, defaults and schema derive from
the dataclass, so that the command line, the API and a stored job agree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import jsonschema
import pytest

from training_worker.jobs.params import JobParams, ParamError, param
from training_worker.kinds import JOB_KINDS


def _words(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
        raise ValueError("a list of words")
    return value


@dataclass(frozen=True)
class SampleParams(JobParams):
    kind_name: ClassVar[str] = "sample"

    name: str = param(help="what to work on")
    size: int = param(16, "items per batch", minimum=1, maximum=64)
    rate: float = param(0.5, "a share", minimum=0.0, maximum=1.0)
    fast: bool = param(False, "skip the slow part")
    mode: str | None = param(None, "how", choices=("a", "b"))
    words: list | None = param(None, "some words", parse=_words, schema={"type": "array"})

    def check(self) -> None:
        if self.fast and self.size > 32:
            raise ParamError("fast runs take at most 32 items per batch", field="size")


def test_defaults_fill_in_and_only_differences_are_stored():
    params = SampleParams.from_dict({"name": " x ", "rate": 1})
    assert params == SampleParams(name="x", rate=1.0)
    assert params.as_dict() == {"name": "x", "rate": 1.0}
    assert SampleParams.from_dict(params.as_dict()) == params
    assert SampleParams.from_dict({"name": "x", "size": None, "mode": ""}).size == 16  # None and "": the default


@pytest.mark.parametrize("values, field, words", [
    ({}, "name", "required"),
    ({"name": "x", "colour": 1}, "colour", "unknown sample job parameter"),
    ({"name": "x", "size": True}, "size", "whole number"),
    ({"name": "x", "size": 2.5}, "size", "whole number"),
    ({"name": "x", "size": 0}, "size", "from 1 to 64"),
    ({"name": "x", "rate": "half"}, "rate", "a number"),
    ({"name": "x", "fast": "yes"}, "fast", "true or false"),
    ({"name": "x", "mode": "c"}, "mode", "one of a, b"),
    ({"name": "x", "words": "one"}, "words", "a list of words"),
    ({"name": "x", "fast": True, "size": 40}, "size", "at most 32"),
    ({"name": 7}, "name", "a text"),
])
def test_wrong_values_say_which_field_and_why(values, field, words):
    with pytest.raises(ParamError) as e:
        SampleParams.from_dict(values)
    assert e.value.field == field and words in str(e.value)


def test_a_mapping_is_required():
    with pytest.raises(ParamError, match="an object"):
        SampleParams.from_dict(["name"])  # type: ignore[arg-type]


def test_the_schema_describes_and_accepts_what_from_dict_accepts():
    schema = SampleParams.json_schema()
    assert schema["required"] == ["name"] and schema["additionalProperties"] is False
    assert schema["properties"]["size"] == {"type": "integer", "description": "items per batch", "default": 16,
                                            "minimum": 1, "maximum": 64}
    assert schema["properties"]["mode"]["enum"] == ["a", "b"]
    jsonschema.validate({"name": "x", "size": 8, "words": ["a"]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "size": 65}, schema)
    assert SampleParams.shape() == '{"name", "size"?, "rate"?, "fast"?, "mode"?, "words"?}'


@pytest.mark.parametrize("kind", list(JOB_KINDS.values()), ids=list(JOB_KINDS))
def test_every_kind_has_a_schema_and_reads_its_own_output(kind):
    schema = kind.params.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(schema["properties"]) == set(kind.params.field_names())
    minimal = {name: "all" for name in schema.get("required", [])}
    params = kind.params.from_dict(minimal)
    assert kind.params.from_dict(params.as_dict()) == params
    assert kind.handler.count(":") == 1 and kind.handler.startswith("training_worker.")
