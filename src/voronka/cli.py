"""The command line: a thin shell that parses options, calls the library, renders, exits.

Exit status: 0 done; 2 bad input or usage (a one-paragraph message, no traceback); 1 an internal
error.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.markup import escape

from voronka.errors import InputError, Msg, UsageError, any_of
from voronka.i18n import normalize_language, t, user_language
from voronka.outputs import (
    FORMATS,
    INPUTS,
    ReadProgress,
    catch_interrupts,
    format_of,
    interrupted,
    read_name_list,
    render_report,
    write_report,
)
from voronka.text_safety import json_text, safe_text

app = typer.Typer(
    name="voronka",
    help="Sales-funnel audit from a CRM export: leaks, anomalies, sources, stage hygiene, key stage, "
    "plan forecast.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain help: typer's rich help pulls in markdown-it and pygments (~0.3 s of a 0.3 s budget).
    rich_markup_mode=None,
)

DEMO_MONTHS = 19  # the demo's history: 18 whole months and half of the 19th


def _parse_map(pairs: list[str] | None) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        canonical, sep, header = pair.partition("=")
        if not sep or not canonical.strip() or not header.strip():
            raise UsageError(Msg("errors.raised.map_is_not_of_the_form", pair=repr(pair)),
                             expected=Msg("errors.expected.e_g_map_deal_id_id"))
        mapping[canonical.strip()] = header.strip()
    return mapping


def _parse_pairs(pairs: list[str] | None, option: str) -> list[tuple[str, str]]:
    out = []
    for pair in pairs or []:
        column, sep, value = pair.partition("=")
        if not sep or not column.strip():
            raise UsageError(
                Msg("errors.raised.is_not_of_the_form_column", option=option, pair=repr(pair)),
                expected=Msg("errors.expected.e_g_manager", option=option),
            )
        out.append((column.strip(), value.strip()))
    return out


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(
            Msg("errors.raised.is_not_a_date", option=option, value=repr(value)),
            expected=Msg("errors.expected.yyyy_mm_dd"),
        ) from None


@app.command("audit")
def audit_command(
    inputs: Annotated[list[str] | None, typer.Argument(
        help="The events file (or a folder, or CRM exports).", show_default=False)] = None,
    deals: Annotated[str | None, typer.Option("--deals", help="Deals file (one row a deal).")] = None,
    spend: Annotated[str | None, typer.Option("--spend", help="Ad-spend file.")] = None,
    funnel: Annotated[Path | None, typer.Option("--funnel", help="Funnel file (TOML), or the CRM's stage list (JSON of its API).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The moment the data describes.")] = None,
    by: Annotated[list[str] | None, typer.Option("--by", help="Breakdown column (repeat).")] = None,
    plan: Annotated[float | None, typer.Option("--plan", help="Won deals wanted.")] = None,
    plan_revenue: Annotated[float | None, typer.Option("--plan-revenue", help="Revenue wanted.")] = None,
    plan_from: Annotated[str | None, typer.Option("--plan-from", help="Plan period start.")] = None,
    plan_until: Annotated[str | None, typer.Option("--plan-until", help="Plan period end.")] = None,
    map_: Annotated[list[str] | None, typer.Option("--map", help="canonical=header (repeat).")] = None,
    created_from: Annotated[str | None, typer.Option("--from", help="Deals created from.")] = None,
    created_to: Annotated[str | None, typer.Option("--to", help="Deals created until.")] = None,
    where: Annotated[list[str] | None, typer.Option("--where", help="column=value (repeat).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first bad row.")] = False,
    lang: Annotated[str | None, typer.Option("--lang", help="ru or en.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="text, json, html, xlsx or md "
        "(default: from the extension of -o, else text).", show_default=False)] = None,
    output: Annotated[str | None, typer.Option("-o", "--output", help="Output path; - for stdout.")] = None,
    engine: Annotated[str | None, typer.Option("--engine", help="Audit tables where they live: "
        "duckdb:///file.db, postgres://user:pass@host/db or pyspark:// (docs/scale.md).")] = None,
    events: Annotated[str | None, typer.Option("--events", help="Events table or Parquet folder "
        "(with --engine; --deals and --spend then name tables too).")] = None,
) -> None:
    """Audit a CRM export: funnel, leaks, anomalies, sources, stage hygiene, key stage, forecast."""
    from voronka import api

    sources = [*(inputs or []), *([events] if events else [])]
    if not sources or (engine is not None and len(sources) != 1):
        raise UsageError(Msg("errors.msg.events_needed") if engine is None
                         else Msg("errors.raised.engine_takes_one_events_table"),
                         expected=Msg("errors.expected.voronka_audit_events_csv_or_engine"))
    fmt = fmt if fmt is not None else format_of(output)
    if fmt not in FORMATS:
        raise UsageError(
            Msg("errors.raised.format_is_not_supported", fmt=repr(fmt)), expected=any_of(FORMATS)
        )
    console = Console(stderr=fmt != "text" or output is not None)
    with ReadProgress(Console(stderr=True)) as progress:
        result = api.audit(
            sources[0] if len(sources) == 1 else sources, deals=deals, spend=spend, funnel=funnel,
            column_map=_parse_map(map_),
            strict=strict, as_of=as_of, by=by, plan=plan, plan_revenue=plan_revenue,
            plan_from=_parse_date(plan_from, "--plan-from"),
            plan_until=_parse_date(plan_until, "--plan-until"),
            lang=lang, progress=progress, engine=engine, created_from=created_from,
            created_to=created_to, where=_parse_pairs(where, "--where"),
        )
    language = normalize_language(lang or result.language)
    content = render_report(result, fmt, language, None, console)
    write_report(content, fmt, output, language)


@app.command("demo")
def demo_command(
    folder: Annotated[Path, typer.Argument(help="Where to write the sample export.")] = Path(
        "demo-output"
    ),
    deals: Annotated[int, typer.Option("--deals", help="Number of deals to generate.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    plan: Annotated[
        float | None, typer.Option("--plan", help="Won deals planned for the current month.")
    ] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="ru or en.")] = None,
) -> None:
    """Write a realistic sample CRM export (events, deals, spend, funnel) and audit it.

    The sample company's export is taken on the 15th of its 19th month, so the month's plan (by
    default 105 won deals per 20,000 deals of history) is still open.
    """
    from voronka import api, report
    from voronka.demo import generate_demo, write_demo

    language = normalize_language(lang or "ru")
    if deals < 10:
        raise UsageError(
            Msg("errors.raised.deals_is_too_few_for_a", deals=deals),
            expected=Msg("errors.expected.10_deals_or_more"),
        )
    if Path(folder).exists() and not Path(folder).is_dir():
        raise UsageError(
            Msg("errors.raised.is_a_file_not_a_folder", folder=repr(str(folder))),
            expected=Msg("errors.expected.a_folder_for_the_demo"),
        )
    console = Console()
    console.print(t("cli.demo_generating", language, deals=deals, folder=str(folder)))
    files = write_demo(generate_demo(deals, seed=seed, months=DEMO_MONTHS, end_day=15), folder)
    monthly_plan = plan if plan is not None else max(1.0, round(105 * deals / 20_000))
    with ReadProgress(Console(stderr=True)) as progress:
        result = api.audit(files.events, deals=files.deals, spend=files.spend,
                           funnel=files.funnel, lang=language, progress=progress,
                           plan=monthly_plan)
    report.print_text(result, console, lang=language)
    html_path = Path(folder) / "report.html"
    html_path.write_text(str(report.render(result, "html", lang=language)), encoding="utf-8")
    json_path = Path(folder) / "audit.json"
    json_path.write_text(str(report.render(result, "json", lang=language)), encoding="utf-8")
    console.print(t("cli.demo_done", language, html=str(html_path), json=str(json_path)))


@app.command("lint-stages")
def lint_stages_command(
    names: Annotated[list[str] | None, typer.Argument(help="Stage names to judge.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="A file with one name per line.")] = None,
    funnel: Annotated[Path | None, typer.Option(
        "--funnel", help="Judge a funnel file's stages (TOML, or the CRM's stage list in JSON)."
    )] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="ru or en.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Judge stage names: a result ("Встреча назначена") or a process ("Думают"), with a rename."""
    from voronka.io.exports.pipeline_file import read_funnel_file
    from voronka.lang import lint_stage_names
    from voronka.lang.render import render_lint_text

    if fmt not in ("text", "json"):
        raise UsageError(
            Msg("errors.raised.format_is_not_supported_here", fmt=repr(fmt)),
            expected=Msg("errors.expected.text_or_json"),
        )
    all_names = list(names or [])
    if file is not None:
        all_names += read_name_list(file)
    loaded = read_funnel_file(funnel) if funnel is not None else None
    if not all_names and loaded is None:
        raise UsageError(
            Msg("errors.raised.no_stage_names_given"),
            expected=Msg("errors.expected.names_file_f_or_funnel_f"),
        )
    language = user_language(lang)
    verdicts = lint_stage_names(all_names, funnel=cast(Any, loaded))  # each name's language is detected
    if fmt == "json":
        payload = [v.to_dict(language) for v in verdicts]
        sys.stdout.write(json_text(payload, indent=2) + "\n")
    else:
        console = Console()
        text = render_lint_text(verdicts, language, width=console.width, color=console.is_terminal)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


