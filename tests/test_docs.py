"""The documentation builds as a site (MkDocs, pinned in requirements-test.txt) with warnings as
errors: every page in the nav, no broken internal link, no link to a missing anchor."""

import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def build(root, site):
    """``mkdocs build --strict`` of ``root/mkdocs.yml`` into ``site``: the finished process."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(root / "mkdocs.yml"),
         "--site-dir", str(site)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_docs_build_strict_with_every_page_in_the_nav(tmp_path):
    done = build(ROOT, tmp_path / "site")
    assert done.returncode == 0, done.stderr[-3000:]
    pages = sorted(p.stem for p in (ROOT / "docs").glob("*.md"))
    built = sorted(p.parent.name for p in (tmp_path / "site").glob("*/index.html")) + ["index"]
    assert sorted(built) == pages  # omitted_files: warn makes a page outside the nav fail the build too
    assert "ImageClassifier" in (tmp_path / "site" / "inputs" / "index.html").read_text()


def test_a_broken_internal_link_fails_the_build(tmp_path):
    """The same configuration on a copy of the pages with one link to a page that does not exist."""
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    page = tmp_path / "docs" / "inputs.md"
    page.write_text(page.read_text() + "\nSee [the old page](no_such_page.md).\n")
    done = build(tmp_path, tmp_path / "site")
    assert done.returncode != 0
    assert "no_such_page.md" in done.stderr and "not found among documentation files" in done.stderr
