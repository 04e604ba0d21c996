"""``labelspec init``: create a workspace (git + DVC + layout + example guideline) in one commit.

``--empty`` leaves out the example: no guideline, no dataset, no sample, for a team that starts
its own with ``guideline new`` and ``dataset add``.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from urllib.parse import urlsplit, urlunsplit

from labelspec.demo import shapes, simulate
from labelspec.errors import ConflictError, InputError, WorkspaceError
from labelspec.guideline.release import tag_written
from labelspec.guideline.releases import tag_name
from labelspec.repo import CONFIG_NAME, Repo
from labelspec.store.datasets import declaration_files
from labelspec.transaction import JOURNAL, recover, transaction
from labelspec.vcs import Dvc, Git, git_root, is_ignored

TEMPLATES = {
    "classification": ("digits", "digits"),
    "detection": ("shapes", "shapes"),
    "ner": ("entities", "news"),
}
COMMON_FILES = {
    "labelspec.yaml": CONFIG_NAME,
    "mkdocs.yml": "mkdocs.yml",
    "dvc.yaml": "dvc.yaml",
    "gitignore": ".gitignore",
    "gitattributes": ".gitattributes",
    "labelers/README.md": "labelers/README.md",
    "labelers/roster.jsonl": "labelers/roster.jsonl",
    "labelers/training.jsonl": "labelers/training.jsonl",
    "datasets/README.md": "datasets/README.md",
    # keeps guidelines/ (the site's docs_dir) in every clone, with or without a guideline
    "guidelines/README.md": "guidelines/README.md",
}
EMPTY = "empty"  # the name an empty workspace's commit and result give its template


@dataclass
class InitResult:
    root: Path
    template: str
    guideline: str | None  # None: an empty workspace
    dataset: str | None
    remote_url: str
    created_git: bool
    commit: str
    files: list[str]

    def to_json(self) -> dict:
        return {
            "root": str(self.root),
            "template": self.template,
            "guideline": self.guideline,
            "dataset": self.dataset,
            "remote": self.remote_url,
            "created_git": self.created_git,
            "commit": self.commit,
            "files": self.files,
        }


def default_remote(root: Path, top: Path | None = None) -> Path:
    """A local directory beside the workspace, so the demo needs no server. A workspace in a
    subfolder of a larger repository (``top``) gets it beside that repository: beside the
    workspace it would lie in the repository's working tree, where nothing ignores it."""
    if top is None or top == root:
        return root.parent / f"{root.name}.dvc-storage"
    return top.parent / f"{top.name}-{'-'.join(root.relative_to(top).parts)}.dvc-storage"


def checked_remote(url: str) -> str:
    """``--remote`` as it may be written into the committed ``labelspec.yaml`` and
    ``.dvc/config``: one line, and no password (git would keep it in its history for good)."""
    bad = next((c for c in url if ord(c) < 32 or 0x7F <= ord(c) < 0xA0), None)
    if bad is not None:
        raise InputError(
            f"--remote holds a control character (U+{ord(bad):04X} at character "
            f"{url.index(bad) + 1}, a line break or tab pasted with it?): give the URL on one "
            "line; nothing was created"
        )
    if not url.strip():
        raise InputError(
            "--remote is empty: give the DVC remote's URL or path; nothing was created"
        )
    if "://" in url:
        try:
            parts = urlsplit(url)
            password = parts.password
        except ValueError as exc:
            raise InputError(f"--remote is not a valid URL ({exc}); nothing was created") from None
        host = parts.netloc.rpartition("@")[2]
        if password is None and parts.username and parts.scheme in ("http", "https"):
            # a web URL's user name is how tokens travel (https://ghp_...@github.com/...)
            shown = urlunsplit(parts._replace(netloc=f"***@{host}"))
            raise InputError(
                f"--remote {shown} names a user, which for an http(s) remote is usually a token: "
                "labelspec.yaml and .dvc/config are committed, so git would keep it for good. "
                f"Give the URL without it ({urlunsplit(parts._replace(netloc=host))}) and set the "
                "credentials with `dvc remote modify --local storage user ...` / `password ...` "
                "(.dvc/config.local, which git ignores), or the environment; nothing was created"
            )
        if password is not None:
            shown = urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
            bare = urlunsplit(parts._replace(netloc=f"{parts.username}@{host}"))
            raise InputError(
                f"--remote {shown} holds a password: labelspec.yaml and .dvc/config are "
                f"committed, so git would keep it for good. Give the URL without it ({bare}) and "
                "keep the password out of git: `dvc remote modify --local storage password ...` "
                "(.dvc/config.local, which git ignores) or the storage's own credentials "
                "(environment variables, a credential helper, an SSH key); nothing was created"
            )
    return url


