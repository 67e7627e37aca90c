"""Load a Terraform root module (every ``*.tf``, and local modules) with python-hcl2.

python-hcl2 gives blocks as lists of dicts (marked ``__is_block__``) and every
expression as its source text (``"${local.jobs}"``). ``Module.evaluate`` evaluates the
small part of the expression language the checks need (literals, ``local.*``,
``var.*`` defaults, ``each.*``, ``count.index``, ``path.module``, for expressions,
conditionals and the usual collection and string functions); anything else (a
resource attribute, an unknown function) raises ``Unresolvable``, which the checks turn
into a problem: a check never passes on something it could not read.
``Module.render`` is the lenient form for strings: what cannot be evaluated stays as
its ``${...}`` source text (a URI naming another resource's attribute, say).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import hcl2
from hcl2 import SerializationOptions

META_ARGUMENTS = frozenset({"count", "for_each", "depends_on", "lifecycle", "provider"})
BLOCK_MARKER = "__is_block__"

_OPTIONS = SerializationOptions(
    with_comments=False, strip_string_quotes=True, preserve_heredocs=False
)


class Unresolvable(Exception):
    """An expression the static evaluator cannot compute."""


def unquote(key: str) -> str:
    if len(key) >= 2 and key[0] == key[-1] == '"':
        return key[1:-1]
    return key


def is_block(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) and item.get(BLOCK_MARKER) for item in value)
    )


def is_dynamic(value: Any) -> bool:
    """``dynamic "x" {...}`` blocks: python-hcl2 gives a list of ``{"x": {...}}``."""
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) for i in value)


def body_items(body: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for key, value in body.items():
        if key != BLOCK_MARKER and not key.startswith("__"):
            yield unquote(key), value


@dataclass
class Resource:
    mode: str  # "resource" or "data"
    type: str
    name: str
    body: dict[str, Any]
    file: str

    @property
    def address(self) -> str:
        prefix = "data." if self.mode == "data" else ""
        return f"{prefix}{self.type}.{self.name}"


@dataclass
class Instance:
    """One instance of a resource: its key (for_each) or index (count), and the
    ``each``/``count`` scope its expressions are evaluated in."""

    resource: Resource
    key: Any
    scope: dict[str, Any]

    @property
    def address(self) -> str:
        if self.key is None:
            return self.resource.address
        return f"{self.resource.address}[{json.dumps(self.key)}]"


@dataclass
class Module:
    root: Path
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[str, dict[str, Resource]] = field(default_factory=dict)
    data: dict[str, dict[str, Resource]] = field(default_factory=dict)
    locals_raw: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    terraform_blocks: list[dict[str, Any]] = field(default_factory=list)
    modules: dict[str, Module] = field(default_factory=dict)
    _locals: dict[str, Any] = field(default_factory=dict)
    _evaluating: set[str] = field(default_factory=set)

    # -- lookups -----------------------------------------------------------------------

    def all_resources(self) -> Iterator[Resource]:
        for by_name in self.resources.values():
            yield from by_name.values()
        for module in self.modules.values():
            yield from module.all_resources()

    def all_data(self) -> Iterator[Resource]:
        for by_name in self.data.values():
            yield from by_name.values()
        for module in self.modules.values():
            yield from module.all_data()

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.all_resources() if r.type == type_]

    def local(self, name: str) -> Any:
        if name in self._locals:
            return self._locals[name]
        if name not in self.locals_raw:
            raise Unresolvable(f"local.{name} is not defined")
        if name in self._evaluating:
            raise Unresolvable(f"local.{name} refers to itself")
        self._evaluating.add(name)
        try:
            value = self.evaluate(self.locals_raw[name])
        finally:
            self._evaluating.discard(name)
        self._locals[name] = value
        return value

    def variable(self, name: str) -> Any:
        spec = self.variables.get(name)
        if spec is None:
            raise Unresolvable(f"var.{name} is not declared")
        if "default" not in spec:
            raise Unresolvable(f"var.{name} has no default")
        return self.evaluate(spec["default"])

    # -- instances -----------------------------------------------------------------------

    def instances(self, resource: Resource) -> list[Instance]:
        """Expand for_each / count; raises Unresolvable when they cannot be computed."""
        body = resource.body
        if "for_each" in body:
            try:
                collection = self.evaluate(body["for_each"])
            except Unresolvable as exc:
                raise Unresolvable(
                    f"{resource.file}: {resource.address}: cannot resolve for_each "
                    f"{body['for_each']!r} statically ({exc})"
                ) from exc
            if isinstance(collection, dict):
                pairs = list(collection.items())
            elif isinstance(collection, list):
                pairs = [(item, item) for item in collection]
            else:
                raise Unresolvable(
                    f"{resource.file}: {resource.address}: for_each is neither a map nor a set"
                )
            return [
                Instance(resource, key, {"each": {"key": key, "value": value}})
                for key, value in pairs
            ]
        if "count" in body:
            count = self.evaluate(body["count"])
            if not isinstance(count, int):
                raise Unresolvable(f"{resource.address}: count is not a number")
            return [Instance(resource, i, {"count": {"index": i}}) for i in range(count)]
        return [Instance(resource, None, {})]

    # -- evaluation ----------------------------------------------------------------------

    def evaluate(self, value: Any, scope: dict[str, Any] | None = None) -> Any:
        scope = scope or {}
        if isinstance(value, str):
            return _Template(value).evaluate(self, scope)
        if isinstance(value, list):
            return [self.evaluate(item, scope) for item in value]
        if isinstance(value, dict):
            return {
                unquote(k): self.evaluate(v, scope) for k, v in value.items() if k != BLOCK_MARKER
            }
        return value

    def text(self, value: Any, scope: dict[str, Any] | None = None) -> str:
        """The value as a string (a reference as ``${...}``); raises Unresolvable."""
        result = self.evaluate(value, scope)
        if isinstance(result, str | Ref):
            return str(result)
        if result is None:
            raise Unresolvable("null")
        return json.dumps(result)

    def nested(
        self, body: dict[str, Any], name: str, scope: dict[str, Any]
    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The nested blocks ``name`` of a body with the scope to evaluate each in: the
        static ones, and one per element of each ``dynamic "name"`` block (raises
        Unresolvable when a dynamic block's for_each cannot be computed)."""
        found: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for key, value in body_items(body):
            if key == name and is_block(value):
                found.extend((item, scope) for item in value)
            elif key == "dynamic" and is_dynamic(value):
                for dyn in value:
                    for label, spec in body_items(dyn):
                        if label != name or not isinstance(spec, dict):
                            continue
                        iterator = str(spec.get("iterator", label))
                        collection = self.evaluate(spec.get("for_each"), scope)
                        pairs = (
                            list(collection.items())
                            if isinstance(collection, dict)
                            else [(v, v) for v in collection]
                            if isinstance(collection, list)
                            else None
                        )
                        if pairs is None:
                            raise Unresolvable(f"dynamic {label}: for_each is not a collection")
                        for k, v in pairs:
                            inner = {**scope, iterator: {"key": k, "value": v}}
                            found.extend((content, inner) for content in spec.get("content", []))
        return found

    def render(self, value: Any, scope: dict[str, Any] | None = None) -> str:
        """A string with what can be evaluated substituted, the rest left as ``${...}``."""
        if not isinstance(value, str):
            return json.dumps(self.evaluate(value, scope))
        return _Template(value).render(self, scope or {})


