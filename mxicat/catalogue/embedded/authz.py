"""ICAT authorization for the embedded catalogue, with icat.server's exact semantics (icat.md §6).

The store calls one :class:`Authorizer` for every read and every write, so the CLI, the Python API and HTTP
get the same enforcement:

* READ -- :meth:`Authorizer.read_restriction` gives the SQL condition added for the *selected* entity of a
  search: ``id IN (rule 1) OR id IN (rule 2) …`` over the user's applicable R rules; ``None`` when no
  restriction applies (root, public table, an unrestricted rule); ``false()`` when no rule applies (empty
  result, not an error). Entities in FROM/JOIN/WHERE only are not checked.
* INCLUDE -- :meth:`Authorizer.include_filter` keeps INCLUDEd objects the user can read, or all of them when a
  PublicStep (origin, field) covers the step or the target is a public table.
* CREATE / UPDATE / DELETE -- :meth:`Authorizer.check` (and :meth:`before_update` / :meth:`after_update` /
  :meth:`check_delete`) run inside the store's transaction: CREATE after the insert (so rules see the new
  object's relations and meta fields), UPDATE before, with D before and C after when a uniqueness-key field
  changes, DELETE on every object the cascade removes. Refusal → ``INSUFFICIENT_PRIVILEGES``.

Rules are parsed and planned once per rule text (ICAT ``RuleWhat``: bean, restricted, attribute; the SQL shape
from :mod:`.rulesql`) and compiled to SQL once per (rule, user) through the query compiler's
:func:`~mxicat.catalogue.embedded.sql.id_subquery`; the cache
is dropped when Rule, Grouping, UserGroup, User or PublicStep change (noticed in :meth:`check`, and across
processes sharing the file through a cheap fingerprint of those tables).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mxicat.errors import BadParameterError, InsufficientPrivilegesError
from mxicat.query import ast
from mxicat.query.parser import parse_query

from .rulesql import CompiledPlan, RulePlan, compile_plan, plan_rule
from .schema import ENTITIES, TABLES, EntityInfo
from .sql import MODEL, id_subquery

#: entities whose change invalidates the rule cache
POLICY_ENTITIES = frozenset({"Rule", "Grouping", "UserGroup", "User", "PublicStep"})
#: largest IN list sent at once (ICAT's maxIdsInQuery default)
MAX_IDS_IN_QUERY = 500
#: compiled (rule, user) subqueries kept per policy generation
MAX_COMPILED = 20000

# constant text (table and column names only); built once because it runs before every authorized call
_FINGERPRINT_SQL = "SELECT " + ", ".join(
    f'(SELECT COUNT(*) FROM "{t}"), (SELECT MAX("ID") FROM "{t}"), (SELECT MAX("MOD_TIME") FROM "{t}")'
    for t in sorted(TABLES[name].name for name in POLICY_ENTITIES)
)

IdSubquery = Callable[[ast.Query, Mapping[str, Any]], sa.Select]
"""Compiles a rule query to ``SELECT <selected entity ids> …`` with ``params`` (``{"user": name}``) bound."""


# ------------------------------------------------------------------------------------------ rules
@dataclass(frozen=True)
class RuleWhat:
    """A parsed ``Rule.what`` (icat.server ``RuleWhat``): bean, whether restricted, attribute rule."""

    bean: str
    query: ast.Query
    restricted: bool
    attribute: str | None = None


def parse_rule_what(what: str, crud_flags: str = "") -> RuleWhat:
    """Parse ``what`` as icat.server does on store; ``BadParameterError`` for anything a Rule may not be."""
    try:
        q = parse_query(what, MODEL)
    except BadParameterError as err:
        raise BadParameterError(f"Rule what {what!r}: {err}", offset=err.offset) from None
    if (
        len(q.select.items) != 1
        or q.select.distinct
        or q.group_by
        or q.having
        or q.order_by
        or q.include
        or q.limit
    ):
        raise BadParameterError(f"Rule what {what!r}: must be SELECT <alias> FROM … [WHERE …]")
    item = q.select.items[0]
    if not isinstance(item, ast.Path) or len(item.parts) > 2:
        raise BadParameterError(f"Rule what {what!r}: must select an entity or one attribute of it")
    aliases = {d.alias: d for d in q.from_.decls}
    decl = aliases.get(item.parts[0])
    if not isinstance(decl, ast.RangeDecl):
        raise BadParameterError(f"Rule what {what!r}: {item.parts[0]} is not the FROM entity alias")
    if decl.entity not in ENTITIES:
        raise BadParameterError(f"Rule what {what!r}: unknown entity {decl.entity}")
    if sum(isinstance(d, ast.RangeDecl) for d in q.from_.decls) != 1:
        raise BadParameterError(f"Rule what {what!r}: a single identification variable is allowed")
    attribute = None
    if len(item.parts) == 2:
        attribute = item.parts[1]
        if attribute not in ENTITIES[decl.entity].fields:
            raise BadParameterError(f"Rule what {what!r}: {attribute} is not a field of {decl.entity}")
        if set(crud_flags) - {"U"}:
            raise BadParameterError(f"Rule what {what!r}: an attribute rule may only have the U flag")
    return RuleWhat(decl.entity, q, q.where is not None, attribute)


def normalise_crud_flags(flags: str) -> str:
    """ICAT stores crudFlags upper-cased and trimmed; any letter outside CRUD → BAD_PARAMETER."""
    norm = (flags or "").strip().upper()
    bad = set(norm) - set("CRUD")
    if not norm or bad:
        raise BadParameterError(f"Rule crudFlags {flags!r}: only the letters C, R, U and D are allowed")
    return norm


def rule_hidden_columns(crud_flags: str, what: str) -> dict[str, Any]:
    """Values of RULE_'s hidden columns for a new/updated rule (store calls this; raises on a bad rule)."""
    flags = normalise_crud_flags(crud_flags)
    rw = parse_rule_what(what, flags)
    return {
        "CRUDFLAGS": flags,
        "BEAN": rw.bean,
        "ATTRIBUTE": rw.attribute,
        "RESTRICTED": rw.restricted,
        **{letter: letter in flags for letter in "CRUD"},
    }


