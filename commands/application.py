"""The write-side eventsourcing Application holding every aggregate of every EMP.

A save records the events and, where the composition root gave it inline read models, the
rows those events cause in those models, in one transaction (see docs/architecture.md).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from copy import deepcopy
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent, project_aggregate
from eventsourcing.domain import MutableOrImmutableAggregate, Snapshot
from eventsourcing.persistence import Mapper, Recording, Transcoder

from commands.data_keys import DataKeys, InMemoryDataKeys
from commands.personal_data import PersonalDataMapper
from commands.ports import InlineReadModels
from commands.transcoder import DataclassAsDict, FastDecodingJSONTranscoder
from domain.aggregates import (
    CardPayment,
    ChargingSession,
    Customer,
    CustomerToken,
    Emp,
    Invoice,
    InvoiceNumbering,
    OcpiParty,
    Package,
    PackageTerms,
    PaymentCard,
    PspEvent,
    ReceivedCdr,
    Subscription,
)
from domain.dunning import DunningState
from domain.errors import NotFound
from domain.payments import CHARGE_TYPES, PendingPayment, UnpaidDebit

# The domain's value types that events and snapshots carry.
VALUE_TYPES: tuple[type, ...] = (
    PaymentCard,
    PackageTerms,
    PendingPayment,
    UnpaidDebit,
    DunningState,
    *CHARGE_TYPES,
)


class AggregateCache:
    """Aggregates as this process last saved or read them. A cached aggregate is never handed
    out nor changed: readers get a copy, and a save replaces the entry with what it saved."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[UUID, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, aggregate_id: UUID) -> Any | None:
        with self._lock:
            aggregate = self._items.get(aggregate_id)
            if aggregate is not None:
                self._items.move_to_end(aggregate_id)
            return aggregate

    def put(self, aggregate_id: UUID, aggregate: Any) -> None:
        if self.maxsize <= 0:
            return
        with self._lock:
            self._items[aggregate_id] = aggregate
            self._items.move_to_end(aggregate_id)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def evict(self, aggregate_id: UUID) -> None:
        with self._lock:
            self._items.pop(aggregate_id, None)


