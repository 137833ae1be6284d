"""OCPI 2.2.1 objects as msgspec structs, with the specification's field limits: CiString
(printable ASCII) and string (printable UTF-8) lengths, enums, cardinalities. Every number that
may be money or energy is a Decimal, decoded from the JSON text exactly (never through a float).
Unknown fields are ignored, as OCPI peers add their own; a missing or malformed one is 2001."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

from api.field_patterns import whole


def ci_string(length: int, *, min_length: int = 0) -> Any:
    """OCPI's CiString(n): printable ASCII, compared without case."""
    return Annotated[
        str, msgspec.Meta(min_length=min_length, max_length=length, pattern=whole(r"[\x20-\x7e]*"))
    ]


def string(length: int, *, min_length: int = 0) -> Any:
    """OCPI's string(n): printable UTF-8 (no control characters)."""
    return Annotated[
        str, msgspec.Meta(min_length=min_length, max_length=length, pattern=whole(r"[^\x00-\x1f\x7f]*"))
    ]


CountryCode = Annotated[str, msgspec.Meta(pattern=whole("[A-Za-z]{2}"))]
PartyId = Annotated[str, msgspec.Meta(pattern=whole("[A-Za-z0-9]{3}"))]
Url = Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=whole(r"[\x21-\x7e]+"))]
TokenType = Literal["AD_HOC_USER", "APP_USER", "OTHER", "RFID"]
Role = Literal["CPO", "EMSP", "HUB", "NAP", "NSP", "OTHER", "SCSP"]
AllowedType = Literal["ALLOWED", "BLOCKED", "EXPIRED", "NO_CREDIT", "NOT_ALLOWED"]
WhitelistType = Literal["ALWAYS", "ALLOWED", "ALLOWED_OFFLINE", "NEVER"]
AuthMethod = Literal["AUTH_REQUEST", "COMMAND", "WHITELIST"]
ConnectorType = Literal[
    "CHADEMO", "CHAOJI", "DOMESTIC_A", "DOMESTIC_B", "DOMESTIC_C", "DOMESTIC_D", "DOMESTIC_E",
    "DOMESTIC_F", "DOMESTIC_G", "DOMESTIC_H", "DOMESTIC_I", "DOMESTIC_J", "DOMESTIC_K", "DOMESTIC_L",
    "DOMESTIC_M", "DOMESTIC_N", "DOMESTIC_O", "GBT_AC", "GBT_DC", "IEC_60309_2_single_16",
    "IEC_60309_2_three_16", "IEC_60309_2_three_32", "IEC_60309_2_three_64", "IEC_62196_T1",
    "IEC_62196_T1_COMBO", "IEC_62196_T2", "IEC_62196_T2_COMBO", "IEC_62196_T3A", "IEC_62196_T3C",
    "NEMA_5_20", "NEMA_6_30", "NEMA_6_50", "NEMA_10_30", "NEMA_10_50", "NEMA_14_30", "NEMA_14_50",
    "PANTOGRAPH_BOTTOM_UP", "PANTOGRAPH_TOP_DOWN", "TESLA_R", "TESLA_S",
]  # fmt: skip
ConnectorFormat = Literal["SOCKET", "CABLE"]
PowerType = Literal["AC_1_PHASE", "AC_2_PHASE", "AC_2_PHASE_SPLIT", "AC_3_PHASE", "DC"]
CdrDimensionType = Literal[
    "CURRENT", "ENERGY", "ENERGY_EXPORT", "ENERGY_IMPORT", "MAX_CURRENT", "MIN_CURRENT", "MAX_POWER",
    "MIN_POWER", "PARKING_TIME", "POWER", "RESERVATION_TIME", "STATE_OF_CHARGE", "TIME",
]  # fmt: skip


class Incoming(msgspec.Struct, frozen=True):
    """Base of what a peer sends: unknown fields ignored (OCPI peers add custom ones)."""


class Price(Incoming, frozen=True):
    excl_vat: Decimal
    incl_vat: Decimal | None = None


class GeoLocation(Incoming, frozen=True):
    latitude: Annotated[str, msgspec.Meta(max_length=10, pattern=whole(r"-?[0-9]{1,2}\.[0-9]{5,7}"))]
    longitude: Annotated[str, msgspec.Meta(max_length=11, pattern=whole(r"-?[0-9]{1,3}\.[0-9]{5,7}"))]


class CdrToken(Incoming, frozen=True):
    country_code: CountryCode
    party_id: PartyId
    uid: ci_string(36, min_length=1)  # type: ignore[valid-type]
    type: TokenType
    contract_id: ci_string(36, min_length=1)  # type: ignore[valid-type]


class CdrLocation(Incoming, frozen=True):
    id: ci_string(36, min_length=1)  # type: ignore[valid-type]
    address: string(45)  # type: ignore[valid-type]
    city: string(45)  # type: ignore[valid-type]
    country: string(3)  # type: ignore[valid-type]
    coordinates: GeoLocation
    evse_uid: ci_string(36, min_length=1)  # type: ignore[valid-type]
    evse_id: ci_string(48, min_length=1)  # type: ignore[valid-type]
    connector_id: ci_string(36, min_length=1)  # type: ignore[valid-type]
    connector_standard: ConnectorType
    connector_format: ConnectorFormat
    connector_power_type: PowerType
    name: string(255) | None = None  # type: ignore[valid-type]
    postal_code: string(10) | None = None  # type: ignore[valid-type]
    state: string(20) | None = None  # type: ignore[valid-type]


