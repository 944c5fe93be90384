"""The few things SQLite and PostgreSQL spell differently, for the SQL the adherence
statements and the ledger write by hand, by `connection.vendor`."""

DIALECTS = {
    "postgresql": {
        "plus_days": "({} + {})",
        "days_between": "({} - {})",
        "greatest": "GREATEST({}, {})",
        "least": "LEAST({}, {})",
        "true": "TRUE",
        # An instant as ISO text in UTC: Django reads a timestamptz through a loader
        # written in Python (about 5 µs a value); datetime.fromisoformat reads this text
        # in a fraction of that, which counts in a CSV of 10,000 rows.
        "instant_text": "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')",
        "lateral": True,
        # For the CSV's lines (clinic_csv.py): a date as ISO text, a character by its
        # code, and whether a text holds what a CSV must quote (a comma, a quote, CR, LF).
        "date_text": "to_char({}, 'YYYY-MM-DD')",
        "char": "chr({})",
        "needs_quotes": "{} ~ '[\",\\r\\n]'",
    },
    "sqlite": {
        "plus_days": "date({}, '+' || {} || ' days')",
        "days_between": "CAST(julianday({}) - julianday({}) AS INTEGER)",
        "greatest": "MAX({}, {})",
        "least": "MIN({}, {})",
        "true": "1",
        "instant_text": "{}",  # stored as ISO text in UTC already
        "lateral": False,
        "date_text": "{}",  # stored as ISO text already
        "char": "char({})",
        "needs_quotes": "{0} GLOB '*[,\"' || char(13, 10) || ']*'",
    },
}
