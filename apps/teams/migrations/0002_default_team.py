from django.db import migrations


def create_default_team(apps, schema_editor):
    Team = apps.get_model("teams", "Team")
    if not Team.objects.filter(is_default=True).exists():
        Team.objects.create(name="Default", is_default=True)


class Migration(migrations.Migration):
    dependencies = [("teams", "0001_initial")]

    operations = [migrations.RunPython(create_default_team, migrations.RunPython.noop)]