@app.command("pull")
def pull_command(
    crm: Annotated[str, typer.Argument(help="amocrm, bitrix24, hubspot or pipedrive.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the pull into.")],
    config: Annotated[Path | None, typer.Option("--config", help="Credentials file (TOML).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only deals changed since.")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="ru or en.")] = None,
) -> None:
    """Pull pipelines, deals and stage history through a CRM's API into a folder to audit.

    Credentials come from environment variables or the config file, never from the command line.
    A second pull into the same folder fetches only what changed; an interrupted pull resumes.
    """
    from rich.progress import BarColumn, Progress, TextColumn

    from voronka.io.crm import CRM_NAMES, PullProgress, describe_pull, pull

    language = user_language(lang)
    if crm not in CRM_NAMES:
        raise UsageError(
            Msg("errors.raised.unknown_crm", crm=repr(crm)), expected=any_of(CRM_NAMES)
        )
    err = Console(stderr=True)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}"),
                   console=err, transient=True, disable=not err.is_terminal)
    tasks: dict[str, Any] = {}

    def progress(p: PullProgress) -> None:
        if p.phase not in tasks:
            tasks[p.phase] = bar.add_task(t(f"crm.phase.{p.phase}", language), total=p.total)
        bar.update(tasks[p.phase], completed=p.records, total=p.total)

    import warnings

    from voronka.io.crm.credentials import CredentialsFileWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CredentialsFileWarning)
        try:
            with bar:
                summary = pull(crm, out, config=config, since=_parse_date(since, "--since"),
                               progress=progress)
        finally:
            for w in caught:  # like ssh: said on every run, also when the pull fails
                if isinstance(w.message, CredentialsFileWarning):
                    err.print(escape(w.message.describe_in(language)), style="yellow",
                              highlight=False)
    for line in describe_pull(summary, language):
        Console().print(escape(safe_text(line)))


