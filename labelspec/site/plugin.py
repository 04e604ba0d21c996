"""The ``labelspec`` mkdocs plugin: renders every guideline of the workspace as pages.

``mkdocs serve`` / ``mkdocs build`` in a workspace read ``guidelines/*/spec.yaml`` and ``docs/``;
the plugin replaces what mkdocs found in ``docs_dir`` with generated pages, copies the example
images, builds the navigation, and watches the guidelines and the roster for live reload. With
``guideline`` and ``version`` set (``labelspec site publish``) it renders one guideline as
released at that tag instead.
"""

from __future__ import annotations

import logging
import re
from importlib import resources
from pathlib import Path

from mkdocs.config import config_options
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files

from labelspec.errors import LabelspecError, ProblemsError

log = logging.getLogger("mkdocs.plugins.labelspec")
# Theme and lightbox bundles carry CDN fallbacks (mermaid, plyr, a polyfill) that load only on
# rare paths; pointing them at a local path keeps the promise that the site never leaves the host.
CDN_URL = re.compile(
    rb"https?://(?:unpkg\.com|cdn\.plyr\.io|cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com|"
    rb"fonts\.googleapis\.com|fonts\.gstatic\.com|api\.github\.com|gitlab\.com/api)/"
)
CSS_URI = "assets/labelspec.css"
REQUIRED_EXTENSIONS = ("admonition", "attr_list", "md_in_html", "tables", "toc")


class LabelspecConfig(Config):
    workspace = config_options.Optional(config_options.Type(str))
    guideline = config_options.Optional(config_options.Type(str))
    version = config_options.Optional(config_options.Type(str))
    labelers_page = config_options.Type(bool, default=True)


class LabelspecPlugin(BasePlugin[LabelspecConfig]):
    def on_config(self, config):
        from labelspec.workspace import Workspace, find_root

        root = self.config.workspace or str(Path(config.config_file_path or ".").resolve().parent)
        try:
            self.ws = Workspace(find_root(root))
            self.sources = self._load()
        except ProblemsError as exc:
            listing = "\n".join(f"  {p}" for p in exc.problems)
            raise PluginError(f"labelspec: {exc}\n{listing}") from exc
        except LabelspecError as exc:
            raise PluginError(f"labelspec: {exc}") from exc
        # Offline and private: no web fonts, ever (the theme would fetch them from Google).
        config.theme["font"] = False
        for extension in REQUIRED_EXTENSIONS:
            if extension not in config.markdown_extensions:
                config.markdown_extensions.append(extension)
        if CSS_URI not in config.extra_css:
            config.extra_css.append(CSS_URI)
        config.nav = self._nav()
        return config

    # -- content -----------------------------------------------------------------------------------
    def _load(self):
        from labelspec.site import source

        if self.config.guideline and self.config.version:
            return [source.at_release(self.ws, self.config.guideline, self.config.version)]
        names = [self.config.guideline] if self.config.guideline else self.ws.guideline_names()
        return [source.working_tree(self.ws, name) for name in names]

    @property
    def single(self) -> bool:
        return len(self.sources) == 1 and bool(self.config.guideline)

    def _prefix(self, name: str) -> str:
        return "" if self.single else f"{name}/"

    def _pages(self) -> dict[str, str | bytes | Path]:
        from labelspec.site import pages

        out: dict[str, str | bytes | Path] = {}
        for src in self.sources:
            prefix = self._prefix(src.name)
            for uri, markdown in pages.guideline_pages(src.site).items():
                out[prefix + uri] = markdown
            for uri, content in src.files.items():
                out[prefix + uri] = content
        if not self.single:
            out["index.md"] = self._home()
        if self.config.labelers_page:
            out["labelers.md"] = self._labelers()
        return out

    def _home(self) -> str:
        from labelspec.site.pages import esc

        lines = [
            "# Labeling guidelines",
            "",
            "| Guideline | Version | Task | Classes |",
            "| --- | --- | --- | --- |",
        ]
        for src in self.sources:
            spec = src.site.spec
            lines.append(
                f"| [{esc(spec.title)}]({src.name}/index.md) | {esc(spec.version)} | {spec.task} | {len(spec.classes)} |"
            )
        if self.config.labelers_page:
            lines += ["", "Who is trained on which version: [Labelers](labelers.md)."]
        return "\n".join(lines) + "\n"

    def _labelers(self) -> str:
        from labelspec.labelers.coverage import status
        from labelspec.site.pages import labelers_page

        names = [s.name for s in self.sources]
        rows = [r.to_dict() for name in names for r in status(self.ws, name)]
        return labelers_page(rows)

    def _nav(self) -> list:
        from labelspec.semver import Version

        nav: list = [] if self.single else [{"Home": "index.md"}]
        for src in self.sources:
            spec, p = src.site.spec, self._prefix(src.name)
            section: list = [{"Overview": f"{p}index.md"}]
            section.append({"Classes": [{c.name: f"{p}classes/{c.id}.md"} for c in spec.classes]})
            section.append({"Rules": f"{p}rules.md"})
            if spec.decision_tree:
                section.append({"Decision tree": f"{p}decision-tree.md"})
            if src.site.guides:
                section.append(
                    {
                        "Guides": [
                            {title: f"{p}guide/{slug}.md"} for slug, title, _ in src.site.guides
                        ]
                    }
                )
            if src.site.diffs:
                versions = sorted(src.site.diffs, key=Version.parse, reverse=True)
                section.append(
                    {"What changed": [{f"In {v}": f"{p}changes/{v}.md"} for v in versions]}
                )
            section.append({"Changelog": f"{p}changelog.md"})
            nav.extend(section if self.single else [{spec.title: section}])
        if self.config.labelers_page:
            nav.append({"Labelers": "labelers.md"})
        return nav

    def on_files(self, files: Files, config) -> Files:
        docs_dir = Path(config.docs_dir).resolve()
        # What mkdocs found in docs_dir (spec.yaml, docs/*.md, images) is replaced by the render;
        # theme assets (and anything a plugin added from elsewhere) stay.
        generated = Files(
            [
                f
                for f in files
                if not f.abs_src_path or docs_dir not in Path(f.abs_src_path).resolve().parents
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

    def on_post_build(self, config):
        for path in Path(config.site_dir).rglob("*.js"):
            data = path.read_bytes()
            patched = CDN_URL.sub(b"./offline/", data)
            if patched != data:
                path.write_bytes(patched)
