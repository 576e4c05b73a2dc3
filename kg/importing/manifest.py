"""The manifest, imports/sources.yaml: which published exports the KG imports, where they come from, under
what licence, where the local copy is and which mapping reads it. A source is configuration, not code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kg.errors import InputError
from kg.importing.engine import InputFile
from kg.importing.mapping import Node, load_yaml
from kg.importing.readers import FORMATS

MANIFEST = Path("imports") / "sources.yaml"
_SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
_ENTRY_KEYS = {"title", "publisher", "licence", "download", "homepage", "mapping", "files", "description"}
_FILE_KEYS = {"path", "format", "delimiter", "encoding"}


@dataclass(frozen=True)
class FileEntry:
    key: str
    path: str                 # as written: relative to the project root
    format: str
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    line: int = 0


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    publisher: str
    licence: str
    download: str
    mapping: str              # relative to the project root
    files: tuple[FileEntry, ...]
    homepage: str = ""
    description: str = ""
    line: int = 0

    def input_files(self, root: Path, override: Path | None = None) -> dict[str, InputFile]:
        """The files to read: the configured copies, or `override` (a newer download, a test file). An override
        that is a directory holds the files under their configured names; a file replaces the source's one
        file."""
        files = {}
        if override is not None and override.is_file() and len(self.files) != 1:
            raise InputError(f"source {self.name!r} reads {len(self.files)} files "
                             f"({', '.join(f.key for f in self.files)}): give a folder that holds them", str(override))
        for f in self.files:
            if override is None:
                path = root / f.path
                display = f.path
            elif override.is_dir():
                path = override / Path(f.path).name
                display = str(path)
            else:
                path = override
                display = str(path)
            files[f.key] = InputFile(path, f.format, display, f.delimiter, f.encoding)
        return files

    def missing(self, root: Path, override: Path | None = None) -> list[str]:
        """Files that are not there, as reports show them; [] when the source can be imported."""
        try:
            files = self.input_files(root, override)
        except InputError as e:
            return [str(e)]
        return [f.display for f in files.values() if not f.path.is_file()]


def load_manifest(root: Path, path: Path | None = None) -> dict[str, Source]:
    """Every source of the manifest, by name. InputError with file:line on a mistake."""
    path = path or root / MANIFEST
    try:
        display = str(path.relative_to(root))
    except ValueError:
        display = str(path)
    doc = load_yaml(path, display)
    if not isinstance(doc, Node) or set(doc) != {"sources"} or not isinstance(doc["sources"], Node):
        raise InputError("the manifest is a mapping with one key, sources: a mapping of source names to entries",
                         f"{display}:{getattr(doc, 'line', 1)}")
    sources = {}
    for name, entry in doc["sources"].items():
        where = f"{display}:{doc['sources'].line_of(name)}"
        if not isinstance(name, str) or not _SOURCE_NAME.fullmatch(name):
            raise InputError(f"source name {name!r}: lower case letters, digits and '-'", where)
        if not isinstance(entry, Node):
            raise InputError(f"source {name!r}: expected a mapping of {', '.join(sorted(_ENTRY_KEYS))}", where)
        for key in entry:
            if key not in _ENTRY_KEYS:
                raise InputError(f"source {name!r}: unknown key {key!r} (expected one of "
                                 f"{', '.join(sorted(_ENTRY_KEYS))})", f"{display}:{entry.line_of(key)}")
        for key in ("title", "publisher", "licence", "download", "mapping", "files"):
            if not entry.get(key):
                raise InputError(f"source {name!r}: missing {key!r}", f"{display}:{entry.line}")
        if not str(entry["download"]).startswith(("http://", "https://")):
            raise InputError(f"source {name!r}: download must be an http(s) address",
                             f"{display}:{entry.line_of('download')}")
        files = entry["files"]
        if not isinstance(files, Node):
            raise InputError(f"source {name!r}: files is a mapping of file keys to path and format",
                             f"{display}:{entry.line_of('files')}")
        entries = []
        for key, f in files.items():
            fwhere = f"{display}:{files.line_of(key)}"
            if not isinstance(f, Node):
                raise InputError(f"file {key!r}: expected path and format", fwhere)
            for k in f:
                if k not in _FILE_KEYS:
                    raise InputError(f"file {key!r}: unknown key {k!r} (expected one of {', '.join(sorted(_FILE_KEYS))})",
                                     f"{display}:{f.line_of(k)}")
            if not f.get("path") or f.get("format") not in FORMATS:
                raise InputError(f"file {key!r}: needs a path and a format, one of {', '.join(FORMATS)}", fwhere)
            delimiter = str(f.get("delimiter", ","))
            if len(delimiter) != 1:
                raise InputError(f"file {key!r}: the delimiter is one character, found {delimiter!r}",
                                 f"{display}:{f.line_of('delimiter')}")
            encoding = str(f.get("encoding", "utf-8-sig"))
            try:
                "".encode(encoding)
            except LookupError:
                raise InputError(f"file {key!r}: unknown encoding {encoding!r}",
                                 f"{display}:{f.line_of('encoding')}") from None
            entries.append(FileEntry(str(key), str(f["path"]), f["format"], delimiter, encoding, f.line))
        sources[name] = Source(name, str(entry["title"]), str(entry["publisher"]), str(entry["licence"]),
                               str(entry["download"]), str(entry["mapping"]), tuple(entries),
                               str(entry.get("homepage") or ""), str(entry.get("description") or ""), entry.line)
    return sources
