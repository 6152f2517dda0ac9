"""Data model engine of a simulated CPE: a shared default tree plus per-device overrides.

A `Tree` is compiled once per flavour (TR-181 ``Device.``, TR-098 ``InternetGatewayDevice.``)
from a compact declaration and never changes afterwards, so ten thousand devices share it.
Each device owns a `DataModel`, which keeps only what differs from that tree: changed values,
added and deleted table instances, parameter attributes. Per-device factory values (serial
number, MAC addresses, credentials...) are not stored at all: defaults may contain
``{field}`` placeholders that are filled from the device's identity when read.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

STRING = "xsd:string"
UINT = "xsd:unsignedInt"
INT = "xsd:int"
ULONG = "xsd:unsignedLong"
LONG = "xsd:long"
BOOL = "xsd:boolean"
DATETIME = "xsd:dateTime"
BASE64 = "xsd:base64"

# CWMP fault codes the data model raises; the device turns them into SOAP faults.
INVALID_ARGUMENTS = 9003
RESOURCES_EXCEEDED = 9004
INVALID_NAME = 9005
INVALID_VALUE = 9007
NOT_WRITABLE = 9008
NOTIFICATION_REJECTED = 9009

_RANGES = {
    UINT: (0, 2**32 - 1),
    INT: (-(2**31), 2**31 - 1),
    ULONG: (0, 2**64 - 1),
    LONG: (-(2**63), 2**63 - 1),
}
_BOOLS = frozenset({"true", "false", "1", "0"})
_DIGITS = re.compile(r"^\d+$")


class ModelFault(Exception):
    """A CWMP fault raised by a data model operation (code is a 9xxx CPE fault code)."""

    def __init__(self, code: int, message: str, name: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.name = name


# --------------------------------------------------------------------------- node kinds


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of the shared tree: its type, access and factory default."""

    type: str = STRING
    writable: bool = False
    default: str = ""
    secret: bool = False  # passwords and keys: read back as "" (TR-069 A.3.2.1)
    dynamic: str | None = None  # computed at read time by the device (UpTime, counts...)
    enum: tuple[str, ...] | None = None
    max_len: int | None = None
    min: int | None = None
    max: int | None = None
    notify: bool = True  # False: active notification is refused with 9009 (fast-changing)

    @property
    def templated(self) -> bool:
        return "{" in self.default


@dataclass(frozen=True, slots=True)
class Obj:
    """One object of the shared tree (path ends with '.')."""

    table: bool = False  # a multi-instance table such as ``Device.NAT.PortMapping.``
    instance: bool = False  # one row of a table such as ``Device.NAT.PortMapping.1.``
    writable: bool = False  # table: AddObject allowed; instance: DeleteObject allowed
    max_entries: int | None = None


Node = Param | Obj


# --------------------------------------------------------------------------- declarations
# The flavour modules declare their trees with these three helpers.


@dataclass(frozen=True, slots=True)
class _PDecl:
    name: str
    param: Param


@dataclass(frozen=True, slots=True)
class _ODecl:
    name: str
    children: tuple[Decl, ...]


@dataclass(frozen=True, slots=True)
class _TDecl:
    name: str
    template: tuple[Decl, ...]
    instances: tuple[Row, ...]
    writable: bool
    max_entries: int | None
    count: str | None  # name of the sibling NumberOfEntries parameter


Decl = _PDecl | _ODecl | _TDecl
# A factory row: relative parameter name -> value, or nested table name -> its rows.
Row = Mapping[str, "str | Sequence[Row]"]


def P(name: str, default: str = "", type: str = STRING, *, w: bool = False, **kw: object) -> Decl:
    """Declare a parameter (relative name, default, xsd type, writable, Param options)."""
    return _PDecl(name, Param(type=type, writable=w, default=default, **kw))  # type: ignore[arg-type]


def O(name: str, *children: Decl) -> Decl:  # noqa: E743 - reads like the tree it declares
    """Declare a single-instance object with its children."""
    return _ODecl(name, tuple(children))


def T(
    name: str,
    template: Sequence[Decl],
    instances: int | Sequence[Row] = 0,
    *,
    w: bool = False,
    max_entries: int | None = None,
    count: bool | str = True,
) -> Decl:
    """Declare a table: the parameters of each row, the factory rows (a count, or a list of
    per-row overrides keyed by relative parameter name, nested tables' rows keyed by the nested
    table's name), and whether the ACS may add/delete rows. ``count`` adds the sibling
    ``<Name>NumberOfEntries`` parameter (a string names it differently, False omits it).
    New rows made by AddObject get the template's defaults."""
    rows = tuple({} for _ in range(instances)) if isinstance(instances, int) else tuple(instances)
    count_name = (name + "NumberOfEntries" if count is True else count) or None
    return _TDecl(name, tuple(template), rows, w, max_entries, count_name)


