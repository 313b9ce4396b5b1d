"""Cards: applications, numbers, lifecycle operations, PINs, making results, handover,
statistics. Read ``service`` first (the one way a status changes)."""
