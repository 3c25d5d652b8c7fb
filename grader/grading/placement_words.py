"""The words that say where a submission's values sit in its output, or how its shape went
wrong (moved, cut short, repeated, in a ring of zeros, ...: ``grader.grading.wording``), keyed
by their ``Msg``'s value (``grader.grading.messages`` adds them to its templates, and says
them)."""

PLACEMENT_TEMPLATES: dict[str, str] = {
    "valid_in_zero_ring": "{values} are all there, inside a border of zeros "
                          "{border} wide: your output has the input's shape {got_shape}; "
                          "return only the inner {expected_shape} part (no padding)",
    "valid_in_corner": "{values} are all there, in the top-left {expected_shape} "
                       "corner of an array of shape {got_shape}{rest}{advice}",
    "valid_at_start": "{values} are all there, in the first {count} places of an array of "
                      "shape {got_shape}{rest}{advice}",
    "rest_is_zeros": " (the rest is zeros)",
    "return_that_part": "; return only that part",
    "return_that_shape": "; return only that {expected_shape} part",
    "valid_inside": "{values} are all there, from {offset} on, inside an array of "
                    "shape {got_shape}{advice}",
    "valid_centred": "{values} are all there, from {offset} on, in the middle of an array of "
                     "shape {got_shape}, other values around them (as an input padded on "
                     "every side gives); the output is only the part where the kernel fits, "
                     "of shape {expected_shape}: use no padding",
    "missing_edge": "your output has {values} but misses its last {what}: shape "
                    "{got_shape} instead of {expected_shape}; check how you work out the "
                    "output's size, and that your loops reach its last index",
    "missing_edge_of": "your output holds {values} but not their last {what}: shape "
                       "{got_shape}, where that mistake gives {expected_shape}",
    "missing_outer": "your output has {values} but misses its last {what}: shape {got_shape} "
                     "instead of {expected_shape}; that axis comes before the rows and "
                     "columns (channels, or a batch): make it as long as the expected one, and "
                     "fill every entry of it (a loop over all of them, e.g. one per kernel)",
    "shifted": "your values are {values} moved by one {axis} ({direction}): your "
               "output at {got_index} is {whose} at {expected_index}; check the "
               "start of your windows (index i + a, starting at a = 0)",
    "cropped": "your output holds only part of the right values: the {got_shape} part from "
               "{offset} of the expected {expected_shape}",
    "repeated": "your output holds each {what} of {values} {count} times over: shape "
                "{got_shape} instead of {expected_shape}; a {what} appended (or stored) inside "
                "the loop that fills it is added once per step: move it out, after the loop",
    "blocks": "your output holds {values}, each over a {block} block (as np.repeat along "
              "rows and columns would): shape {got_shape} instead of {expected_shape}{tail}; "
              "write each window's one value once, into an output of shape {expected_shape}",
    "blocks_tail": " (its last rows or columns, short of a block, hold other values)",
    "corner_short": "{values} sit in the top-left corner of an array of shape {got_shape} "
                    "(the rest is zeros), but they miss their last {what}: your loops stop "
                    "short of the output's edge. Return only the {expected_shape} part, and "
                    "loop over all of it, e.g. range(out.shape[0])",
    "edges_zero": "your output has {shape}{values}, except its {what}, "
                  "left at zero: your loops stop short (or start late) of the output's edge; "
                  "loop over the whole output, e.g. range(out.shape[0])",
    "shifted_by": "your values are {values} moved by {what}: your output at "
                  "{got_index} is {whose} at {expected_index}, and the edge they "
                  "left holds other values; check where your windows start (image[i + a] "
                  "with a from 0: an index such as i - a or i - 1 goes negative and wraps)",
    "rolled": "your values are {values} moved by {what} and wrapped round: what leaves one edge "
              "comes back at the other (a circular shift, as np.roll, negative indices or an FFT "
              "give); your output at {got_index} is {whose} at {expected_index}",
    "axes_moved": "your output holds {values} with their axes in another order: shape "
                  "{got_shape} where {expected_shape} is expected; put them back with "
                  "np.transpose(out, {back})",
    "spread_cut": "{values} start right at every {nth} row and column, zeros between, "
                  "the rest missing: store each at (i // stride, j // stride), not at i, j",
    "spread": "{values} are all there, at every {nth} row and column of a "
              "larger array of zeros: the stride belongs in the input's index (image[i * "
              "{stride} + a]), not in the output's (out[i, j] for consecutive i, j)",
    "stacked": "your output has shape {got_shape}: {values} are its item [{index}] of {count} "
               "along its first axis, stacked with others (return out, cache makes one "
               "array of both when they have one shape); return that item alone",
    "extra_axes": "your output has shape {got_shape}: {values} of shape {expected_shape}, "
                  "with {axes} of length 1 more (a batch's or a channel's kept, say); "
                  "return it in the expected shape (e.g. out.reshape({expected_shape}))",
    "missing_axes": "your output has shape {got_shape}: {values}, with {axes} of length 1 "
                    "fewer than {expected_shape}; return out.reshape({expected_shape})",
    "not_reduced": "your output holds each window's values whole, never reduced to one: "
                   "shape {got_shape}, whose {how} over its last {count} axes is {values} of "
                   "shape {expected_shape}; take the {how} of each window (window.{how}(), or "
                   "np.{how}(..., axis={axes}))",
    "not_summed": "your output keeps apart, along its axis {axis}, what should be added up: "
                  "shape {got_shape}, whose sum along that axis is {values} of shape "
                  "{expected_shape}; add them up (e.g. np.sum(..., axis={axis}))",
    "summed": "your output adds up, along axis {axis} of the expected shape "
              "{expected_shape}, what should be kept apart: shape {got_shape} is the sum of "
              "{values}; keep one value per index along that axis",
}
