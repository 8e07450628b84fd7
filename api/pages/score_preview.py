"""The score as the AE types: a pure endpoint over domain.scoring (no workflow update per keystroke;
saving the form is the update). It scores with the API's current policy; the saved score, from the
handoff's own policy snapshot, is the one that counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from api.pages import handoff_forms as forms
from api.pages.render import status_word
from api.pages.viewer import Viewer, check_csrf, require_viewer
from domain.approach_kinds import Approach
from domain.document import FieldName, HandoffDocument
from domain.scoring import score_document

router = APIRouter(include_in_schema=False)


@router.post("/pages/score-preview")
async def score_preview(request: Request, viewer: Annotated[Viewer, Depends(require_viewer)]) -> JSONResponse:
    form = await request.form()
    check_csrf(request, form.get("csrf"))
    try:
        patch = forms.document_patch(form)
        approach_text = str(form.get("preview_approach", ""))
        approach = Approach(approach_text) if approach_text in Approach.__members__.values() else None
        cycle = _hours(form.get("preview_cycle_hours"))
        overrides = {
            name: float(str(form[f"preview_override-{name.value}"]))
            for name in FieldName
            if f"preview_override-{name.value}" in form
        }
    except (forms.FormError, ValueError) as err:
        field = err.field if isinstance(err, forms.FormError) else "preview"
        return JSONResponse({"detail": str(err), "field": field}, status_code=422)
    document = HandoffDocument().merged(patch)
    report = score_document(
        document,
        request.app.state.policy,
        sales_cycle=cycle,
        approach=approach,
        overrides={k: v for k, v in overrides.items() if v in (0.0, 0.5, 1.0)},
    )
    return JSONResponse(
        {
            "score": report.score,
            "tier": report.tier.value,
            "fields": {
                name.value: {"status": f.status, "word": status_word(f.status), "reason": f.reason, "weight": f.weight}
                for name, f in report.fields.items()
            },
        },
        headers={"Cache-Control": "no-store"},
    )


def _hours(value: object) -> timedelta | None:
    if not isinstance(value, str) or not value:
        return None
    hours = float(value)
    if not 0 <= hours <= 24 * 365 * 50:
        raise ValueError("preview_cycle_hours out of range")
    return timedelta(hours=hours)
