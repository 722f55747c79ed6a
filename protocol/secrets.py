"""Refuse the example configs' placeholder secrets, so a copied template never goes live."""

PLACEHOLDERS = frozenset({"change-me", "changeme", "changethis", "secret", "password"})


def refuse_placeholder(name: str, value: str | None) -> str | None:
    if value is not None and value.strip().lower() in PLACEHOLDERS:
        raise ValueError(f"{name} is still the placeholder {value!r}; set a real secret")
    return value
