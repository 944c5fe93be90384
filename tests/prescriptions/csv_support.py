def csv_text(response) -> str:
    """The body of a CSV export, which streams."""
    return b"".join(response.streaming_content).decode()
