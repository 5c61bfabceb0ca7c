"""The REST API under ``/api/v1``: datasets, the audit JSON with the dashboard's filters, the
deals behind a number, a period comparison, the stage-name lint. OpenAPI at
``/api/v1/openapi.json``."""

from __future__ import annotations

import dataclasses
import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, UploadFile
from pydantic import BaseModel, Field

from voronka.engine import MAX_PAGE
from voronka.web.datasets import create_dataset, needs_mapping
from voronka.web.views import Params, query_of, selection_of
from voronka.web.workspace import NothingToCompare, UnknownDataset, Workspace


class ErrorOut(BaseModel):
    """Why a request could not be served, in plain words."""

    detail: str


router = APIRouter(
    prefix="/api/v1",
    tags=["v1"],
    responses={
        400: {"model": ErrorOut, "description": "Bad input: the message says what and where."},
        401: {"model": ErrorOut, "description": "The access token is missing or wrong."},
        404: {"model": ErrorOut, "description": "No such dataset."},
    },
)


class DatasetOut(BaseModel):
    """A dataset."""

    id: str
    name: str
    created_at: str
    needs_mapping: bool = False


class DealPageOut(BaseModel):
    """A page of the deals behind a number."""

    total: int = Field(ge=0)
    offset: int = Field(ge=0)
    columns: list[str]
    rows: list[dict[str, Any]]


class LintIn(BaseModel):
    """Stage names to judge."""

    names: list[Annotated[str, Field(max_length=300)]] = Field(min_length=1, max_length=200)


def _ws(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


def _dataset(ws: Workspace, dataset_id: str) -> None:
    if ws.store.dataset(dataset_id) is None:
        raise UnknownDataset(dataset_id)


FilterFrom = Annotated[str | None, Query(alias="from", description="First day (YYYY-MM-DD).")]
FilterTo = Annotated[str | None, Query(alias="to", description="Last day (YYYY-MM-DD).")]
Where = Annotated[list[str] | None, Query(description="column=value (repeat).")]


def _params(request: Request) -> Params:
    return Params.of(list(request.query_params.multi_items()))


@router.get("/datasets", response_model=list[DatasetOut])
def list_datasets(request: Request) -> list[DatasetOut]:
    """Every dataset, newest first."""
    return [
        DatasetOut(id=d.id, name=d.name, created_at=d.created_at.isoformat())
        for d in _ws(request).store.datasets()
    ]


@router.post("/datasets", response_model=DatasetOut, status_code=201)
def upload_dataset(request: Request, file: UploadFile) -> DatasetOut:
    """Upload a CSV/XLSX/Parquet file or a ZIP of a folder."""
    ws = _ws(request)
    dataset = create_dataset(ws.store, file.file, file.filename,
                             request.app.state.settings.max_upload_bytes)
    return DatasetOut(id=dataset.id, name=dataset.name, created_at=dataset.created_at.isoformat(),
                      needs_mapping=needs_mapping(ws, dataset))


@router.get("/datasets/{dataset_id}/audit")
def audit(
    request: Request,
    dataset_id: str,
    from_: FilterFrom = None,
    to: FilterTo = None,
    source: str | None = None,
    manager: str | None = None,
    pipeline: str | None = None,
    where: Where = None,
    by: Annotated[list[str] | None, Query()] = None,
    plan: Annotated[float | None, Query(gt=0, lt=1e9)] = None,
    lang: Annotated[str | None, Query(pattern="^(ru|en)$")] = None,
) -> dict[str, Any]:
    """The audit (the JSON contract, ``schema/audit.schema.json``) of the deals the filters keep —
    the same numbers as ``voronka audit --from --to --where … --format json``."""
    ws = _ws(request)
    _dataset(ws, dataset_id)
    result = ws.audit(dataset_id, query_of(_params(request)))
    return result.to_dict()


@router.get("/datasets/{dataset_id}/deals", response_model=DealPageOut)
def deals(
    request: Request,
    dataset_id: str,
    sel: Annotated[str, Query(pattern="^(all|won|lost|open|reached|lost_here|open_here|stuck)$")]
    = "all",
    stage: str | None = None,
    from_: FilterFrom = None,
    to: FilterTo = None,
    source: str | None = None,
    manager: str | None = None,
    where: Where = None,
    sort: str = "deal_id",
    desc: bool = False,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> DealPageOut:
    """A page (at most 500) of the deals behind a number: ``sel`` and ``stage`` as in the
    dashboard's links."""
    ws = _ws(request)
    _dataset(ws, dataset_id)
    query = query_of(_params(request))
    result = ws.audit(dataset_id, query)
    args = {"sel": sel, **({"stage": stage} if stage else {})}
    selection = selection_of(result, ws.load(dataset_id).log.require_funnel().stage_ids, args)
    page = ws.deals(dataset_id, query, selection, sort=sort, descending=desc, offset=offset,
                    limit=limit)
    frame = page.rows.astype(object).where(page.rows.notna(), None)
    rows = [
        {k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")
    ]
    return DealPageOut(total=page.total, offset=page.offset, columns=list(page.columns), rows=rows)


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


@router.get("/datasets/{dataset_id}/compare")
def compare(
    request: Request,
    dataset_id: str,
    from_: Annotated[str, Query(alias="from")],
    to: Annotated[str, Query()],
    cmp: Annotated[str, Query(pattern="^(previous|year)$")] = "previous",
    source: str | None = None,
    manager: str | None = None,
    where: Where = None,
    lang: Annotated[str, Query(pattern="^(ru|en)$")] = "ru",
) -> dict[str, Any]:
    """The period ``from``–``to`` against the previous period or a year earlier: each step's
    conversion change with its 95% interval and whether it is beyond noise. When the earlier
    period holds no deal: ``nothing_to_compare`` true, a ``message`` in ``lang``, no steps."""
    ws = _ws(request)
    _dataset(ws, dataset_id)
    query = query_of(_params(request))
    try:
        result = ws.compare(dataset_id, query, cmp)
    except NothingToCompare as nothing:
        return nothing.to_dict(query.lang)
    out: dict[str, Any] = _jsonable(dataclasses.asdict(result))
    out["nothing_to_compare"] = False
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return _plain(value)


@router.post("/lint-stages")
def lint_stages(body: LintIn, lang: Annotated[str, Query(pattern="^(ru|en)$")] = "ru") -> list[
    dict[str, Any]
]:
    """Judge stage names: a result or a process, with a rename (as ``voronka lint-stages``)."""
    from voronka.lang import lint_stage_names

    return [v.to_dict(lang) for v in lint_stage_names(body.names)]
