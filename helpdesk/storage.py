from whitenoise.storage import CompressedManifestStaticFilesStorage


class LenientManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's compressed, hashed static files for production.

    A file missing from the manifest (collectstatic not run yet) must not turn every page into
    a 500: the page renders with the file's plain name, and `manage.py check` says what to run
    (helpdesk/checks.py).
    """

    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:  # not collected: nothing to hash
            return name
