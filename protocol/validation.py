"""One way to say what a pydantic model refused: for dead letters, config errors, commands."""

from pydantic import ValidationError


def summarise(
    exc: ValidationError,
    *,
    root: str = "",
    separator: str = "; ",
    indent: str = "",
    limit: int | None = None,
) -> str:
    """`field.path: message` for each problem (the first `limit`), joined by `separator`.

    `root` names a problem with the whole document (an empty location), `indent` goes
    before each problem: `separator="\\n", indent="  "` lists them under a heading.
    """
    problems = [
        f"{indent}{'.'.join(map(str, error['loc'])) or root}: {error['msg']}"
        for error in exc.errors()
    ]
    return separator.join(problems[:limit])
