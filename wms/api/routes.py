"""Every API area's operations, imported so they register on the blueprint."""

from wms.api import meta  # noqa: F401
