def csv_text(response) -> str:
    """The body of a CSV export, which streams (without the web download's byte order
    mark; tests/prescriptions/staff_web/test_csv_bom.py checks which export has one)."""
    return b"".join(response.streaming_content).decode("utf-8-sig")
