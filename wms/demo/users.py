"""The demo people: one per role. Shown on the demo banner; never use these accounts outside a demo."""

from __future__ import annotations

from dataclasses import dataclass

from wms.enums import ROLES_NEEDING_SECOND_FACTOR, Role


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: Role
    password: str
    badge: str | None = None
    pin: str | None = None

    @property
    def enrols_totp(self) -> bool:
        return self.role in ROLES_NEEDING_SECOND_FACTOR


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "Demo Admin", Role.ADMIN, "demo-admin-2026"),
    DemoUser("supervisor", "Demo Supervisor", Role.SUPERVISOR, "demo-supervisor-2026"),
    DemoUser("picker", "Demo Picker", Role.PICKER, "demo-picker-2026", badge="PICK-0001", pin="2468"),
    DemoUser("receiver", "Demo Receiver", Role.RECEIVER, "demo-receiver-2026", badge="RECV-0001", pin="1357"),
    DemoUser("packer", "Demo Packer", Role.PACKER, "demo-packer-2026"),
)
