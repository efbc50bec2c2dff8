"""Pickers work the front face, receivers the back face: the service refuses, and so does the database."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from wms.db import db
from wms.enums import Face, Role, TaskKind
from wms.errors import LaneOnWrongFace
from wms.layout.models import Location, LocationFace
from wms.tasks import services as tasks
from wms.tasks.models import Task


@pytest.fixture
def lane(session, make_warehouse, make_rack_zone):  # type: ignore[no-untyped-def]
    wh = make_warehouse()
    make_rack_zone(wh)
    return session.scalar(select(Location).where(Location.warehouse_id == wh.id).order_by(Location.id).limit(1))


def test_receiver_cannot_be_given_pick_work(session, lane, make_user):  # type: ignore[no-untyped-def]
    receiver = make_user(roles=("receiver",))
    task = tasks.create_task(lane, TaskKind.PICK)
    with pytest.raises(LaneOnWrongFace):
        tasks.assign_task(task, receiver)


def test_picker_cannot_be_given_put_away_work(session, lane, make_user):  # type: ignore[no-untyped-def]
    picker = make_user(roles=("picker",))
    task = tasks.create_task(lane, TaskKind.PUTAWAY)
    with pytest.raises(LaneOnWrongFace):
        tasks.assign_task(task, picker)


def test_database_refuses_a_receiver_on_the_pick_face(session, lane, make_user):  # type: ignore[no-untyped-def]
    receiver = make_user(roles=("receiver",))
    pick_face = lane.face(Face.PICK)
    session.add(Task(warehouse_id=lane.warehouse_id, kind=TaskKind.PICK, location_id=lane.id, face=Face.PICK,
                     aisle_id=pick_face.aisle_id, assignee_id=receiver.id, assignee_role=Role.RECEIVER))
    with pytest.raises(IntegrityError, match="ck_tasks_role_matches_face"):
        session.flush()


def test_database_refuses_a_picker_on_the_replenish_face(session, lane, make_user):  # type: ignore[no-untyped-def]
    picker = make_user(roles=("picker",))
    back = lane.face(Face.REPLENISH)
    session.add(Task(warehouse_id=lane.warehouse_id, kind=TaskKind.PUTAWAY, location_id=lane.id,
                     face=Face.REPLENISH, aisle_id=back.aisle_id, assignee_id=picker.id, assignee_role=Role.PICKER))
    with pytest.raises(IntegrityError, match="ck_tasks_role_matches_face"):
        session.flush()


def test_database_refuses_a_role_the_assignee_does_not_hold(session, lane, make_user):  # type: ignore[no-untyped-def]
    receiver = make_user(roles=("receiver",))
    pick_face = lane.face(Face.PICK)
    session.add(Task(warehouse_id=lane.warehouse_id, kind=TaskKind.PICK, location_id=lane.id, face=Face.PICK,
                     aisle_id=pick_face.aisle_id, assignee_id=receiver.id, assignee_role=Role.PICKER))
    with pytest.raises(IntegrityError, match="fk_tasks_assignee_id_assignee_role_user_roles"):
        session.flush()


def test_database_refuses_pick_work_through_the_replenish_aisle(session, lane):  # type: ignore[no-untyped-def]
    back = lane.face(Face.REPLENISH)
    session.add(Task(warehouse_id=lane.warehouse_id, kind=TaskKind.PICK, location_id=lane.id, face=Face.PICK,
                     aisle_id=back.aisle_id))
    with pytest.raises(IntegrityError, match="fk_tasks_location_id_face_aisle_id_location_faces"):
        session.flush()


def test_database_refuses_a_face_served_by_an_aisle_of_the_other_face(session, lane):  # type: ignore[no-untyped-def]
    back = lane.face(Face.REPLENISH)
    session.delete(lane.face(Face.PICK))
    session.flush()
    session.add(LocationFace(location_id=lane.id, face=Face.PICK, aisle_id=back.aisle_id, zone_id=lane.zone_id))
    with pytest.raises(IntegrityError, match="fk_location_faces_aisle_id_face_zone_id_aisles"):
        session.flush()


def test_picker_gets_pick_work_and_receiver_gets_put_away(session, lane, make_user):  # type: ignore[no-untyped-def]
    picker, receiver = make_user(roles=("picker",)), make_user(roles=("receiver",))
    pick = tasks.assign_task(tasks.create_task(lane, TaskKind.PICK), picker)
    put = tasks.assign_task(tasks.create_task(lane, TaskKind.PUTAWAY), receiver)
    db.session.flush()
    assert (pick.face, pick.assignee_role) == (Face.PICK, Role.PICKER)
    assert (put.face, put.assignee_role) == (Face.REPLENISH, Role.RECEIVER)
