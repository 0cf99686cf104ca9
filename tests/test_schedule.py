"""AWS cron/rate schedule expressions (layer 1: no synthesis)."""

from __future__ import annotations

import re

import pytest

from eks_ai_data.schedule import (
    CronSchedule,
    RateSchedule,
    ScheduleError,
    backup_schedule_problem,
    glue_schedule_problem,
    parse_schedule,
    schedule_problem,
)


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 5 * * ? *)",
        "cron(15 10 ? * 6L 2030)",
        "cron(0 8 ? * MON-FRI *)",
        "cron(0/15 * * * ? *)",
        "cron(*/10 0-6 ? JAN,JUL * *)",
        "cron(0 23 L * ? *)",
        "cron(0 9 15W * ? *)",
        "cron(0 9 LW * ? *)",
        "cron(30 4 ? * 3#2 *)",
        "cron(0 0 1 1 ? 1970-2199)",
        "cron(0 12 ? * L *)",
        " cron(0  5 * * ? *) ",
        "cron(59 23 31 DEC ? *)",
    ],
)
def test_valid_cron(expression):
    parsed = parse_schedule(expression)
    assert isinstance(parsed, CronSchedule)
    assert schedule_problem(expression) is None


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 5 29 2 ? 2028)",
        "cron(0 5 29 2 ? 2000)",
        "cron(0 5 31 * ? *)",
        "cron(0 5 L 2 ? *)",
        "cron(0 5 30 1-3 ? *)",
    ],
)
def test_dates_that_do_come_are_accepted(expression):
    assert parse_schedule(expression)


def test_cron_fields_are_kept_and_upper_cased():
    parsed = parse_schedule("cron(0 8 ? * mon-fri *)")
    assert parsed == CronSchedule("0", "8", "?", "*", "MON-FRI", "*")
    assert parsed.expression == "cron(0 8 ? * MON-FRI *)"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cron(0 5 * * *)", "six fields .* got 5"),
        ("cron(0 5 * * ? * *)", "six fields .* got 7"),
        ("cron(0 5 * * * *)", "exactly one of day-of-month and day-of-week must be '\\?'"),
        ("cron(0 5 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 5 1 * MON *)", "exactly one of day-of-month and day-of-week"),
        ("cron(60 5 * * ? *)", "minutes '60': '60' is not a value in 0-59"),
        ("cron(0 24 * * ? *)", "hours '24': '24' is not a value in 0-23"),
        ("cron(0 5 32 * ? *)", "day-of-month '32'"),
        ("cron(0 5 0 * ? *)", "day-of-month '0'"),
        ("cron(0 5 * 13 ? *)", "month '13'"),
        ("cron(0 5 * FOO ? *)", "month 'FOO': 'FOO' is not a value in 1-12 or JAN-DEC"),
        ("cron(0 5 ? * 8 *)", "day-of-week '8'"),
        ("cron(0 5 ? * 0 *)", "day-of-week '0'"),
        ("cron(0 5 * * ? 1969)", "year '1969'"),
        ("cron(0 5 * * ? 2200)", "year '2200'"),
        ("cron(? 5 * * ? *)", "'\\?' is allowed only in day-of-month and day-of-week"),
        ("cron(0 5 ? * 2/2 *)", "'/' \\(increments\\) is not allowed in day-of-week"),
        ("cron(0/0 5 * * ? *)", "increment after '/' must be a positive number"),
        ("cron(0 5 ? * 3#2,4#1 *)", "a '#' expression must be the field's only expression"),
        ("cron(0 5 ? * 3#6 *)", "week of the month \\(1-5\\)"),
        ("cron(0 5 32W * ? *)", "'W' follows a day of the month"),
        ("cron(0 5 10-2 * ? *)", "range '10-2' runs backwards"),
        ("cron(0 5 1,,2 * ? *)", "empty list element"),
        ("cron(0 5 * * ? *", "must be 'cron\\("),
        # dates that never come: EventBridge and AWS Backup accept them and the rule never runs
        (
            "cron(0 5 30 2 ? *)",
            r"day-of-month '30' exists in none of the months \[2\]: the schedule never runs",
        ),
        ("cron(0 5 31 APR,JUN,SEP,NOV ? *)", r"exists in none of the months \[4, 6, 9, 11\]"),
        ("cron(0 5 30-31 FEB ? *)", r"day-of-month '30-31' exists in none"),
        ("cron(0 5 29 2 ? 2027,2029)", r"29 February falls in none of the years \[2027, 2029\]"),
        ("cron(0 5 29 2 ? 2100)", r"29 February falls in none of the years \[2100\]"),
        ("0 5 * * ? *", "must be 'cron\\("),
        ("", "must be 'cron\\("),
    ],
)
def test_invalid_cron(expression, message):
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(expression)
    assert schedule_problem(expression)


