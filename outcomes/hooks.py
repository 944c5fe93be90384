"""What outcomes adds to prescriptions' pages, reminders and documents
(prescriptions.extensions),
registered once from OutcomesConfig.ready()."""

from prescriptions import extensions


def register() -> None:
    from outcomes import demo, export, patient_web, schedule_form, schedules, staff_web
    from outcomes.api import schedules as schedules_api

    extensions.add_patient_section(
        extensions.Section("outcomes/staff_patient_outcomes.html", staff_web.patient_section)
    )
    extensions.add_clinic_section(
        extensions.Section("outcomes/staff_clinic_outcomes.html", staff_web.clinic_section)
    )
    extensions.add_clinic_column(
        extensions.Column(
            label="PSFS change",
            classes="num nowrap wide-only",
            template="outcomes/staff_psfs_cell.html",
            values=staff_web.latest_psfs_change,
            csv_headers=staff_web.PSFS_CSV_HEADERS,
            csv_values=staff_web.clinic_psfs_change,
            csv_cells=staff_web.psfs_csv_cells,
        )
    )
    extensions.add_export_section("questionnaire_responses", export.patient_responses)
    extensions.add_fhir_resources(export.fhir_resources)
    extensions.add_demo_seeder(demo.seed)
    extensions.add_prescribe_input(
        extensions.PrescribeInput(
            name="questionnaires",
            api_field=schedules_api.prescribe_field,
            form=schedule_form.prescribe_form,
            template="outcomes/schedule_fields.html",
            apply=schedules.schedule_on_prescribing,
        )
    )
    extensions.add_reminder_link(patient_web.reminder_links)
    extensions.add_patient_home_panel(patient_web.home_panel)
