import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from concerto.outcomes import definitions


class Command(BaseCommand):
    help = (
        "Check a site's questionnaire definitions (JSON) and install them in the site's questionnaire "
        "directory (CONCERTO_QUESTIONNAIRE_DIR). Licensed wording (ReQoL, SWEMWBS …) stays in the site's "
        "files, never in the repository. With --check, only check."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--check", action="store_true", help="check the files without installing them")

    def handle(self, *args, files, check, **options):
        shipped = definitions.all_questionnaires()
        checked = []
        for path in files:
            try:
                questionnaire = definitions.load_file(path, source=f"site file {path.name}")
                definitions.check_replacement(shipped.get(questionnaire.key), questionnaire)
            except definitions.DefinitionError as exc:
                raise CommandError(f"{exc} (nothing was installed)") from exc
            checked.append((path, questionnaire))
            self.stdout.write(
                f"{path.name}: {questionnaire.title} (key {questionnaire.key}, version {questionnaire.version}), "
                f"{len(questionnaire.items)} questions, scores: "
                f"{', '.join(r.key for r in questionnaire.scoring) or 'none'}"
            )
        if check:
            self.stdout.write("Checked; nothing installed.")
            return
        target = definitions.site_dir()
        target.mkdir(parents=True, exist_ok=True)
        for path, questionnaire in checked:
            shutil.copyfile(path, target / f"{questionnaire.key}.json")
        self.stdout.write(self.style.SUCCESS(f"Installed {len(checked)} questionnaire(s) in {target}."))