class Ledger(Application[UUID]):
    name = "Ledger"
    # Long-lived customers: a command's cost must not grow with the customer's age.
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[Any]], int]] = {
        Customer: 100,
        Subscription: 100,
        InvoiceNumbering: 100,
    }

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        cache_size: int = 10_000,
        inline: InlineReadModels | None = None,
    ) -> None:
        super().__init__(env)
        self.cache = AggregateCache(cache_size)
        self.inline = inline
        self.use_data_keys(InMemoryDataKeys())

    def use_data_keys(self, keys: DataKeys, erase: Callable[[UUID], None] | None = None) -> None:
        """Where customers' data keys are kept, and how a customer's personal data is erased
        (its key destroyed, and any plain copy the store holds)."""
        assert isinstance(self.mapper, PersonalDataMapper)
        self.mapper.keys = keys
        self.erase_personal_data: Callable[[UUID], None] = erase or keys.destroy

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=PersonalDataMapper)

    def construct_transcoder(self) -> Transcoder:
        transcoder = FastDecodingJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: Any) -> None:
        super().register_transcodings(transcoder)
        for value_type in VALUE_TYPES:
            transcoder.register(DataclassAsDict(value_type))

    # --- saving --------------------------------------------------------------------------

    def save(self, *aggregates: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's save, collecting the aggregates' events without its runtime protocol
        checks (a tenth of a session batch's time)."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in aggregates:
            processing_event.events.extend(aggregate.collect_events())
            processing_event.aggregates[aggregate.id] = aggregate
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        return recordings

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """The events, and the inline read models' rows they cause, in one transaction."""
        events = processing_event.events
        extra: dict[str, Any] = {}
        if self.inline is not None:
            extra["inline"] = self.inline.statements(events)
        try:
            recordings = self.events.put(events, **extra)
        except BaseException:
            # A stale copy lost a race, or the outcome is unknown: read these afresh next time.
            for aggregate_id in processing_event.aggregates:
                self.cache.evict(aggregate_id)
            raise
        for aggregate_id, aggregate in processing_event.aggregates.items():
            if not isinstance(aggregate, ChargingSession):  # a guard is read again only on a repeat
                self.cache.put(aggregate_id, aggregate)
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """A snapshot of the aggregate just saved, every `snapshotting_intervals` events: it is
        in memory at that very version, so nothing is read back."""
        if self.snapshots is None:
            return
        for event in processing_event.events:
            aggregate: Any = processing_event.aggregates.get(event.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate))
            if interval is None or event.originator_version % interval:
                continue
            if aggregate.version == event.originator_version:
                self.snapshots.put([Snapshot.take(aggregate)])
            else:
                self.take_snapshot(event.originator_id, version=event.originator_version)

    # --- reading -------------------------------------------------------------------------

    def aggregate(self, aggregate_id: UUID, *, as_cached: bool = False) -> Any:
        """A copy of the aggregate to decide on, brought up to date with any newer events
        (another process's writes). `as_cached` skips that read: a stale copy can then only
        fail to save, and is read afresh for the retry (the session path, where every write
        is a save)."""
        cached = self.cache.get(aggregate_id)
        if cached is None:
            read: Any = self.repository.get(aggregate_id)
            self.cache.put(aggregate_id, read)
            return deepcopy(read)
        aggregate: Any = deepcopy(cached)
        if not as_cached:
            newer: Sequence[Any] = list(self.events.get(aggregate_id, gt=aggregate.version))
            if newer:
                aggregate = project_aggregate(aggregate, newer)
                self.cache.put(aggregate_id, deepcopy(aggregate))
        return aggregate

    def get_emp(self, emp_id: UUID) -> Emp:
        return self._get(emp_id, Emp, "EMP")

    def get_customer(self, customer_id: UUID, emp_id: UUID, *, as_cached: bool = False) -> Customer:
        """The customer, if it exists and belongs to emp_id; otherwise not-found."""
        customer = self._get(customer_id, Customer, "customer", as_cached=as_cached)
        if customer.emp_id != emp_id:
            raise NotFound(f"customer {customer_id} not found")
        return customer

    def find_customer(self, customer_id: UUID) -> Customer | None:
        return self._find(customer_id, Customer)

    def find_package(self, emp_id: UUID, code: str) -> Package | None:
        return self._find(Package.create_id(emp_id, code), Package)

    def package_terms(self, emp_id: UUID, code: str) -> PackageTerms:
        package = self.find_package(emp_id, code)
        if package is None:
            raise NotFound(f"package {code!r} not found in the catalog")
        return PackageTerms(
            package_id=package.id,
            code=package.code,
            name=package.name,
            kind=package.kind,
            recurring=package.recurring,
            payment=package.payment,
            price_minor=package.price_minor,
        )

    def get_subscription(self, subscription_id: UUID, emp_id: UUID) -> Subscription:
        subscription = self._get(subscription_id, Subscription, "subscription")
        if subscription.emp_id != emp_id:
            raise NotFound(f"subscription {subscription_id} not found")
        return subscription

    def find_subscription(self, subscription_id: UUID) -> Subscription | None:
        return self._find(subscription_id, Subscription)

    def find_invoice_numbering(self, emp_id: UUID, series: str = "invoice") -> InvoiceNumbering | None:
        return self._find(InvoiceNumbering.create_id(emp_id, series), InvoiceNumbering)

    def get_invoice(self, invoice_id: UUID, emp_id: UUID) -> Invoice:
        invoice = self._get(invoice_id, Invoice, "invoice")
        if invoice.emp_id != emp_id:
            raise NotFound(f"invoice {invoice_id} not found")
        return invoice

    def find_session(self, emp_id: UUID, session_id: str) -> ChargingSession | None:
        return self._find(ChargingSession.id_for(emp_id, session_id), ChargingSession)

    def get_party(self, party_id: UUID, emp_id: UUID) -> OcpiParty:
        party = self._get(party_id, OcpiParty, "OCPI party")
        if party.emp_id != emp_id:
            raise NotFound(f"OCPI party {party_id} not found")
        return party

    def find_token(self, emp_id: UUID, uid: str) -> CustomerToken | None:
        return self._find(CustomerToken.id_for(emp_id, uid), CustomerToken)

    def find_cdr(self, emp_id: UUID, session_id: str) -> ReceivedCdr | None:
        return self._find(ReceivedCdr.id_for(emp_id, session_id), ReceivedCdr)

    def get_cdr(self, cdr_id: UUID, emp_id: UUID) -> ReceivedCdr:
        cdr = self._get(cdr_id, ReceivedCdr, "CDR")
        if cdr.emp_id != emp_id:
            raise NotFound(f"CDR {cdr_id} not found")
        return cdr

    def find_card_payment(self, payment_id: UUID) -> CardPayment | None:
        return self._find(payment_id, CardPayment)

    def find_psp_event(self, provider: str, event_id: str) -> PspEvent | None:
        return self._find(PspEvent.create_id(provider, event_id), PspEvent)

    def _find(self, aggregate_id: UUID, kind: type[Any]) -> Any:
        try:
            return self._get(aggregate_id, kind, kind.__name__)
        except NotFound:
            return None

    def _get(self, aggregate_id: UUID, kind: type[Any], label: str, *, as_cached: bool = False) -> Any:
        try:
            aggregate: Any = self.aggregate(aggregate_id, as_cached=as_cached)
        except AggregateNotFoundError:
            raise NotFound(f"{label} {aggregate_id} not found") from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"{label} {aggregate_id} not found")
        return aggregate


def position_of(recordings: list[Recording[UUID]]) -> int | None:
    return recordings[-1].notification.id if recordings else None