# -- loading -------------------------------------------------------------------------------


def parse_file(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        parsed: dict[str, Any] = hcl2.load(handle, serialization_options=_OPTIONS)
    return parsed


def load_module(root: Path, *, label: str = "") -> Module:
    module = Module(root=root)
    for path in sorted(root.glob("*.tf")):
        rel = f"{label}{path.name}"
        parsed = parse_file(path)
        module.files[rel] = parsed
        for kind in ("resource", "data"):
            target = module.resources if kind == "resource" else module.data
            for block in parsed.get(kind, []):
                for type_, named in body_items(block):
                    for name, body in body_items(named):
                        target.setdefault(type_, {})[name] = Resource(kind, type_, name, body, rel)
        for block in parsed.get("locals", []):
            for name, value in body_items(block):
                module.locals_raw[name] = value
        for block in parsed.get("variable", []):
            for name, spec in body_items(block):
                module.variables[name] = dict(body_items(spec))
        module.terraform_blocks.extend(parsed.get("terraform", []))
        for block in parsed.get("module", []):
            for name, spec in body_items(block):
                source = spec.get("source")
                if isinstance(source, str) and source.startswith(("./", "../")):
                    sub = (root / source).resolve()
                    module.modules[name] = load_module(sub, label=f"{label}{source}/")
    return module


# -- expressions -----------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<ellipsis>\.\.\.)
  | (?P<op>==|!=|<=|>=|&&|\|\||=>|[-+*/%<>!?:.,\[\](){}=])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_-]*)
  """,
    re.VERBOSE,
)


def _scan_string(text: str, start: int) -> int:
    """The index just past the closing quote of the string opening at ``start``."""
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            return i + 1
        if text.startswith("${", i) or text.startswith("%{", i):
            i = _scan_braces(text, i + 1)
            continue
        i += 1
    raise Unresolvable(f"unterminated string in {text!r}")


def _scan_braces(text: str, start: int) -> int:
    """The index just past the ``}`` matching the ``{`` at ``start``."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == '"':
            i = _scan_string(text, i)
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise Unresolvable(f"unbalanced braces in {text!r}")


class _Template:
    """String content (without the quotes): literal parts and ``${expr}`` parts."""

    _ESCAPES: ClassVar[dict[str, str]] = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}

    def __init__(self, text: str) -> None:
        self.parts: list[tuple[bool, str]] = []  # (is_expression, text)
        literal: list[str] = []
        i = 0
        while i < len(text):
            if text.startswith("$${", i) or text.startswith("%%{", i):
                literal.append(text[i + 1 : i + 3])
                i += 3
            elif text.startswith("${", i):
                end = _scan_braces(text, i + 1)
                if literal:
                    self.parts.append((False, "".join(literal)))
                    literal = []
                self.parts.append((True, text[i + 2 : end - 1]))
                i = end
            elif text.startswith("%{", i):
                raise Unresolvable(f"template directives are not supported: {text!r}")
            elif text[i] == "\\" and i + 1 < len(text) and text[i + 1] in self._ESCAPES:
                literal.append(self._ESCAPES[text[i + 1]])
                i += 2
            else:
                literal.append(text[i])
                i += 1
        if literal:
            self.parts.append((False, "".join(literal)))

    def evaluate(self, module: Module, scope: dict[str, Any]) -> Any:
        if len(self.parts) == 1 and self.parts[0][0]:
            return _Parser(self.parts[0][1]).parse().evaluate(module, scope)
        out: list[str] = []
        for is_expr, text in self.parts:
            if is_expr:
                out.append(_to_string(_Parser(text).parse().evaluate(module, scope)))
            else:
                out.append(text)
        return "".join(out)

    def render(self, module: Module, scope: dict[str, Any]) -> str:
        out: list[str] = []
        for is_expr, text in self.parts:
            if not is_expr:
                out.append(text)
                continue
            try:
                out.append(_to_string(_Parser(text).parse().evaluate(module, scope)))
            except Unresolvable:
                out.append("${" + text + "}")
        return "".join(out)


