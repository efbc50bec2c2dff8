"""Every API area's operations, imported so they register on the blueprint."""

from wms.api import meta  # noqa: F401
from wms.auth import api as auth_api  # noqa: F401
from wms.catalog import api as catalog_api  # noqa: F401
from wms.channels import api as channels_api  # noqa: F401
from wms.channels import pos_api  # noqa: F401
from wms.inbound import api as inbound_api  # noqa: F401
from wms.layout import api as layout_api  # noqa: F401
from wms.orders import api as orders_api  # noqa: F401
from wms.outbound import api as outbound_api  # noqa: F401
from wms.outbound import carrier_rules_api as carrier_rules_api  # noqa: F401
from wms.outbound import dock_api  # noqa: F401
from wms.outbound import relay_api as relay_api  # noqa: F401
from wms.printing import api as printing_api  # noqa: F401
from wms.printing import label_api  # noqa: F401
from wms.replenishment import api as replenishment_api  # noqa: F401
from wms.returns import api as returns_api  # noqa: F401
from wms.waves import api as waves_api  # noqa: F401
