"""Returns over the JSON API: channels authorise and follow their returns; supervisors and receivers receive and
inspect them at the returns zone."""

from __future__ import annotations

from flask import Response, request
from sqlalchemy import select

from wms.api.framework import api_base_path, operation
from wms.api.framework import caller as _principal
from wms.api.framework import warehouse_in_scope as _warehouse
from wms.auth.models import ApiToken, User
from wms.db import db
from wms.errors import Conflict, Forbidden, NotFound
from wms.layout.models import Warehouse
from wms.orders.models import Channel, Order
from wms.orders.services import get_order
from wms.outbound.carriers_registry import tracking_url
from wms.returns import labels, services
from wms.returns import schemas as s
from wms.returns.models import Disposition, ReturnLabel, Rma
from wms.stock import operations as ops

CHANNEL_ROLES = ("supervisor",)
FLOOR_ROLES = ("supervisor", "receiver")


def _actor() -> ops.Actor:
    p = _principal()
    return ops.Actor(user=db.session.get(User, p.user_id) if p.user_id else None,
                     token=db.session.get(ApiToken, p.token_id) if p.token_id else None,
                     idempotency_key=request.headers.get("Idempotency-Key"))


def _channel(code: str) -> Channel:
    channel = db.session.scalar(select(Channel).where(Channel.code == code))
    p = _principal()
    if channel is None:
        raise NotFound(f"No channel {code!r}.")
    if p.is_machine and p.channel_id != channel.id:
        raise Forbidden(f"This token does not speak for channel {code}.")
    p.require_warehouse(channel.warehouse_id)
    if not channel.active:
        raise Conflict(f"Channel {code} is deactivated.")
    return channel


def rma_out(rma: Rma) -> s.RmaOut:
    """The return with its lines, as the API and the pages show it."""
    order = db.session.get(Order, rma.order_id)
    channel = db.session.get(Channel, rma.channel_id)
    warehouse = db.session.get(Warehouse, rma.warehouse_id)
    return s.RmaOut(
        code=rma.code, external_id=rma.external_id, channel=channel.code, warehouse=warehouse.code,
        order_id=order.external_id, order_status=order.status.value, status=rma.status.value,
        refund_status=rma.refund_status.value, reason=rma.reason, created_at=rma.created_at,
        received_at=rma.received_at, closed_at=rma.closed_at,
        lines=[s.RmaLineOut(line_no=ln.order_line.line_no, sku=ln.product.sku, product_name=ln.product.name,
                            quantity=ln.quantity, reason=ln.reason, received=ln.received, restocked=ln.restocked,
                            quarantined=ln.quarantined, scrapped=ln.scrapped, uninspected=ln.uninspected,
                            refundable=services.refundable_units(ln.reason, ln.restocked, ln.quarantined,
                                                                 ln.scrapped),
                            inspection_note=ln.inspection_note) for ln in rma.lines],
        return_labels=[label_out(label, rma, warehouse) for label in labels.labels_of(rma)])


def label_out(label: ReturnLabel, rma: Rma, warehouse: Warehouse) -> s.ReturnLabelOut:
    """A return label as the API and the pages show it."""
    return s.ReturnLabelOut(
        id=label.id, carrier=label.carrier_code, tracking_number=label.tracking_number,
        tracking_url=tracking_url(label.carrier_code, label.tracking_number),
        carrier_reference=label.carrier_reference, status=label.status.value,
        tracking_status=label.tracking_status, tracking_checked_at=label.tracking_checked_at,
        content_type=label.content_type,
        document_url=f"{api_base_path()}/warehouses/{warehouse.code}/returns/{rma.code}/labels/{label.id}/document",
        print_job_id=label.print_job_id, emailed_to=label.emailed_to, emailed_at=label.emailed_at,
        created_at=label.created_at)


