"""The twin's workspace: keeping practices, writing the replication plan, sharing, comments,
exports; pages for people and JSON for programs, with the same rules (kb/workspace/workspace.py)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Body, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from kb.documents import markdown_html
from kb.errors import StaleEdit, Unauthenticated
from kb.workspace import ACTION_FIELDS, GUIDANCE, SECTION_NAMES, SECTIONS, STATUSES, action_rows, actions_markdown
from search_app.auth import CheckedForm, bearer_user, check_form, csrf_token, login_first, visit
from search_app.deps import KB, Reader, Writer
from search_app.errors import PRIVATE_READ, STATUS, WRITE, documented
from search_app.guards import StrictRoute
from search_app import i18n
from search_app.i18n import N_
from search_app.i18n import gettext as _
from search_app.render import is_htmx, render

router = APIRouter(route_class=StrictRoute)  # the JSON API: unknown parameters refused
pages = APIRouter(include_in_schema=False)


def _back(request: Request, fallback: str) -> str:
    """Where a form posted without JavaScript returns: the page it came from, on this site."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return fallback


# The words the pages show for a kept practice's status.
STATUS_NAMES = {"considering": N_("Considering"), "adopting": N_("Adopting"), "dropped": N_("Dropped")}
STATUS_WORDS = {"considering": N_("considering"), "adopting": N_("adopting"), "dropped": N_("dropped")}
def _translated(pairs) -> list[tuple[str, str]]:
    """(name, English) pairs of the core as (name, the words of this request's language)."""
    return [(name, _(english)) for name, english in pairs]


def _status_words() -> dict[str, dict[str, str]]:
    return {"status_names": {s: _(w) for s, w in STATUS_NAMES.items()},
            "status_words": {s: _(w) for s, w in STATUS_WORDS.items()}}


# -- the shortlist ----------------------------------------------------------------------------

@pages.post("/workspace/keep")
def keep(request: Request, kb: KB, _: CheckedForm, doc_id: str = Form(...)):
    kb.keep(request.state.user, doc_id, visit=visit(request))
    if is_htmx(request):
        return render(request, "_keep.html", {"doc_id": doc_id, "kept": True})
    return RedirectResponse(_back(request, "/workspace"), status_code=303)


@pages.get("/workspace")
def workspace(request: Request, kb: KB):
    if request.state.user is None:
        return login_first(request)
    return render(request, "workspace.html", {"page": kb.workspace.page(request.state.user), "statuses": STATUSES,
                                              "csrf": csrf_token(request), **_status_words()})


@pages.post("/workspace/shortlist/remove/{doc_id:path}")
def drop_kept(request: Request, kb: KB, doc_id: str, _: CheckedForm):
    kb.workspace.drop(request.state.user, doc_id)
    return RedirectResponse("/workspace#shortlist", status_code=303)  # htmx follows it: the page again


@pages.post("/workspace/shortlist/{doc_id:path}")
def update_kept(request: Request, kb: KB, doc_id: str, _: CheckedForm, status: str = Form(...), note: str = Form("")):
    item = kb.workspace.update(request.state.user, doc_id, status, note)
    if is_htmx(request):  # saved in place: the form, and the focus in it, stay
        return render(request, "_kept_saved.html", {"item": item, "fid": doc_id.replace("/", "-"), **_status_words()})
    return RedirectResponse(f"/workspace?saved={quote(doc_id)}#kept-{quote(doc_id.replace('/', '-'))}",
                            status_code=303)


# -- the plan ---------------------------------------------------------------------------------

def _plan_page(request: Request, page, conflict: StaleEdit | None = None, code: int = 200):
    actions, steps_notes = action_rows(page.plan.sections.get("steps", ""))
    sections = _translated(SECTIONS)
    return render(request, "plan.html", {
        "page": page, "sections": sections, "section_names": dict(sections), "csrf": csrf_token(request),
        "conflict": conflict, "previews": {n: markdown_html(t) for n, t in page.plan.sections.items()},
        "guidance": GUIDANCE, "action_fields": _translated(ACTION_FIELDS), "actions": actions,
        "steps_notes": steps_notes,
    }, status_code=code)


