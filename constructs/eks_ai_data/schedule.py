"""AWS schedule expressions: ``cron(...)`` and ``rate(...)`` (layer 1: no CDK import).

The grammar is EventBridge's, which AWS Backup shares for its rule schedules:

- ``cron(minutes hours day-of-month month day-of-week year)``: six fields separated by white space.
  Values: minutes 0-59, hours 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or
  SUN-SAT (SUN is 1), year 1970-2199. Every field takes ``,`` (lists), ``-`` (ranges) and ``*``;
  every field but day-of-week takes ``/`` (increments); day-of-month also takes ``?``, ``L``
  (last day) and ``W`` (nearest weekday, ``15W`` or ``LW``); day-of-week also takes ``?``, ``L``
  (``L``: Saturday, ``6L``: the last Friday) and ``#`` (``3#2``: the second Tuesday; a ``#`` must
  be the field's only expression). Exactly one of day-of-month and day-of-week must be ``?``.
- ``rate(value unit)``: a positive whole number and ``minute``/``minutes``, ``hour``/``hours`` or
  ``day``/``days``; the unit is singular when the value is 1 and plural otherwise.

AWS Backup accepts only cron expressions, and starts a rule's jobs at most once an hour: see
:func:`backup_schedule_problem`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")

_CRON = re.compile(r"^cron\((?P<body>[^()]*)\)\Z")
_RATE = re.compile(r"^rate\((?P<body>[^()]*)\)\Z")
_RATE_BODY = re.compile(r"^(?P<value>[0-9]+) (?P<unit>minutes?|hours?|days?)\Z")
_INT = re.compile(r"^[0-9]+\Z")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # symbolic values, mapped to low, low + 1, ...
    step: bool = True  # takes "/"


_FIELDS = (
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, MONTH_NAMES),
    _Field("day-of-week", 1, 7, DAY_NAMES, step=False),
    _Field("year", 1970, 2199),
)


class ScheduleError(ValueError):
    """A schedule expression that does not parse; the message says what is wrong."""


@dataclass(frozen=True)
class CronSchedule:
    """A parsed ``cron(...)`` expression (fields as written, upper-cased)."""

    minutes: str
    hours: str
    day_of_month: str
    month: str
    day_of_week: str
    year: str

    @property
    def expression(self) -> str:
        fields = (self.minutes, self.hours, self.day_of_month, self.month, self.day_of_week, self.year)
        return f"cron({' '.join(fields)})"


@dataclass(frozen=True)
class RateSchedule:
    """A parsed ``rate(...)`` expression."""

    value: int
    unit: str  # "minute" | "hour" | "day" (singular)

    @property
    def minutes(self) -> int:
        return self.value * {"minute": 1, "hour": 60, "day": 1440}[self.unit]

    @property
    def expression(self) -> str:
        return f"rate({self.value} {self.unit}{'' if self.value == 1 else 's'})"


def parse_schedule(expression: str) -> CronSchedule | RateSchedule:
    """Parse an AWS ``cron(...)`` or ``rate(...)`` expression; raise :class:`ScheduleError` if not one."""
    if not isinstance(expression, str):
        raise ScheduleError("must be a string: 'cron(...)' or 'rate(...)'")
    text = expression.strip()
    cron = _CRON.match(text)
    if cron:
        return _parse_cron(cron.group("body"))
    rate = _RATE.match(text)
    if rate:
        return _parse_rate(rate.group("body"))
    raise ScheduleError(
        "must be 'cron(minutes hours day-of-month month day-of-week year)' or 'rate(value unit)'"
    )


def schedule_problem(expression: str) -> str | None:
    """Why ``expression`` is not a valid cron or rate expression, or ``None`` when it is."""
    try:
        parse_schedule(expression)
    except ScheduleError as error:
        return str(error)
    return None


def backup_schedule_problem(expression: str) -> str | None:
    """Why ``expression`` cannot schedule an AWS Backup rule, or ``None`` when it can.

    On top of the cron grammar: AWS Backup takes only cron expressions (no ``rate``), and runs a rule
    at most once an hour, so the minutes field must be one fixed minute.
    """
    try:
        parsed = parse_schedule(expression)
    except ScheduleError as error:
        return str(error)
    if isinstance(parsed, RateSchedule):
        return "AWS Backup accepts only cron expressions, e.g. 'cron(0 5 * * ? *)' for 05:00 UTC daily"
    if not _INT.match(parsed.minutes):
        return (
            f"AWS Backup runs a rule at most once an hour: the minutes field must be one minute (0-59), "
            f"not {parsed.minutes!r}"
        )
    return None


def glue_schedule_problem(expression: str) -> str | None:
    """Why ``expression`` cannot schedule an AWS Glue crawler, or ``None`` when it can: a cron expression (no
    ``rate``) that runs at most every 5 minutes ("Cron expressions that lead to rates faster than 5 minutes are
    not supported", Glue developer guide, "Time-based schedules for jobs and crawlers")."""
    try:
        parsed = parse_schedule(expression)
    except ScheduleError as error:
        return str(error)
    if isinstance(parsed, RateSchedule):
        return "Glue crawler schedules are cron expressions, e.g. 'cron(0 3 * * ? *)' for 03:00 UTC daily"
    minutes = _expand(_FIELDS[0], parsed.minutes)
    hours = _expand(_FIELDS[1], parsed.hours)
    runs = sorted(range(60) if minutes is None else minutes)
    gaps = [b - a for a, b in itertools.pairwise(runs)]
    # the last run of an hour and the first of the next, when consecutive hours run
    if hours is None or any((h + 1) % 24 in hours for h in hours):
        gaps.append(60 - runs[-1] + runs[0])
    if gaps and min(gaps) < 5:
        return (
            f"runs every {min(gaps)} minute(s): Glue runs a crawler schedule at most every 5 minutes "
            "(e.g. 'cron(0/5 * * * ? *)')"
        )
    return None


# -- cron --------------------------------------------------------------------------------------------
def _parse_cron(body: str) -> CronSchedule:
    parts = body.split()
    if len(parts) != 6:
        raise ScheduleError(
            f"a cron expression has six fields (minutes hours day-of-month month day-of-week year), "
            f"got {len(parts)}"
        )
    parts = [p.upper() for p in parts]
    for field, value in zip(_FIELDS, parts, strict=True):
        _check_field(field, value)
    dom, dow = parts[2], parts[4]
    if (dom == "?") == (dow == "?"):
        raise ScheduleError(
            "exactly one of day-of-month and day-of-week must be '?' "
            f"(got day-of-month {dom!r}, day-of-week {dow!r})"
        )
    _check_dates_exist(parts[2], parts[3], parts[5])
    return CronSchedule(*parts)


#: Days in each month, February in a leap year (the most a month can have).
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _expand(field: _Field, value: str) -> set[int] | None:
    """The numbers a field names, or ``None`` when it names every value or uses ``?``/``L``/``W``/``#``."""
    if value in ("*", "?"):
        return None
    found: set[int] = set()
    for item in value.split(","):
        if any(mark in item for mark in ("L", "W", "#")) and item not in field.names:
            return None
        base, slash, step = item.partition("/")
        low, dash, high = base.partition("-")
        if base == "*":
            first, last = field.low, field.high
        else:
            first = _value(field, low, value)
            last = _value(field, high, value) if dash else (field.high if slash else first)
        found.update(range(first, last + 1, int(step) if slash else 1))
    return found


def _check_dates_exist(day_of_month: str, month: str, year: str) -> None:
    """Refuse a schedule whose day-of-month exists in none of its months (``cron(0 5 30 2 ? *)``: 30 February), or
    only on 29 February of years it excludes: EventBridge and AWS Backup accept it and it never runs."""
    days = _expand(_FIELDS[2], day_of_month)
    if days is None:
        return
    months = _expand(_FIELDS[3], month) or set(range(1, 13))
    possible = {(m, d) for m in months for d in days if d <= _MONTH_DAYS[m - 1]}
    if not possible:
        raise ScheduleError(
            f"day-of-month {day_of_month!r} exists in none of the months {sorted(months)}: the schedule never runs"
        )
    years = _expand(_FIELDS[5], year)
    if (
        possible == {(2, 29)}
        and years is not None
        and not any(y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) for y in years)
    ):
        raise ScheduleError(
            f"29 February falls in none of the years {sorted(years)}: the schedule never runs"
        )


