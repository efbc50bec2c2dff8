"""Channel sync API: the platforms' webhook receiver (verified by the connector, no WMS token), and for
supervisors the sync status, "resync now", the listings and their SKU mapping, held orders, what a channel may
sell."""

from __future__ import annotations

from sqlalchemy import select

from wms.api.framework import RawBody, operation
from wms.api.framework import caller as _principal
from wms.catalog.models import Product
from wms.channels import schemas as s
from wms.channels import services
from wms.channels.models import ChannelListing
from wms.channels.sync import orders as intake
from wms.db import db
from wms.errors import AuthenticationRequired, Forbidden, MalformedRequest, NotFound
from wms.orders.models import Channel

ROLES = ("supervisor",)


class WebhookSignatureInvalid(AuthenticationRequired):
    slug = "webhook-signature-invalid"
    title = "The webhook signature does not match its body"


def _channel(code: str, *, scoped: bool = True) -> Channel:
    channel = db.session.scalar(select(Channel).where(Channel.code == code))
    if channel is None:
        raise NotFound(f"No channel {code!r}.")
    if scoped:
        p = _principal()
        if p.is_machine and p.channel_id != channel.id:
            raise Forbidden(f"This token does not speak for channel {code}.")
        p.require_warehouse(channel.warehouse_id)
    return channel


@operation("/channels/<channel_code>/platform-webhooks", "POST", summary="Receive a platform's webhook",
           tags=["channels"], public=True, raw_body=True, response=s.WebhookReceived, errors=(401, 404))
def receive_platform_webhook(channel_code: str, raw: RawBody) -> s.WebhookReceived:
    """The body is the platform's own payload, read unparsed: its signature is verified on the exact bytes by
    the channel's connector before anything reads it (no WMS token: the signature is the authentication).
    A bad signature is refused 401 and only logged; a replayed delivery is answered 200 and done once.
    The document is stored and answered at once; a job takes the order in."""
    channel = _channel(channel_code, scoped=False)
    if not channel.active or services.connection_of(channel) is None:
        raise NotFound(f"Channel {channel_code} takes no platform webhooks.")
    received = intake.receive_webhook(channel, raw.headers, raw.data)
    if received.status == 401:
        db.session.commit()  # the refusal is logged; nothing else was written
        raise WebhookSignatureInvalid(received.detail)
    if received.status == 400:
        db.session.commit()
        raise MalformedRequest(received.detail)
    if received.process:
        from wms.jobs import defer_after_commit

        defer_after_commit("channels.process_webhook", queueing_lock=f"channels.webhook:{received.document_id}",
                           channel_id=channel.id, document_id=received.document_id)
    return s.WebhookReceived(received=True, detail=received.detail)


def _status_out(channel: Channel) -> s.SyncStatusOut:
    st = services.sync_status(channel)
    recent = [s.SyncLogOut(id=r.id, direction=r.direction, started_at=r.started_at, finished_at=r.finished_at,
                           ok=r.ok, counts={k: int(v) for k, v in (r.counts or {}).items()}, detail=r.detail,
                           error=r.error, retries=r.retries) for r in st.recent_logs]
    return s.SyncStatusOut(
        channel=channel.code, connected=st.connected, kind=st.kind, last_pull_at=st.last_pull_at,
        last_push_at=st.last_push_at, last_fulfilment_at=st.last_fulfilment_at,
        last_reconcile_at=st.last_reconcile_at, order_checkpoint=st.order_checkpoint, lag_seconds=st.lag_seconds,
        consecutive_failures=st.consecutive_failures, last_error=st.last_error, last_error_at=st.last_error_at,
        retries=st.retries, pending_fulfilments=st.pending_fulfilments, failed_fulfilments=st.failed_fulfilments,
        unmapped_listings=st.unmapped_listings, dirty_listings=st.dirty_listings, held_orders=st.held_orders,
        recent=recent)


@operation("/channels/<channel_code>/sync", "GET", summary="Sync status and log of a connected channel",
           tags=["channels"], response=s.SyncStatusOut, roles=ROLES)
def read_sync_status(channel_code: str) -> s.SyncStatusOut:
    """Last pull, push and write-back, the push lag, errors and retries, what waits (unmapped listings, held
    orders, fulfilments not written back) and the newest runs."""
    return _status_out(_channel(channel_code))


@operation("/channels/<channel_code>/sync", "POST", summary="Resync now", tags=["channels"], body=s.ResyncIn,
           response=s.SyncStatusOut, status=202, roles=ROLES, errors=(409,))
def resync(channel_code: str, body: s.ResyncIn) -> s.SyncStatusOut:
    """Queues a pull, a full stock reconciliation and every unsent fulfilment (jobs); 409 when not connected."""
    channel = _channel(channel_code)
    services.require_connection(channel)
    services.request_resync(channel, orders=body.orders, stock=body.stock, fulfilments=body.fulfilments)
    return _status_out(channel)


def _listing_out(listing: ChannelListing, skus: dict[int, str]) -> s.ListingOut:
    return s.ListingOut(item_key=listing.item_key, channel_sku=listing.channel_sku, title=listing.title,
                        sku=skus.get(listing.product_id) if listing.product_id else None,
                        last_pushed_qty=listing.last_pushed_qty, last_pushed_at=listing.last_pushed_at,
                        dirty=listing.dirty, push_error=listing.push_error)


def _skus(ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    return dict(db.session.execute(select(Product.id, Product.sku).where(Product.id.in_(wanted))).all()) if wanted \
        else {}


@operation("/channels/<channel_code>/listings", "GET", summary="The channel's listings and their SKU mapping",
           tags=["channels"], response=list[s.ListingOut], roles=ROLES)
def list_listings(channel_code: str) -> list[s.ListingOut]:
    """Unmapped listings first."""
    rows = services.listings(_channel(channel_code))
    skus = _skus({r.product_id for r in rows})
    return [_listing_out(r, skus) for r in rows]


@operation("/channels/<channel_code>/listings/<path:item_key>/mapping", "PUT", summary="Map a listing to a SKU",
           tags=["channels"], body=s.MappingIn, response=s.ListingOut, roles=ROLES)
def map_listing(channel_code: str, item_key: str, body: s.MappingIn) -> s.ListingOut:
    """`sku: null` unmaps it. Its stock is pushed soon after; held orders are retried by the next pull."""
    listing = services.set_mapping(_channel(channel_code), item_key, body.sku)
    return _listing_out(listing, _skus({listing.product_id}))


@operation("/channels/<channel_code>/held-orders", "GET", summary="Orders held for unmapped or unreadable lines",
           tags=["channels"], response=list[s.HeldOrderOut], roles=ROLES)
def list_held_orders(channel_code: str) -> list[s.HeldOrderOut]:
    """Oldest first; each is taken in once its listings are mapped (the next pull, or resync)."""
    return [s.HeldOrderOut(external_id=h.external_id, reason=h.reason, detail=h.detail, held_at=h.held_at,
                           attempts=h.attempts) for h in services.held_orders(_channel(channel_code))]