# --------------------------------------------------------------------------- the shared tree


def schema_key(path: str) -> str:
    """``Device.IP.Interface.3.IPv4Address.1.`` -> ``Device.IP.Interface.{i}.IPv4Address.{i}.``"""
    return ".".join("{i}" if _DIGITS.match(s) else s for s in path.split("."))


@dataclass(slots=True)
class Tree:
    """The immutable default data model of one flavour, shared by all its devices."""

    flavour: str
    root: str
    nodes: dict[str, Node]
    # row template of each table, keyed by the table's schema path + "{i}.", relative names
    templates: dict[str, dict[str, Node]]
    inform_params: tuple[str, ...] = ()


def compile_tree(flavour: str, root: Decl, inform_params: Sequence[str] = ()) -> Tree:
    """Turn a declaration into a `Tree`. Row templates are kept so AddObject can copy them;
    a nested table in a template gets its declared rows (fixed rows such as WEPKey.1-4), but
    not the rows that factory rows spell out for it."""
    nodes: dict[str, Node] = {}
    templates: dict[str, dict[str, Node]] = {}

    def emit(out: dict[str, Node], prefix: str, decl: Decl, skey: str) -> None:
        if isinstance(decl, _PDecl):
            out[prefix + decl.name] = decl.param
        elif isinstance(decl, _ODecl):
            path = prefix + decl.name + "."
            out[path] = Obj()
            for child in decl.children:
                emit(out, path, child, skey + decl.name + ".")
        else:
            table_path = prefix + decl.name + "."
            tkey = skey + decl.name + "."
            table = Obj(table=True, writable=decl.writable, max_entries=decl.max_entries)
            row_obj = Obj(instance=True, writable=decl.writable)
            if tkey + "{i}." not in templates:
                tmpl: dict[str, Node] = {"": row_obj}
                for child in decl.template:
                    emit(tmpl, "", child, tkey + "{i}.")
                templates[tkey + "{i}."] = tmpl
            if decl.count:
                out[prefix + decl.count] = Param(UINT, dynamic="count:" + decl.name, notify=False)
            out[table_path] = table
            for number, overrides in enumerate(decl.instances, start=1):
                row = f"{table_path}{number}."
                out[row] = row_obj
                for child in decl.template:
                    if isinstance(child, _TDecl) and child.name in overrides:
                        nested = overrides[child.name]
                        child = dataclasses.replace(child, instances=tuple(nested))  # type: ignore[arg-type]
                    emit(out, row, child, tkey + "{i}.")
                for rel, value in overrides.items():
                    if not isinstance(value, str):
                        continue  # nested rows, emitted above
                    node = out.get(row + rel)
                    if not isinstance(node, Param):
                        raise ValueError(f"{flavour}: row override for unknown {row + rel}")
                    out[row + rel] = dataclasses.replace(node, default=value)

    if not isinstance(root, _ODecl):
        raise TypeError("the root of a tree must be an object")
    emit(nodes, "", root, "")
    tree = Tree(flavour, root.name + ".", nodes, templates, tuple(inform_params))
    for path in inform_params:
        if not isinstance(nodes.get(path), Param):
            raise ValueError(f"{flavour}: {path} is not a parameter of the tree")
    return tree


# --------------------------------------------------------------------------- validation


def check_value(param: Param, value: str) -> str | None:
    """Why ``value`` is not acceptable for ``param`` (None when it is)."""
    kind = param.type
    if kind in _RANGES:
        try:
            number = int(value.strip())
        except ValueError:
            return f"not an integer for {kind}"
        low, high = _RANGES[kind]
        if param.min is not None:
            low = max(low, param.min)
        if param.max is not None:
            high = min(high, param.max)
        if not low <= number <= high:
            return f"out of range [{low}, {high}]"
    elif kind == BOOL:
        if value.strip().lower() not in _BOOLS:
            return "not a boolean"
    elif kind == DATETIME:
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            datetime.fromisoformat(text)
        except ValueError:
            return "not an ISO 8601 dateTime"
    elif kind == BASE64:
        try:
            base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            return "not base64"
    if param.enum is not None and value not in param.enum:
        return "not one of " + ", ".join(param.enum)
    if param.max_len is not None and len(value) > param.max_len:
        return f"longer than {param.max_len} characters"
    return None


def parse_bool(value: str) -> bool:
    return value.strip().lower() in ("true", "1")


# --------------------------------------------------------------------------- per-device model

DynamicFn = Callable[[str, str], str]


