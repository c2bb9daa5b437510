"""`auditlog import`: a follow-up register (CSV or XLSX) into the store, all rows or none.

read (file -> numbered rows) -> columns (header row -> fields) -> register (rows -> parsed
findings, every value checked) -> plan (against the store, through the domain's aggregates)
-> the caller saves the plan's aggregates in one transaction.
"""