@dataclass(frozen=True)
class PolicyRule:
    """One stored Rule as the authorizer uses it."""

    id: int
    flags: frozenset[str]
    grouping_id: int | None
    what: RuleWhat
    plan: RulePlan


@dataclass
class Policy:
    """Everything the authorizer caches between policy changes."""

    fingerprint: tuple[Any, ...]
    rules: list[PolicyRule]
    by_bean: dict[str, list[PolicyRule]] = field(default_factory=dict)
    public_tables: frozenset[str] = frozenset()
    public_steps: frozenset[tuple[str, str]] = frozenset()
    groups_of: dict[str, frozenset[int]] = field(default_factory=dict)
    compiled: dict[tuple[int, str], CompiledPlan] = field(default_factory=dict)
    bad_rules: dict[int, str] = field(default_factory=dict)


def _default_id_subquery(query: ast.Query, params: Mapping[str, Any]) -> sa.Select:
    return id_subquery(query, params=dict(params))


def _chunks(ids: Collection[int]) -> Iterable[list[int]]:
    seq = list(ids)
    for start in range(0, len(seq), MAX_IDS_IN_QUERY):
        yield seq[start : start + MAX_IDS_IN_QUERY]


class Authorizer:
    """ICAT's GateKeeper for one embedded catalogue."""

    def __init__(
        self,
        root_user_names: Iterable[str] = ("simple/root",),
        *,
        id_subquery: IdSubquery = _default_id_subquery,
    ) -> None:
        self.root_user_names = frozenset(root_user_names)
        self._id_subquery = id_subquery
        self._policy: Policy | None = None
        self._lock = threading.RLock()
        self._what_cache: dict[str, RuleWhat | BadParameterError] = {}
        self._plan_cache: dict[str, RulePlan] = {}

    # ----------------------------------------------------------------------------- policy cache
    def is_root(self, user: str) -> bool:
        return user in self.root_user_names

    def invalidate(self) -> None:
        """Drop the cached policy (rules, memberships, public steps, compiled SQL)."""
        with self._lock:
            self._policy = None

    @staticmethod
    def _fingerprint(conn: Connection) -> tuple[Any, ...]:
        """Row count, max id and max modTime of each policy table, in one statement (run on every check)."""
        return tuple(conn.exec_driver_sql(_FINGERPRINT_SQL).one())

    def policy(self, conn: Connection) -> Policy:
        """The cached policy, reloaded when the policy tables changed (also by another process)."""
        fp = self._fingerprint(conn)
        with self._lock:
            if self._policy is not None and self._policy.fingerprint == fp:
                return self._policy
            self._policy = self._load(conn, fp)
            return self._policy

    def _parse_cached(self, what: str, flags: str) -> RuleWhat:
        key = f"{flags}\x00{what}"
        hit = self._what_cache.get(key)
        if hit is None:
            try:
                hit = parse_rule_what(what, flags)
            except BadParameterError as err:
                hit = err
            self._what_cache[key] = hit
        if isinstance(hit, BadParameterError):
            raise hit
        return hit

    def _load(self, conn: Connection, fp: tuple[Any, ...]) -> Policy:
        rt = TABLES["Rule"]
        rules: list[PolicyRule] = []
        bad: dict[int, str] = {}
        for rid, flags, what, gid in conn.execute(sa.select(rt.c.ID, rt.c.CRUDFLAGS, rt.c.WHAT, rt.c.GROUPING_ID)):
            try:
                norm = normalise_crud_flags(flags)
                rw = self._parse_cached(what, norm)
            except BadParameterError as err:  # a stored rule we cannot use grants nothing
                bad[rid] = str(err)
                continue
            rules.append(PolicyRule(rid, frozenset(norm), gid, rw, self._plan_cached(rw)))
        by_bean: dict[str, list[PolicyRule]] = {}
        for r in rules:
            by_bean.setdefault(r.what.bean, []).append(r)
        # icat.server Rule.PublicQuery: unrestricted, grouping null -- whatever the flags
        public = frozenset(
            r.what.bean for r in rules if r.grouping_id is None and not r.what.restricted and not r.what.attribute
        )
        pt = TABLES["PublicStep"]
        steps = frozenset((o, f) for o, f in conn.execute(sa.select(pt.c.ORIGIN, pt.c.FIELD)))
        return Policy(fp, rules, by_bean, public, steps, bad_rules=bad)

    def groups_of(self, conn: Connection, policy: Policy, user: str) -> frozenset[int]:
        """Ids of the Groupings the user is a member of (cached per policy)."""
        hit = policy.groups_of.get(user)
        if hit is None:
            ug, u = TABLES["UserGroup"], TABLES["User"]
            hit = frozenset(
                conn.execute(
                    sa.select(ug.c.GROUP_ID).join(u, u.c.ID == ug.c.USER_ID).where(u.c.NAME == user)
                ).scalars()
            )
            policy.groups_of[user] = hit
        return hit

    def applicable(self, conn: Connection, user: str, bean: str, flag: str) -> tuple[Policy, list[PolicyRule]]:
        """The user's rules for ``bean`` with ``flag`` (grouping null ∪ groupings the user is in)."""
        policy = self.policy(conn)
        groups = self.groups_of(conn, policy, user)
        rules = [
            r
            for r in policy.by_bean.get(bean, ())
            if flag in r.flags and (r.grouping_id is None or r.grouping_id in groups)
        ]
        return policy, rules

    def _plan_cached(self, rw: RuleWhat) -> RulePlan:
        """The SQL plan of a rule (:mod:`.rulesql`), made once per rule text."""
        key = f"{rw.attribute}\x00{rw.query}"
        plan = self._plan_cache.get(key)
        if plan is None:
            query = rw.query
            if rw.attribute:  # an attribute rule grants on the objects its entity alias selects
                alias = ast.Path(query.select.items[0].parts[:1])  # type: ignore[union-attr]
                query = dataclasses.replace(query, select=ast.SelectClause((alias,)))
            plan = self._plan_cache[key] = plan_rule(query)
        return plan

    def _compiled(self, policy: Policy, rule: PolicyRule, user: str) -> CompiledPlan:
        """The rule's plan compiled to SQL with ``:user`` bound, cached per (rule, user)."""
        key = (rule.id, user)
        hit = policy.compiled.get(key)
        if hit is None:
            if len(policy.compiled) > MAX_COMPILED:  # many users on a long-lived server: start afresh
                policy.compiled.clear()
            hit = compile_plan(rule.plan, lambda q: self._id_subquery(q, {"user": user}))
            policy.compiled[key] = hit
        return hit

    def _in_rules(
        self, policy: Policy, rules: list[PolicyRule], user: str, id_column: sa.ColumnElement[Any]
    ) -> sa.ColumnElement[bool]:
        """``id_column IN (rule 1) OR id_column IN (rule 2) …`` -- ICAT's READ restriction.

        Each term is written in the cheapest equivalent SQL (:mod:`.rulesql`): foreign-key ``IN`` sets first
        (SQLite computes each once per statement), then correlated ``EXISTS`` probes by primary key.
        """
        compiled = [self._compiled(policy, r, user) for r in rules]
        compiled.sort(key=lambda c: not c.is_direct)
        return sa.or_(*(c.condition(id_column) for c in compiled))

    # ------------------------------------------------------------------------------------ READ
    def read_restriction(
        self, conn: Connection, user: str, bean: str, id_column: sa.ColumnElement[Any]
    ) -> sa.ColumnElement[bool] | None:
        """Condition limiting a search on ``bean`` (id column ``id_column``) to what ``user`` may read."""
        if self.is_root(user):
            return None
        policy, rules = self.applicable(conn, user, bean, "R")
        if bean in policy.public_tables:
            return None
        object_rules = [r for r in rules if not r.what.attribute]
        if any(not r.what.restricted for r in object_rules):
            return None
        if not object_rules:
            return sa.false()
        return self._in_rules(policy, object_rules, user, id_column)

    def readable_ids(self, conn: Connection, user: str, bean: str, ids: Collection[int]) -> set[int]:
        """The subset of ``ids`` of ``bean`` the user may read (objects that do not exist are not readable)."""
        return self._allowed(conn, user, bean, "R", ids)

    def include_filter(
        self, conn: Connection, user: str, origin: str, field_name: str, target: str, ids: Collection[int]
    ) -> set[int]:
        """INCLUDEd ``target`` objects reached from ``origin`` through ``field_name`` that stay in the result."""
        if not ids:
            return set()
        if self.is_root(user):
            return set(ids)
        policy = self.policy(conn)
        if (origin, field_name) in policy.public_steps or target in policy.public_tables:
            return set(ids)
        return self.readable_ids(conn, user, target, ids)

    def can_read_step(self, conn: Connection, user: str, origin: str, field_name: str) -> bool:
        """Whether a step needs no per-object check (root, PublicStep, public target table)."""
        if self.is_root(user):
            return True
        policy = self.policy(conn)
        target = ENTITIES[origin].relations[field_name].target
        return (origin, field_name) in policy.public_steps or target in policy.public_tables

    def restrictor(self, conn: Connection, user: str) -> Callable[[str, sa.FromClause], Any] | None:
        """``restrict`` callback for :func:`~mxicat.catalogue.embedded.sql.compile_query` (None for root)."""
        if self.is_root(user):
            return None
        return lambda bean, table: self.read_restriction(conn, user, bean, table.c.ID)

    def include_checker(
        self, conn: Connection, user: str
    ) -> Callable[[str, str, str, Collection[int]], Collection[int]] | None:
        """``can_read`` callback for the query compiler's include fetching (None for root)."""
        if self.is_root(user):
            return None
        return lambda origin, rel, target, ids: self.include_filter(conn, user, origin, rel, target, ids)

    # ---------------------------------------------------------------------------- C, U, D checks
    def _allowed(
        self,
        conn: Connection,
        user: str,
        bean: str,
        flag: str,
        ids: Collection[int],
        *,
        rules: list[PolicyRule] | None = None,
    ) -> set[int]:
        ids = set(ids)
        if not ids:
            return set()
        table = TABLES[bean]
        if self.is_root(user):
            found: set[int] = set()
            for chunk in _chunks(ids):
                found.update(conn.execute(sa.select(table.c.ID).where(table.c.ID.in_(chunk))).scalars())
            return found
        policy, applicable = self.applicable(conn, user, bean, flag)
        if rules is not None:
            applicable = rules
        else:
            applicable = [r for r in applicable if not r.what.attribute]
        public_read = flag == "R" and bean in policy.public_tables
        unrestricted = public_read or any(not r.what.restricted for r in applicable)
        if not applicable and not public_read:
            return set()
        allowed: set[int] = set()
        for chunk in _chunks(ids):
            stmt = sa.select(table.c.ID).where(table.c.ID.in_(chunk))
            if not unrestricted:
                stmt = stmt.where(self._in_rules(policy, applicable, user, table.c.ID))
            allowed.update(conn.execute(stmt).scalars())
        return allowed

    def note_write(self, bean: str) -> None:
        """Tell the authorizer an object of ``bean`` was written (drops the cache for policy entities)."""
        if bean in POLICY_ENTITIES:
            self.invalidate()

    def check(self, conn: Connection, user: str, access: str, bean: str, ids: Collection[int]) -> None:
        """Raise ``INSUFFICIENT_PRIVILEGES`` unless ``user`` has ``access`` (C/R/U/D) on every object."""
        if access in "CUD":
            self.note_write(bean)
        if self.is_root(user) or not ids:
            return
        allowed = self._allowed(conn, user, bean, access, ids)
        refused = sorted(set(ids) - allowed)
        if refused:
            word = {"C": "CREATE", "R": "READ", "U": "UPDATE", "D": "DELETE"}[access]
            raise InsufficientPrivilegesError(
                f"{word} access to this {bean} (id {refused[0]}) is not allowed for user {user}"
            )

    def is_access_allowed(self, conn: Connection, user: str, access: str, bean: str, obj_id: int) -> bool:
        """ICAT ``isAccessAllowed`` for an existing object (false when it does not exist)."""
        return obj_id in self._allowed(conn, user, bean, access, [obj_id])

    def key_changed(self, bean: str, changed: Iterable[str]) -> bool:
        """Whether one of the changed fields/relations is part of the entity's uniqueness key."""
        return bool(set(ENTITIES[bean].unique_key) & set(changed))

    def before_update(
        self, conn: Connection, user: str, bean: str, obj_id: int, changed: Collection[str]
    ) -> None:
        """UPDATE check, before the change: U (or attribute U rules), or D when a key field changes."""
        self.note_write(bean)
        if self.is_root(user):
            return
        if self.key_changed(bean, changed):
            self.check(conn, user, "D", bean, [obj_id])
            return
        if obj_id in self._allowed(conn, user, bean, "U", [obj_id]):
            return
        # 4.8: without a whole-object U rule, every changed attribute needs a matching attribute rule
        policy, rules = self.applicable(conn, user, bean, "U")
        attribute_rules = [r for r in rules if r.what.attribute]
        if changed and attribute_rules:
            ok = all(
                obj_id
                in self._allowed(
                    conn, user, bean, "U", [obj_id], rules=[r for r in attribute_rules if r.what.attribute == f]
                )
                for f in changed
            )
            if ok:
                return
        raise InsufficientPrivilegesError(
            f"UPDATE access to this {bean} (id {obj_id}) is not allowed for user {user}"
        )

    def after_update(
        self, conn: Connection, user: str, bean: str, obj_id: int, changed: Collection[str]
    ) -> None:
        """After a key-changing update the object must be creatable where it now is (C)."""
        if self.key_changed(bean, changed):
            self.check(conn, user, "C", bean, [obj_id])

    def check_delete(self, conn: Connection, user: str, cascade: Mapping[str, Collection[int]]) -> None:
        """D on every object the delete removes (``cascade``: bean → ids, as from :func:`cascade_ids`)."""
        for bean, ids in cascade.items():
            self.check(conn, user, "D", bean, ids)


def cascade_ids(conn: Connection, bean: str, ids: Collection[int]) -> dict[str, set[int]]:
    """Every object a delete of ``ids`` removes: themselves and, recursively, their 1:N collections."""
    out: dict[str, set[int]] = {}
    todo: list[tuple[EntityInfo, set[int]]] = [(ENTITIES[bean], set(ids))]
    while todo:
        info, batch = todo.pop()
        batch -= out.setdefault(info.name, set())
        if not batch:
            continue
        out[info.name] |= batch
        for rel in info.many.values():
            child = ENTITIES[rel.target]
            fk = child.relations[rel.mapped_by or ""].column or ""
            table = TABLES[child.name]
            found: set[int] = set()
            for chunk in _chunks(batch):
                found.update(conn.execute(sa.select(table.c.ID).where(table.c[fk].in_(chunk))).scalars())
            if found:
                todo.append((child, found))
    return {k: v for k, v in out.items() if v}