def _to_string(value: Any) -> str:
    if isinstance(value, Ref):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise Unresolvable(f"cannot interpolate {type(value).__name__} into a string")


@dataclass
class _Node:
    kind: str
    args: tuple[Any, ...]

    def evaluate(self, module: Module, scope: dict[str, Any]) -> Any:
        return _EVALUATORS[self.kind](self, module, scope)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str]] = []
        i = 0
        while i < len(text):
            if text[i] == '"':
                end = _scan_string(text, i)
                self.tokens.append(("string", text[i + 1 : end - 1]))
                i = end
                continue
            if text.startswith("<<", i):
                raise Unresolvable(f"heredoc inside an expression: {text!r}")
            match = _TOKEN.match(text, i)
            if not match:
                raise Unresolvable(f"cannot read expression {text!r}")
            kind = match.lastgroup or ""
            if kind != "ws":
                self.tokens.append((kind, match.group()))
            i = match.end()
        self.pos = 0

    # token helpers
    def peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else ("eof", "")

    def accept(self, value: str) -> bool:
        kind, text = self.peek()
        if kind in {"op", "ellipsis"} and text == value:
            self.pos += 1
            return True
        return False

    def expect(self, value: str) -> None:
        if not self.accept(value):
            raise Unresolvable(f"expected {value!r} in {self.text!r}, got {self.peek()[1]!r}")

    def parse(self) -> _Node:
        node = self.expression()
        if self.peek()[0] != "eof":
            raise Unresolvable(f"cannot read expression {self.text!r}")
        return node

    def expression(self) -> _Node:
        condition = self.binary(0)
        if self.accept("?"):
            yes = self.expression()
            self.expect(":")
            no = self.expression()
            return _Node("cond", (condition, yes, no))
        return condition

    _LEVELS = (("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%"))

    def binary(self, level: int) -> _Node:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while True:
            kind, text = self.peek()
            if kind == "op" and text in self._LEVELS[level]:
                self.pos += 1
                right = self.binary(level + 1)
                left = _Node("binop", (text, left, right))
            else:
                return left

    def unary(self) -> _Node:
        if self.accept("!"):
            return _Node("not", (self.unary(),))
        if self.accept("-"):
            return _Node("neg", (self.unary(),))
        return self.postfix(self.primary())

    def postfix(self, node: _Node) -> _Node:
        while True:
            if self.accept("."):
                kind, text = self.peek()
                if kind in {"ident", "number"}:
                    self.pos += 1
                    node = _Node("attr", (node, text))
                elif self.accept("*"):
                    node = _Node("splat", (node,))
                else:
                    raise Unresolvable(f"cannot read {self.text!r}")
            elif self.peek() == ("op", "[") and self.peek(1) == ("op", "*"):
                self.pos += 2
                self.expect("]")
                node = _Node("splat", (node,))
            elif self.accept("["):
                index = self.expression()
                self.expect("]")
                node = _Node("index", (node, index))
            else:
                return node

    def primary(self) -> _Node:
        kind, text = self.peek()
        self.pos += 1
        if kind == "number":
            number = float(text) if any(c in text for c in ".eE") else int(text)
            return _Node("literal", (number,))
        if kind == "string":
            return _Node("template", (_Template(text),))
        if kind == "ident":
            if text in {"true", "false"}:
                return _Node("literal", (text == "true",))
            if text == "null":
                return _Node("literal", (None,))
            if self.accept("("):
                args: list[_Node] = []
                expand = False
                while not self.accept(")"):
                    args.append(self.expression())
                    if self.accept("..."):
                        expand = True
                    if not self.accept(","):
                        self.expect(")")
                        break
                return _Node("call", (text, tuple(args), expand))
            return _Node("name", (text,))
        if kind == "op" and text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if kind == "op" and text == "[":
            if self.peek() == ("ident", "for"):
                return self.for_expression("]")
            items: list[_Node] = []
            while not self.accept("]"):
                items.append(self.expression())
                if not self.accept(","):
                    self.expect("]")
                    break
            return _Node("tuple", tuple(items))
        if kind == "op" and text == "{":
            if self.peek() == ("ident", "for"):
                return self.for_expression("}")
            pairs: list[tuple[_Node, _Node]] = []
            while not self.accept("}"):
                key_kind, key_text = self.peek()
                if key_kind == "ident" and self.peek(1) in {("op", "="), ("op", ":")}:
                    self.pos += 1
                    key: _Node = _Node("literal", (key_text,))
                else:
                    key = self.expression()
                if not (self.accept("=") or self.accept(":")):
                    raise Unresolvable(f"cannot read object in {self.text!r}")
                pairs.append((key, self.expression()))
                self.accept(",")
            return _Node("object", tuple(pairs))
        raise Unresolvable(f"cannot read expression {self.text!r}")

    def for_expression(self, closing: str) -> _Node:
        self.pos += 1  # "for"
        names = [self.peek()[1]]
        self.pos += 1
        if self.accept(","):
            names.append(self.peek()[1])
            self.pos += 1
        if self.peek() != ("ident", "in"):
            raise Unresolvable(f"cannot read for expression in {self.text!r}")
        self.pos += 1
        collection = self.expression()
        self.expect(":")
        key = self.expression()
        value: _Node | None = None
        if closing == "}":
            self.expect("=>")
            value = self.expression()
            if self.accept("..."):
                raise Unresolvable(f"grouping for expressions are not supported: {self.text!r}")
        condition: _Node | None = None
        if self.peek() == ("ident", "if"):
            self.pos += 1
            condition = self.expression()
        self.expect(closing)
        return _Node("for", (tuple(names), collection, key, value, condition, closing))


