"""Import every model module so the metadata is complete (Alembic, tests, create_all)."""

from wms.auth.models import (  # noqa: F401
    ApiToken,
    LoginAttempt,
    LoginThrottle,
    RecoveryCode,
    User,
    UserRole,
    UserSession,
    UserWarehouse,
)
from wms.catalog.models import Barcode, Product  # noqa: F401
from wms.channels.models import (  # noqa: F401
    ChannelConnection,
    ChannelDocument,
    ChannelFulfilment,
    ChannelListing,
    ChannelSyncLog,
    ChannelWarehouse,
    HeldChannelOrder,
)
from wms.idempotency_models import IdempotencyRecord  # noqa: F401
from wms.inbound.models import Asn, AsnLine, PurchaseOrder, PurchaseOrderLine, Receipt, ReceiptLine, Supplier  # noqa: F401
from wms.layout.models import Aisle, Location, LocationFace, Rack, Resource, Warehouse, Zone  # noqa: F401
from wms.orders.models import Channel, Order, OrderLine, Reservation  # noqa: F401
from wms.outbound.models import Box, CarrierPickup, Manifest, NumberSequence, Parcel, ParcelLine, Shipment  # noqa: F401
from wms.picking.models import ScanEvent  # noqa: F401
from wms.printing.models import Printer, PrintJob, PrintJobEvent, PrintRoute  # noqa: F401
from wms.returns.models import Rma, RmaLine  # noqa: F401
from wms.stock.levels import StockLevel  # noqa: F401
from wms.stock.models import LedgerEntry, Quant  # noqa: F401
from wms.tasks.models import Task  # noqa: F401
from wms.waves.models import PickOrder, PickOrderLine, TimeSlot, Tote, Wave, WaveOrder  # noqa: F401
from wms.webhooks.models import WebhookDelivery, WebhookEvent  # noqa: F401
