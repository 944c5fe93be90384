"""Calls made at the same instant, as two requests or workers racing would make them."""

import threading

from django.db import connection


def at_once(*calls) -> list:
    """Runs each call in a thread of its own, all let go together, and answers what each
    returned, in order, or the exception it raised. Each thread has its own database
    connection and closes it when done."""
    start = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def run(n, call):
        try:
            start.wait()
            answers[n] = call()
        except Exception as error:  # answered, for the test to weigh
            answers[n] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers
