"""What outcomes adds to prescriptions' pages and documents (prescriptions.extensions),
registered once from OutcomesConfig.ready()."""

from prescriptions import extensions


def register() -> None:
    from outcomes import demo, export, web

    extensions.add_patient_section(
        extensions.Section("outcomes/staff_patient_outcomes.html", web.patient_section)
    )
    extensions.add_clinic_section(
        extensions.Section("outcomes/staff_clinic_outcomes.html", web.clinic_section)
    )
    extensions.add_clinic_column(
        extensions.Column(
            label="PSFS change",
            classes="num nowrap wide-only",
            template="outcomes/staff_psfs_cell.html",
            values=web.latest_psfs_change,
        )
    )
    extensions.add_export_section("questionnaire_responses", export.patient_responses)
    extensions.add_fhir_resources(export.fhir_resources)
    extensions.add_demo_seeder(demo.seed)
