"""``cashfuzz diff --against ENGINE`` for every adapter: real engines, the zoo, a user's rules."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from cashfuzz.adapters.diff_rules import (
    CASH_CHECK_TIMING,
    LONG_ONLY,
    NO_CASH_CHECK,
    REASON_NAMES,
    UNEXPLAINED,
    Explanation,
    Fill,
    OrderOutcome,
    Question,
    difference_rules,
)
from cashfuzz.adapters.kit import Account, Factory, StepEngine
from cashfuzz.cli import main
from cashfuzz.examples import EXAMPLES, load_example
from cashfuzz.reference_engine import (
    OrderState,
    Reason,
    Scenario,
    Side,
    Step,
    load_scenario,
    scenario_from_dict,
    scenario_to_dict,
    write_scenario,
)
from cashfuzz.search.differential import compare
from tests.adapters.engine_kit import require_engine

FINDINGS = Path(__file__).resolve().parents[2] / "examples" / "findings"
#: engine -> (package, marker), as in test_findings.py
ENGINES = {
    "backtesting": ("backtesting", pytest.mark.backtesting),
    "nautilus": ("nautilus_trader", pytest.mark.nautilus),
}


@pytest.fixture(autouse=True)
def _plain_wide_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def _need(engine: str) -> None:
    require_engine(ENGINES[engine][0])


def _cases() -> list[object]:
    found = []
    for engine, (_, marker) in ENGINES.items():
        for path in sorted(FINDINGS.glob("*.json")):
            found.append(pytest.param(engine, str(path), id=f"{engine}-{path.stem}", marks=marker))
        for name in EXAMPLES:
            found.append(pytest.param(engine, name, id=f"{engine}-{name}", marks=marker))
    return found


def _scenario(source: str) -> Scenario:
    return load_scenario(source) if source.endswith(".json") else load_example(source)


@pytest.mark.parametrize(("engine", "source"), _cases())
def test_every_difference_is_explained(engine: str, source: str) -> None:
    """On each checked-in finding and built-in example, the engine runs the adapted
    scenario and its own rules or the generic ones explain every difference."""
    _need(engine)
    comparison = compare(_scenario(source), engine, adapt=True)
    assert comparison.against == engine
    assert comparison.other.final is not None, comparison.other.crash
    unexplained = [d for d in comparison.differences if d.category == UNEXPLAINED]
    assert unexplained == []


@pytest.mark.parametrize(
    ("engine", "finding", "category"),
    [
        pytest.param(
            "nautilus",
            "nautilus-signals_accounted",
            "backtest_stopped",
            marks=ENGINES["nautilus"][1],
        ),
        pytest.param("nautilus", "backtrader-legal_lifecycle", CASH_CHECK_TIMING),
        pytest.param(
            "backtesting",
            "backtesting-signals_accounted",
            "out_of_money",
            marks=ENGINES["backtesting"][1],
        ),
        pytest.param(
            "backtesting",
            "backtrader-cash_non_negative",
            "orders_never_expire",
            marks=ENGINES["backtesting"][1],
        ),
    ],
)
def test_engine_rules_name_the_engines_behaviour(engine: str, finding: str, category: str) -> None:
    """The engine's own rules, declared on its factory, name what it does differently."""
    _need(engine)
    comparison = compare(load_scenario(FINDINGS / f"{finding}.json"), engine, adapt=True)
    assert category in {d.category for d in comparison.differences}


