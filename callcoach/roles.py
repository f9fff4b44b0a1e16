"""The two speakers on a call, and what each is heard through."""

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"  # the user, heard through the microphone
    CUSTOMER = "customer"  # the other side, heard in the call audio


# Plain strings, agent first: the order of the engine's channels and the report's lanes,
# and what error messages list.
ROLES: tuple[str, ...] = tuple(role.value for role in Role)
# The device a role is heard through, as messages about a lost or restarted device name it.
DEVICE_WORD = {Role.AGENT: "microphone", Role.CUSTOMER: "call audio"}
