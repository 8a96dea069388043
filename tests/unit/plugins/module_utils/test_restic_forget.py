"""restic's forget flags from a keep policy (module_utils/restic.py forget_args)."""

import pytest

from ansible_collections.homelab.stack.plugins.module_utils.restic import ResticError, forget_args


def test_each_key_becomes_its_keep_flag_in_restics_order():
    assert forget_args({"yearly": 2, "daily": 7, "last": 3, "weekly": 4, "monthly": 12, "hourly": 72}) == [
        "forget", "--keep-last", "3", "--keep-hourly", "72", "--keep-daily", "7", "--keep-weekly", "4",
        "--keep-monthly", "12", "--keep-yearly", "2"]


def test_all_for_one_key_is_restics_unlimited():
    args = forget_args({"daily": 7, "monthly": "all"})
    assert args == ["forget", "--keep-daily", "7", "--keep-monthly", "unlimited"]


def test_a_policy_that_keeps_everything_has_no_forget():
    assert forget_args("all") is None


@pytest.mark.parametrize(("keep", "message"), [
    ({"daily": 0}, "keep.daily: 0 is not a positive integer or 'all'"),
    ({"daily": -1}, "keep.daily: -1 is not a positive integer or 'all'"),
    ({"daily": "7"}, "keep.daily: '7' is not a positive integer or 'all'"),
    ({"daily": True}, "keep.daily: True is not a positive integer or 'all'"),
    ({"daily": 1.5}, "keep.daily: 1.5 is not a positive integer or 'all'"),
    ({"within": 3}, "keep: within is not one of last, hourly, daily, weekly, monthly, yearly"),
    ({}, "keep: must be a mapping of last, hourly, daily, weekly, monthly, yearly or 'all', not {}"),
    ("forever", "keep: must be a mapping of last, hourly, daily, weekly, monthly, yearly or 'all', not 'forever'"),
    (None, "keep: must be a mapping of last, hourly, daily, weekly, monthly, yearly or 'all', not None"),
])
def test_a_bad_policy_is_refused(keep, message):
    with pytest.raises(ResticError) as info:
        forget_args(keep)
    assert str(info.value) == message