@pytest.mark.nautilus
def test_nautilus_without_its_rules_leaves_differences_unexplained(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The generic rules alone do not explain nautilus's stop: its own rules are needed."""
    _need("nautilus")
    from cashfuzz.adapters.nautilus import nautilus_factory

    monkeypatch.setattr(nautilus_factory, "difference_rules", ())
    scenario = load_scenario(FINDINGS / "nautilus-signals_accounted.json")
    comparison = compare(scenario, "nautilus", adapt=True)
    assert UNEXPLAINED in {d.category for d in comparison.differences}


def test_zoo_engine_shows_the_race_as_cash_check_timing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """zoo:naive_sizing accepts the third GOOGL/AAPL order and refuses it at fill."""
    assert main(["diff", "--example", "googl-aapl", "--against", "zoo:naive_sizing"]) == 0
    out = capsys.readouterr().out
    assert "reference vs zoo:naive_sizing" in out
    comparison = compare(load_example("googl-aapl"), "zoo:naive_sizing")
    third = [d for d in comparison.differences if d.order_id == 3]
    assert [(d.field, d.category) for d in third] == [("outcome", CASH_CHECK_TIMING)]
    assert third[0].explanation.startswith(
        "zoo:naive_sizing checks cash at execution, not at signal time"
    )


def test_json_names_the_engine_spec(capsys: pytest.CaptureFixture[str]) -> None:
    """`--json` keys the engine's side and values by its spec, and says it was not adapted."""
    assert main(["diff", "--example", "googl-aapl", "--against", "zoo:naive_sizing", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {
        "agree",
        "against",
        "adapted",
        "differences",
        "reference",
        "zoo:naive_sizing",
    }
    assert (payload["against"], payload["adapted"]) == ("zoo:naive_sizing", False)
    assert all("zoo:naive_sizing" in d for d in payload["differences"])
    assert payload["zoo:naive_sizing"]["orders"][2]["outcome"] == "refused at fill"


@pytest.mark.backtesting
def test_unsupported_scenario_exits_2_and_adapt_compares(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two symbols on backtesting.py: exit 2 naming the field and --adapt; with --adapt the
    comparison runs on the adapted scenario and both outputs say so."""
    _need("backtesting")
    assert main(["diff", "--example", "googl-aapl", "--against", "backtesting"]) == 2
    err = capsys.readouterr().err
    assert "bars name 2 symbols" in err
    assert "add --adapt" in err
    assert main(["diff", "--example", "googl-aapl", "--against", "backtesting", "--adapt"]) == 0
    assert "scenario adapted by backtesting's adapt_scenario" in capsys.readouterr().out
    argv = ["diff", "--example", "googl-aapl", "--against", "backtesting", "--adapt", "--json"]
    assert main(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["adapted"] is True
    assert {bar["symbol"] for bar in payload["adapted_scenario"]["bars"]} == {"AAPL"}
    assert payload["backtesting"]["final"] is not None


def test_against_the_reference_itself_or_unknown_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--against reference` and an unknown spec exit 2 saying what to give."""
    assert main(["diff", "--example", "googl-aapl", "--against", "reference"]) == 2
    assert "name another engine" in capsys.readouterr().err
    assert main(["diff", "--example", "googl-aapl", "--against", "zoo:nope"]) == 2
    assert "no zoo engine 'nope'" in capsys.readouterr().err


_USER_ADAPTER = """
from cashfuzz.engines import naive_engine_factory

def blame_the_race(question):
    if question.field == "outcome":
        return "my_race", f"{question.engine} sizes every order from total cash"
    return None

class NaiveWithRules:
    difference_rules = (blame_the_race,)

    def __call__(self, config, observer=None):
        return naive_engine_factory(config, observer)

factory = NaiveWithRules()

class BadRules(NaiveWithRules):
    difference_rules = "not rules"

bad = BadRules()
"""


def test_a_users_factory_ships_its_own_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A factory's difference_rules are asked first; a non-sequence of rules exits 2."""
    adapter = tmp_path / "my_adapter.py"
    adapter.write_text(_USER_ADAPTER)
    comparison = compare(load_example("googl-aapl"), f"{adapter}:factory")
    outcome = [d for d in comparison.differences if d.field == "outcome"]
    assert [d.category for d in outcome] == ["my_race"]
    assert outcome[0].explanation == f"{adapter}:factory sizes every order from total cash"
    assert main(["diff", "--example", "googl-aapl", "--against", f"{adapter}:bad"]) == 2
    assert "difference_rules is a str" in capsys.readouterr().err


def test_the_kit_factory_passes_on_the_engines_rules() -> None:
    """Factory(Engine) exposes the engine class's difference_rules, read by getattr."""

    def rule(question: Question) -> Explanation | None:
        return None

    class Quiet(StepEngine):
        difference_rules = (rule,)

        def account(self) -> Account:
            return Account(0, {})

        def on_step(self, step: Step) -> None:
            pass

    assert difference_rules(Factory(Quiet)) == (rule,)
    assert difference_rules(object()) == ()


def test_a_failing_reference_engine_exits_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reference engine that breaks an invariant or crashes is cashfuzz's fault: exit 3."""
    import cashfuzz.search.differential as differential
    from cashfuzz.engines import resolve_engine

    def naive_as_reference(name: str | None) -> object:
        return resolve_engine("naive" if name == "reference" else name)

    monkeypatch.setattr(differential, "resolve_engine", naive_as_reference)
    assert main(["diff", "--example", "googl-aapl", "--against", "zoo:naive_sizing"]) == 3
    assert "the reference engine broke" in capsys.readouterr().err

    def crashing(config: object, observer: object = None) -> object:
        raise RuntimeError("boom")

    def crashing_reference(name: str | None) -> object:
        return crashing if name == "reference" else resolve_engine(name)

    monkeypatch.setattr(differential, "resolve_engine", crashing_reference)
    assert main(["diff", "--example", "googl-aapl", "--against", "zoo:naive_sizing"]) == 3
    assert "the reference engine crashed" in capsys.readouterr().err


def _tiny(side: str, quantity: int, **settings: object) -> Scenario:
    """One AAPL bar at 0.0100 (volume 0), 0.01 cash, one signal."""
    bar = {"symbol": "AAPL", "open": "0.01", "high": "0.01", "low": "0.01", "close": "0.01"}
    return scenario_from_dict(
        {
            "initial_cash": "0.01",
            **settings,
            "bars": [{"timestamp": 0, **bar, "volume": 0}],
            "signals": [{"timestamp": 0, "symbol": "AAPL", "side": side, "quantity": quantity}],
        }
    )


def test_a_fill_that_drove_cash_negative_is_not_said_to_be_covered() -> None:
    """zoo:overdraft_fills fills the third GOOGL/AAPL BUY that the reference rejected for
    cash, and its cash goes negative: the row says it checks cash at execution neither,
    and where cash went, not that its cash covered the fill."""
    comparison = compare(load_example("googl-aapl"), "zoo:overdraft_fills")
    third = [d for d in comparison.differences if d.order_id == 3]
    assert [(d.field, d.category) for d in third] == [("outcome", NO_CASH_CHECK)]
    why = third[0].explanation
    assert "covered" not in why
    assert "did not check this order against its cash" in why
    assert why.endswith(f"its cash went to {comparison.differences[1].other}")
    assert comparison.differences[1].other.startswith("-")


@pytest.mark.nautilus
def test_both_refusing_a_sell_for_want_of_shares_is_not_sizing() -> None:
    """The reference's NOTHING_TO_SELL against nautilus's EXCEEDS_POSITION: one cause, two
    names; the row says so and names both reasons."""
    _need("nautilus")
    comparison = compare(_tiny("SELL", 1), "nautilus", adapt=True)
    assert [(d.field, d.category) for d in comparison.differences] == [("outcome", REASON_NAMES)]
    why = comparison.differences[0].explanation
    assert "refused signal 0 (SELL 1 AAPL) for want of shares to sell" in why
    assert "NOTHING_TO_SELL" in why
    assert "EXCEEDS_POSITION" in why
    assert "sized" not in why


@pytest.mark.backtesting
def test_backtesting_selling_what_it_does_not_hold_on_the_last_bar_is_long_only() -> None:
    """backtesting.py queues a SELL of shares it does not hold on the last bar: the row is
    the long-only difference, the last bar a detail."""
    _need("backtesting")
    comparison = compare(_tiny("SELL", 1), "backtesting", adapt=True)
    assert [(d.field, d.category) for d in comparison.differences] == [("outcome", LONG_ONLY)]
    why = comparison.differences[0].explanation
    assert "a SELL beyond its position" in why
    assert "Placed on the last bar" in why


@pytest.mark.nautilus
def test_fills_at_two_prices_are_shown_not_averaged_away() -> None:
    """nautilus fills 1 @ 0.0100 and 1 @ 0.0101 (averaging 0.0100 to the tick): the outcome
    cell and the price row show both fills."""
    _need("nautilus")
    case = _tiny("BUY", 2, fill_at="same_close", max_participation=None)
    comparison = compare(case, "nautilus")
    outcome, price = (
        next(d for d in comparison.differences if d.field == name) for name in ("outcome", "price")
    )
    assert outcome.other == "filled: 1 @ 0.0100, 1 @ 0.0101"
    assert (price.reference, price.other) == ("1 @ 0.0100", "1 @ 0.0100, 1 @ 0.0101")


def test_fills_text_lists_each_price_and_summarises_many() -> None:
    """Fills are listed per price in fill order; past four prices, count, range and average."""
    order = OrderOutcome(1, "AAPL", Side.BUY, 0, 2, 2, True)
    assert order.fills_text() == "-"
    order.fills += [Fill(0, 1, 100, 0, -1), Fill(1, 2, 101, 0, -2), Fill(2, 1, 100, 0, -1)]
    assert order.fills_text() == "2 @ 0.0100, 2 @ 0.0101"
    order.fills += [Fill(t, 1, 100 + t, 0, -1) for t in range(2, 6)]
    assert order.fills_text() == "8 in 7 fills from 0.0100 to 0.0105, average 0.0102"


_ADAPTING_ADAPTER = """
import dataclasses
from cashfuzz.engines import naive_engine_factory

class Adapting:
    def __call__(self, config, observer=None):
        return naive_engine_factory(config, observer)

    def adapt_scenario(self, scenario):
        return dataclasses.replace(scenario, description="adapted: " + scenario.description)

factory = Adapting()
"""


def _suggested_runs(explanation: str) -> list[list[str]]:
    """The ``cashfuzz ...`` commands an unexplained row suggests, as argv lists."""
    found = re.findall(r"cashfuzz ((?:diff|run) .*?)(?=, then | and cashfuzz |$)", explanation)
    return [shlex.split(command) for command in found]


def test_an_unexplained_row_suggests_commands_that_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no rules, a row is unexplained and suggests cashfuzz run with the scenario's path
    for both engines; for an adapted scenario, saving it with --save-adapted first. Each
    suggested command runs (exit 1: the naive engine's finding; 0: the reference)."""
    import cashfuzz.search.differential as differential

    monkeypatch.setattr(differential, "GENERIC_RULES", ())
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "my scenarios"
    folder.mkdir()
    path = write_scenario(load_example("googl-aapl"), folder / "race.json")
    assert main(["diff", str(path), "--against", "zoo:naive_sizing", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    unexplained = [d for d in payload["differences"] if d["category"] == UNEXPLAINED]
    assert {d["subject"] for d in unexplained} >= {"order 3"}
    for difference in unexplained:
        assert f"cashfuzz run '{path}' --engine zoo:naive_sizing" in difference["explanation"]
    why = unexplained[0]["explanation"]
    runs = _suggested_runs(why)
    assert [main(argv) for argv in runs] == [1, 0]
    capsys.readouterr()

    adapter = tmp_path / "adapting.py"
    adapter.write_text(_ADAPTING_ADAPTER)
    spec = f"{adapter}:factory"
    assert main(["diff", str(path), "--against", spec, "--adapt", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    why = next(d["explanation"] for d in payload["differences"] if d["category"] == UNEXPLAINED)
    assert "--adapt --save-adapted adapted.json" in why
    save, *runs = _suggested_runs(why)
    assert main(save) == 0
    assert load_scenario(tmp_path / "adapted.json").description.startswith("adapted: ")
    assert [main(argv) for argv in runs] == [1, 0]


def test_save_adapted_to_a_folder_that_does_not_exist_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--save-adapted FILE that cannot be written is the user's input: exit 2 naming it."""
    (tmp_path / "a-file").write_text("")
    target = tmp_path / "a-file" / "adapted.json"
    argv = ["diff", "--example", "googl-aapl", "--against", "zoo:naive_sizing"]
    assert main([*argv, "--save-adapted", str(target)]) == 2
    assert "--save-adapted" in capsys.readouterr().err


def test_piped_output_prints_blocks_that_never_break_a_word(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """At 80 columns (or piped) each difference is a block; every value and explanation
    appears whole, wrapped between words only, and no line is wider than 80 unless it
    is one unbreakable token."""
    monkeypatch.setenv("COLUMNS", "80")
    argv = ["diff", "--example", "googl-aapl", "--against", "zoo:overdraft_fills"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert all(len(line) <= 80 or " " not in line.strip() for line in lines[3:])
    joined = " ".join(line.strip() for line in lines)
    comparison = compare(load_example("googl-aapl"), "zoo:overdraft_fills")
    for difference in comparison.differences:
        assert f"{difference.subject}: {difference.field}" in lines
        assert f"why: {difference.explanation}" in joined
        assert f"zoo:overdraft_fills: {difference.other}" in joined
        assert f"category: {difference.category}" in joined


def test_piped_output_keeps_each_suggested_command_on_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unexplained row's cashfuzz run commands are never split across lines, so a copied
    line runs as it is (wrapping happens between the commands, not inside one)."""
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["diff", "--example", "googl-aapl", "--against", "zoo:unlogged_commission"]) == 0
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    spec = "--example googl-aapl --engine"
    assert f"cashfuzz run {spec} zoo:unlogged_commission and" in lines
    assert f"cashfuzz run {spec} reference" in lines


def _readme_rules() -> dict[str, object]:
    """The functions of the Python block in the README's section on cashfuzz diff."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Explaining differences", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert ".outcome ==" not in block
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)  # the README's own example
    return namespace


def _order(state: OrderState, reason: Reason | None = None) -> OrderOutcome:
    accepted = state is not OrderState.REJECTED
    return OrderOutcome(1, "AAPL", Side.SELL, 0, 1, 1, accepted, reason=reason, state=state)


def test_the_readme_rule_examples_fire_on_state_and_reason() -> None:
    """The README's example rules judge by OrderState and Reason, so they fire on an expired
    order and on a rejection whose outcome text is 'rejected (CANNOT_COVER_FEE)'."""
    rules = _readme_rules()
    scenario = load_example("googl-aapl")

    def ask(rule: object, reference: OrderOutcome, other: OrderOutcome) -> object:
        assert callable(rule)
        question = Question(
            "my:engine",
            scenario,
            "order 1",
            "outcome",
            reference.outcome,
            other.outcome,
            order_id=1,
            reference=reference,
            other=other,
        )
        return rule(question)

    filled = _order(OrderState.FILLED)
    expired = _order(OrderState.EXPIRED)
    assert ask(rules["orders_never_expire"], expired, filled) == (
        "orders_never_expire",
        "my:engine keeps DAY orders until they fill",
    )
    assert ask(rules["orders_never_expire"], filled, expired) is None
    fee = _order(OrderState.REJECTED, Reason.CANNOT_COVER_FEE)
    assert fee.outcome == "rejected (CANNOT_COVER_FEE)"
    answer = ask(rules["sale_fee_unchecked"], fee, filled)
    assert answer == ("sale_fee_unchecked", "my:engine never checks a sale's fee against cash")
    cash = _order(OrderState.REJECTED, Reason.INSUFFICIENT_CASH)
    assert ask(rules["sale_fee_unchecked"], cash, filled) is None


def test_a_sale_whose_fee_drove_cash_negative_says_so() -> None:
    """zoo:sell_fee_unchecked books a SELL the reference rejected (CANNOT_COVER_FEE) and its
    cash goes negative: no_cash_check, naming the commission and the cash it went to."""
    case = _tiny("BUY", 1, max_participation=None, fill_at="same_close")
    raw = scenario_to_dict(case)
    raw["initial_cash"] = "2.56"
    raw["costs"] = {"commission_rate": "0", "commission_min": "2.50"}
    raw["bars"].append(dict(raw["bars"][0], timestamp=1))
    raw["signals"].append({"timestamp": 1, "symbol": "AAPL", "side": "SELL", "quantity": 1})
    comparison = compare(scenario_from_dict(raw), "zoo:sell_fee_unchecked")
    sale = next(d for d in comparison.differences if d.order_id == 2)
    assert (sale.field, sale.category) == ("outcome", NO_CASH_CHECK)
    assert sale.reference == "rejected (CANNOT_COVER_FEE)"
    assert "could not pay the sale's commission: its cash went to -2.44" in sale.explanation


@pytest.mark.backtrader
def test_a_refusal_after_a_sizing_rejection_is_put_down_to_sizing() -> None:
    """The reference rejected signal 3 because its target was reached (it counts pending
    buys); backtrader placed it and refused it for cash. The cause given is sizing, not the
    timing of a cash check the reference never made."""
    require_engine("backtrader")
    found = load_scenario(FINDINGS / "backtrader-cash_non_negative.json")
    comparison = compare(found, "backtrader")
    (row,) = [d for d in comparison.differences if d.order_id == 4 and d.field == "outcome"]
    assert row.category == "sizing", row
    assert "TARGET_REACHED" in row.explanation
    assert "refused the order" in row.explanation


@pytest.mark.backtesting
def test_out_of_money_says_below_zero_only_when_cash_went_below_zero() -> None:
    """backtesting.py's run ended at zero equity with cash never negative: the final books'
    row says equity reached zero, not that cash went below zero."""
    require_engine("backtesting")
    found = load_scenario(FINDINGS / "backtesting-signals_accounted.json")
    comparison = compare(found, "backtesting", adapt=True)
    assert "cash_non_negative" not in {v.invariant for v in comparison.other.violations}
    rows = [d for d in comparison.differences if d.order_id is None]  # the final books
    assert rows
    assert all(d.category == "out_of_money" for d in rows)
    assert all("below zero" not in d.explanation for d in rows)
    assert any("once its equity reached zero" in d.explanation for d in rows)
