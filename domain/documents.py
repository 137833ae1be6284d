"""What invoices and credit notes keep of the seller and the buyer as at issue (later changes
of the EMP or the customer do not reach an issued document)."""

from __future__ import annotations

from typing import Any


def seller_details(emp: Any) -> dict[str, Any]:
    return {"emp_name": emp.name, "time_zone": emp.time_zone, **(emp.seller or {})}


def buyer_details(customer: Any) -> dict[str, Any]:
    return {
        "customer_id": str(customer.id),
        "name": customer.name,
        "email": customer.email,
        "external_ref": customer.external_ref,
        **(customer.billing or {}),
    }


def missing_for_e_invoice(seller: dict[str, Any] | None, buyer: dict[str, Any] | None) -> list[str]:
    """The details a Peppol BIS 3 document needs and these lack, named as the API names them."""
    seller, buyer = seller or {}, buyer or {}
    missing = [f"seller.{name}" for name in ("legal_name", "vat_id") if not seller.get(name)]
    if not (seller.get("address") or {}).get("country"):
        missing.append("seller.address")
    if not seller.get("electronic_address"):
        missing.append("seller.electronic_address")
    if not (buyer.get("address") or {}).get("country"):
        missing.append("billing.address")
    if not buyer.get("electronic_address"):
        missing.append("billing.electronic_address")
    return missing
