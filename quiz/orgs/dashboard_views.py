"""The manager's dashboard: people x assignments, filters, sorting, paging, CSV."""