def document_response(label: ReturnLabel) -> Response:
    """The label's bytes exactly as the carrier gave them, with their content type, as a download."""
    return Response(label.document, mimetype=label.content_type, headers={
        "Content-Disposition": f'attachment; filename="{labels.document_filename(label)}"',
        "Cache-Control": "private, no-store"})


def _line_requests(lines: list[s.RmaLineIn]) -> list[services.LineRequest]:
    return [services.LineRequest(quantity=ln.quantity, reason=ln.reason, line_no=ln.line_no, sku=ln.sku)
            for ln in lines]


def _refs(lines: list[s.LineRef] | list[s.DisposalIn]) -> list[services.LineRequest]:
    # A scanned barcode stands for its product's SKU; an unknown code stays as sent and is refused by name.
    return [services.LineRequest(quantity=ln.quantity, line_no=ln.line_no,
                                 sku=(services.resolve_scan(ln.sku) or ln.sku) if ln.sku else None) for ln in lines]


# --- channel side -----------------------------------------------------------------------------------------------

@operation("/channels/<channel_code>/returns", "POST", summary="Authorise a return of a shipped order (idempotent)",
           tags=["returns"], body=s.RmaIn, response=s.RmaOut, status=201, purposes=("channel",),
           roles=CHANNEL_ROLES, idempotent=True, errors=(404, 409), also=(200,))
def create_channel_return(channel_code: str, body: s.RmaIn):  # type: ignore[no-untyped-def]
    """Lines name the order line by `line_no` or `sku`. Refused (409, nothing written) when the order was not
    shipped, a product is not on the order, or more units are asked than were shipped minus those already on
    returns. The same `external_id` with the same content returns the existing return (200)."""
    channel = _channel(channel_code)
    order = get_order(channel, body.order_id)
    rma, created = services.authorize_return(order, _line_requests(body.lines), external_id=body.external_id,
                                             reason=body.reason)
    return rma_out(rma), 201 if created else 200


@operation("/channels/<channel_code>/returns", "GET", summary="The channel's returns, newest first",
           tags=["returns"], query=s.RmaQuery, response=list[s.RmaOut], purposes=("channel",), roles=CHANNEL_ROLES)
def list_channel_returns(channel_code: str, query: s.RmaQuery) -> list[s.RmaOut]:
    """Filter by `status`."""
    channel = _channel(channel_code)
    warehouse = db.session.get(Warehouse, channel.warehouse_id)
    return [rma_out(r) for r in services.list_rmas(warehouse, status=query.status, channel=channel,
                                                   limit=query.limit)]


@operation("/channels/<channel_code>/returns/<external_id>", "GET", summary="Read a return and its refund status",
           tags=["returns"], response=s.RmaOut, purposes=("channel",), roles=CHANNEL_ROLES)
def read_channel_return(channel_code: str, external_id: str) -> s.RmaOut:
    """Units authorised, received, restocked, quarantined, scrapped and refundable per line."""
    return rma_out(services.get_channel_rma(_channel(channel_code), external_id))


@operation("/channels/<channel_code>/returns/<external_id>/cancel", "POST", summary="Cancel a return",
           tags=["returns"], response=s.RmaOut, purposes=("channel",), roles=CHANNEL_ROLES, idempotent=True,
           errors=(409,))
def cancel_channel_return(channel_code: str, external_id: str) -> s.RmaOut:
    """Possible until a unit of it has been received (409 after)."""
    rma = services.get_channel_rma(_channel(channel_code), external_id, lock=True)
    return rma_out(services.cancel_return(rma))


# --- warehouse side ---------------------------------------------------------------------------------------------

@operation("/warehouses/<code>/returns", "GET", summary="Returns of a warehouse, newest first", tags=["returns"],
           query=s.RmaQuery, response=list[s.RmaOut], roles=FLOOR_ROLES)
def list_returns(code: str, query: s.RmaQuery) -> list[s.RmaOut]:
    """Filter by `status`."""
    return [rma_out(r) for r in services.list_rmas(_warehouse(code), status=query.status, limit=query.limit)]


