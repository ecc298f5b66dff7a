"""Documents the ledger hands out: certificates and honour walls as PDF and HTML, reports as
CSV and XLSX."""