@dataclass(frozen=True)
class Ref:
    """A reference to another object's attribute (known only after apply): its text,
    with the static parts (``each.key``, locals) substituted."""

    text: str

    def __str__(self) -> str:
        return "${" + self.text + "}"


_REF_ROOTS = frozenset({"data", "module"})


def _eval_name(node: _Node, module: Module, scope: dict[str, Any]) -> Any:
    (name,) = node.args
    if name in scope:
        return scope[name]
    if name in {"local", "var", "path"}:
        return _Namespace(name)
    if name in _REF_ROOTS or name.startswith("google_") or name in module.resources:
        return Ref(name)
    raise Unresolvable(f"{name} is not known statically")


@dataclass(frozen=True)
class _Namespace:
    name: str

    def get(self, module: Module, attribute: str) -> Any:
        if self.name == "local":
            return module.local(attribute)
        if self.name == "var":
            return module.variable(attribute)
        if attribute == "module":
            return str(module.root)
        raise Unresolvable(f"path.{attribute} is not known statically")


def _eval_attr(node: _Node, module: Module, scope: dict[str, Any]) -> Any:
    target_node, attribute = node.args
    target = target_node.evaluate(module, scope)
    if isinstance(target, _Namespace):
        return target.get(module, attribute)
    if isinstance(target, Ref):
        return Ref(f"{target.text}.{attribute}")
    if isinstance(target, dict) and attribute in target:
        return target[attribute]
    if isinstance(target, list) and attribute.isdigit():
        return target[int(attribute)]
    raise Unresolvable(f"no attribute {attribute!r}")


