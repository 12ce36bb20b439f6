"""How ``mxicat`` fails: one ``mxicat: error:`` line, an exit code per kind of failure, tracebacks only with
``--debug``, and a quiet exit when the reader of stdout goes away (``mxicat ... | head``)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

import mxicat.errors
from mxicat.cli import cli
from mxicat.cli.failures import DEBUG_HINT, EX_IOERR, EXIT_BROKEN_PIPE, EXIT_UNEXPECTED, stdout_closed
from mxicat.errors import MxicatError

REPO = Path(__file__).resolve().parents[2]
ERROR_CLASSES = sorted(
    (cls for cls in vars(mxicat.errors).values()
     if isinstance(cls, type) and issubclass(cls, MxicatError)),
    key=lambda cls: cls.__name__,
)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="mxicat")


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("mxicat: error:")]


@pytest.fixture
def failing() -> Iterator[Callable[[BaseException], None]]:
    """Install ``mxicat k-fail``, a command that prints a line and raises the exception it is given."""
    raised: list[BaseException] = []

    @click.command("k-fail")
    def k_fail() -> None:
        """Raise the exception the test chose."""
        click.echo("partial output")
        raise raised[0]

    cli.add_command(k_fail)
    try:
        yield raised.append
    finally:
        cli.commands.pop("k-fail", None)


def test_bad_catalogue_url_is_one_line_with_the_url() -> None:
    result = run("--catalogue", "nosuchscheme://somewhere", "icat", "summary")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == error_lines(result)
    (line,) = error_lines(result)
    assert line.startswith("mxicat: error: BAD_PARAMETER: ") and "nosuchscheme://somewhere" in line
    assert "Traceback" not in result.output


def test_missing_catalogue_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "absent.db"
    result = run("--catalogue", f"sqlite:///{missing}", "icat", "summary")
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert str(missing) in line and not missing.exists()


def test_bad_setting_in_the_environment_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MXICAT_MAX_ENTITIES", "lots")
    result = run("--catalogue", f"sqlite:///{tmp_path / 'mx.db'}", "icat", "summary")
    assert result.exit_code == mxicat.errors.ConfigurationError.exit_code
    (line,) = result.stderr.splitlines()
    assert line.startswith("mxicat: error: BAD_PARAMETER: invalid settings") and "max_entities='lots'" in line


def test_config_file_that_is_not_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "mxicat.toml"
    config.write_text("[mxicat\ncatalogue = ", encoding="utf-8")
    monkeypatch.setenv("MXICAT_CONFIG", str(config))
    result = run("--catalogue", f"sqlite:///{tmp_path / 'mx.db'}", "icat", "summary")
    assert result.exit_code == mxicat.errors.ConfigurationError.exit_code
    (line,) = result.stderr.splitlines()
    assert "not valid TOML" in line


def test_missing_input_file_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "metadata.json"
    result = run("ontology", "validate", str(missing))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Usage: mxicat ontology validate ")
    assert lines[-1].startswith("mxicat: error: ") and str(missing) in lines[-1]
    assert len(error_lines(result)) == 1


def test_unwritable_output_is_an_io_error(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "ontology.json"
    result = run("ontology", "export", "-o", str(target))
    assert result.exit_code == EX_IOERR
    assert error_lines(result) == [f"mxicat: error: {target}: No such file or directory"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-command"], "No such command 'no-such-command'."),
        (["--no-such-option"], "No such option: --no-such-option"),
        (["push"], "Missing argument 'PATHS...'."),
        (["ontology", "list", "--record", "cooked"], "Invalid value for '--record'"),
    ],
    ids=["command", "global-option", "argument", "choice"],
)
def test_usage_errors_print_usage_then_one_error_line(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2  # as BAD_PARAMETER
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Usage: mxicat")
    assert lines[-2].startswith("Try 'mxicat") and lines[-2].endswith(" --help' for help.")
    assert lines[-1].startswith("mxicat: error: ") and message.split(":")[0] in lines[-1]


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=[c.__name__ for c in ERROR_CLASSES])
def test_every_error_class_gives_its_code_and_exit_code(
    cls: type[MxicatError], failing: Callable[[BaseException], None]
) -> None:
    failing(cls("the object 'x' is not there") if cls is not mxicat.errors.InvalidRequestError
            else cls("the object 'x' is not there", errors=[]))
    result = run("k-fail")
    assert result.exit_code == cls.exit_code != 0
    assert result.stdout == "partial output\n"
    assert result.stderr == f"mxicat: error: {cls.code}: the object 'x' is not there\n"


def test_exit_codes_of_other_failures_are_not_taken_by_error_classes() -> None:
    taken = {cls.exit_code for cls in ERROR_CLASSES}
    assert EX_IOERR not in taken and EXIT_BROKEN_PIPE not in taken


def test_debug_adds_the_traceback_and_keeps_the_exit_code(failing: Callable[[BaseException], None]) -> None:
    error = mxicat.errors.NoSuchObjectFoundError("no Dataset 42")
    failing(error)
    quiet = run("k-fail")
    loud = run("--debug", "k-fail")
    assert quiet.exit_code == loud.exit_code == error.exit_code
    assert "Traceback" not in quiet.stderr
    assert loud.stderr.startswith("Traceback (most recent call last):")
    assert "raise raised[0]" in loud.stderr
    assert loud.stderr.splitlines()[-1] == "mxicat: error: NO_SUCH_OBJECT_FOUND: no Dataset 42"


def test_unexpected_exception_is_one_line_with_a_hint(failing: Callable[[BaseException], None]) -> None:
    failing(KeyError("startDate"))
    result = run("k-fail")
    assert result.exit_code == EXIT_UNEXPECTED == 1
    assert result.stderr == f"mxicat: error: unexpected KeyError: 'startDate' ({DEBUG_HINT})\n"
    debug = run("--debug", "k-fail")
    assert debug.exit_code == 1 and "Traceback" in debug.stderr and DEBUG_HINT not in debug.stderr
    assert debug.stderr.splitlines()[-1] == "mxicat: error: unexpected KeyError: 'startDate'"


def test_os_error_without_a_file_name(failing: Callable[[BaseException], None]) -> None:
    failing(ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"))
    result = run("k-fail")
    assert (result.exit_code, result.stderr) == (EX_IOERR, "mxicat: error: Connection refused\n")


def test_closed_stdout_exits_quietly(failing: Callable[[BaseException], None]) -> None:
    failing(BrokenPipeError(errno.EPIPE, "Broken pipe"))
    result = run("k-fail")
    assert (result.exit_code, result.stderr) == (EXIT_BROKEN_PIPE, "")


def test_stdout_closed_asks_the_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    """An EPIPE counts as 'the reader went away' only when stdout's own pipe has lost its reader."""
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        assert not stdout_closed()
        os.close(read_end)
        assert stdout_closed()
        monkeypatch.undo()


