"""The ``labelspec`` mkdocs plugin: renders every guideline of the workspace as pages.

``mkdocs serve`` / ``mkdocs build`` in a workspace read ``guidelines/*/spec.yaml`` and ``docs/``;
the plugin replaces what mkdocs found in ``docs_dir`` with generated pages, copies the example
images, builds the navigation, and watches the guidelines and the roster for live reload. With
``guideline`` and ``version`` set (``labelspec site publish``) it renders one guideline as
released at that tag instead.

Readers are protected from what specs and rosters contain: navigation titles and the site name
are escaped (the theme prints them raw), every page body goes through ``safe.clean_html`` after
every other plugin, and the theme override (``assets/main.html``) escapes the ``<title>``.
The Labelers page is opt-in (``labelers_page: true``), optionally for one vendor only
(``labelers_vendor``): a site sent to vendor A must not list vendor B's people.
"""

from __future__ import annotations

import logging
import re
from importlib import resources
from pathlib import Path

from mkdocs.config import config_options
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files

from labelspec.errors import LabelspecError, ProblemsError
from labelspec.repo import Repo, find_root
from labelspec.site.edit import edit_links
from labelspec.vcs import Git
from labelspec.site import source
from labelspec.site.assemble import guideline_pages
from labelspec.site.pages import lit, md_field
from labelspec.labelers.coverage import status
from labelspec.site.pages import labelers_page
from labelspec.semver import Version
from labelspec.site.pages import PRINT_URI, esc
from labelspec.site.safe import clean_html
from labelspec.site.edit import page_source
from labelspec import yamlio
import html
from urllib.parse import quote
from xml.sax.saxutils import escape

log = logging.getLogger("mkdocs.plugins.labelspec")
# Theme and lightbox bundles carry CDN fallbacks (mermaid, plyr, a polyfill) that load only on
# rare paths; pointing them at a local path keeps the promise that the site never leaves the host.
CDN_URL = re.compile(
    rb"https?://(?:unpkg\.com|cdn\.plyr\.io|cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com|"
    rb"fonts\.googleapis\.com|fonts\.gstatic\.com|api\.github\.com|gitlab\.com/api)/"
)
CSS_URI = "assets/labelspec.css"
ASSETS = Path(__file__).parent / "assets"
# Material's version selector keeps the reader's page by finding it in the other version's
# sitemap.xml; it compares paths only (it swaps in the reader's own host), so a site without a
# site_url gets a sitemap on this placeholder host.
SITEMAP_HOST = "http://localhost/"
REQUIRED_EXTENSIONS = ("admonition", "attr_list", "md_in_html", "tables", "toc")


class LabelspecConfig(Config):
    workspace = config_options.Optional(config_options.Type(str))
    guideline = config_options.Optional(config_options.Type(str))
    version = config_options.Optional(config_options.Type(str))
    labelers_page = config_options.Type(bool, default=False)
    labelers_vendor = config_options.Optional(config_options.Type(str))


