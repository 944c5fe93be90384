"""Interop: a patient's record read out for other systems and for the patient.

fhir.py builds the record as a FHIR R4 Bundle (resources with stable ids, references
between them); export.py everything the product holds about a patient, as plain JSON.
Other apps add their own parts through prescriptions/extensions.py and build them with
`resource`, `reference` and `columns` named here.
"""

from prescriptions.interop.export import columns, patient_export
from prescriptions.interop.fhir import patient_bundle, reference, resource

__all__ = ["columns", "patient_bundle", "patient_export", "reference", "resource"]