class DataModel:
    """One device's view of a shared `Tree`: copy-on-write values, rows and attributes.

    ``identity`` fills ``{placeholders}`` of templated defaults; ``dynamic`` computes the
    value of parameters declared ``dynamic=`` (except row counts, computed here).
    """

    __slots__ = ("tree", "identity", "dynamic", "_values", "_added", "_deleted", "_next", "_attrs")

    def __init__(
        self, tree: Tree, identity: Mapping[str, str], dynamic: DynamicFn | None = None
    ) -> None:
        self.tree = tree
        self.identity = identity
        self.dynamic = dynamic
        # All four start as None: most devices never change most of them, and an empty
        # dict still costs ~64 bytes times 10,000 devices.
        self._values: dict[str, str] | None = None
        self._added: dict[str, str] | None = None  # row path -> template key
        self._deleted: set[str] | None = None  # factory rows deleted by the ACS
        self._next: dict[str, int] | None = None  # table path -> last instance number used
        self._attrs: dict[str, tuple[int, tuple[str, ...]]] | None = None

    # ---- lookup

    def _is_deleted(self, path: str) -> bool:
        deleted = self._deleted
        if not deleted:
            return False
        end = path.find(".")
        while end != -1:
            if path[: end + 1] in deleted:
                return True
            end = path.find(".", end + 1)
        return False

    def _added_row(self, path: str) -> tuple[str, str] | None:
        """The longest added row containing ``path``: (row path, template key)."""
        added = self._added
        if not added:
            return None
        best: tuple[str, str] | None = None
        for row, key in added.items():
            if path.startswith(row) and (best is None or len(row) > len(best[0])):
                best = (row, key)
        return best

    def node(self, path: str) -> Node | None:
        """The definition of ``path`` if this device has it, else None."""
        if self._is_deleted(path):
            return None
        found = self.tree.nodes.get(path)
        if found is not None:
            return found
        hit = self._added_row(path)
        if hit is None:
            return None
        row, key = hit
        return self.tree.templates[key].get(path[len(row) :])

    def param(self, path: str) -> Param:
        """The parameter at ``path``; ModelFault 9005 if there is none."""
        node = self.node(path)
        if not isinstance(node, Param):
            raise ModelFault(INVALID_NAME, f"Invalid parameter name {path!r}", path)
        return node

    def exists(self, path: str) -> bool:
        return self.node(path) is not None

    def iter_nodes(self, prefix: str = "") -> Iterator[tuple[str, Node]]:
        """Every node whose path starts with ``prefix``, factory rows before added ones."""
        for path, node in self.tree.nodes.items():
            if path.startswith(prefix) and not self._is_deleted(path):
                yield path, node
        if self._added:
            for row, key in list(self._added.items()):
                if not (row.startswith(prefix) or prefix.startswith(row)):
                    continue
                for rel, node in self.tree.templates[key].items():
                    path = row + rel
                    if path.startswith(prefix) and not self._is_deleted(path):
                        yield path, node

    # ---- values

    def get(self, path: str) -> str:
        """The real value of a parameter (secrets included); ModelFault 9005 if absent."""
        param = self.param(path)
        return self._value(path, param)

    def _value(self, path: str, param: Param) -> str:
        if param.dynamic is not None:
            if param.dynamic.startswith("count:"):
                table = path[: path.rfind(".") + 1] + param.dynamic[6:] + "."
                return str(len(self.instances(table)))
            if self.dynamic is not None:
                return self.dynamic(param.dynamic, path)
        values = self._values
        if values is not None and path in values:
            return values[path]
        if param.templated:
            return param.default.format_map(self.identity)
        return param.default

    def read(self, path: str) -> tuple[str, str]:
        """(value, xsd type) as the ACS sees it: secrets read back as ""."""
        param = self.param(path)
        return ("" if param.secret else self._value(path, param)), param.type

    def set(self, path: str, value: str) -> None:
        """Store a value without access checks (device-internal changes)."""
        self.param(path)
        if self._values is None:
            self._values = {}
        self._values[path] = value

    def get_or(self, path: str, default: str) -> str:
        try:
            return self.get(path)
        except ModelFault:
            return default

    def validate_set(self, path: str, value: str) -> tuple[int, str] | None:
        """Fault (code, text) that setting ``path`` from the ACS would raise, else None."""
        node = self.node(path)
        if not isinstance(node, Param):
            return INVALID_NAME, "Invalid parameter name"
        if not node.writable:
            return NOT_WRITABLE, "Attempt to set a non-writable parameter"
        why = check_value(node, value)
        if why is not None:
            return INVALID_VALUE, f"Invalid parameter value: {why}"
        return None

    # ---- names

    def names(self, path: str, next_level: bool) -> list[tuple[str, bool]]:
        """GetParameterNames semantics (TR-069 A.3.2.3): (name, writable) pairs."""
        if path == "":
            if next_level:
                return [(self.tree.root, False)]
            path = self.tree.root
        node = self.node(path)
        if node is None:
            raise ModelFault(INVALID_NAME, f"Invalid parameter name {path!r}", path)
        if isinstance(node, Param):
            if next_level:
                raise ModelFault(INVALID_ARGUMENTS, "NextLevel true with a parameter name")
            return [(path, node.writable)]
        if not path.endswith("."):
            raise ModelFault(INVALID_NAME, f"Invalid parameter name {path!r}", path)
        result: list[tuple[str, bool]] = []
        depth = len(path)
        for name, child in self.iter_nodes(path):
            if next_level:
                rest = name[depth:]
                if rest == "" or "." in rest.rstrip("."):
                    continue
            result.append((name, child.writable))
        return result

    def params_under(self, path: str) -> list[str]:
        """GetParameterValues/Attributes name expansion: a parameter or all under an object."""
        if path == "":
            path = self.tree.root
        node = self.node(path)
        if node is None or (isinstance(node, Obj) != path.endswith(".")):
            raise ModelFault(INVALID_NAME, f"Invalid parameter name {path!r}", path)
        if isinstance(node, Param):
            return [path]
        return [name for name, child in self.iter_nodes(path) if isinstance(child, Param)]

    # ---- tables

    def instances(self, table_path: str) -> list[int]:
        """Instance numbers currently present in a table."""
        depth = len(table_path)
        numbers = []
        for path, node in self.iter_nodes(table_path):
            if isinstance(node, Obj) and node.instance and path.count(".", depth) == 1:
                numbers.append(int(path[depth:-1]))
        return numbers

    def add_object(self, table_path: str) -> int:
        """AddObject: a new row with the template's default values; returns its number."""
        table = self.node(table_path)
        if not (isinstance(table, Obj) and table.table and table_path.endswith(".")):
            raise ModelFault(INVALID_NAME, f"{table_path!r} is not a table", table_path)
        if not table.writable:
            raise ModelFault(INVALID_NAME, f"{table_path!r} does not allow AddObject", table_path)
        existing = self.instances(table_path)
        if table.max_entries is not None and len(existing) >= table.max_entries:
            raise ModelFault(RESOURCES_EXCEEDED, f"{table_path} is full")
        if self._next is None:
            self._next = {}
        # Numbers are never reused while the device runs, as TR-069 recommends.
        number = max(self._next.get(table_path, 0), max(existing, default=0)) + 1
        self._next[table_path] = number
        if self._added is None:
            self._added = {}
        self._added[f"{table_path}{number}."] = schema_key(table_path) + "{i}."
        return number

    def delete_object(self, row_path: str) -> None:
        """DeleteObject: remove a row with everything below it."""
        node = self.node(row_path)
        if not (isinstance(node, Obj) and node.instance and row_path.endswith(".")):
            raise ModelFault(INVALID_NAME, f"{row_path!r} is not a table row", row_path)
        if not node.writable:
            raise ModelFault(INVALID_NAME, f"{row_path!r} does not allow DeleteObject", row_path)
        # Remember the number so a later AddObject does not hand it out again.
        table_path, number = row_path[:-1].rsplit(".", 1)
        if self._next is None:
            self._next = {}
        self._next[table_path + "."] = max(self._next.get(table_path + ".", 0), int(number))
        own_row = bool(self._added) and row_path in self._added  # type: ignore[operator]
        if self._added:
            for row in [r for r in self._added if r.startswith(row_path)]:
                del self._added[row]
        if not own_row:
            # A factory row, or a fixed row inside an added one: hide it and all below.
            if self._deleted is None:
                self._deleted = set()
            self._deleted.add(row_path)
        for store in (self._values, self._attrs):
            if store:
                for key in [k for k in store if k.startswith(row_path)]:
                    del store[key]

    # ---- attributes

    def get_attributes(self, path: str) -> tuple[int, tuple[str, ...]]:
        """(notification, access list) of a parameter."""
        self.param(path)
        if self._attrs and path in self._attrs:
            return self._attrs[path]
        return 0, ()

    def set_attributes(
        self, path: str, notification: int | None, access_list: Sequence[str] | None
    ) -> None:
        current = self.get_attributes(path)
        new = (
            current[0] if notification is None else notification,
            current[1] if access_list is None else tuple(access_list),
        )
        if self._attrs is None:
            self._attrs = {}
        if new == (0, ()):
            self._attrs.pop(path, None)
        else:
            self._attrs[path] = new

    def notifying(self) -> Iterator[tuple[str, int]]:
        """Parameters with passive (1) or active (2) notification."""
        if self._attrs:
            for path, (notification, _acl) in self._attrs.items():
                if notification:
                    yield path, notification

    # ---- lifecycle

    def reset(self) -> None:
        """Factory reset: drop every override so the shared defaults show through."""
        self._values = self._added = self._deleted = self._next = self._attrs = None

    def override_count(self) -> int:
        """How much this device differs from the shared tree (for memory diagnostics)."""
        return sum(len(s) for s in (self._values, self._added, self._deleted, self._attrs) if s)