def _render_files(root: Path, template: str | None, remote_url: str) -> dict[str, bytes]:
    """Every file of the new workspace, in memory, so nothing is written before all is known."""
    package = resources.files("labelspec") / "templates"
    values = {"name": root.name, "remote_url": remote_url}
    files: dict[str, bytes] = {}
    for source, target in COMMON_FILES.items():
        text = (package / "common" / source).read_text(encoding="utf-8")
        files[target] = Template(text).substitute(values).encode()
    if template is None:
        return files
    guideline, dataset = TEMPLATES[template]
    files.update(
        {rel: text.encode() for rel, text in declaration_files(dataset, guideline).items()}
    )
    guideline_root = package / template / "guidelines" / guideline

    def collect(node, rel: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            child_rel = f"{rel}/{child.name}"
            if child.is_dir():
                collect(child, child_rel)
            else:
                files[child_rel] = child.read_bytes()

    collect(guideline_root, f"guidelines/{guideline}")
    if template == "detection":
        files.update(_shape_images(f"guidelines/{guideline}/examples"))
    if template == "classification":
        files.update(_digit_sample("sample"))
    return files


WORKFLOW = ("github-workflow-guidelines.yml", ".github/workflows/labelspec-guidelines.yml")


def _workflow(root: Path, at_top: bool) -> dict[str, bytes]:
    """The pull-request workflow (check + review). GitHub reads workflows at the repository top
    only; copied as is (its ${{ }} are GitHub's). One the team already has is kept."""
    source, target = WORKFLOW
    if not at_top or (root / target).exists():
        return {}
    return {target: (resources.files("labelspec") / "templates" / "common" / source).read_bytes()}


def _digit_sample(rel_dir: str, count: int = 12) -> dict[str, bytes]:
    """A tiny delivery to try the README's Quick start on: 12 real digits (UCI test set), a Label
    Studio export of vendor-a's labels for them, and the map from tool user ids to labelers."""

    vendor = simulate.Vendor("vendor-a", ("vA-01",), 0.97, 0.9, 6.0, 0.04, "labelstudio")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        truth = simulate.write_items(folder / "items", count)
        delivered = dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.UTC)  # after the README's training
        labels = simulate.vendor_labels(vendor, truth, seed=3, start=delivered)
        simulate.write_labelstudio_export(
            labels, folder / "vendor-a.labelstudio.json", {"vA-01": 7}
        )
        (folder / "users.csv").write_text("7,vA-01\n")
        (folder / "README.md").write_text(
            "# A sample delivery\n\nTwelve handwritten digits (`items/`, from the UCI optdigits "
            "test set), vendor-a's labels for them as a Label Studio JSON export, and `users.csv`, "
            "which maps Label Studio user 7 to labeler vA-01. The README's Quick start imports "
            "them; delete this folder when you are done.\n"
        )
        return {
            f"{rel_dir}/{path.relative_to(folder).as_posix()}": path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }


def _shape_images(rel_dir: str) -> dict[str, bytes]:

    out = {}
    for name, (kind, box, fill, seed) in shapes.SCENES.items():
        buffer = io.BytesIO()
        shapes.draw(kind, box, fill, seed).save(buffer, format="PNG", compress_level=9)
        out[f"{rel_dir}/{name}.png"] = buffer.getvalue()
    return out


def init(
    path: Path | str = ".", template: str | None = "classification", remote: str | None = None
) -> InitResult:
    """Create a workspace in ``path``: git (or the enclosing repo), DVC, layout, first commit.

    ``template`` None makes an empty workspace: no guideline, no dataset (``labelspec init
    --empty``). A refused init leaves no folder, file or repository behind."""
    if template is not None and template not in TEMPLATES:
        raise WorkspaceError(f"unknown template {template!r}: choose one of {', '.join(TEMPLATES)}")
    if remote is not None:
        remote = checked_remote(remote)
    root = Path(path).resolve()
    _finish_interrupted(root)
    if (root / CONFIG_NAME).exists():
        raise ConflictError(
            f"{root} is already a labelspec workspace ({CONFIG_NAME} exists); nothing changed"
        )
    made = next((p for p in (*reversed(root.parents), root) if not p.exists()), None)
    root.mkdir(parents=True, exist_ok=True)
    committed = False
    try:
        result = _init_in(root, template, remote)
        committed = True
    finally:
        if not committed and made is not None:  # the folder init made goes with it
            shutil.rmtree(made, ignore_errors=True)
    if "://" not in result.remote_url:  # a convenience: the first `dvc push` makes it too
        Path(result.remote_url).mkdir(parents=True, exist_ok=True)  # (decisions.md)
    return result


