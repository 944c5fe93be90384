"""The clinic team's web pages at /staff/: a second edge over the API's selectors and
services, rendered on the server (session sign-in, CSRF, no inline script).

clinic.py the clinic's screens (the table, its CSV, deliveries), patient.py one patient's
page and its audit trail, actions.py the forms that change things, forms.py their forms,
access.py who may open them; urls.py is the URLconf config/urls.py includes. Other apps'
staff pages use only the guards this face names.
"""

from prescriptions.staff_web.access import clinician_required, patient_in_reach

__all__ = ["clinician_required", "patient_in_reach"]