@pytest.mark.parametrize(
    ("expression", "value", "unit", "minutes"),
    [
        ("rate(1 minute)", 1, "minute", 1),
        ("rate(5 minutes)", 5, "minute", 5),
        ("rate(1 hour)", 1, "hour", 60),
        ("rate(12 hours)", 12, "hour", 720),
        ("rate(1 day)", 1, "day", 1440),
        ("rate(7 days)", 7, "day", 10080),
    ],
)
def test_valid_rate(expression, value, unit, minutes):
    parsed = parse_schedule(expression)
    assert parsed == RateSchedule(value, unit)
    assert parsed.minutes == minutes
    assert parsed.expression == expression


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(1 minutes)", "a rate of 1 takes a singular unit: 'rate\\(1 minute\\)'"),
        ("rate(5 minute)", "a rate above 1 takes a plural unit: 'rate\\(5 minutes\\)'"),
        ("rate(0 minutes)", "positive whole number"),
        ("rate(5 weeks)", "unit minute\\(s\\), hour\\(s\\) or day\\(s\\)"),
        ("rate(-5 minutes)", "rate\\(value unit\\)"),
        ("rate(1.5 hours)", "rate\\(value unit\\)"),
        ("rate(hour)", "rate\\(value unit\\)"),
    ],
)
def test_invalid_rate(expression, message):
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(expression)


def test_not_a_string():
    with pytest.raises(ScheduleError, match="must be a string"):
        parse_schedule(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("cron(0 5 * * ? *)", None),
        ("cron(30 */6 * * ? *)", None),
        ("rate(1 day)", "AWS Backup accepts only cron expressions"),
        ("cron(* 5 * * ? *)", "at most once an hour: the minutes field must be one minute .* not '\\*'"),
        ("cron(0/30 * * * ? *)", "at most once an hour"),
        ("cron(0,30 * * * ? *)", "at most once an hour"),
        ("cron(0 5 * * *)", "six fields"),
    ],
)
def test_backup_schedule_rules(expression, problem):
    _assert_problem(backup_schedule_problem(expression), problem)


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("cron(0 3 * * ? *)", None),
        ("cron(0/5 * * * ? *)", None),  # every 5 minutes: the fastest Glue runs
        ("cron(0,58 3 * * ? *)", None),  # 03:00 and 03:58, then the next day
        ("cron(58 23,0 * * ? *)", None),  # 23:58 and 00:58: an hour apart
        (
            "cron(0/4 * * * ? *)",
            r"^runs every 4 minute\(s\): Glue runs a crawler schedule at most every 5 minutes",
        ),
        ("cron(* 3 * * ? *)", r"^runs every 1 minute\(s\)"),
        ("cron(0,58 * * * ? *)", r"^runs every 2 minute\(s\)"),  # 00:58 then 01:00
        ("cron(58,1 23,0 * * ? *)", r"^runs every 3 minute\(s\)"),  # 23:58 then 00:01, across midnight
        ("rate(1 day)", r"^Glue crawler schedules are cron expressions"),
    ],
)
def test_glue_schedule_rules(expression, problem):
    _assert_problem(glue_schedule_problem(expression), problem)


def _assert_problem(found: str | None, problem: str | None) -> None:
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert re.search(problem, found), found