def _init_in(root: Path, template: str | None, remote: str | None) -> InitResult:
    enclosing = git_root(root)
    # A folder the enclosing repository ignores (a build/ folder, say) gets a repository of its
    # own: git and DVC could not track a workspace there.
    created_git = enclosing is None or is_ignored(enclosing, root)
    guideline, dataset = TEMPLATES[template] if template else (None, None)
    if not created_git:
        _refuse_shared_repository(root, enclosing, guideline)
    remote_url = remote or str(default_remote(root, None if created_git else enclosing))
    files = _render_files(root, template, remote_url)
    clashes = sorted(rel for rel in files if (root / rel).exists())
    if clashes:
        raise ConflictError(
            f"{root} already has {', '.join(clashes[:5])}{' ...' if len(clashes) > 5 else ''}; "
            "init would overwrite them (choose an empty folder); nothing changed"
        )
    files.update(_workflow(root, created_git or enclosing == root))
    created_dvc = not (root / ".dvc").is_dir()
    git = Git.init(root) if created_git else Git(root)
    git.close()
    ws = Repo(root)
    try:
        if created_dvc:
            Dvc.init(root, subdir=git.top != root).close()
            with Dvc(root) as dvc:
                dvc.set_default_remote("storage", remote_url)
        with transaction(ws, f"labelspec init: {template or EMPTY} workspace") as tx:
            # DVC's files are new to the history when DVC was set up here or by an init
            # killed before its commit
            dvc_files = [root / p for p in (".dvc/config", ".dvc/.gitignore", ".dvcignore")]
            tx.adopt(*(p for p in dvc_files if p.exists() and not tx.git.in_head(p)))
            for rel, content in files.items():
                tx.write_bytes(root / rel, content)
            if guideline:
                tag_written(ws, guideline, tx)
        commit = tx.commit or ""
    except BaseException:
        _undo(root, created_git, created_dvc)
        raise
    return InitResult(
        root=root,
        template=template or EMPTY,
        guideline=guideline,
        dataset=dataset,
        remote_url=remote_url,
        created_git=created_git,
        commit=commit,
        files=sorted(files),
    )


def _refuse_shared_repository(root: Path, top: Path, guideline: str | None) -> None:
    """A workspace sharing its git repository with another (one it would nest in, or one whose
    release tags its template's guideline would collide with) is refused, before anything is
    written: git's tags are per repository."""
    outer = next((p for p in root.parents if (p / CONFIG_NAME).is_file()), None)
    if outer is not None:
        raise ConflictError(
            f"{root} is inside the labelspec workspace {outer}: a workspace in it would share "
            "its git history and release tags. Init outside it, or add a guideline to that "
            "workspace (`labelspec guideline new`); nothing changed"
        )
    if guideline is None:
        return
    with Git(top) as git:
        taken = [name for name, _ in git.tag_refs(tag_name(guideline, ""))]
    if taken:
        raise ConflictError(
            f"the git repository {top} already has the release tag {taken[0]} (another "
            f"workspace in it has a guideline {guideline!r}), and release tags are per "
            "repository: use `labelspec init --empty` and `labelspec guideline new` with another "
            "name, or a repository of its own; nothing changed"
        )


def _finish_interrupted(root: Path) -> list[str]:
    """An init killed mid-write left its journal: undo it (or, past its commit, complete it)
    the way every transaction does, before this init looks at the folder."""
    if not (root / ".labelspec" / JOURNAL).is_file():
        return []
    ws = Repo(root)
    with ws.lock():
        return recover(ws)


def _undo(root: Path, created_git: bool, created_dvc: bool) -> None:
    """Remove the repositories a failed init created (the transaction took back its files)."""
    shutil.rmtree(root / ".labelspec", ignore_errors=True)
    if created_dvc:
        shutil.rmtree(root / ".dvc", ignore_errors=True)
        (root / ".dvcignore").unlink(missing_ok=True)
    if created_git:
        shutil.rmtree(root / ".git", ignore_errors=True)