from voronka.cli_live import register as _register_live  # noqa: E402

_register_live(app)  # voronka sync, watch, hooks (docs/live.md)

from voronka.cli_serve import serve_command  # noqa: E402

app.command("serve")(serve_command)


def _input_paths(args: list[str]) -> list[str]:
    """The existing paths named on the command line, except the output's own (``-o``/``--output``):
    re-running into an existing report overwrites it; naming an input as the output is refused."""
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "--output"):
            skip = True
            continue
        if not a.startswith("-") and Path(a).exists():
            out.append(a)
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``voronka`` command; returns the exit status (130 after Ctrl-C, with
    one line and no output written)."""
    args = sys.argv[1:] if argv is None else argv
    lang = None
    if "--lang" in args and args.index("--lang") + 1 < len(args):
        lang = args[args.index("--lang") + 1]
    lang = user_language(lang)
    INPUTS[:] = _input_paths(args)
    code = 130
    with catch_interrupts():
        try:
            code = _main(args, lang)
        except KeyboardInterrupt:
            code = 130
    if code == 130 or interrupted():
        Console(stderr=True, highlight=False, emoji=False).print(t("cli.interrupted", lang))
        return 130
    return code


def _main(args: list[str], lang: str) -> int:
    try:
        returned = app(args, standalone_mode=False)
        if returned == 130:  # click's answer to a KeyboardInterrupt without standalone mode
            return 130
    except InputError as exc:
        message = exc.describe_in(lang)  # the catalogue key it carries, said in ``lang``
        Console(stderr=True, highlight=False, emoji=False).print(
            f"[bold red]{t('cli.error_input', lang)}[/] {escape(safe_text(message))}",
            soft_wrap=True
        )
        return 2
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", None)
        if code is None:
            code = getattr(exc, "code", 0)
        return int(code or 0)
    except typer.Abort as exc:  # click turns Ctrl-C (and a stray EOFError) into Abort
        if interrupted():
            return 130
        if isinstance(exc.__context__, EOFError):  # a compressed file cut short
            Console(stderr=True, highlight=False, emoji=False).print(
                f"[bold red]{t('cli.error_input', lang)}[/] {escape(str(exc.__context__))}"
                " (a truncated .gz file?)"
            )
            return 2
        return 1
    except Exception as exc:  # usage errors of the (vendored) click parser, internal errors
        # typer vendors click, so its usage errors are recognised by shape, not by class.
        show = getattr(exc, "show", None)
        if callable(show) and isinstance(getattr(exc, "exit_code", None), int):
            show()
            return 2
        Console(stderr=True, highlight=False, emoji=False).print(
            f"[bold red]{t('cli.error_internal', lang)}[/] {type(exc).__name__}: {escape(safe_text(exc))}"
        )
        if os.environ.get("VORONKA_DEBUG"):
            raise
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
