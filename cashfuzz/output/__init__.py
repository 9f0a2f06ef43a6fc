"""What a checked run looks like outside: JSON results, the terminal ledger, reports."""
