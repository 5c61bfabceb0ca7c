"""Where the data lives: an Ibis connection URL, and the tables (or Parquet folders) on it.

``voronka audit --engine URL`` audits tables that stay in the backend: a DuckDB file
(``duckdb:///crm.db``), a PostgreSQL database (``postgres://user:password@host:5432/db``) or a
Spark session (``pyspark://``: the session ``spark-submit`` started, else a local one). Rows are
validated by the backend (:mod:`voronka.engine.sources`); only aggregates come back.

A password in a URL is never shown: :func:`redact` replaces it in every message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ibis.backends import BaseBackend

from voronka.engine.backend import quiet_driver
from voronka.errors import Msg, UsageError

SCHEMES = ("duckdb", "postgres", "postgresql", "pyspark")
"""URL schemes ``--engine`` accepts."""


def redact(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    if not password:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def scrub(text: str, url: str) -> str:
    """``text`` (a driver's message) with ``url`` and its password replaced by their redaction."""
    text = text.replace(url, redact(url))
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    return text.replace(password, "***") if password else text


def connect(url: str) -> BaseBackend:
    """An Ibis connection to ``url``.

    Raises:
        UsageError: an unknown scheme, a missing driver, or a connection that fails (the
            message shows the URL with its password redacted).
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    shown = redact(url)
    if scheme not in SCHEMES:
        raise UsageError(Msg("errors.raised.engine_is_not_a_connection_url", shown=repr(shown)),
                         expected=Msg("errors.expected.duckdb_path_db_postgres_user_password"))
    try:
        with quiet_driver():
            if scheme == "pyspark":
                return _spark(url)
            import ibis

            con = ibis.connect(url)
            if con.name == "duckdb":
                # It would print its bar to standard output, into `--format json`'s JSON.
                con.raw_sql("SET enable_progress_bar = false")
            if con.name == "postgres":
                con.compiler = _postgres_compiler()
            return con
    except ImportError as exc:
        extra = (
            "spark"
            if scheme == "pyspark"
            else "postgres"
            if scheme.startswith("postgres")
            else scheme
        )
        raise UsageError(
            Msg(
                "errors.raised.the_driver_for_is_not_installed",
                scheme=scheme,
                value=exc.name or exc,
            ),
            expected=Msg("errors.expected.pip_install_voronka", extra=extra),
        ) from None
    except UsageError:
        raise
    except Exception as exc:  # the driver's own errors: one message, no traceback, no password
        raise UsageError(
            Msg(
                "errors.raised.cannot_connect_to",
                shown=shown,
                value=scrub(str(exc).strip().splitlines()[0], url),
            ),
            expected=Msg("errors.expected.duckdb_path_db_postgres_user_password"),
        ) from None


def _spark(url: str) -> BaseBackend:
    """The active Spark session (``spark-submit``'s, or one the caller started), else a new one
    with Spark's defaults; ``pyspark://local[2]`` asks for that master when a new one starts."""
    import ibis
    from pyspark.sql import SparkSession

    master = url.split("://", 1)[1].strip("/")
    session: Any = SparkSession.getActiveSession()
    if session is None:
        builder = SparkSession.builder.appName("voronka")
        if master:
            builder = builder.master(master)
        session = builder.getOrCreate()
    return ibis.pyspark.connect(session)


def _postgres_compiler() -> Any:
    """Ibis's PostgreSQL compiler, plus the casts PostgreSQL lacks that the engine's portable
    Ibis uses: ``boolean`` → ``bigint`` (PostgreSQL casts a boolean to ``integer`` only) goes
    through ``integer``. Set on the one connection, not on ibis."""
    import sqlglot.expressions as sge
    from ibis.backends.sql.compilers.postgres import PostgresCompiler

    class Compiler(PostgresCompiler):  # type: ignore[misc]
        def visit_Cast(self, op: Any, *, arg: Any, to: Any) -> Any:
            if op.arg.dtype.is_boolean() and to.is_integer() and not to.is_int32():
                as_int = sge.Cast(this=arg, to=sge.DataType.build("INT"))
                return sge.Cast(this=as_int, to=self.type_mapper.from_ibis(to))
            return super().visit_Cast(op, arg=arg, to=to)

        visit_TryCast = visit_Cast

    return Compiler()