def _check_field(field: _Field, value: str) -> None:
    if value == "?":
        if field.name not in ("day-of-month", "day-of-week"):
            raise ScheduleError(f"'?' is allowed only in day-of-month and day-of-week, not in {field.name}")
        return
    items = value.split(",")
    if field.name == "day-of-week" and "#" in value and len(items) > 1:
        raise ScheduleError(f"day-of-week {value!r}: a '#' expression must be the field's only expression")
    for item in items:
        if not item:
            raise ScheduleError(f"{field.name} {value!r}: empty list element")
        if _special(field, item):
            continue
        _check_item(field, item, value)


def _special(field: _Field, item: str) -> bool:
    """Day-of-month ``L``/``LW``/``nW`` and day-of-week ``L``/``nL``/``n#k`` (validated here)."""
    if field.name == "day-of-month":
        if item in ("L", "LW"):
            return True
        if item.endswith("W"):
            day = item[:-1]
            if not _INT.match(day) or not 1 <= int(day) <= 31:
                raise ScheduleError(
                    f"day-of-month {item!r}: 'W' follows a day of the month (1-31), as in '15W'"
                )
            return True
        return False
    if field.name == "day-of-week":
        if item == "L":
            return True
        if item.endswith("L"):
            _value(field, item[:-1], item)
            return True
        if "#" in item:
            day, _, nth = item.partition("#")
            _value(field, day, item)
            if not _INT.match(nth) or not 1 <= int(nth) <= 5:
                raise ScheduleError(
                    f"day-of-week {item!r}: the number after '#' is the week of the month (1-5)"
                )
            return True
    return False