def test_warnings_are_one_line_each() -> None:
    import warnings

    @click.command("k-warn")
    def k_warn() -> None:
        """Warn twice."""
        warnings.warn("investigation mx1/1 did not exist: created it", mxicat.errors.MxicatWarning, stacklevel=1)
        warnings.warn("r_merge=5 kept as a fraction", mxicat.errors.UnitConversionWarning, stacklevel=1)

    cli.add_command(k_warn)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            result = run("k-warn")
        with pytest.warns(mxicat.errors.MxicatWarning):  # --debug: Python's own warning machinery
            debug = run("--debug", "k-warn")
    finally:
        cli.commands.pop("k-warn", None)
    assert result.exit_code == 0
    assert result.stderr == ("mxicat: warning: investigation mx1/1 did not exist: created it\n"
                             "mxicat: warning: r_merge=5 kept as a fraction\n")
    assert debug.exit_code == 0 and "mxicat: warning:" not in debug.stderr


def test_ctrl_c_is_click_s_abort(failing: Callable[[BaseException], None]) -> None:
    failing(KeyboardInterrupt())
    result = run("k-fail")
    assert result.exit_code == 1 and "Aborted!" in result.stderr and "mxicat: error" not in result.stderr


def _env() -> dict[str, str]:
    """The test's environment without MXICAT_* settings and without PYTHONUNBUFFERED (with it, CPython's
    text stdout drops the rest of a short write to a closed pipe silently instead of raising EPIPE)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MXICAT_") and k != "PYTHONUNBUFFERED"}


def _mxicat(*args: str, stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mxicat", *args], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, env=_env(), cwd=REPO, timeout=120, check=False)


def test_real_process_bad_catalogue_url() -> None:
    done = _mxicat("--catalogue", "nosuchscheme://somewhere", "icat", "summary")
    assert done.returncode == 2
    assert done.stderr.startswith("mxicat: error: BAD_PARAMETER: ") and done.stderr.count("\n") == 1
    assert done.stdout == ""


def test_real_process_piped_into_a_reader_that_has_gone() -> None:
    """``mxicat ontology list | head -0``: no 'Broken pipe' message, no 'Exception ignored', exit 141."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before mxicat writes anything
    try:
        done = _mxicat("ontology", "list", stdout=write_end)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (EXIT_BROKEN_PIPE, "")


def test_real_process_reader_stops_after_one_line() -> None:
    """As ``| head -1`` on more output than a pipe buffer holds."""
    proc = subprocess.Popen([sys.executable, "-m", "mxicat", "ontology", "list", "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, env=_env())
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().strip() == b"["
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert (proc.returncode, stderr) == (EXIT_BROKEN_PIPE, "")  # 105 kB: more than the pipe holds


@pytest.mark.parametrize("command", [["search", "resolution < 2"], ["show", "1"], ["export-mmcif", "1"],
                                     ["group", "g", "--kind", "multi_sweep", "1"]])
def test_reading_commands_do_not_create_a_missing_catalogue(tmp_path: Path, command: list[str]) -> None:
    """A mistyped catalogue path is an error naming it, not a new empty file answering "nothing found"."""
    missing = tmp_path / "typo.db"
    result = run("--catalogue", f"sqlite:///{missing}", *command)
    assert result.exit_code == 2, result.output
    (line,) = error_lines(result)
    assert str(missing) in line and "mxicat init" in line
    assert not missing.exists()
