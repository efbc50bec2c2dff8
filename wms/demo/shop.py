"""The demo shop SHOP: a small shop that is itself a warehouse, its stock on one shelf (rack zone SHELF, refilled
from the BACK aisle, picked from the FLOOR aisle), and its till: the POS channel TILL (docs/pos.md).

Like the rest of the seed, a second run changes nothing. The till's token exists in clear only when it is made:
the seed writes it to a file of mode 0600 (`till_token_file`, default instance/demo/till-token) and the banner
prints the curl lines that read it from there. A token file that is missing, or holds no live token of TILL (it
came from another database), gets a new token, and the seed's earlier TILL tokens are revoked: the demo till
always has exactly the one token the file holds.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from wms.auth.models import ApiToken, User, UserWarehouse
from wms.auth.tokens import issue_token, revoke_token, verify_token
from wms.catalog.models import Product
from wms.db import db
from wms.enums import Role, StockReason, TokenPurpose
from wms.layout.importer import import_layout_file
from wms.layout.models import Location, Warehouse
from wms.layout.services import get_warehouse
from wms.orders.models import Channel
from wms.stock.models import LedgerEntry
from wms.stock.services import adjust_stock

Echo = Callable[[str], None]

SHOP_LAYOUT_FILE = Path(__file__).with_name("shop.yaml")
SHOP_CODE = "SHOP"
SHELF_ZONE = "SHELF"
TILL_CODE = "TILL"
TILL_NAME = "Shop till"
SHOP_REFERENCE = "demo-seed-shop"
TOKEN_FILE_SETTING = "DEMO_TILL_TOKEN_FILE"  # WMS_DEMO_TILL_TOKEN_FILE in the environment
# The demo people who work in the shop as well: the supervisor, and the receiver who refills the shelf from the
# back. Pickers and packers stay in DEMO: nobody picks or packs orders in the shop, customers take from the shelf.
SHOP_ROLES = (Role.SUPERVISOR, Role.RECEIVER)

# (sku, units on the shelf): each on its own lane, in lane order. The candles are few, so an oversell is easy to try.
SHOP_STOCK: tuple[tuple[str, int], ...] = (
    ("DEMO-002", 6),    # ceramic coffee mug
    ("DEMO-003", 12),   # organic green tea
    ("DEMO-006", 20),   # dark chocolate
    ("DEMO-018", 8),    # notebook A5
    ("DEMO-023", 10),   # rooibos infusion
    ("DEMO-040", 3),    # scented candle
)


def default_token_file() -> Path:
    """Where the demo till's token is kept: the setting DEMO_TILL_TOKEN_FILE, else instance/demo/till-token."""
    configured = current_app.config.get(TOKEN_FILE_SETTING)
    return Path(configured) if configured else Path(current_app.instance_path) / "demo" / "till-token"


def seed_shop(products: dict[str, Product], till_token_file: Path | None, echo: Echo = print) -> Warehouse:
    """Create whatever part of the demo shop is missing: layout, shelf stock, staff scope, the till and its token."""
    is_new = db.session.scalar(select(Warehouse.id).where(Warehouse.code == SHOP_CODE)) is None
    echo(f"shop: importing {SHOP_LAYOUT_FILE.name}")
    report = import_layout_file(SHOP_LAYOUT_FILE, progress=lambda zone: echo(f"  zone {zone}"))
    for line in report.summary_lines():
        echo(f"  {line}")
    shop = get_warehouse(report.warehouse)
    if is_new:
        _let_demo_staff_in(shop, echo)
    seed_shelf(shop, products, echo)
    seed_till(shop, till_token_file, echo)
    return shop


