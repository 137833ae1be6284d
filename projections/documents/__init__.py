"""Invoice and credit-note documents (PDF; UBL 2.1 / Peppol BIS Billing 3.0), rendered from the
read models on request: the events stay the source of truth, a document is a view of them."""
