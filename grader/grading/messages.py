"""Every sentence a learner reads, in one table. Lower layers report facts (a limit, a signal,
a reason code and its parameters); this module turns them into words: a message is an id of
``Msg`` and a template with named fields in ``TEMPLATES`` (a course that wants other words, or
another language, replaces templates, not code), and ``say(Msg.X, field=value)`` fills one in.
Compared numbers go through ``pair``, with the digits it takes for two to read differently."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from grader.grading.idiom_words import IDIOM_TEMPLATES
from grader.grading.page_words import PAGE_TEMPLATES
from grader.grading.placement_words import PLACEMENT_TEMPLATES


class Msg(StrEnum):
    # a case's verdict: what stopped it
    RAISED = "raised"
    RAISED_UNKNOWN = "raised_unknown"
    ERROR_TEXT = "error_text"
    ERROR_LINE = "error_line"
    ERROR_LINE_TEXT = "error_line_text"
    MISSING_ENTRY_CASE = "missing_entry_case"
    SYNTAX_ERROR_CASE = "syntax_error_case"
    CASE_TIME = "case_time"
    TOTAL_TIME = "total_time"
    NOT_RUN = "not_run"
    NOT_COUNTED = "not_counted"
    CASE_CPU = "case_cpu"
    CPU_TIME = "cpu_time"
    TOOK_TOO_LONG = "took_too_long"
    KILLED_FOR_MEMORY = "killed_for_memory"
    MEMORY_ERROR = "memory_error"
    OUT_OF_MEMORY = "out_of_memory"
    SIGNAL = "signal"
    EXITED = "exited"
    DIED = "died"
    PROTOCOL = "protocol"
    SILENT = "silent"
    WHILE_LOADING = "while_loading"
    # a case's verdict: what is wrong with the output
    INVALID = "invalid"
    INVALID_TYPE = "invalid_type"
    INVALID_NONE = "invalid_none"
    INVALID_NOT_AN_ARRAY = "invalid_not_an_array"
    INVALID_TUPLE = "invalid_tuple"
    INVALID_ELEMENTS = "invalid_elements"
    INVALID_TOO_LARGE = "invalid_too_large"
    INVALID_TOO_LARGE_SHAPE = "invalid_too_large_shape"
    INVALID_UNREADABLE = "invalid_unreadable"
    INVALID_UNUSABLE = "invalid_unusable"
    NOT_ACCEPTED = "not_accepted"
    A_NUMPY_ARRAY = "a_numpy_array"
    NESTED_LISTS = "nested_lists"
    A_NUMBER = "a_number"
    OR = "or"
    NOT_NUMBERS = "not_numbers"
    TOO_COARSE = "too_coarse"
    WRONG_SHAPE = "wrong_shape"
    WRONG_SHAPE_NOT_NUMBER = "wrong_shape_not_number"
    WRONG_SHAPE_IN_ARRAY = "wrong_shape_in_array"
    EMPTY_OUTPUT = "empty_output"
    WRONG_SHAPE_NUMBER = "wrong_shape_number"
    WRONG_NDIM = "wrong_ndim"
    NOT_FINITE_ONE = "not_finite_one"
    NOT_FINITE_MANY = "not_finite_many"
    NOT_FINITE_CAUSE = "not_finite_cause"
    INFINITE_CAUSE = "infinite_cause"
    NAN_COUNT = "nan_count"
    INF_COUNT = "inf_count"
    AND = "and"
    PASSED = "passed"
    WRONG_VALUES = "wrong_values"
    WRONG_VALUE = "wrong_value"
    EXCERPT = "excerpt"
    MATCHES_MISTAKE = "matches_mistake"
    # a hidden case's verdict: fixed sentences
    HIDDEN_PASSED = "hidden_passed"
    HIDDEN_WRONG_SHAPE = "hidden_wrong_shape"
    HIDDEN_WRONG_VALUES = "hidden_wrong_values"
    HIDDEN_INVALID_OUTPUT = "hidden_invalid_output"
    HIDDEN_ERROR = "hidden_error"
    HIDDEN_TIMEOUT = "hidden_timeout"
    HIDDEN_MEMORY_LIMIT = "hidden_memory_limit"
    HIDDEN_CRASHED = "hidden_crashed"
    HIDDEN_RAISED = "hidden_raised"
    # findings about the whole submission
    SYNTAX_ERROR = "syntax_error"
    SYNTAX_ERROR_LINE = "syntax_error_line"
    UNPARSABLE = "unparsable"
    LOAD_ERROR = "load_error"
    MISSING_ENTRY = "missing_entry"
    NONE_FOUND = "none_found"
    MODIFIES_INPUT = "modifies_input"
    KEPT_RUNNING = "kept_running"
    WITHHELD = "withheld"
    FLOAT32 = "float32"
    LOW_PRECISION = "low_precision"
    COMBINED_MISTAKES = "combined_mistakes"
    # diagnoses of an output's structure (grader.grading.diagnose)
    VALID_IN_ZERO_RING = "valid_in_zero_ring"
    VALID_IN_CORNER = "valid_in_corner"
    VALID_AT_START = "valid_at_start"
    REST_IS_ZEROS = "rest_is_zeros"
    RETURN_THAT_PART = "return_that_part"
    RETURN_THAT_SHAPE = "return_that_shape"
    VALID_INSIDE = "valid_inside"
    VALID_CENTRED = "valid_centred"
    MISSING_EDGE = "missing_edge"
    MISSING_EDGE_OF = "missing_edge_of"
    MISSING_OUTER = "missing_outer"
    SHIFTED = "shifted"
    SCALED = "scaled"
    SCALED_MEAN = "scaled_mean"
    SCALED_SUM = "scaled_sum"
    INTEGER_TRUNCATED = "integer_truncated"
    INTEGER_WRAPPED = "integer_wrapped"
    INTEGER_CLIPPED = "integer_clipped"
    INTEGER_ROUNDED = "integer_rounded"
    INTEGER_OUTPUT = "integer_output"
    CONSTANT_OUTPUT = "constant_output"
    CHANNELS_ALIKE = "channels_alike"
    CHANNELS_LAST = "channels_last"
    CHANNELS_OF = "channels_of"
    ARGUMENT_ORDER = "argument_order"
    SHAPE_SWAPPED = "shape_swapped"
    SHAPE_ONE_DIMENSION = "shape_one_dimension"
    SQUARE_ONLY = "square_only"
    AXIS_ROWS = "axis_rows"
    AXIS_COLUMNS = "axis_columns"
    AXIS_N = "axis_n"
    AXIS_PLACE = "axis_place"
    AXIS_VALUE = "axis_value"
    DIRECTION_DOWN = "direction_down"
    DIRECTION_UP = "direction_up"
    CROPPED = "cropped"
    EDGES_ZERO = "edges_zero"
    CORNER_SHORT = "corner_short"
    REPEATED = "repeated"
    BLOCKS = "blocks"
    BLOCKS_TAIL = "blocks_tail"
    RIGHT_SHAPE_AND = "right_shape_and"
    SHIFTED_BY = "shifted_by"
    ROLLED = "rolled"
    TRANSPOSED = "transposed"
    AXES_MOVED = "axes_moved"
    SPREAD = "spread"
    SPREAD_CUT = "spread_cut"
    TRUNCATED = "truncated"
    ROUNDED = "rounded"
    ROUNDED_WHOLE = "rounded_whole"
    COMPOSED = "composed"
    ODD_KERNELS_ONLY = "odd_kernels_only"
    EVEN_SIZES_ONLY = "even_sizes_only"
    ONE_VALUE_ONLY = "one_value_only"
    ONE_VALUE_RAISES = "one_value_raises"
    ODD_KERNELS_RAISE = "odd_kernels_raise"
    NON_SQUARE_RAISE = "non_square_raise"
    FIXED_SHAPE = "fixed_shape"
    HIDDEN_CASES = "hidden_cases"
    RIGHT_VALUES = "right_values"
    NOT_SUMMED = "not_summed"
    NOT_REDUCED = "not_reduced"
    SUMMED = "summed"
    EXTRA_AXES = "extra_axes"
    STACKED = "stacked"
    MISSING_AXES = "missing_axes"
    MISTAKE_VALUES = "mistake_values"
    EXPECTED_VALUE = "expected_value"
    MISTAKE_VALUE = "mistake_value"
    MOVE = "move"
    NEGATIVES_ZEROED = "negatives_zeroed"
    OFFSET = "offset"
    RESCALED = "rescaled"
    RESCALED_RANGE = "rescaled_range"
    INPUT_CHANGED = "input_changed"
    HOW_TRANSPOSED = "how_transposed"
    HOW_FLIPPED = "how_flipped"
    HOW_FLIPPED_ROWS = "how_flipped_rows"
    HOW_FLIPPED_COLUMNS = "how_flipped_columns"
    # idioms that Python 3 or NumPy 2 removed (grader.grading.breakage)
    ARRAY_TO_SCALAR = "array_to_scalar"
    ARRAY_INTO_ELEMENT = "array_into_element"
    FLOAT_AS_INDEX = "float_as_index"
    REMOVED_NUMPY_ALIAS = "removed_numpy_alias"
    PYTHON2_NAME = "python2_name"
    MODULE_NOT_AVAILABLE = "module_not_available"
    IMPORTS_NOTE = "imports_note"
    THREADS_NOT_AVAILABLE = "threads_not_available"
    NO_FILE_SYSTEM = "no_file_system"
    SHAPE_UNPACKED = "shape_unpacked"
    SHAPE_NOT_A_TUPLE = "shape_not_a_tuple"
    INPUT_ASKED = "input_asked"
    ARRAY_AS_INDEX = "array_as_index"
    SHAPE_INDEXED = "shape_indexed"
    MODULE_NOT_IMPORTED = "module_not_imported"
    INTEGER_OUT_OF_BOUNDS = "integer_out_of_bounds"
    LIST_ADDED_TO_ARRAY = "list_added_to_array"
    WINDOW_PAST_EDGE = "window_past_edge"
    BUILTIN_MAX_OF_ARRAY = "builtin_max_of_array"
    BUILTIN_MAX_OF_TWO = "builtin_max_of_two"
    MORE_THAN = "more_than"
    # the report page (its words: grader.grading.page_words)
    PAGE_TITLE = "page_title"
    PAGE_SCORE = "page_score"
    PAGE_POINTS = "page_points"
    PAGE_HIDDEN = "page_hidden"
    PAGE_EXPECTED = "page_expected"
    PAGE_YOURS = "page_yours"
    PAGE_DIFFERENCE = "page_difference"
    PAGE_DIFFERENCE_KEY = "page_difference_key"
    PAGE_NO_ARRAY = "page_no_array"
    PAGE_NO_DIFFERENCE = "page_no_difference"
    PAGE_RAN_OTHERWISE = "page_ran_otherwise"
    PAGE_CUT = "page_cut"
    PAGE_PRINTED = "page_printed"
    PAGE_NOTHING = "page_nothing"
    PAGE_NOT_GRADED = "page_not_graded"
    PAGE_PENDING = "page_pending"
    PAGE_WHAT_TO_TRY = "page_what_to_try"
    PAGE_ALL_MATCH = "page_all_match"
    PAGE_NOTHING_TO_FIX = "page_nothing_to_fix"
    PAGE_HIDDEN_FAILED = "page_hidden_failed"
    PAGE_SYNTAX_TRY = "page_syntax_try"
    PAGE_ERROR_TRY = "page_error_try"
    PAGE_TIMEOUT_TRY = "page_timeout_try"
    PAGE_LIMIT = "page_limit"
    PAGE_LIMIT_CPU = "page_limit_cpu"
    PAGE_LIMIT_WALL = "page_limit_wall"
    PAGE_FAILED_TRY = "page_failed_try"
    PAGE_IN_CASES = "page_in_cases"
    PAGE_CONFIDENCE = "page_confidence"
    PAGE_MATCHES = "page_matches"
    PAGE_INPUTS = "page_inputs"
    PAGE_INPUT = "page_input"
    PAGE_REPRODUCE = "page_reproduce"
    PAGE_REPRODUCE_CALL = "page_reproduce_call"
    PAGE_TOO_MANY_VALUES = "page_too_many_values"
    PAGE_STATEMENT = "page_statement"
    PAGE_TOO_LARGE = "page_too_large"
    VERDICT_PASSED = "verdict_passed"
    VERDICT_NOT_PASSED = "verdict_not_passed"
    # the text report of `grader grade`
    TEXT_SCORE = "text_score"
    TEXT_HIDDEN = "text_hidden"
    TEXT_DIAGNOSIS = "text_diagnosis"
    TEXT_PRINTED = "text_printed"
    TEXT_MORE_PRINTED = "text_more_printed"


TEMPLATES: dict[Msg, str] = {
    **{Msg(key): text for key, text in PAGE_TEMPLATES.items()},
    **{Msg(key): text for key, text in IDIOM_TEMPLATES.items()},
    **{Msg(key): text for key, text in PLACEMENT_TEMPLATES.items()},
    Msg.RAISED: "your code raised {error}",
    Msg.RAISED_UNKNOWN: "your code raised an exception",
    Msg.ERROR_TEXT: "{type}: {message}",
    Msg.ERROR_LINE: "{error} (line {line})",
    Msg.ERROR_LINE_TEXT: "{error} (line {line}: {text})",
    Msg.MISSING_ENTRY_CASE: "no function named {entry!r}",
    Msg.SYNTAX_ERROR_CASE: "the submission has a syntax error",
    Msg.CASE_CPU: "stopped: it used its {limit:g} s of CPU time, the time limit of a case",
    Msg.CASE_TIME: "stopped after {limit:g} s on the wall clock, the wall-clock limit of a case "
                   "(it slept, waited, or did not get the CPU in that time)",
    Msg.TOTAL_TIME: "stopped when the submission's total time limit of {limit:g} s (on the "
                    "wall clock) ran out",
    Msg.NOT_COUNTED: ", not counting {seconds:g} s it waited for a CPU (the machine was busy)",
    Msg.NOT_RUN: "not run: the submission's total time limit of {limit:g} s was used up",
    Msg.CPU_TIME: "the process used up its {limit:g} s of CPU time, the limit of the whole "
                  "submission",
    Msg.TOOK_TOO_LONG: "the case took too long",
    Msg.KILLED_FOR_MEMORY: "the process was killed, most likely for its memory use",
    Msg.MEMORY_ERROR: "ran out of memory: {error}",
    Msg.OUT_OF_MEMORY: "ran out of memory",
    Msg.SIGNAL: "the process died of {signal}",
    Msg.EXITED: "the process exited with status {status} before returning a result",
    Msg.DIED: "the process died",
    Msg.PROTOCOL: "the submission wrote garbage to the grader's channel",
    Msg.SILENT: "the process closed the grader's channel and stopped answering",
    Msg.WHILE_LOADING: "while loading the module, {what}",
    Msg.INVALID: "expected a numpy array of numbers, got {what}",
    Msg.INVALID_TYPE: "a {type}",
    Msg.INVALID_NONE: "a NoneType (None, what a function that ends without a return "
                      "statement returns: end yours with return and its output)",
    Msg.INVALID_NOT_AN_ARRAY: "nested lists that do not form an array ({error})",
    Msg.INVALID_TUPLE: "a tuple of {count} items, the first a {first}: return the output "
                       "alone (return out, not return out, cache)",
    Msg.INVALID_ELEMENTS: "an array of {elements}",
    Msg.INVALID_TOO_LARGE: "an array of {count} elements, more than the {limit} allowed",
    Msg.INVALID_TOO_LARGE_SHAPE: "an array of shape {shape}: {count} elements, more than "
                                 "the {limit} allowed",
    Msg.INVALID_UNREADABLE: "an output that could not be read: {fault}",
    Msg.INVALID_UNUSABLE: "something the grader cannot use",
    Msg.NOT_ACCEPTED: "expected {wanted}, got {given}",
    Msg.A_NUMPY_ARRAY: "a numpy array",
    Msg.NESTED_LISTS: "nested lists",
    Msg.A_NUMBER: "a number",
    Msg.OR: " or ",
    Msg.NOT_NUMBERS: "expected numbers, got an array of dtype {dtype}",
    Msg.TOO_COARSE: "expected {wanted} values, got {dtype}: this exercise needs more "
                    "precision than {dtype} keeps",
    Msg.WRONG_SHAPE: "expected an array of shape {expected}, got {got}",
    Msg.WRONG_SHAPE_NOT_NUMBER: "expected one number, got an array of shape {got} ({count} "
                                "numbers)",
    Msg.EMPTY_OUTPUT: ": your output is empty (a slice whose start is not before its stop, "
                      "such as x[n:-n] with n = 0, or a range that never ran)",
    Msg.WRONG_SHAPE_IN_ARRAY: "expected one number, got an array of shape {got} that holds "
                              "one: return the number itself (e.g. its .item())",
    Msg.WRONG_SHAPE_NUMBER: "expected an array of shape {expected}, got one number",
    Msg.WRONG_NDIM: " ({got}-D instead of {expected}-D)",
    Msg.NOT_FINITE_ONE: "expected finite numbers, got {counts} value, the first at {index}",
    Msg.NOT_FINITE_MANY: "expected finite numbers, got {counts} values, the first at {index}",
    Msg.NOT_FINITE_CAUSE: "; NaN often comes from 0 / 0 or inf - inf (or a square root or log of "
                          "a negative number), and inf from a division by zero or an overflow: "
                          "look for a division by what can be zero here",
    Msg.INFINITE_CAUSE: "; an infinite value often comes from a division by zero or an overflow "
                        "(or log(0)): look for a division by what can be zero here",
    Msg.NAN_COUNT: "{count} NaN",
    Msg.INF_COUNT: "{count} infinite",
    Msg.AND: " and ",
    Msg.PASSED: "all {count} values match",
    Msg.WRONG_VALUES: "{count} of {size} values ({percent:.0f}%) differ from the expected "
                      "ones; the largest error is {max_error:.4g}, at {index}: expected "
                      "{expected}, got {got}",
    Msg.WRONG_VALUE: "your value differs from the expected one: expected {expected}, got {got}",
    Msg.EXCERPT: "expected, from {start}:\n{expected}\ngot:\n{got}",
    Msg.MATCHES_MISTAKE: "This output matches the known mistake {code!r} (see diagnosis).",
    Msg.HIDDEN_PASSED: "hidden case: passed",
    Msg.HIDDEN_WRONG_SHAPE: "hidden case: your output does not have the expected shape",
    Msg.HIDDEN_WRONG_VALUES: "hidden case: some values of your output differ from the "
                             "expected ones",
    Msg.HIDDEN_INVALID_OUTPUT: "hidden case: your output was refused (not of an accepted "
                               "type, not finite numbers, or too large)",
    Msg.HIDDEN_ERROR: "hidden case: your code raised an exception",
    Msg.HIDDEN_TIMEOUT: "hidden case: your code took too long",
    Msg.HIDDEN_MEMORY_LIMIT: "hidden case: your code ran out of memory",
    Msg.HIDDEN_CRASHED: "hidden case: the process running your code died",
    Msg.HIDDEN_RAISED: "hidden case: your code raised {type}",
    Msg.SYNTAX_ERROR: "SyntaxError: {msg}",
    Msg.SYNTAX_ERROR_LINE: "SyntaxError: {msg} (line {line})",
    Msg.UNPARSABLE: "the source cannot be parsed: {error}",
    Msg.LOAD_ERROR: "loading your file raised {error}",
    Msg.MISSING_ENTRY: "no function named {entry!r} was defined; functions found: {found}",
    Msg.NONE_FOUND: "none",
    Msg.MODIFIES_INPUT: "your function changes its input arrays in place; callers will not "
                        "expect that (work on a copy)",
    Msg.KEPT_RUNNING: "your code kept computing after it had returned its last answer (in a "
                      "signal handler, say); it was stopped. Nothing should run once your "
                      "function has returned",
    Msg.WITHHELD: "[output printed while hidden cases ran is not shown]",
    Msg.FLOAT32: "your function computes in float32: it passes, within this exercise's "
                 "tolerance, which allows float32's rounding (about {digits} significant digits, "
                 "relative error near {eps:.1e}); float64 keeps about 16 digits, use it unless "
                 "memory or speed matter more",
    Msg.LOW_PRECISION: "your function computes in {dtype}: it keeps only about {digits} "
                       "significant digits (relative error near {eps:.1e})",
    Msg.COMBINED_MISTAKES: "two mistakes at once: {first}; and {second}",
    Msg.SCALED: "your output is the expected one times {factor}; look for a division or a "
                "factor that should not be there",
    Msg.SCALED_MEAN: "your output is the expected one times {factor} = 1/{n}: you took the "
                     "mean over each window (a normalised kernel) instead of the sum",
    Msg.SCALED_SUM: "your output is the expected one divided by the sum of the {name} "
                    "({factor}): you normalised it; use it as given",
    Msg.INTEGER_WRAPPED: "your output is a {dtype} array, which holds whole numbers of a "
                         "narrow range only: {values} lost their fractions, and any outside "
                         "that range wrapped round it; return a float array",
    Msg.INTEGER_CLIPPED: "your output is an integer array ({dtype}) of {values} cut off at "
                         "{low} and {high} and {rounding} to whole numbers, as np.clip(out, "
                         "{low}, {high}).astype(np.{dtype}) gives; return the values as they "
                         "are, in a float array",
    Msg.INTEGER_TRUNCATED: "your output is an integer array ({dtype}): every value lost its "
                           "fraction (truncated towards zero); create it with a float dtype, "
                           "e.g. np.zeros(shape) rather than np.zeros(shape, dtype=int)",
    Msg.INTEGER_ROUNDED: "your output is an integer array ({dtype}): every value was rounded "
                         "to a whole number; create it with a float dtype",
    Msg.INTEGER_OUTPUT: "your output is an integer array ({dtype}) where the expected values "
                        "have fractions; compute and return floats",
    Msg.ARGUMENT_ORDER: "your {entry}({mine}) takes its parameters in another order than the "
                        "exercise passes them, by position: {entry}({theirs})",
    Msg.CHANNELS_ALIKE: "all {count} channels of your output hold one map{whose}, each "
                        "shifted by a constant of its own (a bias, say), where the expected "
                        "channels differ: each channel's result is written into all of them "
                        "(out[:, i, j] = ..., a slice over the channels), and the last write "
                        "wins; store it in its own channel, out[o, i, j]",
    Msg.CHANNELS_LAST: " (the expected last channel's)",
    Msg.CHANNELS_OF: " (the expected channel {channel}'s)",
    Msg.CONSTANT_OUTPUT: "every value of your output is {value}, where the expected ones differ: "
                         "check that each result is stored in its own place of the output, and "
                         "that it is returned once the loops have filled it (or that no int(), "
                         "rounding or division turns every result into one value)",
    Msg.SHAPE_SWAPPED: "in {case}, your output has shape {got_shape}, the expected "
                       "{expected_shape} with height and width swapped",
    Msg.SHAPE_ONE_DIMENSION: "in {case}, your output has shape {got_shape} where "
                             "{expected_shape} was expected: one dimension used for both",
    Msg.SQUARE_ONLY: "your function is right on square inputs ({passed}) but not on the "
                     "others ({failed}): it most likely uses one dimension for both height and "
                     "width, or swaps them (rows are shape[0], columns shape[1]){why}",
    Msg.AXIS_ROWS: "row",
    Msg.AXIS_COLUMNS: "column",
    Msg.AXIS_N: "step along axis {axis}",
    Msg.AXIS_PLACE: "place",
    Msg.AXIS_VALUE: "value",
    Msg.DIRECTION_DOWN: "towards higher indices",
    Msg.DIRECTION_UP: "towards lower indices",
    Msg.TRANSPOSED: "your output is transposed: rows and columns are swapped; index the output "
                    "as out[i, j] with i along the rows",
    Msg.TRUNCATED: "every value lost its fraction (truncated towards zero, as int() does); "
                   "keep the floats",
    Msg.ROUNDED: "your values are rounded to {decimals} decimals; return them unrounded",
    Msg.ROUNDED_WHOLE: "your values are rounded to whole numbers; return them unrounded",
    Msg.COMPOSED: "two mistakes at once: {first}; and, on top of that, {second}",
    Msg.EVEN_SIZES_ONLY: "your function is right when the input's height and width are even "
                         "({passed}) but not when one is odd ({failed}): look at what it does "
                         "with the last row or column of an odd size (a reshape into pairs, "
                         "or a loop's range, may leave it out or fail on it; a padding may make "
                         "it a window of its own)",
    Msg.ONE_VALUE_ONLY: "your function is right when {condition} ({passed}) but not otherwise "
                        "({failed}): look at how your code uses {names}",
    Msg.FIXED_SHAPE: "your output has shape {got_shape} in every case ({cases}), where the "
                     "expected shapes differ ({expected}): its size does not follow the inputs; "
                     "make it from the arguments' shapes (e.g. {example}), not from numbers",
    Msg.ODD_KERNELS_ONLY: "your function is right when every kernel dimension is odd ({passed}) "
                          "but not otherwise ({failed}): it most likely centres the window "
                          "on the output index (k // 2 on each side), which needs an odd "
                          "kernel; start each window at the output index instead",
    Msg.NON_SQUARE_RAISE: "your code raises an error in every case whose input is not square "
                          "({failed}) and in no square one ({passed}): it most likely uses "
                          "one length for both height and width, or swaps them (rows are "
                          "shape[0], columns shape[1])",
    Msg.ODD_KERNELS_RAISE: "your code raises an error in every case with an even kernel "
                           "dimension ({failed}) and in no other ({passed}): it most likely "
                           "centres the window on the output index (k // 2 on each side), "
                           "which needs an odd kernel; start each window at the output index",
    Msg.ONE_VALUE_RAISES: "your code runs without an error only when {condition} ({passed}) "
                          "and raises one otherwise ({failed}): look at how your code uses "
                          "{names}: a loop, a size or an index that does not read it where it "
                          "should (or a number written in its place) does this",
    Msg.MOVE: "{count} {axis}s {direction}",
    Msg.HIDDEN_CASES: "{count} hidden case{s}",
    Msg.RIGHT_VALUES: "the right values",
    Msg.RIGHT_SHAPE_AND: "the right shape and ",
    Msg.MISTAKE_VALUES: "that mistake's values",
    Msg.EXPECTED_VALUE: "the expected value",
    Msg.MISTAKE_VALUE: "that mistake's value",
    Msg.NEGATIVES_ZEROED: "your output holds {values} with every negative one set to zero, "
                          "as a ReLU (np.maximum(out, 0)) does; return every value as it is, "
                          "negative ones too",
    Msg.OFFSET: "your output holds {values} plus {offset}, the same for every one: something "
                "added a constant (a bias, or the input's mean taken off first); leave it out",
    Msg.RESCALED: "your output holds {values} times {factor}, plus {offset}: rescaled; "
                  "return them as computed, without normalising them",
    Msg.RESCALED_RANGE: "your output holds {values} rescaled to run from {low} to {high}, as "
                        "a min-max normalisation ((out - out.min()) / (out.max() - out.min())) "
                        "does; return them as computed, without normalising them",
    Msg.INPUT_CHANGED: "your output is what the right computation gives with {argument} {how}; "
                       "use {argument} as it is given",
    Msg.HOW_TRANSPOSED: "transposed (its rows and columns swapped, as {code} does)",
    Msg.HOW_FLIPPED: "flipped along its rows and columns (as {code} does)",
    Msg.HOW_FLIPPED_ROWS: "flipped upside down (its rows in reverse order, as {code} does)",
    Msg.HOW_FLIPPED_COLUMNS: "flipped left to right (its columns in reverse order, as {code} "
                             "does, or np.convolve on each row, which flips what it slides)",
    Msg.MORE_THAN: "more than {count}",
}


def say(message: Msg, /, **fields: object) -> str:
    """The sentence ``message`` with its fields filled in."""
    return TEMPLATES[message].format(**fields)


def join(parts: Iterable[str], separator: Msg) -> str:
    return TEMPLATES[separator].join(parts)