def _eval_index(node: _Node, module: Module, scope: dict[str, Any]) -> Any:
    target = node.args[0].evaluate(module, scope)
    index = node.args[1].evaluate(module, scope)
    if isinstance(target, Ref) and not isinstance(index, Ref):
        return Ref(f"{target.text}[{json.dumps(index)}]")
    try:
        if isinstance(target, list):
            return target[int(index)]
        if isinstance(target, dict):
            return target[str(index)]
    except (KeyError, IndexError, ValueError) as exc:
        raise Unresolvable(f"no element {index!r}") from exc
    raise Unresolvable(f"cannot index {type(target).__name__}")


def _eval_splat(node: _Node, module: Module, scope: dict[str, Any]) -> Any:
    raise Unresolvable("splat expressions are not supported")


def _eval_template(node: _Node, module: Module, scope: dict[str, Any]) -> Any:
    template: _Template = node.args[0]
    out = []
    for is_expr, text in template.parts:
        out.append(_to_string(_Parser(text).parse().evaluate(module, scope)) if is_expr else text)
    return "".join(out)


def _eval_cond(node: _Node, module: Module, scope: dict[str, Any]) -> Any:
    condition, yes, no = node.args
    return (yes if condition.evaluate(module, scope) else no).evaluate(module, scope)


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
}


def _eval_binop(node: _Node, module: Module, scope: dict[str, Any]) -> Any:
    op, left, right = node.args
    if op == "&&":
        return bool(left.evaluate(module, scope)) and bool(right.evaluate(module, scope))
    if op == "||":
        return bool(left.evaluate(module, scope)) or bool(right.evaluate(module, scope))
    return _BINOPS[op](left.evaluate(module, scope), right.evaluate(module, scope))


def _eval_for(node: _Node, module: Module, scope: dict[str, Any]) -> Any:
    names, collection_node, key_node, value_node, condition, closing = node.args
    collection = collection_node.evaluate(module, scope)
    pairs = (
        list(collection.items()) if isinstance(collection, dict) else list(enumerate(collection))
    )
    out_list: list[Any] = []
    out_map: dict[str, Any] = {}
    for k, v in pairs:
        inner = dict(scope)
        if len(names) == 2:
            inner[names[0]], inner[names[1]] = k, v
        else:
            inner[names[0]] = v
        if condition is not None and not condition.evaluate(module, inner):
            continue
        if closing == "]":
            out_list.append(key_node.evaluate(module, inner))
        else:
            out_map[_to_string(key_node.evaluate(module, inner))] = value_node.evaluate(
                module, inner
            )
    return out_list if closing == "]" else out_map


