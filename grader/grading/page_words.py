"""The words of the report page and of ``grader grade``'s text report, keyed by their ``Msg``'s
value (``grader.grading.messages`` adds them to its templates, and says them)."""

PAGE_TEMPLATES: dict[str, str] = {
    "page_title": "{exercise}: report",
    "page_score": "Score {score:g} of {max_score:g}:",
    "page_points": "{points:g} of {max_points:g} points",
    "page_hidden": "hidden case",
    "page_expected": "Expected output",
    "page_yours": "Your output",
    "page_difference": "Difference, yours minus expected",
    "page_difference_key": "Difference, yours minus expected (blue: yours is lower, red: "
                             "higher)",
    "page_no_array": "Your code gave no array to draw for this case.",
    "page_no_difference": "No difference to draw: your output has shape {got}, the "
                            "expected one {expected}.",
    "page_ran_otherwise": "Your code gave another result when it ran again for this page "
                            "({status}); the pictures show that run.",
    "page_cut": "No picture: your code ran out of the time this page gives it to run again (a "
                "few times what its grading took, a few seconds at most); reload the page to "
                "try again.",
    "page_printed": "What your code printed",
    "page_nothing": "nothing",
    "page_not_graded": "The grader could not grade this submission.",
    "page_pending": "This submission is {status}, not graded yet. This page reloads itself.",
    "page_what_to_try": "What is wrong, and what to try",
    "page_all_match": "Every case matches the expected output.",
    "page_nothing_to_fix": "Nothing to fix",
    "page_hidden_failed": "Every visible case matches, but {count} hidden case(s) did not "
                            "pass ({what}). Hidden cases use other inputs: test your function "
                            "on other shapes and values too.",
    "page_syntax_try": "Your file does not parse, so no case could run: fix this line first.",
    "page_error_try": "Your code raised an exception: read the line and the message, then "
                        "run the case yourself with its inputs (below, \"Reproduce\").",
    "page_timeout_try": "Your code did not finish in time: look for a loop that never ends, "
                          "or one that does far more work than the output needs.",
    "page_limit": "stopped at the {kind} limit of {seconds:g} s",
    "page_limit_cpu": "CPU time",
    "page_limit_wall": "wall-clock time",
    "page_failed_try": "Compare your output with the expected one in the case below, and run "
                         "it yourself with its inputs (\"Reproduce\").",
    "page_in_cases": "in {cases}",
    "page_confidence": "confidence {confidence}",
    "page_matches": "matches the expected output",
    "page_inputs": "Inputs",
    "page_input": "Input {name}",
    "page_reproduce": "Reproduce: this case's inputs as Python",
    "page_reproduce_call": "paste your function {entry} above this line, then run the file",
    "page_too_many_values": "{name} has {count} values, too many to list here",
    "page_too_large": "Your output is much larger than the expected one: too large to draw.",
    "page_statement": "The exercise's statement",
    "verdict_passed": "passed",
    "verdict_not_passed": "not passed",
    "text_score": "score {score:g}/{max_score:g}  {verdict}  ({ms:.0f} ms)",
    "text_hidden": " (hidden)",
    "text_diagnosis": "diagnosis:",
    "text_printed": "printed output:",
    "text_more_printed": "... and {count} more lines (--format json shows them all)",
}
