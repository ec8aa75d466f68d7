"""Rows for import (leads, committee, admins) and export (everyone, with their own visibility)."""

from tests.routes import ANY_OK, DENIED, OK, Route, roles

IMPORTERS = dict(admin=OK, committee=OK, lead=OK, other_lead=OK)
UNPROCESSABLE = frozenset({422})

ROUTES = [
    Route("spreadsheets.upload", "GET", "/import", roles(DENIED, **IMPORTERS)),
    Route(
        "spreadsheets.upload",
        "POST",
        "/import",
        roles(DENIED, **{role: UNPROCESSABLE for role in IMPORTERS}),
        data={},
    ),
    Route(
        "spreadsheets.confirm",
        "POST",
        "/import/confirm",
        roles(DENIED, **{role: ANY_OK for role in IMPORTERS}),
        data={"token": "no-such-upload-token-000000"},
    ),
    Route("spreadsheets.export", "GET", "/export.xlsx", roles(OK)),
    Route("spreadsheets.export", "GET", "/export.csv?group=CG", roles(OK)),
    # Renumbering (the 编号 imports update by) is an admin action.
    Route("admin.renumber", "GET", "/admin/items/{owned}/renumber", roles(DENIED, admin=OK)),
    Route(
        "admin.renumber",
        "POST",
        "/admin/items/{unowned}/renumber",
        roles(DENIED, admin=ANY_OK),
        data={"code": "CG-900", "reason": "与纸质台账对齐"},
    ),
]