def _let_demo_staff_in(shop: Warehouse, echo: Echo) -> None:
    """Add the new shop to the scope of the demo supervisor and receiver (once: when the seed creates the shop)."""
    from wms.demo.users import DEMO_USERS

    names = [d.username for d in DEMO_USERS if d.role in SHOP_ROLES]
    added = []
    for user in db.session.scalars(select(User).where(User.username.in_(names)).order_by(User.username)):
        if user.all_warehouses:
            continue
        db.session.add(UserWarehouse(user_id=user.id, warehouse_id=shop.id))
        added.append(user.username)
    db.session.flush()
    echo(f"shop: {', '.join(added) or 'nobody'} may now work in {shop.code}")


def _shelf_lanes(shop: Warehouse) -> list[Location]:
    from wms.demo.seed import pick_lanes

    return pick_lanes(shop, SHELF_ZONE)


def seed_shelf(shop: Warehouse, products: dict[str, Product], echo: Echo = print) -> None:
    """Put the shop's products on the shelf once, through the ledger (the idempotency key marks what was done)."""
    lanes = iter(_shelf_lanes(shop))
    done = set(db.session.scalars(select(LedgerEntry.idempotency_key).where(LedgerEntry.reference == SHOP_REFERENCE)))
    added = 0
    for sku, units in SHOP_STOCK:
        lane = next(lanes, None)
        if lane is None:
            raise RuntimeError(f"the shelf of {shop.code} has no free lane left for {sku}")
        key = f"{SHOP_REFERENCE}:{shop.code}:{sku}"
        if key in done:
            continue
        adjust_stock(products[sku], lane, units, reason=StockReason.RECEIPT, idempotency_key=key,
                     reference=SHOP_REFERENCE, note="initial demo shop stock")
        added += 1
    echo(f"shop: {added} shelf lanes filled, {len(SHOP_STOCK) - added} already stocked")


def seed_till(shop: Warehouse, till_token_file: Path | None, echo: Echo = print) -> Channel | None:
    """The till channel TILL of the shop, and its token in `till_token_file` (None: the token is not kept)."""
    from wms.channels.services import add_channel

    channel = db.session.scalar(select(Channel).where(Channel.code == TILL_CODE))
    if channel is None:
        added = add_channel(TILL_CODE, TILL_NAME, "pos", shop)
        echo(f"till: channel {TILL_CODE} created for {shop.code}")
        _keep(added.token, till_token_file, echo)
        return added.channel
    if channel.warehouse_id != shop.id:
        echo(f"till: a channel {TILL_CODE} already sells from another warehouse; left as it is, no demo till")
        return None
    if till_token_file is None or read_till_token(till_token_file, channel) is not None:
        where = f"; its token is in {till_token_file}" if till_token_file else ""
        echo(f"till: channel {TILL_CODE} already there{where}")
        return channel
    for old in db.session.scalars(select(ApiToken).where(
            ApiToken.channel_id == channel.id, ApiToken.created_by_id.is_(None),
            ApiToken.name == f"channel {TILL_CODE}", ApiToken.revoked_at.is_(None))):
        revoke_token(old)
    token, raw = issue_token(name=f"channel {TILL_CODE}", purpose=TokenPurpose.CHANNEL, warehouse_id=shop.id)
    token.channel_id = channel.id
    db.session.flush()
    echo(f"till: {till_token_file} held no live token of {TILL_CODE}: a new one replaces the seed's earlier ones")
    _keep(raw, till_token_file, echo)
    return channel


def _keep(raw: str, till_token_file: Path | None, echo: Echo) -> None:
    if till_token_file is None:
        echo("till: its token was not kept (no token file given)")
        return
    write_token_file(till_token_file, raw)
    echo(f"till: its token is in {till_token_file} (mode 0600; shown nowhere else)")


def write_token_file(path: Path, raw: str) -> None:
    """Write the token to `path`, readable by its owner only, replacing the file whole (never half written)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(raw + "\n")
    os.replace(partial, path)


def read_till_token(path: Path, channel: Channel) -> str | None:
    """The token in `path` when it is a live token of `channel`, else None."""
    try:
        raw = path.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError):
        return None
    token = verify_token(raw) if raw else None
    return raw if token is not None and token.channel_id == channel.id else None