class CdrDimension(Incoming, frozen=True):
    type: CdrDimensionType
    volume: Decimal


class ChargingPeriod(Incoming, frozen=True):
    start_date_time: datetime
    dimensions: Annotated[list[CdrDimension], msgspec.Meta(min_length=1)]
    tariff_id: ci_string(36) | None = None  # type: ignore[valid-type]


class PriceComponent(Incoming, frozen=True):
    type: Literal["ENERGY", "FLAT", "PARKING_TIME", "TIME"]
    price: Decimal
    step_size: int
    vat: Decimal | None = None


class TariffElement(Incoming, frozen=True):
    price_components: Annotated[list[PriceComponent], msgspec.Meta(min_length=1)]
    restrictions: dict[str, Any] | None = None


class Tariff(Incoming, frozen=True):
    """A tariff as a CDR carries it: kept with the CDR, not used to price it (the total is)."""

    country_code: CountryCode
    party_id: PartyId
    id: ci_string(36, min_length=1)  # type: ignore[valid-type]
    currency: string(3)  # type: ignore[valid-type]
    elements: Annotated[list[TariffElement], msgspec.Meta(min_length=1)]
    last_updated: datetime


class Cdr(Incoming, frozen=True):
    country_code: CountryCode
    party_id: PartyId
    id: ci_string(39, min_length=1)  # type: ignore[valid-type]
    start_date_time: datetime
    end_date_time: datetime
    cdr_token: CdrToken
    auth_method: AuthMethod
    cdr_location: CdrLocation
    currency: Annotated[str, msgspec.Meta(pattern=whole("[A-Z]{3}"))]
    charging_periods: Annotated[list[ChargingPeriod], msgspec.Meta(min_length=1)]
    total_cost: Price
    total_energy: Decimal
    total_time: Decimal
    last_updated: datetime
    session_id: ci_string(36) | None = None  # type: ignore[valid-type]
    authorization_reference: ci_string(36) | None = None  # type: ignore[valid-type]
    meter_id: string(255) | None = None  # type: ignore[valid-type]
    tariffs: list[Tariff] | None = None
    signed_data: dict[str, Any] | None = None
    total_fixed_cost: Price | None = None
    total_energy_cost: Price | None = None
    total_time_cost: Price | None = None
    total_parking_time: Decimal | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None
    remark: string(255) | None = None  # type: ignore[valid-type]
    invoice_reference_id: ci_string(39) | None = None  # type: ignore[valid-type]
    credit: bool | None = None
    credit_reference_id: ci_string(39) | None = None  # type: ignore[valid-type]
    home_charging_compensation: bool | None = None


class LocationReferences(Incoming, frozen=True):
    location_id: ci_string(36, min_length=1)  # type: ignore[valid-type]
    evse_uids: list[ci_string(36, min_length=1)] = []  # type: ignore[valid-type]


class Image(Incoming, frozen=True):
    url: Url
    category: Literal["CHARGER", "ENTRANCE", "LOCATION", "NETWORK", "OPERATOR", "OTHER", "OWNER"]
    type: ci_string(4)  # type: ignore[valid-type]
    thumbnail: Url | None = None
    width: int | None = None
    height: int | None = None


class BusinessDetails(msgspec.Struct, frozen=True, omit_defaults=True):
    name: string(100, min_length=1)  # type: ignore[valid-type]
    website: Url | None = None
    logo: Image | None = None


class CredentialsRole(msgspec.Struct, frozen=True):
    role: Role
    business_details: BusinessDetails
    party_id: PartyId
    country_code: CountryCode


class Credentials(msgspec.Struct, frozen=True):
    token: string(64, min_length=1)  # type: ignore[valid-type]
    url: Url
    roles: Annotated[list[CredentialsRole], msgspec.Meta(min_length=1)]


# --- what chargeledger answers --------------------------------------------------------------


class Version(msgspec.Struct, frozen=True):
    version: str
    url: str


class Endpoint(msgspec.Struct, frozen=True):
    identifier: str
    role: Literal["SENDER", "RECEIVER"]
    url: str


class VersionDetails(msgspec.Struct, frozen=True):
    version: str
    endpoints: list[Endpoint]


class Token(msgspec.Struct, frozen=True, omit_defaults=True):
    country_code: str
    party_id: str
    uid: str
    type: TokenType
    contract_id: str
    issuer: str
    valid: bool
    whitelist: WhitelistType
    last_updated: str
    visual_number: str | None = None


class DisplayText(msgspec.Struct, frozen=True):
    language: str
    text: str


class AuthorizationInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    allowed: AllowedType
    token: Token
    authorization_reference: str
    location: LocationReferences | None = None
    info: DisplayText | None = None


class Envelope(msgspec.Struct, frozen=True, omit_defaults=True):
    """OCPI's response message, without `data` (a refusal, or nothing to answer)."""

    status_code: int
    timestamp: str
    status_message: str | None = None


class VersionsEnvelope(Envelope, frozen=True, omit_defaults=True):
    data: list[Version] | None = None


class VersionDetailsEnvelope(Envelope, frozen=True, omit_defaults=True):
    data: VersionDetails | None = None


class CredentialsEnvelope(Envelope, frozen=True, omit_defaults=True):
    data: Credentials | None = None


class CdrEnvelope(Envelope, frozen=True, omit_defaults=True):
    data: Cdr | None = None


class TokensEnvelope(Envelope, frozen=True, omit_defaults=True):
    data: list[Token] | None = None


class AuthorizationEnvelope(Envelope, frozen=True, omit_defaults=True):
    data: AuthorizationInfo | None = None
