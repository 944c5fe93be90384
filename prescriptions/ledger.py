"""The ledger now lives in the adherence wing (prescriptions/adherence/ledger.py). This
name stays only for clinic_table.py and the seed_bulk and rebuild_ledger commands, which
join the wing next (issue #21, item 5); nothing else imports it."""

from prescriptions.adherence import ledger_catch_up, ledger_rebuild

__all__ = ["ledger_catch_up", "ledger_rebuild"]
