"""The checkers of the notebooks' exercises, one module per notebook (`nb00` ... `nb09`).

A checker takes what the learner built (a value, a function, a job name) and the lab, checks it
against the real runtime, raises `workbook.lessons.exercises.NotYet("what is wrong")` for a
wrong answer and returns a short description of what it verified. Each module also holds
`WRONG = {"N.k": "<code of a plausible mistake>"}`, one per exercise: CI runs each check once
with that code in the exercise cell (it must fail) and once with the solution (it must pass).

    from workbook.lessons import exercises as ex
    from workbook.lessons.checks import nb01 as checks
    ex.check("1.1", checks.job_is_stored, wb, name)
"""