@pages.get("/workspace/plan")
def plan_editor(request: Request, kb: KB):
    if request.state.user is None:
        return login_first(request)
    return _plan_page(request, kb.workspace.plan(request.state.user, language=i18n.current()))


async def _sections_form(request: Request) -> tuple[dict[str, str], int]:
    form = await request.form()
    check_form(request, form)
    version = form.get("version", "")
    sections = {name: form[name] for name in SECTION_NAMES if name in form}
    if "step_action" in form:  # the planned steps as rows of fields: kept as a Markdown table
        columns = [form.getlist(f"step_{name}") for name, _ in ACTION_FIELDS]
        rows = [dict(zip((name for name, _ in ACTION_FIELDS), values)) for values in zip(*columns)]
        sections["steps"] = actions_markdown(rows, str(form.get("steps_notes", "")), i18n.current())
    return sections, int(version) if str(version).isdigit() else -1


SectionsForm = Annotated[tuple, Depends(_sections_form)]


@pages.post("/workspace/plan")
def save_plan(request: Request, kb: KB, submitted: SectionsForm):
    """Autosave (htmx: the save status only) and the plain form (the page again)."""
    sections, version = submitted
    result = kb.workspace.submit(request.state.user, sections, version)
    code = STATUS[result.conflict.kind] if result.conflict else 200
    if is_htmx(request):
        return render(request, "_plan_status.html", {"conflict": result.conflict, "plan": result.page.plan,
                                                     "section_names": dict(_translated(SECTIONS))},
                      status_code=code)
    if result.conflict:
        return _plan_page(request, result.page, conflict=result.conflict, code=code)
    return RedirectResponse("/workspace/plan?saved=1", status_code=303)


@pages.post("/workspace/plan/preview/{section}")
async def preview(request: Request, section: str):
    """The section's Markdown as it will read: no knowledge base needed, nothing stored."""
    form = await request.form()
    return Response(markdown_html(str(form.get(section, ""))[:20_000]), media_type="text/html")


@pages.post("/workspace/plan/share")
def share_plan(request: Request, kb: KB, _: CheckedForm, shared: str = Form("")):
    kb.workspace.share(request.state.user, shared == "1")
    return RedirectResponse("/workspace/plan", status_code=303)


@pages.post("/workspace/plan/finalise")
def finalise_plan(request: Request, kb: KB, _: CheckedForm):
    kb.workspace.finalise(request.state.user)
    return RedirectResponse("/workspace/plan", status_code=303)


@pages.get("/plans/{twin}")
def read_plan(request: Request, kb: KB, twin: str):
    try:
        page = kb.workspace.plan(request.state.user, twin, i18n.current())
    except Unauthenticated:
        return login_first(request)
    return _plan_page(request, page)


@pages.post("/plans/{twin}/comments")
def add_comment(request: Request, kb: KB, twin: str, _: CheckedForm, section: str = Form(...), text: str = Form("")):
    kb.workspace.comment(request.state.user, twin, section, text)
    return RedirectResponse(f"/plans/{quote(twin)}#comments", status_code=303)


@pages.post("/plans/{twin}/comments/{comment_id}/resolve")
def resolve_comment(request: Request, kb: KB, twin: str, comment_id: int, _: CheckedForm):
    kb.workspace.resolve(request.state.user, twin, comment_id)
    return RedirectResponse(f"/plans/{quote(twin)}#comments", status_code=303)


@pages.get("/plans/{twin}/export.{fmt}")
def export_plan(request: Request, kb: KB, twin: str, fmt: str):
    content, filename, media = kb.workspace.export(request.state.user, twin, fmt, i18n.current())
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# -- JSON API ---------------------------------------------------------------------------------

class Kept(BaseModel):
    doc_id: str = Field(..., max_length=200, description="The practice to keep.")


class KeptChange(BaseModel):
    status: Literal["considering", "adopting", "dropped"]
    note: str = Field("", max_length=2000, description="Why it fits us, what we would change.")


class PlanChange(BaseModel):
    sections: dict[str, str] = Field(..., description=f"Section texts (Markdown): {', '.join(SECTION_NAMES)}.")
    version: int = Field(..., ge=0, description="The version the changes start from; 409 if the plan moved on.")


