"""How the CI harness finds a notebook's exercises (workbook/notebooks/solutions.py): no kernel."""

from __future__ import annotations

import nbformat

from workbook.notebooks.course import README_END, README_START, about, write_readme_table
from workbook.notebooks.solutions import find_exercises, wrong_answers


def cell(kind: str, source: str, *tags: str):
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    made = make(source)
    if tags:
        made.metadata["tags"] = list(tags)
    return made


SOLUTION = (
    "<details><summary>Show a solution</summary>\n\n```python\nanswer = 42\n```\n\n</details>"
)


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_an_exercise_is_found_with_its_check_and_solution():
    nb = notebook(
        cell("markdown", "### Your turn 3.1: the answer"),
        cell("code", "answer = ...", "exercise"),
        cell("code", 'ex.check("3.1", checks.is_42, answer);', "check"),
        cell("markdown", SOLUTION, "solution"),
    )
    [exercise], problems = find_exercises(nb)
    assert problems == []
    assert (exercise.id, exercise.exercise_cell, exercise.check_cell) == ("3.1", 1, 2)
    assert exercise.solution == "answer = 42\n"


def test_a_missing_check_solution_or_heading_is_reported():
    nb = notebook(
        cell("code", "answer = ...", "exercise"),
        cell("code", 'ex.check("3.1", checks.is_42, answer)', "check"),
        cell("markdown", "```python\nanswer = 42\n```", "solution"),
        cell("code", "other = ...", "exercise"),
    )
    exercises, problems = find_exercises(nb)
    assert [e.id for e in exercises] == ["3.1"]
    assert problems == [
        "exercise 3.1: the solution is not folded in <details>",
        "exercise 3.1: no '### Your turn 3.1' before it",
        "cell 4 (tagged exercise): no code cell tagged check after it",
    ]


def test_repeated_ids_are_reported():
    one = [
        cell("markdown", "### Your turn 1.1: x"),
        cell("code", "x = ...", "exercise"),
        cell("code", 'ex.check("1.1", f, x)', "check"),
        cell("markdown", SOLUTION, "solution"),
    ]
    _, problems = find_exercises(notebook(*one, *one))
    assert problems == ["exercise ids repeat: ['1.1', '1.1']"]


def test_wrong_answers_are_read_without_importing_the_lessons():
    wrong = wrong_answers(1)
    assert set(wrong) == {"1.1", "1.2", "1.3"}
    assert wrong["1.2"] == "missing_status = 404"
    assert wrong_answers(99) == {}


def test_run_times_are_stated_to_the_second_then_to_5_s():
    assert [about(s) for s in (0.2, 3.3, 12.5, 59.4, 61, 128)] == [
        "~1 s",
        "~3 s",
        "~12 s",
        "~59 s",
        "~60 s",
        "~130 s",
    ]


def test_the_readme_table_is_written_between_its_markers_only(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{README_START}\nold table\n{README_END}\nrest\n")
    assert write_readme_table(readme) is True
    text = readme.read_text()
    assert text.startswith(f"intro\n{README_START}\n| notebook |")
    assert text.endswith(f"{README_END}\nrest\n")
    assert "old table" not in text
    assert write_readme_table(readme) is False  # nothing changes the second time
    (tmp_path / "plain.md").write_text("no markers\n")
    assert write_readme_table(tmp_path / "plain.md") is False
