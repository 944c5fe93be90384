from django.db import migrations

KNEE_ROCKS = {
    "slug": "knee-rocks",
    "name": "Knee rocks",
    "summary": (
        "A gentle rocking movement done lying down, to settle a stiff, sore lower back: "
        "before you get up in the morning, at bedtime, and whenever back pain wakes you "
        "at night. Keep it going on days without pain too; it helps keep the pain away."
    ),
    "steps": [
        "Lie on your back somewhere easy to get up from; your bed works well.",
        "Slide your heels toward you until your knees are bent at a comfortable angle, "
        "roughly 45 degrees. Your feet stay flat and do not need to reach your bottom.",
        "Let your knees rest loosely against each other.",
        "Rock both knees together slowly to one side, then to the other. Stop about "
        "45 degrees from the middle on each side, wherever still feels comfortable.",
        "Keep your hips and bottom resting on the bed the whole time. Your knees do not "
        "need to reach the mattress.",
        "Carry on for a few minutes, until your back feels looser and the pain settles.",
    ],
    "cautions": [
        "Keep it small and easy. Going further does not help more and can set off the "
        "muscle spasm again.",
        "If a movement hurts more, make it smaller and slower rather than pushing through.",
        "Stop and contact your clinic promptly if you notice numbness around the groin or "
        "inner thighs, new trouble controlling your bladder or bowel, new or increasing leg "
        "weakness, fever, or pain that started after a fall.",
    ],
    "default_slots": [
        {"kind": "morning", "time": "07:00"},
        {"kind": "bedtime", "time": "22:00"},
    ],
    "range_limit_degrees": 45,
    "heat_prep_minutes": 10,
    "version": 1,
}


def create_knee_rocks(apps, schema_editor):
    Protocol = apps.get_model("prescriptions", "Protocol")
    Protocol.objects.update_or_create(slug=KNEE_ROCKS["slug"], defaults=KNEE_ROCKS)


class Migration(migrations.Migration):
    dependencies = [("prescriptions", "0001_initial")]

    operations = [migrations.RunPython(create_knee_rocks, migrations.RunPython.noop)]