class Comment(BaseModel):
    section: str = Field(..., description=f"One of {', '.join(SECTION_NAMES)}.")
    text: str = Field(..., max_length=2000)


@router.get("/api/shortlist", tags=["workspace"], responses=documented(*PRIVATE_READ))
def api_shortlist(kb: KB, user: Reader) -> dict:
    """The practices your twin city keeps, with status and note."""
    return {"items": [{"doc_id": k.doc.id, "title": k.doc.title, "city": k.doc.city, "status": k.item.status,
                       "note": k.item.note} for k in kb.workspace.shortlist(user)]}


@router.post("/api/shortlist", status_code=201, tags=["workspace"], responses=documented(*WRITE))
def api_keep(kb: KB, user: Writer, body: Kept) -> dict:
    """Keep a practice (twin accounts)."""
    return kb.workspace.keep(user, body.doc_id).__dict__


@router.patch("/api/shortlist/{doc_id:path}", tags=["workspace"], responses=documented(*WRITE))
def api_update_kept(kb: KB, user: Writer, doc_id: str, body: KeptChange) -> dict:
    return kb.workspace.update(user, doc_id, body.status, body.note).__dict__


@router.delete("/api/shortlist/{doc_id:path}", status_code=204, tags=["workspace"],
               responses=documented(*WRITE))
def api_drop(kb: KB, user: Writer, doc_id: str) -> Response:
    kb.workspace.drop(user, doc_id)
    return Response(status_code=204)


@router.get("/api/plans/{twin}", tags=["workspace"], responses=documented(*PRIVATE_READ))
def api_plan(request: Request, kb: KB, twin: str) -> dict:
    """A replication plan: its sections, version, sharing, comments. A final plan is public; any
    other is read by its twin and, once shared, by its paired pilots and the matching team."""
    page = kb.workspace.plan(bearer_user(request) or request.state.user, twin)
    return {"twin": page.twin.city, **{k: v for k, v in page.plan.__dict__.items() if k != "twin"},
            "comments": [c.__dict__ for c in page.comments]}


@router.put("/api/plans/{twin}", tags=["workspace"], responses=documented(*WRITE))
def api_save_plan(kb: KB, user: Writer, twin: str, body: PlanChange) -> dict:
    """Save sections from `version`: 409 with the current and your texts if someone saved since."""
    plan = kb.workspace.save(user, body.sections, body.version, twin)
    return {"twin": plan.twin, "version": plan.version}


@router.post("/api/plans/{twin}/share", tags=["workspace"], responses=documented(*WRITE))
def api_share_plan(kb: KB, user: Writer, twin: str, shared: bool = Body(True, embed=True)) -> dict:
    """Share the plan (or stop); `shared_with` says whom it reaches: its paired pilots and the matching team."""
    plan, reach = kb.workspace.sharing(user, shared, twin)
    return {"twin": plan.twin, "shared": plan.shared, "shared_with": reach}


@router.post("/api/plans/{twin}/comments", status_code=201, tags=["workspace"],
              responses=documented(*WRITE))
def api_comment(kb: KB, user: Writer, twin: str, body: Comment) -> dict:
    return kb.workspace.comment(user, twin, body.section, body.text).__dict__


@router.post("/api/plans/{twin}/comments/{comment_id}/resolve", tags=["workspace"],
              responses=documented(*WRITE))
def api_resolve(kb: KB, user: Writer, twin: str, comment_id: int) -> dict:
    kb.workspace.resolve(user, twin, comment_id)
    return {"resolved": comment_id}


@router.post("/api/plans/{twin}/finalise", tags=["workspace"], responses=documented(*WRITE))
def api_finalise(kb: KB, user: Writer, twin: str) -> dict:
    """Make the plan final: a searchable document, linked to the practices it adopts."""
    plan = kb.workspace.finalise(user, twin)
    return {"twin": plan.twin, "version": plan.version, "final": plan.final, "adopted": list(plan.adopted)}


@router.get("/api/plans/{twin}/export", tags=["workspace"], responses=documented(*PRIVATE_READ))
def api_export(kb: KB, user: Reader, twin: str, format: Literal["md", "docx", "pdf"] = "md") -> Response:  # noqa: A002
    content, filename, media = kb.workspace.export(user, twin, format, i18n.current())
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


router.include_router(pages)