def _check_item(field: _Field, item: str, whole: str) -> None:
    base, slash, step = item.partition("/")
    if slash:
        if not field.step:
            raise ScheduleError(f"{field.name} {whole!r}: '/' (increments) is not allowed in {field.name}")
        if not _INT.match(step) or int(step) < 1:
            raise ScheduleError(f"{field.name} {whole!r}: the increment after '/' must be a positive number")
    if base == "*":
        return
    low, dash, high = base.partition("-")
    first = _value(field, low, whole)
    if dash:
        last = _value(field, high, whole)
        if last < first:
            raise ScheduleError(f"{field.name} {whole!r}: range {base!r} runs backwards")


def _value(field: _Field, token: str, whole: str) -> int:
    if token in field.names:
        return field.low + field.names.index(token)
    if _INT.match(token):
        number = int(token)
        if field.low <= number <= field.high:
            return number
    names = f" or {field.names[0]}-{field.names[-1]}" if field.names else ""
    raise ScheduleError(
        f"{field.name} {whole!r}: {token!r} is not a value in {field.low}-{field.high}{names}"
    )


# -- rate --------------------------------------------------------------------------------------------
def _parse_rate(body: str) -> RateSchedule:
    match = _RATE_BODY.match(" ".join(body.split()))
    if not match:
        raise ScheduleError("a rate expression is 'rate(value unit)' with unit minute(s), hour(s) or day(s)")
    value, unit = int(match.group("value")), match.group("unit")
    if value < 1:
        raise ScheduleError("a rate expression's value must be a positive whole number")
    plural = unit.endswith("s")
    if value == 1 and plural:
        raise ScheduleError(f"a rate of 1 takes a singular unit: 'rate(1 {unit[:-1]})'")
    if value > 1 and not plural:
        raise ScheduleError(f"a rate above 1 takes a plural unit: 'rate({value} {unit}s)'")
    return RateSchedule(value, unit.rstrip("s"))