@operation("/warehouses/<code>/returns", "POST", summary="Authorise a return on behalf of a channel",
           tags=["returns"], body=s.SupervisorRmaIn, response=s.RmaOut, status=201, roles=("supervisor",),
           idempotent=True, errors=(404, 409), also=(200,))
def create_return(code: str, body: s.SupervisorRmaIn):  # type: ignore[no-untyped-def]
    """Same rules as the channel's call; the order is named by its channel and the channel's order id."""
    warehouse = _warehouse(code)
    channel = _channel(body.channel)
    if channel.warehouse_id != warehouse.id:
        raise NotFound(f"Channel {channel.code} does not sell from warehouse {warehouse.code}.")
    order = get_order(channel, body.order_id)
    rma, created = services.authorize_return(order, _line_requests(body.lines), external_id=body.external_id,
                                             reason=body.reason, created_by_id=_principal().user_id)
    return rma_out(rma), 201 if created else 200


@operation("/warehouses/<code>/returns/<rma_code>", "GET", summary="Read a return", tags=["returns"],
           response=s.RmaOut, roles=FLOOR_ROLES)
def read_return(code: str, rma_code: str) -> s.RmaOut:
    """Lines with units authorised, received and disposed of, and the refund status."""
    return rma_out(services.get_rma(_warehouse(code), rma_code))


@operation("/warehouses/<code>/returns/<rma_code>/receive", "POST", summary="Receive returned units",
           tags=["returns"], body=s.ReceiveIn, response=s.RmaOut, roles=FLOOR_ROLES, idempotent=True,
           errors=(404, 409))
def receive_return(code: str, rma_code: str, body: s.ReceiveIn) -> s.RmaOut:
    """Units go on hand in the returns-zone location (ledger reason `return`); all lines or none. Refused (409)
    beyond the units authorised on a line."""
    rma = services.get_rma(_warehouse(code), rma_code, lock=True)
    return rma_out(services.receive_return(rma, _refs(body.lines), _actor(), location_code=body.location))


@operation("/warehouses/<code>/returns/<rma_code>/inspect", "POST", summary="Restock, quarantine or scrap units",
           tags=["returns"], body=s.InspectIn, response=s.RmaOut, roles=FLOOR_ROLES, idempotent=True,
           errors=(404, 409))
def inspect_return(code: str, rma_code: str, body: s.InspectIn) -> s.RmaOut:
    """restock: to a pick lane (named, or chosen: the lane it was picked from, lanes holding the product, empty
    lanes; capacity-aware); quarantine: to a quarantine location; scrap: off the books. When every received unit has
    a disposition the return is inspected and its refund status set. Refused (409) beyond the units received."""
    rma = services.get_rma(_warehouse(code), rma_code, lock=True)
    disposals = [services.Disposal(line=ref, disposition=Disposition(ln.disposition), location=ln.location,
                                   note=ln.note) for ref, ln in zip(_refs(body.lines), body.lines, strict=True)]
    return rma_out(services.inspect_return(rma, disposals, _actor(), location_code=body.location))


@operation("/warehouses/<code>/returns/<rma_code>/cancel", "POST", summary="Cancel a return", tags=["returns"],
           response=s.RmaOut, roles=("supervisor",), idempotent=True, errors=(404, 409))
def cancel_return(code: str, rma_code: str) -> s.RmaOut:
    """Possible until a unit of it has been received."""
    return rma_out(services.cancel_return(services.get_rma(_warehouse(code), rma_code, lock=True)))


@operation("/warehouses/<code>/returns/<rma_code>/close", "POST", summary="Close an inspected return",
           tags=["returns"], response=s.RmaOut, roles=("supervisor",), idempotent=True, errors=(404, 409))
def close_return(code: str, rma_code: str) -> s.RmaOut:
    """Its refund status becomes final; nothing more is received on it."""
    return rma_out(services.close_return(services.get_rma(_warehouse(code), rma_code, lock=True)))


# --- return labels ----------------------------------------------------------------------------------------------