class LabelspecPlugin(BasePlugin[LabelspecConfig]):
    def on_config(self, config):

        root = self.config.workspace or str(Path(config.config_file_path or ".").resolve().parent)
        try:
            self.ws = Repo(find_root(root))
            self.sources = self._load()
        except ProblemsError as exc:
            listing = "\n".join(f"  {p}" for p in exc.problems)
            raise PluginError(f"labelspec: {exc}\n{listing}") from exc
        except LabelspecError as exc:
            raise PluginError(f"labelspec: {exc}") from exc
        # Offline and private: no web fonts, ever (the theme would fetch them from Google).
        config.theme["font"] = False
        # The override template: the outdated-version banner and an escaped <title>. It goes
        # after the workspace's own custom_dir, if any, so that the team's overrides win.
        if str(ASSETS) not in config.theme.dirs:
            config.theme.dirs.insert(1 if config.theme.custom_dir else 0, str(ASSETS))
        config.site_name = esc_once(config.site_name)
        self.urls: list[str] = []
        for extension in REQUIRED_EXTENSIONS:
            if extension not in config.markdown_extensions:
                config.markdown_extensions.append(extension)
        if CSS_URI not in config.extra_css:
            config.extra_css.append(CSS_URI)
        config.nav = self._nav()
        self._edit_links(config)
        return config

    def _edit_links(self, config) -> None:
        """ "Suggest a change": where each page's source is edited on the team's git host."""

        self.edit = edit_links(self.ws, config.repo_url, _configured_edit_uri(config))
        if self.edit.repo_url and not config.repo_url:
            config.repo_url = self.edit.repo_url
        if self.edit.pattern is None:
            return
        features = config.theme.get("features") or []
        if "content.action.edit" not in features:
            config.theme["features"] = [*features, "content.action.edit"]
        git = self.ws.git
        self.folders = {
            src.name: git.rel_to_top(self.ws.guideline_dir(src.name)) for src in self.sources
        }

    # -- content -----------------------------------------------------------------------------------
    def _load(self):

        if self.config.guideline and self.config.version:
            return [source.at_release(self.ws, self.config.guideline, self.config.version)]
        names = [self.config.guideline] if self.config.guideline else self.ws.guideline_names()
        return [source.working_tree(self.ws, name) for name in names]

    @property
    def labelers(self) -> bool:
        return self.config.labelers_page or bool(self.config.labelers_vendor)

    @property
    def single(self) -> bool:
        return len(self.sources) == 1 and bool(self.config.guideline)

    def _prefix(self, name: str) -> str:
        return "" if self.single else f"{name}/"

    def _pages(self) -> dict[str, str | bytes | Path]:

        out: dict[str, str | bytes | Path] = {}
        for src in self.sources:
            prefix = self._prefix(src.name)
            for uri, markdown in guideline_pages(src.site).items():
                out[prefix + uri] = markdown
            for uri, content in src.files.items():
                out[prefix + uri] = content
        if not self.single:
            out["index.md"] = self._home()
        if self.labelers:
            out["labelers.md"] = self._labelers()
        return out

    def _home(self) -> str:

        lines = [
            "# Labeling guidelines",
            "",
            "| Guideline | Version | Task | Classes |",
            "| --- | --- | --- | --- |",
        ]
        for src in self.sources:
            spec = src.site.spec
            version = f"draft after {spec.version}" if src.site.draft else spec.version
            lines.append(
                f"| [{md_field(spec.title, table=True)}]({src.name}/index.md) | {lit(version)} | {spec.task} | {len(spec.classes)} |"
            )
        if self.labelers:
            lines += ["", "Who is trained on which version: [Labelers](labelers.md)."]
        return "\n".join(lines) + "\n"

    def _labelers(self) -> str:

        vendor = self.config.labelers_vendor
        rows = [
            r.to_json()
            for src in self.sources
            for r in status(self.ws, src.name)
            if vendor is None or r.vendor == vendor
        ]
        return labelers_page(rows, vendor)

    def _nav(self) -> list:
        """The navigation; mkdocs and the theme print its titles as HTML, so they are escaped."""

        nav: list = [] if self.single else [{"Home": "index.md"}]
        for src in self.sources:
            spec, p = src.site.spec, self._prefix(src.name)
            section: list = [{"Overview": f"{p}index.md"}]
            section.append(
                {"Classes": [{esc(c.name): f"{p}classes/{c.id}.md"} for c in spec.classes]}
            )
            section.append({"Rules": f"{p}rules.md"})
            if spec.decision_tree:
                section.append({"Decision tree": f"{p}decision-tree.md"})
            if src.site.guides:
                section.append(
                    {
                        "Guides": [
                            {esc(title): f"{p}guide/{slug}.md"}
                            for slug, title, _ in src.site.guides
                        ]
                    }
                )
            if src.site.diffs:
                versions = sorted(src.site.diffs, key=Version.parse, reverse=True)
                section.append(
                    {"What changed": [{f"In {v}": f"{p}changes/{v}.md"} for v in versions]}
                )
            section.append({"Changelog": f"{p}changelog.md"})
            section.append({"Print or PDF": f"{p}{PRINT_URI}"})
            nav.extend(section if self.single else [{esc(spec.title): section}])
        if self.labelers:
            nav.append({"Labelers": "labelers.md"})
        return nav

    def on_files(self, files: Files, config) -> Files:
        docs_dir = Path(config.docs_dir).resolve()
        # What mkdocs found in docs_dir (spec.yaml, docs/*.md, images) is replaced by the render;
        # theme assets (and anything a plugin added from elsewhere) stay.
        # The override folder is a theme folder too: its stylesheet is added below instead.
        generated = Files(
            [
                f
                for f in files
                if not f.abs_src_path
                or not {docs_dir, ASSETS.resolve()} & set(Path(f.abs_src_path).resolve().parents)
            ]
        )
        for uri, content in self._pages().items():
            if isinstance(content, Path):
                generated.append(File.generated(config, uri, abs_src_path=str(content)))
            else:
                generated.append(File.generated(config, uri, content=content))
        css = (resources.files("labelspec.site") / "assets" / "labelspec.css").read_bytes()
        generated.append(File.generated(config, CSS_URI, content=css))
        return generated

    def on_serve(self, server, config, builder):
        server.watch(str(self.ws.labelers_dir))
        server.watch(str(self.ws.config_path))
        for src in self.sources:
            for path in src.watch:
                server.watch(str(path))
        return server

    @event_priority(-100)  # after every other plugin, GLightbox's captions included
    def on_page_content(self, html, page, config, files):

        return clean_html(html)

    def on_page_context(self, context, page, config, nav):
        self.urls.append(page.url)
        page.edit_url = self._edit_url(page.file.src_uri)
        return context

    def _edit_url(self, uri: str) -> str | None:
        """The edit address of the file a page shows (None: a page of no one file)."""

        if self.edit.pattern is None or uri == "labelers.md":
            return None
        for src in self.sources:
            prefix = self._prefix(src.name)
            if uri.startswith(prefix):
                inside = page_source(uri.removeprefix(prefix), "guide/")
                return self.edit.url(f"{self.folders[src.name]}/{inside}")
        return None  # the home page of several guidelines

    def on_post_build(self, config):
        for path in Path(config.site_dir).rglob("*.js"):
            data = path.read_bytes()
            patched = CDN_URL.sub(b"./offline/", data)
            if patched != data:
                path.write_bytes(patched)
        if not config.site_url:
            _write_sitemap(Path(config.site_dir) / "sitemap.xml", self.urls)


def _configured_edit_uri(config) -> str | None:
    """``edit_uri`` as mkdocs.yml writes it: mkdocs fills in a default of its own for GitHub
    and GitLab, which points into a docs/ folder that the generated pages do not come from."""

    if not config.config_file_path:
        return None
    found = yamlio.load_plain(Path(config.config_file_path)) or {}
    value = found.get("edit_uri") if isinstance(found, dict) else None
    return str(value) if value else None


def esc_once(text: str) -> str:
    """The site name, escaped for the theme (which prints it raw); idempotent, because mkdocs
    serve runs on_config again on the already escaped value."""

    return html.escape(html.unescape(text), quote=True)


def _write_sitemap(path: Path, urls: list[str]) -> None:

    entries = "".join(
        f"<url><loc>{escape(SITEMAP_HOST + quote(url))}</loc></url>" for url in sorted(set(urls))
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>\n'
    )
