"""Pickers, receivers and packers land on the handheld page, which lists the lane work assigned to them."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.factories import PASSWORD
from wms.db import db
from wms.enums import TaskKind
from wms.layout.models import Location
from wms.tasks import services as tasks


def test_a_picker_signing_in_with_a_password_lands_on_the_handheld(app, client, make_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        make_user("pia", roles=("picker",))
        db.session.commit()
    response = client.post("/auth/login", data={"username": "pia", "password": PASSWORD, "next": "/"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/hh/")


def test_the_handheld_page_lists_my_assigned_work_and_not_others(app, client, make_user, make_warehouse,  # type: ignore[no-untyped-def]
                                                                  make_rack_zone, sign_in) -> None:
    with app.app_context():
        wh = make_warehouse()
        make_rack_zone(wh)
        lanes = list(db.session.scalars(select(Location).where(Location.warehouse_id == wh.id).order_by(Location.id)))
        me, other = make_user(roles=("picker",)), make_user(roles=("picker",))
        tasks.assign_task(tasks.create_task(lanes[0], TaskKind.PICK, quantity=3), me)
        tasks.assign_task(tasks.create_task(lanes[1], TaskKind.PICK, quantity=5), other)
        mine, theirs = lanes[0].code, lanes[1].code
        db.session.commit()
    sign_in(client, me)
    page = client.get("/hh/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert mine in html and theirs not in html


def test_a_packer_without_work_is_told_so_and_a_stranger_is_sent_to_sign_in(app, client, make_user, sign_in) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/hh/").status_code == 302
    with app.app_context():
        packer = make_user(roles=("packer",))
        db.session.commit()
    sign_in(client, packer)
    page = client.get("/hh/", headers={"Accept-Language": "en"})
    assert "No work is assigned to you right now." in page.get_data(as_text=True)


def test_the_home_page_opens_the_flows_of_my_roles_and_the_app_shell_keeps_them(app, client, make_user,  # type: ignore[no-untyped-def]
                                                                                  sign_in) -> None:
    with app.app_context():
        receiver, packer, picker = (make_user(roles=(r,)) for r in ("receiver", "packer", "picker"))
        db.session.commit()
    seen = {}
    for user in (receiver, packer, picker):
        sign_in(client, user)
        seen[user.roles] = client.get("/hh/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    receiving, packing, picking = seen.values()
    assert 'href="/hh/receive"' in receiving and 'href="/hh/replenish"' in receiving and "/hh/pack" not in receiving
    assert 'href="/hh/putaway"' in receiving and "/hh/stage" not in receiving
    assert 'href="/hh/pack"' in packing and 'href="/hh/stage"' in packing and "/hh/receive" not in packing
    assert "/hh/pack" not in picking and "/hh/receive" not in picking
    sw = client.get("/hh/sw.js").get_data(as_text=True)
    for path in ("/hh/receive", "/hh/putaway", "/hh/pack", "/hh/stage", "/hh/static/js/receive.js",
                 "/hh/static/js/putaway.js", "/hh/static/js/pack.js", "/hh/static/js/stage.js"):
        assert f'"{path}"' in sw
    assert re.search(r'const CACHE = "hh-shell-v\d+"', sw) and ".catch(() => null)" in sw  # a missing file never fails install