@operation("/warehouses/<code>/returns/<rma_code>/labels", "POST", summary="Get a prepaid return label from a carrier",
           tags=["returns"], body=s.ReturnLabelIn, response=s.ReturnLabelOut, status=201, roles=FLOOR_ROLES,
           idempotent=True, errors=(404, 409, 422, 502, 503), also=(200,))
def create_return_label(code: str, rma_code: str, body: s.ReturnLabelIn):  # type: ignore[no-untyped-def]
    """The carrier (one configured here with returns: Colissimo Retour, Mondial Relay, Sendcloud) issues the label
    from the order's delivery address to the warehouse; it is stored and printed at the returns zone's printer (or
    `printer`). Asking again answers the same label (200) until it is cancelled. Refused (409) when the return is
    received, closed or cancelled, already has another carrier's label, or the carrier makes no returns; 422 when
    the carrier refuses the addresses; 502/503 when the carrier cannot be reached. Nothing is written on refusal."""
    warehouse = _warehouse(code)
    rma = services.get_rma(warehouse, rma_code, lock=True)
    user = _actor().user
    label, created = labels.create_return_label(
        rma, labels.LabelRequest(carrier_code=body.carrier, printer_code=body.printer, print_label=body.print,
                                 weight_grams=body.weight_grams),
        created_by_id=user.id if user else None, actor=user.username if user else None)
    return label_out(label, rma, warehouse), 201 if created else 200


@operation("/warehouses/<code>/returns/<rma_code>/labels", "GET", summary="The return's labels, newest first",
           tags=["returns"], response=list[s.ReturnLabelOut], roles=FLOOR_ROLES)
def list_return_labels(code: str, rma_code: str) -> list[s.ReturnLabelOut]:
    """With their status (issued, in_transit, delivered, cancelled) and the carrier's latest tracking status."""
    warehouse = _warehouse(code)
    rma = services.get_rma(warehouse, rma_code)
    return [label_out(label, rma, warehouse) for label in labels.labels_of(rma)]


@operation("/warehouses/<code>/returns/<rma_code>/labels/<int:label_id>/document", "GET",
           summary="The return label's document", tags=["returns"], roles=FLOOR_ROLES, errors=(404,))
def download_return_label(code: str, rma_code: str, label_id: int) -> Response:
    """The label as the carrier gave it (application/vnd.zebra.zpl or application/pdf), as an attachment."""
    rma = services.get_rma(_warehouse(code), rma_code)
    return document_response(labels.get_label(rma, label_id))


@operation("/warehouses/<code>/returns/<rma_code>/labels/<int:label_id>/cancel", "POST",
           summary="Cancel a return label not used yet", tags=["returns"], response=s.ReturnLabelOut,
           roles=("supervisor",), idempotent=True, errors=(404, 409, 503))
def cancel_return_label(code: str, rma_code: str, label_id: int) -> s.ReturnLabelOut:
    """Only while issued (409 once the carrier has the parcel). The carrier is asked to cancel it where its API
    can; the label is no longer tracked and a new one may be asked."""
    warehouse = _warehouse(code)
    rma = services.get_rma(warehouse, rma_code, lock=True)
    label, _said = labels.cancel_return_label(labels.get_label(rma, label_id))
    return label_out(label, rma, warehouse)


@operation("/channels/<channel_code>/returns/<external_id>/labels/<int:label_id>/document", "GET",
           summary="The return label's document, for the channel to send its customer", tags=["returns"],
           purposes=("channel",), roles=CHANNEL_ROLES, errors=(404,))
def download_channel_return_label(channel_code: str, external_id: str, label_id: int) -> Response:
    """The label as the carrier gave it (application/vnd.zebra.zpl or application/pdf); its id is in the
    `return.updated` webhook's return (`return_label`) and the return's `return_labels`."""
    rma = services.get_channel_rma(_channel(channel_code), external_id)
    return document_response(labels.get_label(rma, label_id))
