"""The three Chronopost SOAP services through zeep, and what can go wrong on the wire turned into domain errors.

The WSDLs beside this module (wsdl/) are the parts of Chronopost's published ShippingServiceWS, TrackingServiceWS
and PointRelaisServiceWS the WMS calls; zeep reads them locally (no WSDL fetch at run time) and sends to the
configured base URL, so a test stand-in on 127.0.0.1 and the real ws.chronopost.fr are reached the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import zeep
import zeep.exceptions
from zeep.transports import Transport

from wms.retry import note_outside_effect
from wms.shipping.errors import CarrierResponseInvalid, CarrierUnavailable, ShippingInputInvalid

WSDL = Path(__file__).parent / "wsdl"

# service name -> (wsdl file, binding qname, path under the base URL)
SERVICES = {
    "shipping": ("ShippingServiceWS.wsdl", "{http://cxf.shipping.soap.chronopost.fr/}ShippingServiceWSServiceSoapBinding",
                 "/shipping-cxf/ShippingServiceWS"),
    "tracking": ("TrackingServiceWS.wsdl", "{http://cxf.tracking.soap.chronopost.fr/}TrackingServiceWSServiceSoapBinding",
                 "/tracking-cxf/TrackingServiceWS"),
    "relay": ("PointRelaisServiceWS.wsdl",
              "{http://cxf.rechercheBt.soap.chronopost.fr/}PointRelaisServiceWSServiceSoapBinding",
              "/recherchebt-ws-cxf/PointRelaisServiceWS"),
}


class _Transport(Transport):
    """zeep's transport, refusing a non-XML error answer (a proxy's 429/503 page) before zeep tries to parse it."""

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        response = super().post(address, message, headers)
        if response.status_code >= 400 and "xml" not in response.headers.get("Content-Type", ""):
            raise zeep.exceptions.TransportError(
                f"HTTP {response.status_code}", status_code=response.status_code, content=response.content
            )
        return response


class ChronopostSoap:
    """One zeep service proxy per Chronopost service, all sent to `base_url`."""

    def __init__(self, base_url: str, *, timeout: float, proxies: dict[str, str] | None, name: str) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ShippingInputInvalid(f"The Chronopost base URL {base_url!r} is not an http(s) URL")
        if not 0 < timeout <= 300:
            raise ShippingInputInvalid("The Chronopost timeout is between 0 and 300 seconds")
        self.base_url, self.name = base_url.rstrip("/"), name
        session = requests.Session()
        if proxies is not None:
            session.trust_env = False
            session.proxies.update(proxies)
        transport = _Transport(session=session, timeout=timeout, operation_timeout=timeout)
        settings = zeep.Settings(strict=False, xml_huge_tree=False, forbid_dtd=True, forbid_entities=True)
        self._services: dict[str, Any] = {}
        for key, (wsdl, binding, path) in SERVICES.items():
            client = zeep.Client(str(WSDL / wsdl), transport=transport, settings=settings)
            self._services[key] = client.create_service(binding, self.base_url + path)

    def call(self, service: str, operation: str, /, **arguments: Any) -> Any:
        """Call one operation; the answer's `return`, or a domain error for transport and SOAP failures."""
        method: Callable[..., Any] = getattr(self._services[service], operation)
        note_outside_effect()  # the carrier may have acted on it: this request's transaction is not run twice
        try:
            answer = method(**arguments)
        except requests.Timeout as exc:
            raise CarrierUnavailable(f"{self.name} did not answer in time ({operation})") from exc
        except requests.RequestException as exc:
            raise CarrierUnavailable(f"{self.name} cannot be reached at {self.base_url}: {exc}") from exc
        except zeep.exceptions.Fault as exc:
            if (exc.code or "").lower().endswith("client"):
                raise CarrierResponseInvalid(
                    f"{self.name} rejected our {operation} request as malformed: {exc.message}"
                ) from exc
            raise CarrierUnavailable(f"{self.name} failed on {operation}: {exc.message}") from exc
        except zeep.exceptions.TransportError as exc:
            if exc.status_code in (401, 403):
                raise CarrierUnavailable(
                    f"{self.name} refused our credentials (HTTP {exc.status_code}); check the account"
                ) from exc
            if exc.status_code == 429 or exc.status_code >= 500:
                raise CarrierUnavailable(
                    f"{self.name} answered HTTP {exc.status_code} to {operation}; try again later"
                ) from exc
            raise CarrierResponseInvalid(f"{self.name} answered HTTP {exc.status_code} to {operation}") from exc
        except (zeep.exceptions.XMLSyntaxError, zeep.exceptions.ValidationError, zeep.exceptions.Error) as exc:
            raise CarrierResponseInvalid(f"{self.name} answered {operation} with an unreadable document") from exc
        if answer is None:
            raise CarrierResponseInvalid(f"{self.name} answered {operation} without a result")
        return answer
