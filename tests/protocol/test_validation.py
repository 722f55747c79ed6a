"""`protocol.validation.summarise`: the one wording of what a pydantic model refused."""

import pytest
from pydantic import BaseModel, ValidationError, model_validator

from protocol.validation import summarise


class Inner(BaseModel):
    port: int


class Outer(BaseModel):
    name: str
    inner: Inner

    @model_validator(mode="before")
    @classmethod
    def _not_empty(cls, data: object) -> object:
        if data == {}:
            raise ValueError("empty document")
        return data


def _refusal(document: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Outer.model_validate(document)
    return caught.value


def test_each_problem_is_its_dotted_path_and_message() -> None:
    exc = _refusal({"name": 1, "inner": {"port": "x"}})

    assert summarise(exc) == (
        "name: Input should be a valid string; "
        "inner.port: Input should be a valid integer, unable to parse string as an integer"
    )


def test_a_problem_with_the_whole_document_is_named_by_root() -> None:
    exc = _refusal({})

    assert summarise(exc) == ": Value error, empty document"
    assert summarise(exc, root="<file>") == "<file>: Value error, empty document"


def test_a_list_under_a_heading_and_a_limit() -> None:
    exc = _refusal({"name": 1, "inner": {"port": "x"}})

    assert summarise(exc, separator="\n", indent="  ").splitlines() == [
        "  name: Input should be a valid string",
        "  inner.port: Input should be a valid integer, unable to parse string as an integer",
    ]
    assert summarise(exc, limit=1) == "name: Input should be a valid string"