def _call(node: _Node, module: Module, scope: dict[str, Any]) -> Any:
    name, arg_nodes, expand = node.args
    args = [a.evaluate(module, scope) for a in arg_nodes]
    if expand:
        args = args[:-1] + list(args[-1])
    function = _FUNCTIONS.get(name)
    if function is None:
        raise Unresolvable(f"function {name}() is not supported by the static evaluator")
    if any(isinstance(a, Ref) for a in args):
        raise Unresolvable(f"{name}() of a value known only after apply")
    try:
        if name in {"file", "fileset"}:
            return function(module, *args)
        return function(*args)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise Unresolvable(f"{name}(): {exc}") from exc


def _toset(items: Any) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return sorted(out, key=str)


def _file(module: Module, path: str) -> str:
    target = (module.root / path) if not Path(path).is_absolute() else Path(path)
    if not target.is_file():
        raise Unresolvable(f"file({path!r}): no such file")
    return target.read_text(encoding="utf-8")


def _fileset(module: Module, base: str, pattern: str) -> list[str]:
    root = module.root / base if not Path(base).is_absolute() else Path(base)
    found = [
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and fnmatch.fnmatch(p.relative_to(root).as_posix(), pattern)
    ]
    return sorted(found)


def _merge(*maps: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in maps:
        out.update(m)
    return out


def _flatten(items: Any) -> list[Any]:
    out: list[Any] = []
    for item in items:
        out.extend(_flatten(item) if isinstance(item, list) else [item])
    return out


def _lookup(m: dict[str, Any], key: str, *default: Any) -> Any:
    if key in m:
        return m[key]
    if default:
        return default[0]
    raise Unresolvable(f"lookup: no key {key!r}")


def _format(spec: str, *args: Any) -> str:
    values = iter(args)
    return re.sub(r"%[sdv]", lambda _: _to_string(next(values)), spec.replace("%%", "\0")).replace(
        "\0", "%"
    )


def _coalesce(*args: Any) -> Any:
    for arg in args:
        if arg not in (None, ""):
            return arg
    raise Unresolvable("coalesce: no non-null argument")


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "toset": _toset,
    "tolist": list,
    "tomap": dict,
    "tostring": _to_string,
    "keys": sorted,
    "values": lambda m: [m[k] for k in sorted(m)],
    "merge": _merge,
    "concat": lambda *lists: [x for lst in lists for x in lst],
    "flatten": _flatten,
    "distinct": _toset,
    "length": len,
    "contains": lambda coll, item: item in coll,
    "lookup": _lookup,
    "upper": str.upper,
    "lower": str.lower,
    "replace": lambda s, old, new: s.replace(old, new),
    "trimsuffix": lambda s, suffix: s.removesuffix(suffix),
    "trimprefix": lambda s, prefix: s.removeprefix(prefix),
    "join": lambda sep, items: sep.join(_to_string(i) for i in items),
    "split": lambda sep, s: s.split(sep),
    "format": _format,
    "coalesce": _coalesce,
    "jsonencode": lambda v: json.dumps(v, separators=(",", ":")),
    "jsondecode": json.loads,
    "file": _file,
    "fileset": _fileset,
    "basename": lambda p: Path(p).name,
    "zipmap": lambda ks, vs: dict(zip(ks, vs, strict=True)),
    "setunion": lambda *sets: _toset(x for s in sets for x in s),
}


def _eval_object(node: _Node, module: Module, scope: dict[str, Any]) -> Any:
    return {_to_string(k.evaluate(module, scope)): v.evaluate(module, scope) for k, v in node.args}


_EVALUATORS: dict[str, Callable[[_Node, Module, dict[str, Any]], Any]] = {
    "literal": lambda node, module, scope: node.args[0],
    "template": _eval_template,
    "name": _eval_name,
    "attr": _eval_attr,
    "index": _eval_index,
    "splat": _eval_splat,
    "cond": _eval_cond,
    "binop": _eval_binop,
    "not": lambda node, module, scope: not node.args[0].evaluate(module, scope),
    "neg": lambda node, module, scope: -node.args[0].evaluate(module, scope),
    "call": _call,
    "tuple": lambda node, module, scope: [a.evaluate(module, scope) for a in node.args],
    "object": _eval_object,
    "for": _eval_for,
}
