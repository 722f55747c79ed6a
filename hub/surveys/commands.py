"""`seed-hub surveys create|list|show|assign|retire|languages`: what a manager or an admin
types to say what touchpoints ask."""

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from hub.cli_options import DB, Commands, SettingsFrom
from hub.config import HubSettings
from hub.db import run_migrated
from hub.surveys import definition
from hub.surveys.definition import load_survey_file
from hub.surveys.store import (
    assign_survey,
    create_survey,
    list_surveys,
    retire_survey,
    set_languages,
    survey_version,
)

Action = Callable[[Session, argparse.Namespace, HubSettings], None]
BY = "cli"


def _command(action: Action, settings_from: SettingsFrom) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        settings = settings_from(args)
        run_migrated(settings.database_url, lambda session: action(session, args, settings))
        return 0

    return run


def _limit(settings: HubSettings) -> int:
    return settings.ingest.max_payload_bytes


def _pushed(configs: list[str]) -> str:
    if not configs:
        return "no kiosk's config changed"
    return f"new config for {len(configs)} kiosk(s): {', '.join(configs)}"


def _create(session: Session, args: argparse.Namespace, settings: HubSettings) -> None:
    created = create_survey(
        session, parsed=load_survey_file(args.file), by=BY, max_config_bytes=_limit(settings)
    )
    survey = created.survey
    if not created.new:
        print(f"survey {survey.survey_id} unchanged: version {survey.version} says the same")
        return
    print(f"survey {survey.survey_id} version {survey.version} saved; {_pushed(created.configs)}")


def _list(session: Session, args: argparse.Namespace, _settings: HubSettings) -> None:
    listings = list_surveys(session)
    if args.json:
        print(json.dumps([listing.__dict__ for listing in listings], default=str, indent=2))
        return
    for s in listings:
        state = f"retired {s.retired_at:%Y-%m-%d}" if s.retired_at else "in use"
        where = ", ".join(s.assigned_to) or "not assigned"
        print(f"{s.survey_id:<24} v{s.version:<4} {','.join(s.languages):<16} {state:<18} {where}")


def _show(session: Session, args: argparse.Namespace, _settings: HubSettings) -> None:
    survey = survey_version(session, survey_id=args.survey_id, version=args.version)
    print(json.dumps(survey.model_dump(exclude_none=True), ensure_ascii=False, indent=2))


def _assign(session: Session, args: argparse.Namespace, settings: HubSettings) -> None:
    configs = assign_survey(
        session,
        survey_id=args.survey_id,
        location_id=args.location,
        by=BY,
        max_config_bytes=_limit(settings),
    )
    print(f"{args.location} and beneath it ask {args.survey_id}; {_pushed(configs)}")


def _retire(session: Session, args: argparse.Namespace, settings: HubSettings) -> None:
    configs = retire_survey(session, survey_id=args.survey_id, max_config_bytes=_limit(settings))
    print(
        f"survey {args.survey_id} retired: no longer pushed; kiosks keep it until another is "
        f"assigned; {_pushed(configs)}"
    )


def _languages(session: Session, args: argparse.Namespace, settings: HubSettings) -> None:
    languages = args.languages.split(",")
    configs = set_languages(
        session, location_id=args.location, languages=languages, max_config_bytes=_limit(settings)
    )
    print(f"{args.location} and beneath it: {args.languages}; {_pushed(configs)}")


def add_survey_commands(commands: Commands, settings_from: SettingsFrom) -> None:
    surveys = commands.add_parser(
        "surveys",
        help="what touchpoints ask: surveys, their versions, where they are asked, languages",
        description="A survey is the question above the buttons and, optionally, a follow-up "
        "after a negative and after a positive answer. Editing its wording or options makes "
        "a new version; every response records the version it answered. Kiosks get their "
        "survey with their remote config and keep the last one, offline too.",
    )
    actions = surveys.add_subparsers(dest="action", required=True)

    def command(name: str, action: Action, help_text: str, **extra: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(
            name, help=help_text, description=extra.get("description", help_text), parents=[DB]
        )
        if "epilog" in extra:
            parser.epilog = extra["epilog"]
            parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.set_defaults(run=_command(action, settings_from))
        return parser

    create = command(
        "create",
        _create,
        "create a survey from a TOML file, or its next version",
        description="Store the survey a TOML file describes as version 1, or as the next "
        "version of the survey of that id when the wording or options differ (the same "
        "content makes no version). Kiosks asking it get the new version.",
        epilog="The file:\n" + (definition.__doc__ or "").split("\n\n", 1)[1].replace("%", "%%"),
    )
    create.add_argument("file", type=Path, help="the survey, in TOML")
    listing = command("list", _list, "every survey, its latest version and where it is asked")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    show = command("show", _show, "one version of a survey, every text in every language")
    show.add_argument("survey_id")
    show.add_argument("--version", type=int, metavar="N", help="default: the latest")
    assign = command(
        "assign",
        _assign,
        "a location and every place beneath it ask this survey",
        description="A place asks the survey of the nearest assignment at or above it. The "
        "survey needs texts in every language of the places it reaches.",
    )
    assign.add_argument("survey_id")
    assign.add_argument("location", help="a site, an area or a touchpoint")
    retire = command(
        "retire",
        _retire,
        "stop pushing a survey",
        description="A retired survey is no longer pushed: places fall back to a survey "
        "assigned above them; with none, kiosks keep the one they have until another is "
        "assigned. Its versions and the answers to them stay.",
    )
    retire.add_argument("survey_id")
    languages = command(
        "languages",
        _languages,
        "the languages a location and every place beneath it ask in",
        description="BCP 47 tags, comma-separated, the default first (en,fa). The surveys "
        "of those places need texts in each.",
    )
    languages.add_argument("location")
    languages.add_argument("languages", metavar="en,fa,...")
